"""Shared helpers of the plotting functions: planes, grids, figures, arrays.

Public: the frame callbacks and the widgets draw with them too.

Everything draws on `matplotlib.figure.Figure` objects with an Agg canvas;
pyplot's global state is never touched, so figures are freed like any other
Python object once the last reference goes.
"""

import numbers

import keras
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

DEFAULT_EXTENT = (-4.0, 4.0, -4.0, 4.0)
_CHUNK = 65536


def new_figure(figsize=(4.0, 4.0), dpi=100):
    """A `Figure` with an Agg canvas and one axes filling it."""
    figure = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(figure)
    return figure


def new_axes(figure, frame=True):
    if frame:
        return figure.add_axes((0.1, 0.08, 0.86, 0.84))
    return figure.add_axes((0.0, 0.0, 1.0, 1.0))


def figure_to_rgb(figure):
    """Renders `figure` with Agg and returns an `(H, W, 3)` uint8 array."""
    canvas = figure.canvas
    if not isinstance(canvas, FigureCanvasAgg):
        canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.array(canvas.buffer_rgba())[..., :3]


def release(figure):
    """Drops the artists of a figure we created (no pyplot, so nothing else)."""
    figure.clear()


def finish(figure, ax_given, as_array):
    """Returns the figure, or its pixels (releasing the figure)."""
    if not as_array:
        return figure
    rgb = figure_to_rgb(figure)
    if not ax_given:
        release(figure)
    return rgb


def to_numpy(values):
    """Backend tensor or array to float64 numpy."""
    return np.asarray(keras.ops.convert_to_numpy(values), dtype="float64")


def style_axes(ax, extent, axes, title, labels):
    """Limits, ticks and title of a picture's axes (no frame: title inset)."""
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    if axes:
        ax.tick_params(labelsize=7)
    else:
        ax.set_axis_off()
    if title:
        if axes:
            ax.set_title(title, fontsize=9)
        else:
            ax.text(
                0.03, 0.97, title, transform=ax.transAxes, va="top", ha="left",
                fontsize=9, color="white",
                bbox=dict(facecolor="black", alpha=0.4, pad=2, linewidth=0),
            )


def check_extent(extent, name="extent"):
    """`(xmin, xmax, ymin, ymax)` as floats, or None."""
    if extent is None:
        return None
    try:
        values = tuple(float(v) for v in extent)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"`{name}` must be a tuple (xmin, xmax, ymin, ymax) of numbers; "
            f"received {extent!r}."
        ) from error
    if len(values) != 4 or not all(np.isfinite(values)):
        raise ValueError(
            f"`{name}` must be four finite numbers (xmin, xmax, ymin, ymax); "
            f"received {extent!r}."
        )
    if values[0] >= values[1] or values[2] >= values[3]:
        raise ValueError(
            f"`{name}` must have xmin < xmax and ymin < ymax; received {extent!r}."
        )
    return values


def check_resolution(resolution, name="resolution", minimum=2):
    if isinstance(resolution, bool) or not isinstance(resolution, numbers.Integral):
        raise TypeError(
            f"`{name}` must be an int (grid points per side); received "
            f"{resolution!r}."
        )
    if resolution < minimum:
        raise ValueError(f"`{name}` must be at least {minimum}; received {resolution}.")
    return int(resolution)


def extent_from_points(coords, margin=0.1):
    """A square-ish extent around 2-D points, robust to a few outliers."""
    coords = np.asarray(coords, dtype="float64")
    low = np.percentile(coords, 0.5, axis=0)
    high = np.percentile(coords, 99.5, axis=0)
    center = (low + high) / 2
    half = max(float(np.max(high - low)) / 2, 1e-6) * (1 + 2 * margin)
    return (center[0] - half, center[0] + half, center[1] - half, center[1] + half)


