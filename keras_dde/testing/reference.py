"""Exact references a trained DDE is compared with, for tests and benchmarks."""

import numpy as np
from keras import ops
from scipy.special import logsumexp
from sklearn.neighbors import KernelDensity


def exact_kde_log_density(train, query, sigma):
    """Normalised log-density of the Gaussian KDE of `train` with bandwidth `sigma`.

    This is what a DDE with the same sigma converges to (up to log Z).
    `atol=rtol=0` makes scikit-learn's tree evaluation exact.
    """
    kde = KernelDensity(bandwidth=sigma, kernel="gaussian", atol=0.0, rtol=0.0)
    return kde.fit(np.asarray(train, "float64")).score_samples(
        np.asarray(query, "float64")
    )


def grid_log_partition(energy_fn, low, high, resolution=400, batch_size=65536):
    """`log Z = log ∫ exp(s)` over a 2-D box, by the midpoint rule.

    Args:
        energy_fn: maps a float32 array `(n, 2)` to energies `(n,)`.
        low, high: box corners, e.g. `(-5, -5)` and `(5, 5)`; the box must
            hold (almost) all of the density's mass.
        resolution: grid points per axis.
    """
    low, high = np.asarray(low, "float64"), np.asarray(high, "float64")
    step = (high - low) / resolution
    axes = [low[i] + step[i] * (np.arange(resolution) + 0.5) for i in range(2)]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 2)
    grid = grid.astype("float32")
    energies = np.concatenate(
        [
            ops.convert_to_numpy(energy_fn(grid[i : i + batch_size]))
            for i in range(0, len(grid), batch_size)
        ]
    ).astype("float64")
    return logsumexp(energies) + np.log(step.prod())
