"""PanelState without widgets: a listener records what a view would be told."""

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

import imageio.v3 as iio  # noqa: E402
import keras  # noqa: E402

import keras_dde  # noqa: E402
from keras_dde.widgets import PanelListener  # noqa: E402
from keras_dde.widgets import PanelState  # noqa: E402
from keras_dde.widgets.frame_store import FrameStore  # noqa: E402
from keras_dde.widgets.panel_frames import FRAME_PIXELS  # noqa: E402


class Recorder(PanelListener):
    def __init__(self):
        self.events = []

    def on_message(self, text, level):
        self.events.append(("message", level, text))

    def on_training(self, active):
        self.events.append(("training", active))

    def on_frames(self, view):
        self.events.append(("frames", view))

    def on_epoch(self, done, total, loss):
        self.events.append(("epoch", done, total, loss))

    def named(self, name):
        return [event[1:] for event in self.events if event[0] == name]


def settings(**changes):
    values = dict(mode="dde", dataset="8gaussians", sigma=0.3, learning_rate=2e-3,
                  width=16, depth=2, batch_size=256, epochs=3, view="density")
    values.update(changes)
    return values


def test_trains_continues_and_restarts_when_the_model_changes(tmp_path):
    recorder = Recorder()
    state = PanelState(n_samples=1024, resolution=16, seed=0, listener=recorder)
    assert state.train(settings())
    assert state.wait(timeout=120)
    assert state.message_level == "success", state.message
    assert isinstance(state.model, keras_dde.DDEModel)
    assert state.model.steps_per_execution == 4
    assert state.epochs_done == 3 and state.history["epoch"] == [1, 2, 3]
    assert np.isfinite(state.history["loss"]).all()
    # An initial frame and one per epoch, of the view trained; none elsewhere.
    frames = state.frames.frames("density")
    assert [frame.shape for frame in frames] == [(16, 16, 3)] * 4
    assert state.frames.count("samples") == 0
    assert recorder.named("training") == [(True,), (False,)]
    assert [done for done, total, _ in recorder.named("epoch")] == [0, 1, 2, 3]
    assert recorder.named("frames") and set(recorder.named("frames")) == {("density",)}

    # Same model settings: training continues; another view records its own.
    model = state.model
    state.train(settings(view="samples", batch_size=128))
    assert state.wait(timeout=120)
    assert state.model is model and state.epochs_done == 6
    samples = state.frames.frames("samples")
    # Continued: no initial frame; drawn at the size the panel shows.
    assert len(samples) == 3 and samples[0].shape == (FRAME_PIXELS, FRAME_PIXELS, 3)
    assert state.frames.count("density") == 4

    path = state.export(str(tmp_path / "samples.gif"), "samples")
    assert iio.imread(path, index=None).shape[0] == 3
    assert state.last_export_path == path

    # A setting that defines the model: a new model, frames and losses cleared.
    state.train(settings(width=8))
    assert state.wait(timeout=120)
    assert state.model is not model and state.epochs_done == 3
    assert state.frames.count("samples") == 0 and state.frames.count("density") == 4
    assert state.reset() and state.model is None and not state.frames.any()


def test_energy_gan_from_the_recipe():
    state = PanelState(n_samples=512, resolution=16, seed=3)
    state.train(settings(mode="gan", epochs=1))
    assert state.wait(timeout=120)
    assert state.message_level == "success", state.message
    gan = state.model
    assert isinstance(gan, keras_dde.EnergyGAN)
    assert gan.steps_per_execution == 4
    assert {"generator_loss", "real_dde_loss", "fake_dde_loss"} <= set(state.history)


def test_multiscale_mode_trains_and_draws_frames():
    state = PanelState(n_samples=512, resolution=16, seed=1)
    state.train(settings(mode="multiscale", epochs=2))
    assert state.wait(timeout=180)
    assert state.message_level == "success", state.message
    model = state.model
    assert isinstance(model, keras_dde.MultiScaleDDE)
    assert model.sigma == 0.3 and model.steps_per_execution == 4
    assert _hidden(model) == [16, 16]
    assert state.epochs_done == 2 and np.isfinite(state.history["loss"]).all()
    # sigma_max was set from the data at the first fit, above sigma.
    assert float(keras.ops.convert_to_numpy(model.sigma_max_variable)) > 0.3
    frames = state.frames.frames("density")
    assert [frame.shape for frame in frames] == [(16, 16, 3)] * 3
    # The frames change as the model trains.
    assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).max() > 0
    # The samples view (a denoising step) works for it too.
    state.train(settings(mode="multiscale", epochs=1, view="samples"))
    assert state.wait(timeout=180)
    assert state.model is model and state.frames.count("samples") == 1


def test_multiscale_mode_refuses_an_unconditional_energy_network():
    def energy(input_dim, width, depth):
        return keras_dde.models.energy_mlp(input_dim, width=width, depth=depth)

    state = PanelState(n_samples=256, resolution=16, energy_network=energy)
    state.train(settings(mode="multiscale", epochs=1))
    assert state.wait(timeout=60)
    assert state.message_level == "error"
    assert "`energy_network`" in state.message and "multi-scale" in state.message
    assert state.model is None


def _hidden(model):
    return [layer.units for layer in model.network.layers
            if isinstance(layer, keras.layers.Dense)]


def nan_energy(input_dim, width, depth):
    inputs = keras.Input((input_dim,))
    hidden = keras.layers.Dense(width, activation="swish")(inputs)
    energy = keras_dde.layers.EnergyHead()(hidden)
    outputs = keras.layers.Lambda(lambda e: keras.ops.sqrt(-1.0 - e * e))(energy)
    return keras.Model(inputs, outputs)


@pytest.mark.filterwarnings("ignore:Training diverged:RuntimeWarning")
def test_divergence_is_read_from_the_guard():
    state = PanelState(n_samples=512, resolution=16, energy_network=nan_energy)
    state.train(settings(epochs=50))
    assert state.wait(timeout=120)
    assert state.message_level == "error"
    assert state.message.startswith("Training diverged: loss = nan at epoch 1")
    assert "Lower the learning rate" in state.message
    assert state.epochs_done == 1  # It stopped in the first epoch, of 50.


def test_bad_settings_raise_before_a_thread_starts():
    state = PanelState(n_samples=64)
    with pytest.raises(ValueError, match="`sigma`"):
        state.train(settings(sigma=0.0))
    with pytest.raises(ValueError, match="Missing settings"):
        state.train({"mode": "dde"})
    with pytest.raises(ValueError, match="`view`"):
        state.train(settings(view="3d"))
    assert not state.is_training and state.model is None
    with pytest.raises(ValueError, match="`resolution`"):
        PanelState(resolution=4)
    with pytest.raises(TypeError, match="energy_network"):
        PanelState(energy_network="mlp")


def test_frame_store_thins_every_second_frame_keeping_the_newest():
    store = FrameStore(("a", "b"), max_frames=4)
    frames = [np.full((2, 2, 3), i, dtype=np.uint8) for i in range(6)]
    store.add("a", frames[:4], [0, 1, 2, 3])
    assert store.count("a") == 4
    store.add("a", frames[4:5], [4])  # Five frames: every second, newest kept.
    assert [int(f[0, 0, 0]) for f in store.frames("a")] == [0, 2, 4]
    png, label, index, count = store.png("a", 99)
    assert (label, index, count) == (4, 2, 3) and png.startswith(b"\x89PNG")
    assert store.png("b", 0) is None and store.any()
    store.clear("a")
    assert not store.any()
