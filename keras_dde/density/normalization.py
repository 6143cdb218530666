"""Normalising, scoring and sampling a DDE: the logic behind `DDEModel`'s
`log_partition`, `log_prob`, `sample` and data statistics.

A DDE's energy `s(x)` is an unnormalised log-density. Its normaliser
`log Z = log integral exp(s)` is estimated by importance sampling (IS) from a
Gaussian proposal `q` fitted to the data,

    log Z ~ logsumexp_i (s(x_i) - log q(x_i)) - log N,   x_i ~ q,

or, in higher dimensions, by annealed importance sampling (AIS) along the
geometric path `q^(1 - beta) exp(s)^beta` with one MALA step per temperature.
Both report a delta-method standard error `std(w) / (sqrt(N) mean(w))` of the
estimate, on the importance weights `w`.
"""

import hashlib
import math
import warnings

import keras
import numpy as np
from keras import ops

from keras_dde import backend
from keras_dde.density.gaussian_proposal import GaussianProposal
from keras_dde.density.mala import TARGET_ACCEPTANCE
from keras_dde.backend.compile import compile_function
from keras_dde.density.mala import adapt_step_size
from keras_dde.density.mala import draw_step_noise
from keras_dde.density.mala import mala_step
from keras_dde.utils.validation import check_data
from keras_dde.utils.validation import check_sample_weight
from keras_dde.utils.validation import check_positive_int

# Above this many features the data statistics keep a diagonal covariance.
MAX_FULL_COVARIANCE_DIM = 1024
# `method="auto"` uses plain importance sampling up to this dimension.
MAX_IS_DIM = 2
DEFAULT_IS_SAMPLES = 200_000
DEFAULT_AIS_CHAINS = 1024
DEFAULT_AIS_STEPS = 500


# --- Data statistics kept by the model ---------------------------------------


def build_state(model, feature_shape):
    """Creates the non-trainable weights that make a DDE self-normalising.

    `data_mean`, `data_covariance` (full up to `MAX_FULL_COVARIANCE_DIM`
    features, else diagonal) and `data_count` summarise the last array data
    `fit` saw; `log_z`, `log_z_stderr` and `log_z_fingerprint` cache the last
    `log_partition` estimate and a hash of the weights it was computed for.
    All of them save in `.keras` files.
    """
    if getattr(model, "data_mean", None) is not None:
        return
    dim = int(np.prod(feature_shape))
    cov_shape = (dim, dim) if dim <= MAX_FULL_COVARIANCE_DIM else (dim,)
    add = model.add_weight
    model.data_mean = add(
        shape=(dim,), initializer="zeros", trainable=False, name="data_mean"
    )
    model.data_covariance = add(
        shape=cov_shape, initializer="zeros", trainable=False, name="data_covariance"
    )
    model.data_count = add(
        shape=(), initializer="zeros", trainable=False, name="data_count"
    )
    nan = keras.initializers.Constant(float("nan"))
    model.log_z = add(shape=(), initializer=nan, trainable=False, name="log_z")
    model.log_z_stderr = add(
        shape=(), initializer=nan, trainable=False, name="log_z_stderr"
    )
    model.log_z_fingerprint = add(
        shape=(4,),
        initializer="zeros",
        dtype="int32",
        trainable=False,
        name="log_z_fingerprint",
    )


def _read(variable):
    """A variable's value as numpy, on every backend."""
    return ops.convert_to_numpy(ops.convert_to_tensor(variable))


def _require_built(model, data=None):
    if model.built and getattr(model, "data_mean", None) is not None:
        return
    if data is not None:
        model.build((None, *np.shape(data)[1:]))
        return
    raise ValueError(
        "The model is not built yet, so its number of features is unknown: "
        "train it with `fit`, or pass `data`."
    )


def set_data_statistics(model, data, sample_weight=None):
    """Stores the mean and covariance of `data` (array, or iterable of batches)."""
    if _is_batch_iterable(data):
        if sample_weight is not None:
            raise ValueError(
                "Pass `sample_weight` only with array `data`; a dataset's "
                "batches may carry their own weights as `(x, y, sample_weight)`."
            )
        return _set_statistics_from_batches(model, data)
    x = check_data(data, "data", model.feature_shape if model.built else None)
    _require_built(model, x)
    weights = None
    if sample_weight is not None:
        weights = check_sample_weight(sample_weight, len(x))
    accumulator = _MomentAccumulator()
    accumulator.update(x.reshape(len(x), -1), weights)
    _assign_statistics(model, accumulator)


