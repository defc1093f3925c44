"""What the learner's code may import from nnlib while an assignment is graded (the worker's shim).

For each assignment: ``modules`` maps a module name the notebooks import from to {name: what the worker
binds}: the name of a function in :mod:`nnlib.grading.provided`, or ``None`` for a name the setup cell
imports for demos only (using it raises a message saying it is not available to answers).  ``extra``
lists provided modules to load (a06's network methods).  Everything else in nnlib does not exist in the
worker.
"""

from __future__ import annotations

UNAVAILABLE = None

POLICY: dict[str, dict] = {
    "a01_perceptron": {"modules": {"nnlib.datasets": {"logic_table": "logic_table"}}, "extra": []},
    "a02_xor": {"modules": {"nnlib.datasets": {"logic_table": "logic_table"},
                            "nnlib.perceptron": {"Perceptron": UNAVAILABLE}}, "extra": []},
    "a03_gradient_descent": {"modules": {}, "extra": []},
    "a04_derivatives": {"modules": {"nnlib.activations": {"relu": "relu", "sigmoid": "sigmoid",
                                                          "softplus": "softplus", "tanh": "tanh"}}, "extra": []},
    "a05_backprop": {"modules": {"nnlib": {"Network": UNAVAILABLE},
                                 "nnlib.activations": {"sigmoid": "sigmoid", "sigmoid_prime": "sigmoid_prime"}},
                     "extra": []},
    "a06_sgd": {"modules": {"nnlib": {"Network": UNAVAILABLE}, "nnlib.activations": {"softmax": "softmax"},
                            "nnlib.datasets": {"digits": UNAVAILABLE, "nielsen_format": UNAVAILABLE}},
                "extra": ["provided_sgd"]},
    "a07_cnn": {"modules": {"nnlib": {"layers": UNAVAILABLE}}, "extra": []},
}

DEFAULT = {"modules": {}, "extra": []}


def for_assignment(name: str) -> dict:
    """The policy of ``name`` (an unknown assignment: NumPy only)."""
    return POLICY.get(name, DEFAULT)
