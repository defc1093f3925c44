"""CuPy's API surface — its names and call signatures — for the strict backend and the surface test.

``surface()`` reads it from the installed ``cupy`` module (``import cupy`` works without a GPU: only array
operations need one), or, when CuPy is not installed, from the snapshot committed in ``names.py``.

* ``names[ns]``: the public names of the namespace ``ns`` — ``""`` is ``cupy`` itself, then ``"linalg"``,
  ``"random"``, ``"lib.stride_tricks"``, ... (the sub-modules NumPy has too) and ``"cuda.runtime"``;
* ``ndarray``: the attributes of ``cupy.ndarray``;
* ``signatures["exp"]``, ``signatures["ndarray.astype"]``: the parameters, as tokens in Python's syntax
  without the defaults — ``("x", "/", "out=", "*", "casting=", "dtype=")``.  CuPy's ufuncs and array methods
  are Cython objects without ``inspect.signature``; their signatures come from the first line of their
  docstrings.

Regenerate the snapshot from the installed CuPy (no GPU needed), and commit it::

    python tests/cupy_double/surface.py
"""

from __future__ import annotations

import ast
import functools
import inspect
import re
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: sub-modules of cupy walked besides those NumPy also has (the backend probes the GPU through them)
EXTRA_NAMESPACES = ("cuda", "cuda.runtime")
#: sub-modules NumPy shares with CuPy that array code never uses (large, and not array operations)
SKIPPED = ("testing", "typing")


@dataclass
class Surface:
    """What exists in CuPy: ``names`` per namespace, ``ndarray`` attributes, parameter ``signatures``."""

    version: str
    source: str  # "installed" or "snapshot"
    names: dict[str, frozenset[str]]
    ndarray: frozenset[str]
    signatures: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def has(self, dotted: str) -> bool:
        """Does ``cupy.<dotted>`` exist?  (``"exp"``, ``"lib.stride_tricks.as_strided"``, ``"ndarray.T"``)"""
        ns, _, name = dotted.rpartition(".")
        if ns == "ndarray":
            return name in self.ndarray
        return ns in self.names and name in self.names[ns]

    def signature(self, dotted: str) -> inspect.Signature | None:
        """``inspect.Signature`` of ``cupy.<dotted>`` (defaults replaced by ``...``), or None if unknown."""
        tokens = self.signatures.get(dotted)
        return None if tokens is None else _signature(tokens)


@functools.cache
def _signature(tokens: tuple[str, ...]) -> inspect.Signature:
    P = inspect.Parameter
    params = []
    kind = P.POSITIONAL_OR_KEYWORD
    for t in tokens:
        if t == "/":
            params = [p.replace(kind=P.POSITIONAL_ONLY) for p in params]
        elif t == "*":
            kind = P.KEYWORD_ONLY
        elif t.startswith("**"):
            params.append(P(t[2:], P.VAR_KEYWORD))
        elif t.startswith("*"):
            params.append(P(t[1:], P.VAR_POSITIONAL))
            kind = P.KEYWORD_ONLY
        else:
            name = t.rstrip("=")
            params.append(P(name, kind, default=... if t.endswith("=") else P.empty))
    return inspect.Signature(params)


def _tokens(sig: inspect.Signature) -> tuple[str, ...]:
    P = inspect.Parameter
    out: list[str] = []
    kinds = [p.kind for p in sig.parameters.values()]
    for i, p in enumerate(sig.parameters.values()):
        if p.kind == P.KEYWORD_ONLY and P.VAR_POSITIONAL not in kinds and "*" not in out:
            out.append("*")
        if p.kind == P.VAR_POSITIONAL:
            out.append("*" + p.name)
        elif p.kind == P.VAR_KEYWORD:
            out.append("**" + p.name)
        else:
            out.append(p.name + ("=" if p.default is not P.empty else ""))
        if p.kind == P.POSITIONAL_ONLY and (i + 1 == len(kinds) or kinds[i + 1] != P.POSITIONAL_ONLY):
            out.append("/")
    return tuple(out)


_C_TYPED = re.compile(r"(?<![\w.*])[A-Za-z_][\w.]*(?:\s*\*)?\s+(?=[A-Za-z_]\w*\s*(?:[=,)]|$))")


def _from_docstring(obj: Any) -> inspect.Signature | None:
    """A Cython object's signature from its docstring's first line, ``name(a, b=1, *, c=None) -> type``."""
    doc = (getattr(obj, "__doc__", None) or "").lstrip()
    m = re.match(r"[\w.]+\((.*)\)\s*(?:->.*)?$", doc.split("\n", 1)[0])
    if not m:
        return None
    params = m.group(1).replace("\\*", "*")
    for text in (params, _C_TYPED.sub("", params)):  # "size(_ndarray_base a, axis=None)" has C types
        try:
            fn = ast.parse(f"def f({text}): pass").body[0]
        except SyntaxError:
            continue
        args = fn.args
        P = inspect.Parameter
        out = []
        pos = args.posonlyargs + args.args
        defaults = [None] * (len(pos) - len(args.defaults)) + list(args.defaults)
        for a, d in zip(pos, defaults):
            kind = P.POSITIONAL_ONLY if a in args.posonlyargs else P.POSITIONAL_OR_KEYWORD
            out.append(P(a.arg, kind, default=P.empty if d is None else ...))
        if args.vararg:
            out.append(P(args.vararg.arg, P.VAR_POSITIONAL))
        for a, d in zip(args.kwonlyargs, args.kw_defaults):
            out.append(P(a.arg, P.KEYWORD_ONLY, default=P.empty if d is None else ...))
        if args.kwarg:
            out.append(P(args.kwarg.arg, P.VAR_KEYWORD))
        if out and out[0].name == "self":
            out = out[1:]
        return inspect.Signature(out)
    return None


