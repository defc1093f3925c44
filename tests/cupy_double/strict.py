"""A CuPy stand-in for machines without a GPU: NumPy that refuses to be mixed.

``nnlib.use("strict")`` makes this module the array module.  Its arrays behave
like CuPy's in the ways that break device-unaware code:

* ``np.asarray(a)``, ``np.array(a)`` and any ``np.*`` function or ufunc on
  them raise ``TypeError`` (CuPy: "Implicit conversion to a NumPy array is not
  allowed");
* arithmetic between a strict array and a NumPy array raises ``TypeError``;
* reductions return 0-d arrays, not NumPy scalars;
* only CuPy's names exist: ``xp.<name>``, ``xp.linalg.<name>``, ... and the array attributes are those of
  CuPy (read from the installed ``cupy``, which imports without a GPU, or from the snapshot committed in
  ``names.py``), and a call must fit CuPy's signature — so ``xp.errstate`` (NumPy only) is an
  ``AttributeError`` and ``xp.take_along_axis(a, i)`` (CuPy has no default axis) a ``TypeError``, as on a GPU.
  ``NNLIB_CUPY_SURFACE=snapshot`` uses the snapshot even where CuPy is installed.

Code that runs through this backend gets its array module from
``nnlib.backend`` and moves data explicitly with ``to_device``/``to_host``,
so it will run on CuPy too.
"""

from __future__ import annotations

import operator as _operator
import os as _os
import sys as _sys
import types as _types
from typing import Any

import numpy as _np

from cupy_double.surface import surface as _surface

_SURFACE = _surface(_os.environ.get("NNLIB_CUPY_SURFACE", "auto"))

_MSG = ("Implicit conversion to a NumPy array is not allowed (nnlib strict backend, as on CuPy): "
        "use nnlib.backend.to_host(x)")


def _unwrap(obj: Any, host_ok: bool = False) -> Any:
    if isinstance(obj, ndarray):
        return obj._a
    if isinstance(obj, _np.ndarray):
        if host_ok or obj.ndim == 0:
            return obj
        raise TypeError(f"strict backend: a NumPy array of shape {obj.shape} was mixed with device arrays "
                        "(CuPy raises here too); move it with nnlib.backend.to_device(x)")
    if isinstance(obj, (list, tuple)):
        return type(obj)(_unwrap(o, host_ok) for o in obj)
    if isinstance(obj, dict):
        return {k: _unwrap(v, host_ok) for k, v in obj.items()}
    return obj


def _wrap(obj: Any) -> Any:
    if isinstance(obj, _np.ndarray):
        return ndarray(obj)
    if isinstance(obj, _np.generic) and not isinstance(obj, (_np.dtype,)):
        return ndarray(_np.asarray(obj))
    if isinstance(obj, tuple):
        return tuple(_wrap(o) for o in obj)
    if isinstance(obj, list):
        return [_wrap(o) for o in obj]
    return obj


calls = 0  #: array operations performed so far (tests use it to prove no per-sample Python loops)


def _count() -> None:
    global calls
    calls += 1


def _check_call(cupy_name: str, args: tuple, kwargs: dict) -> None:
    """TypeError unless the call fits CuPy's signature of ``cupy.<cupy_name>`` (when it is known)."""
    sig = _SURFACE.signature(cupy_name)
    if sig is None:
        return
    try:
        sig.bind(*args, **kwargs)
    except TypeError as exc:
        passed = ", ".join(["·"] * len(args) + [f"{k}=" for k in kwargs])
        raise TypeError(f"strict backend: cupy.{cupy_name}({passed}) does not fit CuPy's signature "
                        f"{cupy_name}{sig} ({exc}); NumPy accepts it, CuPy would not "
                        f"(CuPy {_SURFACE.version}, {_SURFACE.source})") from None


def _wrap_callable(fn: Any, host_ok: bool = False, cupy_name: str | None = None) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        _count()
        if cupy_name is not None:
            _check_call(cupy_name, args, kwargs)
        return _wrap(fn(*_unwrap(args, host_ok), **_unwrap(kwargs, host_ok)))

    call.__name__ = getattr(fn, "__name__", "fn")
    call.__doc__ = getattr(fn, "__doc__", None)
    return call


