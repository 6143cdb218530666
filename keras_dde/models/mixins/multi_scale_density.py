"""`log Z`, `log_prob` and `sample` of a noise-conditional DDE.

`MultiScaleDDE` learns `s(x, sigma) = log p_sigma(x) + C` with one constant
`C` for every `sigma` in `[sigma, sigma_max]`. So `log Z` can be estimated
where it is easiest, at `sigma_max`: there `p_sigma` is close to the Gaussian
`N(m, C + sigma_max^2 I)` of the data's moments `m`, `C`, and importance
sampling from it has weights that hardly vary (`method="limit"`), as long as
the network keeps one constant. The default estimates `log Z` of `s(., sigma)`
itself, as `DDEModel` does (IS from the data's Gaussian mixture up to 16
features, AIS above): measured, it is the more accurate of the two. Sampling
anneals Langevin dynamics down the same levels (NCSN; Song & Ermon, 2019),
then corrects with MALA at `sigma`; or, deterministically, follows the
probability-flow ODE `dx/dsigma = -sigma * grad_x s(x, sigma)` over the same
levels (`flow`, `sample(method="ode")`), whose instantaneous change of
variables gives the flow model's exact log-likelihood (`log_prob(method="ode")`;
Song et al., 2021).
"""

import math

import numpy as np
from keras import ops

from keras_dde import backend
from keras_dde.models.mixins.normalized_density import DEFAULT_BATCH_SIZE
from keras_dde.models.mixins.normalized_density import DEFAULT_IS_SAMPLES
from keras_dde.partition.gaussian_proposal import GaussianProposal
from keras_dde.partition.importance_sampling import importance_sampling
from keras_dde.sampling.annealed_langevin import annealed_langevin
from keras_dde.sampling.probability_flow import probability_flow
from keras_dde.sampling.probability_flow import probability_flow_log_prob
from keras_dde.utils.validation import check_data
from keras_dde.utils.validation import check_positive_int
from keras_dde.utils.validation import check_seed


