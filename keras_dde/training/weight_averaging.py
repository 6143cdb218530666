"""An exponential moving average of a model's weights, kept through `fit`.

With a constant learning rate, the last iterate of stochastic training
wanders around the optimum; for a noise-conditional DDE that wander shows as
per-mode offsets, i.e. wrong relative masses of separated modes (measured in
`benchmarks/results/optimizer_robustness.md`: a constant Adam 2e-3 left a
spread of 0.147 nats between the modes' offsets, the same run averaged 0.021).
Score and diffusion models average their weights for the same reason
(Song & Ermon, 2020). After every training step

    t     <- t + 1
    decay  = min(decay_max, (t - 1) / (t + 3))
    w_avg <- decay * w_avg + (1 - decay) * w

Until the cap, this weighs step `s` of `t` in proportion to `s^3`
(polynomial-decay averaging, Shamir & Zhang 2013): the first step copies the
weights, the first half of a run holds 1/16 of the average, and short runs
are not dragged back to their initial weights, as a fixed decay (e.g.
Keras's `use_ema`) would. Past `t ~ 4 / (1 - decay_max)` it is an exponential
average over about `1 / (1 - decay_max)` steps. When `fit` ends the averages replace the
weights (as Keras's `finalize_variable_values` does for `use_ema`), unless
they are not finite (after a divergence the guard's restored weights stay).

References:
    - [Song & Ermon, 2020](https://arxiv.org/abs/2006.09011)
    - [Polyak & Juditsky, 1992](https://doi.org/10.1137/0330046)
    - [Shamir & Zhang, 2013](https://proceedings.mlr.press/v28/shamir13.html)
"""

import numpy as np
from keras import ops


class WeightAveraging:
    """Mixin for a `keras.Model`: `self.weight_averaging` (a decay in (0, 1)
    or None) set before `build_weight_averages`, called from `build`."""

    def build_weight_averages(self):
        """Creates the averages of the trainable variables (saved with the
        model, so a loaded model resumes them) and the step count."""
        self.averaged_variables = []
        self.averaging_steps = None
        if self.weight_averaging is None:
            return
        # "mean": replicas of a `tf.distribute` strategy update them in
        # replica context, with equal values.
        self.averaged_variables = [
            self.add_weight(shape=variable.shape, initializer="zeros",
                            trainable=False, aggregation="mean",
                            name=f"average_{index}")
            for index, variable in enumerate(self.trainable_variables)
        ]
        self.averaging_steps = self.add_weight(
            shape=(), initializer="zeros", trainable=False, aggregation="mean",
            name="averaging_steps",
        )

    def update_weight_averages(self):
        """One averaging step; call it after the optimizer's."""
        if not self.averaged_variables:
            return
        steps = self.averaging_steps + 1.0
        self.averaging_steps.assign(steps)
        decay = ops.minimum(self.weight_averaging, (steps - 1.0) / (steps + 3.0))
        for average, variable in zip(self.averaged_variables, self.trainable_variables):
            value = ops.cast(variable, average.dtype)
            average.assign(decay * average + (1.0 - decay) * value)

    def use_weight_averages(self):
        """Copies the averages into the weights, if they are finite."""
        if not self.averaged_variables or float(
            ops.convert_to_numpy(self.averaging_steps)
        ) == 0:
            return
        values = [ops.convert_to_numpy(a) for a in self.averaged_variables]
        if not all(np.isfinite(value).all() for value in values):
            return
        for variable, value in zip(self.trainable_variables, values):
            variable.assign(value)
