"""Deprecated: moved to `keras_dde.partition.gaussian_proposal`."""

from keras_dde.partition.gaussian_proposal import GaussianProposal
from keras_dde.partition.gaussian_proposal import weighted_moments

__all__ = ["GaussianProposal", "weighted_moments"]
