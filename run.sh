#!/usr/bin/env bash
# The set-up commands of the nnlib course (see README.md and docs/workflow.md):
#   bash run.sh lab      install everything into .venv and open the course in JupyterLab (instructor: formgrader)
#   bash run.sh student  the same for a learner: no formgrader, no Create Assignment panel
#   bash run.sh test     install everything (+ test tools, + Chromium when root) and run the whole test suite
#   bash run.sh git-filter   only (re-)register the nbstripout git filter for course/*.ipynb
# lab, student and test register the git filter (see git_filter below and README).
# Extra arguments go to jupyter lab / pytest (e.g. bash run.sh lab --port=8890 --no-browser).
# NNLIB_VENV=DIR uses another virtualenv; NNLIB_SKIP_INSTALL=1 skips the pip step (an environment already set up).
set -euo pipefail
cd "$(dirname "$0")"

DEFAULT_MODE=""     # `python -m nnlib_grader publish` sets this to student in a student distribution
STUDENT_ONLY=""     # ... and this to 1: there, `lab` is the student mode too

PY=${PYTHON:-python3}
VENV=${NNLIB_VENV:-.venv}
case "$VENV" in /*) ;; *) VENV="$PWD/$VENV" ;; esac
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
# nbgrader runs alembic (and jupyter its own tools) from PATH: the venv's bin comes first
export PATH="$VENV/bin:$PATH"
pip_install() {
  [ -n "${NNLIB_SKIP_INSTALL:-}" ] && return 0
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
}
# NNLIB_PYTHON: an existing environment's python (e.g. conda's) for `git-filter`
# git filter: strip outputs (and the kernel's language_info) from course/*.ipynb as git reads them, so a lecture
# the learner ran and saved is "unchanged" for git and `git pull` never conflicts on it (.gitattributes, README)
# The smudge side adds the kernel's language_info back on checkout (tools/nb_smudge.py), so JupyterLab finds
# nothing to change when it opens a lecture and does not mark it modified.
git_filter() {
  git rev-parse --is-inside-work-tree >/dev/null 2>&1 || return 0
  local py="${NNLIB_PYTHON:-$VENV/bin/python}" first=0 f
  local strip="'$py' -m nbstripout --keep-id --extra-keys metadata.language_info"
  git config --get filter.nbstripout.smudge | grep -q nb_smudge || first=1
  git config filter.nbstripout.clean "$strip"
  git config filter.nbstripout.smudge "'$py' '$PWD/tools/nb_smudge.py'"
  git config diff.ipynb.textconv "$strip -t"
  if [ "$first" = 1 ]; then  # lectures checked out before the filter existed, never run: check them out again
    for f in course/[0-9][0-9]_*.ipynb; do
      if git show "HEAD:$f" 2>/dev/null | cmp -s - "$f"; then rm -f "$f" && git checkout -q -- "$f" && touch "${f%.ipynb}.md"; fi
    done
  fi
  # git compares file sizes before it runs the filter: without a stash, `git pull` would refuse to overwrite a
  # lecture that was only run and saved. Autostash stashes it (as the filter sees it: no outputs), pulls, re-applies.
  git config merge.autoStash true
  git config rebase.autoStash true
}
root_flag=()
[ "$(id -u)" = 0 ] && root_flag=(--allow-root)

mode="${1:-$DEFAULT_MODE}"
[ $# -gt 0 ] && shift
[ "$mode" = lab ] && [ -n "$STUDENT_ONLY" ] && mode=student
if [ "$mode" = test ] && [ -n "$STUDENT_ONLY" ]; then
  echo "run.sh: the tests are not part of the student distribution" >&2
  exit 2
fi

exchange() {  # nbgrader's exchange inside the course (c.Exchange.root in nbgrader_config.py)
  mkdir -p exchange
  chmod a+rwx,+t exchange
}

# course-wide JupyterLab page config (jupyter-course/README.md: no "official Jupyter news?" popup)
export JUPYTER_CONFIG_PATH="$PWD/jupyter-course${JUPYTER_CONFIG_PATH:+:$JUPYTER_CONFIG_PATH}"
# ... and its nbconvert macro: the formgrader's pages load MathJax from this server, not a CDN (offline math)
export JUPYTER_PATH="$PWD/jupyter-course/share${JUPYTER_PATH:+:$JUPYTER_PATH}"

grader_pkg=()  # the instructor's grader (grader/, its own package): never in the student mode or distribution
[ -d grader ] && [ -z "$STUDENT_ONLY" ] && grader_pkg=(-e ./grader)

case "$mode" in
  lab)
    pip_install -e ".[course]" "${grader_pkg[@]}"
    exchange
    git_filter
    exec "$VENV/bin/jupyter" lab "${root_flag[@]}" --ServerApp.root_dir="$PWD" "$@" course/01_perceptron.ipynb
    ;;
  student)
    pip_install -e ".[course]"
    exchange
    git_filter
    # a course-local Jupyter config: the formgrader and Create Assignment plugins are disabled there
    export JUPYTER_CONFIG_DIR="$PWD/jupyter-student"
    exec "$VENV/bin/jupyter" lab "${root_flag[@]}" --ServerApp.root_dir="$PWD" "$@" course/01_perceptron.ipynb
    ;;
  test)
    pip_install -e ".[course,dev,frameworks]" "${grader_pkg[@]}"
    pip_install -e ".[hub]"  # JupyterHub, for tests/test_hub.py (docs/hub.md)
    git_filter
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && ! { command -v podman && [ -x /usr/sbin/runc ]; } >/dev/null; then
      echo "run.sh: installing Debian's podman and runc for the container-mode tests"
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc) >/dev/null
    fi
    if ! command -v chromium >/dev/null 2>&1; then
      if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "run.sh: installing Debian's chromium for the browser tests"
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
      else
        echo "run.sh: chromium not found: the JupyterLab browser tests will be skipped (they fail under CI=true)"
      fi
    fi
    if ! command -v configurable-http-proxy >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
      echo "run.sh: installing configurable-http-proxy (npm, on Debian's nodejs) for the JupyterHub test"
      if ! command -v npm >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm) >/dev/null
      fi
      npm install -g --silent configurable-http-proxy >/dev/null
    fi
    # pytest runs 2 workers on 2 cores: one BLAS thread each avoids oversubscription (several-fold slowdowns)
    export NNLIB_QUICK=1 MPLBACKEND=Agg OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
    echo "== ruff"
    "$VENV/bin/ruff" check .
    echo "== pytest"
    # -m "": every test, slow ones included (pyproject's addopts select the quick set for a bare `pytest`);
    # the gpu tests skip without a GPU.  Arguments after `bash run.sh test` come later and take precedence.
    exec "$VENV/bin/python" -m pytest -n 2 --dist loadgroup -p no:cacheprovider --durations=25 -m "" "$@"
    ;;
  git-filter)  # only (re-)register the git filter, for a clone whose .venv exists already
    git_filter
    ;;
  *)
    echo "usage: bash run.sh lab | bash run.sh student | bash run.sh test [pytest args] | bash run.sh git-filter" >&2
    exit 2
    ;;
esac
