#!/usr/bin/env bash
# The two set-up commands of the nnlib course (see README.md):
#   bash run.sh lab    install everything into .venv and open the course in JupyterLab
#   bash run.sh test   install everything (+ test tools, + Chromium when root) and run the whole test suite
# Both register the nbstripout git filter for course/*.ipynb (see git_filter below and README).
set -euo pipefail
cd "$(dirname "$0")"

PY=${PYTHON:-python3}
# NNLIB_PYTHON: an existing environment's python (e.g. conda's) for `git-filter`; otherwise .venv is created
if [ -z "${NNLIB_PYTHON:-}" ] && [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
pip_install() { .venv/bin/python -m pip install --quiet --disable-pip-version-check "$@"; }
# git filter: strip outputs (and the kernel's language_info) from course/*.ipynb as git reads them, so a lecture
# the learner ran and saved is "unchanged" for git and `git pull` never conflicts on it (.gitattributes, README)
# The smudge side adds the kernel's language_info back on checkout (tools/nb_smudge.py), so JupyterLab finds
# nothing to change when it opens a lecture and does not mark it modified.
git_filter() {
  git rev-parse --is-inside-work-tree >/dev/null 2>&1 || return 0
  local py="${NNLIB_PYTHON:-$PWD/.venv/bin/python}" first=0 f
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

case "${1:-}" in
  lab)
    pip_install -e ".[course]"
    git_filter
    exec .venv/bin/jupyter lab "${root_flag[@]}" --ServerApp.root_dir="$PWD" course/01_perceptron.ipynb
    ;;
  test)
    pip_install -e ".[course,dev]"
    git_filter
    if ! command -v chromium >/dev/null 2>&1; then
      if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "run.sh: installing Debian's chromium for the browser tests"
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
      else
        echo "run.sh: chromium not found: the JupyterLab browser tests will be skipped (they fail under CI=true)"
      fi
    fi
    # pytest runs 2 workers on 2 cores: one BLAS thread each avoids oversubscription (several-fold slowdowns)
    export NNLIB_QUICK=1 MPLBACKEND=Agg OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
    echo "== ruff"
    .venv/bin/ruff check .
    echo "== pytest"
    shift
    exec .venv/bin/python -m pytest -n 2 -p no:cacheprovider "$@"
    ;;
  git-filter)  # only (re-)register the git filter, for a clone whose .venv exists already
    git_filter
    ;;
  *)
    echo "usage: bash run.sh lab | bash run.sh test [pytest args] | bash run.sh git-filter" >&2
    exit 2
    ;;
esac
