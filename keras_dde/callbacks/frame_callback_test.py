import os
import subprocess
import sys
import textwrap
import time
import types

import imageio.v3 as iio
import keras
import numpy as np
import pytest

import keras_dde
from keras_dde.callbacks import FrameCallback
from keras_dde.callbacks import thin_frames
from keras_dde.callbacks.dde_lookup import resolve_dde
from keras_dde.training import notify_interrupted

DATA = keras_dde.datasets.toy2d("8gaussians", 256, seed=0)


def small_dde(steps_per_execution=1, features=2):
    energy = keras_dde.models.energy_mlp(features, width=8, depth=1)
    dde = keras_dde.DDEModel(energy, sigma=0.3, seed=0)
    dde.compile(optimizer="adam", steps_per_execution=steps_per_execution)
    return dde


class Counter(FrameCallback):
    """Frames that show the frame index and cost `delay` seconds."""

    def __init__(self, delay=0.0, **kwargs):
        super().__init__(**kwargs)
        self.delay = delay

    def render(self, model, label):
        if self.delay:
            time.sleep(self.delay)
        value = (10 * len(self.frames)) % 256
        return np.full((8, 8, 3), value, dtype=np.uint8)


class StopAt(keras.callbacks.Callback):
    def __init__(self, epoch, error):
        super().__init__()
        self.epoch, self.error = epoch, error

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epoch:
            raise self.error


def test_every_epochs_with_initial_and_final_frames(tmp_path):
    frames = Counter(gif_path=tmp_path / "c.gif", every=2, initial_frame=True)
    small_dde().fit(DATA, batch_size=64, epochs=5, verbose=0, callbacks=[frames])
    assert frames.frame_steps == [0, 2, 4, 5]
    assert iio.imread(tmp_path / "c.gif", index=None).shape == (4, 8, 8, 3)


def test_every_epoch_draws_every_scheduled_frame(tmp_path):
    # Distinct frames, read back from the GIF: nothing is skipped by default.
    frames = Counter(gif_path=tmp_path / "c.gif", delay=0.02, every=1)
    small_dde().fit(DATA, batch_size=256, epochs=4, verbose=0, callbacks=[frames])
    assert frames.frame_steps == [1, 2, 3, 4]
    gif = iio.imread(tmp_path / "c.gif", index=None)
    assert gif.shape == (4, 8, 8, 3)
    np.testing.assert_array_equal(gif[:, 0, 0, 0], [0, 10, 20, 30])


def test_every_batches_follows_steps_per_execution(tmp_path):
    frames = Counter(every=3, unit="batch")
    small_dde(steps_per_execution=2).fit(
        DATA, batch_size=32, epochs=2, verbose=0, callbacks=[frames]
    )
    # 8 steps per epoch, hooks after steps 2, 4, ..., 16.
    assert frames.frame_steps == [4, 6, 10, 12, 16]


def test_log_schedule_is_dense_early(tmp_path):
    frames = Counter(every="log", num_frames=5, initial_frame=True)
    small_dde().fit(DATA, batch_size=128, epochs=20, verbose=0, callbacks=[frames])
    assert frames.frame_steps == [0, 1, 2, 4, 9, 20]


def test_max_frames_thins_keeps_the_last_and_warns_once(tmp_path):
    frames = Counter(every=1, max_frames=4, initial_frame=True)
    with pytest.warns(UserWarning, match="max_frames=4.*max_frames=None") as caught:
        small_dde().fit(DATA, batch_size=128, epochs=12, verbose=0,
                        callbacks=[frames])
    assert len([w for w in caught if "max_frames" in str(w.message)]) == 1
    assert len(frames.frames) <= 4
    assert frames.frame_steps[0] == 0 and frames.frame_steps[-1] == 12
    assert frames.frame_steps == sorted(frames.frame_steps)
    # 13 frames were due (epochs 0-12); the rest were dropped, and counted.
    assert frames.skipped_frames == 13 - len(frames.frames)


def test_thin_frames_halves_and_keeps_the_newest():
    assert thin_frames([0, 1, 2, 3, 4, 5]) == [0, 2, 5]
    assert thin_frames([0, 1, 2, 3, 4]) == [0, 2, 4]
    assert thin_frames(["a"]) == ["a"]
    frames, labels = thin_frames([10, 11, 12, 13], ["e0", "e1", "e2", "e3"])
    assert (frames, labels) == ([10, 13], ["e0", "e3"])
    with pytest.raises(ValueError, match="equal length"):
        thin_frames([1, 2], [1])


def test_max_overhead_is_opt_in_skips_expensive_frames_and_warns_once():
    frames = Counter(delay=0.05, every=1, max_overhead=0.1)
    start = time.perf_counter()
    with pytest.warns(UserWarning, match="max_overhead=0.1.*max_overhead=None"):
        small_dde().fit(DATA, batch_size=256, epochs=30, verbose=0,
                        callbacks=[frames])
    elapsed = time.perf_counter() - start
    assert len(frames.frames) < 30
    assert frames.skipped_frames == 30 - len(frames.frames)
    # The first and last frames are always drawn; the rest stay within budget.
    assert frames.render_seconds <= 0.1 * elapsed + 2 * 0.05 + 0.05


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"every": 0}, ValueError, "every"),
        ({"every": -3}, ValueError, "every"),
        ({"every": 1.5}, TypeError, "every"),
        ({"every": "sometimes"}, ValueError, "every"),
        ({"unit": "step"}, ValueError, "unit"),
        ({"gif_path": "frames.png"}, ValueError, "gif_path"),
        ({"gif_path": 7}, TypeError, "gif_path"),
        ({"max_overhead": 0}, ValueError, "max_overhead"),
        ({"max_frames": 1}, ValueError, "max_frames"),
        ({"fps": 0}, ValueError, "fps"),
    ],
)
def test_bad_arguments_fail_at_construction(kwargs, error, match):
    with pytest.raises(error, match=match):
        Counter(**kwargs)


