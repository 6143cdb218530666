import copy
import warnings

import keras
import numpy as np
from keras import ops

from keras_dde import backend
from keras_dde.callbacks.interruption import interruption_hook
from keras_dde.callbacks.stop_on_divergence import with_divergence_guard
from keras_dde.density import normalization
from keras_dde.layers.noise_pairing import NoisePairing
from keras_dde.losses import denoising_score_matching
from keras_dde.utils.validation import check_data
from keras_dde.utils.validation import check_sample_weight
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
            It is kept in the non-trainable variable `sigma_variable`, so
            `dde.sigma = 0.05` between two `fit` calls (or an annealing
            schedule, see `EnergyGAN`) takes effect in compiled train steps.
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
        self.sigma_variable = self.add_weight(
            shape=(),
            initializer=keras.initializers.Constant(sigma),
            trainable=False,
            name="sigma",
        )
        self.seed = seed
        self.noise = NoisePairing(sigma, seed=seed, name="noise")
        self.loss_tracker = keras.metrics.Mean(name="loss")
        _warn_if_non_smooth(energy)
        feature_shape = _known_feature_shape(energy)
        if feature_shape is not None:
            self.build((None, *feature_shape))

    @property
    def sigma(self):
        """The current noise level (KDE bandwidth), a python float."""
        # The shortest decimal that round-trips in float32: sigma=0.1 reads
        # back as 0.1, not 0.10000000149.
        return float(str(np.float32(ops.convert_to_numpy(self.sigma_variable))))

    @sigma.setter
    def sigma(self, value):
        self.sigma_variable.assign(check_sigma(value))

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
        normalization.build_state(self, self._feature_shape)

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
        return x + ops.square(self.sigma_variable) * self.score(x)

    # --- Training ------------------------------------------------------------

    def compute_dde_loss(self, x, sample_weight=None, training=False):
        """Mean denoising score matching loss on fresh noise, a scalar."""
        # The variable, not the float: a traced step must see later changes.
        sigma = ops.cast(self.sigma_variable, x.dtype)
        noisy, eps = self.noise(x, sigma=sigma)
        _, score = backend.input_gradient(
            lambda z: self(z, training=training), noisy
        )
        per_sample = denoising_score_matching(score, eps, sigma)
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

    def fit(
        self,
        x=None,
        y=None,
        *args,
        validation_data=None,
        stop_on_divergence=True,
        **kwargs,
    ):
        """`keras.Model.fit`, with checks of array data and a divergence guard.

        Array data is validated (finite, `(n_samples, *features)`) and cast to
        float32 before training starts. With `stop_on_divergence=True`, a
        `keras_dde.callbacks.StopOnDivergence` is added to the callbacks: a
        NaN or Inf loss stops training and restores the last finite weights.
        """
        kwargs["callbacks"] = with_divergence_guard(
            kwargs.get("callbacks"), stop_on_divergence
        )
        x = self._checked(x, "x")
        if validation_data is not None and is_array_like(validation_data):
            validation_data = self._checked(validation_data, "validation_data")
        has_weights = kwargs.get("sample_weight") is not None and is_array_like(x)
        if has_weights:
            kwargs["sample_weight"] = check_sample_weight(
                kwargs["sample_weight"], len(x)
            )
        self._record_data_statistics(x, kwargs)
        if has_weights and y is None:
            # Keras drops sample weights when `y` is None; an unused
            # placeholder target keeps them.
            y = np.zeros(len(x), "float32")
        # Frame callbacks write their GIFs when fit is interrupted, too.
        with interruption_hook(kwargs.get("callbacks")):
            return super().fit(
                x, y, *args, validation_data=validation_data, **kwargs
            )

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
        # Deserialization consumes nested dicts; keep the caller's config intact.
        config = copy.deepcopy(config)
        config["energy"] = keras.saving.deserialize_keras_object(config["energy"])
        return cls(**config)

    # --- Normalised density and sampling ---------------------------------------

    def _record_data_statistics(self, x, fit_kwargs):
        """Keeps the mean/covariance of array training data (not datasets)."""
        if x is None or not is_array_like(x):
            return
        split = fit_kwargs.get("validation_split") or 0.0
        count = len(x) - int(len(x) * split) if split else len(x)
        weights = fit_kwargs.get("sample_weight")
        if weights is not None:
            weights = np.asarray(weights)[:count]
        normalization.set_data_statistics(self, x[:count], weights)

    def set_data_statistics(self, data, sample_weight=None):
        """Records the mean and covariance of the training data.

        `fit` calls this itself for array data, so that `log_partition`,
        `log_prob` and `sample` need no data afterwards. For a
        `tf.data.Dataset`, a `keras.utils.PyDataset` or another iterable of
        batches (`x` or `(x, y[, sample_weight])`), which `fit` leaves alone,
        call it once yourself: it makes one pass over the batches.

        The statistics are the non-trainable weights `data_mean`,
        `data_covariance` (diagonal above 1024 features) and `data_count`,
        saved in `.keras` files.

        Args:
            data: array `(n, *features)` or an iterable of batches.
            sample_weight: optional array `(n,)` for array `data`.
        """
        normalization.set_data_statistics(self, data, sample_weight)

    def log_partition(
        self,
        data=None,
        method="auto",
        n_samples=None,
        n_steps=None,
        proposal=None,
        sample_weight=None,
        batch_size=8192,
        seed=None,
        verbose="auto",
        return_info=False,
    ):
        """Estimates `log Z = log integral exp(s(x)) dx`, with a standard error.

        The proposal is the Gaussian `N(m, C + sigma^2 I)` with the mean `m`
        and covariance `C` of `data`, or of the data statistics kept from
        `fit` when `data` is None (the exact moments of the KDE a DDE
        approximates). `method="is"` is importance sampling from it;
        `"ais"` is annealed importance sampling (one MALA step at each of
        `n_steps` temperatures), needed beyond a few dimensions. `"auto"`
        uses IS for up to 2 features and AIS above. The estimate is cached in the
        model (and saved with it) for `log_prob`.

        Args:
            data: optional training data (array) for the proposal.
            method: "auto", "is" or "ais".
            n_samples: IS samples (default 200,000) or AIS chains (1,024).
            n_steps: AIS temperatures (default 500).
            proposal: optional `keras_dde.density.GaussianProposal`, instead
                of `data`.
            sample_weight: optional weights of `data`.
            batch_size: IS samples per network call.
            seed: int or None.
            verbose: 0, 1 or "auto" (a progress bar for long runs).
            return_info: also return a dict with the method, the effective
                sample size `ess` and, for AIS, the mean MALA acceptance.

        Returns:
            `(log_z, stderr)` as floats, the delta-method standard error
            `std(w) / (sqrt(N) mean(w))` of the importance weights `w`; with
            `return_info`, `(log_z, stderr, info)`. A standard error that is
            large relative to the accuracy you need, or a small `ess`, means
            the estimate is unreliable: use AIS, more chains or more steps.

        Example:
        ```python
        dde.fit(x, epochs=100)
        log_z, stderr = dde.log_partition(seed=0)
        log_p = dde.log_prob(x_test)
        ```

        References:
            - [Neal, 2001](https://arxiv.org/abs/physics/9803008)
        """
        return normalization.log_partition(
            self,
            data=data,
            method=method,
            n_samples=n_samples,
            n_steps=n_steps,
            proposal=proposal,
            sample_weight=sample_weight,
            batch_size=batch_size,
            seed=seed,
            verbose=verbose,
            return_info=return_info,
        )

    def log_prob(self, x, batch_size=8192):
        """Normalised log-density `s(x) - log Z`, a float32 numpy array `(n,)`.

        Uses the `log Z` cached by the last `log_partition` call (estimating
        it with the defaults first if there is none) and warns when that
        value is stale, i.e. the weights changed since it was computed.

        Args:
            x: array `(n, *features)`, finite.
            batch_size: samples per network call.
        """
        return normalization.log_prob(self, x, batch_size=batch_size)

    def sample(
        self,
        n,
        n_steps=200,
        burn_in=None,
        step_size=None,
        init="sir",
        proposal=None,
        seed=None,
        verbose="auto",
        return_info=False,
    ):
        """Draws `n` samples from `exp(s(x)) / Z` by Metropolis-adjusted Langevin.

        `n` chains start from sampling-importance-resampling of Gaussian
        proposal draws (`init="sir"`), which puts them in the modes in about
        the right proportions, then take `n_steps` MALA steps preconditioned
        by the data covariance. During the first `burn_in` steps (default
        half) each chain adapts its step size toward 57.4% acceptance; the
        last state of every chain is returned.

        Args:
            n: int > 0, number of samples (= chains).
            n_steps: int, MALA steps per chain.
            burn_in: int, adaptation steps (default `n_steps // 2`).
            step_size: optional fixed step (in data units, no adaptation).
            init: "sir", "proposal", or an array `(n, *features)`.
            proposal: optional `GaussianProposal` instead of the statistics
                kept from `fit`.
            seed: int or None.
            verbose: 0, 1 or "auto".
            return_info: also return `{"acceptance": ...}`.

        Returns:
            float32 numpy array `(n, *features)`.

        References:
            - [Roberts & Tweedie, 1996](https://doi.org/10.2307/3318418)
        """
        return normalization.sample(
            self,
            n,
            n_steps=n_steps,
            burn_in=burn_in,
            step_size=step_size,
            init=init,
            proposal=proposal,
            seed=seed,
            verbose=verbose,
            return_info=return_info,
        )


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
