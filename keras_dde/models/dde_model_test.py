import re

import keras
import numpy as np
import pytest
from keras import ops

import keras_dde
from keras_dde.models.dde_model import DDEModel
from keras_dde.testing import run_model_saving_test
from keras_dde.testing import run_serialization_test


@keras.saving.register_keras_serializable(package="keras_dde_tests")
class IsotropicQuadratic(keras.layers.Layer):
    """s(x) = -precision * |x|^2 / 2 with one learnable precision."""

    def build(self, input_shape):
        self.precision = self.add_weight(shape=(), initializer="ones")

    def call(self, x):
        return -0.5 * self.precision * ops.sum(x * x, axis=-1)


def small_dde(sigma=0.3, seed=0, width=16):
    return DDEModel(keras_dde.models.energy_mlp(2, width=width, depth=2), sigma, seed)


def data(n=512, seed=0):
    return keras_dde.datasets.toy2d("8gaussians", n, seed=seed)


def weights_of(model):
    return [ops.convert_to_numpy(w) for w in model.trainable_weights]


# --- Training does what the math says --------------------------------------


def test_learns_the_smoothed_gaussian_precision():
    # Data N(0, v I) smoothed by N(0, sigma^2 I) is N(0, (v + sigma^2) I), so
    # the optimal quadratic energy has precision 1 / (v + sigma^2) = 2.0 here;
    # a mis-scaled loss (sigma^2 * score + eps, or score + eps) would not.
    v, sigma = 0.25, 0.5
    x = np.random.default_rng(0).normal(0, v**0.5, size=(8192, 4)).astype("float32")
    dde = DDEModel(IsotropicQuadratic(), sigma=sigma, seed=0)
    dde.compile(optimizer=keras.optimizers.Adam(0.05))
    dde.fit(x, batch_size=1024, epochs=40, verbose=0)
    precision = float(ops.convert_to_numpy(dde.network.precision))
    assert precision == pytest.approx(1 / (v + sigma**2), rel=0.03)


def test_changing_sigma_between_fits_changes_what_is_learned():
    # The compiled train step must read sigma as a variable: after a first
    # fit at sigma 0.5, `dde.sigma = 0.2` has to move the optimum to
    # 1 / (v + 0.04), which a step with sigma baked in would never reach.
    v = 0.25
    x = np.random.default_rng(0).normal(0, v**0.5, size=(8192, 4)).astype("float32")
    dde = DDEModel(IsotropicQuadratic(), sigma=0.5, seed=0)
    dde.compile(optimizer=keras.optimizers.Adam(0.05))
    dde.fit(x, batch_size=1024, epochs=10, verbose=0)
    dde.sigma = 0.2
    assert dde.sigma == 0.2 and dde.get_config()["sigma"] == 0.2
    dde.fit(x, batch_size=1024, epochs=40, verbose=0)
    precision = float(ops.convert_to_numpy(dde.network.precision))
    assert precision == pytest.approx(1 / (v + 0.2**2), rel=0.03)
    with pytest.raises(ValueError, match="sigma"):
        dde.sigma = 0.0


def test_history_and_progress_bar_show_the_real_loss(capsys):
    dde = small_dde()
    dde.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = dde.fit(data(), batch_size=64, epochs=3, verbose=2)
    losses = history.history["loss"]
    assert len(losses) == 3 and all(np.isfinite(losses))
    # At initialisation the loss is about the number of features (2).
    assert all(0.5 < loss < 10 for loss in losses)
    printed = [float(v) for v in re.findall(r"loss: ([0-9.]+)", capsys.readouterr().out)]
    assert len(printed) == 3 and min(printed) > 0.1


def test_evaluate_and_validation_data():
    dde = small_dde()
    dde.compile()
    history = dde.fit(
        data(), batch_size=128, epochs=2, validation_data=data(256, 1), verbose=0
    )
    assert len(history.history["val_loss"]) == 2
    loss = dde.evaluate(data(256, 2), batch_size=128, verbose=0)
    assert np.isfinite(loss) and 0.1 < loss < 10


def test_training_reduces_the_loss():
    dde = small_dde(width=32)
    dde.compile(optimizer=keras.optimizers.Adam(5e-3))
    x = data(2048)
    before = dde.evaluate(x, verbose=0)
    dde.fit(x, batch_size=256, epochs=40, verbose=0)
    after = dde.evaluate(x, verbose=0)
    assert after < before - 0.1


def test_steps_per_execution_does_not_change_training():
    # On JAX, steps_per_execution > 1 fuses steps with lax.scan.
    results = []
    for steps in (1, 5):
        dde = small_dde(seed=7)
        dde.set_weights(small_dde(seed=7).get_weights())
        keras.utils.set_random_seed(1)
        model = small_dde(seed=7)
        model.compile(optimizer=keras.optimizers.Adam(1e-2), steps_per_execution=steps)
        model.fit(data(700), batch_size=64, epochs=2, shuffle=False, verbose=0)
        results.append(weights_of(model))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, atol=2e-5)


