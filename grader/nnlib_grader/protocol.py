"""The data that crosses the trust boundary, encoded and decoded here and nowhere else.

Frames are length-prefixed JSON; arrays travel as typed bytes.  No pickle, no code: only numbers, strings, lists,
tuples (``__tuple__``), dicts with string keys, NumPy arrays of plain numeric dtypes (``__nd__``), a network's data
(``__net__``), the name of a fixture function (``__fn__``, grader → worker), a reference to an argument
(``__arg__``, worker → grader: "I returned the object you passed as argument i") and the repr of an object that
cannot cross (``__repr__``, worker → grader).  Which object an ``__arg__`` or ``__fn__`` names and what a network
becomes is the caller's business (a ``special`` hook); everything else is spelled only in this module.

Everything the worker sends is hostile.  :func:`recv` reads a frame under a :class:`Budget` — bytes, JSON values,
nesting — checked by a linear scan of the raw bytes *before* any Python object is made, so a reply of millions of
tiny values costs the grader nothing; :func:`decode` then bounds array elements and string lengths, and the reply
readers (:func:`cell_results`, :func:`call_reply`, :func:`get_reply`, :func:`error_info`) cap every text field and
validate exception type names.  Any failure of decoding is a :class:`ProtocolError` naming what was wrong.

This file is loaded by path inside the sandboxed worker: it imports nothing from nnlib or nnlib_grader (stdlib,
and NumPy lazily).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_FRAME = 64 * 2**20   # bytes of one frame the grader sends (the worker's replies: Budget.frame_bytes)
MAX_DEPTH = 12           # logical nesting of a value (lists, tuples, dicts)
DTYPES = {"float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"}
SPECIALS = ("__net__", "__fn__", "__arg__", "__repr__")

# the caps of the text fields of a reply (characters); longer text is cut, with a note
TYPE_NAME_CHARS = 80
MESSAGE_CHARS = 2000
LINE_CHARS = 300
CELL_OUTPUT_CHARS = 20_000
REPR_CHARS = 200
_CUT = "… [cut by the grader]"
_SURROGATE = re.compile("[\ud800-\udfff]")
_TYPE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")  # applied to ≤ 80 characters


class ProtocolError(ValueError):
    """A frame that is not well-formed data within budget: the message names what was wrong."""


@dataclass(frozen=True)
class Budget:
    """What one frame may hold.  Over any of these, :func:`recv` / :func:`decode` raise :class:`ProtocolError`."""

    frame_bytes: int = 16 * 2**20      # the largest honest reply of the course is ~1 MB (a08: the training data back)
    values: int = 200_000              # JSON values (numbers, strings, lists, dicts, keys), counted before parsing
    raw_depth: int = 64                # bracket nesting of the raw JSON (a tuple or an array adds two levels)
    array_elements: int = 2**21        # all array elements of one frame together (16 MiB as float64)
    string_chars: int = 65_536         # one string that is not an array's data


FROM_WORKER = Budget()
FROM_GRADER = Budget(frame_bytes=MAX_FRAME, values=4_000_000, array_elements=2**23)  # trusted: larger arguments


# ---------------------------------------------------------------------------------------------------- frames


class Pipe:
    """A channel over two file descriptors with the socket methods the protocol uses (container mode: the worker's
    stdin/stdout through podman)."""

    def __init__(self, rfd: int, wfd: int):
        self.rfd, self.wfd, self.timeout = rfd, wfd, None

    def settimeout(self, t) -> None:
        self.timeout = t

    def gettimeout(self):
        return self.timeout

    def sendall(self, data: bytes) -> None:
        import os

        view = memoryview(data)
        while view:
            n = os.write(self.wfd, view)
            view = view[n:]

    def recv_into(self, view: memoryview, n: int) -> int:
        import os
        import select

        if self.timeout is not None:
            ready, _, _ = select.select([self.rfd], [], [], self.timeout)
            if not ready:
                raise TimeoutError(f"no reply within {self.timeout:g} s")
        return os.readv(self.rfd, [view[:n]])

    def close(self) -> None:
        import os

        for fd in (self.rfd, self.wfd):
            try:
                os.close(fd)
            except OSError:
                pass


def send(sock, obj, budget: Budget | None = None) -> None:
    """Send one frame; with ``budget`` (the worker's replies) refuse what the other side would refuse, so that an
    honest reply over the limits fails alone instead of ending the session."""
    data = json.dumps(obj, allow_nan=True).encode()
    if len(data) > MAX_FRAME:
        raise ProtocolError(f"message of {len(data)} bytes is over the {MAX_FRAME} byte limit")
    if budget is not None:
        scan(data, budget)
    sock.sendall(struct.pack(">I", len(data)) + data)


def _read_exact(sock, n: int, deadline: float | None) -> bytearray:
    """Exactly ``n`` bytes into one buffer allocated once (a frame costs its size, not twice), by ``deadline``."""
    buf = bytearray(n)
    view, got = memoryview(buf), 0
    while got < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"the frame did not arrive in time ({got} of {n} bytes)")
            sock.settimeout(left)
        k = sock.recv_into(view[got:], min(n - got, 1 << 20))
        if not k:
            raise EOFError("the other side closed the connection")
        got += k
    return buf


def recv(sock, budget: Budget = FROM_WORKER):
    """One frame as JSON data (dicts, lists, strings, numbers), within ``budget``.

    The socket's timeout is the time for the whole frame, not for each read (a reply trickled one byte at a time
    ends at that time).  A closed channel is :class:`EOFError`, a late one :class:`TimeoutError`; every failure
    of decoding — over budget, not JSON, not UTF-8, too deep, out of memory — is :class:`ProtocolError`."""
    timeout = sock.gettimeout()
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        (n,) = struct.unpack(">I", _read_exact(sock, 4, deadline))
        if n > budget.frame_bytes:
            raise ProtocolError(f"a frame of {n} bytes is over the budget of {budget.frame_bytes} bytes")
        data = _read_exact(sock, n, deadline)
    finally:
        if deadline is not None:
            sock.settimeout(timeout)
    return loads(data, budget)


def loads(data: bytes | bytearray, budget: Budget = FROM_WORKER):
    """``json.loads`` of a frame after :func:`scan` has checked it within ``budget``; failures → ProtocolError."""
    try:
        scan(data, budget)
        return json.loads(data.decode("utf-8"))
    except ProtocolError:
        raise
    except (RecursionError, MemoryError, ValueError, OverflowError, TypeError) as exc:  # UnicodeError is a ValueError
        raise ProtocolError(f"not well-formed JSON ({type(exc).__name__}: {str(exc)[:200]})") from None


_NEXT = re.compile(rb'["\[\]{},:]')  # the next byte that matters to the structure (one C-level search)


def scan(data: bytes | bytearray, budget: Budget = FROM_WORKER) -> int:
    """Bound the number of JSON values of ``data`` and check its nesting, in one pass that makes no Python object
    per value: a frame over ``budget`` is refused before anything is parsed.

    Numbers, literals, whitespace and the inside of strings are skipped by C-level searches; Python runs once per
    bracket, comma, colon, string or escaped quote, and each of those spends one unit of the budget, so the work
    is linear in the bytes and at most ``budget.values`` steps.  Returns the bound (opening brackets count twice:
    the container and its first element)."""
    if len(data) > budget.frame_bytes:
        raise ProtocolError(f"a frame of {len(data)} bytes is over the budget of {budget.frame_bytes} bytes")
    search, find, pos, values, depth = _NEXT.search, data.find, 0, 1, 0
    while (m := search(data, pos)) is not None:
        at = m.start()
        c = data[at]
        pos = at + 1
        if c == 0x22:  # a string: to the first quote not escaped by an odd number of backslashes
            while True:
                q = find(b'"', pos)
                if q < 0:
                    raise ProtocolError(f"not JSON: a string that never ends at byte {at}")
                pos = q + 1
                run = data[max(at + 1, q - 64):q]
                slashes = len(run) - len(run.rstrip(b"\\"))
                if slashes == len(run) and len(run) == 64:  # a longer run of backslashes: count it exactly
                    span = data[at + 1:q]
                    slashes = len(span) - len(span.rstrip(b"\\"))
                if slashes % 2 == 0:
                    break
                values += 1  # an escaped quote: one more step of this loop
                if values > budget.values:
                    raise ProtocolError(f"more than {budget.values} values in one frame (the budget)")
            continue
        if c in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > budget.raw_depth:
                raise ProtocolError(f"nested deeper than {budget.raw_depth} levels")
            values += 2
        elif c in (0x5D, 0x7D):  # ] }
            depth -= 1
            if depth < 0:
                raise ProtocolError(f"not JSON: an unmatched bracket at byte {at}")
            continue
        else:  # , :
            values += 1
        if values > budget.values:
            raise ProtocolError(f"more than {budget.values} values in one frame (the budget)")
    return values


# ---------------------------------------------------------------------------------------------------- arrays


def encode_array(a) -> dict:
    import numpy as np

    a = np.ascontiguousarray(a)
    if a.dtype.name not in DTYPES:
        if a.dtype.kind in "fiub":
            a = a.astype(np.float64)
        else:
            raise ProtocolError(f"array of dtype {a.dtype} is not plain numbers")
    return {"__nd__": [a.dtype.name, list(a.shape), base64.b64encode(a.tobytes()).decode()]}


class Tally:
    """The array elements of one decode (one frame) so far."""

    def __init__(self, budget: Budget):
        self.budget, self.elements = budget, 0

    def add(self, n: int) -> None:
        self.elements += n
        if self.elements > self.budget.array_elements:
            raise ProtocolError(f"more than {self.budget.array_elements} array elements in one frame (the budget)")


def decode_array(spec, tally: Tally | None = None):
    import numpy as np

    if not (isinstance(spec, list) and len(spec) == 3):
        raise ProtocolError("bad array: expected [dtype, shape, data]")
    dtype, shape, data = spec
    if dtype not in DTYPES or not isinstance(shape, list) or len(shape) > 32 or \
            not all(type(s) is int and 0 <= s <= 2**40 for s in shape):
        raise ProtocolError(f"bad array dtype/shape {str(dtype)[:40]!r} {str(shape)[:80]}")
    if not isinstance(data, str):
        raise ProtocolError("bad array: its data is not a base64 string")
    count = math.prod(shape)
    (tally or Tally(FROM_WORKER)).add(count)
    size = count * np.dtype(dtype).itemsize
    if len(data) != 4 * ((size + 2) // 3):
        raise ProtocolError("array data does not match its shape")
    try:
        raw = binascii.a2b_base64(data.encode("ascii"), strict_mode=True)
    except (ValueError, binascii.Error) as exc:
        raise ProtocolError(f"array data is not base64 ({exc})") from None
    if len(raw) != size:
        raise ProtocolError("array data does not match its shape")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


# ---------------------------------------------------------------------------------------------------- values


def text(value: Any, cap: int) -> str:
    """A string from the other side, at most ``cap`` characters (cut with a note) and encodable as UTF-8 (a lone
    surrogate, which would break every file the grader writes, becomes U+FFFD)."""
    s = value if isinstance(value, str) else str(value)
    if len(s) > cap:
        s = s[:cap] + _CUT
    if not s.isascii():
        s = _SURROGATE.sub("\ufffd", s)
    return s


def type_name(value: Any) -> str:
    """An exception's type name: a (dotted) identifier of at most 80 characters, else ``"Exception"``."""
    s = value if isinstance(value, str) else ""
    return s if len(s) <= TYPE_NAME_CHARS and _TYPE_NAME.fullmatch(s) else "Exception"


