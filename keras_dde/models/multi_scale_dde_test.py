import math

import keras
import numpy as np
import pytest
from keras import ops

import keras_dde
from keras_dde.models.dde_model import DDEModel
from keras_dde.models.multi_scale_dde import MultiScaleDDE
from keras_dde.models.checks.energy_network import check_unconditional_energy
from keras_dde.testing import run_model_saving_test
from keras_dde.testing import run_serialization_test
from keras_dde.testing.reference import exact_kde_log_density


def small_msdde(sigma=0.2, sigma_max=2.0, seed=0, width=32, **kwargs):
    energy = keras_dde.models.conditional_energy_mlp(2, width=width, depth=2)
    return MultiScaleDDE(energy, sigma=sigma, sigma_max=sigma_max, seed=seed, **kwargs)


def exact_gaussian_energy(dim=2, variance=1.0):
    """`s(x, u) = log N(x; 0, (variance + e^{2u}) I)`: log Z = 0 at every sigma."""
    x = keras.Input((dim,), name="x")
    log_sigma = keras.Input((1,), name="log_sigma")
    v = variance + ops.exp(2.0 * ops.squeeze(log_sigma, -1))
    s = -0.5 * ops.sum(x * x, axis=-1) / v - 0.5 * dim * ops.log(2 * math.pi * v)
    return keras.Model([x, log_sigma], s)


def weights_of(model):
    return [ops.convert_to_numpy(w) for w in model.weights]


def gaussian_data(n=4096, seed=0):
    rng = np.random.default_rng(seed)
    chol = np.array([[1.0, 0.0], [0.6, 0.5]])
    return (rng.standard_normal((n, 2)) @ chol.T + [0.5, -0.3]).astype("float32")


def log_normal(x, mean, cov):
    diff = x - mean
    prec = np.linalg.inv(cov)
    _, logdet = np.linalg.slogdet(2 * np.pi * cov)
    return -0.5 * np.einsum("ni,ij,nj->n", diff, prec, diff) - 0.5 * logdet


# --- Known answers -------------------------------------------------------------


def fit_on_gaussian(time_weight, epochs=60, gaussian_base=False):
    # Without the Gaussian base by default: with it, Gaussian data is the
    # base itself and the network only has to stay constant.
    keras.utils.set_random_seed(0)
    x = gaussian_data()
    dde = small_msdde(
        sigma=0.2, sigma_max=2.0, time_weight=time_weight, gaussian_base=gaussian_base
    )
    steps = epochs * 8
    dde.compile(
        keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(3e-3, steps))
    )
    dde.fit(x, batch_size=512, epochs=epochs, verbose=0)
    return dde, x


def offsets_over_sigma(dde, x, sigmas):
    mean, cov = x.mean(0), np.cov(x.T, bias=True)
    query = gaussian_data(2000, seed=1)
    offsets, spreads = [], []
    for sigma in sigmas:
        truth = log_normal(query, mean, cov + sigma**2 * np.eye(2))
        diff = ops.convert_to_numpy(dde.energy(query, sigma=sigma)) - truth
        offsets.append(diff.mean())
        spreads.append(np.abs(diff - diff.mean()).mean())
    return np.array(offsets), np.array(spreads)


@pytest.mark.slow
def test_one_constant_for_every_sigma_on_gaussian_data():
    dde, x = fit_on_gaussian(time_weight=1.0)
    offsets, spreads = offsets_over_sigma(dde, x, [0.2, 0.4, 0.8, 1.4, 2.0])
    assert spreads.max() < 0.08, spreads
    assert np.ptp(offsets) < 0.2, offsets  # Without the u-term: > 0.4, below.


def test_with_the_gaussian_base_gaussian_data_is_learned_at_once():
    dde, x = fit_on_gaussian(time_weight=1.0, epochs=20, gaussian_base=True)
    offsets, spreads = offsets_over_sigma(dde, x, [0.2, 0.4, 0.8, 1.4, 2.0])
    assert spreads.max() < 0.05, spreads
    assert np.ptp(offsets) < 0.05, offsets


