"""What a TrainingPanel does, without widgets: train in a thread, keep frames."""

import math
import threading
import time

from keras_dde import recipes
from keras_dde.datasets.toy2d import toy2d
from keras_dde.training import StopOnDivergence
from keras_dde.utils.files import check_output_path
from keras_dde.utils.files import write_gif
from keras_dde.widgets import panel_frames
from keras_dde.widgets.frame_store import FrameStore
from keras_dde.widgets.panel_callback import PanelCallback
from keras_dde.widgets.panel_settings import ENERGY_NETWORK_NOT_MULTISCALE
from keras_dde.widgets.panel_settings import MODEL_KEYS
from keras_dde.widgets.panel_settings import VIEWS
from keras_dde.widgets.panel_settings import check_energy_network
from keras_dde.widgets.panel_settings import check_int
from keras_dde.widgets.panel_settings import check_seed
from keras_dde.widgets.panel_settings import check_settings

# Long runs still get a live picture: a frame at least every this many epochs.
MAX_EPOCHS_PER_FRAME = 10
LEVELS = ("info", "success", "warning", "error")


class PanelListener:
    """What a view of a `PanelState` is told; every method may be overridden.

    The methods marked "training thread" are called from the thread that
    runs `fit`: a widget view should only set widget values there.
    """

    def on_message(self, text, level):
        """A new status `text`; level: info, success, warning or error."""

    def on_training(self, active):
        """Training started (True) or ended (False)."""

    def on_frames(self, view):
        """New frames for `view` (training thread)."""

    def on_epoch(self, done, total, loss):
        """`done` of `total` epochs of this run; `loss` or None (training thread)."""

    def on_history(self):
        """The loss history changed (at most twice a second during training)."""

    def on_cleared(self):
        """The model, its frames and losses were discarded."""


