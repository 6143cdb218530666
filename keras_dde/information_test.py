import numpy as np
import pytest

import keras_dde
from keras_dde.information import kl_divergence
from keras_dde.information import knn_entropy
from keras_dde.testing import GaussianMixtureEnergy
from keras_dde.testing import random_covariance


def gaussian(mean, covariance, seed=0):
    energy = GaussianMixtureEnergy(np.asarray(mean)[None], np.asarray(covariance)[None])
    dde = keras_dde.DDEModel(energy, sigma=0.1)
    dde.build((None, len(mean)))
    dde.set_data_statistics(energy.sample_numpy(4000, seed=seed))
    dde.log_partition(seed=seed, n_steps=200, verbose=0)
    return dde, energy


def exact_kl(mean_p, cov_p, mean_q, cov_q):
    d = len(mean_p)
    precision_q = np.linalg.inv(cov_q)
    delta = mean_q - mean_p
    return 0.5 * (
        np.trace(precision_q @ cov_p)
        + delta @ precision_q @ delta
        - d
        + np.linalg.slogdet(cov_q)[1]
        - np.linalg.slogdet(cov_p)[1]
    )


@pytest.mark.parametrize("dim", [2, 5])
def test_kl_between_two_ddes_is_exact_on_gaussians(dim):
    rng = np.random.default_rng(dim)
    mean_p, mean_q = rng.normal(size=dim), rng.normal(size=dim)
    cov_p, cov_q = random_covariance(dim, rng), random_covariance(dim, rng)
    p, _ = gaussian(mean_p, cov_p, seed=1)
    q, _ = gaussian(mean_q, cov_q, seed=2)
    truth = exact_kl(mean_p, cov_p, mean_q, cov_q)
    kl, stderr = kl_divergence(
        p, q, n_samples=2000, seed=0, sample_kwargs={"n_steps": 100}, return_stderr=True
    )
    assert truth > 0.5  # a non-trivial value
    assert abs(kl - truth) < 4 * stderr + 0.05, (kl, truth, stderr)
    assert stderr < 0.1
    # KL(p || p) = 0.
    assert abs(kl_divergence(p, p, samples=np.zeros((5, dim)))) < 1e-6


def test_kl_from_samples_to_a_dde():
    rng = np.random.default_rng(0)
    mean_p, mean_q = np.zeros(3), np.array([1.0, 0.0, -0.5])
    cov_p, cov_q = random_covariance(3, rng), random_covariance(3, rng)
    q, _ = gaussian(mean_q, cov_q)
    samples = rng.multivariate_normal(mean_p, cov_p, 4000).astype("float32")
    truth = exact_kl(mean_p, cov_p, mean_q, cov_q)
    assert abs(kl_divergence(samples, q) - truth) < 0.1


def test_knn_entropy_of_a_gaussian():
    rng = np.random.default_rng(0)
    cov = random_covariance(4, rng)
    x = rng.multivariate_normal(np.zeros(4), cov, 5000)
    truth = 0.5 * np.linalg.slogdet(2 * np.pi * np.e * cov)[1]
    assert abs(knn_entropy(x) - truth) < 0.1


def test_bad_input():
    p, _ = gaussian(np.zeros(2), np.eye(2))
    q, _ = gaussian(np.zeros(3), np.eye(3))
    with pytest.raises(ValueError, match="same space"):
        kl_divergence(p, q)
    with pytest.raises(ValueError, match="same space"):
        kl_divergence(np.zeros((10, 2)), q)
    with pytest.raises(TypeError, match="`q`"):
        kl_divergence(p, np.zeros((10, 2)))
    with pytest.raises(ValueError, match="n_samples"):
        kl_divergence(p, p, n_samples=0)
