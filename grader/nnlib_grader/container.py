"""Container mode: the grading worker in a podman container, for hosts where the grader cannot build the
namespace sandbox itself (no root, or ``unshare`` refused).

The container is built from an empty root directory, not an image (no registry needed): read-only binds of the
system libraries, the Python installation and the virtualenv, and of the worker's own six files — never the rest
of nnlib, never the course.  podman adds what the native sandbox does by hand::

    --network none --read-only --cap-drop ALL --security-opt no-new-privileges --user 61000+job
    --memory M --memory-swap M --pids-limit N --tmpfs /tmp (small) --ulimit nofile=64

The worker talks to the grader over its stdin/stdout (podman forwards them), not a socket.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import uuid

from nnlib_grader import sandbox

NAME_PREFIX = "nnlib-grade-"
_HERE = os.path.dirname(os.path.abspath(__file__))
_GRADING = sandbox.grading_dir()
WORKER_FILES = [os.path.join(_HERE, f) for f in ("worker.py", "protocol.py", "sandbox.py")] + \
    [os.path.join(_GRADING, f) for f in ("provided.py", "provided_sgd.py", "fixtures.py")]


def runtime_args() -> list[str]:
    """podman's global options: Debian's runc where it is installed (crun refuses hybrid cgroup hosts)."""
    return ["--runtime", "/usr/sbin/runc"] if os.path.exists("/usr/sbin/runc") else []


def available() -> tuple[bool, str]:
    """Is podman here and able to run a container from a directory?"""
    exe = shutil.which("podman")
    if exe is None:
        return False, "podman not found (Debian: apt-get install podman runc)"
    root = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"nnlib-podman-probe-{uuid.uuid4().hex[:8]}")
    try:
        _make_root(root)
        cmd = [exe, *runtime_args(), "run", "--rm", "--network", "none", "--read-only", "--cap-drop", "ALL",
               "--ulimit", "nofile=64:64", "--ulimit", "nproc=64:64",
               *[a for p in sandbox.default_binds() for a in ("-v", f"{p}:{p}:ro")], "--rootfs", root,
               sys.executable, "-I", "-S", "-c", "print('ok')"]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if p.returncode == 0 and p.stdout.strip() == "ok":
            return True, "podman runs a container from a directory"
        return False, f"podman could not run a container: {(p.stderr or p.stdout).strip()[-300:]}"
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"podman could not run a container: {exc}"
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _make_root(root: str) -> None:
    os.makedirs(root, exist_ok=True)
    for link in sandbox.default_links():
        with contextlib.suppress(FileExistsError):
            os.symlink(os.readlink(link), root + link)
    for d in ("tmp", "dev", "proc", "etc", "sys"):
        os.makedirs(os.path.join(root, d), exist_ok=True)


def command(cfg: dict, *, root: str, name: str, uid: int, memory_mb: int, max_pids: int, tmp_mb: int) -> list[str]:
    """The podman command line that runs the worker (its protocol on stdin/stdout)."""
    binds = [a for p in sandbox.default_binds() for a in ("-v", f"{p}:{p}:ro")]
    files = [a for f in WORKER_FILES for a in ("-v", f"{f}:{f}:ro")]
    return ["podman", *runtime_args(), "run", "--rm", "-i", "--name", name, "--network", "none", "--read-only",
            "--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--user", f"{uid}:{uid}",
            "--memory", f"{memory_mb}m", "--memory-swap", f"{memory_mb}m", "--pids-limit", str(max_pids),
            "--ulimit", "nofile=64:64", "--ulimit", f"nproc={max_pids}:{max_pids}",
            "--tmpfs", f"/tmp:rw,size={tmp_mb}m,mode=1777", "--workdir", "/tmp",
            "-e", "HOME=/tmp", "-e", "TMPDIR=/tmp", "-e", "MPLBACKEND=Agg", "-e", "MPLCONFIGDIR=/tmp/.mpl",
            "-e", "OMP_NUM_THREADS=1", "-e", "OPENBLAS_NUM_THREADS=1", *binds, *files, "--rootfs", root,
            sys.executable, "-I", "-S", sandbox.WORKER, "stdio"]


def kill(name: str) -> None:
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        subprocess.run(["podman", *runtime_args(), "kill", name], capture_output=True, timeout=30)
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        subprocess.run(["podman", *runtime_args(), "rm", "-f", name], capture_output=True, timeout=30)


def remove_stale() -> list[str]:
    """Containers of graders that no longer run (a SIGKILLed grader leaves its workers' containers)."""
    if shutil.which("podman") is None:
        return []
    try:
        p = subprocess.run(["podman", *runtime_args(), "ps", "-a", "--format", "{{.Names}}"], capture_output=True,
                           text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return []
    gone = []
    for name in p.stdout.split():
        if not name.startswith(NAME_PREFIX):
            continue
        owner = name[len(NAME_PREFIX):].split("-")[0]
        if owner.isdigit() and not os.path.exists(f"/proc/{owner}"):
            kill(name)
            gone.append(name)
    return gone
