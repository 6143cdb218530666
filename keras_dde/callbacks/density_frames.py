from keras_dde.callbacks.frame_callback import FrameCallback
from keras_dde.callbacks.frame_callback import check_dde_argument
from keras_dde.callbacks.frame_callback import resolve_dde
from keras_dde.plotting import common as _common
from keras_dde.plotting.density_map import SCALES
from keras_dde.plotting.density_map import colorize
from keras_dde.plotting.density_map import draw_density
from keras_dde.plotting.density_map import energy_grid
from keras_dde.plotting.density_map import scaled
from keras_dde.utils.validation import check_data


class DensityFrames(FrameCallback):
    """Draws a DDE's density map during `fit` and writes the frames as a GIF.

    Each frame is `exp(s(x) - max s)` on a fixed grid with a fixed colour
    scale (see `keras_dde.plotting.plot_density`), so the GIF shows the
    learned KDE taking shape without flicker. Frames are RGB arrays kept on
    `.frames`; the GIF is written atomically at the end of training (and on
    interruption, see `FrameCallback`).

    Args:
        gif_path: the `.gif` to write, or None to only keep `.frames`.
        every: a positive int (every N epochs/batches) or "log".
        dde: which DDE to draw: None (the model itself), a DDE, or a name
            such as "real" or "fake" for an `EnergyGAN`'s `real_dde` /
            `fake_dde`. Resolved at `on_train_begin`.
        extent: `(xmin, xmax, ymin, ymax)`; default: around `data`, else
            `(-4, 4, -4, 4)`. Fixed for all frames.
        resolution: int, grid points per side (200: a 200x200 frame).
        plane: None (2-D models only), a pair of feature indices `(i, j)` or
            a `(2, n_features)` array of directions: the 2-D slice drawn
            from a model with more features (required for those).
        origin: the point the plane goes through; default zeros.
        data: optional samples, used only for the default extent.
        scale: "density" (colours 0..1 of the peak), "log_density" or
            "energy" (see `plot_density`).
        vmin, vmax: fixed colour limits overriding the scale's defaults.
        log_range: float, depth in nats of the "log_density" scale.
        cmap: a matplotlib colormap name.
        axes: bool. False (default): the frame is the colour-mapped grid,
            labelled with the epoch, made without a figure (fast). True: a
            matplotlib figure with ticks, `figsize` x `dpi` pixels.
        figsize, dpi: the figure size when `axes=True`.
        **kwargs: `FrameCallback` arguments: `unit`, `num_frames`,
            `max_overhead`, `max_frames`, `initial_frame`, `fps`, `verbose`.

    Example:
    ```python
    x = keras_dde.datasets.toy2d("2spirals", 8000, seed=0)
    dde = keras_dde.DDEModel(keras_dde.models.energy_mlp(2), sigma=0.1)
    dde.compile(optimizer="adam")
    frames = keras_dde.callbacks.DensityFrames("training.gif", every=2, data=x)
    dde.fit(x, batch_size=512, epochs=100, callbacks=[frames])
    ```

    References:
        - [Bigdeli et al., 2020](https://arxiv.org/abs/2001.02728)
    """

    def __init__(
        self,
        gif_path=None,
        every=1,
        dde=None,
        extent=None,
        resolution=200,
        plane=None,
        origin=None,
        data=None,
        scale="density",
        vmin=None,
        vmax=None,
        log_range=10.0,
        cmap="inferno",
        axes=False,
        figsize=(4.0, 4.0),
        dpi=64,
        **kwargs,
    ):
        super().__init__(gif_path=gif_path, every=every, **kwargs)
        self.dde = check_dde_argument(dde)
        self.extent = _common.check_extent(extent)
        self.resolution = _common.check_resolution(resolution)
        if scale not in SCALES:
            raise ValueError(f"`scale` must be one of {SCALES}; received {scale!r}.")
        self.scale = scale
        self.vmin, self.vmax, self.log_range = vmin, vmax, float(log_range)
        self.plane, self.origin = plane, origin
        self.data = None if data is None else check_data(data, "data")
        self.cmap = cmap
        self.axes = bool(axes)
        self.figsize, self.dpi = figsize, dpi
        self._figure = None
        self._image = None

    def check_model(self, model):
        dde = resolve_dde(model, self.dde, type(self).__name__)
        shape = _common.feature_shape_of(dde, "the DDE")
        self._plane = _common.Plane(shape, self.plane, self.origin, owner="The DDE")
        self._extent = self.extent or _common.default_extent(self._plane, self.data)

    def _label(self, counter):
        label = super()._label(counter)
        return f"{self.dde} DDE, {label}" if isinstance(self.dde, str) else label

    def render(self, model, label):
        dde = resolve_dde(model, self.dde, type(self).__name__)
        energies = energy_grid(dde, self._extent, self.resolution, self._plane)
        values, (low, high) = scaled(
            energies, self.scale, self.vmin, self.vmax, self.log_range
        )
        if not self.axes:
            return colorize(values, low, high, self.cmap, title=label)
        if self._figure is None:
            self._figure = _common.new_figure(self.figsize, self.dpi)
            ax = _common.new_axes(self._figure, frame=True)
            self._image = draw_density(
                ax, values, self._extent, low, high, self.cmap, True, label,
                self._plane.labels,
            )
        else:
            self._image.set_data(values)
            if low is None or high is None:
                self._image.autoscale()
            self._image.axes.set_title(label, fontsize=9)
        return _common.figure_to_rgb(self._figure)

    def release(self):
        if self._figure is not None:
            _common.release(self._figure)
        self._figure = None
        self._image = None
