"""PNG bytes for `ipywidgets.Image`: RGB frames and the loss curve."""

import io
import math

import imageio.v3 as iio
import numpy as np

from keras_dde.plotting import common as _common

# Pixels (width, height) of the loss curve, and the dots per inch it is
# drawn at: shown pixel for pixel, its 10-point labels are 13 pixels tall.
LOSS_PIXELS = (300, 225)
LOSS_DPI = 96


def png_bytes(rgb):
    """Encodes an `(H, W, 3)` uint8 array as PNG bytes."""
    return iio.imwrite("<bytes>", np.asarray(rgb, dtype=np.uint8), extension=".png")


def loss_curve_png(history, pixels=LOSS_PIXELS, dpi=LOSS_DPI):
    """Draws the losses of `history` against epochs and returns PNG bytes.

    Args:
        history: dict with an "epoch" list and one list per logged value;
            every key ending in "loss" is drawn. Non-finite values are
            left out (a diverged run still has a readable curve).
        pixels: `(width, height)` of the picture, the size it is shown at.
        dpi: dots per inch: the fonts' size in pixels is points * dpi / 72.
    """
    figure = _common.new_figure((pixels[0] / dpi, pixels[1] / dpi), dpi)
    ax = figure.add_axes((0.2, 0.19, 0.75, 0.7))
    epochs = np.asarray(history.get("epoch", []), dtype=float)
    names = sorted(key for key in history if key.endswith("loss"))
    finite_values = []
    for name in names:
        values = np.asarray(history[name], dtype=float)
        keep = np.isfinite(values)
        if keep.any():
            ax.plot(epochs[keep], values[keep], label=name, linewidth=1.5)
            finite_values.append(values[keep])
    if finite_values:
        every = np.concatenate(finite_values)
        # Score-matching losses fall over orders of magnitude early on; a log
        # axis shows the later progress too (generator losses can be < 0).
        if every.min() > 0 and every.max() / every.min() > 10:
            ax.set_yscale("log")
        if len(names) > 1:
            ax.legend(fontsize=8, loc="upper right")
    else:
        ax.text(0.5, 0.5, "no training yet", ha="center", va="center",
                transform=ax.transAxes, color="gray", fontsize=10)
    ax.set_xlabel("epoch", fontsize=10)
    ax.set_title("loss", fontsize=11)
    ax.tick_params(labelsize=9)
    if len(epochs) and math.isfinite(epochs.max()) and epochs.max() > epochs.min():
        ax.set_xlim(epochs.min(), epochs.max())
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    _common.release(figure)
    return buffer.getvalue()