class MultiScaleDensity:
    """The normalised density of a `MultiScaleDDE` (a mixin before `DDEModel`)."""

    def _limit_proposal(self):
        if not self.data_statistics.recorded or math.isnan(self.sigma_max):
            raise ValueError(
                "The model has no data statistics or sigma_max: `fit` it on "
                "array data or call `set_data_statistics(data)` first."
            )
        mean, covariance = self.data_statistics.moments()
        return GaussianProposal.from_moments(mean, covariance, sigma=self.sigma_max)

    def log_partition(
        self, method="auto", n_samples=None, seed=None, return_info=False, **kwargs
    ):
        """Estimates `log Z` of `s(., sigma)`, with a standard error.

        `method="limit"` is importance sampling of `s(., sigma_max)` from
        `N(m, C + sigma_max^2 I)` (the data's moments), nearly the exact
        smoothed density there, so the weights vary little; it is `log Z`
        at `sigma` as far as the network keeps one constant for all levels.
        `"auto"` (default), `"is"` and `"ais"` run `DDEModel.log_partition`
        at `sigma` itself (its keyword arguments apply; `"auto"` is IS from
        the Gaussian mixture kept from `fit` up to 16 features, AIS above),
        which needs no assumption on the constant. Measured
        (`benchmarks/density.py` models): on five 2-D toys, against grid
        quadrature, IS at sigma was within 0.004 nats, the limit within
        0.020 (the constant drifts that much across levels on rings); on
        digits (64 features) the limit's importance weights degenerated
        (effective sample size 1), while AIS at sigma kept 194 of 1,024.
        The estimate is cached for `log_prob`.

        Returns:
            `(log_z, stderr)`, with `return_info` also a dict.
        """
        if method not in ("auto", "is", "ais", "limit"):
            raise ValueError(
                "`method` must be 'auto', 'is', 'ais' or 'limit'; received "
                f"{method!r}."
            )
        if method != "limit":
            return super().log_partition(
                method=method, n_samples=n_samples, seed=seed,
                return_info=return_info, **kwargs,
            )
        if kwargs.get("data") is not None or kwargs.get("proposal") is not None:
            raise ValueError("`method='limit'` uses the stored data statistics.")
        n_samples = check_positive_int(n_samples or DEFAULT_IS_SAMPLES, "n_samples")
        proposal = self._limit_proposal()
        shape = tuple(self.feature_shape)
        log_sigma = math.log(self.sigma_max)

        def energy_fn(u):
            x = ops.reshape(proposal.from_whitened(u), (-1, *shape))
            return self._joint_energy(x, ops.full((ops.shape(x)[0],), log_sigma))

        log_z, stderr, ess = importance_sampling(
            energy_fn, proposal, n_samples,
            kwargs.get("batch_size", DEFAULT_BATCH_SIZE), seed,
            kwargs.get("verbose", "auto"),
        )
        self.log_partition_cache.store(log_z, stderr, self.network.weights)
        if return_info:
            return log_z, stderr, {"method": "limit", "n_samples": n_samples, "ess": ess}
        return log_z, stderr

    def log_prob(
        self, x, sigma=None, batch_size=DEFAULT_BATCH_SIZE, method="energy",
        ode_steps=40, divergence="auto", n_probes=1, seed=None,
    ):
        """Normalised log-density at `sigma`, float32 numpy `(n,)`.

        `method="energy"` (default) is `s(x, sigma) - log Z`, with the cached
        `log Z` of the last `log_partition` call (running `log_partition()`
        first if there is none; it warns if that is stale). `method="ode"` is
        the exact log-likelihood of the probability-flow model that
        `sample(method="ode")` draws from: the ODE and the trace of its
        Jacobian integrated (Heun, `ode_steps`) from `x` up to `sigma_max`,
        plus `log N(x(sigma_max); m, C + sigma_max^2 I)`
        (`keras_dde.sampling.probability_flow_log_prob`; `divergence`,
        `n_probes` and `seed` are its Hutchinson settings above 16 features).
        """
        x = check_data(x, "x", self.feature_shape)
        batch_size = check_positive_int(batch_size, "batch_size")
        self._log_sigma(sigma)  # Checks the level before any work.
        if method not in ("energy", "ode"):
            raise ValueError(
                f"`method` must be 'energy' or 'ode'; received {method!r}."
            )
        if method == "ode":
            proposal = self._limit_proposal()
            level = self.sigma if sigma is None else float(sigma)
            flat = x.reshape(len(x), -1)
            return np.concatenate([
                ops.convert_to_numpy(probability_flow_log_prob(
                    self._flat_energy_fn(), flat[i : i + batch_size], level,
                    self.sigma_max,
                    lambda y: proposal.log_prob_whitened(proposal.to_whitened(y)),
                    n_steps=ode_steps, divergence=divergence, n_probes=n_probes,
                    seed=seed,
                ))
                for i in range(0, len(flat), batch_size)
            ]).astype("float32")
        cached = self.log_partition_cache.load(self.network.weights)
        log_z = self.log_partition(verbose=0)[0] if cached is None else cached[0]
        energies = [
            ops.convert_to_numpy(self.energy(x[i : i + batch_size], sigma))
            for i in range(0, len(x), batch_size)
        ]
        return (np.concatenate(energies) - log_z).astype("float32")

    def _flat_energy_fn(self):
        """`s(x, sigma)` of flat `x` `(n, d)` and a scalar tensor `sigma`."""

        def energy_fn(x, sigma):
            x = ops.reshape(x, (-1, *self.feature_shape))
            log_sigma = ops.full((ops.shape(x)[0],), ops.log(sigma))
            return self._joint_energy(x, log_sigma)

        return energy_fn

    def flow(self, u, ode_steps=40, batch_size=DEFAULT_BATCH_SIZE, to_zero=False):
        """The probability-flow map from whitened starts `u` to samples.

        `u` `(n, d)` (`d` the number of features) gives the starts
        `x = m + L u`, `L L^T = C + sigma_max^2 I` (the data's moments), at
        `sigma_max`; the ODE `dx/dsigma = -sigma * grad_x s(x, sigma)` takes
        them down to `sigma` with `ode_steps` Heun steps
        (`keras_dde.sampling.probability_flow`). Deterministic: the same `u`
        gives the same samples, as `EnergyGAN`'s distillation needs.

        The model knows `p_sigma`, the data's density smoothed by
        `N(0, sigma^2 I)`, so the flow's samples are spread wider than the
        data by that much. With `to_zero=True` one more step continues the
        flow to `sigma = 0`: written in `t = sigma^2` the ODE is
        `dx/dt = -grad_x s(x, sigma) / 2`, and one Euler step from `t =
        sigma^2` to 0 is `x + sigma^2 grad_x s(x, sigma) / 2`. It is exact to
        first order in `sigma^2 / v` for data with local variance `v` (for
        Gaussian data it scales `x - m` by `1 - sigma^2 / 2(v + sigma^2)`, the
        exact map by `(1 + sigma^2 / v)^(-1/2)`); it is half of Tweedie's
        denoising step `x + sigma^2 grad_x s`, which gives the posterior mean
        and so shrinks the spread below the data's. `to_zero="tweedie"`
        takes that full step instead: on images, whose noise at `sigma`
        lies mostly off the data's manifold, the half step leaves half of
        it as speckle, and the posterior mean gave sharper samples
        (Fashion-MNIST, `benchmarks/results/images_gan.md`).

        Args:
            u: whitened starts, `(n, d)`.
            ode_steps: int, Heun steps from `sigma_max` to `sigma`.
            batch_size: int, starts integrated at a time.
            to_zero: False; True or "euler" to continue to `sigma = 0`
                with the half step, "tweedie" with Tweedie's full step (see
                above).

        Returns:
            float32 numpy `(n, *features)`.
        """
        proposal = self._limit_proposal()
        u = np.asarray(u, dtype="float32")
        if u.ndim != 2 or u.shape[1] != proposal.dim:
            raise ValueError(
                f"`u` must have shape (n, {proposal.dim}) (one whitened start "
                f"per sample); received shape {u.shape}."
            )
        batch_size = check_positive_int(batch_size, "batch_size")
        last_step = check_to_zero(to_zero)
        energy_fn = self._flat_energy_fn()
        out = [
            probability_flow(
                energy_fn, proposal.from_whitened(ops.convert_to_tensor(u[i : i + batch_size])),
                self.sigma_max, self.sigma, ode_steps,
            )
            for i in range(0, len(u), batch_size)
        ]
        if last_step:
            sigma = ops.convert_to_tensor(self.sigma, "float32")
            # d log p / dx times sigma^2: the full step is Tweedie's mean.
            fraction = 1.0 if last_step == "tweedie" else 0.5
            out = [
                x + fraction * ops.square(sigma) * backend.input_gradient(
                    lambda y: energy_fn(y, sigma), x
                )[1]
                for x in out
            ]
        out = [ops.convert_to_numpy(x) for x in out]
        return np.concatenate(out).reshape((len(u), *self.feature_shape))

    def sample(
        self, n, n_levels=10, steps_per_level=50, step_scale=0.1, n_steps=100,
        seed=None, verbose="auto", return_info=False, method="langevin",
        ode_steps=40, **kwargs,
    ):
        """Draws `n` samples by annealed Langevin dynamics, then MALA.

        With `method="ode"`, deterministically instead: `flow` of `n`
        standard normal starts (`ode_steps` Heun steps; the Langevin and
        MALA settings do not apply).

        Chains start from `N(m, C + sigma_max^2 I)` and run
        `keras_dde.sampling.annealed_langevin` over `n_levels` geometric
        levels from `sigma_max` to `sigma` (NCSN), then `n_steps` MALA
        steps on `s(., sigma)` (`DDEModel.sample`, whose other keyword
        arguments apply) remove the discretisation bias.

        References:
            - [Song & Ermon, 2019](https://arxiv.org/abs/1907.05600)
            - [Song et al., 2021](https://arxiv.org/abs/2011.13456)
        """
        n = check_positive_int(n, "n")
        if method not in ("langevin", "ode"):
            raise ValueError(
                f"`method` must be 'langevin' or 'ode'; received {method!r}."
            )
        if method == "ode":
            dim = int(np.prod(self.feature_shape))
            rng = np.random.default_rng(None if seed is None else check_seed_int(seed))
            samples = self.flow(rng.standard_normal((n, dim)), ode_steps)
            return (samples, {"method": "ode"}) if return_info else samples
        seed = check_seed(seed)
        proposal = self._limit_proposal()
        levels = np.geomspace(self.sigma_max, self.sigma, n_levels)
        self._log_sigma(float(levels[0]))  # Checks that sigma_max is known.

        def score_fn(z, level):
            z = ops.reshape(z, (-1, *self.feature_shape))
            log_sigma = ops.full((ops.shape(z)[0],), ops.log(level))
            gradient = backend.input_gradient(
                lambda y: self._joint_energy(y, log_sigma), z
            )[1]
            return ops.reshape(gradient, (ops.shape(z)[0], -1))

        x = annealed_langevin(
            score_fn, proposal.sample(n, seed), levels, steps_per_level,
            step_scale, seed=seed,
        )
        x = ops.reshape(x, (n, *self.feature_shape))
        return super().sample(
            n, n_steps=n_steps, init=ops.convert_to_numpy(x), seed=seed,
            verbose=verbose, return_info=return_info, **kwargs,
        )


def check_seed_int(seed):
    """`seed` as an int for numpy (None or an int; no `SeedGenerator`)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(
            f"`seed` must be None or an int with `method='ode'`; received {seed!r}."
        )
    return int(seed)


TO_ZERO_STEPS = ("euler", "tweedie")


def check_to_zero(to_zero):
    """`flow`'s last step: None, "euler" or "tweedie" (True is "euler")."""
    if to_zero is False or to_zero is None:
        return None
    if to_zero is True:
        return "euler"
    if to_zero not in TO_ZERO_STEPS:
        raise ValueError(
            "`to_zero` must be False, True (\"euler\": half of Tweedie's step) "
            f"or \"tweedie\" (Tweedie's full step); received {to_zero!r}."
        )
    return to_zero
