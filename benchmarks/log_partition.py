"""log Z estimators on Gaussian mixtures with a known answer.

    KERAS_BACKEND=jax python benchmarks/log_partition.py [--cases 2:2,2:8,2:16,4:16] [--seeds 10]

Each case `k:d` is `random_mixture_energy(d, seed=d, n_components=k)` (k
components with random covariances, condition number up to 30, means about
8 apart; exact `log Z = 1.7`) wrapped in a `DDEModel` (sigma 0.1), with
4,000 exact draws as its data; 2 components at d = 2, 8, 16 are issue 13's
cases, 4 components at d = 16 a harder one. Estimators, each repeated over seeds:

- Gaussian IS: `dde.log_partition(data=x, proposal="gaussian", method="is")`,
  200,000 draws from `N(mean, cov + sigma^2 I)` (the default before mixtures);
- AIS: `dde.log_partition(data=x, proposal="gaussian", method="ais")`, 1,024
  chains x 500 temperatures of MALA from the same Gaussian (the default
  above 2-d before mixtures);
- GMM-IS: `importance_sampling` from `GaussianMixtureProposal.from_data(x,
  sigma)` (components by BIC, covariances widened by 10%), 20,000 draws;
- AIS from the mixture: `dde.log_partition(method="ais")` with the model's
  kept mixture as the base of the bridge, 1,024 chains x 500 temperatures;
- default: `dde.log_partition()` after `dde.set_data_statistics(x)`, i.e.
  IS from the mixture the model keeps (fitted to at most 5,000 rows), 200,000
  draws.

Columns: mean and max |error| over seeds, the median reported standard
error, the coverage (share of seeds with |error| <= 2 standard errors; a
calibrated standard error gives about 95%), and seconds per estimate.
Writes `benchmarks/results/log_partition.md` atomically.
"""

import argparse
import os
import time

import keras
import numpy as np

import keras_dde
from keras_dde.partition import GaussianMixtureProposal
from keras_dde.partition import importance_sampling
from keras_dde.testing import random_mixture_energy
from keras_dde.utils.files import atomic_path

SIGMA = 0.1
GMM_SAMPLES = 20_000


def gmm_is(dde, data, seed):
    proposal = GaussianMixtureProposal.from_data(data, sigma=SIGMA, seed=seed)
    energy_fn = lambda u: dde(proposal.from_whitened(u))  # noqa: E731
    log_z, stderr, _ = importance_sampling(
        energy_fn, proposal, GMM_SAMPLES, 8192, seed, verbose=0
    )
    return log_z, stderr


METHODS = {
    "Gaussian IS (200k draws)": lambda dde, x, seed: dde.log_partition(
        data=x, proposal="gaussian", method="is", seed=seed, verbose=0
    ),
    "AIS (1,024 chains x 500 steps)": lambda dde, x, seed: dde.log_partition(
        data=x, proposal="gaussian", method="ais", seed=seed, verbose=0
    ),
    f"GMM-IS ({GMM_SAMPLES // 1000}k draws)": gmm_is,
    "AIS from the kept mixture (1,024 x 500)": lambda dde, x, seed: (
        dde.log_partition(method="ais", seed=seed, verbose=0)
    ),
    "default `log_partition()` (mixture IS, 200k)": lambda dde, x, seed: (
        dde.log_partition(seed=seed, verbose=0)
    ),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cases", default="2:2,2:8,2:16,4:16", help="components:dim,..."
    )
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--methods", default="all", help="comma-separated prefixes")
    parser.add_argument(
        "--out",
        default=os.path.join(os.path.dirname(__file__), "results", "log_partition.md"),
    )
    args = parser.parse_args()
    methods = METHODS
    if args.methods != "all":
        prefixes = [p.strip().lower() for p in args.methods.split(",")]
        methods = {
            k: v for k, v in METHODS.items() if k.lower().startswith(tuple(prefixes))
        }
    rows = []
    for case in args.cases.split(","):
        components, dim = (int(v) for v in case.split(":"))
        energy = random_mixture_energy(dim, seed=dim, n_components=components)
        data = energy.sample_numpy(4000, seed=1)
        dde = keras_dde.DDEModel(energy, sigma=SIGMA)
        dde.build((None, dim))
        dde.set_data_statistics(data)  # keeps a mixture, as `fit` does
        truth = energy.exact_log_partition()
        for name, method in methods.items():
            results, start = [], time.perf_counter()
            for seed in range(args.seeds):
                results.append(method(dde, data, seed)[:2])
            seconds = (time.perf_counter() - start) / args.seeds
            results = np.array(results)
            errors, stderrs = results[:, 0] - truth, results[:, 1]
            row = (
                f"| {components} | {dim} | {name} | {np.mean(np.abs(errors)):.4f} | "
                f"{np.max(np.abs(errors)):.4f} | {np.mean(errors):+.4f} | "
                f"{np.median(stderrs):.4f} | "
                f"{np.mean(np.abs(errors) <= 2 * stderrs):.0%} | {seconds:.1f} |"
            )
            print(row, flush=True)
            rows.append(row)
    header = [
        "# log Z on Gaussian mixtures with random covariances",
        "",
        f"`KERAS_BACKEND={keras.backend.backend()} python benchmarks/log_partition.py "
        f"--cases {args.cases} --seeds {args.seeds}` (2-core CPU, shared with other "
        "jobs; times are indicative). Exact log Z = 1.7; "
        f"{args.seeds} seeds per row. Coverage: share of seeds whose error is "
        "within 2 reported standard errors.",
        "",
        "| components | d | estimator | mean abs. error | max abs. error | mean error | "
        "median stderr | coverage | s / estimate |",
        "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with atomic_path(args.out, suffix=".md") as temporary:
        with open(temporary, "w") as f:
            f.write("\n".join(header + rows) + "\n")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
