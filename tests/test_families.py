"""Issue 18: diagnosis by families (nnlib/grading/families.py), rules on the learner's source (rules.py), advice that
is right to follow, correct answers that keep full marks, and self-study that shows the message only.

The family engine is tested with generated inputs (Hypothesis): whatever the reference, a wrong answer that is a
family's transformation of it is named by that family, and a correct answer by none.
"""

from __future__ import annotations

import itertools
import linecache
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from nnlib.grading import GradingError, families, rules
from nnlib.grading import _core as C

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _refs(min_dims: int = 1):
    """Reference arrays with no tiny entries and some fractions (a generic numeric result)."""
    return hnp.arrays(np.float64, hnp.array_shapes(min_dims=min_dims, max_dims=2, min_side=2, max_side=5),
                      elements=st.floats(0.25, 8.0)).map(lambda a: a * np.where(np.arange(a.size).reshape(a.shape)
                                                                                % 3 == 0, -1, 1) + 0.125)


def _message(fn, *args, **kwargs) -> str:
    with pytest.raises(GradingError) as err:
        fn(*args, **kwargs)
    return " ".join(str(err.value).split())


# ---------------------------------------------------------------- the engine, property-based


@SETTINGS
@given(_refs(), st.sampled_from([3.0, 5.0, 7.0, 0.1, 0.01]))
def test_a_named_constant_is_named_whichever_way_it_scales(ref, k):
    consts = {"n_out": k}
    assert any("multiplied by n_out" in f for f in families.explain(k * ref, ref, consts))
    assert any("divided by n_out" in f for f in families.explain(ref / k, ref, consts))
    assert any("opposite sign" in f for f in families.explain(-k * ref, ref, consts))


@SETTINGS
@given(_refs())
def test_the_reference_itself_belongs_to_no_family(ref):
    assert families.explain(ref, ref, {"m": 3.0, "η": 0.1}) == []


@SETTINGS
@given(_refs())
def test_sign_and_dtype_truncation(ref):
    assert any("opposite sign" in f for f in families.explain(-ref, ref))
    trunc = families.explain(np.trunc(ref).astype(np.int64), ref)
    assert trunc and "holds integers" in trunc[0] and "truncated" in trunc[0]


@SETTINGS
@given(st.integers(2, 9), st.data())
def test_broadcast_of_a_row_and_a_column_is_named_by_its_shape(n, data):
    a = data.draw(hnp.arrays(np.float64, (n,), elements=st.floats(-3, 3)))
    fam = families.explain(a + a[:, None], a)
    assert fam and f"({n}, {n})" in fam[0] and "broadcasts" in fam[0]


@SETTINGS
@given(_refs(min_dims=2))
def test_transposed_and_reduced(ref):
    if ref.shape[0] != ref.shape[1]:
        assert "transposed" in families.explain(ref.T, ref)[0]
    stacked = np.stack([ref, ref, 2 * ref])  # summed over axis 0 gives 4·ref; /4 → the axis story
    assert "axis 0" in families.explain(stacked / 4, ref)[0]


def test_two_families_with_the_same_numbers_are_both_named():
    ref = np.array([[0.5, -1.25], [2.0, 0.75]])
    fam = families.explain(ref / 4, ref, {"m, the number of examples": 4, "n_out, the number of outputs": 4})
    text = families.sentence("δ^L", fam)
    assert "divided by m, the number of examples" in text and "divided by n_out, the number of outputs" in text


def test_variants_are_all_named_when_they_coincide():
    ref = np.array([1.0, 2.0])
    both = {"forgets η": ref * 2, "uses η twice": ref * 2, "unrelated": ref * 5}
    assert families.explain(ref * 2, ref, variants=both) == ["forgets η", "uses η twice"]


@SETTINGS
@given(hnp.arrays(np.float64, st.integers(1, 6), elements=st.floats(-1e3, 1e3).filter(lambda v: abs(v) > 1e-3)))
def test_got_and_expected_never_print_identical(ref):
    text = families.differ(ref.astype(np.float32), ref)
    got, expected = text.split(", expected ")
    assert got.removeprefix("got ") != expected.split(" (yours")[0] or np.array_equal(ref.astype(np.float32), ref)


# ---------------------------------------------------------------- the families in the checks


