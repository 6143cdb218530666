import math
import numbers

import keras
import numpy as np
from sklearn.base import BaseEstimator
from sklearn.base import DensityMixin

from keras_dde.models.dde_model import DDEModel
from keras_dde.models.energy_mlp import energy_mlp
from keras_dde.utils.validation import check_data
from keras_dde.utils.validation import check_sample_weight
from keras_dde.utils.validation import check_positive_int
from keras_dde.utils.validation import check_sigma


class DDEDensity(DensityMixin, BaseEstimator):
    """A scikit-learn density estimator backed by a denoising density estimator.

    A drop-in for `sklearn.neighbors.KernelDensity(kernel="gaussian",
    bandwidth=sigma)`: `fit` trains a `keras_dde.DDEModel` that approximates
    the Gaussian KDE of `X` with bandwidth `sigma`, then estimates its `log Z`,
    so that `score_samples` returns normalised log-densities at the cost of
    one network pass per query, independent of the size of the training set.
    Works with `GridSearchCV` (e.g. over `sigma`), `clone` and
    `sample_weight`.

    Args:
        sigma: float, the noise level = KDE bandwidth.
        width: int, units per hidden layer of the energy MLP.
        depth: int, hidden layers.
        activation: a smooth activation.
        steps: int, gradient steps of training (epochs are derived from it).
        batch_size: int.
        learning_rate: float, Adam's initial learning rate; it decays to 0
            on a cosine schedule over `steps`, which matters: a constant
            rate leaves the energy noticeably rougher than the KDE.
        log_z_method: "auto", "is" or "ais" (see `DDEModel.log_partition`).
        log_z_samples: IS samples or AIS chains, None for the default.
        sample_steps: MALA steps per chain in `sample`.
        random_state: None or int; seeds Keras (globally, with
            `keras.utils.set_random_seed`), the training noise and `log Z`.
        verbose: 0 or 1, Keras's training log.

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
        sigma = check_sigma(self.sigma, "sigma")
        steps = check_positive_int(self.steps, "steps")
        batch_size = check_positive_int(self.batch_size, "batch_size")
        rate = self.learning_rate
        if not (isinstance(rate, numbers.Real) and rate > 0):
            raise ValueError(
                f"`learning_rate` must be a positive number; got {rate!r}."
            )
        seed = _int_seed(self.random_state, "random_state")
        X = check_data(X, "X")
        if X.ndim != 2:
            raise ValueError(f"`X` must be 2-D (n_samples, n_features); got {X.shape}.")
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, len(X)).astype("float32")
        if seed is not None:
            keras.utils.set_random_seed(seed)
        energy = energy_mlp(
            X.shape[1], width=self.width, depth=self.depth, activation=self.activation
        )
        model = DDEModel(energy, sigma=sigma, seed=seed)
        batch_size = min(batch_size, len(X))
        # Small data sets are tiled so that an epoch has at least ~100 steps:
        # Keras's per-epoch overhead would otherwise dominate short epochs.
        # Tiling changes neither the data's moments nor the weighted loss.
        reps = max(1, math.ceil(min(steps, 100) * batch_size / len(X)))
        x_fit = np.tile(X, (reps, 1)) if reps > 1 else X
        if sample_weight is not None and reps > 1:
            sample_weight = np.tile(sample_weight, reps)
        steps_per_epoch = math.ceil(len(x_fit) / batch_size)
        epochs = max(1, round(steps / steps_per_epoch))
        schedule = keras.optimizers.schedules.CosineDecay(
            self.learning_rate, epochs * steps_per_epoch
        )
        model.compile(optimizer=keras.optimizers.Adam(schedule))
        model.fit(
            x_fit,
            sample_weight=sample_weight,
            batch_size=batch_size,
            epochs=epochs,
            shuffle=True,
            verbose=self.verbose,
        )
        log_z, stderr = model.log_partition(
            method=self.log_z_method,
            n_samples=self.log_z_samples,
            seed=seed,
            verbose=self.verbose,
        )
        self.model_ = model
        self.log_partition_ = log_z
        self.log_partition_stderr_ = stderr
        self.n_features_in_ = X.shape[1]
        return self

    def _check_fitted(self):
        if not hasattr(self, "model_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError(
                "This DDEDensity instance is not fitted yet; call `fit` first."
            )

    def score_samples(self, X):
        """Normalised log-density of each row of `X`, float64 `(n_samples,)`."""
        self._check_fitted()
        X = check_data(X, "X", (self.n_features_in_,))
        return self.model_.log_prob(X).astype("float64")

    def score(self, X, y=None):
        """Total log-likelihood of `X` (as `KernelDensity.score`)."""
        return float(np.sum(self.score_samples(X)))

    def sample(self, n_samples=1, random_state=None):
        """Draws `n_samples` points by MALA; float32 `(n_samples, n_features)`."""
        self._check_fitted()
        n_samples = check_positive_int(n_samples, "n_samples")
        seed = _int_seed(random_state, "random_state")
        return self.model_.sample(n_samples, n_steps=self.sample_steps, seed=seed)


def _int_seed(random_state, name):
    """An int seed (or None) from an int, None or `numpy.random.RandomState`."""
    if random_state is None:
        return None
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**31 - 1))
    if isinstance(random_state, numbers.Integral) and not isinstance(
        random_state, bool
    ):
        return int(random_state)
    raise TypeError(
        f"`{name}` must be None, an int or a numpy RandomState/Generator; "
        f"got {random_state!r}."
    )
