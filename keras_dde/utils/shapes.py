"""The input shape a Keras network declares, if it declares one."""


def declared_input_shape(network):
    """The per-sample input shape of a network with one declared input, or None.

    Functional and Sequential models built with an `Input` declare it; a bare
    layer or a subclassed model does not.
    """
    try:
        inputs = network.inputs
    except (AttributeError, ValueError):
        return None
    if not inputs or len(inputs) != 1:
        return None
    return tuple(inputs[0].shape[1:])
