"""A Dask grading cluster spread over network namespaces: each "machine" its own netns on a private /24.

:class:`Cluster` builds, with iproute2 (``ip netns``, ``ip link``), a switch namespace holding a Linux bridge and
one namespace per host, each joined to the bridge by a veth pair (``eth0`` in the host, ``p-<host>`` on the
switch) and given one address on ``10.77.0.0/24``: the scheduler at .1, the grader (the Dask client) at .2, the
workers at .11, .12 ….  Nothing is added to the caller's own namespace: every interface and address lives in a
namespace made here, named ``nm<pid>x<n>-…`` so that runs side by side never meet.  The scheduler and the workers are
``python -m dask scheduler|worker`` processes started inside their namespace (``ip netns exec``) over mutual TLS
with the certificates of ``python -m nnlib_grader certs``; the workers run under a nanny, as on a real machine.

Faults: :meth:`Cluster.cut` / :meth:`Cluster.restore` take a host's link down and up (on the switch side, so the
host sees its carrier drop), :meth:`Cluster.kill_worker` SIGKILLs a worker (its nanny starts a new one, as after
an OOM kill) or the whole host (nanny too), :meth:`Cluster.kill_scheduler` / :meth:`Cluster.start_scheduler`
restart the scheduler on the same address.  :meth:`Cluster.close` (also on ``with`` exit and at interpreter exit)
kills every process it started, by process group, and deletes its namespaces, whatever happened before.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

SUBNET = "10.77.0"
PORT = 8786


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True, timeout=30)


def available() -> tuple[bool, str]:
    """Can this process make network namespaces and veth pairs? (root, iproute2, CAP_NET_ADMIN, veth + bridge)."""
    if shutil.which("ip") is None:
        return False, "iproute2's ip is not installed"
    if os.geteuid() != 0:
        return False, "network namespaces need root"
    name = f"nm{os.getpid()}-probe"
    try:
        _ip("netns", "add", name)
        _ip("-n", name, "link", "add", "name", "vprobe0", "type", "veth", "peer", "name", "vprobe1")
        _ip("-n", name, "link", "add", "name", "probebr", "type", "bridge")
        return True, ""
    except (subprocess.CalledProcessError, OSError) as exc:
        return False, f"ip netns/veth/bridge refused: {getattr(exc, 'stderr', '') or exc}".strip()
    finally:
        _ip("netns", "del", name, check=False)


class Cluster:
    """A scheduler host, a grader host and ``workers`` worker hosts (see the module doc)."""

    _made = 0  # clusters made by this process: each gets its own namespace names

    def __init__(self, certs: Path, logs: Path, workers: int = 2, env: dict | None = None,
                 scheduler_env: dict | None = None):
        Cluster._made += 1
        self.tag = f"nm{os.getpid()}x{Cluster._made}"
        self.certs, self.logs = Path(certs), Path(logs)
        self.logs.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, **(env or {})}
        self.scheduler_env = scheduler_env or {}
        self.hosts = {"sched": f"{SUBNET}.1", "grader": f"{SUBNET}.2",
                      **{f"w{i + 1}": f"{SUBNET}.{11 + i}" for i in range(workers)}}
        self.workers = [h for h in self.hosts if h.startswith("w")]
        self.address = f"tls://{self.hosts['sched']}:{PORT}"
        self.procs: dict[str, subprocess.Popen] = {}
        self.namespaces: list[str] = []
        self._starts = 0
        self._mark: dict[str, int] = {}
        atexit.register(self.close)

    def ns(self, host: str) -> str:
        return f"{self.tag}-{host}"

    # -- the network ---------------------------------------------------------------------------------------
    def build(self) -> Cluster:
        sw = self.ns("sw")
        self._add_ns(sw)
        _ip("-n", sw, "link", "add", "br0", "type", "bridge", "forward_delay", "0", "stp_state", "0")
        _ip("-n", sw, "link", "set", "br0", "up")
        for host, addr in self.hosts.items():
            ns = self.ns(host)
            self._add_ns(ns)
            port = f"p-{host}"
            _ip("-n", sw, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns)
            _ip("-n", sw, "link", "set", port, "master", "br0", "up")
            _ip("-n", ns, "addr", "add", f"{addr}/24", "dev", "eth0")
            _ip("-n", ns, "link", "set", "eth0", "up")
        return self

    def _add_ns(self, name: str) -> None:
        _ip("netns", "add", name)
        self.namespaces.append(name)
        _ip("-n", name, "link", "set", "lo", "up")

    def cut(self, host: str) -> None:
        """Take ``host``'s link down: its packets go nowhere until :meth:`restore` (its sockets stay open)."""
        _ip("-n", self.ns("sw"), "link", "set", f"p-{host}", "down")

    def restore(self, host: str, timeout: float = 20) -> None:
        """Bring ``host``'s link back and wait until it reaches the scheduler's host again."""
        _ip("-n", self.ns("sw"), "link", "set", f"p-{host}", "up")
        deadline = time.monotonic() + timeout
        while not self.reachable(host, "sched"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{host}: link up but {self.hosts['sched']} unreachable after {timeout:.0f} s")
            time.sleep(0.2)

    def reachable(self, src: str, dst: str, port: int = PORT) -> bool:
        """Does a TCP connection from ``src`` to ``dst``:``port`` open (or get refused: the host answered)?"""
        code = ("import socket,sys\ntry: socket.create_connection((sys.argv[1], int(sys.argv[2])), 2)\n"
                "except ConnectionRefusedError: pass\nexcept OSError: sys.exit(1)")
        return subprocess.run(["ip", "netns", "exec", self.ns(src), sys.executable, "-c", code, self.hosts[dst],
                               str(port)], capture_output=True, timeout=20).returncode == 0

    # -- processes -----------------------------------------------------------------------------------------
    def popen(self, host: str, argv: list[str], log: str, env: dict | None = None) -> subprocess.Popen:
        """``argv`` inside ``host``'s namespace, in its own process group, output to ``logs/<log>``."""
        fh = open(self.logs / log, "ab")
        try:
            return subprocess.Popen(["ip", "netns", "exec", self.ns(host), *argv], env={**self.env, **(env or {})},
                                    stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            fh.close()

    def _tls(self, role: str) -> list[str]:
        return ["--tls-ca-file", str(self.certs / "ca.pem"), "--tls-cert", str(self.certs / f"{role}.pem"),
                "--tls-key", str(self.certs / f"{role}-key.pem")]

    def start_scheduler(self, timeout: float = 60, wait: bool = True) -> None:
        self._starts += 1
        log = f"scheduler-{self._starts}.log"
        self.procs["sched"] = self.popen(
            "sched", [sys.executable, "-m", "dask", "scheduler", "--protocol", "tls", "--host", self.hosts["sched"],
                      "--port", str(PORT), "--no-dashboard", *self._tls("scheduler")], log, self.scheduler_env)
        if wait:
            self.wait_scheduler(timeout)

    def wait_scheduler(self, timeout: float = 60) -> None:
        self._wait_log(f"scheduler-{self._starts}.log", "Scheduler at:", timeout, self.procs["sched"])

    def start_worker(self, host: str, timeout: float = 120, wait: bool = True) -> None:
        """``host``'s worker under a nanny, kept running by a shell loop (the machine's service manager: a
        worker closes itself when it loses its scheduler, and the loop starts it again, as systemd would).
        The worker imports the grading job at start (``--preload``), not in its first job."""
        log = f"{host}.log"
        self._mark[host] = (self.logs / log).stat().st_size if (self.logs / log).exists() else 0
        argv = [sys.executable, "-m", "dask", "worker", self.address, "--name", host, "--nthreads", "1",
                "--host", self.hosts[host], "--no-dashboard", "--death-timeout", "120",
                "--preload", "nnlib_grader.job", *self._tls("worker")]
        self.procs[host] = self.popen(host, ["sh", "-c", 'while :; do "$@"; sleep 1; done', "sh", *argv], log)
        if wait:
            self.wait_worker(host, timeout)

    def wait_worker(self, host: str, timeout: float = 120) -> None:
        self._wait_log(f"{host}.log", "Registered to:", timeout, self.procs[host], self._mark.get(host, 0))

    def start(self, wait: bool = True) -> Cluster:
        """Boot the scheduler and the workers side by side (a worker waits for its scheduler); ``wait=False``
        returns at once: call :meth:`wait_started` before using the cluster."""
        self.start_scheduler(wait=False)
        for w in self.workers:
            self.start_worker(w, wait=False)
        if wait:
            self.wait_started()
        return self

    def wait_started(self) -> None:
        self.wait_scheduler()
        for w in self.workers:
            self.wait_worker(w)

    def _wait_log(self, log: str, text: str, timeout: float, proc: subprocess.Popen, start: int = 0) -> None:
        path, deadline = self.logs / log, time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in path.read_text(errors="replace")[start:]:
                return
            if proc.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError(f"{log}: no {text!r} after {timeout:.0f} s (exit {proc.poll()}):\n"
                           + path.read_text(errors="replace")[-3000:])

    def registrations(self, host: str) -> int:
        """How many times ``host``'s worker registered with a scheduler (a restarted worker registers again)."""
        path = self.logs / f"{host}.log"
        return path.read_text(errors="replace").count("Registered to:") if path.exists() else 0

    def worker_pids(self, host: str) -> list[int]:
        """The worker processes of ``host`` (started by its nanny: multiprocessing's spawn), not the nanny."""
        group, out = self.procs[host].pid, []
        for d in Path("/proc").iterdir():
            if d.name.isdigit():
                with contextlib.suppress(OSError):
                    if os.getpgid(int(d.name)) == group and b"spawn_main" in (d / "cmdline").read_bytes():
                        out.append(int(d.name))
        return out

    def kill_worker(self, host: str, whole_host: bool = False) -> None:
        """SIGKILL ``host``'s worker process (its nanny starts another) or, ``whole_host``, nanny and all."""
        if whole_host:
            self._kill(host)
            return
        for pid in self.worker_pids(host):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def kill_scheduler(self) -> None:
        self._kill("sched")

    def restart_scheduler(self) -> None:
        """SIGKILL the scheduler and start a new one on the same address (its workers find it again)."""
        self.kill_scheduler()
        self.start_scheduler()

    def _kill(self, name: str) -> None:
        p = self.procs.pop(name, None)
        if p is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            p.wait(timeout=10)

    def close(self) -> None:
        for name in list(self.procs):
            self._kill(name)
        for ns in reversed(self.namespaces):
            for pid in _ip("netns", "pids", ns, check=False).stdout.split():  # only processes of our namespaces
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
            _ip("netns", "del", ns, check=False)
        self.namespaces.clear()

    def __enter__(self) -> Cluster:
        try:
            return self.build().start(wait=False)
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc) -> None:  # ``with`` returns the cluster booting: call wait_started()
        self.close()
