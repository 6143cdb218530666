import keras
import numpy as np
import pytest
from keras import ops

from keras_dde.layers.energy_head import EnergyHead
from keras_dde.layers.input_gradient import InputGradient
from keras_dde.testing import run_layer_test


def quadratic_energy():
    """s(x) = -|x W|^2 / 2, whose input gradient is -x W W^T."""
    inputs = keras.Input((3,))
    hidden = keras.layers.Dense(4, use_bias=False, name="w")(inputs)
    squared = keras.layers.Lambda(lambda h: -0.5 * ops.sum(h * h, axis=-1))(hidden)
    return keras.Model(inputs, squared)


def test_layer_basics():
    inputs = keras.Input((3,))
    energy = keras.Model(
        inputs, EnergyHead()(keras.layers.Dense(5, activation="tanh")(inputs))
    )
    run_layer_test(
        InputGradient,
        {"layer": energy},
        np.random.default_rng(0).normal(size=(4, 3)).astype("float32"),
        expected_output_shape=(4, 3),
    )


def test_gradient_matches_closed_form():
    energy = quadratic_energy()
    w = ops.convert_to_numpy(energy.get_layer("w").kernel)  # (3, 4)
    x = np.random.default_rng(1).normal(size=(6, 3)).astype("float32")
    values, gradient = InputGradient(energy, return_values=True)(x)
    # s = -|x W|^2 / 2  =>  grad s = -x W W^T
    np.testing.assert_allclose(ops.convert_to_numpy(gradient), -x @ w @ w.T, atol=1e-5)
    np.testing.assert_allclose(
        ops.convert_to_numpy(values), -0.5 * ((x @ w) ** 2).sum(1), atol=1e-5
    )


def test_rejects_non_layers():
    with pytest.raises(TypeError, match="layer"):
        InputGradient(lambda x: x)


def test_score_model_saving_round_trip(tmp_path):
    from keras_dde.testing import run_model_saving_test

    inputs = keras.Input((2,))
    energy = keras.Model(
        inputs, EnergyHead()(keras.layers.Dense(8, activation="swish")(inputs))
    )
    points = keras.Input((2,))
    score_model = keras.Model(points, InputGradient(energy)(points))
    x = np.random.default_rng(0).normal(size=(16, 2)).astype("float32")
    run_model_saving_test(score_model, x, tmp_path)
