"""Keras plumbing shared by the models of keras-dde (`DDEModel`, `EnergyGAN`).

`CheckedModel` is a `keras.Model` base whose `fit` and `evaluate`:

- validate array data (finite, `(n_samples, *features)`, float32) and sample
  weights before training starts;
- record the training data's statistics (`_record_data_statistics`), on the
  samples `fit` trains on: the `validation_split` tail is excluded;
- read a memory-mapped array (`np.memmap`, `np.load(..., mmap_mode="r")`)
  batch by batch (`MemmapBatches`), its statistics in one streaming pass;
- record the statistics of a `tf.data.Dataset` or `keras.utils.PyDataset`
  in one streaming pass before training, when the model still needs them
  (`_needs_data_statistics`);
- refuse several TensorFlow workers or PyTorch processes (JAX trains
  several, `keras_dde.utils.processes`);
- refuse a `keras.callbacks.BackupAndRestore` folder that holds another
  model's backup, with a clear error, leaving it intact;
- add a `StopOnDivergence` guard (`stop_on_divergence=True`);
- call `callback.on_train_interrupted(error)` when `fit` raises (the one
  interruption path, `keras_dde.training.notify_interrupted`).

Its `compile` refuses the arguments such a model sets itself. A subclass
writes `stateful_train_step(data)` and `stateful_test_step(data)` (run by
`keras_dde.backend.StatefulTrainer` on every backend), which return
`self._logs()`, `feature_shape` and, optionally, `_record_data_statistics`.
"""

import os

import keras
import numpy as np

from keras_dde import backend
from keras_dde.training.interruption import notify_interrupted
from keras_dde.training.memmap_batches import MemmapBatches
from keras_dde.training.stop_on_divergence import with_divergence_guard
from keras_dde.utils.processes import check_multiprocess_support
from keras_dde.utils.validation import check_data
from keras_dde.utils.validation import check_sample_weight
from keras_dde.utils.validation import is_array_like


def is_repeatable_dataset(data):
    """True for a `tf.data.Dataset` or a `keras.utils.PyDataset`, which can
    be read once for statistics and again for training (a Python generator
    cannot)."""
    if isinstance(data, keras.utils.PyDataset):
        return True
    return type(data).__module__.startswith("tensorflow") and hasattr(
        data, "element_spec"
    )


