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


def _fit_logs(model, x, **fit_kwargs):
    """`fit`'s History and the logs each `on_train_batch_end` saw."""
    batch_logs = {}
    callback = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: batch_logs.update(
            {batch: {k: float(v) for k, v in logs.items()}}
        )
    )
    history = model.fit(
        x, batch_size=64, shuffle=False, verbose=0, callbacks=[callback], **fit_kwargs
    )
    return history.history, batch_logs


def _gan(seed=0):
    keras.utils.set_random_seed(seed)
    generator = keras_dde.models.generator_mlp(4, 2, width=16, depth=2)

    def dde():
        return keras_dde.DDEModel(keras_dde.models.energy_mlp(2, width=16), sigma=0.3)

    return keras_dde.EnergyGAN(generator, dde(), dde(), seed=seed)


@pytest.mark.parametrize("kind", ["dde", "gan"])
def test_logs_of_several_steps_per_call_are_those_of_one_step_per_call(kind):
    # The steps before the last of a call skip their trackers' `result()`:
    # what History, callbacks and `evaluate` see must not change.
    x = keras_dde.datasets.toy2d("8gaussians", 64 * 10, seed=0)
    runs = {}
    for steps_per_execution in (1, 4):
        if kind == "dde":
            model = _dde()
            model.compile(optimizer="adam", steps_per_execution=steps_per_execution)
        else:
            model = _gan()
            model.compile(
                generator_optimizer=keras.optimizers.Adam(1e-3),
                dde_optimizer=keras.optimizers.Adam(1e-3),
                steps_per_execution=steps_per_execution,
            )
        history, batch_logs = _fit_logs(model, x, epochs=2)
        evaluated = model.evaluate(x, batch_size=64, verbose=0, return_dict=True)
        runs[steps_per_execution] = history, batch_logs, evaluated
    (history_1, logs_1, evaluated_1), (history_4, logs_4, evaluated_4) = (
        runs[1],
        runs[4],
    )
    assert set(history_4) == set(history_1)
    for name in history_1:
        assert len(history_1[name]) == 2
        assert history_4[name] == history_1[name]
    # Keras numbers the short last call (2 steps) as if it had 4.
    assert sorted(logs_4) == [3, 7, 11]
    for batch, same_step in ((3, 3), (7, 7), (11, 9)):
        assert set(logs_4[batch]) == set(logs_1[same_step])
        for name, value in logs_4[batch].items():
            assert value == logs_1[same_step][name]
    for name, value in evaluated_1.items():
        assert evaluated_4[name] == value


def test_only_the_last_step_of_a_call_computes_its_logs():
    x = keras_dde.datasets.toy2d("8gaussians", 64 * 16, seed=0)
    model = _dde()
    model.compile(optimizer="adam", steps_per_execution=8)
    results = []
    result = model.loss_tracker.result
    model.loss_tracker.result = lambda: results.append(1) or result()
    model.fit(x, batch_size=64, epochs=1, shuffle=False, verbose=0)
    assert int(model.optimizer.iterations) == 16
    # One per call (2) and the epoch's logs; not one per step (16).
    assert 2 <= len(results) <= 4


def test_a_step_that_raises_leaves_later_steps_with_their_logs():
    x = keras_dde.datasets.toy2d("8gaussians", 64 * 8, seed=0)
    model = _dde()
    model.compile(optimizer="adam", steps_per_execution=4)
    step = model.stateful_train_step
    calls = []

    def failing_step(data):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("a failing step")
        return step(data)

    model.stateful_train_step = failing_step
    with pytest.raises(RuntimeError, match="a failing step"):
        model.fit(x, batch_size=64, verbose=0)
    assert model._discards_step_logs is False
    model.stateful_train_step = step
    logs = model.train_step(keras.ops.convert_to_tensor(x[:64]))
    assert set(logs) == {"loss"} and np.isfinite(float(logs["loss"]))
