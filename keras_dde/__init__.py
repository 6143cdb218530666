"""keras-dde: denoising density estimators for Keras 3.

A DDE is a scalar network trained by denoising score matching so that it
equals the log of the data's Gaussian KDE (up to a constant), evaluated in one
network pass. See `keras_dde.DDEModel`.

The core (backend, layers, losses, models, partition, sampling, training,
utils) loads eagerly and never imports matplotlib or ipywidgets. Every other
module of the package (`callbacks`, `plotting`, `widgets`, `estimators`,
`information`, `recipes`, `cli`, `testing`, ...) is an attribute too, loaded
on first access (PEP 562), so `import keras_dde` stays light.
"""

import importlib

from keras_dde.utils import startup_logs

# First, before Keras loads TensorFlow: the `keras-dde` command's terminal
# shows no start-up log lines unless asked (`keras_dde.utils.startup_logs`).
if startup_logs.is_quiet_command():
    startup_logs.filter_startup_logs()

from keras_dde import datasets  # noqa: E402
from keras_dde import layers  # noqa: E402
from keras_dde import losses  # noqa: E402
from keras_dde import models  # noqa: E402
from keras_dde import optimizers  # noqa: E402
from keras_dde import partition  # noqa: E402
from keras_dde import sampling  # noqa: E402
from keras_dde import schedules  # noqa: E402
from keras_dde import training  # noqa: E402
from keras_dde.models.dde_model import DDEModel  # noqa: E402
from keras_dde.models.energy_gan import EnergyGAN  # noqa: E402
from keras_dde.models.multi_scale_dde import MultiScaleDDE  # noqa: E402
from keras_dde.version import __version__  # noqa: E402

# Loaded on first access: matplotlib, ipywidgets, scikit-learn or the
# command line, which the core does not need.
_LAZY_SUBMODULES = (
    "callbacks",
    "cli",
    "estimators",
    "information",
    "plotting",
    "recipe_networks",
    "recipes",
    "testing",
    "widgets",
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
    "cli",
    "datasets",
    "estimators",
    "information",
    "layers",
    "losses",
    "models",
    "optimizers",
    "partition",
    "plotting",
    "recipe_networks",
    "recipes",
    "sampling",
    "schedules",
    "testing",
    "training",
    "utils",
    "widgets",
    "__version__",
]
