"""Shared test helpers (after keras-hub's `TestCase`)."""

from keras_dde.testing.test_case import run_layer_test
from keras_dde.testing.test_case import run_model_saving_test
from keras_dde.testing.test_case import run_serialization_test

__all__ = ["run_layer_test", "run_model_saving_test", "run_serialization_test"]
