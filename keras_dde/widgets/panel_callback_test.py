import threading

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

import keras_dde  # noqa: E402
from keras_dde.callbacks import DensityFrames  # noqa: E402
from keras_dde.widgets import PanelCallback  # noqa: E402
from keras_dde.widgets.images import loss_curve_png  # noqa: E402

DATA = keras_dde.datasets.toy2d("8gaussians", 512, seed=0)


def small_dde():
    dde = keras_dde.DDEModel(keras_dde.models.energy_mlp(2, width=8, depth=1),
                             sigma=0.3, seed=0)
    dde.compile(optimizer="adam", steps_per_execution=2)
    return dde


def test_reports_frames_and_epochs_and_stops_on_request():
    frames = DensityFrames(resolution=8, max_frames=None, initial_frame=True)
    reported, epochs = [], []
    stop = threading.Event()

    def on_epoch(epoch, logs):
        epochs.append((epoch, logs["loss"]))
        if epoch == 3:
            stop.set()  # As a Stop button would, from any thread.

    callback = PanelCallback(
        frames, on_frames=lambda new, labels: reported.append(labels),
        on_epoch=on_epoch, stop_event=stop,
    )
    history = small_dde().fit(DATA, batch_size=128, epochs=50, verbose=0,
                              callbacks=[frames, callback])
    assert [epoch for epoch, _ in epochs] == [1, 2, 3]
    assert len(history.history["loss"]) == 3
    assert all(np.isfinite(loss) for _, loss in epochs)
    assert reported == [[0], [1], [2], [3]]


def test_a_stop_requested_before_fit_is_kept():
    stop = threading.Event()
    stop.set()
    history = small_dde().fit(DATA, batch_size=128, epochs=5, verbose=0,
                              callbacks=[PanelCallback(stop_event=stop)])
    assert len(history.history["loss"]) == 1


def test_loss_curve_png_with_non_finite_values():
    png = loss_curve_png({"epoch": [1, 2, 3], "loss": [2.0, 1.5, float("nan")]})
    assert png.startswith(b"\x89PNG")
    assert loss_curve_png({"epoch": []}).startswith(b"\x89PNG")


def test_bad_arguments():
    with pytest.raises(TypeError, match="on_frames"):
        PanelCallback(on_frames="print")
