"""The feedback of a hidden test: general words chosen here, never text or values from the learner's run.

A hidden test's cases are the instructor's; whatever the learner's code did with them (an exception carrying
its arguments, a printed line, a wrong-shaped answer whose shape encodes them, a type named after them) must
not come back in the feedback, or a few resubmissions decode the cases and a lookup table scores them.  So
the runner never shows a hidden cell's own message: it shows :func:`message`, built from

* the *kind* of failure (a fixed vocabulary, :data:`PHRASES`; a check says which with ``fail(..., kind=)``),
* the names the cell's source ``require``s (the instructor's code, read from the source notebook),
* fixed sentences.

What still crosses is the outcome (passed or not) and the kind: a few bits per hidden test and submission,
which is why the number of resubmissions with feedback is limited (docs/instructor.md).  The runner also runs
every visible test before any hidden one, so no visible message is computed after the learner's code could
have seen a hidden input.
"""

from __future__ import annotations

import ast

MARKER = "### BEGIN HIDDEN TESTS"   # nbgrader's default marker (ClearHiddenTests.begin_hidden_tests_delimeter)

PHRASES = {
    "wrong": "gives a wrong result",
    "type": "returns something of the wrong type or shape (it should be what the visible test describes)",
    "error": "stopped with an error",
    "timeout": "did not finish in time",
    "not implemented": "is not implemented yet",
    "not defined": "is not defined (its cell raised an error, or the name is not the one asked for)",
    "not allowed": "uses something this exercise does not allow",
    "rule": "breaks a rule the exercise states",
    "target": "is below the accuracy target of this test",
    "boundary": "fails when the inputs are moved slightly off the corners: an input lies on or next to a decision "
                "boundary",
    "grader": "could not be graded (a grading problem: ask your instructor)",
    # nnlib.gradcheck's diagnoses (Diagnosis.kind): a fixed vocabulary, so naming one says nothing of the case
    "none": "returned None",
    "not_array": "returns something of the wrong type or shape (it should be what the visible test describes)",
    "shape": "returns something of the wrong type or shape (it should be what the visible test describes)",
    "reshape": "has the right values in the wrong shape (it should be what the visible test describes)",
    "nan": "returns NaN or inf",
    "zeros": "returns all zeros",
    "transposed": "returns the transpose of the right answer",
    "sign": "has the opposite sign",
    "batch_sum": "is summed over the examples where the mean is meant",
    "batch_mean": "is divided by the batch size where the sum is meant",
    "scale": "is off by a constant factor",
    "missing_activation_derivative": "leaves out the activation's derivative",
    "bias_axis": "sums the bias gradient over the wrong axis",
    "bias_not_summed": "does not sum the bias gradient over the examples",
    "other_layer": "gives another layer's gradient (a layer index is off by one)",
}


def is_hidden(source: str) -> bool:
    """Whether a test cell of the source notebook holds hidden tests."""
    return MARKER in source


def required(source: str) -> list[str]:
    """The names a test cell passes to ``require`` as string literals (the instructor's code)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "require":
            for a in node.args:
                if isinstance(a, ast.Constant) and isinstance(a.value, str) and a.value.isidentifier():
                    out.append(a.value)
    return list(dict.fromkeys(out))


def message(source: str, passed: bool, kind: str = "wrong") -> str:
    """The whole feedback of a hidden test cell."""
    if passed:
        return "✓ passed (hidden test)"
    names = ", ".join(f"`{n}`" for n in required(source)) or "your answer"
    phrase = PHRASES.get(kind, PHRASES["wrong"])
    return (f"✗ hidden test: {names} {phrase} on a hidden case.\n  Hidden tests run the same checks as the "
            "visible test above on other cases; their details are not shown. Make the visible test pass, then "
            "check your answer on cases of your own (other shapes and values).")
