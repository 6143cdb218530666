"""TensorFlow: nested `tf.GradientTape`s, stateful train steps, `tf.distribute`.

Under a `tf.distribute` strategy (e.g. `MirroredStrategy`) Keras's TF trainer
runs `train_step` once per replica on that replica's slice of the global
batch, and the optimizer *sums* the replicas' gradients. Each replica's mean
loss is therefore scaled by `1 / num_replicas` before differentiating (as
Keras's own `train_step` does), so the summed gradient is the gradient of the
global-batch mean.
"""

import contextlib
import warnings

import tensorflow as tf
from keras import ops
from keras import random


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


def value_and_grad(loss_fn, variables, has_aux=False):
    with tf.GradientTape() as tape:
        out = loss_fn()
        loss = out[0] if has_aux else out
        # Per-replica means, scaled so that the optimizer's cross-replica sum
        # of gradients is the gradient of the global mean.
        scaled = loss / ops.cast(_num_replicas(), loss.dtype)
    return out, tape.gradient(scaled, variables)


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


class StatefulTrainer:
    """TensorFlow's trainer already calls `train_step(data)` statefully.

    Under a strategy with several replicas, `steps_per_execution` is set to 1:
    Keras 3's multi-step `tf.while_loop` fails there with "You must feed a
    value for placeholder tensor" (a plain `Sequential` model fails alike).
    """

    def compile(self, *args, steps_per_execution=1, **kwargs):
        if steps_per_execution > 1 and self.distribute_strategy.num_replicas_in_sync > 1:
            warnings.warn(
                f"steps_per_execution={steps_per_execution} is not supported by "
                "Keras's TensorFlow trainer under a multi-replica tf.distribute "
                "strategy; using steps_per_execution=1.",
                UserWarning,
                stacklevel=3,
            )
            steps_per_execution = 1
        super().compile(*args, steps_per_execution=steps_per_execution, **kwargs)

    def train_step(self, data):
        return self.stateful_train_step(data)

    def test_step(self, data):
        return self.stateful_test_step(data)


def inference():
    """A no-op here: this backend's inference results carry no graph."""
    return contextlib.nullcontext()
