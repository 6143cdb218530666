"""What kind of network a model holds, for backends that pick settings by it."""

from keras import layers

# Every public Keras convolution (EnergyConv2D subclasses Conv2D).
_CONVOLUTIONS = (
    layers.Conv1D, layers.Conv2D, layers.Conv3D,
    layers.Conv1DTranspose, layers.Conv2DTranspose, layers.Conv3DTranspose,
    layers.DepthwiseConv1D, layers.DepthwiseConv2D,
    layers.SeparableConv1D, layers.SeparableConv2D,
)


def has_convolution(layer):
    """Whether `layer` or a layer nested in it (public `.layers`) convolves."""
    seen, stack = set(), [layer]
    while stack:
        layer = stack.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        if isinstance(layer, _CONVOLUTIONS):
            return True
        stack.extend(getattr(layer, "layers", None) or ())
    return False
