"""KL divergences between densities given by DDEs or by samples, and entropy.

`kl_divergence(p, q)` estimates `KL(p || q) = E_p[log p(x) - log q(x)]` by Monte
Carlo over draws from `p`, with the normalised `log_prob` of each DDE (so both
need a `log Z`: cached from `log_partition`, or estimated on first use from
the data statistics they keep from `fit`). When `p` is given only by samples,
its entropy is estimated by the Kozachenko-Leonenko nearest-neighbour
estimator, `KL = -H(p) - E_p[log q]`.
"""

import math

import numpy as np
from scipy.special import digamma
from scipy.special import gammaln

from keras_dde.models.dde_model import DDEModel
from keras_dde.utils.validation import check_data
from keras_dde.utils.validation import check_positive_int


def kl_divergence(
    p,
    q,
    n_samples=4000,
    samples=None,
    n_neighbors=5,
    seed=None,
    sample_kwargs=None,
    return_stderr=False,
):
    """Estimates `KL(p || q)` in nats.

    Args:
        p: a `keras_dde.DDEModel`, or an array `(n, d)` of samples from `p`.
        q: a `keras_dde.DDEModel` with the same number of features.
        n_samples: draws from a DDE `p` (by `p.sample`, MALA) when `samples`
            is None.
        samples: optional array of draws from `p` to use instead of sampling
            (e.g. held-out data, if `p` was trained on that distribution).
        n_neighbors: k of the nearest-neighbour entropy estimator, when `p`
            is samples.
        seed: int or None, for `p.sample`.
        sample_kwargs: optional dict of further `p.sample` arguments.
        return_stderr: also return the Monte Carlo standard error of the
            average (not including the error of the `log Z` estimates or of
            the entropy estimator's bias).

    Returns:
        float, or `(kl, stderr)` with `return_stderr`.

    Example:
    ```python
    dde_p, dde_q = (keras_dde.recipes.build_multiscale_dde(2, sigma=0.2)
                    for _ in range(2))
    dde_p.fit(keras_dde.datasets.toy2d("8gaussians", 2048, seed=0), epochs=20)
    dde_q.fit(keras_dde.datasets.toy2d("rings", 2048, seed=0), epochs=20)
    kl = keras_dde.information.kl_divergence(dde_p, dde_q, n_samples=1000, seed=0)
    kl_data = keras_dde.information.kl_divergence(x_test, dde_q)
    ```

    References:
        - [Kozachenko & Leonenko, 1987](http://mi.mathnet.ru/ppi797)
        - [Wang, Kulkarni & Verdu, 2009](https://doi.org/10.1109/TIT.2009.2016060)
    """
    if not isinstance(q, DDEModel):
        raise TypeError(
            "`q` must be a `keras_dde.DDEModel` (a density we can evaluate); "
            f"received {type(q).__name__}. To compare with samples of q, fit a "
            "DDE (or `keras_dde.estimators.DDEDensity`) to them first."
        )
    if isinstance(p, DDEModel):
        _check_same_dimension(p, q)
        if samples is None:
            n_samples = check_positive_int(n_samples, "n_samples")
            samples = p.sample(n_samples, seed=seed, **(sample_kwargs or {}))
        else:
            samples = check_data(samples, "samples", p.feature_shape)
        terms = p.log_prob(samples).astype("float64") - q.log_prob(samples)
        kl = float(np.mean(terms))
        stderr = float(np.std(terms, ddof=1) / math.sqrt(len(terms)))
    else:
        if samples is not None:
            raise ValueError("Pass `samples` only when `p` is a DDEModel.")
        x = check_data(p, "p", None)
        if q.feature_shape is not None and tuple(x.shape[1:]) != tuple(q.feature_shape):
            raise ValueError(
                f"The samples of `p` have per-sample shape {tuple(x.shape[1:])}, but "
                f"`q` models shape {tuple(q.feature_shape)}: a divergence needs "
                "densities over the same space."
            )
        n_neighbors = check_positive_int(n_neighbors, "n_neighbors")
        cross = -q.log_prob(x).astype("float64")
        entropy = knn_entropy(x.reshape(len(x), -1), n_neighbors)
        kl = float(np.mean(cross) - entropy)
        stderr = float(np.std(cross, ddof=1) / math.sqrt(len(x)))
    if return_stderr:
        return kl, stderr
    return kl


def knn_entropy(x, n_neighbors=5):
    """Kozachenko-Leonenko estimate of the differential entropy of samples `x`.

    `H ~ psi(n) - psi(k) + log V_d + d * mean(log r_k)`, with `r_k` each
    point's distance to its k-th nearest neighbour and `V_d` the volume of
    the unit d-ball.

    Args:
        x: array `(n, d)`.
        n_neighbors: k.

    Returns:
        float, nats.
    """
    from sklearn.neighbors import NearestNeighbors

    x = check_data(x, "x").reshape(len(x), -1).astype("float64")
    n, d = x.shape
    if n <= n_neighbors:
        raise ValueError(
            f"The entropy estimator needs more than n_neighbors={n_neighbors} "
            f"samples; received {n}."
        )
    distances, _ = NearestNeighbors(n_neighbors=n_neighbors + 1).fit(x).kneighbors(x)
    radius = distances[:, -1]
    if np.any(radius <= 0):
        raise ValueError(
            "The samples contain duplicates, so nearest-neighbour distances are "
            "zero; the entropy estimator needs continuous data."
        )
    log_unit_ball = 0.5 * d * math.log(math.pi) - gammaln(0.5 * d + 1)
    return float(
        digamma(n) - digamma(n_neighbors) + log_unit_ball + d * np.mean(np.log(radius))
    )


def _check_same_dimension(p, q):
    if p.feature_shape is None or q.feature_shape is None:
        raise ValueError("Both DDEs must be built (trained) before comparing them.")
    if tuple(p.feature_shape) != tuple(q.feature_shape):
        raise ValueError(
            f"`p` models inputs of shape {tuple(p.feature_shape)} and `q` of shape "
            f"{tuple(q.feature_shape)}: a divergence needs densities over the same "
            "space."
        )
