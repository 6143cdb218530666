"""The weight averaging of `MultiScaleDDE.fit`: the average it ends with, exactly."""

import keras
import numpy as np
import pytest

import keras_dde


def small_model(**kwargs):
    keras.utils.set_random_seed(0)
    energy = keras_dde.models.conditional_energy_mlp(2, width=8, depth=1)
    return keras_dde.MultiScaleDDE(energy, sigma=0.2, sigma_max=1.0, seed=0, **kwargs)


class Iterates(keras.callbacks.Callback):
    """The trainable weights after every step (steps_per_execution=1)."""

    def __init__(self):
        super().__init__()
        self.weights = []

    def on_train_batch_end(self, batch, logs=None):
        self.weights.append([keras.ops.convert_to_numpy(v).copy()
                             for v in self.model.trainable_variables])


def expected_average(iterates, decay_max):
    average = [np.zeros_like(w) for w in iterates[0]]
    for t, weights in enumerate(iterates, start=1):
        decay = min(decay_max, (t - 1) / (t + 3))
        average = [decay * a + (1 - decay) * w for a, w in zip(average, weights)]
    return average


def test_fit_ends_with_the_polynomial_then_exponential_average_of_its_iterates():
    x = keras_dde.datasets.toy2d("8gaussians", 640, seed=0)
    dde = small_model(weight_averaging=0.9)  # the cap is reached at step 37
    dde.compile(keras.optimizers.Adam(1e-2), steps_per_execution=1)
    iterates = Iterates()
    dde.fit(x, batch_size=64, epochs=5, verbose=0, callbacks=[iterates])
    assert len(iterates.weights) == 50
    final = [keras.ops.convert_to_numpy(v) for v in dde.trainable_variables]
    for got, want, last in zip(final, expected_average(iterates.weights, 0.9),
                               iterates.weights[-1]):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
        assert not np.allclose(got, last, atol=1e-4)  # not the last iterate
    assert float(keras.ops.convert_to_numpy(dde.averaging_steps)) == 50


def test_without_averaging_fit_ends_with_the_last_iterate():
    x = keras_dde.datasets.toy2d("8gaussians", 256, seed=0)
    dde = small_model(weight_averaging=None)
    assert dde.averaged_variables == []
    dde.compile(keras.optimizers.Adam(1e-2), steps_per_execution=1)
    iterates = Iterates()
    dde.fit(x, batch_size=64, epochs=2, verbose=0, callbacks=[iterates])
    for got, last in zip(dde.trainable_variables, iterates.weights[-1]):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(got), last)


def test_a_saved_model_resumes_its_average(tmp_path):
    x = keras_dde.datasets.toy2d("8gaussians", 256, seed=0)
    dde = small_model()
    dde.compile()
    dde.fit(x, batch_size=64, epochs=2, verbose=0)
    dde.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    assert loaded.weight_averaging == 0.999
    for a, b in zip(loaded.averaged_variables, dde.averaged_variables):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a),
                                      keras.ops.convert_to_numpy(b))
    loaded.fit(x, batch_size=64, epochs=1, verbose=0)
    assert float(keras.ops.convert_to_numpy(loaded.averaging_steps)) == 12


def test_non_finite_averages_do_not_replace_the_weights():
    dde = small_model()
    dde.compile()
    dde.update_weight_averages()
    dde.averaged_variables[0].assign(
        np.full(dde.averaged_variables[0].shape, np.nan, "float32"))
    before = [keras.ops.convert_to_numpy(v).copy() for v in dde.trainable_variables]
    dde.use_weight_averages()
    for got, want in zip(dde.trainable_variables, before):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(got), want)


def test_compile_without_an_optimizer_takes_adam_1e_3():
    dde = small_model()
    dde.compile()
    assert isinstance(dde.optimizer, keras.optimizers.Adam)
    assert float(keras.ops.convert_to_numpy(dde.optimizer.learning_rate)) == pytest.approx(1e-3)


@pytest.mark.parametrize("value", [0, 1, 1.5, -0.1, "0.99", True])
def test_a_bad_decay_is_refused(value):
    with pytest.raises(ValueError, match="`weight_averaging` must be a decay in"):
        small_model(weight_averaging=value)
