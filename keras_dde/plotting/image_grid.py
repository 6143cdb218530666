"""Pictures of image data: sample grids and a DDE's denoising of images."""

import math
import numbers

import numpy as np

from keras_dde.plotting import common as _common


def tile_images(images, ncols=None, value_range=None, padding=1, pad_value=1.0):
    """Tiles images into one mosaic array, row by row.

    Args:
        images: array `(n, h, w)`, `(n, h, w, c)` or `(n, c, h, w)` with
            `c` 1 (grey) or 3 (RGB); backend tensors are accepted.
        ncols: int, tiles per row; default `ceil(sqrt(n))`.
        value_range: `(low, high)` shown as black and white; default (-1, 1)
            for data inside it with negative values (the scaling of
            `load_fashion_mnist`), (0, 1) for data inside that, else the
            data's min and max. Values outside are clipped.
        padding: int, pixels between tiles.
        pad_value: float in [0, 1], the brightness of the padding.

    Returns:
        float32 array `(H, W)` (grey) or `(H, W, 3)` with values in [0, 1].

    Example:
    ```python
    images, labels = keras_dde.datasets.load_fashion_mnist("test")
    mosaic = keras_dde.plotting.tile_images(images[:64], ncols=8)
    ```
    """
    images = _channels_last(images)
    n, height, width, channels = images.shape
    ncols = _check_count(ncols, "ncols") if ncols is not None else math.ceil(n**0.5)
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    if isinstance(padding, bool) or not isinstance(padding, numbers.Integral) or padding < 0:
        raise ValueError(f"`padding` must be an int >= 0; received {padding!r}.")
    low, high = _value_range(images, value_range)
    scaled = np.clip((images - low) / (high - low), 0.0, 1.0)
    step_y, step_x = height + padding, width + padding
    mosaic = np.full(
        (nrows * step_y - padding, ncols * step_x - padding, channels),
        pad_value, dtype="float32",
    )
    for index, image in enumerate(scaled):
        row, col = divmod(index, ncols)
        mosaic[row * step_y : row * step_y + height, col * step_x : col * step_x + width] = image
    return mosaic[..., 0] if channels == 1 else mosaic


def plot_image_grid(
    images,
    ncols=None,
    value_range=None,
    labels=None,
    title=None,
    cmap="gray",
    padding=1,
    ax=None,
    tile_inches=0.5,
    dpi=100,
    as_array=False,
):
    """A grid of images, e.g. a generator's samples, as a figure.

    Args:
        images: array `(n, h, w[, c])` or `(n, c, h, w)`, `c` 1 or 3.
        ncols: int, images per row; default `ceil(sqrt(n))`.
        value_range: `(low, high)` drawn black and white; see `tile_images`.
            Fix it (e.g. `(-1, 1)`) to compare figures over training.
        labels: optional sequence of `n` strings drawn on the tiles (e.g.
            class names).
        title: optional title.
        cmap: colour map of grey images.
        padding: int, pixels between tiles.
        ax: a matplotlib `Axes` to draw into; default a new `Figure`.
        tile_inches: float, size of one tile in a new figure.
        dpi: resolution of a new figure.
        as_array: bool, return an `(H, W, 3)` uint8 RGB array instead.

    Returns:
        A `matplotlib.figure.Figure` (Agg canvas), or an RGB array.

    Example:
    ```python
    images, labels = keras_dde.datasets.load_fashion_mnist("test")
    fig = keras_dde.plotting.plot_image_grid(images[:64], ncols=8)
    fig.savefig("grid.png")
    ```
    """
    images = _channels_last(images)
    mosaic = tile_images(images, ncols, value_range, padding)
    n, height, width, _ = images.shape
    ncols = min(ncols or math.ceil(n**0.5), n)
    if labels is not None:
        labels = [str(label) for label in labels]
        if len(labels) != n:
            raise ValueError(
                f"`labels` must have one entry per image ({n}); received "
                f"{len(labels)}."
            )
    figure, ax_given = (ax.figure, True) if ax is not None else (None, False)
    if ax is None:
        rows = math.ceil(n / ncols)
        extra = 0.3 if title else 0.0
        figure = _common.new_figure(
            (ncols * tile_inches, rows * tile_inches + extra), dpi
        )
        ax = figure.add_axes((0.0, 0.0, 1.0, 1.0 - extra / (rows * tile_inches + extra)))
    _draw_mosaic(ax, mosaic, cmap, title)
    for index, label in enumerate(labels or ()):
        row, col = divmod(index, ncols)
        ax.text(
            col * (width + padding) + 1, row * (height + padding) + 1, label,
            color="#ffcc00", fontsize=5, va="top", ha="left",
        )
    return _common.finish(figure, ax_given, as_array)