def test_the_gaussian_base_keeps_exp_energy_integrable():
    # Far from the data a tanh network levels off, so exp(s) keeps mass
    # there; the base makes s fall like the data's Gaussian.
    x = gaussian_data(1024)
    far = np.array([[30.0, 0.0], [0.0, -30.0], [-21.0, 21.0]], "float32")
    for gaussian_base in (True, False):
        dde = small_msdde(sigma_max=None, gaussian_base=gaussian_base)
        dde.compile(keras.optimizers.Adam(1e-3))
        dde.fit(x, batch_size=256, epochs=1, verbose=0)
        drop = ops.convert_to_numpy(dde.energy(x[:100])).mean() - ops.convert_to_numpy(
            dde.energy(far)
        )
        if gaussian_base:
            assert drop.min() > 100, drop
        else:
            assert drop.max() < 50, drop


def test_the_gaussian_base_is_set_once_and_saved(tmp_path):
    x = gaussian_data(512)
    dde = small_msdde()
    dde.compile(keras.optimizers.Adam(1e-3))
    dde.fit(x, batch_size=128, epochs=1, verbose=0)
    mean = ops.convert_to_numpy(dde.base_density.mean)
    np.testing.assert_allclose(mean, x.mean(0), atol=1e-5)
    dde.fit(x + 5.0, batch_size=128, epochs=1, verbose=0)  # Other data: same base.
    np.testing.assert_allclose(ops.convert_to_numpy(dde.base_density.mean), mean)
    path = str(tmp_path / "model.keras")
    dde.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.gaussian_base
    np.testing.assert_allclose(ops.convert_to_numpy(loaded.base_density.mean), mean)
    # A config from before the base existed loads without one.
    config = dde.get_config()
    del config["gaussian_base"]
    assert MultiScaleDDE.from_config(config).base_density is None


@pytest.mark.slow
def test_without_the_time_term_the_constants_drift():
    dde, x = fit_on_gaussian(time_weight=0.0)
    offsets, _ = offsets_over_sigma(dde, x, [0.2, 0.4, 0.8, 1.4, 2.0])
    assert np.ptp(offsets) > 0.4, offsets


def two_modes(n, seed):
    """Two separated Gaussians with masses 0.75 and 0.25, and the labels."""
    rng = np.random.default_rng(seed)
    label = (rng.uniform(size=n) < 0.25).astype(int)
    x = rng.normal(0.0, 0.3, (n, 2)) + np.where(label[:, None] == 1, 2.0, -2.0) * [1, 0]
    return x.astype("float32"), label


def mass_error(model, x, sigma):
    """Difference of the two modes' mean offsets from the exact log-KDE."""
    query, label = two_modes(1000, seed=1)
    diff = ops.convert_to_numpy(model.energy(query)) - exact_kde_log_density(
        x, query, sigma
    )
    return diff[label == 1].mean() - diff[label == 0].mean()


# Trains two models for ~40 s on JAX (4-10x longer on TensorFlow and PyTorch):
# JAX only; the Gaussian known-answer tests above run on every backend.
@pytest.mark.slow
@pytest.mark.jax_only
def test_mode_masses_multiscale_right_where_single_sigma_is_wrong():
    x, _ = two_modes(2048, seed=0)
    sigma = 0.1
    keras.utils.set_random_seed(0)
    single = DDEModel(keras_dde.models.energy_mlp(2, width=64, activation="tanh"), sigma, seed=0)
    single.compile(keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(3e-3, 480)))
    single.fit(x, batch_size=256, epochs=60, verbose=0)
    multi = MultiScaleDDE(
        keras_dde.models.conditional_energy_mlp(2, width=64), sigma, seed=0
    )
    multi.compile(keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(4e-3, 1600)))
    multi.fit(x, batch_size=256, epochs=200, verbose=0)
    assert abs(mass_error(single, x, sigma)) > 0.3
    assert abs(mass_error(multi, x, sigma)) < 0.1


