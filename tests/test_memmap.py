"""`fit`, and `keras-dde train`, on a memory-mapped .npy larger than the memory it may use.

A worker process writes a 512 MB float32 `.npy` (2M rows, 64 features),
opens it with `np.load(..., mmap_mode="r")` and fits a `MultiScaleDDE`
(`sigma_max=None`, Gaussian base: its statistics must come from the file)
for one epoch, sampling its anonymous resident memory (`RssAnon`: what the
process holds; the file's mapped pages are the kernel's page cache and count
as `RssFile`) every 5 ms. The growth over the memory held before `fit` must
stay below a quarter of the file (with `MALLOC_ARENA_MAX=2`, see below).

    python tests/test_memmap.py FOLDER   # prints JSON
    python tests/test_memmap.py FOLDER cli   # the `train` command, prints JSON
"""

import json
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

ROWS, FEATURES = 1 << 21, 64
# bytes: a quarter of the file. `fit`'s own growth, 12-67 MB on JAX, does not
# scale with the file (glibc's arenas and the stacked batches vary with the
# threads' timing): the file is large enough to keep it well inside.
CAP = ROWS * FEATURES * 4 // 4


def anonymous_rss():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no RssAnon")


def peak_growth(run):
    """`(run()'s result, seconds, peak anonymous RSS growth in bytes)`,
    sampled every 5 ms on a thread while `run` works."""
    peak, done = [anonymous_rss()], threading.Event()
    before = peak[0]

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], anonymous_rss())
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    start = time.perf_counter()
    try:
        result = run()
    finally:
        done.set()
        sampler.join()
    return result, time.perf_counter() - start, peak[0] - before


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
    history, seconds, growth = peak_growth(
        lambda: dde.fit(x, batch_size=4096, epochs=1, verbose=0)
    )
    mean, covariance = (np.asarray(m) for m in dde.data_statistics.moments())
    print(json.dumps({
        "growth": growth,
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


# The command line's run: a 512 MB file (16 features: the mixture's rows are
# kept too), a cap of a quarter of it; batches of 1024 (the 32 stacked for one
# step call, and those queued, stay small). The file is this large because
# the command's fixed growth varies from run to run (see below).
CLI_ROWS, CLI_FEATURES, CLI_BATCH = 1 << 23, 16, 1024
CLI_CAP = CLI_ROWS * CLI_FEATURES * 4 // 4


def write_normal(path, rows, features, seed=0):
    """A float32 `.npy` of N(1, 2^2) rows, written in chunks."""
    out = np.lib.format.open_memmap(path, "w+", "float32", (rows, features))
    chunk = 1 << 16
    rng = np.random.default_rng(seed)
    for start in range(0, rows, chunk):
        stop = min(rows, start + chunk)
        out[start:stop] = rng.standard_normal((stop - start, features), "float32") * 2 + 1
    out.flush()


def cli_worker(folder):
    """`keras-dde train big.npy` end to end: its anonymous memory growth."""
    from keras_dde import cli
    from keras_dde.cli import data as cli_data

    big = os.path.join(folder, "big.npy")
    write_normal(big, CLI_ROWS, CLI_FEATURES)
    # The warm-up files are memory-mapped too (the threshold lowered below
    # them), and hold whole `steps_per_execution` calls of 32 batches, as the
    # big file does: the warm-up runs then import, compile and draw what the
    # measured run needs (about 40-90 MB here, whatever the file's size).
    cli_data.MEMMAP_MIN_BYTES = 1000
    flags = ["--epochs", "1", "--batch-size", str(CLI_BATCH), "--frames", "2",
             "--width", "8", "--depth", "1", "--model-samples", "200", "--quiet",
             "--overwrite"]
    for seed in (1, 2):
        small = os.path.join(folder, f"small{seed}.npy")
        write_normal(small, 2 * 32 * CLI_BATCH, CLI_FEATURES, seed=seed)
        code = cli.main(["train", small, "--out", os.path.join(folder, "warm"), *flags])
        assert code == 0, code
    code, seconds, growth = peak_growth(
        lambda: cli.main(["train", big, "--out", os.path.join(folder, "run"), *flags])
    )
    import keras

    model = keras.models.load_model(os.path.join(folder, "run", "model.keras"))
    mean, covariance = (np.asarray(m) for m in model.data_statistics.moments())
    print(json.dumps({
        "code": code,
        "growth": growth,
        "seconds": seconds,
        "count": float(keras.ops.convert_to_numpy(model.data_statistics.count)),
        "mean": mean.tolist(),
        "variance": np.diag(covariance).tolist(),
        "files": sorted(os.listdir(os.path.join(folder, "run"))),
        "file": os.path.getsize(big),
    }))


@pytest.mark.slow
def test_the_train_command_on_a_file_4x_the_memory_cap(tmp_path):
    # `keras-dde train big.npy`, all of it (statistics, fit, GIF frames,
    # pictures, samples, saving): its memory must not grow with the file. The
    # command's own code is the same on every engine, and `fit`'s memory is
    # measured on each by the test above: JAX only, to keep CI's time.
    import keras

    if keras.backend.backend() != "jax":
        pytest.skip("the command's memory is measured on JAX")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(
        os.environ, KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="3", MALLOC_ARENA_MAX="2"
    )
    env["PYTHONPATH"] = os.pathsep.join([root, env.get("PYTHONPATH", "")])
    result = subprocess.run(
        [sys.executable, __file__, str(tmp_path), "cli"], env=env, capture_output=True,
        text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["code"] == 0
    assert report["file"] >= 4 * CLI_CAP
    # Measured: 24-69 MB, flat while `fit` reads the file and the same for a
    # file of 32 MB to 256 MB (the new model's compilation and the queued
    # steps' stacked batches when `fit` starts, the pictures after it), so it
    # varies with timing, not with the file; reading the file whole would add
    # 512 MB.
    assert report["growth"] < CLI_CAP, report["growth"] / 2**20
    assert report["files"] == [
        "density.png", "model.keras", "samples.png", "training.gif", "vectorfield.png"
    ]
    # The saved model's statistics are the whole file's.
    assert report["count"] == CLI_ROWS
    np.testing.assert_allclose(report["mean"], 1.0, atol=0.01)
    np.testing.assert_allclose(report["variance"], 4.0, rtol=0.02)


if __name__ == "__main__":
    if sys.argv[2:] == ["cli"]:
        cli_worker(sys.argv[1])
    else:
        worker(sys.argv[1])
