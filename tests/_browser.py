"""Shared by the real-browser tests: Debian's chromium (never `playwright install`) and a free loopback port."""

from __future__ import annotations

import os
import shutil
import socket

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
