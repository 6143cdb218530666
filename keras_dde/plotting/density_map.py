import numpy as np

from keras_dde.plotting import common

SCALES = ("density", "log_density", "energy")


def energy_grid(model, extent, resolution=200, plane=None, origin=None,
                feature_shape=None):
    """Energies `s` of a DDE on a regular grid over a 2-D plane.

    Args:
        model: a DDE (anything with `energy(x)`), or a callable mapping
            points `(n, *features)` to energies `(n,)`.
        extent: `(xmin, xmax, ymin, ymax)` in plane coordinates.
        resolution: int, grid points per side.
        plane: None for 2-D models, a pair of feature indices, or a
            `(2, n_features)` array of directions (see `plot_density`).
        origin: the point the plane goes through (default zeros).
        feature_shape: the per-sample shape, for callables that don't say.

    Returns:
        float64 array `(resolution, resolution)`, rows along the y axis.
    """
    extent = common.check_extent(extent)
    resolution = common.check_resolution(resolution)
    plane_ = (
        plane
        if isinstance(plane, common.Plane)
        else common.resolve_plane(model, plane, origin, feature_shape)
    )
    fn = common.energy_function(model)
    xs, ys = common.grid(extent, resolution)
    u, v = np.meshgrid(xs, ys)
    values = common.evaluate(fn, plane_.points(u.ravel(), v.ravel()))
    return values.reshape(resolution, resolution)


def check_scale(scale):
    """Raises a ValueError unless `scale` is one of `SCALES`."""
    if scale not in SCALES:
        raise ValueError(f"`scale` must be one of {SCALES}; received {scale!r}.")
    return scale


def scaled(energies, scale="density", vmin=None, vmax=None, log_range=10.0):
    """Maps energies to displayed values and their colour limits.

    "density": `exp(s - max s)` in [0, 1] (peak-normalised KDE);
    "log_density": `s - max s`, clipped at `-log_range`; "energy": `s` itself.
    For the first two the limits are fixed ([0, 1], [-log_range, 0]) unless
    given, so frames of a training GIF share one colour scale.
    """
    check_scale(scale)
    energies = np.asarray(energies, dtype="float64")
    finite = np.isfinite(energies)
    peak = energies[finite].max() if finite.any() else 0.0
    if scale == "density":
        values = np.exp(np.where(finite, energies - peak, -np.inf))
        limits = (0.0 if vmin is None else vmin, 1.0 if vmax is None else vmax)
    elif scale == "log_density":
        values = np.maximum(np.where(finite, energies - peak, -np.inf), -log_range)
        limits = (-log_range if vmin is None else vmin, 0.0 if vmax is None else vmax)
    else:
        values = energies
        limits = (vmin, vmax)
    return values, limits


