import numpy as np
import pytest
from matplotlib.figure import Figure

from keras_dde.plotting import plot_samples


def test_data_and_samples_are_both_drawn():
    rng = np.random.default_rng(0)
    data, samples = rng.normal(size=(300, 2)), rng.normal(size=(200, 2)) + 3
    figure = plot_samples(data, samples, title="s")
    assert isinstance(figure, Figure)
    ax = figure.axes[0]
    counts = [len(c.get_offsets()) for c in ax.collections]
    assert counts == [300, 200]
    assert ax.get_legend() is not None
    low, high = ax.get_xlim()
    assert low < -2 and high > 5  # the default extent covers both sets


def test_subsampling_and_array_output():
    data = np.random.default_rng(0).normal(size=(5000, 2))
    figure = plot_samples(data, max_points=100)
    assert len(figure.axes[0].collections[0].get_offsets()) == 100
    rgb = plot_samples(data=data, as_array=True, dpi=30)
    assert rgb.shape == (120, 120, 3)


def test_projection_of_high_dimensional_samples():
    data = np.zeros((10, 5))
    data[:, 3] = np.arange(10)
    figure = plot_samples(data, plane=(3, 0))
    offsets = figure.axes[0].collections[0].get_offsets()
    np.testing.assert_allclose(offsets[:, 0], np.arange(10))
    with pytest.raises(ValueError, match="plane"):
        plot_samples(data)


def test_bad_inputs():
    with pytest.raises(ValueError, match="data"):
        plot_samples()
    with pytest.raises(ValueError, match="different"):
        plot_samples(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="samples"):
        plot_samples(samples=np.zeros((0, 2)))
