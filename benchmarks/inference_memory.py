"""Soak of inference: resident memory over 10,000 repeated inference calls.

On PyTorch, an inference result that keeps its autograd graph holds the
graph's buffers for as long as the result lives, and `np.asarray` of it
fails. keras-dde's inference methods return plain tensors (issue 14). This
script trains a small DDE briefly, then calls `energy`, `score` and
`denoise` in turn `--calls` times (converting each result with
`np.asarray`, as a user would), sampling resident memory (RSS) every
`--every` calls, and writes a table and the verdict: the growth of RSS
between the end of the warm-up (the first 10% of calls) and the end.

    KERAS_BACKEND=torch python benchmarks/inference_memory.py
    KERAS_BACKEND=torch python benchmarks/inference_memory.py --calls 2000 --output /tmp/m.md
"""

import argparse
import gc
import os
import platform
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def rss_mib():
    """Resident set size of this process, MiB (Linux /proc, else psutil)."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--every", type=int, default=500)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--tolerance-mib", type=float, default=20.0)
    parser.add_argument("--output", default=None, help="markdown file to write")
    args = parser.parse_args()

    import keras

    import keras_dde
    from keras_dde.utils.files import atomic_path

    keras.utils.set_random_seed(0)
    x = keras_dde.datasets.toy2d("8gaussians", 2048, seed=0)
    dde = keras_dde.DDEModel(keras_dde.models.energy_mlp(2), sigma=0.2, seed=0)
    dde.compile()
    dde.fit(x, batch_size=256, epochs=2, verbose=0)
    queries = x[: args.batch]
    methods = (dde.energy, dde.score, dde.denoise)

    samples = []
    start = time.perf_counter()
    warm_up = max(args.calls // 10, 1)
    baseline = None
    for call in range(1, args.calls + 1):
        result = np.asarray(methods[call % 3](queries))
        assert np.isfinite(result).all()
        if call == warm_up:
            gc.collect()
            baseline = rss_mib()
        if call % args.every == 0 or call == args.calls:
            gc.collect()
            samples.append((call, rss_mib(), time.perf_counter() - start))
    growth = samples[-1][1] - baseline
    flat = growth < args.tolerance_mib
    backend = keras.backend.backend()
    lines = [
        "# Inference memory soak",
        "",
        f"{args.calls} calls of `energy`/`score`/`denoise` on a batch of "
        f"{args.batch} (each converted with `np.asarray`), KERAS_BACKEND="
        f"{backend}, Python {platform.python_version()}, keras "
        f"{keras.__version__}, {platform.machine()}.",
        "",
        "| calls | RSS (MiB) | seconds |",
        "| ---: | ---: | ---: |",
    ]
    lines += [f"| {c} | {m:.1f} | {s:.1f} |" for c, m, s in samples]
    lines += [
        "",
        f"RSS after the warm-up ({warm_up} calls): {baseline:.1f} MiB; at the "
        f"end: {samples[-1][1]:.1f} MiB; growth {growth:+.1f} MiB "
        f"({'flat' if flat else 'GROWING'}: tolerance {args.tolerance_mib} MiB).",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.output:
        os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
        with atomic_path(args.output, suffix=".md") as temporary:
            with open(temporary, "w") as handle:
                handle.write(text)
    return 0 if flat else 1


if __name__ == "__main__":
    sys.exit(main())
