"""Deprecated: `keras_dde.density` split into `keras_dde.partition` (log Z
estimators, proposals) and `keras_dde.sampling` (MALA).

The old names are re-exported here; import them from their new homes.
"""

import warnings

from keras_dde.partition import GaussianMixtureProposal
from keras_dde.partition import GaussianProposal
from keras_dde.partition import annealed_importance_sampling
from keras_dde.partition import annealing_schedule
from keras_dde.partition import importance_sampling

warnings.warn(
    "`keras_dde.density` is deprecated: use `keras_dde.partition` (log Z, "
    "GaussianProposal) and `keras_dde.sampling` (MALA).",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = [
    "GaussianMixtureProposal",
    "GaussianProposal",
    "annealed_importance_sampling",
    "annealing_schedule",
    "importance_sampling",
]
