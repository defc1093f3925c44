"""Issue 18: the learner's and the grader's environments, declared once and tested equal.

The one declaration is pyproject.toml's ``[tool.nnlib.environment] answers``: what an answer may import besides the
standard library.  The learner's lab is pyproject.toml (runtime + extras) and environment.yml; the grader is
grader/pyproject.toml, and its worker runs in the grader's virtualenv, which the container mode binds read-only
(``isolation.default_binds``) — there is no other image recipe.  Requirement strings are parsed with
``packaging`` (pip's own parser), not by hand.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def _toml(path: Path) -> dict:
    return tomllib.loads(path.read_text())


def _req(spec: str) -> Requirement:
    spec = spec.split("#")[0].strip()
    if "=" in spec and "==" not in spec and not any(op in spec for op in (">=", "<=", "!=", "~=")):
        spec = spec.replace("=", "==", 1)  # conda's single '=' pin
    return Requirement(spec)


def _declared() -> list[Requirement]:
    return [Requirement(s) for s in _toml(ROOT / "pyproject.toml")["tool"]["nnlib"]["environment"]["answers"]]


def _places() -> dict[str, list[Requirement]]:
    """Every requirement, by the file and group that states it."""
    lab, grader = _toml(ROOT / "pyproject.toml")["project"], _toml(ROOT / "grader" / "pyproject.toml")["project"]
    out = {"pyproject dependencies": [_req(s) for s in lab["dependencies"]],
           "grader/pyproject dependencies": [_req(s) for s in grader["dependencies"]]}
    for name, group in lab.get("optional-dependencies", {}).items():
        out[f"pyproject [{name}]"] = [_req(s) for s in group]
    for name, group in grader.get("optional-dependencies", {}).items():
        out[f"grader/pyproject [{name}]"] = [_req(s) for s in group]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip = [], []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip += [_req(p) for p in dep["pip"] if not p.startswith("-e")]
        elif dep.split(">")[0].split("=")[0] not in ("python", "pip"):
            conda.append(_req(dep))
    out["environment.yml (conda)"], out["environment.yml (pip)"] = conda, pip
    return out


def test_the_declaration_is_a_runtime_dependency_of_both_and_in_environment_yml():
    places = _places()
    env = places["environment.yml (conda)"] + places["environment.yml (pip)"]
    for want in _declared():
        for where, reqs in (("pyproject dependencies", places["pyproject dependencies"]),
                            ("grader/pyproject dependencies", places["grader/pyproject dependencies"]),
                            ("environment.yml", env)):
            found = [r for r in reqs if canonicalize_name(r.name) == canonicalize_name(want.name)]
            assert found, f"{want.name} (declared in [tool.nnlib.environment]) is missing from {where}"
            assert all(r.specifier == want.specifier for r in found), \
                f"{where} pins {want.name} as {[str(r.specifier) for r in found]}, the declaration {want.specifier}"


def test_a_package_named_in_several_places_has_one_pin():
    pins: dict[str, dict[str, set[str]]] = {}
    for where, reqs in _places().items():
        for r in reqs:
            pins.setdefault(canonicalize_name(r.name), {}).setdefault(str(r.specifier), set()).add(where)
    pins.pop("nnlib", None)  # grader/ depends on the course's own package, unpinned (installed from the tree)
    split = {name: by for name, by in pins.items() if len(by) > 1}
    assert not split, f"packages pinned differently: {split}"


def test_the_course_extra_and_the_grader_share_nbgrader():
    """The lab's nbgrader writes the metadata the grader's nbgrader reads: one exact pin in both."""
    places = _places()
    lab = {r.name: r.specifier for r in places["pyproject [course]"]}
    grader = {r.name: r.specifier for r in places["grader/pyproject dependencies"]}
    assert lab["nbgrader"] == grader["nbgrader"] and str(lab["nbgrader"]).startswith("==")


def test_the_worker_lets_through_exactly_the_declaration():
    from nnlib.grading.rules import ANSWER_PACKAGES, answer_modules
    from nnlib_grader import worker, workers

    assert sorted(ANSWER_PACKAGES) == sorted(canonicalize_name(r.name) for r in _declared())
    cfg = workers.config({}, sandbox=False, memory_mb=512, cpu_s=10, fsize_mb=1, tmp_mb=1)
    assert cfg["answer_packages"] == list(answer_modules())  # what the grader tells its worker
    assert set(ANSWER_PACKAGES) <= set(answer_modules())
    # what the declared packages require comes along (matplotlib imports pyparsing); nothing else does
    assert {"pyparsing", "dateutil"} <= set(answer_modules()) and "scipy" not in answer_modules()
    finder = worker._Finder({}, tuple(cfg["answer_packages"]))
    import sysconfig

    private = next(Path(sysconfig.get_path("stdlib")).glob("_sysconfigdata_*.py")).stem  # not a stdlib_module_name
    for name in ANSWER_PACKAGES + ("pyparsing", "math", "itertools", "collections", private):
        assert finder.find_spec(name) is None  # left to the ordinary import: found in the worker's sys.path
    for name in ("scipy", "pandas", "yaml", "definitely_not_a_package"):
        with pytest.raises(ModuleNotFoundError) as err:
            finder.find_spec(name)
        assert f"No module named '{name}'" in str(err.value)


def test_the_container_binds_the_declared_packages_and_hides_none():
    """Container mode: read-only binds of the grader's Python and virtualenv; the answers' packages are inside
    them, on the worker's sys.path, and not among the directories it hides."""
    from nnlib_grader import isolation

    binds, path, hidden = isolation.default_binds(), isolation.worker_sys_path(), isolation.hidden()
    for r in _declared():
        origin = os.path.realpath(importlib.util.find_spec(r.name).origin)
        assert any(origin.startswith(os.path.realpath(b) + os.sep) for b in binds), (r.name, origin, binds)
        assert any(origin.startswith(os.path.realpath(p) + os.sep) for p in path), (r.name, origin, path)
        assert not any(origin.startswith(os.path.realpath(h) + os.sep) for h in hidden), (r.name, origin)
        assert r.specifier.contains(importlib.metadata.version(r.name)), (r.name, importlib.metadata.version(r.name))