class ndarray:  # noqa: N801 - mirrors numpy/cupy naming
    """A device-like array: NumPy inside, refuses implicit host conversion."""

    __slots__ = ("_a",)
    __array_ufunc__ = None  # np.exp(a), host + device: TypeError, as on CuPy

    def __init__(self, a: _np.ndarray):
        self._a = a

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(_MSG)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        raise TypeError(f"numpy.{func.__name__} was called on a device array. {_MSG}")

    # attributes and methods are those of the NumPy array, wrapped
    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):  # never hand out __array_interface__, __dlpack__, ...
            raise AttributeError(attr)
        if attr not in _SURFACE.ndarray:
            raise AttributeError(f"strict backend: cupy.ndarray has no attribute {attr!r} (NumPy's arrays have "
                                 f"it, CuPy {_SURFACE.version}'s do not)")
        value = getattr(self._a, attr)
        if callable(value):
            return _wrap_callable(value, cupy_name=f"ndarray.{attr}")
        return _wrap(value)

    @property
    def T(self) -> ndarray:  # noqa: N802
        return ndarray(self._a.T)

    @property
    def shape(self) -> tuple[int, ...]:
        return self._a.shape

    @property
    def dtype(self) -> _np.dtype:
        return self._a.dtype

    @property
    def ndim(self) -> int:
        return self._a.ndim

    @property
    def size(self) -> int:
        return self._a.size

    def __repr__(self) -> str:
        return "strict." + repr(self._a)

    def __len__(self) -> int:
        return len(self._a)

    def __iter__(self) -> Any:
        return (_wrap(v) for v in self._a)

    def __getitem__(self, key: Any) -> Any:
        _count()
        return _wrap(self._a[_unwrap(key)])

    def __setitem__(self, key: Any, value: Any) -> None:
        _count()
        self._a[_unwrap(key)] = _unwrap(value)

    def __float__(self) -> float:
        return float(self._a)

    def __int__(self) -> int:
        return int(self._a)

    def __bool__(self) -> bool:
        return bool(self._a)

    def __index__(self) -> int:
        return _operator.index(self._a)


def _binary(op: Any) -> Any:
    def method(self: ndarray, other: Any) -> Any:
        _count()
        return _wrap(op(self._a, _unwrap(other)))

    return method


def _rbinary(op: Any) -> Any:
    def method(self: ndarray, other: Any) -> Any:
        _count()
        return _wrap(op(_unwrap(other), self._a))

    return method


def _inplace(op: Any) -> Any:
    def method(self: ndarray, other: Any) -> ndarray:
        _count()
        self._a = op(self._a, _unwrap(other))
        return self

    return method


for _n, _op in [("add", _operator.add), ("sub", _operator.sub), ("mul", _operator.mul),
                ("truediv", _operator.truediv), ("floordiv", _operator.floordiv), ("mod", _operator.mod),
                ("pow", _operator.pow), ("matmul", _operator.matmul), ("and", _operator.and_),
                ("or", _operator.or_), ("xor", _operator.xor)]:
    setattr(ndarray, f"__{_n}__", _binary(_op))
    setattr(ndarray, f"__r{_n}__", _rbinary(_op))
    setattr(ndarray, f"__i{_n}__", _inplace(getattr(_operator, f"i{_n}")))
for _n in ("lt", "le", "gt", "ge", "eq", "ne"):
    setattr(ndarray, f"__{_n}__", _binary(getattr(_operator, _n)))
for _n in ("neg", "pos", "abs", "invert"):
    setattr(ndarray, f"__{_n}__", (lambda op: lambda self: _wrap(op(self._a)))(getattr(_operator, _n)))
ndarray.__hash__ = None  # type: ignore[assignment]


def asnumpy(a: Any) -> _np.ndarray:
    """Explicit device-to-host copy (``cupy.asnumpy``)."""
    if isinstance(a, ndarray):
        return a._a.copy()
    return _np.asarray(a)


class _Namespace(_types.ModuleType):
    """A module that forwards to a NumPy namespace and wraps what comes back — for CuPy's names only."""

    def __init__(self, name: str, target: Any, path: str = ""):
        super().__init__(name)
        self._target = target
        self._path = path  # "" for the top level, "linalg", "lib.stride_tricks", ...

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            return getattr(self._target, attr)
        dotted = f"{self._path}.{attr}" if self._path else attr
        if not _SURFACE.has(dotted):
            where = f"cupy.{self._path}" if self._path else "cupy"
            raise AttributeError(f"strict backend: module {where!r} has no attribute {attr!r} "
                                 f"(numpy{'.' + self._path if self._path else ''} may have it; CuPy "
                                 f"{_SURFACE.version} does not, so this code would fail on a GPU)")
        value = getattr(self._target, attr)
        if isinstance(value, _types.ModuleType):
            if dotted not in _SURFACE.names:
                raise AttributeError(f"strict backend: cupy.{dotted} is not a namespace the strict backend knows "
                                     f"(known: {', '.join(sorted(n for n in _SURFACE.names if n))})")
            return _Namespace(f"{self.__name__}.{attr}", value, dotted)
        if isinstance(value, type) or isinstance(value, _np.dtype):
            return value  # dtypes: float32, float64, ...
        if callable(value):
            return _wrap_callable(value, host_ok=attr in ("asarray", "array"), cupy_name=dotted)
        return value


_this = _sys.modules[__name__]
_ns = _Namespace("numpy", _np)


def __getattr__(attr: str) -> Any:  # module-level forwarding (PEP 562)
    return getattr(_ns, attr)
