"""The isolation policy (grader/nnlib_grader/isolation.py) and its system-call filter (seccomp.py, confine.py).

* the BPF program, run by a small classic-BPF interpreter on generated system calls (Hypothesis), answers exactly
  what the policy says: EPERM for the denied calls and for clone with a namespace flag, ENOSYS for clone3, the
  process killed for another architecture's numbering, everything else allowed;
* the podman profile is the same lists, and refuses at least what podman's own default profile refuses to a
  container without capabilities;
* inside a launched worker (native sandbox, as root) every denied call answers EPERM while the same calls on the
  host answer otherwise (container mode: tests/test_container.py);
* the in-worker file is standard library only and no grader module takes part in an import cycle.
"""

from __future__ import annotations

import ast
import errno
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnlib_grader import isolation, seccomp

GRADER = Path(isolation.GRADER_DIR)
OWNED = {"isolation", "seccomp", "confine", "cgroups", "workers", "sandbox", "container", "doctor"}
ARCH = os.uname().machine
EPERM, ENOSYS, ALLOW, KILL = 0x50000 | errno.EPERM, 0x50000 | errno.ENOSYS, 0x7FFF0000, 0x80000000
NS_MASK = 0
for _bit in isolation.CLONE_NS_FLAGS.values():
    NS_MASK |= _bit


# ------------------------------------------------------------------------------------------ the program, emulated
def run_bpf(prog: bytes, nr: int, arch: int, args: tuple[int, ...]) -> int:
    """Classic BPF as the kernel runs a seccomp filter (the instructions seccomp.py emits, nothing else)."""
    data = struct.pack("=II Q 6Q", nr, arch, 0, *args)  # nr is an int in the kernel: the same 32 bits
    ins = [struct.unpack_from("=HBBI", prog, i) for i in range(0, len(prog), 8)]
    pc, acc = 0, 0
    for _ in range(len(ins) + 1):
        code, jt, jf, k = ins[pc]
        if code == 0x20:
            acc = struct.unpack_from("=I", data, k)[0]
            pc += 1
        elif code in (0x15, 0x35, 0x45):
            hit = acc == k if code == 0x15 else acc >= k if code == 0x35 else bool(acc & k)
            pc += 1 + (jt if hit else jf)
        elif code == 0x06:
            return k
        else:
            raise AssertionError(f"unexpected BPF opcode {code:#x}")
    raise AssertionError("the program did not return")


def expected(arch: str, nr: int, audit: int, args: tuple[int, ...]) -> int:
    want_audit, table = seccomp.ARCHES[arch]
    if audit != want_audit or (arch == "x86_64" and nr >= seccomp.X32_SYSCALL_BIT):
        return KILL
    by_nr = {v: k for k, v in table.items()}
    name = by_nr.get(nr)
    if name in isolation.DENIED:
        return EPERM
    if name in isolation.ENOSYS_CALLS:
        return ENOSYS
    if name == "clone" and args[0] & NS_MASK:
        return EPERM
    return ALLOW


@pytest.mark.parametrize("arch", sorted(seccomp.ARCHES))
@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_the_program_answers_what_the_policy_says(arch, data):
    prog = seccomp.program(arch)
    audit, table = seccomp.ARCHES[arch]
    nr = data.draw(st.one_of(st.sampled_from(sorted(table.values())), st.integers(0, 600),
                             st.integers(0, 2**32 - 1)))
    other = st.sampled_from([0x40000003, 0xC000003E, 0xC00000B7, 0x4000003E, 0])  # i386, both, x32-ish, none
    a = data.draw(st.one_of(st.just(audit), other))
    flags = st.one_of(st.integers(0, 2**64 - 1), st.sampled_from(list(isolation.CLONE_NS_FLAGS.values())),
                      st.sampled_from([0x11, 0x3D0F00, 0x1200011]))  # fork, pthread_create, glibc's fork
    args = tuple(data.draw(flags) for _ in range(6))
    assert run_bpf(prog, nr, a, args) == expected(arch, nr, a, args)


