"""The TrainingPanel's settings: their ranges, defaults and checks.

Plain python, no widgets: `PanelState` and the widget view share these
checks, so a setting is validated the same way whether it comes from the
constructor, from code or from a widget.
"""

import math
import numbers
import os

from keras_dde.datasets.toy2d import toy2d_names
from keras_dde.utils.validation import check_positive_int

# "multiscale": MultiScaleDDE; "dde": DDEModel; "gan": EnergyGAN. The first
# is the default: a single-sigma DDE gives separated modes arbitrary masses.
MODES = ("multiscale", "dde", "gan")
# The model buttons: short labels, so that three fit the 310 px column.
MODE_LABELS = (("multi-scale", "multiscale"), ("DDE", "dde"), ("EnergyGAN", "gan"))
MODE_TOOLTIPS = (
    "one energy for all noise levels up to the data's scale (MultiScaleDDE): "
    "the right masses of separated modes",
    "a DDE at one noise level (DDEModel): each separated mode gets an "
    "arbitrary mass",
    "a generator trained against two DDEs (EnergyGAN)",
)
VIEWS = ("density", "vector field", "samples")
# Slider ranges, as powers of ten.
SIGMA_EXPONENTS = (-3.0, 1.0)
LEARNING_RATE_EXPONENTS = (-5.0, 0.0)
BATCH_SIZES = (64, 128, 256, 512, 1024)
WIDTH_RANGE = (4, 256)
DEPTH_RANGE = (1, 8)
EPOCHS_RANGE = (1, 100_000)
# The settings that define a model: changing one starts a new model.
MODEL_KEYS = ("mode", "dataset", "sigma", "learning_rate", "width", "depth")
# The settings of one press of Train, as `PanelState.train` takes them.
SETTING_NAMES = MODEL_KEYS + ("batch_size", "epochs", "view")


def check_settings(settings):
    """Checks a dict of training settings; returns a checked copy.

    Args:
        settings: dict with the keys `SETTING_NAMES`: mode ("multiscale",
            "dde" or "gan"), dataset, sigma,
            learning_rate, width, depth, batch_size, epochs, view.

    Raises:
        ValueError: naming the setting and its allowed values.
    """
    missing = [name for name in SETTING_NAMES if name not in settings]
    if missing:
        raise ValueError(f"Missing settings {missing}; give all of {SETTING_NAMES}.")
    names = toy2d_names()
    if settings["dataset"] not in names:
        raise ValueError(
            f"`dataset` must be one of {', '.join(names)}; "
            f"received {settings['dataset']!r}."
        )
    for name, allowed in (("mode", MODES), ("view", VIEWS)):
        if settings[name] not in allowed:
            raise ValueError(
                f"`{name}` must be one of {allowed}; received {settings[name]!r}."
            )
    return {
        "mode": settings["mode"],
        "dataset": settings["dataset"],
        "view": settings["view"],
        "sigma": check_in_range(settings["sigma"], "sigma", SIGMA_EXPONENTS),
        "learning_rate": check_in_range(
            settings["learning_rate"], "learning_rate", LEARNING_RATE_EXPONENTS
        ),
        "batch_size": check_int(settings["batch_size"], "batch_size"),
        "width": check_int(settings["width"], "width", *WIDTH_RANGE),
        "depth": check_int(settings["depth"], "depth", *DEPTH_RANGE),
        "epochs": check_int(settings["epochs"], "epochs", *EPOCHS_RANGE),
    }


def check_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ValueError(f"`seed` must be an int; received {seed!r}.")
    return int(seed)


def check_path_text(path, name="export_path"):
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"`{name}` must be a str; received {path!r}.")
    return os.fspath(path)


def check_energy_network(energy_network):
    if energy_network is not None and not callable(energy_network):
        raise TypeError(
            "`energy_network` must be None or a callable "
            "`energy_network(input_dim, width, depth)` returning a Keras model; "
            f"received {type(energy_network).__name__}."
        )
    return energy_network


def check_mode_and_energy_network(mode, energy_network):
    """A panel's own `energy_network` is an energy of x alone: not for "multiscale"."""
    if energy_network is not None and mode == "multiscale":
        raise ValueError(ENERGY_NETWORK_NOT_MULTISCALE + " Pass `mode=\"dde\"` or "
                         "`mode=\"gan\"` with `energy_network`.")


# Why the multi-scale model can't use a panel's `energy_network`.
ENERGY_NETWORK_NOT_MULTISCALE = (
    "`energy_network` builds an energy of x alone; the multi-scale model "
    "needs s(x, sigma) and builds a `conditional_energy_mlp`."
)


def parse_sigma(text):
    """Reads a sigma typed as text: `(value, None)` or `(None, message)`.

    The message says what is wrong and what to type instead, e.g.
    "sigma '0' is not positive: ...".
    """
    text = str(text).strip()
    low, high = 10 ** SIGMA_EXPONENTS[0], 10 ** SIGMA_EXPONENTS[1]
    value = parse_number(text)
    if value is None or not math.isfinite(value):
        problem = "is not a number"
    elif value <= 0:
        problem = "is not positive: sigma is a noise level (a KDE bandwidth) and must be > 0"
    elif not low <= value <= high:
        problem = f"is outside [{low:g}, {high:g}]"
    else:
        return value, None
    return None, f"sigma {text!r} {problem}. Type a value such as 0.1."


def parse_number(text):
    try:
        return float(str(text).strip())
    except ValueError:
        return None


def format_number(value):
    """Four significant digits, without trailing zeros: 0.1, 0.002, 1e-05."""
    return f"{value:.4g}"


def check_in_range(value, name, exponents):
    low, high = 10 ** exponents[0], 10 ** exponents[1]
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"`{name}` must be a number; received {value!r}.")
    value = float(value)
    if not (math.isfinite(value) and low <= value <= high):
        raise ValueError(
            f"`{name}` must be in [{low:g}, {high:g}]; received {value!r}."
        )
    return value


def check_int(value, name, low=1, high=None):
    try:
        value = check_positive_int(value, name)
    except TypeError as error:
        raise ValueError(str(error)) from error
    if value < low or (high is not None and value > high):
        bounds = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"`{name}` must be an int {bounds}; received {value}.")
    return value
