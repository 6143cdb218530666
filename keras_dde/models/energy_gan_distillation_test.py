"""`EnergyGAN(objective="distillation")`: the teacher, ODE pairs, checks.

The known answer: a teacher whose energy is the exact smoothed Gaussian
`N(MU, (TAU^2 + sigma^2) I)` (data with those exact moments), so the bank's
ODE samples are `MU + sqrt(TAU^2 + sigma^2) z[:, :2]`, and a linear generator
regressed on them must find that map.
"""

import math

import keras
import numpy as np
import pytest
from keras import ops

import keras_dde
from keras_dde.models import energy_gan_objectives as objectives
from keras_dde.models.energy_gan import EnergyGAN
from keras_dde.models.multi_scale_dde import MultiScaleDDE
from keras_dde.models.mixins.multi_scale_density_test import MU
from keras_dde.models.mixins.multi_scale_density_test import TAU
from keras_dde.models.mixins.multi_scale_density_test import exact_model

SIGMA, SIGMA_MAX = 0.1, 2.0


def msdde(seed=0, sigma_max=SIGMA_MAX, width=16):
    energy = keras_dde.models.conditional_energy_mlp(2, width=width, depth=1)
    return MultiScaleDDE(energy, sigma=SIGMA, sigma_max=sigma_max, seed=seed,
                         gaussian_base=False)


def linear_generator(latent_dim=3, output_dim=2):
    latents = keras.Input((latent_dim,))
    return keras.Model(latents, keras.layers.Dense(output_dim)(latents))


def compiled(gan):
    gan.compile(
        generator_optimizer=keras.optimizers.Adam(1e-3),
        dde_optimizer=keras.optimizers.Adam(1e-3),
    )
    return gan


def fitted_teacher(x, seed=0):
    teacher = msdde(seed)
    teacher.compile(keras.optimizers.Adam(1e-3))
    teacher.fit(x, batch_size=128, epochs=1, verbose=0)
    return teacher


def data(n=256):
    return keras_dde.datasets.toy2d("8gaussians", n, seed=0)


def test_the_default_objective_follows_the_ddes():
    keras.utils.set_random_seed(0)
    gan = EnergyGAN(linear_generator(), msdde(), msdde(1))
    assert gan.objective == "distillation" and not gan.train_real
    assert "regression_loss" in [m.name for m in gan.metrics]
    single = EnergyGAN(
        linear_generator(),
        keras_dde.DDEModel(keras_dde.models.energy_mlp(2, width=8), sigma=0.1),
        keras_dde.DDEModel(keras_dde.models.energy_mlp(2, width=8), sigma=0.1),
    )
    assert single.objective == "kl" and single.train_real
    assert "regression_loss" not in [m.name for m in single.metrics]
    # One latent for two features cannot pair with the ODE's starts.
    assert EnergyGAN(linear_generator(1), msdde(), msdde(1)).objective == "kl"


@pytest.mark.parametrize(
    "build, error, match",
    [
        (lambda: EnergyGAN(linear_generator(), msdde(), msdde(1), objective="w"),
         ValueError, "`objective`"),
        (lambda: EnergyGAN(linear_generator(1), msdde(), msdde(1),
                           objective="distillation"), ValueError, "latent_dim"),
        (lambda: EnergyGAN(linear_generator(), msdde(), msdde(1, sigma_max=3.0)),
         ValueError, "sigma_max"),
        (lambda: EnergyGAN(linear_generator(), msdde(), msdde(1), train_real=True,
                           sigma_schedule=keras_dde.schedules.GeometricSigmaDecay(
                               1.0, 0.1, 0.5, 10)),
         ValueError, "`sigma_schedule` is a setting of `objective='kl'`"),
        (lambda: EnergyGAN(
            linear_generator(), msdde(),
            keras_dde.DDEModel(keras_dde.models.energy_mlp(2, width=8), sigma=SIGMA),
            objective="distillation"), ValueError, "same kind"),
        (lambda: EnergyGAN(linear_generator(), msdde(), msdde(1),
                           regression_weight=-1.0), ValueError, "`regression_weight`"),
        (lambda: EnergyGAN(linear_generator(), msdde(), msdde(1), warmup_steps=-1),
         ValueError, "`warmup_steps`"),
        (lambda: EnergyGAN(linear_generator(), msdde(), msdde(1), n_pairs=0),
         ValueError, "`n_pairs`"),
        (lambda: EnergyGAN(linear_generator(), msdde(), msdde(1), ode_to_zero="half"),
         ValueError, "`ode_to_zero`"),
        (lambda: EnergyGAN(linear_generator(), msdde(), msdde(1),
                           regression_weight=lambda step: 0.1),
         ValueError, "LearningRateSchedule"),
        (lambda: EnergyGAN(linear_generator(), msdde(None), msdde(1, None),
                           objective="kl"), ValueError, "sigma_max"),
    ],
)
def test_bad_settings_are_refused(build, error, match):
    with pytest.raises(error, match=match):
        build()


