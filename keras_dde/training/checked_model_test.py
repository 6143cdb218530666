"""`CheckedModel.fit` on datasets: the statistics from one streaming pass."""

import keras
import numpy as np
import pytest

import keras_dde
from keras_dde.models.energy_gan import EnergyGAN

BATCHES = 4


def data(seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((BATCHES * 64, 2)) * [1.0, 3.0] + [2.0, -1.0]).astype(
        "float32"
    )


class Batches(keras.utils.PyDataset):
    """The rows of `x` in batches of 64; counts the batches read."""

    def __init__(self, x):
        super().__init__()
        self.x = x
        self.reads = 0

    def __len__(self):
        return len(self.x) // 64

    def __getitem__(self, index):
        self.reads += 1
        return self.x[index * 64 : (index + 1) * 64]


def dde(seed=0):
    keras.utils.set_random_seed(seed)
    model = keras_dde.DDEModel(keras_dde.models.energy_mlp(2, width=8), sigma=0.3)
    model.compile(optimizer=keras.optimizers.SGD(1e-3), steps_per_execution=1)
    return model


def gan(seed=0):
    keras.utils.set_random_seed(seed)
    generator = keras_dde.models.generator_mlp(2, 2, width=8, depth=1)
    real, fake = (
        keras_dde.MultiScaleDDE(keras_dde.models.conditional_energy_mlp(2, width=8, depth=1),
                                sigma=0.3, sigma_max=3.0)
        for _ in range(2)
    )
    model = EnergyGAN(generator, real, fake, seed=seed, objective="kl")
    model.compile(generator_optimizer=keras.optimizers.SGD(1e-3),
                  dde_optimizer=keras.optimizers.SGD(1e-3))
    return model


def assert_statistics_of(model, x):
    mean, covariance = model.data_statistics.moments()
    np.testing.assert_allclose(mean, x.mean(axis=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(covariance, np.cov(x, rowvar=False, bias=True), rtol=1e-4)
    assert float(keras.ops.convert_to_numpy(model.data_statistics.count)) == len(x)


def test_dde_model_records_a_py_dataset_s_statistics_once():
    x = data()
    model = dde()
    batches = Batches(x)
    model.fit(batches, epochs=1, verbose=0)
    assert_statistics_of(model, x)
    # Recorded: another fit reads its data for training only, one pass less
    # (Keras's TensorFlow adapter reads a first batch more, for its spec).
    again = Batches(data(1))
    model.fit(again, epochs=1, verbose=0)
    assert batches.reads - again.reads == BATCHES
    assert_statistics_of(model, x)
    # The mixture of the log Z proposal was fitted too: no data needed.
    assert model.data_statistics.mixture() is not None


def test_dde_model_records_a_tf_data_dataset_s_statistics():
    tf = pytest.importorskip("tensorflow")
    x = data()
    model = dde()
    model.fit(tf.data.Dataset.from_tensor_slices(x).batch(64), epochs=1, verbose=0,
              shuffle=False)
    assert_statistics_of(model, x)


def test_a_python_generator_is_not_read_for_statistics():
    x = data()
    model = dde()
    model.fit(((x[i : i + 64],) for i in range(0, len(x), 64)), epochs=1, verbose=0,
              shuffle=False)
    assert not model.data_statistics.recorded


def test_energy_gan_records_a_py_dataset_s_statistics_and_the_fake_base():
    x = data()
    model = gan()
    batches = Batches(x)
    model.fit(batches, epochs=1, verbose=0)
    assert_statistics_of(model.real_dde, x)
    # The fake DDE's Gaussian base has the data's moments.
    reference = gan()
    reference.fit(x, batch_size=64, epochs=1, verbose=0, shuffle=False)
    for ours, theirs in zip(model.fake_dde.base_density.weights,
                            reference.fake_dde.base_density.weights):
        np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-5, atol=1e-6)
    assert model.fake_dde.base_density.is_set
