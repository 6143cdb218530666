import math

import keras
import numpy as np
from keras import ops

# Above this many features a covariance is kept diagonal, here and in
# `keras_dde.models.state.data_statistics` (which imports it).
MAX_FULL_COVARIANCE_DIM = 1024


@keras.saving.register_keras_serializable(package="keras_dde")
class GaussianLogDensity(keras.layers.Layer):
    """`log N(x; m, C + sigma^2 I)`, the data's Gaussian smoothed at sigma.

    Called on `[x, log_sigma]` with `x` of shape `(batch, d)` and
    `log_sigma` of shape `(batch,)`, returns `(batch,)`:

        -1/2 sum_k [ z_k^2 / (l_k + sigma^2) + log(l_k + sigma^2) + log 2 pi ],
        z = V^T (x - m),  C = V diag(l) V^T,

    and 0 until `set_moments` is called. `MultiScaleDDE` adds it to its
    network: the energy is then a bounded network correction of a proper
    density, so `exp(s)` is integrable (a tanh network alone levels off far
    from the data, where `exp(s)` keeps mass that no proposal near the data
    sees), and at large sigma, where `p_sigma` is nearly this Gaussian, the
    network only has to carry a constant.

    The moments are non-trainable weights, set once from the training data
    and saved with the model; `V` is kept up to 1024 features (above, `C`
    is taken as diagonal).

    Args:
        **kwargs: standard `keras.layers.Layer` arguments.

    Example:
    ```python
    from keras_dde.layers import GaussianLogDensity

    base = GaussianLogDensity()
    base.build((None, 2))
    base.set_moments(x.mean(0), np.cov(x.T))
    log_n = base([x, keras.ops.full((len(x),), np.log(0.1))])
    ```
    """

    def build(self, input_shape):
        dim = int(input_shape[-1])
        self.mean = self.add_weight(
            shape=(dim,), initializer="zeros", trainable=False, name="mean"
        )
        self.eigenvalues = self.add_weight(
            shape=(dim,), initializer="ones", trainable=False, name="eigenvalues"
        )
        self.rotation = None
        if dim <= MAX_FULL_COVARIANCE_DIM:
            self.rotation = self.add_weight(
                shape=(dim, dim), initializer="identity", trainable=False,
                name="rotation",
            )
        # 0 until `set_moments`: the layer then adds nothing.
        self.active = self.add_weight(
            shape=(), initializer="zeros", trainable=False, name="active"
        )

    @property
    def is_set(self):
        return float(ops.convert_to_numpy(self.active)) > 0

    def set_moments(self, mean, covariance):
        """Stores `m` and `C` (`(d, d)`, or `(d,)` for a diagonal)."""
        covariance = np.asarray(covariance, "float64")
        if covariance.ndim == 1 or self.rotation is None:
            diagonal = covariance if covariance.ndim == 1 else np.diag(covariance)
            eigenvalues, rotation = diagonal, None
        else:
            eigenvalues, rotation = np.linalg.eigh(covariance)
        self.mean.assign(np.asarray(mean, "float32"))
        self.eigenvalues.assign(np.maximum(eigenvalues, 0.0).astype("float32"))
        if self.rotation is not None:
            self.rotation.assign(
                np.eye(len(eigenvalues)) if rotation is None else rotation
            )
        self.active.assign(1.0)

    def call(self, inputs):
        x, log_sigma = inputs
        centered = x - ops.cast(self.mean, x.dtype)
        if self.rotation is not None:
            centered = ops.matmul(centered, ops.cast(self.rotation, x.dtype))
        variance = ops.cast(self.eigenvalues, x.dtype)[None, :] + ops.exp(
            2.0 * ops.reshape(log_sigma, (-1, 1))
        )
        log_density = -0.5 * ops.sum(
            ops.square(centered) / variance + ops.log(variance), axis=-1
        ) - 0.5 * centered.shape[-1] * math.log(2.0 * math.pi)
        return ops.cast(self.active, x.dtype) * log_density

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0],)
