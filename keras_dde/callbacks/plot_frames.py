"""Frame callbacks whose frames are drawn by `keras_dde.plotting` functions."""

import inspect

from keras_dde.callbacks.dde_lookup import check_dde_argument
from keras_dde.callbacks.dde_lookup import resolve_dde
from keras_dde.callbacks.frame_callback import FrameCallback
from keras_dde.plotting import common as _common
from keras_dde.utils.validation import check_data

# The plot arguments each frame sets itself.
SET_BY_FRAMES = ("ax", "title", "as_array")


def parameter_names(function):
    return tuple(inspect.signature(function).parameters)


def default_of(function, name):
    return inspect.signature(function).parameters[name].default


FRAME_OPTIONS = parameter_names(FrameCallback.__init__)[1:]  # All but `self`.


class PlotFrames(FrameCallback):
    """A `FrameCallback` that draws each frame with plot functions.

    The keyword arguments that are not `FrameCallback`'s go to the plot
    function unchanged, so that each plotting option is named and documented
    once, by its plot function. Subclasses set `plot_functions` (those they
    draw with), `plot_defaults` (the frames' own defaults: small pictures
    without axes, for GIFs) and `set_by_frames` (the arguments they fill in
    themselves), and call `plot` from `render`.

    Args:
        gif_path: the `.gif` to write, or None to only keep `.frames`.
        every: a positive int (every N epochs/batches) or "log".
        **kwargs: `FrameCallback` arguments, and arguments of the plot
            functions. A name that neither takes is a TypeError.
    """

    plot_functions = ()
    plot_defaults = {"axes": False, "dpi": 64}
    set_by_frames = ()

    def __init__(self, gif_path=None, every=1, **kwargs):
        frame_kwargs = {
            name: kwargs.pop(name) for name in FRAME_OPTIONS if name in kwargs
        }
        accepted = {
            name
            for function in self.plot_functions
            for name in parameter_names(function)[1:]
        } - set(SET_BY_FRAMES) - set(self.set_by_frames)
        unknown = sorted(set(kwargs) - accepted)
        if unknown:
            functions = ", ".join(f"`{f.__name__}`" for f in self.plot_functions)
            raise TypeError(
                f"{type(self).__name__} got unexpected keyword arguments {unknown}: "
                f"it takes those of `FrameCallback` and {functions}."
            )
        super().__init__(gif_path=gif_path, every=every, **frame_kwargs)
        # The common options fail here, not at the first frame.
        _common.check_extent(kwargs.get("extent"))
        for name in ("resolution", "background_resolution"):
            if name in kwargs:
                _common.check_resolution(kwargs[name], name)
        if kwargs.get("data") is not None:
            kwargs["data"] = check_data(kwargs["data"], "data")
        self.plot_kwargs = {**self.plot_defaults, **kwargs}
        self._figure = None
        self._ax = None

    def option(self, name, function=None):
        """Plot argument `name`: as given, else the frames' or the function's default."""
        function = function or self.plot_functions[0]
        return self.plot_kwargs.get(name, default_of(function, name))

    def plot(self, function, *args, title=None, reuse_figure=True, **overrides):
        """One frame drawn by `function`, as an `(H, W, 3)` uint8 array.

        Args:
            function: one of `plot_functions`.
            *args: its positional arguments (the model, or the points).
            title: the frame's label.
            reuse_figure: bool. True draws into one figure kept for all
                frames (cheaper than a new one per frame); False lets
                `function` make its own picture (its figure-free fast paths).
            **overrides: arguments that take precedence over `plot_kwargs`.
        """
        names = parameter_names(function)
        kwargs = {
            name: value
            for name, value in {**self.plot_kwargs, **overrides}.items()
            if name in names
        }
        if not reuse_figure:
            return function(*args, title=title, as_array=True, **kwargs)
        if self._figure is None:
            self._figure = _common.new_figure(
                kwargs.get("figsize", default_of(function, "figsize")),
                kwargs.get("dpi", default_of(function, "dpi")),
            )
            self._ax = _common.new_axes(self._figure, frame=kwargs.get("axes"))
        self._ax.cla()
        return function(*args, ax=self._ax, title=title, as_array=True, **kwargs)

    def release(self):
        if self._figure is not None:
            _common.release(self._figure)
        self._figure = None
        self._ax = None


class DDEFrames(PlotFrames):
    """`PlotFrames` of a DDE's picture on a fixed 2-D plane and extent.

    Args:
        gif_path, every, dde: as in `DensityFrames`.
        **kwargs: `FrameCallback` arguments and the plot function's.
    """

    def __init__(self, gif_path=None, every=1, dde=None, **kwargs):
        super().__init__(gif_path=gif_path, every=every, **kwargs)
        self.dde = check_dde_argument(dde)

    def check_model(self, model):
        dde = resolve_dde(model, self.dde, type(self).__name__)
        plane = _common.Plane(
            _common.model_feature_shape(dde, "the DDE"),
            self.option("plane"),
            self.option("origin"),
            owner="The DDE",
        )
        # Fixed for all frames, so that the pictures line up.
        self._extent = self.option("extent") or _common.default_extent(
            plane, self.option("data")
        )

    def _label(self, counter):
        label = super()._label(counter)
        return f"{self.dde} DDE, {label}" if isinstance(self.dde, str) else label

    def render(self, model, label):
        dde = resolve_dde(model, self.dde, type(self).__name__)
        return self.plot(
            self.plot_functions[0], dde, title=label, extent=self._extent,
            reuse_figure=self.reuse_figure(),
        )

    def reuse_figure(self):
        return True