class CheckedModel(backend.StatefulTrainer, keras.Model):
    """A `keras.Model` with checked `fit`/`evaluate` and a divergence guard."""

    @property
    def feature_shape(self):
        """The per-sample shape of the training data, or None if unknown."""
        raise NotImplementedError

    # True while a trainer runs steps whose logs it discards (PyTorch: all
    # but the last of `steps_per_execution` steps); see `_logs`.
    _discards_step_logs = False

    def _logs(self):
        """A train or test step's logs: each tracker's `result()`.

        Empty for a step whose logs the trainer discards: on eager PyTorch
        every `result()` runs (and costs) even when no one reads it.
        """
        if self._discards_step_logs:
            return {}
        return {m.name: m.result() for m in self.metrics}

    def _prepare_data(self, x, name):
        """Hook: array data after validation (e.g. build the model for it)."""
        return x

    def _record_data_statistics(self, x, sample_weight):
        """Hook: the array training data (without its validation tail), or
        a dataset's batches (when `_needs_data_statistics()`)."""

    def _needs_data_statistics(self):
        """Hook: True when `fit` on a `tf.data.Dataset` or a
        `keras.utils.PyDataset` should first record its statistics (one
        streaming pass over it)."""
        return False

    def _checked(self, x, name):
        """Array data is validated and cast to float32; datasets pass through."""
        if x is None or not is_array_like(x):
            return x
        return self._prepare_data(check_data(x, name, self.feature_shape), name)

    def _memmap_batches(self, x, y, kwargs):
        """A memory-mapped `x` as `MemmapBatches` (data larger than memory),
        its statistics recorded in one streaming pass."""
        for name, given in (
            ("y", y is not None),
            ("sample_weight", kwargs.get("sample_weight") is not None),
            ("validation_split", bool(kwargs.get("validation_split"))),
        ):
            if given:
                raise ValueError(
                    f"`fit` on a memory-mapped `x` takes no `{name}`: it is "
                    "read batch by batch. Pass `validation_data` instead of a "
                    "split, or a `keras.utils.PyDataset` yielding "
                    "`(x, y, sample_weight)` batches."
                )
        kwargs.pop("validation_split", None)
        kwargs.pop("sample_weight", None)
        head = self._checked(np.asarray(x[:1]), "x")  # builds the model
        batches = MemmapBatches(
            x, kwargs.pop("batch_size", None) or 32, head.shape[1:], "x"
        )
        self._record_data_statistics(batches, None)
        return batches

    def _check_backups(self, callbacks):
        """Raises before training for a `BackupAndRestore` folder whose
        backup does not fit this model (e.g. another model's), leaving it
        intact. A backup that fits is loaded here, and again by Keras."""
        callbacks = getattr(callbacks, "callbacks", callbacks) or ()
        for callback in callbacks:
            if not isinstance(callback, keras.callbacks.BackupAndRestore):
                continue
            path = callback._weights_path
            if not self.built or not os.path.exists(path):
                continue
            optimizer = getattr(self, "optimizer", None)
            if optimizer is not None and not optimizer.built:
                optimizer.build(self.trainable_variables)
            try:
                self.load_weights(path)
            except ValueError as error:
                cause = str(error).strip().splitlines()
                raise ValueError(
                    f"The backup in {callback.backup_dir!r} is not a backup of "
                    f"this {type(self).__name__}: its weights do not fit the "
                    f"model ({cause[0] if cause else type(error).__name__}). "
                    "It is left as it is: pass another `backup_dir` to start "
                    "afresh, or delete the folder to discard it."
                ) from error

    def _refuse_compile_arguments(self, **arguments):
        """Raises a clear error for `compile` arguments the model sets itself."""
        for name, value in arguments.items():
            if value is None or (name == "metrics" and not value):
                continue
            raise ValueError(
                f"`{type(self).__name__}.compile` takes no `{name}`: the model "
                "trains with its own losses and reports its own metrics; do "
                f"not pass `{name}`."
            )

    def fit(
        self,
        x=None,
        y=None,
        *args,
        validation_data=None,
        stop_on_divergence=True,
        **kwargs,
    ):
        """`keras.Model.fit`, with checks of array data and a divergence guard.

        Array data is validated (finite, `(n_samples, *features)`) and cast to
        float32 before training starts, and its statistics are recorded
        (without the `validation_split` tail). A `tf.data.Dataset` or a
        `keras.utils.PyDataset` is read once for its statistics first when
        the model has none yet (a Python generator, which cannot be read
        twice, is not: call `set_data_statistics` first). With `stop_on_divergence=True`,
        a `keras_dde.training.StopOnDivergence` is added to the callbacks: a
        NaN or Inf loss stops training and restores the last finite weights.
        If `fit` raises (or is interrupted), callbacks that define
        `on_train_interrupted(error)` are told first (frame callbacks then
        write their GIF).

        Several processes train on JAX only (`jax.distributed`, with each
        process passing its own shard: the data statistics are gathered
        across processes); several TensorFlow workers or PyTorch processes
        raise a `RuntimeError` here, before training
        (`keras_dde.utils.processes.check_multiprocess_support`).
        """
        check_multiprocess_support(self)
        kwargs["callbacks"] = with_divergence_guard(
            kwargs.get("callbacks"), stop_on_divergence
        )
        if is_repeatable_dataset(x) and self._needs_data_statistics():
            # One streaming pass over the batches, before training.
            self._record_data_statistics(x, None)
        if isinstance(x, np.memmap):
            x = self._memmap_batches(x, y, kwargs)
        x = self._checked(x, "x")
        self._check_backups(kwargs["callbacks"])
        if validation_data is not None and is_array_like(validation_data):
            validation_data = self._checked(validation_data, "validation_data")
        arrays = x is not None and is_array_like(x)
        has_weights = kwargs.get("sample_weight") is not None and arrays
        if has_weights:
            kwargs["sample_weight"] = check_sample_weight(
                kwargs["sample_weight"], len(x)
            )
        if arrays:
            # Keras trains on the head of the data and validates on the tail.
            split = kwargs.get("validation_split") or 0.0
            count = len(x) - int(len(x) * split) if split else len(x)
            weights = kwargs["sample_weight"][:count] if has_weights else None
            self._record_data_statistics(x[:count], weights)
        if has_weights and y is None:
            # Keras drops sample weights when `y` is None; an unused
            # placeholder target keeps them.
            y = np.zeros(len(x), "float32")
        try:
            return super().fit(
                x, y, *args, validation_data=validation_data, **kwargs
            )
        except BaseException as error:
            notify_interrupted(kwargs.get("callbacks"), error)
            raise

    def evaluate(self, x=None, *args, **kwargs):
        return super().evaluate(self._checked(x, "x"), *args, **kwargs)
