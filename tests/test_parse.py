"""Format detection and HTML extraction on real-world page shapes (pure functions)."""

from __future__ import annotations

from app.ingest.detect import detect
from app.ingest.parse import parse

XHTML = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.1//EN" "http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd">\n'
    '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>git-stash(1)</title>\n'
    "<style>" + "body { font-family: Georgia; }\n" * 400 + "</style>\n"
    "<script>var toc = document.getElementById('toc');</script></head>\n"
    "<body><h1>git-stash(1)</h1><h2>NAME</h2>"
    "<p>git-stash - Stash the changes in a dirty working directory away</p></body></html>"
)


def test_xhtml_with_an_xml_prolog_and_a_long_head_is_html() -> None:
    data = XHTML.encode()
    assert detect(data, "git-stash.html").format == "html"
    assert detect(data, "page").format == "html"  # by content alone
    blocks = parse("html", data)
    text = " ".join(b.text for b in blocks)
    assert "font-family" not in text and "getElementById" not in text
    assert [b.text for b in blocks if b.kind == "heading"] == ["git-stash(1)", "NAME"]
    assert blocks[-1].text.startswith("git-stash - Stash the changes")
