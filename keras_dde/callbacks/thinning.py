"""Halving a bounded list of frames, once for the frame callbacks and the panel."""


def thin_frames(*sequences):
    """Every second item of parallel sequences, always keeping the newest.

    Keeps items `0, 2, 4, ...`; when that drops the last item, the last kept
    item is replaced by it, so the result has `ceil(n / 2)` items, starts at
    the first frame and ends at the newest. Parallel sequences (frames, their
    steps or labels, their PNGs) are thinned alike.

    Args:
        *sequences: one or more sequences of equal length `n >= 1`.

    Returns:
        A tuple of lists, one per sequence (a single list for one sequence).

    Example:
    ```python
    from keras_dde.callbacks import thin_frames

    thin_frames([0, 1, 2, 3, 4, 5])  # [0, 2, 5]
    frames, steps = thin_frames(["a", "b", "c"], [0, 10, 20])  # [a, c], [0, 20]
    ```
    """
    if not sequences:
        raise TypeError("thin_frames needs at least one sequence.")
    lengths = {len(sequence) for sequence in sequences}
    if len(lengths) != 1:
        raise ValueError(
            f"thin_frames needs sequences of equal length; received lengths "
            f"{sorted(lengths)}."
        )
    thinned = []
    for sequence in sequences:
        kept = list(sequence[::2])
        if len(sequence) % 2 == 0 and kept:
            kept[-1] = sequence[-1]  # Keep the newest frame.
        thinned.append(kept)
    return thinned[0] if len(thinned) == 1 else tuple(thinned)