def test_delta_divided_by_n_out_is_not_called_the_batch_size():
    """Issue 18: "a δᴸ divided by n_out is called 'divided by the batch size m'" on square cases."""
    from nnlib import activations as A
    from nnlib.grading import check_softmax_delta

    def by_n_out(z, y):
        return (A.softmax(z, axis=0) - y) / z.shape[0]

    msg = _message(check_softmax_delta, by_n_out)
    assert "n_out" in msg and "divided by m" not in msg

    def followed(z, y):  # the advice: no division by n_out
        return by_n_out(z, y) * z.shape[0]

    from nnlib.grading import check_softmax_delta as check
    check(followed)


@pytest.mark.parametrize("mistake,phrase", [
    ("np.sqrt(vh + eps)", "inside the square root"),
    ("np.sqrt(v / (1 - beta2 ** (t - 1 if t > 1 else t))) + eps", "t − 1"),
])
def test_adam_families(mistake, phrase):
    from nnlib.grading import check_adam

    src = ("def adam_step(w, g, m, v, t, eta, beta1, beta2, eps):\n"
           "    m = beta1 * m + (1 - beta1) * g\n    v = beta2 * v + (1 - beta2) * g * g\n"
           "    mh = m / (1 - beta1 ** (t - 1 if t > 1 else t)) if 't − 1' == PHRASE else m / (1 - beta1 ** t)\n"
           "    vh = v / (1 - beta2 ** t)\n"
           f"    return w - eta * mh / ({mistake}), m, v\n").replace("PHRASE", repr(phrase))
    ns = {"np": np}
    exec(src, ns)  # noqa: S102 - a test's own code
    assert phrase in _message(check_adam, ns["adam_step"])


def test_adam_with_its_betas_swapped_is_named():
    from nnlib.grading import a06_sgd as S

    w, g = np.array([0.5, -1.0, 2.0]), np.array([0.3, 0.2, -0.7])
    fam = S.adam_family(w, g, np.zeros(3), np.zeros(3), 2, 0.1, 0.8, 0.99, 1e-8)
    swapped = S.adam_reference(w, g, np.zeros(3), np.zeros(3), 2, 0.1, 0.99, 0.8, 1e-8)[0]
    assert families.explain(swapped, S.adam_reference(w, g, np.zeros(3), np.zeros(3), 2, 0.1, 0.8, 0.99, 1e-8)[0],
                            variants=fam) == [k for k in fam if k.startswith("has β₁ and β₂ swapped")]


def test_float32_momentum_keeps_full_marks():
    """Issue 18: "float32 in momentum_step (−3 of 16)": the tolerance follows the learner's dtype."""
    from nnlib.grading import check_momentum

    def momentum_step(w, v, grad, eta, mu):
        v = (mu * v - eta * grad).astype(np.float32)
        return (w + v).astype(np.float32), v

    check_momentum(momentum_step)
    check_momentum(momentum_step, show_values=False, cases=[((2, 3, 2), 61, 0.05, 0.99, 6), ((4,), 62, 1.0, 0.3, 2)])


def test_maxpool_ties_after_a_relu():
    from nnlib.grading import check_maxpool_backward

    def every_tie(dout, x, size=2, stride=2):
        dx = np.zeros_like(x)
        for i in range(dout.shape[2]):
            for j in range(dout.shape[3]):
                win = x[:, :, i * stride:i * stride + size, j * stride:j * stride + size]
                mask = win == win.max(axis=(2, 3), keepdims=True)
                dx[:, :, i * stride:i * stride + size, j * stride:j * stride + size] += mask * dout[:, :, i:i + 1,
                                                                                                      j:j + 1]
        return dx

    msg = _message(check_maxpool_backward, every_tie)
    assert "every input that ties" in msg and "first maximum in reading order" in msg


