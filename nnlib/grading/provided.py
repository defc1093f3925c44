"""What an exercise hands to the learner's code, written without the answers.

* :class:`Net` is the network passed to ``backprop``/``update_mini_batch``/``sgd_epoch``: Nielsen's data
  (``sizes``, ``num_layers``, ``weights``, ``biases``) and only the methods the exercise provides (a05's net
  has no ``backprop``; a06's ``update_mini_batch`` gets a net with ``backprop`` but without
  ``update_mini_batch``).  Any other attribute is an error that says what the net carries.
* Plain-NumPy versions of the functions some exercises provide (sigmoid, σ', tanh, ReLU, softplus,
  softmax, the logic tables).  The sandboxed grading worker imports this module instead of nnlib, so the
  learner's code sees nothing else of the library there.

This module must import nothing from nnlib (the worker loads it by path, with no nnlib package present).
"""

from __future__ import annotations

import numpy as np

NOT_ALLOWED = "[not allowed]"


def sigmoid(z):
    """σ(z) = 1/(1 + e^(−z)), without overflow for large |z|."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_prime(z):
    """σ'(z) = σ(z)(1 − σ(z))."""
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z):
    return np.tanh(z)


def relu(z):
    return np.maximum(z, 0.0)


def softplus(z):
    """ln(1 + e^z), stable."""
    return np.logaddexp(0.0, z)


def softmax(z, axis=-1):
    """Row-wise softmax (rows = examples for a 2-d z), stable: softmax(z) = softmax(z − max z)."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


_GATES = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "NAND": [1, 1, 1, 0], "NOR": [1, 0, 0, 0], "XOR": [0, 1, 1, 0],
          "XNOR": [1, 0, 0, 1]}


def logic_table(gate):
    """(X, d): the four inputs of a two-input gate (rows 00, 01, 10, 11) and its outputs."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return X, np.array(_GATES[gate.upper()], dtype=np.int64)


# ---------------------------------------------------------------- the network handed to the learner

METHODS: dict[str, object] = {}  # name -> function(net, ...); filled by provided_sgd where an exercise allows


class Net:
    """Nielsen's network as plain data: ``sizes``, ``num_layers``, ``weights`` (w^2, w^3, ...), ``biases``.

    ``methods``: names of the provided methods this net carries (e.g. ``("backprop",)``).
    """

    def __init__(self, sizes, weights, biases, methods=()):
        self.sizes = [int(s) for s in sizes]
        self.num_layers = len(self.sizes)
        self.weights = [np.array(w, dtype=np.float64) for w in weights]
        self.biases = [np.array(b, dtype=np.float64) for b in biases]
        self.methods = tuple(methods)

    def __getattr__(self, name):
        if name.startswith("__") or name == "methods":
            raise AttributeError(name)
        if name in self.methods and name in METHODS:
            fn = METHODS[name]
            return lambda *a, **k: fn(self, *a, **k)
        have = ["sizes", "num_layers", "weights", "biases", "feedforward", *self.methods]
        raise AttributeError(f"{NOT_ALLOWED} the net handed to {{asks}} has no `{name}`: in this exercise it carries "
                             f"only {', '.join(have)}. Write the computation yourself from net.weights and "
                             f"net.biases.")

    def feedforward(self, a):
        """a^L for an input column (or a batch of columns) a, with sigmoid units."""
        for b, w in zip(self.biases, self.weights):
            a = sigmoid(w @ a + b)
        return a


ALL = [sigmoid, sigmoid_prime, tanh, relu, softplus, softmax, logic_table, Net]
