"""Instructor tools for the nnlib course: sandboxed batch grading, release, and a stack doctor.

Usage (see docs/instructor.md)::

    python -m nnlib.instructor grade  --course DIR --assignment a05_backprop --submissions FOLDER [--jobs N]
                                      [--timeout S] [--cell-timeout S] [--memory-mb M] [--force] [--keep-scratch]
    python -m nnlib.instructor release [--course DIR] [--assignment A ...]
    python -m nnlib.instructor doctor  [--course DIR]

Isolation design (nbgrader executes student code with the grader's rights, here often root):

* the **parent** (this process) only ever touches the real course: it regenerates the release, builds a
  *template* scratch course (config + source/<assignment> + a gradebook holding only the assignment), and
  for every submission copies template + that one submission into a fresh scratch dir;
* a **grading child** per submission (``_child``) runs ``nbgrader autograde`` + ``generate_feedback`` on the
  scratch course. It is started in its own session/process group, under RLIMIT_AS / RLIMIT_CPU /
  RLIMIT_FSIZE / RLIMIT_CORE, a wall-clock timeout, a pids cgroup when one can be created, and a minimal
  environment. When run as root on Linux it also enters a private mount namespace in which every mount is
  read-only except its own scratch dir, and the real gradebook, source/submitted/autograded/feedback dirs, the
  submissions folder and other students' scratch dirs are hidden (empty read-only tmpfs);
* the **kernel** (student code) is started through a shim (``_kernel``) that adds a PID namespace (it can see
  and signal only its own processes; when the kernel exits the namespace and every background process in it
  die), hides the whole scratch tree except a tmpfs copy of the notebook's directory (so it can read neither
  the solutions nor the scratch gradebook), gives it a minimal /dev, and drops every capability before exec;
* afterwards the parent kills the child's process group, everything in its cgroup and any process still
  carrying the job's token in its environment, then merges scores (clamped to the trusted max scores),
  autograded notebooks and feedback HTML into the real gradebook / course -- from the parent only.

Without root/namespaces (e.g. an instructor laptop) the rlimits, process-group kill and scratch copies still
apply but student code could write wherever the instructor can: ``doctor`` reports this.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import ctypes
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

THIS_FILE = os.path.abspath(__file__)
CSV_FIELDS = ["student", "assignment", "score", "max_score", "status"]
STUDENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,99}$")
SANDBOX_KERNEL = "nnlib-sandbox"
TOKEN_VAR = "NNLIB_GRADE_TOKEN"
CGROUP_ROOT = "/sys/fs/cgroup/pids"
MAX_SUBMISSION_BYTES = 200 * 2**20

# --------------------------------------------------------------------------------------------------------------
# Linux sandbox primitives (ctypes; no third-party dependency)
# --------------------------------------------------------------------------------------------------------------
CLONE_NEWNS, CLONE_NEWPID = 0x00020000, 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 24, 38

_libc = None


def _lib():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(src, target, fstype, flags, data=None) -> None:
    def enc(s):
        return None if s is None else os.fsencode(s)

    _check(_lib().mount(enc(src), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)), f"mount {target}")


def _unshare(flags: int) -> None:
    _check(_lib().unshare(flags), "unshare")


def _prctl(option: int, arg: int) -> None:
    _check(_lib().prctl(option, ctypes.c_ulong(arg), 0, 0, 0), f"prctl {option}")


def _mountpoints() -> list[str]:
    out = []
    with open("/proc/self/mountinfo") as fh:
        for line in fh:
            mp = line.split()[4]
            out.append(re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), mp))
    return out


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _hide(path: str) -> None:
    """Cover a directory with an empty tmpfs (made read-only later), or a file with /dev/null."""
    if os.path.isdir(path) and not os.path.islink(path):
        _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "size=16k,mode=0755")
    elif os.path.isfile(path) and not os.path.islink(path):
        _mount("/dev/null", path, None, MS_BIND)


def _hide_except(base: str, keep: list[str], tmpfs_keep: dict[str, str] | None = None) -> None:
    """Cover ``base`` with a tmpfs, then bind the ``keep`` dirs (absolute, under base) back at their paths.

    ``tmpfs_keep`` maps a path under base to a tmpfs size: an empty writable tmpfs is put there instead.
    """
    fds = [(k, os.open(k, os.O_PATH | os.O_DIRECTORY)) for k in keep]
    _mount("tmpfs", base, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0755")
    for k, fd in fds:
        os.makedirs(k, exist_ok=True)
        _mount(f"/proc/self/fd/{fd}", k, None, MS_BIND | MS_REC)
        os.close(fd)
    for k, size in (tmpfs_keep or {}).items():
        os.makedirs(k, exist_ok=True)
        _mount("tmpfs", k, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=0755")


def _all_readonly_except(writable: list[str]) -> None:
    """Bind-remount every mount read-only, except mounts at/under a writable path (which are made rw)."""
    for mp in sorted(set(_mountpoints()), key=len):
        rw = any(_under(mp, w) for w in writable)
        flags = MS_BIND | MS_REMOUNT | MS_NOSUID | (0 if rw else MS_RDONLY)
        if mp.startswith("/dev") and not rw:
            flags |= 0  # keep device nodes usable (e.g. /dev/null); /dev is replaced for the kernel anyway
        with contextlib.suppress(OSError):
            _mount(None, mp, None, flags)


def _private_mount_ns() -> None:
    _unshare(CLONE_NEWNS)
    _mount(None, "/", None, MS_REC | MS_PRIVATE)


def sandbox_support() -> tuple[bool, str]:
    """Can this process build the namespace sandbox? (root + unshare(NEWNS|NEWPID) + mount)."""
    if not sys.platform.startswith("linux"):
        return False, "not Linux: no mount/PID namespaces"
    if os.geteuid() != 0:
        return False, "not root: namespaces need root (run grading as root in a container/VM)"
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            _unshare(CLONE_NEWNS | CLONE_NEWPID)
            _mount(None, "/", None, MS_REC | MS_PRIVATE)
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) == 0:
        return True, "mount+PID namespaces available"
    return False, "unshare/mount refused (seccomp or missing CAP_SYS_ADMIN)"


# --------------------------------------------------------------------------------------------------------------
# Kernel shim: runs (as a kernelspec argv) inside the grading child; student code lives below it.
# --------------------------------------------------------------------------------------------------------------
def _minimal_dev() -> None:
    _mount("tmpfs", "/dev", "tmpfs", MS_NOSUID, "size=64k,mode=0755")
    for name, major, minor in [("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8),
                               ("urandom", 1, 9)]:
        os.mknod(f"/dev/{name}", 0o666 | 0o020000, os.makedev(major, minor))
        os.chmod(f"/dev/{name}", 0o666)
    for name, target in [("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")]:
        os.symlink(target, f"/dev/{name}")
    os.makedirs("/dev/shm")
    _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777")
    _mount(None, "/dev", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID, "size=64k,mode=0755")


def _kernel_main(argv: list[str]) -> int:
    """``_kernel --base B --home H --disk SIZE -- <kernel argv with {connection_file} resolved>``."""
    p = argparse.ArgumentParser(prog="_kernel")
    p.add_argument("--base", required=True)
    p.add_argument("--home", required=True)
    p.add_argument("--disk", default="256m")
    p.add_argument("--sandbox", type=int, default=1)
    p.add_argument("cmd", nargs=argparse.REMAINDER)
    a = p.parse_args(argv)
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    with contextlib.suppress(OSError):
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    workdir = os.getcwd()
    home = a.home
    os.makedirs(home, exist_ok=True)
    # the connection file lives in the (hidden) runtime dir: copy it next to the kernel
    for i, arg in enumerate(cmd):
        if arg.endswith(".json") and os.path.isfile(arg) and i > 0 and cmd[i - 1] == "-f":
            dst = os.path.join(home, "connection.json")
            shutil.copyfile(arg, dst)
            cmd[i] = dst
    env = {k: v for k, v in os.environ.items()}
    env.update(HOME=home, TMPDIR=os.path.join(home, "tmp"), IPYTHONDIR=os.path.join(home, ".ipython"),
               MPLCONFIGDIR=os.path.join(home, ".mpl"), JUPYTER_RUNTIME_DIR=os.path.join(home, "runtime"),
               PWD=workdir)
    if not a.sandbox:
        os.makedirs(env["TMPDIR"], exist_ok=True)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        os.execvpe(cmd[0], cmd, env)
    # the kernel's parent is our PID-1 reaper: stop ipykernel's "parent is init, exit" poller (the namespace
    # dies with the shim anyway)
    env["JPY_PARENT_PID"] = "1"
    # ---- namespaces: mount + pid --------------------------------------------------------------------------
    _unshare(CLONE_NEWNS | CLONE_NEWPID)
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    # the notebook dir (data files, the notebook) is copied onto a size-limited tmpfs at the same path
    work_fd = os.open(workdir, os.O_PATH | os.O_DIRECTORY)
    conn_fd = os.open(os.path.join(home, "connection.json"), os.O_RDONLY)
    conn = os.read(conn_fd, 1 << 20)
    os.close(conn_fd)
    _hide_except(a.base, [], {workdir: a.disk, home: "64m"})
    for d in ("tmp", ".ipython", ".mpl", "runtime"):
        os.makedirs(os.path.join(home, d), exist_ok=True)
    with open(os.path.join(home, "connection.json"), "wb") as fh:
        fh.write(conn)
    old = f"/proc/self/fd/{work_fd}"
    for entry in os.scandir(old):
        dst = os.path.join(workdir, entry.name)
        if entry.is_symlink():
            continue
        if entry.is_dir():
            shutil.copytree(entry.path, dst, symlinks=False, ignore_dangling_symlinks=True)
        elif entry.is_file():
            shutil.copyfile(entry.path, dst)
    os.close(work_fd)
    _minimal_dev()
    _all_readonly_except([workdir, home, "/dev/shm"])

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # jupyter interrupts with killpg: the kernel gets it directly
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    init = os.fork()
    if init == 0:  # PID 1 of the new namespace
        with contextlib.suppress(OSError):
            _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        with contextlib.suppress(OSError):
            _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_RDONLY)
        kpid = os.fork()
        if kpid == 0:
            try:
                for cap in range(64):
                    with contextlib.suppress(OSError):
                        _prctl(PR_CAPBSET_DROP, cap)
                _prctl(PR_SET_NO_NEW_PRIVS, 1)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past RLIMIT_FSIZE fail with EFBIG
                os.chdir(workdir)
                os.execvpe(cmd[0], cmd, env)
            finally:
                os._exit(127)
        code = 1
        while True:  # reap everything; leave when the kernel exits (namespace teardown kills the rest)
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            if pid == kpid:
                code = os.waitstatus_to_exitcode(status)
                break
        os._exit(code if code >= 0 else 128 - code)

    def _term(*_):
        with contextlib.suppress(ProcessLookupError):
            os.kill(init, signal.SIGKILL)
        os._exit(143)

    signal.signal(signal.SIGTERM, _term)
    while True:
        try:
            _, status = os.waitpid(init, 0)
            return os.waitstatus_to_exitcode(status)
        except InterruptedError:
            continue


# --------------------------------------------------------------------------------------------------------------
# Grading child: autograde + feedback for ONE submission inside its scratch course
# --------------------------------------------------------------------------------------------------------------
def _fast_imports() -> None:
    """jsonschema (via nbformat) imports rfc3987_syntax, which compiles a grammar for ~1 s per process; nbformat
    never validates IRIs, so let jsonschema see it as absent (it is an optional dependency there)."""
    sys.modules.setdefault("rfc3987_syntax", None)


def _child_main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="_child")
    p.add_argument("--scratch", required=True)
    p.add_argument("--assignment", required=True)
    p.add_argument("--student", required=True)
    p.add_argument("--base", required=True)
    p.add_argument("--hide", action="append", default=[])
    p.add_argument("--sandbox", type=int, default=1)
    p.add_argument("--limits", default="", help="memory_mb,cpu_s,fsize_mb")
    p.add_argument("--cgroup", default="")
    a = p.parse_args(argv)
    scratch = a.scratch
    # resource limits first (inherited by the kernel and everything it starts), then the pids cgroup
    if a.limits:
        import resource

        mem, cpu, fsize = (int(x) for x in a.limits.split(","))
        resource.setrlimit(resource.RLIMIT_AS, (mem * 2**20, mem * 2**20))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize * 2**20, fsize * 2**20))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if a.cgroup:
        with contextlib.suppress(OSError), open(os.path.join(a.cgroup, "cgroup.procs"), "w") as fh:
            fh.write(str(os.getpid()))
    result = {"status": "error", "message": ""}
    if a.sandbox:
        _private_mount_ns()
        for h in a.hide:
            with contextlib.suppress(OSError):
                _hide(h)
        _hide_except(a.base, [scratch])
        _all_readonly_except([scratch])
    os.chdir(scratch)
    _fast_imports()
    try:
        from nbgrader.apps import NbGraderAPI
        from traitlets.config import Config
        from traitlets.config.loader import PyFileConfigLoader

        cfg = Config()
        cfg.merge(PyFileConfigLoader("nbgrader_config.py", path=scratch).load_config())
        api = NbGraderAPI(config=cfg)
        res = api.autograde(a.assignment, a.student, force=True, create=True)
        if not res.get("success"):
            result["message"] = (res.get("error") or "") + "\n" + (res.get("log") or "")[-4000:]
        else:
            result["status"] = "ok"
            fb = api.generate_feedback(a.assignment, a.student, force=True)
            if not fb.get("success"):
                result["feedback_error"] = (fb.get("error") or "")[-2000:]
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        result["message"] = f"{type(exc).__name__}: {exc}"[:4000]
    with open(os.path.join(scratch, "result.json"), "w") as fh:
        json.dump(result, fh)
    return 0


# --------------------------------------------------------------------------------------------------------------
# Course helpers (parent side)
# --------------------------------------------------------------------------------------------------------------
@dataclass
class Course:
    root: Path
    config: object
    source: Path
    release: Path
    submitted: Path
    autograded: Path
    feedback: Path
    db_url: str

    @property
    def db_path(self) -> Path | None:
        if self.db_url.startswith("sqlite:///"):
            return Path(self.db_url[len("sqlite:///"):])
        return None


def load_config(course_dir: Path):
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    cfg = Config()
    path = Path(course_dir) / "nbgrader_config.py"
    if path.exists():
        cfg.merge(PyFileConfigLoader(path.name, path=str(path.parent)).load_config())
    return cfg


def load_course(course_dir) -> Course:
    from nbgrader.coursedir import CourseDirectory

    root = Path(course_dir).resolve()
    cfg = load_config(root)
    cd = CourseDirectory(config=cfg)
    cd.root = str(root)

    def d(name: str) -> Path:
        return (root / getattr(cd, name)).resolve()

    return Course(root=root, config=cfg, source=d("source_directory"), release=d("release_directory"),
                  submitted=d("submitted_directory"), autograded=d("autograded_directory"),
                  feedback=d("feedback_directory"), db_url=cd.db_url)


def run_nbgrader(args: list[str], cwd: Path, env: dict | None = None, timeout: float = 600) -> None:
    boot = ("import sys; sys.modules.setdefault('rfc3987_syntax', None); sys.argv[0] = 'nbgrader'; "
            "from nbgrader.apps.nbgraderapp import main; main()")
    cmd = [sys.executable, "-c", boot, *args]
    env = dict(os.environ if env is None else env)
    bindir = os.path.dirname(sys.executable)  # nbgrader runs `alembic` from PATH when it creates a gradebook
    if bindir not in env.get("PATH", "").split(os.pathsep):
        env["PATH"] = bindir + os.pathsep + env.get("PATH", "/usr/bin:/bin")
    proc = subprocess.run(cmd, cwd=str(cwd), env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"`nbgrader {' '.join(args)}` failed in {cwd}:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")


def _copy_tree_safe(src: Path, dst: Path, limit: int = MAX_SUBMISSION_BYTES) -> int:
    """Copy regular files only (no symlinks/devices/checkpoints) from src to dst; returns bytes copied."""
    total = 0
    for dirpath, dirnames, filenames in os.walk(src, followlinks=False):
        dirnames[:] = [x for x in dirnames if x not in (".ipynb_checkpoints", "__pycache__")
                       and not os.path.islink(os.path.join(dirpath, x))]
        rel = os.path.relpath(dirpath, src)
        for fn in filenames:
            s = os.path.join(dirpath, fn)
            if os.path.islink(s) or not os.path.isfile(s):
                continue
            total += os.path.getsize(s)
            if total > limit:
                raise ValueError(f"submission larger than {limit // 2**20} MiB")
            t = dst / rel / fn
            t.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(s, t)
    return total


def _sha_files(files: list[Path]) -> str:
    h = hashlib.sha256()
    for f in sorted(files):
        h.update(str(f.name).encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


@dataclass
class Submission:
    student: str
    files: list[Path]            # files to copy, relative layout below
    base: Path | None = None     # copy the whole tree under base (layout 1)
    rename_to: str | None = None  # layout 2: single notebook renamed to the assignment's notebook
    sha: str = ""


def discover_submissions(folder: Path, assignment: str,
                         notebook_names: list[str]) -> tuple[list[Submission], list[str]]:
    """Layout 1: FOLDER/<student>/<assignment>/*.ipynb (+ data files)  (also FOLDER/<student>/*.ipynb).
    Layout 2: FOLDER/<student>.ipynb (assignments with a single notebook)."""
    subs, problems = [], []
    for entry in sorted(Path(folder).iterdir()):
        name = entry.stem if entry.is_file() else entry.name
        if entry.name.startswith(".") or entry.is_symlink():
            continue
        if not STUDENT_RE.match(name):
            problems.append(f"skipped {entry.name!r}: not a valid student id")
            continue
        if entry.is_dir():
            base = entry / assignment if (entry / assignment).is_dir() else entry
            files = [p for p in base.rglob("*") if p.is_file() and not p.is_symlink()
                     and ".ipynb_checkpoints" not in p.parts]
            if not any(p.suffix == ".ipynb" for p in files):
                problems.append(f"skipped {name}: no notebook in {base}")
                continue
            subs.append(Submission(name, files, base=base, sha=_sha_files(files)))
        elif entry.suffix == ".ipynb":
            if len(notebook_names) != 1:
                problems.append(f"skipped {entry.name}: FOLDER/<student>.ipynb needs a single-notebook assignment")
                continue
            subs.append(Submission(name, [entry], rename_to=notebook_names[0] + ".ipynb", sha=_sha_files([entry])))
    return subs, problems


# --------------------------------------------------------------------------------------------------------------
# Process hygiene
# --------------------------------------------------------------------------------------------------------------
def _cgroup_create(name: str, max_pids: int) -> str | None:
    path = os.path.join(CGROUP_ROOT, "nnlib-grading", name)
    try:
        os.makedirs(path, exist_ok=True)
        with open(os.path.join(path, "pids.max"), "w") as fh:
            fh.write(str(max_pids))
        return path
    except OSError:
        return None


def _cgroup_pids(path: str) -> list[int]:
    try:
        with open(os.path.join(path, "cgroup.procs")) as fh:
            return [int(x) for x in fh.read().split()]
    except OSError:
        return []


def _kill_until_gone(find_pids: Callable[[], list[int]], tries: int, pause: float) -> None:
    """SIGKILL every process ``find_pids()`` lists, again and again until none is left (or ``tries`` run out)."""
    for _ in range(tries):
        pids = find_pids()
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(pause)


def _cgroup_destroy(path: str | None) -> None:
    if not path:
        return
    _kill_until_gone(lambda: _cgroup_pids(path), 200, 0.02)
    for _ in range(50):
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.05)


def _token_pids(token: str) -> list[int]:
    needle = f"{TOKEN_VAR}={token}".encode()
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open(f"/proc/{d}/environ", "rb") as fh:
                if needle in fh.read():
                    found.append(int(d))
        except OSError:
            continue
    return found


def kill_job_processes(pgid: int | None, cgroup: str | None, token: str) -> None:
    if pgid:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
    _cgroup_destroy(cgroup)
    if sys.platform.startswith("linux"):
        _kill_until_gone(lambda: _token_pids(token), 20, 0.05)


# --------------------------------------------------------------------------------------------------------------
# The batch
# --------------------------------------------------------------------------------------------------------------
@dataclass
class Options:
    jobs: int = 1
    timeout: float = 300.0          # wall clock per submission
    cell_timeout: int | None = None  # default: course config Execute.timeout, else 60
    memory_mb: int = 4096
    fsize_mb: int = 512
    disk: str = "256m"               # tmpfs for the kernel's working dir
    max_lines: int | None = None     # output lines kept per cell (default: LimitOutput.max_lines, else 1000)
    max_pids: int = 256
    force: bool = False
    retry_failed: bool = False
    keep_scratch: bool = False
    sandbox: bool | None = None      # None: auto
    progress: bool = True


@dataclass
class Result:
    student: str
    assignment: str
    score: float = 0.0
    max_score: float = 0.0
    status: str = "error"
    message: str = ""
    failures: list = field(default_factory=list)
    seconds: float = 0.0
    sha: str = ""
    scratch: str = ""
    grades: dict = field(default_factory=dict)  # (notebook, cell) -> (auto_score, needs_manual)


def _scratch_config(course: Course, cell_timeout: int, max_lines: int) -> str:
    course_cfg = course.root / "nbgrader_config.py"
    lines = ["c = get_config()"]
    if course_cfg.exists():
        lines.append("load_subconfig('course_nbgrader_config.py')")
    lines += [
        "import os",
        "_here = os.path.dirname(os.path.abspath(__file__))",
        "c.CourseDirectory.root = _here",
        "c.CourseDirectory.source_directory = 'source'",
        "c.CourseDirectory.release_directory = 'release'",
        "c.CourseDirectory.submitted_directory = 'submitted'",
        "c.CourseDirectory.autograded_directory = 'autograded'",
        "c.CourseDirectory.feedback_directory = 'feedback'",
        "c.CourseDirectory.db_url = 'sqlite:///' + os.path.join(_here, 'gradebook.db')",
        f"c.Execute.kernel_name = {SANDBOX_KERNEL!r}",
        f"c.Execute.timeout = {int(cell_timeout)}",
        "c.Execute.interrupt_on_timeout = True",
        "c.Execute.execute_retries = 0",
        f"c.LimitOutput.max_lines = {int(max_lines)}",
        "c.LimitOutput.max_traceback = 100",
        "c.Exchange.root = os.path.join(_here, 'exchange')",
    ]
    return "\n".join(lines) + "\n"


def _cell_timeout_from(course: Course) -> int | None:
    for section in ("Execute", "ExecutePreprocessor"):
        sec = course.config.get(section, {}) if hasattr(course.config, "get") else {}
        if "timeout" in sec and sec["timeout"]:
            return int(sec["timeout"])
    return None


class Batch:
    def __init__(self, course: Course, assignment: str, opts: Options):
        self.course, self.assignment, self.opts = course, assignment, opts
        if opts.sandbox is None:
            opts.sandbox = sandbox_support()[0]
        self.cell_timeout = opts.cell_timeout or _cell_timeout_from(course) or 60
        self.max_lines = opts.max_lines or _cfg_get(course.config, "LimitOutput", "max_lines") or 1000
        self.base = Path(tempfile.mkdtemp(prefix="nnlib-grade-"))
        os.chmod(self.base, 0o700)
        self.template = self.base / "template"
        self.out = course.root / "grading" / assignment
        self.notebooks: list[str] = []
        self.max_scores: dict[tuple[str, str], float] = {}
        self.kinds: dict[tuple[str, str], str] = {}

    # -- setup --------------------------------------------------------------------------------------------------
    def prepare(self) -> None:
        src = self.course.source / self.assignment
        if not src.is_dir():
            raise SystemExit(f"no source assignment {src}")
        # 1. the real release + the assignment in the main gradebook (trusted source only, no code executed)
        # 2. (concurrently) a template scratch course holding config, source/<assignment> and its own gradebook
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(1)
        main_release = pool.submit(run_nbgrader, ["generate_assignment", self.assignment, "--force"],
                                   self.course.root)
        t = self.template
        (t / "source").mkdir(parents=True)
        _copy_tree_safe(src, t / "source" / self.assignment, limit=2**40)
        if (self.course.root / "nbgrader_config.py").exists():
            shutil.copyfile(self.course.root / "nbgrader_config.py", t / "course_nbgrader_config.py")
        (t / "nbgrader_config.py").write_text(_scratch_config(self.course, self.cell_timeout, self.max_lines))
        env = self._env(t, token="template")
        try:
            run_nbgrader(["generate_assignment", self.assignment, "--force"], cwd=t, env=env)
        finally:
            main_release.result()
            pool.shutdown()
        shutil.rmtree(t / "release", ignore_errors=True)
        from nbgrader.api import Gradebook

        with Gradebook("sqlite:///" + str(t / "gradebook.db")) as gb:
            a = gb.find_assignment(self.assignment)
            for nb in a.notebooks:
                self.notebooks.append(nb.name)
                for gc in nb.grade_cells:
                    self.max_scores[(nb.name, gc.name)] = float(gc.max_score)
                    self.kinds[(nb.name, gc.name)] = "test" if not gc.cell_type == "markdown" else "markdown"
                for tc in getattr(nb, "task_cells", []):
                    self.max_scores[(nb.name, tc.name)] = float(tc.max_score)
        self.max_total = sum(self.max_scores.values())
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / "reports").mkdir(exist_ok=True)
        (self.out / "logs").mkdir(exist_ok=True)

    def _env(self, scratch: Path, token: str) -> dict:
        home = scratch / "home"
        for d in ("home", "runtime", "tmp", "jupyter/kernels/" + SANDBOX_KERNEL, "jconfig", "jdata"):
            (scratch / d).mkdir(parents=True, exist_ok=True)
        kernel = {
            "argv": [sys.executable, "-I", THIS_FILE, "_kernel", "--base", str(self.base),
                     "--home", str(scratch / "khome"), "--disk", self.opts.disk,
                     "--sandbox", str(int(bool(self.opts.sandbox))), "--",
                     sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "nnlib sandboxed Python", "language": "python", "interrupt_mode": "signal",
        }
        (scratch / "jupyter" / "kernels" / SANDBOX_KERNEL / "kernel.json").write_text(json.dumps(kernel))
        env = {
            "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": os.environ.get("LANG", "C.UTF-8"), "HOME": str(home), "TMPDIR": str(scratch / "tmp"),
            "JUPYTER_PATH": str(scratch / "jupyter"), "JUPYTER_RUNTIME_DIR": str(scratch / "runtime"),
            "JUPYTER_CONFIG_DIR": str(scratch / "jconfig"), "JUPYTER_DATA_DIR": str(scratch / "jdata"),
            "JUPYTER_PLATFORM_DIRS": "1", "IPYTHONDIR": str(home / ".ipython"), "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": str(home / ".mpl"), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1", TOKEN_VAR: token,
        }
        for k in ("VIRTUAL_ENV", "NNLIB_BACKEND", "NNLIB_DATA"):
            if k in os.environ:
                env[k] = os.environ[k]
        return env

    def _hidden_paths(self, submissions_folder: Path) -> list[str]:
        c = self.course
        paths = [c.source, c.submitted, c.autograded, c.feedback, submissions_folder, self.out]
        if c.db_path:
            paths += [c.db_path, Path(str(c.db_path) + "-journal")]
        return [str(p) for p in paths if p.exists() and not _under(str(self.base), str(p))]

    # -- one job (runs in a worker thread; only spawns and waits) -------------------------------------------------
    def grade_one(self, sub: Submission, hidden: list[str]) -> Result:
        t0 = time.monotonic()
        res = Result(sub.student, self.assignment, max_score=self.max_total, sha=sub.sha)
        scratch = self.base / f"job-{sub.student}"
        res.scratch = str(scratch)
        shutil.rmtree(scratch, ignore_errors=True)
        token = os.urandom(8).hex()
        cgroup = None
        proc = None
        log = self.out / "logs" / f"{sub.student}.log"
        try:
            shutil.copytree(self.template, scratch, symlinks=False)
            dest = scratch / "submitted" / sub.student / self.assignment
            dest.mkdir(parents=True)
            if sub.rename_to:
                shutil.copyfile(sub.files[0], dest / sub.rename_to)
            else:
                _copy_tree_safe(sub.base, dest)
            env = self._env(scratch, token)
            cgroup = _cgroup_create(f"{os.getpid()}-{token}", self.opts.max_pids) if self.opts.sandbox else None
            cmd = [sys.executable, "-I", THIS_FILE, "_child", "--scratch", str(scratch), "--assignment",
                   self.assignment, "--student", sub.student, "--base", str(self.base),
                   "--sandbox", str(int(bool(self.opts.sandbox)))]
            for h in hidden:
                cmd += ["--hide", h]
            cmd += ["--limits", f"{self.opts.memory_mb},{int(self.opts.timeout) + 5},{self.opts.fsize_mb}"]
            if cgroup:
                cmd += ["--cgroup", cgroup]
            with open(log, "wb") as logfh:
                proc = subprocess.Popen(cmd, cwd=str(scratch), env=env, stdin=subprocess.DEVNULL, stdout=logfh,
                                        stderr=subprocess.STDOUT, start_new_session=True)
                try:
                    proc.wait(timeout=self.opts.timeout)
                except subprocess.TimeoutExpired:
                    res.status = "timeout"
                    res.message = f"no result after {self.opts.timeout:g}s wall clock: killed"
        except Exception as exc:  # noqa: BLE001
            res.status, res.message = "error", f"{type(exc).__name__}: {exc}"
        finally:
            kill_job_processes(proc.pid if proc else None, cgroup, token)
            if proc:
                with contextlib.suppress(Exception):
                    proc.wait(timeout=10)
        if res.status != "timeout" and proc is not None:
            self._collect(res, scratch, log)
        res.seconds = time.monotonic() - t0
        return res

    def _collect(self, res: Result, scratch: Path, log: Path) -> None:
        """Read the scratch results (written by the trusted child; the kernel could not reach them)."""
        try:
            info = json.loads((scratch / "result.json").read_text())
        except (OSError, ValueError):
            tail = log.read_bytes()[-1500:].decode(errors="replace") if log.exists() else ""
            res.status, res.message = "error", "grading child died without a result\n" + tail
            return
        res.status, res.message = info.get("status", "error"), info.get("message", "")
        if res.status != "ok":
            return
        from nbgrader.api import Gradebook, MissingEntry

        total = 0.0
        try:
            with Gradebook("sqlite:///" + str(scratch / "gradebook.db")) as gb:
                sub = gb.find_submission(self.assignment, res.student)
                for nb in sub.notebooks:
                    for g in nb.grades:
                        key = (nb.name, g.name)
                        if key not in self.max_scores:
                            continue
                        auto = g.auto_score
                        if auto is not None:
                            auto = min(max(float(auto), 0.0), self.max_scores[key])
                            total += auto
                        res.grades[key] = (auto, bool(g.needs_manual_grade))
        except (MissingEntry, Exception) as exc:  # noqa: BLE001
            res.status, res.message = "error", f"could not read scratch gradebook: {exc}"
            return
        res.score = round(total, 4)
        res.failures = self._failures(res, scratch)

    def _failures(self, res: Result, scratch: Path) -> list[dict]:
        import nbformat

        out = []
        agdir = scratch / "autograded" / res.student / self.assignment
        for nbname in self.notebooks:
            path = agdir / f"{nbname}.ipynb"
            if not path.is_file():
                out.append({"notebook": nbname, "cell": "*", "score": 0, "max_score": None,
                            "error": ["notebook missing from the submission"]})
                continue
            try:
                nb = nbformat.read(str(path), as_version=4)
            except Exception as exc:  # noqa: BLE001
                out.append({"notebook": nbname, "cell": "*", "error": [f"unreadable: {exc}"]})
                continue
            for cell in nb.cells:
                meta = cell.get("metadata", {}).get("nbgrader", {})
                gid = meta.get("grade_id")
                key = (nbname, gid)
                if not meta.get("grade") or meta.get("solution") or key not in res.grades:
                    continue
                auto, _ = res.grades[key]
                if auto is not None and auto >= self.max_scores[key]:
                    continue
                lines = []
                for o in cell.get("outputs", []):
                    if o.get("output_type") == "error":
                        ev = _strip_ansi(str(o.get("evalue", ""))).strip().splitlines()
                        lines.append(f"{o.get('ename', 'Error')}: {ev[0] if ev else ''}".rstrip(": "))
                        lines += ev[1:6]
                    elif o.get("output_type") == "stream" and o.get("name") == "stderr":
                        lines += _strip_ansi(o.get("text", "")).strip().splitlines()[:3]
                out.append({"notebook": nbname, "cell": gid, "score": auto, "max_score": self.max_scores[key],
                            "error": lines[:8] or ["(no error output)"]})
        return out

    # -- merge (parent / main thread only) ------------------------------------------------------------------------
    def merge(self, res: Result) -> None:
        from nbgrader.api import Gradebook, MissingEntry

        with warnings.catch_warnings(), Gradebook(self.course.db_url) as gb:
            warnings.simplefilter("ignore")  # SQLAlchemy SAWarnings from nbgrader's add_submission
            gb.update_or_create_student(res.student)
            with contextlib.suppress(MissingEntry):
                gb.remove_submission(self.assignment, res.student)
            sub = gb.add_submission(self.assignment, res.student)
            for nb in sub.notebooks:
                for g in nb.grades:
                    auto, manual = res.grades.get((nb.name, g.name), (0.0, False))
                    if res.status != "ok":
                        auto, manual = 0.0, False
                    g.auto_score, g.needs_manual_grade = auto, manual
            gb.db.commit()
        scratch = Path(res.scratch)
        for kind, dst_root in (("autograded", self.course.autograded), ("feedback", self.course.feedback)):
            dst = dst_root / res.student / self.assignment
            shutil.rmtree(dst, ignore_errors=True)
            src = scratch / kind / res.student / self.assignment
            if res.status == "ok" and src.is_dir():
                _copy_tree_safe(src, dst, limit=2**31)
        self.write_report(res)

    def write_report(self, res: Result) -> None:
        lines = [f"# {res.student} -- {self.assignment}", "",
                 f"score: {res.score:g} / {res.max_score:g}   status: {res.status}   ({res.seconds:.1f}s)", ""]
        if res.message:
            lines += ["## grading problem", "", *[f"    {x}" for x in res.message.strip().splitlines()[-15:]], ""]
        if res.failures:
            lines += ["## failed tests", ""]
            for f in res.failures:
                ms = f.get("max_score")
                lines.append(f"- {f['notebook']} / {f['cell']}"
                             + (f"  ({f.get('score') or 0:g}/{ms:g})" if ms is not None else ""))
                lines += [f"      {x}" for x in f["error"]]
        elif res.status == "ok":
            lines.append("all tests passed")
        (self.out / "reports" / f"{res.student}.md").write_text("\n".join(lines) + "\n")


def _strip_ansi(s: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", s)


def read_grades(csv_path: Path) -> dict[str, dict]:
    if not csv_path.exists():
        return {}
    with open(csv_path, newline="") as fh:
        return {row["student"]: row for row in csv.DictReader(fh)}


def write_grades(csv_path: Path, rows: dict[str, dict]) -> None:
    tmp = csv_path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
        w.writeheader()
        for student in sorted(rows):
            w.writerow({k: rows[student].get(k, "") for k in CSV_FIELDS})
    os.replace(tmp, csv_path)


def grade(course_dir, assignment: str, submissions, opts: Options | None = None) -> list[Result]:
    """Grade every submission in ``submissions`` (see module doc); returns the results of this run."""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    opts = opts or Options()
    bindir = os.path.dirname(sys.executable)  # nbgrader's Gradebook may run `alembic` from PATH
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    course = load_course(course_dir)
    submissions = Path(submissions).resolve()
    batch = Batch(course, assignment, opts)
    results: list[Result] = []
    try:
        batch.prepare()
        subs, problems = discover_submissions(submissions, assignment, batch.notebooks)
        for p in problems:
            print("warning:", p, file=sys.stderr)
        csv_path = batch.out / "grades.csv"
        state_path = batch.out / "state.json"
        rows = read_grades(csv_path)
        state = json.loads(state_path.read_text()) if state_path.exists() else {}
        def done(s: Submission) -> bool:
            status = rows.get(s.student, {}).get("status")
            ok_states = ("ok",) if opts.retry_failed else ("ok", "error", "timeout")
            return state.get(s.student) == s.sha and status in ok_states

        todo = [s for s in subs if opts.force or not done(s)]
        if len(todo) < len(subs):
            print(f"resuming: {len(subs) - len(todo)} submission(s) already graded and unchanged "
                  "(--force regrades all, --retry-failed regrades errors/timeouts)", file=sys.stderr)
        hidden = batch._hidden_paths(submissions)
        try:
            from tqdm.auto import tqdm
        except ImportError:  # pragma: no cover
            tqdm = None
        bar = tqdm(total=len(todo), desc=f"grading {assignment}", unit="sub",
                   disable=not opts.progress) if tqdm else None
        with ThreadPoolExecutor(max_workers=max(1, opts.jobs)) as pool:
            futs = {pool.submit(batch.grade_one, s, hidden): s for s in todo}
            for fut in as_completed(futs):
                s = futs[fut]
                try:
                    res = fut.result()
                except Exception as exc:  # noqa: BLE001 - never abort the batch
                    res = Result(s.student, assignment, max_score=batch.max_total, status="error",
                                 message=f"{type(exc).__name__}: {exc}", sha=s.sha)
                try:
                    batch.merge(res)
                except Exception as exc:  # noqa: BLE001
                    res.status, res.message = "error", f"merge failed: {type(exc).__name__}: {exc}"
                    batch.write_report(res)
                rows[res.student] = {"student": res.student, "assignment": assignment, "score": f"{res.score:g}",
                                     "max_score": f"{res.max_score:g}", "status": res.status}
                state[res.student] = res.sha
                write_grades(csv_path, rows)
                state_path.write_text(json.dumps(state, indent=1))
                if not opts.keep_scratch and res.scratch:
                    shutil.rmtree(res.scratch, ignore_errors=True)
                results.append(res)
                if bar:
                    bar.set_postfix_str(f"{res.student}: {res.score:g}/{res.max_score:g} {res.status}")
                    bar.update(1)
        if bar:
            bar.close()
        _write_summary(batch, rows)
    finally:
        if not opts.keep_scratch:
            shutil.rmtree(batch.base, ignore_errors=True)
    return results


def _write_summary(batch: Batch, rows: dict) -> None:
    lines = [f"# {batch.assignment}: failure report", ""]
    for student in sorted(rows):
        p = batch.out / "reports" / f"{student}.md"
        body = p.read_text() if p.exists() else f"# {student}\n(no report)\n"
        lines += [body.replace("# ", "## ", 1), ""]
    (batch.out / "report.md").write_text("\n".join(lines))


# --------------------------------------------------------------------------------------------------------------
# doctor
# --------------------------------------------------------------------------------------------------------------
@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""
    fix: str = ""

    def line(self) -> str:
        s = f"{'✓' if self.ok else '✗'} {self.name}" + (f": {self.detail}" if self.detail else "")
        if not self.ok and self.fix:
            s += f"\n    fix: {self.fix}"
        return s


def _version_tuple(v: str) -> tuple:
    return tuple(int(x) for x in re.findall(r"\d+", v)[:3])


def check_version(package: str, version: str | None, lo: str, hi: str | None = None, exact: bool = False) -> Check:
    """``version`` None means 'not installed'. exact: must equal lo; else lo <= v < hi."""
    want = f"=={lo}" if exact else f">={lo}" + (f",<{hi}" if hi else "")
    fix = f"pip install '{package}{want}'"
    if version is None:
        return Check(f"{package} {want}", False, "not installed", fix)
    v = _version_tuple(version)
    ok = v == _version_tuple(lo) if exact else (v >= _version_tuple(lo) and (hi is None or v < _version_tuple(hi)))
    return Check(f"{package} {want}", ok, f"found {version}", fix)


def _installed(package: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def check_labextension(listing: str) -> Check:
    """Parse ``jupyter labextension list`` output."""
    text = _strip_ansi(listing)
    line = next((ln for ln in text.splitlines() if "@jupyter/nbgrader" in ln), None)
    fix = "pip install 'nbgrader==0.9.6' && jupyter labextension enable @jupyter/nbgrader"
    if line is None:
        return Check("nbgrader lab extension", False, "not listed by `jupyter labextension list`", fix)
    ok = "enabled" in line and "OK" in line and "disabled" not in line
    return Check("nbgrader lab extension", ok, line.strip(), fix if not ok else "")


def check_server_extension(listing: str) -> Check:
    """Parse ``jupyter server extension list`` output: formgrader etc. enabled and validated OK."""
    text = _strip_ansi(listing)
    need = ["nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.assignment_list"]
    bad = []
    for ext in need:
        enabled = re.search(rf"^\s*{re.escape(ext)}\s+enabled\s*$", text, re.M)
        valid = re.search(rf"^\s*{re.escape(ext)}\s.*\bOK\b", text, re.M)
        if not (enabled and valid):
            bad.append(ext)
    fix = "jupyter server extension enable --sys-prefix nbgrader.server_extensions.formgrader (and assignment_list," \
          " course_list, validate_assignment); check `jupyter server extension list` for import errors"
    return Check("nbgrader server extensions", not bad, "missing/invalid: " + ", ".join(bad) if bad else
                 "formgrader, assignment_list enabled and OK", fix)


def check_kernel(kernel_name: str, kernelspecs: dict) -> Check:
    names = sorted((kernelspecs or {}).get("kernelspecs", {}))
    ok = kernel_name in names
    return Check(f"kernel '{kernel_name}'", ok, f"available: {', '.join(names) or 'none'}",
                 "python -m ipykernel install --sys-prefix" + ("" if kernel_name == "python3" else
                                                              f" --name {kernel_name}"))


def check_config_loads(course_dir) -> tuple[Check, object]:
    path = Path(course_dir) / "nbgrader_config.py"
    if not path.exists():
        return Check("nbgrader_config.py", False, f"{path} not found",
                     "create it (source_directory, release_directory, Execute.timeout, Exchange.root)"), None
    try:
        cfg = load_config(Path(course_dir))
    except Exception as exc:  # noqa: BLE001
        return Check("nbgrader_config.py", False, f"does not load: {type(exc).__name__}: {exc}",
                     "fix the Python error in nbgrader_config.py"), None
    return Check("nbgrader_config.py", True, f"loads ({path})"), cfg


def _cfg_get(cfg, section: str, key: str, default=None):
    try:
        sec = cfg[section]
        return sec[key] if key in sec else default
    except (KeyError, TypeError):
        return default


def check_timeouts(cfg) -> Check:
    t = _cfg_get(cfg, "Execute", "timeout") or _cfg_get(cfg, "ExecutePreprocessor", "timeout")
    ok = isinstance(t, (int, float)) and t > 0
    return Check("cell timeout (Execute.timeout)", ok, f"{t}s" if ok else "not set (nbgrader default 30s, "
                 "or None = wait forever)", "add `c.Execute.timeout = 120` to nbgrader_config.py")


def check_exchange(cfg) -> Check:
    root = _cfg_get(cfg, "Exchange", "root") or "/srv/nbgrader/exchange"
    p = Path(root)
    if not p.is_dir():
        return Check("exchange directory", False, f"{root} does not exist",
                     f"mkdir -p {root} && chmod ugo+rwx {root}   (or set c.Exchange.root)")
    ok = os.access(p, os.W_OK | os.X_OK)
    return Check("exchange directory", ok, f"{root} {'writable' if ok else 'not writable'}",
                 f"chmod ugo+rwx {root}")


def check_course_id(cfg) -> Check:
    cid = _cfg_get(cfg, "CourseDirectory", "course_id")
    return Check("course id", bool(cid), cid or "not set", "add `c.CourseDirectory.course_id = 'nnlib'`")


def check_sandbox() -> Check:
    ok, why = sandbox_support()
    return Check("grading sandbox (mount+PID namespaces)", ok, why,
                 "grade as root inside a container/VM; without it student code can write wherever you can")


def _run_text(cmd: list[str]) -> str:
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        return p.stdout + p.stderr
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"failed: {exc}"


def kernel_name_for(course_dir, cfg) -> str:
    k = _cfg_get(cfg, "Execute", "kernel_name") or _cfg_get(cfg, "ExecutePreprocessor", "kernel_name")
    if k:
        return k
    src = Path(course_dir) / (_cfg_get(cfg, "CourseDirectory", "source_directory") or "source")
    for nb in sorted(src.glob("*/*.ipynb")):
        with contextlib.suppress(Exception):
            return json.loads(nb.read_text())["metadata"]["kernelspec"]["name"]
    return "python3"


