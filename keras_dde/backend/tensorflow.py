"""TensorFlow: nested `tf.GradientTape`s, stateful train steps, `tf.distribute`.

Under a `tf.distribute` strategy (e.g. `MirroredStrategy`) Keras's TF trainer
runs `train_step` once per replica on that replica's slice of the global
batch, and the optimizer *sums* the replicas' gradients. Each replica's mean
loss is therefore scaled by `1 / num_replicas` before differentiating (as
Keras's own `train_step` does), so the summed gradient is the gradient of the
global-batch mean.
"""

import contextlib
import inspect
import math
import warnings

import keras

import tensorflow as tf
from keras import ops
from keras import random

from keras_dde.backend.model_kind import has_convolution


def _num_replicas():
    """Replicas running this step in sync (1 outside `strategy.run`)."""
    context = tf.distribute.get_replica_context()
    return 1 if context is None else context.num_replicas_in_sync


def input_gradient(fn, x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        values = fn(x)
    # A non-scalar target is summed, which gives per-sample input gradients.
    return values, tape.gradient(values, x)


def value_and_grad(loss_fn, variables):
    with tf.GradientTape() as tape:
        loss = loss_fn()
        # Per-replica means, scaled so that the optimizer's cross-replica sum
        # of gradients is the gradient of the global mean.
        scaled = loss / ops.cast(_num_replicas(), loss.dtype)
    return loss, tape.gradient(scaled, variables)


def normal(shape, seed, dtype=None):
    """`keras.random.normal`, with distinct noise on every replica.

    The replicas of a `tf.distribute` strategy share the `SeedGenerator`
    state, so each would draw the *same* noise. Instead every replica draws
    the noise of the whole global batch and keeps its own slice: replicas get
    independent noise, and two replicas draw exactly what one replica would
    on the same global batch.
    """
    replicas = _num_replicas()
    if replicas == 1:
        return random.normal(shape, dtype=dtype, seed=seed)
    shape = tuple(shape)
    draw = random.normal((shape[0] * replicas, *shape[1:]), dtype=dtype, seed=seed)
    start = tf.distribute.get_replica_context().replica_id_in_sync_group * shape[0]
    return draw[start : start + shape[0]]


# XLA compiles a dense DDE step in ~1.5-3 s more than TensorFlow's graph
# and then saves ~1 ms per step on CPU: it pays from a few thousand steps.
XLA_MIN_STEPS = 2000


class StatefulTrainer:
    """TensorFlow's trainer already calls `train_step(data)` statefully.

    Under a strategy with several replicas, `steps_per_execution` is set to 1:
    Keras 3's multi-step `tf.while_loop` fails there with "You must feed a
    value for placeholder tensor" (a plain `Sequential` model fails alike).

    `jit_compile="auto"` (Keras's default) turns XLA on where Keras leaves it
    off on a CPU-only machine, for a network without convolutions on one
    replica, at the first `fit` of at least `XLA_MIN_STEPS` steps: the double
    backward pass of a dense network then runs about 2x faster (`DDEModel`)
    to 3x (`EnergyGAN`), while XLA's CPU convolutions were slower
    (`benchmarks/results/ceilings.md`); shorter fits do not repay its
    compilation. XLA draws other random numbers from the same seed than
    TensorFlow's kernels (both are Gaussian streams); `jit_compile=False`
    keeps TensorFlow's.
    """

    def compile(self, *args, steps_per_execution=1, jit_compile="auto", **kwargs):
        replicas = self.distribute_strategy.num_replicas_in_sync
        if steps_per_execution > 1 and replicas > 1:
            warnings.warn(
                f"steps_per_execution={steps_per_execution} is not supported by "
                "Keras's TensorFlow trainer under a multi-replica tf.distribute "
                "strategy; using steps_per_execution=1.",
                UserWarning,
                stacklevel=3,
            )
            steps_per_execution = 1
        super().compile(
            *args,
            steps_per_execution=steps_per_execution,
            jit_compile=jit_compile,
            **kwargs,
        )
        # Keras resolved "auto" to False (no accelerator, or a strategy).
        self._xla_for_long_fits = (
            jit_compile == "auto"
            and not self.jit_compile
            and not self.run_eagerly
            and replicas == 1
            and not has_convolution(self)
        )

    def fit(self, *args, **kwargs):
        if getattr(self, "_xla_for_long_fits", False):
            steps = planned_steps(*args, **kwargs)
            if steps is not None and steps >= XLA_MIN_STEPS:
                self._xla_for_long_fits = False
                self.jit_compile = True
                self.train_function = None  # Rebuilt by `fit`, now with XLA.
        return super().fit(*args, **kwargs)

    def train_step(self, data):
        return self.stateful_train_step(data)

    def test_step(self, data):
        return self.stateful_test_step(data)


def planned_steps(*args, **kwargs):
    """The training steps a `keras.Model.fit(*args, **kwargs)` call will run,
    or None where the data does not say (a generator)."""
    try:
        bound = inspect.signature(keras.Model.fit).bind(None, *args, **kwargs)
    except TypeError:
        return None  # `fit` will raise the clear error.
    arguments = bound.arguments
    epochs = arguments.get("epochs", 1) - arguments.get("initial_epoch", 0)
    per_epoch = arguments.get("steps_per_epoch")
    if per_epoch is None:
        per_epoch = _batches_per_epoch(
            arguments.get("x"),
            arguments.get("batch_size"),
            arguments.get("validation_split", 0.0),
        )
    return None if per_epoch is None else max(epochs, 0) * per_epoch


def _batches_per_epoch(x, batch_size, validation_split):
    if isinstance(x, tf.data.Dataset):
        cardinality = int(x.cardinality())
        return cardinality if cardinality >= 0 else None
    if isinstance(x, keras.utils.PyDataset):
        try:
            return len(x)
        except TypeError:
            return None
    if isinstance(x, dict):
        x = next(iter(x.values()), None)
    elif isinstance(x, (list, tuple)) and x and hasattr(x[0], "shape"):
        x = x[0]
    if not hasattr(x, "shape") or not getattr(x, "shape", None):
        return None
    rows = int(int(x.shape[0]) * (1.0 - validation_split))
    return math.ceil(rows / (batch_size or 32))


def inference():
    """A no-op here: this backend's inference results carry no graph."""
    return contextlib.nullcontext()
