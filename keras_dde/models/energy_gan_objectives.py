"""The generator objectives of `EnergyGAN`: the seed's KL, and distillation.

`"kl"` (the EGM-DDE seed's): the generator minimises `KL(q~ || p~)` between
the smoothed densities of its samples and of the data, through the loss
`mean(s_fake(x~) - s_real(x~))` at `x~ = G(z) + sigma_i eps` (for two
`MultiScaleDDE`s, `sigma_i` spread over `[sigma, sigma_max]`). Its gradient in
`x~` is the score difference `grad s_fake - grad s_real`. A reverse KL is
mode-seeking: a mode the generator does not reach adds almost nothing to it.

`"distillation"` (distribution-matching distillation, Yin et al., 2024): the
real `MultiScaleDDE` is a fitted teacher (frozen unless `train_real=True`);
a bank of pairs `(z_j, x_j)` is made once, `x_j = T(z_j)` the teacher's
deterministic sampler: the probability-flow ODE started at `m + L z_j[:d]`
(`L L^T = C + sigma_max^2 I`) and run down to `sigma`, then one Euler step
in `t = sigma^2` on to `sigma = 0` (`MultiScaleDDE.flow(to_zero=True)`).
The generator's loss is

    mean_i sigma_i^2 (s_fake - s_real)(x~_i)
        +  lambda mean_j sum_k huber_delta(G(z_j)_k - x_jk)

on fresh latents `z_i` and a minibatch of the bank, `delta` the teacher's
`sigma`. The first term is the score difference again, weighted by
`sigma_i^2` so that its gradient is the difference of the two DDEs' Tweedie
denoisers `x + sigma^2 grad s`, in data units like the regression's residual
(DMD normalises its gradient to data units for the same reason); it
sharpens, and alone it loses modes again. The second anchors every mode
with the teacher's share: the ODE carries `N(m, C + sigma_max^2 I)` onto the
teacher's density, and each `z` is pulled to its own mode. The regression
weight `lambda` stays fixed throughout by default, as in DMD (on the 2-D
toys the score difference alone lost modes again); a Keras schedule of the
generator step may lower it instead, so that the score difference, which
can sharpen beyond the bank, takes over once the modes are placed. The fake
DDE starts from the teacher's weights (DMD) and then follows the generator.

Two choices make the generator's samples as sharp as the data's:

- The targets are samples of the data density `p`, not of `p_sigma`. The
  flow to `sigma` alone spreads each mode by `sigma` more than the data, and
  the score difference, whose minimum is `q = p`, then pulls against the
  regression. The last step to `sigma = 0` removes that spread to first
  order in `sigma^2` (Tweedie's full step would overshoot: it gives the
  posterior mean). On images, whose noise at `sigma` lies mostly off the
  data's manifold, the half step leaves half of it as speckle, and
  `ode_to_zero="tweedie"` (the full step) gave sharper targets.
- The regression is robust (Huber) rather than squared. The flow map is
  smooth inside a mode and steep between modes; a smooth generator cannot
  follow the steep parts, and the squared loss then fits their mean, which
  puts samples between the modes, where the Huber loss, linear in large
  residuals, fits closer to their median, which lies in a mode. Its
  threshold `sigma` is the teacher's resolution: residuals below it count
  as squared errors.

References:
    - [Yin et al., 2024](https://arxiv.org/abs/2311.18828)
    - [Yin et al., 2024 (DMD2)](https://arxiv.org/abs/2405.14867)
    - [Song et al., 2021](https://arxiv.org/abs/2011.13456)
"""

import math

import keras
import numpy as np
from keras import ops

from keras_dde import backend
from keras_dde.models.mixins.multi_scale_density import TO_ZERO_STEPS
from keras_dde.models.multi_scale_dde import MultiScaleDDE
from keras_dde.utils.validation import check_positive_int
from keras_dde.utils.validation import is_array_like

OBJECTIVES = ("kl", "distillation")
# The regression warm-up's Adam learning rate (see `regression_warmup`).
WARMUP_LEARNING_RATE = 2e-3
# Its steps per compiled call: each is small, so dispatch would dominate.
WARMUP_STEPS_PER_EXECUTION = 16


