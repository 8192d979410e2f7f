"""Trunks: the networks that map an input batch to features.

A trunk is any ``torch.nn.Module``; the architectures build it (and as many
copies as they need) from a specification: None (the default
:class:`MLP`), a name of :data:`TRUNKS`, a module class or other callable
returning a module, or a module instance.
"""

import copy
import functools
import inspect
import math
import numbers
from collections.abc import Mapping

import torch
from torch import nn

from ..utils import Registry

__all__ = ["MLP", "ConvNet", "TRUNKS", "TRUNK_ALIASES", "build_trunk", "feature_size"]

_ACTIVATIONS = Registry("activation", {"relu": nn.ReLU, "tanh": nn.Tanh,
                                       "logistic": nn.Sigmoid, "gelu": nn.GELU,
                                       "identity": nn.Identity})


class MLP(nn.Sequential):
    """Fully connected trunk: flatten, then ``Linear`` + activation blocks.

    Each child is one block (``Linear``, activation, optional ``Dropout``),
    so architectures that work stage by stage (:class:`CrossStitch`) see
    the hidden layers as stages. With no hidden layer the trunk only
    flattens its input (the heads are then linear models).

    Parameters
    ----------
    input_shape : tuple of int
        Shape of one sample, e.g. ``(n_features,)`` or ``(3, 28, 28)``.
    hidden_layer_sizes : tuple of int, default=(100,)
        Width of each hidden layer, as in scikit-learn's ``MLPRegressor``.
    activation : {"relu", "tanh", "logistic", "gelu", "identity"}, \
            default="relu"
    dropout : float, default=0.0
        Dropout probability after each hidden layer.

    Attributes
    ----------
    out_features : int
        Size of the features the trunk returns.

    Examples
    --------
    >>> import torch
    >>> from skmtl.neural import MLP
    >>> trunk = MLP((4,), hidden_layer_sizes=(8, 6))
    >>> trunk(torch.zeros(2, 4)).shape
    torch.Size([2, 6])
    """

    def __init__(self, input_shape, hidden_layer_sizes=(100,), activation="relu",
                 dropout=0.0):
        activation_class = _ACTIVATIONS.resolve(activation)
        sizes = tuple(int(h) for h in hidden_layer_sizes)
        if any(h < 1 for h in sizes):
            raise ValueError(f"hidden_layer_sizes must hold positive integers, got "
                             f"{hidden_layer_sizes!r}.")
        in_features = math.prod(input_shape)
        blocks = []
        for i, width in enumerate(sizes):
            layers = [nn.Flatten()] if i == 0 else []
            layers += [nn.Linear(in_features, width), activation_class()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            blocks.append(nn.Sequential(*layers))
            in_features = width
        if not blocks:
            blocks.append(nn.Flatten())
        super().__init__(*blocks)
        self.out_features = in_features


class ConvNet(nn.Sequential):
    """Small convolutional trunk for images: conv blocks, then a dense layer.

    Each entry of ``channels`` adds a block ``Conv2d(3×3, padding 1)`` →
    ReLU → ``MaxPool2d(2)`` (halving height and width); the result is
    flattened and mapped to ``out_features`` by ``Linear`` + ReLU. With the
    defaults on 28×28 images: two blocks → 64·7·7 → 256. The convolutions
    run on channels-last (NHWC) tensors, the layout of the fastest kernels
    on CPUs and GPUs; inputs may come in either layout.

    Parameters
    ----------
    input_shape : tuple of int
        ``(channels, height, width)`` of one image.
    channels : tuple of int, default=(32, 64)
        Output channels of each conv block.
    out_features : int, default=256
        Size of the features the trunk returns.

    Attributes
    ----------
    out_features : int

    Examples
    --------
    >>> import torch
    >>> from skmtl.neural import ConvNet
    >>> trunk = ConvNet((3, 28, 28))
    >>> trunk(torch.zeros(2, 3, 28, 28)).shape
    torch.Size([2, 256])
    """

    def __init__(self, input_shape, channels=(32, 64), out_features=256):
        if len(input_shape) != 3:
            raise ValueError(f"ConvNet needs images shaped (channels, height, width); "
                             f"got samples of shape {tuple(input_shape)}.")
        in_channels, height, width = (int(s) for s in input_shape)
        layers = []
        for c in channels:
            layers += [nn.Conv2d(in_channels, int(c), 3, padding=1), nn.ReLU(),
                       nn.MaxPool2d(2)]
            in_channels, height, width = int(c), height // 2, width // 2
        if height < 1 or width < 1:
            raise ValueError(f"{len(channels)} pooling blocks shrink images of shape "
                             f"{tuple(input_shape)} to nothing; use fewer channels.")
        layers += [nn.Flatten(), nn.Linear(in_channels * height * width, out_features),
                   nn.ReLU()]
        super().__init__(*layers)
        self.out_features = int(out_features)
        # channels-last (NHWC) tensors take the fastest convolution kernels of
        # oneDNN (CPU) and cuDNN: benchmarks/bench_digits.py trains 1.2-1.4x faster
        self.to(memory_format=torch.channels_last)

    def forward(self, x):
        if x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        return super().forward(x)


TRUNKS = Registry("trunk", {"mlp": MLP, "conv_net": ConvNet},
                  aliases={"conv": "conv_net", "convnet": "conv_net"})
"""Trunks by name, as accepted by ``MultiTaskEstimator(trunk=...)`` (a
:class:`~skmtl.utils.Registry`: ``TRUNKS.register("mine", MyTrunk)`` makes
``trunk="mine"`` work)."""

TRUNK_ALIASES = TRUNKS.aliases
"""Short names of :data:`TRUNKS`."""


def _accepts(callable_, name):
    try:
        parameters = inspect.signature(callable_).parameters
    except (TypeError, ValueError):
        return False
    return name in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())


