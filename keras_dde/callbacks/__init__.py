"""Keras callbacks: DDE pictures during `fit` as GIFs, and a divergence guard, a sigma schedule."""

from keras_dde.callbacks.density_frames import DensityFrames
from keras_dde.callbacks.frame_callback import FrameCallback
from keras_dde.training.interruption import interruption_hook
from keras_dde.training.interruption import notify_interrupted
from keras_dde.callbacks.sample_frames import SampleFrames
from keras_dde.callbacks.sigma_scheduler import SigmaScheduler
from keras_dde.training.stop_on_divergence import StopOnDivergence
from keras_dde.callbacks.thinning import thin_frames
from keras_dde.callbacks.vector_field_frames import VectorFieldFrames

__all__ = [
    "DensityFrames",
    "FrameCallback",
    "SampleFrames",
    "SigmaScheduler",
    "StopOnDivergence",
    "VectorFieldFrames",
    "interruption_hook",
    "notify_interrupted",
    "thin_frames",
]