def test_zero_sample_weight_removes_samples_from_the_loss():
    x = data(256)
    zero_for_outliers = np.repeat([1.0, 0.0], 256).astype("float32")
    ones = np.ones(512, "float32")

    def train(outlier_value, sample_weight):
        keras.utils.set_random_seed(0)
        dde = small_dde(seed=3)
        dde.compile(optimizer="sgd")
        outliers = np.full((256, 2), outlier_value, "float32")
        dde.fit(np.concatenate([x, outliers]), sample_weight=sample_weight,
                batch_size=512, epochs=2, shuffle=False, verbose=0)
        return weights_of(dde)

    # Same noise stream, so with zero weight the outliers' values cannot matter.
    for a, b in zip(train(5.0, zero_for_outliers), train(-5.0, zero_for_outliers)):
        np.testing.assert_allclose(a, b, atol=1e-7)
    # With unit weights they do (the comparison above is not vacuous).
    differences = [np.abs(a - b).max() for a, b in zip(train(5.0, ones), train(-5.0, ones))]
    assert max(differences) > 1e-4


# --- What a DDE computes ----------------------------------------------------


def test_predict_energy_score_and_denoise_agree():
    dde = small_dde(sigma=0.2)
    x = data(32)
    energies = dde.predict(x, verbose=0)
    assert energies.shape == (32,)
    np.testing.assert_allclose(energies, ops.convert_to_numpy(dde.energy(x)), atol=1e-5)
    score = ops.convert_to_numpy(dde.score(x))
    step = 1e-2
    for axis in range(2):
        shift = np.zeros(2, "float32")
        shift[axis] = step
        finite_difference = (
            ops.convert_to_numpy(dde.energy(x + shift))
            - ops.convert_to_numpy(dde.energy(x - shift))
        ) / (2 * step)
        np.testing.assert_allclose(score[:, axis], finite_difference, atol=2e-3)
    np.testing.assert_allclose(
        ops.convert_to_numpy(dde.denoise(x)), x + 0.04 * score, atol=1e-5
    )


