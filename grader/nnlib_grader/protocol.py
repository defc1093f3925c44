"""The data that crosses the trust boundary: length-prefixed JSON frames, arrays as typed bytes.

No pickle, no code: the trusted side decodes only numbers, strings, lists, tuples, dicts with string keys,
NumPy arrays of plain numeric dtypes, a network's data (``__net__``), the name of a fixture function
(``__fn__``, trusted → worker only) and a reference to an argument (``__arg__``, worker → trusted: "I
returned the object you passed as argument i").  Frames, arrays and nesting are size-limited.
"""

from __future__ import annotations

import base64
import json
import struct

MAX_FRAME = 64 * 2**20
MAX_DEPTH = 12
DTYPES = {"float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"}


class ProtocolError(ValueError):
    """A frame that is not well-formed data (too large, too deep, or of a type that is not allowed)."""


class Pipe:
    """A channel over two file descriptors with the socket methods the protocol uses (container mode: the worker's
    stdin/stdout through podman)."""

    def __init__(self, rfd: int, wfd: int):
        self.rfd, self.wfd, self.timeout = rfd, wfd, None

    def settimeout(self, t) -> None:
        self.timeout = t

    def sendall(self, data: bytes) -> None:
        import os

        view = memoryview(data)
        while view:
            n = os.write(self.wfd, view)
            view = view[n:]

    def recv(self, n: int) -> bytes:
        import os
        import select

        if self.timeout is not None:
            ready, _, _ = select.select([self.rfd], [], [], self.timeout)
            if not ready:
                raise TimeoutError(f"no reply within {self.timeout:g} s")
        return os.read(self.rfd, n)

    def close(self) -> None:
        import os

        for fd in (self.rfd, self.wfd):
            try:
                os.close(fd)
            except OSError:
                pass


def send(sock, obj) -> None:
    data = json.dumps(obj, allow_nan=True).encode()
    if len(data) > MAX_FRAME:
        raise ProtocolError(f"message of {len(data)} bytes is over the {MAX_FRAME} byte limit")
    sock.sendall(struct.pack(">I", len(data)) + data)


def _read_exact(sock, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the connection")
        buf += chunk
    return bytes(buf)


def recv(sock):
    (n,) = struct.unpack(">I", _read_exact(sock, 4))
    if n > MAX_FRAME:
        raise ProtocolError(f"message of {n} bytes is over the {MAX_FRAME} byte limit")
    try:
        return json.loads(_read_exact(sock, n))
    except ValueError as exc:
        raise ProtocolError(f"not JSON: {exc}") from None


def encode_array(a) -> dict:
    import numpy as np

    a = np.ascontiguousarray(a)
    if a.dtype.name not in DTYPES:
        if a.dtype.kind in "fiub":
            a = a.astype(np.float64)
        else:
            raise ProtocolError(f"array of dtype {a.dtype} is not plain numbers")
    return {"__nd__": [a.dtype.name, list(a.shape), base64.b64encode(a.tobytes()).decode()]}


def decode_array(spec):
    import numpy as np

    if not (isinstance(spec, list) and len(spec) == 3):
        raise ProtocolError("bad array")
    dtype, shape, data = spec
    if dtype not in DTYPES or not isinstance(shape, list) or not all(isinstance(s, int) and s >= 0 for s in shape):
        raise ProtocolError(f"bad array dtype/shape {dtype!r} {shape!r}")
    raw = base64.b64decode(data, validate=True)
    count = int(np.prod(shape)) if shape else 1
    if count * np.dtype(dtype).itemsize != len(raw):
        raise ProtocolError("array data does not match its shape")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def decode(obj, depth: int = 0, on_special=None):
    """Plain data from a frame; ``on_special(kind, value)`` decodes ``__net__``/``__fn__``/``__arg__``."""
    if depth > MAX_DEPTH:
        raise ProtocolError("nesting too deep")
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, list):
        return [decode(v, depth + 1, on_special) for v in obj]
    if isinstance(obj, dict):
        if len(obj) == 1:
            (k, v), = obj.items()
            if k == "__nd__":
                return decode_array(v)
            if k == "__tuple__":
                if not isinstance(v, list):
                    raise ProtocolError("bad tuple")
                return tuple(decode(x, depth + 1, on_special) for x in v)
            if k in ("__net__", "__fn__", "__arg__", "__repr__"):
                if on_special is None:
                    raise ProtocolError(f"{k} not allowed here")
                return on_special(k, v)
        if not all(isinstance(k, str) for k in obj):
            raise ProtocolError("dict keys must be strings")
        return {k: decode(v, depth + 1, on_special) for k, v in obj.items()}
    raise ProtocolError(f"type {type(obj).__name__} is not allowed")