def test_an_unfitted_teacher_is_refused_before_any_training():
    gan = compiled(EnergyGAN(linear_generator(), msdde(), msdde(1)))
    before = [np.array(w) for w in gan.generator.weights]
    with pytest.raises(ValueError, match="`real_dde` has not been fitted"):
        gan.fit(data(), batch_size=64, epochs=1, verbose=0)
    for old, new in zip(before, gan.generator.weights):
        np.testing.assert_array_equal(old, ops.convert_to_numpy(new))
    assert float(ops.convert_to_numpy(gan.pairs_made)) == 0.0


def test_data_of_another_shape_than_the_generator_is_refused():
    x3 = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    energy = keras_dde.models.conditional_energy_mlp(3, width=8, depth=1)
    teacher = MultiScaleDDE(energy, sigma=SIGMA, sigma_max=SIGMA_MAX,
                            gaussian_base=False)
    teacher.compile(keras.optimizers.Adam(1e-3))
    teacher.fit(x3, batch_size=32, epochs=1, verbose=0)
    fake = MultiScaleDDE(keras_dde.models.conditional_energy_mlp(3, width=8, depth=1),
                         sigma=SIGMA, sigma_max=SIGMA_MAX, gaussian_base=False)
    gan = compiled(EnergyGAN(linear_generator(3, 3), teacher, fake))
    with pytest.raises(ValueError, match="`generator`"):
        gan.fit(data(64), batch_size=32, epochs=1, verbose=0)


@pytest.mark.slow
def test_warmup_regression_finds_the_exact_flow_map():
    # The teacher's ODE maps z to MU + sqrt(TAU^2 + SIGMA^2) z[:, :2] exactly,
    # and its step to sigma = 0 scales that by 1 - SIGMA^2 / 2(TAU^2 +
    # SIGMA^2); the linear generator must learn the map (and ignore its
    # third latent).
    teacher = exact_model(SIGMA, SIGMA_MAX)
    keras.utils.set_random_seed(0)
    gan = compiled(EnergyGAN(
        linear_generator(), teacher, msdde(1), n_pairs=1024, ode_steps=40,
        warmup_steps=4000, seed=0,
    ))
    # `fit`'s first work, without its GAN epochs (whose fake DDE is untrained).
    objectives.prepare_distillation(gan, np.zeros((64, 2), "float32") + MU, 128)
    assert float(ops.convert_to_numpy(gan.pairs_made)) == 1.0
    z = ops.convert_to_numpy(gan.pair_latents)
    variance = TAU**2 + SIGMA**2
    scale = math.sqrt(variance) * (1 - SIGMA**2 / (2 * variance))
    np.testing.assert_allclose(
        ops.convert_to_numpy(gan.pair_samples), MU + scale * z[:, :2], atol=3e-3
    )
    kernel, bias = (ops.convert_to_numpy(w) for w in gan.generator.weights)
    np.testing.assert_allclose(kernel, np.vstack([scale * np.eye(2), [[0, 0]]]),
                               atol=0.01)
    np.testing.assert_allclose(bias, MU, atol=0.01)


