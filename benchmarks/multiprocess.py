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

Where the two-process step's time goes (`benchmarks/results/multiprocess.md`):

    python benchmarks/multiprocess.py --rounds 2 --models dde --global-batch 8192
    python benchmarks/multiprocess.py --rounds 2 --models dde --steps-per-execution 1
    python benchmarks/multiprocess.py --rounds 2 --models dde --one-xla-thread
    # one all-reduce of SIZE float32 between 2 processes (start both ids):
    python benchmarks/multiprocess.py --allreduce-worker ID PORT SIZE
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


def _model(name, steps_per_execution=None):
    import keras

    import keras_dde

    keras.utils.set_random_seed(0)
    if name == "dde":
        energy = keras_dde.models.energy_mlp(2, width=32, depth=3, activation="tanh")
        model = keras_dde.DDEModel(energy, sigma=0.1, seed=0)
        compile_args = dict(optimizer=keras.optimizers.Adam(2e-3))
    else:
        network = keras_dde.models.conditional_energy_mlp(2, width=32, depth=3)
        model = keras_dde.MultiScaleDDE(network, sigma=0.1, seed=0)
        compile_args = {}
    if steps_per_execution is not None:  # else the models' default, 32
        compile_args["steps_per_execution"] = steps_per_execution
    model.compile(**compile_args)
    return model


def worker(name, processes, process_id, port, global_batch, steps_per_execution):
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
    share = global_batch // processes
    x = keras_dde.datasets.toy2d("2spirals", global_batch * STEPS_PER_EPOCH, seed=0)
    batches = x.reshape(STEPS_PER_EPOCH, global_batch, 2)
    local = batches[:, process_id * share : (process_id + 1) * share].reshape(-1, 2)
    model = _model(name, steps_per_execution)
    model.fit(local, batch_size=share, epochs=1, shuffle=False, verbose=0)
    start = time.perf_counter()
    model.fit(local, batch_size=share, epochs=TIMED_EPOCHS, shuffle=False, verbose=0)
    seconds = time.perf_counter() - start
    if process_id == 0:
        print(json.dumps({"steps_per_s": STEPS_PER_EPOCH * TIMED_EPOCHS / seconds}))


def allreduce_worker(process_id, port, size, repeats=200):
    """Milliseconds per all-reduce of `size` float32 between 2 processes."""
    import jax
    import numpy as np

    from keras_dde.utils import processes as joined

    joined.initialize(f"localhost:{port}", 2, process_id, timeout=120)
    mesh = jax.sharding.Mesh(np.array(jax.devices()), ("p",))
    sharded = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("p"))
    replicated = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())
    local = np.full((1, size), process_id + 1.0, "float32")
    x = jax.make_array_from_process_local_data(sharded, local)
    total = jax.jit(lambda a: a.sum(axis=0), out_shardings=replicated)
    total(x).block_until_ready()
    start = time.perf_counter()
    for _ in range(repeats):
        total(x).block_until_ready()
    seconds = time.perf_counter() - start
    if process_id == 0:
        print(json.dumps({"ms": 1000 * seconds / repeats}))


def _free_port():
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        return sock.getsockname()[1]


def run(name, processes, global_batch=GLOBAL_BATCH, steps_per_execution=None,
        one_xla_thread=False):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    env["PYTHONPATH"] = os.pathsep.join([root, env.get("PYTHONPATH", "")])
    env.pop("XLA_FLAGS", None)
    if one_xla_thread:  # one XLA compute thread per process
        env["XLA_FLAGS"] = (
            "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        )
    port = _free_port()
    running = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", name, str(processes), str(i),
             str(port), str(global_batch), str(steps_per_execution or 0)],
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
    parser.add_argument("--global-batch", type=int, default=GLOBAL_BATCH)
    parser.add_argument("--steps-per-execution", type=int, default=None,
                        help="default: the models' own (32)")
    parser.add_argument("--models", default="dde,multiscale")
    parser.add_argument("--one-xla-thread", action="store_true",
                        help="one XLA compute thread per process")
    args = parser.parse_args()
    configs = [c for c in CONFIGS if c[0] in args.models.split(",")]
    results = {config: [] for config in configs}
    for _ in range(args.rounds):
        for config in configs:
            results[config].append(
                run(*config, args.global_batch, args.steps_per_execution,
                    args.one_xla_thread)
            )
    lines = [
        "| model | processes | steps/s (median) | runs | vs 1 process |",
        "| --- | ---: | ---: | --- | ---: |",
    ]
    for name, processes in configs:
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
                f"{args.rounds}`: global batch {args.global_batch}, "
                f"{STEPS_PER_EPOCH} steps per epoch, {TIMED_EPOCHS} timed "
                "epochs after a warm-up epoch; two processes on localhost "
                "(gloo CPU collectives, one CPU device each, each feeding half "
                "rows of every global batch). Machine: a 2-core CPU shared "
                "with other jobs while this ran, so the two processes compete "
                "for the cores with each other and with other work: this "
                "measures the cost of the cross-process step, not a "
                "speed-up, and the figures are noisy.\n\n" + table + "\n"
            )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--allreduce-worker":
        allreduce_worker(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]),
               int(sys.argv[6]), int(sys.argv[7]) or None)
    else:
        main()
