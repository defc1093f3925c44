"""The feedback page that ``serve`` returns to a student for one notebook of a submission.

Built from the trusted grading record (:class:`nnlib_grader.results.Result`), never from the learner's notebook:
every text on it is escaped (:func:`html.escape`), the page carries no script and loads nothing (inline CSS only),
so it shows the same offline and nothing a learner wrote runs in anyone's browser.

What it shows depends on the assignment's settings (:class:`nnlib_grader.serve.Settings`):

* ``tests = "public"``: the visible tests only; hidden tests are not mentioned beyond their count.
* ``tests = "all"``: the hidden tests' outcomes too (their fixed sentences, :mod:`nnlib_grader.hidden`), but only
  once the due date has passed when ``withhold_hidden_until_due`` is on; before it, a line says when they show.

A submission beyond the day's ``max_feedback_submissions`` gets :func:`limit_page` instead (it is not graded).
"""

from __future__ import annotations

import datetime as dt
import html

_CSS = ("body{font-family:sans-serif;max-width:52em;margin:2em auto;line-height:1.4}"
        "table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3em .5em;"
        "vertical-align:top;text-align:left}.ok{color:#07611d}.bad{color:#a40000}pre{white-space:pre-wrap;margin:0}"
        ".note{background:#f3f3f3;padding:.5em 1em}")


def _page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n")


def _when(t: dt.datetime | None) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if t else "the due date"


def result_page(res, notebook: str, hidden_ids: set[str], *, show_hidden: bool, withheld_until: dt.datetime | None,
                submitted: str, runs_today: int, max_runs: int | None) -> str:
    """The page of ``notebook`` (its name without .ipynb) for the grading record ``res``.

    ``hidden_ids``: the grade ids of the notebook's hidden test cells; ``show_hidden``: whether their outcomes are
    shown; ``withheld_until``: the due date they are withheld until (None: they are not graded in the feedback).
    """
    rows, shown, shown_max, n_hidden, hidden_max = [], 0.0, 0.0, 0, 0.0
    for (nb, gid), c in res.cells.items():
        if nb != notebook:
            continue
        pts, mx = float(c.get("points") or 0), float(c.get("max_points") or 0)
        if c.get("kind") == "manual":
            rows.append(f"<tr><td>{html.escape(gid)}</td><td>–</td><td>0 / {mx:g}</td>"
                        "<td>graded by hand by your instructor</td></tr>")
            continue
        if gid in hidden_ids and not show_hidden:
            n_hidden, hidden_max = n_hidden + 1, hidden_max + mx
            continue
        shown, shown_max = shown + pts, shown_max + mx
        ok = bool(c.get("passed"))
        rows.append(f"<tr><td>{html.escape(gid)}{' (hidden test)' if gid in hidden_ids else ''}</td>"
                    f"<td class='{'ok' if ok else 'bad'}'>{'passed' if ok else 'failed'}</td>"
                    f"<td>{pts:g} / {mx:g}</td><td><pre>{html.escape(str(c.get('message') or ''))}</pre></td></tr>")
    parts = [f"<p>Submitted {html.escape(submitted)}; graded automatically on submission.</p>"]
    if res.status != "ok":
        parts.append(f"<p class='bad'>Grading status: {html.escape(res.status)}. "
                     f"{html.escape(res.message or '')}</p>")
    parts.append(f"<p><b>Score of the tests shown here: {shown:g} / {shown_max:g}</b></p>")
    parts.append("<table><tr><th>test</th><th>result</th><th>points</th><th>feedback</th></tr>"
                 + "".join(rows) + "</table>")
    if n_hidden:
        if withheld_until is not None:
            parts.append(f"<p class='note'>{n_hidden} hidden test(s) ({hidden_max:g} points) are graded too; their "
                         f"results are shown after {html.escape(_when(withheld_until))}.</p>")
        else:
            parts.append(f"<p class='note'>{n_hidden} hidden test(s) ({hidden_max:g} points) count in your grade; "
                         "this feedback shows the public tests only.</p>")
    if max_runs is not None:
        parts.append(f"<p>Feedback runs today (UTC): {runs_today} of {max_runs}.</p>")
    parts.append("<p>This is feedback, not your grade: your instructor grades the final submission.</p>")
    return _page(f"Feedback: {res.assignment} / {notebook}", "\n".join(parts))


def limit_page(assignment: str, notebook: str, submitted: str, max_runs: int, due: dt.datetime | None) -> str:
    """The page of a submission beyond the day's feedback runs: received, not graded now, and why."""
    if max_runs == 0:
        why = f"Feedback on this assignment is given after {html.escape(_when(due))} only."
    else:
        why = (f"You have used today's {max_runs} feedback run(s) on this assignment (days in UTC); the next "
               "submission after midnight UTC gets feedback again.")
    body = (f"<p>Submitted {html.escape(submitted)}.</p><p class='note'>{why}</p>"
            "<p>Your submission was received: your instructor grades the final submission as usual.</p>")
    return _page(f"Feedback: {assignment} / {notebook} (no feedback run)", body)
