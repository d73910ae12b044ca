"""Retrieval quality on a real documentation corpus: hybrid vs vector-only vs full-text-only.

Prints JSON. Run: .venv/bin/python bench/retrieval.py [--data-dir DIR] [--sweep]

Corpus: the HTML documentation of Git, as Debian's `git-doc` package ships it (242 pages),
fetched with `apt-get download` and unpacked with `dpkg-deb` into bench/.cache. Questions:
bench/retrieval_questions.json, written as a user would ask them, each with the pages that
answer it. Documents go through the product's own path (detect, parse, chunk, embed with
the local model, store) and questions through the same search code as the `search` query.

Per variant: `first` (the best hit is a right page), `top5` (a right page among the 5 hits
that `search(limit: 5)` returns), `top5_pages` (among the first 5 distinct pages) and MRR.
With --data-dir, the ingested database is kept and reused (delete it after changing the
chunker); without, a fresh temporary one is used.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from askbase.app.cli.commands import ingest_paths  # noqa: E402
from askbase.app.core.settings import load_settings  # noqa: E402
from askbase.app.knowledge.retrieval import Tuning, embed_query, hybrid_hits  # noqa: E402
from askbase.app.observability.logging import configure_logging  # noqa: E402
from askbase.app.runtime.services import open_services  # noqa: E402
from askbase.database import search  # noqa: E402

CACHE = ROOT / "bench" / ".cache"
QUESTIONS = ROOT / "bench" / "retrieval_questions.json"
DOC_ROOT = Path("usr/share/doc/git-doc")


def corpus() -> Path:
    """The git-doc HTML pages, downloaded once through apt (Debian's registry)."""
    target = CACHE / "git-doc"
    pages = target / DOC_ROOT
    if pages.is_dir():
        return pages
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["apt-get", "download", "git-doc"], cwd=tmp, check=True, capture_output=True)
        (deb,) = Path(tmp).glob("git-doc_*.deb")
        unpacked = Path(tmp) / "x"
        subprocess.run(["dpkg-deb", "-x", str(deb), str(unpacked)], check=True)
        html = CACHE / "git-doc.partial"
        shutil.rmtree(html, ignore_errors=True)
        for page in (unpacked / DOC_ROOT).rglob("*.html"):
            dest = html / DOC_ROOT / page.relative_to(unpacked / DOC_ROOT)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(page, dest)
        html.rename(target)
    return pages


def score(ranked: list[list[str]], wanted: list[set[str]]) -> dict[str, float]:
    """`ranked[i]`: the page of each hit, best first, for question i."""
    first = top5 = top5_pages = 0
    reciprocal = 0.0
    for pages, right in zip(ranked, wanted, strict=True):
        distinct = list(dict.fromkeys(pages))
        first += bool(pages) and pages[0] in right
        top5 += any(p in right for p in pages[:5])
        top5_pages += any(p in right for p in distinct[:5])
        rank = next((i for i, p in enumerate(distinct, 1) if p in right), None)
        reciprocal += 1 / rank if rank else 0.0
    n = len(wanted)
    return {
        "first": round(first / n, 3),
        "top5": round(top5 / n, 3),
        "top5_pages": round(top5_pages / n, 3),
        "mrr": round(reciprocal / n, 3),
    }


async def main(data_dir: Path, sweep: bool, show_misses: str | None) -> dict[str, Any]:
    pages = corpus()
    spec = json.loads(QUESTIONS.read_text())
    questions: list[str] = [q["q"] for q in spec["questions"]]
    wanted = [set(q["pages"]) for q in spec["questions"]]
    settings = load_settings(env_file=None, ASKBASE_DATA_DIR=str(data_dir), ingest_workers=0)

    async with (
        open_services(settings, workers=0) as state,
        state.db.service() as conn,
    ):
        website = await conn.fetchval("select id from public.websites where domain = 'bench'")
        if website is None:
            website = await conn.fetchval(
                "insert into public.websites (owner_id, domain, name) "
                "values ($1, 'bench', 'git-doc') returning id",
                uuid.uuid4(),
            )
    started = time.perf_counter()
    quiet = Console(file=io.StringIO())
    summary = await ingest_paths(settings, website, [pages], 1, quiet)
    ingest_s = time.perf_counter() - started
    page_of = {doc: str(Path(name).relative_to(pages)) for name, doc in summary.documents.items()}

    base = Tuning.of(settings)
    variants: dict[str, Tuning] = {
        "hybrid": base,
        "vector_only": replace(base, text_weight=0.0),
        "text_only": replace(base, vector_weight=0.0),
    }
    if sweep:
        for k in (5, 10, 20, 60):
            for w in (0.25, 0.5, 0.75, 1.0):
                variants[f"hybrid_k{k}_text_{w}"] = replace(base, rrf_k=k, text_weight=w)
        for n in (2, 3, 20):
            variants[f"hybrid_per_document_{n}"] = replace(base, per_document=n)
            variants[f"vector_only_per_document_{n}"] = replace(
                base, text_weight=0.0, per_document=n
            )
    results: dict[str, Any] = {}
    async with open_services(settings, workers=0) as state:
        embeddings = [await embed_query(state.embedder, q, website) for q in questions]
        async with state.db.service(search.HNSW_SETTINGS) as conn:
            chunk_count = await conn.fetchval(
                "select count(*) from public.document_chunks where website_id = $1", website
            )
            for name, tuning in variants.items():
                ranked = []
                for question, embedding in zip(questions, embeddings, strict=True):
                    hits = await hybrid_hits(conn, website, embedding, question, 20, tuning)
                    ranked.append([page_of[h.document_id] for h in hits])
                results[name] = score(ranked, wanted)
                if name == show_misses:
                    for q, got, right in zip(questions, ranked, wanted, strict=True):
                        if not got or got[0] not in right:
                            print(f"MISS {q!r}: {sorted(right)} got {got[:5]}", file=sys.stderr)
    return {
        "corpus": {
            "pages": len(summary.documents),
            "failed": len(summary.failed),
            "chunks": chunk_count,
            "ingest_s": round(ingest_s, 1),
        },
        "questions": len(questions),
        "chunk_tokens": settings.chunk_tokens,
        "chunk_overlap": settings.chunk_overlap,
        "variants": results,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="keep the ingested database here")
    parser.add_argument("--sweep", action="store_true", help="also try other text weights")
    parser.add_argument("--misses", metavar="VARIANT", help="print the misses of a variant")
    args = parser.parse_args()
    configure_logging(json=False, level="WARNING")
    with tempfile.TemporaryDirectory() as tmp:
        figures = asyncio.run(main(args.data_dir or Path(tmp), args.sweep, args.misses))
    print(json.dumps(figures, indent=2))
