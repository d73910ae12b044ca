"""Ingestion throughput end to end vs the embedder's raw throughput on the same texts.

Prints JSON. Run: .venv/bin/python bench/ingest.py [--pages N] [--workers W ...]

Documents: the first N pages (by size order, a spread of short and long) of the git-doc
HTML corpus that bench/retrieval.py uses. End to end = from queueing the documents (as
`uploadDocument` does: document, file and job in one transaction) until the last one is
READY, with W in-process workers: claim, parse, chunk, embed, store, NOTIFY. Raw = the
local embedder alone on exactly the texts that ingestion embedded, in one call.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from askbase.app.core.settings import load_settings  # noqa: E402
from askbase.app.knowledge.embeddings import LocalEmbedder  # noqa: E402
from askbase.app.knowledge.ingest.chunk import embedding_text  # noqa: E402
from askbase.app.knowledge.ingest.detect import detect  # noqa: E402
from askbase.app.knowledge.library import create  # noqa: E402
from askbase.app.observability.logging import configure_logging  # noqa: E402
from askbase.app.runtime.services import open_services  # noqa: E402
from askbase.database import documents  # noqa: E402
from bench.retrieval import corpus  # noqa: E402


def pick(pages: int) -> list[Path]:
    found = sorted(corpus().rglob("*.html"), key=lambda p: p.stat().st_size)
    step = max(1, len(found) // pages)
    return found[::step][:pages]


async def end_to_end(files: list[Path], workers: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(env_file=None, ASKBASE_DATA_DIR=tmp, ingest_workers=workers)
        async with open_services(settings) as state:
            async with state.db.service() as conn:
                website = await conn.fetchval(
                    "insert into public.websites (owner_id, domain, name) "
                    "values ($1, 'bench', 'bench') returning id",
                    uuid.uuid4(),
                )
            started = time.perf_counter()
            ids = []
            for path in files:
                data = path.read_bytes()
                mime = detect(data, path.name).mime
                row = await create(state, state.db.service, website, path.name, mime, data)
                ids.append(row["id"])
            while True:
                async with state.db.service() as conn:
                    rows = await documents.by_ids(conn, ids)
                if all(r["status"] in ("ready", "failed") for r in rows):
                    break
                await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - started
            async with state.db.service() as conn:
                chunk_rows = await conn.fetch(
                    "select title, content, summary from public.document_chunks "
                    "where website_id = $1",
                    website,
                )
    texts = [embedding_text(r["title"], r["content"], r["summary"]) for r in chunk_rows]
    return {
        "workers": workers,
        "documents": len(files),
        "failed": sum(r["status"] == "failed" for r in rows),
        "chunks": len(texts),
        "seconds": round(elapsed, 2),
        "chunks_per_s": round(len(texts) / elapsed, 1),
        "texts": texts,
    }


def raw(texts: list[str]) -> float:
    embedder = LocalEmbedder()
    embedder.load()
    embedder.embed_sync(texts[:32])  # warm-up
    started = time.perf_counter()
    embedder.embed_sync(texts)
    return len(texts) / (time.perf_counter() - started)


async def main(pages: int, worker_counts: list[int]) -> dict[str, Any]:
    files = pick(pages)
    runs = [await end_to_end(files, w) for w in worker_counts]
    texts: list[str] = runs[0].pop("texts")
    for run in runs[1:]:
        run.pop("texts")
    raw_rate = raw(texts)
    for run in runs:
        run["vs_raw_embedder"] = round(run["chunks_per_s"] / raw_rate, 3)
    return {
        "embedder": "all-MiniLM-L6-v2-int8 (onnxruntime, CPU)",
        "raw_embedder_chunks_per_s": round(raw_rate, 1),
        "end_to_end": runs,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    configure_logging(json=False, level="WARNING")
    print(json.dumps(asyncio.run(main(args.pages, args.workers)), indent=2))
