import keras
from keras import ops

from keras_dde.utils.validation import check_positive_int
from keras_dde.utils.validation import check_sigma


@keras.saving.register_keras_serializable(package="keras_dde")
class GeometricSigmaDecay(keras.optimizers.schedules.LearningRateSchedule):
    """A noise level that decays geometrically from `initial_sigma` to a floor.

    `sigma(step) = max(floor_sigma, initial_sigma * decay_rate ** (step / decay_steps))`.

    Large noise early makes the smoothed densities overlap, so the generator
    is pulled toward every mode; shrinking it later sharpens the samples.
    This is a Keras learning-rate schedule (a callable of the step count), so
    any `keras.optimizers.schedules` object, e.g. `CosineDecay`, works in its
    place as `EnergyGAN(sigma_schedule=...)`.

    Args:
        initial_sigma: float > 0, the noise level at step 0.
        floor_sigma: float > 0, at most `initial_sigma`: the final level.
        decay_rate: float in (0, 1), the factor per `decay_steps` steps.
        decay_steps: int > 0.

    Example:
    ```python
    schedule = keras_dde.schedules.GeometricSigmaDecay(
        initial_sigma=1.0, floor_sigma=0.1, decay_rate=0.5, decay_steps=500
    )
    float(schedule(1000))  # 0.25
    ```

    References:
        - [Bigdeli et al., 2020](https://arxiv.org/abs/2001.02728)
        - [Song & Ermon, 2019](https://arxiv.org/abs/1907.05600), annealed
          noise levels for score-based sampling.
    """

    def __init__(self, initial_sigma, floor_sigma, decay_rate, decay_steps):
        self.initial_sigma = check_sigma(initial_sigma, "initial_sigma")
        self.floor_sigma = check_sigma(floor_sigma, "floor_sigma")
        if self.floor_sigma > self.initial_sigma:
            raise ValueError(
                f"`floor_sigma` ({self.floor_sigma}) must not exceed "
                f"`initial_sigma` ({self.initial_sigma})."
            )
        if isinstance(decay_rate, bool) or not isinstance(decay_rate, (int, float)):
            raise TypeError(
                f"`decay_rate` must be a float in (0, 1); received {decay_rate!r}."
            )
        if not 0.0 < float(decay_rate) < 1.0:
            raise ValueError(
                f"`decay_rate` must be in (0, 1) (a decay); received {decay_rate}."
            )
        self.decay_rate = float(decay_rate)
        self.decay_steps = check_positive_int(decay_steps, "decay_steps")

    def __call__(self, step):
        step = ops.cast(step, "float32")
        decayed = self.initial_sigma * ops.power(
            self.decay_rate, step / float(self.decay_steps)
        )
        return ops.maximum(decayed, self.floor_sigma)

    def get_config(self):
        return {
            "initial_sigma": self.initial_sigma,
            "floor_sigma": self.floor_sigma,
            "decay_rate": self.decay_rate,
            "decay_steps": self.decay_steps,
        }