@dataclass
class Opaque:
    """An object of the learner's that cannot cross the boundary, shown by its type and (capped) repr."""

    type_name: str
    text: str

    def __repr__(self) -> str:
        return f"<{self.type_name}: {self.text}>"


@dataclass
class NetData:
    """A network's data as it crosses (the caller builds its own network object from it)."""

    sizes: list
    weights: list
    biases: list
    methods: tuple


def net_wire(sizes, weights, biases, methods) -> dict:
    import numpy as np

    def arr(v):
        return encode_array(np.asarray(v, dtype=np.float64))

    return {"__net__": {"sizes": [int(s) for s in sizes], "weights": [arr(w) for w in weights],
                        "biases": [arr(b) for b in biases], "methods": [str(m) for m in methods]}}


def _net(value, tally: Tally) -> NetData:
    if not (isinstance(value, dict) and isinstance(value.get("sizes"), list)
            and isinstance(value.get("weights"), list) and isinstance(value.get("biases"), list)):
        raise ProtocolError("bad network: expected sizes, weights and biases")
    sizes, methods = value["sizes"], value.get("methods", [])
    if len(sizes) > 64 or not all(type(s) is int and 0 < s <= 2**24 for s in sizes):
        raise ProtocolError("bad network sizes")
    if not isinstance(methods, list) or len(methods) > 64 or \
            not all(isinstance(m, str) and len(m) <= 64 and m.isidentifier() for m in methods):
        raise ProtocolError("bad network methods")
    return NetData(list(sizes), [decode_array(_nd(w), tally) for w in value["weights"][:64]],
                   [decode_array(_nd(b), tally) for b in value["biases"][:64]], tuple(methods))


