"""grader/nnlib_grader/procs.py: a dead grader's leftovers are recognised as such — gone, a zombie, or a pid that
now names a newer process — and a live grader's never are."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from nnlib_grader import procs


def test_this_process_runs_and_a_free_pid_does_not():
    assert procs.running(os.getpid())
    assert procs.running(os.getpid(), made_at=time.time())  # made after it started: it made it
    free = max(int(p) for p in os.listdir("/proc") if p.isdigit()) + 10_000
    assert not procs.running(free)


def test_a_zombie_is_not_running():
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # exited, not yet reaped by us: a zombie
        with open(f"/proc/{p.pid}/stat") as fh:
            if fh.read().rsplit(")", 1)[1].split()[0] == "Z":
                break
        time.sleep(0.01)
    assert os.path.exists(f"/proc/{p.pid}")
    assert not procs.running(p.pid)
    p.wait()


def test_a_pid_that_started_after_the_leftover_was_made_is_another_process():
    made = time.time()
    time.sleep(1.5)
    p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        time.sleep(0.2)
        assert procs.running(p.pid)
        assert not procs.running(p.pid, made_at=made)  # started 1.5 s after the leftover: not its maker
        assert procs.running(p.pid, made_at=time.time())
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}


def _child(code: str, timeout: float) -> str:
    try:
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(),
                              timeout=timeout).stdout
    except subprocess.TimeoutExpired as e:
        return f"hung: {e.stdout!r}"


def test_the_job_process_interrupt_handler_may_be_re_entered_anywhere():
    """The grader passes ^C on to its job processes as SIGUSR1, every half second until they are done; a signal
    landing while the handler runs runs it again, nested, in the same thread.  With ``threading.Event.set`` in the
    handler the nested call waited for ever on the lock the outer one held (a CI hang).  Here, deterministically,
    a profiler re-enters the real handler at every call the handler makes; the process must finish with the
    flag set.  (``threading.Event`` in place of ``workers.Flag`` hangs here.)"""
    code = (
        "import signal, sys\n"
        "from nnlib_grader import executor, workers\n"
        "nested = 0\n"
        "def hook(frame, event, arg):\n"
        "    global nested\n"
        "    if event in ('call', 'c_call') and running:\n"
        "        executor._on_interrupt(signal.SIGUSR1, None)\n"
        "        nested += 1\n"
        "running = True\n"
        "sys.setprofile(hook)\n"
        "executor._on_interrupt(signal.SIGUSR1, None)\n"
        "sys.setprofile(None)\n"
        "print('done', workers.STOP.is_set(), nested > 3, flush=True)\n")
    assert _child(code, 30).strip() == "done True True"


def test_the_job_process_interrupt_handler_survives_a_burst_of_signals():
    """Real signals, a thousand times faster than the grader sends them, while the main thread reads the flag."""
    code = (
        "import os, signal, sys, time\n"
        "from nnlib_grader import executor, workers\n"
        "signal.signal(signal.SIGUSR1, executor._on_interrupt)\n"
        "print('ready', flush=True)\n"
        "end = time.monotonic() + 3\n"
        "while time.monotonic() < end:\n"
        "    workers.STOP.is_set()\n"
        "print('done', workers.STOP.is_set(), flush=True)\n")
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=_env())
    try:
        assert p.stdout.readline().strip() == "ready"
        sent = 0
        while p.poll() is None and sent < 2_000:
            try:
                os.kill(p.pid, signal.SIGUSR1)
            except ProcessLookupError:
                break
            sent += 1
            time.sleep(0.0005)
        out, _ = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert out.strip() == "done True", (out, sent)
    assert sent > 100
