"""The widgets of a `TrainingPanel` and their layout: how the panel looks."""

import ipywidgets as widgets

from keras_dde.datasets.toy2d import toy2d_names
from keras_dde.widgets import panel_settings as ps
from keras_dde.widgets.images import LOSS_PIXELS
from keras_dde.widgets.panel_frames import FRAME_PIXELS

# Widths that fit JupyterLab's default notebook width (a 1400 px window with
# the file browser open leaves about 970 px): three columns, 310 + 320 +
# 300 px, that wrap under each other when narrower.
DESCRIPTION = {"description_width": "90px"}
CONTROL_WIDTH = "310px"

# The parts named in the page by a CSS class (for styling and browser tests).
CLASSED = (
    "dataset_dropdown",
    "mode_buttons",
    "sigma_slider",
    "sigma_text",
    "learning_rate_slider",
    "view_buttons",
    "epochs_text",
    "train_button",
    "stop_button",
    "reset_button",
    "export_path_text",
    "export_button",
    "image",
    "frame_label",
    "play",
    "frame_slider",
    "progress",
    "loss_image",
    "status",
)


def log_slider(value, exponents, step, description, readout_format, layout):
    """A slider on a log10 scale from `10**exponents[0]` to `10**exponents[1]`."""
    return widgets.FloatLogSlider(
        value=value,
        base=10,
        min=exponents[0],
        max=exponents[1],
        step=step,
        description=description,
        readout_format=readout_format,
        continuous_update=False,
        style=DESCRIPTION,
        layout=layout,
    )


