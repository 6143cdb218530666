"""The only backend-specific code in keras-dde.

Everything else is written once with `keras.ops` against three primitives,
picked here by `keras.backend.backend()`:

- `input_gradient(fn, x)`: per-sample values of `fn(x)` and `d sum(fn(x)) / dx`,
  differentiable again (the denoising loss needs a second derivative).
- `value_and_grad(loss_fn, variables, has_aux=False)`: a scalar loss and its
  gradient with respect to `variables`, for a train step written in stateful
  Keras style; with `has_aux`, `loss_fn` returns `(loss, aux)` and so does
  the first result, as in `jax.value_and_grad`.
- `normal(shape, seed)`: `keras.random.normal`, but distinct on every
  `tf.distribute` replica (they share one seed state).
- `inference()`: a context for inference methods, whose results must carry no
  autograd graph (`torch.no_grad()` on PyTorch, except inside a recorded
  loss; nothing elsewhere).
- `StatefulTrainer`: a mixin that runs such a stateful `train_step(data)` /
  `test_step(data)` under the backend's trainer (JAX threads explicit state
  and fuses `steps_per_execution` steps per jitted call; PyTorch runs eagerly,
  `steps_per_execution` steps per call; TensorFlow reads in-memory arrays
  through a lean `tf.data` pipeline).
"""

import keras

_BACKEND = keras.backend.backend()

if _BACKEND == "tensorflow":
    from keras_dde.backend.tensorflow import StatefulTrainer
    from keras_dde.backend.tensorflow import inference
    from keras_dde.backend.tensorflow import input_gradient
    from keras_dde.backend.tensorflow import normal
    from keras_dde.backend.tensorflow import value_and_grad
elif _BACKEND == "jax":
    from keras_dde.backend.jax import StatefulTrainer
    from keras_dde.backend.jax import inference
    from keras_dde.backend.jax import input_gradient
    from keras_dde.backend.jax import normal
    from keras_dde.backend.jax import value_and_grad
elif _BACKEND == "torch":
    from keras_dde.backend.torch import StatefulTrainer
    from keras_dde.backend.torch import inference
    from keras_dde.backend.torch import input_gradient
    from keras_dde.backend.torch import normal
    from keras_dde.backend.torch import value_and_grad
else:
    raise ImportError(
        f"keras-dde supports the TensorFlow, JAX and PyTorch backends of Keras; "
        f"KERAS_BACKEND is {_BACKEND!r}."
    )

__all__ = [
    "StatefulTrainer",
    "inference",
    "input_gradient",
    "normal",
    "value_and_grad",
]
