"""Validation of Gaussian mixture parameters `(means, covariances, weights)`.

One check for every place that takes a mixture: the importance-sampling
proposal (`GaussianMixtureProposal`) and the known-answer energy of the tests
(`keras_dde.testing.GaussianMixtureEnergy`).
"""

import numpy as np


def check_mixture_parameters(means, covariances, weights=None):
    """Checks and normalises `sum_k w_k N(mu_k, Sigma_k)`.

    Args:
        means: array `(k, d)`.
        covariances: array `(k, d, d)`, or `(k, d)` for diagonal ones, each
            symmetric positive definite.
        weights: array `(k,)` of non-negative weights, not all zero; default
            uniform.

    Returns:
        `(means, covariances, weights, choleskys)` as float64 arrays, with the
        components of weight 0 dropped, the weights summing to 1, the
        covariances symmetrised and `choleskys[k] @ choleskys[k].T ==
        covariances[k]`.

    Raises:
        ValueError: naming the argument, for a wrong shape, a negative or
            all-zero weight, a non-finite value or a covariance that is not
            positive definite.
    """
    means = np.asarray(means, dtype="float64")
    if means.ndim != 2:
        raise ValueError(f"`means` must have shape (k, d); received {means.shape}.")
    k, d = means.shape
    covariances = np.asarray(covariances, dtype="float64")
    if covariances.shape == (k, d):
        covariances = np.stack([np.diag(c) for c in covariances])
    if covariances.shape != (k, d, d):
        raise ValueError(
            f"`covariances` must have shape ({k}, {d}, {d}) or ({k}, {d}) to "
            f"match `means` of shape ({k}, {d}); received {covariances.shape}."
        )
    weights = np.full(k, 1.0) if weights is None else np.asarray(weights, "float64")
    if weights.shape != (k,) or np.any(weights < 0) or not weights.sum() > 0:
        raise ValueError(
            f"`weights` must be {k} non-negative numbers, not all zero; "
            f"received {weights!r}."
        )
    if not (np.all(np.isfinite(means)) and np.all(np.isfinite(covariances))):
        raise ValueError("`means` and `covariances` must be finite.")
    keep = weights > 0
    means, covariances = means[keep], covariances[keep]
    weights = weights[keep] / weights[keep].sum()
    covariances = 0.5 * (covariances + np.transpose(covariances, (0, 2, 1)))
    try:
        choleskys = np.linalg.cholesky(covariances)
    except np.linalg.LinAlgError as error:
        raise ValueError(
            "Every one of `covariances` must be symmetric positive definite; "
            "add a small multiple of the identity."
        ) from error
    return means, covariances, weights, choleskys