def test_accepts_float64_integer_and_dataset_inputs():
    dde = small_dde()
    dde.compile()
    dde.fit(data().astype("float64"), batch_size=128, epochs=1, verbose=0)
    dde.fit(np.round(data()).astype("int64"), batch_size=128, epochs=1, verbose=0)

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return 4

        def __getitem__(self, index):
            return data(64, index)

    history = dde.fit(Batches(), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_accepts_tf_data():
    tf = pytest.importorskip("tensorflow")
    dde = small_dde()
    dde.compile()
    dataset = tf.data.Dataset.from_tensor_slices(data()).batch(128)
    history = dde.fit(dataset, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_energy_without_declared_input_is_built_from_data():
    energy = keras.Sequential(
        [keras.layers.Dense(8, activation="tanh"), keras_dde.layers.EnergyHead()]
    )
    dde = DDEModel(energy, sigma=0.2)
    dde.compile()
    dde.fit(data(), batch_size=128, epochs=1, verbose=0)
    assert dde.feature_shape == (2,)


# --- Serialization ----------------------------------------------------------


def test_config_round_trip():
    revived = run_serialization_test(small_dde(sigma=0.25, seed=4))
    assert revived.sigma == 0.25 and revived.seed == 4


def test_saving_round_trip_and_resume(tmp_path):
    x = data(512)
    dde = small_dde()
    dde.compile(optimizer=keras.optimizers.Adam(1e-2))
    dde.fit(x, batch_size=128, epochs=2, shuffle=False, verbose=0)
    loaded = run_model_saving_test(dde, x, tmp_path)
    assert loaded.sigma == dde.sigma
    assert loaded.optimizer.iterations.numpy() == dde.optimizer.iterations.numpy()
    # Continuing the loaded model is continuing the original: same optimizer
    # state, same noise stream.
    for model in (dde, loaded):
        model.fit(x, batch_size=128, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(weights_of(dde), weights_of(loaded)):
        np.testing.assert_allclose(a, b, atol=1e-6)


# --- Bad input ----------------------------------------------------------------


def test_non_scalar_energy_is_refused_at_construction():
    inputs = keras.Input((2,))
    ten_units = keras.Model(inputs, keras.layers.Dense(10)(inputs))
    with pytest.raises(ValueError, match="one scalar per sample"):
        DDEModel(ten_units, sigma=0.1)


def test_non_scalar_energy_without_input_is_refused_at_fit():
    dde = DDEModel(keras.Sequential([keras.layers.Dense(10)]), sigma=0.1)
    dde.compile()
    with pytest.raises(ValueError, match="one scalar per sample"):
        dde.fit(data(), epochs=1, verbose=0)


def test_relu_energy_warns():
    with pytest.warns(UserWarning, match="non-smooth"):
        DDEModel(keras_dde.models.energy_mlp(2, activation="relu"), sigma=0.1)


@pytest.mark.parametrize(
    "energy, sigma, error, match",
    [
        ("not a network", 0.1, TypeError, "energy"),
        (None, 0.0, ValueError, "sigma"),
        (None, -0.5, ValueError, "sigma"),
        (None, "0.1", TypeError, "sigma"),
    ],
)
def test_bad_constructor_arguments(energy, sigma, error, match):
    energy = keras_dde.models.energy_mlp(2) if energy is None else energy
    with pytest.raises(error, match=match):
        DDEModel(energy, sigma=sigma)


@pytest.mark.parametrize(
    "x, match",
    [
        (np.array([[0.0, np.nan]] * 4, "float32"), "NaN or Inf"),
        (np.array([[0.0, np.inf]] * 4, "float32"), "NaN or Inf"),
        (np.zeros((0, 2), "float32"), "empty"),
        (np.zeros((8, 3), "float32"), r"expects \(2,\)"),
        (np.zeros(8, "float32"), "reshape"),
        (np.array([["a", "b"]]), "numbers"),
    ],
)
def test_bad_data_is_refused_before_training(x, match):
    dde = small_dde()
    dde.compile()
    before = weights_of(dde)
    with pytest.raises((ValueError, TypeError), match=match):
        dde.fit(x, epochs=1, verbose=0)
    for a, b in zip(before, weights_of(dde)):
        np.testing.assert_array_equal(a, b)
    assert dde.optimizer.iterations.numpy() == 0


@pytest.mark.parametrize(
    "sample_weight, match",
    [(np.ones(50), r"shape \(512,\)"), (-np.ones(512), "non-negative"), (np.zeros(512), "zero")],
)
def test_bad_sample_weight_is_refused_before_training(sample_weight, match):
    dde = small_dde()
    dde.compile()
    with pytest.raises(ValueError, match=match):
        dde.fit(data(512), sample_weight=sample_weight, epochs=1, verbose=0)
    assert dde.optimizer.iterations.numpy() == 0


def test_bad_validation_data_and_compile_arguments():
    dde = small_dde()
    with pytest.raises(ValueError, match="loss"):
        dde.compile(loss="mse")
    with pytest.raises(ValueError, match="metrics"):
        dde.compile(metrics=["mae"])
    dde.compile()
    with pytest.raises(ValueError, match="validation_data"):
        dde.fit(data(), validation_data=np.full((4, 2), np.nan), verbose=0)


# --- One sigma, and inference results without a graph ------------------------


def test_sigma_is_stored_once():
    dde = small_dde(sigma=0.2)
    assert dde.noise_pairing.sigma is None  # No copy that could go stale.
    dde.sigma = 0.35
    assert dde.sigma == 0.35
    with pytest.raises(ValueError, match="sigma"):
        dde.sigma = -1.0
    with pytest.raises(TypeError, match="sigma"):
        dde.sigma = "0.1"
    # A tensor (as a schedule gives inside a train step) is assigned as is.
    dde.sigma = ops.convert_to_tensor(0.25)
    assert dde.sigma == 0.25


def test_network_is_the_energy_network():
    energy = keras_dde.models.energy_mlp(2, width=8, depth=1)
    dde = keras_dde.DDEModel(energy, sigma=0.2)
    assert dde.network is energy
    assert not hasattr(dde, "energy_network")  # One name: `network`.


def test_inference_results_convert_with_np_asarray():
    dde = small_dde(sigma=0.2)
    x = keras_dde.datasets.toy2d("8gaussians", 64, seed=0)
    dde.compile()
    dde.fit(x, batch_size=32, epochs=1, verbose=0)
    outputs = {
        "energy": dde.energy(x),
        "score": dde.score(x),
        "denoise": dde.denoise(x),
        "predict": dde.predict(x, verbose=0),
        "log_prob": dde.log_prob(x),
        "sample": dde.sample(8, n_steps=4, seed=0),
    }
    shapes = {"energy": (64,), "score": (64, 2), "denoise": (64, 2),
              "predict": (64,), "log_prob": (64,), "sample": (8, 2)}
    for name, value in outputs.items():
        array = np.asarray(value)
        assert array.shape == shapes[name], name
        assert np.isfinite(array).all(), name
        assert not getattr(value, "requires_grad", False), name
    np.testing.assert_allclose(
        np.asarray(outputs["denoise"]),
        x + 0.04 * np.asarray(outputs["score"]),
        atol=1e-5,
    )
