"""The worker template (grader/nnlib_grader/zygote.py): a job forked from it is as confined as a started worker.

Every test spawns real sandboxed workers through ``sandbox.spawn`` (whose default is the template) as root and
looks at them from inside (what the learner's code sees) and from the host (/proc of the grader).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not (sys.platform.startswith("linux") and os.geteuid() == 0),
    reason="the native sandbox and its template need root on Linux (CI runs as root)")]

PROBE = r"""
import json, os, sys
status = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines())
files = sorted({f for m in list(sys.modules.values()) if isinstance(f := vars(m).get("__file__"), str)})
tmp_before = sorted(os.listdir("/tmp"))
open("/tmp/mark", "w").write("x")
import numpy as np, random
print("PROBE" + json.dumps({"uid": os.getuid(), "gid": os.getgid(), "pid": os.getpid(),
       "seccomp": status["Seccomp"].strip(),
       "nnlib_modules": sorted(m for m in sys.modules if "nnlib" in m), "files": files, "tmp": tmp_before,
       "cgroup": open("/proc/self/cgroup").read(), "rand": [float(np.random.rand()), random.random()],
       "net": os.listdir("/sys/class/net") if os.path.isdir("/sys/class/net") else None}))
"""


def _spawn(tmp_path: Path, job: int):
    from nnlib.grading import policy
    from nnlib_grader import sandbox

    scratch = tmp_path / f"scratch{job}"
    scratch.mkdir(mode=0o700)
    return sandbox.spawn(policy.for_assignment("a05_backprop"), sandbox=True, scratch=str(scratch), job=job)


def _probe(w) -> dict:
    reply = w.request({"op": "run", "cells": [{"key": "probe", "source": PROBE}], "cell_timeout": 30}, 90)
    (cell,) = reply["cells"]
    assert cell["error"] is None, cell
    return json.loads(cell["output"].split("PROBE", 1)[1])


def _ns(pid: int) -> dict[str, str]:
    return {n: os.readlink(f"/proc/{pid}/ns/{n}") for n in ("mnt", "pid", "net", "ipc", "uts")}


def _job_pids(leader: int) -> list[int]:
    """The processes below the forked job (the host's view): its PID-namespace init and what that started."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ppid = int(Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == leader:
                out.append(int(d))
    return out


def test_a_job_forked_from_the_template_is_confined_like_a_started_worker(tmp_path):
    from nnlib_grader import isolation, zygote

    nnlib_dir, grader_dir = isolation.nnlib_dir(), isolation.GRADER_DIR
    workers = [_spawn(tmp_path, job) for job in (7, 8)]
    try:
        assert all(isinstance(w.proc, zygote.Forked) for w in workers), "the fast path was not taken"
        probes = [_probe(w) for w in workers]
        host = _ns(os.getpid())
        inner = [_ns(p) for w in workers for p in _job_pids(w.proc.pid)]
    finally:
        for w in workers:
            w.kill()
    assert len(inner) == 2, inner
    for job, p in zip((7, 8), probes):
        assert p["uid"] == p["gid"] == isolation.UID_BASE + job
        assert p["pid"] == 1  # PID 1 of its own PID namespace
        assert p["seccomp"] == "2"  # SECCOMP_MODE_FILTER
        assert p["nnlib_modules"] == ["nnlib", "nnlib.activations", "nnlib.grading"], p["nnlib_modules"]  # the shim
        loaded = [f for f in p["files"] if f.startswith((nnlib_dir, grader_dir))]
        assert loaded == [isolation.WORKER], loaded  # __main__, as in a started worker; nothing of nnlib
        # private and empty: only the mount point of the read-only Python environment when it lives under /tmp
        # (a clone in /tmp/cc binds /tmp/cc/.venv at its own path), never the host's files
        env_under_tmp = [Path(sys.prefix).parts[2]] if Path(sys.prefix).parts[1:2] == ("tmp",) else []
        assert p["tmp"] == env_under_tmp, "a private, empty /tmp per job"
        assert f"nnlib-grading/{os.getpid()}-{job}" in p["cgroup"], p["cgroup"]  # its own cgroup
        assert p["net"] in (None, ["lo"]), p["net"]
    for ns in inner:  # every namespace differs from the grader's and from the other job's
        assert all(ns[k] != host[k] for k in host), (ns, host)
    assert all(inner[0][k] != inner[1][k] for k in host), inner
    assert probes[0]["rand"] != probes[1]["rand"], "each job draws fresh random numbers, not the template's"


def test_the_template_holds_no_reference_and_a_dead_template_is_replaced(tmp_path):
    from nnlib.grading import policy
    from nnlib_grader import isolation, zygote

    z = zygote.get(policy.for_assignment("a05_backprop"))
    maps = Path(f"/proc/{z.proc.pid}/maps").read_text()
    assert isolation.nnlib_dir() + "/" not in maps  # nothing of nnlib mapped (its grading files are read, not imported)
    cmd = Path(f"/proc/{z.proc.pid}/cmdline").read_bytes().split(b"\0")
    assert cmd[1:4] == [b"-I", b"-S", isolation.WORKER.encode()] and cmd[4] == b"zygote"
    z.proc.kill()
    z.proc.wait()
    w = _spawn(tmp_path, 9)  # the next job starts a new template
    try:
        assert _probe(w)["uid"] == isolation.UID_BASE + 9
        assert zygote.get(policy.for_assignment("a05_backprop")).proc.pid != z.proc.pid
    finally:
        w.kill()
    zygote.close_all()


def test_killing_a_forked_job_ends_its_whole_sandbox_and_not_the_template(tmp_path):
    from nnlib.grading import policy
    from nnlib_grader import zygote

    w = _spawn(tmp_path, 11)
    src = "import subprocess\nchild = subprocess.Popen(['sleep', '60'])\nprint('started')"
    assert "started" in w.request({"op": "run", "cells": [{"key": "c", "source": src}]}, 60)["cells"][0]["output"]
    inside = _job_pids(w.proc.pid)
    inside += [p for q in list(inside) for p in _job_pids(q)]
    assert len(inside) >= 2, inside
    w.kill()

    def running() -> set[int]:
        out = set()
        for p in inside:
            try:
                if Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[0] not in "ZX":
                    out.add(p)
            except OSError:
                continue
        return out

    t0 = time.monotonic()
    while running() and time.monotonic() - t0 < 10:  # a PID namespace's init takes its members down with it
        time.sleep(0.05)
    assert not running(), f"processes of the killed job still run: {running()}"
    assert zygote.get(policy.for_assignment("a05_backprop")).alive()
    zygote.close_all()