class PanelWidgets:
    """The widgets of a training panel, laid out in `.widget`; no behaviour.

    Each control is an attribute (`sigma_slider`, `train_button`, ...) that
    `TrainingPanel` connects to its actions. Displayed, the object shows
    `.widget`.

    Args:
        settings: the initial settings, as `panel_settings.check_settings`
            returns them (dataset, mode, sigma, learning_rate, batch_size,
            width, depth, epochs, view).
        export_path: str, the initial text of the GIF file box.
    """

    def __init__(self, settings, export_path):
        self._build_controls(settings)
        self._build_buttons(export_path)
        self._build_picture(settings["epochs"])
        for name in CLASSED:
            getattr(self, name).add_class("keras-dde-" + name.replace("_", "-"))
        self.widget = self._layout()
        self.widget.add_class("keras-dde-panel")

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def _build_controls(self, s):
        wide = widgets.Layout(width=CONTROL_WIDTH)
        self.dataset_dropdown = widgets.Dropdown(
            options=toy2d_names(),
            value=s["dataset"],
            description="data set",
            style=DESCRIPTION,
            layout=wide,
        )
        self.mode_buttons = widgets.ToggleButtons(
            options=ps.MODE_LABELS,
            value=s["mode"],
            description="model",
            tooltips=ps.MODE_TOOLTIPS,
            style={**DESCRIPTION, "button_width": "auto"},
            layout=wide,
        )
        self.sigma_slider = log_slider(
            s["sigma"], ps.SIGMA_EXPONENTS, 0.01, "sigma", ".3g", wide
        )
        self.sigma_text = widgets.Text(
            value=ps.format_number(s["sigma"]),
            description="sigma =",
            placeholder="e.g. 0.1",
            continuous_update=False,
            style=DESCRIPTION,
            layout=widgets.Layout(width="200px"),
        )
        # The readout of a log slider cuts scientific notation ("2.0e"):
        # plain decimals (0.002, 1e-05 at most) fit.
        self.learning_rate_slider = log_slider(
            s["learning_rate"], ps.LEARNING_RATE_EXPONENTS, 0.05, "learning rate",
            ".2g", wide,
        )
        self.batch_size_dropdown = widgets.Dropdown(
            options=sorted({*ps.BATCH_SIZES, s["batch_size"]}),
            value=s["batch_size"],
            description="batch size",
            style=DESCRIPTION,
            layout=wide,
        )
        self.width_slider = widgets.IntSlider(
            value=s["width"],
            min=ps.WIDTH_RANGE[0],
            max=ps.WIDTH_RANGE[1],
            step=4,
            description="width",
            continuous_update=False,
            style=DESCRIPTION,
            layout=wide,
        )
        self.depth_slider = widgets.IntSlider(
            value=s["depth"],
            min=ps.DEPTH_RANGE[0],
            max=ps.DEPTH_RANGE[1],
            description="depth",
            continuous_update=False,
            style=DESCRIPTION,
            layout=wide,
        )
        self.epochs_text = widgets.BoundedIntText(
            value=s["epochs"],
            min=ps.EPOCHS_RANGE[0],
            max=ps.EPOCHS_RANGE[1],
            description="epochs",
            style=DESCRIPTION,
            layout=widgets.Layout(width="200px"),
        )
        self.view_buttons = widgets.ToggleButtons(
            options=[
                ("density", "density"),
                ("field", "vector field"),
                ("samples", "samples"),
            ],
            value=s["view"],
            description="view",
            tooltips=[
                "exp(s(x)) on a grid",
                "the score, grad s(x)",
                "data against samples",
            ],
            style={**DESCRIPTION, "button_width": "auto"},
            layout=wide,
        )
        # Disabled while training: they define the model or its run.
        self._model_controls = [
            self.dataset_dropdown,
            self.mode_buttons,
            self.sigma_slider,
            self.sigma_text,
            self.learning_rate_slider,
            self.batch_size_dropdown,
            self.width_slider,
            self.depth_slider,
            self.epochs_text,
            self.view_buttons,
        ]

    def _build_buttons(self, export_path):
        self.train_button = widgets.Button(
            description="Train",
            button_style="success",
            icon="play",
            tooltip="Train (again: continue) for the epochs set above",
        )
        self.stop_button = widgets.Button(
            description="Stop",
            button_style="danger",
            icon="stop",
            disabled=True,
            tooltip="Stop training after the current step",
        )
        self.reset_button = widgets.Button(
            description="Reset",
            icon="refresh",
            tooltip="Discard the model, its frames and loss curve",
        )
        self.export_path_text = widgets.Text(
            value=export_path,
            description="GIF file",
            style={"description_width": "60px"},
            layout=widgets.Layout(width="320px"),
        )
        self.export_button = widgets.Button(
            description="Export GIF",
            icon="download",
            tooltip="Write the frames of this view to the GIF file",
        )

    def _build_picture(self, epochs):
        pixels = f"{FRAME_PIXELS}px"
        self.image = widgets.Image(
            format="png", layout=widgets.Layout(width=pixels, height=pixels)
        )
        self.frame_label = widgets.Label(value="no frames yet")
        self.play = widgets.Play(
            value=0,
            min=0,
            max=0,
            interval=150,
            description="play",
            show_repeat=False,
            layout=widgets.Layout(width="84px"),
        )
        self.frame_slider = widgets.IntSlider(
            value=0,
            min=0,
            max=0,
            description="frame",
            readout=True,
            style={"description_width": "40px"},
            layout=widgets.Layout(width="232px"),
        )
        # Front-end link: the animation runs in the browser; each frame's
        # index still reaches the kernel through the slider's value.
        self._play_link = widgets.jslink(
            (self.play, "value"), (self.frame_slider, "value")
        )
        self.progress = widgets.IntProgress(
            value=0,
            min=0,
            max=epochs,
            description="epochs",
            style={"description_width": "50px"},
            layout=widgets.Layout(width="150px"),
        )
        self.progress_label = widgets.Label(value="")
        width, height = LOSS_PIXELS
        self.loss_image = widgets.Image(
            format="png",
            layout=widgets.Layout(width=f"{width}px", height=f"{height}px"),
        )
        self.status = widgets.HTML(value="")

    def _layout(self):
        controls = widgets.VBox(
            list(self._model_controls), layout=widgets.Layout(margin="0 8px 8px 0")
        )
        picture = widgets.VBox(
            [
                self.image,
                self.frame_label,
                widgets.HBox([self.play, self.frame_slider]),
                widgets.HBox([self.progress, self.progress_label]),
            ],
            layout=widgets.Layout(width=f"{FRAME_PIXELS}px", margin="0 8px 8px 0"),
        )
        buttons = widgets.HBox(
            [
                self.train_button,
                self.stop_button,
                self.reset_button,
                self.export_path_text,
                self.export_button,
            ],
            layout=widgets.Layout(flex_flow="row wrap"),
        )
        # Columns wrap under each other in a narrow notebook, never overflow.
        row = widgets.HBox(
            [controls, picture, self.loss_image],
            layout=widgets.Layout(flex_flow="row wrap"),
        )
        return widgets.VBox([row, buttons, self.status])
