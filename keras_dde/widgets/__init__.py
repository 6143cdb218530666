"""ipywidgets control panels for notebooks: train a DDE live and watch it.

`TrainingPanel` is the widget view; `PanelState` is what it does (model,
training thread, frames, messages), usable and testable without widgets.

Needs the optional `tutorials` extra: `pip install "keras-dde[tutorials]"`.
"""

try:
    import ipywidgets  # noqa: F401
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "keras_dde.widgets needs ipywidgets; install the tutorials extra: "
        'pip install "keras-dde[tutorials]"'
    ) from error

from keras_dde.widgets.panel_callback import PanelCallback
from keras_dde.widgets.panel_state import PanelListener
from keras_dde.widgets.panel_state import PanelState
from keras_dde.widgets.training_panel import TrainingPanel

__all__ = ["PanelCallback", "PanelListener", "PanelState", "TrainingPanel"]
