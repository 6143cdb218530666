"""How well a DDE gets the relative mass of separated modes, per sigma.

    KERAS_BACKEND=jax python benchmarks/mode_mass.py --sigmas 0.3,0.2,0.06
    KERAS_BACKEND=jax python benchmarks/mode_mass.py --sigmas 0.06 --initial-sigma 1.0
    KERAS_BACKEND=jax python benchmarks/mode_mass.py --sigmas 0.06 --model multiscale

Trains a DDE on the 25-Gaussian grid and compares its energy `s` with the
exact log-KDE at the same bandwidth on held-out points. Within a mode the two
should differ by one constant; the spread of that constant across the 25
modes is the error in the modes' relative mass (in nats), which score
matching cannot see once the smoothed modes stop overlapping (Wenliang &
Kanagawa, 2020, "Blindness of score-based methods to isolated components and
mixing proportions"). It also reports the normalised held-out log-likelihood
gap to the exact KDE.
"""

import argparse
import math

import keras
import numpy as np

import keras_dde
from keras_dde import recipes
from energy_gan import MIXTURES  # The mode centers, beside this script.
from keras_dde.testing.reference import exact_kde_log_density

CENTERS, _ = MIXTURES["25gaussians"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sigmas", default="0.3,0.2,0.06")
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument(
        "--initial-sigma", type=float, default=None,
        help="anneal from this sigma (halving evenly over the run) with SigmaScheduler",
    )
    parser.add_argument(
        "--model", choices=("dde", "multiscale"), default="dde",
        help="multiscale: MultiScaleDDE(conditional_energy_mlp(2)), Adam 4e-3 cosine",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.model == "multiscale" and args.initial_sigma is not None:
        parser.error("--initial-sigma anneals a DDEModel; MultiScaleDDE needs none")
    x = keras_dde.datasets.toy2d("25gaussians", 8192, seed=args.seed)
    held_out = keras_dde.datasets.toy2d("25gaussians", 4000, seed=args.seed + 1)
    mode = np.linalg.norm(held_out[:, None] - CENTERS[None], axis=-1).argmin(axis=1)
    for sigma in (float(value) for value in args.sigmas.split(",")):
        start = sigma if args.initial_sigma is None else args.initial_sigma
        if args.model == "multiscale":
            dde = keras_dde.MultiScaleDDE(
                keras_dde.models.conditional_energy_mlp(2), sigma=sigma, seed=args.seed
            )
            steps = args.epochs * (-(-len(x) // 512))
            dde.compile(keras.optimizers.Adam(
                keras.optimizers.schedules.CosineDecay(4e-3, steps)
            ))
        else:
            dde = recipes.build_dde(2, sigma=start, learning_rate=1e-3, seed=args.seed)
        callbacks = []
        if args.initial_sigma is not None:
            halvings = max(1.0, math.log2(args.initial_sigma / sigma))
            schedule = keras_dde.schedules.GeometricSigmaDecay(
                args.initial_sigma, sigma, 0.5, max(1, int(args.epochs / halvings))
            )
            callbacks.append(keras_dde.callbacks.SigmaScheduler(schedule))
        dde.fit(x, batch_size=512, epochs=args.epochs, verbose=0, callbacks=callbacks)
        energy = keras.ops.convert_to_numpy(dde.energy(held_out))
        log_kde = exact_kde_log_density(x, held_out, sigma)
        offsets = np.array([np.mean((energy - log_kde)[mode == k]) for k in range(25)])
        within = np.mean([np.std((energy - log_kde)[mode == k]) for k in range(25)])
        dde.log_partition(seed=args.seed, verbose=0)
        gap = float(np.mean(dde.log_prob(held_out) - log_kde))
        annealed = "" if args.initial_sigma is None else f" (annealed from {args.initial_sigma})"
        annealed += " MultiScaleDDE" if args.model == "multiscale" else ""
        print(
            f"sigma {sigma}{annealed}: per-mode offset std {offsets.std():.2f} nats "
            f"(range {np.ptp(offsets):.2f}), within-mode std {within:.3f}, "
            f"held-out log-likelihood minus exact KDE {gap:+.3f} nats",
            flush=True,
        )


if __name__ == "__main__":
    main()
