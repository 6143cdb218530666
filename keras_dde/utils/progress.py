"""A progress bar for long estimates, shown only when the work is large."""

import keras

# Below this many (sample x step x feature) units of work, "auto" is silent.
AUTO_VERBOSE_WORK = 50_000_000


def progress_bar(target, verbose, work):
    """A `keras.utils.Progbar` of `target` steps, or None when silent.

    Args:
        target: the number of updates the bar will receive.
        verbose: 0, 1 or "auto" (a bar when `work >= AUTO_VERBOSE_WORK`).
        work: a rough size of the job, for "auto".
    """
    if verbose == "auto":
        verbose = 1 if work >= AUTO_VERBOSE_WORK else 0
    return keras.utils.Progbar(target, verbose=int(verbose)) if verbose else None
