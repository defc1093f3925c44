"""Network._as_rows on Nielsen's list of (x, y) pairs: before and after issue 12, in the same run.

    python bench/as_rows.py          # CPU seconds per call (min of 5, interleaved) and the ratios old / new

The data are Nielsen's ``mnist_loader`` layout: 50,000 training pairs (x float32 (784, 1), y float64 (10, 1))
and 10,000 test pairs (x, integer label).  "old" is the former per-pair conversion, copied here (one
reshape and to_host per x and per y, then a concatenation of 100,000 small arrays).  Random pixels: the
conversion does not look at the values.  "new": ``Network._as_rows`` (``nnlib._network_data.as_rows``, C-level
stacking: about 1 µs of NumPy per array is the floor of any per-array conversion, plus the copy).  Every call
converts afresh: the cache that once reused a list's conversion (identity and 32 sampled rows, blind to an
in-place edit of any other row) is gone (issue 17), so a repeated call costs what a first one does.

"floor" is what *any* first conversion must spend, measured in the same run: one contiguous copy of the same
pixels into the network's dtype (``base.astype``, as if the 50,000 x arrays already were one matrix, which a
list of arrays is not), the same for the targets, and the NaN/inf scan the README promises.  ``old/floor``
is the largest speed-up any conversion can have on this machine.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from nnlib import backend as B  # noqa: E402
from nnlib.network import Network  # noqa: E402


def _old_onehot_row(y: np.ndarray, n_out: int) -> np.ndarray:
    """The pre-issue-12 ``Network._onehot_row``: an integer label as a one-hot row, else y as a row."""
    if y.size == 1 and n_out != 1:
        row = np.zeros((1, n_out))
        row[0, int(y.reshape(-1)[0])] = 1.0
        return row
    return y.reshape(1, -1)


def old_as_rows(net: Network, data: list) -> tuple[np.ndarray, np.ndarray]:
    """The pre-issue-12 ``_as_rows`` for a list: per-pair reshape + concatenate, then its checks and casts."""
    X = np.concatenate([B.to_host(x).reshape(1, -1) for x, _ in data])
    Y = np.concatenate([_old_onehot_row(B.to_host(y), net.sizes[-1]) for _, y in data])
    if not bool(np.isfinite(X).all()):  # the former check_finite: an elementwise pass
        raise FloatingPointError("NaN")
    return X.astype(net.dtype, copy=False), Y.astype(net.dtype, copy=False)


def new(net: Network, data: list) -> tuple[np.ndarray, np.ndarray]:
    """``Network._as_rows``: the C-level stacking of ``_network_data.stack_pairs``, every check included."""
    return net._as_rows(data, "bench")


def floor(net: Network, base_x: np.ndarray, base_y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The unavoidable part of a first conversion: read every value once, write it once, scan it for NaN/inf."""
    X, Y = base_x.astype(net.dtype), base_y.astype(net.dtype)
    if not bool(np.isfinite(X).all()):
        raise FloatingPointError("NaN")
    return X, Y


def main(reps: int = 5) -> None:
    rng = np.random.default_rng(0)
    eye = np.eye(10)
    train = [(rng.random((784, 1), dtype=np.float32), eye[k].reshape(10, 1)) for k in rng.integers(0, 10, 50000)]
    test = [(rng.random((784, 1), dtype=np.float32), int(k)) for k in rng.integers(0, 10, 10000)]
    print(f"Network._as_rows on Nielsen's lists, seconds per call (min of {reps}; old, new, floor interleaved)")
    print(f"   {'dtype':>7} {'data':>22} {'old':>7} {'new':>7} {'floor':>7} {'old/new':>9} {'old/floor':>9}")
    for dtype in (np.float64, np.float32):
        net = Network([784, 30, 10], dtype=dtype, seed=0)
        for name, data in (("50,000 training pairs", train), ("10,000 test pairs", test)):
            best = {"old": float("inf"), "new": float("inf"), "floor": float("inf")}
            base_x = np.concatenate([x for x, _ in data], axis=None).reshape(len(data), -1)
            base_y = (eye[[y for _, y in data]] if np.ndim(data[0][1]) == 0  # labels: their one-hot rows
                      else np.concatenate([y for _, y in data], axis=None).reshape(len(data), -1))
            contenders = (("old", old_as_rows), ("new", new),
                          ("floor", lambda net, data, bx=base_x, by=base_y: floor(net, bx, by)))
            for _ in range(reps):
                for label, f in contenders:
                    t0 = time.process_time()
                    X, Y = f(net, data)
                    best[label] = min(best[label], time.process_time() - t0)
                    del X, Y
            a, b = old_as_rows(net, data), new(net, data)
            assert all(np.array_equal(u, v) and u.dtype == v.dtype for u, v in zip(a, b)), "old and new differ"
            print(f"   {np.dtype(dtype).name:>7} {name:>22} {best['old']:>7.3f} {best['new']:>7.3f} "
                  f"{best['floor']:>7.3f} {best['old'] / best['new']:>9.1f} {best['old'] / best['floor']:>9.1f}")


if __name__ == "__main__":
    main()
