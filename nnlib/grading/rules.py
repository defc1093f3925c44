"""Rules a prompt states, checked: no Python loop (on the learner's source), return types and dtypes.

"No Python loop" is a property of the code, not of its numbers, so it is read from the source with :mod:`ast`
(never run): in the notebook from the function itself (``inspect``), in the trusted grader from the text of the
submitted answer cells that the runner hands over (``Remote.sources``) — the learner's text is only parsed.
A loop is ``for``/``while``, a comprehension, or a call that loops in Python for you (``map``, ``np.vectorize``,
``np.frompyfunc``, ``np.apply_along_axis``).
"""

from __future__ import annotations

import ast
import dis
import functools
import inspect
import re
import sys
import textwrap
import types
from typing import Any

import numpy as np

from nnlib.grading._core import Remote, fail

# What an answer may import besides the standard library and what the exercise provides (nnlib's shims): the
# runtime form of pyproject.toml's [tool.nnlib.environment] answers, the one declaration of the learner's and the
# grader's environments (tests/test_environment.py checks they are equal).  The grader's worker lets exactly these
# (and what they require: answer_modules) through; the notebook's check names an import of anything else before
# the grader does.  ipywidgets (a runtime dependency for the lectures' widgets) is not for answers.
ANSWER_PACKAGES = ("numpy", "matplotlib", "tqdm")
_LOOPING_CALLS = {"map", "vectorize", "frompyfunc", "apply_along_axis", "fromiter"}
_KINDS = {ast.For: "a for loop", ast.AsyncFor: "a for loop", ast.While: "a while loop",
          ast.ListComp: "a list comprehension", ast.SetComp: "a set comprehension",
          ast.DictComp: "a dict comprehension", ast.GeneratorExp: "a generator expression"}
MAX_SOURCE = 200_000  # characters of learner text the grader will parse


def _trees(sources: Any):
    """(tree, lines) of each answer cell's text that parses (the learner's text: only parsed, never run)."""
    for text in sources or ():
        if not isinstance(text, str) or len(text) > MAX_SOURCE:
            continue
        try:
            yield ast.parse(text), text.splitlines()
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue


def _function(fn: Any) -> tuple[ast.AST, list[str], int] | None:
    """The learner's ``def`` (its node, the text's lines, the line number of its first line), or None."""
    if isinstance(fn, Remote):
        found = None
        for tree, lines in _trees(getattr(fn, "sources", ())):
            for node in tree.body:
                if isinstance(node, ast.FunctionDef) and node.name == fn.name:
                    found = (node, lines, 1)  # the last definition is the one that runs
        return found
    try:
        lines, start = inspect.getsourcelines(fn)
    except (OSError, TypeError):
        return None
    try:
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    node = next((n for n in tree.body if isinstance(n, ast.FunctionDef)), None)
    return (node, textwrap.dedent("".join(lines)).splitlines(), max(start, 1)) if node is not None else None


def owner(sources: Any, line: str) -> str | None:
    """The learner's function whose body holds ``line`` (the text of the line an error was raised at), if one."""
    line = (line or "").strip()
    if not line:
        return None
    found = set()
    for tree, lines in _trees(sources):
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.end_lineno is not None and \
                    any(lines[i].strip() == line for i in range(node.lineno - 1, min(node.end_lineno, len(lines)))):
                found.add(node.name)
    return found.pop() if len(found) == 1 else None


def loops(fn: Any) -> list[tuple[str, int, str]]:
    """[(kind, line number in its cell, the line)] for every Python loop in ``fn``'s body."""
    found = _function(fn)
    if found is None:
        return []
    node, lines, start = found
    out = []
    for sub in ast.walk(node):
        kind = _KINDS.get(type(sub))
        if kind is None and isinstance(sub, ast.Call):
            f = sub.func
            called = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            if called in _LOOPING_CALLS:
                kind = f"{called}(…), which loops in Python"
        if kind:
            text = lines[sub.lineno - 1].strip() if 0 < sub.lineno <= len(lines) else ""
            out.append((kind, sub.lineno + start - 1, text))
    return sorted(out, key=lambda t: t[1])


def no_loop(fn: Any, name: str, hint: str) -> None:
    """Fail when ``fn`` contains a Python loop: the message names the loop and its line."""
    found = loops(fn)
    if found:
        kind, line, text = found[0]
        fail(f"{name} uses {kind} — `{text[:80]}` (line {line} of its cell) — and the exercise asks for no Python "
             f"loop: {hint}", kind="rule")


def array_result(got: Any, name: str, what: str, case: str, floats: bool = False) -> None:
    """The prompt asks for a NumPy array (``floats``: of floats): a list, tuple or other dtype is named."""
    if isinstance(got, (list, tuple)):
        fail(f"{name} returns a Python {type(got).__name__}; the exercise asks for {what} — wrap it in "
             f"np.array(...) or build it with NumPy operations", case, kind="rule")
    if floats and isinstance(got, np.ndarray) and got.dtype.kind != "f":
        fail(f"{name} returns an array of dtype {got.dtype}; the exercise asks for {what} as floats — convert with "
             f".astype(float) (or np.where(cond, 1.0, 0.0))", case, kind="rule")


@functools.lru_cache(maxsize=1)
def answer_modules() -> tuple[str, ...]:
    """The top-level modules of :data:`ANSWER_PACKAGES` and of everything they require (as installed here, read
    with :mod:`importlib.metadata`): matplotlib imports pyparsing, dateutil … and those must import too."""
    import importlib.metadata as md

    def canon(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    todo, seen = [canon(p) for p in ANSWER_PACKAGES], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = md.distribution(name).requires or []
        except md.PackageNotFoundError:
            continue
        for req in requires:
            head = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]{0,100}", req)
            if head and "extra ==" not in req:  # an extra is optional: not installed with the package
                todo.append(canon(head.group(0)))
    mods = {top for top, dists in md.packages_distributions().items() if any(canon(d) in seen for d in dists)}
    return tuple(sorted(mods | set(ANSWER_PACKAGES)))


def undeclared_imports(fn: Any) -> list[str]:
    """Top-level packages ``fn`` imports in its body, or reaches as a module in its globals, that are neither the
    standard library, nor nnlib (what the exercise provides), nor :data:`ANSWER_PACKAGES`: the grader's worker
    does not offer them, whatever the learner's own Python has."""
    tops: list[str] = []
    found = _function(fn)
    if found is not None:
        for sub in ast.walk(found[0]):
            if isinstance(sub, ast.Import):
                tops += [a.name.split(".")[0] for a in sub.names]
            elif isinstance(sub, ast.ImportFrom) and not sub.level and sub.module:
                tops.append(sub.module.split(".")[0])
    code, glob = getattr(fn, "__code__", None), getattr(fn, "__globals__", {})
    codes = [code] if code is not None else []
    while codes:  # the compiled code too (a function made by exec has no source): its import instructions
        c = codes.pop()
        codes += [k for k in c.co_consts if isinstance(k, types.CodeType)]
        tops += [str(i.argval).split(".")[0] for i in dis.get_instructions(c) if i.opname == "IMPORT_NAME"]
        for n in c.co_names:
            mod = glob.get(n)
            if isinstance(mod, types.ModuleType):
                tops.append(mod.__name__.split(".")[0])
    out: list[str] = []
    for t in tops:
        if t and t not in out and t not in sys.stdlib_module_names and t != "nnlib" and \
                not t.startswith("nnlib_") and t not in answer_modules():  # the slow test last (cached)
            out.append(t)
    return out
