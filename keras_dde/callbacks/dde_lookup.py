"""Finding the DDE a frame callback draws: the model itself or a sub-model."""


def resolve_dde(model, dde, owner):
    """The DDE a frame callback draws: the model itself or a named sub-model.

    Args:
        model: the model being trained.
        dde: None (the model itself must be a DDE), a DDE object, or a name:
            an attribute of the model, or "real"/"fake" for an `EnergyGAN`'s
            `real_dde`/`fake_dde`.
        owner: the callback's name, for errors.
    """
    if dde is None:
        if _is_dde(model):
            return model
        candidates = [
            name
            for name in ("real_dde", "fake_dde")
            if _is_dde(getattr(model, name, None))
        ]
        hint = (
            f" It has DDEs {', '.join(repr(c) for c in candidates)}: pass e.g. "
            f"`dde={candidates[0].split('_')[0]!r}`."
            if candidates
            else ""
        )
        raise ValueError(
            f"{owner} cannot draw this {type(model).__name__} itself: it has no "
            f"`energy` and `score` methods.{hint}"
        )
    if isinstance(dde, str):
        for attribute in (dde, f"{dde}_dde"):
            found = getattr(model, attribute, None)
            if _is_dde(found):
                return found
        raise ValueError(
            f"{owner}: the {type(model).__name__} has no DDE named {dde!r} "
            f"(looked for attributes {dde!r} and '{dde}_dde')."
        )
    if _is_dde(dde):
        return dde
    raise TypeError(
        f"{owner}: `dde` must be None, a name such as 'real' or 'fake', or a DDE; "
        f"received {type(dde).__name__}."
    )


def _is_dde(obj):
    return (
        obj is not None
        and callable(getattr(obj, "energy", None))
        and callable(getattr(obj, "score", None))
    )


def check_dde_argument(dde):
    if dde is None or isinstance(dde, str) or _is_dde(dde):
        return dde
    raise TypeError(
        "`dde` must be None, a name such as 'real' or 'fake', or a DDE; "
        f"received {type(dde).__name__}."
    )
