"""`log_partition`, `log_prob`, `sample` and data statistics of a DDE.

A DDE's energy `s(x)` is an unnormalised log-density. Its normaliser
`log Z = log integral exp(s)` is estimated by importance sampling (IS) from a
Gaussian proposal `q` fitted to the data,

    log Z ~ logsumexp_i (s(x_i) - log q(x_i)) - log N,   x_i ~ q,

or, in higher dimensions, by annealed importance sampling (AIS); see
`keras_dde.partition`. Samples come from MALA chains, `keras_dde.sampling`.
Every default of these methods is defined here, once.
"""

import math

import numpy as np
from keras import ops

from keras_dde.models.state.data_statistics import MAX_MIXTURE_DIM
from keras_dde.models.state.data_statistics import MIXTURE_ROWS
from keras_dde.models.state.data_statistics import DataStatistics
from keras_dde.models.state.data_statistics import moments_of
from keras_dde.models.state.log_partition_cache import LogPartitionCache
from keras_dde.partition.annealed_importance_sampling import (
    annealed_importance_sampling,
)
from keras_dde.partition.gaussian_mixture_proposal import GaussianMixtureProposal
from keras_dde.partition.gaussian_proposal import GaussianProposal
from keras_dde.partition.importance_sampling import importance_sampling
from keras_dde.partition.whitening import whitened_energy
from keras_dde.sampling.mala import TARGET_ACCEPTANCE
from keras_dde.sampling.mala_chains import run_mala_chains
from keras_dde.sampling.resampling import sampling_importance_resampling
from keras_dde.utils.validation import check_data
from keras_dde.utils.validation import check_positive_int
from keras_dde.utils.validation import check_seed

# `method="auto"` uses plain importance sampling up to this dimension.
MAX_IS_DIM = 2
# ... and, from a Gaussian mixture proposal, up to this dimension.
MAX_MIXTURE_IS_DIM = MAX_MIXTURE_DIM
PROPOSALS = ("auto", "gaussian", "mixture")
DEFAULT_IS_SAMPLES = 200_000
DEFAULT_AIS_CHAINS = 1024
DEFAULT_AIS_STEPS = 500
# Samples per network call of `log_partition` (IS) and `log_prob`.
DEFAULT_BATCH_SIZE = 8192
# MALA steps per chain of `sample`.
DEFAULT_SAMPLE_STEPS = 200