def test_unwritable_path_fails_before_training(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    dde = small_dde()
    frames = Counter(gif_path=blocker / "sub" / "c.gif")
    with pytest.raises(ValueError, match="gif_path.*cannot be written"):
        dde.fit(DATA, batch_size=64, epochs=3, verbose=0, callbacks=[frames])
    assert int(keras.ops.convert_to_numpy(dde.optimizer.iterations)) == 0


@pytest.mark.parametrize("error", [KeyboardInterrupt(), RuntimeError("boom")])
def test_the_models_fit_writes_the_gif_on_interruption(tmp_path, error):
    path = tmp_path / "c.gif"
    frames = Counter(gif_path=path, every=1)
    callbacks = [frames, StopAt(3, error)]
    with pytest.raises(type(error)):
        small_dde().fit(DATA, batch_size=64, epochs=6, verbose=0,
                        callbacks=callbacks)
    assert frames.frame_steps == [1, 2, 3]
    assert iio.imread(path, index=None).shape == (3, 8, 8, 3)
    assert frames.written_path == str(path)


def test_a_plain_keras_model_notifies_the_callbacks_itself(tmp_path):
    # What the docstring tells users of plain Keras models to do.
    class Draw(FrameCallback):
        def render(self, model, label):
            return np.full((4, 4, 3), 40 * len(self.frames), dtype=np.uint8)

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    path = tmp_path / "plain.gif"
    frames = Draw(gif_path=path, every=1)
    callbacks = [frames, StopAt(2, RuntimeError("x"))]
    with pytest.raises(RuntimeError):
        try:
            model.fit(DATA, DATA[:, :1], epochs=5, verbose=0, callbacks=callbacks)
        except BaseException as error:
            notify_interrupted(callbacks, error)
            raise
    assert iio.imread(path, index=None).shape == (2, 4, 4, 3)
    # A second notice (or a late write) is harmless.
    notify_interrupted(callbacks, None)
    assert frames.write() == str(path)


def test_frame_callback_has_no_other_interruption_mechanism():
    import keras_dde.callbacks.frame_callback as module

    assert not hasattr(FrameCallback, "__enter__")
    assert not hasattr(module, "_UNFINISHED")


def test_uncaught_keyboard_interrupt_in_a_script_writes_the_gif(tmp_path):
    path = tmp_path / "c.gif"
    script = textwrap.dedent(
        f"""
        import keras, numpy as np, keras_dde
        from keras_dde.callbacks import DensityFrames
        class Stop(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                if epoch == 1:
                    raise KeyboardInterrupt
        x = keras_dde.datasets.toy2d("rings", 128, seed=0)
        # Seeded, and a large step: GIF writers merge identical consecutive
        # frames, so the two frames must differ for the count to hold.
        keras.utils.set_random_seed(0)
        dde = keras_dde.DDEModel(keras_dde.models.energy_mlp(2, width=4, depth=1), seed=0)
        dde.compile(optimizer=keras.optimizers.Adam(0.05))
        frames = DensityFrames({str(path)!r}, resolution=8)
        dde.fit(x, epochs=5, verbose=0, callbacks=[frames, Stop()])
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True,
        env=dict(os.environ), timeout=120,
    )
    assert result.returncode != 0 and "KeyboardInterrupt" in result.stderr
    # Frames of epochs 1 and 2, written by the DDE's own fit on the way out.
    assert iio.imread(path, index=None).shape == (2, 8, 8, 3)


def test_resolve_dde_names_the_sub_models():
    real, fake = small_dde(), small_dde()
    gan = types.SimpleNamespace(real_dde=real, fake_dde=fake)
    assert resolve_dde(gan, "real", "X") is real
    assert resolve_dde(gan, "fake_dde", "X") is fake
    assert resolve_dde(gan, fake, "X") is fake
    with pytest.raises(ValueError, match="dde='real'"):
        resolve_dde(gan, None, "X")
    with pytest.raises(ValueError, match="no DDE named 'critic'"):
        resolve_dde(gan, "critic", "X")
    with pytest.raises(ValueError, match="no DDE named 'real'"):
        resolve_dde(real, "real", "X")
    assert resolve_dde(real, None, "X") is real


def test_identical_frames_keep_their_time_in_the_gif(tmp_path):
    # Pillow, imageio's GIF writer, merges pixel-identical consecutive frames
    # into one and adds up their durations: `.frames` keeps all of them and
    # the GIF shows them for as long as the frames would have been shown.
    from PIL import Image

    class Same(FrameCallback):
        def render(self, model, label):
            return np.full((4, 4, 3), 7, dtype=np.uint8)

    path = tmp_path / "same.gif"
    frames = Same(gif_path=path, every=1, fps=10)
    small_dde().fit(DATA, batch_size=256, epochs=4, verbose=0, callbacks=[frames])
    assert len(frames.frames) == 4
    with Image.open(path) as gif:
        durations = []
        for index in range(gif.n_frames):
            gif.seek(index)
            durations.append(gif.info["duration"])
    # 4 frames of 100 ms, the last held 1 s longer (write_gif's hold_last).
    assert sum(durations) == 4 * 100 + 1000
