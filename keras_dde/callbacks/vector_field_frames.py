from keras_dde.callbacks.plot_frames import DDEFrames
from keras_dde.plotting.vector_field import check_style
from keras_dde.plotting.vector_field import plot_vector_field


class VectorFieldFrames(DDEFrames):
    """Draws a DDE's score field `grad_x s` during `fit` and writes a GIF.

    Each frame is `keras_dde.plotting.plot_vector_field` of the DDE: arrows
    (or streamlines) of the score over a density background, on a fixed
    extent. Frames are kept on `.frames`; the GIF is written atomically at
    the end of training (and on interruption, see `FrameCallback`).

    Args:
        gif_path: the `.gif` to write, or None to only keep `.frames`.
        every: a positive int (every N epochs/batches) or "log".
        dde: which DDE to draw: None (the model itself), a DDE, or a name
            such as "real" or "fake" for an `EnergyGAN`. Resolved at
            `on_train_begin`.
        **kwargs: `FrameCallback` arguments (`unit`, `max_overhead`, ...),
            and `plot_vector_field` arguments (`extent`, `resolution`,
            `plane`, `origin`, `data`, `style`, `background`, `color`, ...)
            but `title` and `as_array`, which each frame sets. The extent is
            fixed at the first frame (default: around `data`). Frames
            default to `axes=False` and `dpi=64`.

    Example:
    ```python
    field = keras_dde.callbacks.VectorFieldFrames("field.gif", every=10)
    dde.fit(x, batch_size=512, epochs=100, callbacks=[field])
    ```

    References:
        - [Bigdeli et al., 2020](https://arxiv.org/abs/2001.02728)
    """

    plot_functions = (plot_vector_field,)

    def __init__(self, gif_path=None, every=1, dde=None, **kwargs):
        super().__init__(gif_path=gif_path, every=every, dde=dde, **kwargs)
        check_style(self.option("style"), self.option("background"))
