"""Helpers every layer and model test uses: layer, serialization and `.keras` saving."""

import os

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


def run_layer_test(
    layer_cls,
    init_kwargs,
    input_data,
    expected_output_shape,
    expected_num_trainable_weights=None,
    deterministic=True,
):
    """Builds and calls a layer, then checks shapes, weights and round trips.

    Deterministic layers must give the same output after a config round trip
    with the original weights.
    """
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
