"""The notebook's delegation guard: while a check calls the learner's function, what it may not use refuses.

An answer may not reach nnlib's own implementation of what the exercise asks for, nor an automatic-
differentiation or machine-learning library.  For the length of one call (``Guard(...).call(fn, args, kwargs)``):

* **nnlib's functions** (every function and method of the loaded ``nnlib`` modules, but what the exercise
  provides: ``allowed``, ``grading/provided.py``, ``grading/fixtures.py``) get a stand-in ``__code__``: a call
  from the learner's code is refused (recorded, and a :class:`~nnlib.grading._core.GradingError` with the
  delegation message raised); a call from nnlib's own code — an allowed function using nnlib's internals —
  runs the original.  Swapping ``__code__`` reaches every reference to a function (a name imported before
  the check, a bound method of an object built earlier), which swapping module attributes would not.
* **the libraries** (``AUTODIFF``, ``LEARNING``): importing one (``import``, ``importlib.import_module``) is
  refused, and the learner's global names (and ``fn``'s closure) that hold one of their modules, functions,
  classes or objects stand for refusing proxies until the call returns.

Nothing else changes: the learner's own code and NumPy run at full speed, and a call from an allowed function
into nnlib's internals costs one frame look-up more (the stand-in's, ~0.5 µs).  The former guard
(``sys.setprofile``: a Python callback on every Python-level call) made the reference a08 capstone 2.3–2.6×
slower, this one 1.09–1.14× (CPU time, two runs of ``python bench/guard.py`` on the shared machine at load
7–10; each run times no guard and both guards).  Setting up and putting back costs ~1 ms per checked call.  The
verdicts and messages are the former guard's (tests/test_a05_capstone.py, tests/test_catalogue.py,
tests/test_assignments.py, tests/test_guard.py); like it, this guard is a courtesy in the learner's own kernel
(docs/instructor.md): the scores that count come from the sandboxed grader, where nnlib's references and the
libraries do not exist.
"""

from __future__ import annotations

import builtins
import importlib
import os
import sys
import threading
import types
import warnings
from collections.abc import Callable, Iterable
from typing import Any

NNLIB_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
AUTODIFF = ("torch", "jax", "jaxlib", "tensorflow", "autograd", "mxnet", "paddle")
LEARNING = ("sklearn", "keras", "xgboost", "lightgbm", "catboost", "skorch")  # train networks for the learner
FORBIDDEN = AUTODIFF + LEARNING
_PROVIDED = (f"grading{os.sep}provided.py", f"grading{os.sep}fixtures.py")

_active: Guard | None = None
_stand_ins: dict[int, tuple[types.FunctionType, types.CodeType, types.CodeType]] = {}  # f, stand-in, original
_stand_in_codes: set[int] = set()
_templates: dict[tuple[str, ...], types.CodeType | None] = {}
_walked: tuple[int, list[types.FunctionType]] = (-1, [])


def codes(obj: Any) -> set:
    """The code objects of a function, a property, or a class's methods (its bases' too)."""
    out = set()
    if isinstance(obj, type):
        for v in vars(obj).values():
            out |= codes(getattr(v, "__func__", v))
        for base in obj.__mro__[1:]:
            if base is not object:
                out |= codes(base)
    elif hasattr(obj, "__code__"):
        out.add(obj.__code__)
    elif isinstance(obj, property):
        for f in (obj.fget, obj.fset):
            if f is not None:
                out.add(f.__code__)
    return out


