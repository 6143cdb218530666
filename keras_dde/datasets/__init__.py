"""Built-in data sets: 2-D toys and scikit-learn's 8x8 digits."""

from keras_dde.datasets.digits import load_digits
from keras_dde.datasets.toy2d import toy2d
from keras_dde.datasets.toy2d import toy2d_names

__all__ = ["load_digits", "toy2d", "toy2d_names"]
