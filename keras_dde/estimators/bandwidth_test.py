import numpy as np
import pytest
from sklearn.neighbors import KernelDensity

from keras_dde.estimators.bandwidth import bandwidth_from_rule
from keras_dde.estimators.bandwidth import candidate_bandwidths
from keras_dde.estimators.bandwidth import check_in_range


@pytest.mark.parametrize("rule", ["scott", "silverman"])
@pytest.mark.parametrize("shape", [(10, 1), (500, 2), (8000, 2), (300, 7)])
def test_rules_match_kernel_density(rule, shape):
    x = np.random.default_rng(0).normal(size=shape) * 3.0  # The scale is ignored.
    expected = KernelDensity(bandwidth=rule).fit(x).bandwidth_
    assert bandwidth_from_rule(rule, *shape) == expected
    assert bandwidth_from_rule(0.25, *shape) == 0.25


def test_range_check_names_the_range_and_the_fix():
    assert check_in_range(0.5, (0.1, 2.0)) == 0.5
    # float32 rounding at the ends is inside.
    assert check_in_range(2.0000001, (0.1, 2.0)) == 2.0
    with pytest.raises(ValueError, match=r"below the trained range \[0\.1, 2\].*"
                       r"refit with `bandwidth` <= 0\.05"):
        check_in_range(0.05, (0.1, 2.0))
    with pytest.raises(ValueError, match=r"above the trained range \[0\.1, 2\].*"
                       r"refit with `max_bandwidth` >= 3"):
        check_in_range(3, (0.1, 2.0))
    with pytest.raises(ValueError, match="positive"):
        check_in_range(-1.0, (0.1, 2.0))
    with pytest.raises(TypeError, match="number"):
        check_in_range("scott", (0.1, 2.0))


def test_candidates():
    default = candidate_bandwidths(None, (0.1, 2.0))
    assert len(default) == 20 and default[0] == 0.1 and default[-1] == 2.0
    np.testing.assert_allclose(np.diff(np.log(default)), np.log(20) / 19)
    np.testing.assert_array_equal(candidate_bandwidths([0.5, 0.2, 0.5], (0.1, 2.0)),
                                  [0.2, 0.5])
    with pytest.raises(ValueError, match="candidates.*above the trained range"):
        candidate_bandwidths([0.5, 4.0], (0.1, 2.0))
    with pytest.raises(ValueError, match="non-empty 1-D"):
        candidate_bandwidths([], (0.1, 2.0))
