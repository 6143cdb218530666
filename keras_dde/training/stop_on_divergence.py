import math
import warnings

import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="keras_dde")
class StopOnDivergence(keras.callbacks.Callback):
    """Stops `fit` when a loss becomes NaN or Inf and restores the last finite weights.

    `DDEModel.fit` and `EnergyGAN.fit` add one by default (opt out with
    `fit(..., stop_on_divergence=False)`, or pass your own instance in
    `callbacks` to change its settings). A diverged run then ends with the
    model as it was at the end of the last epoch whose losses and weights
    were all finite, a `RuntimeWarning` that says so, and the frames and
    GIFs of frame callbacks written as at any other end of training.

    How it works. At the start of training and at the end of every epoch
    whose losses and weights are finite, it keeps a numpy copy of the
    model's weights (trainable and non-trainable) and of the optimizer's
    state (a few hundred kB for the models of this package). After every
    train call (every `steps_per_execution` steps) it looks at the losses
    in `logs`, which are running means over the epoch, so a NaN shows up in
    the call where it first appeared. On a non-finite loss, or non-finite
    weights at an epoch's end (a step can produce NaN weights from a finite
    loss), it restores the last copy and sets `model.stop_training`. The
    copy is taken only at epoch ends because on JAX reading the weights
    mid-epoch forces a device-to-host sync.

    Args:
        monitor: None (every training log whose name ends in "loss", e.g.
            `loss` for a `DDEModel`, `generator_loss`, `real_dde_loss`,
            `fake_dde_loss` for an `EnergyGAN`), or a name or list of names.
        restore_weights: bool, restore the last finite weights and optimizer
            state when training diverges. False only stops training.
        verbose: int, 1 also prints the message (it is always issued as a
            `RuntimeWarning`).

    Attributes:
        diverged: bool, True once training diverged.
        stopped_epoch: int or None, the (0-based) epoch in which it diverged.
        restored_epoch: int or None, the number of epochs completed by the
            weights restored (0: the weights before training).
        message: str or None, the warning issued.

    Example:
    ```python
    dde = keras_dde.DDEModel(keras_dde.models.energy_mlp(2), sigma=0.1)
    dde.compile(optimizer=keras.optimizers.SGD(1e6))  # far too large
    history = dde.fit(x, epochs=100)  # warns and stops early; weights finite
    # A model of your own: add it yourself.
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, x[:, :1], callbacks=[keras_dde.training.StopOnDivergence()])
    ```
    """

    def __init__(self, monitor=None, restore_weights=True, verbose=0):
        super().__init__()
        if monitor is not None:
            names = [monitor] if isinstance(monitor, str) else monitor
            if not isinstance(names, (list, tuple)) or not names or not all(
                isinstance(name, str) for name in names
            ):
                raise TypeError(
                    "`monitor` must be None, a log name such as 'loss', or a "
                    f"list of names; received {monitor!r}."
                )
            monitor = list(names)
        self.monitor = monitor
        self.restore_weights = bool(restore_weights)
        self.verbose = verbose
        self._reset()

    def _reset(self):
        self.diverged = False
        self.stopped_epoch = None
        self.restored_epoch = None
        self.message = None
        self._snapshot = None
        self._snapshot_epoch = None
        self._epoch = 0

    # --- Keras hooks -------------------------------------------------------

    def on_train_begin(self, logs=None):
        self._reset()
        self._take_snapshot(epochs_done=0)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.diverged:
            return
        bad = self._non_finite_logs(logs)
        if bad:
            self._diverge(f"{bad} at epoch {self._epoch + 1}, step {batch + 1}")

    def on_epoch_end(self, epoch, logs=None):
        if self.diverged:
            return
        bad = self._non_finite_logs(logs)
        if bad:
            self._diverge(f"{bad} at epoch {epoch + 1}")
            return
        arrays = self._current_state()
        names = self._first_non_finite(arrays)
        if names is not None:
            self._diverge(f"non-finite values in {names} at the end of epoch {epoch + 1}")
            return
        self._snapshot = arrays
        self._snapshot_epoch = epoch + 1

    # --- What it checks ------------------------------------------------------

    def _non_finite_logs(self, logs):
        return non_finite_logs(logs, self.monitor)

    def _variables(self):
        """The variables kept, by group.

        Non-trainable weights are restored but not checked: some are NaN by
        design (e.g. a DDE's `log_z` before `log_partition` is called).
        """
        model = self.model
        trainable = list(model.trainable_weights)
        ids = {id(v) for v in trainable}
        variables = {
            "weights": trainable,
            "other": [v for v in model.weights if id(v) not in ids],
        }
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None and getattr(optimizer, "built", True):
            variables["optimizer"] = list(optimizer.variables)
        return variables

    def _current_state(self):
        return {
            # A copy: on PyTorch the numpy array would share the memory that
            # the optimizer updates in place.
            group: [np.array(ops.convert_to_numpy(v)) for v in variables]
            for group, variables in self._variables().items()
        }

    def _first_non_finite(self, arrays):
        for group in ("weights", "optimizer"):
            for value in arrays.get(group, ()):
                if np.issubdtype(value.dtype, np.floating) and not np.isfinite(
                    value
                ).all():
                    return "the model's weights" if group == "weights" else (
                        "the optimizer's state"
                    )
        return None

    def _take_snapshot(self, epochs_done):
        arrays = self._current_state()
        if self._first_non_finite(arrays) is None:
            self._snapshot = arrays
            self._snapshot_epoch = epochs_done

    # --- What it does ----------------------------------------------------------

    def _diverge(self, what):
        self.diverged = True
        self.stopped_epoch = self._epoch
        self.model.stop_training = True
        restored = self.restore_weights and self._snapshot is not None
        if restored:
            self._restore()
            self.restored_epoch = self._snapshot_epoch
            when = (
                "the weights from before training"
                if self._snapshot_epoch == 0
                else f"the weights of the end of epoch {self._snapshot_epoch}"
            )
            outcome = f"Training stopped and {when} (the last finite ones) were restored."
        elif self.restore_weights:
            outcome = "Training stopped; no finite weights were kept to restore."
        else:
            outcome = "Training stopped (restore_weights=False: weights not restored)."
        self.message = (
            f"Training diverged: {what}. {outcome} Lower the learning rate, "
            "clip gradients (e.g. `keras.optimizers.Adam(1e-3, clipnorm=1.0)`) "
            "or check the data's scale; frames drawn so far are kept."
        )
        warnings.warn(self.message, RuntimeWarning, stacklevel=2)
        if self.verbose:
            print(self.message)

    def _restore(self):
        for group, variables in self._variables().items():
            values = self._snapshot.get(group)
            if values is None or len(values) != len(variables):
                continue
            for variable, value in zip(variables, values):
                variable.assign(value)

    def get_config(self):
        return {
            "monitor": self.monitor,
            "restore_weights": self.restore_weights,
            "verbose": self.verbose,
        }


