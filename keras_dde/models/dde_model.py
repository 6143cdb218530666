import warnings

import keras
from keras import ops

from keras_dde import backend
from keras_dde.layers.noise_pairing import NoisePairing
from keras_dde.losses import denoising_score_matching
from keras_dde.utils.validation import check_data
from keras_dde.utils.validation import check_sigma
from keras_dde.utils.validation import is_array_like

_NON_SMOOTH_ACTIVATIONS = ("relu", "relu6", "leaky_relu", "elu", "selu", "hard_")


@keras.saving.register_keras_serializable(package="keras_dde")
class DDEModel(backend.StatefulTrainer, keras.Model):
    """A denoising density estimator: a scalar energy trained by score matching.

    `DDEModel` wraps an energy network `s(x)` (any Keras layer or model with
    one scalar output per sample) and trains it so that
    `x~ + sigma^2 grad s(x~)` denoises Gaussian-corrupted data
    `x~ = x + sigma * eps`. The optimum is `s = log p~ + C`, with `p~` the
    Gaussian KDE of the data at bandwidth `sigma`, evaluated in one network
    pass. The loss is `keras_dde.losses.denoising_score_matching`.

    `fit`, `evaluate` and `predict` work as usual; `predict` returns energies.

    Args:
        energy: a Keras layer or model mapping `(batch, *features)` to
            `(batch,)` or `(batch, 1)`. Use smooth activations (softplus,
            tanh, swish): the loss differentiates the input gradient again.
        sigma: float, the noise standard deviation, i.e. the KDE bandwidth.
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
        if not isinstance(energy, keras.layers.Layer):
            raise TypeError(
                "`energy` must be a Keras layer or model with one scalar output "
                f"per sample; received {type(energy).__name__}."
            )
        sigma = check_sigma(sigma)
        super().__init__(**kwargs)
        self.energy_network = energy
        self.sigma = sigma
        self.seed = seed
        self.noise = NoisePairing(sigma, seed=seed, name="noise")
        self.loss_tracker = keras.metrics.Mean(name="loss")
        _warn_if_non_smooth(energy)
        feature_shape = _known_feature_shape(energy)
        if feature_shape is not None:
            self.build((None, *feature_shape))

    # --- Building and validation -------------------------------------------

    @property
    def feature_shape(self):
        """The per-sample input shape, once known."""
        return _known_feature_shape(self.energy_network) or getattr(
            self, "_feature_shape", None
        )

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        expected = _known_feature_shape(self.energy_network)
        if expected is not None and tuple(input_shape[1:]) != expected:
            raise ValueError(
                f"The data has per-sample shape {tuple(input_shape[1:])}, but "
                f"`energy` expects {expected}."
            )
        if not self.energy_network.built:
            try:
                self.energy_network.build(input_shape)
            except Exception as error:
                raise ValueError(
                    f"`energy` could not be built for inputs of shape "
                    f"{input_shape}: {error}"
                ) from error
        output = self.energy_network.compute_output_spec(
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
        self.noise.build(input_shape)

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
        if loss is not None:
            raise ValueError(
                "`DDEModel` trains with its own denoising score matching loss; "
                "do not pass `loss` to `compile`."
            )
        if metrics:
            raise ValueError(
                "`DDEModel` reports its own `loss` metric; do not pass `metrics`."
            )
        super().compile(
            optimizer=optimizer, steps_per_execution=steps_per_execution, **kwargs
        )

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
        values = self.energy_network(inputs, training=training)
        if len(values.shape) == 2:
            values = ops.squeeze(values, axis=-1)
        return values

    def energy(self, x):
        """Unnormalised log-density `s(x)`, shape `(batch,)`."""
        return self(ops.convert_to_tensor(x, dtype=self.compute_dtype))

    def score(self, x):
        """Score field `grad_x s(x)`, same shape as `x`."""
        x = ops.convert_to_tensor(x, dtype=self.compute_dtype)
        return backend.input_gradient(self, x)[1]

    def denoise(self, x):
        """One-step denoiser `x + sigma^2 grad_x s(x)` (Tweedie's formula)."""
        x = ops.convert_to_tensor(x, dtype=self.compute_dtype)
        return x + self.sigma**2 * self.score(x)

    # --- Training ------------------------------------------------------------

    def compute_dde_loss(self, x, sample_weight=None, training=False):
        """Mean denoising score matching loss on fresh noise, a scalar."""
        noisy, eps = self.noise(x)
        _, score = backend.input_gradient(
            lambda z: self(z, training=training), noisy
        )
        per_sample = denoising_score_matching(score, eps, self.sigma)
        if sample_weight is None:
            return ops.mean(per_sample)
        sample_weight = ops.cast(ops.reshape(sample_weight, (-1,)), per_sample.dtype)
        return ops.sum(per_sample * sample_weight) / ops.sum(sample_weight)

    def stateful_train_step(self, data):
        x, _, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        loss, grads = backend.value_and_grad(
            lambda: self.compute_dde_loss(x, sample_weight, training=True),
            self.trainable_variables,
        )
        self.optimizer.apply(grads, self.trainable_variables)
        return self._update_loss(loss, x)

    def stateful_test_step(self, data):
        x, _, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        return self._update_loss(self.compute_dde_loss(x, sample_weight), x)

    def _update_loss(self, loss, x):
        self.loss_tracker.update_state(loss, sample_weight=ops.shape(x)[0])
        return {"loss": self.loss_tracker.result()}

    @property
    def metrics(self):
        return [self.loss_tracker]

    def fit(self, x=None, y=None, *args, validation_data=None, **kwargs):
        x = self._checked(x, "x")
        if validation_data is not None and is_array_like(validation_data):
            validation_data = self._checked(validation_data, "validation_data")
        return super().fit(x, y, *args, validation_data=validation_data, **kwargs)

    def evaluate(self, x=None, *args, **kwargs):
        return super().evaluate(self._checked(x, "x"), *args, **kwargs)

    def _checked(self, x, name):
        """Array data is validated and cast to float32; datasets pass through."""
        if x is None or not is_array_like(x):
            return x
        x = check_data(x, name, self.feature_shape)
        if not self.built:
            self.build((None, *x.shape[1:]))
        return x

    # --- Serialization ---------------------------------------------------------

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "energy": keras.saving.serialize_keras_object(self.energy_network),
                "sigma": self.sigma,
                "seed": self.seed,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["energy"] = keras.saving.deserialize_keras_object(config["energy"])
        return cls(**config)


def _known_feature_shape(energy):
    """The energy network's per-sample input shape, if it declares one."""
    try:
        inputs = energy.inputs
    except (AttributeError, ValueError):
        return None
    if not inputs or len(inputs) != 1:
        return None
    return tuple(inputs[0].shape[1:])


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