class Guard:
    """``Guard(allowed, refuse).call(fn, args, kwargs)``: ``fn(*args, **kwargs)`` with nnlib's functions (but
    ``allowed``) and the libraries refusing the learner's code.

    ``refuse(what)`` is called with each thing refused (``"network.Network.__init__"``, ``"torch"``) and should
    raise; every refused name is also kept in ``hits``.  ``fn`` itself counts as the learner's code."""

    def __init__(self, allowed: Iterable[Any], refuse: Callable[[str], Any]):
        self.allowed = set()
        for obj in allowed:
            self.allowed |= codes(obj)
        self.refuse = refuse
        self.learner: Any = None
        self.hits: list[str] = []
        self.thread = threading.get_ident()
        self._undo: list[Callable[[], None]] = []
        self._swapped: list[tuple[types.FunctionType, types.CodeType]] = []

    def call(self, fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
        """The learner's call, guarded (a call into nnlib straight from this frame is the learner's)."""
        self.learner = fn
        with self:
            return fn(*args, **kwargs)

    def hit(self, what: str) -> None:
        self.hits.append(what)
        self.refuse(what)

    def __enter__(self) -> Guard:
        global _active
        if _active is not None:  # a check inside a check: the outer guard is in force
            return self
        _active = self
        try:
            self._swap_nnlib()
            self._swap_libraries()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        global _active
        if _active is not self:
            return
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()
        _active = None

    # ------------------------------------------------------------ nnlib

    def _swap_nnlib(self) -> None:
        swapped = []

        def undo() -> None:
            for f, original in swapped:
                f.__code__ = original

        self._undo.append(undo)
        self._swapped = swapped
        self._swap_loaded()
        # nnlib functions no module holds (a closure nnlib returned, e.g. gradcheck.network_cost's) that the
        # learner's names hold
        names = getattr(self.learner, "__globals__", None)
        for f in list(names.values()) if isinstance(names, dict) else ():
            if isinstance(f, types.FunctionType) and _is_nnlib(f) and f.__code__ not in self.allowed:
                entry = _stand_in(f)
                if entry is not None and f.__code__ is entry[2]:
                    f.__code__ = entry[1]
                    swapped.append((f, entry[2]))

    def _swap_loaded(self) -> None:
        """Swap every loaded nnlib function not swapped yet (called again when the call imports nnlib modules)."""
        for f, stand_in, original in _plan(frozenset(self.allowed)):
            if f.__code__ is original:
                f.__code__ = stand_in
                self._swapped.append((f, original))

    def _loaded(self, name: str, before: int) -> None:
        """An import during the call that loaded nnlib modules (``from nnlib.autograd import backward`` with
        nnlib.autograd not loaded before the check): their functions refuse too, before the name is bound."""
        if len(sys.modules) != before and name.partition(".")[0] == "nnlib":
            self._swap_loaded()

    # ------------------------------------------------------------ the libraries

    def _swap_libraries(self) -> None:
        real_import, real_import_module = builtins.__import__, importlib.import_module

        def guarded_import(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (),
                           level: int = 0) -> Any:
            if level == 0 and _forbidden(name) and self._from_learner(sys._getframe(1)):
                self.hit(name.partition(".")[0])
            before = len(sys.modules)
            module = real_import(name, globals, locals, fromlist, level)
            if level == 0:
                self._loaded(name, before)
            return module

        def guarded_import_module(name: str, package: str | None = None) -> Any:
            if _forbidden(name) and self._from_learner(sys._getframe(1)):
                self.hit(name.partition(".")[0])
            before = len(sys.modules)
            module = real_import_module(name, package)
            self._loaded(name, before)
            return module

        builtins.__import__, importlib.import_module = guarded_import, guarded_import_module

        def undo() -> None:
            builtins.__import__, importlib.import_module = real_import, real_import_module

        self._undo.append(undo)
        if self.learner is None or not any(m in sys.modules for m in FORBIDDEN):
            return  # nothing of theirs can be in the learner's names
        fn = self.learner
        names = getattr(fn, "__globals__", None)
        if isinstance(names, dict):
            for key, value in list(names.items()):
                pkg = _package_of(value)
                if pkg is not None:
                    self._replace(lambda v, k=key: names.__setitem__(k, v), lambda k=key: names.get(k), value, pkg)
        for cell in getattr(fn, "__closure__", None) or ():
            try:
                value = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            pkg = _package_of(value)
            if pkg is not None:
                self._replace(lambda v, c=cell: setattr(c, "cell_contents", v), lambda c=cell: c.cell_contents,
                              value, pkg)

    def _replace(self, put: Callable[[Any], None], get: Callable[[], Any], value: Any, pkg: str) -> None:
        proxy = _Refusing(self, pkg)
        put(proxy)

        def undo() -> None:
            if get() is proxy:  # unless the learner's code rebound the name meanwhile
                put(value)

        self._undo.append(undo)

    def _from_learner(self, frame: Any) -> bool:
        """Whether a call whose caller is ``frame`` comes from the learner (not from nnlib or a library)."""
        if threading.get_ident() != self.thread or frame is None:
            return False
        code = frame.f_code
        if code is _ENTRY:
            return True
        file = code.co_filename
        return not (file.startswith((NNLIB_DIR, sys.prefix, sys.base_prefix, "<frozen")) or "site-packages" in file)


_ENTRY = Guard.call.__code__


def _slow(args: tuple, kwargs: dict, clone: Callable[..., Any], name: str) -> Any:
    """A stand-in called from outside nnlib (or by the learner's ``fn`` itself, from ``Guard.call``): refused
    when it is the guarded thread, else (another thread, no guard in force) the original."""
    guard = _active
    if guard is not None and threading.get_ident() == guard.thread:
        guard.hit(name)
    return clone(*args, **kwargs)


# A stand-in's code.  Its constants ("@@clone", ...) are replaced by the objects themselves (``_stand_in``), so
# a call from nnlib's own code costs one frame look-up and one more call: no global name, no dictionary.
_TEMPLATE = """
def outer():
    {names} = {nones}
    def stand_in(*args, **kwargs):
        {refs}
        code = "@@getframe"(1).f_code
        if code is not "@@entry" and code.co_filename.startswith("@@dir"):
            return "@@clone"(*args, **kwargs)
        return "@@slow"(args, kwargs, "@@clone", "@@name")
    return stand_in
"""


def _stand_in(f: types.FunctionType) -> tuple | None:
    """(f, stand-in code, original code) for an nnlib function, built once and kept."""
    entry = _stand_ins.get(id(f))
    if entry is not None and entry[0] is f and entry[2] is f.__code__:
        return entry
    code = f.__code__
    if id(code) in _stand_in_codes:  # already a stand-in (a guard left in force): never clone a stand-in
        return None
    template = _template(code.co_freevars)
    if template is None:
        return None
    clone = types.FunctionType(code, f.__globals__, f.__name__, f.__defaults__, f.__closure__)
    clone.__kwdefaults__, clone.__qualname__ = f.__kwdefaults__, f.__qualname__
    module = os.path.relpath(code.co_filename, os.path.dirname(NNLIB_DIR)).replace(os.sep, ".")[:-3]
    objects = {"@@getframe": sys._getframe, "@@entry": _ENTRY, "@@dir": NNLIB_DIR, "@@clone": clone,
               "@@slow": _slow, "@@name": f"{module}.{code.co_qualname}"}
    consts = tuple(objects.get(c, c) if isinstance(c, str) else c for c in template.co_consts)
    stand_in = template.replace(co_consts=consts, co_name=code.co_name, co_qualname=code.co_qualname,
                                co_filename=code.co_filename, co_firstlineno=code.co_firstlineno)
    entry = _stand_ins[id(f)] = (f, stand_in, code)
    _stand_in_codes.add(id(stand_in))
    return entry


def _template(freevars: tuple[str, ...]) -> types.CodeType | None:
    """The stand-in's code with the given free variables (a function's ``__code__`` can only be swapped for
    one with as many free variables as its closure has cells)."""
    if freevars not in _templates:
        names = "".join(f"{v}, " for v in freevars)
        src = _TEMPLATE.format(names=names or "_", nones="None, " * max(1, len(freevars)),
                               refs=f"({names})" if freevars else "pass")
        ns: dict[str, Any] = {}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SyntaxWarning)  # "str is not callable": replaced before use
                exec(compile(src, "<nnlib guard>", "exec"), ns)  # noqa: S102 - a fixed template
            code = ns["outer"]().__code__
        except SyntaxError:
            code = None
        _templates[freevars] = code if code is not None and code.co_freevars == freevars else None
    return _templates[freevars]


