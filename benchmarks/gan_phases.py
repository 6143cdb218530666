"""Where the time of `keras-dde gan`'s default toy run goes, phase by phase.

The command's default on a toy (8gaussians, 8,192 points, batch 512) is the
covering GAN of `recipes.build_energy_gan`: `gan.fit` first fits the teacher
(300 epochs), makes the bank of ODE pairs, warms the generator up on it,
then trains the GAN (24 epochs). This script builds that GAN, times each
phase of its first `fit` (one GAN epoch), then times the other 23 GAN epochs
in a second `fit`, with the GAN's `jit_compile` set by `--jit-compile`
(both optimizers are fresh copies of the recipe's in every configuration).
Configurations alternate, one process each, so a shared machine's load hits
them alike:

    python benchmarks/gan_phases.py --jit-compile false true --rounds 2

Prints one JSON line per run: seconds per phase ("teacher", "bank",
"warmup", "first_fit" in all, "gan_23_epochs").
"""

import argparse
import json
import os
import subprocess
import sys
import time

N_SAMPLES, BATCH, TEACHER_EPOCHS, GAN_EPOCHS = 8192, 512, 300, 24


def run_once(jit_compile):
    import keras

    from keras_dde import recipes
    from keras_dde.datasets.toy2d import toy2d
    from keras_dde.models import energy_gan_objectives

    times = {}

    def timed(name, function):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            result = function(*args, **kwargs)
            times[name] = times.get(name, 0.0) + time.perf_counter() - start
            return result
        return wrapper

    # The phases are module functions that `prepare_distillation` looks up
    # at call time, so wrapping them here times them in place.
    for name, attribute in (("bank", "make_pairs"), ("warmup", "regression_warmup")):
        setattr(energy_gan_objectives, attribute,
                timed(name, getattr(energy_gan_objectives, attribute)))
    x = toy2d("8gaussians", N_SAMPLES, seed=0).astype("float32")
    steps_per_epoch = -(-N_SAMPLES // BATCH)
    gan = recipes.build_energy_gan(
        2, teacher_epochs=TEACHER_EPOCHS,
        teacher_decay_steps=TEACHER_EPOCHS * steps_per_epoch,
        generator_decay_steps=GAN_EPOCHS * steps_per_epoch,
    )
    gan.real_dde.fit = timed("teacher", gan.real_dde.fit)

    def copy(optimizer):
        return optimizer.__class__.from_config(optimizer.get_config())

    gan.compile(generator_optimizer=copy(gan.generator_optimizer),
                dde_optimizer=copy(gan.dde_optimizer),
                jit_compile={"auto": "auto", "true": True, "false": False}[jit_compile])
    start = time.perf_counter()
    gan.fit(x, epochs=1, batch_size=BATCH, verbose=0)
    times["first_fit"] = time.perf_counter() - start
    start = time.perf_counter()
    gan.fit(x, epochs=GAN_EPOCHS - 1, batch_size=BATCH, verbose=0)
    times[f"gan_{GAN_EPOCHS - 1}_epochs"] = time.perf_counter() - start
    return {"backend": keras.backend.backend(), "jit_compile": jit_compile,
            **{name: round(seconds, 2) for name, seconds in times.items()}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jit-compile", nargs="+", default=["auto"],
                        choices=["auto", "true", "false"])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--child", choices=["auto", "true", "false"],
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_once(args.child)), flush=True)
        return
    for _ in range(args.rounds):
        for setting in args.jit_compile:
            subprocess.run([sys.executable, os.path.abspath(__file__),
                            "--child", setting], check=True)


if __name__ == "__main__":
    main()
