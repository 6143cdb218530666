import math

import keras
import numpy as np
import pytest
from keras import ops

import keras_dde
from keras_dde.models.conditional_energy_convnet import conditional_energy_convnet

SHAPE = (8, 8, 1)


def small_net():
    return conditional_energy_convnet(SHAPE, filters=(4, 8), dense_width=16)


def images(n, seed=0):
    rng = np.random.default_rng(seed)
    return np.tanh(rng.standard_normal((n, *SHAPE))).astype("float32")


def test_shapes_and_conditioning_on_sigma():
    energy = small_net()
    assert [tuple(t.shape) for t in energy.inputs] == [(None, *SHAPE), (None, 1)]
    x = images(5)
    low = ops.convert_to_numpy(energy([x, np.full((5, 1), math.log(0.1), "float32")]))
    high = ops.convert_to_numpy(energy([x, np.full((5, 1), math.log(1.0), "float32")]))
    assert low.shape == (5,) and np.all(np.isfinite(low))
    # The noise level reaches every convolution and the dense layer.
    assert np.max(np.abs(low - high)) > 1e-4
    assert len(energy.get_layer("energy").weights) == 1  # no bias


def test_flat_shapes_are_refused_with_the_mlp_named():
    with pytest.raises(ValueError, match="conditional_energy_mlp"):
        conditional_energy_convnet((784,))
    with pytest.raises(ValueError, match="channel axis"):
        conditional_energy_convnet((28, 28))


@pytest.mark.slow
def test_a_multiscale_dde_trains_on_images_and_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    x = images(128)
    dde = keras_dde.MultiScaleDDE(small_net(), sigma=0.2, sigma_max=1.0, seed=0)
    dde.compile(optimizer=keras.optimizers.Adam(1e-3))
    before = [w.copy() for w in dde.get_weights()]
    history = dde.fit(x, batch_size=32, epochs=2, verbose=0)
    assert all(np.isfinite(history.history["loss"]))
    assert any(np.any(a != b) for a, b in zip(before, dde.get_weights()))
    for sigma in (None, 0.5, 1.0):
        assert tuple(dde.energy(x[:4], sigma=sigma).shape) == (4,)
    assert tuple(dde.score(x[:4]).shape) == (4, *SHAPE)
    with pytest.raises(ValueError, match="trained range"):
        dde.energy(x[:4], sigma=2.0)
    path = str(tmp_path / "multiscale_images.keras")
    dde.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(
        ops.convert_to_numpy(loaded.energy(x[:8], sigma=0.5)),
        ops.convert_to_numpy(dde.energy(x[:8], sigma=0.5)),
        rtol=1e-5, atol=1e-5,
    )
