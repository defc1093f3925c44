"""The notebook's delegation guard (nnlib/grading/_guard.py): what it refuses, what it lets through, and that it
leaves nothing behind.  The verdicts on whole answers: tests/test_a05_capstone.py and tests/test_catalogue.py."""

import builtins
import importlib
import sys
import threading

import numpy as np
import pytest

from nnlib import activations as A
from nnlib import datasets, gradcheck
from nnlib.grading._core import GradingError, invoke
from nnlib.grading._guard import _nnlib_functions
from nnlib.network import Network

ALLOWED = [A.sigmoid, A.sigmoid_prime, A.softmax]


def answer(src: str, name: str = "f", **names):
    """A learner's function defined in a notebook-like namespace (``names`` bound before the check)."""
    ns = {"np": np, **names}
    exec(compile(src, "<learner cell>", "exec"), ns)  # noqa: S102 - test answers
    return ns[name], ns


def refused(fn, *args) -> str:
    with pytest.raises(GradingError) as info:
        invoke(fn, "f", *args, allowed=ALLOWED, allowed_text="NumPy, sigmoid")
    text = " ".join(str(info.value).split())
    assert "does not allow" in text, text
    return text


def originals():
    return {id(f): f.__code__ for f in _nnlib_functions()}


def test_names_bound_before_the_check_are_refused():
    """A class imported in an earlier cell, and a method of an object built there: swapping module attributes
    would miss both; the stand-in code reaches every reference."""
    fn, _ = answer("def f(x):\n    return Network([2, 2])\n", Network=Network)
    assert "nnlib's own `network.Network`" in refused(fn, 1)
    net = Network([3, 2], seed=0)
    fn, _ = answer("def f(x):\n    return net.backprop(x, np.zeros((2, 1)))\n", net=net)
    assert "`network.Network.backprop`" in refused(fn, np.zeros((3, 1)))
    fn, _ = answer("def f(y):\n    import nnlib.datasets\n    return nnlib.datasets.one_hot(y, 3)\n")
    assert "`datasets.one_hot`" in refused(fn, np.array([0, 2]))


@pytest.mark.parametrize("how", ["from nnlib.autograd import unbroadcast as u",
                                 "import importlib\n    u = importlib.import_module('nnlib.autograd').unbroadcast"])
def test_an_nnlib_module_first_loaded_by_the_answer_is_refused(how, monkeypatch):
    """A module no one imported before the check (its functions were not swapped when the guard started) is
    swapped as the answer's import loads it, before the name is bound: the call still refuses."""
    import nnlib

    for name in [m for m in sys.modules if m == "nnlib.autograd" or m.startswith("nnlib.autograd.")]:
        monkeypatch.delitem(sys.modules, name)
    if hasattr(nnlib, "autograd"):
        monkeypatch.delattr(nnlib, "autograd")
    fn, _ = answer(f"def f(g):\n    {how}\n    return u(g, (3,))\n")
    assert "unbroadcast" in refused(fn, np.ones((4, 3)))
    loaded = sys.modules["nnlib.autograd"]  # loaded by the answer, left loaded, its stand-ins undone
    assert loaded.unbroadcast(np.ones((4, 3)), (3,)).tolist() == [4.0, 4.0, 4.0]


def test_a_closure_nnlib_returned_before_the_check_is_refused():
    """gradcheck.network_cost returns a closure no module holds: the learner's name for it is swapped too."""
    net = Network([3, 2], seed=0)
    cost = gradcheck.network_cost(net, np.zeros((3, 1)), np.zeros((2, 1)))
    fn, _ = answer("def f(z):\n    return cost(z)\n", cost=cost)
    assert "`gradcheck.network_cost.<locals>.total_cost`" in refused(fn, 0)
    assert cost(0) >= 0  # and works again afterwards


def test_nnlib_given_as_the_answer_itself_is_refused():
    assert "`activations.relu`" in refused(A.relu, np.zeros(3))


def test_allowed_functions_run_with_nnlib_internals_and_answers_pass():
    fn, _ = answer("def f(z):\n    return sigmoid(z) * sigmoid_prime(z) + softmax(z)\n", sigmoid=A.sigmoid,
                   sigmoid_prime=A.sigmoid_prime, softmax=A.softmax)
    z = np.linspace(-3, 3, 7)
    got = invoke(fn, "f", z, allowed=ALLOWED, allowed_text="NumPy, sigmoid")
    np.testing.assert_allclose(got, A.sigmoid(z) * A.sigmoid_prime(z) + A.softmax(z))


def test_a_refusal_the_learner_catches_still_fails():
    fn, _ = answer("def f(y):\n    try:\n        return one_hot(y, 3)\n    except Exception:\n"
                   "        return np.eye(3)[y]\n", one_hot=datasets.one_hot)
    assert "`datasets.one_hot`" in refused(fn, np.array([0, 2]))


def test_nothing_is_left_behind_and_no_profiler_runs():
    before, imports = originals(), (builtins.__import__, importlib.import_module)
    seen = []
    fn, _ = answer("def f(z):\n    seen.append(sys.getprofile())\n    return Network([1, 1])\n", seen=seen, sys=sys,
                   Network=Network)
    refused(fn, 0)
    assert seen == [None]  # the former guard ran a profiler; this one swaps and puts back
    assert originals() == before and (builtins.__import__, importlib.import_module) == imports
    assert Network([2, 1], seed=0).feedforward(np.zeros((2, 1))).shape == (1, 1)  # nnlib works again


def test_other_threads_are_not_refused():
    """Only the learner's call in the checking thread is guarded (as sys.setprofile guarded one thread)."""
    out = []
    worker = threading.Thread(target=lambda: out.append(datasets.one_hot(np.array([1]), 2)))
    fn, _ = answer("def f(z):\n    worker.start()\n    worker.join()\n    return z\n", worker=worker)
    assert invoke(fn, "f", 3, allowed=ALLOWED) == 3
    np.testing.assert_array_equal(out[0], [[0.0, 1.0]])


def test_libraries_are_refused_imported_in_the_answer_or_before():
    sklearn = pytest.importorskip("sklearn")
    fn, _ = answer("def f(z):\n    from sklearn.neural_network import MLPClassifier\n    return z\n")
    assert "machine-learning library `sklearn`" in refused(fn, 1)
    fn, ns = answer("def f(z):\n    return sklearn.__version__\n", sklearn=sklearn)
    assert "machine-learning library `sklearn`" in refused(fn, 1)
    assert ns["sklearn"] is sklearn  # the learner's name is given back
    fn, _ = answer("def f(z):\n    return importlib.import_module('sklearn.linear_model')\n", importlib=importlib)
    assert "machine-learning library `sklearn`" in refused(fn, 1)
    fn, _ = answer("def f(z):\n    import json\n    return json.dumps(z)\n")
    assert invoke(fn, "f", 1) == "1"  # other imports are free
