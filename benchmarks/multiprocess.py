"""Several JAX processes: `fit` steps/s with 1 and 2 processes on localhost.

Workload as in data_parallel.py: 2-D two spirals, a 2-32-32-32-1 tanh MLP
(`DDEModel`; `MultiScaleDDE` with the conditional MLP of the same size),
global batch 512, Adam. One process trains alone (no distribution); two
processes join through `keras_dde.utils.processes.initialize` (gloo CPU
collectives, one CPU device each), train under
`keras.distribution.DataParallel(devices=jax.devices())`, and each feeds its
own half (256 rows) of every global batch. Steps/s counts global steps,
timed after a warm-up epoch that compiles the step; process 0 reports.

On a machine with few cores shared by both processes this measures the
overhead of the cross-process step (sharding the batch, an all-reduce of the
gradients through gloo every step), not a speed-up. Configurations alternate
over rounds; medians are reported.

    python benchmarks/multiprocess.py --rounds 3 --output benchmarks/results/multiprocess.md
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time

GLOBAL_BATCH = 512
STEPS_PER_EPOCH = 50
TIMED_EPOCHS = 3
CONFIGS = [("dde", 1), ("dde", 2), ("multiscale", 1), ("multiscale", 2)]


def _model(name):
    import keras

    import keras_dde

    keras.utils.set_random_seed(0)
    if name == "dde":
        energy = keras_dde.models.energy_mlp(2, width=32, depth=3, activation="tanh")
        model = keras_dde.DDEModel(energy, sigma=0.1, seed=0)
        model.compile(optimizer=keras.optimizers.Adam(2e-3))
    else:
        network = keras_dde.models.conditional_energy_mlp(2, width=32, depth=3)
        model = keras_dde.MultiScaleDDE(network, sigma=0.1, seed=0)
        model.compile()
    return model


def worker(name, processes, process_id, port):
    import keras

    import keras_dde

    if processes > 1:
        import jax

        from keras_dde.utils import processes as joined

        joined.initialize(f"localhost:{port}", processes, process_id, timeout=120)
        keras.distribution.set_distribution(
            keras.distribution.DataParallel(
                devices=jax.devices(), auto_shard_dataset=False
            )
        )
    share = GLOBAL_BATCH // processes
    x = keras_dde.datasets.toy2d("2spirals", GLOBAL_BATCH * STEPS_PER_EPOCH, seed=0)
    batches = x.reshape(STEPS_PER_EPOCH, GLOBAL_BATCH, 2)
    local = batches[:, process_id * share : (process_id + 1) * share].reshape(-1, 2)
    model = _model(name)
    model.fit(local, batch_size=share, epochs=1, shuffle=False, verbose=0)
    start = time.perf_counter()
    model.fit(local, batch_size=share, epochs=TIMED_EPOCHS, shuffle=False, verbose=0)
    seconds = time.perf_counter() - start
    if process_id == 0:
        print(json.dumps({"steps_per_s": STEPS_PER_EPOCH * TIMED_EPOCHS / seconds}))


def _free_port():
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        return sock.getsockname()[1]


def run(name, processes):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    env["PYTHONPATH"] = os.pathsep.join([root, env.get("PYTHONPATH", "")])
    env.pop("XLA_FLAGS", None)
    port = _free_port()
    running = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", name, str(processes), str(i), str(port)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for i in range(processes)
    ]
    outputs = [process.communicate(timeout=900) for process in running]
    for process, (_, err) in zip(running, outputs):
        if process.returncode != 0:
            raise RuntimeError(err[-3000:])
    return json.loads(outputs[0][0].strip().splitlines()[-1])["steps_per_s"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output")
    args = parser.parse_args()
    results = {config: [] for config in CONFIGS}
    for _ in range(args.rounds):
        for config in CONFIGS:
            results[config].append(run(*config))
    lines = [
        "| model | processes | steps/s (median) | runs | vs 1 process |",
        "| --- | ---: | ---: | --- | ---: |",
    ]
    for name, processes in CONFIGS:
        runs = results[(name, processes)]
        median = statistics.median(runs)
        base = statistics.median(results[(name, 1)])
        lines.append(
            f"| {name} | {processes} | {median:.0f} | "
            f"{', '.join(f'{r:.0f}' for r in runs)} | {median / base:.2f}x |"
        )
    table = "\n".join(lines)
    print(table)
    if args.output:
        with open(args.output, "w") as file:
            file.write(
                "# Several JAX processes: steps/s of `fit`, 1 and 2 processes\n\n"
                "`python benchmarks/multiprocess.py --rounds "
                f"{args.rounds}`: global batch {GLOBAL_BATCH}, "
                f"{STEPS_PER_EPOCH} steps per epoch, {TIMED_EPOCHS} timed "
                "epochs after a warm-up epoch; two processes on localhost "
                "(gloo CPU collectives, one CPU device each, each feeding 256 "
                "rows of every global batch). Machine: a 2-core CPU shared "
                "with other jobs while this ran, so the two processes compete "
                "for the cores with each other and with other work: this "
                "measures the cost of the cross-process step, not a "
                "speed-up, and the figures are noisy.\n\n" + table + "\n"
            )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    else:
        main()
