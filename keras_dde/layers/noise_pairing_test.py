import numpy as np
import pytest
from keras import ops

from keras_dde.layers.noise_pairing import NoisePairing
from keras_dde.testing import run_layer_test


def test_layer_basics():
    run_layer_test(
        NoisePairing,
        {"sigma": 0.5, "seed": 1},
        np.zeros((4, 3), "float32"),
        expected_output_shape=((4, 3), (4, 3)),
        expected_num_trainable_weights=0,
        deterministic=False,
    )


def test_noisy_sample_is_input_plus_sigma_times_noise():
    x = np.arange(20000, dtype="float32").reshape(10000, 2)
    noisy, eps = NoisePairing(sigma=0.3, seed=0)(x)
    noisy, eps = ops.convert_to_numpy(noisy), ops.convert_to_numpy(eps)
    np.testing.assert_allclose(noisy, x + 0.3 * eps, rtol=1e-6, atol=1e-3)
    assert abs(eps.mean()) < 0.03 and abs(eps.std() - 1) < 0.03


def test_fresh_noise_each_call_and_seeded():
    x = np.zeros((5, 2), "float32")
    first, second = NoisePairing(0.1, seed=3), NoisePairing(0.1, seed=3)
    a1, a2 = (ops.convert_to_numpy(first(x)[1]) for _ in range(2))
    assert not np.allclose(a1, a2)
    np.testing.assert_array_equal(a1, ops.convert_to_numpy(second(x)[1]))


@pytest.mark.parametrize("sigma", [0, -1.0, float("nan")])
def test_bad_sigma(sigma):
    with pytest.raises(ValueError, match="sigma"):
        NoisePairing(sigma)


def test_sigma_may_come_with_every_call_instead():
    pairing = NoisePairing(seed=0)
    x = np.zeros((4, 2), "float32")
    noisy, eps = pairing(x, sigma=0.5)
    np.testing.assert_allclose(
        ops.convert_to_numpy(noisy), 0.5 * ops.convert_to_numpy(eps)
    )
    with pytest.raises(ValueError, match="sigma"):
        pairing(x)
