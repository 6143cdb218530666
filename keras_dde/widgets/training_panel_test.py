import time

import numpy as np
import pytest

ipywidgets = pytest.importorskip("ipywidgets")

import imageio.v3 as iio  # noqa: E402
import keras  # noqa: E402

import keras_dde  # noqa: E402
from keras_dde.widgets import TrainingPanel  # noqa: E402


def small_panel(**kwargs):
    """A panel whose runs take a second or two on a laptop CPU."""
    settings = dict(
        dataset="8gaussians", n_samples=1024, batch_size=256, width=16,
        depth=2, epochs=4, resolution=24, frames_per_run=4, seed=0,
    )
    settings.update(kwargs)
    return TrainingPanel(**settings)


def test_train_draws_frames_scrubs_and_exports_a_gif(tmp_path):
    path = tmp_path / "exports" / "spirals.gif"
    panel = small_panel(export_path=str(path))
    data_picture = bytes(panel.image.value)
    assert data_picture.startswith(b"\x89PNG")  # The data set, before training.

    panel.train_button.click()
    assert panel.wait(timeout=120)
    assert panel.message_level == "success", panel.message
    assert isinstance(panel.model, keras_dde.MultiScaleDDE)  # The default.
    # An initial frame, then one per epoch; the picture shows the last one.
    assert len(panel.frames) == 5
    assert bytes(panel.image.value) != data_picture
    assert panel.frame_slider.max == panel.play.max == 4
    assert panel.frame_slider.value == 4
    assert panel.frame_label.value.endswith("frame 5/5, epoch 4")
    assert panel.progress.value == panel.progress.max == 4
    assert panel.history["epoch"] == [1, 2, 3, 4]
    assert np.isfinite(panel.history["loss"]).all()
    assert bytes(panel.loss_image.value).startswith(b"\x89PNG")
    assert not panel.train_button.disabled and panel.stop_button.disabled

    # Scrubbing back shows an earlier frame.
    last_picture = bytes(panel.image.value)
    panel.frame_slider.value = 0
    assert bytes(panel.image.value) != last_picture
    assert "epoch 0" in panel.frame_label.value

    # Train again: the same model continues, its frames append.
    panel.train_button.click()
    assert panel.wait(timeout=120)
    assert panel.epochs_done == 8 and len(panel.frames) == 9
    assert panel.history["epoch"][-1] == 8

    panel.export_button.click()
    assert panel.message_level == "success", panel.message
    gif = iio.imread(path, index=None)
    assert gif.shape[:3] == (9, 24, 24)
    # The density changes through training.
    assert np.abs(gif[0].astype(int) - gif[-1].astype(int)).mean() > 1.0

    # A new setting that defines the model starts a new one; Reset clears.
    panel.width_slider.value = 8
    panel.view_buttons.value = "samples"
    assert panel.frames == []
    panel.train()
    assert panel.wait(timeout=120)
    assert panel.epochs_done == 4 and len(panel.frames) == 5
    assert panel.frames[0].shape == (320, 320, 3)  # Drawn at the size shown.
    panel.reset_button.click()
    assert panel.model is None and panel.frames == [] and panel.epochs_done == 0
    assert panel.frame_label.value == "no frames yet"


def test_stop_ends_a_long_fit_within_two_seconds(tmp_path):
    panel = small_panel(epochs=100_000, frames_per_run=100_000)
    panel.train()
    deadline = time.monotonic() + 120
    while panel.epochs_done < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert panel.is_training and panel.epochs_done >= 20

    # The panel responds while training runs: an export of the frames so far.
    assert panel.export(str(tmp_path / "so_far.gif")) is not None
    assert iio.imread(tmp_path / "so_far.gif", index=None).shape[0] >= 2

    start = time.monotonic()
    panel.stop_button.click()
    assert time.monotonic() - start < 0.2  # The click itself doesn't block.
    assert panel.wait(timeout=2.0), "training still running 2 s after Stop"
    assert time.monotonic() - start < 2.0
    assert panel.message.startswith("Stopped after"), panel.message
    assert panel.epochs_done < 100_000
    assert panel.progress.value == panel.epochs_done
    assert not panel.train_button.disabled and panel.stop_button.disabled
    assert not panel.epochs_text.disabled


def nan_energy(input_dim, width, depth):
    """A real energy network whose output is NaN: training must diverge."""
    inputs = keras.Input((input_dim,))
    hidden = keras.layers.Dense(width, activation="swish")(inputs)
    energy = keras_dde.layers.EnergyHead()(hidden)
    # The square root of a negative number: NaN energies, scores and loss.
    outputs = keras.layers.Lambda(lambda e: keras.ops.sqrt(-1.0 - e * e))(energy)
    return keras.Model(inputs, outputs)


