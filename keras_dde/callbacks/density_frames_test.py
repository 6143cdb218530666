import imageio.v3 as iio
import keras
import numpy as np
import pytest

import keras_dde
from keras_dde.callbacks import DensityFrames

DATA = keras_dde.datasets.toy2d("8gaussians", 512, seed=0)


def small_dde(features=2):
    energy = keras_dde.models.energy_mlp(features, width=16, depth=2)
    dde = keras_dde.DDEModel(energy, sigma=0.3, seed=0)
    dde.compile(optimizer="adam", steps_per_execution=4)
    return dde


def test_density_gif_during_training(tmp_path):
    path = tmp_path / "runs" / "density.gif"
    frames = DensityFrames(path, every=2, resolution=40, data=DATA, initial_frame=True)
    small_dde().fit(DATA, batch_size=64, epochs=6, verbose=0, callbacks=[frames])
    gif = iio.imread(path, index=None)
    assert gif.shape[:3] == (4, 40, 40)
    assert frames.frame_steps == [0, 2, 4, 6]
    # Training changes the picture.
    first, last = frames.frames[0].astype(int), frames.frames[-1].astype(int)
    assert np.abs(first - last).mean() > 1.0
    # The fixed colour scale: every frame reaches the top of the colormap.
    assert all(frame.max() > 200 for frame in frames.frames)


def test_every_epoch_gives_one_frame_per_epoch(tmp_path):
    # Issue 14: `DensityFrames("a.gif", every=1)` over a 4-epoch fit wrote 2
    # frames (the time budget dropped the rest); every scheduled frame is kept.
    path = tmp_path / "a.gif"
    frames = DensityFrames(path, every=1)
    small_dde().fit(DATA, batch_size=64, epochs=4, verbose=0, callbacks=[frames])
    assert frames.frame_steps == [1, 2, 3, 4]
    assert frames.skipped_frames == 0
    assert iio.imread(path, index=None).shape == (4, 200, 200, 3)


class RaiseAtEpochEnd(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epoch:
            raise RuntimeError(f"stop after epoch {self.epoch}")


def test_interrupted_fit_keeps_every_frame_drawn(tmp_path):
    # Issue 14: an exception at the end of epoch 3 of 6 left 1 frame.
    path = tmp_path / "a.gif"
    frames = DensityFrames(path, every=1)
    with pytest.raises(RuntimeError, match="after epoch 3"):
        small_dde().fit(DATA, batch_size=64, epochs=6, verbose=0,
                        callbacks=[frames, RaiseAtEpochEnd(3)])
    assert frames.frame_steps == [1, 2, 3]
    assert frames.written_path == str(path)
    assert iio.imread(path, index=None).shape == (3, 200, 200, 3)


def test_figure_frames_with_axes(tmp_path):
    frames = DensityFrames(every=5, resolution=20, axes=True, figsize=(2, 2),
                           dpi=50, extent=(-3, 3, -3, 3), initial_frame=True)
    small_dde().fit(DATA, batch_size=128, epochs=5, verbose=0, callbacks=[frames])
    assert [f.shape for f in frames.frames] == [(100, 100, 3)] * 2
    assert frames._figure is None  # released at the end of training


def test_high_dimensional_dde_needs_a_plane():
    data = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    dde = small_dde(features=4)
    with pytest.raises(ValueError, match="plane"):
        dde.fit(data, epochs=2, verbose=0, callbacks=[DensityFrames(resolution=8)])
    assert int(keras.ops.convert_to_numpy(dde.optimizer.iterations)) == 0
    frames = DensityFrames(resolution=8, plane=(1, 3), origin=np.ones(4), initial_frame=True)
    dde.fit(data, epochs=2, verbose=0, callbacks=[frames])
    assert len(frames.frames) == 3 and frames.frames[0].shape == (8, 8, 3)


def test_named_dde_missing_on_a_plain_dde():
    dde = small_dde()
    with pytest.raises(ValueError, match="no DDE named 'fake'"):
        dde.fit(DATA, epochs=1, verbose=0, callbacks=[DensityFrames(dde="fake")])


def test_bad_arguments():
    with pytest.raises(ValueError, match="scale"):
        DensityFrames(scale="linear")
    with pytest.raises(ValueError, match="extent"):
        DensityFrames(extent=(1, 0, 0, 1))
    with pytest.raises(TypeError, match="dde"):
        DensityFrames(dde=3)
    with pytest.raises(ValueError, match="data"):
        DensityFrames(data=np.zeros(3))


def small_gan():
    gan = keras_dde.EnergyGAN(
        keras_dde.models.generator_mlp(latent_dim=4, output_dim=2, width=16),
        keras_dde.DDEModel(keras_dde.models.energy_mlp(2, width=16, depth=1),
                           sigma=0.3),
        keras_dde.DDEModel(keras_dde.models.energy_mlp(2, width=16, depth=1),
                           sigma=0.3),
    )
    gan.compile(generator_optimizer=keras.optimizers.Adam(1e-3),
                dde_optimizer=keras.optimizers.Adam(1e-3))
    return gan


def test_real_and_fake_densities_of_an_energy_gan(tmp_path):
    gan = small_gan()
    with pytest.raises(ValueError, match="dde='real'"):
        gan.fit(DATA, epochs=1, verbose=0, callbacks=[DensityFrames(resolution=8)])
    real = DensityFrames(tmp_path / "den_real.gif", dde="real", resolution=16, initial_frame=True)
    fake = DensityFrames(tmp_path / "den_fake.gif", dde="fake", resolution=16, initial_frame=True)
    gan.fit(DATA, batch_size=256, epochs=2, verbose=0, callbacks=[real, fake])
    for name in ("den_real.gif", "den_fake.gif"):
        assert iio.imread(tmp_path / name, index=None).shape[:3] == (3, 16, 16)
    assert not np.array_equal(real.frames[-1], fake.frames[-1])


def test_frames_are_plot_density_pictures_and_take_its_arguments():
    # The frame callbacks take their plot function's keyword arguments: a
    # frame is that function's picture, and an unknown name fails at once.
    dde = small_dde()
    frames = DensityFrames(resolution=12, data=DATA, scale="log_density", cmap="viridis")
    frames.check_model(dde)
    expected = keras_dde.plotting.plot_density(
        dde, resolution=12, data=DATA, scale="log_density", cmap="viridis",
        axes=False, title="epoch 3", as_array=True,
    )
    np.testing.assert_array_equal(frames.render(dde, "epoch 3"), expected)
    with pytest.raises(TypeError, match="plot_density"):
        DensityFrames(colour="red")
    with pytest.raises(TypeError, match="as_array"):
        DensityFrames(as_array=True)
