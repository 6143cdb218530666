import keras
import numpy as np
import pytest

import keras_dde
from keras_dde.models.energy_gan import EnergyGAN
from keras_dde.testing import run_serialization_test


def dde(sigma=0.3, width=32):
    return keras_dde.DDEModel(keras_dde.models.energy_mlp(2, width=width), sigma=sigma)


def gan(seed=0, **kwargs):
    keras.utils.set_random_seed(seed)
    generator = keras_dde.models.generator_mlp(4, 2, width=32, depth=2)
    return EnergyGAN(generator, dde(), dde(), seed=seed, **kwargs)


def data(n=1024, seed=0):
    return keras_dde.datasets.toy2d("8gaussians", n, seed=seed)


def weights(model):
    return [np.array(w) for w in model.trainable_weights]


def changed(before, model):
    return any(not np.array_equal(a, b) for a, b in zip(before, weights(model)))


def test_metrics_in_history_and_progress_bar(capsys):
    model = gan()
    model.compile(
        generator_optimizer=keras.optimizers.Adam(1e-3),
        dde_optimizer=keras.optimizers.Adam(1e-3),
    )
    history = model.fit(data(), batch_size=256, epochs=2, verbose=2)
    for name in ("generator_loss", "real_dde_loss", "fake_dde_loss"):
        assert len(history.history[name]) == 2
        assert np.isfinite(history.history[name]).all()
    assert 0.5 < history.history["real_dde_loss"][-1] < 5
    printed = capsys.readouterr().out
    assert "generator_loss:" in printed and "fake_dde_loss:" in printed


@pytest.mark.parametrize("frozen", ["generator", "dde"])
def test_each_optimizer_updates_only_its_own_models(frozen):
    model = gan()
    still = keras.optimizers.SGD(0.0)
    moving = keras.optimizers.Adam(1e-2)
    model.compile(
        generator_optimizer=still if frozen == "generator" else moving,
        dde_optimizer=still if frozen == "dde" else moving,
    )
    before = {name: weights(getattr(model, name)) for name in ("generator", "real_dde", "fake_dde")}
    model.fit(data(512), batch_size=256, epochs=1, verbose=0)
    for name, values in before.items():
        frozen_here = (name == "generator") == (frozen == "generator")
        assert changed(values, getattr(model, name)) != frozen_here, name


def test_frozen_real_dde_is_not_trained():
    model = gan(train_real=False)
    model.compile(
        generator_optimizer=keras.optimizers.Adam(1e-2),
        dde_optimizer=keras.optimizers.Adam(1e-2),
    )
    before = weights(model.real_dde)
    history = model.fit(data(512), batch_size=256, epochs=1, verbose=0)
    assert not changed(before, model.real_dde)
    assert "real_dde_loss" not in history.history


def test_generator_moves_to_the_data():
    # Data at (3, 3); the generator starts near the origin. The KL gradient
    # must pull its samples over (a sign error would push them away).
    rng = np.random.default_rng(0)
    x = (np.array([3.0, 3.0]) + 0.5 * rng.standard_normal((2048, 2))).astype("float32")
    keras.utils.set_random_seed(0)
    model = EnergyGAN(
        keras_dde.models.generator_mlp(2, 2, width=32, depth=2),
        keras_dde.DDEModel(keras_dde.models.energy_mlp(2, width=32), sigma=0.5),
        keras_dde.DDEModel(keras_dde.models.energy_mlp(2, width=32), sigma=0.5),
        dde_steps=2,
        seed=0,
    )
    start = model.generate(1000, seed=1).mean(axis=0)
    assert np.linalg.norm(start - 3.0) > 2.5
    model.compile(
        generator_optimizer=keras.optimizers.Adam(3e-3),
        dde_optimizer=keras.optimizers.Adam(3e-3),
    )
    model.fit(x, batch_size=256, epochs=60, verbose=0)
    samples = model.generate(2000, seed=1)
    assert np.abs(samples.mean(axis=0) - 3.0).max() < 0.3
    assert 0.15 < samples.std(axis=0).min() and samples.std(axis=0).max() < 1.0


def test_generate_is_seeded():
    model = gan()
    np.testing.assert_array_equal(model.generate(5, seed=3), model.generate(5, seed=3))
    assert model.generate(7).shape == (7, 2)
    with pytest.raises(ValueError, match="`n`"):
        model.generate(0)


def test_config_round_trip():
    revived = run_serialization_test(gan(dde_steps=3, train_real=False))
    assert revived.dde_steps == 3 and revived.train_real is False