def resolve_objective(objective, real_dde, fake_dde, latent_dim, feature_shape):
    """The objective's name; None is "distillation" for two `MultiScaleDDE`s
    whose generator has at least one latent per feature, else "kl"."""
    multiscale = isinstance(real_dde, MultiScaleDDE) and isinstance(
        fake_dde, MultiScaleDDE
    )
    dim = int(np.prod(feature_shape))
    if objective is None:
        objective = "distillation" if multiscale and latent_dim >= dim else "kl"
    if objective not in OBJECTIVES:
        raise ValueError(
            f"`objective` must be one of {', '.join(map(repr, OBJECTIVES))} "
            f"(or None: the default); received {objective!r}."
        )
    if objective == "kl" and multiscale and math.isnan(real_dde.sigma_max):
        raise ValueError(
            "`objective='kl'` trains both `MultiScaleDDE`s from the start, so "
            "they need the same known `sigma_max=`, passed explicitly."
        )
    if objective == "distillation":
        if not multiscale:
            raise ValueError(
                "`objective='distillation'` needs two `keras_dde.MultiScaleDDE`s "
                "(the teacher's probability-flow ODE); received "
                f"{type(real_dde).__name__} and {type(fake_dde).__name__}. Use "
                "`objective='kl'` for single-sigma DDEs."
            )
        if latent_dim < dim:
            raise ValueError(
                f"`objective='distillation'` pairs each latent with a start of "
                f"the teacher's ODE, so the generator needs `latent_dim` >= the "
                f"number of features ({dim}); its latent_dim is {latent_dim}. "
                "Build it with a larger latent_dim or use `objective='kl'`."
            )
    return objective


def resolve_train_real(train_real, objective):
    """`train_real`: None is True for "kl", False for "distillation".

    With "distillation" and `train_real=True` the teacher goes on fitting the
    data during the GAN, so the score difference sharpens with it; the bank
    of ODE pairs stays as it was made, from the teacher at `fit`'s start.
    """
    if train_real is None:
        return objective != "distillation"
    return bool(train_real)


def check_regression_weight(value):
    """A float >= 0, or a Keras schedule of the generator step."""
    if isinstance(value, keras.optimizers.schedules.LearningRateSchedule):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
        value >= 0 and math.isfinite(value)
    ):
        raise ValueError(
            "`regression_weight` must be a finite number >= 0 or a "
            "`keras.optimizers.schedules.LearningRateSchedule` of the generator "
            f"step; received {value!r}."
        )
    return float(value)


def teacher_is_fitted(real_dde):
    """True once `real_dde` has data statistics, `sigma_max` and a step."""
    fitted = real_dde.data_statistics.recorded and not math.isnan(real_dde.sigma_max)
    optimizer = getattr(real_dde, "optimizer", None)
    if fitted and optimizer is not None:
        fitted = int(ops.convert_to_numpy(optimizer.iterations)) > 0
    return fitted


def check_teacher(real_dde, teacher_epochs, x):
    """Raises unless `real_dde` is fitted or `fit` can fit it on array `x`."""
    if teacher_is_fitted(real_dde):
        return
    if teacher_epochs and x is not None and is_array_like(x):
        if getattr(real_dde, "optimizer", None) is None:
            raise ValueError(
                "`real_dde` is not compiled, so `teacher_epochs` cannot fit "
                "it: compile it first, e.g. "
                "`real_dde.compile(keras.optimizers.Adam(4e-3))`."
            )
        return
    raise ValueError(
        "`real_dde` has not been fitted: `objective='distillation'` distils "
        "a trained teacher. Fit it on the data first, e.g. "
        "`gan.real_dde.fit(x, epochs=300, batch_size=512)`, or pass "
        "`teacher_epochs=300` to `EnergyGAN` so that `fit` does it on array "
        "data (`keras_dde.recipes.build_energy_gan` does), then call "
        "`gan.fit(x, ...)`."
    )


def check_feature_shape(x, feature_shape):
    """Raises unless array data `x` has the generator's per-sample shape."""
    shape = tuple(np.shape(x)[1:])
    if shape != tuple(feature_shape):
        raise ValueError(
            f"The data has per-sample shape {shape}, but the generator makes "
            f"samples of shape {tuple(feature_shape)}: build the `generator` "
            "(and the DDEs) for the data's shape."
        )


def make_pairs(real_dde, n_pairs, latent_dim, seed, ode_steps, to_zero="euler"):
    """`(z, T(z))`: `n_pairs` latents and the teacher's ODE samples of them."""
    dim = int(np.prod(real_dde.feature_shape))
    z = np.random.default_rng(seed).standard_normal((n_pairs, latent_dim))
    z = z.astype("float32")
    return z, real_dde.flow(z[:, :dim], ode_steps=ode_steps, to_zero=to_zero)


