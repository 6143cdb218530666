import types

import imageio.v3 as iio
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
