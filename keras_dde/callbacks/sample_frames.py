import inspect

from keras_dde.callbacks.plot_frames import PlotFrames
from keras_dde.plotting import common as _common
from keras_dde.plotting.image_grid import plot_image_grid
from keras_dde.plotting.samples import plot_samples
from keras_dde.utils.validation import check_data
from keras_dde.utils.validation import check_positive_int


class SampleFrames(PlotFrames):
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
        max_images: int, images per frame for image data (at most
            `num_samples`).
        **kwargs: `FrameCallback` arguments (`unit`, `max_overhead`, ...),
            and the arguments of the plot function of each frame but
            `title` and `as_array`, which each frame sets: for points
            `keras_dde.plotting.plot_samples` (`extent`, `plane`, `origin`,
            `labels`, `colors`, `max_points`, `marker_size`, `figsize`,
            ...), for images `keras_dde.plotting.plot_image_grid`
            (`value_range`, `tile_inches`, `ncols`, ...; its `labels` are
            never passed on, since `labels` names the legend's). The
            extent is fixed at the first frame: by default around `data`,
            or the first frame's samples. For images, `value_range`
            defaults to (0, 1) or (-1, 1), whichever holds `data` (or the
            first frame's samples), then fixed. Frames default to
            `axes=False`, `dpi=64`, `max_points=2000` and `alpha=0.6`.

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

    plot_functions = (plot_samples, plot_image_grid)
    plot_defaults = {"axes": False, "dpi": 64, "max_points": 2000, "alpha": 0.6}
    set_by_frames = ("samples",)

    def __init__(
        self,
        gif_path=None,
        every=1,
        data=None,
        sampler=None,
        num_samples=1000,
        seed=0,
        max_images=64,
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
        self.max_images = check_positive_int(max_images, "max_images")
        if self.data is not None and self.data.ndim != 4:
            # A bad plane for the data fails now, not at the first frame.
            self._points_plane(self.data, "`data`")

    def _points_plane(self, points, owner):
        return _common.Plane(
            points.shape[1:], self.option("plane"), self.option("origin"), owner=owner
        )

    def check_model(self, model):
        self._draw_samples = self._sampler_for(model)
        self._extent = self.option("extent")
        self._range = self.option("value_range", plot_image_grid)
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
            if self._extent is None:
                self._extent = _common.extent_from_points(
                    self._points_plane(self.data, "`data`").coords(self.data)
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
        if self._extent is None:
            plane = self._points_plane(samples, "The samples")
            self._extent = _common.extent_from_points(plane.coords(samples))
        return self.plot(plot_samples, self.data, samples, title=label,
                         extent=self._extent)

    def _render_grid(self, samples, label):
        samples = samples[: self.max_images]
        if self._range is None:
            self._range = _image_range(samples)
        return self.plot(
            plot_image_grid, samples, title=label, value_range=self._range,
            labels=None, reuse_figure=False,
        )


def _image_range(images):
    """(0, 1) or (-1, 1) when it holds `images`, else their own range."""
    low, high = float(images.min()), float(images.max())
    for bounds in ((0.0, 1.0), (-1.0, 1.0)):
        if bounds[0] <= low and high <= bounds[1]:
            return bounds
    return low, max(high, low + 1e-6)
