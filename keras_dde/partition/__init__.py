"""Normalising constants `log Z = log integral exp(s)` of unnormalised densities.

The estimators behind `DDEModel.log_partition` and `log_prob`: importance
sampling from a Gaussian or Gaussian-mixture proposal fitted to the data, and
annealed importance sampling from either.
"""

from keras_dde.partition.annealed_importance_sampling import (
    annealed_importance_sampling,
)
from keras_dde.partition.annealed_importance_sampling import annealing_schedule
from keras_dde.partition.gaussian_mixture_proposal import GaussianMixtureProposal
from keras_dde.partition.gaussian_proposal import GaussianProposal
from keras_dde.partition.importance_sampling import importance_sampling
from keras_dde.partition.importance_sampling import log_mean_exp
from keras_dde.partition.whitening import whitened_energy

__all__ = [
    "GaussianMixtureProposal",
    "GaussianProposal",
    "annealed_importance_sampling",
    "annealing_schedule",
    "importance_sampling",
    "log_mean_exp",
    "whitened_energy",
]
