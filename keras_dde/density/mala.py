"""Deprecated: moved to `keras_dde.sampling.mala`."""

from keras_dde.sampling.mala import TARGET_ACCEPTANCE
from keras_dde.sampling.mala import adapt_step_size
from keras_dde.sampling.mala import bridge
from keras_dde.sampling.mala import draw_step_noise
from keras_dde.sampling.mala import mala_step

__all__ = [
    "TARGET_ACCEPTANCE",
    "adapt_step_size",
    "bridge",
    "draw_step_noise",
    "mala_step",
]
