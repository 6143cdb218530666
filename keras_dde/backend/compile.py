"""`compile_function`: traces a pure tensor function once for repeated calls.

The samplers behind `log_partition` and `sample` call the same small step
hundreds of times; eagerly, dispatch overhead dominates it. The function must
be pure: tensors in, tensors out, randomness passed in as tensors (it may read
model weights, which are then fixed for the compiled function's lifetime on
JAX, so compile a fresh one per run).
"""

import keras


def compile_function(fn):
    """`jax.jit(fn)` on JAX, `tf.function(fn)` on TensorFlow.

    On PyTorch, `fn` runs eagerly under `torch.no_grad()`: without it, a
    sampler's input gradients would keep their graphs and chain them from
    one step to the next.
    """
    name = keras.backend.backend()
    if name == "jax":
        import jax

        return jax.jit(fn)
    if name == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, reduce_retracing=True)
    if name == "torch":
        import torch

        return torch.no_grad()(fn)
    return fn