def test_the_container_sees_the_grader_s_versions():
    """Inside a podman container built as the grader builds it, the declared packages have the grader's versions."""
    from nnlib_grader import container, isolation

    ok, why = container.available()
    if not ok:
        pytest.skip(why)
    names = [r.name for r in _declared()]
    code = (f"import sys; sys.path[:] = {isolation.worker_sys_path()!r}\n"
            "import importlib.metadata as md\n"
            f"print(' '.join(md.version(n) for n in {names!r}))")
    p = container.probe(code)
    assert p.returncode == 0, p.stderr[-500:]
    assert p.stdout.split() == [importlib.metadata.version(n) for n in names]


def test_an_answer_importing_an_undeclared_package_is_told_its_name():
    """scipy is in the learner's environment.yml and in this virtualenv, not in the declaration: graded through the
    real pipeline (sandboxed as root), the answer gets the message naming scipy and its NumPy form."""
    import mistakes as M

    assert importlib.util.find_spec("scipy") is not None  # installed here: the worker refuses it, not its absence
    src = ("def softmax_cross_entropy(z, y):\n    from scipy.special import logsumexp\n    m = z.shape[0]\n"
           "    log_probs = z - logsumexp(z, axis=1, keepdims=True)\n"
           "    dz = np.exp(log_probs)\n    dz[np.arange(m), y] -= 1\n"
           "    return -log_probs[np.arange(m), y].mean(), dz / m\n")
    res = M.grade("a06_sgd", M.submission("a06_sgd", {"softmax_cross_entropy": src}))
    visible = [(p, mx, " ".join(m.split())) for gid, (p, mx, m) in res.items()
               if "softmax" in gid and "hidden" not in gid]
    assert visible and all(p < mx for p, mx, _ in visible), res
    assert all("imports `scipy`" in m and "logsumexp" in m for _, _, m in visible), visible


def test_the_notebook_check_names_an_undeclared_package_as_the_grader_does():
    """In the learner's lab scipy imports fine; the self-check says what grading will, before it is graded."""
    from nnlib.grading import GradingError, check_softmax_cross_entropy, rules

    ns: dict = {"np": __import__("numpy")}
    exec("def sce(z, y):\n    from scipy.special import logsumexp\n    m = z.shape[0]\n"  # noqa: S102
         "    lp = z - logsumexp(z, axis=1, keepdims=True)\n    dz = np.exp(lp)\n    dz[np.arange(m), y] -= 1\n"
         "    return -lp[np.arange(m), y].mean(), dz / m\n", ns)
    assert rules.undeclared_imports(ns["sce"]) == ["scipy"]
    with pytest.raises(GradingError) as err:
        check_softmax_cross_entropy(ns["sce"])
    assert "imports `scipy`" in " ".join(str(err.value).split())
    import math

    ns2 = {"np": __import__("numpy"), "math": math}
    exec("def ok(z):\n    return np.exp(z) * math.pi\n", ns2)  # noqa: S102 - stdlib and NumPy pass
    assert rules.undeclared_imports(ns2["ok"]) == []


def test_an_answer_importing_a_declared_package_keeps_full_marks():
    """The other half of the declaration: what it names (and what that requires) imports in the sandboxed worker."""
    import mistakes as M

    src = ("def softmax_cross_entropy(z, y):\n    import matplotlib\n    from tqdm import tqdm\n"
           "    m = z.shape[0]\n    shifted = z - z.max(axis=1, keepdims=True)\n"
           "    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))\n"
           "    dz = np.exp(log_probs)\n    for i in tqdm(range(m), disable=True):\n        dz[i, y[i]] -= 1\n"
           "    return -log_probs[np.arange(m), y].mean(), dz / m\n")
    res = M.grade("a06_sgd", M.submission("a06_sgd", {"softmax_cross_entropy": src}))
    mine = [(p, mx, m) for gid, (p, mx, m) in res.items() if "softmax" in gid]
    assert mine and all(p == mx for p, mx, _ in mine), mine
