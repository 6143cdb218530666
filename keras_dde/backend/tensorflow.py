"""TensorFlow: nested `tf.GradientTape`s, stateful train steps."""

import tensorflow as tf


def input_gradient(fn, x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        values = fn(x)
    # A non-scalar target is summed, which gives per-sample input gradients.
    return values, tape.gradient(values, x)


def value_and_grad(loss_fn, variables):
    with tf.GradientTape() as tape:
        loss = loss_fn()
    return loss, tape.gradient(loss, variables)


class StatefulTrainer:
    """TensorFlow's trainer already calls `train_step(data)` statefully."""

    def train_step(self, data):
        return self.stateful_train_step(data)

    def test_step(self, data):
        return self.stateful_test_step(data)