def _nd(obj):
    if not (isinstance(obj, dict) and len(obj) == 1 and "__nd__" in obj):
        raise ProtocolError("bad network: its weights and biases must be arrays")
    return obj["__nd__"]


def encode(obj, hook: Callable[[Any], Any] | None = None, unknown: Callable[[Any], Any] | None = None,
           depth: int = 0):
    """Plain wire data of ``obj``.  ``hook(obj)`` may claim an object first (return its wire form, or None);
    ``unknown(obj)`` encodes what is neither plain nor claimed (default: TypeError)."""
    import numpy as np

    if depth > MAX_DEPTH:
        raise ProtocolError(f"nested deeper than {MAX_DEPTH} levels")
    if hook is not None:
        claimed = hook(obj)
        if claimed is not None:
            return claimed
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return encode_array(obj if obj.dtype.kind in "fiub" else obj.astype(np.float64))
    if isinstance(obj, list):
        return [encode(v, hook, unknown, depth + 1) for v in obj]
    if isinstance(obj, tuple):
        return {"__tuple__": [encode(v, hook, unknown, depth + 1) for v in obj]}
    if isinstance(obj, dict):
        return {str(k): encode(v, hook, unknown, depth + 1) for k, v in obj.items()}
    if hasattr(obj, "__array__"):  # an array-like (a CuPy array, a matrix): its values as float64
        return encode_array(np.asarray(obj, dtype=np.float64))
    if unknown is not None:
        return unknown(obj)
    raise TypeError(f"cannot send {type(obj).__name__} across the grading boundary")


