"""Samplers of unnormalised densities `exp(s(x)) / Z`: the machinery of `DDEModel.sample`.

Metropolis-adjusted Langevin (MALA) chains in the whitened coordinates of a
Gaussian proposal, started by sampling-importance-resampling; annealed
Langevin dynamics over decreasing noise levels for `MultiScaleDDE.sample`.
"""

from keras_dde.sampling.annealed_langevin import annealed_langevin
from keras_dde.sampling.mala import TARGET_ACCEPTANCE
from keras_dde.sampling.mala import adapt_step_size
from keras_dde.sampling.mala import draw_step_noise
from keras_dde.sampling.mala import mala_step
from keras_dde.sampling.mala_chains import run_mala_chains
from keras_dde.sampling.resampling import sampling_importance_resampling

__all__ = [
    "TARGET_ACCEPTANCE",
    "adapt_step_size",
    "annealed_langevin",
    "draw_step_noise",
    "mala_step",
    "run_mala_chains",
    "sampling_importance_resampling",
]
