import math

import keras
import numpy as np
from keras import ops

from keras_dde.partition.whitened_proposal import WhitenedProposal
from keras_dde.utils.validation import check_data
from keras_dde.utils.validation import check_sample_weight


class GaussianProposal(WhitenedProposal):
    """A Gaussian proposal `q = N(mean, covariance)` for importance sampling.

    `log_partition`, `sample` and the divergences draw from `q` and evaluate
    `log q`. All samples are drawn in whitened coordinates `u ~ N(0, I)` and
    mapped to `x = mean + L u`, where `L` is the Cholesky factor of the
    covariance; the samplers run their Markov chains in those coordinates,
    which preconditions them by the data's covariance.

    For a DDE with bandwidth `sigma` trained on data with mean `m` and
    covariance `C`, `from_data(x, sigma)` builds `N(m, C + sigma^2 I)`: the
    exact mean and covariance of the Gaussian KDE the DDE approximates.

    Args:
        mean: array `(d,)`.
        covariance: array `(d, d)` (full) or `(d,)` (diagonal), symmetric
            positive definite.
        scale: float > 0, multiplies the standard deviations (`> 1` gives
            heavier coverage of the tails for importance sampling).

    Example:
    ```python
    from keras_dde.partition import GaussianProposal

    q = GaussianProposal.from_data(x, sigma=0.1)
    x_q = q.sample(1000, seed=0)
    log_q = q.log_prob(x_q)
    ```
    """

    def __init__(self, mean, covariance, scale=1.0):
        mean = np.asarray(mean, dtype="float64").reshape(-1)
        covariance = np.asarray(covariance, dtype="float64")
        dim = mean.shape[0]
        if covariance.shape == (dim,):
            covariance = np.diag(covariance)
        if covariance.shape != (dim, dim):
            raise ValueError(
                f"`covariance` must have shape ({dim}, {dim}) or ({dim},) to match "
                f"`mean` of shape ({dim},); received shape {covariance.shape}."
            )
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(covariance))):
            raise ValueError("`mean` and `covariance` must be finite.")
        if not scale > 0:
            raise ValueError(f"`scale` must be positive; received {scale}.")
        covariance = 0.5 * (covariance + covariance.T) * float(scale) ** 2
        try:
            chol = np.linalg.cholesky(covariance)
        except np.linalg.LinAlgError as error:
            raise ValueError(
                "`covariance` must be symmetric positive definite; add a small "
                "multiple of the identity."
            ) from error
        self.mean = mean
        self.covariance = covariance
        self.cholesky = chol
        self.cholesky_inverse = np.linalg.inv(chol)
        self.log_det_cholesky = float(np.sum(np.log(np.diag(chol))))

    @classmethod
    def from_data(cls, x, sigma=0.0, sample_weight=None, scale=1.0):
        """`N(mean(x), cov(x) + sigma^2 I)`, with samples flattened to vectors."""
        x = check_data(x, "data")
        x = x.reshape(len(x), -1).astype("float64")
        mean, covariance = weighted_moments(x, sample_weight)
        return cls.from_moments(mean, covariance, sigma=sigma, scale=scale)

    @classmethod
    def from_moments(cls, mean, covariance, sigma=0.0, scale=1.0):
        """`N(mean, covariance + sigma^2 I)`; a diagonal `covariance` is `(d,)`."""
        mean = np.asarray(mean, dtype="float64").reshape(-1)
        covariance = np.asarray(covariance, dtype="float64")
        if covariance.ndim == 1:
            covariance = np.diag(covariance)
        dim = mean.shape[0]
        # A floor keeps degenerate data (e.g. constant pixels) well conditioned.
        floor = max(sigma**2, 1e-6 * max(float(np.trace(covariance)) / dim, 1e-12))
        return cls(mean, covariance + floor * np.eye(dim), scale=scale)

    @property
    def dim(self):
        return self.mean.shape[0]

    def _constants(self, dtype):
        return (
            ops.convert_to_tensor(self.mean, dtype=dtype),
            ops.convert_to_tensor(self.cholesky, dtype=dtype),
            ops.convert_to_tensor(self.cholesky_inverse, dtype=dtype),
        )

    def normalizer(self):
        """`log` of the density's normalising constant, `d/2 log 2 pi + log|L|`."""
        return 0.5 * self.dim * math.log(2 * math.pi) + self.log_det_cholesky

    def sample_whitened(self, n, seed=None, dtype="float32"):
        """`n` standard normal draws `u`, shape `(n, d)`."""
        return keras.random.normal((n, self.dim), dtype=dtype, seed=seed)

    def from_whitened(self, u):
        """Maps whitened `u` to `x = mean + L u`, row-wise."""
        mean, chol, _ = self._constants(u.dtype)
        return mean + ops.matmul(u, ops.transpose(chol))

    def to_whitened(self, x):
        """Maps `x` to `u = L^-1 (x - mean)`, row-wise."""
        x = ops.convert_to_tensor(x, dtype="float32")
        mean, _, chol_inv = self._constants(x.dtype)
        return ops.matmul(x - mean, ops.transpose(chol_inv))

    def log_prob_whitened(self, u):
        """`log q(x)` at `x = mean + L u`, shape `(n,)`."""
        return -0.5 * ops.sum(ops.square(u), axis=-1) - self.normalizer()


def weighted_moments(x, sample_weight=None):
    """Mean and covariance (maximum likelihood, float64) of rows of `x`."""
    x = np.asarray(x, dtype="float64").reshape(len(x), -1)
    if sample_weight is None:
        weights = np.full(len(x), 1.0 / len(x))
    else:
        weights = check_sample_weight(sample_weight, len(x)).astype("float64")
        weights = weights / weights.sum()
    mean = weights @ x
    centered = x - mean
    covariance = (centered * weights[:, None]).T @ centered
    return mean, covariance