def plot_density(
    model,
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
    title=None,
    ax=None,
    figsize=(4.0, 4.0),
    dpi=100,
    axes=True,
    as_array=False,
    feature_shape=None,
):
    """Draws the density map of a DDE (or of any energy function).

    The picture is `exp(s(x))` on a regular grid, normalised by its peak so
    that unnormalised energies have a meaningful, fixed colour scale. For a
    model with more than two features, choose the 2-D slice to draw with
    `plane` (and `origin`).

    Args:
        model: a DDE (anything with `energy(x)`), or a callable mapping points
            `(n, *features)` to unnormalised log-densities `(n,)`.
        extent: `(xmin, xmax, ymin, ymax)`; default: around `data`, else
            `(-4, 4, -4, 4)`.
        resolution: int, grid points per side.
        plane: None (2-D models), a pair of feature indices `(i, j)` for an
            axis-aligned slice, or an array `(2, n_features)` of directions.
        origin: the point the plane goes through; default zeros.
        data: optional samples, used for the default extent only.
        scale: "density" (`exp(s - max s)`, colours 0..1), "log_density"
            (`s - max s`, colours `-log_range`..0) or "energy" (raw `s`).
        vmin, vmax: colour limits overriding the scale's defaults.
        log_range: float, the depth of the "log_density" scale in nats.
        cmap: a matplotlib colormap name.
        title: optional axes title.
        ax: a matplotlib `Axes` to draw into; default a new `Figure`.
        figsize, dpi: size of a new figure.
        axes: bool, draw ticks and frame; False fills the figure with the map.
        as_array: bool, return an `(H, W, 3)` uint8 RGB array (the figure is
            released) instead of the `Figure`. With `axes=False` (and no
            `ax`) the array is the colour-mapped grid itself, one pixel per
            grid point, made without a figure: a few milliseconds.
        feature_shape: the per-sample shape, for callables with `plane`.

    Returns:
        A `matplotlib.figure.Figure` (Agg canvas), or an RGB array.

    Example:
    ```python
    fig = keras_dde.plotting.plot_density(dde, extent=(-4, 4, -4, 4))
    fig.savefig("density.png")
    ```

    References:
        - [Bigdeli et al., 2020](https://arxiv.org/abs/2001.02728)
    """
    plane_ = common.resolve_plane(model, plane, origin, feature_shape)
    extent = common.check_extent(extent) or common.default_extent(plane_, data)
    energies = energy_grid(model, extent, resolution, plane_)
    values, (low, high) = scaled(energies, scale, vmin, vmax, log_range)
    if as_array and not axes and ax is None:
        return colorize(values, low, high, cmap, title)
    figure, ax_given = (ax.figure, True) if ax is not None else (None, False)
    if ax is None:
        figure = common.new_figure(figsize, dpi)
        ax = common.new_axes(figure, frame=axes)
    draw_density(ax, values, extent, low, high, cmap, axes, title, plane_.labels)
    return common.finish(figure, ax_given, as_array)


def colorize(values, vmin, vmax, cmap="inferno", title=None):
    """Colour-maps a grid to an RGB array (row 0 at the top), no figure.

    Args:
        values: array `(rows, cols)`, row 0 at the bottom (y up).
        vmin, vmax: colour limits; None takes the finite min / max.
        cmap: a matplotlib colormap name or object.
        title: optional text drawn in the top-left corner.

    Returns:
        uint8 array `(rows, cols, 3)`.
    """
    import matplotlib

    values = np.asarray(values, dtype="float64")
    finite = np.isfinite(values)
    if vmin is None:
        vmin = values[finite].min() if finite.any() else 0.0
    if vmax is None:
        vmax = values[finite].max() if finite.any() else 1.0
    span = vmax - vmin if vmax > vmin else 1.0
    normed = np.clip((np.where(finite, values, vmin) - vmin) / span, 0.0, 1.0)
    colormap = matplotlib.colormaps[cmap] if isinstance(cmap, str) else cmap
    rgb = colormap(normed[::-1], bytes=True)[..., :3]
    if title:
        rgb = draw_label(rgb, title)
    return np.ascontiguousarray(rgb)


def draw_label(rgb, text):
    """Writes `text` in the top-left corner of an RGB array (with Pillow)."""
    from PIL import Image
    from PIL import ImageDraw
    from PIL import ImageFont

    image = Image.fromarray(np.ascontiguousarray(rgb))
    size = max(9, min(16, image.height // 16))
    try:
        font = ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        font = ImageFont.load_default()
    ImageDraw.Draw(image).text(
        (4, 3), str(text), font=font, fill=(255, 255, 255), stroke_width=1,
        stroke_fill=(0, 0, 0),
    )
    return np.asarray(image)


def draw_density(ax, values, extent, vmin, vmax, cmap, axes=True, title=None,
                 labels=("x[0]", "x[1]")):
    image = ax.imshow(
        values,
        origin="lower",
        extent=extent,
        vmin=vmin,
        vmax=vmax,
        cmap=cmap,
        interpolation="nearest",
        aspect="auto",
    )
    common.style_axes(ax, extent, axes, title, labels)
    return image
