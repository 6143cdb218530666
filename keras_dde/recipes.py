"""Recipes: a compiled model from plain settings, written once.

The command line (`keras-dde train` / `keras-dde gan`), the `TrainingPanel`
and the benchmarks build their models here, so that a default or a seed rule
lives in one place. Each recipe's defaults are its signature's defaults; read
them with `recipe_defaults(kind)` (the CLI's argparse defaults and the panel's
start values do).

Seeding. A recipe calls `keras.utils.set_random_seed(seed)` first, as the CLI
always did: the networks' initial weights are drawn from Keras's global seed,
so this is what makes a recipe's model the same on every call with the same
settings. It does change the global random state (python, numpy and the
backend's) — call a recipe before seeding your own draws, or build the model
by hand if that matters. The models' own noise is seeded separately: a DDE
(single- or multi-scale) gets `seed`; an EnergyGAN gives its real DDE `seed`, its fake DDE `seed + 1`
and its own latent/noise draws `seed + 2`, so that no two of them draw the
same noise.

Images. `build_dde` and `build_energy_gan` pick the networks from the
data's shape: a feature count gets the MLPs, an image shape
`(height, width, channels)` gets `energy_convnet` / `generator_convnet`
(see `keras_dde.recipe_networks` for how `width` and `depth` read there).
`build_energy_gan`'s image defaults (`GAN_DEFAULTS`) are those measured on
Fashion-MNIST scaled to [-1, 1] at batch 64; `steps_per_execution` defaults
to 1 for images on JAX.

Example:
```python
from keras_dde import recipes

dde = recipes.build_dde(2, sigma=0.1)
dde.fit(x, epochs=100, batch_size=512)
gan = recipes.build_model("gan", 2, sigma=0.3, dde_steps=2)
recipes.recipe_defaults("dde")["learning_rate"]  # 1e-3
ms = recipes.build_model("multiscale", 2, sigma=0.08, decay_steps=300 * 16)
images = recipes.build_energy_gan((28, 28, 1))
```
"""

import inspect
import numbers

import keras

from keras_dde.models.dde_model import DDEModel
from keras_dde.models.energy_gan import EnergyGAN
from keras_dde.models.multi_scale_dde import MultiScaleDDE
from keras_dde.recipe_distillation import check_no_distillation_settings
from keras_dde.recipe_distillation import distillation_gan
from keras_dde.recipe_distillation import gan_objective
from keras_dde.recipe_networks import conditional_network_for
from keras_dde.recipe_networks import energy_network_for
from keras_dde.recipe_networks import feature_count
from keras_dde.recipe_networks import feature_shape_of
from keras_dde.recipe_networks import generator_for
from keras_dde.recipe_networks import image_steps_per_execution
from keras_dde.recipe_networks import is_image
from keras_dde.utils.validation import check_positive_int
from keras_dde.utils.validation import check_sigma

# The generator's final learning rate, as a fraction of its first, under
# `generator_decay_steps`: measured on 8gaussians (every mode's share within
# 11-14.5% from 300 epochs on, seeds 0-2), where no decay oscillated.
GENERATOR_DECAY_ALPHA = 0.1
# `build_energy_gan`'s settings left None, on vectors and on images. The
# image ones are `benchmarks/images.py`'s (benchmarks/results/images_gan.md):
# Fashion-MNIST in [-1, 1], batch 64; `sigma_max` and `target_fraction`
# apply to the multi-scale GANs (distillation, or `multiscale=True`).
GAN_DEFAULTS = {
    "vectors": dict(sigma=0.3, dde_steps=2, generator_learning_rate=1e-3,
                    dde_learning_rate=2e-3, teacher_epochs=300),
    "images": dict(sigma=0.5, dde_steps=1, generator_learning_rate=2e-4,
                   dde_learning_rate=1e-3, teacher_epochs=2, sigma_max=2.0,
                   target_fraction=0.05),
}


