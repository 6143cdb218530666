"""The data statistics a DDE keeps, so that it normalises and samples alone.

A streaming, weighted mean and scatter matrix (Chan et al.'s pairwise
update, in float64) over an array or over batches, and, up to
`MAX_MIXTURE_DIM` features, a Gaussian mixture fitted to the data (to at
most `MIXTURE_ROWS` rows: a random subset of an array, the first rows of a
stream of batches), stored in the non-trainable weights of a small layer
that the model owns.
"""

import hashlib

import keras
import numpy as np
from keras import ops

from keras_dde.layers.gaussian_log_density import MAX_FULL_COVARIANCE_DIM
from keras_dde.partition.gaussian_mixture_proposal import DEFAULT_MAX_COMPONENTS
from keras_dde.partition.gaussian_mixture_proposal import GaussianMixtureProposal
from keras_dde.utils.validation import check_data
from keras_dde.utils.validation import check_sample_weight

# Up to this many features the layer also keeps a Gaussian mixture ...
MAX_MIXTURE_DIM = 16
# ... fitted to at most this many rows (the fit is O(rows k d^2)).
MIXTURE_ROWS = 5000


class MomentAccumulator:
    """Streaming weighted mean and scatter matrix (Chan et al.), in float64."""

    def __init__(self, keep_rows=0):
        self.count = 0.0
        self.n = 0
        self.mean = None
        self.scatter = None
        # The first `keep_rows` rows and weights, for a mixture fit.
        self.keep_rows = keep_rows if keep_rows else 0
        self.rows = []

    def update(self, x, weights=None):
        """Adds the rows of `x` `(n, d)` with optional `weights` `(n,)`."""
        kept = sum(len(rows) for rows, _ in self.rows)
        if kept < self.keep_rows and x.shape[1] <= MAX_MIXTURE_DIM:
            take = self.keep_rows - kept
            self.rows.append((x[:take], None if weights is None else weights[:take]))
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

    def merge(self, other):
        """Adds the moments of another accumulator (Chan et al.); not its rows."""
        if other.mean is None:
            return
        if self.mean is None:
            self.count, self.mean, self.scatter = other.count, other.mean, other.scatter
            self.n = other.n
            return
        delta = other.mean - self.mean
        combined = self.count + other.count
        self.scatter = (
            self.scatter
            + other.scatter
            + np.outer(delta, delta) * self.count * other.count / combined
        )
        self.mean = self.mean + delta * other.count / combined
        self.count = combined
        self.n += other.n

    def covariance(self):
        return self.scatter / self.count

    def kept(self):
        """`(x, weights)` of the kept rows (weights None if all 1), or None."""
        if not self.rows:
            return None
        x = np.concatenate([rows for rows, _ in self.rows])
        if all(w is None for _, w in self.rows):
            return x, None
        weights = [np.ones(len(r)) if w is None else w for r, w in self.rows]
        return x, np.concatenate(weights)


