"""What a new user gets from `keras-dde train` with every setting at its default.

    KERAS_BACKEND=jax python benchmarks/cli_defaults.py
    KERAS_BACKEND=jax python benchmarks/cli_defaults.py --runs spirals --single-sigma

Runs the installed command in a subprocess, as a user would, and checks the
saved `model.keras` against the exact Gaussian KDE of the data it trained on:

- `mixture`: `keras-dde train mixture.npy --sigma 0.1` on five separated,
  unequally weighted Gaussians and a ring (`benchmarks/multiscale.py`'s data,
  8,192 points); `ring`: the same on eight unequally weighted Gaussians on a
  circle of radius 3 (std 0.2). On 4,000 held-out points labelled by
  component: the MAE of the *normalised* `log_prob` against the exact
  log-KDE, and the spread (standard deviation, and max - min) of the
  components' mean offsets;
- `spirals`: the README's command, `keras-dde train 2spirals --epochs 300`
  (20,000 points, sigma 0.1): the mean log-density on 4,000 fresh points of
  each arm, whose exact values are equal up to sampling noise (the exact
  KDE's gap is printed beside it).

`--single-sigma` runs the seed's `DDEModel` instead, as the baseline. The
table goes to `--out` (default `benchmarks/results/cli_defaults.md`).
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

import keras
import numpy as np

import keras_dde
from keras_dde.datasets.toy2d import _2spirals
from keras_dde.testing.reference import exact_kde_log_density
from keras_dde.utils.files import atomic_path

from multiscale import mixture

RESULTS = os.path.join(os.path.dirname(__file__), "results", "cli_defaults.md")
_RING_WEIGHTS = np.array([0.25, 0.05, 0.15, 0.1, 0.2, 0.05, 0.12, 0.08])


def ring(n, seed):
    """Eight unequally weighted Gaussians on a circle of radius 3, std 0.2."""
    rng = np.random.default_rng(seed)
    component = rng.choice(8, size=n, p=_RING_WEIGHTS)
    angle = 2 * np.pi * component / 8
    centres = 3 * np.stack([np.cos(angle), np.sin(angle)], -1)
    return (centres + 0.2 * rng.standard_normal((n, 2))).astype("float32"), component


def run_command(arguments, single_sigma):
    """Runs `keras-dde train ARGUMENTS`; returns the loaded model and seconds."""
    out = tempfile.mkdtemp(prefix="cli-defaults-")
    command = [sys.executable, "-m", "keras_dde", "train", *arguments,
               "--out", out, "--overwrite", "--quiet"]
    if single_sigma:
        command.append("--single-sigma")
    start = time.perf_counter()
    subprocess.run(command, check=True)
    seconds = time.perf_counter() - start
    return keras.saving.load_model(os.path.join(out, "model.keras")), seconds


def mixture_row(name, make, single_sigma):
    x, _ = make(8192, 0)
    test, component = make(4000, 1)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, f"{name}.npy")
        np.save(path, x)
        model, seconds = run_command([path, "--sigma", "0.1"], single_sigma)
    log_p = keras.ops.convert_to_numpy(model.log_prob(test)).astype("float64")
    diff = log_p - exact_kde_log_density(x, test, 0.1)
    offsets = np.array([diff[component == k].mean() for k in np.unique(component)])
    return (f"| `train {name}.npy --sigma 0.1` | {type(model).__name__} | "
            f"{np.abs(diff).mean():.3f} | {offsets.std():.3f} | "
            f"{np.ptp(offsets):.3f} | {seconds:.0f} s |")


def spirals_row(single_sigma):
    model, seconds = run_command(["2spirals", "--epochs", "300"], single_sigma)
    train = keras_dde.datasets.toy2d("2spirals", 20000, seed=0)  # the command's
    test = _2spirals(8000, np.random.default_rng(1)).astype("float32")
    arms = test[:4000], test[4000:]
    energy = [keras.ops.convert_to_numpy(model.energy(arm)).mean() for arm in arms]
    exact = [exact_kde_log_density(train, arm, 0.1).mean() for arm in arms]
    return (f"| `train 2spirals --epochs 300` | {type(model).__name__} | arm gap "
            f"{abs(energy[0] - energy[1]):.3f} (exact KDE {abs(exact[0] - exact[1]):.3f}) "
            f"| | | {seconds:.0f} s |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="mixture,ring,spirals")
    parser.add_argument("--single-sigma", action="store_true")
    parser.add_argument("--out", default=RESULTS)
    args = parser.parse_args()
    rows = []
    for run in args.runs.split(","):
        if run == "spirals":
            rows.append(spirals_row(args.single_sigma))
        else:
            make = {"mixture": mixture, "ring": ring}[run]
            rows.append(mixture_row(run, make, args.single_sigma))
        print(rows[-1], flush=True)
    backend = keras.backend.backend()
    flag = " --single-sigma" if args.single_sigma else ""
    with atomic_path(args.out) as path:
        with open(path, "w") as handle:
            handle.write(
                "# `keras-dde train` at its defaults against the exact KDE\n\n"
                f"`KERAS_BACKEND={backend} python benchmarks/cli_defaults.py{flag}` "
                "(see its docstring). MAE: mean |log p - log p_KDE| of the "
                "normalised `log_prob` on 4,000 held-out points; spread: over "
                "the components' mean offsets.\n\n"
                "| command | model | MAE (nats) | spread, sd | spread, max - min "
                "| command time |\n| --- | --- | ---: | ---: | ---: | ---: |\n"
            )
            handle.write("\n".join(rows) + "\n")

if __name__ == "__main__":
    main()