def opaque(obj) -> dict:
    """The ``__repr__`` wire form of an object that cannot cross."""
    try:
        shown = repr(obj)[:REPR_CHARS]
    except Exception:  # noqa: BLE001 - the learner's __repr__ may raise anything
        shown = f"<{type(obj).__name__}>"
    return {"__repr__": {"type": type(obj).__name__[:TYPE_NAME_CHARS], "text": shown}}


def decode(obj, special: Callable[[str, Any], Any] | None = None, budget: Budget = FROM_WORKER,
           tally: Tally | None = None, depth: int = 0):
    """Values from wire data: arrays, tuples, capped strings.  ``special(kind, value)`` turns the validated value
    of a ``__net__`` (:class:`NetData`), ``__fn__`` (a name), ``__arg__`` (an index) or ``__repr__``
    (:class:`Opaque`) into an object, or refuses it with ProtocolError; without it they are refused."""
    tally = tally or Tally(budget)
    if depth > MAX_DEPTH:
        raise ProtocolError(f"nested deeper than {MAX_DEPTH} levels")
    if obj is None or isinstance(obj, (bool, float)):
        return obj
    if isinstance(obj, int):  # what NumPy can hold: a larger one would fail in the grader's checks, not here
        if not -2**63 <= obj < 2**64:
            raise ProtocolError("an integer beyond 64 bits")
        return obj
    if isinstance(obj, str):
        if len(obj) > budget.string_chars:
            raise ProtocolError(f"a string of {len(obj)} characters is over the budget of {budget.string_chars}")
        return text(obj, budget.string_chars)
    if isinstance(obj, list):
        return [decode(v, special, budget, tally, depth + 1) for v in obj]
    if not isinstance(obj, dict):
        raise ProtocolError(f"type {type(obj).__name__} is not allowed")
    if len(obj) == 1:
        ((k, v),) = obj.items()
        if k == "__nd__":
            return decode_array(v, tally)
        if k == "__tuple__":
            if not isinstance(v, list):
                raise ProtocolError("bad tuple")
            return tuple(decode(x, special, budget, tally, depth + 1) for x in v)
        if k in SPECIALS:
            if special is None:
                raise ProtocolError(f"{k} is not allowed here")
            return special(k, _special_value(k, v, tally))
    return {decode(k, None, budget, tally, depth): decode(v, special, budget, tally, depth + 1)
            for k, v in obj.items()}


