import keras
import numpy as np
import pytest
from scipy.stats import multivariate_normal

from keras_dde.partition import GaussianMixtureProposal
from keras_dde.partition import GaussianProposal
from keras_dde.partition import importance_sampling
from keras_dde.testing import random_covariance
from keras_dde.testing import random_mixture_energy

TRUE_LOG_Z = 1.7  # random_mixture_energy's offset.


def log_z_by_is(energy, proposal, n_samples, seed):
    """`(log_z, stderr)` of plain importance sampling from `proposal`."""
    energy_fn = lambda u: energy(proposal.from_whitened(u))  # noqa: E731
    log_z, stderr, _ = importance_sampling(
        energy_fn, proposal, n_samples, n_samples, seed, verbose=0
    )
    return log_z, stderr


def bimodal(dim, seed=None):
    """The issue's case: 2 components with random covariances, its proposal."""
    energy = random_mixture_energy(dim, seed=dim if seed is None else seed)
    data = energy.sample_numpy(4000, seed=1)
    return energy, data, GaussianMixtureProposal.from_data(data, seed=0)


def test_log_prob_matches_scipy_and_samples_have_the_moments():
    rng = np.random.default_rng(0)
    means = 3.0 * rng.normal(size=(3, 4))
    covariances = np.stack([random_covariance(4, rng) for _ in range(3)])
    weights = np.array([0.2, 0.3, 0.5])
    proposal = GaussianMixtureProposal(means, covariances, weights)
    x = 3.0 * rng.normal(size=(20, 4))
    exact = np.log(
        sum(
            w * multivariate_normal(m, c).pdf(x)
            for m, c, w in zip(means, covariances, weights)
        )
    )
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(proposal.log_prob(x)), exact, rtol=1e-4
    )
    draws = keras.ops.convert_to_numpy(proposal.sample(40_000, seed=0))
    np.testing.assert_allclose(draws.mean(0), weights @ means, atol=0.06)
    np.testing.assert_allclose(np.cov(draws.T), proposal.covariance, atol=0.15)
    # The whitening frame is the mixture's overall moments.
    np.testing.assert_allclose(proposal.mean, weights @ means)
    # Draws fall in the components in proportion to the weights.
    nearest = np.argmin(np.linalg.norm(draws[:, None] - means[None], axis=-1), 1)
    np.testing.assert_allclose(np.bincount(nearest) / len(draws), weights, atol=0.03)


def test_gradient_of_the_whitened_log_density():
    rng = np.random.default_rng(1)
    proposal = GaussianMixtureProposal(
        rng.normal(size=(2, 3)), np.stack([random_covariance(3, rng)] * 2)
    )
    u = rng.normal(size=(5, 3))
    grad = keras.ops.convert_to_numpy(
        proposal.grad_log_prob_whitened(keras.ops.convert_to_tensor(u, "float32"))
    )
    eps = 1e-2
    for i in range(3):
        step = np.zeros(3)
        step[i] = eps
        f = lambda v: keras.ops.convert_to_numpy(  # noqa: E731
            proposal.log_prob_whitened(keras.ops.convert_to_tensor(v, "float32"))
        )
        np.testing.assert_allclose(
            grad[:, i], (f(u + step) - f(u - step)) / (2 * eps), atol=2e-3
        )


def test_from_data_picks_the_components_and_widens_them():
    energy = random_mixture_energy(3, seed=0)
    data = energy.sample_numpy(4000, seed=1)
    proposal = GaussianMixtureProposal.from_data(data, sigma=0.5, seed=0)
    assert proposal.n_components == 2
    order = np.argsort(proposal.means[:, 0])
    truth = np.argsort(energy.means[:, 0])
    np.testing.assert_allclose(
        proposal.mixture_weights[order], energy.mixture_weights[truth], atol=0.03
    )
    expected = 1.1 * energy.covariances[truth] + 0.25 * np.eye(3)
    np.testing.assert_allclose(
        proposal.covariances[order], expected, atol=0.5, rtol=0.1
    )
    three = GaussianMixtureProposal.from_data(data, n_components=3, seed=0)
    assert three.n_components == 3
    subset = GaussianMixtureProposal.from_data(data, max_samples=1000, seed=0)
    assert subset.n_components == 2
    np.testing.assert_allclose(
        subset.means[np.argsort(subset.means[:, 0])], proposal.means[order], atol=0.3
    )
    # Weights that drop one mode leave one component, at the other mode.
    component = np.argmin(
        np.linalg.norm(data[:, None] - energy.means[None], axis=-1), axis=1
    )
    weighted = GaussianMixtureProposal.from_data(
        data, sample_weight=(component == 0).astype(float), seed=0
    )
    assert weighted.n_components == 1
    np.testing.assert_allclose(weighted.means[0], energy.means[0], atol=0.3)


