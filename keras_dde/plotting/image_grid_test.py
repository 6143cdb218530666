import numpy as np
import pytest
from matplotlib.figure import Figure

from keras_dde.plotting import plot_denoising
from keras_dde.plotting import plot_image_grid
from keras_dde.plotting import tile_images


def test_tiles_are_placed_row_by_row_with_padding():
    images = np.zeros((5, 2, 3, 1), "float32")
    for i in range(5):
        images[i] = i / 4  # image i has brightness i / 4 in [0, 1]
    mosaic = tile_images(images, ncols=2, padding=1, pad_value=0.5)
    assert mosaic.shape == (3 * 3 - 1, 2 * 4 - 1)
    for i in range(5):
        row, col = divmod(i, 2)
        tile = mosaic[row * 3 : row * 3 + 2, col * 4 : col * 4 + 3]
        np.testing.assert_allclose(tile, i / 4)
    assert mosaic[2, 0] == 0.5 and mosaic[0, 3] == 0.5  # padding
    assert np.all(mosaic[6:, 4:] == 0.5)  # the empty sixth cell


def test_value_ranges():
    signed = np.linspace(-1, 1, 4 * 4).reshape(1, 4, 4).astype("float32")
    mosaic = tile_images(signed)  # (-1, 1) detected: -1 black, 1 white
    assert mosaic.min() == 0.0 and mosaic.max() == 1.0
    np.testing.assert_allclose(mosaic, (signed[0] + 1) / 2, atol=1e-6)
    dim = np.full((1, 2, 2), 0.5, "float32")
    np.testing.assert_allclose(tile_images(dim), 0.5)  # (0, 1): not stretched
    np.testing.assert_allclose(tile_images(dim, value_range=(0, 2)), 0.25)
    wide = np.array([[[-5.0, 5.0]]], "float32")
    np.testing.assert_allclose(tile_images(wide), [[0.0, 1.0]])
    np.testing.assert_allclose(tile_images(wide, value_range=(0, 1)), [[0.0, 1.0]])


def test_rgb_and_channels_first():
    rgb = np.zeros((2, 3, 4, 4), "float32")  # channels first
    rgb[:, 0] = 1.0  # red
    mosaic = tile_images(rgb, padding=0)
    assert mosaic.shape == (4, 8, 3)
    np.testing.assert_allclose(mosaic[..., 0], 1.0)
    np.testing.assert_allclose(mosaic[..., 1:], 0.0)


def test_grid_figure_and_array():
    images = np.random.default_rng(0).uniform(-1, 1, (10, 28, 28, 1))
    figure = plot_image_grid(images, ncols=5, labels=[str(i) for i in range(10)],
                             title="samples")
    assert isinstance(figure, Figure)
    ax = figure.axes[0]
    shown = ax.images[0].get_array()
    assert shown.shape == (2 * 29 - 1, 5 * 29 - 1)
    assert [t.get_text() for t in ax.texts] == [str(i) for i in range(10)]
    assert ax.get_title() == "samples"
    rgb = plot_image_grid(images, ncols=5, tile_inches=0.5, dpi=56, as_array=True)
    assert rgb.dtype == np.uint8 and rgb.shape == (56, 140, 3)
    # Black-on-white: the image's dark pixels show as dark.
    dark = plot_image_grid(-np.ones((1, 8, 8)), dpi=40, as_array=True)
    assert dark.mean() < 10


def test_bad_inputs():
    with pytest.raises(ValueError, match="batch"):
        plot_image_grid(np.zeros((28, 28)))
    with pytest.raises(ValueError, match="channels"):
        plot_image_grid(np.zeros((2, 8, 8, 5)))
    with pytest.raises(ValueError, match="labels"):
        plot_image_grid(np.zeros((2, 8, 8)), labels=["a"])
    with pytest.raises(ValueError, match="ncols"):
        plot_image_grid(np.zeros((2, 8, 8)), ncols=0)
    with pytest.raises(ValueError, match="value_range"):
        tile_images(np.zeros((2, 8, 8)), value_range=(1, 1))


class ShrinkToMean:
    """A known denoiser: the posterior mean for data N(m, v I) is
    x~ + sigma^2 (m - x~) / (v + sigma^2)."""

    def __init__(self, mean, var, sigma):
        self.mean, self.var, self.sigma = mean, var, sigma

    def denoise(self, noisy):
        shrink = self.sigma**2 / (self.var + self.sigma**2)
        return noisy + shrink * (self.mean - noisy)


def test_denoising_rows_and_their_errors():
    # Not seed 0: that is the noise's seed, and the two would be equal.
    clean = np.random.default_rng(7).normal(0.0, 0.1, (6, 8, 8, 1)).astype("float32")
    dde = ShrinkToMean(0.0, 0.01, sigma=0.3)
    figure = plot_denoising(dde, clean, ncols=4, value_range=(-1, 1))
    titles = [ax.get_title() for ax in figure.axes]
    assert titles[0] == "clean" and titles[1].startswith("noisy, sigma=0.3")
    mse = [float(t.split("MSE ")[1].rstrip(")")) for t in titles[1:]]
    # Noise variance 0.09; the posterior mean's error is v s^2/(v+s^2) = 0.009.
    assert mse[0] == pytest.approx(0.09, rel=0.2)
    assert mse[1] == pytest.approx(0.009, rel=0.3)
    assert figure.axes[0].images[0].get_array().shape == (8, 4 * 9 - 1)
    rgb = plot_denoising(dde, clean, ncols=2, sigma=0.1, as_array=True)
    assert rgb.ndim == 3 and rgb.dtype == np.uint8
    with pytest.raises(TypeError, match="denoise"):
        plot_denoising(object(), clean)
    with pytest.raises(ValueError, match="sigma"):
        plot_denoising(dde, clean, sigma=-1.0)


def test_denoising_with_a_real_dde():
    from keras_dde.models import DDEModel
    from keras_dde.models import energy_convnet

    dde = DDEModel(energy_convnet((8, 8, 1), filters=(4,), dense_width=8), sigma=0.2)
    clean = np.random.default_rng(1).uniform(-1, 1, (3, 8, 8, 1)).astype("float32")
    figure = plot_denoising(dde, clean)
    assert len(figure.axes) == 3
    assert figure.axes[2].images[0].get_array().shape == (8, 3 * 9 - 1)
