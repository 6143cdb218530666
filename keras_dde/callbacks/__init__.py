"""Keras callbacks that draw DDE pictures during `fit` and write GIFs."""

from keras_dde.callbacks.density_frames import DensityFrames
from keras_dde.callbacks.frame_callback import FrameCallback
from keras_dde.callbacks.interruption import interruption_hook
from keras_dde.callbacks.interruption import notify_interrupted
from keras_dde.callbacks.sample_frames import SampleFrames
from keras_dde.callbacks.vector_field_frames import VectorFieldFrames

__all__ = [
    "DensityFrames",
    "FrameCallback",
    "SampleFrames",
    "VectorFieldFrames",
    "interruption_hook",
    "notify_interrupted",
]
