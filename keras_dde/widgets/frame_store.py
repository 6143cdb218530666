"""The frames a TrainingPanel recorded, per view, with their labels and PNGs."""

import threading

from keras_dde.callbacks.thinning import thin_frames
from keras_dde.widgets.images import png_bytes

# Frames kept per view; beyond it every second frame is dropped.
MAX_FRAMES = 300


class FrameStore:
    """Frames of each view, thread safe: the training thread adds, the UI reads.

    Each frame is kept three ways: the RGB array (for GIFs), its label (the
    epoch it shows) and its PNG bytes (what `ipywidgets.Image` displays,
    encoded once in the training thread). Beyond `max_frames` per view every
    second frame is dropped, the newest always kept, so memory stays bounded
    during long runs.

    Args:
        views: the names of the views.
        max_frames: int, frames kept per view.
    """

    def __init__(self, views, max_frames=MAX_FRAMES):
        self.views = tuple(views)
        self.max_frames = int(max_frames)
        self.lock = threading.RLock()
        self.clear()

    def clear(self, view=None):
        """Drops the frames of `view`, or of every view."""
        with self.lock:
            if view is None:
                self._frames = {name: [] for name in self.views}
                self._labels = {name: [] for name in self.views}
                self._pngs = {name: [] for name in self.views}
            else:
                self._frames[view], self._labels[view], self._pngs[view] = [], [], []

    def add(self, view, frames, labels):
        """Appends RGB `frames` and their `labels` to `view`, thinning if full."""
        pngs = [png_bytes(frame) for frame in frames]  # Outside the lock: slow.
        with self.lock:
            self._frames[view].extend(frames)
            self._labels[view].extend(labels)
            self._pngs[view].extend(pngs)
            if len(self._frames[view]) > self.max_frames:
                # The thinning rule of `FrameCallback(max_frames=)`.
                self._frames[view], self._labels[view], self._pngs[view] = thin_frames(
                    self._frames[view], self._labels[view], self._pngs[view])

    def frames(self, view):
        """A copy of the RGB frames of `view`."""
        with self.lock:
            return list(self._frames[view])

    def count(self, view):
        with self.lock:
            return len(self._frames[view])

    def any(self):
        """True if any view has a frame."""
        with self.lock:
            return any(self._frames.values())

    def png(self, view, index):
        """`(png_bytes, label, index, count)` of frame `index` (clipped), or None."""
        with self.lock:
            pngs = self._pngs[view]
            if not pngs:
                return None
            index = min(max(int(index), 0), len(pngs) - 1)
            return pngs[index], self._labels[view][index], index, len(pngs)

