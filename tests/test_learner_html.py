"""The learner-HTML builder (nnlib_grader.learner_html): any markdown or text a learner writes becomes HTML with
no active content, as the formgrader renders it (markdown2html on the stored cell, no sanitiser) and as the
feedback page renders it.  Hypothesis generates the inputs from the pieces XSS vectors are made of; the example
budget is small in CI (NNLIB_FUZZ_EXAMPLES raises it for a release check, e.g. 20000)."""

from __future__ import annotations

import html
import os

import pytest
from _active_content import active_content, url_scheme
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnlib_grader.learner_html import markdown_cell_source, text_cell_source

EXAMPLES = int(os.environ.get("NNLIB_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# the pieces XSS vectors are built from: schemes spelt every way, markdown link forms, raw HTML, SVG/MathML, MathJax
PIECES = ["[", "]", "(", ")", "<", ">", "!", "javascript", "JaVaScRiPt", "vbscript", "data", "livescript", ":",
          "\\:", "&#58;", "&#x3a;", "&colon;", "&#106;", "&#x6A;", "&amp;", "\t", "\n", "\r", "\x00", "\x01", " ",
          "\u2028", "\x0c", "java\nscript", "java\tscript", "<a href=", "<a href=\"", "<img src=x onerror=",
          "<svg onload=", "<svg><a xlink:href=", "<math><mi xlink:href=", "<script>", "</script>", "<style>",
          "<iframe srcdoc=", "<object data=", "<embed src=", "<form action=", "<button formaction=", " onmouseover=",
          " style=", "\"", "'", "`", "$", "$$", "\\href{", "}{", "}", "\\(", "\\)", "[1]: ", "[x][1]", "\n\n",
          "```", "    ", "<!--", "-->", "<![CDATA[", "%6a", "http://", "https://", "mailto:", "//", "alert(1)",
          "<div>", "</div>", "<p>", "<details open ontoggle=", "<base href=", "<meta http-equiv=refresh content=",
          "\\", "*", "_", "|", "- ", "1. ", "> ", "# ", "<https://x.org>", "<javascript:alert(1)>"]
markdown = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=6)), max_size=30).map("".join)


def _formgrader_view(source: str) -> str:
    """What nbgrader's formgrader does with a markdown cell: markdown2html, no sanitiser."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    return markdown2html_mistune(source)


def _check(source: str) -> None:
    shown = _formgrader_view(source)
    assert shown.strip() == source, "rendering the stored cell again changes it: the formgrader would not show " \
        "what was cleaned"
    assert active_content(shown) == []


@FUZZ
@given(markdown)
def test_any_markdown_becomes_html_without_active_content(md):
    _check(markdown_cell_source(md))


@FUZZ
@given(markdown)
def test_any_raw_text_becomes_html_without_active_content(text):
    _check(text_cell_source(text))


SCRIPT_URLS = ["[a](javascript:alert(1))", "[b](jav&#97;script:alert(1))", "[c](jav&amp;#97;script:alert(1))",
               "[d](data:text/html,<script>x</script>)", "[e](JAVASCRIPT:alert(1))", "[f](<javascript:alert(1)>)",
               "[g]\n\n[g]: javascript:alert(1)", "![h](javascript:alert(1))", "[i](&#106;avascript:alert(1))",
               "[j](vbscript:x)", "[k]( javascript:alert(1))", "[click me](javascript\\:alert(1))",
               "<javascript:alert(1)>", "[m](\x01javascript:alert(1))",
               "<a href=\"jav&#x09;ascript:alert(1)\">n</a>", "<svg><a xlink:href=\"javascript:alert(1)\">o</a></svg>"]


@pytest.mark.parametrize("md", SCRIPT_URLS)
def test_script_urls_however_spelt(md):
    """Each is a live script URL when rendered without the builder (so the test means something), none after."""
    raw = _formgrader_view(md)
    assert active_content(raw) or "javascript:" in html.unescape(raw).lower(), md
    _check(markdown_cell_source(md))


def test_ordinary_markdown_survives():
    src = markdown_cell_source("# Answer\n\nSee [the notes](https://example.org/a?b=1&c=2) or "
                               "[mail](mailto:t@example.org); $\\sigma'(z) < 1$ and **bold**, `code`.\n\n"
                               "| a | b |\n|---|---|\n| 1 | 2 |\n\n```python\nx = 1\n\ny = 2\n```")
    for part in ('<h1>Answer', 'href="https://example.org/a?b=1&amp;c=2"', 'href="mailto:t@example.org"',
                 "$\\sigma'(z) &lt; 1$", "<strong>bold</strong>", "<code>code</code>", "<td>1</td>",
                 "<span>1</span>&#10;&#10;<span>y</span>"):
        assert part in src, (part, src)


def test_url_scheme_follows_the_browsers_rules():
    assert url_scheme(" \x01JaVa\tScRiPt\n:x") == "javascript"
    assert url_scheme("files/a.png") is None and url_scheme("https://x") == "https"
    assert active_content('<a href="&#x6A;avascript:x">') and not active_content('<a href="/x">')
