import keras
import numpy as np
import pytest
from keras import ops

from keras_dde import backend
from keras_dde.layers.energy_conv2d import EnergyConv2D
from keras_dde.testing import run_layer_test

CASES = [
    dict(filters=4, kernel_size=3, strides=2, padding="same"),
    dict(filters=3, kernel_size=3, strides=1, padding="valid", dilation_rate=2),
    dict(filters=2, kernel_size=(2, 3), strides=(2, 1), padding="valid"),
]


def _np(tensor):
    return ops.convert_to_numpy(ops.stop_gradient(tensor))


def _pair(kwargs, shape=(3, 9, 9, 2)):
    """An EnergyConv2D and a Conv2D with the same weights, built on `shape`."""
    energy_layer = EnergyConv2D(activation="swish", **kwargs)
    plain = keras.layers.Conv2D(activation="swish", **kwargs)
    x = np.random.default_rng(0).normal(size=shape).astype("float32")
    energy_layer(x), plain(x)
    rng = np.random.default_rng(1)
    weights = [rng.normal(size=w.shape).astype("float32") for w in plain.get_weights()]
    energy_layer.set_weights(weights)
    plain.set_weights(weights)
    return energy_layer, plain, x


def _dde_loss_and_grads(layer, x, sigma=0.3):
    """A DDE-style loss: the squared input gradient of sum(layer(x)^2)."""
    eps = np.random.default_rng(2).normal(size=x.shape).astype("float32")

    def loss():
        noisy = ops.convert_to_tensor(x + sigma * eps)
        noise = ops.convert_to_tensor(eps)
        _, score = backend.input_gradient(
            lambda z: ops.sum(ops.square(layer(z)), axis=(1, 2, 3)), noisy
        )
        return ops.mean(ops.square(sigma**2 * score + sigma * noise))

    value, grads = backend.value_and_grad(loss, layer.trainable_variables)
    return float(_np(value)), [_np(g) for g in grads]


@pytest.mark.parametrize("kwargs", CASES)
def test_same_outputs_and_second_order_gradients_as_conv2d(kwargs):
    energy_layer, plain, x = _pair(kwargs)
    np.testing.assert_allclose(
        _np(energy_layer(x)), _np(plain(x)),
        rtol=1e-5, atol=1e-5,
    )
    value, grads = _dde_loss_and_grads(energy_layer, x)
    expected_value, expected_grads = _dde_loss_and_grads(plain, x)
    assert value == pytest.approx(expected_value, rel=1e-5)
    for got, want in zip(grads, expected_grads):
        assert np.abs(want).max() > 0
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())


def test_serialization():
    run_layer_test(
        EnergyConv2D,
        dict(filters=4, kernel_size=3, strides=2, padding="same", activation="swish"),
        # Not zeros: with zero inputs and zero biases the outputs, and so the
        # training step's gradients, are exactly zero.
        np.random.default_rng(0).normal(size=(2, 8, 8, 1)).astype("float32"),
        expected_output_shape=(2, 4, 4, 4),
        expected_num_trainable_weights=2,
    )


@pytest.mark.jax_only
def test_jax_double_backward_has_no_batch_contracting_dilated_convolution():
    # The slow form on XLA CPU: a kernel gradient (contracting over the batch)
    # of a convolution with lhs_dilation. Plain Conv2D produces it; ours not.
    import jax

    def slow_convs(layer, x):
        def loss(kernel):
            def energy(z):
                return ops.sum(layer.convolution_op(z, kernel) ** 2)

            return ops.sum(jax.grad(energy)(x) ** 2)

        jaxpr = jax.make_jaxpr(jax.grad(loss))(layer.kernel.value)
        found = []

        def walk(jp):
            for eqn in jp.eqns:
                if eqn.primitive.name == "conv_general_dilated":
                    dilated = any(d > 1 for d in eqn.params["lhs_dilation"])
                    batch_contracting = eqn.params["dimension_numbers"].lhs_spec[0] != 0
                    found.append(dilated and batch_contracting)
                for param in eqn.params.values():
                    inner = getattr(param, "jaxpr", None)
                    if inner is not None:
                        walk(getattr(inner, "jaxpr", inner))

        walk(jaxpr.jaxpr)
        return found

    energy_layer, plain, x = _pair(CASES[0])
    assert any(slow_convs(plain, x))
    found = slow_convs(energy_layer, x)
    assert found and not any(found)
