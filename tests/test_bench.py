"""The benchmark's contenders compute what they claim to (bench/ is timing code, but its baselines must be fair).

* ``bench/nielsen_loop.py``, the per-example teaching baseline, takes exactly the SGD steps that nnlib's
  vectorised ``Network.SGD`` takes (same shuffle, same minibatches), so the speed ratio compares equal work;
* ``bench/floors.py`` runs for both weight layouts and a ragged last minibatch.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

from nnlib.network import Network

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import floors  # noqa: E402
import nielsen_loop  # noqa: E402


def test_loop_baseline_takes_the_same_steps_as_nnlib():
    rng = np.random.default_rng(0)
    X = rng.random((60, 12))
    Y = np.eye(4)[rng.integers(0, 4, 60)]
    loop = nielsen_loop.Network([12, 7, 4], seed=1)
    net = Network([12, 7, 4], seed=2)
    net.weights = [w.copy() for w in loop.weights]
    net.biases = [b.copy() for b in loop.biases]
    loop.SGD_epoch(X, Y, 10, 3.0, seed=5)
    net.SGD((X, Y), epochs=1, mini_batch_size=10, eta=3.0, seed=5, verbose=False)
    for a, b in zip(loop.weights + loop.biases, net.weights + net.biases):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    # and a different shuffle gives different weights: the comparison above is not vacuous
    other = nielsen_loop.Network([12, 7, 4], seed=1)
    other.SGD_epoch(X, Y, 10, 3.0, seed=6)
    assert np.abs(other.weights[0] - loop.weights[0]).max() > 1e-6


@pytest.mark.parametrize("column_major", [False, True])
def test_floor_runs_every_minibatch(column_major, monkeypatch):
    X = np.random.default_rng(0).random((250, 16), dtype=np.float32)  # 250 = 3 chunks of 96 rows, ragged
    seen = []
    real_dot = np.dot

    def counting_dot(a, b, out=None):
        seen.append(a.shape[0])
        return real_dot(a, b, out=out)

    monkeypatch.setattr(floors.np, "dot", counting_dot)
    floors.floor_dense(X, 5, 32, chunk_rows=96, column_major_w=column_major)
    assert sum(seen) == 250 and max(seen) == 32  # every row once, in minibatches of at most 32
