import warnings

import keras
import numpy as np
import pytest
from keras import ops

from keras_dde.models import DDEModel
from keras_dde.models import energy_convnet
from keras_dde.testing import run_model_saving_test


def images(n=64, shape=(12, 12, 1), seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, *shape)).astype("float32")


def small(shape=(12, 12, 1)):
    return energy_convnet(shape, filters=(4, 8), dense_width=16)


def test_defaults_are_the_issue_network_for_28x28():
    model = energy_convnet()
    assert tuple(model.input_shape) == (None, 28, 28, 1)
    assert tuple(model.output_shape) == (None,)
    # conv 320 + 18,496 + 36,928, dense 1,024*128 + 128, head 128 (no bias).
    assert model.count_params() == 187_072
    assert tuple(model.get_layer("conv_2").output.shape) == (None, 4, 4, 64)
    head = model.get_layer("energy")
    assert [tuple(w.shape) for w in head.weights] == [(128, 1)]
    assert all(
        layer.activation is keras.activations.get("swish")
        for layer in model.layers
        if getattr(layer, "activation", None) is not None
    )


def test_symbolic_shapes_of_other_sizes():
    model = energy_convnet((32, 32, 3), filters=(8,), strides=2, dense_width=4)
    assert tuple(model.get_layer("conv_0").output.shape) == (None, 16, 16, 8)
    out = model(images(5, (32, 32, 3)))
    assert tuple(out.shape) == (5,)


def test_the_input_gradient_is_an_image_and_not_zero():
    dde = DDEModel(small(), sigma=0.3, seed=0)
    x = images(4)
    score = ops.convert_to_numpy(dde.score(x))
    assert score.shape == x.shape and np.all(np.isfinite(score))
    assert np.abs(score).max() > 0
    # The score is the gradient: a finite difference along it raises s.
    step = 1e-2 * score / np.linalg.norm(score.reshape(4, -1), axis=1)[:, None, None, None]
    s0 = ops.convert_to_numpy(dde.energy(x))
    s1 = ops.convert_to_numpy(dde.energy(x + step))
    expected = 1e-2 * np.linalg.norm(score.reshape(4, -1), axis=1)
    np.testing.assert_allclose(s1 - s0, expected, rtol=0.05)


def test_a_dde_trains_on_image_tensors(tmp_path):
    keras.utils.set_random_seed(0)
    dde = DDEModel(small(), sigma=0.3, seed=0)
    dde.compile(optimizer=keras.optimizers.Adam(1e-3), steps_per_execution=2)
    x = images(128)
    before = dde.evaluate(x, batch_size=32, verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # swish: no smoothness warning
        history = dde.fit(x, batch_size=32, epochs=3, verbose=0)
    losses = history.history["loss"]
    assert all(np.isfinite(losses))
    assert dde.evaluate(x, batch_size=32, verbose=0) < before
    loaded = run_model_saving_test(dde, x[:8], tmp_path, atol=1e-5)
    np.testing.assert_allclose(
        ops.convert_to_numpy(loaded.denoise(x[:8])),
        ops.convert_to_numpy(dde.denoise(x[:8])),
        atol=1e-5,
    )


def test_flat_data_and_missing_channel_axes_are_refused():
    with pytest.raises(ValueError, match=r"no channel axis.*\(28, 28, 1\).*x\[\.\.\., None\]"):
        energy_convnet((28, 28))
    with pytest.raises(ValueError, match="energy_mlp"):
        energy_convnet((784,))
    with pytest.raises(ValueError, match="energy_mlp"):
        energy_convnet(784)
    with pytest.raises(ValueError, match="positive"):
        energy_convnet((28, 0, 1))
    with pytest.raises(ValueError, match="filters"):
        energy_convnet(filters=())
    with pytest.raises(TypeError, match="filters"):
        energy_convnet(filters=32)
    dde = DDEModel(small(), sigma=0.3)
    dde.compile()
    with pytest.raises(ValueError, match=r"per-sample shape \(144,\).*expects \(12, 12, 1\)"):
        dde.fit(images(8).reshape(8, -1), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"per-sample shape \(12, 12\)"):
        dde.fit(images(8)[..., 0], epochs=1, verbose=0)
