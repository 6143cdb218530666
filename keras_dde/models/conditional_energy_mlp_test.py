import math

import keras
import numpy as np
import pytest
from keras import ops

from keras_dde.models.conditional_energy_mlp import conditional_energy_mlp


def test_shapes_inputs_and_sigma_scaling():
    x = np.random.default_rng(0).standard_normal((5, 3)).astype("float32")
    log_sigma = np.full((5, 1), math.log(0.5), "float32")
    for scaling in ("none", "inverse", "mixed"):
        energy = conditional_energy_mlp(3, width=8, depth=2, sigma_scaling=scaling)
        assert [tuple(t.shape) for t in energy.inputs] == [(None, 3), (None, 1)]
        values = ops.convert_to_numpy(energy([x, log_sigma]))
        assert values.shape == (5,)
        head = keras.Model(energy.inputs, energy.get_layer("energy").output)
        f = ops.convert_to_numpy(head([x, log_sigma]))
        if scaling == "none":
            np.testing.assert_allclose(values, f, rtol=1e-5)
        elif scaling == "inverse":
            np.testing.assert_allclose(values, f / 0.5, rtol=1e-5)
        else:
            other = keras.Model(energy.inputs, energy.get_layer("energy_unscaled").output)
            g = ops.convert_to_numpy(other([x, log_sigma]))
            np.testing.assert_allclose(values, f / 0.5 + g, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="sigma_scaling"):
        conditional_energy_mlp(3, sigma_scaling="sqrt")


def test_no_output_bias_and_smooth_default():
    energy = conditional_energy_mlp(2)
    assert energy.get_layer("energy").weights[0].shape == (128, 1)
    assert len(energy.get_layer("energy").weights) == 1
    assert energy.get_layer("hidden_0_activation").activation.__name__ == "tanh"
    assert energy.get_layer("hidden_1").activation.__name__ == "tanh"
    # Default: width // 2 = 64 damped Fourier frequencies, fixed, whose
    # zero-initialised projection is added to the first layer's: at first,
    # the plain MLP.
    assert energy.get_layer("hidden_0").weights[0].shape == (3, 128)
    fourier = energy.get_layer("fourier")
    assert fourier.weights[0].shape == (2, 64) and not fourier.trainable_weights
    projection = energy.get_layer("fourier_in").weights
    assert len(projection) == 1 and projection[0].shape == (128, 128)
    assert not np.any(ops.convert_to_numpy(projection[0]))
    narrow = conditional_energy_mlp(2, width=32)
    assert narrow.get_layer("fourier").weights[0].shape == (2, 16)
    plain = conditional_energy_mlp(2, fourier_features=0)
    assert plain.get_layer("hidden_0").weights[0].shape == (3, 128)
    assert all(layer.name != "fourier" for layer in plain.layers)


def test_saving_round_trip(tmp_path):
    energy = conditional_energy_mlp(2, width=8, depth=2)
    inputs = [np.ones((4, 2), "float32"), np.zeros((4, 1), "float32")]
    path = str(tmp_path / "energy.keras")
    energy.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(
        ops.convert_to_numpy(loaded(inputs)), ops.convert_to_numpy(energy(inputs)), atol=1e-6
    )


@pytest.mark.parametrize(
    "kwargs, error, match",
    [({"input_dim": 0}, ValueError, "input_dim"),
     ({"input_dim": 2, "width": 1.5}, TypeError, "width"),
     ({"input_dim": 2, "depth": 0}, ValueError, "depth"),
     ({"input_dim": 2, "fourier_features": -1}, ValueError, "fourier_features"),
     ({"input_dim": 2, "fourier_features": 2.0}, TypeError, "fourier_features"),
     ({"input_dim": 2, "fourier_scale": 0.0}, ValueError, "fourier_scale")],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        conditional_energy_mlp(**kwargs)
