import math

import numpy as np
from keras import ops

from keras_dde.layers.damped_fourier_features import DampedFourierFeatures


def test_fourier_features_are_damped_like_gaussian_smoothing():
    layer = DampedFourierFeatures(16, 5.0, seed=3)
    x = np.random.default_rng(1).standard_normal((6, 2)).astype("float32")
    for sigma in (0.05, 0.3):
        log_sigma = np.full((6, 1), math.log(sigma), "float32")
        values = ops.convert_to_numpy(layer([x, log_sigma]))
        b = ops.convert_to_numpy(layer.frequencies).astype("float64")
        damping = np.exp(-0.5 * sigma**2 * (b**2).sum(axis=0))
        phase = x.astype("float64") @ b
        expected = np.concatenate(
            [np.sin(phase) * damping, np.cos(phase) * damping], axis=-1
        )
        np.testing.assert_allclose(values, expected, atol=2e-4)
    # At sigma = 2 the frequencies (|b| ~ 7) are gone: the energy is smooth there.
    far = ops.convert_to_numpy(layer([x, np.full((6, 1), math.log(2.0), "float32")]))
    norms = np.sqrt((ops.convert_to_numpy(layer.frequencies) ** 2).sum(axis=0))
    assert np.abs(far[:, np.tile(norms > 2.5, 2)]).max() < 1e-5
    assert np.mean(norms > 2.5) > 0.8
    again = DampedFourierFeatures(16, 5.0, seed=3)
    again.build([(None, 2), (None, 1)])
    np.testing.assert_array_equal(
        ops.convert_to_numpy(again.frequencies), ops.convert_to_numpy(layer.frequencies)
    )


def test_serialization_round_trip():
    import keras

    layer = DampedFourierFeatures(8, 3.0, seed=1)
    inputs = [np.ones((3, 2), "float32"), np.zeros((3, 1), "float32")]
    outputs = ops.convert_to_numpy(layer(inputs))
    revived = keras.layers.deserialize(keras.layers.serialize(layer))
    revived.set_weights(layer.get_weights())
    np.testing.assert_allclose(ops.convert_to_numpy(revived(inputs)), outputs, atol=1e-6)
    assert revived.get_config()["scale"] == 3.0
