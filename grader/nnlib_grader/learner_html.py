"""Learner-written markdown and text as HTML that holds no active content, by construction.

The learner's markdown is rendered first, by the renderer the formgrader and the feedback page use
(nbconvert's ``markdown2html_mistune``: mistune with its math handling), so what is cleaned is what a browser
would get; then it is cleaned by an allow-list sanitiser, ``nh3`` (Python bindings of the Rust ``ammonia``
crate, maintained and fuzzed; chosen over ``bleach``, which is deprecated): only the tags markdown produces,
only the attributes listed here (no ``on*``, no ``style``, no ``id``/``name``/``class`` that could clobber the
page's DOM or borrow its styles), and URLs only with the schemes ``http``, ``https`` and ``mailto`` (relative
URLs stay: they name the course server's own files).  ammonia parses with html5ever, the HTML5 algorithm the
browser uses, and checks each URL after decoding it, so escaped or entity-encoded schemes, mixed case and
control characters are judged as the browser would judge them.  No regular expression reads the source text.

The result is stored as a markdown cell whose source is a single HTML block, ``<div …>…</div>`` on one line
(every newline written as ``&#10;``, which the HTML parser reads back as the same newline): the formgrader
renders markdown cells with ``markdown2html`` and no sanitiser, and CommonMark passes an HTML block that starts
with ``<div`` through untouched until a blank line, of which there is none, so the formgrader shows exactly the
cleaned HTML (tested: rendering it again changes nothing).  Math stays text for MathJax; both pages load
MathJax 2 with its ``Safe`` extension (nbconvert's ``mathjax()`` macro), which refuses ``\\href`` to any scheme
but http/https and drops ``\\style``, ``\\class`` and ``\\require`` (tested on the pages).
"""

from __future__ import annotations

import html

import nh3

SCHEMES = frozenset({"http", "https", "mailto"})
TAGS = frozenset({"a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h1", "h2",
                  "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "span", "strong",
                  "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul"})
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"}, "ol": {"start"},
              "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
WRAPPER = '<div class="nnlib-learner">'


def clean(fragment: str) -> str:
    """``fragment`` (HTML) with everything outside the allow-list removed (see the module doc)."""
    return nh3.clean(fragment, tags=set(TAGS), attributes={k: set(v) for k, v in ATTRIBUTES.items()},
                     url_schemes=set(SCHEMES), link_rel="noopener noreferrer nofollow", strip_comments=True)


def render_markdown(text: str) -> str:
    """The learner's markdown as the formgrader renders it (nbconvert's mistune renderer, math kept as text)."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    return markdown2html_mistune(text)


def render_text(text: str) -> str:
    """Plain text (a raw cell) as HTML: escaped, in a ``<pre>``."""
    return f"<pre>{html.escape(text)}</pre>"


def as_cell_source(fragment: str) -> str:
    """Cleaned HTML as the source of a markdown cell that renders to exactly that HTML (see the module doc)."""
    body = clean(fragment).rstrip().replace("\r", "").replace("\n", "&#10;")
    return f"{WRAPPER}{body}</div>"


def markdown_cell_source(text: str) -> str:
    """A learner's markdown → the source of the markdown cell the autograded notebook holds."""
    return as_cell_source(render_markdown(text))


def text_cell_source(text: str) -> str:
    """A learner's raw cell → the source of the markdown cell the autograded notebook holds."""
    return as_cell_source(render_text(text))