def _from_args_section(obj: Any) -> inspect.Signature | None:
    """Keywords listed in a Google-style "Args:" section (CuPy's generalized ufuncs, e.g. matmul)."""
    doc = type(obj).__call__.__doc__ or ""
    if "Args:" not in doc:
        return None
    section = doc.split("Args:", 1)[1].split("Returns:", 1)[0]
    names = [n for n in re.findall(r"^\s+(\w+)\s*\(", section, re.M) if n != "args"]
    if not names:
        return None
    P = inspect.Parameter
    return inspect.Signature([P("args", P.VAR_POSITIONAL)] + [P(n, P.KEYWORD_ONLY, default=...) for n in names])


def _signature_of(obj: Any) -> inspect.Signature | None:
    if isinstance(obj, type):
        return None  # classes and dtypes: not checked
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        sig = None
    if sig is None or list(sig.parameters) == ["args", "kwargs"]:
        sig = _from_docstring(obj) or sig or _from_args_section(obj)
    return sig


def from_cupy() -> Surface:
    """The surface of the installed CuPy (raises ImportError without it)."""
    import cupy
    import numpy

    names: dict[str, frozenset[str]] = {}
    signatures: dict[str, tuple[str, ...]] = {}

    def walk(mod: types.ModuleType, np_mod: Any, ns: str) -> None:
        public = frozenset(n for n in dir(mod) if not n.startswith("_"))
        names[ns] = public
        for n in sorted(public):
            try:
                value = getattr(mod, n)
            except AttributeError:
                continue
            dotted = f"{ns}.{n}" if ns else n
            if isinstance(value, types.ModuleType):
                sub_np = getattr(np_mod, n, None) if np_mod is not None else None
                if n not in SKIPPED and isinstance(sub_np, types.ModuleType) and value.__name__.startswith("cupy"):
                    walk(value, sub_np, dotted)
            elif callable(value):
                sig = _signature_of(value)
                if sig is not None:
                    signatures[dotted] = _tokens(sig)

    walk(cupy, numpy, "")
    for ns in EXTRA_NAMESPACES:
        mod = cupy
        for part in ns.split("."):
            mod = getattr(mod, part)
        if ns not in names:
            names[ns] = frozenset(n for n in dir(mod) if not n.startswith("_"))
    nd = frozenset(n for n in dir(cupy.ndarray) if not n.startswith("_"))
    for n in sorted(nd):
        value = getattr(cupy.ndarray, n, None)
        if callable(value) and not isinstance(value, type):
            sig = _signature_of(value)
            if sig is not None:
                signatures[f"ndarray.{n}"] = _tokens(sig)
    return Surface(cupy.__version__, "installed", names, nd, signatures)


def from_snapshot() -> Surface:
    """The surface committed in ``names.py`` (generated by ``python tests/cupy_double/surface.py``)."""
    from cupy_double import names as S

    return Surface(S.VERSION, "snapshot", {k: frozenset(v) for k, v in S.NAMES.items()}, frozenset(S.NDARRAY),
                   dict(S.SIGNATURES))


@functools.cache
def surface(source: str = "auto") -> Surface:
    """``"installed"`` (CuPy must import), ``"snapshot"``, or ``"auto"``: the installed one, else the snapshot."""
    if source == "snapshot":
        return from_snapshot()
    if source == "installed":
        return from_cupy()
    if source != "auto":
        raise ValueError(f"surface: source must be 'auto', 'installed' or 'snapshot', not {source!r}")
    try:
        return from_cupy()
    except Exception:  # ImportError, or a broken CUDA install that fails at import
        return from_snapshot()


def snapshot_text(s: Surface) -> str:
    """The source of ``names.py`` for the surface ``s``."""
    def tup(items: Any) -> str:
        return "(" + "".join(f"{x!r}, " for x in sorted(items)).rstrip() + ")"

    lines = ['"""CuPy\'s API surface, a snapshot for machines without CuPy.  Generated by', "",
             "    python tests/cupy_double/surface.py", "",
             'from the installed CuPy: do not edit by hand (see tests/cupy_double/surface.py)."""', "",
             "# ruff: noqa: E501", "", f"VERSION = {s.version!r}", "", "NAMES = {"]
    lines += [f"    {ns!r}: {tup(v)}," for ns, v in sorted(s.names.items())]
    lines += ["}", "", f"NDARRAY = {tup(s.ndarray)}", "", "SIGNATURES = {"]
    lines += [f"    {k!r}: {tuple(v)!r}," for k, v in sorted(s.signatures.items())]
    lines += ["}", ""]
    return "\n".join(lines)


def main() -> None:
    s = from_cupy()
    out = Path(__file__).with_name("names.py")
    out.write_text(snapshot_text(s))
    print(f"wrote {out}: CuPy {s.version}, {sum(map(len, s.names.values()))} names in {len(s.names)} namespaces, "
          f"{len(s.ndarray)} ndarray attributes, {len(s.signatures)} signatures")


if __name__ == "__main__":
    main()
