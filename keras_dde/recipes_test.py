import keras
import numpy as np
import pytest

from keras_dde import recipes
from keras_dde.models.dde_model import DDEModel
from keras_dde.models.energy_gan import EnergyGAN
from keras_dde.models.multi_scale_dde import MultiScaleDDE


def _hidden_units(network):
    return [layer.units for layer in network.layers
            if isinstance(layer, keras.layers.Dense)]


def _learning_rate(optimizer):
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


def test_build_dde_uses_the_settings():
    dde = recipes.build_dde(3, sigma=0.25, width=16, depth=2,
                            learning_rate=5e-3, seed=7)
    assert isinstance(dde, DDEModel)
    assert dde.compiled
    assert dde.sigma == 0.25
    assert dde.seed == 7
    assert _hidden_units(dde.network) == [16, 16]
    assert dde.network.input_shape == (None, 3)
    assert isinstance(dde.optimizer, keras.optimizers.Adam)
    assert _learning_rate(dde.optimizer) == pytest.approx(5e-3)


def test_build_dde_defaults_are_the_signatures():
    defaults = recipes.recipe_defaults("dde")
    assert defaults["sigma"] == 0.1
    assert defaults["learning_rate"] == 1e-3
    dde = recipes.build_dde((2,))
    assert dde.sigma == defaults["sigma"]
    assert _hidden_units(dde.network) == [defaults["width"]] * defaults["depth"]
    assert _learning_rate(dde.optimizer) == pytest.approx(defaults["learning_rate"])


def test_build_dde_is_reproducible_and_depends_on_the_seed():
    x = np.linspace(-1, 1, 10, dtype="float32").reshape(5, 2)
    def energy(seed):
        return keras.ops.convert_to_numpy(recipes.build_dde(2, seed=seed).energy(x))

    first, again, other = energy(3), energy(3), energy(4)
    np.testing.assert_array_equal(first, again)
    assert np.max(np.abs(first - other)) > 1e-3


