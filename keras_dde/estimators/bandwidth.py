"""Bandwidth rules and the trained range of `DDEDensity`.

`"scott"` and `"silverman"` are computed exactly as
`sklearn.neighbors.KernelDensity.fit` computes them, from the shape of the
data alone (scikit-learn neither rescales them by the data's spread, as
scipy's `gaussian_kde` does, nor weighs the samples):

    scott:     n ** (-1 / (d + 4))
    silverman: (n (d + 2) / 4) ** (-1 / (d + 4))

scikit-learn has no public function for them (they are inline in
`KernelDensity.fit`), so they are written once here and tested against it.
"""

import math

import numpy as np

# `select_bandwidth` tries this many levels, spaced geometrically over the
# trained range, when it is given no candidates: the held-out likelihood is
# smooth in log-bandwidth, and scoring a level costs one network pass.
N_CANDIDATES = 20
# Levels within this relative distance of the trained range count as inside
# it: float32 rounding of `sigma_max` must not refuse the top of the range itself.
RANGE_TOLERANCE = 1e-6


def bandwidth_from_rule(bandwidth, n_samples, n_features):
    """The bandwidth `KernelDensity(bandwidth=bandwidth)` would use, a float.

    Args:
        bandwidth: a float > 0 (returned as a float), "scott" or "silverman".
        n_samples: int, the number of training samples `n`.
        n_features: int, the number of features `d`.
    """
    if bandwidth == "scott":
        return float(n_samples ** (-1 / (n_features + 4)))
    if bandwidth == "silverman":
        return float(
            (n_samples * (n_features + 2) / 4) ** (-1 / (n_features + 4))
        )
    return float(bandwidth)


def check_in_range(bandwidth, bandwidth_range, name="bandwidth"):
    """`bandwidth` as a float, or a ValueError naming the range and the fix.

    Args:
        bandwidth: a number, a level to score at.
        bandwidth_range: `(low, high)`, the levels the model was trained on.
        name: the argument's name, for the message.
    """
    low, high = bandwidth_range
    try:
        value = float(bandwidth)
    except (TypeError, ValueError):
        raise TypeError(
            f"`{name}` must be a number; received {bandwidth!r}."
        ) from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"`{name}` must be a positive number; received {bandwidth!r}.")
    if value < low * (1 - RANGE_TOLERANCE):
        raise ValueError(
            f"`{name}`={value:g} lies below the trained range [{low:g}, "
            f"{high:g}] of bandwidths. One model holds every bandwidth in that "
            f"range; for a smaller one, refit with `bandwidth` <= {value:g}."
        )
    if value > high * (1 + RANGE_TOLERANCE):
        raise ValueError(
            f"`{name}`={value:g} lies above the trained range [{low:g}, "
            f"{high:g}] of bandwidths. One model holds every bandwidth in that "
            f"range; for a larger one, refit with `max_bandwidth` >= {value:g}."
        )
    return min(max(value, low), high)


def candidate_bandwidths(candidates, bandwidth_range):
    """Sorted float64 candidates, each checked against the trained range.

    Args:
        candidates: None (`N_CANDIDATES` levels spaced geometrically over
            `bandwidth_range`) or a non-empty 1-D sequence of numbers.
        bandwidth_range: `(low, high)`, the trained levels.
    """
    if candidates is None:
        return np.geomspace(*bandwidth_range, N_CANDIDATES)
    values = np.asarray(candidates, dtype=object)
    if values.ndim != 1 or len(values) == 0:
        raise ValueError(
            "`candidates` must be None or a non-empty 1-D sequence of "
            f"bandwidths; received shape {values.shape}."
        )
    checked = [check_in_range(value, bandwidth_range, "candidates") for value in values]
    return np.unique(np.asarray(checked, dtype=np.float64))
