"""Format detection and HTML extraction on real-world page shapes (pure functions)."""

from __future__ import annotations

from askbase.app.knowledge.ingest.detect import detect
from askbase.app.knowledge.ingest.parse import parse

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


SPHINX = """<!DOCTYPE html><html><head><title>argparse — Parser for command-line options</title></head>
<body>
<div class="related" role="navigation"><ul><li><a href="index.html">Python docs</a></li>
<li><a href="genindex.html">index</a></li></ul></div>
<div class="document"><div class="documentwrapper"><div class="bodywrapper">
<div class="body" role="main">
<section id="module-argparse"><h1>argparse — Parser for command-line options<a class="headerlink"
 href="#module-argparse">¶</a></h1>
<p>The argparse module makes it easy to write user-friendly command-line interfaces.</p>
</section></div></div></div>
<div class="sphinxsidebar" role="navigation" aria-label="main navigation">
<h3>Table of Contents</h3><ul><li><a href="#">Every other module of the library</a></li></ul>
</div></div>
<div class="footer" role="contentinfo">© Copyright 2001 Python Software Foundation.</div>
</body></html>"""


def test_documentation_pages_keep_their_content_and_drop_their_furniture() -> None:
    blocks = parse("html", SPHINX.encode())
    text = " ".join(b.text for b in blocks)
    assert "user-friendly command-line interfaces" in text
    for furniture in ("Python docs", "Table of Contents", "Every other module", "Copyright", "¶"):
        assert furniture not in text
    assert blocks[0] == blocks[0].__class__(
        "heading", "argparse — Parser for command-line options", level=1
    )


CONSENT_PAGE = """<!doctype html><html><head><title>Returns</title></head><body>
<div id="cookie-banner" class="cookie-consent"><p>We use cookies to improve your
experience.</p><button>Accept all</button><button>Reject</button></div>
<div class="cc-window"><span>This website uses cookies.</span></div>
<div id="CybotCookiebotDialog"><p>Cookiebot consent text</p></div>
<h1>Returns</h1><p>Items can be returned within thirty days of delivery.</p>
<section class="cookie-policy"><h2>Our cookie policy</h2><p>{policy}</p></section>
</body></html>"""


def test_cookie_banners_are_dropped_but_a_page_about_cookies_is_kept() -> None:
    policy = "We store a session cookie for sign-in and nothing else. " * 40
    blocks = parse("html", CONSENT_PAGE.format(policy=policy).encode())
    text = " ".join(b.text for b in blocks)
    assert "returned within thirty days" in text
    for banner in (
        "We use cookies to improve",
        "Accept all",
        "This website uses cookies",
        "Cookiebot consent text",
    ):
        assert banner not in text, banner
    assert "Our cookie policy" in text and "session cookie for sign-in" in text
