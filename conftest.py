import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402


def pytest_report_header(config):
    return f"keras backend: {keras.backend.backend()} (keras {keras.__version__})"


_BACKEND_MARKERS = {
    "tensorflow_only": "tensorflow",
    "jax_only": "jax",
    "torch_only": "torch",
}


def pytest_collection_modifyitems(config, items):
    """Skips tests marked `<backend>_only` on the other backends."""
    import pytest

    backend = keras.backend.backend()
    for item in items:
        for marker, wanted in _BACKEND_MARKERS.items():
            if item.get_closest_marker(marker) and backend != wanted:
                item.add_marker(
                    pytest.mark.skip(reason=f"{wanted} backend only ({marker})")
                )
