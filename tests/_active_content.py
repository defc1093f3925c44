"""What "no active content" means, checked the way a browser reads HTML: shared by the property tests of the
learner-HTML builder and the hostile batch (tests/test_learner_html.py, tests/test_instructor.py).

A URL is judged after the browser's own URL parsing: entities decoded (the HTML parser does that), leading and
trailing C0 controls and spaces stripped, tab/newline/CR removed anywhere, ASCII case folded; its scheme is what
stands before the first ``:`` when that is a valid scheme (else the URL is relative)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

ALLOWED_SCHEMES = {"http", "https", "mailto"}
URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "srcset",
             "codebase", "cite", "longdesc", "usemap", "dynsrc", "lowsrc", "ping", "manifest", "icon"}
ACTIVE_TAGS = {"script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "svg", "math", "form",
               "input", "button", "textarea", "select", "base", "meta", "link", "template", "noscript", "xmp",
               "plaintext", "portal", "video", "audio", "source", "track", "animate", "set", "foreignobject"}
PAGE_TAGS = {"script", "style", "link", "meta"}
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")


def url_scheme(value: str) -> str | None:
    """The scheme a browser sees in an attribute's (already entity-decoded) URL value, or None (relative)."""
    v = value.strip("".join(map(chr, range(0x21))))
    v = re.sub(r"[\t\n\r]", "", v).lower()
    m = _SCHEME.match(v)
    return m.group(1) if m else None


class _Scan(HTMLParser):
    def __init__(self, page_tags: bool):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.page_tags = page_tags

    def handle_starttag(self, tag, attrs):
        if tag in ACTIVE_TAGS and not (self.page_tags and tag in PAGE_TAGS):
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            name = name.lower()
            if name.startswith("on") or name in ("style", "srcdoc", "formaction", "action"):
                self.problems.append(f"<{tag} {name}=…>")
            if name in URL_ATTRS and value is not None:
                scheme = url_scheme(value)
                if scheme is not None and scheme not in ALLOWED_SCHEMES:
                    self.problems.append(f"<{tag} {name}={value!r}> (scheme {scheme})")

    handle_startendtag = handle_starttag


def active_content(html_text: str, page_tags: bool = False) -> list[str]:
    """Every piece of active content in ``html_text`` (empty: none).  ``page_tags``: a whole page, whose own
    ``<script>``, ``<style>``, ``<link>`` and ``<meta>`` are not counted (every attribute still is)."""
    s = _Scan(page_tags)
    s.feed(html_text)
    s.close()
    return s.problems
