import keras
import numpy as np
import pytest

import keras_dde
from keras_dde.models.state import data_statistics
from keras_dde.models.state.data_statistics import DataStatistics
from keras_dde.testing import random_mixture_energy


def bimodal(dim=3, n=2000):
    energy = random_mixture_energy(dim, seed=0)
    return energy, energy.sample_numpy(n, seed=1)


def test_keeps_a_mixture_fitted_to_the_data():
    energy, x = bimodal()
    stats = DataStatistics()
    stats.build((None, 3))
    assert stats.mixture() is None
    stats.update(x)
    mixture = stats.mixture(sigma=0.5)
    assert mixture.n_components == 2
    order = np.argsort(mixture.means[:, 0])
    truth = np.argsort(energy.means[:, 0])
    np.testing.assert_allclose(mixture.means[order], energy.means[truth], atol=0.15)
    np.testing.assert_allclose(
        mixture.mixture_weights[order], energy.mixture_weights[truth], atol=0.04
    )
    # Stored with sigma = 0 (widened by 1.1); `mixture(sigma)` adds sigma^2 I.
    bare = stats.mixture()
    np.testing.assert_allclose(
        mixture.covariances - bare.covariances,
        np.broadcast_to(0.25 * np.eye(3), (2, 3, 3)),
        atol=1e-5,
    )


def test_batches_give_a_mixture_from_their_first_rows():
    tf = pytest.importorskip("tensorflow")
    _, x = bimodal()
    stats = DataStatistics()
    stats.build((None, 3))
    stats.update(tf.data.Dataset.from_tensor_slices(x).batch(256))
    from_batches = stats.mixture()
    stats.update(x)
    from_array = stats.mixture()
    assert from_batches.n_components == from_array.n_components == 2
    np.testing.assert_allclose(
        np.sort(from_batches.means[:, 0]), np.sort(from_array.means[:, 0]), atol=1e-3
    )


def test_none_above_the_dimension_limit():
    stats = DataStatistics()
    stats.build((None, data_statistics.MAX_MIXTURE_DIM + 1))
    assert stats.mixture_weights is None and len(stats.weights) == 3
    stats.update(np.random.default_rng(0).normal(size=(100, stats.dim)))
    assert stats.mixture() is None


def test_saved_mixture_and_files_from_before_it(tmp_path, monkeypatch):
    energy, x = bimodal()
    dde = keras_dde.DDEModel(energy, sigma=0.1)
    dde.build((None, 3))
    dde.set_data_statistics(x)
    path = str(tmp_path / "new.keras")
    dde.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(
        loaded.proposal().means, dde.proposal().means, rtol=1e-6
    )
    # A file saved before the mixture weights existed: 3 statistics weights.
    monkeypatch.setattr(data_statistics, "MAX_MIXTURE_DIM", 0)
    old = keras_dde.DDEModel(energy, sigma=0.1)
    old.build((None, 3))
    old.set_data_statistics(x)
    assert len(old.data_statistics.weights) == 3
    old_path = str(tmp_path / "old.keras")
    old.save(old_path)
    monkeypatch.undo()
    loaded = keras.models.load_model(old_path)
    assert len(loaded.data_statistics.weights) == 6
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded.data_mean), x.mean(0), atol=1e-5
    )
    _, _, info = loaded.log_partition(n_samples=2000, seed=0, return_info=True)
    assert info["proposal"] == "gaussian"


def test_the_mixture_is_refitted_only_when_the_data_change(monkeypatch):
    fits = []
    original = DataStatistics.fit_mixture

    def counting_fit(*args, **kwargs):
        fits.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(DataStatistics, "fit_mixture", staticmethod(counting_fit))
    x = keras_dde.datasets.toy2d("8gaussians", 2000, seed=0)
    stats = DataStatistics()
    stats.build((None, 2))
    stats.update(x)
    first = stats.mixture().means.copy()
    stats.update(x.copy())  # Same rows: the stored mixture stands.
    assert len(fits) == 1
    np.testing.assert_array_equal(stats.mixture().means, first)
    stats.update(x, sample_weight=np.linspace(0.5, 1.5, len(x)))
    stats.update(x[::-1] + 1.0)
    assert len(fits) == 3
    assert not np.allclose(stats.mixture().means.mean(0), first.mean(0))
