"""Shared test helpers (after keras-hub's `TestCase`)."""

from keras_dde.testing.gaussian_mixture_energy import GaussianMixtureEnergy
from keras_dde.testing.gaussian_mixture_energy import random_covariance
from keras_dde.testing.mixture_energy import random_mixture_energy
from keras_dde.testing.test_case import run_layer_test
from keras_dde.testing.test_case import run_model_saving_test
from keras_dde.testing.test_case import run_serialization_test
from keras_dde.testing.test_case import run_symbolic_call_test
from keras_dde.testing.test_case import run_training_step_test

__all__ = [
    "GaussianMixtureEnergy",
    "random_covariance",
    "random_mixture_energy",
    "run_layer_test",
    "run_model_saving_test",
    "run_serialization_test",
    "run_symbolic_call_test",
    "run_training_step_test",
]
