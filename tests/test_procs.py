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
