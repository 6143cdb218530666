"""Settings each backend chooses for speed, and what it does with the user's.

TensorFlow turns XLA on for long fits of dense networks (`jit_compile="auto"`);
XLA must then train the double backward step as TensorFlow's graph does.
PyTorch cannot honour `jit_compile=True` and says so (`torch_test.py`).
"""

import numpy as np
import pytest
from keras import ops


def _dde(**compile_kwargs):
    import keras

    import keras_dde

    keras.utils.set_random_seed(0)
    energy = keras_dde.models.energy_mlp(2, width=16, depth=2, activation="tanh")
    model = keras_dde.DDEModel(energy, sigma=0.2, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), **compile_kwargs)
    return model


def _fixed_noise(shape, seed, dtype=None):
    """Noise that XLA and TensorFlow's kernels draw alike (their Philox
    streams differ), so that two trajectories can be compared."""
    size = int(np.prod(shape))
    values = ops.sin(ops.arange(size, dtype="float32") * 12.9898 + 0.5) * 1.7
    return ops.cast(ops.reshape(values, shape), dtype or "float32")


@pytest.mark.tensorflow_only
def test_xla_trains_the_double_backward_step_as_the_tf_graph(monkeypatch):
    from keras_dde import backend

    monkeypatch.setattr(backend, "normal", _fixed_noise)
    x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    runs = {}
    for jit_compile in (False, True):
        model = _dde(jit_compile=jit_compile, steps_per_execution=4)
        history = model.fit(x, batch_size=16, epochs=3, shuffle=False, verbose=0)
        runs[jit_compile] = (history.history["loss"], model.get_weights())
    (graph_loss, graph_weights), (xla_loss, xla_weights) = runs[False], runs[True]
    # 12 Adam steps at 1e-2 move the loss by far more than this tolerance.
    assert abs(graph_loss[-1] - graph_loss[0]) > 1e-2
    np.testing.assert_allclose(xla_loss, graph_loss, rtol=1e-4)
    for xla, graph in zip(xla_weights, graph_weights):
        np.testing.assert_allclose(xla, graph, rtol=1e-3, atol=1e-5)


@pytest.mark.tensorflow_only
def test_auto_jit_compile_uses_xla_only_for_long_dense_fits(monkeypatch):
    import keras_dde
    from keras_dde.backend import tensorflow as tf_backend

    # A long fit, made cheap: any fit of 2+ steps counts as long here.
    monkeypatch.setattr(tf_backend, "XLA_MIN_STEPS", 8)
    x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    model = _dde()
    model.fit(x, batch_size=16, epochs=1, verbose=0)  # 4 steps
    assert model.jit_compile is False
    model.fit(x, batch_size=16, epochs=2, verbose=0)  # 8 steps
    assert model.jit_compile is True
    explicit = _dde(jit_compile=False)
    explicit.fit(x, batch_size=16, epochs=2, verbose=0)
    assert explicit.jit_compile is False
    conv = keras_dde.DDEModel(
        keras_dde.models.energy_convnet((8, 8, 1), filters=(4,), dense_width=8),
        sigma=0.3,
    )
    conv.compile()
    images = np.zeros((32, 8, 8, 1), "float32")
    conv.fit(images, batch_size=16, epochs=4, verbose=0)
    assert conv.jit_compile is False


@pytest.mark.tensorflow_only
def test_planned_steps_reads_the_fit_arguments():
    import tensorflow as tf

    from keras_dde.backend.tensorflow import planned_steps

    x = np.zeros((100, 2), "float32")
    assert planned_steps(x, batch_size=10, epochs=3) == 30
    assert planned_steps(x, None, 10, 3) == 30  # positionally
    assert planned_steps(x, epochs=2) == 8  # Keras's batch size 32
    assert planned_steps(x, batch_size=10, epochs=3, validation_split=0.2) == 24
    assert planned_steps(x, epochs=5, initial_epoch=3, steps_per_epoch=7) == 14
    dataset = tf.data.Dataset.from_tensor_slices(x).batch(25)
    assert planned_steps(dataset, epochs=2) == 8
    assert planned_steps(dataset.repeat(), epochs=2) is None
    assert planned_steps(iter([x]), epochs=2) is None
