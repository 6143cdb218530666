import math
import numbers

import keras
import numpy as np
from keras import ops

from keras_dde.partition.gaussian_proposal import GaussianProposal
from keras_dde.partition.gaussian_proposal import weighted_moments
from keras_dde.partition.mixture_parameters import check_mixture_parameters
from keras_dde.partition.whitened_proposal import WhitenedProposal
from keras_dde.utils.validation import check_data
from keras_dde.utils.validation import check_positive_int
from keras_dde.utils.validation import check_sample_weight

# `n_components="auto"` picks by BIC among 1..DEFAULT_MAX_COMPONENTS.
DEFAULT_MAX_COMPONENTS = 5
# `from_data` fits to at most this many rows.
DEFAULT_MAX_SAMPLES = 20_000


class GaussianMixtureProposal(WhitenedProposal):
    """A Gaussian mixture proposal `q = sum_k w_k N(mu_k, Sigma_k)`.

    A drop-in for `GaussianProposal` where the data are multimodal: one
    Gaussian over two separated modes puts most of its mass between them,
    and importance sampling from it has weights of huge (in high dimension,
    practically infinite) variance. A mixture fitted to the data covers
    every mode and keeps the weights `exp(s) / q` nearly constant.

    It has the same interface. The whitened coordinates are those of the
    mixture's overall moments, `u = L^-1 (x - m)` with `m = sum_k w_k mu_k`
    and `L L^T = sum_k w_k (Sigma_k + (mu_k - m)(mu_k - m)^T)`, so that
    samplers keep their preconditioning. In them component `k` is
    `N(a_k, B_k B_k^T)` with `a_k = L^-1 (mu_k - m)` and `B_k = L^-1 C_k`
    (lower triangular, for `Sigma_k = C_k C_k^T`), and, as for
    `GaussianProposal`, `log_prob_whitened(u)` is the log-density of `x(u)`::

        log q(x(u)) = logsumexp_k [log w_k - d/2 log 2 pi - log|L| - log|B_k|
                                   - |B_k^-1 (u - a_k)|^2 / 2].

    Args:
        means: array `(k, d)`.
        covariances: array `(k, d, d)`, or `(k, d)` for diagonal ones, each
            symmetric positive definite.
        weights: array `(k,)` of non-negative mixture weights (normalised
            here; components of weight 0 are dropped), default uniform.

    Example:
    ```python
    from keras_dde.partition import GaussianMixtureProposal

    q = GaussianMixtureProposal.from_data(x, sigma=0.1, seed=0)
    x_q = q.sample(1000, seed=0)
    log_q = q.log_prob(x_q)
    ```
    """

    def __init__(self, means, covariances, weights=None):
        means, covariances, weights, chols = check_mixture_parameters(
            means, covariances, weights
        )
        d = means.shape[1]
        self.means = means
        self.covariances = covariances
        self.mixture_weights = weights
        mean = weights @ means
        centered = means - mean
        overall = np.einsum("k,kde->de", weights, covariances) + (
            centered * weights[:, None]
        ).T @ centered
        self.frame = GaussianProposal(mean, overall)
        inv = self.frame.cholesky_inverse
        # Components in whitened coordinates: N(a_k, B_k B_k^T), B_k = L^-1 C_k.
        self._centers = centered @ inv.T
        blocks = np.einsum("de,kef->kdf", inv, chols)
        self._block_inverses = np.linalg.inv(blocks)
        self._blocks = blocks
        self._log_coefficients = (
            np.log(weights)
            - 0.5 * d * math.log(2 * math.pi)
            - self.frame.log_det_cholesky
            - np.sum(np.log(np.diagonal(blocks, axis1=1, axis2=2)), axis=1)
        )

    @classmethod
    def from_data(
        cls,
        x,
        sigma=0.0,
        n_components="auto",
        sample_weight=None,
        seed=None,
        widen=1.1,
        max_components=DEFAULT_MAX_COMPONENTS,
        max_samples=DEFAULT_MAX_SAMPLES,
    ):
        """Fits a mixture to `x` with `sklearn.mixture.GaussianMixture`.

        The fitted covariances become `widen * Sigma_k + sigma^2 I`: the
        factor gives the proposal slightly heavier tails than the data (an
        importance sampler needs `q` to cover the target, not to match it),
        and `sigma^2 I` is the KDE's smoothing, as in
        `GaussianProposal.from_data`.

        Args:
            x: array `(n, *features)`, flattened to vectors.
            sigma: float >= 0, the DDE's bandwidth.
            n_components: int, or "auto" for the lowest BIC among
                `1..max_components` full-covariance mixtures.
            sample_weight: optional `(n,)` non-negative weights; the mixture
                is fitted to a weighted resample of `x` of the same size.
            seed: int or None, for the resample and sklearn's k-means start.
            widen: float >= 1, the covariance factor.
            max_components: int, the largest mixture "auto" tries.
            max_samples: int, the mixture is fitted to a random subset of at
                most this many rows (the fit is O(n k d^2) per iteration).
        """
        from sklearn.mixture import GaussianMixture
        from threadpoolctl import threadpool_limits

        x = check_data(x, "x")
        x = x.reshape(len(x), -1).astype("float64")
        if not (isinstance(sigma, numbers.Real) and sigma >= 0):
            raise ValueError(f"`sigma` must be a number >= 0; received {sigma!r}.")
        if not (isinstance(widen, numbers.Real) and widen >= 1):
            raise ValueError(f"`widen` must be a number >= 1; received {widen!r}.")
        if isinstance(n_components, str):
            if n_components != "auto":
                raise ValueError(
                    "`n_components` must be a positive int or 'auto'; received "
                    f"{n_components!r}."
                )
            max_components = check_positive_int(max_components, "max_components")
            candidates = range(1, min(max_components, len(x)) + 1)
        else:
            candidates = [check_positive_int(n_components, "n_components")]
            if candidates[0] > len(x):
                raise ValueError(
                    f"`n_components` ({candidates[0]}) exceeds the number of "
                    f"samples in `x` ({len(x)})."
                )
        rng = np.random.default_rng(seed)
        size = min(len(x), check_positive_int(max_samples, "max_samples"))
        if sample_weight is not None:
            weights = check_sample_weight(sample_weight, len(x)).astype("float64")
            x = x[rng.choice(len(x), size=size, p=weights / weights.sum())]
        elif size < len(x):
            x = x[rng.choice(len(x), size=size, replace=False)]
        _, covariance = weighted_moments(x)
        dim = x.shape[1]
        # The floor of `GaussianProposal.from_moments`, for degenerate data.
        reg = 1e-6 * max(float(np.trace(covariance)) / dim, 1e-12)
        state = int(rng.integers(2**31 - 1))
        fits = []
        # Small fits: BLAS and OpenMP threads only contend with the backend's
        # own pools (measured on 2 cores, d=16: 5 s threaded, 0.2 s not).
        with threadpool_limits(1):
            for k in candidates:
                gmm = GaussianMixture(
                    k, covariance_type="full", reg_covar=reg, random_state=state
                ).fit(x)
                fits.append((gmm.bic(x) if len(candidates) > 1 else 0.0, k, gmm))
        gmm = min(fits, key=lambda fit: fit[:2])[2]
        covariances = widen * gmm.covariances_ + (sigma**2 + reg) * np.eye(dim)
        return cls(gmm.means_, covariances, gmm.weights_)

    @classmethod
    def from_components(cls, means, covariances, weights, sigma=0.0):
        """`sum_k w_k N(mu_k, Sigma_k + sigma^2 I)`: stored components (e.g.
        the padded arrays of `padded`, kept as model weights and fitted with
        `sigma=0`) plus the KDE's smoothing at the model's current sigma."""
        covariances = np.asarray(covariances, dtype="float64")
        dim = np.shape(means)[-1]
        if covariances.ndim == 2:
            covariances = np.stack([np.diag(c) for c in covariances])
        return cls(means, covariances + sigma**2 * np.eye(dim), weights)

    @property
    def dim(self):
        return self.means.shape[1]

    @property
    def n_components(self):
        return self.means.shape[0]

    # The whitening frame: the mixture's overall mean and covariance.
    mean = property(lambda self: self.frame.mean)
    covariance = property(lambda self: self.frame.covariance)
    cholesky = property(lambda self: self.frame.cholesky)
    cholesky_inverse = property(lambda self: self.frame.cholesky_inverse)
    log_det_cholesky = property(lambda self: self.frame.log_det_cholesky)

    def from_whitened(self, u):
        """Maps whitened `u` to `x = mean + L u`, row-wise."""
        return self.frame.from_whitened(u)

    def to_whitened(self, x):
        """Maps `x` to `u = L^-1 (x - mean)`, row-wise."""
        return self.frame.to_whitened(x)

    def sample_whitened(self, n, seed=None, dtype="float32"):
        """`n` draws of `u = L^-1 (x - mean)` for `x ~ q`, shape `(n, d)`."""
        if not isinstance(seed, keras.random.SeedGenerator):
            seed = keras.random.SeedGenerator(seed)
        logits = ops.convert_to_tensor(np.log(self.mixture_weights)[None], "float32")
        component = keras.random.categorical(logits, n, dtype="int32", seed=seed)[0]
        noise = keras.random.normal((n, self.dim), dtype=dtype, seed=seed)
        centers = ops.take(ops.convert_to_tensor(self._centers, dtype), component, 0)
        blocks = ops.take(ops.convert_to_tensor(self._blocks, dtype), component, 0)
        return centers + ops.einsum("nde,ne->nd", blocks, noise)

    def _whitened_residuals(self, u):
        """`z_nk = B_k^-1 (u_n - a_k)`, shape `(n, k, d)`."""
        centers = ops.convert_to_tensor(self._centers, u.dtype)
        inverses = ops.convert_to_tensor(self._block_inverses, u.dtype)
        return ops.einsum("kde,nke->nkd", inverses, u[:, None, :] - centers[None])

    def log_prob_whitened(self, u):
        """`log q(x)` at `x = mean + L u`, shape `(n,)`."""
        z = self._whitened_residuals(u)
        coefficients = ops.convert_to_tensor(self._log_coefficients, u.dtype)
        return ops.logsumexp(coefficients - 0.5 * ops.sum(ops.square(z), -1), axis=-1)

    def grad_log_prob_whitened(self, u):
        """The u-gradient of `log_prob_whitened`, `-sum_k r_k B_k^-T z_k`."""
        z = self._whitened_residuals(u)
        coefficients = ops.convert_to_tensor(self._log_coefficients, u.dtype)
        logits = coefficients - 0.5 * ops.sum(ops.square(z), -1)
        resp = ops.exp(logits - ops.logsumexp(logits, axis=-1, keepdims=True))
        inverses = ops.convert_to_tensor(self._block_inverses, u.dtype)
        return -ops.einsum("nk,kde,nkd->ne", resp, inverses, z)

    def padded(self, n_components):
        """`(means, covariances, weights)` padded to `n_components` with
        weight-0 identity components: fixed shapes, for non-trainable model
        weights; `GaussianMixtureProposal(*padded)` rebuilds this proposal."""
        n_components = check_positive_int(n_components, "n_components")
        k, d = self.means.shape
        if n_components < k:
            raise ValueError(
                f"`n_components` ({n_components}) is below the proposal's {k}."
            )
        extra = n_components - k
        means = np.concatenate([self.means, np.zeros((extra, d))])
        eye = np.broadcast_to(np.eye(d), (extra, d, d))
        covariances = np.concatenate([self.covariances, eye])
        weights = np.concatenate([self.mixture_weights, np.zeros(extra)])
        return means, covariances, weights

    def get_config(self):
        return {
            "means": self.means.tolist(),
            "covariances": self.covariances.tolist(),
            "weights": self.mixture_weights.tolist(),
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
