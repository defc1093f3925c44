"""GPU readiness without a GPU: every array-module name the library uses exists in CuPy, called as CuPy allows.

A static scan (ast) of nnlib/ lists every ``xp.<name>`` — ``xp.linalg.<name>``, ``xp.lib.stride_tricks.<name>``,
... — on whatever is bound to the backend's array module (``B.xp``, ``xp = B.xp``, a helper returning it,
``cupy.<name>`` after ``import cupy``) and checks each against CuPy's namespace, and each call's keywords and
positional count against CuPy's signature.  CuPy's surface comes from the installed ``cupy`` (it imports without
a GPU) and from the snapshot committed in tests/cupy_double/names.py, so this runs in CI without CuPy.

    python tests/test_cupy_surface.py      # prints the names the library uses, file:line of each
"""

from __future__ import annotations

import ast
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from cupy_double import surface as CS

ROOT = Path(__file__).resolve().parent.parent
LIB = ROOT / "nnlib"


def _installed_error() -> str | None:
    try:
        CS.from_cupy()
    except Exception as exc:  # ImportError, or a CUDA install broken at import
        return f"{type(exc).__name__}: {exc}"
    return None


SOURCES = ["snapshot", pytest.param("installed", marks=pytest.mark.skipif(
    _installed_error() is not None, reason=f"CuPy is not importable here ({_installed_error()}); the snapshot "
                                           "variant of this test checks the same names"))]


# ------------------------------------------------------------------ the scan

@dataclass
class Use:
    """One use of ``cupy.<name>`` in the library; ``call`` = (positional count, keyword names, has */**)."""

    name: str
    where: str
    call: tuple[int, tuple[str, ...], bool] | None = None
    dynamic: bool = False


class _Scanner:
    def __init__(self, tree: ast.Module, where: str, module_xp: bool, namespaces: set[str]):
        self.where = where
        self.namespaces = namespaces
        self.parent = {c: p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}
        self.backend_aliases: set[str] = set()  # names bound to the nnlib.backend module
        self.use_aliases: set[str] = set()  # nnlib.use / backend.use imported by name
        self.cupy_aliases: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                for a in node.names:
                    if a.name == "backend" and (node.module == "nnlib" or (node.level and not node.module)):
                        self.backend_aliases.add(a.asname or a.name)
                    if a.name == "use" and node.module in ("nnlib", "nnlib.backend"):
                        self.use_aliases.add(a.asname or a.name)
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name == "nnlib.backend" and a.asname:
                        self.backend_aliases.add(a.asname)
                    if a.name == "cupy":
                        self.cupy_aliases.add(a.asname or "cupy")
        self.xp_names: set[str] = {"xp"} if module_xp else set()
        self.xp_funcs: set[str] = set()
        funcs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for _ in range(3):  # to a fixed point: xp = helper(), helper returns B.xp, ...
            for node in ast.walk(tree):
                if isinstance(node, ast.Assign) and self.is_xp(node.value):
                    self.xp_names.update(t.id for t in node.targets if isinstance(t, ast.Name))
            for f in funcs:
                rets = [r.value for r in ast.walk(f) if isinstance(r, ast.Return) and r.value is not None]
                if rets and all(self.is_xp(r) for r in rets):
                    self.xp_funcs.add(f.name)

    def is_xp(self, e: ast.AST) -> bool:
        """Is ``e`` the array module (numpy, cupy or strict, chosen by the backend)?"""
        if isinstance(e, ast.Attribute) and e.attr == "xp":
            v = e.value
            return (isinstance(v, ast.Name) and v.id in self.backend_aliases) or (
                isinstance(v, ast.Attribute) and v.attr == "backend" and isinstance(v.value, ast.Name)
                and v.value.id == "nnlib")
        if isinstance(e, ast.Name):
            return e.id in self.xp_names
        if isinstance(e, ast.IfExp):
            return self.is_xp(e.body) or self.is_xp(e.orelse)
        if isinstance(e, ast.Call):
            f = e.func
            return (isinstance(f, ast.Name) and (f.id in self.xp_funcs or f.id in self.use_aliases)) or (
                isinstance(f, ast.Attribute) and f.attr == "use" and isinstance(f.value, ast.Name)
                and f.value.id in self.backend_aliases | {"nnlib"})
        return False

    def is_root(self, e: ast.AST) -> bool:
        return self.is_xp(e) or (isinstance(e, ast.Name) and e.id in self.cupy_aliases)

    def uses(self) -> list[Use]:
        out = []
        for node in self.parent:
            if isinstance(node, ast.ImportFrom) and node.module == "nnlib.backend" and \
                    any(a.name == "xp" for a in node.names):  # bound once, at import: nnlib.use() cannot change it
                out.append(Use("from nnlib.backend import xp", f"{self.where}:{node.lineno}", dynamic=True))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr" \
                    and node.args and self.is_root(node.args[0]):
                arg = node.args[1] if len(node.args) > 1 else None
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    out.append(Use(arg.value, f"{self.where}:{node.lineno}"))
                else:
                    out.append(Use("getattr(xp, <not a literal>)", f"{self.where}:{node.lineno}", dynamic=True))
            if not isinstance(node, ast.Attribute):
                continue
            p = self.parent.get(node)
            if isinstance(p, ast.Attribute) and p.value is node:
                continue  # not the whole chain
            attrs, cur, nodes = [], node, []
            while not self.is_root(cur) and isinstance(cur, ast.Attribute):
                attrs.insert(0, cur.attr)
                nodes.insert(0, cur)
                cur = cur.value
            if not attrs or not self.is_root(cur):
                continue
            # the dotted name: through the namespaces (linalg, lib.stride_tricks, ...), then one name
            k, obj = 0, np
            while k < len(attrs) - 1:
                dotted = ".".join(attrs[:k + 1])
                obj = getattr(obj, attrs[k], None) if obj is not None else None
                if dotted in self.namespaces or isinstance(obj, types.ModuleType):
                    k += 1
                else:
                    break
            name_node = nodes[k]
            out.append(Use(".".join(attrs[:k + 1]), f"{self.where}:{name_node.lineno}", self._call(name_node)))
        return out

    def _call(self, node: ast.AST) -> tuple[int, tuple[str, ...], bool] | None:
        p = self.parent.get(node)
        while isinstance(p, ast.IfExp) and node is not p.test:  # (xp.empty_like if c else xp.zeros_like)(x, ...)
            node, p = p, self.parent.get(p)
        if not (isinstance(p, ast.Call) and p.func is node):
            return None
        starred = any(isinstance(a, ast.Starred) for a in p.args) or any(k.arg is None for k in p.keywords)
        return (sum(not isinstance(a, ast.Starred) for a in p.args), tuple(k.arg for k in p.keywords if k.arg),
                starred)


