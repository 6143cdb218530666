import keras
import numpy as np
import pytest
from keras import ops

from keras_dde.models import generator_convnet
from keras_dde.testing import run_model_saving_test


def latent(n=6, dim=8, seed=0):
    return np.random.default_rng(seed).normal(size=(n, dim)).astype("float32")


def test_defaults_make_28x28_images_in_minus_one_one():
    model = generator_convnet(16)
    assert tuple(model.input_shape) == (None, 16)
    assert tuple(model.output_shape) == (None, 28, 28, 1)
    assert tuple(model.get_layer("reshape").output.shape) == (None, 7, 7, 64)
    assert tuple(model.get_layer("upsample_0").output.shape) == (None, 14, 14, 64)
    x = ops.convert_to_numpy(model(latent(6, 16) * 100))
    assert x.shape == (6, 28, 28, 1)
    assert np.abs(x).max() <= 1.0 and np.abs(x).max() > 0.5  # tanh saturates


def test_other_shapes_and_unbounded_output():
    model = generator_convnet(4, (32, 16, 3), filters=(8, 8, 4), output_activation=None)
    assert tuple(model.get_layer("reshape").output.shape) == (None, 4, 2, 8)
    assert tuple(model(latent(2, 4)).shape) == (2, 32, 16, 3)


def test_trains_and_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    model = generator_convnet(8, (8, 8, 1), filters=(8, 4))
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    z = latent(32)
    target = np.full((32, 8, 8, 1), 0.5, "float32")
    history = model.fit(z, target, epochs=20, batch_size=32, verbose=0).history
    assert history["loss"][-1] < 0.2 * history["loss"][0]
    run_model_saving_test(model, z, tmp_path, atol=1e-5)


def test_bad_shapes():
    with pytest.raises(ValueError, match="no channel axis"):
        generator_convnet(8, (28, 28))
    with pytest.raises(ValueError, match="generator_mlp"):
        generator_convnet(8, (784,))
    with pytest.raises(ValueError, match="multiples of 4"):
        generator_convnet(8, (30, 28, 1))
    with pytest.raises(ValueError, match="latent_dim"):
        generator_convnet(0)
