import contextlib
import warnings


@contextlib.contextmanager
def interruption_hook(callbacks):
    """Tells callbacks when the `fit` inside this block is interrupted.

    Keras calls `on_train_end` only when `fit` completes. Inside this block,
    an exception or `KeyboardInterrupt` first calls
    `callback.on_train_interrupted(error)` on every callback that defines it
    (e.g. the frame callbacks, which then write their GIF), then propagates
    unchanged. A model's `fit` can wrap `super().fit(...)` in it; users can
    wrap their own `fit` calls.

    Args:
        callbacks: a list of callbacks, a `keras.callbacks.CallbackList`, or
            None.

    Example:
    ```python
    frames = keras_dde.callbacks.DensityFrames("density.gif")
    with keras_dde.callbacks.interruption_hook([frames]):
        dde.fit(x, epochs=1000, callbacks=[frames])
    ```
    """
    try:
        yield
    except BaseException as error:
        notify_interrupted(callbacks, error)
        raise


def notify_interrupted(callbacks, error=None):
    """Calls `on_train_interrupted(error)` on the callbacks that define it."""
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
