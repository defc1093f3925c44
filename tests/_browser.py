"""Shared by the real-browser tests: Debian's chromium (never `playwright install`), a free loopback port, and
a Jupyter server started in its own process group and waited for until it answers."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def require_chromium() -> None:
    """Skip the calling module without chromium; under CI=true its absence is an error."""
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            raise RuntimeError("CI=true but Debian's chromium is not installed: the browser tests cannot run")
        pytest.skip("chromium not installed (apt-get install chromium); browser tests skipped",
                    allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``cmd`` (JupyterLab, or ``run.sh lab|student``) serving ``url`` with ``token``; started, and waited for
    until ``/api/status`` answers (its log in ``log_path``); ``stop()`` ends its whole process group."""

    def __init__(self, cmd: list[str], url: str, token: str, log_path: Path, env: dict, cwd: str | None = None,
                 timeout: float = 120, what: str = "JupyterLab"):
        self.url, self.token, self.log_path = url, token, log_path
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.time() + timeout
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                return
            except OSError as exc:
                if self.proc.poll() is not None or time.time() > deadline:
                    self.stop()
                    raise RuntimeError(f"{what} did not start:\n{log_path.read_text()[-3000:]}") from exc
                time.sleep(0.5)  # the polling interval of the wait for /api/status

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, 15)
            self.proc.wait(20)
        except (ProcessLookupError, PermissionError):
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait()
        self.log.close()
