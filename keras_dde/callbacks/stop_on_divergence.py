"""Deprecated location: the divergence guard lives in `keras_dde.training`."""

from keras_dde.training.stop_on_divergence import StopOnDivergence
from keras_dde.training.stop_on_divergence import non_finite_logs
from keras_dde.training.stop_on_divergence import with_divergence_guard

__all__ = ["StopOnDivergence", "non_finite_logs", "with_divergence_guard"]