def plot_denoising(
    dde,
    images,
    sigma=None,
    ncols=8,
    value_range=None,
    seed=0,
    tile_inches=0.6,
    dpi=100,
    as_array=False,
):
    """Clean images, the same with Gaussian noise, and the DDE's denoising.

    Three rows: `x`, `x~ = x + sigma n` and `dde.denoise(x~) = x~ + sigma^2
    grad s(x~)` (Tweedie's formula; the posterior mean `E[x | x~]` for a
    converged DDE), each labelled with its mean squared error to `x`.

    Args:
        dde: a `DDEModel` (anything with `denoise` and `sigma`).
        images: array `(n, *feature_shape)` of clean images; the first
            `ncols` are drawn.
        sigma: noise level; default `dde.sigma`, the one it denoises best.
        ncols: int, images per row.
        value_range: `(low, high)` drawn black and white; default from the
            clean images (see `tile_images`).
        seed: int, for the noise.
        tile_inches, dpi: size of a tile and resolution.
        as_array: bool, return an `(H, W, 3)` uint8 RGB array instead.

    Returns:
        A `matplotlib.figure.Figure` (Agg canvas), or an RGB array.

    Example:
    ```python
    test_images, _ = keras_dde.datasets.load_fashion_mnist("test")
    # Train it first, as in `keras_dde.models.energy_convnet`'s example.
    dde = keras_dde.DDEModel(keras_dde.models.energy_convnet(), sigma=0.3)
    fig = keras_dde.plotting.plot_denoising(dde, test_images[:8])
    fig.savefig("denoising.png")
    ```

    References:
        - [Bigdeli et al., 2020](https://arxiv.org/abs/2001.02728)
        - [Efron, 2011](https://doi.org/10.1198/jasa.2011.tm11181)
    """
    if not callable(getattr(dde, "denoise", None)):
        raise TypeError(
            f"`dde` must be a DDE with a `denoise` method; received {type(dde).__name__}."
        )
    ncols = _check_count(ncols, "ncols")
    clean = np.asarray(_common.to_numpy(images), dtype="float32")[:ncols]
    if clean.ndim < 2 or len(clean) == 0:
        raise ValueError(f"`images` must be a non-empty batch; received shape {clean.shape}.")
    sigma = float(dde.sigma if sigma is None else sigma)
    if not (np.isfinite(sigma) and sigma > 0):
        raise ValueError(f"`sigma` must be a positive number; received {sigma}.")
    noise = np.random.default_rng(seed).normal(size=clean.shape).astype("float32")
    noisy = clean + sigma * noise
    denoised = np.asarray(_common.to_numpy(dde.denoise(noisy)), dtype="float32")
    value_range = _value_range(_channels_last(clean), value_range)
    rows = (
        ("clean", clean),
        (f"noisy, sigma={sigma:g}", noisy),
        ("denoised", denoised),
    )
    n = len(clean)
    figure = _common.new_figure((n * tile_inches, 3 * (tile_inches + 0.25)), dpi)
    for index, (name, row) in enumerate(rows):
        mse = float(np.mean((row - clean) ** 2))
        # Each row: the tiles, and 0.25 inches above them for the label.
        height = tile_inches / (tile_inches + 0.25) / 3
        ax = figure.add_axes((0.0, 1.0 - (index + 1) / 3, 1.0, height))
        label = name if index == 0 else f"{name}  (MSE {mse:.4f})"
        _draw_mosaic(ax, tile_images(row, n, value_range), "gray", label)
    return _common.finish(figure, False, as_array)


def _draw_mosaic(ax, mosaic, cmap, title):
    ax.imshow(mosaic, cmap=cmap if mosaic.ndim == 2 else None, vmin=0.0, vmax=1.0,
              interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=8)


def _channels_last(images):
    array = np.asarray(_common.to_numpy(images), dtype="float32")
    if array.ndim == 3:
        array = array[..., None]
    if array.ndim != 4 or len(array) == 0:
        raise ValueError(
            "`images` must be a non-empty batch (n, height, width[, channels]); "
            f"received shape {array.shape}."
        )
    if array.shape[-1] not in (1, 3) and array.shape[1] in (1, 3):
        array = np.moveaxis(array, 1, -1)  # channels first
    if array.shape[-1] not in (1, 3):
        raise ValueError(
            "`images` must have 1 (grey) or 3 (RGB) channels; received shape "
            f"{array.shape}."
        )
    if not np.all(np.isfinite(array)):
        array = np.nan_to_num(array, nan=0.0, posinf=0.0, neginf=0.0)
    return array


def _value_range(images, value_range):
    if value_range is not None:
        low, high = (float(v) for v in value_range)
        if not (np.isfinite(low) and np.isfinite(high) and low < high):
            raise ValueError(
                f"`value_range` must be finite with low < high; received {value_range!r}."
            )
        return low, high
    low, high = float(images.min()), float(images.max())
    if low >= 0.0 and high <= 1.0:
        return 0.0, 1.0
    if low >= -1.0 and high <= 1.0:
        return -1.0, 1.0
    return low, max(high, low + 1e-6)


def _check_count(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"`{name}` must be a positive int; received {value!r}.")
    return int(value)
