"""Small deterministic stand-ins for the heavy parts, for tests that need no model."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.schema import Chunk

if TYPE_CHECKING:
    from assistant import Assistant
    from assistant.schema import Hit

__all__ = [
    "SEED",
    "SEED_TEXT",
    "FakeEmbedder",
    "ListRetriever",
    "fake_bot",
    "seed_paragraphs",
    "stream_with_model",
]

SEED = Path(__file__).resolve().parent.parent / "seeds" / "amazon-anthropic-investment.txt"
SEED_TEXT = SEED.read_text(encoding="utf-8")


def seed_paragraphs() -> list[Chunk]:
    """The seed article's paragraphs as passages, with offsets into the article (passages
    for answer checks, with no index)."""
    chunks, pos = [], 0
    for i, line in enumerate(SEED_TEXT.split("\n")):
        if line.strip():
            digest = hashlib.sha256(line.encode()).hexdigest()
            chunks.append(Chunk(f"p{i}", SEED.name, line, pos, pos + len(line), i, digest))
        pos += len(line) + 1
    return chunks


_TOKEN = re.compile(r"\w+|[^\w\s]")
_WORD = re.compile(r"\w+")


class FakeEmbedder:
    """A tiny Embedder: word pieces are words and punctuation marks; a vector is a hashed
    bag of lower-cased words, so texts sharing words are similar.

    `calls` counts embed() calls and `embedded` the texts embedded, so tests can check that
    a cache spares work.
    """

    def __init__(self, *, dimension: int = 64, max_seq_length: int = 64) -> None:
        self.name = "fake"
        self.dimension = dimension
        self.max_seq_length = max_seq_length
        self.calls = 0
        self.embedded = 0

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return [m.span() for m in _TOKEN.finditer(text)]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.embedded += len(texts)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                # hashlib, not hash(): the same bucket in every process.
                digest = hashlib.sha256(word.encode("utf-8", "surrogatepass")).digest()
                vectors[row, int.from_bytes(digest[:8], "little") % self.dimension] += 1.0
            if not vectors[row].any():
                vectors[row, 0] = 1.0  # no words: still a unit vector, as promised
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors


class ListRetriever:
    """A Retriever (answer/answerer.py) over fixed hits: the fake embedder's query vectors and
    a flat IDF, so answers depend only on the hits given."""

    def __init__(self, hits: Sequence[Hit], embedder: FakeEmbedder) -> None:
        self.hits = list(hits)
        self.embedder = embedder
        self.lexical = self  # the Retriever protocol reads idf() from .lexical

    def idf(self, term: str) -> float:
        return 1.0

    def embed_query(self, query: str) -> np.ndarray:
        return self.embedder.embed([query])[0]

    def respell(self, text: str) -> str:
        return text

    def retrieve(self, query: str, k: int, *, query_vector: np.ndarray | None = None) -> list[Hit]:
        return self.hits[:k]


def stream_with_model(
    model: Any,
    question: str,
    history: Any,
    passages: Sequence[Chunk],
    *,
    settings: Any,
    name: str = "fake-llm",
) -> list[Any]:
    """Everything the Answerer streams for question (pieces, then the Answer) when a chat
    model (a LangChain fake) writes, registered for the call as the answer mode "fake-llm";
    name picks the backend's defaults ("local" reads like the small model).

    Example: stream_with_model(FakeListChatModel(responses=["Amazon invested. [1]"]),
             "Who invested?", None, [chunk], settings=Settings())[-1].text
    """
    from assistant.answer.answerer import Answerer
    from assistant.answer.checking import rules_verifier
    from assistant.answer.llm import ChatBackend
    from assistant.answer.registry import register_backend, unregister_backend
    from assistant.schema import Hit

    register_backend(
        "fake-llm",
        lambda s: ChatBackend(name, s, model=model, verifier=rules_verifier),
        replace=True,
    )
    try:
        embedder = FakeEmbedder()
        hits = [Hit(chunk=c, score=1.0, dense_score=0.5) for c in passages]
        answerer = Answerer(settings, embedder)
        return list(
            answerer.stream(
                question,
                history,
                retriever=ListRetriever(hits, embedder),
                sources=(),
                chunks=(),
                mode="fake-llm",
            )
        )
    finally:
        unregister_backend("fake-llm")


def fake_bot(root: Path, documents: Mapping[str, str], **settings: Any) -> Assistant:
    """An assistant over root/docs holding documents (name -> text, written as UTF-8),
    indexed under root/index with FakeEmbedder; settings: more Settings fields (progress
    bars are off). Its folder is root / "docs" and its Settings bot.settings.

    Example: fake_bot(tmp_path, {"a.txt": "Zebras graze at dawn."}).sources() ->
             [SourceInfo(source="a.txt", ...)]
    """
    from assistant import Assistant, Settings

    docs = root / "docs"
    docs.mkdir()
    for name, text in documents.items():
        (docs / name).write_text(text, encoding="utf-8")
    options = Settings(index_dir=root / "index", show_progress=False, **settings)
    return Assistant.from_folder(docs, settings=options, embedder=FakeEmbedder())
