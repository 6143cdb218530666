"""Fidelity: a trained DDE against the exact Gaussian KDE of its training set.

Trains `DDEModel` on a 2-D mixture (8gaussians, 8,000 points, sigma 0.15),
normalises it by grid quadrature and reports the mean absolute error of its
log-density against the exact KDE (same sigma) on 2,000 held-out points.

    KERAS_BACKEND=jax python benchmarks/fidelity.py --epochs 1200
    KERAS_BACKEND=tensorflow python benchmarks/fidelity.py --epochs 120 --repeat 10
"""

import argparse
import time

import keras
import numpy as np

import keras_dde
from keras_dde.testing.reference import exact_kde_log_density
from keras_dde.testing.reference import grid_log_partition


def run(args):
    keras.utils.set_random_seed(args.seed)
    train = keras_dde.datasets.toy2d(args.dataset, args.n_train, seed=args.seed)
    held_out = keras_dde.datasets.toy2d(args.dataset, 2000, seed=args.seed + 1000)
    energy = keras_dde.models.energy_mlp(
        2, width=args.width, depth=args.depth, activation=args.activation
    )
    dde = keras_dde.DDEModel(energy, sigma=args.sigma, seed=args.seed)
    repeated = np.tile(train, (args.repeat, 1))
    steps_per_epoch = -(-len(repeated) // args.batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(
        args.learning_rate, decay_steps=args.epochs * steps_per_epoch, alpha=0.01
    )
    dde.compile(optimizer=keras.optimizers.Adam(schedule))
    start = time.perf_counter()
    history = dde.fit(repeated, batch_size=args.batch_size, epochs=args.epochs, verbose=0)
    seconds = time.perf_counter() - start

    extent = np.abs(train).max() + 6 * args.sigma
    log_z = grid_log_partition(dde.energy, (-extent, -extent), (extent, extent), 500)
    dde_log_density = keras.ops.convert_to_numpy(dde.energy(held_out)) - log_z
    kde_log_density = exact_kde_log_density(train, held_out, args.sigma)
    error = np.abs(dde_log_density - kde_log_density)
    print(
        f"backend={keras.backend.backend()} {args.dataset} sigma={args.sigma} "
        f"width={args.width} depth={args.depth} act={args.activation} "
        f"batch={args.batch_size} epochs={args.epochs}x{args.repeat} lr={args.learning_rate}: "
        f"train {seconds:.1f} s, final loss {history.history['loss'][-1]:.4f}, "
        f"MAE vs exact KDE {error.mean():.4f} nats (median {np.median(error):.4f}, "
        f"95% {np.quantile(error, 0.95):.4f})"
    )
    return error.mean(), seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="8gaussians")
    parser.add_argument("--n-train", type=int, default=8000)
    parser.add_argument("--sigma", type=float, default=0.15)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--activation", default="swish")
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument(
        "--repeat", type=int, default=1,
        help="tile the training set this many times per epoch (same KDE, fewer, longer "
        "epochs: on TensorFlow each epoch costs ~30-70 ms of Keras overhead)",
    )
    parser.add_argument("--seed", type=int, default=0)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
