import math

import keras
import numpy as np
import pytest
from keras import ops

from keras_dde.models.conditional_energy_mlp import conditional_energy_mlp


def test_shapes_inputs_and_the_inverse_sigma_scaling():
    energy = conditional_energy_mlp(3, width=8, depth=2)
    assert [tuple(t.shape) for t in energy.inputs] == [(None, 3), (None, 1)]
    x = np.random.default_rng(0).standard_normal((5, 3)).astype("float32")
    log_sigma = np.full((5, 1), math.log(0.5), "float32")
    values = ops.convert_to_numpy(energy([x, log_sigma]))
    assert values.shape == (5,)
    # Everything but the output scaling is shared: f = s * sigma.
    head = keras.Model(energy.inputs, energy.get_layer("energy").output)
    np.testing.assert_allclose(
        values, ops.convert_to_numpy(head([x, log_sigma])) / 0.5, rtol=1e-5
    )


def test_no_output_bias_and_smooth_default():
    energy = conditional_energy_mlp(2)
    assert energy.get_layer("energy").weights[0].shape == (128, 1)
    assert len(energy.get_layer("energy").weights) == 1
    assert energy.get_layer("hidden_0").activation.__name__ == "tanh"


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
    "kwargs, error",
    [({"input_dim": 0}, ValueError), ({"input_dim": 2, "width": 1.5}, TypeError),
     ({"input_dim": 2, "depth": 0}, ValueError)],
)
def test_bad_arguments(kwargs, error):
    with pytest.raises(error):
        conditional_energy_mlp(**kwargs)
