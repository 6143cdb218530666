"""Helpers every layer and model test uses: layer, serialization and `.keras` saving."""

import os
import warnings

import keras
import numpy as np
from keras import ops


def _to_numpy(structure):
    return keras.tree.map_structure(ops.convert_to_numpy, structure)


def _assert_shapes(outputs, expected_shapes):
    flat_outputs = keras.tree.flatten(outputs)
    if isinstance(expected_shapes, tuple) and all(
        isinstance(shape, tuple) for shape in expected_shapes
    ):
        flat_expected = list(expected_shapes)
    else:
        flat_expected = [expected_shapes]
    assert len(flat_outputs) == len(flat_expected), (flat_outputs, flat_expected)
    for output, shape in zip(flat_outputs, flat_expected):
        assert tuple(output.shape) == tuple(shape), (output.shape, shape)


def _assert_all_close(actual, expected, atol=1e-6):
    for a, e in zip(keras.tree.flatten(actual), keras.tree.flatten(expected)):
        np.testing.assert_allclose(a, e, atol=atol, rtol=1e-5)


def run_serialization_test(instance):
    """`get_config`/`from_config` and `serialize_keras_object` round trips."""
    config = instance.get_config()
    assert "name" in config, "get_config must chain super().get_config()"
    revived = instance.__class__.from_config(config)
    assert revived.get_config() == config
    serialized = keras.saving.serialize_keras_object(instance)
    revived = keras.saving.deserialize_keras_object(serialized)
    assert type(revived) is type(instance)
    assert keras.saving.serialize_keras_object(revived) == serialized
    return revived


def run_symbolic_call_test(layer_cls, init_kwargs, input_data, expected_output_shape):
    """A fresh layer called on a `KerasTensor` gives the expected shapes.

    The batch dimension is unknown (`None`) there, as in a functional model.
    """
    layer = layer_cls(**init_kwargs)
    symbolic = keras.KerasTensor((None, *input_data.shape[1:]), dtype="float32")
    outputs = layer(symbolic)
    flat = keras.tree.flatten(outputs)
    assert all(isinstance(output, keras.KerasTensor) for output in flat), flat
    expected = _with_unknown_batch(expected_output_shape)
    assert [tuple(output.shape) for output in flat] == expected, (flat, expected)


def _with_unknown_batch(expected_shapes):
    if isinstance(expected_shapes, tuple) and all(
        isinstance(shape, tuple) for shape in expected_shapes
    ):
        shapes = list(expected_shapes)
    else:
        shapes = [expected_shapes]
    return [(None, *shape[1:]) for shape in shapes]


class _TrainingProbe(keras.Model):
    """A tiny model around a layer: per-sample mean square of its outputs."""

    def __init__(self, layer):
        super().__init__(name="training_probe")
        self.layer = layer

    def call(self, inputs):
        total = 0.0
        for output in keras.tree.flatten(self.layer(inputs)):
            axes = tuple(range(1, len(output.shape)))
            square = ops.square(output)
            total = total + (ops.mean(square, axis=axes) if axes else square)
        return total


def run_training_step_test(layer, input_data):
    """One SGD step of a tiny model around `layer`: finite loss, weights move.

    The loss is the mean square of the layer's outputs, so a layer whose
    output is a gradient (e.g. `InputGradient`) trains only if its output can
    be differentiated again on the backend (double backprop).
    """
    model = _TrainingProbe(layer)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    before = [np.array(ops.convert_to_numpy(w)) for w in layer.trainable_weights]
    target = np.ones((len(input_data),), "float32")
    with warnings.catch_warnings():
        # A layer without weights (e.g. `NoisePairing`) only runs forward.
        warnings.filterwarnings("ignore", message=".*any trainable weights")
        history = model.fit(
            input_data, target, batch_size=len(input_data), epochs=1, verbose=0
        )
    assert np.isfinite(history.history["loss"][-1]), history.history
    if before:
        after = [ops.convert_to_numpy(w) for w in layer.trainable_weights]
        assert any(np.abs(a - b).max() > 0 for a, b in zip(after, before)), (
            "A training step left every trainable weight unchanged."
        )


def run_layer_test(
    layer_cls,
    init_kwargs,
    input_data,
    expected_output_shape,
    expected_num_trainable_weights=None,
    deterministic=True,
    run_training_check=True,
):
    """Builds and calls a layer, then checks shapes, weights and round trips.

    After keras-hub's `run_layer_test`: a symbolic call (a `KerasTensor` in,
    the expected shapes out), an eager call, config and serialization round
    trips (deterministic layers must give the same output after a round trip
    with the original weights), and a training step of a tiny model around
    the layer (`run_training_step_test`).
    """
    run_symbolic_call_test(layer_cls, init_kwargs, input_data, expected_output_shape)
    layer = layer_cls(**init_kwargs)
    outputs = layer(input_data)
    _assert_shapes(outputs, expected_output_shape)
    if expected_num_trainable_weights is not None:
        assert len(layer.trainable_weights) == expected_num_trainable_weights
    assert layer.compute_output_shape(tuple(input_data.shape)) is not None
    revived = run_serialization_test(layer)
    revived(input_data)
    revived.set_weights(layer.get_weights())
    if deterministic:
        _assert_all_close(_to_numpy(revived(input_data)), _to_numpy(outputs))
    if run_training_check:
        run_training_step_test(revived, input_data)
    return layer


def run_model_saving_test(model, input_data, directory, atol=1e-6):
    """Saves to `.keras`, loads, and checks the loaded model predicts the same.

    Returns the loaded model.
    """
    path = os.path.join(str(directory), "model.keras")
    expected = model.predict(input_data, verbose=0)
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is type(model)
    _assert_all_close(loaded.predict(input_data, verbose=0), expected, atol=atol)
    return loaded