def test_build_dde_trains():
    x = np.random.default_rng(0).normal(size=(256, 2)).astype("float32")
    dde = recipes.build_dde(2, sigma=0.5, width=16, depth=2)
    history = dde.fit(x, epochs=2, batch_size=64, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_build_energy_gan_uses_the_settings_and_distinct_seeds():
    gan = recipes.build_energy_gan(
        2, sigma=0.2, latent_dim=4, width=16, depth=2, generator_width=24,
        generator_depth=1, dde_steps=3, generator_learning_rate=3e-4,
        dde_learning_rate=6e-4, seed=10, objective="kl",
    )
    assert isinstance(gan, EnergyGAN)
    assert gan.dde_steps == 3
    assert gan.latent_dim == 4
    assert gan.real_dde.sigma == gan.fake_dde.sigma == 0.2
    assert (gan.real_dde.seed, gan.fake_dde.seed, gan.seed) == (10, 11, 12)
    assert _hidden_units(gan.real_dde.network) == [16, 16]
    assert _hidden_units(gan.fake_dde.network) == [16, 16]
    assert _hidden_units(gan.generator)[:-1] == [24]
    assert gan.generator.output_shape == (None, 2)
    samples = np.asarray(gan.generate(5, seed=0))
    assert samples.shape == (5, 2)


def test_the_two_ddes_of_a_gan_draw_different_noise():
    gan = recipes.build_energy_gan(2, width=8, depth=1, seed=0)
    zeros = np.zeros((64, 2), "float32")
    # The DDEs' NoisePairing takes the noise level at the call.
    _, real_eps = gan.real_dde.noise_pairing(zeros, sigma=gan.real_dde.sigma)
    _, fake_eps = gan.fake_dde.noise_pairing(zeros, sigma=gan.fake_dde.sigma)
    real_eps = keras.ops.convert_to_numpy(real_eps)
    fake_eps = keras.ops.convert_to_numpy(fake_eps)
    # Independent standard normals: far apart, not equal.
    assert np.mean((real_eps - fake_eps) ** 2) > 0.5


def test_build_energy_gan_defaults_are_the_cli_settings():
    defaults = recipes.recipe_defaults("gan")
    # None: `GAN_DEFAULTS`, by the data's kind (vectors or images).
    assert defaults == {
        "sigma": None, "latent_dim": None, "width": None, "depth": 3,
        "generator_width": None, "generator_depth": None, "dde_steps": None,
        "generator_learning_rate": None, "dde_learning_rate": None, "seed": 0,
        "sigma_schedule": None, "steps_per_execution": None, "energy_network": None,
        "multiscale": False, "sigma_max": None, "generator_decay_steps": None,
        "target_fraction": None, "objective": None, "regression_weight": None,
        "teacher_epochs": None, "teacher_decay_steps": None,
    }
    gan = recipes.build_model("gan", 2, width=8, depth=1)
    assert gan.real_dde.sigma == 0.3 and gan.dde_steps == 2
    assert gan.teacher_epochs == 300
    optimizers = gan.optimizer.optimizers
    assert _learning_rate(optimizers["generator"]) == pytest.approx(1e-3)
    assert float(keras.ops.convert_to_numpy(optimizers["generator"].beta_1)) == 0.5
    assert _learning_rate(optimizers["dde"]) == pytest.approx(2e-3)


def test_multiscale_energy_gan_recipe():
    gan = recipes.build_energy_gan(2, sigma=0.1, multiscale=True, sigma_max=2.0,
                                   width=8, depth=1, generator_decay_steps=100)
    assert gan.target_fraction == 0.5  # EnergyGAN's default.
    assert recipes.build_energy_gan(2, multiscale=True, sigma_max=2.0, width=8, depth=1,
                                    target_fraction=0.1).target_fraction == 0.1
    for dde in (gan.real_dde, gan.fake_dde):
        assert isinstance(dde, MultiScaleDDE)
        assert dde.noise_range == (0.1, 2.0) and not dde.gaussian_base
    generator_optimizer = gan.optimizer.optimizers["generator"]
    assert _learning_rate(generator_optimizer) == pytest.approx(1e-3)
    x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    history = gan.fit(x, epochs=1, batch_size=32, verbose=0)
    assert np.isfinite(history.history["generator_loss"]).all()
    generator_optimizer.iterations.assign(100)  # The end of the cosine.
    assert _learning_rate(generator_optimizer) == pytest.approx(
        1e-3 * recipes.GENERATOR_DECAY_ALPHA
    )


def test_the_default_gan_distils_a_multiscale_teacher():
    gan = recipes.build_energy_gan(2, sigma=0.1, sigma_max=2.0, seed=3)
    assert gan.objective == "distillation" and not gan.train_real
    for dde in (gan.real_dde, gan.fake_dde):
        assert isinstance(dde, MultiScaleDDE) and dde.gaussian_base
        assert dde.noise_range == (0.1, 2.0)
    assert _hidden_units(gan.generator)[:-1] == [256] * 4
    assert gan.teacher_epochs == 300
    assert (gan.real_dde.seed, gan.fake_dde.seed, gan.seed) == (3, 4, 5)
    # The teacher is `build_multiscale_dde`'s model: its Adam 4e-3 and cosine.
    assert _learning_rate(gan.real_dde.optimizer) == pytest.approx(4e-3)
    # The seed's settings keep the seed's GAN.
    assert recipes.build_energy_gan(2, multiscale=True, sigma_max=2.0, width=8,
                                    depth=1).objective == "kl"


def _kernel_sizes(network, layer_type):
    return [layer.kernel_size for layer in network.layers
            if type(layer) is layer_type]


def test_images_default_to_the_distilled_gan_of_the_image_benchmark():
    gan = recipes.build_energy_gan((8, 8, 1), width=16, depth=1, seed=2)
    images = recipes.GAN_DEFAULTS["images"]
    assert gan.objective == "distillation" and gan.train_real
    assert (gan.n_pairs, gan.ode_to_zero, gan.warmup_steps) == (2048, "tweedie", 500)
    assert gan.teacher_epochs == images["teacher_epochs"] == 2
    assert gan.latent_dim == 64  # One latent per pixel.
    assert gan.dde_steps == 1 and gan.target_fraction == 0.05
    for dde in (gan.real_dde, gan.fake_dde):
        assert isinstance(dde, MultiScaleDDE) and not dde.gaussian_base
        assert dde.noise_range == (0.5, 2.0)
        assert dde.network.input_shape[0] == (None, 8, 8, 1)
    # The generator: two 4x4 upsamplings (no checkerboard of overlaps), ReLU.
    assert _kernel_sizes(gan.generator, keras.layers.Conv2DTranspose) == [(4, 4)] * 2
    assert {layer.activation.__name__ for layer in gan.generator.layers
            if type(layer) is keras.layers.Conv2DTranspose} == {"relu"}
    # The teacher's Adam at a constant 1e-3; the generator's and DDEs' Adams.
    assert _learning_rate(gan.real_dde.optimizer) == pytest.approx(1e-3)
    gan.real_dde.optimizer.iterations.assign(10_000)
    assert _learning_rate(gan.real_dde.optimizer) == pytest.approx(1e-3)
    optimizers = gan.optimizer.optimizers
    assert _learning_rate(optimizers["generator"]) == pytest.approx(2e-4)
    assert _learning_rate(optimizers["dde"]) == pytest.approx(1e-3)
    # The regression weight: a cosine from 0.1 to 0 over 1,000 generator steps.
    weight = gan.regression_weight
    assert float(weight(0)) == pytest.approx(0.1)
    assert float(weight(500)) == pytest.approx(0.05)
    assert float(weight(1000)) == pytest.approx(0.0)
    # `objective="kl"` keeps the seed's GAN on images: one sigma, 32 latents.
    kl = recipes.build_energy_gan((8, 8, 1), width=16, depth=1, generator_width=16,
                                  objective="kl")
    assert isinstance(kl.real_dde, DDEModel) and kl.real_dde.sigma == 0.5
    assert kl.latent_dim == 32 and kl.objective == "kl"
    multiscale = recipes.build_energy_gan((8, 8, 1), width=16, depth=1,
                                          multiscale=True, generator_width=16)
    assert multiscale.real_dde.noise_range == (0.5, 2.0)
    assert multiscale.target_fraction == 0.05


@pytest.mark.slow
def test_the_default_gan_fits_its_teacher_first():
    x = np.random.default_rng(0).normal(size=(128, 2)).astype("float32")
    gan = recipes.build_energy_gan(2, sigma=0.2, width=8, depth=1, generator_width=8,
                                   generator_depth=1, teacher_epochs=2,
                                   teacher_decay_steps=4)
    gan.warmup_steps = 4
    history = gan.fit(x, batch_size=64, epochs=1, verbose=0)
    assert int(gan.real_dde.optimizer.iterations) == 4
    assert gan.fake_dde.sigma_max == gan.real_dde.sigma_max > 0.2  # From the data.
    assert np.isfinite(history.history["regression_loss"]).all()


def test_energy_network_factory_is_used():
    calls = []

    def factory(input_dim, width, depth):
        calls.append((input_dim, width, depth))
        return keras_energy(input_dim)

    def keras_energy(input_dim):
        from keras_dde.models.energy_mlp import energy_mlp
        return energy_mlp(input_dim, width=4, depth=1, activation="tanh")

    recipes.build_dde(2, width=32, depth=2, energy_network=factory)
    recipes.build_energy_gan(2, width=32, depth=2, energy_network=factory)
    assert calls == [(2, 32, 2)] * 3


def test_build_model_dispatches():
    assert isinstance(recipes.build_model("dde", 2, width=8, depth=1), DDEModel)
    assert isinstance(recipes.build_model("gan", 2, width=8, depth=1), EnergyGAN)
    multiscale = recipes.build_model("multiscale", 2, width=8, depth=1)
    assert isinstance(multiscale, MultiScaleDDE)


def test_build_multiscale_dde_uses_the_settings_and_decays():
    dde = recipes.build_multiscale_dde(
        3, sigma=0.05, sigma_max=1.5, width=16, depth=2, learning_rate=2e-3,
        decay_steps=100, seed=5,
    )
    assert isinstance(dde, MultiScaleDDE) and dde.compiled
    assert dde.sigma == 0.05 and dde.seed == 5
    assert float(keras.ops.convert_to_numpy(dde.sigma_max_variable)) == 1.5
    assert _hidden_units(dde.network) == [16, 16]
    assert isinstance(dde.optimizer, keras.optimizers.Adam)
    schedule = dde.optimizer._learning_rate
    assert isinstance(schedule, keras.optimizers.schedules.CosineDecay)
    assert float(keras.ops.convert_to_numpy(schedule(0))) == pytest.approx(2e-3)
    assert float(keras.ops.convert_to_numpy(schedule(50))) == pytest.approx(1e-3)
    assert float(keras.ops.convert_to_numpy(schedule(100))) == pytest.approx(0.0)


def test_build_multiscale_dde_defaults_are_the_measured_recipe():
    defaults = recipes.recipe_defaults("multiscale")
    assert defaults == {
        "sigma": 0.1, "sigma_max": None, "width": 128, "depth": 3,
        "learning_rate": 4e-3, "decay_steps": None, "seed": 0,
        "steps_per_execution": None, "gaussian_base": True,
    }
    dde = recipes.build_multiscale_dde(2)
    assert _hidden_units(dde.network) == [128, 128, 128]
    # Without decay_steps, a constant learning rate.
    assert _learning_rate(dde.optimizer) == pytest.approx(4e-3)


def test_build_multiscale_dde_trains_one_step_and_depends_on_the_seed():
    x = np.random.default_rng(1).normal(size=(64, 2)).astype("float32")
    dde = recipes.build_multiscale_dde(2, sigma=0.2, width=16, depth=2,
                                       decay_steps=4, steps_per_execution=1)
    history = dde.fit(x, epochs=1, batch_size=64, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert int(keras.ops.convert_to_numpy(dde.optimizer.iterations)) == 1
    # sigma_max was set from the data's scale at fit.
    sigma_max = float(keras.ops.convert_to_numpy(dde.sigma_max_variable))
    assert 0.5 < sigma_max < 2.0

    probe = np.linspace(-1, 1, 10, dtype="float32").reshape(5, 2)
    def energy(seed):
        model = recipes.build_multiscale_dde(2, sigma_max=2.0, width=8, depth=1,
                                             seed=seed)
        return keras.ops.convert_to_numpy(model.energy(probe))

    first, again, other = energy(3), energy(3), energy(4)
    np.testing.assert_array_equal(first, again)
    assert np.max(np.abs(first - other)) > 1e-3


def _conv_layers(network):
    return [layer.filters for layer in network.layers
            if isinstance(layer, keras.layers.Conv2D)]


def test_image_shapes_get_convnets_and_train_one_step():
    images = np.random.default_rng(2).uniform(-1, 1, (16, 8, 8, 1)).astype("float32")
    dde = recipes.build_dde((8, 8, 1), sigma=0.3, width=16, depth=2)
    assert dde.network.input_shape == (None, 8, 8, 1)
    assert _conv_layers(dde.network) == [32, 64]
    assert _hidden_units(dde.network) == [16]
    if keras.backend.backend() == "jax":
        assert dde.steps_per_execution == 1
    history = dde.fit(images, epochs=1, batch_size=16, verbose=0)
    assert np.isfinite(history.history["loss"]).all()

    gan = recipes.build_energy_gan((8, 8, 1), sigma=0.3, latent_dim=4, width=16,
                                   depth=1, generator_width=16, seed=1, objective="kl")
    assert gan.generator.output_shape == (None, 8, 8, 1)
    assert _conv_layers(gan.real_dde.network) == [32]
    assert (gan.real_dde.seed, gan.fake_dde.seed, gan.seed) == (1, 2, 3)
    upsampling = [layer.filters for layer in gan.generator.layers
                  if isinstance(layer, keras.layers.Conv2DTranspose)]
    assert upsampling == [8, 4]
    history = gan.fit(images, epochs=1, batch_size=16, verbose=0)
    assert np.isfinite(history.history["generator_loss"]).all()
    samples = np.asarray(gan.generate(3, seed=0))
    assert samples.shape == (3, 8, 8, 1) and np.abs(samples).max() <= 1.0


def test_image_shapes_get_a_conditional_convnet_for_the_multiscale_dde():
    images = np.tanh(np.random.default_rng(0).standard_normal((32, 8, 8, 1)))
    dde = recipes.build_multiscale_dde((8, 8, 1), sigma=0.2, sigma_max=1.0, depth=1,
                                       width=8)
    assert dde.network.name == "conditional_energy_convnet"
    history = dde.fit(images.astype("float32"), epochs=1, batch_size=16, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: recipes.build_model("vae", 2), ValueError, "`kind`"),
        (lambda: recipes.build_model("dde", 2, latent_dim=4), TypeError, "latent_dim"),
        (lambda: recipes.build_dde((28, 28)), ValueError, "`feature_shape`"),
        (lambda: recipes.build_dde((28, 28, 1, 1)), ValueError, "`feature_shape`"),
        (lambda: recipes.build_multiscale_dde((28, 28)), ValueError, "`feature_shape`"),
        (lambda: recipes.build_multiscale_dde(2, decay_steps=0), ValueError,
         "`decay_steps`"),
        (lambda: recipes.build_multiscale_dde(2, sigma_max=-1.0), ValueError,
         "`sigma_max`"),
        (lambda: recipes.build_model("multiscale", 2, dde_steps=2), TypeError,
         "dde_steps"),
        (lambda: recipes.build_dde(0), ValueError, "`feature_shape`"),
        (lambda: recipes.build_dde(2, sigma=-1.0), ValueError, "`sigma`"),
        (lambda: recipes.build_dde(2, learning_rate=0.0), ValueError, "`learning_rate`"),
        (lambda: recipes.build_dde(2, seed=-1), ValueError, "`seed`"),
        (lambda: recipes.build_dde(2, energy_network="mlp"), TypeError, "`energy_network`"),
        (lambda: recipes.build_energy_gan(2, dde_steps=0), ValueError, "`dde_steps`"),
        (lambda: recipes.build_energy_gan(2, multiscale=True), ValueError, "`sigma_max=`"),
        (lambda: recipes.build_energy_gan(2, sigma_max=2.0, objective="kl"), ValueError,
         "`sigma_max`"),
        (lambda: recipes.build_energy_gan(2, multiscale="yes"), TypeError, "`multiscale`"),
        (lambda: recipes.build_energy_gan(2, target_fraction=0.1, objective="kl"),
         ValueError, "`target_fraction`.*`multiscale=True`"),
        (lambda: recipes.build_energy_gan(2, objective="wasserstein"), ValueError,
         "`objective`"),
        (lambda: recipes.build_energy_gan(2, objective="distillation", multiscale=True,
                                          sigma_max=2.0), ValueError, "`multiscale`"),
        (lambda: recipes.build_energy_gan(2, objective="kl", regression_weight=1.0),
         ValueError, "`regression_weight`"),
        (lambda: recipes.build_energy_gan(2, objective="kl", teacher_epochs=5),
         ValueError, "`teacher_epochs`.*distillation"),
        (lambda: recipes.build_energy_gan(2, teacher_epochs=-1), ValueError,
         "`teacher_epochs`"),
        (lambda: recipes.build_energy_gan(2, multiscale=True, sigma_max=2.0,
                                          target_fraction=1.0), ValueError,
         "`target_fraction`"),
        (lambda: recipes.build_energy_gan(2, generator_decay_steps=0), ValueError,
         "`generator_decay_steps`"),
        (lambda: recipes.build_energy_gan(2, dde_learning_rate="fast"), TypeError,
         "`dde_learning_rate`"),
    ],
)
def test_bad_settings_name_the_argument(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_recipes_import_only_the_core():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(recipes))
    modules = [node.module for node in ast.walk(tree)
               if isinstance(node, ast.ImportFrom)]
    modules += [alias.name for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names]
    for module in modules:
        assert not module.startswith(
            ("keras_dde.callbacks", "keras_dde.plotting", "keras_dde.widgets",
             "keras_dde.cli", "matplotlib", "ipywidgets")
        ), module