def test_every_denied_name_is_a_system_call_somewhere_and_unknown_arches_are_refused():
    known = {n for _, table in seccomp.ARCHES.values() for n in table}
    assert set(isolation.DENIED) <= known, set(isolation.DENIED) - known
    assert {"unshare", "mount", "umount2", "pivot_root", "ptrace", "bpf", "keyctl", "add_key", "request_key",
            "perf_event_open", "kexec_load", "kexec_file_load", "init_module", "finit_module", "setns",
            "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register"} <= set(isolation.DENIED)
    with pytest.raises(ValueError, match="no system-call table for architecture 'riscv64'"):
        seccomp.program("riscv64")


def test_fork_threads_and_subprocesses_stay_allowed():
    prog = seccomp.program(ARCH)
    audit, table = seccomp.ARCHES[ARCH]
    for flags in (0x11, 0x3D0F00, 0x1200011):  # fork(), pthread_create, glibc fork
        assert run_bpf(prog, table["clone"], audit, (flags, 0, 0, 0, 0, 0)) == ALLOW


# ------------------------------------------------------------------------------------------ the podman profile
def test_podman_profile_is_the_same_policy():
    prof = seccomp.podman_profile()
    assert prof["defaultAction"] == "SCMP_ACT_ALLOW"
    by_errno: dict[int, set[str]] = {}
    clone_bits = set()
    for rule in prof["syscalls"]:
        assert rule["action"] == "SCMP_ACT_ERRNO"
        if rule.get("args"):
            assert rule["names"] == ["clone"] and len(rule["args"]) == 1
            (arg,) = rule["args"]
            assert arg["op"] == "SCMP_CMP_MASKED_EQ" and arg["value"] == arg["valueTwo"] and arg["index"] == 0
            clone_bits.add(arg["value"])
            continue
        by_errno.setdefault(rule["errnoRet"], set()).update(rule["names"])
    assert by_errno == {errno.EPERM: set(isolation.DENIED), errno.ENOSYS: set(isolation.ENOSYS_CALLS)}
    assert clone_bits == set(isolation.CLONE_NS_FLAGS.values())


PODMAN_DEFAULT = Path("/usr/share/containers/seccomp.json")


@pytest.mark.skipif(not PODMAN_DEFAULT.exists(), reason="podman's default profile is not installed")
def test_the_profile_refuses_what_podmans_default_refuses_a_container_without_capabilities():
    default = json.loads(PODMAN_DEFAULT.read_text())
    refused = set()
    for rule in default["syscalls"]:
        if rule["action"] == "SCMP_ACT_ERRNO" and not rule.get("args"):
            refused.update(rule["names"])  # unconditional, or for a container lacking a capability (we drop all)
    ours = set(isolation.DENIED) | set(isolation.ENOSYS_CALLS)
    table = seccomp.ARCHES[ARCH][1]
    missing = {n for n in refused - ours if n in table}
    assert not missing, f"podman's default refuses {sorted(missing)}, the grader's profile allows them"


# ------------------------------------------------------------------------------------------ inside a worker
PROBE = r'''
import ctypes, json, os
libc = ctypes.CDLL(None, use_errno=True)
def call(nr, *args):
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in (args or (0,) * 6)])
    if r == 0 and nr == CLONE:
        os._exit(0)  # only reached if the filter let a namespace clone through
    return [r, ctypes.get_errno()]
TABLE, CLONE, FLAGS = json.loads(ARGS)
out = {name: call(nr) for name, nr in TABLE.items()}
out.update({f"clone {flag}": call(CLONE, bit | 17, 0, 0, 0, 0) for flag, bit in FLAGS.items()})
out["status"] = [ln.split()[1] for ln in open("/proc/self/status") if ln.startswith("Seccomp:")]
pid = os.fork()
if pid == 0:
    os._exit(7)
out["fork"] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
print("PROBE" + json.dumps(out))
'''
# calls that are harmless with zero arguments on the host (as root too) and answer there with something else than
# EPERM unless a filter refuses them
HOST_CONTROL = ("setns", "kcmp", "open_tree", "io_uring_setup", "keyctl", "pidfd_getfd", "name_to_handle_at")


