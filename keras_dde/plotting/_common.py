"""Deprecated: this module is public now, as `keras_dde.plotting.common`."""

from keras_dde.plotting.common import *  # noqa: F401,F403
from keras_dde.plotting.common import style_axes as _style  # noqa: F401
