import html
import math
import numbers
import os
import threading
import time

import ipywidgets as widgets
import keras
import numpy as np

from keras_dde.callbacks.density_frames import DensityFrames
from keras_dde.callbacks.sample_frames import SampleFrames
from keras_dde.callbacks.vector_field_frames import VectorFieldFrames
from keras_dde.datasets.toy2d import toy2d
from keras_dde.datasets.toy2d import toy2d_names
from keras_dde.models.dde_model import DDEModel
from keras_dde.models.energy_gan import EnergyGAN
from keras_dde.models.energy_mlp import energy_mlp
from keras_dde.models.generator_mlp import generator_mlp
from keras_dde.utils.files import check_output_path
from keras_dde.utils.files import write_gif
from keras_dde.plotting.samples import plot_samples
from keras_dde.utils.validation import check_positive_int
from keras_dde.widgets.images import loss_curve_png
from keras_dde.widgets.images import png_bytes
from keras_dde.widgets.panel_callback import PanelCallback

MODES = ("dde", "gan")
VIEWS = ("density", "vector field", "samples")
# Slider ranges, as powers of ten.
SIGMA_EXPONENTS = (-3.0, 1.0)
LEARNING_RATE_EXPONENTS = (-5.0, 0.0)
BATCH_SIZES = (64, 128, 256, 512, 1024)
# Frames kept per view; beyond it every second frame is dropped.
MAX_FRAMES = 300
# Long runs still get a live picture: a frame at least every this many epochs.
MAX_EPOCHS_PER_FRAME = 10
# Seconds between two redraws of the loss curve during training.
LOSS_REDRAW_SECONDS = 0.5
# Pixels the picture is shown at (frames of all views are scaled to it).
IMAGE_PIXELS = 320


