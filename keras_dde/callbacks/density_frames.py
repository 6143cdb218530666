from keras_dde.callbacks.plot_frames import DDEFrames
from keras_dde.plotting.density_map import check_scale
from keras_dde.plotting.density_map import plot_density


class DensityFrames(DDEFrames):
    """Draws a DDE's density map during `fit` and writes the frames as a GIF.

    Each frame is `keras_dde.plotting.plot_density` of the DDE: by default
    `exp(s(x) - max s)` on a fixed grid with a fixed colour scale, so the GIF
    shows the learned KDE taking shape without flicker. Frames are RGB
    arrays kept on `.frames`; the GIF is written atomically at the end of
    training (and on interruption, see `FrameCallback`).

    Args:
        gif_path: the `.gif` to write, or None to only keep `.frames`.
        every: a positive int (every N epochs/batches) or "log".
        dde: which DDE to draw: None (the model itself), a DDE, or a name
            such as "real" or "fake" for an `EnergyGAN`'s `real_dde` /
            `fake_dde`. Resolved at `on_train_begin`.
        **kwargs: `FrameCallback` arguments (`unit`, `num_frames`,
            `max_overhead`, `max_frames`, `initial_frame`, `fps`,
            `verbose`), and `plot_density` arguments (`extent`,
            `resolution`, `plane`, `origin`, `data`, `scale`, `cmap`, ...)
            but `title` and `as_array`, which each frame sets. The extent is
            fixed at the first frame (default: around `data`). Frames
            default to `axes=False`, the colour-mapped grid itself labelled
            with the epoch and made without a figure (fast), and to `dpi=64`
            for `axes=True`.

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

    plot_functions = (plot_density,)

    def __init__(self, gif_path=None, every=1, dde=None, **kwargs):
        super().__init__(gif_path=gif_path, every=every, dde=dde, **kwargs)
        check_scale(self.option("scale"))

    def reuse_figure(self):
        # Without axes, plot_density colour-maps the grid without a figure.
        return bool(self.plot_kwargs["axes"])
