"""The catalogue of classic mistakes (tests/mistakes/) through the exercise checks: how many are rejected and
how many get a message that names them.

    python bench/catalogue.py                 # self-check mode (in process), every assignment
    python bench/catalogue.py --pipeline      # also through the real grader (sandboxed worker as root)
    python bench/catalogue.py a07_cnn -v      # one assignment, every message

Prints per answer cell and per assignment: mistakes in the catalogue, rejected, named (the message contains the
fragment the catalogue expects: for a family mutant, the family's words); alternative correct answers with full
marks; delegations and cheats blocked.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
os.environ.setdefault("MPLBACKEND", "Agg")

import mistakes as M  # noqa: E402


def run(assignment: str, pipeline: bool, verbose: bool) -> dict:
    cat = M.load(assignment)
    row = {"assignment": assignment}
    t0 = time.perf_counter()
    mk = cat.MISTAKES
    verdicts = {}
    if pipeline:
        for g in M.groups(mk, getattr(cat, "DEPENDS", {})):
            verdicts.update(M.grade_group(assignment, g))
    else:
        verdicts = {e.key: M.run_inprocess(assignment, e) for e in mk}
    rejected = [e for e in mk if verdicts[e.key].rejected]
    named = [e for e in rejected if verdicts[e.key].named(e.expect)]
    row.update(mistakes=len(mk), rejected=len(rejected), named=len(named))
    alts = cat.ALTERNATIVES
    if pipeline:
        av = {}
        for g in M.groups(alts, getattr(cat, "DEPENDS", {})):
            av.update(M.grade_group(assignment, g))
    else:
        av = {e.key: M.run_inprocess(assignment, e) for e in alts}
    row["alternatives"] = f"{sum(av[e.key].full for e in alts)}/{len(alts)}"
    dl = [e for e in cat.DELEGATIONS if pipeline or e.inprocess]
    if pipeline:
        dv = {}
        for g in M.groups(dl, getattr(cat, "DEPENDS", {})):
            dv.update(M.grade_group(assignment, g))
    else:
        dv = {e.key: M.run_inprocess(assignment, e) for e in dl}
    blocked = [e for e in dl if all(p == 0 for p, _, _ in dv[e.key].cells.values())
               and M.refused(dv[e.key].first())]
    row["delegations"] = f"{len(blocked)}/{len(dl)}"
    cv = {}
    if pipeline:
        ch = [e for e in cat.CHEATS if os.geteuid() == 0 or not e.sandbox_only]
        for e in ch:
            cv.update(M.grade_group(assignment, [e]))
        row["cheats"] = f"{sum(all(p == 0 for p, _, _ in cv[e.key].cells.values()) for e in ch)}/{len(ch)}"
    row["seconds"] = round(time.perf_counter() - t0, 1)
    row["cells"] = per_cell(mk, verdicts, alts, av)
    if verbose:
        for e in mk:
            v = verdicts[e.key]
            tag = "named" if v.named(e.expect) else "REJECTED" if v.rejected else "PASSED"
            print(f"  [{tag}] {e.cell}: {e.label}  (expects {e.expect!r})")
            if tag != "named":
                print("      " + v.first().replace("\n", "\n      "))
        for e in alts:
            if not av[e.key].full:
                print(f"  [ALT LOSES] {e.cell}: {e.label}\n      " + av[e.key].first().replace("\n", "\n      "))
        for e in dl:
            if e not in blocked:
                print(f"  [DELEGATION NOT BLOCKED] {e.cell}: {e.label}\n      "
                      + (dv[e.key].first() or "full marks").replace("\n", "\n      "))
        for label, v in cv.items():
            if any(p for p, _, _ in v.cells.values()):
                print(f"  [CHEAT GAINED] {label}: {v.cells}")
    return row


def per_cell(mk: list, verdicts: dict, alts: list, av: dict) -> dict[str, dict]:
    """{answer cell: mistakes, rejected, named, alternatives kept/all} — the catalogue by cell."""
    cells: dict[str, dict] = {}
    for e in mk:
        c = cells.setdefault(e.cell, {"mistakes": 0, "rejected": 0, "named": 0, "alt": 0, "alts": 0})
        c["mistakes"] += 1
        c["rejected"] += verdicts[e.key].rejected
        c["named"] += verdicts[e.key].rejected and verdicts[e.key].named(e.expect)
    for e in alts:
        c = cells.setdefault(e.cell, {"mistakes": 0, "rejected": 0, "named": 0, "alt": 0, "alts": 0})
        c["alts"] += 1
        c["alt"] += av[e.key].full
    return cells


def print_cells(rows: list[dict]) -> None:
    print("per answer cell:")
    heads = ("mistakes", "rejected", "named", "alternatives")
    print(f"{'assignment':>22s}  {'cell':>24s}  " + "  ".join(f"{h:>9s}" for h in heads))
    for r in rows:
        for cell, c in r["cells"].items():
            print(f"{r['assignment']:>22s}  {cell:>24s}  {c['mistakes']:>9d}  {c['rejected']:>9d}  {c['named']:>9d}  "
                  f"{c['alt']:>5d}/{c['alts']:<6d}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("assignments", nargs="*", default=M.ASSIGNMENTS)
    ap.add_argument("--pipeline", action="store_true", help="grade through nnlib_grader's runner")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every message that does not name")
    args = ap.parse_args()
    rows = []
    for a in args.assignments:
        if args.verbose:
            print(a)
        rows.append(run(a, args.pipeline, args.verbose))
    keys = ["assignment", "mistakes", "rejected", "named", "alternatives", "delegations"] + (
        ["cheats"] if args.pipeline else []) + ["seconds"]
    print_cells(rows)
    print(("pipeline" if args.pipeline else "self-check (in process)") + ":")
    print("  ".join(f"{k:>22s}" if k == "assignment" else f"{k:>12s}" for k in keys))
    for r in rows:
        print("  ".join(f"{str(r.get(k, '')):>22s}" if k == "assignment" else f"{str(r.get(k, '')):>12s}"
                        for k in keys))
    tot = {k: sum(r[k] for r in rows) for k in ("mistakes", "rejected", "named")}
    print(f"total: {tot['mistakes']} mistakes, {tot['rejected']} rejected, {tot['named']} named "
          f"({100 * tot['named'] / max(1, tot['mistakes']):.0f} %)")


if __name__ == "__main__":
    main()