class TrainingPanel:
    """A notebook control panel that trains a DDE (or an EnergyGAN) live.

    Pick a 2-D toy data set, set sigma, the learning rate, the batch size
    and the network, press **Train** and watch the density, the score
    field or the samples form, frame by frame; **Stop** ends training
    within a second or two; **Reset** discards the model; **Export GIF**
    writes the recorded frames to the file named beside it. A Play button
    and a slider scrub through the recorded frames, a progress bar counts
    epochs, and the loss curve is drawn beside the picture.

    Training runs in a background thread, so the notebook stays usable and
    the buttons respond while `fit` runs. The pictures come from the frame
    callbacks of `keras_dde.callbacks`; the thread only sets widget values
    (never `Output` contexts, which are not thread safe). Pressing Train
    again continues training the same model, unless a setting that defines
    the model changed (mode, data set, sigma, learning rate, width, depth):
    then a new model starts.

    Mistakes made in the panel are reported in its status line, never raised
    into the notebook: a loss that becomes NaN or infinite (training stops,
    the panel stays usable), an export path that cannot be written, a sigma
    typed into the text box that is not a positive number. Bad arguments to
    the constructor raise `ValueError`/`TypeError` naming the argument.

    The views: "density" is `exp(s(x))` on a grid, "vector field" the score
    `grad_x s(x)`, "samples" the data against, for a DDE, noisy data after
    one denoising step `x~ + sigma^2 grad s(x~)` (cheap, unlike Langevin
    sampling) and, for an EnergyGAN, the generator's samples. For an
    EnergyGAN, density and field are those of the generated samples' DDE,
    which should come to look like the data's.

    Display it as the last expression of a cell (or with `display(panel)`).
    The same actions are methods: `train()`, `stop()`, `reset()`,
    `export(path)`, and `wait(timeout)` blocks until training ends.

    Args:
        dataset: str, one of `keras_dde.datasets.toy2d_names()`.
        mode: "dde" (a `DDEModel`) or "gan" (an `EnergyGAN`).
        sigma: float in [0.001, 10], the noise level (KDE bandwidth).
        learning_rate: float in [1e-5, 1], Adam's learning rate (for an
            EnergyGAN: the generator's; its DDEs use twice as much).
        batch_size: int, samples per training step.
        width: int in [4, 256], units per hidden layer.
        depth: int in [1, 8], hidden layers.
        epochs: int, epochs per press of Train.
        n_samples: int, size of the training set drawn from the data set.
        view: "density", "vector field" or "samples".
        export_path: str, the initial GIF file name of the export box.
        frames_per_run: int, about how many frames a press of Train records
            (a frame every `epochs // frames_per_run` epochs, but at least
            every 10 epochs, so that long runs stay live; beyond 300 frames
            every second older frame is dropped).
        resolution: int, grid points per side of the density view.
        steps_per_execution: int, training steps per compiled call; Stop
            and the NaN check take effect between calls, so keep it small.
        seed: int, seeds the data set and the training noise.
        energy_network: None (`keras_dde.models.energy_mlp`) or a callable
            `energy_network(input_dim, width, depth)` returning an energy
            model, to explore your own architecture.

    Example:
    ```python
    from keras_dde.widgets import TrainingPanel

    panel = TrainingPanel(dataset="2spirals", sigma=0.1, epochs=100)
    panel  # shows the panel; press Train
    # or from code:
    panel.train()
    panel.wait()
    panel.export("spirals.gif")
    ```

    References:
        - [Bigdeli et al., 2020](https://arxiv.org/abs/2001.02728)
        - [ipywidgets](https://ipywidgets.readthedocs.io)
    """

    def __init__(
        self,
        dataset="2spirals",
        mode="dde",
        sigma=0.1,
        learning_rate=2e-3,
        batch_size=256,
        width=64,
        depth=3,
        epochs=100,
        n_samples=8000,
        view="density",
        export_path="training.gif",
        frames_per_run=50,
        resolution=128,
        steps_per_execution=4,
        seed=0,
        energy_network=None,
    ):
        names = toy2d_names()
        if dataset not in names:
            raise ValueError(
                f"`dataset` must be one of {', '.join(names)}; received {dataset!r}."
            )
        if mode not in MODES:
            raise ValueError(f"`mode` must be one of {MODES}; received {mode!r}.")
        if view not in VIEWS:
            raise ValueError(f"`view` must be one of {VIEWS}; received {view!r}.")
        sigma = _check_in_range(sigma, "sigma", SIGMA_EXPONENTS)
        learning_rate = _check_in_range(
            learning_rate, "learning_rate", LEARNING_RATE_EXPONENTS
        )
        batch_size = _check_int(batch_size, "batch_size")
        width = _check_int(width, "width", 4, 256)
        depth = _check_int(depth, "depth", 1, 8)
        epochs = _check_int(epochs, "epochs", 1, 100_000)
        self.n_samples = _check_int(n_samples, "n_samples", 2)
        self.frames_per_run = _check_int(frames_per_run, "frames_per_run")
        self.resolution = _check_int(resolution, "resolution", 8, 1024)
        self.steps_per_execution = _check_int(steps_per_execution, "steps_per_execution")
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            raise ValueError(f"`seed` must be an int; received {seed!r}.")
        self.seed = int(seed)
        if not isinstance(export_path, (str, os.PathLike)):
            raise ValueError(f"`export_path` must be a str; received {export_path!r}.")
        if energy_network is not None and not callable(energy_network):
            raise TypeError(
                "`energy_network` must be None or a callable "
                "`energy_network(input_dim, width, depth)` returning a Keras model; "
                f"received {type(energy_network).__name__}."
            )
        self.energy_network = energy_network

        self.model = None
        self.history = {"epoch": []}
        self.last_error = None
        self.last_export_path = None
        self.message = ""
        self.message_level = "info"
        self._model_key = None
        self._epochs_done = 0
        self._discard_model = False
        self._data = {}
        self._frames = {view_name: [] for view_name in VIEWS}
        self._frame_labels = {view_name: [] for view_name in VIEWS}
        self._frame_pngs = {view_name: [] for view_name in VIEWS}
        self._stop_event = threading.Event()
        self._thread = None
        self._lock = threading.RLock()
        self._last_loss_redraw = 0.0

        self._build_widgets(
            dataset, mode, sigma, learning_rate, batch_size, width, depth,
            epochs, view, os.fspath(export_path),
        )
        self._show_data()
        self.loss_image.value = loss_curve_png(self.history)
        self._say("Pick a data set and settings, then press Train.")

    # --- Layout --------------------------------------------------------------

    def _build_widgets(self, dataset, mode, sigma, learning_rate, batch_size,
                       width, depth, epochs, view, export_path):
        style = {"description_width": "95px"}
        wide = widgets.Layout(width="330px")
        self.dataset_dropdown = widgets.Dropdown(
            options=toy2d_names(), value=dataset, description="data set",
            style=style, layout=wide,
        )
        self.mode_buttons = widgets.ToggleButtons(
            options=[("DDE", "dde"), ("EnergyGAN", "gan")], value=mode,
            description="model", style={**style, "button_width": "100px"},
        )
        self.sigma_slider = widgets.FloatLogSlider(
            value=sigma, base=10, min=SIGMA_EXPONENTS[0], max=SIGMA_EXPONENTS[1],
            step=0.01, description="sigma", readout_format=".3g",
            continuous_update=False, style=style, layout=wide,
        )
        self.sigma_text = widgets.Text(
            value=_format_number(sigma), description="sigma =",
            placeholder="e.g. 0.1", continuous_update=False, style=style,
            layout=widgets.Layout(width="210px"),
        )
        self.learning_rate_slider = widgets.FloatLogSlider(
            value=learning_rate, base=10, min=LEARNING_RATE_EXPONENTS[0],
            max=LEARNING_RATE_EXPONENTS[1], step=0.05, description="learning rate",
            readout_format=".1e", continuous_update=False, style=style, layout=wide,
        )
        self.batch_size_dropdown = widgets.Dropdown(
            options=sorted({*BATCH_SIZES, batch_size}), value=batch_size,
            description="batch size", style=style, layout=wide,
        )
        self.width_slider = widgets.IntSlider(
            value=width, min=4, max=256, step=4, description="width",
            continuous_update=False, style=style, layout=wide,
        )
        self.depth_slider = widgets.IntSlider(
            value=depth, min=1, max=8, description="depth",
            continuous_update=False, style=style, layout=wide,
        )
        self.epochs_text = widgets.BoundedIntText(
            value=epochs, min=1, max=100_000, description="epochs",
            style=style, layout=widgets.Layout(width="210px"),
        )
        self.view_buttons = widgets.ToggleButtons(
            options=list(VIEWS), value=view, description="view",
            style={**style, "button_width": "90px"},
        )
        self.train_button = widgets.Button(
            description="Train", button_style="success", icon="play",
            tooltip="Train (again: continue) for the epochs set above",
        )
        self.stop_button = widgets.Button(
            description="Stop", button_style="danger", icon="stop",
            disabled=True, tooltip="Stop training after the current step",
        )
        self.reset_button = widgets.Button(
            description="Reset", icon="refresh",
            tooltip="Discard the model, its frames and loss curve",
        )
        self.export_path_text = widgets.Text(
            value=export_path, description="GIF file", style={"description_width": "60px"},
            layout=widgets.Layout(width="320px"),
        )
        self.export_button = widgets.Button(
            description="Export GIF", icon="download",
            tooltip="Write the frames of this view to the GIF file",
        )
        image_layout = widgets.Layout(
            width=f"{IMAGE_PIXELS}px", height=f"{IMAGE_PIXELS}px"
        )
        self.image = widgets.Image(format="png", layout=image_layout)
        self.frame_label = widgets.Label(value="no frames yet")
        self.play = widgets.Play(
            value=0, min=0, max=0, interval=150, description="play",
            show_repeat=False,
        )
        self.frame_slider = widgets.IntSlider(
            value=0, min=0, max=0, description="frame", readout=True,
            style={"description_width": "45px"},
            layout=widgets.Layout(width="250px"),
        )
        # Front-end link: the animation runs in the browser; each frame's
        # index still reaches the kernel through the slider's value.
        self._play_link = widgets.jslink(
            (self.play, "value"), (self.frame_slider, "value")
        )
        self.progress = widgets.IntProgress(
            value=0, min=0, max=epochs, description="epochs",
            style={"description_width": "50px"}, layout=widgets.Layout(width="250px"),
        )
        self.progress_label = widgets.Label(value="")
        self.loss_image = widgets.Image(
            format="png", layout=widgets.Layout(width="300px")
        )
        self.status = widgets.HTML(value="")

        # CSS classes name the parts in the page (for styling and browser tests).
        for name in (
            "dataset_dropdown", "sigma_slider", "sigma_text", "epochs_text",
            "train_button", "stop_button", "reset_button", "export_path_text",
            "export_button", "image", "frame_label", "play", "frame_slider",
            "progress", "loss_image", "status",
        ):
            getattr(self, name).add_class("keras-dde-" + name.replace("_", "-"))

        self.sigma_slider.observe(self._on_sigma_slider, names="value")
        self.sigma_text.observe(self._on_sigma_text, names="value")
        self.dataset_dropdown.observe(self._on_dataset, names="value")
        self.view_buttons.observe(self._on_view, names="value")
        self.frame_slider.observe(self._on_frame_slider, names="value")
        self.train_button.on_click(self._guarded(self.train))
        self.stop_button.on_click(self._guarded(self.stop))
        self.reset_button.on_click(self._guarded(self.reset))
        self.export_button.on_click(self._guarded(self.export))

        self._model_controls = [
            self.dataset_dropdown, self.mode_buttons, self.sigma_slider,
            self.sigma_text, self.learning_rate_slider, self.batch_size_dropdown,
            self.width_slider, self.depth_slider, self.epochs_text, self.view_buttons,
        ]
        controls = widgets.VBox([
            self.dataset_dropdown, self.mode_buttons, self.sigma_slider,
            self.sigma_text, self.learning_rate_slider, self.batch_size_dropdown,
            self.width_slider, self.depth_slider, self.epochs_text, self.view_buttons,
        ])
        picture = widgets.VBox([
            self.image, self.frame_label,
            widgets.HBox([self.play, self.frame_slider]),
            widgets.HBox([self.progress, self.progress_label]),
        ])
        buttons = widgets.HBox([
            self.train_button, self.stop_button, self.reset_button,
            self.export_path_text, self.export_button,
        ])
        self.widget = widgets.VBox(
            [widgets.HBox([controls, picture, self.loss_image]), buttons, self.status]
        )

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    # --- Public actions ------------------------------------------------------

    @property
    def is_training(self):
        """True while a training thread runs."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def view(self):
        """The view shown: "density", "vector field" or "samples"."""
        return self.view_buttons.value

    @property
    def frames(self):
        """The RGB frames recorded for the current view (a copy)."""
        return list(self._frames[self.view])

    @property
    def epochs_done(self):
        """Epochs the current model has been trained for."""
        return self._epochs_done

    def train(self, _button=None):
        """Starts training in a background thread; returns False if it can't.

        Continues the current model, or starts a new one if a setting that
        defines it changed since.
        """
        with self._lock:
            if self.is_training:
                self._say("Already training: press Stop first.", "warning")
                return False
            sigma = self._sigma_from_text()
            if sigma is None:
                return False
            settings = self._settings(sigma)
            self._stop_event.clear()
            self._set_training(True)
            self._thread = threading.Thread(
                target=self._run, args=(settings,), name="keras-dde-panel",
                daemon=True,
            )
            self._thread.start()
        return True

    def stop(self, _button=None):
        """Asks the training thread to stop after its current train call."""
        self._stop_event.set()
        if self.model is not None:
            self.model.stop_training = True
        if self.is_training:
            self._say("Stopping...")

    def wait(self, timeout=None):
        """Blocks until training ends or `timeout` seconds pass; True if ended."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not self.is_training

    def reset(self, _button=None):
        """Stops training and discards the model, its frames and its losses."""
        if self.is_training:
            self.stop()
            if not self.wait(timeout=30):
                self._say("Training did not stop; press Reset again.", "error")
                return
        with self._lock:
            self.model = None
            self._model_key = None
            self._epochs_done = 0
            self.history = {"epoch": []}
            for view_name in VIEWS:
                self._frames[view_name] = []
                self._frame_labels[view_name] = []
                self._frame_pngs[view_name] = []
            self.progress.value = 0
            self.progress_label.value = ""
            self._update_scrubber()
            self._show_data()
            self.loss_image.value = loss_curve_png(self.history)
        self._say("Reset: the next Train starts a new model.")

    def export(self, path=None):
        """Writes the current view's frames as a GIF; returns the path or None.

        Args:
            path: the `.gif` file; default the panel's "GIF file" box.
        """
        if path is None:
            path = self.export_path_text.value.strip()
        frames = self.frames
        if not frames:
            self._say("Nothing to export yet: press Train first.", "warning")
            return None
        try:
            path = check_output_path(path, "GIF file", (".gif",))
            written = write_gif(frames, path, fps=10)
        except (ValueError, TypeError, OSError) as error:
            self._say(f"Could not export the GIF: {error}", "error")
            return None
        self.last_export_path = written
        self._say(f"Wrote {len(frames)} frames ({self.view}) to {written}", "success")
        return written

    # --- Training thread -------------------------------------------------------

    def _settings(self, sigma):
        return {
            "mode": self.mode_buttons.value,
            "dataset": self.dataset_dropdown.value,
            "sigma": sigma,
            "learning_rate": float(self.learning_rate_slider.value),
            "width": int(self.width_slider.value),
            "depth": int(self.depth_slider.value),
            "batch_size": int(self.batch_size_dropdown.value),
            "epochs": int(self.epochs_text.value),
            "view": self.view_buttons.value,
        }

    def _run(self, settings):
        try:
            key = tuple(settings[name] for name in (
                "mode", "dataset", "sigma", "learning_rate", "width", "depth"
            ))
            if self.model is None or key != self._model_key or self._discard_model:
                restart = self.model is not None
                self._say("Building a new model" + (
                    " (settings changed)..." if restart else "..."
                ))
                self._new_model(settings)
                self._model_key = key
            if self._stop_event.is_set():
                self._say("Stopped before training started.")
                return
            self._fit(settings)
        except Exception as error:  # Shown in the panel, never raised.
            self.last_error = error
            self._discard_model = True
            self._say(f"Training failed: {type(error).__name__}: {error}", "error")
        finally:
            self._redraw_loss()
            self._set_training(False)

    def _new_model(self, settings):
        for view_name in VIEWS:
            self._frames[view_name] = []
            self._frame_labels[view_name] = []
            self._frame_pngs[view_name] = []
        self._update_scrubber()
        self.history = {"epoch": []}
        self._epochs_done = 0
        self._discard_model = False
        self.model = None
        width, depth, sigma = settings["width"], settings["depth"], settings["sigma"]
        make_energy = self.energy_network or (
            lambda input_dim, width, depth: energy_mlp(input_dim, width=width, depth=depth)
        )
        if settings["mode"] == "dde":
            model = DDEModel(make_energy(2, width, depth), sigma=sigma, seed=self.seed)
            model.compile(
                optimizer=keras.optimizers.Adam(settings["learning_rate"]),
                steps_per_execution=self.steps_per_execution,
            )
        else:
            model = EnergyGAN(
                generator_mlp(8, 2, width=width, depth=depth),
                DDEModel(make_energy(2, width, depth), sigma=sigma, seed=self.seed),
                DDEModel(make_energy(2, width, depth), sigma=sigma, seed=self.seed + 1),
                seed=self.seed,
            )
            model.compile(
                generator_optimizer=keras.optimizers.Adam(
                    settings["learning_rate"], beta_1=0.5
                ),
                dde_optimizer=keras.optimizers.Adam(2 * settings["learning_rate"]),
                steps_per_execution=self.steps_per_execution,
            )
        self.model = model

    def _fit(self, settings):
        data = self._dataset(settings["dataset"])
        epochs = settings["epochs"]
        start = self._epochs_done
        view = settings["view"]
        frame_callback = self._frame_callback(
            view, settings, data,
            every=min(max(1, epochs // self.frames_per_run), MAX_EPOCHS_PER_FRAME),
            # Frame callbacks label their initial frame "epoch 0"; a model
            # that trained before gets its first frame after an epoch.
            initial_frame=start == 0,
        )
        panel_callback = PanelCallback(
            frame_callback,
            on_frames=lambda frames, labels: self._add_frames(view, frames, labels),
            on_epoch=lambda epoch, logs: self._end_epoch(epoch, logs, start, epochs),
            stop_event=self._stop_event,
        )
        self.progress.value = 0
        self.progress.max = epochs
        self._show_latest_frame(view)
        self._say(f"Training epochs {start + 1}-{start + epochs}..." + (
            " (the first steps compile the model)" if start == 0 else ""
        ))
        began = time.perf_counter()
        self.model.fit(
            data, batch_size=settings["batch_size"], epochs=start + epochs,
            initial_epoch=start, verbose=0,
            callbacks=[frame_callback, panel_callback],
        )
        seconds = time.perf_counter() - began
        done = self._epochs_done - start
        if panel_callback.diverged is not None:
            epoch, name, value = panel_callback.diverged
            self._discard_model = True
            self._say(
                f"Training diverged: {name} became {value} in epoch {epoch}. "
                "Lower the learning rate or raise sigma, then press Train "
                "(a new model starts).", "error",
            )
        elif self._stop_event.is_set():
            self._say(f"Stopped after {done} epochs ({self._epochs_done} in all).")
        else:
            loss = self._last_loss()
            self._say(
                f"Done: {done} epochs in {seconds:.1f} s ({self._epochs_done} in all)"
                + (f", loss {loss:.4g}." if loss is not None else "."),
                "success",
            )

    def _frame_callback(self, view, settings, data, every, initial_frame):
        is_gan = settings["mode"] == "gan"
        common = dict(
            every=every, max_overhead=None, max_frames=None,
            initial_frame=initial_frame,
        )
        if view == "density":
            return DensityFrames(
                dde="fake" if is_gan else None, resolution=self.resolution,
                data=data, **common,
            )
        if view == "vector field":
            return VectorFieldFrames(
                dde="fake" if is_gan else None, resolution=20,
                background_resolution=64, data=data, figsize=(4, 4), dpi=64,
                **common,
            )
        if is_gan:
            return SampleFrames(
                data=data, num_samples=1000, seed=self.seed,
                labels=("data", "generated"), figsize=(4, 4), dpi=64, **common,
            )
        rng = np.random.default_rng(self.seed)
        subset = data[rng.choice(len(data), size=min(1000, len(data)), replace=False)]
        noisy = subset + settings["sigma"] * rng.standard_normal(subset.shape).astype(
            subset.dtype
        )
        return SampleFrames(
            data=data, num_samples=len(noisy),
            sampler=lambda model, n: model.denoise(noisy[:n]),
            labels=("data", "denoised noisy data"), figsize=(4, 4), dpi=64,
            **common,
        )

    # --- Called from the training thread: widget values only ----------------

    def _add_frames(self, view, frames, labels):
        pngs = [png_bytes(frame) for frame in frames]
        with self._lock:
            self._frames[view].extend(frames)
            self._frame_labels[view].extend(labels)
            self._frame_pngs[view].extend(pngs)
            if len(self._frames[view]) > MAX_FRAMES:
                for store in (self._frames, self._frame_labels, self._frame_pngs):
                    kept = store[view][::2]
                    if len(store[view]) % 2 == 0:
                        kept.append(store[view][-1])  # Keep the newest frame.
                    store[view] = kept
            if view == self.view:
                self._update_scrubber(follow=True)

    def _end_epoch(self, epoch, logs, start, epochs):
        self._epochs_done = epoch
        self.history["epoch"].append(epoch)
        for name, value in logs.items():
            values = self.history.setdefault(name, [])
            # Pad names that appear late, so every list lines up with "epoch".
            values.extend([math.nan] * (len(self.history["epoch"]) - 1 - len(values)))
            values.append(value)
        self.progress.value = min(epoch - start, epochs)
        loss = self._last_loss()
        self.progress_label.value = f"{epoch - start}/{epochs}" + (
            f"  loss {loss:.4g}" if loss is not None else ""
        )
        if time.perf_counter() - self._last_loss_redraw > LOSS_REDRAW_SECONDS:
            self._redraw_loss()

    def _redraw_loss(self):
        self._last_loss_redraw = time.perf_counter()
        self.loss_image.value = loss_curve_png(self.history)

    def _last_loss(self):
        for name in ("loss", "generator_loss"):
            values = self.history.get(name)
            if values:
                return values[-1]
        return None

    def _set_training(self, training):
        self.train_button.disabled = training
        self.stop_button.disabled = not training
        for control in self._model_controls:
            control.disabled = training

    def _say(self, text, level="info"):
        """Shows `text` in the status line; level: info, success, warning, error."""
        self.message, self.message_level = text, level
        color = {"info": "#333", "success": "#1b7f3b", "warning": "#9a6700",
                 "error": "#b3261e"}[level]
        prefix = {"warning": "&#9888; ", "error": "&#9888; Error: "}.get(level, "")
        self.status.value = (
            f'<span style="color:{color}">{prefix}{html.escape(text)}</span>'
        )

    def _guarded(self, action):
        """A button handler that reports unexpected errors instead of raising."""
        def handler(button):
            try:
                action()
            except Exception as error:
                self.last_error = error
                self._say(f"{type(error).__name__}: {error}", "error")
        return handler

    # --- Frames and the scrubber ---------------------------------------------

    def _update_scrubber(self, follow=False):
        """Fits the slider and Play to the frames; `follow` shows the newest.

        Following happens when the slider was on the last frame: a user who
        scrubbed back keeps their frame while new ones arrive.
        """
        count = len(self._frames[self.view])
        last = max(count - 1, 0)
        at_end = self.frame_slider.value >= self.frame_slider.max
        index = last if (follow and at_end) or not count else min(
            self.frame_slider.value, last
        )
        # Keep every value within its bounds: widen first, narrow last.
        if last >= self.frame_slider.max:
            self.frame_slider.max = self.play.max = last
        # Play's value is set here too, not only through the front-end link:
        # a page that (re)connects links Play -> slider, so a stale Play
        # value would move the slider back.
        self.play.value = index
        self.frame_slider.value = index
        self.frame_slider.max = self.play.max = last
        self._show_frame(index)

    def _show_latest_frame(self, view):
        """Moves the scrubber to the newest frame, so that training is live."""
        if view == self.view and self._frames[view]:
            self.play.value = self.frame_slider.value = self.frame_slider.max
            self._show_frame(self.frame_slider.value)

    def _on_frame_slider(self, change):
        self._show_frame(change["new"])

    def _show_frame(self, index):
        with self._lock:
            pngs = self._frame_pngs[self.view]
            labels = self._frame_labels[self.view]
            if not pngs:
                self.frame_label.value = "no frames yet"
                return
            index = min(max(int(index), 0), len(pngs) - 1)
            if self.image.value != pngs[index]:
                self.image.value = pngs[index]
            self.frame_label.value = (
                f"{self.view}: frame {index + 1}/{len(pngs)}, epoch {labels[index]}"
            )

    def _on_view(self, change):
        self._update_scrubber()
        self._show_data()  # Only when this view has no frames yet.

    def _on_dataset(self, change):
        if not any(self._frames.values()):
            self._show_data()

    def _dataset(self, name):
        if name not in self._data:
            self._data[name] = toy2d(name, self.n_samples, seed=self.seed)
        return self._data[name]

    def _show_data(self):
        """Before training, the picture shows the chosen data set."""
        if self._frames[self.view]:
            return
        data = self._dataset(self.dataset_dropdown.value)
        rgb = plot_samples(
            data, title=f"{self.dataset_dropdown.value}: {len(data)} points",
            figsize=(4, 4), dpi=64, as_array=True, max_points=3000,
        )
        self.image.value = png_bytes(rgb)

    # --- Sigma, typed or slid --------------------------------------------------

    def _on_sigma_slider(self, change):
        text = _format_number(change["new"])
        if _parse_number(self.sigma_text.value) != change["new"]:
            self.sigma_text.value = text

    def _on_sigma_text(self, change):
        sigma = self._sigma_from_text()
        if sigma is not None:
            if abs(self.sigma_slider.value - sigma) > 1e-12 * sigma:
                self.sigma_slider.value = sigma
            if self.message_level == "error" and self.message.startswith("sigma"):
                self._say(f"sigma = {_format_number(sigma)}")

    def _sigma_from_text(self):
        """The typed sigma, or None after showing why it can't be used."""
        text = self.sigma_text.value.strip()
        low, high = 10 ** SIGMA_EXPONENTS[0], 10 ** SIGMA_EXPONENTS[1]
        value = _parse_number(text)
        if value is None or not math.isfinite(value):
            problem = "is not a number"
        elif value <= 0:
            problem = "is not positive: sigma is a noise level (a KDE bandwidth) and must be > 0"
        elif not low <= value <= high:
            problem = f"is outside [{low:g}, {high:g}]"
        else:
            return value
        self._say(f"sigma {text!r} {problem}. Type a value such as 0.1.", "error")
        return None


def _parse_number(text):
    try:
        return float(str(text).strip())
    except ValueError:
        return None


def _format_number(value):
    return f"{value:.4g}"


def _check_in_range(value, name, exponents):
    low, high = 10 ** exponents[0], 10 ** exponents[1]
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"`{name}` must be a number; received {value!r}.")
    value = float(value)
    if not (math.isfinite(value) and low <= value <= high):
        raise ValueError(
            f"`{name}` must be in [{low:g}, {high:g}]; received {value!r}."
        )
    return value


def _check_int(value, name, low=1, high=None):
    try:
        value = check_positive_int(value, name)
    except TypeError as error:
        raise ValueError(str(error)) from error
    if value < low or (high is not None and value > high):
        bounds = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"`{name}` must be an int {bounds}; received {value}.")
    return value