def add_pair_bank(gan):
    """Adds the bank's variables to `gan` (saved with it; filled by `fit`)."""
    zeros = keras.initializers.Zeros()
    gan.pair_latents = gan.add_weight(
        shape=(gan.n_pairs, gan.latent_dim), initializer=zeros,
        trainable=False, name="pair_latents",
    )
    gan.pair_samples = gan.add_weight(
        shape=(gan.n_pairs, *gan.feature_shape), initializer=zeros,
        trainable=False, name="pair_samples",
    )
    gan.pairs_made = gan.add_weight(
        shape=(), initializer=zeros, trainable=False, name="pairs_made"
    )


def prepare_distillation(gan, x, batch_size=None):
    """`fit`'s first work: checks the data and the teacher, makes the bank.

    The data's shape is checked on every `fit`. Once (a loaded model keeps
    its bank): the teacher is checked (and, if unfitted and
    `gan.teacher_epochs > 0`, fitted on array `x` for that many epochs), the
    fake DDE takes its `sigma_max` and warm-starts from its weights, the
    bank is made and the generator warms up on it (`regression_warmup`).
    """
    if x is not None and is_array_like(x):
        check_feature_shape(x, gan.feature_shape)
    if float(ops.convert_to_numpy(gan.pairs_made)) > 0:
        return
    check_teacher(gan.real_dde, gan.teacher_epochs, x)
    if not teacher_is_fitted(gan.real_dde):
        gan.real_dde.fit(
            x, epochs=gan.teacher_epochs, batch_size=batch_size or 512, verbose=0
        )
    if math.isnan(gan.fake_dde.sigma_max):
        gan.fake_dde.sigma_max_variable.assign(gan.real_dde.sigma_max)
    if gan.real_dde.sigma_max != gan.fake_dde.sigma_max:
        raise ValueError(
            f"`real_dde` was fitted with sigma_max {gan.real_dde.sigma_max} but "
            f"`fake_dde` has {gan.fake_dde.sigma_max}: pass the same "
            "`sigma_max=` to both (or None to both)."
        )
    warm_start_fake(gan.real_dde, gan.fake_dde)
    latents, samples = make_pairs(
        gan.real_dde, gan.n_pairs, gan.latent_dim, gan.seed, gan.ode_steps,
        gan.ode_to_zero,
    )
    gan.pair_latents.assign(latents)
    gan.pair_samples.assign(samples)
    regression_warmup(gan, gan.warmup_steps, batch_size or 512)
    gan.pairs_made.assign(1.0)


class _BankBatches(keras.utils.PyDataset):
    """`steps` minibatches of the bank drawn with replacement, as one epoch."""

    def __init__(self, latents, samples, steps, batch_size, seed):
        super().__init__()
        self.latents, self.samples = latents, samples
        self.steps, self.batch_size = steps, batch_size
        self.rng = np.random.default_rng(seed)

    def __len__(self):
        return self.steps

    def __getitem__(self, index):
        rows = self.rng.integers(0, len(self.latents), self.batch_size)
        return self.latents[rows], self.samples[rows]


def warm_start_fake(real_dde, fake_dde):
    """Copies the teacher's network weights into the fake DDE, if they fit.

    Returns True when copied (same architecture), False otherwise.
    """
    real, fake = real_dde.network.weights, fake_dde.network.weights
    if [tuple(w.shape) for w in real] != [tuple(w.shape) for w in fake]:
        return False
    for source, target in zip(real, fake):
        target.assign(np.array(ops.convert_to_numpy(source)))  # A copy: JAX must not share buffers.
    return True


def distribution_matching_loss(gan, batch_size):
    """`mean sigma_i^2 (s_fake - s_real)(x~_i)` on fresh generated samples."""
    samples = gan.generator(gan._latents(batch_size), training=True)
    noisy, _, log_sigma = gan.fake_dde._noisy_levels(
        samples, gan.noise_pairing, gan.target_fraction
    )
    difference = gan.fake_dde._joint_energy(noisy, log_sigma) - (
        gan.real_dde._joint_energy(noisy, log_sigma)
    )
    return ops.mean(ops.exp(2.0 * log_sigma) * difference)


def pair_indices(gan, batch_size):
    """`batch_size` indices into the bank, uniform, from the GAN's stream."""
    draws = backend.normal((batch_size,), seed=gan.seed_generator)
    uniform = 0.5 * (1.0 + ops.erf(draws / math.sqrt(2.0)))
    count = ops.shape(gan.pair_latents)[0]
    index = ops.cast(ops.floor(uniform * count), "int32")
    return ops.clip(index, 0, count - 1)


