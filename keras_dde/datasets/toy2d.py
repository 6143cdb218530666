"""The classic 2-D toy densities (after FFJORD's `toy_data`), seeded with numpy Generators."""

import numbers

import numpy as np

from keras_dde.utils.validation import check_positive_int


def _split(n, parts):
    """Counts of `parts` groups summing to exactly `n`."""
    counts = np.full(parts, n // parts)
    counts[: n % parts] += 1
    return counts


def _8gaussians(n, rng):
    angles = np.arange(8) * np.pi / 4
    centers = 4.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    points = centers[rng.integers(0, 8, n)] + 0.5 * rng.standard_normal((n, 2))
    return points / 1.414


def _25gaussians(n, rng):
    grid = np.arange(-2, 3) * 1.5
    centers = np.stack(np.meshgrid(grid, grid), axis=-1).reshape(-1, 2)
    return centers[rng.integers(0, 25, n)] + 0.1 * rng.standard_normal((n, 2))


def _2spirals(n, rng):
    first = n // 2
    turns = np.sqrt(rng.random((n, 1))) * 540 * (2 * np.pi) / 360
    arm = np.hstack([-np.cos(turns) * turns, np.sin(turns) * turns])
    arm = arm + rng.random((n, 2)) * 0.5
    arm[first:] *= -1
    return arm / 3 + 0.1 * rng.standard_normal((n, 2))


def _checkerboard(n, rng):
    x1 = rng.random(n) * 4 - 2
    x2 = rng.random(n) - rng.integers(0, 2, n) * 2 + np.floor(x1) % 2
    return np.stack([x1, x2], axis=1) * 2


def _rings(n, rng):
    radii = np.repeat([1.0, 0.75, 0.5, 0.25], _split(n, 4))
    angles = rng.random(n) * 2 * np.pi
    points = 3.0 * radii[:, None] * np.stack([np.cos(angles), np.sin(angles)], 1)
    return points + 0.08 * rng.standard_normal((n, 2))


def _circles(n, rng):
    radii = np.repeat([1.0, 0.5], _split(n, 2))
    angles = rng.random(n) * 2 * np.pi
    points = radii[:, None] * np.stack([np.cos(angles), np.sin(angles)], 1)
    return 3.0 * (points + 0.08 * rng.standard_normal((n, 2)))


def _moons(n, rng):
    outer, inner = _split(n, 2)
    angles = rng.random(n) * np.pi
    x = np.concatenate([np.cos(angles[:outer]), 1 - np.cos(angles[outer:])])
    y = np.concatenate([np.sin(angles[:outer]), 0.5 - np.sin(angles[outer:])])
    points = np.stack([x, y], axis=1) + 0.1 * rng.standard_normal((n, 2))
    return points * 2 + np.array([-1.0, -0.2])


def _pinwheel(n, rng, arms=5, radial_std=0.3, tangential_std=0.1, rate=0.25):
    labels = np.repeat(np.arange(arms), _split(n, arms))
    features = rng.standard_normal((n, 2)) * np.array([radial_std, tangential_std])
    features[:, 0] += 1.0
    angles = labels * 2 * np.pi / arms + rate * np.exp(features[:, 0])
    cos, sin = np.cos(angles), np.sin(angles)
    rotated = np.stack(
        [features[:, 0] * cos + features[:, 1] * sin,
         -features[:, 0] * sin + features[:, 1] * cos],
        axis=1,
    )
    return 2 * rotated


def _swissroll(n, rng):
    t = 1.5 * np.pi * (1 + 2 * rng.random(n))
    points = np.stack([t * np.cos(t), t * np.sin(t)], axis=1)
    return (points + rng.standard_normal((n, 2))) / 5


TOY2D = {
    "8gaussians": _8gaussians,
    "2spirals": _2spirals,
    "checkerboard": _checkerboard,
    "rings": _rings,
    "moons": _moons,
    "pinwheel": _pinwheel,
    "swissroll": _swissroll,
    "circles": _circles,
    "25gaussians": _25gaussians,
}


def toy2d_names():
    """The names `toy2d` accepts."""
    return sorted(TOY2D)


def toy2d(name, n, seed=None):
    """Samples a classic 2-D toy data set.

    Args:
        name: one of `toy2d_names()`: "8gaussians", "2spirals",
            "checkerboard", "rings" (the seed tutorials' four), "moons",
            "pinwheel", "swissroll", "circles", "25gaussians".
        n: int, number of samples.
        seed: None, an int or a `numpy.random.Generator`. The same int gives
            the same samples.

    Returns:
        float32 array of shape `(n, 2)`, in random order.

    Example:
    ```python
    x = keras_dde.datasets.toy2d("2spirals", 8000, seed=0)
    ```

    References:
        - [Grathwohl et al., 2019 (FFJORD)](https://arxiv.org/abs/1810.01367)
    """
    if not isinstance(name, str):
        raise TypeError(f"`name` must be a string; received {name!r}.")
    if name not in TOY2D:
        raise ValueError(
            f"Unknown toy data set {name!r}; valid names are: "
            f"{', '.join(toy2d_names())}."
        )
    n = check_positive_int(n, "n")
    rng = _generator(seed)
    points = TOY2D[name](n, rng)
    return rng.permutation(points).astype("float32")


def _generator(seed):
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, numbers.Integral)
    ):
        raise TypeError(
            f"`seed` must be None, an int or a numpy Generator; received {seed!r}."
        )
    return np.random.default_rng(seed)
