"""Text extraction per format, into structural blocks (headings, paragraphs, lists...).

Libraries: pypdf (PDF), python-docx (DOCX), selectolax (HTML), markdown-it-py (Markdown).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Literal

from askbase.app.knowledge.ingest.detect import Format, decode_text

BlockKind = Literal["heading", "paragraph", "list", "code", "table"]
_BLANK_LINES = re.compile(r"\n\s*\n")
_SPACES = re.compile(r"[ \t\u00a0]+")


class ParseError(ValueError):
    """The file cannot be read (encrypted, corrupt, empty): a permanent failure."""


@dataclass(frozen=True, slots=True)
class Block:
    kind: BlockKind
    text: str
    level: int = 0  # heading level (1 = top)


def _clean(text: str) -> str:
    lines = [_SPACES.sub(" ", line).strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def _flow(text: str) -> str:
    """Running text: line breaks inside a paragraph are only wrapping (Markdown, HTML)."""
    return " ".join(_clean(text).split("\n"))


def _paragraphs(text: str) -> list[Block]:
    return [Block("paragraph", p) for chunk in _BLANK_LINES.split(text) if (p := _clean(chunk))]


def parse(fmt: Format, data: bytes) -> list[Block]:
    parser = {
        "pdf": _pdf,
        "docx": _docx,
        "html": _html,
        "markdown": _markdown,
        "text": _text,
    }[fmt]
    try:
        blocks = parser(data)
    except (ParseError, MemoryError):  # MemoryError: over the sandbox's limit
        raise
    except Exception as error:  # a library choking on a corrupt file
        raise ParseError(f"the {fmt.upper()} file is damaged or unreadable") from error
    blocks = [b for b in blocks if b.text.strip()]
    if not any(b.kind != "heading" for b in blocks):
        raise ParseError("the document contains no text")
    return blocks


def _text(data: bytes) -> list[Block]:
    return _paragraphs(decode_text(data))


def _pdf(data: bytes) -> list[Block]:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ParseError("the PDF is encrypted with a password")
        blocks: list[Block] = []
        for number, page in enumerate(reader.pages, start=1):
            text = page.extract_text() or ""
            if text.strip():
                blocks.append(Block("heading", f"Page {number}", level=9))
                blocks.extend(_paragraphs(text))
        return blocks
    except FileNotDecryptedError:
        raise ParseError("the PDF is encrypted with a password") from None
    except PdfReadError:
        raise ParseError("the PDF file is damaged or unreadable") from None


MAX_DOCX_EXPANDED = 200 << 20


def _docx(data: bytes) -> list[Block]:
    import zipfile

    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    with zipfile.ZipFile(io.BytesIO(data)) as archive:  # what the parts claim to expand to
        expanded = sum(info.file_size for info in archive.infolist())
    if expanded > MAX_DOCX_EXPANDED:
        raise ParseError(
            f"the DOCX expands to {expanded >> 20} MB, over the {MAX_DOCX_EXPANDED >> 20} MB "
            "that a document may hold (a zip bomb?)"
        )
    document = docx.Document(io.BytesIO(data))
    blocks: list[Block] = []
    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = Paragraph(child, document)
            text = _clean(paragraph.text)
            if not text:
                continue
            style = (paragraph.style.name if paragraph.style is not None else "") or ""
            if style.startswith("Heading") and style[7:].strip().isdigit():
                blocks.append(Block("heading", text, level=int(style[7:].strip())))
            elif style == "Title":
                blocks.append(Block("heading", text, level=1))
            elif style.startswith("List"):
                blocks.append(Block("list", text))
            else:
                blocks.append(Block("paragraph", text))
        elif tag == "tbl":
            table = Table(child, document)
            rows = [" | ".join(_clean(c.text) for c in row.cells) for row in table.rows]
            if any(r.strip(" |") for r in rows):
                blocks.append(Block("table", "\n".join(rows)))
    return blocks


# Page furniture, by element and by ARIA landmark role (documentation generators such as
# Sphinx mark their sidebars and link bars with roles, not <nav>), and hidden elements.
_HTML_DROP = (
    "script, style, noscript, template, svg, nav, footer, header, aside, form, iframe, "
    "[role=navigation], [role=banner], [role=contentinfo], [role=search], [role=complementary], "
    "[aria-hidden=true], [hidden], a.headerlink"
)
# Cookie and consent banners, by the ids and classes of the common consent tools and of
# hand-written ones; an element that matches is dropped only when it is short (a banner,
# not a page section about cookies).
_HTML_CONSENT = (
    "[id*=cookie i], [class*=cookie i], [id*=consent i], [class*=consent i], "
    "[id*=gdpr i], [class*=gdpr i], [aria-label*=cookie i], [aria-label*=consent i], "
    "#onetrust-consent-sdk, #CybotCookiebotDialog, .cc-window, .osano-cm-window"
)
_BANNER_CHARS = 1500
_HTML_MAIN = ("main", "[role=main]", "article")
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_LEAVES = {"p", "pre", "blockquote", "dd", "dt", "figcaption", "caption"}
_HAS_BLOCKS = ", ".join(sorted(_HEADINGS | _LEAVES | {"li", "tr", "div", "section", "ul", "ol"}))


def _html(data: bytes) -> list[Block]:
    from selectolax.lexbor import LexborHTMLParser, LexborNode

    tree = LexborHTMLParser(decode_text(data))
    for node in tree.css(_HTML_DROP):
        node.decompose()
    for node in tree.css(_HTML_CONSENT):
        if node.tag not in ("html", "body", "main", "article") and (
            len(node.text(strip=True)) <= _BANNER_CHARS
        ):
            node.decompose()
    root = next((n for n in map(tree.css_first, _HTML_MAIN) if n is not None), tree.body)
    if root is None:
        return []
    blocks: list[Block] = []
    title = tree.css_first("title")
    if title is not None and (text := _clean(title.text())) and root.css_first("h1") is None:
        blocks.append(Block("heading", text, level=1))

    def has_blocks(node: LexborNode) -> bool:
        # css_first matches the node itself too, so ask each child element.
        return any(c.css_first(_HAS_BLOCKS) is not None for c in node.iter())

    def walk(node: LexborNode) -> None:
        """Headings, table rows and leaf blocks are emitted; containers are entered."""
        for child in node.iter(include_text=True):
            tag = child.tag
            if tag in _HEADINGS:
                if text := _clean(child.text(separator=" ")):
                    blocks.append(Block("heading", text, level=int(tag[1])))
            elif tag == "tr":
                cells = [_clean(c.text(separator=" ")) for c in child.css("th, td")]
                if any(cells):
                    blocks.append(Block("table", " | ".join(cells)))
            elif tag == "pre":
                if text := child.text().strip("\n"):
                    blocks.append(Block("code", text))
            elif tag in _LEAVES or not has_blocks(child):
                if text := _flow(child.text(separator=" ")):
                    in_list = tag == "li" or (tag == "-text" and node.tag == "li")
                    blocks.append(Block("list" if in_list else "paragraph", text))
            else:
                walk(child)

    walk(root)
    return blocks


def _markdown(data: bytes) -> list[Block]:
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(decode_text(data))
    blocks: list[Block] = []
    list_depth = 0
    row: list[str] = []
    for i, token in enumerate(tokens):
        if token.type in ("bullet_list_open", "ordered_list_open"):
            list_depth += 1
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            list_depth -= 1
        elif token.type == "heading_open":
            blocks.append(Block("heading", _clean(tokens[i + 1].content), level=int(token.tag[1])))
        elif token.type == "inline" and tokens[i - 1].type == "paragraph_open":
            kind: BlockKind = "list" if list_depth else "paragraph"
            blocks.append(Block(kind, _flow(_strip_inline_markup(token.content))))
        elif token.type in ("fence", "code_block"):
            blocks.append(Block("code", token.content.strip("\n")))
        elif token.type == "inline" and tokens[i - 1].type in ("th_open", "td_open"):
            row.append(_clean(token.content))
        elif token.type == "tr_close":
            blocks.append(Block("table", " | ".join(row)))
            row = []
    return blocks


_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")


def _strip_inline_markup(text: str) -> str:
    return _LINK.sub(r"\1", text)
