import math

import keras
import numpy as np
from keras import ops

from keras_dde.partition.mixture_parameters import check_mixture_parameters


@keras.saving.register_keras_serializable(package="keras_dde")
class GaussianMixtureEnergy(keras.layers.Layer):
    """A known-answer energy: the log-density of a Gaussian mixture plus `offset`.

    `s(x) = offset + log sum_k w_k N(x; mu_k, Sigma_k)`, so the exact
    normaliser is `log Z = offset`. A single component is a quadratic energy
    with covariance `Sigma`. Used to test `log Z` estimators, samplers and
    divergences without training, and as the ground truth of the synthetic
    benchmark.

    Args:
        means: array `(k, d)`.
        covariances: array `(k, d, d)`, or `(k, d)` for diagonal ones.
        weights: array `(k,)` of non-negative mixture weights (normalised
            here; components of weight 0 are dropped), default uniform.
        offset: float, added to the log-density.
        **kwargs: standard `keras.layers.Layer` arguments.

    Example:
    ```python
    from keras_dde.testing import GaussianMixtureEnergy

    energy = GaussianMixtureEnergy(means=[[0.0, 0.0]], covariances=[[1.0, 4.0]],
                                   offset=3.0)
    dde = keras_dde.DDEModel(energy, sigma=0.1)
    dde.build((None, 2))
    energy.exact_log_partition()  # 3.0
    ```
    """

    def __init__(self, means, covariances, weights=None, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        means, covariances, weights, chol = check_mixture_parameters(
            means, covariances, weights
        )
        d = means.shape[1]
        self.means = means
        self.covariances = covariances
        self.mixture_weights = weights
        self.offset = float(offset)
        # Sigma^-1 = U U^T with U = (L^-1)^T for Sigma = L L^T.
        self._whiteners = np.transpose(np.linalg.inv(chol), (0, 2, 1))
        self._log_coefficients = (
            np.log(weights)
            - 0.5 * d * math.log(2 * math.pi)
            - np.sum(np.log(np.diagonal(chol, axis1=1, axis2=2)), axis=1)
            + self.offset
        )

    @property
    def dim(self):
        return self.means.shape[1]

    def call(self, x):
        means = ops.convert_to_tensor(self.means, dtype=x.dtype)
        whiteners = ops.convert_to_tensor(self._whiteners, dtype=x.dtype)
        coefficients = ops.convert_to_tensor(self._log_coefficients, dtype=x.dtype)
        centered = x[:, None, :] - means[None]  # (n, k, d)
        whitened = ops.einsum("nkd,kde->nke", centered, whiteners)
        log_terms = coefficients - 0.5 * ops.sum(ops.square(whitened), axis=-1)
        return ops.logsumexp(log_terms, axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],)

    def exact_log_partition(self):
        """The exact `log Z`: the offset."""
        return self.offset

    def exact_log_prob(self, x):
        """The normalised log-density, float64 numpy."""
        x = np.asarray(x, dtype="float64")
        centered = x[:, None, :] - self.means[None]
        whitened = np.einsum("nkd,kde->nke", centered, self._whiteners)
        log_terms = self._log_coefficients - self.offset - 0.5 * np.sum(whitened**2, -1)
        top = log_terms.max(axis=1, keepdims=True)
        return (top + np.log(np.exp(log_terms - top).sum(1, keepdims=True)))[:, 0]

    def sample_numpy(self, n, seed=None):
        """`n` exact draws, float32 numpy `(n, d)`."""
        rng = np.random.default_rng(seed)
        weights = self.mixture_weights
        component = rng.choice(len(weights), size=n, p=weights)
        chol = np.linalg.cholesky(self.covariances)
        noise = rng.standard_normal((n, self.dim))
        x = self.means[component] + np.einsum("nde,ne->nd", chol[component], noise)
        return x.astype("float32")

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "means": self.means.tolist(),
                "covariances": self.covariances.tolist(),
                "weights": self.mixture_weights.tolist(),
                "offset": self.offset,
            }
        )
        return config


def random_covariance(dim, rng, condition=10.0):
    """A random SPD matrix with eigenvalues log-uniform in [1/sqrt(c), sqrt(c)]."""
    q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    eig = np.exp(rng.uniform(-0.5, 0.5, dim) * math.log(condition))
    return (q * eig) @ q.T