def probe_source(names=None) -> str:
    table = seccomp.ARCHES[ARCH][1]
    names = [n for n in (names or isolation.DENIED + isolation.ENOSYS_CALLS) if n in table]
    args = json.dumps([{n: table[n] for n in names}, table["clone"], isolation.CLONE_NS_FLAGS])
    return f"ARGS = {args!r}\n" + PROBE


def check_probe(out: dict, filters_at_least: int = 1) -> None:
    table = seccomp.ARCHES[ARCH][1]
    for name in isolation.DENIED:
        if name in table:
            assert out[name] == [-1, errno.EPERM], (name, out[name])
    assert out["clone3"] == [-1, errno.ENOSYS]
    for flag in isolation.CLONE_NS_FLAGS:
        assert out[f"clone {flag}"] == [-1, errno.EPERM], flag
    assert int(out["status"][0]) == 2  # SECCOMP_MODE_FILTER
    assert out["fork"] == 7


def run_in_worker(tmp_path, *, container: bool) -> dict:
    from nnlib.grading import policy
    from nnlib_grader import sandbox

    scratch = tmp_path / "scratch"
    scratch.mkdir(mode=0o700)
    w = sandbox.spawn(policy.for_assignment("a05_backprop"), sandbox=not container, scratch=str(scratch), job=3,
                      container=container)
    try:
        reply = w.request({"op": "run", "cells": [{"key": "probe", "source": probe_source()}], "cell_timeout": 30},
                          90)
    finally:
        w.kill()
    (cell,) = reply["cells"]
    assert cell["error"] is None, cell
    return json.loads(cell["output"].split("PROBE", 1)[1])


@pytest.mark.slow
@pytest.mark.skipif(not (sys.platform.startswith("linux") and os.geteuid() == 0 and ARCH in seccomp.ARCHES),
                    reason="the native sandbox needs root on Linux x86_64/aarch64")
def test_each_denied_call_answers_eperm_inside_a_native_worker(tmp_path):
    check_probe(run_in_worker(tmp_path, container=False))


@pytest.mark.slow
@pytest.mark.skipif(not (sys.platform.startswith("linux") and os.geteuid() == 0),
                    reason="the native sandbox needs root on Linux")
def test_the_learners_processes_are_unprivileged_on_the_host_not_only_in_their_namespace(tmp_path):
    """Seen from the grader (the host's /proc), every process of the job inside the new PID namespace — the worker
    and a child it starts — runs as the job's uid with no capabilities.  (A launcher that maps the worker's uid to
    root outside a user namespace, as ``bwrap --unshare-user --uid`` run as root does, fails here while the
    hostile batch, which looks from inside, passes.)"""
    from nnlib.grading import policy
    from nnlib_grader import sandbox

    scratch = tmp_path / "scratch"
    scratch.mkdir(mode=0o700)
    job = 5
    w = sandbox.spawn(policy.for_assignment("a05_backprop"), sandbox=True, scratch=str(scratch), job=job)
    try:
        src = "import subprocess\nchild = subprocess.Popen(['sleep', '30'])\nprint('started')"
        assert "started" in w.request({"op": "run", "cells": [{"key": "c", "source": src}]}, 60)["cells"][0]["output"]
        inside = []
        for pid in os.listdir("/proc"):
            try:
                status = dict(ln.split(":", 1) for ln in Path(f"/proc/{pid}/status").read_text().splitlines())
            except (OSError, ValueError):
                continue
            if pid.isdigit() and len(status.get("NSpid", "").split()) > 1 and _in_job(int(pid), w.proc.pid):
                inside.append((pid, status["Uid"].split(), status["Gid"].split(), int(status["CapEff"], 16)))
    finally:
        w.kill()
    assert len(inside) >= 2, inside  # the worker and its child
    for pid, uids, gids, caps in inside:
        assert set(uids) == set(gids) == {str(isolation.UID_BASE + job)} and caps == 0, (pid, uids, gids, caps)


