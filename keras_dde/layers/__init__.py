"""Custom Keras layers that DDEs and energy-based generators are built from."""

from keras_dde.layers.damped_fourier_features import DampedFourierFeatures
from keras_dde.layers.energy_conv2d import EnergyConv2D
from keras_dde.layers.energy_head import EnergyHead
from keras_dde.layers.gaussian_log_density import GaussianLogDensity
from keras_dde.layers.input_gradient import InputGradient
from keras_dde.layers.noise_pairing import NoisePairing

__all__ = [
    "DampedFourierFeatures",
    "EnergyConv2D",
    "EnergyHead",
    "GaussianLogDensity",
    "InputGradient",
    "NoisePairing",
]
