"""Seeded mini-batches for `DDEDensity.fit`."""

import math

import keras
import numpy as np

# Training epochs have at most this many steps: one epoch per ~100 steps
# keeps Keras's per-epoch overhead small and the progress log readable.
STEPS_PER_EPOCH = 100


class ShuffledBatches(keras.utils.PyDataset):
    """`(x, y, sample_weight)` mini-batches in an order drawn from `seed` alone.

    Each epoch walks through fresh permutations of the samples, drawn from a
    private `numpy.random.RandomState`: Keras's own `shuffle=True` would draw
    from the global random state of numpy, TensorFlow or PyTorch.

    Args:
        x: float32 array `(n_samples, n_features)`.
        sample_weight: float32 array `(n_samples,)`.
        batch_size: int, rows per batch.
        steps: int, the batches of the whole run (rounded up to whole
            epochs of at most `STEPS_PER_EPOCH` steps).
        seed: int, the permutations' seed.

    Attributes:
        epochs: int, the epochs that make up `steps`.
    """

    def __init__(self, x, sample_weight, batch_size, steps, seed):
        super().__init__()
        self.x = x
        self.sample_weight = sample_weight
        self.target = np.zeros(len(x), np.float32)  # Keeps the weights in Keras.
        self.batch_size = batch_size
        self.epochs = math.ceil(steps / STEPS_PER_EPOCH)
        self.steps_per_epoch = math.ceil(steps / self.epochs)
        self.rng = np.random.RandomState(seed)
        self.on_epoch_end()

    def __len__(self):
        return self.steps_per_epoch

    def __getitem__(self, index):
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        return self.x[rows], self.target[rows], self.sample_weight[rows]

    def on_epoch_end(self):
        needed = self.steps_per_epoch * self.batch_size
        passes = math.ceil(needed / len(self.x))
        self.order = np.concatenate(
            [self.rng.permutation(len(self.x)) for _ in range(passes)]
        )[:needed]