def test_conv_backward_unpad_advice_is_right_to_follow():
    """The advice printed for a padded dx, executed: dx_padded[:, :, pad:pad + H, pad:pad + W] fixes it, pad = 0 too."""
    from nnlib.grading import a07_cnn as K
    from nnlib.grading import check_conv_backward

    def padded(dout, x, W, b, stride=1, pad=0):  # correct, but returns dx of the padded input
        xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        dxp, dW = np.zeros_like(xp), np.zeros_like(W)
        kh, kw = W.shape[2:]
        for n in range(dout.shape[0]):
            for f in range(dout.shape[1]):
                for i in range(dout.shape[2]):
                    for j in range(dout.shape[3]):
                        rows, cols = slice(i * stride, i * stride + kh), slice(j * stride, j * stride + kw)
                        dW[f] += dout[n, f, i, j] * xp[n, :, rows, cols]
                        dxp[n, :, rows, cols] += dout[n, f, i, j] * W[f]
        return dxp, dW, dout.sum(axis=(0, 2, 3))

    msg = _message(check_conv_backward, padded)
    assert K.UNPAD_ADVICE.split(" with ")[0] in msg

    def followed(dout, x, W, b, stride=1, pad=0):
        dx_padded, dW, db = padded(dout, x, W, b, stride, pad)
        H, W_ = x.shape[2:]
        return dx_padded[:, :, pad:pad + H, pad:pad + W_], dW, db  # exactly what the message says

    check_conv_backward(followed)  # includes a pad = 0 case, where pad:-pad would be empty


# ---------------------------------------------------------------- rules on the source


_CELLS = itertools.count()


def _define(src: str, name: str):
    """Define a function the way a notebook cell does (its text in linecache, so inspect can read it)."""
    fname = f"<cell {name} {next(_CELLS)}>"  # one file per cell, as IPython names them
    linecache.cache[fname] = (len(src), None, src.splitlines(True), fname)
    ns = {"np": np}
    exec(compile(src, fname, "exec"), ns)  # noqa: S102 - a test's own code
    return ns[name]


LOOPS = {
    "for": ("    out = []\n    for x in X:\n        out.append(float(w[0] + x @ w[1:] > 0))\n"
            "    return np.array(out)\n", "a for loop", 3),
    "comprehension": ("    return np.array([float(w[0] + x @ w[1:] > 0) for x in X])\n", "a list comprehension", 2),
    "while": ("    i, out = 0, np.zeros(len(X))\n    while i < len(X):\n        out[i] = w[0] + X[i] @ w[1:] > 0\n"
              "        i += 1\n    return out\n", "a while loop", 3),
    "vectorize": ("    return np.vectorize(lambda r: float(r > 0))(w[0] + X @ w[1:])\n", "vectorize", 2),
}


@pytest.mark.parametrize("kind", sorted(LOOPS))
def test_no_python_loop_names_the_loop_and_its_line(kind):
    from nnlib.grading import check_perceptron_predict

    body, words, line = LOOPS[kind]
    fn = _define("def predict(w, X):\n" + body, "predict")
    msg = _message(check_perceptron_predict, fn)
    assert words in msg and f"line {line}" in msg


def test_the_grader_reads_the_loop_from_the_submitted_text():
    body, words, line = LOOPS["for"]
    text = "import numpy as np\n\n\ndef predict(w, X):\n" + body
    remote = C.Remote("predict", lambda *a, **k: None, sources=[text])
    found = rules.loops(remote)
    assert found and found[0][0] == words and found[0][1] == line + 3


@SETTINGS
@given(st.lists(st.sampled_from(["np.exp(z)", "z * z", "np.tanh(z)", "(z > 0)", "np.maximum(z, 0)"]), min_size=1,
                max_size=4))
def test_loop_free_source_has_no_loop(terms):
    text = "def f(z):\n    return " + " + ".join(terms) + "\n"
    assert rules.loops(C.Remote("f", lambda *a: None, sources=[text])) == []


@SETTINGS
@given(st.text(max_size=300))
def test_hostile_source_text_never_breaks_the_reader(text):
    remote = C.Remote("f", lambda *a: None, sources=[text, "def f(:\n", "x" * (rules.MAX_SOURCE + 1)])
    assert isinstance(rules.loops(remote), list)
    assert rules.owner([text], "return 1") is None or rules.owner([text], "return 1").isidentifier()


@pytest.mark.parametrize("text", [
    "x = " + "(" * 20_000 + "1" + ")" * 20_000,                      # deeper than the parser allows
    "def f(z):\n" + "".join("    " * (i + 1) + "if z:\n" for i in range(99)) + "    " * 100 + "pass\n",
    "def f(z):\n    return " + "[" * 3000 + "]" * 3000 + "\n",
    "def f(z):\n    return 1\n" * 20_000,                           # over MAX_SOURCE: not even parsed
])
def test_deeply_nested_or_huge_source_is_refused_quietly(text):
    """The grader parses the learner's text (never runs it): nesting or size can only make it give up."""
    remote = C.Remote("f", lambda *a: None, sources=[text])
    assert rules.loops(remote) == []
    assert rules.owner([text], "pass") in (None, "f")