class Plane:
    """A 2-D plane through feature space, on which pictures are drawn.

    Points of the picture `(u, v)` are the features `origin + u a + v b`.
    Derivatives along the picture's axes are then exact: `d s / d u = g . a`.

    Args:
        feature_shape: the per-sample shape of the data or model.
        plane: None (only for 2 features), a pair of feature indices `(i, j)`
            (an axis-aligned slice), or an array `(2, n_features)` of the
            directions `a` and `b` (e.g. two principal components).
        origin: None (zeros) or a point of `n_features` values.
        owner: a name for error messages.
    """

    def __init__(self, feature_shape, plane=None, origin=None, owner="the model"):
        self.feature_shape = tuple(int(s) for s in feature_shape)
        size = int(np.prod(self.feature_shape)) if self.feature_shape else 1
        self.size = size
        if plane is None:
            if size != 2:
                raise ValueError(
                    f"{owner} has {size} features (per-sample shape "
                    f"{self.feature_shape}); a picture needs a 2-D slice or "
                    "projection. Pass `plane=(i, j)` (two feature indices) or "
                    f"`plane=` an array of shape (2, {size}) of directions, "
                    "and optionally `origin=` the point the plane goes through."
                )
            plane = (0, 1)
        if _is_index_pair(plane):
            i, j = int(plane[0]), int(plane[1])
            if not (0 <= i < size and 0 <= j < size) or i == j:
                raise ValueError(
                    f"`plane` must name two different feature indices in "
                    f"[0, {size}); received {tuple(plane)!r}."
                )
            basis = np.zeros((2, size))
            basis[0, i] = 1.0
            basis[1, j] = 1.0
            self.labels = (f"x[{i}]", f"x[{j}]")
        else:
            try:
                basis = np.asarray(plane, dtype="float64")
            except (TypeError, ValueError) as error:
                raise TypeError(
                    "`plane` must be None, a pair of ints or an array of shape "
                    f"(2, {size}); received {plane!r}."
                ) from error
            basis = basis.reshape(2, -1) if basis.size == 2 * size else basis
            if basis.shape != (2, size) or not np.all(np.isfinite(basis)):
                raise ValueError(
                    "`plane` must be a pair of feature indices or a finite array "
                    f"of shape (2, {size}); received shape {basis.shape}."
                )
            if np.linalg.matrix_rank(basis) < 2:
                raise ValueError("The two directions in `plane` must be independent.")
            self.labels = ("u", "v")
        self.basis = basis
        if origin is None:
            origin = np.zeros(size)
        else:
            origin = np.asarray(origin, dtype="float64").reshape(-1)
            if origin.shape != (size,) or not np.all(np.isfinite(origin)):
                raise ValueError(
                    f"`origin` must be a finite point with {size} features; "
                    f"received shape {np.shape(origin)}."
                )
        self.origin = origin
        # Least-squares coordinates of points in the plane.
        self._pinv = np.linalg.pinv(basis)

    def points(self, u, v):
        """Features of plane coordinates `u`, `v` (flat arrays), float32."""
        flat = self.origin + np.outer(u, self.basis[0]) + np.outer(v, self.basis[1])
        return flat.reshape((-1, *self.feature_shape)).astype("float32")

    def coords(self, x):
        """Plane coordinates `(n, 2)` of points `x` (their projection)."""
        flat = np.asarray(x, dtype="float64").reshape(len(x), -1)
        if flat.shape[1] != self.size:
            raise ValueError(
                f"Points with {flat.shape[1]} features cannot be drawn on a plane "
                f"of a {self.size}-feature model."
            )
        return (flat - self.origin) @ self._pinv

    def tangent(self, vectors):
        """In-plane components `(g . a, g . b)` of vectors, `(n, 2)`."""
        flat = np.asarray(vectors, dtype="float64").reshape(len(vectors), -1)
        return flat @ self.basis.T


def _is_index_pair(plane):
    return (
        isinstance(plane, (tuple, list))
        and len(plane) == 2
        and all(
            isinstance(p, numbers.Integral) and not isinstance(p, bool) for p in plane
        )
    )


def model_feature_shape(model, name="model"):
    """The per-sample input shape `model` has been built for, as a tuple."""
    shape = getattr(model, "feature_shape", None)
    if shape is None:
        raise ValueError(
            f"`{name}` does not know its input shape yet; build it (or fit it) "
            "before drawing, or pass a callable together with `feature_shape=`."
        )
    return tuple(shape)


def energy_function(model, name="model"):
    """`f(x) -> (n,)` energies from a DDE-like object or a callable.

    For a DDE (a Keras model with `energy` and `score` methods, whose
    `predict` returns energies) this is its compiled `predict_on_batch`
    (2-5x faster than the eager `energy` method on large grids).
    """
    method = getattr(model, "energy", None)
    if callable(method):
        if is_dde_like(model):
            return lambda x: _flat(model.predict_on_batch(x))
        return method
    if callable(model):
        return model
    raise TypeError(
        f"`{name}` must be a DDE (with an `energy` method) or a callable mapping "
        f"points to energies; received {type(model).__name__}."
    )


def is_dde_like(model):
    """True for a Keras model with `energy` and `score` methods (a DDE).

    Duck typing, so that plotting needs no import of the models.
    """
    return (
        isinstance(model, keras.Model)
        and callable(getattr(model, "energy", None))
        and callable(getattr(model, "score", None))
    )


def _flat(values):
    values = to_numpy(values)
    return values.reshape(len(values))


def score_function(model, name="model"):
    """`f(x) -> (n, *features)` scores from a DDE-like object or a callable."""
    method = getattr(model, "score", None)
    if callable(method):
        return method
    if callable(model) and not hasattr(model, "energy"):
        return model
    raise TypeError(
        f"`{name}` must be a DDE (with a `score` method) or a callable mapping "
        f"points to score vectors; received {type(model).__name__}."
    )


def evaluate(fn, points):
    """Applies `fn` in chunks, returning float64 numpy."""
    outputs = [
        to_numpy(fn(points[i : i + _CHUNK])) for i in range(0, len(points), _CHUNK)
    ]
    return np.concatenate(outputs, axis=0)


def resolve_plane(model, plane, origin, feature_shape, name="model"):
    if feature_shape is None:
        feature_shape = getattr(model, "feature_shape", None)
    if feature_shape is None:
        if plane is None and origin is None:
            feature_shape = (2,)
        else:
            raise ValueError(
                f"`{name}` does not report its `feature_shape`; pass "
                "`feature_shape=` too."
            )
    return Plane(feature_shape, plane, origin, owner=f"`{name}`")


def grid(extent, resolution):
    """Cell-centre coordinates `(xs, ys)` of a `resolution` square grid."""
    xs = np.linspace(extent[0], extent[1], resolution)
    ys = np.linspace(extent[2], extent[3], resolution)
    return xs, ys


def default_extent(plane, data):
    if data is None:
        return DEFAULT_EXTENT
    return extent_from_points(plane.coords(np.asarray(data)))
