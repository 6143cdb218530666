"""EnergyGAN by distillation of a MultiScaleDDE: modes, shares, time (issue 24).

    PYTHONPATH=. KERAS_BACKEND=jax python benchmarks/distillation.py \
        --dataset 25gaussians --sigma 0.05 --seeds 0 1 2
    PYTHONPATH=. KERAS_BACKEND=jax python benchmarks/distillation.py \
        --dataset ring6 --sigma 0.1
    PYTHONPATH=. KERAS_BACKEND=jax python benchmarks/distillation.py \
        --dataset 25gaussians --sigma 0.05 --variant regression

Per seed: the teacher (`recipes.build_multiscale_dde`, `--teacher-epochs`
epochs, cosine decay) is fitted and timed alone; then the GAN of
`recipes.build_energy_gan` (default objective "distillation") around that
teacher: its bank of ODE pairs and its generator training are timed; the
whole GAN time is teacher + bank + generator. 10,000 generated samples give
the modes covered (a mode counts with >= 2% of the samples), each mode's
share of the samples within 3 sd of a centre as a multiple of the fair share
1/modes, and the % within 3 sd. `--variant` compares the objectives:
`distillation` (default), `regression` (the generator regressed on the same
ODE pairs by the squared loss alone, the baseline of the Huber loss), `ode`
(the teacher's ODE samples themselves) and `langevin`
(`MultiScaleDDE.sample`). `--speed` times 100k generator samples
against `MultiScaleDDE.sample` (on `--sample-count` points, scaled).
"""

import argparse
import time

import keras
import numpy as np

import keras_dde
from keras_dde import recipes
from keras_dde.cli.parser import DISTILLATION_RUN_DEFAULTS

RING6 = 2.0 * np.stack(
    [np.cos(np.arange(6) * np.pi / 3), np.sin(np.arange(6) * np.pi / 3)], 1
)
MIXTURES = {
    # name: (centres, per-axis sd), as keras_dde.datasets.toy2d draws them.
    "8gaussians": (
        4.0 / 1.414 * np.stack(
            [np.cos(np.arange(8) * np.pi / 4), np.sin(np.arange(8) * np.pi / 4)], 1
        ),
        0.5 / 1.414,
    ),
    "25gaussians": (
        np.stack(np.meshgrid(np.arange(-2, 3) * 1.5, np.arange(-2, 3) * 1.5), -1)
        .reshape(-1, 2),
        0.1,
    ),
    "ring6": (RING6, 0.1),  # Built here: six equal Gaussians on a circle of radius 2.
}


def data(name, n, seed):
    if name == "ring6":
        rng = np.random.default_rng(seed)
        k = rng.integers(0, 6, n)
        return (RING6[k] + 0.1 * rng.standard_normal((n, 2))).astype("float32")
    return keras_dde.datasets.toy2d(name, n, seed=seed)


def mode_statistics(samples, centres, sd):
    distances = np.linalg.norm(samples[:, None, :] - centres[None], axis=-1)
    close = distances.min(axis=1) <= 3 * sd
    counts = np.bincount(distances.argmin(axis=1)[close], minlength=len(centres))
    covered = int((counts >= 0.02 * len(samples)).sum())
    fair = counts / max(counts.sum(), 1) * len(centres)
    return covered, float(close.mean()), fair


def report(label, samples, args, seconds):
    centres, sd = MIXTURES[args.dataset]
    covered, close, fair = mode_statistics(samples, centres, sd)
    ok = covered == len(centres) and fair.min() >= 0.75 and fair.max() <= 1.25
    print(
        f"{label} {args.dataset} sigma {args.sigma} seed {args.seed}: "
        f"{seconds} modes {covered}/{len(centres)}, shares {fair.min():.2f}-"
        f"{fair.max():.2f}x fair, {close:.1%} within 3 sd"
        f"{' [band met]' if ok else ''}",
        flush=True,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="25gaussians", choices=sorted(MIXTURES))
    parser.add_argument("--sigma", type=float, default=0.05)
    parser.add_argument("--n", type=int, default=8192)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--teacher-epochs", type=int, default=300)
    parser.add_argument("--epochs", type=int, default=None,
                        help="GAN epochs (default `keras-dde gan`'s)")
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--variant", default="distillation",
                        choices=["distillation", "regression", "ode", "langevin"])
    parser.add_argument("--setting", action="append", default=[],
                        help="NAME=VALUE, a build_energy_gan setting (repeatable)")
    parser.add_argument("--speed", action="store_true")
    parser.add_argument("--sample-count", type=int, default=10000)
    args = parser.parse_args()
    settings = {}
    for item in args.setting:
        name, value = item.split("=")
        settings[name] = type(recipes.recipe_defaults("gan")[name] or 0.0)(
            float(value) if "." in value or "e" in value else int(value)
        )
    for seed in args.seeds:
        args.seed = seed
        run(args, dict(settings))


