"""Deprecated: density maps moved to `keras_dde.plotting.density_map`."""

from keras_dde.plotting.density_map import SCALES
from keras_dde.plotting.density_map import colorize
from keras_dde.plotting.density_map import draw_density
from keras_dde.plotting.density_map import draw_label
from keras_dde.plotting.density_map import energy_grid
from keras_dde.plotting.density_map import plot_density
from keras_dde.plotting.density_map import scaled

__all__ = [
    "SCALES",
    "colorize",
    "draw_density",
    "draw_label",
    "energy_grid",
    "plot_density",
    "scaled",
]