def test_log_partition_of_the_exact_energy_is_zero():
    dde = MultiScaleDDE(
        exact_gaussian_energy(), sigma=0.1, sigma_max=2.0, seed=0, gaussian_base=False
    )
    dde.set_data_statistics(np.random.default_rng(0).standard_normal((4096, 2)))
    log_z, stderr, info = dde.log_partition(
        method="limit", n_samples=50_000, seed=0, verbose=0, return_info=True
    )
    assert abs(log_z) < 0.01 and 0 < stderr < 0.01, (log_z, stderr)
    assert info["method"] == "limit"
    # The same at the target sigma, by importance sampling there.
    log_z_is, _ = dde.log_partition(method="is", n_samples=50_000, seed=0, verbose=0)
    assert abs(log_z_is) < 0.02
    # The default estimates it at sigma, from the mixture kept from the data.
    assert dde.log_partition(seed=0, verbose=0, return_info=True)[2]["method"] == "is"
    x = np.zeros((1, 2), "float32")
    dde.log_partition(method="limit", n_samples=50_000, seed=0, verbose=0)
    np.testing.assert_allclose(dde.log_prob(x), -math.log(2 * math.pi * 1.01), atol=0.02)
    np.testing.assert_allclose(
        dde.log_prob(x, sigma=1.0), -math.log(2 * math.pi * 2.0), atol=0.02
    )


def test_log_partition_standard_error_is_calibrated():
    # Data statistics wider than the energy: the importance weights vary.
    dde = MultiScaleDDE(
        exact_gaussian_energy(), sigma=0.1, sigma_max=1.0, seed=0, gaussian_base=False
    )
    dde.set_data_statistics(np.random.default_rng(0).normal(0.0, 1.6, (4096, 2)))
    z_scores = []
    for seed in range(20):
        log_z, stderr = dde.log_partition(
            method="limit", n_samples=500, seed=seed, verbose=0
        )
        z_scores.append(log_z / stderr)
    z_scores = np.abs(z_scores)
    assert np.mean(z_scores < 2.0) >= 0.9, z_scores
    assert np.mean(z_scores < 0.5) < 0.8, z_scores  # Not absurdly wide either.


def test_an_unknown_log_partition_method_is_refused():
    dde = small_msdde()
    with pytest.raises(ValueError, match="'auto', 'is', 'ais' or 'limit'; received 'exact'"):
        dde.log_partition(method="exact")


def test_without_a_mixture_the_default_is_ais_at_sigma():
    dim = 20  # Above 16 features no mixture is kept.
    dde = MultiScaleDDE(
        keras_dde.models.conditional_energy_mlp(dim, width=16, depth=1),
        sigma=0.1, sigma_max=2.0, seed=0,
    )
    dde.set_data_statistics(np.random.default_rng(0).standard_normal((512, dim)))
    _, _, info = dde.log_partition(
        n_samples=64, n_steps=5, seed=0, verbose=0, return_info=True
    )
    assert info["method"] == "ais"


def test_annealed_sampler_matches_gaussian_moments():
    dde = MultiScaleDDE(
        exact_gaussian_energy(), sigma=0.5, sigma_max=3.0, seed=0, gaussian_base=False
    )
    dde.set_data_statistics(np.random.default_rng(0).standard_normal((4096, 2)))
    samples = dde.sample(2000, n_levels=5, steps_per_level=20, n_steps=50, seed=0, verbose=0)
    assert samples.shape == (2000, 2)
    np.testing.assert_allclose(samples.mean(0), 0.0, atol=0.1)
    np.testing.assert_allclose(np.cov(samples.T), 1.25 * np.eye(2), atol=0.15)


