"""Data-parallel training: `DDEModel.fit` on 1 vs 2 replicas (CPU logical devices).

Workload as in train_throughput.py: 2-D two spirals, a 2-32-32-32-1 tanh MLP,
global batch 512, sigma 0.1, Adam. Each configuration runs in a fresh
subprocess with two CPU devices:

  tensorflow   `tf.distribute.MirroredStrategy` over two logical CPU devices
               (`tf.config.set_logical_device_configuration`); 1 replica is
               the same model without a strategy.
  jax          `keras.distribution.DataParallel` over two host devices
               (`XLA_FLAGS=--xla_force_host_platform_device_count=2`); 1
               replica is the same model without a distribution.

Logical devices share the machine's cores, so this measures the overhead of
the distributed step (splitting batches, all-reducing gradients), not a
speed-up: on a 2-core machine the single-replica step already uses both
cores. Configurations alternate over rounds; medians are reported.

    python benchmarks/data_parallel.py --rounds 3 --output benchmarks/results/data_parallel.md
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

BATCH_SIZE = 512
STEPS_PER_EPOCH = 50
TIMED_EPOCHS = 4
SIGMA = 0.1
CONFIGS = [("tensorflow", 1), ("tensorflow", 2), ("jax", 1), ("jax", 2)]


def _model():
    import keras_dde

    energy = keras_dde.models.energy_mlp(2, width=32, depth=3, activation="tanh")
    model = keras_dde.DDEModel(energy, sigma=SIGMA, seed=0)
    model.compile(optimizer="adam")
    return model


def _time_fit(model):
    import keras_dde

    x = keras_dde.datasets.toy2d("2spirals", BATCH_SIZE * STEPS_PER_EPOCH, seed=0)
    model.fit(x, batch_size=BATCH_SIZE, epochs=1, verbose=0)  # compile, warm up
    start = time.perf_counter()
    model.fit(x, batch_size=BATCH_SIZE, epochs=TIMED_EPOCHS, verbose=0)
    return TIMED_EPOCHS * STEPS_PER_EPOCH / (time.perf_counter() - start)


def run_one(backend, replicas):
    if backend == "tensorflow":
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2
        )
        if replicas == 1:
            return _time_fit(_model())
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        with strategy.scope():
            model = _model()
        return _time_fit(model)
    import jax
    import keras

    if replicas > 1:
        keras.distribution.set_distribution(
            keras.distribution.DataParallel(devices=jax.devices()[:replicas])
        )
    return _time_fit(_model())


def measure(backend, replicas):
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    env["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
    result = subprocess.run(
        [sys.executable, __file__, "--child", backend, str(replicas)],
        env=env, capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{backend} x{replicas} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])["steps_per_second"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output", help="also write the markdown table here")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        backend, replicas = args.child[0], int(args.child[1])
        print(json.dumps({"steps_per_second": run_one(backend, replicas)}))
        return

    runs = {config: [] for config in CONFIGS}
    for round_index in range(args.rounds):
        for backend, replicas in CONFIGS:
            runs[backend, replicas].append(measure(backend, replicas))
            print(f"round {round_index + 1}: {backend:10s} x{replicas} "
                  f"{runs[backend, replicas][-1]:8.0f} steps/s", flush=True)
    lines = [
        "| backend | replicas | how | steps/s (median) | runs | vs 1 replica |",
        "| --- | ---: | --- | ---: | --- | ---: |",
    ]
    for backend, replicas in CONFIGS:
        median = statistics.median(runs[backend, replicas])
        single = statistics.median(runs[backend, 1])
        how = {
            ("tensorflow", 1): "no strategy",
            ("tensorflow", 2): "MirroredStrategy, 2 logical CPUs",
            ("jax", 1): "no distribution",
            ("jax", 2): "DataParallel, 2 host devices",
        }[backend, replicas]
        values = ", ".join(f"{v:.0f}" for v in runs[backend, replicas])
        lines.append(f"| {backend} | {replicas} | {how} | {median:.0f} | {values} | "
                     f"{median / single:.2f}x |")
    table = "\n".join(lines)
    print()
    print(table)
    if args.output:
        from keras_dde.utils.files import atomic_path

        os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
        with atomic_path(args.output) as temporary, open(temporary, "w") as file:
            file.write(table + "\n")


if __name__ == "__main__":
    main()
