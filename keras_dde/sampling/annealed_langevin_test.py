import numpy as np
import pytest
from keras import ops

from keras_dde.sampling.annealed_langevin import annealed_langevin


def gaussian_score(x, sigma):
    """Score of N(1, (1 + sigma^2) I)."""
    return -(x - 1.0) / (1.0 + sigma**2)


def test_reaches_the_smallest_level_gaussian():
    x0 = np.random.default_rng(0).normal(0.0, 3.0, (4000, 2)).astype("float32")
    levels = np.geomspace(2.0, 0.5, 6)
    x = ops.convert_to_numpy(
        annealed_langevin(gaussian_score, x0, levels, steps_per_level=60, step_scale=0.5, seed=0)
    )
    np.testing.assert_allclose(x.mean(0), 1.0, atol=0.08)
    # Unadjusted Langevin at step alpha has variance v / (1 - alpha / (4 v)).
    v, alpha = 1.25, 0.5 * 0.25
    np.testing.assert_allclose(x.var(0), v / (1 - alpha / (4 * v)), rtol=0.08)


@pytest.mark.parametrize(
    "kwargs, match",
    [({"levels": [0.1, 0.5]}, "decreasing"), ({"levels": []}, "decreasing"),
     ({"levels": [1.0], "step_scale": 0.0}, "step_scale"),
     ({"levels": [1.0], "steps_per_level": 0}, "steps_per_level")],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        annealed_langevin(gaussian_score, np.zeros((2, 2), "float32"), **kwargs)
