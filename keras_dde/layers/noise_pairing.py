import keras
from keras import ops

from keras_dde import backend
from keras_dde.utils.seed_state import SavesSeedState
from keras_dde.utils.validation import check_sigma


@keras.saving.register_keras_serializable(package="keras_dde")
class NoisePairing(SavesSeedState, keras.layers.Layer):
    """Pairs each sample with a Gaussian-corrupted copy of itself.

    Returns `(x + sigma * eps, eps)` with `eps ~ N(0, I)`, in training and in
    inference alike: unlike `keras.layers.GaussianNoise`, the corruption is
    the point, since denoising score matching needs both the noisy sample and
    the noise that made it.

    Args:
        sigma: float, standard deviation of the Gaussian corruption, or
            None: then every call passes `sigma` (a model that owns its noise
            level, as `DDEModel` does with `sigma_variable`, keeps it in one
            place that way).
        seed: int or None, seed of the layer's `keras.random.SeedGenerator`.
        **kwargs: standard `keras.layers.Layer` arguments.

    Example:
    ```python
    pairing = keras_dde.layers.NoisePairing(sigma=0.1, seed=0)
    noisy, eps = pairing(np.zeros((4, 2), "float32"))
    ```

    The noise stream's state is saved with the layer, so training resumed
    from a `.keras` file draws the same noise as an uninterrupted run.

    References:
        - [Vincent, 2011](https://doi.org/10.1162/NECO_a_00142)
    """

    def __init__(self, sigma=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.sigma = None if sigma is None else check_sigma(sigma)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, sigma=None):
        """Returns `(inputs + sigma * eps, eps)`.

        Args:
            inputs: a tensor.
            sigma: optional scalar tensor overriding the layer's `sigma`
                for this call (e.g. a model's annealed noise level).
        """
        sigma = self.sigma if sigma is None else sigma
        if sigma is None:
            raise ValueError(
                "This `NoisePairing` has no `sigma` of its own: pass "
                "`sigma=` to the call, or create the layer with a `sigma`."
            )
        # Distinct noise on every tf.distribute replica (see keras_dde.backend).
        eps = backend.normal(
            ops.shape(inputs), dtype=inputs.dtype, seed=self.seed_generator
        )
        return inputs + sigma * eps, eps

    def compute_output_shape(self, input_shape):
        return input_shape, input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"sigma": self.sigma, "seed": self.seed})
        return config
