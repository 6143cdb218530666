"""A memory-mapped array as a `keras.utils.PyDataset` of checked batches.

`fit` (`keras_dde.training.CheckedModel`) wraps an `np.memmap` (e.g.
`np.load("x.npy", mmap_mode="r")`) in `MemmapBatches`, so that data larger
than memory is read one batch at a time: for the statistics (one streaming
pass) and for training. Each batch is validated (finite, the model's
per-sample shape) and cast to float32 when it is read.
"""

import math

import keras
import numpy as np

from keras_dde.utils.validation import check_data


class MemmapBatches(keras.utils.PyDataset):
    """Batches `array[i * batch_size:(i + 1) * batch_size]`, as float32.

    Args:
        array: an `np.memmap` (or any array) of shape `(n, *features)`.
        batch_size: int, rows per batch.
        feature_shape: the per-sample shape the model expects, or None.
        name: the argument's name, for error messages.
    """

    def __init__(self, array, batch_size, feature_shape=None, name="x"):
        super().__init__()
        self.array = array
        self.batch_size = int(batch_size)
        self.feature_shape = feature_shape
        self.name = name

    def __len__(self):
        return math.ceil(len(self.array) / self.batch_size)

    def __getitem__(self, index):
        start = index * self.batch_size
        rows = np.asarray(self.array[start : start + self.batch_size])
        return check_data(rows, self.name, self.feature_shape)
