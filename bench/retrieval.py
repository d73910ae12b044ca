"""Retrieval quality on real documentation corpora: each search configuration on each set.

Prints JSON (or, with --table, Markdown rows). Run:
.venv/bin/python bench/retrieval.py [--corpus git|python|all] [--data-dir DIR] [--sweep]

Corpora, downloaded with `apt-get download` from Debian's registry and unpacked with
`dpkg-deb` into bench/.cache (the pages a set includes only):

- git: the HTML documentation of Git (`git-doc`, 242 pages), questions in
  bench/retrieval_questions.json;
- python: a subset of Python 3.11's HTML documentation (`python3.11-doc`: the tutorial,
  the HOWTOs and the library pages its `include` names), questions in
  bench/retrieval_questions_python.json.

Questions are written as a user would ask them, each with every page that answers it.
Documents go through the product's own path (detect, parse, chunk, embed with the local
model, store), one website per corpus, and questions through the same search code as the
`search` query. Per configuration and corpus: hit@1 (the first hit is a right page),
hit@5 (a right page among the 5 hits `search(limit: 5)` returns) and MRR@10 (over the
first 10 distinct pages). With --data-dir, the ingested database is kept and reused
(delete it after changing the chunker); without, a fresh temporary one is used.
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
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from askbase.app.cli.commands import ingest_paths  # noqa: E402
from askbase.app.core.settings import Settings, load_settings  # noqa: E402
from askbase.app.knowledge.retrieval import Tuning, embed_query, hybrid_hits  # noqa: E402
from askbase.app.observability.logging import configure_logging  # noqa: E402
from askbase.app.runtime.services import open_services  # noqa: E402
from askbase.database import search  # noqa: E402

CACHE = ROOT / "bench" / ".cache"


@dataclass(frozen=True, slots=True)
class Corpus:
    package: str  # the Debian package that ships the pages
    doc_root: Path  # where the HTML lies inside the package
    questions: Path  # {"questions": [{"q", "pages"}], "include": [glob, ...] (optional)}

    def spec(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.questions.read_text())
        return loaded

    def pages(self) -> Path:
        """The included pages, downloaded and unpacked once."""
        target = CACHE / self.package
        pages = target / self.doc_root
        if pages.is_dir():
            return pages
        CACHE.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                ["apt-get", "download", self.package], cwd=tmp, check=True, capture_output=True
            )
            (deb,) = Path(tmp).glob(f"{self.package}_*.deb")
            unpacked = Path(tmp) / "x"
            subprocess.run(["dpkg-deb", "-x", str(deb), str(unpacked)], check=True)
            partial = CACHE / f"{self.package}.partial"
            shutil.rmtree(partial, ignore_errors=True)
            for page in self._included(unpacked / self.doc_root):
                dest = partial / self.doc_root / page.relative_to(unpacked / self.doc_root)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(page, dest)
            partial.rename(target)
        return pages

    def _included(self, root: Path) -> Iterator[Path]:
        for pattern in self.spec().get("include", ["**/*.html"]):
            yield from sorted(root.glob(pattern))


CORPORA = {
    "git": Corpus(
        "git-doc", Path("usr/share/doc/git-doc"), ROOT / "bench" / "retrieval_questions.json"
    ),
    "python": Corpus(
        "python3.11-doc",
        Path("usr/share/doc/python3.11/html"),
        ROOT / "bench" / "retrieval_questions_python.json",
    ),
}


def corpus() -> Path:
    """The git-doc pages (bench/ingest.py times their ingestion)."""
    return CORPORA["git"].pages()


def score(ranked: list[list[str]], wanted: list[set[str]]) -> dict[str, float]:
    """`ranked[i]`: the page of each hit, best first, for question i."""
    first = top5 = 0
    reciprocal = 0.0
    for pages, right in zip(ranked, wanted, strict=True):
        distinct = list(dict.fromkeys(pages))[:10]
        first += bool(pages) and pages[0] in right
        top5 += any(p in right for p in pages[:5])
        rank = next((i for i, p in enumerate(distinct, 1) if p in right), None)
        reciprocal += 1 / rank if rank else 0.0
    n = len(wanted)
    return {
        "hit@1": round(first / n, 3),
        "hit@5": round(top5 / n, 3),
        "mrr@10": round(reciprocal / n, 3),
    }


def label(t: Tuning, base: Tuning) -> str:
    """A configuration by its fusion settings, and whatever else differs from the defaults."""
    sides = (
        "vector only"
        if t.text_weight == 0
        else "full text only"
        if t.vector_weight == 0
        else f"k={t.rrf_k}, text {t.text_weight}"
    )
    parts = [sides, f"page share {t.page_share}"]
    if t.title_weight != base.title_weight:
        parts.append(f"title weight {t.title_weight}")
    if t.candidates != base.candidates:
        parts.append(f"{t.candidates} candidates")
    return ", ".join(parts)


def variants(base: Tuning, sweep: bool) -> dict[str, Tuning]:
    """The defaults, each side alone, and (--sweep) the configurations tried against them."""
    before = replace(base, rrf_k=10, text_weight=0.25, page_share=0.0)  # until 2026-12-02
    tried = [
        replace(base, text_weight=0.0),
        replace(base, vector_weight=0.0),
    ]
    if sweep:
        tried += [before, replace(before, text_weight=0.0), replace(before, vector_weight=0.0)]
        tried += [
            replace(before, rrf_k=k, text_weight=w)
            for k, w in ((10, 0.5), (10, 1.0), (60, 0.25), (60, 1.0))
        ]
        for title in (2.0, 5.0):
            tried += [
                replace(before, title_weight=title),
                replace(before, vector_weight=0.0, title_weight=title),
            ]
        for share in (0.1, 0.25, 0.5):
            tried += [
                replace(before, page_share=share),
                replace(before, page_share=share, candidates=100),
                replace(before, text_weight=0.0, page_share=share),
            ]
        tried += [replace(before, rrf_k=k, page_share=0.1) for k in (5, 20)]
        tried += [
            replace(before, text_weight=w, page_share=share)
            for w in (0.25, 0.35, 0.4, 0.5, 0.6, 0.75)
            for share in (0.05, 0.1, 0.15)
        ]
    found = {f"{label(base, base)} (defaults)": base}
    for tuning in tried:
        found.setdefault(label(tuning, base), tuning)
    return found


async def ingest(settings: Settings, name: str, corpus: Corpus) -> dict[str, Any]:
    pages = corpus.pages()
    async with (
        open_services(settings, workers=0) as state,
        state.db.service() as conn,
    ):
        domain = f"bench-{name}"
        website = await conn.fetchval("select id from public.websites where domain = $1", domain)
        if website is None:
            website = await conn.fetchval(
                "insert into public.websites (owner_id, domain, name) "
                "values ($1, $2, $3) returning id",
                uuid.uuid4(),
                domain,
                corpus.package,
            )
    started = time.perf_counter()
    summary = await ingest_paths(settings, website, [pages], 1, Console(file=io.StringIO()))
    return {
        "website": website,
        "page_of": {
            doc: str(Path(name).relative_to(pages)) for name, doc in summary.documents.items()
        },
        "pages": len(summary.documents),
        "failed": len(summary.failed),
        "ingest_s": round(time.perf_counter() - started, 1),
    }


async def evaluate(
    settings: Settings, name: str, corpus: Corpus, tunings: dict[str, Tuning], misses: str | None
) -> dict[str, Any]:
    stored = await ingest(settings, name, corpus)
    website, page_of = stored.pop("website"), stored.pop("page_of")
    spec = corpus.spec()
    questions: list[str] = [q["q"] for q in spec["questions"]]
    wanted = [set(q["pages"]) for q in spec["questions"]]
    results: dict[str, Any] = {}
    async with open_services(settings, workers=0) as state:
        embeddings = [await embed_query(state.embedder, q, website) for q in questions]
        async with state.db.service(search.HNSW_SETTINGS) as conn:
            stored["chunks"] = await conn.fetchval(
                "select count(*) from public.document_chunks where website_id = $1", website
            )
            for variant, tuning in tunings.items():
                ranked = []
                for question, embedding in zip(questions, embeddings, strict=True):
                    hits = await hybrid_hits(conn, website, embedding, question, 20, tuning)
                    ranked.append([page_of[h.document_id] for h in hits])
                results[variant] = score(ranked, wanted)
                if variant == misses:
                    for q, got, right in zip(questions, ranked, wanted, strict=True):
                        if not got or got[0] not in right:
                            print(f"MISS {q!r}: {sorted(right)} got {got[:5]}", file=sys.stderr)
    return {"corpus": stored, "questions": len(questions), "variants": results}


async def main(data_dir: Path, names: list[str], sweep: bool, misses: str | None) -> dict[str, Any]:
    settings = load_settings(env_file=None, ASKBASE_DATA_DIR=str(data_dir), ingest_workers=0)
    tunings = variants(Tuning.of(settings), sweep)
    figures: dict[str, Any] = {
        "chunk_tokens": settings.chunk_tokens,
        "chunk_overlap": settings.chunk_overlap,
    }
    for name in names:
        figures[name] = await evaluate(settings, name, CORPORA[name], tunings, misses)
    return figures


def table(figures: dict[str, Any], names: list[str]) -> str:
    """One Markdown row per configuration: hit@1 / hit@5 / MRR@10 on each corpus."""
    header = " | ".join(f"{n} hit@1 / hit@5 / MRR@10" for n in names)
    lines = [f"| configuration | {header} |", "| --- |" + " --- |" * len(names)]
    for variant in figures[names[0]]["variants"]:
        cells = []
        for n in names:
            v = figures[n]["variants"][variant]
            cells.append(f"{v['hit@1']:.3f} / {v['hit@5']:.3f} / {v['mrr@10']:.3f}")
        lines.append(f"| {variant} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=[*CORPORA, "all"], default="all")
    parser.add_argument("--data-dir", type=Path, help="keep the ingested database here")
    parser.add_argument("--sweep", action="store_true", help="also try other configurations")
    parser.add_argument("--misses", metavar="VARIANT", help="print the misses of a variant")
    parser.add_argument("--table", action="store_true", help="print Markdown rows, not JSON")
    args = parser.parse_args()
    configure_logging(json=False, level="WARNING")
    chosen = list(CORPORA) if args.corpus == "all" else [args.corpus]
    with tempfile.TemporaryDirectory() as tmp:
        result = asyncio.run(main(args.data_dir or Path(tmp), chosen, args.sweep, args.misses))
    print(table(result, chosen) if args.table else json.dumps(result, indent=2))
