"""The grader's cost of two hostile replies from a worker (issue 24): peak memory and time.

    python bench/hostile_replies.py lists                    # ~22 M empty lists (66 MB: was under the frame cap)
    python bench/hostile_replies.py lists --count 5500000    # 5.5 M empty lists (16.5 MB: under today's cap)
    python bench/hostile_replies.py message                  # a cell error message forged to 3 MB, explained
    python bench/hostile_replies.py message --size 200000

Each measurement runs in a fresh process (its own peak RSS, ``ru_maxrss``) that reads the frame from a socket the
way ``sandbox.Worker.request`` does, with a wall-clock limit (``--limit``, default 120 s) after which it is killed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import struct
import subprocess
import sys
import time

LISTS = 22_000_000


def _frame(payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + payload


def lists_payload(n: int) -> bytes:
    return b"[" + b"[]," * (n - 1) + b"[]]"


def message_payload(size: int) -> bytes:
    msg = "shapes (" * (size // 8)  # what made the explainer's `shapes \((...)\) and` quadratic
    err = {"type": "ValueError", "message": msg, "line": "", "lineno": None, "cell": "add"}
    return json.dumps({"cells": [{"key": "add", "error": err, "output": ""}]}).encode()


def _serve(make, *args) -> socket.socket:
    """A forked writer (the 'worker') that builds and sends the frame: the measured process holds only what it
    reads and decodes."""
    a, b = socket.socketpair()
    if os.fork() == 0:  # pragma: no cover - child
        a.close()
        try:
            b.sendall(_frame(make(*args)))
        finally:
            os._exit(0)
    b.close()
    return a


def measure(kind: str, size: int, count: int = LISTS) -> dict:
    from nnlib_grader import protocol as P

    sock = _serve(lists_payload, count) if kind == "lists" else _serve(message_payload, size)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    outcome = "decoded"
    try:
        reply = P.recv(sock)
        if kind == "message":
            from nnlib.grading import _core as C

            cells = P.cell_results(reply) if hasattr(P, "cell_results") else reply["cells"]
            err = cells[0]["error"]
            C.explain(str(err.get("type")), str(err.get("message")))
            outcome = f"explained a message of {len(str(err.get('message')))} characters"
    except Exception as exc:  # noqa: BLE001 - what the grader sees
        outcome = f"{type(exc).__name__}: {str(exc)[:160]}"
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"kind": kind, "count": count if kind == "lists" else None, "seconds": round(seconds, 3),
            "rss_before_mb": round(rss0), "peak_rss_mb": round(peak),
            "outcome": outcome}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", choices=["lists", "message"])
    ap.add_argument("--size", type=int, default=3_000_000, help="message size in bytes (message)")
    ap.add_argument("--count", type=int, default=LISTS, help="how many empty lists (lists)")
    ap.add_argument("--limit", type=float, default=120, help="kill the measurement after this many seconds")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        print(json.dumps(measure(a.kind, a.size, a.count)))
        return 0
    t0 = time.perf_counter()
    try:
        out = subprocess.run([sys.executable, __file__, a.kind, "--size", str(a.size), "--count", str(a.count),
                              "--child"],
                             capture_output=True, text=True, timeout=a.limit)
        print(out.stdout.strip() or out.stderr[-2000:])
    except subprocess.TimeoutExpired:
        print(json.dumps({"kind": a.kind, "seconds": f"> {a.limit:g} (killed)",
                          "wall": round(time.perf_counter() - t0, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
