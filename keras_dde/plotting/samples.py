import numpy as np

from keras_dde.plotting import common
from keras_dde.plotting.common import style_axes as _style


def plot_samples(
    data=None,
    samples=None,
    extent=None,
    plane=None,
    origin=None,
    labels=("data", "model"),
    colors=("#1f77b4", "#ff7f0e"),
    max_points=5000,
    marker_size=2.0,
    alpha=0.5,
    title=None,
    ax=None,
    figsize=(4.0, 4.0),
    dpi=100,
    axes=True,
    legend=True,
    as_array=False,
    seed=0,
):
    """Scatter plot of real data and generated (or denoised) samples.

    Args:
        data: array `(n, *features)` of real samples, or None.
        samples: array `(m, *features)` of model samples, or None. At least
            one of `data` and `samples` is required.
        extent: `(xmin, xmax, ymin, ymax)`; default: around all points.
        plane, origin: for more than two features, the 2-D plane to project
            onto: a pair of feature indices or a `(2, n_features)` array of
            directions (see `plot_density`).
        labels: legend labels of the two sets.
        colors: their colours.
        max_points: int, draw at most this many points of each set (a
            random subset), to keep figures light.
        marker_size, alpha: marker size (points^2) and opacity.
        title: optional axes title.
        ax: a matplotlib `Axes` to draw into; default a new `Figure`.
        figsize, dpi: size of a new figure.
        axes: bool, draw ticks and frame.
        legend: bool, draw a legend when both sets are given.
        as_array: bool, return an `(H, W, 3)` uint8 RGB array instead.
        seed: int, for the subset drawn when there are too many points.

    Returns:
        A `matplotlib.figure.Figure` (Agg canvas), or an RGB array.

    Example:
    ```python
    x = keras_dde.datasets.toy2d("2spirals", 4000, seed=0)
    fig = keras_dde.plotting.plot_samples(x)
    fig.savefig("samples.png")
    ```

    References:
        - [Bigdeli et al., 2020](https://arxiv.org/abs/2001.02728)
    """
    sets = prepare_sets(data, samples)
    feature_shape = sets[0][1].shape[1:]
    plane_ = common.Plane(feature_shape, plane, origin, owner="The samples")
    coords = [(index, plane_.coords(points)) for index, points in sets]
    extent = common.check_extent(extent) or common.extent_from_points(
        np.concatenate([c for _, c in coords])
    )
    figure, ax_given = (ax.figure, True) if ax is not None else (None, False)
    if ax is None:
        figure = common.new_figure(figsize, dpi)
        ax = common.new_axes(figure, frame=axes)
    draw_samples(
        ax, coords, labels, colors, max_points, marker_size, alpha,
        legend and len(coords) == 2, seed,
    )
    _style(ax, extent, axes, title, plane_.labels)
    return common.finish(figure, ax_given, as_array)


def prepare_sets(data, samples):
    """Validated `[(index, array)]` of the sets given (0 = data, 1 = samples)."""
    sets = []
    for index, (name, points) in enumerate((("data", data), ("samples", samples))):
        if points is None:
            continue
        array = np.asarray(common.to_numpy(points))
        if array.ndim < 2 or len(array) == 0:
            raise ValueError(
                f"`{name}` must be a non-empty array (n, n_features); received "
                f"shape {array.shape}."
            )
        sets.append((index, array))
    if not sets:
        raise ValueError("Pass `data`, `samples` or both.")
    if len(sets) == 2 and sets[0][1].shape[1:] != sets[1][1].shape[1:]:
        raise ValueError(
            f"`data` and `samples` have different per-sample shapes: "
            f"{sets[0][1].shape[1:]} and {sets[1][1].shape[1:]}."
        )
    return sets


def draw_samples(ax, coords, labels, colors, max_points, marker_size, alpha,
                 legend, seed=0):
    rng = np.random.default_rng(seed)
    ax.set_facecolor("white")
    for index, points in coords:
        points = np.asarray(points)
        if max_points is not None and len(points) > max_points:
            points = points[rng.choice(len(points), max_points, replace=False)]
        finite = np.all(np.isfinite(points), axis=1)
        ax.scatter(
            points[finite, 0], points[finite, 1], s=marker_size, alpha=alpha,
            color=colors[index], label=labels[index], linewidths=0,
            rasterized=True,
        )
    if legend:
        leg = ax.legend(loc="upper right", fontsize=7, markerscale=4, framealpha=0.7)
        for handle in leg.legend_handles:
            handle.set_alpha(1.0)
