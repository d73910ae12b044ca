"""Chat models that stream an answer: any OpenAI-compatible server, or the extractive
answerer that quotes the retrieved passages when no model is configured.

A provider yields `Delta`s (text as it arrives) and ends with one `TokenUsage`. Failures are
`LLMError`s with a stable code: UNAVAILABLE (timeouts, connection errors, 5xx) or
RATE_LIMITED (the server's 429). Retries happen only before the first token: the SDK
retries the request itself, and a stream that breaks later is reported, never replayed,
so no text is ever sent twice.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

Speaker = Literal["system", "user", "assistant"]
CHARS_PER_TOKEN = 4  # the token estimate where no tokenizer for the model is at hand


@dataclass(frozen=True, slots=True)
class Turn:
    role: Speaker
    content: str


@dataclass(frozen=True, slots=True)
class Passage:
    """A retrieved chunk as the answerer sees it; cited as [number]."""

    number: int
    title: str
    content: str


@dataclass(frozen=True, slots=True)
class Delta:
    text: str


@dataclass(frozen=True, slots=True)
class TokenUsage:
    model: str
    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class AnswerRequest:
    """What an answer needs: the conversation (system prompt first) and the passages."""

    turns: Sequence[Turn]
    passages: Sequence[Passage]
    question: str
    model: str | None = None
    temperature: float | None = None
    max_tokens: int = 700


class LLMError(Exception):
    def __init__(self, code: Literal["UNAVAILABLE", "RATE_LIMITED"], message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ChatModel(Protocol):
    name: str
    # Merge deltas that arrive while the previous one is being sent (a remote model that
    # may outpace the client); False: every delta is its own event.
    coalesce: bool

    def stream(self, request: AnswerRequest) -> AsyncIterator[Delta | TokenUsage]: ...

    async def aclose(self) -> None: ...


class OpenAIChat:
    """OpenAI, or any server speaking its chat completions API (Ollama, vLLM, llama.cpp)."""

    def __init__(
        self,
        *,
        model: str,
        api_key: str | None,
        base_url: str | None,
        timeout: float = 60.0,
        first_token_timeout: float = 30.0,
        max_retries: int = 2,
    ) -> None:
        from openai import AsyncOpenAI

        self.name = model
        self.coalesce = True
        self.first_token_timeout = first_token_timeout
        self._client = AsyncOpenAI(
            api_key=api_key or "not-needed",
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
        )

    async def stream(self, request: AnswerRequest) -> AsyncIterator[Delta | TokenUsage]:
        import openai

        model = request.model or self.name
        messages = [{"role": t.role, "content": t.content} for t in request.turns]
        deltas = 0
        usage: TokenUsage | None = None
        try:
            async with asyncio.timeout(self.first_token_timeout) as first_token:
                response = await self._client.chat.completions.create(  # type: ignore[call-overload]
                    model=model,
                    messages=messages,
                    temperature=openai.omit if request.temperature is None else request.temperature,
                    max_tokens=request.max_tokens,
                    stream=True,
                    stream_options={"include_usage": True},
                )
                async with response:  # closed on every path, a first-token timeout too
                    chunks = aiter(response)
                    chunk = await anext(chunks, None)
                    first_token.reschedule(None)  # later chunks: only the read timeout
                    while chunk is not None:
                        if chunk.usage is not None:
                            usage = TokenUsage(
                                model=chunk.model or model,
                                prompt_tokens=chunk.usage.prompt_tokens,
                                completion_tokens=chunk.usage.completion_tokens,
                            )
                        for choice in chunk.choices:
                            if choice.delta.content:
                                deltas += 1
                                yield Delta(choice.delta.content)
                        chunk = await anext(chunks, None)
        except TimeoutError as error:
            raise LLMError("UNAVAILABLE", "The language model did not answer in time.") from error
        except openai.RateLimitError as error:
            raise LLMError("RATE_LIMITED", "The language model is rate limited.") from error
        except openai.APITimeoutError as error:
            raise LLMError("UNAVAILABLE", "The language model did not answer in time.") from error
        except (openai.APIConnectionError, openai.APIStatusError) as error:
            raise LLMError("UNAVAILABLE", "The language model is unavailable.") from error
        except (openai.APIError, ValueError) as error:  # a broken stream
            raise LLMError("UNAVAILABLE", "The language model stopped answering.") from error
        # Servers that ignore include_usage (llama.cpp's, some proxies): an estimate of
        # about four characters per token for the prompt, one token per streamed delta.
        estimate = sum(len(t.content) for t in request.turns) // CHARS_PER_TOKEN
        yield usage or TokenUsage(model=model, prompt_tokens=estimate, completion_tokens=deltas)

    async def aclose(self) -> None:
        await self._client.close()


_SENTENCES = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[A-Z0-9])|\n+")
_WORDS = re.compile(r"\w{3,}")
_STOP = frozenset(
    [
        "the",
        "and",
        "for",
        "are",
        "was",
        "were",
        "with",
        "that",
        "this",
        "from",
        "have",
        "has",
        "had",
        "not",
        "but",
        "you",
        "your",
        "yours",
        "can",
        "how",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "does",
        "did",
        "doing",
        "done",
        "into",
        "onto",
        "out",
        "about",
        "there",
        "their",
        "they",
        "them",
        "then",
        "than",
        "also",
        "any",
        "all",
        "its",
        "it's",
        "our",
        "ours",
        "use",
        "using",
        "used",
        "get",
        "got",
        "will",
        "would",
        "should",
        "could",
        "may",
        "might",
        "must",
        "shall",
        "been",
        "being",
        "some",
        "such",
        "very",
        "just",
        "more",
        "most",
        "much",
        "many",
        "each",
        "other",
        "only",
        "own",
        "same",
        "too",
        "off",
        "over",
        "under",
        "again",
        "further",
        "once",
        "here",
        "both",
        "few",
        "nor",
    ]
)


def _terms(text: str) -> set[str]:
    return {w.lower() for w in _WORDS.findall(text)} - _STOP


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


class ExtractiveAnswerer:
    """Answers by quoting the passages' sentences that best match the question.

    No model is involved: every sentence it streams comes verbatim from a cited passage,
    introduced as a quotation, so it never states anything the documents do not say.
    """

    name = "extractive"
    coalesce = False  # a short text, streamed a few words at a time

    def __init__(
        self, max_sentences: int = 3, max_chars: int = 900, words_per_delta: int = 4
    ) -> None:
        self.max_sentences = max_sentences
        self.max_chars = max_chars
        # A few words per event: still streamed, at a quarter of the per-event cost.
        self.words_per_delta = words_per_delta

    def compose(self, request: AnswerRequest) -> str:
        wanted = {_stem(t) for t in _terms(request.question)}
        scored: list[tuple[float, int, int, str]] = []
        for rank, passage in enumerate(request.passages):
            for position, sentence in enumerate(_SENTENCES.split(passage.content)):
                sentence = " ".join(sentence.split())
                if len(sentence) < 20:
                    continue
                have = {_stem(t) for t in _terms(sentence)}
                overlap = len(wanted & have)
                if not overlap:
                    continue
                # Matching question words first, then the better-ranked passage, then
                # sentences early in it (definitions tend to come first).
                score = overlap / (1 + 0.15 * rank) - 0.01 * position
                scored.append((score, passage.number, position, sentence))
        if not scored:
            return (
                "I couldn't find this in the documents I have. "
                "Try rephrasing the question, or ask about something the site covers."
            )
        chosen: list[tuple[int, int, str]] = []
        size = 0
        for _score, number, position, sentence in sorted(scored, key=lambda s: -s[0]):
            if len(chosen) == self.max_sentences or size + len(sentence) > self.max_chars:
                break
            chosen.append((number, position, sentence))
            size += len(sentence)
        chosen.sort()  # passage order, then the order within the passage
        lines = [f"> {sentence} [{number}]" for number, _position, sentence in chosen]
        return "From the documents:\n\n" + "\n>\n".join(lines)

    async def say(self, text: str) -> AsyncIterator[Delta]:
        """A fixed text as deltas of a few words each."""
        words = re.findall(r"\S+\s*|\s+", text)
        for start in range(0, len(words), self.words_per_delta):
            yield Delta("".join(words[start : start + self.words_per_delta]))

    async def stream(self, request: AnswerRequest) -> AsyncIterator[Delta | TokenUsage]:
        text = self.compose(request)
        async for delta in self.say(text):
            yield delta
        prompt = sum(len(t.content.split()) for t in request.turns)
        yield TokenUsage(model=self.name, prompt_tokens=prompt, completion_tokens=len(text.split()))

    async def aclose(self) -> None:
        pass


class LlamaCppChat:
    """A GGUF model run in this process by llama.cpp (the optional `local-llm` extra).

    Generation runs in a worker thread, one answer at a time; the thread stops at the
    next token when the answer is cancelled. Token counts come from the model's own
    tokenizer.
    """

    coalesce = True

    def __init__(self, model_path: str, context: int = 4096, threads: int | None = None) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as error:  # pragma: no cover - depends on the installed extras
            hint = "LLM_MODEL_PATH needs the local-llm extra: pip install '.[local-llm]'"
            raise LLMError("UNAVAILABLE", hint) from error
        self.name = Path(model_path).stem
        self._llama = Llama(model_path=model_path, n_ctx=context, n_threads=threads, verbose=False)
        self._lock = asyncio.Lock()

    async def stream(self, request: AnswerRequest) -> AsyncIterator[Delta | TokenUsage]:
        messages = [{"role": t.role, "content": t.content} for t in request.turns]
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[str | BaseException | None] = asyncio.Queue()
        stop = threading.Event()

        def put(item: str | BaseException | None) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, item)

        def generate() -> None:
            try:
                chunks = self._llama.create_chat_completion(
                    messages=messages,  # type: ignore[arg-type]
                    temperature=0.2 if request.temperature is None else request.temperature,
                    max_tokens=request.max_tokens,
                    stream=True,
                )
                for chunk in chunks:
                    if stop.is_set():
                        break
                    delta: Any = chunk["choices"][0]["delta"]  # type: ignore[index]
                    text = delta.get("content") if isinstance(delta, dict) else None
                    if text:
                        put(text)
                put(None)
            except Exception as error:
                put(error)

        async with self._lock:
            worker = loop.run_in_executor(None, generate)
            completion = 0
            try:
                while (item := await queue.get()) is not None:
                    if isinstance(item, BaseException):
                        raise LLMError("UNAVAILABLE", "The local model failed.") from item
                    completion += 1
                    yield Delta(item)
            finally:
                stop.set()
                await asyncio.shield(worker)
        prompt = sum(len(self._llama.tokenize(t.content.encode())) for t in request.turns)
        yield TokenUsage(model=self.name, prompt_tokens=prompt, completion_tokens=completion)

    async def aclose(self) -> None:
        self._llama.close()
