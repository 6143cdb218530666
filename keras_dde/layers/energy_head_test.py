import keras
import numpy as np

from keras_dde.layers.energy_head import EnergyHead
from keras_dde.testing import run_layer_test


def test_layer_basics():
    layer = run_layer_test(
        EnergyHead,
        {"kernel_initializer": "ones"},
        np.ones((4, 3), "float32"),
        expected_output_shape=(4,),
        expected_num_trainable_weights=1,
    )
    # No bias: the head is linear with a zero intercept.
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(layer(np.zeros((2, 3), "float32"))), 0.0
    )
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(layer(np.ones((2, 3), "float32"))), 3.0
    )
