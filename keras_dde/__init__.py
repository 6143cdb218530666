"""keras-dde: denoising density estimators for Keras 3.

A DDE is a scalar network trained by denoising score matching so that it
equals the log of the data's Gaussian KDE (up to a constant), evaluated in one
network pass. See `keras_dde.DDEModel`.
"""

from keras_dde import callbacks
from keras_dde import datasets
from keras_dde import density
from keras_dde import divergence
from keras_dde import estimators
from keras_dde import layers
from keras_dde import losses
from keras_dde import models
from keras_dde import plotting
from keras_dde import schedules
from keras_dde import optimizers
from keras_dde.models.dde_model import DDEModel
from keras_dde.models.energy_gan import EnergyGAN
from keras_dde.models.multi_scale_dde import MultiScaleDDE
from keras_dde.version import __version__

__all__ = [
    "DDEModel",
    "EnergyGAN",
    "MultiScaleDDE",
    "optimizers",
    "callbacks",
    "datasets",
    "density",
    "divergence",
    "estimators",
    "layers",
    "losses",
    "models",
    "plotting",
    "schedules",
    "__version__",
]
