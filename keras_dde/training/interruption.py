"""The one interruption path: `fit` tells callbacks that it was interrupted.

Keras calls `on_train_end` only when `fit` completes. The models of this
package (`DDEModel`, `EnergyGAN` and their subclasses) wrap Keras's `fit` so
that an exception or `KeyboardInterrupt` first calls
`callback.on_train_interrupted(error)` on every callback that defines it
(e.g. the frame callbacks, which then write their GIF), then propagates
unchanged. `on_train_interrupted` is a keras-dde hook, not a Keras one.
"""

import warnings


def notify_interrupted(callbacks, error=None):
    """Calls `on_train_interrupted(error)` on the callbacks that define it.

    Args:
        callbacks: a list of callbacks, a `keras.callbacks.CallbackList`, a
            single callback, or None.
        error: the exception that interrupted training.

    A hook that raises does not mask `error`: its failure is issued as a
    `RuntimeWarning`.
    """
    if callbacks is None:
        return
    callbacks = getattr(callbacks, "callbacks", callbacks)
    if not isinstance(callbacks, (list, tuple)):
        callbacks = [callbacks]
    for callback in callbacks:
        hook = getattr(callback, "on_train_interrupted", None)
        if not callable(hook):
            continue
        try:
            hook(error)
        except Exception as hook_error:  # Never mask the original error.
            warnings.warn(
                f"{type(callback).__name__}.on_train_interrupted failed: "
                f"{hook_error}",
                RuntimeWarning,
                stacklevel=2,
            )