@pytest.mark.slow
def test_distillation_trains_the_generator_only_and_survives_saving(tmp_path):
    x = data()
    teacher = fitted_teacher(x)
    teacher_weights = [np.array(w) for w in teacher.network.weights]
    keras.utils.set_random_seed(1)
    generator = keras_dde.models.generator_mlp(3, 2, width=16, depth=1)
    gan = compiled(EnergyGAN(generator, teacher, msdde(1), n_pairs=256,
                             ode_steps=8, warmup_steps=20, seed=2))
    history = gan.fit(x, batch_size=64, epochs=2, verbose=0)
    for name in ("generator_loss", "regression_loss", "fake_dde_loss"):
        assert np.isfinite(history.history[name]).all(), name
    assert "real_dde_loss" not in history.history
    for old, new in zip(teacher_weights, teacher.network.weights):
        np.testing.assert_array_equal(old, ops.convert_to_numpy(new))
    # The bank is the teacher's flow of its latents.
    z = ops.convert_to_numpy(gan.pair_latents)
    np.testing.assert_allclose(
        ops.convert_to_numpy(gan.pair_samples), teacher.flow(z[:, :2], ode_steps=8, to_zero=True),
        atol=1e-4,
    )
    path = tmp_path / "gan.keras"
    gan.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.objective == "distillation" and loaded.warmup_steps == 20
    np.testing.assert_allclose(loaded.generate(16, seed=3), gan.generate(16, seed=3),
                               atol=1e-6)
    np.testing.assert_array_equal(
        ops.convert_to_numpy(loaded.pair_samples), ops.convert_to_numpy(gan.pair_samples)
    )
    # The loaded bank is kept: training resumes without a fitted-teacher check.
    history = loaded.fit(x, batch_size=64, epochs=1, verbose=0)
    assert np.isfinite(history.history["regression_loss"]).all()


def test_train_real_goes_on_fitting_the_teacher_and_keeps_the_bank():
    # The bank is the flow of the teacher as `fit` found it; with
    # `train_real=True` the teacher then trains on the data at every step.
    x = data()
    teacher = fitted_teacher(x)
    teacher_weights = [np.array(w) for w in teacher.network.trainable_weights]
    keras.utils.set_random_seed(1)
    gan = compiled(EnergyGAN(keras_dde.models.generator_mlp(3, 2, width=16, depth=1),
                             teacher, msdde(1), n_pairs=64, ode_steps=4,
                             warmup_steps=0, seed=2, train_real=True))
    assert gan.train_real
    objectives.prepare_distillation(gan, x, 64)
    z = ops.convert_to_numpy(gan.pair_latents)[:, :2]
    bank = teacher.flow(z, ode_steps=4, to_zero=True)
    history = gan.fit(x, batch_size=64, epochs=2, verbose=0)
    assert np.isfinite(history.history["real_dde_loss"]).all()
    assert all(not np.allclose(old, ops.convert_to_numpy(new))
               for old, new in zip(teacher_weights, teacher.network.trainable_weights))
    np.testing.assert_allclose(ops.convert_to_numpy(gan.pair_samples), bank, atol=1e-5)
    assert not np.allclose(teacher.flow(z, ode_steps=4, to_zero=True), bank, atol=1e-4)
    assert EnergyGAN.from_config(gan.get_config()).train_real


def test_config_round_trip_keeps_the_objective():
    keras.utils.set_random_seed(0)
    gan = EnergyGAN(linear_generator(), msdde(), msdde(1), regression_weight=0.5,
                    n_pairs=64, ode_steps=5, teacher_epochs=3, warmup_steps=7)
    clone = EnergyGAN.from_config(gan.get_config())
    for name in ("objective", "regression_weight", "n_pairs", "ode_steps",
                 "teacher_epochs", "warmup_steps", "train_real"):
        assert getattr(clone, name) == getattr(gan, name), name


