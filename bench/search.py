"""Search latency and recall at 100k chunks, for a large tenant and for one holding 1%.

Prints JSON. Run: .venv/bin/python bench/search.py [--chunks N] [--queries Q]

An embedded PostgreSQL is filled with N chunks in two websites (99% / 1%) through the
product's own schema (HNSW index, full-text column, the BM25 statistics triggers). The
vectors are 384-d and clustered like sentence embeddings (a mixture of topics plus noise,
L2-normalized); the texts are Zipf-distributed words, so the full-text side sees common
and rare terms, and queries are four content words (Zipf below the 150 most frequent).
Each query is timed as the client sees it (one statement, one round trip on loopback),
without computing a query embedding. recall@10 compares the vector side (HNSW with
iterative scans) with an exact search over the same tenant's rows.
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

import asyncpg
import numpy as np
import numpy.typing as npt
from pgvector import Vector

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from askbase.app.core.settings import load_settings  # noqa: E402
from askbase.app.knowledge.retrieval import Tuning  # noqa: E402
from askbase.app.observability.logging import configure_logging  # noqa: E402
from askbase.app.runtime.services import apply_migrations  # noqa: E402
from askbase.database import search  # noqa: E402
from askbase.database.embedded import EmbeddedDatabase  # noqa: E402
from askbase.database.pool import Database, create_pool  # noqa: E402
from bench.stats import percentiles  # noqa: E402

DIM = 384


def corpus(
    n: int, rng: np.random.Generator, topics: int = 2000
) -> tuple[npt.NDArray[np.float32], list[str], npt.NDArray[np.float32], list[str]]:
    centers = rng.standard_normal((topics, DIM)).astype(np.float32)
    topic = rng.integers(0, topics, n)
    vectors = centers[topic] + 0.9 * rng.standard_normal((n, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    vocabulary = [f"w{i}x{chr(97 + i % 26)}{chr(97 + (i // 26) % 26)}" for i in range(30000)]
    weights = 1 / np.arange(1, len(vocabulary) + 1)
    weights /= weights.sum()
    words = rng.choice(len(vocabulary), size=(n, 120), p=weights)
    texts = [" ".join(vocabulary[w] for w in row) for row in words]
    # Questions: content words. The most frequent ~150 words of a language are its
    # stopwords, which the full-text configuration drops, so queries draw from the rest.
    content = weights[150:] / weights[150:].sum()
    query_words = 150 + rng.choice(len(vocabulary) - 150, size=(n, 4), p=content)
    queries = [" ".join(vocabulary[w] for w in row) for row in query_words]
    return vectors, texts, centers, queries


async def fill(
    pool: asyncpg.Pool, n: int, share_small: float, rng: np.random.Generator
) -> dict[str, Any]:
    vectors, texts, _, queries = corpus(n, rng)
    small_n = int(n * share_small)
    sites: dict[str, uuid.UUID] = {}
    started = time.perf_counter()
    async with pool.acquire() as conn:  # as the database owner: it rebuilds the index
        for name in ("large", "small"):
            sites[name] = await conn.fetchval(
                "insert into public.websites (owner_id, domain, name) values ($1, $2, $2) "
                "returning id",
                uuid.uuid4(),
                name,
            )
        await conn.execute("drop index if exists public.document_chunks_embedding_idx")
        rows = []
        for i in range(n):
            site = sites["small"] if i < small_n else sites["large"]
            rows.append((site, i))
        documents: dict[tuple[uuid.UUID, int], uuid.UUID] = {}
        for site in sites.values():
            for d in range(100):
                documents[(site, d)] = await conn.fetchval(
                    "insert into public.documents (website_id, filename, content_type, size_bytes,"
                    " status) values ($1, $2, 'text/plain', 0, 'ready') returning id",
                    site,
                    f"doc-{d}.txt",
                )
        batch = 5000
        for start in range(0, n, batch):
            part = range(start, min(n, start + batch))
            await conn.execute(
                """
                insert into public.document_chunks
                  (document_id, website_id, ordinal, content, title, embedding, fts)
                select d, w, o, c, 'doc', e, to_tsvector('english', c)
                from unnest($1::uuid[], $2::uuid[], $3::int[], $4::text[], $5::vector[])
                  as t(d, w, o, c, e)
                """,
                [documents[(rows[i][0], i % 100)] for i in part],
                [rows[i][0] for i in part],
                list(part),
                [texts[i] for i in part],
                [Vector(vectors[i]) for i in part],
                timeout=600,
            )
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    async with pool.acquire() as conn:
        await conn.execute("set maintenance_work_mem = '1GB'")
        await conn.execute(
            "create index document_chunks_embedding_idx on public.document_chunks "
            "using hnsw (embedding vector_cosine_ops)",
            timeout=3600,
        )
        await conn.execute("analyze public.document_chunks")
    indexed = time.perf_counter() - started
    return {
        "vectors": vectors,
        "queries": queries,
        "sites": sites,
        "small_n": small_n,
        "load_s": round(loaded, 1),
        "index_s": round(indexed, 1),
    }


async def measure(
    db: Database,
    site: uuid.UUID,
    own: npt.NDArray[np.float32],
    offset: int,
    queries: list[str],
    rng: np.random.Generator,
    count: int,
    tuning: Tuning,
) -> dict[str, Any]:
    picks = rng.integers(0, len(own), count)
    probes = own[picks] + 0.6 * rng.standard_normal((count, DIM)).astype(np.float32) / np.sqrt(DIM)
    probes /= np.linalg.norm(probes, axis=1, keepdims=True)
    hybrid_times: list[float] = []
    vector_times: list[float] = []
    recalls: list[float] = []
    async with db.service(search.HNSW_SETTINGS) as conn:
        for i, probe in enumerate(probes):
            text = queries[i % len(queries)]
            start = time.perf_counter()
            await search.hybrid(
                conn,
                site,
                probe,
                text,
                limit=10,
                candidates=tuning.candidates,
                rrf_k=tuning.rrf_k,
                vector_weight=tuning.vector_weight,
                text_weight=tuning.text_weight,
                per_document=100,
            )
            hybrid_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            got = await conn.fetch(
                """
                select ordinal from public.document_chunks where website_id = $1
                order by embedding <=> $2 limit 10
                """,
                site,
                probe,
            )
            vector_times.append(time.perf_counter() - start)
            exact = {offset + int(j) for j in np.argsort(-(own @ probe))[:10]}
            recalls.append(len(exact & {r["ordinal"] for r in got}) / 10)
    return {
        "rows": len(own),
        "hybrid": percentiles(hybrid_times),
        "vector_only": percentiles(vector_times),
        "recall_at_10": round(float(np.mean(recalls)), 3),
    }


async def main(n: int, queries: int) -> dict[str, Any]:
    rng = np.random.default_rng(7)
    settings = load_settings(env_file=None)
    with tempfile.TemporaryDirectory() as tmp:
        embedded = EmbeddedDatabase(Path(tmp))
        try:
            await apply_migrations(embedded.uri)
            pool = await create_pool(embedded.uri, min_size=1, max_size=2)
            db = Database(pool)
            data = await fill(pool, n, 0.01, rng)
            vectors = data["vectors"]
            small_n = data["small_n"]
            # Ordinals are global row numbers: the small tenant holds the first rows.
            large = await measure(
                db,
                data["sites"]["large"],
                vectors[small_n:],
                small_n,
                data["queries"],
                rng,
                queries,
                Tuning.of(settings),
            )
            small = await measure(
                db,
                data["sites"]["small"],
                vectors[:small_n],
                0,
                data["queries"],
                rng,
                queries,
                Tuning.of(settings),
            )
            await pool.close()
        finally:
            embedded.release()
    return {
        "chunks": n,
        "dimension": DIM,
        "load_s": data["load_s"],
        "hnsw_build_s": data["index_s"],
        "hnsw": {**search.HNSW_SETTINGS, "m": 16, "ef_construction": 64},
        "large_tenant": large,
        "small_tenant_1pct": small,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    configure_logging(json=False, level="WARNING")
    print(json.dumps(asyncio.run(main(args.chunks, args.queries)), indent=2))
