"""A trained DDE is the Gaussian KDE of its training set (Bigdeli et al., 2020).

Trains a small DDE, normalises it by grid quadrature, and compares it with
the exact KDE (same sigma) on held-out points. The tolerance is tight enough
that a KDE whose bandwidth is off by 25% fails it, so a DDE with a mis-scaled
loss, a wrong noise level or a broken input gradient cannot pass.
"""

import keras
import numpy as np
import pytest

import keras_dde
from keras_dde.testing.reference import exact_kde_log_density
from keras_dde.testing.reference import grid_log_partition

SIGMA = 0.3
TOLERANCE_NATS = 0.08


@pytest.fixture(scope="module")
def split():
    train = keras_dde.datasets.toy2d("8gaussians", 2000, seed=0)
    held_out = keras_dde.datasets.toy2d("8gaussians", 1000, seed=1)
    return train, held_out


def mean_abs_error(log_density, train, held_out):
    return np.abs(log_density - exact_kde_log_density(train, held_out, SIGMA)).mean()


def test_tolerance_rejects_a_wrong_bandwidth(split):
    train, held_out = split
    for wrong_sigma in (SIGMA * 1.25, SIGMA / 1.25):
        wrong = exact_kde_log_density(train, held_out, wrong_sigma)
        assert mean_abs_error(wrong, train, held_out) > TOLERANCE_NATS


@pytest.mark.slow
def test_trained_dde_matches_the_exact_kde(split):
    train, held_out = split
    keras.utils.set_random_seed(0)
    dde = keras_dde.DDEModel(
        keras_dde.models.energy_mlp(2, width=32, depth=3), sigma=SIGMA, seed=0
    )
    # Tiling keeps the empirical distribution (so the KDE) and makes epochs
    # long enough that per-epoch overhead does not dominate.
    repeated = np.tile(train, (8, 1))
    epochs, steps = 100, -(-len(repeated) // 256)
    schedule = keras.optimizers.schedules.CosineDecay(3e-3, epochs * steps, alpha=0.01)
    dde.compile(optimizer=keras.optimizers.Adam(schedule))
    dde.fit(repeated, batch_size=256, epochs=epochs, verbose=0)

    log_z = grid_log_partition(dde.energy, (-6, -6), (6, 6), resolution=300)
    log_density = keras.ops.convert_to_numpy(dde.energy(held_out)) - log_z
    assert mean_abs_error(log_density, train, held_out) < TOLERANCE_NATS
