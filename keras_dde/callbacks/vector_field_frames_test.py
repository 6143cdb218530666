import imageio.v3 as iio
import numpy as np
import pytest

import keras_dde
from keras_dde.callbacks import VectorFieldFrames

DATA = keras_dde.datasets.toy2d("rings", 512, seed=0)


def test_vector_field_gif_during_training(tmp_path):
    dde = keras_dde.DDEModel(keras_dde.models.energy_mlp(2, width=16, depth=2),
                             sigma=0.3, seed=0)
    dde.compile(optimizer="adam")
    path = tmp_path / "field.gif"
    frames = VectorFieldFrames(path, every=3, resolution=8, background_resolution=16,
                               data=DATA, figsize=(2, 2), dpi=40, initial_frame=True)
    dde.fit(DATA, batch_size=128, epochs=3, verbose=0, callbacks=[frames])
    gif = iio.imread(path, index=None)
    assert gif.shape[:3] == (2, 80, 80)
    assert not np.array_equal(frames.frames[0], frames.frames[1])
    assert frames._figure is None


def test_high_dimensional_dde_needs_a_plane():
    data = np.zeros((32, 3), dtype="float32")
    dde = keras_dde.DDEModel(keras_dde.models.energy_mlp(3, width=4, depth=1))
    dde.compile(optimizer="adam")
    with pytest.raises(ValueError, match="plane"):
        dde.fit(data, epochs=1, verbose=0, callbacks=[VectorFieldFrames()])


def test_bad_arguments():
    with pytest.raises(ValueError, match="style"):
        VectorFieldFrames(style="arrows")
    with pytest.raises(ValueError, match="every"):
        VectorFieldFrames(every=0)
    with pytest.raises(ValueError, match="background"):
        VectorFieldFrames(background="energy")
