"""Deprecated: the file helpers moved to `keras_dde.utils.files`.

This module re-exports them so that old imports keep working.
"""

from keras_dde.utils.files import atomic_path
from keras_dde.utils.files import check_output_path
from keras_dde.utils.files import save_figure
from keras_dde.utils.files import write_gif

__all__ = ["atomic_path", "check_output_path", "save_figure", "write_gif"]
