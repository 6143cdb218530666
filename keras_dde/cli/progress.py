"""One progress bar over all epochs, for the command line."""

import keras


class EpochProgress(keras.callbacks.Callback):
    """One progress bar over all epochs (not one per epoch), with the losses.

    The bar is made at the first epoch's end, when the logged names (one
    loss for a DDE, three for an EnergyGAN) are known: they are epoch means
    already, so the bar shows them as they are (stateful) rather than
    averaging them again over epochs.
    """

    def on_train_begin(self, logs=None):
        self._bar = None

    def on_epoch_end(self, epoch, logs=None):
        values = [
            (name, float(value)) for name, value in (logs or {}).items()
            if _is_number(value)
        ]
        if self._bar is None:
            self._bar = keras.utils.Progbar(
                self.params.get("epochs"),
                stateful_metrics=[name for name, _ in values],
                unit_name="epoch",
            )
        self._bar.update(epoch + 1, values=values)


def _is_number(value):
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def announce_preparation(model):
    """Says what a covering GAN's first `fit` does before its first epoch:
    fitting the teacher (no bar of its own), making the bank of ODE pairs
    and the generator's warm-up, which take minutes on images."""
    if getattr(model, "objective", None) != "distillation":
        return
    if float(keras.ops.convert_to_numpy(model.pairs_made)) > 0:
        return  # A loaded model keeps its bank.
    work = [f"fitting the teacher MultiScaleDDE ({model.teacher_epochs} epochs)"
            ] if model.teacher_epochs else []
    work.append(f"making {model.n_pairs} ODE pairs and {model.warmup_steps} "
                "warm-up steps of the generator")
    print(", then ".join(work) + ", before the GAN's epochs", flush=True)
