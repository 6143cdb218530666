"""The models, and the ready-made networks they train.

The model classes are `DDEModel`, `MultiScaleDDE` and `EnergyGAN` (whose
generator objectives are in `energy_gan_objectives`); the functions build
energy and generator networks (MLPs for vectors, convnets for images). What
the classes are built from lives in subpackages named for it: `mixins`
(the normalised density and samplers they inherit), `state` (layers that
hold their statistics and log Z cache) and `checks` (argument checks).
"""

from keras_dde.models.conditional_energy_convnet import conditional_energy_convnet
from keras_dde.models.conditional_energy_mlp import conditional_energy_mlp
from keras_dde.models.dde_model import DDEModel
from keras_dde.models.energy_convnet import energy_convnet
from keras_dde.models.energy_gan import EnergyGAN
from keras_dde.models.energy_mlp import energy_mlp
from keras_dde.models.generator_convnet import generator_convnet
from keras_dde.models.generator_mlp import generator_mlp
from keras_dde.models.multi_scale_dde import MultiScaleDDE

__all__ = [
    "DDEModel",
    "EnergyGAN",
    "MultiScaleDDE",
    "conditional_energy_convnet",
    "conditional_energy_mlp",
    "energy_convnet",
    "energy_mlp",
    "generator_convnet",
    "generator_mlp",
]
