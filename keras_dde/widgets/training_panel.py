"""`TrainingPanel`: the panel's widgets (`PanelWidgets`) wired to a `PanelState`."""

import html

from keras_dde.widgets import panel_settings as ps
from keras_dde.widgets.images import loss_curve_png
from keras_dde.widgets.images import png_bytes
from keras_dde.widgets.panel_state import PanelListener
from keras_dde.widgets.panel_state import PanelState
from keras_dde.widgets.panel_widgets import PanelWidgets

COLORS = {"info": "#333", "success": "#1b7f3b", "warning": "#9a6700", "error": "#b3261e"}


class TrainingPanel(PanelWidgets, PanelListener):
    """A notebook control panel that trains a DDE (or an EnergyGAN) live.

    The model is a multi-scale DDE by default (`MultiScaleDDE`: the right
    masses of separated modes); the single-sigma `DDEModel`, which gives
    each separated mode an arbitrary mass (one arm of 2spirals brighter than
    the other), and the EnergyGAN are one click away. Pick a 2-D toy data
    set, set sigma, the learning rate, the batch size and the network,
    press **Train** and watch the density, the score field or the
    samples form, frame by frame; **Stop** ends training within a second
    or two; **Reset** discards the model; **Export GIF**
    writes the recorded frames to the file named beside it. A Play button
    and a slider scrub through the recorded frames, a progress bar counts
    epochs, and the loss curve is drawn beside the picture.

    This class is the view (ipywidgets; the widgets and their layout come
    from `PanelWidgets`); what the panel does (models from
    `keras_dde.recipes`, the training thread, frames, messages) is the
    `keras_dde.widgets.PanelState` on `.state`, usable without widgets.
    Training runs in a background thread, so the notebook stays usable; the
    thread only sets widget values (never `Output` contexts, which are not
    thread safe). Train again continues the same model, unless a setting
    that defines it changed (mode, data set, sigma, learning rate, width,
    depth): then a new model starts. Pictures are drawn at the size they
    are shown (320 px), so they are sharp.

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

    Display it as the last expression of a cell (or `display(panel)`). The
    actions are methods too: `train()`, `stop()`, `reset()`, `export(path)`;
    `wait(timeout)` blocks until training ends.

    Args:
        dataset: str, one of `keras_dde.datasets.toy2d_names()`.
        mode: "multiscale" (`MultiScaleDDE`: right masses of separated
            modes; the default), "dde" (a single-sigma `DDEModel`) or
            "gan" (`EnergyGAN`).
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
        resolution: None (a density value per pixel shown) or int, grid
            points per side of the density view.
        steps_per_execution: int, training steps per compiled call; Stop
            takes effect between calls, so keep it small.
        seed: int, seeds the data set, the networks and the training noise.
        energy_network: None (`keras_dde.models.energy_mlp`) or a callable
            `energy_network(input_dim, width, depth)` returning an energy
            model, to explore your own architecture; with mode "dde" or
            "gan" (the multi-scale model needs an energy of x and sigma).

    Example:
    ```python
    from keras_dde.widgets import TrainingPanel

    panel = TrainingPanel(dataset="2spirals", sigma=0.1, epochs=100)
    panel  # shows the panel (a multi-scale DDE); press Train
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
        mode="multiscale",
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
        resolution=None,
        steps_per_execution=4,
        seed=0,
        energy_network=None,
    ):
        settings = ps.check_settings(
            dict(
                dataset=dataset,
                mode=mode,
                sigma=sigma,
                learning_rate=learning_rate,
                batch_size=batch_size,
                width=width,
                depth=depth,
                epochs=epochs,
                view=view,
            )
        )
        export_path = ps.check_path_text(export_path)
        ps.check_mode_and_energy_network(
            settings["mode"], ps.check_energy_network(energy_network)
        )
        self.state = PanelState(
            n_samples=n_samples,
            frames_per_run=frames_per_run,
            resolution=resolution,
            steps_per_execution=steps_per_execution,
            seed=seed,
            energy_network=energy_network,
            listener=self,
        )
        super().__init__(settings, export_path)
        self._connect()
        self._show_data()
        self.loss_image.value = loss_curve_png(self.state.history)
        self.state.say("Pick a data set and settings, then press Train.")

    def _connect(self):
        """Connects the widgets to the panel's actions."""
        self.sigma_slider.observe(self._on_sigma_slider, names="value")
        self.sigma_text.observe(self._on_sigma_text, names="value")
        self.dataset_dropdown.observe(self._on_dataset, names="value")
        self.view_buttons.observe(self._on_view, names="value")
        self.frame_slider.observe(
            lambda change: self._show_frame(change["new"]), names="value"
        )
        self.train_button.on_click(self._guarded(self.train))
        self.stop_button.on_click(self._guarded(self.stop))
        self.reset_button.on_click(self._guarded(self.reset))
        self.export_button.on_click(self._guarded(self.export))

    # --- The state's attributes, read through the panel ----------------------

    @property
    def model(self):
        """The model, or None."""
        return self.state.model

    @property
    def history(self):
        """Losses per epoch."""
        return self.state.history

    @property
    def epochs_done(self):
        """Epochs the current model has been trained for."""
        return self.state.epochs_done

    @property
    def is_training(self):
        """True while a training thread runs."""
        return self.state.is_training

    @property
    def message(self):
        """The status text."""
        return self.state.message

    @property
    def message_level(self):
        """The status text's level, one of "info", "success", "warning", "error"."""
        return self.state.message_level

    @property
    def last_error(self):
        """The last error reported in the status line, or None."""
        return self.state.last_error

    @property
    def last_export_path(self):
        """The path of the last GIF written, or None."""
        return self.state.last_export_path

    @property
    def energy_network(self):
        """None or the callable that builds the energy (see Args)."""
        return self.state.energy_network

    @energy_network.setter
    def energy_network(self, value):
        self.state.energy_network = ps.check_energy_network(value)

    @property
    def view(self):
        """The view shown, one of "density", "vector field" and "samples"."""
        return self.view_buttons.value

    @property
    def frames(self):
        """The RGB frames recorded for the current view (a copy)."""
        return self.state.frames.frames(self.view)

    # --- Public actions ------------------------------------------------------

    def train(self, _button=None):
        """Starts training in a background thread; returns False if it can't.

        Continues the current model, or starts a new one if a setting that
        defines it changed since.
        """
        if self.is_training:
            self.state.say("Already training: press Stop first.", "warning")
            return False
        sigma = self._sigma_from_text()
        if sigma is None:
            return False
        return self.state.train(self.settings(sigma))

    def stop(self, _button=None):
        """Asks the training thread to stop after its current train call."""
        self.state.stop()

    def wait(self, timeout=None):
        """Blocks until training ends or `timeout` seconds pass; True if ended."""
        return self.state.wait(timeout)

    def reset(self, _button=None):
        """Stops training and discards the model, its frames and its losses."""
        self.state.reset()

    def export(self, path=None):
        """Writes the current view's frames as a GIF; returns the path or None.

        Args:
            path: the `.gif` file; default the panel's "GIF file" box.
        """
        if path is None:
            path = self.export_path_text.value.strip()
        return self.state.export(path, self.view)

    def settings(self, sigma=None):
        """The widgets' settings, as `PanelState.train` takes them."""
        return {
            "mode": self.mode_buttons.value,
            "dataset": self.dataset_dropdown.value,
            "sigma": float(self.sigma_slider.value) if sigma is None else sigma,
            "learning_rate": float(self.learning_rate_slider.value),
            "width": int(self.width_slider.value),
            "depth": int(self.depth_slider.value),
            "batch_size": int(self.batch_size_dropdown.value),
            "epochs": int(self.epochs_text.value),
            "view": self.view_buttons.value,
        }

    # --- PanelListener: what the state reports -------------------------------

    def on_message(self, text, level):
        prefix = {"warning": "&#9888; ", "error": "&#9888; Error: "}.get(level, "")
        self.status.value = (
            f'<span style="color:{COLORS[level]}">{prefix}{html.escape(text)}</span>'
        )

    def on_training(self, active):
        self.train_button.disabled = active
        self.stop_button.disabled = not active
        for control in self._model_controls:
            control.disabled = active
        if active:
            self._show_latest_frame()

    def on_frames(self, view):
        if view == self.view:
            self._update_scrubber(follow=True)

    def on_epoch(self, done, total, loss):
        self.progress.max = total
        self.progress.value = done
        if not done:
            self.progress_label.value = ""
        elif loss is None:
            self.progress_label.value = f"{done}/{total}"
        else:
            self.progress_label.value = f"{done}/{total}  loss {loss:.4g}"

    def on_history(self):
        self.loss_image.value = loss_curve_png(self.state.history)

    def on_cleared(self):
        self.progress.value = 0
        self.progress_label.value = ""
        self._update_scrubber()
        self._show_data()
        self.on_history()

    # --- Frames and the scrubber ---------------------------------------------

    def _update_scrubber(self, follow=False):
        """Fits the slider and Play to the frames; `follow` shows the newest.

        Following happens when the slider was on the last frame: a user who
        scrubbed back keeps their frame while new ones arrive.
        """
        count = self.state.frames.count(self.view)
        last = max(count - 1, 0)
        at_end = self.frame_slider.value >= self.frame_slider.max
        if (follow and at_end) or not count:
            index = last
        else:
            index = min(self.frame_slider.value, last)
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

    def _show_latest_frame(self):
        """Moves the scrubber to the newest frame, so that training is live."""
        if self.state.frames.count(self.view):
            self.play.value = self.frame_slider.value = self.frame_slider.max
            self._show_frame(self.frame_slider.value)

    def _show_frame(self, index):
        shown = self.state.frames.png(self.view, index)
        if shown is None:
            self.frame_label.value = "no frames yet"
            return
        png, label, index, count = shown
        if self.image.value != png:
            self.image.value = png
        self.frame_label.value = f"{self.view}: frame {index + 1}/{count}, epoch {label}"

    def _on_view(self, change):
        self._update_scrubber()
        self._show_data()  # Only when this view has no frames yet.

    def _on_dataset(self, change):
        if not self.state.frames.any():
            self._show_data()

    def _show_data(self):
        """Before training, the picture shows the chosen data set."""
        if not self.state.frames.count(self.view):
            picture = self.state.data_picture(self.dataset_dropdown.value)
            self.image.value = png_bytes(picture)

    def _guarded(self, action):
        """A button handler that reports unexpected errors instead of raising."""

        def handler(button):
            try:
                action()
            except Exception as error:
                self.state.last_error = error
                self.state.say(f"{type(error).__name__}: {error}", "error")

        return handler

    # --- Sigma, typed or slid --------------------------------------------------

    def _on_sigma_slider(self, change):
        if ps.parse_number(self.sigma_text.value) != change["new"]:
            self.sigma_text.value = ps.format_number(change["new"])

    def _on_sigma_text(self, change):
        sigma = self._sigma_from_text()
        if sigma is not None:
            if abs(self.sigma_slider.value - sigma) > 1e-12 * sigma:
                self.sigma_slider.value = sigma
            if self.message_level == "error" and self.message.startswith("sigma"):
                self.state.say(f"sigma = {ps.format_number(sigma)}")

    def _sigma_from_text(self):
        """The typed sigma, or None after showing why it can't be used."""
        sigma, problem = ps.parse_sigma(self.sigma_text.value)
        if problem is not None:
            self.state.say(problem, "error")
        return sigma
