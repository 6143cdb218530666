import keras
from keras import ops


class SigmaScheduler(keras.callbacks.Callback):
    """Sets a `DDEModel`'s noise level at the start of every epoch.

    The `sigma` counterpart of `keras.callbacks.LearningRateScheduler`.
    Training first at a large sigma, where neighbouring modes overlap, and
    then lowering it fixes the relative mass of separated modes, which
    score matching at a small sigma alone learns poorly.

    Args:
        schedule: a function of the epoch index (from 0) returning sigma, or
            a `keras.optimizers.schedules` object such as
            `keras_dde.schedules.GeometricSigmaDecay` (called with the epoch).
        verbose: 0 or 1; 1 prints the new sigma at each epoch.

    Example:
    ```python
    dde = keras_dde.DDEModel(keras_dde.models.energy_mlp(2), sigma=1.0)
    dde.compile()
    anneal = keras_dde.callbacks.SigmaScheduler(
        keras_dde.schedules.GeometricSigmaDecay(1.0, 0.05, 0.5, decay_steps=20)
    )
    dde.fit(x, epochs=200, callbacks=[anneal])  # ends at sigma 0.05
    ```

    References:
        - [Song & Ermon, 2019](https://arxiv.org/abs/1907.05600)
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(
                "`schedule` must be a function of the epoch or a keras "
                f"schedule object; received {type(schedule).__name__}."
            )
        self.schedule = schedule
        self.verbose = verbose

    def on_train_begin(self, logs=None):
        if not hasattr(self.model, "sigma_variable"):
            raise TypeError(
                "`SigmaScheduler` needs a keras_dde.DDEModel; the model is a "
                f"{type(self.model).__name__}. For an EnergyGAN pass "
                "`sigma_schedule=` to its constructor."
            )

    def on_epoch_begin(self, epoch, logs=None):
        sigma = float(ops.convert_to_numpy(self.schedule(epoch)))
        self.model.sigma = sigma  # Validated by the model's setter.
        if self.verbose:
            print(f"\nEpoch {epoch + 1}: SigmaScheduler setting sigma to {sigma:.4g}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["sigma"] = self.model.sigma
