"""Shared fixtures: every test starts on the NumPy backend with a fixed seed, and leaves the process as it found it."""

import os
import signal

import numpy as np
import pytest

import nnlib

os.environ.setdefault("MPLBACKEND", "Agg")


_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1, signal.SIGUSR2, signal.SIGCHLD, signal.SIGALRM,
            signal.SIGHUP)


# set by pytest itself, or by a library the first time it is imported (JAX, torch): not a test's doing
_NOT_LEAKS = {"PYTEST_CURRENT_TEST", "TF_CPP_MIN_LOG_LEVEL", "TPU_SKIP_MDS_QUERY", "TORCHINDUCTOR_CACHE_DIR"}


def _process_state() -> dict:
    return {"environment": {k: v for k, v in os.environ.items() if k not in _NOT_LEAKS},
            "working directory": os.getcwd(), "numpy error handling": np.geterr(),
            "signal handlers": {s.name: signal.getsignal(s) for s in _SIGNALS},
            "timer": signal.getitimer(signal.ITIMER_REAL)[0] > 0}


def _restore(state: dict) -> None:
    for key in set(os.environ) - set(state["environment"]) - _NOT_LEAKS:
        del os.environ[key]
    os.environ.update(state["environment"])
    os.chdir(state["working directory"])
    np.seterr(**state["numpy error handling"])
    for s in _SIGNALS:
        handler = state["signal handlers"][s.name]
        if handler is not None:
            signal.signal(s, handler)
    signal.setitimer(signal.ITIMER_REAL, 0)


def _differences(before: dict, after: dict) -> list[str]:
    out = []
    env_a, env_b = before["environment"], after["environment"]
    for key in sorted(set(env_a) | set(env_b)):
        if env_a.get(key) != env_b.get(key):
            out.append(f"environment variable {key}: {env_a.get(key)!r} -> {env_b.get(key)!r}")
    for what in ("working directory", "numpy error handling", "timer"):
        if before[what] != after[what]:
            out.append(f"{what}: {before[what]!r} -> {after[what]!r}")
    for name, handler in before["signal handlers"].items():
        if after["signal handlers"][name] != handler:
            out.append(f"{name} handler: {handler!r} -> {after['signal handlers'][name]!r}")
    return out


@pytest.fixture(autouse=True)
def _no_leaked_process_state():
    """A test that changes the process for the tests after it (its environment, working directory, NumPy's error
    handling, a signal handler, a pending alarm) fails here, by name, and the state is put back: otherwise the
    change shows up as a failure of whichever test the scheduler happens to run next in the same worker."""
    before = _process_state()
    yield
    leaked = _differences(before, _process_state())
    if leaked:
        _restore(before)
        pytest.fail("the test left the process changed (use monkeypatch or restore it): " + "; ".join(leaked),
                    pytrace=False)


@pytest.fixture(autouse=True)
def _numpy_backend():
    nnlib.use("numpy")
    nnlib.seed(0)
    yield
    nnlib.use("numpy")


@pytest.fixture(params=["numpy", "strict"])
def backend(request):
    """Run a test on NumPy and on the strict (CuPy-like) backend."""
    xp = nnlib.use(request.param)
    nnlib.seed(0)
    return xp


@pytest.fixture
def strict():
    """Run a test on the strict (CuPy-like) backend only; ``_numpy_backend`` switches back afterwards."""
    xp = nnlib.use("strict")
    nnlib.seed(0)
    return xp


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def torch():
    """PyTorch (one thread) for the cross-checks; the test is skipped where torch is not installed (an optional
    dependency: the frameworks extra)."""
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    return torch