def _is_batch_iterable(data):
    if isinstance(data, (np.ndarray, list, tuple)):
        return False
    if hasattr(data, "shape") and hasattr(data, "dtype"):
        return False
    return hasattr(data, "__iter__") or hasattr(data, "__getitem__")


def _set_statistics_from_batches(model, data):
    accumulator = _MomentAccumulator()
    if isinstance(data, keras.utils.PyDataset):
        batches = (data[i] for i in range(len(data)))
    else:
        batches = iter(data)
    for batch in batches:
        x, _, weights = keras.utils.unpack_x_y_sample_weight(batch)
        x = check_data(ops.convert_to_numpy(x), "data")
        _require_built(model, x)
        if weights is not None:
            weights = check_sample_weight(ops.convert_to_numpy(weights), len(x))
        accumulator.update(x.reshape(len(x), -1), weights)
    if accumulator.count == 0:
        raise ValueError("`data` yielded no batches.")
    _assign_statistics(model, accumulator)


class _MomentAccumulator:
    """Streaming weighted mean and scatter matrix (Chan et al.), in float64."""

    def __init__(self):
        self.count = 0.0
        self.n = 0
        self.mean = None
        self.scatter = None

    def update(self, x, weights=None):
        x = x.astype("float64")
        if weights is None:
            weights = np.ones(len(x))
        total = weights.sum()
        if total <= 0:
            return
        mean = weights @ x / total
        centered = x - mean
        scatter = (centered * weights[:, None]).T @ centered
        if self.mean is None:
            self.count, self.mean, self.scatter = total, mean, scatter
        else:
            delta = mean - self.mean
            combined = self.count + total
            self.scatter = (
                self.scatter
                + scatter
                + np.outer(delta, delta) * self.count * total / combined
            )
            self.mean = self.mean + delta * total / combined
            self.count = combined
        self.n += len(x)

    def covariance(self):
        return self.scatter / self.count


def _assign_statistics(model, accumulator):
    dim = model.data_mean.shape[0]
    if accumulator.mean.shape[0] != dim:
        raise ValueError(
            f"`data` has {accumulator.mean.shape[0]} features; the model has {dim}."
        )
    covariance = accumulator.covariance()
    if len(model.data_covariance.shape) == 1:
        covariance = np.diag(covariance)
    model.data_mean.assign(accumulator.mean.astype("float32"))
    model.data_covariance.assign(covariance.astype("float32"))
    model.data_count.assign(float(accumulator.n))


def proposal_for(model, data=None, proposal=None, sample_weight=None, scale=1.0):
    """The Gaussian proposal: given, fitted to `data`, or from stored statistics."""
    dim = int(np.prod(model.feature_shape))
    if proposal is not None:
        if data is not None:
            raise ValueError("Pass either `data` or `proposal`, not both.")
        if not isinstance(proposal, GaussianProposal):
            raise TypeError(
                "`proposal` must be a `keras_dde.density.GaussianProposal`; "
                f"received {type(proposal).__name__}."
            )
        if proposal.dim != dim:
            raise ValueError(
                f"`proposal` has dimension {proposal.dim}, but the model's "
                f"inputs have {dim} features (shape {model.feature_shape})."
            )
        return proposal
    if data is not None:
        x = check_data(data, "data", model.feature_shape)
        return GaussianProposal.from_data(
            x, sigma=model.sigma, sample_weight=sample_weight, scale=scale
        )
    if float(_read(model.data_count)) <= 0:
        raise ValueError(
            "The model has no data statistics to build a proposal from: they "
            "are recorded when `fit` receives array data. Pass `data=` (the "
            "training data), call `set_data_statistics(data)` once (it also "
            "accepts a tf.data.Dataset or PyDataset), or pass `proposal=`."
        )
    return GaussianProposal.from_moments(
        _read(model.data_mean),
        _read(model.data_covariance),
        sigma=model.sigma,
        scale=scale,
    )


# --- Energies in whitened coordinates ------------------------------------------


def whitened_energy(model, proposal, with_gradient=True):
    """`u -> s(x(u))` (and its u-gradient) for `x(u) = m + L u`."""
    feature_shape = tuple(model.feature_shape)
    chol = ops.convert_to_tensor(proposal.cholesky, dtype="float32")

    def fn(u):
        x = ops.reshape(proposal.from_whitened(u), (-1, *feature_shape))
        if not with_gradient:
            return model(x)
        s, grad = backend.input_gradient(model, x)
        grad = ops.reshape(grad, (ops.shape(u)[0], -1))
        return s, ops.matmul(grad, chol)

    return fn


