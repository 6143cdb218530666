import math

import keras
import numpy as np
from keras import ops
from scipy.stats import multivariate_normal

from keras_dde.layers.gaussian_log_density import GaussianLogDensity


def log_normal(x, mean, cov):
    return multivariate_normal(mean, cov).logpdf(x)


def test_log_density_of_the_smoothed_gaussian():
    rng = np.random.default_rng(0)
    mean = np.array([0.5, -1.0, 2.0])
    root = rng.standard_normal((3, 3))
    cov = root @ root.T + 0.1 * np.eye(3)
    x = rng.standard_normal((5, 3)).astype("float32")
    layer = GaussianLogDensity()
    layer.build((None, 3))
    log_sigma = np.full((5,), math.log(0.3), "float32")
    # Nothing until the moments are set: a model starts as its network.
    np.testing.assert_array_equal(ops.convert_to_numpy(layer([x, log_sigma])), 0.0)
    layer.set_moments(mean, cov)
    for sigma in (0.05, 0.3, 2.0):
        log_sigma = np.full((5,), math.log(sigma), "float32")
        np.testing.assert_allclose(
            ops.convert_to_numpy(layer([x, log_sigma])),
            log_normal(x, mean, cov + sigma**2 * np.eye(3)),
            rtol=1e-4, atol=1e-4,
        )
    # A diagonal covariance (as kept above 1024 features) gives the same.
    diagonal = GaussianLogDensity()
    diagonal.build((None, 3))
    diagonal.set_moments(mean, np.diag(cov))
    np.testing.assert_allclose(
        ops.convert_to_numpy(diagonal([x, log_sigma])),
        log_normal(x, mean, np.diag(np.diag(cov)) + 4.0 * np.eye(3)),
        rtol=1e-4, atol=1e-4,
    )


def test_the_moments_save_with_the_layer():
    layer = GaussianLogDensity(name="base")
    layer.build((None, 2))
    layer.set_moments([1.0, 2.0], [[2.0, 0.5], [0.5, 1.0]])
    revived = keras.layers.deserialize(keras.layers.serialize(layer))
    assert revived.built  # From the build config.
    assert not revived.is_set
    revived.set_weights(layer.get_weights())
    inputs = [np.ones((3, 2), "float32"), np.zeros((3,), "float32")]
    assert revived.is_set
    np.testing.assert_allclose(
        ops.convert_to_numpy(revived(inputs)), ops.convert_to_numpy(layer(inputs)), atol=1e-6
    )
