import keras
import numpy as np
import pytest
from scipy.stats import multivariate_normal

from keras_dde.partition import GaussianProposal
from keras_dde.testing import random_covariance


def test_log_prob_matches_scipy_and_samples_have_the_moments():
    rng = np.random.default_rng(0)
    mean, covariance = rng.normal(size=5), random_covariance(5, rng)
    proposal = GaussianProposal(mean, covariance)
    x = rng.normal(size=(20, 5))
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(proposal.log_prob(x)),
        multivariate_normal(mean, covariance).logpdf(x),
        rtol=1e-4,
    )
    draws = keras.ops.convert_to_numpy(proposal.sample(20_000, seed=0))
    np.testing.assert_allclose(draws.mean(0), mean, atol=0.05)
    np.testing.assert_allclose(np.cov(draws.T), covariance, atol=0.08)


def test_from_data_adds_the_kde_bandwidth():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5000, 3)) * [1.0, 2.0, 0.5]
    proposal = GaussianProposal.from_data(x, sigma=0.5)
    expected = np.cov(x.T, bias=True) + 0.25 * np.eye(3)
    np.testing.assert_allclose(proposal.covariance, expected, rtol=1e-5)
    weights = (x[:, 0] > 0).astype(float)
    weighted = GaussianProposal.from_data(x, sample_weight=weights)
    assert weighted.mean[0] > 0.7


def test_bad_input():
    with pytest.raises(ValueError, match="covariance"):
        GaussianProposal(np.zeros(2), np.ones((3, 3)))
    with pytest.raises(ValueError, match="positive definite"):
        GaussianProposal(np.zeros(2), [[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(ValueError, match="dimension 2"):
        GaussianProposal(np.zeros(2), np.ones(2)).log_prob(np.zeros((4, 3)))