def test_saving_round_trip_and_exact_resume(tmp_path):
    x = data(512)
    model = gan()
    model.compile(
        generator_optimizer=keras.optimizers.Adam(1e-3),
        dde_optimizer=keras.optimizers.Adam(2e-3),
    )
    model.fit(x, batch_size=128, epochs=1, shuffle=False, verbose=0)
    path = tmp_path / "gan.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.generate(64, seed=0), model.generate(64, seed=0), atol=1e-6)
    assert float(loaded.generator_optimizer.learning_rate) == pytest.approx(1e-3)
    assert float(loaded.dde_optimizer.learning_rate) == pytest.approx(2e-3)
    for m in (model, loaded):
        m.fit(x, batch_size=128, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(weights(model), weights(loaded)):
        np.testing.assert_allclose(a, b, atol=1e-6)
    # Each sub-model saves on its own, too.
    for name in ("generator", "real_dde", "fake_dde"):
        part = getattr(model, name)
        part.save(tmp_path / f"{name}.keras")
        reloaded = keras.models.load_model(tmp_path / f"{name}.keras")
        probe = x[:16] if name != "generator" else np.ones((16, 4), "float32")
        np.testing.assert_allclose(reloaded.predict(probe, verbose=0), part.predict(probe, verbose=0), atol=1e-6)


def test_bad_arguments():
    generator = keras_dde.models.generator_mlp(4, 3)
    with pytest.raises(ValueError, match=r"samples of shape \(3,\)"):
        EnergyGAN(generator, dde(), dde())
    generator = keras_dde.models.generator_mlp(4, 2)
    with pytest.raises(ValueError, match="sigma"):
        EnergyGAN(generator, dde(0.3), dde(0.2))
    EnergyGAN(generator, dde(0.3), dde(0.2), allow_different_sigma=True)
    with pytest.raises(ValueError, match="dde_steps"):
        EnergyGAN(generator, dde(), dde(), dde_steps=0)
    with pytest.raises(TypeError, match="real_dde"):
        EnergyGAN(generator, keras_dde.models.energy_mlp(2), dde())
    model = EnergyGAN(generator, dde(), dde())
    with pytest.raises(ValueError, match="dde_optimizer"):
        model.compile(generator_optimizer="adam")
    with pytest.raises(ValueError, match="generator_optimizer"):
        model.compile(dde_optimizer="adam")
    model.compile(generator_optimizer="adam", dde_optimizer="adam")
    with pytest.raises(ValueError, match="NaN"):
        model.fit(np.full((8, 2), np.nan, "float32"), verbose=0)


def test_sigma_schedule_anneals_both_ddes_and_survives_saving(tmp_path):
    schedule = keras_dde.schedules.GeometricSigmaDecay(
        initial_sigma=1.0, floor_sigma=0.05, decay_rate=0.5, decay_steps=4
    )
    model = gan(sigma_schedule=schedule)
    model.compile(generator_optimizer="adam", dde_optimizer="adam")
    model.fit(data(1024), batch_size=128, epochs=1, verbose=0)
    # 8 steps; the last one ran at step index 7.
    expected = 0.5 ** (7 / 4)
    assert model.real_dde.sigma == pytest.approx(expected, rel=1e-5)
    assert model.fake_dde.sigma == pytest.approx(expected, rel=1e-5)
    model.fit(data(1024), batch_size=128, epochs=4, verbose=0)
    assert model.sigma == pytest.approx(0.05, rel=1e-5)  # At the floor.
    model.save(tmp_path / "gan.keras")
    loaded = keras.models.load_model(tmp_path / "gan.keras")
    assert loaded.sigma_schedule.get_config() == schedule.get_config()
    assert loaded.real_dde.sigma == pytest.approx(0.05, rel=1e-5)


def test_sigma_schedule_bad_arguments():
    schedule = keras_dde.schedules.GeometricSigmaDecay(1.0, 0.1, 0.5, 10)
    generator = keras_dde.models.generator_mlp(4, 2)
    with pytest.raises(ValueError, match="train_real=True"):
        EnergyGAN(generator, dde(), dde(), train_real=False, sigma_schedule=schedule)
    with pytest.raises(ValueError, match="allow_different_sigma"):
        EnergyGAN(
            generator, dde(), dde(), allow_different_sigma=True, sigma_schedule=schedule
        )
    with pytest.raises(TypeError, match="sigma_schedule"):
        EnergyGAN(generator, dde(), dde(), sigma_schedule=0.1)


def test_validation_data_reports_all_three_losses():
    model = gan()
    model.compile(generator_optimizer="adam", dde_optimizer="adam")
    history = model.fit(
        data(512), batch_size=256, epochs=2, verbose=0,
        validation_data=data(256, seed=1),
    )
    for name in ("val_generator_loss", "val_real_dde_loss", "val_fake_dde_loss"):
        assert len(history.history[name]) == 2 and np.isfinite(history.history[name]).all()
    # Held-out DDE loss on real data is a denoising loss: about 2 features.
    assert 0.3 < history.history["val_real_dde_loss"][-1] < 5
    evaluated = model.evaluate(data(256, seed=2), batch_size=256, verbose=0, return_dict=True)
    assert set(evaluated) >= {"generator_loss", "real_dde_loss", "fake_dde_loss"}


# --- Drift fixes: one behaviour with DDEModel -------------------------------


def test_zero_sample_weight_removes_samples_from_the_real_dde():
    x = data(256)
    zero_for_outliers = np.repeat([1.0, 0.0], 256).astype("float32")
    ones = np.ones(512, "float32")

    def train(outlier_value, sample_weight):
        model = gan(seed=0)
        model.compile(
            generator_optimizer=keras.optimizers.SGD(1e-2),
            dde_optimizer=keras.optimizers.SGD(1e-2),
        )
        outliers = np.full((256, 2), outlier_value, "float32")
        model.fit(np.concatenate([x, outliers]), sample_weight=sample_weight,
                  batch_size=512, epochs=2, shuffle=False, verbose=0)
        mean = keras.ops.convert_to_numpy(model.real_dde.data_mean)
        return weights(model.real_dde), mean

    (a_weights, a_mean), (b_weights, b_mean) = (
        train(5.0, zero_for_outliers), train(-5.0, zero_for_outliers)
    )
    # Same noise stream: with zero weight the outliers' values cannot matter,
    # neither to the real DDE's training nor to its data statistics.
    for a, b in zip(a_weights, b_weights):
        np.testing.assert_allclose(a, b, atol=1e-7)
    np.testing.assert_allclose(a_mean, x.mean(0), atol=1e-5)
    np.testing.assert_allclose(b_mean, x.mean(0), atol=1e-5)
    # With unit weights they do (the comparison above is not vacuous).
    (a_weights, _), (b_weights, _) = train(5.0, ones), train(-5.0, ones)
    assert max(np.abs(a - b).max() for a, b in zip(a_weights, b_weights)) > 1e-4


def test_bad_sample_weight_is_refused_before_training():
    model = gan()
    model.compile(generator_optimizer="adam", dde_optimizer="adam")
    with pytest.raises(ValueError, match="sample_weight"):
        model.fit(data(64), sample_weight=np.ones(3, "float32"), verbose=0)


def test_data_statistics_exclude_the_validation_split_tail():
    head = data(300, seed=0)
    tail = data(100, seed=1) + 50.0
    model = gan()
    model.compile(generator_optimizer="adam", dde_optimizer="adam")
    model.fit(np.concatenate([head, tail]), validation_split=0.25,
              batch_size=100, epochs=1, verbose=0)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model.real_dde.data_mean), head.mean(0), atol=1e-5
    )
    assert float(keras.ops.convert_to_numpy(model.real_dde.data_count)) == 300


def test_noise_goes_through_noise_pairing_on_the_latents_stream():
    model = gan(seed=5)
    assert isinstance(model.noise_pairing, keras_dde.layers.NoisePairing)
    assert model.seed_generator is model.noise_pairing.seed_generator
    # One stream, saved once: no duplicated variable in the model's state.
    ids = [id(v) for v in model.non_trainable_variables]
    assert len(ids) == len(set(ids))


def test_sigma_schedule_goes_through_the_validated_setter():
    schedule = keras.optimizers.schedules.PolynomialDecay(0.3, 10, -0.1)
    model = gan(sigma_schedule=schedule)
    model.compile(generator_optimizer="adam", dde_optimizer="adam")
    model.fit(data(64), batch_size=32, epochs=1, verbose=0)  # sigma 0.3 -> 0.22
    assert model.real_dde.sigma == model.fake_dde.sigma
    assert 0.2 < model.real_dde.sigma < 0.3
    model.generator_optimizer.iterations.assign(10)  # schedule: -0.1
    with pytest.raises(ValueError, match="sigma_schedule"):
        model.fit(data(64), batch_size=32, epochs=1, verbose=0)