def doctor(course_dir=".", out=print) -> list[Check]:
    bindir = os.path.dirname(sys.executable)
    jupyter = os.path.join(bindir, "jupyter") if os.path.exists(os.path.join(bindir, "jupyter")) else "jupyter"
    checks = [
        check_version("nbgrader", _installed("nbgrader"), "0.9.6", exact=True),
        check_version("jupyterlab", _installed("jupyterlab"), "4.4", "5"),
        check_version("notebook", _installed("notebook"), "7.4", "8"),
        check_labextension(_run_text([jupyter, "labextension", "list"])),
        check_server_extension(_run_text([jupyter, "server", "extension", "list"])),
    ]
    cfg_check, cfg = check_config_loads(course_dir)
    checks.append(cfg_check)
    try:
        specs = json.loads(_run_text([jupyter, "kernelspec", "list", "--json"]))
    except ValueError:
        specs = {}
    checks.append(check_kernel(kernel_name_for(course_dir, cfg or {}), specs))
    if cfg is not None:
        checks += [check_course_id(cfg), check_timeouts(cfg), check_exchange(cfg)]
    checks.append(check_sandbox())
    for c in checks:
        out(c.line())
    return checks


# --------------------------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------------------------
def list_assignments(course: Course) -> list[str]:
    """Assignment folders of the source directory: those holding a notebook (skips e.g. solutions/build)."""
    return sorted(p.name for p in course.source.iterdir()
                  if p.is_dir() and not p.name.startswith(".") and any(p.glob("*.ipynb")))