class PanelState:
    """A `TrainingPanel`'s model, training thread, frames, losses and messages.

    Everything the panel does except drawing widgets: it builds the model
    from plain settings (`keras_dde.recipes.build_model`), trains it in a
    background thread with the frame callback of the chosen view, records
    frames per view and the losses per epoch, stops on request, and exports
    GIFs. A view subscribes with a `PanelListener`. Mistakes are reported
    as messages (`message`, `message_level`), never raised: a loss that
    becomes NaN (read from the `StopOnDivergence` guard given to `fit`), an
    export path that can't be written. Bad constructor arguments and bad
    settings passed to `train` raise `ValueError`/`TypeError`.

    The modes: "multiscale" (`recipes.build_multiscale_dde`, a `MultiScaleDDE`
    whose frames show it at its target sigma; the panel's default, since it
    gives separated modes their right masses), "dde" (`recipes.build_dde`,
    a single-sigma `DDEModel`) and "gan" (`recipes.build_energy_gan`).

    Pressing Train again continues the same model, unless a setting that
    defines it (`MODEL_KEYS`: mode, data set, sigma, learning rate, width,
    depth) changed: then a new model starts.

    Args:
        n_samples: int, training points drawn from the data set.
        frames_per_run: int, about how many frames a run records (a frame
            every `epochs // frames_per_run` epochs, but at least every 10).
        resolution: None or int, grid points per side of the density view
            (None: one per pixel shown).
        steps_per_execution: int, training steps per compiled call; Stop
            takes effect between calls.
        seed: int, seeds the data set, the model and the training noise.
        energy_network: None or `energy_network(input_dim, width, depth)`.
        listener: a `PanelListener`, or None.

    Example:
    ```python
    from keras_dde.widgets import PanelState

    state = PanelState(n_samples=2000)
    state.train(dict(mode="multiscale", dataset="2spirals", sigma=0.1,
                     learning_rate=2e-3, width=64, depth=3, batch_size=256,
                     epochs=20, view="density"))
    state.wait()
    state.export("spirals.gif", "density")
    ```
    """

    def __init__(self, n_samples=8000, frames_per_run=50, resolution=None,
                 steps_per_execution=4, seed=0, energy_network=None,
                 listener=None):
        self.n_samples = check_int(n_samples, "n_samples", 2)
        self.frames_per_run = check_int(frames_per_run, "frames_per_run")
        self.resolution = (
            None if resolution is None else check_int(resolution, "resolution", 8, 1024)
        )
        self.steps_per_execution = check_int(steps_per_execution, "steps_per_execution")
        self.seed = check_seed(seed)
        self.energy_network = check_energy_network(energy_network)
        self.listener = listener if listener is not None else PanelListener()
        self.frames = FrameStore(VIEWS)
        self.model = None
        self.history = {"epoch": []}
        self.epochs_done = 0
        self.last_error = None
        self.last_export_path = None
        self.message, self.message_level = "", "info"
        self._model_key = None
        self._discard_model = False
        self._data = {}
        self._stop_event = threading.Event()
        self._thread = None
        self._lock = threading.RLock()
        self._last_history_note = 0.0

    # --- Actions ---------------------------------------------------------------

    @property
    def is_training(self):
        """True while a training thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def train(self, settings):
        """Starts training in a background thread; False if already training.

        Args:
            settings: dict of `panel_settings.SETTING_NAMES` (checked here).
        """
        settings = check_settings(settings)
        with self._lock:
            if self.is_training:
                self.say("Already training: press Stop first.", "warning")
                return False
            self._stop_event.clear()
            self.listener.on_training(True)
            self._thread = threading.Thread(
                target=self._run, args=(settings,), name="keras-dde-panel",
                daemon=True,
            )
            self._thread.start()
        return True

    def stop(self):
        """Asks the training thread to stop after its current train call."""
        self._stop_event.set()
        if self.model is not None:
            self.model.stop_training = True
        if self.is_training:
            self.say("Stopping...")

    def wait(self, timeout=None):
        """Blocks until training ends or `timeout` seconds pass; True if ended."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not self.is_training

    def reset(self):
        """Stops training and discards the model, its frames and its losses."""
        if self.is_training:
            self.stop()
            if not self.wait(timeout=30):
                self.say("Training did not stop; press Reset again.", "error")
                return False
        with self._lock:
            self._clear()
            self.listener.on_cleared()
        self.say("Reset: the next Train starts a new model.")
        return True

    def export(self, path, view):
        """Writes the frames of `view` as a GIF; returns the path or None."""
        frames = self.frames.frames(view)
        if not frames:
            self.say("Nothing to export yet: press Train first.", "warning")
            return None
        try:
            path = check_output_path(path, "GIF file", (".gif",))
            written = write_gif(frames, path, fps=10)
        except (ValueError, TypeError, OSError) as error:
            self.say(f"Could not export the GIF: {error}", "error")
            return None
        self.last_export_path = written
        self.say(f"Wrote {len(frames)} frames ({view}) to {written}", "success")
        return written

    def dataset(self, name):
        """The training points of data set `name` (drawn once, then kept)."""
        if name not in self._data:
            self._data[name] = toy2d(name, self.n_samples, seed=self.seed)
        return self._data[name]

    def data_picture(self, name):
        """RGB picture of data set `name`, shown before training."""
        return panel_frames.data_picture(self.dataset(name), name)

    def last_loss(self):
        for name in ("loss", "generator_loss"):
            values = self.history.get(name)
            if values:
                return values[-1]
        return None

    def say(self, text, level="info"):
        """Sets the status message and tells the listener."""
        if level not in LEVELS:
            raise ValueError(f"`level` must be one of {LEVELS}; received {level!r}.")
        self.message, self.message_level = text, level
        self.listener.on_message(text, level)

    # --- Training thread -------------------------------------------------------

    def _clear(self):
        self.model = None
        self._model_key = None
        self._discard_model = False
        self.epochs_done = 0
        self.history = {"epoch": []}
        self.frames.clear()

    def _run(self, settings):
        try:
            key = tuple(settings[name] for name in MODEL_KEYS)
            if self.model is None or key != self._model_key or self._discard_model:
                restart = self.model is not None
                self.say("Building a new model" + (
                    " (settings changed)..." if restart else "..."
                ))
                with self._lock:
                    self._clear()
                self.listener.on_cleared()
                self.model = self._build_model(settings)
                self._model_key = key
            if self._stop_event.is_set():
                self.say("Stopped before training started.")
                return
            self._fit(settings)
        except Exception as error:  # Shown in the panel, never raised.
            self.last_error = error
            self._discard_model = True
            self.say(f"Training failed: {type(error).__name__}: {error}", "error")
        finally:
            self._last_history_note = time.perf_counter()
            self.listener.on_history()
            self.listener.on_training(False)

    def _build_model(self, settings):
        """One call into the recipes: the settings -> a compiled model."""
        lr, width, depth = settings["learning_rate"], settings["width"], settings["depth"]
        # Stop and the frames act between compiled calls: keep calls short.
        common = dict(sigma=settings["sigma"], width=width, depth=depth, seed=self.seed,
                      steps_per_execution=self.steps_per_execution,
                      energy_network=self.energy_network)
        mode = settings["mode"]
        if mode == "dde":
            common.update(learning_rate=lr)
        elif mode == "multiscale":
            # A constant learning rate (Train continues the model), and its
            # own noise-conditional network: a panel `energy_network` is an
            # energy of x alone.
            if common.pop("energy_network") is not None:
                raise ValueError(
                    ENERGY_NETWORK_NOT_MULTISCALE + " Choose DDE or EnergyGAN, "
                    "or a panel without `energy_network`."
                )
            common.update(learning_rate=lr)
        else:  # The panel's network is the generator's too; the DDEs learn 2x faster.
            # The seed's GAN: the covering GAN's first `fit` trains its
            # teacher and a regression warm-up before any frame is drawn.
            common.update(generator_width=width, generator_depth=depth,
                          generator_learning_rate=lr, dde_learning_rate=2 * lr,
                          objective="kl")
        return recipes.build_model(mode, (2,), **common)

    def _fit(self, settings):
        data = self.dataset(settings["dataset"])
        epochs, view, start = settings["epochs"], settings["view"], self.epochs_done
        frame_callback = panel_frames.frame_callback(
            view, settings["mode"], data, settings["sigma"], self.seed,
            every=min(max(1, epochs // self.frames_per_run), MAX_EPOCHS_PER_FRAME),
            # Frame callbacks label their initial frame "epoch 0"; a model
            # that trained before gets its first frame after an epoch.
            initial_frame=start == 0, resolution=self.resolution,
        )
        panel_callback = PanelCallback(
            frame_callback,
            on_frames=lambda frames, labels: self._add_frames(view, frames, labels),
            on_epoch=lambda epoch, logs: self._end_epoch(epoch, logs, start, epochs),
            stop_event=self._stop_event,
        )
        # First, so that it restores the last finite weights before the
        # frame callback draws the model.
        guard = StopOnDivergence()
        self.listener.on_epoch(0, epochs, None)
        self.say(f"Training epochs {start + 1}-{start + epochs}..." + (
            " (the first steps compile the model)" if start == 0 else ""
        ))
        began = time.perf_counter()
        self.model.fit(
            data, batch_size=settings["batch_size"], epochs=start + epochs,
            initial_epoch=start, verbose=0,
            callbacks=[guard, frame_callback, panel_callback],
        )
        seconds = time.perf_counter() - began
        done = self.epochs_done - start
        if guard.diverged:
            self._discard_model = True
            # The guard's first sentence names the loss and the epoch.
            what = guard.message.split(". ", 1)[0]
            self.say(
                f"{what}. Lower the learning rate or raise sigma, then press "
                "Train (a new model starts).", "error",
            )
        elif self._stop_event.is_set():
            self.say(f"Stopped after {done} epochs ({self.epochs_done} in all).")
        else:
            loss = self.last_loss()
            self.say(
                f"Done: {done} epochs in {seconds:.1f} s ({self.epochs_done} in all)"
                + (f", loss {loss:.4g}." if loss is not None else "."),
                "success",
            )

    def _add_frames(self, view, frames, labels):
        self.frames.add(view, frames, labels)
        self.listener.on_frames(view)

    def _end_epoch(self, epoch, logs, start, epochs):
        self.epochs_done = epoch
        self.history["epoch"].append(epoch)
        for name, value in logs.items():
            values = self.history.setdefault(name, [])
            # Pad names that appear late, so every list lines up with "epoch".
            values.extend([math.nan] * (len(self.history["epoch"]) - 1 - len(values)))
            values.append(value)
        self.listener.on_epoch(min(epoch - start, epochs), epochs, self.last_loss())
        if time.perf_counter() - self._last_history_note > 0.5:
            self._last_history_note = time.perf_counter()
            self.listener.on_history()
