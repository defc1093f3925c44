"""What the learner's code may import from nnlib while an assignment is graded (the worker's shim).

For each assignment: ``modules`` maps a module name the notebooks import from to {name: what the worker
binds}: the name of a function in :mod:`nnlib.grading.provided`, or ``None`` for a name the setup cell
imports for demos only (using it raises a message saying it is not available to answers).
``net_methods`` maps a method name of the network handed to the learner's code to a function of
:mod:`nnlib.grading.provided_sgd` (a06 only); ``fixtures`` names the test functions of
:mod:`nnlib.grading.fixtures` the checks send (inputs only, never a gradient the check compares with).
The worker execs exactly these definitions (and the helpers they use), read from the files: nothing else of
nnlib exists in it, and nothing it holds computes a graded answer of the assignment.
"""

from __future__ import annotations

UNAVAILABLE = None

POLICY: dict[str, dict] = {
    "a01_perceptron": {"modules": {"nnlib.datasets": {"logic_table": "logic_table"}}},
    "a02_xor": {"modules": {"nnlib.datasets": {"logic_table": "logic_table"},
                            "nnlib.perceptron": {"Perceptron": UNAVAILABLE}}},
    "a03_gradient_descent": {"modules": {}, "fixtures": [
        "f_quadratic", "f_sin", "f_exp", "f_cube", "f_cos", "q_wave", "r_coupled", "t_cubic",  # to differentiate
        "z_bowl_grad", "quartic_grad", "twice", "rosenbrock_grad"]},  # gradients of functions nobody differentiates
    "a04_derivatives": {"modules": {"nnlib.activations": {"relu": "relu", "sigmoid": "sigmoid",
                                                          "softplus": "softplus", "tanh": "tanh"}}},
    "a05_backprop": {"modules": {"nnlib": {"Network": UNAVAILABLE},
                                 "nnlib.activations": {"sigmoid": "sigmoid", "sigmoid_prime": "sigmoid_prime",
                                                       "softmax": "softmax"}}},
    "a06_sgd": {"modules": {"nnlib": {"Network": UNAVAILABLE}, "nnlib.activations": {"softmax": "softmax"},
                            "nnlib.datasets": {"digits": UNAVAILABLE, "nielsen_format": UNAVAILABLE}},
                "net_methods": {"backprop": "backprop", "update_mini_batch": "stand_in_step"}},
    "a07_cnn": {"modules": {"nnlib": {"layers": UNAVAILABLE}}},
    "a08_capstone": {"modules": {"nnlib": {"Network": UNAVAILABLE},
                                 "nnlib.activations": {"sigmoid": "sigmoid", "sigmoid_prime": "sigmoid_prime",
                                                       "softmax": "softmax"},
                                 "nnlib.datasets": {"digits": UNAVAILABLE}}},
    "a09_autograd": {"modules": {}},  # the notebook defines its own Value: no nnlib (nnlib.autograd least of all)
    "a10_layers": {"modules": {"nnlib.datasets": {"digits": UNAVAILABLE}}},  # nothing of nnlib's layers
}

DEFAULT = {"modules": {}}


def for_assignment(name: str) -> dict:
    """The policy of ``name`` (an unknown assignment: NumPy only)."""
    return POLICY.get(name, DEFAULT)