def non_finite_logs(logs, monitor=None):
    """Names the first non-finite training loss in `logs`, or returns None.

    The one NaN/Inf check of keras-dde, used by `StopOnDivergence` and by
    anything else that watches training logs (e.g. the `TrainingPanel`).

    Args:
        logs: a dict of log values (floats or scalar tensors), as Keras
            passes to callbacks; None is treated as empty.
        monitor: None (every log whose name ends in "loss", validation logs
            excluded) or a list of log names.

    Returns:
        A string such as `"loss = nan"` for the first non-finite monitored
        value, or None when all are finite (values that are not numbers are
        ignored).

    Example:
    ```python
    keras_dde.training.non_finite_logs({"loss": float("nan")})  # "loss = nan"
    ```
    """
    logs = logs or {}
    if monitor is not None:
        monitored = {name: logs[name] for name in monitor if name in logs}
    else:
        monitored = {
            name: value
            for name, value in logs.items()
            if name.endswith("loss") and not name.startswith("val_")
        }
    for name, value in monitored.items():
        try:
            value = float(ops.convert_to_numpy(value))
        except (TypeError, ValueError):
            continue
        if not math.isfinite(value):
            return f"{name} = {value}"
    return None


def with_divergence_guard(callbacks, enabled=True):
    """`callbacks` with a `StopOnDivergence` first, unless one is there already.

    Args:
        callbacks: None, a callback, or a list/tuple of callbacks (what
            `fit` takes). Anything else is returned unchanged.
        enabled: bool; False returns `callbacks` unchanged.
    """
    if not isinstance(enabled, bool):
        raise TypeError(
            "`stop_on_divergence` must be True or False; received "
            f"{enabled!r}. To change its settings, pass "
            "`keras_dde.training.StopOnDivergence(...)` in `callbacks`."
        )
    if not enabled:
        return callbacks
    if callbacks is None:
        callbacks = []
    elif isinstance(callbacks, keras.callbacks.Callback):
        callbacks = [callbacks]
    elif not isinstance(callbacks, (list, tuple)):
        return callbacks
    if any(isinstance(callback, StopOnDivergence) for callback in callbacks):
        return list(callbacks)
    # First, so that it restores the weights before other callbacks (frames,
    # checkpoints) see the diverged model.
    return [StopOnDivergence(), *callbacks]