def test_padded_and_config_round_trips():
    _, _, proposal = bimodal(3)
    x = np.random.default_rng(0).normal(size=(10, 3))
    expected = keras.ops.convert_to_numpy(proposal.log_prob(x))
    means, covariances, weights = proposal.padded(5)
    assert means.shape == (5, 3) and covariances.shape == (5, 3, 3)
    smoothed = GaussianMixtureProposal.from_components(means, covariances, weights, 0.5)
    np.testing.assert_allclose(
        smoothed.covariances, proposal.covariances + 0.25 * np.eye(3)
    )
    for rebuilt in (
        GaussianMixtureProposal(means, covariances, weights),
        GaussianMixtureProposal.from_components(means, covariances, weights),
        GaussianMixtureProposal.from_config(proposal.get_config()),
    ):
        assert rebuilt.n_components == 2
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(rebuilt.log_prob(x)), expected, rtol=1e-6
        )


@pytest.mark.parametrize("dim", [2, 8, 16])
def test_log_partition_of_two_component_mixtures(dim):
    energy, _, proposal = bimodal(dim)
    assert proposal.n_components == 2
    log_z, stderr = log_z_by_is(energy, proposal, 20_000, seed=0)
    error = log_z - TRUE_LOG_Z
    assert abs(error) <= 0.05, (error, stderr)
    assert 0 < stderr <= 0.01
    assert abs(error) <= 3 * stderr, (error, stderr)


def test_standard_error_is_calibrated():
    """Over 20 seeds the truth lies within 2 standard errors >= 90% of the
    time, and the errors' spread matches the standard errors (an inflated
    standard error fails the second check, a deflated one the first)."""
    energy, _, proposal = bimodal(8)
    results = np.array(
        [log_z_by_is(energy, proposal, 2_000, seed) for seed in range(20)]
    )
    errors, stderrs = results[:, 0] - TRUE_LOG_Z, results[:, 1]
    coverage = np.mean(np.abs(errors) <= 2 * stderrs)
    assert coverage >= 0.9, (errors, stderrs)
    ratio = np.sqrt(np.mean(errors**2)) / np.median(stderrs)
    assert 0.5 < ratio < 1.6, (ratio, errors, stderrs)


def test_a_single_gaussian_is_worse_on_the_bimodal_16d_case():
    energy, data, mixture = bimodal(16)
    gaussian = GaussianProposal.from_data(data)
    results = {
        name: np.array([log_z_by_is(energy, q, 20_000, seed) for seed in range(4)])
        for name, q in (("mixture", mixture), ("gaussian", gaussian))
    }
    error = {k: np.mean(np.abs(r[:, 0] - TRUE_LOG_Z)) for k, r in results.items()}
    stderr = {k: np.median(r[:, 1]) for k, r in results.items()}
    assert error["gaussian"] > 5 * error["mixture"], error
    assert stderr["gaussian"] > 5 * stderr["mixture"], stderr


def test_bad_input():
    with pytest.raises(ValueError, match="covariances"):
        GaussianMixtureProposal(np.zeros((2, 2)), np.ones((2, 3, 3)))
    with pytest.raises(ValueError, match="positive definite"):
        GaussianMixtureProposal(np.zeros((1, 2)), [[[1.0, 2.0], [2.0, 1.0]]])
    with pytest.raises(ValueError, match="weights"):
        GaussianMixtureProposal(np.zeros((2, 2)), np.ones((2, 2)), [1.0, -1.0])
    with pytest.raises(ValueError, match="means"):
        GaussianMixtureProposal(np.zeros(2), np.ones(2))
    proposal = GaussianMixtureProposal(np.zeros((1, 2)), np.ones((1, 2)))
    with pytest.raises(ValueError, match="dimension 2"):
        proposal.log_prob(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="below"):
        GaussianMixtureProposal(np.zeros((2, 2)), np.ones((2, 2))).padded(1)
    x = np.random.default_rng(0).normal(size=(50, 2))
    with pytest.raises(ValueError, match="n_components"):
        GaussianMixtureProposal.from_data(x, n_components="many")
    with pytest.raises(ValueError, match="n_components"):
        GaussianMixtureProposal.from_data(x, n_components=51)
    with pytest.raises(ValueError, match="widen"):
        GaussianMixtureProposal.from_data(x, widen=0.5)
    with pytest.raises(ValueError, match="sigma"):
        GaussianMixtureProposal.from_data(x, sigma=-1.0)
    with pytest.raises(ValueError, match="max_samples"):
        GaussianMixtureProposal.from_data(x, max_samples=0)
