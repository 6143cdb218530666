"""Training plumbing of the core: the divergence guard, interruption, checked `fit`.

Keras callbacks that draw pictures live in `keras_dde.callbacks`; what every
model needs to train safely lives here, below the models in the layering.
"""

from keras_dde.training.checked_model import CheckedModel
from keras_dde.training.interruption import notify_interrupted
from keras_dde.training.stop_on_divergence import StopOnDivergence
from keras_dde.training.stop_on_divergence import non_finite_logs
from keras_dde.training.stop_on_divergence import with_divergence_guard

__all__ = [
    "CheckedModel",
    "StopOnDivergence",
    "non_finite_logs",
    "notify_interrupted",
    "with_divergence_guard",
]
