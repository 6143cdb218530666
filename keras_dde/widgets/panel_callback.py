import threading

import keras
import numpy as np


class PanelCallback(keras.callbacks.Callback):
    """Connects a `fit` running in a thread to a live display (e.g. widgets).

    A blocking `fit` cannot be stopped from a notebook, so `TrainingPanel`
    runs it in a thread and talks to it through this callback: after every
    train call it checks a stop request and the losses, and at every epoch's
    end it reports the epoch's logs and the frames that a frame callback
    (`DensityFrames`, `VectorFieldFrames`, `SampleFrames`) drew since the
    last report. The receiving functions run in the training thread; they
    should only set widget values.

    Stopping sets `model.stop_training`, which Keras checks after every
    train call (every `steps_per_execution` steps), so a stop takes effect
    within one call. A loss that becomes NaN or infinite is not its
    business: the `StopOnDivergence` guard that the models' `fit` adds (or
    one passed in `callbacks`) stops training and says why.

    Args:
        frame_callback: a `keras_dde.callbacks.FrameCallback` placed before
            this callback in `fit`'s list, or None. Give it
            `max_frames=None`: thinning would renumber the frames reported.
        on_frames: None or `on_frames(frames, labels)`, called with the new
            RGB frames and their epochs (or steps).
        on_epoch: None or `on_epoch(epoch, logs)`, called at each epoch's end
            with the 1-based epoch and the logs as python floats.
        stop_event: a `threading.Event`; setting it stops training.

    Example:
    ```python
    import threading

    from keras_dde.widgets import PanelCallback

    def print_count(frames, labels):
        print(len(frames), "new frames")

    stop = threading.Event()
    frames = keras_dde.callbacks.DensityFrames(max_frames=None)
    panel = PanelCallback(frames, on_frames=print_count, stop_event=stop)
    thread = threading.Thread(
        target=dde.fit, args=(x,), kwargs={"epochs": 1000,
                                           "callbacks": [frames, panel]})
    thread.start()
    stop.set()  # from anywhere: training ends after the current train call
    thread.join()
    ```
    """

    def __init__(self, frame_callback=None, on_frames=None, on_epoch=None,
                 stop_event=None):
        super().__init__()
        for name, function in (("on_frames", on_frames), ("on_epoch", on_epoch)):
            if function is not None and not callable(function):
                raise TypeError(f"`{name}` must be callable or None.")
        self.frame_callback = frame_callback
        self.on_frames = on_frames
        self.on_epoch = on_epoch
        self.stop_event = stop_event if stop_event is not None else threading.Event()
        self._reported = 0

    def on_train_begin(self, logs=None):
        self._reported = 0
        self._report_frames()
        self._check_stop()

    def on_train_batch_end(self, batch, logs=None):
        self._check_stop()

    def on_epoch_end(self, epoch, logs=None):
        if self.on_epoch is not None:
            self.on_epoch(epoch + 1, _floats(logs))
        self._report_frames()
        self._check_stop()

    def on_train_end(self, logs=None):
        # The frame callback, earlier in the list, has drawn its last frame.
        self._report_frames()

    def _check_stop(self):
        # Keras resets `stop_training` when `fit` starts, so a request made
        # before (e.g. while the model compiles) is re-applied here.
        if self.stop_event.is_set():
            self.model.stop_training = True

    def _report_frames(self):
        frame_callback = self.frame_callback
        if frame_callback is None or self.on_frames is None:
            return
        frames = list(frame_callback.frames)
        if len(frames) <= self._reported:
            return
        labels = list(frame_callback.frame_steps)[self._reported:len(frames)]
        new = frames[self._reported:]
        self._reported = len(frames)
        self.on_frames(new, labels)


def _floats(logs):
    """The numeric entries of `logs` as python floats (a device sync)."""
    values = {}
    for name, value in (logs or {}).items():
        try:
            values[name] = float(np.asarray(value))
        except (TypeError, ValueError):
            continue
    return values