@pytest.mark.filterwarnings("ignore:Training diverged:RuntimeWarning")
def test_nan_loss_is_reported_and_the_panel_stays_usable():
    panel = small_panel(mode="dde", energy_network=nan_energy, epochs=50)
    panel.train_button.click()
    assert panel.wait(timeout=120)
    assert panel.message_level == "error"
    assert "Training diverged" in panel.message and "nan" in panel.message
    assert "learning rate" in panel.message  # It says what to try.
    assert panel.epochs_done < 50
    assert not panel.train_button.disabled

    # Fix the cause and train again in the same panel: a new model starts.
    panel.energy_network = None
    panel.epochs_text.value = 4
    panel.train_button.click()
    assert panel.wait(timeout=120)
    assert panel.message_level == "success", panel.message
    assert panel.epochs_done == 4 and np.isfinite(panel.history["loss"]).all()


def test_export_problems_are_messages(tmp_path):
    panel = small_panel(epochs=1)
    panel.export_button.click()
    assert panel.message_level == "warning" and "press Train" in panel.message

    panel.train()
    assert panel.wait(timeout=120)
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    panel.export_path_text.value = str(blocker / "out.gif")  # Parent is a file.
    panel.export_button.click()
    assert panel.message_level == "error"
    assert "Could not export the GIF" in panel.message
    assert "cannot be written" in panel.message
    assert panel.last_export_path is None

    panel.export_path_text.value = str(tmp_path / "out.png")
    panel.export_button.click()
    assert panel.message_level == "error" and ".gif" in panel.message

    panel.export_path_text.value = str(tmp_path / "out.gif")
    panel.export_button.click()
    assert panel.message_level == "success"
    assert iio.imread(tmp_path / "out.gif", index=None).shape[0] == 2


def test_sigma_typed_into_the_text_box():
    panel = small_panel(sigma=0.2)
    panel.sigma_text.value = "0"
    assert panel.message_level == "error"
    assert "sigma '0' is not positive" in panel.message
    assert "sigma" in panel.status.value
    assert panel.sigma_slider.value == pytest.approx(0.2)
    # Train refuses to start with it, and says why.
    assert panel.train() is False and not panel.is_training
    assert "sigma '0'" in panel.message

    panel.sigma_text.value = "abc"
    assert "is not a number" in panel.message
    panel.sigma_text.value = "1e6"
    assert "outside" in panel.message

    panel.sigma_text.value = "0.05"
    assert panel.sigma_slider.value == pytest.approx(0.05)
    assert panel.message_level == "info"
    # And the slider writes into the text box.
    panel.sigma_slider.value = 0.5
    assert panel.sigma_text.value == "0.5"


def test_multi_scale_is_the_default_and_the_single_sigma_dde_one_click_away():
    panel = small_panel(epochs=2)
    buttons = panel.mode_buttons
    assert buttons.value == "multiscale" and buttons.index == 0
    assert buttons._options_labels == ("multi-scale", "DDE", "EnergyGAN")
    assert panel.settings()["mode"] == "multiscale"

    buttons.value = "dde"  # One click.
    panel.train()
    assert panel.wait(timeout=120)
    assert panel.message_level == "success", panel.message
    assert type(panel.model) is keras_dde.DDEModel
    assert len(panel.frames) == 3


def test_an_energy_network_needs_a_single_sigma_mode():
    def energy(input_dim, width, depth):
        return keras_dde.models.energy_mlp(input_dim, width=width, depth=depth)

    with pytest.raises(ValueError, match="`energy_network`.*`mode=\"dde\"`"):
        TrainingPanel(energy_network=energy)
    assert small_panel(mode="gan", energy_network=energy).energy_network is energy


def test_energy_gan_mode():
    panel = small_panel(mode="gan", sigma=0.3, epochs=2, view="samples")
    panel.train()
    assert panel.wait(timeout=120)
    assert panel.message_level == "success", panel.message
    assert isinstance(panel.model, keras_dde.EnergyGAN)
    assert {"generator_loss", "real_dde_loss", "fake_dde_loss"} <= set(panel.history)
    assert len(panel.frames) == 3


@pytest.mark.parametrize(
    "argument, value",
    [
        ("dataset", "nope"),
        ("mode", "vae"),
        ("view", "3d"),
        ("sigma", 0.0),
        ("sigma", "0.1"),
        ("learning_rate", 5.0),
        ("batch_size", 0),
        ("width", 1000),
        ("depth", 2.5),
        ("epochs", -1),
    ],
)
def test_bad_arguments_name_the_argument(argument, value):
    with pytest.raises(ValueError, match=f"`{argument}`"):
        TrainingPanel(**{argument: value})


def test_energy_network_must_be_callable():
    with pytest.raises(TypeError, match="energy_network"):
        TrainingPanel(energy_network="mlp")
