"""nbgrader configuration of the nnlib course (nbgrader 0.9.6); the course directory is the repo root.

Instructor workflow (from the repo root, in the course's environment: ``source .venv/bin/activate``):
    python -m nnlib_grader release                          # solutions/<a>/<a>.md → <a>.ipynb → exercises/
    nbgrader collect a05_backprop                           # the exchange's submissions → submitted/
    python -m nnlib_grader grade --assignment a05_backprop --submissions submitted   # sandboxed, never autograde
docs/workflow.md has the whole term; submitted/, autograded/, feedback/ and gradebook.db stay local.
Exchange: nbgrader's exchange (release_assignment, fetch, submit) lives inside the course, in exchange/ next to this
file (run.sh creates it; it is not tracked).  Change c.Exchange.root below for a shared multi-user exchange.
"""

import os

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

COURSE_ROOT = os.path.dirname(os.path.abspath(__file__))
c.Exchange.root = os.environ.get("NNLIB_EXCHANGE") or os.path.join(COURSE_ROOT, "exchange")  # hub: docs/hub.md

c.CourseDirectory.course_id = "nnlib"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
# *.md: an assignment's source solutions/<a>/<a>.md (MyST; `python -m nnlib_grader release` writes <a>.ipynb from
# it) holds the solutions and hidden tests, so it must never be copied into the release or a learner's folder.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.md"]

# Grading runs headless on the course kernel; a cell that runs longer than this fails (the rest still run).
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True
c.Execute.kernel_name = "python3"
c.ExecutePreprocessor.timeout = 120
c.ExecutePreprocessor.kernel_name = "python3"

# Keep feedback readable: clip runaway prints and tracebacks.
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 60

# Release notebooks carry no outputs; the solution blocks of solutions/ become this stub.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.enforce_metadata = True

# Feedback HTML (nbgrader generate_feedback) renders learners' notebooks: sanitised, so no learner markup runs in a
# browser.  The formgrader does not read this setting (and its template renders markdown unsanitised): the grader
# makes the autograded notebook safe itself (learner markdown rendered, then cleaned by an allow-list:
# grader/nnlib_grader/learner_html.py), tests/test_workflow_browser.py checks in Chromium.
c.HTMLExporter.sanitize_html = True
