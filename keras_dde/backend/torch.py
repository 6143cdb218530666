"""PyTorch: the seam for the PyTorch backend (a later milestone).

The input gradient will use `torch.autograd.grad(..., create_graph=True)` under
`torch.enable_grad()`; until it is implemented and tested, fail clearly.
"""

_MESSAGE = (
    "keras-dde does not support the PyTorch backend yet; "
    "set KERAS_BACKEND to 'tensorflow' or 'jax'."
)


def input_gradient(fn, x):
    raise NotImplementedError(_MESSAGE)


def value_and_grad(loss_fn, variables):
    raise NotImplementedError(_MESSAGE)


class StatefulTrainer:
    def __init__(self, *args, **kwargs):
        raise NotImplementedError(_MESSAGE)
