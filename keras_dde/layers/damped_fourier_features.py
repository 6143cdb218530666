import keras
from keras import ops

from keras_dde.utils.validation import check_positive_int


@keras.saving.register_keras_serializable(package="keras_dde")
class DampedFourierFeatures(keras.layers.Layer):
    """Random Fourier features of `x`, damped as smoothing at sigma damps them.

    Called on `[x, log_sigma]`, returns `(batch, 2 * units)`: `sin(x b_j) w_j`
    and `cos(x b_j) w_j` with fixed frequencies `b_j ~ N(0, scale^2 I)` and
    `w_j = exp(-sigma^2 |b_j|^2 / 2)`, the factor by which convolution with
    `N(0, sigma^2 I)` scales the Fourier mode `b_j`. A tanh MLP learns high
    frequencies slowly (spectral bias; Tancik et al., 2020), so on its own it
    smooths the fine detail of a small-sigma KDE; the features supply it, and
    the damping switches them off at the large noise levels, whose smooth
    densities fix the modes' relative masses.

    Args:
        units: int, number of frequencies.
        scale: float > 0, standard deviation of each frequency component,
            in inverse units of `x`.
        seed: int or None, seeds the frequencies.
        **kwargs: standard `keras.layers.Layer` arguments.

    Example:
    ```python
    from keras_dde.layers import DampedFourierFeatures
    x, log_sigma = keras.Input((2,)), keras.Input((1,))
    features = DampedFourierFeatures(64, 5.0)([x, log_sigma])  # (batch, 128)
    ```

    References:
        - [Tancik et al., 2020](https://arxiv.org/abs/2006.10739)
    """

    def __init__(self, units=64, scale=5.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.units = check_positive_int(units, "units")
        if not (isinstance(scale, (int, float)) and scale > 0):
            raise ValueError(f"`scale` must be a number > 0; received {scale!r}.")
        self.scale = float(scale)
        self.seed = seed

    def build(self, input_shape):
        self.frequencies = self.add_weight(
            name="frequencies",
            shape=(input_shape[0][-1], self.units),
            initializer=keras.initializers.RandomNormal(
                stddev=self.scale, seed=self.seed
            ),
            trainable=False,
        )

    def call(self, inputs):
        x, log_sigma = inputs
        phase = ops.matmul(x, ops.cast(self.frequencies, x.dtype))
        norms = ops.sum(ops.square(ops.cast(self.frequencies, x.dtype)), axis=0)
        damping = ops.exp(-0.5 * ops.exp(2.0 * log_sigma) * norms[None, :])
        return ops.concatenate(
            [ops.sin(phase) * damping, ops.cos(phase) * damping], axis=-1
        )

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], 2 * self.units)

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units, "scale": self.scale, "seed": self.seed})
        return config