def build_dde(
    feature_shape,
    sigma=0.1,
    width=64,
    depth=3,
    learning_rate=1e-3,
    seed=0,
    steps_per_execution=None,
    energy_network=None,
):
    """A compiled `DDEModel` on an `energy_mlp` (or `energy_convnet`), with Adam.

    Args:
        feature_shape: int or 1-tuple, the number of features; or an image
            shape `(height, width, channels)`: the energy is then an
            `energy_convnet` (for images in [-1, 1], sigma 0.3 suits).
        sigma: float, noise level (= KDE bandwidth).
        width: int, units per hidden layer of the energy MLP (images: of
            the convnet's dense layer).
        depth: int, hidden layers of the energy MLP (images: convolutions).
        learning_rate: float, Adam's learning rate.
        seed: int, the global seed (initial weights) and the DDE's noise seed.
        steps_per_execution: int or None (`DDEModel.compile`'s default; 1
            for images on JAX).
        energy_network: None (`keras_dde.models.energy_mlp` /
            `energy_convnet`) or a callable `energy_network(input_dim,
            width, depth)` returning an energy model (`input_dim` is the
            image shape for images).

    Returns:
        A compiled `keras_dde.DDEModel`.

    Example:
    ```python
    dde = keras_dde.recipes.build_dde(2, sigma=0.1, width=64, depth=3)
    ```
    """
    features = feature_shape_of(feature_shape)
    sigma = check_sigma(sigma)
    learning_rate = _check_learning_rate(learning_rate, "learning_rate")
    seed = _check_seed(seed)
    keras.utils.set_random_seed(seed)
    energy = energy_network_for(energy_network, features, width, depth)
    dde = DDEModel(energy, sigma=sigma, seed=seed)
    dde.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        **_steps(image_steps_per_execution(features, steps_per_execution)),
    )
    return dde


def build_multiscale_dde(
    feature_shape,
    sigma=0.1,
    sigma_max=None,
    width=128,
    depth=3,
    learning_rate=4e-3,
    decay_steps=None,
    seed=0,
    steps_per_execution=None,
    gaussian_base=True,
):
    """A compiled `MultiScaleDDE` on a `conditional_energy_mlp` (or
    `conditional_energy_convnet` for images), with Adam.

    The measured recipe of `benchmarks/multiscale.py` (per-mode masses
    within 0.02 nats of the exact KDE on separated 2-D mixtures): a 128x3
    tanh network, Adam 4e-3 decayed to 0 by a cosine over the run (pass
    `decay_steps = epochs * steps_per_epoch`), ~300 epochs of 8k points
    at batch 512.

    Args:
        feature_shape: int or 1-tuple, the number of features; or an image
            shape `(height, width, channels)`: a `conditional_energy_convnet`.
        sigma: float, the target noise level (= KDE bandwidth).
        sigma_max: float > sigma, or None: set at the first `fit` from the
            data's scale.
        width: int, units per hidden layer of the conditional energy MLP.
        depth: int, hidden layers of the conditional energy MLP.
        learning_rate: float, Adam's (initial) learning rate.
        decay_steps: None (a constant learning rate) or int, the training
            steps over which `keras.optimizers.schedules.CosineDecay` takes
            the learning rate to 0.
        seed: int, the global seed (initial weights) and the model's noise
            (and noise-level) seed.
        steps_per_execution: int or None (`DDEModel.compile`'s default).
        gaussian_base: bool, `MultiScaleDDE`'s: the energy adds the data's
            smoothed Gaussian (False for the image GAN's teacher, as measured).

    Returns:
        A compiled `keras_dde.MultiScaleDDE`.

    Example:
    ```python
    dde = keras_dde.recipes.build_multiscale_dde(2, sigma=0.08,
                                                 decay_steps=300 * 16)
    dde.fit(x, epochs=300, batch_size=512)  # 8k points: 16 steps per epoch
    ```
    """
    features = feature_shape_of(feature_shape)
    sigma = check_sigma(sigma)
    if sigma_max is not None:
        sigma_max = check_sigma(sigma_max, "sigma_max")
    learning_rate = _check_learning_rate(learning_rate, "learning_rate")
    if decay_steps is not None:
        decay_steps = check_positive_int(decay_steps, "decay_steps")
    seed = _check_seed(seed)
    keras.utils.set_random_seed(seed)
    energy = conditional_network_for(features, width, depth)
    dde = MultiScaleDDE(energy, sigma=sigma, sigma_max=sigma_max, seed=seed,
                        gaussian_base=gaussian_base)
    if decay_steps is not None:
        learning_rate = keras.optimizers.schedules.CosineDecay(
            learning_rate, decay_steps
        )
    dde.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        **_steps(steps_per_execution),
    )
    return dde