def scan_source(text: str, where: str, module_xp: bool = False, namespaces: set[str] | None = None) -> list[Use]:
    """Every use of the array module in one source file (``module_xp``: its global ``xp`` is the module)."""
    ns = set(namespaces if namespaces is not None else CS.surface("snapshot").names)
    return _Scanner(ast.parse(text), where, module_xp, ns).uses()


def scan_library() -> list[Use]:
    out = []
    for path in sorted(LIB.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        out += scan_source(path.read_text(), rel, module_xp=rel == "nnlib/backend.py")
    return sorted(out, key=lambda u: (u.where.split(":")[0], int(u.where.split(":")[1])))


def problems(uses: list[Use], s: CS.Surface) -> list[str]:
    """What would fail on CuPy: unknown names, calls that do not fit CuPy's signature, untraceable getattr."""
    bad = []
    for u in uses:
        if u.dynamic:
            bad.append(f"{u.where}: {u.name}: the scan cannot check it (a computed name, or a module bound at import)")
            continue
        if not s.has(u.name):
            bad.append(f"{u.where}: cupy.{u.name} does not exist in CuPy {s.version} ({s.source})")
            continue
        sig = s.signature(u.name)
        if sig is None or u.call is None:
            continue
        npos, kws, starred = u.call
        try:
            if starred:
                sig.bind_partial(**dict.fromkeys(kws))
            else:
                sig.bind(*[None] * npos, **dict.fromkeys(kws))
        except TypeError as exc:
            passed = ", ".join(["·"] * npos + [f"{k}=" for k in kws])
            bad.append(f"{u.where}: cupy.{u.name}({passed}) does not fit CuPy's {u.name}{sig}: {exc}")
    return bad


# ------------------------------------------------------------------ tests

SYNTHETIC = '''
import numpy as np
from nnlib import backend as B

def _xp_of(a):
    return np if isinstance(a, np.ndarray) else B.xp

def f(x, tiled):
    xp = B.xp
    ok = xp.exp(x, out=x) + B.xp.zeros((2, 3), dtype=xp.float32)
    a = xp.errstate(all="ignore")                                   # line 11: NumPy only
    b = B.xp.take_along_axis(x, x)                                  # line 12: CuPy has no default axis
    c = (xp.empty_like if tiled else xp.zeros_like)(x, bogus=1)     # line 13: both calls
    d = B.xp.lib.stride_tricks.as_strided(x, shape=(1,), writeable=False)  # line 14
    e = np.errstate                                                 # host NumPy: not the array module
    g = _xp_of(x).linalg.multi_dot([x, x])                          # line 16: NumPy only
    h = getattr(xp, "nanquantile")                                  # line 17: NumPy only
    k = xp.maximum(x, x, where=x)                                   # line 18: CuPy ufuncs take no where=
    from nnlib.backend import xp as stale                           # line 19: a stale binding
    return ok, a, b, c, d, e, g, h, k, stale, isinstance(x, xp.ndarray)
'''


def test_the_scan_finds_every_idiom_and_every_numpy_only_call():
    uses = scan_source(SYNTHETIC, "synthetic.py")
    names = sorted({u.name for u in uses})
    assert names == ["empty_like", "errstate", "exp", "float32", "from nnlib.backend import xp",
                     "lib.stride_tricks.as_strided", "linalg.multi_dot", "maximum", "nanquantile", "ndarray",
                     "take_along_axis", "zeros", "zeros_like"]
    bad = problems(uses, CS.surface("snapshot"))
    lines = sorted(int(b.split(":")[1]) for b in bad)
    assert lines == [11, 12, 13, 13, 14, 16, 17, 18, 19], "\n".join(bad)
    assert any("take_along_axis" in b and "axis" in b for b in bad)
    assert any("as_strided" in b and "writeable" in b for b in bad)


@pytest.mark.parametrize("source", SOURCES)
def test_every_array_module_name_the_library_uses_exists_in_cupy(source):
    s = CS.surface(source)
    uses = scan_library()
    files = {u.where.split(":")[0] for u in uses}
    assert len({u.name for u in uses}) >= 15 and len(files) >= 5, "the scan found too little: is it broken?"
    assert any(u.call and u.call[1] for u in uses), "no keyword argument was seen: the call check is not running"
    bad = problems(uses, s)
    assert not bad, "code that would fail on a GPU:\n" + "\n".join(bad)


@pytest.mark.parametrize("source", SOURCES)
def test_the_strict_backend_refuses_what_cupy_lacks(source, strict, monkeypatch):
    from cupy_double import strict as _strict

    monkeypatch.setattr(_strict, "_SURFACE", CS.surface(source))
    a = strict.ones((2, 3))
    with pytest.raises(AttributeError, match="CuPy"):
        strict.errstate  # noqa: B018
    with pytest.raises(AttributeError, match="CuPy"):
        strict.linalg.multi_dot  # noqa: B018
    with pytest.raises(AttributeError, match="CuPy"):
        a.ctypes  # noqa: B018
    with pytest.raises(TypeError, match="axis"):
        strict.take_along_axis(a, strict.zeros((2, 1), dtype=strict.int64))
    with pytest.raises(TypeError, match="writeable"):
        strict.lib.stride_tricks.as_strided(a, shape=(3,), strides=(8,), writeable=False)
    with pytest.raises(TypeError, match="where"):
        strict.exp(a, where=a > 0)
    with pytest.raises(TypeError, match="copy"):
        a.reshape(3, 2, copyy=True)
    # what CuPy has still works, with its keywords
    assert float(strict.take_along_axis(a, strict.zeros((2, 1), dtype=strict.int64), axis=1).sum()) == 2.0
    assert strict.zeros_like(a, dtype=strict.float32).dtype == np.float32
    assert a.astype(strict.float32, copy=False).sum(axis=0, keepdims=True).shape == (1, 3)
    assert strict.linalg.norm(a).shape == () and strict.random.random((2,)).shape == (2,)


def test_without_cupy_the_snapshot_is_used(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # import cupy -> ImportError
    s = CS.surface.__wrapped__("auto")
    assert s.source == "snapshot" and s.has("exp") and not s.has("errstate")


@pytest.mark.parametrize("source", SOURCES)
def test_surface_has_what_the_strict_backend_relies_on(source):
    s = CS.surface(source)
    for name in ("ndarray", "asnumpy", "float64", "random.seed", "linalg.norm", "lib.stride_tricks.as_strided",
                 "cuda.runtime.getDeviceCount", "ndarray.astype", "ndarray.T"):
        assert s.has(name), name
    assert "copy" in s.signature("ndarray.astype").parameters
    assert list(s.signature("exp").parameters)[:2] == ["x", "out"]


@pytest.mark.skipif(_installed_error() is not None, reason=f"CuPy is not importable here ({_installed_error()})")
def test_the_committed_snapshot_is_the_installed_cupy():
    live, snap = CS.from_cupy(), CS.from_snapshot()
    if live.version != snap.version:
        pytest.skip(f"the snapshot is of CuPy {snap.version}, CuPy {live.version} is installed: regenerate it with "
                    "`python tests/cupy_double/surface.py` (the names the library uses are checked against both)")
    assert CS.snapshot_text(live) == CS.snapshot_text(snap)


def main() -> None:
    uses = scan_library()
    by_name: dict[str, list[str]] = {}
    for u in uses:
        by_name.setdefault(u.name, []).append(u.where)
    s = CS.surface("auto")
    print(f"{len(by_name)} array-module names in nnlib/ (CuPy {s.version}, {s.source}):")
    for name in sorted(by_name):
        print(f"  {name:32s} {'ok ' if s.has(name) else 'NOT IN CUPY'}  {', '.join(by_name[name])}")
    bad = problems(uses, s)
    print("\n".join(["problems:"] + bad) if bad else "no problems")


if __name__ == "__main__":
    main()