_plans: dict[frozenset, tuple[int, list[tuple[types.FunctionType, types.CodeType, types.CodeType]]]] = {}


def _plan(allowed: frozenset) -> list[tuple[types.FunctionType, types.CodeType, types.CodeType]]:
    """(function, stand-in, original) for every nnlib function but ``allowed``: kept per allowed set until
    more nnlib modules are loaded (a check's set-up is then one attribute assignment per function)."""
    functions = _nnlib_functions()
    version, plan = _plans.get(allowed, (None, []))
    if version != _walked[0] or any(f.__code__ is not original and id(f.__code__) not in _stand_in_codes
                                    for f, _, original in plan[:1]):
        plan = []
        for f in functions:
            if f.__code__ in allowed:
                continue
            entry = _stand_in(f)
            if entry is not None:
                plan.append(entry)
        if len(_plans) > 64:
            _plans.clear()
        _plans[allowed] = (_walked[0], plan)
    return plan


def _nnlib_functions() -> list[types.FunctionType]:
    """Every function and method defined in the loaded nnlib modules (walked again when modules were loaded)."""
    global _walked
    mods = [m for name, m in list(sys.modules.items()) if (name == "nnlib" or name.startswith("nnlib.")) and m]
    version = hash(tuple(id(m) for m in mods))  # which module objects, not how many: one reloaded is new
    if _walked[0] == version:
        return _walked[1]
    found: dict[int, types.FunctionType] = {}

    def visit(obj: Any, depth: int) -> None:
        if isinstance(obj, types.FunctionType):
            if _is_nnlib(obj):
                found[id(obj)] = obj
        elif isinstance(obj, (staticmethod, classmethod)):
            visit(obj.__func__, depth)
        elif isinstance(obj, property):
            for f in (obj.fget, obj.fset, obj.fdel):
                visit(f, depth)
        elif isinstance(obj, type) and depth < 3 and str(getattr(obj, "__module__", "")).startswith("nnlib"):
            for v in list(vars(obj).values()):
                visit(v, depth + 1)
        elif isinstance(obj, (dict, list, tuple)) and depth < 2:
            for v in list(obj.values() if isinstance(obj, dict) else obj):
                visit(v, depth + 1)
        elif depth < 2 and str(getattr(type(obj), "__module__", "")).startswith("nnlib.") \
                and isinstance(getattr(obj, "__dict__", None), dict):
            for v in list(vars(obj).values()):  # e.g. an Activation's f and prime
                visit(v, depth + 1)

    for m in mods:
        for v in list(vars(m).values()):
            visit(v, 0)
    _walked = (version, list(found.values()))
    return _walked[1]


