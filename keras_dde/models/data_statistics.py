"""The data statistics a DDE keeps, so that it normalises and samples alone.

A streaming, weighted mean and scatter matrix (Chan et al.'s pairwise
update, in float64) over an array or over batches, stored in the
non-trainable weights of a small layer that the model owns.
"""

import keras
import numpy as np
from keras import ops

from keras_dde.utils.validation import check_data
from keras_dde.utils.validation import check_sample_weight

# Above this many features the covariance is kept diagonal.
MAX_FULL_COVARIANCE_DIM = 1024


class MomentAccumulator:
    """Streaming weighted mean and scatter matrix (Chan et al.), in float64."""

    def __init__(self):
        self.count = 0.0
        self.n = 0
        self.mean = None
        self.scatter = None

    def update(self, x, weights=None):
        """Adds the rows of `x` `(n, d)` with optional `weights` `(n,)`."""
        x = x.astype("float64")
        if weights is None:
            weights = np.ones(len(x))
        total = weights.sum()
        if total <= 0:
            return
        mean = weights @ x / total
        centered = x - mean
        scatter = (centered * weights[:, None]).T @ centered
        if self.mean is None:
            self.count, self.mean, self.scatter = total, mean, scatter
        else:
            delta = mean - self.mean
            combined = self.count + total
            self.scatter = (
                self.scatter
                + scatter
                + np.outer(delta, delta) * self.count * total / combined
            )
            self.mean = self.mean + delta * total / combined
            self.count = combined
        self.n += len(x)

    def covariance(self):
        return self.scatter / self.count


def is_batch_iterable(data):
    """True for datasets and other iterables of batches, False for arrays."""
    if isinstance(data, (np.ndarray, list, tuple)):
        return False
    if hasattr(data, "shape") and hasattr(data, "dtype"):
        return False
    return hasattr(data, "__iter__") or hasattr(data, "__getitem__")


def moments_of(data, sample_weight=None, feature_shape=None, before_first=None):
    """The moments of `data`, as a `MomentAccumulator`.

    Args:
        data: array `(n, *features)`, or an iterable of batches (`x` or
            `(x, y[, sample_weight])`), e.g. a `tf.data.Dataset` or a
            `keras.utils.PyDataset` (one pass).
        sample_weight: optional weights `(n,)`, for array `data` only.
        feature_shape: the per-sample shape the data must have, or None.
        before_first: optional function called with the first checked
            array (e.g. to build a model for its shape).
    """
    accumulator = MomentAccumulator()
    if not is_batch_iterable(data):
        x = check_data(data, "data", feature_shape)
        if before_first is not None:
            before_first(x)
        weights = None
        if sample_weight is not None:
            weights = check_sample_weight(sample_weight, len(x))
        accumulator.update(x.reshape(len(x), -1), weights)
        return accumulator
    if sample_weight is not None:
        raise ValueError(
            "Pass `sample_weight` only with array `data`; a dataset's "
            "batches may carry their own weights as `(x, y, sample_weight)`."
        )
    if isinstance(data, keras.utils.PyDataset):
        batches = (data[i] for i in range(len(data)))
    else:
        batches = iter(data)
    for batch in batches:
        x, _, weights = keras.utils.unpack_x_y_sample_weight(batch)
        x = check_data(ops.convert_to_numpy(x), "data", feature_shape)
        if before_first is not None and accumulator.n == 0:
            before_first(x)
        if weights is not None:
            weights = check_sample_weight(ops.convert_to_numpy(weights), len(x))
        accumulator.update(x.reshape(len(x), -1), weights)
    if accumulator.count == 0:
        raise ValueError("`data` yielded no batches.")
    return accumulator


@keras.saving.register_keras_serializable(package="keras_dde")
class DataStatistics(keras.layers.Layer):
    """Mean, covariance and size of a data set, as non-trainable weights.

    Built for `(batch, n_features)`: the weights are `mean` `(d,)`,
    `covariance` `(d, d)` (or `(d,)`, diagonal, above
    `MAX_FULL_COVARIANCE_DIM` features) and `count`, and save with the model.

    Example:
    ```python
    stats = DataStatistics()
    stats.build((None, 2))
    stats.update(x)
    stats.moments()  # (mean, covariance) as float32 numpy
    ```
    """

    def build(self, input_shape):
        dim = int(input_shape[-1])
        cov_shape = (dim, dim) if dim <= MAX_FULL_COVARIANCE_DIM else (dim,)
        self.mean = self.add_weight(
            shape=(dim,), initializer="zeros", trainable=False, name="data_mean"
        )
        self.covariance = self.add_weight(
            shape=cov_shape,
            initializer="zeros",
            trainable=False,
            name="data_covariance",
        )
        self.count = self.add_weight(
            shape=(), initializer="zeros", trainable=False, name="data_count"
        )

    @property
    def dim(self):
        return int(self.mean.shape[0])

    @property
    def recorded(self):
        """True once statistics have been stored."""
        return float(ops.convert_to_numpy(self.count)) > 0

    def update(self, data, sample_weight=None, feature_shape=None):
        """Replaces the statistics by those of `data` (see `moments_of`)."""
        self.assign_moments(moments_of(data, sample_weight, feature_shape))

    def assign_moments(self, accumulator):
        """Stores the moments of a `MomentAccumulator`."""
        if accumulator.mean.shape[0] != self.dim:
            raise ValueError(
                f"`data` has {accumulator.mean.shape[0]} features; the model "
                f"has {self.dim}."
            )
        covariance = accumulator.covariance()
        if len(self.covariance.shape) == 1:
            covariance = np.diag(covariance)
        self.mean.assign(accumulator.mean.astype("float32"))
        self.covariance.assign(covariance.astype("float32"))
        self.count.assign(float(accumulator.n))

    def moments(self):
        """`(mean, covariance)` as float32 numpy arrays."""
        return (
            ops.convert_to_numpy(self.mean),
            ops.convert_to_numpy(self.covariance),
        )