def release(course_dir=".", assignments: list[str] | None = None) -> list[str]:
    course = load_course(course_dir)
    names = assignments or list_assignments(course)
    for a in names:
        run_nbgrader(["generate_assignment", a, "--force"], cwd=course.root)
        print(f"released {a} -> {course.release / a}")
    return names


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "_kernel":
        return _kernel_main(argv[1:])
    if argv and argv[0] == "_child":
        return _child_main(argv[1:])
    if __name__ == "__main__":
        _fast_imports()
    p = argparse.ArgumentParser(prog="python -m nnlib.instructor", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("grade", help="autograde a folder of submissions in sandboxed parallel jobs")
    g.add_argument("--course", default=".", help="course root (holds nbgrader_config.py)")
    g.add_argument("--assignment", required=True)
    g.add_argument("--submissions", required=True,
                   help="FOLDER/<student>/<assignment>/*.ipynb or FOLDER/<student>.ipynb")
    g.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 2) // 2))
    g.add_argument("--timeout", type=float, default=600, help="wall-clock seconds per submission")
    g.add_argument("--cell-timeout", type=int, default=None, help="seconds per cell (default: Execute.timeout)")
    g.add_argument("--memory-mb", type=int, default=4096, help="RLIMIT_AS per process")
    g.add_argument("--max-lines", type=int, default=None, help="output lines kept per cell "
                   "(default: LimitOutput.max_lines from the course config, else 1000)")
    g.add_argument("--force", action="store_true", help="regrade unchanged, already graded submissions")
    g.add_argument("--retry-failed", action="store_true", help="regrade unchanged submissions that errored/timed out")
    g.add_argument("--keep-scratch", action="store_true")
    g.add_argument("--no-sandbox", action="store_true", help="skip namespaces (rlimits/process groups only)")
    r = sub.add_parser("release", help="generate exercises/ (release) from solutions/ (source)")
    r.add_argument("--course", default=".")
    r.add_argument("--assignment", action="append")
    d = sub.add_parser("doctor", help="check the instructor's Jupyter/nbgrader stack")
    d.add_argument("--course", default=".")
    a = p.parse_args(argv)
    if a.cmd == "grade":
        opts = Options(jobs=a.jobs, timeout=a.timeout, cell_timeout=a.cell_timeout, memory_mb=a.memory_mb,
                       max_lines=a.max_lines, force=a.force, retry_failed=a.retry_failed, keep_scratch=a.keep_scratch,
                       sandbox=False if a.no_sandbox else None)
        results = grade(a.course, a.assignment, a.submissions, opts)
        out = Path(a.course).resolve() / "grading" / a.assignment
        bad = [r for r in results if r.status != "ok"]
        print(f"graded {len(results)} submission(s), {len(bad)} with problems; "
              f"grades: {out / 'grades.csv'}  report: {out / 'report.md'}")
        return 0
    if a.cmd == "release":
        release(a.course, a.assignment)
        return 0
    checks = doctor(a.course)
    return 0 if all(c.ok for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
