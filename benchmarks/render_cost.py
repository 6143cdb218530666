"""What the training pictures cost: frame render time, training overhead, memory.

    KERAS_BACKEND=tensorflow python benchmarks/render_cost.py
    KERAS_BACKEND=jax python benchmarks/render_cost.py --frames 1000 --json out.json

Measures, on the 2-D two-spirals DDE (`keras_dde.recipes.build_dde`:
energy_mlp(2), 64 wide, 3 deep, swish; sigma 0.1; batch 512; Adam 2e-3):

1. Render time per frame (median of `--repeats`, after warm-up) of
   `DensityFrames` at 200x200 (the fast path: compiled energies + colormap),
   `plot_density` as a full matplotlib figure, `VectorFieldFrames` and
   `SampleFrames`.
2. Training-time overhead of the frame callbacks drawing every epoch under
   a `max_overhead=0.1` budget (opt-in since issue 14), GIF writing
   included: the same `fit`
   (60 epochs of 40 steps) with and without the callbacks, best of
   `--trials` interleaved runs; also the callbacks' own render time as a
   share of the fit (less sensitive to other load on the machine).
3. Memory: resident set size while drawing `--frames` frames through the
   callbacks' renderers and through `plot_density(..., as_array=True)` (a new
   figure per frame), frames not kept: growth from frame 100 to the end and
   over the second half.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_dde  # noqa: E402
from keras_dde import recipes  # noqa: E402
from keras_dde.callbacks import DensityFrames  # noqa: E402
from keras_dde.callbacks import SampleFrames  # noqa: E402
from keras_dde.callbacks import VectorFieldFrames  # noqa: E402
from keras_dde.plotting import plot_density  # noqa: E402


def rss_mib():
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def make_dde(seed=0):
    return recipes.build_dde(2, sigma=0.1, learning_rate=2e-3, seed=seed)


def timed(fn, repeats, warmup=3):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3, min(times) * 1e3


def prepared(callback, model):
    callback.set_model(model)
    callback.check_model(model)
    return callback


def render_times(dde, data, repeats):
    noisy = data[:1000] + 0.1 * np.random.default_rng(1).standard_normal(
        (1000, 2)
    ).astype("float32")
    density = prepared(DensityFrames(resolution=200, data=data), dde)
    density_axes = prepared(
        DensityFrames(resolution=200, data=data, axes=True), dde
    )
    field = prepared(VectorFieldFrames(data=data), dde)
    samples = prepared(
        SampleFrames(data=data, sampler=lambda m, n: m.denoise(noisy)), dde
    )
    results = {}
    for name, fn in [
        ("density_frame_200", lambda: density.render(dde, "epoch 1")),
        ("density_frame_200_axes", lambda: density_axes.render(dde, "epoch 1")),
        (
            "plot_density_200_new_figure",
            lambda: plot_density(dde, resolution=200, data=data, as_array=True,
                                 dpi=64),
        ),
        ("vector_field_frame", lambda: field.render(dde, "epoch 1")),
        ("sample_frame", lambda: samples.render(dde, "epoch 1")),
    ]:
        median, best = timed(fn, repeats)
        results[name] = {"median_ms": round(median, 1), "min_ms": round(best, 1)}
    for callback in (density, density_axes, field, samples):
        callback.release()
    return results


def overhead(data, epochs, trials, batch_size):
    """Best-of-`trials` fit time without and with default-schedule callbacks."""
    noisy = data[:1000] + 0.1 * np.random.default_rng(1).standard_normal(
        (1000, 2)
    ).astype("float32")
    folder = tempfile.mkdtemp(prefix="render_cost_")

    def run(kind):
        dde = make_dde()
        dde.fit(data[:batch_size * 2], batch_size=batch_size, epochs=1, verbose=0)
        callbacks = []
        if kind in ("density", "all"):
            callbacks.append(DensityFrames(os.path.join(folder, "d.gif"), data=data,
                                           max_overhead=0.1))
        if kind == "all":
            callbacks.append(
                VectorFieldFrames(os.path.join(folder, "v.gif"), data=data,
                                  max_overhead=0.1)
            )
            callbacks.append(
                SampleFrames(
                    os.path.join(folder, "s.gif"), data=data,
                    sampler=lambda m, n: m.denoise(noisy), max_overhead=0.1,
                )
            )
        start = time.perf_counter()
        dde.fit(data, batch_size=batch_size, epochs=epochs, verbose=0,
                callbacks=callbacks)
        elapsed = time.perf_counter() - start
        frames = [len(c.frames) for c in callbacks]
        render = sum(c.render_seconds for c in callbacks)
        return elapsed, frames, render

    kinds = ("none", "density", "all")
    runs = {kind: [] for kind in kinds}
    for _ in range(trials):  # Interleaved, so that load changes hit all kinds.
        for kind in kinds:
            runs[kind].append(run(kind))
    results = {}
    for kind in kinds:
        best = min(runs[kind], key=lambda r: r[0])
        results[kind] = {
            "seconds": round(best[0], 3),
            "frames": best[1],
            "render_seconds": round(best[2], 3),
        }
    base = results["none"]["seconds"]
    for kind in ("density", "all"):
        results[kind]["overhead_percent"] = round(
            100 * (results[kind]["seconds"] / base - 1), 1
        )
        results[kind]["render_percent_of_fit"] = round(
            100 * results[kind]["render_seconds"] / results[kind]["seconds"], 1
        )
    return results


def memory(dde, data, frames):
    density = prepared(DensityFrames(resolution=200, data=data, axes=True), dde)
    field = prepared(VectorFieldFrames(data=data), dde)
    readings = {}
    for name, fn in [
        ("density_frames_axes", lambda: density.render(dde, "epoch")),
        ("vector_field_frames", lambda: field.render(dde, "epoch")),
        (
            "plot_density_new_figure",
            lambda: plot_density(dde, resolution=50, data=data, as_array=True,
                                 dpi=64),
        ),
    ]:
        trace = []
        for index in range(1, frames + 1):
            fn()
            if index % 100 == 0:
                trace.append(round(rss_mib(), 1))
        half = len(trace) // 2
        readings[name] = {
            "rss_mib_every_100": trace,
            "growth_mib_100_to_end": round(trace[-1] - trace[0], 1),
            "growth_mib_second_half": round(trace[-1] - trace[max(half - 1, 0)], 1),
        }
    density.release()
    field.release()
    return readings


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)

    data = keras_dde.datasets.toy2d("2spirals", args.n, seed=0)
    dde = make_dde()
    dde.fit(data, batch_size=args.batch_size, epochs=2, verbose=0)
    report = {
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
        "cpus": os.cpu_count(),
        "render": render_times(dde, data, args.repeats),
        "overhead": overhead(data, args.epochs, args.trials, args.batch_size),
        "memory": memory(dde, data, args.frames),
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        with open(args.json, "w") as handle:
            handle.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
