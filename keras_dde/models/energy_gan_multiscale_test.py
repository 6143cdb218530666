"""`EnergyGAN` on two `MultiScaleDDE`s: the generator loss over noise levels."""

import math

import keras
import numpy as np
import pytest
from keras import ops

import keras_dde
from keras_dde.layers.noise_pairing import NoisePairing
from keras_dde.models.energy_gan import EnergyGAN
from keras_dde.models.multi_scale_dde import MultiScaleDDE


def msdde(sigma=0.1, sigma_max=2.0, gaussian_base=True):
    energy = keras_dde.models.conditional_energy_mlp(2, width=32, depth=2)
    return MultiScaleDDE(
        energy, sigma=sigma, sigma_max=sigma_max, seed=0, gaussian_base=gaussian_base
    )


def gan(seed=0, real=None, fake=None):
    keras.utils.set_random_seed(seed)
    generator = keras_dde.models.generator_mlp(4, 2, width=32, depth=2)
    # The seed's objective: "distillation" (the default for two
    # MultiScaleDDEs) has its own tests, in energy_gan_distillation_test.py.
    return EnergyGAN(
        generator, real or msdde(), fake or msdde(), seed=seed, objective="kl"
    )


def compiled(model):
    model.compile(
        generator_optimizer=keras.optimizers.Adam(1e-3),
        dde_optimizer=keras.optimizers.Adam(2e-3),
    )
    return model


def weights(model):
    return [np.array(w) for w in model.trainable_weights]


def test_noise_levels_of_the_generator_loss_are_log_uniform():
    # For samples at 0, log|x~| = log sigma_i + log|eps_i|, and in 2-D
    # E log|eps| = (log 2 - euler_gamma) / 2; E log sigma_i is the midpoint of
    # [log 0.1, log 2] for log-uniform levels (-2.25 if all were at sigma).
    dde = msdde(sigma=0.1, sigma_max=2.0)
    noise = NoisePairing(seed=0)
    noisy, energy = dde.smoothed_samples(ops.zeros((20000, 2)), noise)
    log_norm = np.log(np.linalg.norm(ops.convert_to_numpy(noisy), axis=1))
    expected = 0.5 * (math.log(0.1) + math.log(2.0)) + 0.5 * (math.log(2) - 0.5772157)
    assert abs(log_norm.mean() - expected) < 0.03, log_norm.mean()
    assert ops.convert_to_numpy(energy(dde)).shape == (20000,)


def test_generator_loss_puts_target_fraction_of_levels_at_sigma():
    # The same statistic on the GAN's hook: with a share f of the levels at
    # sigma, E log sigma_i = f log 0.1 + (1 - f) (log 0.1 + log 2) / 2.
    # Fraction 0 (all log-uniform) spread the 25gaussians samples between
    # the modes; 0.5 (default) keeps them sharp.
    log_mid = 0.5 * (math.log(0.1) + math.log(2.0))
    eps_term = 0.5 * (math.log(2) - 0.5772157)
    for fraction in (0.0, 0.5):
        model = EnergyGAN(
            keras_dde.models.generator_mlp(4, 2, width=32, depth=2),
            msdde(), msdde(), seed=0, target_fraction=fraction,
        )
        noisy, energy = model.fake_dde.smoothed_samples(
            ops.zeros((20000, 2)), model.noise_pairing, model.target_fraction
        )
        log_norm = np.log(np.linalg.norm(ops.convert_to_numpy(noisy), axis=1))
        expected = fraction * math.log(0.1) + (1 - fraction) * log_mid + eps_term
        assert abs(log_norm.mean() - expected) < 0.03, (fraction, log_norm.mean())
        assert ops.convert_to_numpy(energy(model.real_dde)).shape == (20000,)
    assert EnergyGAN.from_config(model.get_config()).target_fraction == 0.5


@pytest.mark.parametrize("fraction", [1.0, -0.1, "half", True])
def test_bad_target_fraction_is_refused(fraction):
    with pytest.raises(ValueError, match="target_fraction"):
        EnergyGAN(
            keras_dde.models.generator_mlp(4, 2, width=32, depth=2),
            msdde(), msdde(), target_fraction=fraction,
        )


def test_two_multiscale_ddes_train_and_resume_after_saving(tmp_path):
    x = keras_dde.datasets.toy2d("8gaussians", 512, seed=0)
    model = compiled(gan())
    history = model.fit(x, batch_size=128, epochs=2, shuffle=False, verbose=0)
    for name in ("generator_loss", "real_dde_loss", "fake_dde_loss"):
        assert np.isfinite(history.history[name]).all(), name
    # The fake DDE has the data's Gaussian base too: it cancels in s_real - s_fake.
    for variable in ("mean", "eigenvalues", "rotation", "active"):
        np.testing.assert_allclose(
            ops.convert_to_numpy(getattr(model.fake_dde.base_density, variable)),
            ops.convert_to_numpy(getattr(model.real_dde.base_density, variable)),
        )
    np.testing.assert_allclose(
        ops.convert_to_numpy(model.real_dde.base_density.mean), x.mean(0), atol=1e-5
    )
    path = tmp_path / "gan.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded.fake_dde, MultiScaleDDE)
    assert loaded.real_dde.sigma_max == 2.0
    np.testing.assert_allclose(
        loaded.generate(64, seed=0), model.generate(64, seed=0), atol=1e-6
    )
    for m in (model, loaded):
        m.fit(x, batch_size=128, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(weights(model), weights(loaded)):
        np.testing.assert_allclose(a, b, atol=1e-6)


@pytest.mark.parametrize(
    "real, fake",
    [
        (lambda: msdde(sigma_max=2.0), lambda: msdde(sigma_max=1.0)),
        (lambda: msdde(sigma_max=None), lambda: msdde(sigma_max=None)),
        (
            lambda: msdde(sigma=0.1),
            lambda: keras_dde.DDEModel(keras_dde.models.energy_mlp(2), sigma=0.1),
        ),
    ],
)
def test_ddes_of_different_noise_ranges_are_refused(real, fake):
    with pytest.raises(ValueError, match="same kind.*sigma_max"):
        gan(real=real(), fake=fake())


def test_ddes_with_and_without_a_gaussian_base_are_refused():
    with pytest.raises(ValueError, match="both have a Gaussian base or both not"):
        gan(real=msdde(), fake=msdde(gaussian_base=False))
