"""The losses that train DDEs, per sample.

`denoising_score_matching` trains a `DDEModel` at one noise level;
`multi_scale_score_matching` trains a `MultiScaleDDE`'s noise-conditional
energy across noise levels.
"""

from keras_dde.losses.denoising import denoising_score_matching
from keras_dde.losses.multi_scale import multi_scale_score_matching

__all__ = ["denoising_score_matching", "multi_scale_score_matching"]
