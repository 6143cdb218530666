"""JAX: a convolution whose double backward pass XLA compiles well on CPU.

A DDE's loss differentiates the input gradient of the energy, so the weight
gradient passes through the *input gradient* of each convolution. JAX's
transpose rules express that input gradient as a convolution with
`lhs_dilation` (a transposed convolution, for strides > 1), and its kernel
derivative as a convolution with `lhs_dilation` again, contracting over the
batch. XLA's CPU backend runs that form ~30-100x slower than a plain
convolution (258 ms against ~5 ms for one layer of the 28x28 energy at batch
64), which made a conv DDE step on JAX 11x slower than on TensorFlow.

Here the input gradient `ig(g, w) = J_x(w)^T g` of `y = conv(x, w)` is its own
differentiable function. It is linear in `g`, and

    <c, ig(g, w)> = <conv(c, w), g>,

so `d/dg = conv(c, w)` (the forward convolution) and `d/dw` is the forward
convolution's kernel gradient at input `c` with cotangent `g` (the
`rhs_dilation` form XLA handles well, as TensorFlow's gradient does). The
values and gradients are the same as JAX's; only the graph differs.
Forward-mode differentiation (`jax.jvp`) is not defined for these functions.
"""

import jax
import jax.numpy as jnp


def conv_with_fast_double_backward(forward, x, w):
    """`forward(x, w)` (a convolution, bilinear) with custom derivatives."""

    @jax.custom_vjp
    def conv(x, w):
        return forward(x, w)

    def conv_fwd(x, w):
        return forward(x, w), (x, w)

    def conv_bwd(residuals, g):
        x, w = residuals
        _, kernel_vjp = jax.vjp(lambda w: forward(x, w), w)
        return input_gradient(g, w), kernel_vjp(g)[0]

    @jax.custom_vjp
    def input_gradient(g, w):
        zeros = jnp.zeros(x.shape, g.dtype)
        _, input_vjp = jax.vjp(lambda x: forward(x, w), zeros)
        return input_vjp(g)[0]

    def input_gradient_fwd(g, w):
        return input_gradient(g, w), (g, w)

    def input_gradient_bwd(residuals, c):
        g, w = residuals
        _, kernel_vjp = jax.vjp(lambda w: forward(c, w), w)
        return forward(c, w), kernel_vjp(g)[0]

    conv.defvjp(conv_fwd, conv_bwd)
    input_gradient.defvjp(input_gradient_fwd, input_gradient_bwd)
    return conv(x, w)
