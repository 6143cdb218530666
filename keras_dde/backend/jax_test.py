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


def test_convolutional_models_keep_keras_loop_and_dense_ones_are_fused():
    import keras_dde
    from keras_dde.backend.model_kind import has_convolution

    conv = keras_dde.models.energy_convnet((8, 8, 1), filters=(4,), dense_width=8)
    mlp = keras_dde.models.energy_mlp(2, width=8, depth=1)
    wrapped = keras.Sequential([keras.Input((6, 1)), keras.layers.Conv1D(2, 3)])
    assert has_convolution(conv) and has_convolution(wrapped)
    assert not has_convolution(mlp)
    x = np.random.default_rng(0).uniform(-1, 1, (64, 8, 8, 1)).astype("float32")
    for energy, data, fused in ((conv, x, False), (mlp, x[:, 0, :2, 0], True)):
        dde = keras_dde.DDEModel(energy, sigma=0.3, seed=0)
        assert has_convolution(dde) is not fused
        dde.compile(optimizer="adam", steps_per_execution=4)
        history = dde.fit(data, batch_size=16, epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][-1])
        # The fused function is ours; without fusion Keras's own runs.
        ours = dde.train_function.__qualname__.startswith(
            "StatefulTrainer.make_train_function"
        )
        assert ours is fused