def test_energy_score_denoise_agree_at_each_sigma():
    dde = MultiScaleDDE(exact_gaussian_energy(), sigma=0.1, sigma_max=2.0)
    x = np.array([[1.0, -2.0], [0.5, 0.5]], "float32")
    for sigma in (None, 0.5, 2.0):
        level = 0.1 if sigma is None else sigma
        v = 1.0 + level**2
        np.testing.assert_allclose(ops.convert_to_numpy(dde.score(x, sigma)), -x / v, rtol=1e-5)
        np.testing.assert_allclose(
            ops.convert_to_numpy(dde.denoise(x, sigma)), x - level**2 * x / v, rtol=1e-5
        )
        expected = -0.5 * (x**2).sum(1) / v - math.log(2 * math.pi * v)
        np.testing.assert_allclose(ops.convert_to_numpy(dde.energy(x, sigma)), expected, rtol=1e-5)
    np.testing.assert_allclose(dde.predict(x, verbose=0), ops.convert_to_numpy(dde.energy(x)), rtol=1e-6)


# --- Training plumbing and serialization ----------------------------------------


def test_default_sigma_max_from_the_data():
    dde = small_msdde(sigma=0.1, sigma_max=None)
    assert math.isnan(dde.sigma_max)
    x = gaussian_data(1024)
    dde.compile(keras.optimizers.Adam(1e-3))
    history = dde.fit(x, batch_size=256, epochs=1, verbose=0)
    top = np.linalg.eigvalsh(np.cov(x.T, bias=True))[-1]
    assert dde.sigma_max == pytest.approx(math.sqrt(top), rel=1e-3)
    assert np.isfinite(history.history["loss"][-1])


def test_sigma_max_for_matrix_variances_and_one_feature():
    from keras_dde.models.multi_scale_dde import sigma_max_for

    assert sigma_max_for(np.diag([4.0, 1.0]), 0.1) == pytest.approx(2.0)
    assert sigma_max_for(np.array([[2.0, 2.0], [2.0, 2.0]]), 0.1) == pytest.approx(2.0)
    assert sigma_max_for(np.array([1.0, 9.0]), 0.1) == pytest.approx(3.0)
    assert sigma_max_for(np.cov(np.arange(10.0)[:, None], rowvar=False), 0.1) == (
        pytest.approx(np.std(np.arange(10.0), ddof=1))
    )
    assert sigma_max_for(np.eye(2) * 1e-4, 0.1) == pytest.approx(0.2)  # At least 2 sigma.


def test_config_round_trip():
    revived = run_serialization_test(small_msdde(sigma=0.15, sigma_max=1.5, seed=3))
    assert revived.sigma == 0.15 and revived.sigma_max == 1.5 and revived.seed == 3


def test_saving_round_trip_and_resume(tmp_path):
    x = gaussian_data(512)
    dde = small_msdde(sigma_max=None)
    dde.compile(optimizer=keras.optimizers.Adam(1e-2))
    dde.fit(x, batch_size=128, epochs=2, shuffle=False, verbose=0)
    loaded = run_model_saving_test(dde, x, tmp_path)
    assert loaded.sigma_max == dde.sigma_max
    assert int(loaded.optimizer.iterations.numpy()) == int(dde.optimizer.iterations.numpy())
    for model in (dde, loaded):
        model.fit(x, batch_size=128, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(weights_of(dde), weights_of(loaded)):
        np.testing.assert_allclose(a, b, atol=1e-6)


# --- Bad input -------------------------------------------------------------------


def test_a_network_without_sigma_is_refused():
    with pytest.raises(TypeError, match="noise-conditional"):
        MultiScaleDDE(keras_dde.models.energy_mlp(2), sigma=0.1, sigma_max=1.0)
    with pytest.raises(TypeError, match="Keras model"):
        MultiScaleDDE(lambda x: x, sigma=0.1)


def test_a_network_with_sigma_is_refused_by_the_dde_check():
    with pytest.raises(TypeError, match="MultiScaleDDE"):
        check_unconditional_energy(keras_dde.models.conditional_energy_mlp(2))
    check_unconditional_energy(keras_dde.models.energy_mlp(2))
    with pytest.raises(TypeError, match="use `keras_dde.MultiScaleDDE`"):
        DDEModel(keras_dde.models.conditional_energy_mlp(2), sigma=0.1)
    with pytest.raises(TypeError, match="Keras layer or model"):
        DDEModel(lambda x: x, sigma=0.1)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"sigma": 0.2, "sigma_max": 0.2}, ValueError, "sigma_max"),
        ({"sigma": 0.2, "sigma_max": 0.1}, ValueError, "sigma_max"),
        ({"sigma": 0.2, "sigma_max": -1.0}, ValueError, "sigma_max"),
        ({"sigma": 0.2, "sigma_max": "big"}, TypeError, "sigma_max"),
        ({"time_weight": -1.0}, ValueError, "time_weight"),
        ({"target_fraction": 1.0}, ValueError, "target_fraction"),
        ({"gaussian_base": "yes"}, TypeError, "gaussian_base"),
    ],
)
def test_bad_constructor_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        small_msdde(**kwargs)


