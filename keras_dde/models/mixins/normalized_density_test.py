import math
import warnings

import keras
import numpy as np
import pytest

import keras_dde
from keras_dde.partition import GaussianProposal
from keras_dde.testing import GaussianMixtureEnergy
from keras_dde.testing import random_covariance
from keras_dde.testing import random_mixture_energy

# The targets: 0.05 nats at d=2, 0.25 at d=16.
TOLERANCE = {2: 0.05, 8: 0.15, 16: 0.25, 32: 0.4}


def quadratic_dde(dim, seed, offset=2.5):
    """A DDE whose energy is `offset + log N(x; m, C)`: `log Z = offset`."""
    rng = np.random.default_rng(seed)
    energy = GaussianMixtureEnergy(
        rng.normal(size=(1, dim)), random_covariance(dim, rng)[None], offset=offset
    )
    dde = keras_dde.DDEModel(energy, sigma=0.1)
    dde.build((None, dim))
    return dde, energy


def mixture_dde(dim, seed, offset=-3.0, separation=6.0):
    """Four separated, anisotropic, unequally weighted components."""
    rng = np.random.default_rng(seed)
    covariances = np.stack(
        [0.5 * random_covariance(dim, rng, condition=4.0) for _ in range(4)]
    )
    means = rng.normal(size=(4, dim)) * separation / math.sqrt(2)
    energy = GaussianMixtureEnergy(
        means, covariances, weights=rng.uniform(0.5, 1.5, 4), offset=offset
    )
    dde = keras_dde.DDEModel(energy, sigma=0.1)
    dde.build((None, dim))
    return dde, energy


@pytest.mark.parametrize("dim", [2, 8, 16, 32])
@pytest.mark.parametrize("make", [quadratic_dde, mixture_dde])
def test_log_partition_known_answer(make, dim):
    dde, energy = make(dim, seed=dim)
    data = energy.sample_numpy(4000, seed=1)
    log_z, stderr, info = dde.log_partition(
        data=data, n_steps=300, proposal="gaussian", seed=0, return_info=True
    )
    error = log_z - energy.exact_log_partition()
    assert info["method"] == ("is" if dim <= 2 else "ais")
    assert info["proposal"] == "gaussian"
    assert abs(error) < TOLERANCE[dim], (error, stderr, info)
    # The standard error is honest: neither tiny nor hiding the error.
    assert 0 < stderr < TOLERANCE[dim]
    assert abs(error) < 4 * stderr + 0.01, (error, stderr)


@pytest.mark.parametrize("method", ["is", "ais"])
def test_log_partition_from_statistics_kept_by_the_model(method):
    dde, energy = quadratic_dde(4, seed=3)
    data = energy.sample_numpy(4000, seed=2)
    with pytest.raises(ValueError, match="no data statistics"):
        dde.log_partition()
    dde.set_data_statistics(data)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(dde.data_mean.value), data.mean(0), atol=1e-5
    )
    log_z, stderr = dde.log_partition(method=method, n_steps=200, seed=0)
    assert abs(log_z - energy.exact_log_partition()) < 0.1
    # ... and the result is cached in the model.
    assert float(keras.ops.convert_to_numpy(dde.log_z.value)) == pytest.approx(log_z)


class _ReferenceBugProposal(GaussianProposal):
    """The published reference's error: `x^2` averaged over dimensions."""

    def log_prob_whitened(self, u):
        return -0.5 * keras.ops.mean(keras.ops.square(u), axis=-1) - self.normalizer()


@pytest.mark.parametrize("dim", [2, 16])
def test_known_answer_catches_the_reference_bug(dim):
    dde, energy = quadratic_dde(dim, seed=dim)
    data = energy.sample_numpy(4000, seed=1)
    good = GaussianProposal.from_data(data, sigma=dde.sigma)
    buggy = _ReferenceBugProposal(good.mean, good.covariance)
    method = "is"
    log_z, _ = dde.log_partition(proposal=good, method=method, seed=0)
    wrong, _ = dde.log_partition(proposal=buggy, method=method, seed=0)
    truth = energy.exact_log_partition()
    assert abs(log_z - truth) < TOLERANCE[dim]
    assert abs(wrong - truth) > 5 * TOLERANCE[dim]