def _special_value(kind: str, v, tally: Tally):
    if kind == "__net__":
        return _net(v, tally)
    if kind == "__arg__":
        if type(v) is not int or not 0 <= v < 256:
            raise ProtocolError("bad argument reference")
        return v
    if kind == "__fn__":
        if not (isinstance(v, str) and len(v) <= 80 and v.isidentifier()):
            raise ProtocolError("bad fixture name")
        return v
    if not isinstance(v, dict):
        raise ProtocolError("bad __repr__")
    return Opaque(type_name(v.get("type")), text(v.get("text", ""), REPR_CHARS))


# ---------------------------------------------------------------------------------------------------- replies


def _dict(reply, what: str) -> dict:
    if not isinstance(reply, dict):
        raise ProtocolError(f"{what} is not a dict")
    return reply


def error_info(e) -> dict:
    """An exception described by the worker: type name validated, message, line and cell capped."""
    e = _dict(e, "an error")
    lineno = e.get("lineno")
    return {"type": type_name(e.get("type")), "message": text(e.get("message", ""), MESSAGE_CHARS),
            "line": text(e.get("line", "") or "", LINE_CHARS),
            "lineno": lineno if type(lineno) is int and 0 <= lineno < 10**7 else None,
            "cell": text(e.get("cell"), 120) if e.get("cell") is not None else None}


def cell_results(reply) -> list[dict]:
    """The reply to ``run``: per cell its key, its error (:func:`error_info`) or None, and its capped output."""
    cells = _dict(reply, "the reply to run").get("cells")
    if not isinstance(cells, list):
        raise ProtocolError("the reply to run has no list of cells")
    out = []
    for c in cells:
        c = _dict(c, "a cell result")
        out.append({"key": text(c.get("key", ""), 200),
                    "error": error_info(c["error"]) if c.get("error") else None,
                    "output": text(c.get("output", "") or "", CELL_OUTPUT_CHARS)})
    return out


def get_reply(reply) -> dict:
    """The reply to ``get``: defined, callable, and the raw value (decode it with :func:`decode`)."""
    reply = _dict(reply, "the reply to get")
    return {"defined": reply.get("defined") is True, "callable": reply.get("callable") is True,
            "value": reply.get("value")}


def call_reply(reply, nargs: int) -> dict:
    """The reply to ``call``: {"error": error_info} or {"result": raw, "after": {argument index: raw state}}."""
    reply = _dict(reply, "the reply to call")
    if reply.get("error") is not None or "result" not in reply:
        return {"error": error_info(reply.get("error") or {"type": "ProtocolError", "message": "no result"})}
    after = reply.get("after") or {}
    if not isinstance(after, dict) or not all(isinstance(k, str) and k.isdigit() and int(k) < nargs for k in after):
        raise ProtocolError("bad 'after' in the reply to call")
    return {"result": reply["result"], "after": {int(k): v for k, v in after.items()}}
