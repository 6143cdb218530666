"""Known answers for the probability-flow ODE: smoothed isotropic mixtures.

For `p = sum_k w_k N(mu_k, tau_k^2 I)`, `p_sigma = sum_k w_k N(mu_k,
(tau_k^2 + sigma^2) I)` exactly, so the flow's map, its marginals and its
log-likelihood all have closed forms to test against.
"""

import math

import numpy as np
import pytest
from keras import ops

from keras_dde.sampling.probability_flow import probability_flow
from keras_dde.sampling.probability_flow import probability_flow_log_prob


class SmoothedMixture:
    def __init__(self, means, taus, weights):
        self.means = np.asarray(means, "float32")
        self.taus = np.asarray(taus, "float32")
        weights = np.asarray(weights, "float64")
        self.weights = weights / weights.sum()

    def energy(self, x, sigma):
        """`log p_sigma(x)` in keras.ops (exactly normalised)."""
        dim = self.means.shape[1]
        variances = ops.convert_to_tensor(self.taus**2) + ops.square(sigma)
        squared = ops.sum(
            ops.square(x[:, None, :] - ops.convert_to_tensor(self.means)[None]), -1
        )
        log_terms = (
            ops.log(ops.convert_to_tensor(self.weights, "float32"))
            - 0.5 * dim * ops.log(2 * math.pi * variances)
            - 0.5 * squared / variances
        )
        return ops.logsumexp(log_terms, axis=-1)

    def log_prob(self, x, sigma):
        return ops.convert_to_numpy(
            self.energy(ops.convert_to_tensor(x, "float32"), sigma)
        ).astype("float64")

    def sample(self, n, sigma, seed):
        rng = np.random.default_rng(seed)
        k = rng.choice(len(self.weights), size=n, p=self.weights)
        scale = np.sqrt(self.taus[k] ** 2 + sigma**2)[:, None]
        noise = rng.standard_normal((n, self.means.shape[1]))
        return (self.means[k] + scale * noise).astype("float32")


def test_flow_of_a_gaussian_is_the_exact_linear_map():
    # For N(mu, tau^2 I) the flow scales x - mu by
    # sqrt((tau^2 + sigma^2) / (tau^2 + sigma_max^2)).
    mixture = SmoothedMixture([[1.0, -2.0]], [0.3], [1.0])
    x_max = mixture.sample(200, 2.0, seed=0)
    x = ops.convert_to_numpy(probability_flow(mixture.energy, x_max, 2.0, 0.05, 40))
    ratio = math.sqrt((0.09 + 0.0025) / (0.09 + 4.0))
    expected = mixture.means[0] + ratio * (x_max - mixture.means[0])
    np.testing.assert_allclose(x, expected, atol=3e-3)


def test_flow_moves_mass_into_each_mode_by_its_weight():
    mixture = SmoothedMixture([[-2.0, 0.0], [2.0, 0.0]], [0.1, 0.1], [0.3, 0.7])
    x_max = mixture.sample(4000, 3.0, seed=1)
    x = ops.convert_to_numpy(probability_flow(mixture.energy, x_max, 3.0, 0.05, 30))
    right = float(np.mean(x[:, 0] > 0))
    assert abs(right - 0.7) < 0.03, right
    # Sharp modes: the samples end within 4 sd of a centre.
    assert np.mean(np.abs(np.abs(x[:, 0]) - 2.0) < 4 * 0.112) > 0.99


@pytest.mark.parametrize(
    "dim, n_components, divergence",
    [(2, 4, "auto"), (16, 3, "auto"), (16, 3, "exact")],
)
def test_log_prob_matches_the_exact_mixture(dim, n_components, divergence):
    rng = np.random.default_rng(dim)
    means = 2.0 * rng.standard_normal((n_components, dim))
    taus = rng.uniform(0.2, 0.5, n_components)
    weights = rng.uniform(0.5, 1.5, n_components)
    mixture = SmoothedMixture(means, taus, weights)
    sigma, sigma_max = 0.1, 3.0
    x = mixture.sample(32 if dim > 2 else 200, sigma, seed=2)
    log_p = probability_flow_log_prob(
        mixture.energy, x, sigma, sigma_max,
        lambda y: mixture.energy(y, sigma_max), n_steps=40, divergence=divergence,
    )
    error = ops.convert_to_numpy(log_p) - mixture.log_prob(x, sigma)
    assert np.max(np.abs(error)) < 0.05, np.abs(error).max()


def test_hutchinson_is_exact_for_a_diagonal_hessian_above_16_features():
    # Rademacher probes give v^T H v = trace H when H is diagonal: the
    # estimator (the default above 16 features) then has no variance.
    dim = 24
    mixture = SmoothedMixture([np.linspace(-1, 1, dim)], [0.4], [1.0])
    x = mixture.sample(16, 0.1, seed=3)
    log_p = probability_flow_log_prob(
        mixture.energy, x, 0.1, 2.0, lambda y: mixture.energy(y, 2.0),
        n_steps=40, seed=0,
    )
    error = ops.convert_to_numpy(log_p) - mixture.log_prob(x, 0.1)
    assert np.max(np.abs(error)) < 0.05, np.abs(error).max()


def test_hutchinson_is_unbiased_on_a_mixture():
    # Off-diagonal Hessians: each probe is noisy, the mean over points of the
    # error is not (20 features, 8 probes, 64 points).
    rng = np.random.default_rng(5)
    mixture = SmoothedMixture(rng.standard_normal((2, 20)), [0.3, 0.5], [1.0, 1.0])
    x = mixture.sample(64, 0.1, seed=4)
    log_p = probability_flow_log_prob(
        mixture.energy, x, 0.1, 2.0, lambda y: mixture.energy(y, 2.0),
        n_steps=20, divergence="hutchinson", n_probes=8, seed=1,
    )
    error = ops.convert_to_numpy(log_p) - mixture.log_prob(x, 0.1)
    assert abs(np.mean(error)) < 0.1, np.mean(error)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_steps=0), "`n_steps`"),
        (dict(divergence="trace"), "`divergence`"),
        (dict(sigma_max=0.05), "`sigma_max`"),
        (dict(n_probes=0), "`n_probes`"),
    ],
)
def test_log_prob_rejects_bad_arguments(kwargs, match):
    mixture = SmoothedMixture([[0.0, 0.0]], [1.0], [1.0])
    arguments = dict(sigma=0.1, sigma_max=2.0, n_steps=4)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=match):
        probability_flow_log_prob(
            mixture.energy, np.zeros((2, 2), "float32"),
            log_prob_end=lambda y: mixture.energy(y, 2.0), **arguments,
        )
