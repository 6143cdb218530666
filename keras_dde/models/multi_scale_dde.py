import math

import keras
import numpy as np
from keras import ops

from keras_dde import backend
from keras_dde.layers.gaussian_log_density import GaussianLogDensity
from keras_dde.models.dde_model import DDEModel
from keras_dde.models.checks.energy_network import check_conditional_energy
from keras_dde.models.mixins.multi_scale_density import MultiScaleDensity
from keras_dde.losses import multi_scale_score_matching
from keras_dde.training.weight_averaging import WeightAveraging
from keras_dde.utils.validation import check_sigma
from keras_dde.utils.validation import is_array_like

# With `sigma_max=None`, `fit` sets it to this multiple of the data's largest
# principal standard deviation: the smoothed modes then overlap.
SIGMA_MAX_SCALE = 1.0
# `compile()`'s Adam learning rate. `compile` cannot know the run's length,
# which the recipe's cosine decay needs; a constant rate with the weight
# averaging got the modes' masses as right (offset spread 0.010 nats, the
# recipe 0.031) and the densities nearly so (MAE 0.055 against 0.043), where
# 4e-3 constant did not (`benchmarks/results/optimizer_robustness.md`).
DEFAULT_LEARNING_RATE = 1e-3
# `sigma_max_variable` while `sigma_max` is unknown (`sigma_max` reads nan).
UNKNOWN_SIGMA_MAX = 0.0


