"""The checks behind the course's exercises, one module per assignment (``a01_perceptron`` … ``a08_capstone``).

Every ``check_*`` function runs a learner's code on cases, compares it with nnlib's reference, and either
prints one line starting with ✓ or raises :class:`GradingError` (an ``AssertionError``) whose text names
the likely mistake.  Called with no ``cases`` a check uses its public cases; the graded (hidden) cases
live in the hidden test cells of the instructor's source notebooks and are passed explicitly.

Self-study, without nbgrader::

    from nnlib.grading import check_backprop
    check_backprop(backprop)          # ✓ backprop looks correct ...

In a test cell, ``require("backprop")`` turns a missing definition into a message that says so.  The same
checks run in the trusted grader (``python -m nnlib_grader grade``) against the learner's code in a
sandboxed worker; see docs/instructor.md for what runs where.
"""

from nnlib.grading._core import GradingError, require
from nnlib.grading.a01_perceptron import check_perceptron_predict, check_perceptron_rule, check_perceptron_train
from nnlib.grading.a02_xor import check_gate, check_xor_network
from nnlib.grading.a03_gradient_descent import (
    check_gd_step,
    check_gradient_descent,
    check_numerical_derivative,
    check_numerical_gradient,
)
from nnlib.grading.a04_derivatives import check_derivative
from nnlib.grading.a05_backprop import check_backprop, check_backprop_relu_softmax, check_softmax_delta
from nnlib.grading.a06_sgd import (
    check_adam,
    check_momentum,
    check_sgd_epoch,
    check_softmax_cross_entropy,
    check_update_mini_batch,
)
from nnlib.grading.a07_cnn import check_conv_backward, check_conv_forward, check_layer_backward, check_maxpool_backward
from nnlib.grading.a08_capstone import check_train
from nnlib.grading.a09_autograd import check_backward, check_topo_order, check_unbroadcast, check_value_ops
from nnlib.grading.a10_layers import (
    check_affine_backward,
    check_affine_forward,
    check_batchnorm_backward,
    check_batchnorm_forward,
    check_dropout_backward,
    check_dropout_forward,
    check_relu_backward,
    check_relu_forward,
    check_softmax_loss,
    check_train_net,
)

__all__ = ["GradingError", "require", "check_perceptron_predict", "check_perceptron_rule", "check_perceptron_train",
           "check_gate", "check_xor_network", "check_numerical_derivative", "check_numerical_gradient",
           "check_gd_step", "check_gradient_descent", "check_derivative", "check_backprop",
           "check_softmax_delta", "check_backprop_relu_softmax", "check_train",
           "check_update_mini_batch", "check_sgd_epoch", "check_momentum", "check_adam",
           "check_softmax_cross_entropy", "check_conv_forward", "check_conv_backward", "check_maxpool_backward",
           "check_layer_backward"]
__all__ += ["check_value_ops", "check_topo_order", "check_backward", "check_unbroadcast"]
__all__ += ["check_affine_forward", "check_affine_backward", "check_relu_forward", "check_relu_backward",
            "check_dropout_forward", "check_dropout_backward", "check_batchnorm_forward", "check_batchnorm_backward",
            "check_softmax_loss", "check_train_net"]  # a10_layers


def _message_first_in_notebooks() -> None:
    """In a Jupyter kernel a failed check shows its message only — no traceback through nnlib.grading.

    The cell still fails (an error output, so nbgrader's Validate and the course's tests see it)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a course dependency
        return
    ip = get_ipython()
    if ip is None or not hasattr(ip, "set_custom_exc"):
        _message_first_in_python()
        return

    def handler(shell, etype, value, tb, tb_offset=None):
        stb = [f"{etype.__name__}: {value}"]
        shell._showtraceback(etype, value, stb)  # an error output, as for any failed cell
        return stb

    ip.set_custom_exc((GradingError,), handler)


def _message_first_in_python() -> None:
    """In a plain ``python`` session (self-study) a failed check ends with its message, the same text as in the
    notebook — not a traceback through nnlib/grading.  Only GradingError is shown this way; every other
    exception keeps Python's usual traceback (the previous ``sys.excepthook`` handles it)."""
    import sys

    previous = sys.excepthook
    if getattr(previous, "_nnlib_message_first", False):
        return

    def hook(etype, value, tb):
        if isinstance(value, GradingError):
            sys.stderr.write(f"{etype.__name__}: {value}\n")
            return
        previous(etype, value, tb)

    hook._nnlib_message_first = True
    sys.excepthook = hook


_message_first_in_notebooks()