def test_sigma_outside_the_trained_range_is_refused():
    dde = small_msdde(sigma=0.2, sigma_max=2.0)
    x = np.zeros((3, 2), "float32")
    for sigma in (0.1, 2.5):
        for method in (dde.energy, dde.score, dde.denoise):
            with pytest.raises(ValueError, match=r"trained range \[0.2, 2.0\]"):
                method(x, sigma=sigma)
    dde.energy(x, sigma=2.0)  # The ends are inside.


def test_sigma_can_change_but_stays_below_sigma_max():
    dde = small_msdde(sigma=0.2, sigma_max=2.0)
    dde.sigma = 0.3
    assert dde.sigma == 0.3
    np.testing.assert_allclose(
        ops.convert_to_numpy(dde.energy(np.ones((2, 2), "float32"))),
        ops.convert_to_numpy(dde.energy(np.ones((2, 2), "float32"), sigma=0.3)),
        rtol=1e-6,
    )
    with pytest.raises(ValueError, match="below `sigma_max`"):
        dde.sigma = 2.0


def test_fit_on_a_generator_needs_sigma_max_or_statistics():
    dde = small_msdde(sigma_max=None)
    dde.compile(keras.optimizers.Adam(1e-3))
    batches = [gaussian_data(64)]
    with pytest.raises(ValueError, match="sigma_max"):
        dde.fit(((b,) for b in batches), epochs=1, verbose=0)
    dde = small_msdde(sigma_max=2.0)
    dde.compile(keras.optimizers.Adam(1e-3))
    with pytest.raises(ValueError, match=r"set_data_statistics\(data\)"):
        dde.fit(((b,) for b in batches), epochs=1, verbose=0)
    dde.set_data_statistics(_Batches(batches))
    dde.fit(((b,) for b in batches), epochs=1, verbose=0)


def test_fit_on_a_py_dataset_records_the_statistics_in_one_pass():
    batches = [gaussian_data(64), gaussian_data(64, seed=1) + 1.0]
    dde = small_msdde(sigma_max=None)
    dde.compile(keras.optimizers.Adam(1e-3))
    dde.fit(_Batches(batches), epochs=1, verbose=0, shuffle=False)
    reference = small_msdde(sigma_max=None)
    reference.set_data_statistics(np.concatenate(batches))
    assert dde.sigma_max == reference.sigma_max
    for mine, theirs in [(dde.data_mean, reference.data_mean),
                         (dde.data_covariance, reference.data_covariance)]:
        np.testing.assert_allclose(
            ops.convert_to_numpy(mine), ops.convert_to_numpy(theirs),
            rtol=1e-6, atol=1e-7,
        )
    assert dde.base_density.is_set


class _Batches(keras.utils.PyDataset):
    def __init__(self, batches):
        super().__init__()
        self.batches = batches

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, index):
        return self.batches[index]
