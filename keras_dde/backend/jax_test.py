"""Pins the public Keras behaviour that the JAX seam (`backend/jax.py`) relies on."""

import keras
import numpy as np
import pytest
from keras import ops

pytestmark = pytest.mark.jax_only


def test_a_stateless_scope_maps_reads_records_writes_and_knows_its_parent():
    from keras_dde.backend.jax import enclosing_scope

    variable = keras.Variable(np.zeros(2, "float32"))
    assert enclosing_scope() is None
    mapped = np.array([1.0, 2.0], "float32")
    with keras.StatelessScope(state_mapping=[(variable, mapped)]) as outer:
        # Reads see the mapped value; writes are recorded, not applied.
        np.testing.assert_array_equal(ops.convert_to_numpy(variable.value), mapped)
        variable.assign(mapped * 3)
        assert enclosing_scope() is outer
        with keras.StatelessScope() as inner:
            # `original_scope` names the enclosing scope (public attribute).
            assert inner.original_scope is outer
            assert enclosing_scope() is inner
    np.testing.assert_array_equal(
        ops.convert_to_numpy(outer.get_current_value(variable)), mapped * 3
    )
    np.testing.assert_array_equal(ops.convert_to_numpy(variable.value), [0.0, 0.0])
    assert enclosing_scope() is None


def test_input_gradient_trains_under_keras_own_jax_trainer():
    # Keras's trainer (not ours) opens the scope: the seam must see its values.
    import keras_dde

    energy = keras_dde.models.energy_mlp(2, width=8, depth=1)
    inputs = keras.Input((2,))
    score = keras_dde.layers.InputGradient(energy)(inputs)
    model = keras.Model(inputs, score)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    before = [np.array(w) for w in energy.trainable_weights]
    x = np.random.default_rng(0).normal(size=(32, 2)).astype("float32")
    model.fit(x, np.ones_like(x), batch_size=32, epochs=1, verbose=0)
    assert any(
        np.abs(np.array(w) - b).max() > 1e-6
        for w, b in zip(energy.trainable_weights, before)
    )


def test_convolutional_models_are_unrolled_and_dense_ones_scanned(monkeypatch):
    import keras_dde
    from keras_dde.backend import jax as jax_backend
    from keras_dde.backend.model_kind import has_convolution

    built = []
    for name in ("_scanned_steps", "_unrolled_steps"):
        original = getattr(jax_backend.StatefulTrainer, name)
        monkeypatch.setattr(
            jax_backend.StatefulTrainer,
            name,
            lambda self, name=name, original=original: built.append(name)
            or original(self),
        )
    conv = keras_dde.models.energy_convnet((8, 8, 1), filters=(4,), dense_width=8)
    mlp = keras_dde.models.energy_mlp(2, width=8, depth=1)
    wrapped = keras.Sequential([keras.Input((6, 1)), keras.layers.Conv1D(2, 3)])
    assert has_convolution(conv) and has_convolution(wrapped)
    assert not has_convolution(mlp)
    x = np.random.default_rng(0).uniform(-1, 1, (64, 8, 8, 1)).astype("float32")
    # XLA's CPU convolutions run ~15x slower inside a scan: never scan them.
    for energy, data, block in (
        (conv, x, "_unrolled_steps"),
        (mlp, x[:, 0, :2, 0], "_scanned_steps"),
    ):
        built.clear()
        dde = keras_dde.DDEModel(energy, sigma=0.3, seed=0)
        dde.compile(optimizer="adam", steps_per_execution=4)
        history = dde.fit(data, batch_size=16, epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][-1])
        assert built == [block]


def test_conv_steps_unrolled_in_one_call_train_as_single_steps(monkeypatch):
    import keras_dde
    from keras_dde.backend import jax as jax_backend

    monkeypatch.setattr(jax_backend, "CONV_STEPS_PER_CALL", 2)
    blocks = []
    unrolled_steps = jax_backend.StatefulTrainer._unrolled_steps

    def counted(self):
        block = unrolled_steps(self)
        return lambda state, data: blocks.append(1) or block(state, data)

    monkeypatch.setattr(jax_backend.StatefulTrainer, "_unrolled_steps", counted)
    x = np.tanh(np.random.default_rng(0).normal(size=(40, 8, 8, 1))).astype("float32")
    runs = {}
    for steps_per_execution in (1, 3):
        keras.utils.set_random_seed(0)
        energy = keras_dde.models.energy_convnet(
            input_shape=(8, 8, 1), filters=(4,), dense_width=8
        )
        model = keras_dde.DDEModel(energy, sigma=0.3, seed=0)
        model.compile(optimizer="adam", steps_per_execution=steps_per_execution)
        loss = model.fit(x, batch_size=8, epochs=2, shuffle=False, verbose=0)
        runs[steps_per_execution] = (loss.history["loss"], model.get_weights())
    # Per epoch, 5 batches in calls of 3 and 2: a block of 2, a lone step, a
    # block of 2.
    assert len(blocks) == 4
    np.testing.assert_allclose(runs[3][0], runs[1][0], rtol=1e-5)
    for unrolled, single in zip(runs[3][1], runs[1][1]):
        np.testing.assert_allclose(unrolled, single, rtol=1e-4, atol=1e-6)
