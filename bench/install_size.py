"""Install size of nnlib's runtime dependencies, before and after issue 12 (SciPy and scikit-learn made
test-only), from the metadata of the packages installed in this environment — no download.

    python bench/install_size.py

For each set of top-level requirements, the closure of their ``Requires-Dist`` (markers evaluated, extras
not followed) is resolved among the installed distributions, and the sizes of the files their RECORDs list
are added up (what ``du`` of site-packages would count for them).  "before" is nnlib's former runtime list
(numpy, matplotlib, ipywidgets, tqdm, scikit-learn, scipy), "after" is pyproject.toml's ``dependencies``.
"""

from __future__ import annotations

import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
BEFORE = ["numpy>=1.26", "matplotlib>=3.8", "ipywidgets>=8.1", "tqdm>=4.66", "scikit-learn>=1.4", "scipy>=1.11"]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def closure(requirements: list[str]) -> dict[str, metadata.Distribution]:
    seen: dict[str, metadata.Distribution] = {}
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        name = _norm(req.name)
        if name in seen:
            continue
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            print(f"  (not installed here: {req.name})", file=sys.stderr)
            continue
        seen[name] = dist
        todo += [Requirement(r) for r in (dist.requires or [])]
    return seen


def size(dist: metadata.Distribution) -> int:
    total = 0
    for f in dist.files or []:
        p = Path(dist.locate_file(f))
        if p.is_file():
            total += p.stat().st_size
    return total


def main() -> None:
    after = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    sets = {"before": closure(BEFORE), "after": closure(after)}
    sizes = {k: {n: size(d) for n, d in v.items()} for k, v in sets.items()}
    mb = lambda b: b / 1e6  # noqa: E731
    for k in sets:
        print(f"{k:>6}: {len(sizes[k])} distributions, {mb(sum(sizes[k].values())):.1f} MB")
    gone = sorted(set(sizes["before"]) - set(sizes["after"]), key=lambda n: -sizes["before"][n])
    print("no longer installed at runtime: " + ", ".join(f"{n} {mb(sizes['before'][n]):.1f} MB" for n in gone))
    b, a = sum(sizes["before"].values()), sum(sizes["after"].values())
    print(f"after / before: {a / b:.2f}  ({mb(b - a):.1f} MB less)")


if __name__ == "__main__":
    main()
