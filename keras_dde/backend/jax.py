"""JAX: functional gradients over Keras variables held in a `StatelessScope`.

Keras's JAX trainer passes the model state explicitly. `StatefulTrainer` maps
that state onto the variables with a `StatelessScope`, runs the model's
stateful step (reads see the mapped values, `assign`s are recorded) and reads
the new state back. Inside a JAX transform, `_traced` re-maps the current
values (of the enclosing scope) into a child scope and returns what was
assigned there (e.g. a `SeedGenerator` state) as auxiliary output, so no
tracer escapes its transform.
"""

import contextlib
import itertools

import jax
import jax.numpy as jnp
import numpy as np
from keras import StatelessScope
from keras import distribution
from keras import random

from keras_dde.backend.model_kind import has_convolution

# Conv steps per jitted call (unrolled, not scanned: see `make_train_function`).
CONV_STEPS_PER_CALL = 8


def enclosing_scope():
    """The `keras.StatelessScope` in effect (Keras's or ours), or None.

    Public API only: entering a `StatelessScope` records the scope it was
    entered in as its `original_scope` attribute, so a probe scope, entered
    and left at once (without initialising variables), reports it.
    `keras_dde/backend/jax_test.py` pins this behaviour of Keras.
    """
    with StatelessScope(initialize_variables=False) as probe:
        pass
    return probe.original_scope


class _RecordingScope(StatelessScope):
    """A child scope that starts from its parent's values and records writes."""

    def __init__(self, parent, overrides):
        super().__init__()
        if parent is not None:
            self.state_mapping.update(parent.state_mapping)
        self.state_mapping.update(overrides)
        self.updated = {}

    def add_update(self, update):
        variable, value = update
        self.state_mapping[id(variable)] = value
        self.updated[id(variable)] = variable


def _traced(fn, variables=()):
    """`fn` as a function of `variables`' values, returning `(out, updates)`."""
    parent = enclosing_scope()
    written = []

    def wrapped(values, *args):
        overrides = {id(v): value for v, value in zip(variables, values)}
        with _RecordingScope(parent, overrides) as scope:
            out = fn(*args)
        written[:] = list(scope.updated.values())
        return out, [scope.state_mapping[id(v)] for v in written]

    def write_back(new_values):
        for variable, value in zip(written, new_values):
            variable.assign(value)  # Recorded by the parent scope, if any.

    return wrapped, write_back


def input_gradient(fn, x):
    wrapped, write_back = _traced(fn)
    values, vjp, updates = jax.vjp(lambda x: wrapped((), x), x, has_aux=True)
    (gradient,) = vjp(jnp.ones_like(values))
    write_back(updates)
    return values, gradient


def value_and_grad(loss_fn, variables, has_aux=False):
    variables = list(variables)
    wrapped, write_back = _traced(loss_fn, variables)

    def loss_with_state(values):
        out, updates = wrapped(values)
        loss, aux = out if has_aux else (out, None)
        return loss, (aux, updates)

    grad_fn = jax.value_and_grad(loss_with_state, has_aux=True)
    (loss, (aux, updates)), grads = grad_fn([v.value for v in variables])
    write_back(updates)
    return ((loss, aux) if has_aux else loss), grads


def _runs_of_equal_shape(batches):
    """Splits consecutive batches into runs whose leaves have equal shapes."""
    runs, last_shapes = [], None
    for batch in batches:
        shapes = tuple(np.shape(leaf) for leaf in jax.tree_util.tree_leaves(batch))
        if shapes != last_shapes:
            runs.append([])
            last_shapes = shapes
        runs[-1].append(batch)
    return runs


def _run_stateful(step_fn, variables, values, data):
    with StatelessScope(state_mapping=list(zip(variables, values))) as scope:
        logs = step_fn(data)
    new_values = []
    for variable, old in zip(variables, values):
        new = scope.get_current_value(variable)
        new_values.append(old if new is None else new)
    return logs, new_values


