import numpy as np
from scipy.stats import multivariate_normal

from keras_dde.testing import GaussianMixtureEnergy
from keras_dde.testing import random_covariance
from keras_dde.testing import run_layer_test


def test_layer_and_exact_log_density():
    rng = np.random.default_rng(0)
    covariances = np.stack([random_covariance(3, rng) for _ in range(2)])
    means = rng.normal(size=(2, 3))
    kwargs = dict(means=means, covariances=covariances, weights=[1.0, 3.0], offset=2.0)
    x = rng.normal(size=(7, 3)).astype("float32")
    layer = run_layer_test(
        GaussianMixtureEnergy, kwargs, x, (7,), expected_num_trainable_weights=0
    )
    exact = np.log(
        0.25 * multivariate_normal(means[0], covariances[0]).pdf(x)
        + 0.75 * multivariate_normal(means[1], covariances[1]).pdf(x)
    )
    np.testing.assert_allclose(np.asarray(layer(x)), exact + 2.0, rtol=1e-4)
    np.testing.assert_allclose(layer.exact_log_prob(x), exact, rtol=1e-6)
    assert layer.exact_log_partition() == 2.0
    draws = layer.sample_numpy(20_000, seed=0)
    np.testing.assert_allclose(
        draws.mean(0), 0.25 * means[0] + 0.75 * means[1], atol=0.05
    )