def test_a_regression_weight_schedule_sets_the_weight_at_each_step(tmp_path):
    # A schedule at 0.7 for the first 100 steps trains exactly as the float
    # 0.7, and unlike the float 0.3: the weight comes from the schedule at
    # each generator step. It survives `.keras` saving.
    x = data(128)
    teacher = fitted_teacher(x)

    def trained(weight):
        keras.utils.set_random_seed(1)
        gan = EnergyGAN(
            keras_dde.models.generator_mlp(3, 2, width=8, depth=1), teacher,
            msdde(1), n_pairs=64, ode_steps=2, warmup_steps=0, seed=2,
            regression_weight=weight,
        )
        # SGD: its step scales with the loss (Adam's first steps do not).
        gan.compile(generator_optimizer=keras.optimizers.SGD(0.1),
                    dde_optimizer=keras.optimizers.Adam(1e-3))
        gan.fit(x, batch_size=64, epochs=1, verbose=0)
        return gan

    schedule = keras.optimizers.schedules.PiecewiseConstantDecay([100], [0.7, 0.0])
    scheduled = trained(schedule)
    weights = [ops.convert_to_numpy(w) for w in scheduled.generator.weights]
    for old, new in zip(weights, trained(0.7).generator.weights):
        np.testing.assert_allclose(old, ops.convert_to_numpy(new), atol=1e-6)
    assert any(not np.allclose(old, ops.convert_to_numpy(new), atol=1e-4)
               for old, new in zip(weights, trained(0.3).generator.weights))
    path = tmp_path / "gan.keras"
    scheduled.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded.regression_weight,
                      keras.optimizers.schedules.PiecewiseConstantDecay)
    assert loaded.regression_weight.get_config() == schedule.get_config()


def test_ode_to_zero_tweedie_makes_the_bank_with_tweedies_step():
    x = data(128)
    teacher = fitted_teacher(x)
    keras.utils.set_random_seed(0)
    gan = compiled(EnergyGAN(linear_generator(), teacher, msdde(1), n_pairs=32,
                             ode_steps=2, warmup_steps=0, ode_to_zero="tweedie"))
    objectives.prepare_distillation(gan, x, 64)
    z = ops.convert_to_numpy(gan.pair_latents)[:, :2]
    bank = ops.convert_to_numpy(gan.pair_samples)
    np.testing.assert_allclose(bank, teacher.flow(z, ode_steps=2, to_zero="tweedie"),
                               atol=1e-4)
    assert not np.allclose(bank, teacher.flow(z, ode_steps=2, to_zero=True), atol=1e-4)
    assert EnergyGAN.from_config(gan.get_config()).ode_to_zero == "tweedie"


def bank_gan(targets):
    """A distillation GAN whose bank holds zero latents and `targets`."""
    teacher = exact_model(SIGMA, SIGMA_MAX)
    gan = compiled(EnergyGAN(linear_generator(), teacher, msdde(1),
                             n_pairs=len(targets), seed=0))
    gan.pair_latents.assign(np.zeros((len(targets), 3), "float32"))
    gan.pair_samples.assign(np.asarray(targets, "float32"))
    return gan


def test_the_regression_is_a_huber_distance_at_the_teachers_sigma():
    # Zero latents: the linear generator outputs its bias, set to 0, so the
    # residuals are the targets; |r| <= SIGMA counts r^2 / 2, above it
    # SIGMA (|r| - SIGMA / 2).
    targets = np.array([[0.05, -0.3], [2.0, 0.0]], "float32")
    gan = bank_gan(targets)
    gan.generator.set_weights([np.zeros((3, 2), "float32"), np.zeros(2, "float32")])
    loss = objectives.regression_loss(gan, ops.convert_to_tensor([0, 1]))
    expected = (0.5 * 0.05**2 + SIGMA * (0.3 - SIGMA / 2)
                + SIGMA * (2.0 - SIGMA / 2)) / 2
    np.testing.assert_allclose(float(ops.convert_to_numpy(loss)), expected, rtol=1e-5)


def test_warmup_fits_the_bulk_of_the_targets_not_their_mean():
    # 80% of the targets at 0 and 20% at 5: the squared loss's minimiser is
    # their mean, 1.0, between the two; the Huber loss's is where 0.8 r =
    # 0.2 SIGMA, r = SIGMA / 4, inside the bulk (its median is 0).
    targets = np.zeros((1000, 2), "float32")
    targets[:200] = 5.0
    gan = bank_gan(targets)
    objectives.regression_warmup(gan, steps=1600, batch_size=250, learning_rate=1e-2)
    bias = ops.convert_to_numpy(gan.generator.weights[1])
    np.testing.assert_allclose(bias, SIGMA / 4, atol=0.03)


# --- Images: the conv networks, 8x8 (Fashion-MNIST's path, kept small) -------

IMAGE_SHAPE = (8, 8, 1)