def _log_mean_exp(log_w):
    """`log mean exp(log_w)`, its delta-method standard error and the ESS."""
    log_w = np.asarray(log_w, dtype="float64")
    finite = np.isfinite(log_w)
    if not finite.any():
        return -math.inf, math.inf, 0.0
    log_w = np.where(finite, log_w, -np.inf)
    top = log_w.max()
    w = np.exp(log_w - top)
    mean = w.mean()
    log_z = top + math.log(mean)
    stderr = math.inf
    if len(w) > 1:
        stderr = float(w.std(ddof=1) / (math.sqrt(len(w)) * mean))
    ess = float(w.sum() ** 2 / np.sum(w**2))
    return float(log_z), stderr, ess


def _seed_generator(seed):
    if isinstance(seed, keras.random.SeedGenerator):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise TypeError(f"`seed` must be None or an int; received {seed!r}.")
    return keras.random.SeedGenerator(seed)


def _progbar(target, verbose, work):
    if verbose == "auto":
        verbose = 1 if work >= 50_000_000 else 0
    return keras.utils.Progbar(target, verbose=int(verbose)) if verbose else None


def importance_sampling(energy_fn, proposal, n_samples, batch_size, seed, verbose):
    """Plain importance sampling estimate of `log Z` from `proposal`.

    Returns `(log_z, stderr, ess)`.
    """
    generator = _seed_generator(seed)
    n_batches = -(-n_samples // batch_size)
    bar = _progbar(n_batches, verbose, n_batches * 500_000)
    log_weight = compile_function(
        lambda u: energy_fn(u) - proposal.log_prob_whitened(u)
    )
    log_w = []
    for index in range(n_batches):
        size = min(batch_size, n_samples - index * batch_size)
        u = proposal.sample_whitened(size, generator)
        log_w.append(ops.convert_to_numpy(log_weight(u)))
        if bar is not None:
            bar.update(index + 1)
    return _log_mean_exp(np.concatenate(log_w))


def annealing_schedule(n_steps, sharpness=4.0):
    """Sigmoidal inverse temperatures `0 = beta_0 < ... < beta_K = 1`.

    References:
        - [Grosse et al., 2015](https://arxiv.org/abs/1511.02543)
    """
    t = np.linspace(-sharpness, sharpness, n_steps + 1)
    beta = 1.0 / (1.0 + np.exp(-t))
    return (beta - beta[0]) / (beta[-1] - beta[0])


def annealed_importance_sampling(
    energy_grad_fn, proposal, n_chains, n_steps, seed, verbose, step_size=None
):
    """Annealed importance sampling estimate of `log Z`.

    Chains start at `q`, and each of `n_steps` temperatures adds
    `(beta_k - beta_{k-1}) (s - log q)` to the log-weights and moves every
    chain by one MALA step that leaves `q^(1-beta_k) exp(s)^beta_k`
    invariant; the step size adapts toward 57.4% mean acceptance.

    Returns `(log_z, stderr, ess, mean_acceptance)`.

    References:
        - [Neal, 2001](https://arxiv.org/abs/physics/9803008)
    """
    generator = _seed_generator(seed)
    betas = annealing_schedule(n_steps)
    dim = proposal.dim

    def step(u, s, grad_s, h, log_w, beta_prev, beta, noise, log_uniform):
        log_ratio = s - proposal.log_prob_whitened(u)
        log_w = log_w + (beta - beta_prev) * log_ratio
        u, s, grad_s, accept = mala_step(
            u, s, grad_s, beta, h, energy_grad_fn, noise, log_uniform
        )
        # One step size for all chains, adapted to their mean acceptance: a
        # per-chain step would depend on the chain's state and break the
        # invariance that makes the weights unbiased.
        mean_accept = ops.mean(accept)
        return u, s, grad_s, adapt_step_size(h, mean_accept[None]), log_w, mean_accept

    step = compile_function(step)
    u = proposal.sample_whitened(n_chains, generator)
    s, grad_s = compile_function(energy_grad_fn)(u)
    if step_size is None:
        step_size = 1.0 / dim ** (1.0 / 6.0)
    h = ops.full((1, 1), step_size, dtype="float32")
    log_w = ops.zeros((n_chains,), dtype="float32")
    betas_t = ops.convert_to_tensor(betas, dtype="float32")
    bar = _progbar(n_steps, verbose, n_chains * n_steps * dim)
    acceptance = []
    for k in range(1, n_steps + 1):
        noise, log_uniform = draw_step_noise((n_chains, dim), generator)
        u, s, grad_s, h, log_w, accept = step(
            u, s, grad_s, h, log_w, betas_t[k - 1], betas_t[k], noise, log_uniform
        )
        acceptance.append(accept)
        if bar is not None and (k % 10 == 0 or k == n_steps):
            bar.update(k, [("acceptance", float(ops.convert_to_numpy(accept)))])
    acceptance = float(np.mean([ops.convert_to_numpy(a) for a in acceptance]))
    log_z, stderr, ess = _log_mean_exp(ops.convert_to_numpy(log_w))
    return log_z, stderr, ess, acceptance


# --- The model's methods ---------------------------------------------------------


def weights_fingerprint(model):
    """A 128-bit hash of the energy network's weights, as 4 int32."""
    digest = hashlib.blake2b(digest_size=16)
    for variable in model.energy_network.weights:
        digest.update(np.ascontiguousarray(_read(variable)).tobytes())
    return np.frombuffer(digest.digest(), dtype="<i4").astype("int32")


def log_partition(
    model,
    data=None,
    method="auto",
    n_samples=None,
    n_steps=None,
    proposal=None,
    sample_weight=None,
    batch_size=8192,
    seed=None,
    verbose="auto",
    return_info=False,
):
    if method not in ("auto", "is", "ais"):
        raise ValueError(
            f"`method` must be 'auto', 'is' or 'ais'; received {method!r}."
        )
    batch_size = check_positive_int(batch_size, "batch_size")
    if n_samples is not None:
        n_samples = check_positive_int(n_samples, "n_samples")
    if n_steps is not None:
        n_steps = check_positive_int(n_steps, "n_steps")
    if data is not None:
        data = check_data(data, "data", model.feature_shape if model.built else None)
    _require_built(model, data)
    proposal = proposal_for(model, data, proposal, sample_weight)
    if method == "auto":
        method = "is" if proposal.dim <= MAX_IS_DIM else "ais"
    info = {"method": method}
    if method == "is":
        n_samples = n_samples or DEFAULT_IS_SAMPLES
        log_z, stderr, ess = importance_sampling(
            whitened_energy(model, proposal, with_gradient=False),
            proposal,
            n_samples,
            batch_size,
            seed,
            verbose,
        )
    else:
        n_samples = n_samples or DEFAULT_AIS_CHAINS
        n_steps = n_steps or DEFAULT_AIS_STEPS
        log_z, stderr, ess, acceptance = annealed_importance_sampling(
            whitened_energy(model, proposal),
            proposal,
            n_samples,
            n_steps,
            seed,
            verbose,
        )
        info["acceptance"] = acceptance
    info.update({"n_samples": n_samples, "ess": ess})
    if not math.isfinite(log_z):
        raise FloatingPointError(
            "The log Z estimate is not finite: the energy overflows or every "
            "importance weight is zero. Check the energy on the data."
        )
    model.log_z.assign(log_z)
    model.log_z_stderr.assign(stderr)
    model.log_z_fingerprint.assign(weights_fingerprint(model))
    if return_info:
        return log_z, stderr, info
    return log_z, stderr


def cached_log_partition(model, warn=True):
    """The cached `(log_z, stderr)`; warns when the weights changed since."""
    log_z = float(_read(model.log_z))
    if math.isnan(log_z):
        return None
    stored = _read(model.log_z_fingerprint)
    if warn and not np.array_equal(stored, weights_fingerprint(model)):
        warnings.warn(
            "The cached log Z is stale: it was estimated by `log_partition()` "
            "for different weights, and the model has been trained or its "
            "weights changed since. `log_prob` uses the stale value; call "
            "`log_partition()` again to refresh it.",
            UserWarning,
            stacklevel=4,
        )
    return log_z, float(_read(model.log_z_stderr))


def log_prob(model, x, batch_size=8192):
    x = check_data(x, "x", model.feature_shape if model.built else None)
    batch_size = check_positive_int(batch_size, "batch_size")
    _require_built(model, x)
    cached = cached_log_partition(model)
    if cached is None:
        log_z, _ = log_partition(model, verbose=0)
    else:
        log_z = cached[0]
    energies = [
        ops.convert_to_numpy(model(x[start : start + batch_size]))
        for start in range(0, len(x), batch_size)
    ]
    return (np.concatenate(energies) - log_z).astype("float32")


def sample(
    model,
    n,
    n_steps=200,
    burn_in=None,
    step_size=None,
    init="sir",
    proposal=None,
    seed=None,
    verbose="auto",
    return_info=False,
):
    n = check_positive_int(n, "n")
    n_steps = check_positive_int(n_steps, "n_steps")
    if burn_in is None:
        burn_in = n_steps // 2
    if isinstance(burn_in, bool) or not isinstance(burn_in, int) or burn_in < 0:
        raise ValueError(f"`burn_in` must be an int >= 0; received {burn_in!r}.")
    _require_built(model)
    proposal = proposal_for(model, proposal=proposal)
    generator = _seed_generator(seed)
    energy_grad_fn = whitened_energy(model, proposal)
    if isinstance(init, str):
        if init not in ("sir", "proposal"):
            raise ValueError(
                f"`init` must be 'sir', 'proposal' or an array; received {init!r}."
            )
        if init == "sir":
            u = _sampling_importance_resampling(model, proposal, n, generator)
        else:
            u = proposal.sample_whitened(n, generator)
    else:
        x0 = check_data(init, "init", model.feature_shape)
        if len(x0) != n:
            raise ValueError(f"`init` has {len(x0)} samples; `n` is {n}.")
        u = proposal.to_whitened(x0.reshape(n, -1))
    s, grad_s = compile_function(energy_grad_fn)(u)
    if step_size is None:
        h = ops.full((n, 1), 0.5 / proposal.dim ** (1.0 / 6.0), dtype="float32")
        adapt = True
    else:
        if not step_size > 0:
            raise ValueError(f"`step_size` must be positive; received {step_size}.")
        chol_scale = float(np.exp(proposal.log_det_cholesky / proposal.dim))
        h = ops.full((n, 1), float(step_size) / chol_scale, dtype="float32")
        adapt = False

    def step(u, s, grad_s, h, rate, noise, log_uniform):
        u, s, grad_s, accept = mala_step(
            u, s, grad_s, 1.0, h, energy_grad_fn, noise, log_uniform
        )
        return u, s, grad_s, adapt_step_size(h, accept, rate), ops.mean(accept)

    step = compile_function(step)
    bar = _progbar(n_steps, verbose, n * n_steps * proposal.dim)
    accepted = []
    for k in range(n_steps):
        rate = ops.convert_to_tensor(0.5 if adapt and k < burn_in else 0.0, "float32")
        noise, log_uniform = draw_step_noise((n, proposal.dim), generator)
        u, s, grad_s, h, accept = step(u, s, grad_s, h, rate, noise, log_uniform)
        if k >= burn_in:
            accepted.append(accept)
        if bar is not None and (k % 10 == 9 or k == n_steps - 1):
            bar.update(k + 1)
    x = ops.reshape(proposal.from_whitened(u), (n, *model.feature_shape))
    x = ops.convert_to_numpy(x)
    if not return_info:
        return x
    acceptance = float("nan")
    if accepted:
        acceptance = float(np.mean([ops.convert_to_numpy(a) for a in accepted]))
    return x, {"acceptance": acceptance, "target_acceptance": TARGET_ACCEPTANCE}


def _sampling_importance_resampling(model, proposal, n, generator, oversample=10):
    """Resamples `n` of `oversample * n` proposal draws by importance weight."""
    m = min(oversample * n, max(n, 200_000))
    energy_fn = whitened_energy(model, proposal, with_gradient=False)
    log_weight = compile_function(
        lambda u: energy_fn(u) - proposal.log_prob_whitened(u)
    )
    draws, log_w = [], []
    for start in range(0, m, 8192):
        u = proposal.sample_whitened(min(8192, m - start), generator)
        draws.append(u)
        log_w.append(ops.convert_to_numpy(log_weight(u)))
    u = ops.concatenate(draws, axis=0)
    log_w = np.concatenate(log_w).astype("float64")
    log_w = np.where(np.isfinite(log_w), log_w, -np.inf)
    w = np.exp(log_w - log_w.max())
    seed = keras.random.randint((), 0, 2**31 - 1, seed=generator)
    seed = int(ops.convert_to_numpy(seed))
    index = np.random.default_rng(seed).choice(m, size=n, p=w / w.sum())
    return ops.take(u, ops.convert_to_tensor(index), axis=0)
