"""``doctor``: is the instructor's stack ready?  One ✓/✗ line per check, with a fix for each ✗."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from nnlib_grader import sandbox, seccomp
from nnlib_grader.course import cfg_get, load_config


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


def _strip_ansi(s: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", s)


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
    text = _strip_ansi(listing)
    line = next((ln for ln in text.splitlines() if "@jupyter/nbgrader" in ln), None)
    fix = "pip install 'nbgrader==0.9.6' && jupyter labextension enable @jupyter/nbgrader"
    if line is None:
        return Check("nbgrader lab extension", False, "not listed by `jupyter labextension list`", fix)
    ok = "enabled" in line and "OK" in line and "disabled" not in line
    return Check("nbgrader lab extension", ok, line.strip(), fix if not ok else "")


def check_server_extension(listing: str) -> Check:
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


def exchange_root(cfg) -> str:
    """The exchange directory nbgrader really uses: Exchange.root from the config, else nbgrader's default."""
    root = cfg_get(cfg, "Exchange", "root")
    if root:
        return str(root)
    from nbgrader.exchange.default.exchange import Exchange

    return Exchange.root.default_value


def check_timeouts(cfg) -> Check:
    t = cfg_get(cfg, "Execute", "timeout") or cfg_get(cfg, "ExecutePreprocessor", "timeout")
    ok = isinstance(t, (int, float)) and t > 0
    return Check("cell timeout (Execute.timeout)", ok, f"{t}s" if ok else "not set (nbgrader default 30s, "
                 "or None = wait forever)", "add `c.Execute.timeout = 120` to nbgrader_config.py")


def check_exchange(cfg) -> Check:
    root = exchange_root(cfg)
    p = Path(root)
    if not p.is_dir():
        return Check("exchange directory", False, f"{root} does not exist",
                     f"mkdir -p {root} && chmod ugo+rwx {root}   (bash run.sh lab creates the course's own)")
    ok = os.access(p, os.W_OK | os.X_OK)
    return Check("exchange directory", ok, f"{root} {'writable' if ok else 'not writable'}", f"chmod ugo+rwx {root}")


def check_course_id(cfg) -> Check:
    cid = cfg_get(cfg, "CourseDirectory", "course_id")
    return Check("course id", bool(cid), cid or "not set", "add `c.CourseDirectory.course_id = 'nnlib'`")


def check_sanitize(cfg) -> Check:
    ok = bool(cfg_get(cfg, "HTMLExporter", "sanitize_html"))
    return Check("feedback HTML sanitised", ok, "HTMLExporter.sanitize_html = True" if ok else "not set",
                 "add `c.HTMLExporter.sanitize_html = True` to nbgrader_config.py (a learner's notebook could "
                 "otherwise run script in your browser)")


def check_filter() -> Check:
    """The system-call filter (isolation.DENIED), the same in both launchers: can this kernel install it?"""
    arch = os.uname().machine
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        status = ""
    ok = arch in seccomp.ARCHES and "Seccomp:" in status
    why = seccomp.describe() if ok else (f"no system-call table for {arch}" if arch not in seccomp.ARCHES
                                         else "this kernel has no seccomp (CONFIG_SECCOMP_FILTER)")
    return Check("system-call filter of every worker (seccomp, native and container mode)", ok, why,
                 "grade on Linux x86_64 or aarch64 with seccomp: without it the learner's code may create "
                 "namespaces, mount, ptrace and use bpf/keyrings/io_uring")


def check_sandbox() -> list[Check]:
    ok, why = sandbox.namespaces_available()
    checks = [Check("grading sandbox (namespaces, new root, own uid, no network)", ok, why,
                    "grade as root on Linux, or with --container (podman; docs/instructor.md, 'Container mode'); "
                    "without either the learner's code can read what you can read and open network connections")]
    if not ok:
        from nnlib_grader import container

        cok, cwhy = container.available()
        checks.append(Check("container mode (grade --container)", cok, cwhy,
                            "apt-get install podman runc (rootless podman works too)"))
    launcher = "native (namespaces as root: sandbox.py + confine.py)" if ok else \
        "podman (grade --container: container.py)" if checks[-1].ok else "none: --no-sandbox only"
    checks.append(Check("launcher", ok or checks[-1].ok, launcher, "see the two checks above"))
    checks.append(check_filter())
    if ok:
        mode = sandbox.cgroup_mode()
        checks.append(Check("memory and pids cgroup for each job", mode is not None,
                            f"cgroup {mode}" if mode else "no cgroup v2 with memory+pids and no v1 hierarchies",
                            "mount cgroup2 with the memory and pids controllers (only rlimits bound a job now)"))
    return checks


def _run_text(cmd: list[str]) -> str:
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        return p.stdout + p.stderr
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"failed: {exc}"


def kernel_name_for(course_dir, cfg) -> str:
    k = cfg_get(cfg, "Execute", "kernel_name") or cfg_get(cfg, "ExecutePreprocessor", "kernel_name")
    if k:
        return k
    src = Path(course_dir) / (cfg_get(cfg, "CourseDirectory", "source_directory") or "source")
    for nb in sorted(src.glob("*/*.ipynb")):
        try:
            return json.loads(nb.read_text())["metadata"]["kernelspec"]["name"]
        except (ValueError, KeyError, OSError):
            continue
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
        checks += [check_course_id(cfg), check_timeouts(cfg), check_exchange(cfg), check_sanitize(cfg)]
    checks += check_sandbox()
    for c in checks:
        out(c.line())
    return checks
