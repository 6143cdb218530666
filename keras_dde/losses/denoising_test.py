import numpy as np
from keras import ops

from keras_dde.losses import denoising_score_matching


def test_per_sample_sum_of_squared_residuals():
    score = np.array([[1.0, 2.0], [0.0, -1.0]], "float32")
    noise = np.array([[0.5, 0.0], [1.0, 1.0]], "float32")
    loss = ops.convert_to_numpy(denoising_score_matching(score, noise, 0.5))
    # residual = 0.5 * score + noise
    np.testing.assert_allclose(loss, [1.0**2 + 1.0**2, 1.0**2 + 0.5**2])


def test_zero_for_the_ideal_denoiser_of_a_point_mass():
    # For data at 0, grad log p~(x~) = -x~ / sigma^2 = -eps / sigma exactly.
    sigma = 0.3
    eps = np.random.default_rng(0).normal(size=(8, 2, 3)).astype("float32")
    loss = denoising_score_matching(-eps / sigma, eps, sigma)
    assert loss.shape == (8,)
    np.testing.assert_allclose(ops.convert_to_numpy(loss), 0.0, atol=1e-10)
