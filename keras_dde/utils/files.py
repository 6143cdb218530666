"""Atomic writes of GIFs and figures: a temporary file, then `os.replace`."""

import contextlib
import os
import tempfile

import numpy as np


def check_output_path(path, name="path", suffixes=None, create_parent=True):
    """Checks that `path` can be written, and returns it as an absolute str.

    The parent folder is created if needed, and a temporary file is created
    and removed there, so that an unwritable location fails now and not after
    training.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`{name}` must be a path (str); received {path!r}.")
    path = os.path.abspath(os.fspath(path))
    if suffixes and not path.lower().endswith(tuple(suffixes)):
        raise ValueError(
            f"`{name}` must end with {' or '.join(suffixes)}; received {path!r}."
        )
    if os.path.isdir(path):
        raise ValueError(f"`{name}` is a folder, not a file: {path!r}.")
    parent = os.path.dirname(path)
    try:
        if create_parent:
            os.makedirs(parent, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".probe-", dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        raise ValueError(
            f"`{name}` cannot be written: {path!r} ({error.strerror or error})."
        ) from error
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise ValueError(f"`{name}` exists and is not writable: {path!r}.")
    return path


@contextlib.contextmanager
def atomic_path(path, suffix=""):
    """Yields a temporary path beside `path`, moved onto `path` on success."""
    path = os.path.abspath(os.fspath(path))
    fd, temporary = tempfile.mkstemp(
        prefix=f".{os.path.basename(path)}.", suffix=suffix or ".tmp",
        dir=os.path.dirname(path),
    )
    os.close(fd)
    try:
        yield temporary
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def write_gif(frames, path, fps=10, loop=0, hold_last=1.0):
    """Writes RGB frames to an animated GIF, atomically.

    Args:
        frames: a sequence of `(H, W, 3)` uint8 arrays of equal shape.
        path: the `.gif` file to write; replaced only once the new file is
            complete, so an interruption never leaves a corrupt GIF.
        fps: float, frames per second.
        loop: int, 0 loops forever.
        hold_last: float, extra seconds the last frame stays on screen.

    Returns:
        The absolute path written.

    Example:
    ```python
    from keras_dde.utils.files import write_gif

    frames = keras_dde.callbacks.DensityFrames(every=10)  # no GIF of its own
    dde.fit(x, batch_size=512, epochs=50, callbacks=[frames])
    write_gif(frames.frames, "training.gif", fps=12)
    ```
    """
    import imageio.v3 as iio

    frames = [np.asarray(frame) for frame in frames]
    if not frames:
        raise ValueError("`frames` is empty: there is nothing to write.")
    shape = frames[0].shape
    if len(shape) != 3 or shape[-1] not in (3, 4):
        raise ValueError(f"Frames must be (H, W, 3) RGB arrays; got shape {shape}.")
    if any(frame.shape != shape for frame in frames):
        raise ValueError("All frames must have the same shape.")
    if not fps > 0:
        raise ValueError(f"`fps` must be positive; received {fps!r}.")
    stack = np.stack(frames).astype("uint8", copy=False)
    duration = 1000.0 / fps
    durations = [duration] * len(frames)
    durations[-1] += 1000.0 * max(hold_last, 0.0)
    if len(durations) == 1:
        # Pillow takes a list of durations only for several frames (a run
        # interrupted in its first epoch has one frame).
        durations = durations[0]
    path = os.path.abspath(os.fspath(path))
    with atomic_path(path, suffix=".gif") as temporary:
        iio.imwrite(
            temporary, stack, extension=".gif", duration=durations, loop=loop
        )
    return path


def save_figure(figure, path, **savefig_kwargs):
    """`figure.savefig(path)`, atomically (format from the file's suffix)."""
    path = os.path.abspath(os.fspath(path))
    suffix = os.path.splitext(path)[1]
    with atomic_path(path, suffix=suffix) as temporary:
        figure.savefig(temporary, **savefig_kwargs)
    return path