def run(args, settings):
    x = data(args.dataset, args.n, args.seed)
    steps = -(-len(x) // args.batch_size)
    epochs = args.epochs or DISTILLATION_RUN_DEFAULTS["epochs"]
    gan = recipes.build_energy_gan(
        2, sigma=args.sigma, seed=args.seed, teacher_epochs=0,
        teacher_decay_steps=args.teacher_epochs * steps,
        generator_decay_steps=epochs * steps, **settings,
    )
    teacher = gan.real_dde
    start = time.perf_counter()
    teacher.fit(x, batch_size=args.batch_size, epochs=args.teacher_epochs, verbose=0)
    teacher_seconds = time.perf_counter() - start
    print(f"teacher (real MultiScaleDDE) fit alone: {teacher_seconds:.1f} s", flush=True)
    if args.variant == "langevin":
        start = time.perf_counter()
        samples = np.asarray(teacher.sample(10000, seed=1, verbose=0))
        report("MultiScaleDDE.sample", samples, args,
               f"{time.perf_counter() - start:.1f} s sampling,", )
        return
    if args.variant == "ode":
        start = time.perf_counter()
        samples = teacher.sample(10000, method="ode", seed=1)
        report("MultiScaleDDE.sample(method='ode')", samples, args,
               f"{time.perf_counter() - start:.1f} s sampling,")
        return
    if args.variant == "regression":
        start = time.perf_counter()
        z, target = keras_dde.models.energy_gan_objectives.make_pairs(
            gan.real_dde, gan.n_pairs, gan.latent_dim, gan.seed, gan.ode_steps
        )
        pair_seconds = time.perf_counter() - start
        gan.generator.compile(keras.optimizers.Adam(1e-3, beta_1=0.5), loss="mse")
        gan.generator.fit(z, target, batch_size=args.batch_size,
                          epochs=epochs * args.batch_size * steps // len(z), verbose=0)
        seconds = time.perf_counter() - start
        report("regression only", gan.generate(10000, seed=1), args,
               f"teacher {teacher_seconds:.1f} s + pairs {pair_seconds:.1f} s + "
               f"regression {seconds - pair_seconds:.1f} s,")
        return
    start = time.perf_counter()
    keras_dde.models.energy_gan_objectives.prepare_distillation(
        gan, x, args.batch_size
    )
    pair_seconds = time.perf_counter() - start
    for stage in range(2):
        gan.fit(x, batch_size=args.batch_size, epochs=epochs // 2, verbose=0)
        seconds = time.perf_counter() - start
        total = teacher_seconds + seconds
        report(
            f"EnergyGAN distillation {settings or ''} after {(stage + 1) * epochs // 2} epochs,",
            gan.generate(10000, seed=1), args,
            f"teacher {teacher_seconds:.1f} s + pairs and warm-up {pair_seconds:.1f} s + GAN "
            f"{seconds - pair_seconds:.1f} s = {total:.1f} s "
            f"({total / teacher_seconds:.2f}x the teacher),",
        )
    if args.speed:
        gan.generate(1000, seed=0)  # Compiles the predict function.
        start = time.perf_counter()
        gan.generate(100000, seed=2)
        generator_seconds = time.perf_counter() - start
        start = time.perf_counter()
        teacher.sample(args.sample_count, seed=2, verbose=0)
        sample_seconds = (time.perf_counter() - start) * 100000 / args.sample_count
        print(
            f"100k samples: generator {generator_seconds:.2f} s; "
            f"MultiScaleDDE.sample {sample_seconds:.1f} s (measured on "
            f"{args.sample_count}, scaled); speed-up {sample_seconds / generator_seconds:.0f}x",
            flush=True,
        )


if __name__ == "__main__":
    main()
