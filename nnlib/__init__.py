"""nnlib: neural networks from scratch, on NumPy or CuPy.

One module per idea: ``backend`` (NumPy/CuPy), ``activations``, ``losses`` (costs),
``perceptron``, ``layers`` (with ``norm``, ``pooling``, ``activations_extra``, ``residual``,
``recurrent``), ``init``, ``network`` (Nielsen's Network), ``model`` (layer stacks), ``optim``,
``gradcheck``, ``datasets``, ``metrics``, ``train``, ``viz``, ``widgets``.
"""

from nnlib import activations, gradcheck, init, layers, losses, optim
from nnlib.activations_extra import GELU, LeakyReLU
from nnlib.backend import seed, to_device, to_host, use
from nnlib.layers import Conv2D, Dense, Dropout, Flatten, MaxPool2D, ReLU, Sigmoid, Softmax, Softplus, Tanh
from nnlib.model import Model
from nnlib.network import Network
from nnlib.norm import BatchNorm1d, BatchNorm2d
from nnlib.perceptron import Perceptron
from nnlib.pooling import AvgPool2D, GlobalAvgPool2D
from nnlib.recurrent import LSTM, RNN, clip_grad_norm
from nnlib.residual import Residual

costs = losses  # the lectures say "cost function"

__version__ = "0.1.0"
__all__ = ["use", "seed", "to_device", "to_host", "activations", "losses", "costs", "layers", "init", "optim",
           "gradcheck", "Network", "Model", "Perceptron", "Dense", "Conv2D", "MaxPool2D", "Flatten", "Dropout",
           "Sigmoid", "Tanh", "ReLU", "Softplus", "Softmax", "BatchNorm1d", "BatchNorm2d", "AvgPool2D",
           "GlobalAvgPool2D", "LeakyReLU", "GELU", "Residual", "RNN", "LSTM", "clip_grad_norm"]
