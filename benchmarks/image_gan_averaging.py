"""The image default GAN, scored raw and with running averages of its generator.

A probe of issue 24's "visibly sharp" samples: is the blur and the streaking
of `keras-dde gan fashion-mnist`'s samples the last iterate's noise, which an
average of the generator's weights (as GANs and diffusion models keep) would
remove? One run of the command's default (the distilled GAN of
`recipes.build_energy_gan`, 2 teacher epochs, 2 GAN epochs at batch 64, seed
`--seed`) keeps, after every generator step, averages of the generator's
weights with decay `min(cap, (t - 1) / (t + 3))` for each cap of `--caps`
(as `keras_dde.training.weight_averaging`); the raw generator and each
average are then scored as `benchmarks/images.py` scores its GANs (classes,
entropy, Frechet distance on 10,000 samples of `generate(n, seed=1)`), with
the mean absolute difference of neighbouring pixels beside the real images'
(a blur lowers it, speckle raises it). `--generator-width 256` doubles the
generator's filters (128, 64), to probe its capacity the same way:

    KERAS_BACKEND=tensorflow python benchmarks/image_gan_averaging.py --seed 0 --out <dir>
    KERAS_BACKEND=tensorflow python benchmarks/image_gan_averaging.py --generator-width 256 --out <dir>

Writes `results.json` and one 8x8 grid per generator to `--out`.
"""

import argparse
import json
import os
import time

import numpy as np


def pixel_differences(images):
    """Mean absolute difference of vertically and of horizontally adjacent
    pixels, summed."""
    images = np.asarray(images)
    return float(np.mean(np.abs(np.diff(images, axis=1)))
                 + np.mean(np.abs(np.diff(images, axis=2))))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--caps", type=float, nargs="+", default=[0.99, 0.999])
    parser.add_argument("--generator-width", type=int, default=None)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    import keras

    import images as benchmark  # benchmarks/images.py, beside this script
    import keras_dde
    from keras_dde import recipes
    from keras_dde.plotting import plot_image_grid
    from keras_dde.utils.files import save_figure

    os.makedirs(args.out, exist_ok=True)
    keras.utils.set_random_seed(args.seed)
    x, _ = keras_dde.datasets.load_fashion_mnist("train")
    extra = {} if args.generator_width is None else {
        "generator_width": args.generator_width}
    # The command's model: `keras-dde gan fashion-mnist` builds it this way.
    gan = recipes.build_model("gan", x.shape[1:], steps_per_execution=1,
                              objective="distillation", teacher_epochs=2,
                              seed=args.seed, **extra)

    class Averages(keras.callbacks.Callback):
        def __init__(self, caps):
            super().__init__()
            self.caps, self.steps, self.averages = caps, 0, None

        def on_train_batch_end(self, batch, logs=None):
            weights = self.model.generator.get_weights()
            self.steps += 1
            if self.averages is None:
                self.averages = {cap: [w.copy() for w in weights] for cap in self.caps}
                return
            for cap, average in self.averages.items():
                decay = min(cap, (self.steps - 1) / (self.steps + 3))
                for a, w in zip(average, weights):
                    a *= decay
                    a += (1 - decay) * w

    averages = Averages(tuple(args.caps))
    start = time.time()
    gan.fit(x, epochs=2, batch_size=64, verbose=0, callbacks=[averages], shuffle=True)
    results = {"wall_s": round(time.time() - start, 1), "generator_steps": averages.steps,
               "real_pixel_differences": pixel_differences(x[:10000])}
    classifier, reference, _ = benchmark.scorer(False)
    for name, weights in [("raw", gan.generator.get_weights())] + [
        (f"average_{cap:g}", averages.averages[cap]) for cap in args.caps
    ]:
        gan.generator.set_weights(weights)
        samples = keras.ops.convert_to_numpy(gan.generate(10000, seed=1))
        results[name] = {**benchmark.sample_metrics(classifier, samples, reference),
                         "pixel_differences": pixel_differences(samples)}
        figure = plot_image_grid(samples[:64], ncols=8, value_range=(-1, 1),
                                 title=f"{name}, seed {args.seed}")
        save_figure(figure, os.path.join(args.out, f"grid_{name}.png"))
    print(json.dumps(results, indent=1))
    with open(os.path.join(args.out, "results.json"), "w") as file:
        json.dump(results, file, indent=1)


if __name__ == "__main__":
    main()
