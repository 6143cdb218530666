"""PyTorch-only behaviour: autograd modes, eager execution, steps per call."""

import warnings

import keras
import numpy as np
import pytest

import keras_dde

pytestmark = pytest.mark.torch_only


def _dde(seed=0):
    keras.utils.set_random_seed(seed)
    energy = keras_dde.models.energy_mlp(2, width=16, depth=2)
    return keras_dde.DDEModel(energy, sigma=0.2, seed=seed)


def test_score_works_under_no_grad_and_is_detached():
    import torch

    model = _dde()
    x = keras_dde.datasets.toy2d("8gaussians", 64, seed=0)
    expected = keras.ops.convert_to_numpy(model.score(x))
    with torch.no_grad():
        score = model.score(x)
    assert not score.requires_grad
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(score), expected, rtol=1e-5, atol=1e-6
    )
    # And `evaluate` (run under no_grad by Keras) still gets the input gradient.
    model.compile(optimizer="adam")
    assert np.isfinite(model.evaluate(x, batch_size=32, verbose=0))


def test_jit_compile_true_falls_back_to_eager_with_a_warning():
    model = _dde()
    with pytest.warns(UserWarning, match="double backward"):
        model.compile(optimizer="adam", jit_compile=True)
    assert model.jit_compile is False
    history = model.fit(
        keras_dde.datasets.toy2d("8gaussians", 256, seed=0), batch_size=64, verbose=0
    )
    assert np.isfinite(history.history["loss"][-1])


def test_default_jit_compile_resolves_to_eager():
    model = _dde()
    model.compile(optimizer="adam")
    assert model.jit_compile is False


def test_steps_per_execution_runs_every_step_and_calls_back_per_execution():
    x = keras_dde.datasets.toy2d("8gaussians", 64 * 10, seed=0)
    model = _dde()
    model.compile(optimizer="adam", steps_per_execution=4)
    batch_ends = []
    callback = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: batch_ends.append(batch)
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(x, batch_size=64, epochs=1, verbose=0, callbacks=[callback])
    # A short last execution (2 of 4 steps) is normal, not "out of data".
    assert not [w for w in caught if "ran out of data" in str(w.message)]
    assert int(model.optimizer.iterations) == 10
    assert batch_ends == [3, 7, 11]
    assert model.predict(x, batch_size=64, verbose=0).shape == (640,)


def test_inference_methods_return_no_graph_outside_no_grad():
    model = _dde()
    x = keras_dde.datasets.toy2d("8gaussians", 64, seed=0)
    for name in ("energy", "score", "denoise"):
        value = getattr(model, name)(x)
        assert not value.requires_grad, name
        assert value.grad_fn is None, name
        np.asarray(value)  # Raised "Can't call numpy() on Tensor that requires grad".


def test_inference_inside_a_recorded_loss_keeps_its_graph():
    from keras_dde import backend

    model = _dde()
    x = keras.ops.convert_to_tensor(
        keras_dde.datasets.toy2d("8gaussians", 16, seed=0)
    )
    loss, grads = backend.value_and_grad(
        lambda: keras.ops.mean(model.energy(x)), model.trainable_variables
    )
    assert all(g is not None for g in grads)
    assert any(float(g.abs().sum()) > 0 for g in grads)