def build_energy_gan(
    feature_shape,
    sigma=None,
    latent_dim=None,
    width=None,
    depth=3,
    generator_width=None,
    generator_depth=None,
    dde_steps=None,
    generator_learning_rate=None,
    dde_learning_rate=None,
    seed=0,
    sigma_schedule=None,
    steps_per_execution=None,
    energy_network=None,
    multiscale=False,
    sigma_max=None,
    generator_decay_steps=None,
    target_fraction=None,
    objective=None,
    regression_weight=None,
    teacher_epochs=None,
    teacher_decay_steps=None,
):
    """A compiled `EnergyGAN`: a generator against two DDEs (MLPs or convnets).

    By default (`objective=None`), the covering GAN:
    `objective="distillation"` against two `MultiScaleDDE`s built as
    `build_multiscale_dde` builds one (the real one, the teacher, compiled
    with its Adam 4e-3 and cosine decay); `gan.fit(x)` first fits the
    teacher for `teacher_epochs` epochs, then distils it (see
    `EnergyGAN`). On 25gaussians at sigma 0.05 it covered 25/25 modes with
    fair shares (`benchmarks/results/energy_gan_distillation.md`). The
    seed's GAN, `KL(q~ || p~)` on two `DDEModel`s, is `objective="kl"`
    (and the default with `multiscale=True`, `energy_network` or
    `sigma_schedule`).

    Images (an image `feature_shape`) get the distilled GAN of
    `benchmarks/images.py`, which kept all ten Fashion-MNIST classes on
    four seeds (`benchmarks/results/images_gan.md`): conv networks, a
    teacher without Gaussian base at Adam 1e-3 (constant unless
    `teacher_decay_steps`) that goes on fitting the data during the GAN
    (`train_real=True`), a bank of 2,048 ODE pairs ending with Tweedie's
    step, a 500-step warm-up, a regression weight decayed from 0.1 to 0
    over 1,000 generator steps, and a generator with 4x4 kernels and ReLU.
    Settings left None take `GAN_DEFAULTS`:

    | setting | vectors | images |
    | --- | --- | --- |
    | `sigma` | 0.3 | 0.5 |
    | `sigma_max` | the teacher's fit sets it (`multiscale`: required) | 2.0 |
    | `target_fraction` | `EnergyGAN`'s 0.5 | 0.05 |
    | `dde_steps` | 2 | 1 |
    | `generator_learning_rate` | 1e-3 | 2e-4 |
    | `dde_learning_rate` | 2e-3 | 1e-3 |
    | `teacher_epochs` | 300 | 2 |

    (`sigma_max` and `target_fraction` only for the multi-scale GANs.)

    The settings of `benchmarks/energy_gan.py`, measured there to cover all
    8 modes of 8gaussians: Adam(beta_1=0.5) for the generator, Adam for the
    DDEs. The real DDE draws its noise with `seed`, the fake DDE with
    `seed + 1` and the GAN (latents, generator noise) with `seed + 2`.

    Args:
        feature_shape: int or 1-tuple, the number of features; or an image
            shape `(height, width, channels)`: `generator_convnet` against
            two conv DDEs (for images in [-1, 1], batch 64).
        sigma: float, noise level of both DDEs (the smallest, for
            `MultiScaleDDE` models); None: 0.3, images 0.5.
        latent_dim: int, size of the generator's latent noise; None: 8
            (images 32), or the number of features (pixels) with
            "distillation" (its generator is regressed onto a deterministic
            map of the first that many latents: further ones are inputs it
            must learn to ignore).
        width: int, units per hidden layer of each DDE's energy MLP
            (images: of the convnet's dense layer); None: 64, or 128 with
            "distillation".
        depth: int, hidden layers of each DDE's energy MLP (images:
            convolutions).
        generator_width: int, units per hidden layer of the generator
            (images: channels of its first upsampling layer); None: 128, or
            256 for vectors with "distillation" (whose generator uses ReLU).
        generator_depth: int, hidden layers of the generator (images: not
            used, two upsamplings); None: 3, or 4 with "distillation".
        dde_steps: int, fake-DDE updates per generator update; None: 2,
            images 1.
        generator_learning_rate: float, the generator's Adam learning rate;
            None: 1e-3, images 2e-4.
        dde_learning_rate: float, the DDEs' Adam learning rate; None: 2e-3,
            images 1e-3.
        seed: int, the global seed (initial weights) and the base noise seed.
        sigma_schedule: None or a noise-level schedule of the generator
            step (see `EnergyGAN`), e.g. `keras_dde.schedules.GeometricSigmaDecay`.
        steps_per_execution: int or None (`EnergyGAN.compile`'s default; 1
            for images on JAX).
        energy_network: None (`keras_dde.models.energy_mlp`) or a callable
            `energy_network(input_dim, width, depth)` for both DDEs.
        multiscale: bool, two `MultiScaleDDE`s on noise levels in
            `[sigma, sigma_max]` (their GAN settings: no Fourier features, no
            Gaussian base), whose large levels see the modes the generator
            misses. Use it with `generator_decay_steps`.
        sigma_max: float > sigma, the DDEs' largest noise level, with
            `multiscale` (`multi_scale_dde.sigma_max_for` gives the default
            of `MultiScaleDDE`: the data's largest principal std; images
            2.0 when None).
        generator_decay_steps: None (a constant learning rate) or int, the
            training steps over which the generator's learning rate follows
            a cosine down to `GENERATOR_DECAY_ALPHA` of its start. It damps
            the GAN's oscillation of the mode shares (`benchmarks/energy_gan.py`).
        target_fraction: None (`EnergyGAN`'s 0.5, best on the 2-D toys;
            images 0.05) or a float in [0, 1), with the multi-scale GANs:
            the share of the generator loss's samples at `sigma`. On
            Fashion-MNIST 0-0.05 kept all ten classes that 0.5 lost
            (`benchmarks/results/images_gan.md`).
        objective: None, "kl" (the seed's GAN; `multiscale` picks its DDEs)
            or "distillation" (two `MultiScaleDDE`s; `width`/`depth` are
            theirs, None: `build_multiscale_dde`'s 128/3; `sigma_max` may be
            None: the teacher's fit sets it). None: "distillation" for vector
            data unless `multiscale`, `energy_network` or `sigma_schedule` is
            given, else "kl". `target_fraction` applies to both multi-scale
            GANs.
        regression_weight: None (`EnergyGAN`'s; images the cosine above) or
            a float >= 0 or a schedule of the generator step, with
            "distillation": the weight of the regression onto the ODE pairs.
        teacher_epochs: int >= 0, with "distillation": the epochs `gan.fit`
            first fits the teacher for (0: fit `gan.real_dde` yourself);
            None: 300, images 2 (60,000 images at batch 64: the teacher's
            ~2,000 steps of `benchmarks/images.py`).
        teacher_decay_steps: None or int, with "distillation": the steps of
            the teacher's cosine decay; None: `teacher_epochs * 16` (8,192
            points at batch 512; pass `teacher_epochs * steps_per_epoch`),
            images a constant learning rate.

    Returns:
        A compiled `keras_dde.EnergyGAN`.

    Example:
    ```python
    gan = keras_dde.recipes.build_energy_gan(2, sigma=0.3, dde_steps=2)
    gan = keras_dde.recipes.build_energy_gan(  # 8k points, batch 512
        2, sigma=0.1, multiscale=True, sigma_max=2.0,
        generator_decay_steps=600 * 16)
    # For images (n, 28, 28, 1) in [-1, 1]: `fit(images, epochs=2, batch_size=64)`.
    images = keras_dde.recipes.build_energy_gan((28, 28, 1))
    ```
    """
    features = feature_shape_of(feature_shape)
    image = is_image(features)
    defaults = GAN_DEFAULTS["images" if image else "vectors"]

    def default(value, name):
        return defaults[name] if value is None else value

    sigma = check_sigma(default(sigma, "sigma"))
    dde_steps = check_positive_int(default(dde_steps, "dde_steps"), "dde_steps")
    generator_learning_rate = _check_learning_rate(
        default(generator_learning_rate, "generator_learning_rate"),
        "generator_learning_rate",
    )
    dde_learning_rate = _check_learning_rate(
        default(dde_learning_rate, "dde_learning_rate"), "dde_learning_rate"
    )
    seed = _check_seed(seed)
    if not isinstance(multiscale, bool):
        raise TypeError(f"`multiscale` must be True or False; received {multiscale!r}.")
    if generator_decay_steps is not None:
        generator_learning_rate = keras.optimizers.schedules.CosineDecay(
            generator_learning_rate,
            check_positive_int(generator_decay_steps, "generator_decay_steps"),
            alpha=GENERATOR_DECAY_ALPHA,
        )
    objective = gan_objective(objective, multiscale, energy_network, sigma_schedule)
    if image and (objective == "distillation" or multiscale):
        sigma_max = default(sigma_max, "sigma_max")
        target_fraction = default(target_fraction, "target_fraction")
    if latent_dim is None:
        # Distillation regresses the generator onto a map of as many latents
        # as the data has features (pixels).
        latent_dim = (feature_count(features) if objective == "distillation"
                      else 32 if image else 8)
    latent_dim = check_positive_int(latent_dim, "latent_dim")
    if objective == "distillation":
        return distillation_gan(
            build_multiscale_dde, features, sigma, sigma_max, latent_dim,
            128 if width is None else width, depth,
            (128 if image else 256) if generator_width is None else generator_width,
            4 if generator_depth is None else generator_depth,
            dde_steps, generator_learning_rate,
            dde_learning_rate, seed, steps_per_execution, regression_weight,
            default(teacher_epochs, "teacher_epochs"), teacher_decay_steps,
            target_fraction,
        )
    check_no_distillation_settings(regression_weight, teacher_epochs,
                                   teacher_decay_steps)
    width = 64 if width is None else width
    generator_width = 128 if generator_width is None else generator_width
    generator_depth = 3 if generator_depth is None else generator_depth
    if (sigma_max is None) == multiscale:
        raise ValueError(
            "`multiscale=True` takes `sigma_max=` (both DDEs must share it), "
            "e.g. `keras_dde.models.multi_scale_dde.sigma_max_for(np.cov(x, "
            "rowvar=False), sigma)`; a single-sigma GAN takes no `sigma_max`."
        )
    if sigma_max is not None:
        sigma_max = check_sigma(sigma_max, "sigma_max")
    if target_fraction is not None and not multiscale:
        raise ValueError(
            "`target_fraction` weights the noise levels of `multiscale=True`; "
            "a single-sigma GAN has one level. Pass `multiscale=True` or drop it."
        )
    keras.utils.set_random_seed(seed)

    def dde(noise_seed):
        if not multiscale:
            energy = energy_network_for(energy_network, features, width, depth)
            return DDEModel(energy, sigma=sigma, seed=noise_seed)
        if energy_network is not None:
            energy = energy_network_for(energy_network, features, width, depth)
        else:  # Fourier features hurt the GAN (see `EnergyGAN`).
            energy = conditional_network_for(features, width, depth, fourier_features=0)
        return MultiScaleDDE(energy, sigma=sigma, sigma_max=sigma_max,
                             seed=noise_seed, gaussian_base=False)

    gan = EnergyGAN(
        generator_for(latent_dim, features, generator_width, generator_depth),
        dde(seed),
        dde(seed + 1),
        dde_steps=dde_steps,
        sigma_schedule=sigma_schedule,
        seed=seed + 2,
        objective="kl",
        **({} if target_fraction is None else {"target_fraction": target_fraction}),
    )
    gan.compile(
        generator_optimizer=keras.optimizers.Adam(
            generator_learning_rate, beta_1=0.5
        ),
        dde_optimizer=keras.optimizers.Adam(dde_learning_rate),
        **_steps(image_steps_per_execution(features, steps_per_execution)),
    )
    return gan

