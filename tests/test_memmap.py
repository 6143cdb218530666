"""`fit` on a memory-mapped .npy larger than the memory it may use.

A worker process writes a 256 MB float32 `.npy` (1M rows, 64 features),
opens it with `np.load(..., mmap_mode="r")` and fits a `MultiScaleDDE`
(`sigma_max=None`, Gaussian base: its statistics must come from the file)
for one epoch, sampling its anonymous resident memory (`RssAnon`: what the
process holds; the file's mapped pages are the kernel's page cache and count
as `RssFile`) every 5 ms. The growth over the memory held before `fit` must
stay below a quarter of the file (with `MALLOC_ARENA_MAX=2`, see below).

    python tests/test_memmap.py FOLDER   # prints JSON
"""

import json
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

ROWS, FEATURES = 1 << 20, 64
CAP = ROWS * FEATURES * 4 // 4  # bytes: a quarter of the file


def anonymous_rss():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no RssAnon")


def worker(folder):
    import keras

    import keras_dde

    path = os.path.join(folder, "x.npy")
    out = np.lib.format.open_memmap(path, "w+", "float32", (ROWS, FEATURES))
    chunk = 1 << 16
    rng = np.random.default_rng(0)
    for start in range(0, ROWS, chunk):
        out[start : start + chunk] = rng.standard_normal((chunk, FEATURES)) * 2.0 + 1.0
    out.flush()
    del out
    x = np.load(path, mmap_mode="r")
    keras.utils.set_random_seed(0)
    network = keras_dde.models.conditional_energy_mlp(FEATURES, width=16, depth=1)
    dde = keras_dde.MultiScaleDDE(network, sigma=0.5, seed=0)
    # The working set is steps_per_execution batches (stacked for one call).
    dde.compile(steps_per_execution=4)
    # Compile the steps first, on a slice of the file: the growth then
    # measures the data's share.
    dde.fit(x[: 8 * 4096], batch_size=4096, verbose=0)
    peak, done = [anonymous_rss()], threading.Event()
    before = peak[0]

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], anonymous_rss())
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    start = time.perf_counter()
    history = dde.fit(x, batch_size=4096, epochs=1, verbose=0)
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    mean, covariance = (np.asarray(m) for m in dde.data_statistics.moments())
    print(json.dumps({
        "growth": peak[0] - before,
        "seconds": seconds,
        "loss": float(history.history["loss"][-1]),
        "count": float(keras.ops.convert_to_numpy(dde.data_statistics.count)),
        "mean": mean.tolist(),
        "variance": np.diag(covariance).tolist(),
        "sigma_max": dde.sigma_max,
        "file": os.path.getsize(path),
    }))


@pytest.mark.slow
def test_fit_on_a_memmap_4x_the_memory_cap(tmp_path):
    import keras

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    # glibc gives each thread that allocates (Keras reads a PyDataset in a
    # thread pool) its own arena, and keeps freed memory there: 80 MB here,
    # once, whatever the file's size. Two arenas measure the data's share.
    env = dict(
        os.environ, KERAS_BACKEND=keras.backend.backend(), TF_CPP_MIN_LOG_LEVEL="3",
        MALLOC_ARENA_MAX="2",
    )
    env["PYTHONPATH"] = os.pathsep.join([root, env.get("PYTHONPATH", "")])
    result = subprocess.run(
        [sys.executable, __file__, str(tmp_path)], env=env, capture_output=True,
        text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["file"] >= 4 * CAP
    assert report["growth"] < CAP, report["growth"] / 2**20
    assert report["count"] == ROWS and np.isfinite(report["loss"])
    np.testing.assert_allclose(report["mean"], 1.0, atol=0.01)
    np.testing.assert_allclose(report["variance"], 4.0, rtol=0.02)
    assert report["sigma_max"] > 0


def _small_multiscale():
    import keras_dde

    network = keras_dde.models.conditional_energy_mlp(2, width=8, depth=1)
    model = keras_dde.MultiScaleDDE(network, sigma=0.2, seed=0)
    model.compile()
    return model


def test_a_memmap_or_dataset_of_another_shape_is_refused(tmp_path):
    import keras

    wrong = np.lib.format.open_memmap(tmp_path / "x.npy", "w+", "float32", (64, 3))
    wrong[:] = 1.0
    model = _small_multiscale()
    with pytest.raises(ValueError, match=r"per-sample shape \(3,\).*expects \(2,\)"):
        model.fit(np.load(tmp_path / "x.npy", mmap_mode="r"), batch_size=16, verbose=0)

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return 2

        def __getitem__(self, index):
            return np.ones((16, 3), "float32")

    with pytest.raises(ValueError, match=r"per-sample shape \(3,\).*expects \(2,\)"):
        model.fit(Batches(), verbose=0)


def test_a_memmap_takes_no_validation_split_or_sample_weight(tmp_path):
    x = np.lib.format.open_memmap(tmp_path / "x.npy", "w+", "float32", (64, 2))
    x[:] = np.random.default_rng(0).standard_normal((64, 2))
    x.flush()
    model = _small_multiscale()
    mapped = np.load(tmp_path / "x.npy", mmap_mode="r")
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(mapped, batch_size=16, validation_split=0.2, verbose=0)
    with pytest.raises(ValueError, match="sample_weight"):
        model.fit(mapped, batch_size=16, sample_weight=np.ones(64), verbose=0)
    model.fit(mapped, batch_size=16, verbose=0)
    assert float(np.asarray(model.data_statistics.count)) == 64


if __name__ == "__main__":
    worker(sys.argv[1])
