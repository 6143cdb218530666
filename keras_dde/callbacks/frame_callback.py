"""Frames drawn during `fit` on a schedule, and written as a GIF: `FrameCallback`."""

import numbers
import os
import time
import warnings

import keras
import numpy as np

from keras_dde.utils.files import check_output_path
from keras_dde.utils.files import write_gif
from keras_dde.callbacks.thinning import thin_frames
from keras_dde.utils.validation import check_positive_int

UNITS = ("epoch", "batch")


class FrameCallback(keras.callbacks.Callback):
    """Base class of callbacks that draw RGB frames during `fit` and write a GIF.

    Subclasses implement `check_model(model)` (raise early if the model can't
    be drawn) and `render(model, label)` (return an `(H, W, 3)` uint8 array).
    This class decides when to draw, keeps the frames on `.frames`, and
    writes them to `gif_path` at the end of training, atomically.

    Schedule. Every scheduled frame is drawn and kept: `every=1` over a
    4-epoch `fit` gives 4 frames (epochs 1-4), plus the state at the start
    when `initial_frame=True`. When training ends off the schedule (e.g.
    `every=2` over 5 epochs) the final state is drawn too. Only two opt-in
    limits drop frames: `max_overhead` (a time budget, off by default) and
    `max_frames` (a memory bound, on by default); each counts what it
    dropped in `.skipped_frames` and warns once. GIF encoders merge
    identical consecutive frames into one frame shown for their summed time;
    `.frames` keeps all of them.

    Interruptions. Keras calls `on_train_end` only when `fit` completes. When
    `fit` raises (an exception or Ctrl-C), `keras_dde` models call
    `on_train_interrupted(error)` on their callbacks, and the GIF of every
    frame drawn so far is written. With a plain Keras model, call
    `keras_dde.training.notify_interrupted(callbacks, error)` in an
    `except` block, or `frames.write()` in a `finally` block.

    Args:
        gif_path: path of the `.gif` to write, or None to only keep frames.
            Checked (and its folder created) at `on_train_begin`.
        every: a positive int, draw every `every` epochs (or batches), or
            "log" for a log-spaced schedule, dense early and sparse late.
        unit: "epoch" or "batch": what `every` counts. Batch hooks run once
            per `steps_per_execution` steps, so frames fall on those bounds.
        num_frames: int, number of frames of the "log" schedule.
        max_overhead: None (default: draw every scheduled frame) or a
            fraction such as 0.1: skip a scheduled frame when drawing it (and
            its share of writing the GIF) would take this callback past that
            fraction of the training time so far. Each frame callback has its
            own budget. The first and last frames are always drawn.
        max_frames: int or None. When more frames are kept, every second
            one is dropped (`keras_dde.callbacks.thin_frames`) and later
            scheduled frames are thinned alike, so memory and GIF size stay
            bounded; warns once. None keeps every frame.
        initial_frame: bool, also draw a frame at the start of training.
        fps: float, GIF frames per second.
        verbose: int, 1 prints where the GIF was written.

    Example:
    ```python
    frames = keras_dde.callbacks.DensityFrames("density.gif", every=5)
    dde.fit(x, batch_size=512, epochs=200, callbacks=[frames])
    len(frames.frames), frames.frames[0].shape  # 40 frames
    ```

    References:
        - [Bigdeli et al., 2020](https://arxiv.org/abs/2001.02728)
    """

    def __init__(
        self,
        gif_path=None,
        every=1,
        unit="epoch",
        num_frames=50,
        max_overhead=None,
        max_frames=300,
        initial_frame=False,
        fps=10,
        verbose=0,
    ):
        super().__init__()
        if gif_path is not None:
            if not isinstance(gif_path, (str, os.PathLike)):
                raise TypeError(
                    f"`gif_path` must be a path (str) or None; received {gif_path!r}."
                )
            if not os.fspath(gif_path).lower().endswith(".gif"):
                raise ValueError(
                    f"`gif_path` must end with .gif; received {os.fspath(gif_path)!r}."
                )
        self.gif_path = gif_path
        if isinstance(every, str):
            if every != "log":
                raise ValueError(
                    f"`every` must be a positive int or 'log'; received {every!r}."
                )
        else:
            every = check_positive_int(every, "every")
        self.every = every
        if unit not in UNITS:
            raise ValueError(f"`unit` must be one of {UNITS}; received {unit!r}.")
        self.unit = unit
        self.num_frames = check_positive_int(num_frames, "num_frames")
        if max_overhead is not None:
            if isinstance(max_overhead, bool) or not isinstance(
                max_overhead, numbers.Real
            ) or not max_overhead > 0:
                raise ValueError(
                    "`max_overhead` must be a positive fraction (e.g. 0.1) or None; "
                    f"received {max_overhead!r}."
                )
        self.max_overhead = max_overhead
        self.max_frames = (
            None if max_frames is None else check_positive_int(max_frames, "max_frames")
        )
        if self.max_frames is not None and self.max_frames < 2:
            raise ValueError(f"`max_frames` must be at least 2; received {max_frames}.")
        self.initial_frame = bool(initial_frame)
        if isinstance(fps, bool) or not isinstance(fps, numbers.Real) or not fps > 0:
            raise ValueError(f"`fps` must be a positive number; received {fps!r}.")
        self.fps = float(fps)
        self.verbose = verbose
        self.frames = []
        self.frame_steps = []
        self.skipped_frames = 0
        self.render_seconds = 0.0
        self.written_path = None
        self._reset_state()

    # --- What subclasses provide -------------------------------------------

    def check_model(self, model):
        """Raises a ValueError/TypeError if `model` cannot be drawn."""

    def render(self, model, label):
        """Returns the frame for `model` as an `(H, W, 3)` uint8 array."""
        raise NotImplementedError

    def release(self):
        """Frees figures and other drawing state (end of training)."""

    # --- Keras hooks ---------------------------------------------------------

    def on_train_begin(self, logs=None):
        self._reset_state()
        self.frames = []
        self.frame_steps = []
        self.skipped_frames = 0
        self.render_seconds = 0.0
        self.written_path = None
        if self.gif_path is not None:
            self._gif_path = check_output_path(self.gif_path, "gif_path", (".gif",))
        self.check_model(self.model)
        self._targets = self._log_targets()
        self._active = True
        self._start = time.perf_counter()
        if self.initial_frame:
            self._draw(0)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self._step = self._epoch_start_step + batch + 1
        if self.unit == "batch":
            self._maybe_draw(self._step)

    def on_epoch_end(self, epoch, logs=None):
        self._epoch_start_step = self._step
        self._epochs_done = epoch + 1
        if self.unit == "epoch":
            self._maybe_draw(epoch + 1)

    def on_train_end(self, logs=None):
        if not self._active:
            return
        counter = self._epochs_done if self.unit == "epoch" else self._step
        try:
            if counter != self._last_counter:
                self._draw(counter)
        finally:
            self._finish()

    def on_train_interrupted(self, error=None):
        """Writes the frames drawn so far; called when `fit` raised `error`.

        `keras_dde` models call it from their `fit` (see
        `keras_dde.training.notify_interrupted`). It never raises: a failed
        write is a warning, so the original error goes on unchanged.
        """
        if not self._active:
            return
        try:
            self._finish()
        except Exception as write_error:  # Don't mask the original error.
            warnings.warn(
                f"{type(self).__name__} could not write its GIF after training "
                f"was interrupted: {write_error}",
                RuntimeWarning,
                stacklevel=2,
            )

    # --- Writing -----------------------------------------------------------

    def write(self, path=None):
        """Writes the frames kept so far as a GIF, atomically; returns the path."""
        path = path if path is not None else self.gif_path
        if path is None:
            raise ValueError("No `gif_path` was given; pass `path`.")
        path = check_output_path(path, "path", (".gif",))
        written = write_gif(self.frames, path, fps=self.fps)
        self.written_path = written
        if self.verbose:
            print(
                f"{type(self).__name__}: wrote {len(self.frames)} frames to "
                f"{written}"
            )
        return written

    def _finish(self):
        self._active = False
        try:
            if self.gif_path is not None and self.frames:
                self.write()
        finally:
            self.release()

    # --- Scheduling ----------------------------------------------------------

    def _reset_state(self):
        self._active = False
        self._epoch = 0
        self._epoch_start_step = 0
        self._step = 0
        self._epochs_done = 0
        self._last_counter = None
        self._last_scheduled = 0
        self._scheduled = 0
        self._stride = 1
        self._targets = None
        self._start = None
        self._write_seconds = 0.0
        self._warned = set()

    def _total(self):
        params = getattr(self, "params", None) or {}
        epochs = params.get("epochs")
        if self.unit == "epoch":
            return epochs
        steps = params.get("steps")
        if epochs is None or steps is None:
            return None
        return epochs * steps

    def _log_targets(self):
        if self.every != "log":
            return None
        total = self._total()
        if total is None:
            raise ValueError(
                "`every='log'` needs the number of training "
                f"{self.unit}s up front; with unit='batch' the data must have a "
                "known length (or pass `steps_per_epoch` to `fit`). Use an int "
                "`every` instead."
            )
        targets = np.unique(
            np.round(np.geomspace(1, max(total, 1), self.num_frames)).astype(int)
        )
        return list(targets)

    def _is_scheduled(self, counter):
        if self.every == "log":
            due = False
            while self._targets and self._targets[0] <= counter:
                self._targets.pop(0)
                due = True
            return due
        return counter // self.every > self._last_scheduled // self.every

    def _maybe_draw(self, counter):
        if not self._active or not self._is_scheduled(counter):
            return
        self._last_scheduled = counter
        total = self._total()
        if total is not None and counter >= total:
            return  # The final frame is drawn by on_train_end.
        self._scheduled += 1
        if self._scheduled % self._stride:
            self.skipped_frames += 1
            return
        if self.max_overhead is not None and self.frames and self._over_budget():
            self.skipped_frames += 1
            self._warn_once(
                "max_overhead",
                f"{type(self).__name__} skips scheduled frames (the first at "
                f"{self._label(counter)}) to keep drawing under "
                f"max_overhead={self.max_overhead:g} of the training time; "
                "`.skipped_frames` counts them. Pass max_overhead=None to draw "
                "every scheduled frame.",
            )
            return
        self._draw(counter)

    def _cost(self):
        """Seconds spent on frames so far, with their share of the GIF write."""
        return self.render_seconds + len(self.frames) * self._write_seconds

    def _over_budget(self):
        """Would one more frame take this callback past `max_overhead`?"""
        training = time.perf_counter() - self._start - self._cost()
        estimate = self.render_seconds / len(self.frames) + self._write_seconds
        return self._cost() + estimate > self.max_overhead * training

    def _warn_once(self, key, message):
        if key not in self._warned:
            self._warned.add(key)
            warnings.warn(message, UserWarning, stacklevel=3)

    def _label(self, counter):
        return f"{self.unit} {counter}"

    def _draw(self, counter):
        start = time.perf_counter()
        frame = np.asarray(self.render(self.model, self._label(counter)))
        self.render_seconds += time.perf_counter() - start
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[-1] != 3:
            raise ValueError(
                f"{type(self).__name__}.render must return an (H, W, 3) uint8 "
                f"array; it returned {frame.dtype} {frame.shape}."
            )
        if not self.frames and self.gif_path is not None:
            self._write_seconds = _gif_seconds_per_frame(frame)
        self.frames.append(frame)
        self.frame_steps.append(counter)
        self._last_counter = counter
        if self.max_frames is not None and len(self.frames) > self.max_frames:
            kept = len(self.frames)
            self.frames, self.frame_steps = thin_frames(self.frames, self.frame_steps)
            self.skipped_frames += kept - len(self.frames)
            self._stride *= 2
            self._warn_once(
                "max_frames",
                f"{type(self).__name__} keeps at most max_frames={self.max_frames} "
                f"frames: it dropped {kept - len(self.frames)} (every second "
                "one) and now keeps one scheduled "
                f"frame in {self._stride}; `.skipped_frames` counts "
                "them. Pass max_frames=None to keep every frame (memory grows "
                "with each one).",
            )


def _gif_seconds_per_frame(frame):
    """Time to encode one GIF frame like `frame` (to budget the final write)."""
    import io

    import imageio.v3 as iio

    buffer = io.BytesIO()
    start = time.perf_counter()
    iio.imwrite(buffer, np.stack([frame, frame]), extension=".gif", duration=100)
    return (time.perf_counter() - start) / 2
