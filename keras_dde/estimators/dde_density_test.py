import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KernelDensity

import keras_dde
from keras_dde.estimators import DDEDensity

FAST = dict(width=32, depth=3, steps=1500, batch_size=512, learning_rate=1e-2)
GRID = dict(
    width=32,
    depth=2,
    steps=300,
    batch_size=256,
    learning_rate=1e-2,
    log_z_samples=20_000,
)


def correlated_gaussian(n, seed):
    scale = np.array([[1.0, 0.0], [0.8, 0.6]])
    noise = np.random.default_rng(seed).standard_normal((n, 2))
    return noise @ scale.T + np.array([1.0, -2.0])


def test_fit_score_sample_against_kernel_density():
    # One Gaussian: score matching sees the whole density, so a short training
    # must land close to the exact KDE (separated modes are MultiScaleDDE's job).
    x = correlated_gaussian(1500, seed=0)
    x_test = correlated_gaussian(1000, seed=1)
    estimator = DDEDensity(sigma=0.3, random_state=0, **{**FAST, "steps": 800})
    assert estimator.fit(x) is estimator
    log_p = estimator.score_samples(x_test)
    assert log_p.shape == (1000,) and log_p.dtype == np.float64
    exact = KernelDensity(bandwidth=0.3).fit(x).score_samples(x_test)
    # Measured 0.064-0.073 on the three backends; an unnormalised or
    # mis-scaled density is off by far more.
    assert np.mean(np.abs(log_p - exact)) < 0.12
    assert abs(np.mean(log_p) - np.mean(exact)) < 0.05
    assert estimator.score(x_test) == pytest.approx(np.sum(log_p), rel=1e-6)
    assert estimator.log_partition_stderr_ < 0.05
    samples = estimator.sample(300, random_state=0)
    assert samples.shape == (300, 2)
    np.testing.assert_array_equal(samples, estimator.sample(300, random_state=0))


def test_grid_search_over_sigma_and_clone():
    x = keras_dde.datasets.toy2d("8gaussians", 800, seed=0)
    search = GridSearchCV(
        DDEDensity(random_state=0, **GRID),
        {"sigma": [0.03, 0.3, 2.0]},
        cv=2,
        refit=False,
    )
    search.fit(x)
    assert search.best_params_ == {"sigma": 0.3}
    scores = search.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores))
    params = DDEDensity(sigma=0.2, steps=10).get_params()
    assert params["sigma"] == 0.2 and params["steps"] == 10
    assert clone(DDEDensity(sigma=0.2)).sigma == 0.2


def test_sample_weight_matches_the_weighted_kde():
    rng = np.random.default_rng(0)
    x = rng.normal(0.0, 1.0, (800, 1)).astype("float32")
    weights = np.exp(1.0 * x[:, 0])  # Tilts N(0, 1) to about N(1, 1).
    estimator = DDEDensity(sigma=0.3, random_state=0, **FAST)
    estimator.fit(x, sample_weight=weights)
    grid = np.linspace(-1.5, 2.5, 41)[:, None]
    log_p = estimator.score_samples(grid)
    weighted = KernelDensity(bandwidth=0.3).fit(x, sample_weight=weights)
    unweighted = KernelDensity(bandwidth=0.3).fit(x)
    error = np.mean(np.abs(log_p - weighted.score_samples(grid)))
    assert error < 0.15, error
    assert np.mean(np.abs(log_p - unweighted.score_samples(grid))) > 3 * error


def test_bad_input():
    with pytest.raises(Exception, match="not fitted"):
        DDEDensity().score_samples(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="sigma"):
        DDEDensity(sigma=-1.0).fit(np.zeros((10, 2)))
    with pytest.raises(ValueError, match="sample_weight"):
        DDEDensity(**GRID).fit(np.zeros((10, 2)), sample_weight=np.ones(3))
