import inspect

from keras_dde.callbacks.frame_callback import FrameCallback
from keras_dde.plotting import common as _common
from keras_dde.plotting.common import style_axes as _style
from keras_dde.plotting.image_grid import plot_image_grid
from keras_dde.plotting.samples import draw_samples
from keras_dde.plotting.samples import prepare_sets
from keras_dde.utils.validation import check_data
from keras_dde.utils.validation import check_positive_int


class SampleFrames(FrameCallback):
    """Draws real data against model samples during `fit`, and writes a GIF.

    The model samples come from `sampler(model, num_samples)` when given,
    else from the model's `generate(n, seed=...)` (an `EnergyGAN`'s
    generator) or `sample(n, seed=...)` (a DDE's Langevin sampler), called
    with the same `seed` at every frame (and `verbose=0` where accepted) so
    that the animation is smooth. Langevin sampling is slow: pass
    `max_overhead` (e.g. 0.1) to thin the frames to a time budget, or a
    `sampler` such as one-step denoising, which is much cheaper.
    Frames are kept on `.frames`; the GIF is written atomically at the end
    of training (and on interruption, see `FrameCallback`).

    Image data (per-sample shape `(h, w, c)`, from `data`, the model's
    `feature_shape` or the samples) is drawn as a grid of `max_images`
    model samples instead of a scatter plot, every frame with the same
    `value_range` so that frames compare.

    Args:
        gif_path: the `.gif` to write, or None to only keep `.frames`.
        every: a positive int (every N epochs/batches) or "log".
        data: real samples `(n, *features)` drawn in every frame, or None.
        sampler: None or a callable `sampler(model, n)` returning `n` model
            samples, e.g. `lambda m, n: m.denoise(noisy)`.
        num_samples: int, model samples per frame.
        seed: int, passed to `generate`/`sample` when they accept `seed`.
        extent: `(xmin, xmax, ymin, ymax)`; default: around `data` (or the
            first frame's samples), then fixed.
        plane, origin: for more than two features, the 2-D plane to project
            onto (a pair of feature indices or a `(2, n_features)` array).
        labels, colors: legend labels and colours of data and samples.
        max_points: int, at most this many points of each set per frame.
        marker_size: float, marker size in points^2.
        figsize, dpi: frame size in inches and dots per inch (for images,
            `dpi` and `tile_inches` per image set the size).
        max_images: int, images per frame for image data (at most
            `num_samples`).
        value_range: `(low, high)` drawn black and white for image data;
            default: (0, 1) or (-1, 1), whichever holds `data` (or the first
            frame's samples), then fixed.
        tile_inches: float, size of one image of the grid.
        **kwargs: `FrameCallback` arguments (`unit`, `max_overhead`, ...).

    Example:
    ```python
    noisy = x[:1000] + 0.1 * np.random.randn(1000, 2).astype("float32")
    frames = keras_dde.callbacks.SampleFrames(
        "samples.gif", data=x, sampler=lambda model, n: model.denoise(noisy)
    )
    dde.fit(x, batch_size=512, epochs=50, callbacks=[frames])
    ```

    References:
        - [Bigdeli et al., 2020](https://arxiv.org/abs/2001.02728)
    """

    def __init__(
        self,
        gif_path=None,
        every=1,
        data=None,
        sampler=None,
        num_samples=1000,
        seed=0,
        extent=None,
        plane=None,
        origin=None,
        labels=("data", "model"),
        colors=("#1f77b4", "#ff7f0e"),
        max_points=2000,
        marker_size=2.0,
        figsize=(4.0, 4.0),
        dpi=64,
        max_images=64,
        value_range=None,
        tile_inches=0.5,
        **kwargs,
    ):
        super().__init__(gif_path=gif_path, every=every, **kwargs)
        if sampler is not None and not callable(sampler):
            raise TypeError(
                "`sampler` must be None or a callable `sampler(model, n)`; "
                f"received {type(sampler).__name__}."
            )
        self.data = None if data is None else check_data(data, "data")
        self.sampler = sampler
        self.num_samples = check_positive_int(num_samples, "num_samples")
        self.seed = seed
        self.extent = _common.check_extent(extent)
        self.plane, self.origin = plane, origin
        self.labels, self.colors = tuple(labels), tuple(colors)
        self.max_points = max_points
        self.marker_size = marker_size
        self.figsize, self.dpi = figsize, dpi
        self.max_images = check_positive_int(max_images, "max_images")
        self.value_range = value_range
        self.tile_inches = tile_inches
        self._figure = None
        if self.data is not None and self.data.ndim != 4:
            # A bad plane for the data fails now, not at the first frame.
            _common.Plane(self.data.shape[1:], plane, origin, owner="`data`")

    def check_model(self, model):
        self._draw_samples = self._sampler_for(model)
        self._plane = None
        self._extent = self.extent
        self._range = self.value_range
        shape = getattr(model, "feature_shape", None)
        if self.data is not None:
            shape = self.data.shape[1:]
        self._images = None if shape is None else len(shape) == 3
        if self._images:
            if self._range is None and self.data is not None:
                self._range = _image_range(self.data)
            return
        if self.data is not None:
            shape = getattr(model, "feature_shape", None)
            if shape is not None and tuple(shape) != self.data.shape[1:]:
                raise ValueError(
                    f"`data` has per-sample shape {self.data.shape[1:]}, but the "
                    f"model's is {tuple(shape)}."
                )
            self._plane = _common.Plane(
                self.data.shape[1:], self.plane, self.origin, owner="`data`"
            )
            if self._extent is None:
                self._extent = _common.extent_from_points(
                    self._plane.coords(self.data)
                )

    def _count(self):
        if getattr(self, "_images", None):
            return min(self.num_samples, self.max_images)
        return self.num_samples

    def _sampler_for(self, model):
        if self.sampler is not None:
            return lambda m: self.sampler(m, self._count())
        for name in ("generate", "sample"):
            method = getattr(model, name, None)
            if callable(method):
                try:
                    parameters = inspect.signature(method).parameters
                except (TypeError, ValueError):
                    parameters = {}
                kwargs = {
                    key: value
                    for key, value in (("seed", self.seed), ("verbose", 0))
                    if key in parameters
                }
                return lambda m, name=name: getattr(m, name)(
                    self._count(), **kwargs
                )
        raise ValueError(
            f"SampleFrames cannot draw samples from a {type(model).__name__}: it "
            "has no `generate` or `sample` method. Pass `sampler=` a callable "
            "`sampler(model, n)` returning n samples (e.g. denoised points)."
        )

    def render(self, model, label):
        samples = _common.to_numpy(self._draw_samples(model))
        if self._images is None:
            self._images = samples.ndim == 4
        if self._images:
            return self._render_grid(samples, label)
        sets = prepare_sets(self.data, samples)
        if self._plane is None:
            self._plane = _common.Plane(
                samples.shape[1:], self.plane, self.origin, owner="The samples"
            )
        coords = [(index, self._plane.coords(points)) for index, points in sets]
        if self._extent is None:
            self._extent = _common.extent_from_points(coords[-1][1])
        if self._figure is None:
            self._figure = _common.new_figure(self.figsize, self.dpi)
            self._ax = _common.new_axes(self._figure, frame=False)
        ax = self._ax
        ax.cla()
        draw_samples(
            ax, coords, self.labels, self.colors, self.max_points,
            self.marker_size, 0.6, len(coords) == 2,
        )
        _style(ax, self._extent, False, label, self._plane.labels)
        return _common.figure_to_rgb(self._figure)

    def _render_grid(self, samples, label):
        samples = samples[: self.max_images]
        if self._range is None:
            self._range = _image_range(samples)
        return plot_image_grid(
            samples, value_range=self._range, title=label,
            tile_inches=self.tile_inches, dpi=self.dpi, as_array=True,
        )

    def release(self):
        if self._figure is not None:
            _common.release(self._figure)
        self._figure = None


def _image_range(images):
    """(0, 1) or (-1, 1) when it holds `images`, else their own range."""
    low, high = float(images.min()), float(images.max())
    for bounds in ((0.0, 1.0), (-1.0, 1.0)):
        if bounds[0] <= low and high <= bounds[1]:
            return bounds
    return low, max(high, low + 1e-6)
