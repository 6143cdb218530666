import math
import numbers

import keras
import numpy as np
from keras import ops
from sklearn.base import BaseEstimator
from sklearn.base import DensityMixin
from sklearn.base import _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import _check_sample_weight
from sklearn.utils.validation import check_is_fitted
from sklearn.utils.validation import validate_data

from keras_dde.models.dde_model import DDEModel
from keras_dde.models.energy_mlp import energy_mlp
from keras_dde.utils.validation import check_positive_int

# `score_samples` evaluates the network on blocks of exactly this many rows
# (the last one zero-padded): float32 matrix products round a row differently
# depending on the shape of the batch it comes in, so a fixed block shape
# makes each row's log-density independent of which other rows are scored
# with it (scikit-learn's `check_methods_subset_invariance`).
SCORE_BLOCK = 256
# Training epochs have at most this many steps: one epoch per ~100 steps
# keeps Keras's per-epoch overhead small and the progress log readable.
STEPS_PER_EPOCH = 100


class DDEDensity(DensityMixin, BaseEstimator):
    """A scikit-learn density estimator backed by a denoising density estimator.

    A drop-in for `sklearn.neighbors.KernelDensity(kernel="gaussian",
    bandwidth=sigma)`: `fit` trains a `keras_dde.DDEModel` that approximates
    the Gaussian KDE of `X` with bandwidth `sigma`, then estimates its `log Z`,
    so that `score_samples` returns normalised log-densities at the cost of
    one network pass per query, independent of the size of the training set.
    Works with `GridSearchCV` (e.g. over `sigma`), `clone`, `pickle` and
    `sample_weight`, and passes scikit-learn's `check_estimator`.

    Training draws its mini-batches, its noise, the initial weights and the
    `log Z` samples from `random_state` alone: `fit` leaves the global random
    states of numpy, Python and Keras untouched.

    Args:
        sigma: float > 0, the noise level = KDE bandwidth.
        width: int, units per hidden layer of the energy MLP.
        depth: int, hidden layers.
        activation: a smooth activation (name or callable).
        steps: int, gradient steps of training.
        batch_size: int (at most the number of samples is used).
        learning_rate: float, Adam's initial learning rate; it decays to 0
            on a cosine schedule over `steps`, which matters: a constant
            rate leaves the energy noticeably rougher than the KDE.
        log_z_method: "auto", "is" or "ais" (see `DDEModel.log_partition`).
        log_z_samples: IS samples or AIS chains, None for the default.
        sample_steps: MALA steps per chain in `sample`.
        random_state: None, an int or a `numpy.random.RandomState`, as in
            scikit-learn (`sklearn.utils.check_random_state`).
        verbose: 0, 1 or 2, Keras's training log.

    Attributes:
        model_: the trained `keras_dde.DDEModel`.
        log_partition_: float, the estimated `log Z`.
        log_partition_stderr_: float, its standard error.
        n_features_in_: int.

    Example:
    ```python
    from sklearn.model_selection import GridSearchCV
    search = GridSearchCV(DDEDensity(), {"sigma": [0.05, 0.1, 0.2]}, cv=3)
    search.fit(X)
    log_density = search.best_estimator_.score_samples(X_test)
    ```

    References:
        - [Bigdeli et al., 2020](https://arxiv.org/abs/2001.02728)
    """

    _parameter_constraints = {
        "sigma": [Interval(numbers.Real, 0, None, closed="neither")],
        "width": [Interval(numbers.Integral, 1, None, closed="left")],
        "depth": [Interval(numbers.Integral, 1, None, closed="left")],
        "activation": [str, callable],
        "steps": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "log_z_method": [StrOptions({"auto", "is", "ais"})],
        "log_z_samples": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "sample_steps": [Interval(numbers.Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": [Interval(numbers.Integral, 0, 2, closed="both")],
    }

    def __init__(
        self,
        sigma=0.1,
        width=64,
        depth=3,
        activation="softplus",
        steps=3000,
        batch_size=512,
        learning_rate=1e-2,
        log_z_method="auto",
        log_z_samples=None,
        sample_steps=200,
        random_state=None,
        verbose=0,
    ):
        self.sigma = sigma
        self.width = width
        self.depth = depth
        self.activation = activation
        self.steps = steps
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.log_z_method = log_z_method
        self.log_z_samples = log_z_samples
        self.sample_steps = sample_steps
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Trains the DDE on `X` `(n_samples, n_features)` and estimates `log Z`.

        Args:
            X: array `(n_samples, n_features)`.
            y: ignored.
            sample_weight: optional array `(n_samples,)` of non-negative
                weights: the loss is their weighted mean.

        Returns:
            self.
        """
        X = self._validate_X(X, reset=True)
        # Ones when unweighted: the same code path, so `sample_weight=None`
        # and unit weights train identically.
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float32, ensure_non_negative=True
        )
        rng = check_random_state(self.random_state)
        init_seed, noise_seed, batch_seed, log_z_seed = (
            int(seed) for seed in rng.randint(0, 2**31 - 1, size=4)
        )
        energy = energy_mlp(
            X.shape[1],
            width=self.width,
            depth=self.depth,
            activation=self.activation,
            seed=init_seed,
        )
        model = DDEModel(energy, sigma=float(self.sigma), seed=noise_seed)
        model.build((None, X.shape[1]))
        model.set_data_statistics(X, sample_weight)
        batches = _ShuffledBatches(
            X,
            sample_weight,
            batch_size=min(self.batch_size, len(X)),
            steps=self.steps,
            seed=batch_seed,
        )
        schedule = keras.optimizers.schedules.CosineDecay(
            self.learning_rate, batches.epochs * len(batches)
        )
        model.compile(optimizer=keras.optimizers.Adam(schedule))
        # `shuffle=False`: the batches come in their own order; Keras would
        # shuffle them with Python's global `random`.
        model.fit(
            batches, epochs=batches.epochs, shuffle=False, verbose=self.verbose
        )
        log_z, stderr = model.log_partition(
            # The broad Gaussian, not the data's mixture: a briefly trained
            # energy can put mass between the modes, which a mixture proposal
            # misses (log Z too low, scores too high, e.g. in a grid search).
            proposal="gaussian",
            method=self.log_z_method,
            n_samples=self.log_z_samples,
            seed=log_z_seed,
            verbose=self.verbose,
        )
        self.model_ = model
        self.log_partition_ = float(log_z)
        self.log_partition_stderr_ = float(stderr)
        return self

    def score_samples(self, X):
        """Normalised log-density of each row of `X`, float64 `(n_samples,)`."""
        self._check_is_fitted()
        X = self._validate_X(X, reset=False)
        energies = []
        for start in range(0, len(X), SCORE_BLOCK):
            block = X[start : start + SCORE_BLOCK]
            rows = len(block)
            if rows < SCORE_BLOCK:
                block = np.concatenate(
                    [block, np.zeros((SCORE_BLOCK - rows, X.shape[1]), X.dtype)]
                )
            energy = ops.convert_to_numpy(self.model_.energy(block))
            energies.append(energy[:rows])
        return np.concatenate(energies).astype(np.float64) - self.log_partition_

    def score(self, X, y=None):
        """Total log-likelihood of `X` (as `KernelDensity.score`)."""
        return float(np.sum(self.score_samples(X)))

    def sample(self, n_samples=1, random_state=None):
        """Draws `n_samples` points by MALA; float32 `(n_samples, n_features)`.

        Args:
            n_samples: int > 0.
            random_state: None, an int or a `numpy.random.RandomState`.
        """
        self._check_is_fitted()
        n_samples = check_positive_int(n_samples, "n_samples")
        seed = int(check_random_state(random_state).randint(0, 2**31 - 1))
        samples = self.model_.sample(
            n_samples, n_steps=self.sample_steps, seed=seed, verbose=0
        )
        return np.asarray(samples)

    def _check_is_fitted(self):
        check_is_fitted(
            self,
            attributes="model_",
            msg="This %(name)s instance is not fitted yet; call `fit` first."
        )

    def _validate_X(self, X, reset):
        try:
            ndim = np.asarray(X).ndim  # Sparse matrices: 0-d, left to validate_data.
        except (TypeError, ValueError):  # Ragged: validate_data says more.
            ndim = None
        if ndim == 1:  # One line, naming the fix (validate_data's spans three).
            raise ValueError(
                "`X` must have shape (n_samples, n_features); received shape "
                f"{np.shape(X)}. For a single feature, pass `X.reshape(-1, 1)`."
            )
        return validate_data(
            self, X, reset=reset, accept_sparse=False, dtype=np.float32
        )


class _ShuffledBatches(keras.utils.PyDataset):
    """`(x, y, sample_weight)` mini-batches in an order drawn from `seed` alone.

    Each epoch walks through fresh permutations of the samples, drawn from a
    private `numpy.random.RandomState`: Keras's own `shuffle=True` would draw
    from the global random state of numpy, TensorFlow or PyTorch.
    """

    def __init__(self, x, sample_weight, batch_size, steps, seed):
        super().__init__()
        self.x = x
        self.sample_weight = sample_weight
        self.target = np.zeros(len(x), np.float32)  # Keeps the weights in Keras.
        self.batch_size = batch_size
        self.epochs = math.ceil(steps / STEPS_PER_EPOCH)
        self.steps_per_epoch = math.ceil(steps / self.epochs)
        self.rng = np.random.RandomState(seed)
        self.on_epoch_end()

    def __len__(self):
        return self.steps_per_epoch

    def __getitem__(self, index):
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        return self.x[rows], self.target[rows], self.sample_weight[rows]

    def on_epoch_end(self):
        needed = self.steps_per_epoch * self.batch_size
        passes = math.ceil(needed / len(self.x))
        self.order = np.concatenate(
            [self.rng.permutation(len(self.x)) for _ in range(passes)]
        )[:needed]
