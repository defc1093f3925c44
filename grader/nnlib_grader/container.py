"""The podman launcher (container mode): the grading worker in a podman container, for hosts where the grader cannot
build the namespace sandbox itself (no root, or ``unshare`` refused).  Same policy as the native launcher
(``isolation.py``), including the system-call filter: podman applies it as a seccomp profile generated from the same
lists (``seccomp.podman_profile``), and the worker installs the same BPF program on itself as in native mode.

The container is built from an empty root directory, not an image (no registry needed): read-only binds of the
system libraries, the Python installation and the virtualenv, and of the worker's own files — never the rest
of nnlib, never the course.  podman adds what the native sandbox does by hand::

    --network none --read-only --cap-drop ALL --security-opt no-new-privileges --user 61000+job
    --memory M --memory-swap M --pids-limit N --tmpfs /tmp (small) --ulimit nofile=64
    --security-opt seccomp=<profile from isolation.DENIED>

The worker talks to the grader over its stdin/stdout (podman forwards them), not a socket.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import uuid

from nnlib_grader import isolation, procs, seccomp
from nnlib_grader import protocol as P
from nnlib_grader.workers import Worker

NAME_PREFIX = "nnlib-grade-"
IN_WORKER = ("worker.py", "protocol.py", "confine.py")  # the grader's files the worker loads by path
PROVIDED = ("provided.py", "provided_sgd.py", "fixtures.py")  # nnlib's grading files it loads


def worker_files() -> list[str]:
    grading = isolation.grading_dir()
    return [os.path.join(isolation.GRADER_DIR, f) for f in IN_WORKER] + [os.path.join(grading, f) for f in PROVIDED]


def runtime_args() -> list[str]:
    """podman's global options: Debian's runc where it is installed (crun refuses hybrid cgroup hosts)."""
    return ["--runtime", "/usr/sbin/runc"] if os.path.exists("/usr/sbin/runc") else []


def probe(code: str, *, profile: bool = True) -> subprocess.CompletedProcess:
    """Run ``python -I -S -c code`` in a throw-away container from an empty root, with the grader's seccomp
    profile (``profile=False``: podman's default profile, for comparison)."""
    root = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"nnlib-podman-probe-{uuid.uuid4().hex[:8]}")
    try:
        make_root(root)
        opt = []
        if profile:
            with open(os.path.join(root, "seccomp.json"), "w") as fh:
                json.dump(seccomp.podman_profile(), fh)
            opt = ["--security-opt", f"seccomp={root}/seccomp.json"]
        cmd = ["podman", *runtime_args(), "run", "--rm", "--network", "none", "--read-only", "--cap-drop", "ALL",
               *opt, "--ulimit", "nofile=64:64", "--ulimit", "nproc=64:64",
               *[a for p in isolation.default_binds() for a in ("-v", f"{p}:{p}:ro")], "--rootfs", root,
               sys.executable, "-I", "-S", "-c", code]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def available() -> tuple[bool, str]:
    """Is podman here and able to run a container from a directory, with the grader's seccomp profile?"""
    if shutil.which("podman") is None:
        return False, "podman not found (Debian: apt-get install podman runc)"
    try:
        p = probe("print('ok')")
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"podman could not run a container: {exc}"
    if p.returncode == 0 and p.stdout.strip() == "ok":
        return True, "podman runs a container from a directory, with the grader's seccomp profile"
    return False, f"podman could not run a container: {(p.stderr or p.stdout).strip()[-300:]}"


def make_root(root: str) -> None:
    os.makedirs(root, exist_ok=True)
    for link in isolation.default_links():
        with contextlib.suppress(FileExistsError):
            os.symlink(os.readlink(link), root + link)
    for d in ("tmp", "dev", "proc", "etc", "sys"):
        os.makedirs(os.path.join(root, d), exist_ok=True)


def command(*, root: str, name: str, uid: int, memory_mb: int, max_pids: int, tmp_mb: int,
            profile: str) -> list[str]:
    """The podman command line that runs the worker (its protocol on stdin/stdout); ``profile``: the seccomp JSON."""
    binds = [a for p in isolation.default_binds() for a in ("-v", f"{p}:{p}:ro")]
    files = [a for f in worker_files() for a in ("-v", f"{f}:{f}:ro")]
    hide = [a for d in isolation.library_dirs() for a in ("--tmpfs", f"{d}:ro,size=4k,notmpcopyup")]
    return ["podman", *runtime_args(), "run", "--rm", "-i", "--name", name, "--network", "none", "--read-only",
            "--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--security-opt", f"seccomp={profile}",
            "--user", f"{uid}:{uid}",
            "--memory", f"{memory_mb}m", "--memory-swap", f"{memory_mb}m", "--pids-limit", str(max_pids),
            "--ulimit", "nofile={0}:{0}".format(isolation.LIMITS["nofile"]), "--ulimit", f"nproc={max_pids}:{max_pids}",
            "--tmpfs", f"/tmp:rw,size={tmp_mb}m,mode=1777", "--workdir", "/tmp",
            *[a for k, v in isolation.ENV.items() for a in ("-e", f"{k}={v}")], *binds, *files, *hide, "--rootfs", root,
            sys.executable, "-I", "-S", isolation.WORKER, "stdio"]


def spawn(cfg: dict, report: list[str], *, scratch: str, job: int, memory_mb: int, tmp_mb: int, max_pids: int,
          timeout: float, **_limits) -> Worker:
    """The worker in a podman container from an empty root: the protocol on its stdin/stdout."""
    root = os.path.join(scratch, f"croot-{job}")
    make_root(root)
    os.chmod(scratch, 0o711)  # podman (as root) reaches the root dir through it; nothing else lives there
    profile = os.path.join(scratch, f"seccomp-{job}.json")
    with open(profile, "w") as fh:
        json.dump(seccomp.podman_profile(), fh)
    os.chmod(profile, 0o644)
    name = f"{NAME_PREFIX}{os.getpid()}-{job}-{os.urandom(3).hex()}"
    cmd = command(root=root, name=name, uid=isolation.UID_BASE + job % 4000, memory_mb=memory_mb,
                  max_pids=max_pids, tmp_mb=tmp_mb, profile=profile)
    log = os.path.join(scratch, f"worker-{job}.log")
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=fh, cwd=scratch,
                                start_new_session=True)
    chan = P.Pipe(os.dup(proc.stdout.fileno()), os.dup(proc.stdin.fileno()))
    proc.stdout.close()
    proc.stdin.close()
    w = Worker(proc, chan, None, None, ["container mode (podman): no network, read-only root, its own uid, memory "
                                        "and pids limits by the container runtime", *report],
               on_kill=lambda: kill(name))
    return w.start(cfg, max(timeout, 120), log, "grading container")


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
        if owner.isdigit() and not procs.running(int(owner)):  # gone, or a zombie
            kill(name)
            gone.append(name)
    return gone
