from keras_dde.callbacks.frame_callback import FrameCallback
from keras_dde.callbacks.frame_callback import check_dde_argument
from keras_dde.callbacks.frame_callback import resolve_dde
from keras_dde.plotting import common as _common
from keras_dde.plotting.common import style_axes as _style
from keras_dde.plotting.density_map import energy_grid
from keras_dde.plotting.density_map import scaled
from keras_dde.plotting.vector_field import STYLES
from keras_dde.plotting.vector_field import draw_vector_field
from keras_dde.plotting.vector_field import score_grid
from keras_dde.utils.validation import check_data


class VectorFieldFrames(FrameCallback):
    """Draws a DDE's score field `grad_x s` during `fit` and writes a GIF.

    Each frame shows arrows (or streamlines) of the score over a density
    background, on a fixed extent (see `keras_dde.plotting.
    plot_vector_field`). Frames are kept on `.frames`; the GIF is written
    atomically at the end of training (and on interruption, see
    `FrameCallback`).

    Args:
        gif_path: the `.gif` to write, or None to only keep `.frames`.
        every: a positive int (every N epochs/batches) or "log".
        dde: which DDE to draw: None (the model itself), a DDE, or a name
            such as "real" or "fake" for an `EnergyGAN`. Resolved at
            `on_train_begin`.
        extent: `(xmin, xmax, ymin, ymax)`; default: around `data`, else
            `(-4, 4, -4, 4)`. Fixed for all frames.
        resolution: int, arrows per side.
        plane, origin: the 2-D slice for models with more than two features
            (required for those), as in `DensityFrames`.
        data: optional samples, used only for the default extent.
        style: "quiver" (arrows) or "stream" (streamlines, slower).
        normalize: bool, unit-length arrows (directions only).
        background: "density", "log_density" or None.
        background_resolution: int, grid of the background.
        cmap: the background's colormap.
        color: the arrows' colour.
        figsize, dpi: frame size in inches and dots per inch.
        **kwargs: `FrameCallback` arguments (`unit`, `max_overhead`, ...).

    Example:
    ```python
    field = keras_dde.callbacks.VectorFieldFrames("field.gif", every=10)
    dde.fit(x, batch_size=512, epochs=100, callbacks=[field])
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
        resolution=24,
        plane=None,
        origin=None,
        data=None,
        style="quiver",
        normalize=True,
        background="density",
        background_resolution=100,
        cmap="viridis",
        color="white",
        figsize=(4.0, 4.0),
        dpi=64,
        **kwargs,
    ):
        super().__init__(gif_path=gif_path, every=every, **kwargs)
        self.dde = check_dde_argument(dde)
        self.extent = _common.check_extent(extent)
        self.resolution = _common.check_resolution(resolution)
        if style not in STYLES:
            raise ValueError(f"`style` must be one of {STYLES}; received {style!r}.")
        if background not in (None, "density", "log_density"):
            raise ValueError(
                "`background` must be None, 'density' or 'log_density'; "
                f"received {background!r}."
            )
        self.style, self.normalize, self.background = style, bool(normalize), background
        self.background_resolution = _common.check_resolution(
            background_resolution, "background_resolution"
        )
        self.plane, self.origin = plane, origin
        self.data = None if data is None else check_data(data, "data")
        self.cmap, self.color = cmap, color
        self.figsize, self.dpi = figsize, dpi
        self._figure = None

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
        grad_u, grad_v = score_grid(dde, self._extent, self.resolution, self._plane)
        background = None
        if self.background is not None:
            energies = energy_grid(
                dde, self._extent, self.background_resolution, self._plane
            )
            background = scaled(energies, self.background)
        if self._figure is None:
            self._figure = _common.new_figure(self.figsize, self.dpi)
            self._ax = _common.new_axes(self._figure, frame=False)
        ax = self._ax
        ax.cla()
        draw_vector_field(
            ax, grad_u, grad_v, self._extent, self.style, self.normalize,
            background, self.cmap, self.color,
        )
        _style(ax, self._extent, False, label, self._plane.labels)
        return _common.figure_to_rgb(self._figure)

    def release(self):
        if self._figure is not None:
            _common.release(self._figure)
        self._figure = None
