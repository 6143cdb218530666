import math

import numpy as np

from keras_dde.testing.gaussian_mixture_energy import GaussianMixtureEnergy
from keras_dde.testing.gaussian_mixture_energy import random_covariance


def random_mixture_energy(
    dim, seed, n_components=2, separation=8.0, condition=30.0, offset=1.7
):
    """A `GaussianMixtureEnergy` with random means, covariances and weights.

    Component means are standard normal vectors scaled so that their
    expected pairwise distance is `separation` (in units of the covariances'
    geometric-mean scale, 1); covariances are `random_covariance(dim, rng,
    condition)`; weights are uniform in [0.5, 1.5] (normalised). The exact
    `log Z` is `offset`.

    Args:
        dim: int, the dimension.
        seed: int, for numpy's generator.
        n_components: int.
        separation: float, the typical distance between two means.
        condition: float, the covariances' condition number bound.
        offset: float, the exact `log Z`.

    Example:
    ```python
    from keras_dde.testing.mixture_energy import random_mixture_energy

    energy = random_mixture_energy(16, seed=0)
    x = energy.sample_numpy(4000, seed=1)
    energy.exact_log_partition()  # 1.7
    ```
    """
    rng = np.random.default_rng(seed)
    covariances = np.stack(
        [random_covariance(dim, rng, condition) for _ in range(n_components)]
    )
    means = rng.normal(size=(n_components, dim)) * separation / math.sqrt(2 * dim)
    weights = rng.uniform(0.5, 1.5, n_components)
    return GaussianMixtureEnergy(means, covariances, weights=weights, offset=offset)