RECIPES = {
    "dde": build_dde,
    "gan": build_energy_gan,
    "multiscale": build_multiscale_dde,
}


def build_model(kind, feature_shape, **settings):
    """The recipe `RECIPES[kind]` called with `feature_shape` and `settings`.

    Args:
        kind: "dde" (`build_dde`), "gan" (`build_energy_gan`) or
            "multiscale" (`build_multiscale_dde`).
        feature_shape: int or 1-tuple, the number of features, or an image
            shape `(height, width, channels)` ("dde" and "gan").
        **settings: the recipe's keyword arguments.

    Returns:
        The compiled model.
    """
    recipe = _recipe(kind)
    unknown = sorted(set(settings) - set(recipe_defaults(kind)))
    if unknown:
        raise TypeError(
            f"Unknown setting(s) {', '.join(unknown)} for kind {kind!r}; "
            f"the settings are {', '.join(recipe_defaults(kind))}."
        )
    return recipe(feature_shape, **settings)


def recipe_defaults(kind):
    """dict of each setting of the recipe `kind` and its default (a copy)."""
    parameters = inspect.signature(_recipe(kind)).parameters
    return {
        name: parameter.default
        for name, parameter in parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }


def _recipe(kind):
    if kind not in RECIPES:
        raise ValueError(
            f"`kind` must be one of {', '.join(map(repr, RECIPES))}; "
            f"received {kind!r}."
        )
    return RECIPES[kind]



def _check_learning_rate(value, name):
    # A positive, finite float; the same message shape as sigma's.
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"`{name}` must be a positive number; received {value!r} of type "
            f"{type(value).__name__}."
        )
    value = float(value)
    if not (value > 0 and value < float("inf")):
        raise ValueError(f"`{name}` must be a positive, finite number; received {value}.")
    return value


def _check_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"`seed` must be an int >= 0; received {seed!r}.")
    return int(seed)


def _steps(steps_per_execution):
    if steps_per_execution is None:
        return {}
    return {
        "steps_per_execution": check_positive_int(
            steps_per_execution, "steps_per_execution"
        )
    }
