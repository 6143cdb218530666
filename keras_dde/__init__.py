"""keras-dde: denoising density estimators for Keras 3.

A DDE is a scalar network trained by denoising score matching so that it
equals the log of the data's Gaussian KDE (up to a constant), evaluated in one
network pass. See `keras_dde.DDEModel`.
"""

from keras_dde import datasets
from keras_dde import layers
from keras_dde import losses
from keras_dde import models
from keras_dde.models.dde_model import DDEModel
from keras_dde.version import __version__

__all__ = ["DDEModel", "datasets", "layers", "losses", "models", "__version__"]
