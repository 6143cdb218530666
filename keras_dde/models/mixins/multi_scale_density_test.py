"""`MultiScaleDDE`'s probability-flow methods on an exact Gaussian energy.

The data are `2d` points `mu +- tau sqrt(d) e_i`: their mean is `mu` and
their covariance `tau^2 I` exactly, so the flow's start `N(m, C +
sigma_max^2 I)` is exactly `p_sigma_max` of `N(mu, tau^2 I)`, and the flow,
its samples and its log-likelihood have closed forms.
"""

import math

import keras
import numpy as np
import pytest
from keras import ops

from keras_dde.models.multi_scale_dde import MultiScaleDDE

MU = np.array([0.5, -1.0], "float32")
TAU = 0.4


class GaussianLevels(keras.layers.Layer):
    """`log N(x; MU, (TAU^2 + sigma^2) I)` of `[x, log_sigma]`."""

    def call(self, inputs):
        x, log_sigma = inputs
        variance = TAU**2 + ops.exp(2.0 * log_sigma[:, 0])
        squared = ops.sum(ops.square(x - ops.convert_to_tensor(MU)), axis=-1)
        dim = x.shape[-1]
        return -0.5 * squared / variance - 0.5 * dim * ops.log(2 * math.pi * variance)


def exact_model(sigma=0.1, sigma_max=2.0):
    x = keras.Input((2,))
    log_sigma = keras.Input((1,))
    energy = keras.Model([x, log_sigma], GaussianLevels()([x, log_sigma]))
    model = MultiScaleDDE(
        energy, sigma=sigma, sigma_max=sigma_max, seed=0, gaussian_base=False
    )
    offsets = TAU * math.sqrt(2) * np.concatenate([np.eye(2), -np.eye(2)])
    model.set_data_statistics((MU + offsets).astype("float32"))
    return model


def exact_log_prob(x, sigma):
    variance = TAU**2 + sigma**2
    squared = np.sum((np.asarray(x, "float64") - MU) ** 2, axis=-1)
    return -0.5 * squared / variance - math.log(2 * math.pi * variance)


def test_flow_is_the_exact_linear_map_and_deterministic():
    model = exact_model()
    u = np.random.default_rng(0).standard_normal((100, 2)).astype("float32")
    x = model.flow(u, ode_steps=40)
    expected = MU + math.sqrt(TAU**2 + 0.01) * u
    np.testing.assert_allclose(x, expected, atol=3e-3)
    np.testing.assert_array_equal(model.flow(u, ode_steps=40), x)


def test_flow_to_zero_takes_the_first_order_step_to_the_data():
    # `x + sigma^2 grad s / 2` scales `x - MU` by `1 - sigma^2 / 2(TAU^2 +
    # sigma^2)`: spread TAU + O(sigma^4), where the flow to `sigma` keeps
    # `sqrt(TAU^2 + sigma^2)`, and a full Tweedie step would shrink it to
    # `TAU^2 / sqrt(TAU^2 + sigma^2)`.
    model = exact_model(sigma=0.1)
    u = np.random.default_rng(0).standard_normal((100, 2)).astype("float32")
    variance = TAU**2 + 0.01
    scale = math.sqrt(variance) * (1 - 0.01 / (2 * variance))
    np.testing.assert_allclose(
        model.flow(u, to_zero=True), MU + scale * u, atol=3e-3
    )
    assert abs(scale - TAU) < 5e-4 < abs(TAU**2 / math.sqrt(variance) - TAU)


def test_flow_to_zero_tweedie_takes_the_full_step_to_the_posterior_mean():
    # Tweedie's step `x + sigma^2 grad s` scales `x - MU` by `TAU^2 /
    # (TAU^2 + sigma^2)`: the flow's spread `sqrt(TAU^2 + sigma^2)` becomes
    # `TAU^2 / sqrt(TAU^2 + sigma^2)`, below the data's TAU.
    model = exact_model(sigma=0.3)
    u = np.random.default_rng(0).standard_normal((100, 2)).astype("float32")
    variance = TAU**2 + 0.09
    np.testing.assert_allclose(
        model.flow(u, to_zero="tweedie"), MU + TAU**2 / math.sqrt(variance) * u,
        atol=3e-3,
    )
    np.testing.assert_array_equal(model.flow(u, to_zero="euler"),
                                  model.flow(u, to_zero=True))
    with pytest.raises(ValueError, match='`to_zero` must be False, True'):
        model.flow(u, to_zero="half")


def test_sample_ode_has_the_smoothed_moments():
    samples = exact_model().sample(4000, method="ode", seed=1)
    assert samples.shape == (4000, 2)
    np.testing.assert_allclose(samples.mean(0), MU, atol=0.03)
    np.testing.assert_allclose(samples.std(0), math.sqrt(TAU**2 + 0.01), rtol=0.04)


def test_log_prob_ode_is_exact_at_sigma_and_above():
    model = exact_model()
    x = np.random.default_rng(2).normal(MU, 0.5, (64, 2)).astype("float32")
    for sigma in (None, 0.5):
        level = 0.1 if sigma is None else sigma
        log_p = model.log_prob(x, sigma=sigma, method="ode")
        assert log_p.dtype == np.float32
        np.testing.assert_allclose(log_p, exact_log_prob(x, level), atol=0.05)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda m: m.sample(4, method="euler"), ValueError, "`method`"),
        (lambda m: m.log_prob(np.zeros((2, 2)), method="exact"), ValueError, "`method`"),
        (lambda m: m.flow(np.zeros((3, 5))), ValueError, r"\(n, 2\)"),
        (lambda m: m.sample(4, method="ode", seed=1.5), TypeError, "`seed`"),
    ],
)
def test_probability_flow_methods_reject_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call(exact_model())


def test_flow_needs_the_data_statistics():
    x = keras.Input((2,))
    log_sigma = keras.Input((1,))
    energy = keras.Model([x, log_sigma], GaussianLevels()([x, log_sigma]))
    model = MultiScaleDDE(energy, sigma=0.1, sigma_max=2.0, gaussian_base=False)
    with pytest.raises(ValueError, match="set_data_statistics"):
        model.flow(np.zeros((3, 2), "float32"))
