import os
import tempfile

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# JAX's persistent compilation cache: many tests build models of the same
# shapes (every estimator check fits a fresh tiny one), and keras retraces each
# new model, so most compilations repeat. Caching every compiled program on
# disk (threshold 0 s) halves the JAX suite's compile time; set as environment
# variables so that notebook kernels and CLI subprocesses share the cache.
os.environ.setdefault(
    "JAX_COMPILATION_CACHE_DIR",
    os.path.join(tempfile.gettempdir(), "keras-dde-test-jax-cache"),
)
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "-1")
# PyTorch's OpenMP pool spins on every op; the tests' models are tiny, and on a
# shared 2-core machine two spinning threads made a training step 3-7x slower
# than one (measured: 25-54 ms against 7-9 ms per step of a 32x3 MLP).
if os.environ.get("KERAS_BACKEND") == "torch":
    os.environ.setdefault("OMP_NUM_THREADS", "1")

import keras  # noqa: E402


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config):
    """The worker processes of `-n auto` (pyproject's addopts): two for the whole
    suite, except on JAX with a filled compilation cache; none for tests named
    on the command line.

    JAX's suite depends on its compilation cache: with an empty one (a fresh
    machine, as in CI) most of the time is compiling, which two workers share;
    with a filled one, XLA already runs on both cores and two workers slow each
    other. A file or test named on the command line runs in this process,
    without the workers' start-up. The timings are in docs/developers.md.
    """
    if config.args_source != pytest.Config.ArgsSource.TESTPATHS:
        return 0
    if (os.cpu_count() or 1) < 2:
        return 0
    if keras.backend.backend() == "jax":
        cache = os.environ["JAX_COMPILATION_CACHE_DIR"]
        return 0 if os.path.isdir(cache) and os.listdir(cache) else 2
    return 2


def pytest_report_header(config):
    return f"keras backend: {keras.backend.backend()} (keras {keras.__version__})"


_BACKEND_MARKERS = {
    "tensorflow_only": "tensorflow",
    "jax_only": "jax",
    "torch_only": "torch",
}


def pytest_collection_modifyitems(config, items):
    """Skips tests marked `<backend>_only` on the other backends."""
    backend = keras.backend.backend()
    for item in items:
        for marker, wanted in _BACKEND_MARKERS.items():
            if item.get_closest_marker(marker) and backend != wanted:
                item.add_marker(
                    pytest.mark.skip(reason=f"{wanted} backend only ({marker})")
                )
