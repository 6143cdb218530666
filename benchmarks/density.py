"""Density benchmark: held-out log-likelihood and inference speed of DDEs.

One run writes `benchmarks/results/density.md` (tables) and
`benchmarks/results/density.png` (plot):

1. Held-out average log-likelihood (nats per sample, mean +- standard error
   over seeds; each seed re-draws the data or the train/test split and all
   random initialisations) of
   - DDE (`keras_dde.estimators.DDEDensity`, bandwidth = the KDE's
     cross-validated one; log Z by IS in 2-D and AIS above; since the
     estimator became multi-scale, the DDE rows of `results/density.md`
     predate it: they are the single-sigma model's),
   - `sklearn.neighbors.KernelDensity`, bandwidth by 5-fold CV,
   - `sklearn.mixture.GaussianMixture`, number of components by 5-fold CV,
   - a masked autoregressive flow (`zuko.flows.MAF`), if `zuko` is
     installed (`pip install torch==2.13.0 zuko`; a benchmark-only extra),
   on every 2-D toy, a synthetic Gaussian mixture in d = 8 and 16 whose true
   log-density is known (the table shows the truth), and scikit-learn's
   digits (64-d, dequantised).
2. Log-density queries per second of a DDE vs `KernelDensity` as the
   training set grows (D = 1e4, 1e5, 1e6), and the DDE's mean absolute error
   against the exact KDE at the same bandwidth.

Usage:
    KERAS_BACKEND=jax python benchmarks/density.py            # full run
    KERAS_BACKEND=jax python benchmarks/density.py --quick    # smoke test
"""

import argparse
import math
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-likelihood", action="store_true")
    parser.add_argument("--datasets", default=None, help="comma-separated subset")
    parser.add_argument(
        "--methods", default="dde,gmm,maf",
        help="comma-separated, from dde, multiscale (MultiScaleDDE), gmm, maf; "
        "the KDE (CV) always runs: it sets sigma",
    )
    parser.add_argument(
        "--name", default="density",
        help="the results' file name: <out>/<name>.md and .png",
    )
    parser.add_argument("--out", default=os.path.join(HERE, "results"))
    parser.add_argument(
        "--replot", action="store_true",
        help="redraw density.png from the tables in an existing density.md",
    )
    return parser.parse_args()


# --- Data -----------------------------------------------------------------------


def synthetic_mixture(dim):
    """A fixed 6-component anisotropic mixture in `dim` dimensions."""
    from keras_dde.testing import GaussianMixtureEnergy
    from keras_dde.testing import random_covariance

    rng = np.random.default_rng(1000 + dim)
    covariances = np.stack(
        [0.5 * random_covariance(dim, rng, condition=5.0) for _ in range(6)]
    )
    means = rng.normal(size=(6, dim)) * 2.0
    return GaussianMixtureEnergy(means, covariances, weights=rng.uniform(0.5, 1.5, 6))


def load(name, seed, quick):
    """`(x_train, x_test, truth)`; `truth` maps x to the true log-density or None."""
    import keras_dde

    n_train, n_test = (1000, 500) if quick else (5000, 2000)
    if name.startswith("mixture"):
        mixture = synthetic_mixture(int(name[len("mixture") :]))
        x = mixture.sample_numpy(n_train + n_test, seed=seed)
        return x[:n_train], x[n_train:], mixture.exact_log_prob
    if name == "digits":
        x = keras_dde.datasets.load_digits(seed=seed)
        order = np.random.default_rng(seed).permutation(len(x))
        split = int(0.8 * len(x))
        return x[order[:split]], x[order[split:]], None
    x = keras_dde.datasets.toy2d(name, n_train + n_test, seed=seed)
    return x[:n_train], x[n_train:], None


# --- Methods -----------------------------------------------------------------------


def fit_kde(x, seed):
    from sklearn.model_selection import GridSearchCV
    from sklearn.neighbors import KernelDensity

    scale = float(np.mean(np.std(x, axis=0)))
    grid = {"bandwidth": scale * np.logspace(-2, 0, 15)}
    search = GridSearchCV(KernelDensity(), grid, cv=5, n_jobs=1)
    search.fit(x)
    return search.best_estimator_, search.best_params_["bandwidth"]