def huber_delta(gan):
    """The regression's Huber threshold: the teacher's lowest level `sigma`
    (a tensor, readable inside a compiled step)."""
    return ops.convert_to_tensor(gan.real_dde.sigma_variable)


def regression_loss(gan, index, training=True):
    """`mean_j sum_k huber(G(z_j)_k - x_jk)` over the bank's rows `index`."""
    z = ops.take(gan.pair_latents, index, axis=0)
    target = ops.take(gan.pair_samples, index, axis=0)
    prediction = gan.generator(z, training=training)
    dim = int(np.prod(gan.feature_shape))
    target, prediction = ops.reshape(target, (-1, dim)), ops.reshape(prediction, (-1, dim))
    # `huber` averages over the features; the sum keeps the scale of the
    # squared norm that it replaces, whatever the number of features.
    return ops.mean(keras.losses.huber(target, prediction, huber_delta(gan))) * dim


def regression_weight_now(gan):
    """`lambda` at this generator step (a schedule's value, or the float)."""
    weight = gan.regression_weight
    if isinstance(weight, keras.optimizers.schedules.LearningRateSchedule):
        return ops.cast(weight(gan.generator_optimizer.iterations), "float32")
    return weight


def distillation_update(gan, batch_size):
    """One generator update of the whole loss; returns `(dm, regression)`."""
    weight = regression_weight_now(gan)
    variables = gan.generator.trainable_variables
    index = pair_indices(gan, batch_size)

    def loss_fn():
        dm = distribution_matching_loss(gan, batch_size)
        regression = regression_loss(gan, index)
        # The terms come back as the aux: no second generator pass for them.
        return dm + weight * regression, (dm, regression)

    (_, (dm, regression)), grads = backend.value_and_grad(
        loss_fn, variables, has_aux=True
    )
    gan.optimizer.apply(grads, variables)
    return dm, regression


def regression_warmup(gan, steps, batch_size, learning_rate=WARMUP_LEARNING_RATE):
    """`steps` Adam steps of the regression alone, before the GAN's first step.

    From scratch, the whole loss leaves the generator blurred for a long
    time, while the regression alone places every mode with its share in
    a few thousand steps, each a few percent of a GAN step's cost (no DDE;
    `benchmarks/results/energy_gan_distillation.md`). A clone of the
    generator trains, with its own optimizer and the same Huber loss, so
    the generator itself stays uncompiled.
    """
    if not steps:
        return
    clone = keras.models.clone_model(gan.generator)
    clone.set_weights(gan.generator.get_weights())
    clone.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.Huber(gan.real_dde.sigma),
        # PyTorch's trainer takes one step per call.
        steps_per_execution=(
            1 if keras.backend.backend() == "torch" else WARMUP_STEPS_PER_EXECUTION
        ),
    )
    batches = _BankBatches(
        ops.convert_to_numpy(gan.pair_latents),
        ops.convert_to_numpy(gan.pair_samples), steps, batch_size, gan.seed,
    )
    clone.fit(batches, epochs=1, verbose=0)  # One epoch: no per-epoch overhead.
    gan.generator.set_weights(clone.get_weights())


def distillation_losses(gan, batch_size):
    """`(dm, regression)` without an update, for `test_step`."""
    dm = distribution_matching_loss(gan, batch_size)
    index = pair_indices(gan, batch_size)
    return dm, regression_loss(gan, index, training=False)


def check_distillation_settings(
    regression_weight, n_pairs, ode_steps, ode_to_zero, teacher_epochs, warmup_steps
):
    """The distillation's settings, checked, as a dict of attribute names."""
    if ode_to_zero not in TO_ZERO_STEPS:
        raise ValueError(
            f"`ode_to_zero` must be one of {', '.join(map(repr, TO_ZERO_STEPS))}; "
            f"received {ode_to_zero!r}."
        )
    for name, value in (("teacher_epochs", teacher_epochs),
                        ("warmup_steps", warmup_steps)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or (
            value < 0
        ):
            raise ValueError(f"`{name}` must be an int >= 0; received {value!r}.")
    return {
        "regression_weight": check_regression_weight(regression_weight),
        "n_pairs": check_positive_int(n_pairs, "n_pairs"),
        "ode_steps": check_positive_int(ode_steps, "ode_steps"),
        "ode_to_zero": ode_to_zero,
        "teacher_epochs": int(teacher_epochs),
        "warmup_steps": int(warmup_steps),
    }
