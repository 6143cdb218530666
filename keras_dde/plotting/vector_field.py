import numpy as np

from keras_dde.plotting import common
from keras_dde.plotting.common import style_axes as _style
from keras_dde.plotting.density_map import energy_grid
from keras_dde.plotting.density_map import scaled

STYLES = ("quiver", "stream")


def score_grid(model, extent, resolution=24, plane=None, origin=None,
               feature_shape=None):
    """In-plane score `(d s/du, d s/dv)` of a DDE on a regular grid.

    Returns:
        float64 arrays `(u_component, v_component)`, each
        `(resolution, resolution)`, rows along the y axis.
    """
    extent = common.check_extent(extent)
    resolution = common.check_resolution(resolution)
    plane_ = (
        plane
        if isinstance(plane, common.Plane)
        else common.resolve_plane(model, plane, origin, feature_shape)
    )
    fn = common.score_function(model)
    xs, ys = common.grid(extent, resolution)
    u, v = np.meshgrid(xs, ys)
    scores = common.evaluate(fn, plane_.points(u.ravel(), v.ravel()))
    tangent = plane_.tangent(scores)
    shape = (resolution, resolution)
    return tangent[:, 0].reshape(shape), tangent[:, 1].reshape(shape)


def plot_vector_field(
    model,
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
    title=None,
    ax=None,
    figsize=(4.0, 4.0),
    dpi=100,
    axes=True,
    as_array=False,
    feature_shape=None,
):
    """Draws the score field `grad_x s(x)` of a DDE as arrows or streamlines.

    The field is conservative (the gradient of one scalar) and points uphill,
    toward the data: `x + sigma^2 grad s(x)` is the denoised point. For a
    model with more than two features it is drawn on a 2-D plane (`plane`,
    `origin`): the arrows are the exact gradient of the energy restricted to
    that plane.

    Args:
        model: a DDE (anything with `score(x)`), or a callable mapping points
            `(n, *features)` to score vectors of the same shape.
        extent: `(xmin, xmax, ymin, ymax)`; default: around `data`, else
            `(-4, 4, -4, 4)`.
        resolution: int, arrows (or stream grid points) per side.
        plane, origin: the 2-D slice, as in `plot_density`.
        data: optional samples, used for the default extent only.
        style: "quiver" (arrows) or "stream" (streamlines; slower).
        normalize: bool, draw unit arrows (the direction) so that the large
            scores far from the data don't swamp the picture.
        background: "density", "log_density" or None: a density map behind
            the arrows (needs `energy`; skipped for plain callables).
        background_resolution: int, grid of the background map.
        cmap: the background's colormap.
        color: the arrows' colour.
        title: optional axes title.
        ax: a matplotlib `Axes` to draw into; default a new `Figure`.
        figsize, dpi: size of a new figure.
        axes: bool, draw ticks and frame.
        as_array: bool, return an `(H, W, 3)` uint8 RGB array instead.
        feature_shape: the per-sample shape, for callables with `plane`.

    Returns:
        A `matplotlib.figure.Figure` (Agg canvas), or an RGB array.

    Example:
    ```python
    fig = keras_dde.plotting.plot_vector_field(dde, extent=(-4, 4, -4, 4))
    fig.savefig("vectorfield.png")
    ```

    References:
        - [Bigdeli et al., 2020](https://arxiv.org/abs/2001.02728)
    """
    check_style(style, background)
    plane_ = common.resolve_plane(model, plane, origin, feature_shape)
    extent = common.check_extent(extent) or common.default_extent(plane_, data)
    grad_u, grad_v = score_grid(model, extent, resolution, plane_)
    background_values = None
    if background is not None and callable(getattr(model, "energy", None)):
        energies = energy_grid(model, extent, background_resolution, plane_)
        background_values = scaled(energies, background)
    figure, ax_given = (ax.figure, True) if ax is not None else (None, False)
    if ax is None:
        figure = common.new_figure(figsize, dpi)
        ax = common.new_axes(figure, frame=axes)
    draw_vector_field(
        ax, grad_u, grad_v, extent, style, normalize, background_values, cmap,
        color,
    )
    _style(ax, extent, axes, title, plane_.labels)
    return common.finish(figure, ax_given, as_array)


def check_style(style, background):
    """Raises a ValueError unless `style` and `background` are known ones."""
    if style not in STYLES:
        raise ValueError(f"`style` must be one of {STYLES}; received {style!r}.")
    if background not in (None, "density", "log_density"):
        raise ValueError(
            "`background` must be None, 'density' or 'log_density'; received "
            f"{background!r}."
        )


def draw_vector_field(ax, grad_u, grad_v, extent, style="quiver", normalize=True,
                      background=None, cmap="viridis", color="white"):
    if background is not None:
        values, (low, high) = background
        ax.imshow(
            values, origin="lower", extent=extent, vmin=low, vmax=high,
            cmap=cmap, interpolation="bilinear", aspect="auto",
        )
    else:
        ax.set_facecolor("#202020")
    resolution = grad_u.shape[0]
    xs, ys = common.grid(extent, resolution)
    magnitude = np.hypot(grad_u, grad_v)
    if style == "stream":
        ax.streamplot(
            xs, ys, grad_u, grad_v, color=color, density=1.2, linewidth=0.7,
            arrowsize=0.7,
        )
        return
    if normalize:
        safe = np.where(magnitude > 0, magnitude, 1.0)
        grad_u, grad_v = grad_u / safe, grad_v / safe
        spacing = (extent[1] - extent[0]) / max(resolution - 1, 1)
        scale = 1.0 / (0.8 * spacing)
    else:
        scale = None
    u, v = np.meshgrid(xs, ys)
    ax.quiver(
        u, v, grad_u, grad_v, color=color, angles="xy", scale_units="xy",
        scale=scale, width=0.004, headwidth=3.5, headlength=4,
    )
