import types

import imageio.v3 as iio
import keras
import numpy as np
import pytest

import keras_dde
from keras_dde.callbacks import SampleFrames

DATA = keras_dde.datasets.toy2d("2spirals", 512, seed=0)
NOISY = DATA[:200] + 0.3 * np.random.default_rng(1).standard_normal((200, 2)).astype(
    "float32"
)


def test_sample_gif_with_a_sampler(tmp_path):
    dde = keras_dde.DDEModel(keras_dde.models.energy_mlp(2, width=16, depth=2),
                             sigma=0.3, seed=0)
    dde.compile(optimizer="adam")
    calls = []

    def denoised(model, n):
        calls.append(n)
        return model.denoise(NOISY[:n])

    path = tmp_path / "samples.gif"
    frames = SampleFrames(path, every=2, data=DATA, sampler=denoised, num_samples=150,
                          figsize=(2, 2), dpi=50, initial_frame=True)
    dde.fit(DATA, batch_size=128, epochs=4, verbose=0, callbacks=[frames])
    assert calls == [150, 150, 150]
    gif = iio.imread(path, index=None)
    assert gif.shape[:3] == (3, 100, 100)
    assert not np.array_equal(frames.frames[0], frames.frames[-1])


def test_uses_generate_with_a_fixed_seed():
    seen = []

    def generate(n, seed=None):
        seen.append((n, seed))
        return np.random.default_rng(seed).normal(size=(n, 2))

    gan_like = types.SimpleNamespace(generate=generate)
    frames = SampleFrames(num_samples=7, seed=3)
    sampler = frames._sampler_for(gan_like)
    assert sampler(gan_like).shape == (7, 2) and seen == [(7, 3)]
    with pytest.raises(ValueError, match="sampler="):
        frames._sampler_for(types.SimpleNamespace())


def test_bad_arguments():
    with pytest.raises(TypeError, match="sampler"):
        SampleFrames(sampler="langevin")
    with pytest.raises(ValueError, match="num_samples"):
        SampleFrames(num_samples=0)
    with pytest.raises(ValueError, match="plane"):
        SampleFrames(data=np.zeros((5, 3)))


def test_energy_gan_samples(tmp_path):
    from keras_dde.callbacks.density_frames_test import small_gan

    gan = small_gan()
    frames = SampleFrames(tmp_path / "samples.gif", data=DATA, num_samples=100,
                          figsize=(2, 2), dpi=40, initial_frame=True)
    gan.fit(DATA, batch_size=256, epochs=2, verbose=0, callbacks=[frames])
    assert iio.imread(tmp_path / "samples.gif", index=None).shape[:3] == (3, 80, 80)


def small_image_gan():
    shape = (8, 8, 1)

    def dde():
        energy = keras_dde.models.energy_convnet(shape, filters=(4,), dense_width=8)
        return keras_dde.DDEModel(energy, sigma=0.3, seed=0)

    generator = keras_dde.models.generator_convnet(4, shape, filters=(4,))
    gan = keras_dde.EnergyGAN(generator, dde(), dde())
    gan.compile(generator_optimizer=keras.optimizers.Adam(1e-3),
                dde_optimizer=keras.optimizers.Adam(1e-3))
    return gan


def test_energy_gan_image_grid(tmp_path):
    images = np.random.default_rng(0).uniform(-1, 1, (64, 8, 8, 1)).astype("float32")
    frames = SampleFrames(tmp_path / "grid.gif", data=images, num_samples=100,
                          max_images=9, tile_inches=0.5, dpi=32, initial_frame=True)
    gan = small_image_gan()
    gan.fit(images, batch_size=32, epochs=2, verbose=0, callbacks=[frames])
    gif = iio.imread(tmp_path / "grid.gif", index=None)
    # Initial frame + one per epoch; a 3x3 grid of 16-pixel tiles plus a title.
    assert gif.shape[0] == 3 and gif.shape[2] == 48
    assert frames._range == (-1.0, 1.0)
    # Grey tiles: the three colour channels agree; the generator's samples change.
    assert np.array_equal(gif[..., 0], gif[..., 1])
    assert not np.array_equal(gif[0], gif[-1])


def test_image_frames_without_data_use_the_sample_shape():
    def generate(n, seed=None):
        return np.random.default_rng(seed).uniform(0, 1, (n, 6, 6, 1))

    frames = SampleFrames(num_samples=5, max_images=4, dpi=24, tile_inches=0.5)
    model = types.SimpleNamespace(generate=generate)
    frames.check_model(model)
    frame = frames.render(model, "epoch 0")
    # The first 4 of 5 samples, a 2x2 grid of 12-pixel tiles, range fixed to (0, 1).
    assert frames._range == (0.0, 1.0) and frame.shape[1] == 24


def test_image_frames_take_plot_image_grid_arguments_but_not_its_labels():
    def generate(n, seed=None):
        return np.random.default_rng(seed).uniform(0, 1, (n, 6, 6, 1))

    # `labels` is the scatter plot's legend; image frames leave it out.
    frames = SampleFrames(num_samples=4, dpi=24, tile_inches=0.5, ncols=4,
                          labels=("data", "generated"))
    model = types.SimpleNamespace(generate=generate)
    frames.check_model(model)
    assert frames.render(model, "epoch 0").shape[1] == 48  # 4 tiles in a row
    with pytest.raises(TypeError, match="plot_image_grid"):
        SampleFrames(tiles=4)
