"""Deprecated: the KL estimators moved to `keras_dde.information`.

"Divergence" in keras-dde now means only a training run that blew up
(`keras_dde.training.StopOnDivergence`); `KL(p || q)` lives in
`keras_dde.information.kl_divergence`.
"""

import warnings

from keras_dde.information import kl_divergence
from keras_dde.information import knn_entropy

warnings.warn(
    "`keras_dde.divergence` is deprecated; use `keras_dde.information` "
    "(`kl_divergence`, `knn_entropy`).",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["kl_divergence", "knn_entropy"]
