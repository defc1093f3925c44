"""What the notebook's delegation guard costs: the reference a08 capstone without a guard, under the former
profile guard and under the swap guard of issue 17, in one run.

    python bench/guard.py          # CPU seconds per call of train (min of 7, interleaved) and the ratios

``train`` is the builder's reference answer (bench/capstone_bench.py: the learner's backprop from a05 and a
minibatch SGD loop, [64, 32, 10], 30 epochs, batch 10, η = 3) on the public split's 1,497 digits, with
nnlib's sigmoid, sigmoid' and softmax provided as in the notebook.  It is called three ways:

* **none**: ``train(X, labels)``;
* **profile**: under the guard nnlib used before issue 17, copied here: ``sys.setprofile`` with a Python
  callback on every Python-level call, which records calls from the learner's code into nnlib or a library;
* **swap**: under ``nnlib.grading._guard.Guard``, what ``invoke`` uses now: nnlib's functions (but the
  allowed ones) get refusing stand-ins, the libraries' imports refuse, for the length of the call.

Both guards must find nothing to refuse in the reference (checked).  CPU seconds of this process
(``time.process_time``), one BLAS thread, the minimum of the repetitions: on the shared 2-core machine wall time
follows the other jobs' load (the check's 60 s budget is wall time; on a quiet machine the two agree).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from capstone_bench import reference_train  # noqa: E402

from nnlib.grading import _core, fixtures, provided  # noqa: E402
from nnlib.grading import a08_capstone as A8  # noqa: E402
from nnlib.grading._guard import AUTODIFF, LEARNING, NNLIB_DIR, Guard, codes  # noqa: E402


class ProfileGuard:
    """The former guard (nnlib/grading/_core.py before issue 17), verbatim but for the names."""

    def __init__(self, allowed, entry_code):
        self.allowed = set()
        for obj in allowed:
            self.allowed |= codes(obj)
        self.entry = entry_code
        self.hits = []

    def __call__(self, frame, event, arg):
        if event != "call":
            return
        code = frame.f_code
        fn = code.co_filename
        if fn.startswith(NNLIB_DIR):
            if code in self.allowed or fn.endswith((f"grading{os.sep}provided.py", f"grading{os.sep}fixtures.py")):
                return
            caller = frame.f_back
            if caller is not None and caller.f_code is not self.entry and caller.f_code.co_filename.startswith(
                    NNLIB_DIR):
                return
            mod = os.path.relpath(fn, os.path.dirname(NNLIB_DIR)).replace(os.sep, ".")[:-3]
            self.hits.append(f"{mod}.{code.co_qualname}")
        elif any(f"{os.sep}{pkg}{os.sep}" in fn for pkg in AUTODIFF + LEARNING) and "site-packages" in fn:
            self.hits.append(next(p for p in AUTODIFF + LEARNING if f"{os.sep}{p}{os.sep}" in fn))


def none(train, X, y):
    return train(X, y), []


def profile(train, X, y):
    guard = ProfileGuard([*A8.ALLOWED, *provided.ALL, *fixtures.ALL], profile.__code__)
    sys.setprofile(guard)
    try:
        return train(X, y), guard.hits
    finally:
        sys.setprofile(None)


def swap(train, X, y):
    def refuse(what):
        raise AssertionError(f"the swap guard refused {what}")

    guard = Guard([*A8.ALLOWED, *provided.ALL, *fixtures.ALL], refuse)
    return guard.call(train, (X, y), {}), guard.hits


def main(reps: int = 5) -> None:
    train = reference_train()
    (X, y), (Xte, yte) = A8.problem(0, False)
    best = {"none": float("inf"), "profile": float("inf"), "swap": float("inf")}
    for _ in range(reps):
        for name, run in (("none", none), ("profile", profile), ("swap", swap)):
            t0 = time.process_time()
            got, hits = run(train, X.copy(), y.copy())
            best[name] = min(best[name], time.process_time() - t0)
            assert not hits, f"{name}: the reference was refused: {hits}"
            assert A8.accuracy(*A8._network(got, "train"), Xte, yte) >= 0.9, name
    print(f"the reference a08 train on {X.shape[0]:,} digits, CPU seconds per call (min of {reps}, interleaved)")
    print(f"   none {best['none']:.3f}   profile guard {best['profile']:.3f}   swap guard {best['swap']:.3f}")
    print(f"   profile/none {best['profile'] / best['none']:.2f}   swap/none {best['swap'] / best['none']:.2f}   "
          f"profile/swap {best['profile'] / best['swap']:.2f}")
    assert _core.invoke.__code__.co_filename.endswith("_core.py")  # every stand-in was put back


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
