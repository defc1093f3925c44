"""Feedback pages that render math without a CDN: MathJax from the Jupyter server that shows the page.

nbgrader's feedback template calls nbconvert's ``mathjax()`` macro without an argument, so each page loads
MathJax 2.7.7 from cdnjs with the ``Safe`` extension (``config=TeX-AMS_CHTML-full,Safe``); offline the learner sees
raw ``$…$``.  ``jupyter-server-mathjax`` (a Jupyter project package, the course extra) serves the same MathJax 2.7
with its ``Safe`` extension at ``<base_url>static/jupyter_server_mathjax/MathJax.js`` of every Jupyter server.
:func:`localise` replaces that one script tag by a loader that finds the server's ``base_url`` in the page's own
address (``document.baseURI``: ``…/files/…`` when opened in a browser tab, and the ``<base href>`` JupyterLab's
HTML viewer sets, so also on JupyterHub's ``/user/<name>/``) and loads MathJax from there, still with ``Safe``
(it refuses ``\\href`` to any scheme but http/https and drops ``\\style``, ``\\class`` and ``\\require``:
docs/instructor.md); the ``text/x-mathjax-config`` block of the macro stays as it was.  A page opened from disk
(no Jupyter server in its address) falls back to the CDN, as before.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from nnlib.files import atomic_write

CDN_TAG = ('<script src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/latest.js'
           '?config=TeX-AMS_CHTML-full,Safe"> </script>')
LOCAL_PATH = "static/jupyter_server_mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
CDN_URL = "https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/latest.js?config=TeX-AMS_CHTML-full,Safe"
# the Jupyter server's URL prefix is what precedes its first handler path segment in the page's base URI
LOADER = ("<script>(function () {var u = document.baseURI || location.href;"
          "var m = u.match(/^(https?:\\/\\/[^?#]*?\\/)(?:files|view|tree|lab|notebooks|formgrader)\\//);"
          "var s = document.createElement('script');"
          f"s.src = m ? m[1] + '{LOCAL_PATH}' : '{CDN_URL}';"
          "document.head.appendChild(s);})();</script>")


def localise(page: str) -> str:
    """``page`` with nbconvert's CDN MathJax tag replaced by the server-relative loader (module doc); a page
    without the tag (already localised, or another template) is returned unchanged."""
    return page.replace(CDN_TAG, LOADER, 1)


def localise_feedback(feedback_dir: Path, assignment: str, students: list[str]) -> int:
    """Localise ``feedback/<student>/<assignment>/*.html`` of ``students`` in place (atomically); returns the
    number of pages changed.  A page nbgrader wrote without the expected tag is named on stderr (its template
    changed: the page still loads MathJax from wherever that template says)."""
    changed = 0
    for s in students:
        for page in sorted((Path(feedback_dir) / s / assignment).glob("*.html")):
            text = page.read_text(encoding="utf-8")
            new = localise(text)
            if new != text:
                mode = page.stat().st_mode & 0o777  # nbgrader's (0644): release_feedback copies it to students
                atomic_write(page, new)
                os.chmod(page, mode)
                changed += 1
            elif LOADER not in text:
                print(f"warning: {page}: no MathJax CDN tag to replace (nbgrader's template changed?)",
                      file=sys.stderr)
    return changed