def _in_job(pid: int, leader: int) -> bool:
    """Is ``pid`` a descendant of the worker process ``leader`` (the host's process tree)?"""
    for _ in range(64):
        if pid == leader:
            return True
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return False
        if pid <= 1:
            return False
    return False


@pytest.mark.skipif(ARCH not in seccomp.ARCHES, reason=f"no system-call table for {ARCH}")
def test_the_host_answers_the_same_calls_otherwise():
    """The control: without the filter these calls fail for other reasons (or succeed), so the worker's EPERM is
    the filter's doing."""
    p = subprocess.run([sys.executable, "-I", "-c", probe_source(HOST_CONTROL).replace(
        "out.update(", "0 and out.update(")], capture_output=True, text=True, timeout=60)
    out = json.loads(p.stdout.split("PROBE", 1)[1])
    other = [n for n in HOST_CONTROL if out[n] != [-1, errno.EPERM]]
    assert len(other) >= len(HOST_CONTROL) - 1, out
    if out["status"][0] == "0":
        assert other == list(HOST_CONTROL), out


def test_install_filter_refuses_a_malformed_program():
    confine = _load_confine()
    with pytest.raises(ValueError, match="multiple of 8 bytes, not 3"):
        confine.install_filter("aabbcc")


def _load_confine():
    import importlib.util

    spec = importlib.util.spec_from_file_location("confine_under_test", GRADER / "confine.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# ------------------------------------------------------------------------------------------ structure
def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def test_the_in_worker_file_is_standard_library_only():
    for mod in _imports(GRADER / "confine.py") - {"__future__"}:
        assert mod.split(".")[0] in sys.stdlib_module_names, mod


def test_no_grader_module_of_the_boundary_is_in_an_import_cycle():
    import graphlib
    import importlib

    mods = sorted(p.stem for p in GRADER.glob("*.py") if p.stem != "__main__")
    graph = {}
    for m in mods:
        importlib.import_module(f"nnlib_grader.{m}")  # every module imports on its own
        deps = {d.split(".")[1] for d in _imports(GRADER / f"{m}.py") if d.startswith("nnlib_grader.")}
        graph[m] = {d for d in deps if d in mods and d != m}
    # the strongly connected components: a cycle is a component of more than one module
    index, low, stack, on, comps = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            comps.append(comp)

    for v in mods:
        if v not in index:
            visit(v)
    cycles = [c for c in comps if len(c) > 1]
    assert not [c for c in cycles if c & OWNED], cycles
    sub = {m: graph[m] & OWNED for m in OWNED if m in graph}
    list(graphlib.TopologicalSorter(sub).static_order())  # raises CycleError on a cycle among them


# ------------------------------------------------------------------------------------------ doctor
def test_doctor_names_the_launcher_and_the_filter(monkeypatch):
    from nnlib_grader import doctor

    lines = [c.line() for c in doctor.check_sandbox()]
    assert any(ln.startswith(("✓ launcher: native", "✓ launcher: podman", "✗ launcher: none")) for ln in lines), lines
    filt = doctor.check_filter()
    if ARCH in seccomp.ARCHES:
        assert filt.ok and f"{len(isolation.DENIED)} calls refused" in filt.detail
    monkeypatch.setattr(seccomp, "ARCHES", {})
    bad = doctor.check_filter()
    assert not bad.ok and bad.detail == f"no system-call table for {ARCH}" and "namespaces, mount" in bad.fix
