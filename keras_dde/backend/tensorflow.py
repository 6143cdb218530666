"""TensorFlow: nested `tf.GradientTape`s, stateful train steps, `tf.distribute`.

Under a `tf.distribute` strategy (e.g. `MirroredStrategy`) Keras's TF trainer
runs `train_step` once per replica on that replica's slice of the global
batch, and the optimizer *sums* the replicas' gradients. Each replica's mean
loss is therefore scaled by `1 / num_replicas` before differentiating (as
Keras's own `train_step` does), so the summed gradient is the gradient of the
global-batch mean.

`fit` on in-memory arrays reads them through `array_batches`, the batches of
Keras's array adapter without its parallel map and prefetch threads (on a
small CPU those threads slow the step they feed).
"""

import contextlib
import warnings

import keras
import numpy as np
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

    def fit(self, x=None, y=None, *args, **kwargs):
        # In-memory arrays go in as a lean `tf.data` pipeline (`array_batches`):
        # Keras's own array path adds a parallel map and prefetch threads, which
        # on a small CPU compete with the train step for the cores.
        if not args and _takes_array_batches(self, x, y, kwargs):
            x = array_batches(
                x,
                y,
                kwargs.pop("sample_weight", None),
                batch_size=kwargs.pop("batch_size", None) or 32,
                shuffle=kwargs.pop("shuffle", True),
            )
            y = None
            kwargs["shuffle"] = False  # the batches are shuffled already
        return super().fit(x, y, *args, **kwargs)

    def train_step(self, data):
        return self.stateful_train_step(data)

    def test_step(self, data):
        return self.stateful_test_step(data)


def _takes_array_batches(model, x, y, kwargs):
    """True when `fit(x, y, **kwargs)` trains on in-memory arrays in a way
    `array_batches` reproduces: one replica, no `validation_split`,
    `class_weight` or `steps_per_epoch`, and `shuffle` True or False."""
    arrays = [x, y, kwargs.get("sample_weight")]
    return (
        isinstance(x, np.ndarray)
        and all(a is None or (isinstance(a, np.ndarray) and len(a) == len(x))
                for a in arrays)
        and len(x) > 0
        and not kwargs.get("validation_split")
        and kwargs.get("class_weight") is None
        and kwargs.get("steps_per_epoch") is None
        and kwargs.get("shuffle", True) in (True, False)
        and model.distribute_strategy.num_replicas_in_sync == 1
    )


def array_batches(x, y=None, sample_weight=None, batch_size=32, shuffle=True):
    """The batches Keras's `fit` draws from in-memory arrays, as a lean dataset.

    Every epoch (every iteration of the dataset) visits each sample once:
    `len(x) // batch_size` full batches, then the remainder, in a fresh
    random order when `shuffle` (one `tf.random.shuffle` of the indices per
    epoch, as Keras's array adapter does: from the same global seed, the
    same order; after `keras.utils.set_random_seed`, every epoch draws that
    same order, in both), in order otherwise. Unlike
    Keras's adapter, the batches are gathered on the consumer's thread,
    without a parallel map or prefetching: a DDE step is small, and on a
    machine with few cores those threads slow the step they feed.

    Args:
        x: array `(n_samples, ...)`.
        y: None or an array with `n_samples` rows.
        sample_weight: None or an array of `n_samples` weights.
        batch_size: int, samples per batch.
        shuffle: bool, a new order every epoch.

    Returns:
        A `tf.data.Dataset` of `keras.utils.pack_x_y_sample_weight` batches
        with a known cardinality.

    Example:
    ```python
    from keras_dde.backend.tensorflow import array_batches

    batches = array_batches(np.zeros((100, 2), "float32"), batch_size=32)
    [len(batch) for batch in batches]  # [32, 32, 32, 4]
    ```
    """
    count = len(x)
    full_batches, remainder = divmod(count, batch_size)
    arrays = [
        None if a is None else tf.convert_to_tensor(a) for a in (x, y, sample_weight)
    ]

    def epoch_order(_):
        order = tf.range(count, dtype=tf.int64)
        return tf.random.shuffle(order) if shuffle else order

    def batched_indices(order):
        batches = tf.data.Dataset.from_tensor_slices(
            tf.reshape(order[: full_batches * batch_size], (full_batches, batch_size))
        )
        if remainder:
            batches = batches.concatenate(
                tf.data.Dataset.from_tensors(order[full_batches * batch_size :])
            )
        return batches

    def gather(indices):
        return keras.utils.pack_x_y_sample_weight(
            *(None if a is None else tf.gather(a, indices) for a in arrays)
        )

    dataset = (
        tf.data.Dataset.range(1)
        .map(epoch_order)
        .flat_map(batched_indices)
        .map(gather)
        .apply(tf.data.experimental.assert_cardinality(full_batches + bool(remainder)))
    )
    options = tf.data.Options()
    # As Keras's adapter: no static rewrites of this small pipeline (their
    # serialisation costs more than they save), and the shuffle's random
    # state need not be checkpointed.
    options.experimental_optimization.apply_default_optimizations = False
    options.experimental_external_state_policy = (
        tf.data.experimental.ExternalStatePolicy.IGNORE
    )
    return dataset.with_options(options)


def inference():
    """A no-op here: this backend's inference results carry no graph."""
    return contextlib.nullcontext()