def across_processes(accumulator):
    """The moments of every JAX process's data, the same on every process.

    Under `jax.distributed` each process passes `fit` (or
    `set_data_statistics`) its own shard of the data. Every process's count,
    mean and scatter matrix are gathered bit for bit (float64) and merged in
    process order, so every process holds the same global statistics (equal
    to one process on all the data, to float64 rounding). The rows kept for
    the mixture fit are gathered too (at most `keep_rows` per process, a
    random subset with seed 0 of a larger shard). One process: unchanged.
    """
    from keras_dde.utils import processes

    count = processes.process_count()
    if count == 1:
        return accumulator
    dim = accumulator.mean.shape[0]
    header = np.array([accumulator.count, accumulator.n], "float64")
    headers = processes.allgather_exact(header)
    means = processes.allgather_exact(accumulator.mean.astype("float64"))
    scatters = processes.allgather_exact(accumulator.scatter.astype("float64"))
    merged = MomentAccumulator(accumulator.keep_rows)
    for index in range(count):
        part = MomentAccumulator()
        part.count, part.n = float(headers[index][0]), int(headers[index][1])
        part.mean, part.scatter = means[index], scatters[index]
        merged.merge(part)
    kept = accumulator.kept()
    limit = accumulator.keep_rows
    rows = np.zeros((0, dim), "float32")
    weights = None
    if kept is not None and limit:
        rows, weights = kept
        if len(rows) > limit:
            chosen = np.sort(
                np.random.default_rng(0).choice(len(rows), limit, replace=False)
            )
            rows = rows[chosen]
            weights = None if weights is None else weights[chosen]
    lengths = processes.allgather_exact(np.array([len(rows)], "int32"))[:, 0]
    weighted = processes.allgather_exact(np.array([weights is not None], "int32"))
    longest = int(lengths.max())
    if longest == 0:
        return merged
    padded = np.zeros((longest, dim), "float64")
    padded[: len(rows)] = rows
    padded_weights = np.ones(longest, "float64")
    if weights is not None:
        padded_weights[: len(rows)] = weights
    all_rows = processes.allgather_exact(padded)
    all_weights = processes.allgather_exact(padded_weights)
    dtype = kept[0].dtype if kept is not None else np.dtype("float32")
    merged.rows = [
        (
            all_rows[index, :length].astype(dtype),
            all_weights[index, :length] if weighted.any() else None,
        )
        for index, length in enumerate(lengths)
        if length
    ]
    return merged


def is_batch_iterable(data):
    """True for datasets and other iterables of batches, False for arrays."""
    if isinstance(data, (np.ndarray, list, tuple)):
        return False
    if hasattr(data, "shape") and hasattr(data, "dtype"):
        return False
    return hasattr(data, "__iter__") or hasattr(data, "__getitem__")


