import numpy as np
from keras import ops

from keras_dde.losses import multi_scale_score_matching


def test_the_u_term_is_weighted_and_scaled_by_twice_the_dimension():
    noise = np.array([[1.0, 1.0], [2.0, 0.0]], "float32")
    sigma = np.array([0.5, 2.0], "float32")
    # The ideal x-score -eps / sigma zeroes the x-term; grad_u = 0 leaves
    # (|eps|^2 - d)^2 / (2 d) = [0, (4 - 2)^2 / 4].
    grad_x = -noise / sigma[:, None]
    grad_u = np.zeros(2, "float32")
    # Tensors, as in training (torch can't subtract a tensor from an array).
    grad_x, grad_u, noise, sigma = map(ops.convert_to_tensor, (grad_x, grad_u, noise, sigma))
    loss = multi_scale_score_matching(grad_x, grad_u, noise, sigma, time_weight=3.0)
    np.testing.assert_allclose(ops.convert_to_numpy(loss), [0.0, 3.0], atol=1e-6)
