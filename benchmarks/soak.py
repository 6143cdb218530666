"""Soak test: a long `fit` with all three frame callbacks, watching for leaks.

Trains a small DDE for 2,000 epochs (tiny data: one train call per epoch)
with `DensityFrames`, `VectorFieldFrames` and `SampleFrames` drawing every
few epochs, then runs many short `fit` calls with fresh callbacks, as a
notebook user re-running a cell would. It samples, as training goes:

- resident memory (RSS, from psutil or /proc/self/status),
- live matplotlib figures (pyplot's and `Figure` objects alive in the heap),
- threads, and open file handles (/proc/self/fd),

and writes `benchmarks/results/soak.md`. The frame callbacks keep at most
`--max-frames` frames each, so after the first few hundred epochs the frames
held in memory stop growing: RSS should then stay flat.

    KERAS_BACKEND=jax nice -n 10 python benchmarks/soak.py
    python benchmarks/soak.py --epochs 200 --out /tmp/soak.md   # a quick look
"""

import argparse
import gc
import os
import platform
import sys
import tempfile
import threading
import time

import numpy as np


def rss_mib():
    """Resident set size of this process, MiB."""
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    except ImportError:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    return float("nan")


def open_files():
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        import psutil

        return psutil.Process().num_fds()


def os_threads():
    """Threads of this process (the OS's count, not only Python's)."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("Threads:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import psutil

    return psutil.Process().num_threads()


def live_figures():
    """(pyplot figures open, matplotlib `Figure` objects alive)."""
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    gc.collect()
    alive = sum(1 for obj in gc.get_objects() if isinstance(obj, Figure))
    return len(plt.get_fignums()), alive


def snapshot(label, epoch, frames=None):
    pyplot, alive = live_figures()
    return {
        "label": label,
        "epoch": epoch,
        "rss_mib": rss_mib(),
        "pyplot_figures": pyplot,
        "figures_alive": alive,
        "threads": os_threads(),
        "python_threads": threading.active_count(),
        "open_files": open_files(),
        "frames_kept": frames,
        "time": time.perf_counter(),
    }


def make_callbacks(folder, data, every, max_frames, tag):
    from keras_dde.callbacks import DensityFrames
    from keras_dde.callbacks import SampleFrames
    from keras_dde.callbacks import VectorFieldFrames

    noisy = data + 0.3 * np.random.default_rng(1).standard_normal(data.shape)
    noisy = noisy.astype("float32")
    common = dict(every=every, max_frames=max_frames, max_overhead=None)
    return [
        DensityFrames(os.path.join(folder, f"density{tag}.gif"), data=data,
                      resolution=64, **common),
        VectorFieldFrames(os.path.join(folder, f"field{tag}.gif"), data=data,
                          resolution=12, background_resolution=32, **common),
        SampleFrames(os.path.join(folder, f"samples{tag}.gif"), data=data,
                     sampler=lambda model, n: model.denoise(noisy[:n]),
                     num_samples=len(data), **common),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2000)
    parser.add_argument("--every", type=int, default=5,
                        help="epochs between frames of each callback")
    parser.add_argument("--max-frames", type=int, default=60)
    parser.add_argument("--refits", type=int, default=50,
                        help="short fit calls with fresh callbacks afterwards")
    parser.add_argument("--samples", type=int, default=20,
                        help="memory samples during the long fit")
    parser.add_argument("--out", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "results", "soak.md"))
    args = parser.parse_args(argv)

    import keras

    import keras_dde
    from keras_dde import recipes

    data = keras_dde.datasets.toy2d("8gaussians", 256, seed=0)
    dde = recipes.build_dde(2, sigma=0.3, width=16, depth=2, learning_rate=2e-3,
                            seed=0)
    rows = [snapshot("before training", 0)]

    class Probe(keras.callbacks.Callback):
        def __init__(self, frames, every):
            super().__init__()
            self.frames, self.every = frames, every

        def on_epoch_end(self, epoch, logs=None):
            if (epoch + 1) % self.every == 0 or epoch == 0:
                kept = sum(len(f.frames) for f in self.frames)
                rows.append(snapshot("long fit", epoch + 1, kept))

    with tempfile.TemporaryDirectory() as folder:
        frames = make_callbacks(folder, data, args.every, args.max_frames, "")
        probe = Probe(frames, max(1, args.epochs // args.samples))
        start = time.perf_counter()
        history = dde.fit(data, batch_size=len(data), epochs=args.epochs,
                          verbose=0, callbacks=[*frames, probe])
        long_seconds = time.perf_counter() - start
        gif_sizes = {os.path.basename(f.written_path): os.path.getsize(f.written_path)
                     for f in frames}
        drawn = [len(f.frames) for f in frames]
        del frames, probe
        rows.append(snapshot("after the long fit", args.epochs))

        start = time.perf_counter()
        for index in range(args.refits):
            callbacks = make_callbacks(folder, data, 1, args.max_frames, "_refit")
            dde.fit(data, batch_size=len(data), epochs=4, verbose=0,
                    callbacks=callbacks)
            del callbacks
            if (index + 1) % max(1, args.refits // 5) == 0:
                rows.append(snapshot(f"after {index + 1} short fits",
                                     args.epochs + 4 * (index + 1)))
        refit_seconds = time.perf_counter() - start
    losses = history.history["loss"]
    report = render(args, rows, losses, long_seconds, refit_seconds, gif_sizes, drawn)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as handle:
        handle.write(report)
    print(report)
    return 0


def render(args, rows, losses, long_seconds, refit_seconds, gif_sizes, drawn):
    import keras

    import keras_dde

    warm = next((r for r in rows if r["epoch"] >= min(args.epochs, args.max_frames * args.every)
                 and r["label"] == "long fit"), rows[1])
    end_long = [r for r in rows if r["label"] == "after the long fit"][0]
    last = rows[-1]
    lines = [
        "# Soak test",
        "",
        f"`KERAS_BACKEND={keras.backend.backend()} python benchmarks/soak.py "
        f"--epochs {args.epochs} --every {args.every} --max-frames "
        f"{args.max_frames} --refits {args.refits}`, keras-dde "
        f"{keras_dde.__version__}, Keras {keras.__version__}, Python "
        f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}.",
        "",
        f"A DDE (`energy_mlp(2, width=16, depth=2)`, sigma 0.3, Adam 2e-3) trained "
        f"for {args.epochs} epochs on 256 points of 8gaussians (one step per "
        f"epoch) in {long_seconds:.1f} s, with `DensityFrames`, "
        f"`VectorFieldFrames` and `SampleFrames` drawing every {args.every} "
        f"epochs (at most {args.max_frames} frames kept each; frames kept at the "
        f"end: {drawn}); then {args.refits} short `fit` calls (4 epochs, fresh "
        f"frame callbacks each, GIFs written each time) in {refit_seconds:.1f} s. "
        f"Loss {losses[0]:.3f} -> {losses[-1]:.3f}, all finite: "
        f"{bool(np.isfinite(losses).all())}. GIFs: "
        + ", ".join(f"{name} {size / 1024:.0f} kB" for name, size in gif_sizes.items())
        + ".",
        "",
        "| when | epoch | RSS (MiB) | pyplot figures | Figure objects alive "
        "| threads (OS / Python) | open files | frames kept |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['label']} | {r['epoch']} | {r['rss_mib']:.1f} | "
            f"{r['pyplot_figures']} | {r['figures_alive']} | "
            f"{r['threads']} / {r['python_threads']} | "
            f"{r['open_files']} | {'' if r['frames_kept'] is None else r['frames_kept']} |"
        )
    lines += [
        "",
        f"RSS from epoch {warm['epoch']} (warm: compiled, frame buffers full) to "
        f"the end of the long fit: {warm['rss_mib']:.1f} -> "
        f"{end_long['rss_mib']:.1f} MiB ({end_long['rss_mib'] - warm['rss_mib']:+.1f}); "
        f"to the end of the short fits: {last['rss_mib']:.1f} MiB "
        f"({last['rss_mib'] - warm['rss_mib']:+.1f}). Threads "
        f"{warm['threads']} -> {last['threads']}, open files "
        f"{warm['open_files']} -> {last['open_files']}, Figure objects alive "
        f"{warm['figures_alive']} -> {last['figures_alive']}.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
