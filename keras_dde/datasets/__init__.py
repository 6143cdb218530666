"""Built-in data sets: 2-D toys, scikit-learn's 8x8 digits and Fashion-MNIST."""

from keras_dde.datasets.digits import load_digits
from keras_dde.datasets.fashion_mnist import CLASS_NAMES as fashion_mnist_classes
from keras_dde.datasets.fashion_mnist import load_fashion_mnist
from keras_dde.datasets.idx import read_idx
from keras_dde.datasets.toy2d import toy2d
from keras_dde.datasets.toy2d import toy2d_names

__all__ = [
    "fashion_mnist_classes",
    "load_digits",
    "load_fashion_mnist",
    "read_idx",
    "toy2d",
    "toy2d_names",
]
