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
gets `seed`; an EnergyGAN gives its real DDE `seed`, its fake DDE `seed + 1`
and its own latent/noise draws `seed + 2`, so that no two of them draw the
same noise.

Example:
```python
from keras_dde import recipes

dde = recipes.build_dde(2, sigma=0.1)
dde.fit(x, epochs=100, batch_size=512)
gan = recipes.build_model("gan", 2, sigma=0.3, dde_steps=2)
recipes.recipe_defaults("dde")["learning_rate"]  # 1e-3
```
"""

import inspect
import numbers

import keras

from keras_dde.models.dde_model import DDEModel
from keras_dde.models.energy_gan import EnergyGAN
from keras_dde.models.energy_mlp import energy_mlp
from keras_dde.models.generator_mlp import generator_mlp
from keras_dde.utils.validation import check_positive_int
from keras_dde.utils.validation import check_sigma


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
    """A compiled `DDEModel` on an `energy_mlp`, trained with Adam.

    Args:
        feature_shape: int or 1-tuple, the number of features.
        sigma: float, noise level (= KDE bandwidth).
        width: int, units per hidden layer of the energy MLP.
        depth: int, hidden layers of the energy MLP.
        learning_rate: float, Adam's learning rate.
        seed: int, the global seed (initial weights) and the DDE's noise seed.
        steps_per_execution: int or None (`DDEModel.compile`'s default).
        energy_network: None (`keras_dde.models.energy_mlp`) or a callable
            `energy_network(input_dim, width, depth)` returning an energy model.

    Returns:
        A compiled `keras_dde.DDEModel`.

    Example:
    ```python
    dde = keras_dde.recipes.build_dde(2, sigma=0.1, width=64, depth=3)
    ```
    """
    features = _features(feature_shape)
    sigma = check_sigma(sigma)
    learning_rate = _check_learning_rate(learning_rate, "learning_rate")
    seed = _check_seed(seed)
    keras.utils.set_random_seed(seed)
    energy = _energy(energy_network, features, width, depth)
    dde = DDEModel(energy, sigma=sigma, seed=seed)
    dde.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        **_steps(steps_per_execution),
    )
    return dde


def build_energy_gan(
    feature_shape,
    sigma=0.3,
    latent_dim=8,
    width=64,
    depth=3,
    generator_width=128,
    generator_depth=3,
    dde_steps=2,
    generator_learning_rate=1e-3,
    dde_learning_rate=2e-3,
    seed=0,
    sigma_schedule=None,
    steps_per_execution=None,
    energy_network=None,
):
    """A compiled `EnergyGAN`: a `generator_mlp` against two `energy_mlp` DDEs.

    The settings of `benchmarks/energy_gan.py`, measured there to cover all
    8 modes of 8gaussians: Adam(beta_1=0.5) for the generator, Adam for the
    DDEs. The real DDE draws its noise with `seed`, the fake DDE with
    `seed + 1` and the GAN (latents, generator noise) with `seed + 2`.

    Args:
        feature_shape: int or 1-tuple, the number of features.
        sigma: float, noise level of both DDEs.
        latent_dim: int, size of the generator's latent noise.
        width: int, units per hidden layer of each DDE's energy MLP.
        depth: int, hidden layers of each DDE's energy MLP.
        generator_width: int, units per hidden layer of the generator.
        generator_depth: int, hidden layers of the generator.
        dde_steps: int, fake-DDE updates per generator update.
        generator_learning_rate: float, the generator's Adam learning rate.
        dde_learning_rate: float, the DDEs' Adam learning rate.
        seed: int, the global seed (initial weights) and the base noise seed.
        sigma_schedule: None or a noise-level schedule of the generator
            step (see `EnergyGAN`), e.g. `keras_dde.schedules.GeometricSigmaDecay`.
        steps_per_execution: int or None (`EnergyGAN.compile`'s default).
        energy_network: None (`keras_dde.models.energy_mlp`) or a callable
            `energy_network(input_dim, width, depth)` for both DDEs.

    Returns:
        A compiled `keras_dde.EnergyGAN`.

    Example:
    ```python
    gan = keras_dde.recipes.build_energy_gan(2, sigma=0.3, dde_steps=2)
    ```
    """
    features = _features(feature_shape)
    sigma = check_sigma(sigma)
    latent_dim = check_positive_int(latent_dim, "latent_dim")
    dde_steps = check_positive_int(dde_steps, "dde_steps")
    generator_learning_rate = _check_learning_rate(
        generator_learning_rate, "generator_learning_rate"
    )
    dde_learning_rate = _check_learning_rate(dde_learning_rate, "dde_learning_rate")
    seed = _check_seed(seed)
    keras.utils.set_random_seed(seed)
    gan = EnergyGAN(
        generator_mlp(
            latent_dim, features, width=generator_width, depth=generator_depth
        ),
        DDEModel(_energy(energy_network, features, width, depth),
                 sigma=sigma, seed=seed),
        DDEModel(_energy(energy_network, features, width, depth),
                 sigma=sigma, seed=seed + 1),
        dde_steps=dde_steps,
        sigma_schedule=sigma_schedule,
        seed=seed + 2,
    )
    gan.compile(
        generator_optimizer=keras.optimizers.Adam(
            generator_learning_rate, beta_1=0.5
        ),
        dde_optimizer=keras.optimizers.Adam(dde_learning_rate),
        **_steps(steps_per_execution),
    )
    return gan


RECIPES = {"dde": build_dde, "gan": build_energy_gan}


def build_model(kind, feature_shape, **settings):
    """The recipe `RECIPES[kind]` called with `feature_shape` and `settings`.

    Args:
        kind: "dde" (`build_dde`) or "gan" (`build_energy_gan`).
        feature_shape: int or 1-tuple, the number of features.
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


def _features(feature_shape):
    shape = feature_shape
    if isinstance(shape, (tuple, list)):
        if len(shape) != 1:
            raise ValueError(
                "`feature_shape` must be the number of features (an int or a "
                f"1-tuple): the recipes build MLPs; received {feature_shape!r}. "
                "Flatten the data first, or build a convnet model by hand."
            )
        (shape,) = shape
    return check_positive_int(shape, "feature_shape")


def _energy(energy_network, features, width, depth):
    if energy_network is None:
        return energy_mlp(features, width=width, depth=depth)
    if not callable(energy_network):
        raise TypeError(
            "`energy_network` must be None or a callable "
            "`energy_network(input_dim, width, depth)` returning a Keras model; "
            f"received {type(energy_network).__name__}."
        )
    return energy_network(features, width, depth)


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
