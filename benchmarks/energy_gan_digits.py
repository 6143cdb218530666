"""EnergyGAN on scikit-learn's 8x8 digits (64-d): class coverage of the samples.

    KERAS_BACKEND=jax python benchmarks/energy_gan_digits.py --out benchmarks/results

A logistic-regression classifier trained on the real digits labels 5,000
generated samples; the report gives the class histogram, its entropy (ln 10 =
2.303 is perfectly balanced) and the classifier's mean confidence, and writes
a grid of samples as a PNG.
"""

import argparse
import os
import time

import keras
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn.linear_model import LogisticRegression

import keras_dde


def class_report(classifier, samples):
    probabilities = classifier.predict_proba(samples)
    labels = probabilities.argmax(axis=1)
    histogram = np.bincount(labels, minlength=10) / len(labels)
    nonzero = histogram[histogram > 0]
    entropy = float(-(nonzero * np.log(nonzero)).sum())
    return histogram, entropy, float(probabilities.max(axis=1).mean())


def save_grid(samples, path):
    figure = Figure(figsize=(6, 6))
    FigureCanvasAgg(figure)
    for index in range(64):
        axes = figure.add_subplot(8, 8, index + 1)
        axes.imshow(samples[index].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        axes.axis("off")
    temporary = path + ".tmp.png"
    figure.savefig(temporary, dpi=80)
    os.replace(temporary, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sigma", type=float, default=0.3)
    parser.add_argument("--epochs", type=int, default=400)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--latent-dim", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="folder for digits_samples.png")
    args = parser.parse_args()

    keras.utils.set_random_seed(args.seed)
    x, labels = keras_dde.datasets.load_digits(seed=args.seed, return_labels=True)
    classifier = LogisticRegression(max_iter=2000).fit(x, labels)

    def dde():
        return keras_dde.DDEModel(
            keras_dde.models.energy_mlp(64, width=256, depth=3), sigma=args.sigma
        )

    gan = keras_dde.EnergyGAN(
        keras_dde.models.generator_mlp(
            args.latent_dim, 64, width=256, output_activation="sigmoid"
        ),
        dde(),
        dde(),
        dde_steps=2,
        seed=args.seed,
    )
    gan.compile(
        generator_optimizer=keras.optimizers.Adam(5e-4, beta_1=0.5),
        dde_optimizer=keras.optimizers.Adam(1e-3),
    )
    start = time.perf_counter()
    for stage in range(4):
        gan.fit(x, batch_size=args.batch_size, epochs=args.epochs // 4, verbose=0)
        samples = gan.generate(5000, seed=1)
        histogram, entropy, confidence = class_report(classifier, samples)
        print(
            f"{keras.backend.backend()} digits after {(stage + 1) * args.epochs // 4} "
            f"epochs, {time.perf_counter() - start:.0f} s: classes present "
            f"{int((histogram > 0.01).sum())}/10, entropy {entropy:.3f} "
            f"(>= {0.9 * np.log(10):.3f} wanted), mean confidence {confidence:.2f}, "
            f"histogram {np.round(histogram, 3).tolist()}",
            flush=True,
        )
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        save_grid(samples, os.path.join(args.out, "digits_samples.png"))


if __name__ == "__main__":
    main()