class StatefulTrainer:
    """Adapts stateful `stateful_train_step(data)` to JAX's `train_step(state, data)`."""

    def _state_groups(self, with_optimizer):
        groups = [self.trainable_variables, self.non_trainable_variables]
        if with_optimizer:
            groups.append(self.optimizer.variables)
        groups.append(self.metrics_variables)
        return groups

    def _run_with_state(self, step_fn, state, data, with_optimizer):
        groups = self._state_groups(with_optimizer)
        variables = [v for group in groups for v in group]
        values = [value for group in state for value in group]
        logs, new_values = _run_stateful(step_fn, variables, values, data)
        new_state, start = [], 0
        for group in groups:
            new_state.append(new_values[start : start + len(group)])
            start += len(group)
        return logs, tuple(new_state)

    def train_step(self, state, data):
        return self._run_with_state(
            self.stateful_train_step, state, data, with_optimizer=True
        )

    def test_step(self, state, data):
        return self._run_with_state(
            self.stateful_test_step, state, data, with_optimizer=False
        )

    def make_train_function(self, force=False):
        """Fuses `steps_per_execution` steps into one `lax.scan` under `jit`.

        Keras's JAX trainer runs `steps_per_execution` as a Python loop of
        jitted steps, paying a dispatch and a host-to-device copy per step;
        for small networks that overhead is most of the step. Runs of equally
        shaped batches are stacked and scanned in one call instead (one
        compilation per run length); a lone ragged batch runs on its own.

        Models with convolutions are not scanned: XLA's CPU backend runs
        convolutions inside a scan's loop body ~15x slower than in a step
        jitted alone (`benchmarks/results/images_throughput.md`). Their steps
        are unrolled instead, `CONV_STEPS_PER_CALL` per jitted call (one
        dispatch for several steps, each compiled as a step alone is; the
        compilation grows with the count): 0.82x the hand-jitted step at 1,
        0.91x at 4, 0.95x at 8 (`benchmarks/results/ceilings.md`).
        """
        if self.train_function is not None and not force:
            return
        super().make_train_function(force=force)
        if (
            self.steps_per_execution <= 1
            or self.run_eagerly
            or not self.jit_compile
            or distribution.distribution() is not None
        ):
            return
        steps = self.steps_per_execution
        single_step = jax.jit(self.train_step, donate_argnums=0)
        if has_convolution(self):
            if CONV_STEPS_PER_CALL <= 1:
                return
            block, block_length = self._unrolled_steps(), CONV_STEPS_PER_CALL
        else:
            block, block_length = self._scanned_steps(), steps

        def train_function(state, iterator):
            batches = list(itertools.islice(iterator, steps))
            if not batches:
                raise StopIteration
            logs = None
            for run in _runs_of_equal_shape(batches):
                for start in range(0, len(run), block_length):
                    group = run[start : start + block_length]
                    if len(group) == 1:
                        logs, state = single_step(state, group[0])
                    else:
                        stacked = jax.tree_util.tree_map(
                            lambda *leaves: np.stack(leaves), *group
                        )
                        logs, state = block(state, stacked)
            return logs, state

        self.train_function = train_function

    def _scanned_steps(self):
        """A jitted `lax.scan` of `train_step` over stacked batches."""

        def scan_steps(state, stacked_data):
            def body(state, data):
                logs, state = self.train_step(state, data)
                return state, logs

            state, logs = jax.lax.scan(body, state, stacked_data)
            return jax.tree_util.tree_map(lambda value: value[-1], logs), state

        return jax.jit(scan_steps, donate_argnums=0)

    def _unrolled_steps(self):
        """A jitted Python loop of `train_step` over stacked batches: one
        dispatch for several conv steps, each compiled as a step alone is."""

        def unrolled_steps(state, stacked_data):
            count = jax.tree_util.tree_leaves(stacked_data)[0].shape[0]
            for index in range(count):
                data = jax.tree_util.tree_map(lambda leaf: leaf[index], stacked_data)
                logs, state = self.train_step(state, data)
            return logs, state

        return jax.jit(unrolled_steps, donate_argnums=0)


def normal(shape, seed, dtype=None):
    """`keras.random.normal`: arrays here are global, so is the noise."""
    return random.normal(shape, dtype=dtype, seed=seed)


def inference():
    """A no-op here: this backend's inference results carry no graph."""
    return contextlib.nullcontext()
