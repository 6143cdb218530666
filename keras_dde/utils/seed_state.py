from keras import ops


class SavesSeedState:
    """Saves a layer's own `SeedGenerator` states with its weights.

    Keras does not save seed generators, so a loaded model would restart its
    random stream; with this mixin, training resumed from a `.keras` file
    draws the same noise as the uninterrupted run.
    """

    _SEED_PREFIX = "seed_state_"

    def save_own_variables(self, store):
        super().save_own_variables(store)
        for index, generator in enumerate(self._seed_generators):
            store[f"{self._SEED_PREFIX}{index}"] = ops.convert_to_numpy(
                generator.state.value
            )

    def load_own_variables(self, store):
        keys = list(store.keys())
        for index, generator in enumerate(self._seed_generators):
            key = f"{self._SEED_PREFIX}{index}"
            if key in keys:
                generator.state.assign(store[key])
        super().load_own_variables(
            {key: store[key] for key in keys if not key.startswith(self._SEED_PREFIX)}
        )
