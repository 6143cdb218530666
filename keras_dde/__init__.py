"""keras-dde: denoising density estimators for Keras 3.

A DDE is a scalar network trained by denoising score matching so that it
equals the log of the data's Gaussian KDE (up to a constant), evaluated in one
network pass. See `keras_dde.DDEModel`.

The core (backend, layers, losses, models, partition, sampling, training,
utils) loads eagerly and never imports matplotlib or ipywidgets. The picture
packages `callbacks`, `plotting` and `widgets`, the scikit-learn style
`estimators`, and `information` load on first attribute access (PEP 562), so
`import keras_dde` stays light.
"""

import importlib

from keras_dde import datasets
from keras_dde import layers
from keras_dde import losses
from keras_dde import models
from keras_dde import optimizers
from keras_dde import partition
from keras_dde import sampling
from keras_dde import schedules
from keras_dde import training
from keras_dde.models.dde_model import DDEModel
from keras_dde.models.energy_gan import EnergyGAN
from keras_dde.models.multi_scale_dde import MultiScaleDDE
from keras_dde.version import __version__

# Loaded on first access: they import matplotlib, ipywidgets or scikit-learn.
_LAZY_SUBMODULES = (
    "callbacks",
    "density",  # Deprecated alias of `partition` and `sampling`.
    "divergence",  # Deprecated alias of `information`.
    "estimators",
    "information",
    "plotting",
)


def __getattr__(name):
    if name in _LAZY_SUBMODULES:
        module = importlib.import_module(f"keras_dde.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'keras_dde' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_SUBMODULES))


__all__ = [
    "DDEModel",
    "EnergyGAN",
    "MultiScaleDDE",
    "callbacks",
    "datasets",
    "estimators",
    "information",
    "layers",
    "losses",
    "models",
    "optimizers",
    "partition",
    "plotting",
    "sampling",
    "schedules",
    "training",
    "__version__",
]
