"""PyTorch: `torch.autograd.grad` with `create_graph`, and the eager torch trainer.

Keras's torch trainer runs `evaluate`/`predict` under `torch.no_grad()` and
accepts only `steps_per_execution=1`. Here the input gradient switches
autograd back on for itself (`score()` and the test loss work anywhere), the
train step runs under `no_grad` except where `value_and_grad` records a graph
(so optimizer updates and metrics build none), and `StatefulTrainer` runs
`steps_per_execution` steps per call as a plain loop, computing the logs
(the trackers' `result()`) of the last step only, the one Keras keeps.
"""

import contextlib
import warnings

import torch
from keras import random
from keras import tree


def input_gradient(fn, x):
    """Per-sample `fn(x)` and `d sum(fn(x)) / dx`.

    The gradient keeps its graph (`create_graph=True`) when the caller records
    gradients, as a loss inside `value_and_grad` does; under `no_grad`
    (`evaluate`, `predict`, samplers) it is a plain, detached tensor.
    """
    create_graph = torch.is_grad_enabled()
    with torch.enable_grad():
        if not x.requires_grad:
            x = x.detach().requires_grad_(True)
        values = fn(x)
        (gradient,) = torch.autograd.grad(
            values.sum(), x, create_graph=create_graph
        )
    if not create_graph:
        values = values.detach()
    return values, gradient


# How many `value_and_grad` calls are recording a graph right now.
_recording = [0]


def value_and_grad(loss_fn, variables, has_aux=False):
    """`loss_fn()` and its gradient for `variables` (None where unused)."""
    variables = list(variables)
    _recording[0] += 1
    try:
        with torch.enable_grad():
            out = loss_fn()
            loss = out[0] if has_aux else out
            grads = torch.autograd.grad(
                loss, [v.value for v in variables], allow_unused=True
            )
    finally:
        _recording[0] -= 1
    return tree.map_structure(lambda t: t.detach(), out), list(grads)


@contextlib.contextmanager
def inference():
    """`torch.no_grad()`, except inside a loss that `value_and_grad` records.

    Inference methods (`energy`, `score`, `denoise`, ...) run in it, so their
    results carry no autograd graph: `np.asarray(dde.score(x))` works and
    repeated calls hold no memory. Called inside a training loss, they keep
    the graph the gradient needs.
    """
    if _recording[0]:
        yield
        return
    with torch.no_grad():
        yield


@contextlib.contextmanager
def _partial_last_execution_expected(model, steps):
    """Hides Keras's "ran out of data" warning for a short last execution.

    With `steps_per_execution > 1`, the base `EpochIterator` that the torch
    trainer uses warns when the epoch's last group of batches is shorter than
    `steps_per_execution`, which is normal when the data size defines the
    epoch. With an explicit step count the warning stays: it is real then.
    """
    if model.steps_per_execution == 1 or steps is not None:
        yield
        return
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Your input ran out of data")
        yield


@contextlib.contextmanager
def _discarding_step_logs(model):
    """Steps here return no logs (`CheckedModel._logs`).

    Keras keeps only the last step's logs of an execution; the trackers'
    `result()` of the others would run eagerly for nothing.
    """
    model._discards_step_logs = True
    try:
        yield
    finally:
        model._discards_step_logs = False


def _stack_outputs(outputs):
    """Concatenates per-batch predict outputs along the batch axis."""
    if len(outputs) == 1:
        return outputs[0]
    return tree.map_structure(lambda *parts: torch.cat(parts), *outputs)


class StatefulTrainer:
    """Runs stateful `stateful_train_step(data)` under Keras's torch trainer.

    Adds what the torch trainer lacks for this model: `steps_per_execution`
    above 1 (a Python loop over the batches of one call, so callbacks' batch
    hooks run every `steps_per_execution` steps as on the other backends),
    and a clear fallback for `jit_compile=True`: `torch.compile` cannot trace
    the double backward pass of the denoising loss.
    """

    def compile(self, *args, jit_compile="auto", **kwargs):
        if jit_compile is True:
            warnings.warn(
                "`jit_compile=True` is not supported by keras-dde on the PyTorch "
                "backend: `torch.compile` cannot differentiate the input "
                "gradient again (double backward). Training runs eagerly "
                "(`jit_compile=False`).",
                UserWarning,
                stacklevel=3,
            )
            jit_compile = False
        super().compile(*args, jit_compile=jit_compile, **kwargs)

    def fit(self, *args, steps_per_epoch=None, **kwargs):
        with _partial_last_execution_expected(self, steps_per_epoch):
            return super().fit(*args, steps_per_epoch=steps_per_epoch, **kwargs)

    def evaluate(self, *args, steps=None, **kwargs):
        with _partial_last_execution_expected(self, steps):
            return super().evaluate(*args, steps=steps, **kwargs)

    def predict(self, *args, steps=None, **kwargs):
        with _partial_last_execution_expected(self, steps):
            return super().predict(*args, steps=steps, **kwargs)

    def train_step(self, data):
        # Gradients are taken explicitly in `value_and_grad`.
        with torch.no_grad():
            return self.stateful_train_step(data)

    def test_step(self, data):
        with torch.no_grad():
            return self.stateful_test_step(data)

    def _check_eager(self):
        if self.jit_compile:
            warnings.warn(
                "keras-dde runs eagerly on the PyTorch backend (`torch.compile` "
                "cannot do double backward); ignoring `jit_compile=True`.",
                UserWarning,
                stacklevel=3,
            )
            self.jit_compile = False

    def make_train_function(self, force=False):
        if self.train_function is not None and not force:
            return self.train_function
        self._check_eager()

        def train_function(batches):
            *earlier, last = batches
            with _discarding_step_logs(self):
                for data in earlier:
                    self.train_step(data)
            return self.train_step(last)

        self.train_function = train_function
        return train_function

    def make_test_function(self, force=False):
        if self.test_function is not None and not force:
            return self.test_function
        self._check_eager()

        def test_function(batches):
            *earlier, last = batches
            with _discarding_step_logs(self):
                for data in earlier:
                    self.test_step(data)
            return self.test_step(last)

        self.test_function = test_function
        return test_function

    def make_predict_function(self, force=False):
        if self.predict_function is not None and not force:
            return self.predict_function
        self._check_eager()

        def predict_function(batches):
            with torch.no_grad():
                return _stack_outputs([self.predict_step(data) for data in batches])

        self.predict_function = predict_function
        return predict_function


def normal(shape, seed, dtype=None):
    """`keras.random.normal`: arrays here are global, so is the noise."""
    return random.normal(shape, dtype=dtype, seed=seed)
