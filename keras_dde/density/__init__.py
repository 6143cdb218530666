"""Normalising constants, samplers and proposals behind `DDEModel`'s
`log_partition`, `log_prob` and `sample`."""

from keras_dde.density.gaussian_mixture_proposal import GaussianMixtureProposal
from keras_dde.density.gaussian_proposal import GaussianProposal
from keras_dde.density.normalization import annealed_importance_sampling
from keras_dde.density.normalization import annealing_schedule
from keras_dde.density.normalization import importance_sampling

__all__ = [
    "GaussianMixtureProposal",
    "GaussianProposal",
    "annealed_importance_sampling",
    "annealing_schedule",
    "importance_sampling",
]
