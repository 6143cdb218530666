import copy

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_dde")
class RoutedOptimizer(keras.optimizers.Optimizer):
    """One optimizer that routes each variable to one of several child optimizers.

    Keras's trainers know one `model.optimizer`: on JAX its `variables` are
    the optimizer state threaded through every train step, and `model.save`
    stores them. A model trained with several optimizers (a generator and its
    critics, each with its own learning rate) compiles with this router: its
    `variables` are all of its children's, and `apply` sends each gradient to
    the child that owns the variable.

    Args:
        optimizers: dict mapping a route name to a Keras optimizer.
        name: the optimizer's name.
        **kwargs: standard optimizer arguments other than `learning_rate`
            (each child has its own).

    Example:
    ```python
    generator = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2)])
    critic = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    router = keras_dde.optimizers.RoutedOptimizer(
        {"generator": keras.optimizers.Adam(1e-4), "critic": keras.optimizers.Adam(1e-3)}
    )
    router.route("generator", generator.trainable_variables)
    router.route("critic", critic.trainable_variables)
    # A custom model holding both compiles with it: `model.compile(optimizer=router)`.
    ```

    References:
        - [keras.optimizers.LossScaleOptimizer](https://keras.io/api/optimizers/loss_scale_optimizer/),
          the wrapping pattern this follows.
    """

    def __init__(self, optimizers, name="routed_optimizer", **kwargs):
        if not isinstance(optimizers, dict) or not optimizers:
            raise TypeError(
                "`optimizers` must be a non-empty dict of route name -> optimizer."
            )
        children = {}
        for route, optimizer in optimizers.items():
            optimizer = keras.optimizers.get(optimizer)
            if not isinstance(optimizer, keras.optimizers.Optimizer):
                raise TypeError(
                    f"`optimizers[{route!r}]` must be a Keras optimizer; "
                    f"received {type(optimizer).__name__}."
                )
            children[route] = optimizer
        super().__init__(learning_rate=0.0, name=name, **kwargs)
        self.optimizers = children
        self._route_of = {}

    def route(self, route, variables):
        """Sends gradients of `variables` to the optimizer named `route`."""
        if route not in self.optimizers:
            raise ValueError(
                f"Unknown route {route!r}; routes are {sorted(self.optimizers)}."
            )
        for variable in variables:
            self._route_of[id(variable)] = route

    def _split(self, variables, values=None):
        values = variables if values is None else values
        groups = {route: ([], []) for route in self.optimizers}
        for variable, value in zip(variables, values):
            route = self._route_of.get(id(variable))
            if route is None:
                raise ValueError(
                    f"Variable {variable.path} has no route; call "
                    "`route(name, variables)` for every trained variable."
                )
            groups[route][0].append(variable)
            groups[route][1].append(value)
        return groups

    def build(self, var_list):
        for route, (variables, _) in self._split(var_list).items():
            if not self.optimizers[route].built:
                self.optimizers[route].build(variables)
        super().build(var_list)

    @property
    def variables(self):
        children = [v for opt in self.optimizers.values() for v in opt.variables]
        return self._variables + children

    def apply(self, grads, trainable_variables=None):
        if trainable_variables is None:
            raise ValueError("`RoutedOptimizer.apply` needs `trainable_variables`.")
        # Torch's optimizers take tensors only; arrays work on every backend.
        grads = [None if g is None else ops.convert_to_tensor(g) for g in grads]
        for route, (variables, route_grads) in self._split(
            trainable_variables, grads
        ).items():
            if variables:
                self.optimizers[route].apply(route_grads, variables)

    @property
    def iterations(self):
        """Steps of the first route's optimizer (e.g. generator steps)."""
        return next(iter(self.optimizers.values())).iterations

    def get_config(self):
        config = super().get_config()
        config["optimizers"] = {
            route: keras.saving.serialize_keras_object(optimizer)
            for route, optimizer in self.optimizers.items()
        }
        for key in ("learning_rate",):
            config.pop(key, None)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = copy.deepcopy(config)
        config["optimizers"] = {
            route: keras.saving.deserialize_keras_object(
                optimizer, custom_objects=custom_objects
            )
            for route, optimizer in config["optimizers"].items()
        }
        return cls(**config)
