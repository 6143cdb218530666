import keras
import numpy as np
import pytest

import keras_dde
from keras_dde.callbacks import SigmaScheduler


def small_dde(sigma=1.0):
    return keras_dde.DDEModel(keras_dde.models.energy_mlp(2, width=8, depth=1), sigma, seed=0)


def test_sets_sigma_each_epoch_and_logs_it():
    x = keras_dde.datasets.toy2d("8gaussians", 256, seed=0)
    dde = small_dde()
    dde.compile()
    schedule = keras_dde.schedules.GeometricSigmaDecay(1.0, 0.1, 0.5, decay_steps=1)
    history = dde.fit(
        x, batch_size=128, epochs=5, verbose=0, callbacks=[SigmaScheduler(schedule)]
    )
    expected = np.maximum(0.1, 0.5 ** np.arange(5))
    np.testing.assert_allclose(history.history["sigma"], expected, rtol=1e-6)
    assert dde.sigma == pytest.approx(0.1)


def test_accepts_a_plain_function_and_rejects_bad_values():
    x = keras_dde.datasets.toy2d("8gaussians", 256, seed=0)
    dde = small_dde()
    dde.compile()
    dde.fit(x, epochs=2, verbose=0, callbacks=[SigmaScheduler(lambda epoch: 0.3)])
    assert dde.sigma == pytest.approx(0.3)
    with pytest.raises(ValueError, match="sigma"):
        dde.fit(x, epochs=1, verbose=0, callbacks=[SigmaScheduler(lambda epoch: -1.0)])
    with pytest.raises(TypeError, match="schedule"):
        SigmaScheduler(0.1)


def test_refuses_a_model_without_sigma():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(loss="mse")
    with pytest.raises(TypeError, match="DDEModel"):
        model.fit(
            np.zeros((4, 2)), np.zeros((4, 1)), verbose=0,
            callbacks=[SigmaScheduler(lambda epoch: 0.1)],
        )
