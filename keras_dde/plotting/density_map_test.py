import keras
import matplotlib
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import keras_dde
from keras_dde.plotting import energy_grid
from keras_dde.plotting import plot_density
from keras_dde.plotting.density_map import scaled


def bump(center):
    center = np.asarray(center, dtype="float32")

    def energy(x):
        return -np.sum((np.asarray(x) - center) ** 2, axis=1)

    return energy


def open_pyplot_figures():
    from matplotlib import _pylab_helpers

    return _pylab_helpers.Gcf.get_num_fig_managers()


def test_density_map_is_brightest_at_the_mode():
    rgb = plot_density(
        bump([1.0, -2.0]), extent=(-4, 4, -4, 4), resolution=81, axes=False,
        as_array=True,
    )
    assert rgb.shape == (81, 81, 3) and rgb.dtype == np.uint8
    row, col = np.unravel_index(np.argmax(rgb.astype(int).sum(-1)), rgb.shape[:2])
    # Column 50 is x = 1; image row 0 is the top (y = 4), so y = -2 is row 60.
    assert (row, col) == (60, 50)


def test_figure_uses_agg_and_no_pyplot_state():
    before = open_pyplot_figures()
    figure = plot_density(bump([0.0, 0.0]), extent=(-2, 2, -2, 2), resolution=20,
                          title="t")
    assert isinstance(figure, Figure)
    assert isinstance(figure.canvas, FigureCanvasAgg)
    assert open_pyplot_figures() == before
    rgb = plot_density(bump([0.0, 0.0]), resolution=20, as_array=True, dpi=50)
    assert rgb.shape == (200, 200, 3)


def test_draws_into_a_given_axes():
    figure = Figure()
    ax = figure.add_subplot()
    assert plot_density(bump([0.0, 0.0]), resolution=10, ax=ax) is figure
    assert len(ax.images) == 1


def test_scales_have_fixed_limits():
    energies = np.array([[0.0, -1.0], [-50.0, 3.0]])
    values, limits = scaled(energies, "density")
    assert limits == (0.0, 1.0) and values.max() == 1.0
    values, limits = scaled(energies, "log_density", log_range=10)
    assert limits == (-10, 0.0) and values.min() == -10
    values, limits = scaled(energies, "energy", vmin=-1, vmax=1)
    assert limits == (-1, 1) and np.array_equal(values, energies)
    with pytest.raises(ValueError, match="scale"):
        scaled(energies, "linear")


def test_high_dimensional_model_needs_a_plane():
    energy = bump([0.5, 0.0, -1.0])
    with pytest.raises(ValueError, match="plane"):
        plot_density(energy, feature_shape=(3,))
    grid = energy_grid(
        energy, (-2, 2, -2, 2), 41, plane=(0, 2), origin=[0, 0, 0],
        feature_shape=(3,),
    )
    row, col = np.unravel_index(np.argmax(grid), grid.shape)
    assert (row, col) == (10, 25)  # y = x[2] = -1, x = x[0] = 0.5
    with pytest.raises(ValueError, match="plane"):
        energy_grid(energy, (-1, 1, -1, 1), 5, plane=(0, 3), feature_shape=(3,))


@pytest.mark.parametrize(
    "extent", [(1, 0, 0, 1), (0, 1, 0, np.nan), (0, 1, 0)]
)
def test_bad_extent(extent):
    with pytest.raises(ValueError, match="extent"):
        plot_density(bump([0, 0]), extent=extent)


def test_dde_model_density_uses_its_energy():
    dde = keras_dde.DDEModel(keras_dde.models.energy_mlp(2, width=8, depth=1),
                             sigma=0.2, seed=0)
    points = np.array([[0.0, 0.0], [1.0, 1.0]], dtype="float32")
    grid = energy_grid(dde, (0, 1, 0, 1), 2)
    expected = keras.ops.convert_to_numpy(dde.energy(points))
    np.testing.assert_allclose(grid[[0, 1], [0, 1]], expected, rtol=1e-5, atol=1e-5)
    assert plot_density(dde, resolution=16, axes=False, as_array=True).shape == (
        16, 16, 3,
    )
    assert matplotlib.get_backend()  # untouched import
