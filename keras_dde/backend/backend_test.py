import keras
import numpy as np
from keras import ops

from keras_dde import backend


def test_input_gradient_is_per_sample_and_differentiable_again():
    # s(x) = sum(w * x^3): grad = 3 w x^2, and d/dw of sum(grad) = sum 3 x^2.
    w = keras.Variable(np.array([1.0, -2.0], "float32"))
    x = ops.convert_to_tensor(np.array([[1.0, 2.0], [3.0, -1.0]], "float32"))

    def energy(z):
        return ops.sum(w * z**3, axis=-1)

    values, _ = backend.input_gradient(energy, x)
    np.testing.assert_allclose(ops.convert_to_numpy(values), [-15.0, 29.0])

    def loss():
        return ops.sum(backend.input_gradient(energy, x)[1])

    value, (grad_w,) = backend.value_and_grad(loss, [w])
    expected_gradient = 3 * np.array([1.0, -2.0]) * np.array([[1, 4], [9, 1]])
    assert float(value) == np.sum(expected_gradient)
    np.testing.assert_allclose(ops.convert_to_numpy(grad_w), [3 * 10, 3 * 5])


def test_value_and_grad_returns_an_aux_computed_in_the_same_pass():
    # loss = sum(w^2), aux = (w[0], 2 w): the gradient 2 w is the loss's only.
    w = keras.Variable(np.array([1.0, -3.0], "float32"))

    def loss():
        return ops.sum(w**2), (w[0], 2.0 * w)

    (value, (first, double)), (grad,) = backend.value_and_grad(loss, [w], has_aux=True)
    assert float(ops.convert_to_numpy(value)) == 10.0
    assert float(ops.convert_to_numpy(first)) == 1.0
    np.testing.assert_allclose(ops.convert_to_numpy(double), [2.0, -6.0])
    np.testing.assert_allclose(ops.convert_to_numpy(grad), [2.0, -6.0])


def test_random_state_advances_inside_gradients():
    seed = keras.random.SeedGenerator(0)
    w = keras.Variable(np.ones(3, "float32"))

    def loss():
        return ops.sum(w * keras.random.normal((3,), seed=seed))

    first, _ = backend.value_and_grad(loss, [w])
    second, _ = backend.value_and_grad(loss, [w])
    assert float(first) != float(second)
