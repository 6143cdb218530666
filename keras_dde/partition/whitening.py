"""A DDE's energy in the whitened coordinates of a Gaussian proposal.

The estimators and samplers work on `u = L^-1 (x - m)` for a proposal
`N(m, L L^T)`; `x(u) = m + L u`, and by the chain rule
`grad_u s(x(u)) = L^T grad_x s`, i.e. the row vector `grad_x s @ L`.
"""

from keras import ops

from keras_dde import backend


def whitened_energy(model, proposal, with_gradient=True):
    """`u -> s(x(u))` (and its u-gradient) for `x(u) = m + L u`.

    Args:
        model: a DDE (calling it gives energies; it has `feature_shape`).
        proposal: a `GaussianProposal` of the model's flattened features.
        with_gradient: also return `grad_u s`.
    """
    feature_shape = tuple(model.feature_shape)
    chol = ops.convert_to_tensor(proposal.cholesky, dtype="float32")

    def fn(u):
        x = ops.reshape(proposal.from_whitened(u), (-1, *feature_shape))
        if not with_gradient:
            return model(x)
        s, grad = backend.input_gradient(model, x)
        grad = ops.reshape(grad, (ops.shape(u)[0], -1))
        return s, ops.matmul(grad, chol)

    return fn
