import html

import ipywidgets as widgets

from keras_dde.datasets.toy2d import toy2d_names
from keras_dde.widgets import panel_settings as ps
from keras_dde.widgets.images import LOSS_PIXELS
from keras_dde.widgets.images import loss_curve_png
from keras_dde.widgets.images import png_bytes
from keras_dde.widgets.panel_frames import FRAME_PIXELS
from keras_dde.widgets.panel_state import PanelListener
from keras_dde.widgets.panel_state import PanelState

# Widths that fit JupyterLab's default notebook width (a 1400 px window with
# the file browser open leaves about 970 px): three columns, 310 + 320 +
# 300 px, that wrap under each other when narrower.
DESCRIPTION = {"description_width": "90px"}
CONTROL_WIDTH = "310px"
COLORS = {"info": "#333", "success": "#1b7f3b", "warning": "#9a6700", "error": "#b3261e"}


class TrainingPanel(PanelListener):
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

    This class is the view (ipywidgets); what the panel does (models from
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

    def __init__(self, dataset="2spirals", mode="multiscale", sigma=0.1,
                 learning_rate=2e-3, batch_size=256, width=64, depth=3, epochs=100,
                 n_samples=8000, view="density", export_path="training.gif",
                 frames_per_run=50, resolution=None, steps_per_execution=4, seed=0,
                 energy_network=None):
        settings = ps.check_settings(dict(
            dataset=dataset, mode=mode, sigma=sigma, learning_rate=learning_rate,
            batch_size=batch_size, width=width, depth=depth, epochs=epochs, view=view,
        ))
        export_path = ps.check_path_text(export_path)
        ps.check_mode_and_energy_network(
            settings["mode"], ps.check_energy_network(energy_network))
        self.state = PanelState(
            n_samples=n_samples, frames_per_run=frames_per_run, resolution=resolution,
            steps_per_execution=steps_per_execution, seed=seed,
            energy_network=energy_network, listener=self,
        )
        self._build_widgets(settings, export_path)
        self._show_data()
        self.loss_image.value = loss_curve_png(self.state.history)
        self.state.say("Pick a data set and settings, then press Train.")

    # --- The state's attributes, read through the panel ----------------------

    model = property(lambda self: self.state.model, doc="The model, or None.")
    history = property(lambda self: self.state.history, doc="Losses per epoch.")
    epochs_done = property(lambda self: self.state.epochs_done,
                           doc="Epochs the current model has been trained for.")
    is_training = property(lambda self: self.state.is_training,
                           doc="True while a training thread runs.")
    message = property(lambda self: self.state.message, doc="The status text.")
    message_level = property(lambda self: self.state.message_level, doc="Its level.")
    last_error = property(lambda self: self.state.last_error)
    last_export_path = property(lambda self: self.state.last_export_path)

    energy_network = property(
        lambda self: self.state.energy_network,
        lambda self, value: setattr(
            self.state, "energy_network", ps.check_energy_network(value)))

    @property
    def view(self):
        """The view shown, one of "density", "vector field" and "samples"."""
        return self.view_buttons.value

    @property
    def frames(self):
        """The RGB frames recorded for the current view (a copy)."""
        return self.state.frames.frames(self.view)

    # --- Layout --------------------------------------------------------------

    def _build_widgets(self, s, export_path):
        wide = widgets.Layout(width=CONTROL_WIDTH)
        self.dataset_dropdown = widgets.Dropdown(
            options=toy2d_names(), value=s["dataset"], description="data set",
            style=DESCRIPTION, layout=wide)
        self.mode_buttons = widgets.ToggleButtons(
            options=ps.MODE_LABELS, value=s["mode"], description="model",
            tooltips=ps.MODE_TOOLTIPS, style={**DESCRIPTION, "button_width": "auto"},
            layout=wide)
        self.sigma_slider = widgets.FloatLogSlider(
            value=s["sigma"], base=10, min=ps.SIGMA_EXPONENTS[0],
            max=ps.SIGMA_EXPONENTS[1], step=0.01, description="sigma",
            readout_format=".3g", continuous_update=False, style=DESCRIPTION,
            layout=wide)
        self.sigma_text = widgets.Text(
            value=ps.format_number(s["sigma"]), description="sigma =",
            placeholder="e.g. 0.1", continuous_update=False, style=DESCRIPTION,
            layout=widgets.Layout(width="200px"))
        # The readout of a log slider cuts scientific notation ("2.0e"):
        # plain decimals (0.002, 1e-05 at most) fit.
        self.learning_rate_slider = widgets.FloatLogSlider(
            value=s["learning_rate"], base=10, min=ps.LEARNING_RATE_EXPONENTS[0],
            max=ps.LEARNING_RATE_EXPONENTS[1], step=0.05, description="learning rate",
            readout_format=".2g", continuous_update=False, style=DESCRIPTION,
            layout=wide)
        self.batch_size_dropdown = widgets.Dropdown(
            options=sorted({*ps.BATCH_SIZES, s["batch_size"]}), value=s["batch_size"],
            description="batch size", style=DESCRIPTION, layout=wide)
        self.width_slider = widgets.IntSlider(
            value=s["width"], min=ps.WIDTH_RANGE[0], max=ps.WIDTH_RANGE[1], step=4,
            description="width", continuous_update=False, style=DESCRIPTION,
            layout=wide)
        self.depth_slider = widgets.IntSlider(
            value=s["depth"], min=ps.DEPTH_RANGE[0], max=ps.DEPTH_RANGE[1],
            description="depth", continuous_update=False, style=DESCRIPTION,
            layout=wide)
        self.epochs_text = widgets.BoundedIntText(
            value=s["epochs"], min=ps.EPOCHS_RANGE[0], max=ps.EPOCHS_RANGE[1],
            description="epochs", style=DESCRIPTION,
            layout=widgets.Layout(width="200px"))
        self.view_buttons = widgets.ToggleButtons(
            options=[("density", "density"), ("field", "vector field"),
                     ("samples", "samples")], value=s["view"], description="view",
            tooltips=["exp(s(x)) on a grid", "the score, grad s(x)",
                      "data against samples"],
            style={**DESCRIPTION, "button_width": "auto"}, layout=wide)
        self.train_button = widgets.Button(
            description="Train", button_style="success", icon="play",
            tooltip="Train (again: continue) for the epochs set above")
        self.stop_button = widgets.Button(
            description="Stop", button_style="danger", icon="stop", disabled=True,
            tooltip="Stop training after the current step")
        self.reset_button = widgets.Button(
            description="Reset", icon="refresh",
            tooltip="Discard the model, its frames and loss curve")
        self.export_path_text = widgets.Text(
            value=export_path, description="GIF file",
            style={"description_width": "60px"}, layout=widgets.Layout(width="320px"))
        self.export_button = widgets.Button(
            description="Export GIF", icon="download",
            tooltip="Write the frames of this view to the GIF file")
        pixels = f"{FRAME_PIXELS}px"
        self.image = widgets.Image(
            format="png", layout=widgets.Layout(width=pixels, height=pixels))
        self.frame_label = widgets.Label(value="no frames yet")
        self.play = widgets.Play(value=0, min=0, max=0, interval=150, description="play",
                                 show_repeat=False, layout=widgets.Layout(width="84px"))
        self.frame_slider = widgets.IntSlider(
            value=0, min=0, max=0, description="frame", readout=True,
            style={"description_width": "40px"}, layout=widgets.Layout(width="232px"))
        # Front-end link: the animation runs in the browser; each frame's
        # index still reaches the kernel through the slider's value.
        self._play_link = widgets.jslink((self.play, "value"), (self.frame_slider, "value"))
        self.progress = widgets.IntProgress(
            value=0, min=0, max=s["epochs"], description="epochs",
            style={"description_width": "50px"}, layout=widgets.Layout(width="150px"))
        self.progress_label = widgets.Label(value="")
        width, height = LOSS_PIXELS
        self.loss_image = widgets.Image(
            format="png", layout=widgets.Layout(width=f"{width}px", height=f"{height}px"))
        self.status = widgets.HTML(value="")

        # CSS classes name the parts in the page (for styling and browser tests).
        for name in (
                "dataset_dropdown", "mode_buttons", "sigma_slider", "sigma_text",
                "learning_rate_slider", "view_buttons", "epochs_text", "train_button",
                "stop_button", "reset_button", "export_path_text", "export_button", "image",
                "frame_label", "play", "frame_slider", "progress", "loss_image", "status"):
            getattr(self, name).add_class("keras-dde-" + name.replace("_", "-"))

        self.sigma_slider.observe(self._on_sigma_slider, names="value")
        self.sigma_text.observe(self._on_sigma_text, names="value")
        self.dataset_dropdown.observe(self._on_dataset, names="value")
        self.view_buttons.observe(self._on_view, names="value")
        self.frame_slider.observe(lambda change: self._show_frame(change["new"]),
                                  names="value")
        self.train_button.on_click(self._guarded(self.train))
        self.stop_button.on_click(self._guarded(self.stop))
        self.reset_button.on_click(self._guarded(self.reset))
        self.export_button.on_click(self._guarded(self.export))

        self._model_controls = [
            self.dataset_dropdown, self.mode_buttons, self.sigma_slider,
            self.sigma_text, self.learning_rate_slider, self.batch_size_dropdown,
            self.width_slider, self.depth_slider, self.epochs_text, self.view_buttons,
        ]
        controls = widgets.VBox(list(self._model_controls),
                                layout=widgets.Layout(margin="0 8px 8px 0"))
        picture = widgets.VBox([
            self.image, self.frame_label,
            widgets.HBox([self.play, self.frame_slider]),
            widgets.HBox([self.progress, self.progress_label]),
        ], layout=widgets.Layout(width=pixels, margin="0 8px 8px 0"))
        buttons = widgets.HBox(
            [self.train_button, self.stop_button, self.reset_button,
             self.export_path_text, self.export_button],
            layout=widgets.Layout(flex_flow="row wrap"))
        # Columns wrap under each other in a narrow notebook, never overflow.
        row = widgets.HBox([controls, picture, self.loss_image],
                           layout=widgets.Layout(flex_flow="row wrap"))
        self.widget = widgets.VBox([row, buttons, self.status])
        self.widget.add_class("keras-dde-panel")

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

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
        self.progress_label.value = "" if not done else f"{done}/{total}" + (
            f"  loss {loss:.4g}" if loss is not None else "")

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
        index = last if (follow and at_end) or not count else min(
            self.frame_slider.value, last)
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
            self.image.value = png_bytes(
                self.state.data_picture(self.dataset_dropdown.value))

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