def moments_of(
    data, sample_weight=None, feature_shape=None, before_first=None, keep_rows=0
):
    """The moments of `data`, as a `MomentAccumulator`.

    Args:
        data: array `(n, *features)`, or an iterable of batches (`x` or
            `(x, y[, sample_weight])`), e.g. a `tf.data.Dataset` or a
            `keras.utils.PyDataset` (one pass).
        sample_weight: optional weights `(n,)`, for array `data` only.
        feature_shape: the per-sample shape the data must have, or None.
        before_first: optional function called with the first checked
            array (e.g. to build a model for its shape).
        keep_rows: int, the accumulator also keeps the data's rows, for a
            mixture fit: all of an array (a reference, no copy), the first
            `keep_rows` of a stream of batches.
    """
    accumulator = MomentAccumulator(keep_rows)
    if not is_batch_iterable(data):
        x = check_data(data, "data", feature_shape)
        if before_first is not None:
            before_first(x)
        weights = None
        if sample_weight is not None:
            weights = check_sample_weight(sample_weight, len(x))
        accumulator.update(x.reshape(len(x), -1), weights)
        if keep_rows and accumulator.rows:
            accumulator.rows = [(x.reshape(len(x), -1), weights)]
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
    Up to `MAX_MIXTURE_DIM` features, `mixture_means` `(K, d)`,
    `mixture_covariances` `(K, d, d)` and `mixture_weights` `(K,)` (all 0:
    none fitted) keep a `GaussianMixtureProposal` fitted to the data with
    `sigma=0`, `K = 5` components at most, padded; `mixture(sigma)` adds the
    KDE's `sigma^2 I` at use time. Files saved before these weights existed
    load with no mixture.

    Example:
    ```python
    from keras_dde.models.state.data_statistics import DataStatistics

    stats = DataStatistics()
    stats.build((None, 2))
    stats.update(x)
    stats.moments()  # (mean, covariance) as float32 numpy
    ```
    """

    # Digest of the rows the stored mixture was fitted to (None: unknown).
    _mixture_fingerprint = None

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
        self.mixture_means = self.mixture_covariances = self.mixture_weights = None
        if dim > MAX_MIXTURE_DIM:
            return
        k = DEFAULT_MAX_COMPONENTS
        self.mixture_means = self.add_weight(
            shape=(k, dim), initializer="zeros", trainable=False, name="mixture_means"
        )
        self.mixture_covariances = self.add_weight(
            shape=(k, dim, dim),
            initializer="zeros",
            trainable=False,
            name="mixture_covariances",
        )
        self.mixture_weights = self.add_weight(
            shape=(k,), initializer="zeros", trainable=False, name="mixture_weights"
        )

    def load_own_variables(self, store):
        self._mixture_fingerprint = None
        # Files saved before the mixture weights existed hold only the first
        # three: load them and keep "no mixture".
        if len(store.keys()) == 3 and self.mixture_weights is not None:
            for index, variable in enumerate((self.mean, self.covariance, self.count)):
                variable.assign(store[f"{index}"])
            return
        super().load_own_variables(store)

    @property
    def dim(self):
        return int(self.mean.shape[0])

    @property
    def recorded(self):
        """True once statistics have been stored."""
        return float(ops.convert_to_numpy(self.count)) > 0

    def update(self, data, sample_weight=None, feature_shape=None):
        """Replaces the statistics by those of `data` (see `moments_of`)."""
        keep = MIXTURE_ROWS if self.mixture_weights is not None else 0
        self.assign_moments(
            moments_of(data, sample_weight, feature_shape, keep_rows=keep)
        )

    def assign_moments(self, accumulator):
        """Stores the moments of a `MomentAccumulator` (and, when it kept
        rows, a mixture fitted to them; otherwise the mixture is cleared).

        Under several JAX processes, the moments of every process's data
        (`across_processes`)."""
        accumulator = across_processes(accumulator)
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
        if self.mixture_weights is not None:
            kept = accumulator.kept()
            fingerprint = None if kept is None else _fingerprint(*kept)
            # The fit is a deterministic function of the kept rows (seed 0);
            # refitting on every `fit` call of the same data cost 0.15 s, 70%
            # of a 1,000-step epoch run of a small DDE.
            if fingerprint is not None and fingerprint == self._mixture_fingerprint:
                return
            self.assign_mixture(None if kept is None else self.fit_mixture(*kept))
            self._mixture_fingerprint = fingerprint

    @staticmethod
    def fit_mixture(x, sample_weight=None, sigma=0.0):
        """`GaussianMixtureProposal.from_data` on at most `MIXTURE_ROWS`
        random rows of `x`, with a fixed seed."""
        return GaussianMixtureProposal.from_data(
            x,
            sigma=sigma,
            sample_weight=sample_weight,
            seed=0,
            max_samples=MIXTURE_ROWS,
        )

    def assign_mixture(self, proposal):
        """Stores a `GaussianMixtureProposal` (None clears it)."""
        self._mixture_fingerprint = None
        if proposal is None:
            self.mixture_weights.assign(np.zeros(self.mixture_weights.shape, "float32"))
            return
        means, covariances, weights = proposal.padded(self.mixture_weights.shape[0])
        self.mixture_means.assign(means.astype("float32"))
        self.mixture_covariances.assign(covariances.astype("float32"))
        self.mixture_weights.assign(weights.astype("float32"))

    def mixture(self, sigma=0.0):
        """The stored mixture with covariances `+ sigma^2 I`, or None."""
        if self.mixture_weights is None:
            return None
        weights = ops.convert_to_numpy(self.mixture_weights)
        if not weights.sum() > 0:
            return None
        return GaussianMixtureProposal.from_components(
            ops.convert_to_numpy(self.mixture_means),
            ops.convert_to_numpy(self.mixture_covariances),
            weights,
            sigma=float(sigma),
        )

    def moments(self):
        """`(mean, covariance)` as float32 numpy arrays."""
        return (
            ops.convert_to_numpy(self.mean),
            ops.convert_to_numpy(self.covariance),
        )


def _fingerprint(x, sample_weight=None):
    """A digest of the rows (and weights) a mixture is fitted to."""
    digest = hashlib.blake2b(np.ascontiguousarray(x).tobytes(), digest_size=16)
    digest.update(str(x.shape).encode())
    if sample_weight is not None:
        digest.update(np.ascontiguousarray(sample_weight).tobytes())
    return digest.hexdigest()
