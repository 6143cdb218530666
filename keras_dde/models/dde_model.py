import copy
import warnings

import keras
import numpy as np
from keras import ops

from keras_dde import backend
from keras_dde.layers.noise_pairing import NoisePairing
from keras_dde.losses import denoising_score_matching
from keras_dde.models.checks.energy_network import check_unconditional_energy
from keras_dde.models.mixins.normalized_density import NormalizedDensity
from keras_dde.training.checked_model import CheckedModel
from keras_dde.utils.shapes import declared_input_shape
from keras_dde.utils.validation import check_sigma

_NON_SMOOTH_ACTIVATIONS = ("relu", "relu6", "leaky_relu", "elu", "selu", "hard_")


@keras.saving.register_keras_serializable(package="keras_dde")
class DDEModel(NormalizedDensity, CheckedModel):
    """A denoising density estimator: a scalar energy trained by score matching.

    `DDEModel` wraps an energy network `s(x)` (any Keras layer or model with
    one scalar output per sample) and trains it so that
    `x~ + sigma^2 grad s(x~)` denoises Gaussian-corrupted data
    `x~ = x + sigma * eps`. The optimum is `s = log p~ + C`, with `p~` the
    Gaussian KDE of the data at bandwidth `sigma`, evaluated in one network
    pass. The loss is `keras_dde.losses.denoising_score_matching`.

    `fit`, `evaluate` and `predict` work as usual; `predict` returns energies.
    The loss is `compute_dde_loss`, one optimizer step of it is `dde_update`,
    and `stateful_train_step` is Keras's `train_step` (the backend seam,
    `keras_dde.backend.StatefulTrainer`, runs it on every backend). The
    energy network is the attribute `network`. `log_partition`, `log_prob`,
    `sample` and `set_data_statistics` come from
    `keras_dde.models.mixins.normalized_density.NormalizedDensity` (log Z by
    importance sampling from a Gaussian mixture that `fit` fits to the data
    up to 16 features); the checked
    `fit`/`evaluate` from `keras_dde.training.CheckedModel`.

    Args:
        energy: a Keras layer or model mapping `(batch, *features)` to
            `(batch,)` or `(batch, 1)`. Use smooth activations (softplus,
            tanh, swish): the loss differentiates the input gradient again.
        sigma: float, the noise standard deviation, i.e. the KDE bandwidth.
            It is kept once, in the non-trainable variable `sigma_variable`,
            so `dde.sigma = 0.05` between two `fit` calls (or an annealing
            schedule: `keras_dde.callbacks.SigmaScheduler`, or `EnergyGAN`'s
            `sigma_schedule`, both through this setter) takes effect in
            compiled train steps.
        seed: int or None, seeds the training noise.
        **kwargs: standard `keras.Model` arguments.

    Example:
    ```python
    x = keras_dde.datasets.toy2d("2spirals", 8000, seed=0)
    dde = keras_dde.DDEModel(keras_dde.models.energy_mlp(2), sigma=0.1)
    dde.compile(optimizer=keras.optimizers.Adam(1e-3))
    dde.fit(x, batch_size=512, epochs=100)
    log_density = dde.predict(x)  # unnormalised
    ```

    References:
        - [Bigdeli et al., 2020](https://arxiv.org/abs/2001.02728)
        - [Vincent, 2011](https://doi.org/10.1162/NECO_a_00142)
    """

    def __init__(self, energy, sigma=0.1, seed=None, **kwargs):
        self._check_energy(energy)
        sigma = check_sigma(sigma)
        super().__init__(**kwargs)
        self.network = energy
        self.sigma_variable = self.add_weight(
            shape=(),
            initializer=keras.initializers.Constant(sigma),
            trainable=False,
            name="sigma",
        )
        self.seed = seed
        # No sigma of its own: the loss passes `sigma_variable` at each call.
        self.noise_pairing = NoisePairing(seed=seed, name="noise_pairing")
        self.loss_tracker = keras.metrics.Mean(name="loss")
        _warn_if_non_smooth(energy)
        feature_shape = declared_input_shape(energy)
        if feature_shape is not None:
            self.build((None, *feature_shape))

    @staticmethod
    def _check_energy(energy):
        """Raises for a network this model cannot train (`MultiScaleDDE` overrides)."""
        check_unconditional_energy(energy)

    @property
    def sigma(self):
        """The current noise level (KDE bandwidth), a python float."""
        # The shortest decimal that round-trips in float32: sigma=0.1 reads
        # back as 0.1, not 0.10000000149.
        return float(str(np.float32(ops.convert_to_numpy(self.sigma_variable))))

    @sigma.setter
    def sigma(self, value):
        self.set_sigma(value)

    def set_sigma(self, value):
        """Sets the noise level: the one way sigma changes.

        `dde.sigma = value`, `SigmaScheduler` and `EnergyGAN`'s
        `sigma_schedule` all come here. A number is validated (positive,
        finite); a tensor, as a schedule gives inside a compiled train step
        where python checks cannot run, is assigned as it is (`EnergyGAN.fit`
        checks its schedule's value before training).
        """
        if keras.ops.is_tensor(value):
            value = ops.cast(value, self.sigma_variable.dtype)
        else:
            value = check_sigma(value)
        self.sigma_variable.assign(value)

    # --- Building and validation -------------------------------------------

    @property
    def feature_shape(self):
        """The per-sample input shape, once known."""
        return declared_input_shape(self.network) or getattr(
            self, "_feature_shape", None
        )

    def _prepare_data(self, x, name):
        if not self.built:
            self.build((None, *x.shape[1:]))
        return x

    def _record_data_statistics(self, x, sample_weight):
        # `fit` passes the array data it trains on, without the
        # `validation_split` tail.
        self.set_data_statistics(x, sample_weight)

    def _needs_data_statistics(self):
        # None recorded yet: `fit` on a dataset reads it once for them, so
        # that `log_partition` and `sample` need no data afterwards.
        return not self.built or not self.data_statistics.recorded

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        expected = declared_input_shape(self.network)
        if expected is not None and tuple(input_shape[1:]) != expected:
            raise ValueError(
                f"The data has per-sample shape {tuple(input_shape[1:])}, but "
                f"`energy` expects {expected}."
            )
        if not self.network.built:
            try:
                self.network.build(input_shape)
            except Exception as error:
                raise ValueError(
                    f"`energy` could not be built for inputs of shape "
                    f"{input_shape}: {error}"
                ) from error
        output = self.network.compute_output_spec(
            keras.KerasTensor(input_shape)
        )
        output_shape = tuple(getattr(output, "shape", ()))
        if len(output_shape) not in (1, 2) or output_shape[1:] not in ((), (1,)):
            raise ValueError(
                "`energy` must return one scalar per sample, shape (batch,) or "
                f"(batch, 1); it returns shape {output_shape}. End the network "
                "with `keras_dde.layers.EnergyHead()` (or `Dense(1, "
                "use_bias=False)`)."
            )
        self._feature_shape = tuple(input_shape[1:])
        self.noise_pairing.build(input_shape)
        self._build_density_state(self._feature_shape)

    def compile(
        self,
        optimizer="adam",
        loss=None,
        metrics=None,
        steps_per_execution=32,
        **kwargs,
    ):
        """Configures the model for training.

        Args:
            optimizer: a Keras optimizer or its name; default Adam (1e-3).
            loss: must be None: the model trains with its own loss.
            metrics: must be None: the model reports its own `loss`.
            steps_per_execution: training steps per compiled call. A DDE
                step is tiny, so per-call overhead dominates at Keras's
                default of 1; 32 runs 1.5-2x faster (on JAX, consecutive
                steps are fused into one `lax.scan`). Callbacks' batch hooks
                then run every 32 steps.
            **kwargs: other `keras.Model.compile` arguments, e.g.
                `jit_compile`.
        """
        self._refuse_compile_arguments(loss=loss, metrics=metrics)
        super().compile(
            optimizer=optimizer, steps_per_execution=steps_per_execution, **kwargs
        )
        if self.built and not self.optimizer.built:
            # Now rather than at the first step, so that `load_weights` of a
            # `.weights.h5` checkpoint restores the optimizer state too.
            self.optimizer.build(self.trainable_variables)

    # Keras restores the compile state of a loaded model only when a model
    # that overrides `compile` also defines these two.
    def get_compile_config(self):
        return super().get_compile_config()

    def compile_from_config(self, config):
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        if self.built:
            # Create the optimizer's variables so that its saved state loads.
            self.optimizer.build(self.trainable_variables)

    # --- What a DDE computes -----------------------------------------------

    def call(self, inputs, training=None):
        values = self.network(inputs, training=training)
        if len(values.shape) == 2:
            values = ops.squeeze(values, axis=-1)
        return values

    # Inference: results are backend tensors without an autograd graph, so
    # `np.asarray(...)` works on every backend.

    def energy(self, x):
        """Unnormalised log-density `s(x)`, shape `(batch,)`."""
        with backend.inference():
            return self(ops.convert_to_tensor(x, dtype=self.compute_dtype))

    def score(self, x):
        """Score field `grad_x s(x)`, same shape as `x`."""
        x = ops.convert_to_tensor(x, dtype=self.compute_dtype)
        with backend.inference():
            return backend.input_gradient(self, x)[1]

    def denoise(self, x):
        """One-step denoiser `x + sigma^2 grad_x s(x)` (Tweedie's formula)."""
        x = ops.convert_to_tensor(x, dtype=self.compute_dtype)
        with backend.inference():
            return x + ops.square(self.sigma_variable) * self.score(x)

    # --- Training ------------------------------------------------------------

    def compute_dde_loss(self, x, sample_weight=None, training=False):
        """Mean denoising score matching loss on fresh noise, a scalar."""
        # The variable, not the float: a traced step must see later changes.
        sigma = ops.cast(self.sigma_variable, x.dtype)
        # `call`, not `__call__`, on this model and its noise layer (both
        # built): Keras's per-call bookkeeping runs at every step on eager
        # PyTorch (~0.4 ms of a ~3 ms step); the network keeps its own.
        noisy, eps = self.noise_pairing.call(x, sigma=sigma)
        _, score = backend.input_gradient(
            lambda z: self.call(z, training=training), noisy
        )
        per_sample = denoising_score_matching(score, eps, sigma)
        if sample_weight is None:
            return ops.mean(per_sample)
        sample_weight = ops.cast(ops.reshape(sample_weight, (-1,)), per_sample.dtype)
        return ops.sum(per_sample * sample_weight) / ops.sum(sample_weight)

    @property
    def noise_range(self):
        """`(sigma, sigma_max)` of the levels the energy knows; None: one level."""
        return self.sigma, None

    def smoothed_samples(self, samples, noise, target_fraction=0.0):
        """Noisy `samples` and the energy of a DDE at their noise levels.

        The hook of `EnergyGAN`'s generator loss: returns `(noisy, energy_fn)`
        with `noisy = samples + sigma * eps` (`eps` from the `NoisePairing`
        `noise`) and `energy_fn(dde)` the per-sample energies of `dde` at
        `noisy` and the same levels (`MultiScaleDDE` draws one per sample,
        a share `target_fraction` at its sigma; here every level is sigma).
        """
        sigma = ops.cast(self.sigma_variable, samples.dtype)
        # `call`s of built layers, as in `compute_dde_loss`.
        noisy, _ = noise.call(samples, sigma=sigma)
        return noisy, lambda dde: dde.call(noisy)

    def dde_update(self, x, sample_weight=None, optimizer=None):
        """One optimizer step of `compute_dde_loss` on `x`; returns the loss.

        The one DDE update: `train_step` uses it, and so does `EnergyGAN`
        for its real and fake DDEs (passing its own `optimizer`).
        """
        variables = self.trainable_variables
        loss, grads = backend.value_and_grad(
            lambda: self.compute_dde_loss(x, sample_weight, training=True),
            variables,
        )
        (optimizer or self.optimizer).apply(grads, variables)
        return loss

    def stateful_train_step(self, data):
        x, _, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        return self._update_loss(self.dde_update(x, sample_weight), x)

    def stateful_test_step(self, data):
        x, _, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        return self._update_loss(self.compute_dde_loss(x, sample_weight), x)

    def _update_loss(self, loss, x):
        self.loss_tracker.update_state(loss, sample_weight=ops.shape(x)[0])
        return self._logs()

    @property
    def metrics(self):
        return [self.loss_tracker]

    # --- Serialization ---------------------------------------------------------

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "energy": keras.saving.serialize_keras_object(self.network),
                "sigma": self.sigma,
                "seed": self.seed,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        # Deserialization consumes nested dicts; keep the caller's config intact.
        config = copy.deepcopy(config)
        config["energy"] = keras.saving.deserialize_keras_object(config["energy"])
        return cls(**config)


def _warn_if_non_smooth(energy):
    for layer in energy._flatten_layers(include_self=True, recursive=True):
        activation = getattr(layer, "activation", None)
        name = getattr(activation, "__name__", "") or ""
        if isinstance(layer, keras.layers.ReLU) or name.startswith(
            _NON_SMOOTH_ACTIVATIONS
        ):
            warnings.warn(
                f"The energy network's layer {layer.name!r} uses a non-smooth "
                f"activation ({name or type(layer).__name__}). Denoising score "
                "matching differentiates the input gradient again, and ReLU-like "
                "activations have a zero second derivative: training is poor. Use "
                "softplus, tanh, swish or sin.",
                UserWarning,
                stacklevel=3,
            )
            return
