"""Pictures of DDEs: density maps, score fields, samples and image grids.

Every function draws on a `matplotlib.figure.Figure` with an Agg canvas
(never pyplot's global state) and returns the figure, or an `(H, W, 3)`
uint8 RGB array with `as_array=True`. Saving them, atomically:
`keras_dde.utils.files.save_figure` and `write_gif`.
"""

from keras_dde.plotting.common import Plane
from keras_dde.plotting.common import figure_to_rgb
from keras_dde.plotting.density_map import energy_grid
from keras_dde.plotting.density_map import plot_density
from keras_dde.plotting.image_grid import plot_denoising
from keras_dde.plotting.image_grid import plot_image_grid
from keras_dde.plotting.image_grid import tile_images
from keras_dde.plotting.samples import plot_samples
from keras_dde.plotting.vector_field import plot_vector_field
from keras_dde.plotting.vector_field import score_grid

__all__ = [
    "Plane",
    "energy_grid",
    "figure_to_rgb",
    "plot_denoising",
    "plot_density",
    "plot_image_grid",
    "plot_samples",
    "plot_vector_field",
    "score_grid",
    "tile_images",
]