def image_msdde(seed=0, shape=IMAGE_SHAPE):
    energy = keras_dde.models.conditional_energy_convnet(
        shape, filters=(4,), dense_width=8
    )
    return MultiScaleDDE(energy, sigma=0.5, sigma_max=2.0, seed=seed,
                         gaussian_base=False)


def image_generator(latent_dim=64, shape=IMAGE_SHAPE):
    return keras_dde.models.generator_convnet(
        latent_dim, output_shape=shape, filters=(4,), kernel_size=4
    )


def image_data(n=128, shape=IMAGE_SHAPE):
    return np.random.default_rng(0).uniform(-1, 1, (n, *shape)).astype("float32")


def test_distillation_on_images_makes_an_image_bank_and_trains_the_generator():
    x = image_data()
    keras.utils.set_random_seed(0)
    teacher = image_msdde()
    teacher.compile(keras.optimizers.Adam(1e-3), steps_per_execution=1)
    teacher.fit(x, batch_size=64, epochs=1, verbose=0)
    teacher_weights = [np.array(w) for w in teacher.network.weights]
    # No warm-up (tested above) and one step per call: XLA compiles conv
    # steps slowly, and a scan of several even more so.
    gan = EnergyGAN(image_generator(), teacher, image_msdde(1), n_pairs=32,
                    ode_steps=2, warmup_steps=0, seed=0)
    gan.compile(
        generator_optimizer=keras.optimizers.Adam(1e-3),
        dde_optimizer=keras.optimizers.Adam(1e-3),
        steps_per_execution=1,
    )
    assert gan.objective == "distillation"  # 64 latents for 64 pixels.
    before = [np.array(w) for w in gan.generator.weights]
    history = gan.fit(x, batch_size=32, epochs=1, verbose=0)
    for name in ("generator_loss", "regression_loss", "fake_dde_loss"):
        assert np.isfinite(history.history[name]).all(), name
    # The bank holds images: the teacher's flow of the latents' 64 first
    # entries (here all of them), image-shaped, in the flow's units.
    z = ops.convert_to_numpy(gan.pair_latents)
    bank = ops.convert_to_numpy(gan.pair_samples)
    assert bank.shape == (32, *IMAGE_SHAPE) and np.isfinite(bank).all()
    np.testing.assert_allclose(
        bank, teacher.flow(z, ode_steps=2, to_zero=True), atol=1e-4
    )
    # The generator moved, the frozen teacher did not.
    assert any(not np.allclose(old, ops.convert_to_numpy(new))
               for old, new in zip(before, gan.generator.weights))
    for old, new in zip(teacher_weights, teacher.network.weights):
        np.testing.assert_array_equal(old, ops.convert_to_numpy(new))
    samples = gan.generate(5, seed=1)
    assert samples.shape == (5, *IMAGE_SHAPE) and np.isfinite(samples).all()


def test_image_data_of_another_shape_than_the_generator_is_refused_first():
    teacher = image_msdde()
    teacher.compile(keras.optimizers.Adam(1e-3))
    gan = compiled(EnergyGAN(image_generator(), teacher, image_msdde(1)))
    before = [np.array(w) for w in gan.generator.weights]
    # 16x16 images for an 8x8 generator: refused before the teacher check
    # (it is unfitted) and before any training.
    with pytest.raises(ValueError, match=r"per-sample shape \(16, 16, 1\).*`generator`"):
        gan.fit(image_data(32, (16, 16, 1)), batch_size=32, epochs=1, verbose=0)
    for old, new in zip(before, gan.generator.weights):
        np.testing.assert_array_equal(old, ops.convert_to_numpy(new))
    # A generator of 8x8 images for 16x16 DDEs: refused when built.
    with pytest.raises(ValueError, match="`real_dde` takes inputs of shape"):
        EnergyGAN(image_generator(), image_msdde(0, (16, 16, 1)),
                  image_msdde(1, (16, 16, 1)))
    # Fewer latents than pixels cannot pair with the ODE's starts.
    with pytest.raises(ValueError, match="latent_dim` >= the number of features \\(64\\)"):
        EnergyGAN(image_generator(32), image_msdde(), image_msdde(1),
                  objective="distillation")