def test_log_prob_is_normalised_and_flags_stale_log_z(tmp_path):
    dde, energy = quadratic_dde(2, seed=0)
    data = energy.sample_numpy(2000, seed=0)
    dde.set_data_statistics(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        log_p = dde.log_prob(data[:500])  # computes and caches log Z
    np.testing.assert_allclose(log_p, energy.exact_log_prob(data[:500]), atol=0.05)
    # A .keras round trip keeps the statistics and the cached log Z.
    path = str(tmp_path / "dde.keras")
    dde.save(path)
    loaded = keras.models.load_model(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        np.testing.assert_allclose(loaded.log_prob(data[:10]), log_p[:10], atol=1e-5)


def test_log_prob_warns_after_training():
    x = keras_dde.datasets.toy2d("8gaussians", 512, seed=0)
    energy = keras_dde.models.energy_mlp(2, width=16)
    dde = keras_dde.DDEModel(energy, sigma=0.3, seed=0)
    dde.compile(optimizer=keras.optimizers.Adam(2e-3))
    dde.fit(x, batch_size=256, epochs=1, verbose=0)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(dde.data_mean.value), x.mean(0), atol=1e-5
    )
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(dde.data_covariance.value), np.cov(x.T, bias=True),
        rtol=1e-4,
    )
    dde.log_partition(n_samples=20_000, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        dde.log_prob(x[:4])
    dde.fit(x, batch_size=256, epochs=1, verbose=0)
    with pytest.warns(UserWarning, match="stale"):
        dde.log_prob(x[:4])
    dde.log_partition(n_samples=20_000, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        dde.log_prob(x[:4])


def test_bad_input():
    dde, energy = quadratic_dde(3, seed=0)
    data = energy.sample_numpy(100, seed=0)
    with pytest.raises(ValueError, match="NaN or Inf"):
        dde.log_prob(np.array([[0.0, np.nan, 0.0]]))
    with pytest.raises(ValueError, match="per-sample shape"):
        dde.log_partition(data=np.zeros((10, 2)))
    with pytest.raises(ValueError, match="dimension 2"):
        dde.log_partition(proposal=GaussianProposal(np.zeros(2), np.ones(2)))
    with pytest.raises(ValueError, match="n_samples"):
        dde.log_partition(data=data, n_samples=0)
    with pytest.raises(ValueError, match="method"):
        dde.log_partition(data=data, method="mc")
    with pytest.raises(ValueError, match="`n`"):
        dde.sample(0)
    with pytest.raises(TypeError, match="`n`"):
        dde.sample(2.5)


def test_dataset_statistics_match_array_statistics():
    tf = pytest.importorskip("tensorflow")
    dde, energy = quadratic_dde(3, seed=0)
    data = energy.sample_numpy(1000, seed=0)
    dde.set_data_statistics(tf.data.Dataset.from_tensor_slices(data).batch(128))
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(dde.data_covariance.value),
        np.cov(data.T, bias=True),
        rtol=1e-4,
        atol=1e-6,
    )


def bimodal_dde(dim, seed=None):
    """Issue 13's case: 2 components with random covariances, log Z = 1.7;
    the model keeps the statistics (and mixture) of 4,000 samples."""
    energy = random_mixture_energy(dim, seed=dim if seed is None else seed)
    dde = keras_dde.DDEModel(energy, sigma=0.1)
    dde.build((None, dim))
    dde.set_data_statistics(energy.sample_numpy(4000, seed=1))
    return dde, energy


@pytest.mark.parametrize("dim", [2, 8, 16])
def test_default_log_partition_uses_the_kept_mixture(dim):
    dde, energy = bimodal_dde(dim)
    log_z, stderr, info = dde.log_partition(seed=0, return_info=True)
    error = log_z - energy.exact_log_partition()
    assert (info["method"], info["proposal"]) == ("is", "mixture")
    assert abs(error) < 0.05, (error, stderr)
    assert 0 < stderr < 0.01 and abs(error) < 3 * stderr + 0.002, (error, stderr)


def test_mixture_stderr_is_calibrated():
    # Over 20 seeds the truth lies within 2 standard errors >= 90% of the
    # time, and the stderr is not inflated either (rms error ~ stderr).
    dde, energy = bimodal_dde(16)
    errors, stderrs = [], []
    for seed in range(20):
        log_z, stderr = dde.log_partition(n_samples=4096, seed=seed, verbose=0)
        errors.append(log_z - energy.exact_log_partition())
        stderrs.append(stderr)
    errors, stderrs = np.array(errors), np.array(stderrs)
    assert np.mean(np.abs(errors) <= 2 * stderrs) >= 0.9, (errors, stderrs)
    ratio = np.sqrt(np.mean(errors**2)) / np.median(stderrs)
    assert 0.5 < ratio < 1.6, (ratio, errors, stderrs)


def test_ais_from_the_mixture_bridges_from_its_density():
    # The MALA bridge uses the mixture's log-density as its base; with the
    # standard normal base instead the estimate is off by ~0.15 nats.
    dde, energy = bimodal_dde(16)
    log_z, stderr, info = dde.log_partition(
        method="ais", n_samples=256, n_steps=50, seed=0, return_info=True
    )
    assert (info["method"], info["proposal"]) == ("ais", "mixture")
    error = log_z - energy.exact_log_partition()
    assert abs(error) < 0.03 and abs(error) < 4 * stderr + 0.005, (error, stderr)


def test_proposal_choice():
    dde, energy = bimodal_dde(4)
    assert isinstance(dde.proposal(), keras_dde.partition.GaussianMixtureProposal)
    assert dde.proposal().n_components == 2
    assert isinstance(dde.proposal(proposal="gaussian"), GaussianProposal)
    given = keras_dde.partition.GaussianMixtureProposal(
        np.zeros((1, 4)), np.eye(4)[None]
    )
    assert dde.proposal(proposal=given) is given
    _, _, info = dde.log_partition(
        proposal="gaussian", method="is", n_samples=1000, seed=0, return_info=True
    )
    assert info["proposal"] == "gaussian"
    # `sample` starts from the mixture too, in the right mode proportions.
    x = dde.sample(400, n_steps=4, seed=0, verbose=0)
    # Nearest mean by the components' own (Mahalanobis-free) distance.
    nearest = np.argmin(((x[:, None] - energy.means[None]) ** 2).sum(-1), axis=1)
    np.testing.assert_allclose(
        np.bincount(nearest, minlength=2) / 400, energy.mixture_weights, atol=0.08
    )


def test_mixture_proposal_bad_input():
    dde, _ = quadratic_dde(40, seed=0)  # above MAX_MIXTURE_DIM: none kept
    dde.set_data_statistics(np.random.default_rng(0).normal(size=(200, 40)))
    with pytest.raises(ValueError, match="proposal='gaussian'"):
        dde.log_partition(proposal="mixture")
    with pytest.raises(ValueError, match="'auto', 'gaussian', 'mixture'"):
        dde.log_partition(proposal="gmm")
    with pytest.raises(TypeError, match="GaussianMixtureProposal"):
        dde.log_partition(proposal=np.zeros(40))
    with pytest.raises(ValueError, match="not both"):
        dde.log_partition(data=np.zeros((10, 40)), proposal=dde.proposal())
