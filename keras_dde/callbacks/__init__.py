"""Keras callbacks: DDE pictures during `fit` as GIFs, and a sigma schedule.

The divergence guard (`StopOnDivergence`) and the interruption path
(`notify_interrupted`) live in `keras_dde.training`, below the models.
"""

from keras_dde.callbacks.density_frames import DensityFrames
from keras_dde.callbacks.frame_callback import FrameCallback
from keras_dde.callbacks.sample_frames import SampleFrames
from keras_dde.callbacks.sigma_scheduler import SigmaScheduler
from keras_dde.callbacks.thinning import thin_frames
from keras_dde.callbacks.vector_field_frames import VectorFieldFrames

__all__ = [
    "DensityFrames",
    "FrameCallback",
    "SampleFrames",
    "SigmaScheduler",
    "VectorFieldFrames",
    "thin_frames",
]