class NormalizedDensity:
    """Mixin of `DDEModel`: a normalised density from the model's energy.

    The model provides `feature_shape`, `sigma`, `network` (whose weights
    the cached `log Z` is fingerprinted with) and energies by calling it.
    """

    def _build_density_state(self, feature_shape):
        """Creates the statistics and `log Z` cache layers (once)."""
        if getattr(self, "data_statistics", None) is not None:
            return
        dim = int(np.prod(feature_shape))
        self.data_statistics = DataStatistics(name="data_statistics")
        self.data_statistics.build((None, dim))
        self.log_partition_cache = LogPartitionCache(name="log_partition_cache")
        self.log_partition_cache.build()

    # Read-only views of the weights, under their historical names.
    data_mean = property(lambda self: self.data_statistics.mean)
    data_covariance = property(lambda self: self.data_statistics.covariance)
    data_count = property(lambda self: self.data_statistics.count)
    log_z = property(lambda self: self.log_partition_cache.log_z)
    log_z_stderr = property(lambda self: self.log_partition_cache.stderr)
    log_z_fingerprint = property(lambda self: self.log_partition_cache.fingerprint)

    def _require_density_state(self, data=None):
        if self.built and getattr(self, "data_statistics", None) is not None:
            return
        if data is not None:
            self.build((None, *np.shape(data)[1:]))
            return
        raise ValueError(
            "The model is not built yet, so its number of features is unknown: "
            "train it with `fit`, or pass `data`."
        )

    def set_data_statistics(self, data, sample_weight=None):
        """Records the mean and covariance of the training data.

        `fit` calls this itself, so that `log_partition`, `log_prob` and
        `sample` need no data afterwards: on array data, and, when the model
        has no statistics yet, on a `tf.data.Dataset` or a
        `keras.utils.PyDataset` (one streaming pass before training). A
        Python generator cannot be read twice, so `fit` leaves it alone:
        call this once yourself on an iterable of batches (`x` or
        `(x, y[, sample_weight])`), which it reads in one pass.

        The statistics are the non-trainable weights of the layer
        `data_statistics` (`data_mean`, `data_covariance`, diagonal above
        1024 features, and `data_count`), saved in `.keras` files, with, up
        to 16 features, a Gaussian mixture fitted to the data (at most 5
        components, chosen by BIC; on at most 5,000 rows: a random subset
        of an array, the first rows of batches), the proposal of
        `log_partition` and `sample`.

        Args:
            data: array `(n, *features)` or an iterable of batches.
            sample_weight: optional array `(n,)` for array `data`.
        """
        accumulator = moments_of(
            data,
            sample_weight,
            self.feature_shape if self.built else None,
            before_first=self._require_density_state,
            keep_rows=MIXTURE_ROWS,
        )
        self.data_statistics.assign_moments(accumulator)

    def proposal(self, data=None, proposal="auto", sample_weight=None, scale=1.0):
        """The proposal of the estimators and of `sample`'s start.

        `proposal` is "gaussian", `N(m, C + sigma^2 I)` with the moments of
        `data` or of the data statistics kept from `fit`; "mixture", a
        Gaussian mixture fitted to `data`, or the one kept from `fit`, with
        covariances `+ sigma^2 I`; "auto" (or None), the mixture where there
        is one (up to `MAX_MIXTURE_DIM` features), else the Gaussian; or a
        `GaussianProposal` / `GaussianMixtureProposal`, returned as is.
        `scale` multiplies the Gaussian's covariance.
        """
        dim = int(np.prod(self.feature_shape))
        proposal = "auto" if proposal is None else proposal
        if not isinstance(proposal, str):
            if data is not None:
                raise ValueError("Pass either `data` or a `proposal` instance, not both.")
            if not isinstance(proposal, (GaussianProposal, GaussianMixtureProposal)):
                raise TypeError(
                    "`proposal` must be 'auto', 'gaussian', 'mixture', a "
                    "`keras_dde.partition.GaussianProposal` or a "
                    "`GaussianMixtureProposal`; received "
                    f"{type(proposal).__name__}."
                )
            if proposal.dim != dim:
                raise ValueError(
                    f"`proposal` has dimension {proposal.dim}, but the model's "
                    f"inputs have {dim} features (shape {self.feature_shape})."
                )
            return proposal
        if proposal not in PROPOSALS:
            raise ValueError(
                "`proposal` must be 'auto', 'gaussian', 'mixture' or a proposal "
                f"instance; received {proposal!r}."
            )
        mixture = proposal == "mixture" or (
            proposal == "auto" and dim <= MAX_MIXTURE_DIM
        )
        if data is not None:
            x = check_data(data, "data", self.feature_shape)
            if mixture:
                return DataStatistics.fit_mixture(x, sample_weight, self.sigma)
            return GaussianProposal.from_data(
                x, sigma=self.sigma, sample_weight=sample_weight, scale=scale
            )
        if not self.data_statistics.recorded:
            raise ValueError(
                "The model has no data statistics to build a proposal from: they "
                "are recorded when `fit` receives array data. Pass `data=` (the "
                "training data), call `set_data_statistics(data)` once (it also "
                "accepts a tf.data.Dataset or PyDataset), or pass `proposal=`."
            )
        if mixture:
            stored = self.data_statistics.mixture(self.sigma)
            if stored is not None:
                return stored
            if proposal == "mixture":
                raise ValueError(
                    "`proposal='mixture'`: the model keeps no Gaussian mixture. "
                    "One is fitted when `fit` or `set_data_statistics` sees the "
                    f"data, for up to {MAX_MIXTURE_DIM} features (the model has "
                    f"{dim}); pass `data=` to fit one now, or use "
                    "`proposal='gaussian'`."
                )
        mean, covariance = self.data_statistics.moments()
        return GaussianProposal.from_moments(
            mean, covariance, sigma=self.sigma, scale=scale
        )

    def log_partition(
        self,
        data=None,
        method="auto",
        n_samples=None,
        n_steps=None,
        proposal="auto",
        sample_weight=None,
        batch_size=DEFAULT_BATCH_SIZE,
        seed=None,
        verbose="auto",
        return_info=False,
    ):
        """Estimates `log Z = log integral exp(s(x)) dx`, with a standard error.

        The proposal `q` is, by default, a Gaussian mixture fitted to the
        training data (to `data`, or the one kept from `fit` when `data` is
        None), with covariances `+ sigma^2 I`; it covers every mode of
        multimodal data. Without one (more than 16 features, or statistics
        from before mixtures were kept) it is the Gaussian
        `N(m, C + sigma^2 I)` with the data's mean `m` and covariance `C`
        (the exact moments of the KDE a DDE approximates). `method="is"` is
        importance sampling from `q`; `"ais"` is annealed importance
        sampling (one MALA step at each of `n_steps` temperatures along
        `q^(1 - beta) exp(s)^beta`), needed beyond a few dimensions with a
        Gaussian. `"auto"` uses IS from a mixture (up to 16 features) or
        for up to 2 features, and AIS otherwise. The estimate is cached in
        the model (and saved with it) for `log_prob`.

        Args:
            data: optional training data (array) for the proposal.
            method: "auto", "is" or "ais".
            n_samples: IS samples (default 200,000) or AIS chains (1,024).
            n_steps: AIS temperatures (default 500).
            proposal: "auto" (the mixture if there is one, else the
                Gaussian), "gaussian", "mixture", or a
                `keras_dde.partition.GaussianProposal` /
                `GaussianMixtureProposal` (then without `data`).
            sample_weight: optional weights of `data`.
            batch_size: IS samples per network call.
            seed: int or None.
            verbose: 0, 1 or "auto" (a progress bar for long runs).
            return_info: also return a dict with the method, the proposal
                ("gaussian" or "mixture"), the effective sample size `ess`
                and, for AIS, the mean MALA acceptance.

        Returns:
            `(log_z, stderr)` as floats, the delta-method standard error
            `std(w) / (sqrt(N) mean(w))` of the importance weights `w`; with
            `return_info`, `(log_z, stderr, info)`. A standard error that is
            large relative to the accuracy you need, or a small `ess`, means
            the estimate is unreliable: use AIS, more chains or more steps.

        Example:
        ```python
        dde.fit(x, batch_size=512, epochs=100)
        log_z, stderr = dde.log_partition(seed=0)
        log_p = dde.log_prob(x_test)
        ```

        References:
            - [Neal, 2001](https://arxiv.org/abs/physics/9803008)
        """
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
            data = check_data(data, "data", self.feature_shape if self.built else None)
        self._require_density_state(data)
        proposal = self.proposal(data, proposal, sample_weight)
        is_mixture = isinstance(proposal, GaussianMixtureProposal)
        if method == "auto":
            limit = MAX_MIXTURE_IS_DIM if is_mixture else MAX_IS_DIM
            method = "is" if proposal.dim <= limit else "ais"
        info = {"method": method, "proposal": "mixture" if is_mixture else "gaussian"}
        if method == "is":
            n_samples = n_samples or DEFAULT_IS_SAMPLES
            log_z, stderr, ess = importance_sampling(
                whitened_energy(self, proposal, with_gradient=False),
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
                whitened_energy(self, proposal),
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
        self.log_partition_cache.store(log_z, stderr, self.network.weights)
        if return_info:
            return log_z, stderr, info
        return log_z, stderr

    def log_prob(self, x, batch_size=DEFAULT_BATCH_SIZE):
        """Normalised log-density `s(x) - log Z`, a float32 numpy array `(n,)`.

        Uses the `log Z` cached by the last `log_partition` call (estimating
        it with the defaults first if there is none) and warns when that
        value is stale, i.e. the weights changed since it was computed.

        Args:
            x: array `(n, *features)`, finite.
            batch_size: samples per network call.
        """
        x = check_data(x, "x", self.feature_shape if self.built else None)
        batch_size = check_positive_int(batch_size, "batch_size")
        self._require_density_state(x)
        cached = self.log_partition_cache.load(self.network.weights)
        log_z = self.log_partition(verbose=0)[0] if cached is None else cached[0]
        energies = [
            ops.convert_to_numpy(self.energy(x[start : start + batch_size]))
            for start in range(0, len(x), batch_size)
        ]
        return (np.concatenate(energies) - log_z).astype("float32")

    def sample(
        self,
        n,
        n_steps=DEFAULT_SAMPLE_STEPS,
        burn_in=None,
        step_size=None,
        init="sir",
        proposal="auto",
        seed=None,
        verbose="auto",
        return_info=False,
    ):
        """Draws `n` samples from `exp(s(x)) / Z` by Metropolis-adjusted Langevin.

        `n` chains start from sampling-importance-resampling of draws from
        the proposal of `log_partition` (`init="sir"`; the Gaussian mixture
        kept from `fit` where there is one), which puts them in the modes in about
        the right proportions, then take `n_steps` MALA steps preconditioned
        by the data covariance. During the first `burn_in` steps (default
        half) each chain adapts its step size toward 57.4% acceptance; the
        last state of every chain is returned.

        Args:
            n: int > 0, number of samples (= chains).
            n_steps: int, MALA steps per chain.
            burn_in: int, adaptation steps (default `n_steps // 2`).
            step_size: optional fixed step (in data units, no adaptation).
            init: "sir", "proposal", or an array `(n, *features)`.
            proposal: "auto", "gaussian", "mixture" or a proposal instance,
                as for `log_partition`.
            seed: int or None.
            verbose: 0, 1 or "auto".
            return_info: also return `{"acceptance": ...}`.

        Returns:
            float32 numpy array `(n, *features)`.

        References:
            - [Roberts & Tweedie, 1996](https://doi.org/10.2307/3318418)
        """
        n = check_positive_int(n, "n")
        n_steps = check_positive_int(n_steps, "n_steps")
        if burn_in is None:
            burn_in = n_steps // 2
        if isinstance(burn_in, bool) or not isinstance(burn_in, int) or burn_in < 0:
            raise ValueError(f"`burn_in` must be an int >= 0; received {burn_in!r}.")
        self._require_density_state()
        proposal = self.proposal(proposal=proposal)
        generator = check_seed(seed)
        if isinstance(init, str):
            if init not in ("sir", "proposal"):
                raise ValueError(
                    f"`init` must be 'sir', 'proposal' or an array; received {init!r}."
                )
            if init == "sir":
                u = sampling_importance_resampling(
                    whitened_energy(self, proposal, with_gradient=False),
                    proposal,
                    n,
                    generator,
                )
            else:
                u = proposal.sample_whitened(n, generator)
        else:
            x0 = check_data(init, "init", self.feature_shape)
            if len(x0) != n:
                raise ValueError(f"`init` has {len(x0)} samples; `n` is {n}.")
            u = proposal.to_whitened(x0.reshape(n, -1))
        if step_size is None:
            h, adapt = 0.5 / proposal.dim ** (1.0 / 6.0), True
        else:
            if not step_size > 0:
                raise ValueError(f"`step_size` must be positive; received {step_size}.")
            chol_scale = float(np.exp(proposal.log_det_cholesky / proposal.dim))
            h, adapt = float(step_size) / chol_scale, False
        u, acceptance = run_mala_chains(
            whitened_energy(self, proposal),
            u,
            h,
            n_steps,
            burn_in,
            adapt,
            generator,
            verbose,
        )
        x = ops.reshape(proposal.from_whitened(u), (n, *self.feature_shape))
        x = ops.convert_to_numpy(x)
        if not return_info:
            return x
        return x, {"acceptance": acceptance, "target_acceptance": TARGET_ACCEPTANCE}
