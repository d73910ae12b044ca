"""Real documents of every supported format, made on the spot for the tests."""

from __future__ import annotations

import io


def pdf(paragraphs: list[str], *, password: str | None = None) -> bytes:
    from fpdf import FPDF

    document = FPDF()
    document.add_page()
    document.set_font("Helvetica", size=12)
    for paragraph in paragraphs:
        document.multi_cell(0, 8, paragraph)
        document.ln(4)
    data = bytes(document.output())
    if password is None:
        return data
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=password, owner_password=password + "-owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx(title: str, sections: dict[str, list[str]]) -> bytes:
    import docx as python_docx

    document = python_docx.Document()
    document.add_heading(title, level=1)
    for heading, paragraphs in sections.items():
        document.add_heading(heading, level=2)
        for paragraph in paragraphs:
            document.add_paragraph(paragraph)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Plan", "Price"
    table.cell(1, 0).text, table.cell(1, 1).text = "Pro", "49 euros"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def html(title: str, sections: dict[str, str]) -> bytes:
    body = "".join(f"<h2>{h}</h2><p>{p}</p>" for h, p in sections.items())
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title><style>p{{color:red}}</style>"
        f"</head><body><nav>Home | Blog</nav><main><h1>{title}</h1>{body}</main>"
        "<script>var secret = 'do not index';</script></body></html>"
    ).encode()


def markdown(title: str, sections: dict[str, str]) -> bytes:
    body = "".join(f"\n## {h}\n\n{p}\n" for h, p in sections.items())
    return f"# {title}\n{body}".encode()
