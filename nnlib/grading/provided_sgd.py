"""The methods assignment 6 puts on its network: ``backprop`` (Nielsen's, summed over a batch of columns) for
``update_mini_batch``, and a **stand-in** ``update_mini_batch`` for ``sgd_epoch``.

The stand-in is deliberately *not* SGD: ``sgd_epoch`` is graded on which minibatches it hands to
``net.update_mini_batch`` and in which order, so the network it gets only needs a step that depends on the
minibatch, its size, η and the current weights.  Were it the real step, the grading worker would hold the
answer of ``update_mini_batch`` (graded in the same notebook).  The worker execs only the definitions its
assignment's policy names (``nnlib.grading.policy``), by reading this file, never by importing it.
"""

from __future__ import annotations

import numpy as np

from nnlib.grading.provided import METHODS, sigmoid, sigmoid_prime


def backprop(net, x, y):
    """(nabla_b, nabla_w) of C = ½‖a^L − y‖², summed over the columns of x (sigmoid units)."""
    a, acts, zs = x, [x], []
    for b, w in zip(net.biases, net.weights):
        z = w @ a + b
        zs.append(z)
        a = sigmoid(z)
        acts.append(a)
    nb, nw = [None] * len(net.biases), [None] * len(net.weights)
    delta = (acts[-1] - y) * sigmoid_prime(zs[-1])
    nb[-1], nw[-1] = delta.sum(axis=1, keepdims=True), delta @ acts[-2].T
    for l in range(2, net.num_layers):
        delta = (net.weights[-l + 1].T @ delta) * sigmoid_prime(zs[-l])
        nb[-l], nw[-l] = delta.sum(axis=1, keepdims=True), delta @ acts[-l - 1].T
    return nb, nw


def stand_in_step(net, mini_batch, eta):
    """Not SGD: w ← w − (η/m) sin(w + 1) t, b ← b − (η/m) cos(b) t with t = Σ_(x,y) (Σx − Σy), in place.

    It depends on every example of the minibatch, on m, on η and on the current weights (so the order of the
    minibatches matters), which is all ``sgd_epoch``'s check needs.
    """
    m = len(mini_batch)
    t = sum(float(np.sum(x)) - float(np.sum(y)) for x, y in mini_batch)
    for i in range(len(net.weights)):
        net.weights[i] = net.weights[i] - (eta / m) * np.sin(net.weights[i] + 1.0) * t
        net.biases[i] = net.biases[i] - (eta / m) * np.cos(net.biases[i]) * t


METHODS.update(backprop=backprop, update_mini_batch=stand_in_step)
ALL = [backprop, stand_in_step]