@keras.saving.register_keras_serializable(package="keras_dde")
class MultiScaleDDE(MultiScaleDensity, WeightAveraging, DDEModel):
    """A noise-conditional DDE: one energy `s(x, sigma)` for all noise levels.

    A `DDEModel` is blind to the relative mass of modes whose smoothed
    versions do not overlap (Wenliang & Kanagawa, 2020): it fits the right
    shape in each mode and an arbitrary constant per mode. `MultiScaleDDE`
    trains `s(x, u)`, `u = log sigma`, at noise levels drawn log-uniformly in
    `[sigma, sigma_max]` (a fraction `target_fraction` of each batch at
    `sigma`) with `keras_dde.losses.multi_scale_score_matching`: denoising score
    matching in `x` plus its twin in `u`, whose target `|eps|^2 - d` is the
    noisy `d/du log p_sigma`. The joint gradient then fixes `s = log p_sigma +
    C` with one `C` for every sigma: at `sigma_max` the modes overlap and
    score matching sees their masses; the `u`-term carries them down.

    `log_partition` estimates `log Z` at `sigma` (or, with `method="limit"`,
    at `sigma_max`, where `p_sigma` is close to `N(m, C + sigma_max^2 I)`),
    and `sample` anneals Langevin dynamics from `sigma_max` down to `sigma`
    (`keras_dde.models.mixins.multi_scale_density`).

    With `gaussian_base=True` (default) the energy is
    `s(x, sigma) = network(x, log sigma) + log N(x; m, C + sigma^2 I)`, with
    the data's mean `m` and covariance `C` recorded before training (the
    layer `keras_dde.layers.GaussianLogDensity`). The network is bounded, so
    `exp(s)` is integrable, and at `sigma_max` `s` is nearly the Gaussian
    that `log_partition(method="limit")` samples from. Without it a tanh network levels off
    far from the data: on swissroll (`benchmarks/density.py`) `exp(s)` held
    enough mass at radius 8-10 to bias the `sigma_max` estimate of `log Z`
    by +0.57 nats, while the density near the data matched the KDE within
    0.004 nats.

    Args:
        energy: a Keras model with two inputs `[x, log_sigma]`, shapes
            `(batch, *features)` and `(batch, 1)`, and one scalar output per
            sample, e.g. `keras_dde.models.conditional_energy_mlp`.
        sigma: float, the target noise level (KDE bandwidth).
        sigma_max: float > sigma, the largest noise level; None sets it at
            the first `fit` (or `set_data_statistics`) to the data's largest
            principal standard deviation.
        seed: int or None, seeds the training noise and noise levels.
        time_weight: float >= 0, the weight of the `u`-term.
        target_fraction: float in [0, 1), the share of each batch at `sigma`.
        gaussian_base: bool, adds the data's smoothed Gaussian to the
            network (see above). Its moments come from the first
            `set_data_statistics`, which `fit` calls for array data, a
            `tf.data.Dataset` or a `keras.utils.PyDataset` (one streaming
            pass); for another iterable of batches, call
            `set_data_statistics(data)` before `fit`.
        weight_averaging: float in (0, 1), the largest decay of an
            exponential moving average of the weights kept through `fit`,
            which replaces the weights when `fit` ends
            (`keras_dde.training.weight_averaging`); None: off. With it, a
            constant learning rate gets the modes' masses as right as the
            recipe's cosine decay (a constant Adam 2e-3 on a separated
            mixture at sigma 0.08: offset spread 0.021 nats averaged, 0.147
            not; at a constant 4e-3 it is not enough, 0.077).
        **kwargs: standard `keras.Model` arguments.

    Example:
    ```python
    energy = keras_dde.models.conditional_energy_mlp(2)
    dde = keras_dde.MultiScaleDDE(energy, sigma=0.08)
    dde.compile()                              # Adam 1e-3, weights averaged
    dde.fit(x, batch_size=512, epochs=300)    # 8k points
    log_z, stderr = dde.log_partition()
    log_p = dde.log_prob(x_test)              # normalised, at sigma
    coarse = dde.energy(x_test, sigma=0.5)    # same constant
    ```

    References:
        - [Song & Ermon, 2019](https://arxiv.org/abs/1907.05600)
        - [Choi et al., 2022](https://arxiv.org/abs/2111.11010)
        - [Wenliang & Kanagawa, 2020](https://arxiv.org/abs/2008.11751)
    """

    def __init__(
        self,
        energy,
        sigma=0.1,
        sigma_max=None,
        seed=None,
        time_weight=1.0,
        target_fraction=0.5,
        gaussian_base=True,
        weight_averaging=0.999,
        **kwargs,
    ):
        check_conditional_energy(energy)
        sigma = check_sigma(sigma)
        if sigma_max is not None:
            sigma_max = check_sigma(sigma_max, "sigma_max")
            if sigma_max <= sigma:
                raise ValueError(
                    f"`sigma_max` must be larger than `sigma` ({sigma}); received "
                    f"{sigma_max}. Use a `DDEModel` for a single noise level."
                )
        if not (isinstance(time_weight, (int, float)) and time_weight >= 0):
            raise ValueError(f"`time_weight` must be >= 0; received {time_weight!r}.")
        if not (isinstance(target_fraction, (int, float)) and 0 <= target_fraction < 1):
            raise ValueError(
                f"`target_fraction` must be in [0, 1); received {target_fraction!r}."
            )
        if not isinstance(gaussian_base, bool):
            raise TypeError(
                f"`gaussian_base` must be True or False; received {gaussian_base!r}."
            )
        if weight_averaging is not None and not (
            isinstance(weight_averaging, (int, float))
            and not isinstance(weight_averaging, bool)
            and 0 < weight_averaging < 1
        ):
            raise ValueError(
                "`weight_averaging` must be a decay in (0, 1), e.g. 0.999, or "
                f"None to train without it; received {weight_averaging!r}."
            )
        super().__init__(energy, sigma=sigma, seed=seed, **kwargs)
        self.weight_averaging = (
            None if weight_averaging is None else float(weight_averaging)
        )
        self.gaussian_base = gaussian_base
        self.base_density = None
        if gaussian_base:
            self.base_density = GaussianLogDensity(name="gaussian_base")
        self.time_weight = float(time_weight)
        self.target_fraction = float(target_fraction)
        self.sigma_max_argument = sigma_max
        # 0 (UNKNOWN_SIGMA_MAX) until known, never NaN: JAX cannot replicate
        # a NaN over several processes (NaN is not equal to itself).
        self.sigma_max_variable = self.add_weight(
            shape=(),
            initializer=keras.initializers.Constant(
                UNKNOWN_SIGMA_MAX if sigma_max is None else sigma_max
            ),
            trainable=False,
            name="sigma_max",
        )
        feature_shape = tuple(energy.inputs[0].shape[1:])
        if None not in feature_shape:
            self.build((None, *feature_shape))

    def compile(self, optimizer=None, **kwargs):
        """`DDEModel.compile`; no `optimizer` means a constant Adam at
        `DEFAULT_LEARNING_RATE` (1e-3), which with the weight averaging is
        as good as the recipe's decayed 4e-3 (`build_multiscale_dde`)."""
        if optimizer is None:
            optimizer = keras.optimizers.Adam(DEFAULT_LEARNING_RATE)
        super().compile(optimizer=optimizer, **kwargs)

    _check_energy = staticmethod(check_conditional_energy)

    def set_sigma(self, value):
        """`DDEModel.set_sigma`; a number must stay below `sigma_max`."""
        if not keras.ops.is_tensor(value) and check_sigma(value) >= self.sigma_max:
            # False while sigma_max is nan.
            raise ValueError(
                f"`sigma` must stay below `sigma_max` ({self.sigma_max}); "
                f"received {value}."
            )
        super().set_sigma(value)

    @property
    def noise_range(self):
        """`(sigma, sigma_max)`, the levels the energy is trained on."""
        return self.sigma, self.sigma_max

    @property
    def sigma_max(self):
        """The largest noise level, a python float (nan until known).

        The variable `sigma_max_variable` holds `UNKNOWN_SIGMA_MAX` (0) until
        then (files saved when it held NaN read as unknown too).
        """
        value = float(str(np.float32(ops.convert_to_numpy(self.sigma_max_variable))))
        return value if value > UNKNOWN_SIGMA_MAX else math.nan

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        expected = tuple(self.network.inputs[0].shape[1:])
        if tuple(input_shape[1:]) != expected:
            raise ValueError(
                f"The data has per-sample shape {tuple(input_shape[1:])}, but "
                f"`energy` expects {expected}."
            )
        output = self.network.compute_output_spec(
            [keras.KerasTensor(input_shape), keras.KerasTensor((input_shape[0], 1))]
        )
        output_shape = tuple(getattr(output, "shape", ()))
        if len(output_shape) not in (1, 2) or output_shape[1:] not in ((), (1,)):
            raise ValueError(
                "`energy` must return one scalar per sample, shape (batch,) or "
                f"(batch, 1); it returns shape {output_shape}."
            )
        self._feature_shape = tuple(input_shape[1:])
        base = getattr(self, "base_density", None)  # None during DDEModel.__init__
        if base is not None and not base.built:
            base.build((None, int(np.prod(self._feature_shape))))
        self.noise_pairing.build(input_shape)
        self._build_density_state(self._feature_shape)
        if not getattr(self, "averaged_variables", None):
            # `weight_averaging` is unset while `DDEModel.__init__` runs.
            self.weight_averaging = getattr(self, "weight_averaging", None)
            self.build_weight_averages()

    # --- What a multi-scale DDE computes --------------------------------------

    def _log_sigma(self, sigma):
        """`log sigma` as a scalar tensor, checked against `[sigma, sigma_max]`."""
        if sigma is None:
            return ops.log(self.sigma_variable)
        sigma = check_sigma(sigma)
        low, high = self.sigma, self.sigma_max
        if not (low * (1 - 1e-6) <= sigma <= high * (1 + 1e-6)):
            raise ValueError(
                f"`sigma` must lie in the trained range [{low}, {high}] (the "
                f"model's sigma and sigma_max); received {sigma}."
                + (" sigma_max is set by `fit`." if math.isnan(high) else "")
            )
        return ops.convert_to_tensor(math.log(sigma), "float32")

    def _joint_energy(self, x, log_sigma, training=None):
        """`s(x, u)` for `x` `(batch, *features)` and `u` `(batch,)`."""
        values = self.network([x, ops.reshape(log_sigma, (-1, 1))], training=training)
        if len(values.shape) == 2:
            values = ops.squeeze(values, axis=-1)
        if self.base_density is not None:
            flat = ops.reshape(x, (ops.shape(x)[0], -1))
            # `call`: the layer is built, and Keras's per-call bookkeeping
            # costs as much as the layer on eager PyTorch.
            values = values + self.base_density.call([flat, log_sigma])
        return values

    def call(self, inputs, training=None):
        log_sigma = ops.log(ops.cast(self.sigma_variable, inputs.dtype))
        return self._joint_energy(
            inputs, ops.full((ops.shape(inputs)[0],), log_sigma), training
        )

    def energy(self, x, sigma=None):
        """Unnormalised log-density `s(x, sigma)` (default: the model's sigma)."""
        x = ops.convert_to_tensor(x, dtype=self.compute_dtype)
        log_sigma = ops.full((ops.shape(x)[0],), self._log_sigma(sigma))
        with backend.inference():
            return self._joint_energy(x, log_sigma)

    def score(self, x, sigma=None):
        """`grad_x s(x, sigma)`, same shape as `x`."""
        x = ops.convert_to_tensor(x, dtype=self.compute_dtype)
        log_sigma = ops.full((ops.shape(x)[0],), self._log_sigma(sigma))
        with backend.inference():
            return backend.input_gradient(
                lambda z: self._joint_energy(z, log_sigma), x
            )[1]

    def denoise(self, x, sigma=None):
        """Tweedie's denoiser `x + sigma^2 grad_x s(x, sigma)`."""
        level = self.sigma if sigma is None else check_sigma(sigma)
        return ops.convert_to_tensor(x, self.compute_dtype) + level**2 * self.score(
            x, sigma
        )

    # --- Training ------------------------------------------------------------

    def _noisy_levels(self, x, noise, target_fraction):
        """`(x + sigma * eps, eps, log sigma)`, one level per sample.

        `log sigma` is uniform in `[log sigma, log sigma_max]`, except for a
        `target_fraction` of the samples at `sigma`; the draws come from the
        `NoisePairing` `noise` (distinct per replica).
        """
        low = ops.log(ops.cast(self.sigma_variable, x.dtype))
        high = ops.log(ops.cast(self.sigma_max_variable, x.dtype))
        draws = backend.normal(
            (ops.shape(x)[0], 2), seed=noise.seed_generator, dtype=x.dtype
        )
        uniform = 0.5 * (1.0 + ops.erf(draws / math.sqrt(2.0)))
        log_sigma = ops.where(
            uniform[:, 1] < target_fraction, low, low + uniform[:, 0] * (high - low)
        )
        shape = (-1,) + (1,) * len(self.feature_shape)
        noisy, eps = noise.call(x, sigma=ops.reshape(ops.exp(log_sigma), shape))
        return noisy, eps, log_sigma

    def smoothed_samples(self, samples, noise, target_fraction=0.0):
        """`EnergyGAN`'s hook: levels log-uniform in `[sigma, sigma_max]`.

        Returns `(noisy, energy_fn)`: `noisy = samples + sigma_i * eps_i`
        with one level `sigma_i` per sample (a share `target_fraction` at
        `sigma`), and `energy_fn(dde)` the energies `s(noisy_i, sigma_i)` of
        a `MultiScaleDDE` `dde`, so the generator loss is averaged over the
        noise levels.
        """
        noisy, _, log_sigma = self._noisy_levels(samples, noise, target_fraction)
        return noisy, lambda dde: dde._joint_energy(noisy, log_sigma)

    def compute_dde_loss(self, x, sample_weight=None, training=False):
        """Mean multi-scale score matching loss on fresh levels and noise."""
        dim = int(np.prod(self.feature_shape))
        noisy, eps, log_sigma = self._noisy_levels(x, self.noise_pairing, self.target_fraction)
        sigma = ops.exp(log_sigma)
        joint = ops.concatenate(
            [ops.reshape(noisy, (-1, dim)), log_sigma[:, None]], axis=-1
        )

        def joint_energy(z):
            x_part = ops.reshape(z[:, :dim], (-1, *self.feature_shape))
            return self._joint_energy(x_part, z[:, dim], training)

        _, gradient = backend.input_gradient(joint_energy, joint)
        per_sample = multi_scale_score_matching(
            gradient[:, :dim],
            gradient[:, dim],
            ops.reshape(eps, (-1, dim)),
            sigma,
            self.time_weight,
        )
        if sample_weight is None:
            return ops.mean(per_sample)
        sample_weight = ops.cast(ops.reshape(sample_weight, (-1,)), per_sample.dtype)
        return ops.sum(per_sample * sample_weight) / ops.sum(sample_weight)

    def fit(self, x=None, y=None, *args, **kwargs):
        """`DDEModel.fit`; with `sigma_max=None`, array data sets it first.

        (`DDEModel.fit` records the statistics of array data, without the
        `validation_split` tail, through `set_data_statistics`.) A
        `tf.data.Dataset` or a `keras.utils.PyDataset` gets one streaming
        pass of `set_data_statistics` first when `sigma_max` or the Gaussian
        base is still unknown; another iterable of batches (which may not
        be read twice) needs `set_data_statistics(data)` called first. When
        it ends, the weights are their running average (`weight_averaging`).
        """
        needs_statistics = math.isnan(self.sigma_max) or (
            self.base_density is not None and not self.base_density.is_set
        )
        if needs_statistics and is_repeatable_dataset(x):
            # One streaming pass over the batches, before training.
            self.set_data_statistics(x)
        if x is None or not is_array_like(x):
            if math.isnan(self.sigma_max):
                raise ValueError(
                    "`sigma_max` is unknown: pass `sigma_max=` to "
                    "`MultiScaleDDE`, or call `set_data_statistics(data)` "
                    "before fitting a Python generator (it cannot be read "
                    "twice, so `fit` cannot take the statistics from it)."
                )
            if self.base_density is not None and not self.base_density.is_set:
                raise ValueError(
                    "The Gaussian base needs the data's moments before "
                    "training: call `set_data_statistics(data)` before fitting "
                    "a Python generator (it cannot be read twice, so `fit` "
                    "cannot take the statistics from it), or pass "
                    "`gaussian_base=False` to `MultiScaleDDE`."
                )
        history = super().fit(x, y, *args, **kwargs)
        self.use_weight_averages()
        return history

    def stateful_train_step(self, data):
        logs = super().stateful_train_step(data)
        self.update_weight_averages()
        return logs

    def set_data_statistics(self, data, sample_weight=None):
        super().set_data_statistics(data, sample_weight)
        if math.isnan(self.sigma_max):
            self.sigma_max_variable.assign(default_sigma_max(self))
        self.set_gaussian_base(*self.data_statistics.moments())

    def set_gaussian_base(self, mean, covariance):
        """Sets the Gaussian base's mean and covariance, if not set yet.

        `set_data_statistics` (so `fit` on arrays) calls it with the data's
        moments; `EnergyGAN` gives its fake DDE the real data's. It is set
        once: later data must not move the base under trained weights.
        """
        if self.base_density is not None and not self.base_density.is_set:
            self.base_density.set_moments(
                ops.convert_to_numpy(mean), ops.convert_to_numpy(covariance)
            )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "sigma_max": self.sigma_max_argument,
                "time_weight": self.time_weight,
                "target_fraction": self.target_fraction,
                "gaussian_base": self.gaussian_base,
                "weight_averaging": self.weight_averaging,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        # Files saved before the base (or the averaging) existed were
        # trained without it.
        return super().from_config(
            {"gaussian_base": False, "weight_averaging": None, **config}
        )


def is_repeatable_dataset(data):
    """True for a `tf.data.Dataset` or a `keras.utils.PyDataset`, which can
    be read once for statistics and again for training."""
    if isinstance(data, keras.utils.PyDataset):
        return True
    return type(data).__module__.startswith("tensorflow") and hasattr(
        data, "element_spec"
    )


def default_sigma_max(model):
    """`sigma_max_for` the data's covariance, as recorded by the model."""
    return sigma_max_for(ops.convert_to_numpy(model.data_covariance), model.sigma)


def sigma_max_for(covariance, sigma):
    """`SIGMA_MAX_SCALE` times the largest principal standard deviation of a
    covariance (a matrix, or a vector of variances), and at least `2 sigma`."""
    covariance = np.atleast_1d(np.asarray(covariance, dtype="float64"))  # np.cov of 1 feature: 0-d
    top = covariance.max() if covariance.ndim == 1 else np.linalg.eigvalsh(covariance)[-1]
    return max(SIGMA_MAX_SCALE * math.sqrt(max(top, 0.0)), 2.0 * sigma)

