"""Deprecated location: interruption handling lives in `keras_dde.training`."""

from keras_dde.training.interruption import interruption_hook
from keras_dde.training.interruption import notify_interrupted

__all__ = ["interruption_hook", "notify_interrupted"]
