"""Noise-level schedules (Keras learning-rate schedules of the step count)."""

from keras_dde.schedules.geometric_sigma_decay import GeometricSigmaDecay

__all__ = ["GeometricSigmaDecay"]