def test_relu_prime_as_floats_and_arrays_not_lists():
    from nnlib.grading import check_derivative, check_gd_step

    assert "dtype bool" in _message(check_derivative, lambda z: z > 0, "relu")
    assert "returns a Python list" in _message(check_gd_step, lambda grad, p, eta: list(p - eta * grad(p)))


def test_a02_margin_warns_in_the_notebook_and_a_boundary_output_fails(capsys):
    from nnlib.grading import check_gate, check_xor_network

    check_gate(np.array([-1.0, 0.5, 0.55]), "AND")  # 11 → z = 0.05: inside the ±0.1 nudges
    assert "⚠" in capsys.readouterr().out
    check_gate(np.array([-1.5, 1.0, 1.0]), "AND")
    assert "⚠" not in capsys.readouterr().out
    # XOR = AND(OR, NAND) with the output unit's bias putting the pattern (1, 0) exactly on its boundary
    msg = _message(check_xor_network, np.array([[1.0, 1.0], [-1.0, -1.0]]), np.array([-0.5, 1.5]),
                   np.array([1.0, 1.0]), -1.0)
    assert "exactly on its decision boundary" in msg


# ---------------------------------------------------------------- blame and messages


def test_an_error_in_a_helper_is_blamed_on_the_helper():
    from nnlib.grading import check_perceptron_train

    src = ("def perceptron_update(w, x, d, eta):\n    xa = np.concatenate([[1.0], x])\n"
           "    return w + eta * (d - float(xa @ w[1:] > 0)) * xa\n\n\n"
           "def train_perceptron(X, d, eta, epochs):\n    w = np.zeros(X.shape[1] + 1)\n"
           "    for _ in range(epochs):\n        for x, t in zip(X, d):\n"
           "            w = perceptron_update(w, x, t, eta)\n    return w\n")
    fname = "<cell train>"
    linecache.cache[fname] = (len(src), None, src.splitlines(True), fname)
    ns = {"np": np}
    exec(compile(src, fname, "exec"), ns)  # noqa: S102
    msg = _message(check_perceptron_train, ns["train_perceptron"])
    assert "inside your `perceptron_update`" in msg


def test_the_grader_blames_the_helper_from_the_submitted_text():
    text = "def gd_step(grad, p, eta):\n    return p - eta * grad(p)[5]\n\n\ndef gradient_descent(g, p, e, n):\n" \
           "    return [gd_step(g, p, e) for _ in range(n)]\n"
    assert rules.owner([text], "return p - eta * grad(p)[5]") == "gd_step"


def test_an_unavailable_package_is_named():
    with pytest.raises(GradingError) as err:
        C._raise_student(C.StudentError("ModuleNotFoundError", "No module named 'scipy'"), "softmax_cross_entropy")
    text = " ".join(str(err.value).split())
    assert "imports `scipy`" in text and "logsumexp" in text


def test_self_study_in_plain_python_shows_the_message_only():
    code = ("import numpy as np\nfrom nnlib.grading import check_derivative\n"
            "check_derivative(lambda z: 1 - np.tanh(z), 'tanh')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "grader")])}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 1
    assert r.stderr.startswith("GradingError: tanh_prime(z) is 1 − tanh z"), r.stderr
    assert "Traceback" not in r.stderr and "nnlib/grading" not in r.stderr
    other = subprocess.run([sys.executable, "-c", "import nnlib.grading\nraise ValueError('x')"], capture_output=True,
                           text=True, env=env, timeout=120)
    assert "Traceback" in other.stderr  # every other error keeps its traceback


# ---------------------------------------------------------------- mutants nobody listed, generated


def _sigmoid_prime(z):
    s = 1 / (1 + np.exp(-z))
    return s * (1 - s)


def _gd_step(grad, p, eta):
    return p - eta * grad(p)


def _delta(z, y):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True) - y


def _momentum(w, v, grad, eta, mu):
    v_new = mu * v - eta * grad
    return w + v_new, v_new


TRANSFORMS = {"×2": lambda a: 2 * a, "×½": lambda a: 0.5 * a, "negated": lambda a: -a,
              "×3": lambda a: 3 * a, "truncated to int": lambda a: np.trunc(a).astype(np.int64),
              "(n,) + (n, 1)": lambda a: a.reshape(-1) + a.reshape(-1)[:, None] if a.ndim == 1 else a.T}


