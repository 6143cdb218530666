import keras
import numpy as np
import pytest

import keras_dde
from keras_dde.partition import GaussianProposal
from keras_dde.testing import GaussianMixtureEnergy
from keras_dde.testing import random_covariance


def mmd(a, b, bandwidth=0.5):
    """Squared maximum mean discrepancy with a Gaussian kernel (biased)."""

    def kernel(x, y):
        distances = ((x[:, None] - y[None]) ** 2).sum(-1)
        return np.exp(-distances / (2 * bandwidth**2))

    return kernel(a, a).mean() + kernel(b, b).mean() - 2 * kernel(a, b).mean()


def ring_mixture():
    angles = np.arange(8) * np.pi / 4
    means = 2.8 * np.stack([np.cos(angles), np.sin(angles)], 1)
    energy = GaussianMixtureEnergy(
        means, np.full((8, 2), 0.35**2), weights=np.arange(1, 9), offset=1.0
    )
    dde = keras_dde.DDEModel(energy, sigma=0.1)
    dde.build((None, 2))
    return dde, energy


def test_sample_matches_a_multimodal_target():
    dde, energy = ring_mixture()
    dde.set_data_statistics(energy.sample_numpy(4000, seed=0))
    samples, info = dde.sample(2000, seed=0, return_info=True)
    assert samples.shape == (2000, 2) and samples.dtype == np.float32
    assert 0.45 < info["acceptance"] < 0.7
    # Mode proportions 1/36 .. 8/36 are reproduced.
    nearest = np.argmin(((samples[:, None] - energy.means) ** 2).sum(-1), 1)
    shares = np.bincount(nearest, minlength=8) / len(samples)
    np.testing.assert_allclose(shares, np.arange(1, 9) / 36, atol=0.03)
    reference = energy.sample_numpy(2000, seed=5)
    baseline = mmd(energy.sample_numpy(2000, seed=9), reference)
    proposal = GaussianProposal.from_data(reference).sample(2000, seed=1)
    assert mmd(np.asarray(proposal), reference) > 0.02
    assert mmd(samples, reference) < max(3 * baseline, 0.003)


def test_sample_gaussian_moments_in_8d():
    rng = np.random.default_rng(0)
    covariance = random_covariance(8, rng, condition=20.0)
    mean = rng.normal(size=8)
    energy = GaussianMixtureEnergy(mean[None], covariance[None])
    dde = keras_dde.DDEModel(energy, sigma=0.1)
    dde.build((None, 8))
    # A deliberately poor proposal: the chains must fix it.
    proposal = GaussianProposal(mean + 1.0, 3.0 * np.eye(8))
    samples = dde.sample(3000, n_steps=300, proposal=proposal, init="proposal", seed=1)
    np.testing.assert_allclose(samples.mean(0), mean, atol=0.15)
    error = np.linalg.norm(np.cov(samples.T) - covariance) / np.linalg.norm(covariance)
    assert error < 0.12, error


def test_sample_from_a_trained_dde_matches_the_kde():
    x = keras_dde.datasets.toy2d("8gaussians", 2000, seed=0)
    keras.utils.set_random_seed(0)
    dde = keras_dde.DDEModel(
        keras_dde.models.energy_mlp(2, width=32), sigma=0.3, seed=0
    )
    schedule = keras.optimizers.schedules.CosineDecay(1e-2, 1500)
    dde.compile(optimizer=keras.optimizers.Adam(schedule))
    # 1,500 steps, in 15 epochs of 100 (tiled data: fewer per-epoch costs).
    dde.fit(np.tile(x, (25, 1)), batch_size=500, epochs=15, verbose=0)
    samples = dde.sample(1500, seed=0)
    rng = np.random.default_rng(0)
    kde = x[rng.integers(0, len(x), 1500)] + 0.3 * rng.standard_normal((1500, 2))
    kde_again = x[rng.integers(0, len(x), 1500)] + 0.3 * rng.standard_normal((1500, 2))
    baseline = mmd(kde_again, kde)
    assert mmd(samples, kde) < max(5 * baseline, 0.01), (mmd(samples, kde), baseline)


def test_sample_bad_input():
    dde, energy = ring_mixture()
    with pytest.raises(ValueError, match="no data statistics"):
        dde.sample(10)
    dde.set_data_statistics(energy.sample_numpy(100, seed=0))
    with pytest.raises(ValueError, match="`n`"):
        dde.sample(-1)
    with pytest.raises(ValueError, match="init"):
        dde.sample(4, init="prior")
    with pytest.raises(ValueError, match="`init` has 3 samples"):
        dde.sample(4, init=np.zeros((3, 2)))