def fit_gmm(x, seed, quick):
    from sklearn.mixture import GaussianMixture
    from sklearn.model_selection import GridSearchCV

    components = [1, 2, 4, 8] if quick else [1, 2, 4, 8, 16, 32]
    components = [k for k in components if k <= len(x) // 20]
    search = GridSearchCV(
        GaussianMixture(covariance_type="full", reg_covar=1e-4, random_state=seed),
        {"n_components": components},
        cv=5,
    )
    search.fit(x)
    return search.best_estimator_, search.best_params_["n_components"]


def fit_dde(x, sigma, seed, quick):
    from keras_dde.estimators import DDEDensity

    dim = x.shape[1]
    steps = 600 if quick else (4000 if dim <= 2 else 6000)
    estimator = DDEDensity(
        bandwidth=sigma,
        width=128 if dim <= 2 else 256,
        depth=3,
        steps=steps,
        batch_size=512,
        learning_rate=4e-3 if dim <= 2 else 3e-3,
        log_z_samples=None,
        random_state=seed,
    )
    return estimator.fit(x)


def fit_multiscale(x, sigma, seed, quick):
    """A `MultiScaleDDE` with the recipe of `benchmarks/multiscale.py`: the
    default `conditional_energy_mlp`, Adam 4e-3 with cosine decay, 4,800 steps
    of 512 (300 epochs of 8k points)."""
    import keras

    import keras_dde

    keras.utils.set_random_seed(seed)
    steps_per_epoch = -(-len(x) // 512)
    epochs = 20 if quick else max(1, round(4800 / steps_per_epoch))
    energy = keras_dde.models.conditional_energy_mlp(x.shape[1], seed=seed)
    model = keras_dde.MultiScaleDDE(energy, sigma=sigma, seed=seed)
    schedule = keras.optimizers.schedules.CosineDecay(4e-3, epochs * steps_per_epoch)
    model.compile(keras.optimizers.Adam(schedule))
    model.fit(x, batch_size=512, epochs=epochs, verbose=0)
    model.log_partition(seed=seed, verbose=0)
    return model


def fit_flow(x, seed, quick):
    """A masked autoregressive flow (zuko); None when zuko is missing."""
    try:
        import torch
        import zuko
    except ImportError:
        return None
    torch.manual_seed(seed)
    dim = x.shape[1]
    mean, std = x.mean(0), x.std(0) + 1e-6
    flow = zuko.flows.MAF(dim, transforms=5, hidden_features=(64, 64))
    optimizer = torch.optim.Adam(flow.parameters(), lr=1e-3)
    data = torch.as_tensor((x - mean) / std, dtype=torch.float32)
    steps = 300 if quick else 2000
    generator = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        batch = data[torch.randint(len(data), (256,), generator=generator)]
        loss = -flow().log_prob(batch).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    log_det = float(np.sum(np.log(std)))

    def score_samples(x_test):
        with torch.no_grad():
            z = torch.as_tensor((x_test - mean) / std, dtype=torch.float32)
            return flow().log_prob(z).numpy().astype("float64") - log_det

    return score_samples


# --- Part 1: held-out log-likelihood ---------------------------------------------------


def likelihood_table(datasets, seeds, quick, on_row=None, methods=("dde", "gmm", "maf")):
    rows = []
    for name in datasets:
        results = {
            "DDE": [], "MultiScaleDDE": [], "KDE (CV)": [], "GMM (CV)": [],
            "MAF (zuko)": [], "truth": [],
        }
        notes = {"sigma": [], "components": []}
        for seed in range(seeds):
            start = time.time()
            x_train, x_test, truth = load(name, seed, quick)
            kde, bandwidth = fit_kde(x_train, seed)
            results["KDE (CV)"].append(np.mean(kde.score_samples(x_test)))
            k = math.nan
            if "gmm" in methods:
                gmm, k = fit_gmm(x_train, seed, quick)
                results["GMM (CV)"].append(np.mean(gmm.score_samples(x_test)))
            log_z_note = ""
            if "dde" in methods:
                dde = fit_dde(x_train, bandwidth, seed, quick)
                results["DDE"].append(np.mean(dde.score_samples(x_test)))
                log_z_note = f", log Z stderr {dde.log_partition_stderr_:.3f}"
            if "multiscale" in methods:
                multi = fit_multiscale(x_train, bandwidth, seed, quick)
                results["MultiScaleDDE"].append(np.mean(multi.log_prob(x_test)))
            flow = fit_flow(x_train, seed, quick) if "maf" in methods else None
            if flow is not None:
                results["MAF (zuko)"].append(np.mean(flow(x_test)))
            if truth is not None:
                results["truth"].append(np.mean(truth(x_test)))
            notes["sigma"].append(bandwidth)
            notes["components"].append(k)
            print(
                f"{name} seed {seed}: "
                + ", ".join(f"{m} {v[-1]:.3f}" for m, v in results.items() if v)
                + f" (sigma {bandwidth:.3g}{log_z_note}, {time.time() - start:.0f} s)",
                flush=True,
            )
        rows.append((name, results, notes))
        if on_row is not None:
            on_row(rows)
    return rows


def mean_and_stderr(values):
    values = np.asarray(values, dtype="float64")
    if len(values) == 0:
        return math.nan, math.nan
    if len(values) == 1:
        return float(values[0]), math.nan
    return float(values.mean()), float(values.std(ddof=1) / math.sqrt(len(values)))


def format_likelihood(rows, seeds):
    order = ["DDE", "MultiScaleDDE", "KDE (CV)", "GMM (CV)", "MAF (zuko)", "truth"]
    methods = [m for m in order if any(r[1][m] for r in rows) or m in ("DDE", "truth")]
    dde = "MultiScaleDDE" if not any(r[1]["DDE"] for r in rows) else "DDE"
    lines = [
        f"Held-out average log-likelihood (nats per sample; mean ± standard error "
        f"over {seeds} seeds; higher is better; **bold** = best model).",
        "",
        "| data set | " + " | ".join(methods) + f" | {dde} − KDE | sigma | GMM k |",
        "|---" * (len(methods) + 4) + "|",
    ]
    for name, results, notes in rows:
        cells, means = [], {}
        for method in methods:
            mean, stderr = mean_and_stderr(results[method])
            means[method] = mean
            if math.isnan(mean):
                cells.append("n/a")
            elif math.isnan(stderr):
                cells.append(f"{mean:.3f}")
            else:
                cells.append(f"{mean:.3f} ± {stderr:.3f}")
        models = [m for m in methods[:-1] if not math.isnan(means[m])]
        best = max(models, key=lambda m: means[m])
        cells[methods.index(best)] = f"**{cells[methods.index(best)]}**"
        gap = np.asarray(results[dde]) - np.asarray(results["KDE (CV)"])
        gap_mean, gap_se = mean_and_stderr(gap)
        lines.append(
            f"| {name} | "
            + " | ".join(cells)
            + f" | {gap_mean:+.3f} ± {gap_se:.3f} | {np.mean(notes['sigma']):.3g}"
            + f" | {np.nanmedian(np.asarray(notes['components'], float)):.0f} |"
        )
    return "\n".join(lines)


# --- Part 2: inference speed ------------------------------------------------------------


def speed_table(sizes, quick):
    import keras

    from keras_dde.estimators import DDEDensity
    from sklearn.neighbors import KernelDensity

    import keras_dde

    sigma = 0.2
    n_queries_dde = 200_000
    rows = []
    queries = keras_dde.datasets.toy2d("8gaussians", n_queries_dde, seed=99)
    for size in sizes:
        x = keras_dde.datasets.toy2d("8gaussians", size, seed=1)
        dde = DDEDensity(
            bandwidth=sigma, steps=600 if quick else 4000, batch_size=1024,
            random_state=0,
        ).fit(x)
        kde = KernelDensity(bandwidth=sigma).fit(x)
        # Exact KDE on a subset that takes a few seconds at most.
        n_kde = int(min(10_000, max(200, 2e8 / size / 10)))
        start = time.perf_counter()
        exact = kde.score_samples(queries[:n_kde])
        kde_qps = n_kde / (time.perf_counter() - start)
        dde.model_.log_prob(queries[:8192], batch_size=65536)  # warm up
        start = time.perf_counter()
        log_p = dde.model_.log_prob(queries, batch_size=65536)
        dde_qps = len(queries) / (time.perf_counter() - start)
        mae = float(np.mean(np.abs(log_p[:n_kde] - exact)))
        rows.append((size, dde_qps, kde_qps, dde_qps / kde_qps, mae, n_kde))
        print(f"D={size}: DDE {dde_qps:,.0f} q/s, KDE {kde_qps:,.0f} q/s, "
              f"ratio {dde_qps / kde_qps:,.0f}, MAE {mae:.3f}", flush=True)
        keras.backend.clear_session()
    lines = [
        "Log-density queries per second on 2-D `8gaussians` (bandwidth 0.2), "
        "training-set size D; DDE = one network pass per query (batches of "
        "65,536), KDE = `sklearn.neighbors.KernelDensity` (tree-based, exact); "
        "MAE = mean |log p_DDE − log p_KDE| in nats on the KDE's queries.",
        "",
        "| D | DDE queries/s | KDE queries/s | speed-up | MAE vs exact KDE (nats) | KDE queries timed |",
        "|---|---|---|---|---|---|",
    ]
    for size, dde_qps, kde_qps, ratio, mae, n_kde in rows:
        lines.append(
            f"| {size:.0e} | {dde_qps:,.0f} | {kde_qps:,.0f} | {ratio:,.0f}× | "
            f"{mae:.3f} | {n_kde:,} |"
        )
    return rows, "\n".join(lines)


def plot(likelihood_rows, speed_rows, path):
    from matplotlib.figure import Figure

    panels = int(bool(likelihood_rows)) + int(bool(speed_rows))
    figure = Figure(figsize=(6 * panels, 4.5))
    index = 1
    if likelihood_rows:
        axis = figure.add_subplot(1, panels, index)
        index += 1
        names = [row[0] for row in likelihood_rows]
        methods = ["KDE (CV)", "GMM (CV)", "MAF (zuko)"]
        width = 0.8 / len(methods)
        for offset, method in enumerate(methods):
            gaps = []
            for _, results, _ in likelihood_rows:
                if results[method]:
                    gaps.append(np.mean(results["DDE"]) - np.mean(results[method]))
                else:
                    gaps.append(np.nan)
            axis.bar(np.arange(len(names)) + offset * width, gaps, width, label=f"DDE − {method}")
        axis.axhline(0, color="black", linewidth=0.8)
        # Differences span 0.01 to 100+ nats (64-d digits): symmetric log.
        axis.set_yscale("symlog", linthresh=0.1)
        axis.set_xticks(np.arange(len(names)) + 0.4 - width / 2)
        axis.set_xticklabels(names, rotation=45, ha="right")
        axis.set_ylabel("held-out log-likelihood difference (nats)")
        axis.set_title("DDE minus baseline (> 0: DDE better)")
        axis.legend(fontsize=8)
    if speed_rows:
        axis = figure.add_subplot(1, panels, index)
        sizes = [row[0] for row in speed_rows]
        axis.loglog(sizes, [row[1] for row in speed_rows], "o-", label="DDE")
        axis.loglog(sizes, [row[2] for row in speed_rows], "s-", label="KernelDensity")
        axis.set_xlabel("training points D")
        axis.set_ylabel("log-density queries / s")
        axis.set_title("Inference speed")
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def rows_from_markdown(path):
    """The means in `density.md`'s tables, as `plot` takes them."""
    likelihood_rows, speed_rows, section = [], [], None
    with open(path) as handle:
        for line in handle:
            if line.startswith("## "):
                section = line.strip()
            cells = [cell.strip().strip("*") for cell in line.strip().strip("|").split("|")]
            if not line.startswith("|") or cells[0] in ("data set", "D") or set(cells[0]) <= set("-"):
                continue
            if section == "## Held-out log-likelihood":
                methods = ["DDE", "KDE (CV)", "GMM (CV)", "MAF (zuko)"]
                results = {
                    method: [] if cell == "n/a" else [float(cell.split(" ")[0])]
                    for method, cell in zip(methods, cells[1:5])
                }
                likelihood_rows.append((cells[0], results, {}))
            elif section == "## Inference speed":
                numbers = [float(cell.replace(",", "")) for cell in cells[:3]]
                speed_rows.append(tuple(numbers))
    return likelihood_rows, speed_rows


def main():
    args = parse_args()
    if args.replot:
        rows, speed = rows_from_markdown(os.path.join(args.out, "density.md"))
        plot(rows, speed, os.path.join(args.out, "density.png"))
        return
    sys.path.insert(0, os.path.dirname(HERE))
    import keras

    import keras_dde

    os.makedirs(args.out, exist_ok=True)
    datasets = keras_dde.datasets.toy2d_names() + ["mixture8", "mixture16", "digits"]
    if args.datasets:
        datasets = args.datasets.split(",")
    if args.quick:
        datasets = datasets[:1] + ["mixture8"] if not args.datasets else datasets
    seeds = 1 if args.quick else args.seeds
    methods = args.methods.split(",")
    sections = [
        "# Density benchmark",
        "",
        f"Made by `benchmarks/density.py{' --quick' if args.quick else ''}"
        f"{'' if args.methods == 'dde,gmm,maf' else ' --methods ' + args.methods}` "
        f"(Keras {keras.__version__}, backend {keras.backend.backend()}, "
        f"{time.strftime('%Y-%m-%d')}).",
    ]
    likelihood_rows, speed_rows = [], []
    speed_text = None

    def write(rows=None):
        text = list(sections)
        if rows:
            text += ["", "## Held-out log-likelihood", "", format_likelihood(rows, seeds)]
        if speed_text:
            text += ["", "## Inference speed", "", speed_text]
        with open(os.path.join(args.out, f"{args.name}.md"), "w") as handle:
            handle.write("\n".join(text) + "\n")
        if "dde" in methods:
            plot(rows or [], speed_rows, os.path.join(args.out, f"{args.name}.png"))
        return text

    if not args.skip_speed:
        sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
        speed_rows, speed_text = speed_table(sizes, args.quick)
        write()
    if not args.skip_likelihood:
        likelihood_rows = likelihood_table(
            datasets, seeds, args.quick, on_row=write, methods=methods
        )
    sections = write(likelihood_rows)
    print("\n".join(sections))


if __name__ == "__main__":
    main()