def _reset_parameters(module):
    for sub in module.modules():
        if sub is not module and hasattr(sub, "reset_parameters"):
            sub.reset_parameters()
    if hasattr(module, "reset_parameters"):
        module.reset_parameters()


def build_trunk(trunk, input_shape, fresh=True):
    """A new trunk module from its specification.

    Parameters
    ----------
    trunk : None, str, nn.Module class or callable, or nn.Module instance
        None gives :class:`MLP` with its defaults; a name is one of
        :data:`TRUNKS` (``"mlp"``, ``"conv_net"``; short: ``"conv"``). A class
        or callable is called, with ``input_shape=`` when it accepts that argument (use
        ``functools.partial`` to fix other arguments). An instance is deep
        copied, so the specification itself is never trained.
    input_shape : tuple of int
        Shape of one input sample.
    fresh : bool, default=True
        For an instance: re-initialize the copy's parameters
        (``reset_parameters`` of its layers) so that several copies start
        from different weights. Classes always give fresh weights.

    Returns
    -------
    module : nn.Module
    """
    if trunk is None:
        trunk = MLP
    if isinstance(trunk, str):
        trunk = TRUNKS.resolve(trunk)
    if isinstance(trunk, nn.Module):
        module = copy.deepcopy(trunk)
        if fresh:
            _reset_parameters(module)
        return module
    if not callable(trunk):
        raise TypeError(f"trunk must be None, an nn.Module class or instance, or a "
                        f"callable returning a module; got {trunk!r}.")
    target = trunk.func if isinstance(trunk, functools.partial) else trunk
    if _accepts(target, "input_shape") and not (
            isinstance(trunk, functools.partial) and "input_shape" in trunk.keywords):
        module = trunk(input_shape=dict(input_shape) if isinstance(
            input_shape, Mapping) else tuple(input_shape))
    else:
        module = trunk()
    if not isinstance(module, nn.Module):
        raise TypeError(f"trunk {trunk!r} returned {type(module).__name__}, not an "
                        f"nn.Module.")
    return module


def feature_size(module, input_shape):
    """Number of features per sample that ``module`` returns, by a dry run.

    A trunk of named inputs (``input_shape`` a dict) cannot be run on zeros
    of unknown dtypes (ids, lengths): it states the size as its integer
    ``out_features`` attribute.
    """
    if isinstance(input_shape, Mapping):
        size = getattr(module, "out_features", None)
        if not isinstance(size, numbers.Integral):
            raise ValueError(f"the trunk {type(module).__name__} takes named inputs "
                             f"{sorted(input_shape)}; give it an integer attribute "
                             f"out_features, the number of features it returns per "
                             f"sample (the size of each head's input).")
        return int(size)
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            out = module(torch.zeros((2, *input_shape)))
    except Exception as exc:
        raise ValueError(f"the trunk {type(module).__name__} failed on an input of "
                         f"shape {(2, *input_shape)} (batch of 2 samples shaped like "
                         f"X): {exc}") from exc
    finally:
        module.train(was_training)
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"the trunk {type(module).__name__} must return one tensor of "
                        f"features, got {type(out).__name__}.")
    return math.prod(out.shape[1:])
