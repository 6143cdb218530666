"""The TensorFlow seam's own input path for in-memory arrays (`array_batches`)."""

import keras
import numpy as np
import pytest

pytestmark = pytest.mark.tensorflow_only


def _epoch(dataset):
    return [np.asarray(batch).ravel().tolist() for batch in dataset]


def test_array_batches_visit_every_sample_once_per_epoch_with_the_remainder_last():
    from keras_dde.backend.tensorflow import array_batches

    x = np.arange(10, dtype="float32")[:, None]
    in_order = array_batches(x, batch_size=4, shuffle=False)
    assert int(in_order.cardinality()) == 3
    assert _epoch(in_order) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]

    shuffled = _epoch(array_batches(x, batch_size=4, shuffle=True))
    assert [len(batch) for batch in shuffled] == [4, 4, 2]
    assert sorted(sum(shuffled, [])) == list(range(10))
    # In order only by chance: 1 in 10!.
    assert shuffled != _epoch(in_order)


def test_array_batches_shuffle_as_keras_array_adapter_does():
    from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter

    from keras_dde.backend.tensorflow import array_batches

    x = np.arange(50, dtype="float32")[:, None]
    keras.utils.set_random_seed(3)
    ours = _epoch(array_batches(x, batch_size=16, shuffle=True))
    keras.utils.set_random_seed(3)
    adapter = ArrayDataAdapter(x, batch_size=16, shuffle=True)
    # The same permutation from the same seed: the same batches.
    assert ours == _epoch(adapter.get_tf_dataset())


def test_array_batches_keep_targets_and_weights_aligned_with_x():
    from keras_dde.backend.tensorflow import array_batches

    x = np.arange(12, dtype="float32")[:, None]
    for x_batch, y_batch, weight_batch in array_batches(
        x, 2 * x[:, 0], 3 * x[:, 0], batch_size=5
    ):
        np.testing.assert_array_equal(np.asarray(y_batch), 2 * np.asarray(x_batch)[:, 0])
        np.testing.assert_array_equal(
            np.asarray(weight_batch), 3 * np.asarray(x_batch)[:, 0]
        )


def _dde():
    import keras_dde

    keras.utils.set_random_seed(0)
    energy = keras_dde.models.energy_mlp(2, width=8, depth=1)
    model = keras_dde.DDEModel(energy, sigma=0.3, seed=0)
    model.compile(optimizer="adam", steps_per_execution=2)
    return model


def test_fit_on_arrays_takes_the_lean_path_and_trains_as_keras_array_path(monkeypatch):
    from keras.src.trainers.data_adapters import array_data_adapter

    from keras_dde.backend import tensorflow as tensorflow_backend

    x = np.random.default_rng(0).normal(size=(50, 2)).astype("float32")
    # Keras's own array path, as `fit` with a `validation_split` still takes it.
    with monkeypatch.context() as patch:
        patch.setattr(tensorflow_backend, "_takes_array_batches", lambda *args: False)
        reference = _dde()
        reference_loss = reference.fit(
            x, batch_size=16, epochs=2, shuffle=False, verbose=0
        ).history["loss"]

    def refuse(*args, **kwargs):
        raise AssertionError("fit took Keras's array adapter")

    monkeypatch.setattr(array_data_adapter.ArrayDataAdapter, "get_tf_dataset", refuse)
    model = _dde()
    loss = model.fit(x, batch_size=16, epochs=2, shuffle=False, verbose=0).history["loss"]
    # 4 batches (3 full, 1 of 2) per epoch, as Keras draws them: same updates.
    assert int(model.optimizer.iterations) == 8
    np.testing.assert_allclose(loss, reference_loss, rtol=1e-5)
    for weight, expected in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(weight, expected, rtol=1e-5, atol=1e-6)
