"""``python -m nnlib_grader grade | release | publish | export | report | certs | serve | doctor``
(docs/instructor.md, docs/workflow.md, docs/hub.md)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def main(argv: list[str] | None = None, own_process: bool = False) -> int:
    """``own_process``: this is ``python -m nnlib_grader`` (not a call from a test or a notebook), so ``grade`` may
    set the process's own memory limit."""
    from nnlib_grader import batch, limits, publish, report
    from nnlib_grader import executor as E
    from nnlib_grader.doctor import doctor as run_doctor  # the package's `doctor`/`release` are the functions
    from nnlib_grader.release import release as run_release

    sys.modules.setdefault("rfc3987_syntax", None)  # nbformat's jsonschema: skip a 1 s grammar compile
    p = argparse.ArgumentParser(prog="python -m nnlib_grader",
                                description="Instructor tools: trusted grading, release, publish, export, doctor.")
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("grade", help="grade a folder of submissions (learner code in sandboxed workers)")
    g.add_argument("--course", default=".", help="course root (holds nbgrader_config.py)")
    g.add_argument("--assignment", required=True)
    g.add_argument("--submissions", required=True,
                   help="FOLDER/<student>/<assignment>/*.ipynb or FOLDER/<student>.ipynb")
    g.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 2) // 2))
    g.add_argument("--dask", default=None, metavar="ADDRESS",
                   help="run the jobs on this Dask scheduler: tls://HOST:PORT (with --dask-tls)")
    g.add_argument("--dask-tls", default=None, metavar="DIR",
                   help="folder with ca.pem, client.pem, client-key.pem (made by: python -m nnlib_grader certs DIR)")
    g.add_argument("--insecure", action="store_true",
                   help="allow a --dask address without TLS (tcp://): only on a network no one else can reach")
    g.add_argument("--timeout", type=float, default=600, help="wall-clock seconds per submission")
    g.add_argument("--cell-timeout", type=float, default=None,
                   help="seconds per answer cell (default: Execute.timeout)")
    g.add_argument("--call-timeout", type=float, default=30, help="seconds per call of a learner's function")
    g.add_argument("--memory-mb", type=int, default=2048, help="memory of one job (cgroup and RLIMIT_AS)")
    g.add_argument("--grader-memory-mb", type=int, default=limits.DEFAULT_MB,
                   help="memory limit of the grader process itself (RLIMIT_DATA; 0: none)")
    g.add_argument("--force", action="store_true", help="regrade unchanged, already graded submissions")
    g.add_argument("--retry-failed", action="store_true", help="regrade unchanged submissions that errored")
    g.add_argument("--no-sandbox", action="store_true", help="no namespaces (rlimits and the nnlib shim only)")
    g.add_argument("--container", action="store_true",
                   help="run each worker in a podman container (for hosts without the namespace sandbox)")
    g.add_argument("--no-feedback", action="store_true", help="do not generate the feedback HTML")
    g.add_argument("--release-feedback", action="store_true",
                   help="then release the feedback to the students (nbgrader release_feedback; they Fetch Feedback)")
    r = sub.add_parser("release", help="generate exercises/ (release) from solutions/ (source)")
    r.add_argument("--course", default=".")
    r.add_argument("--assignment", action="append")
    pb = sub.add_parser("publish", help="write the student distribution (no solutions/, tests/, history, grades)")
    pb.add_argument("dir", help="destination directory (outside the course)")
    pb.add_argument("--course", default=".")
    pb.add_argument("--force", action="store_true", help="replace a non-empty destination")
    pb.add_argument("--git", action="store_true", help="make the destination a fresh git repository (one commit)")
    ex = sub.add_parser("export", help="grades for an LMS: nbgrader export (CSV plugin)")
    ex.add_argument("--course", default=".")
    ex.add_argument("--to", default=None, help="output file (default grading/export.csv)")
    ex.add_argument("--assignment", action="append", help="only these assignments (repeat)")
    ex.add_argument("--student", action="append", help="only these students (repeat)")
    ex.add_argument("--exporter", default=None, help="another nbgrader ExportPlugin (module.Class)")
    ex.add_argument("--format", choices=("csv", "canvas", "moodle"), default="csv",
                    help="csv: nbgrader's; canvas / moodle: that LMS's grade import CSV (needs --roster)")
    ex.add_argument("--roster", default=None, help="CSV: student,name,canvas_id,sis_user_id,sis_login_id,section,"
                    "email,idnumber (docs/workflow.md)")
    ex.add_argument("--assignment-ids", default=None, help="CSV: assignment,lms_id[,title] (the LMS's ids)")
    rp = sub.add_parser("report", help="(re)write grading/<A>/class.csv and class.md from the gradebook")
    rp.add_argument("--course", default=".")
    rp.add_argument("--assignment", required=True)
    ce = sub.add_parser("certs", help="make a CA and the TLS certificates of a Dask grading cluster")
    ce.add_argument("dir", help="destination folder (mode 0700; keys 0600)")
    ce.add_argument("--days", type=int, default=365, help="validity of the certificates")
    ce.add_argument("--force", action="store_true", help="replace an existing CA")
    xt = sub.add_parser("extensions", help="apply extensions.csv and recompute late penalties (docs/workflow.md)")
    xt.add_argument("action", choices=("apply",))
    xt.add_argument("--course", default=".")
    xt.add_argument("--assignment", default=None, help="only this assignment (default: all)")
    from nnlib_grader import serve

    serve.add_arguments(sub.add_parser("serve", help="grade each submission as it arrives in the exchange and "
                                       "return feedback (docs/hub.md)"))
    d = sub.add_parser("doctor", help="check the instructor's Jupyter/nbgrader stack and the sandbox")
    d.add_argument("--course", default=".")
    a = p.parse_args(argv)
    if a.cmd == "grade":
        problem = limits.check(a.grader_memory_mb, a.memory_mb)
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return 2
        if own_process:
            now = limits.limit_memory(a.grader_memory_mb)
            print(f"the grader's own memory limit: {f'{now // 2**20} MiB' if now else 'none'} (--grader-memory-mb)")
        opts = batch.Options(jobs=a.jobs, timeout=a.timeout, cell_timeout=a.cell_timeout, call_timeout=a.call_timeout,
                             memory_mb=a.memory_mb, force=a.force, retry_failed=a.retry_failed,
                             sandbox=False if a.no_sandbox else None, dask=a.dask, dask_tls=a.dask_tls,
                             insecure=a.insecure, feedback=not a.no_feedback, container=a.container)
        try:
            b = batch.grade(a.course, a.assignment, a.submissions, opts)
        except batch.BusyError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 3
        except E.DaskError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        report.class_report_or_warn(a.course, a.assignment)
        results = list(b)
        out = Path(a.course).resolve() / "grading" / a.assignment
        bad = [r for r in results if r.status != "ok"]
        parts = [f"graded {len(results)} submission(s)", f"{len(bad)} with problems",
                 f"{b.unchanged} unchanged (kept)", f"{len(b.skipped)} skipped (listed above)"]
        if b.interrupted:
            parts.append("interrupted: the rest is graded by the next run")
        print("; ".join(parts) + f"\ngrades: {out / 'grades.csv'}  report: {out / 'report.md'}")
        if a.release_feedback and not a.no_feedback and not b.interrupted:
            from nnlib_grader.feedback_release import release as release_feedback

            release_feedback(a.course, a.assignment)
        return 130 if b.interrupted else 0
    if a.cmd == "release":
        run_release(a.course, a.assignment)
        return 0
    if a.cmd == "publish":
        try:
            publish.publish(a.course, a.dir, force=a.force, git=a.git)
        except publish.PublishError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return 0
    if a.cmd == "export" and a.format != "csv":
        from nnlib_grader import lms

        try:
            print(f"exported: {lms.export(a.course, a.format, a.roster, a.to, a.assignment, a.assignment_ids)}")
        except lms.ExportError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        return 0
    if a.cmd == "export":
        print(f"exported: {report.export(a.course, a.to, a.assignment, a.student, a.exporter)}")
        return 0
    if a.cmd == "report":
        for path in report.class_report(a.course, a.assignment):
            print(path)
        return 0
    if a.cmd == "extensions":
        from nnlib_grader import extensions

        try:
            changed = extensions.apply(a.course, a.assignment)
        except extensions.ExtensionError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"{len(changed)} submission(s) changed")
        return 0
    if a.cmd == "certs":
        from nnlib_grader import certs

        try:
            written = certs.make(a.dir, days=a.days, force=a.force)
        except (FileExistsError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print("\n".join(map(str, written)))
        return 0
    if a.cmd == "serve":
        return serve.main(a)
    checks = run_doctor(a.course)
    return 0 if all(c.ok for c in checks) else 1