def _is_nnlib(f: types.FunctionType) -> bool:
    """A function of nnlib's that a guard may swap (not this module's, not what every exercise provides)."""
    file = f.__code__.co_filename
    return file.startswith(NNLIB_DIR) and not file.endswith((f"grading{os.sep}_guard.py", *_PROVIDED))


def _forbidden(name: str) -> bool:
    return isinstance(name, str) and name.partition(".")[0] in FORBIDDEN


def _package_of(value: Any) -> str | None:
    """The forbidden library a value belongs to (a module, a function or class of it, an object of its)."""
    if isinstance(value, types.ModuleType):
        name = value.__name__
    elif isinstance(value, (type, types.FunctionType, types.BuiltinFunctionType)) or callable(value):
        name = getattr(value, "__module__", None) or type(value).__module__
    else:
        name = type(value).__module__
    top = name.partition(".")[0] if isinstance(name, str) else ""
    return top if top in FORBIDDEN else None


class _Refusing:
    """Stands for a library's module or object during a check: any use is refused."""

    def __init__(self, guard: Guard, pkg: str):
        object.__setattr__(self, "_guard_pkg", (guard, pkg))

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        guard, pkg = object.__getattribute__(self, "_guard_pkg")
        guard.hit(pkg)

    def __getattr__(self, name: str) -> Any:
        return object.__getattribute__(self, "_refuse")()

    __call__ = __getitem__ = __iter__ = __len__ = __bool__ = __array__ = __setattr__ = _refuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __matmul__ = __rmatmul__ = _refuse
    __truediv__ = __rtruediv__ = __pow__ = __neg__ = __float__ = __int__ = _refuse