def _checks():
    from nnlib.grading import check_derivative, check_gd_step, check_momentum, check_softmax_delta

    return {
        "σ'": (lambda f: check_derivative(f, "sigmoid"), _sigmoid_prime, None),
        "tanh'": (lambda f: check_derivative(f, "tanh"), lambda z: 1 - np.tanh(z) ** 2, None),
        "gd_step": (check_gd_step, _gd_step, None),
        "δ^L": (check_softmax_delta, _delta, None),
        "momentum v": (check_momentum, _momentum, 1),
    }


@pytest.mark.parametrize("transform", sorted(TRANSFORMS))
@pytest.mark.parametrize("exercise", ["σ'", "tanh'", "gd_step", "δ^L", "momentum v"])
def test_generated_mutants_get_a_named_family_not_a_mismatch(exercise, transform):
    """A mutant made by transforming a correct answer's result (nobody wrote it into a catalogue) is named."""
    import mistakes as M

    check, ref, part = _checks()[exercise]
    t = TRANSFORMS[transform]

    def mutant(*args):
        out = ref(*args)
        if part is None:
            return t(np.asarray(out))
        out = list(out)
        out[part] = t(np.asarray(out[part]))
        return tuple(out)

    msg = _message(check, mutant)
    first = msg.split("(test case")[0]
    assert not any(g in first for g in M.GENERIC), msg


# ---------------------------------------------------------------- advice, executed on the case that produced it


def _advice_cases():
    from nnlib.grading import check_derivative, check_gd_step, check_perceptron_predict

    loop = _define("def predict(w, X):\n    return np.array([float(w[0] + x @ w[1:] > 0) for x in X])\n", "predict")
    return {
        # (check, the wrong answer, the phrase of advice in its message, the answer with the advice followed)
        "loop → one matrix–vector product": (
            check_perceptron_predict, loop, "w[0] + X @ w[1:] > 0",
            _define("def predict(w, X):\n    return w[0] + X @ w[1:] > 0\n", "predict")),
        "bool → .astype(float)": (
            lambda f: check_derivative(f, "relu"), lambda z: z > 0, ".astype(float)",
            lambda z: (z > 0).astype(float)),
        "list → np.array(...)": (
            check_gd_step, lambda grad, p, eta: list(p - eta * grad(p)), "np.array(...)",
            lambda grad, p, eta: np.array(list(p - eta * grad(p)))),
        "integers → dtype=float": (
            check_gd_step, lambda grad, p, eta: (p - eta * grad(p)).astype(int), "dtype=float",
            lambda grad, p, eta: np.asarray(p - eta * grad(p), dtype=float)),
    }


@pytest.mark.parametrize("label", ["loop → one matrix–vector product", "bool → .astype(float)",
                                   "list → np.array(...)", "integers → dtype=float"])
def test_the_advice_in_a_message_fixes_the_case(label):
    check, wrong, advice, followed = _advice_cases()[label]
    assert advice in _message(check, wrong)
    check(followed)


def test_a_softplus_overflow_gets_the_softplus_hint_not_the_sigmoids():
    from nnlib.grading import check_derivative

    msg = _message(check_derivative, lambda z: np.exp(z) / (1 + np.exp(z)), "softplus")
    assert "is the sigmoid σ(z)" in msg and "σ(z)(1 − σ(z))" not in msg
    from nnlib.activations import sigmoid  # what the a04 setup cell gives the learner

    check_derivative(lambda z: sigmoid(z), "softplus")  # the hint, followed


def test_the_grader_blames_the_helper_too():
    """Through the real pipeline (sandboxed as root): an error inside perceptron_update, met in train_perceptron."""
    import mistakes as M

    broken = ("def perceptron_update(w, x, d, eta):\n    xa = np.concatenate([[1.0], x])\n"
              "    return w + eta * (d - float(xa @ w[1:] > 0)) * xa\n")
    res = M.grade("a01_perceptron", M.submission("a01_perceptron", {"perceptron_update": broken}))
    # visible tests only: a hidden test's feedback is a fixed sentence (grader/nnlib_grader/hidden.py)
    train = [m for gid, (p, mx, m) in res.items() if "train" in gid and "hidden" not in gid and p < mx]
    assert train and all("inside your `perceptron_update`" in " ".join(m.split()) for m in train), res
