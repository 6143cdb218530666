"""A/B training throughput of two checkouts of keras-dde, alternating.

Runs `benchmarks/train_throughput.py --child CONFIG` of each checkout in a
fresh subprocess with that checkout first on `PYTHONPATH`, alternating A and
B for `--rounds` rounds, and reports the median steps/s of each and their
ratio B/A (1.0: no change). Alternation spreads a shared machine's noise
over both.

    python benchmarks/ab_throughput.py --baseline /work/main --configs dde-tensorflow dde-jax
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BACKENDS = {"dde-tensorflow": "tensorflow", "dde-jax": "jax", "dde-torch": "torch",
            "dde-jax-unfused": "jax"}


def measure(root, config):
    env = dict(
        os.environ,
        KERAS_BACKEND=BACKENDS[config],
        TF_CPP_MIN_LOG_LEVEL="3",
        PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )
    script = os.path.join(root, "benchmarks", "train_throughput.py")
    result = subprocess.run(
        [sys.executable, script, "--child", config],
        env=env, cwd=root, capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{root} {config} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])["steps_per_second"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="checkout A (root)")
    parser.add_argument("--candidate", default=os.path.dirname(HERE),
                        help="checkout B (root; default: this one)")
    parser.add_argument("--configs", nargs="+", default=["dde-tensorflow", "dde-jax"],
                        choices=list(BACKENDS))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print("| config | A steps/s (median) | B steps/s (median) | B/A | rounds |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for config in args.configs:
        a, b = [], []
        for round_ in range(args.rounds):
            order = [(args.baseline, a), (args.candidate, b)]
            if round_ % 2:
                order.reverse()
            for root, values in order:
                values.append(measure(root, config))
        ma, mb = statistics.median(a), statistics.median(b)
        print(f"| {config} | {ma:.0f} | {mb:.0f} | {mb / ma:.3f} | "
              f"{args.rounds} (A {[round(v) for v in a]}, B {[round(v) for v in b]}) |",
              flush=True)


if __name__ == "__main__":
    main()
