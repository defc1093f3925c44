"""Container mode (``grade --container``): the worker in a podman container built from an empty root.

The same grades as the native sandbox, and the same boundary: its own uid, no network, a read-only root with
no course and no nnlib source, limits from the container runtime.  Needs podman (``run.sh test`` installs it
with Debian's runc when run as root); under CI=true as root the tests must not be skipped.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import nbformat
import pytest

from nnlib_grader import container, runner

ROOT = Path(__file__).resolve().parents[1]
OK, WHY = container.available()
if not OK and os.environ.get("CI") == "true" and os.geteuid() == 0:
    raise RuntimeError(f"container mode must work in CI (run.sh test installs podman and runc): {WHY}")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not OK, reason=f"container mode unavailable: {WHY}")]

A = "a05_backprop"
PROBE = r'''
import os, socket
seen = {"uid": os.getuid(), "root": sorted(os.listdir("/")),
        "nnlib": sorted(os.listdir(os.path.dirname(os.path.dirname(socket.__file__)))) and None}
try:
    seen["course"] = os.listdir("{course}")
except OSError as exc:
    seen["course"] = type(exc).__name__
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=1)
    seen["net"] = "CONNECTED"
except OSError as exc:
    seen["net"] = type(exc).__name__
try:
    open("/usr/pwned", "w")
    seen["write"] = "WROTE"
except OSError as exc:
    seen["write"] = type(exc).__name__
def backprop(net, x, y):
    raise ValueError(repr(seen))
'''


def _grade(sub, tmp_path):
    src = runner.read_notebook(ROOT / "solutions" / A / f"{A}.ipynb")
    rel = runner.read_notebook(ROOT / "exercises" / A / f"{A}.ipynb")
    d = tmp_path / "scratch"
    d.mkdir(mode=0o700, parents=True)
    return runner.grade_notebook(src, rel, sub if sub is not None else src, A, A, sandbox_on=False,
                                 scratch=str(d), container=True)


def test_reference_full_marks_and_blank_zero(tmp_path):
    res = _grade(None, tmp_path / "ref")
    assert res.score == res.max_score > 0, [(c.grade_id, c.message) for c in res.cells if not c.passed]
    assert any("container mode" in i for i in res.isolation)
    blank = _grade(runner.read_notebook(ROOT / "exercises" / A / f"{A}.ipynb"), tmp_path / "blank")
    assert blank.score == 0


def test_the_container_sees_nothing_and_reaches_nothing(tmp_path):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(0.1)
    sub = runner.read_notebook(ROOT / "exercises" / A / f"{A}.ipynb")
    for c in sub.cells:
        if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "backprop":
            c.source = PROBE.replace("{course}", str(ROOT)).replace("{port}", str(srv.getsockname()[1]))
    res = _grade(nbformat.from_dict(sub), tmp_path)
    try:
        srv.accept()
        connected = True
    except OSError:
        connected = False
    srv.close()
    msg = next(c.message for c in res.cells if c.grade_id == "test_backprop")
    seen = " ".join(msg.split())
    assert not connected and "CONNECTED" not in seen
    assert "'uid': 0," not in seen and "'uid': 6" in seen
    course = seen.split("'course': ")[1].split("]")[0]
    # the course's path exists only as the mount points of the venv and the worker's own files
    assert "solutions" not in course and ".git" not in course and "grading" not in course, course
    assert "WROTE" not in seen


def test_each_denied_call_answers_eperm_inside_a_container_worker(tmp_path):
    """The same system-call policy as the native sandbox: podman's profile and the worker's own filter (two)."""
    from test_isolation import check_probe, run_in_worker

    out = run_in_worker(tmp_path, container=True)
    check_probe(out)
    assert container.available()[1].endswith("with the grader's seccomp profile")


def test_the_user_namespace_escape_gains_nothing_in_container_mode(tmp_path):
    """tests/hostile/iso_userns.py (a child's user namespace, tmpfs mount, ptrace, bpf, keyrings…) graded through
    the real pipeline in container mode: full marks only because every call failed."""
    from test_instructor import hostile_fixtures, make_source_notebook, student_notebook

    fx = hostile_fixtures()["iso_userns"]
    src = make_source_notebook()
    d = tmp_path / "scratch"
    d.mkdir(mode=0o700)
    res = runner.grade_notebook(src, src, student_notebook({"add": fx["add"]}), "a01_tiny", "tiny",
                                sandbox_on=False, scratch=str(d), container=True)
    assert res.score == fx["score"] == 4, [(c.grade_id, c.message) for c in res.cells]
    assert "gained: nothing" in res.answer_outputs["add"], res.answer_outputs


USERNS = r'''
import ctypes, os
nr = {"x86_64": 272, "aarch64": 97}[os.uname().machine]
libc = ctypes.CDLL(None, use_errno=True)
print("unshare", libc.syscall(ctypes.c_long(nr), ctypes.c_long(0x10000000)), ctypes.get_errno())
'''


def test_the_profile_itself_refuses_what_podmans_default_allows():
    """podman's profile alone (no worker, so no in-worker filter): CLONE_NEWUSER refused with EPERM, where
    podman's default profile lets a capability-less container create a user namespace (issue 24)."""
    ours = container.probe(USERNS)
    default = container.probe(USERNS, profile=False)
    assert ours.stdout.split() == ["unshare", "-1", "1"], ours
    assert default.stdout.split()[:2] == ["unshare", "0"], default
