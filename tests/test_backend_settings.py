"""Speed settings a user may pick must not change what is trained.

TensorFlow's XLA (`jit_compile=True`) must train the double backward step as
TensorFlow's graph does. PyTorch cannot honour `jit_compile=True` and says so
(`keras_dde/backend/torch_test.py`).
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
