"""Assistant: the composition root. It wires settings, a documents collection (folder, index
store, embedder), retrieval and the composer, and is the one object every interface (API,
CLI, web chat, evals) talks to."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .answer.catalogue import answer_catalogue, parse_catalogue_question
from .answer.extractive import RefusalModel, compose, refusal_text
from .answer.followup import standalone_query
from .embedding import Embedder, SentenceTransformerEmbedder
from .errors import InputError
from .retrieval.hybrid import HybridRetriever, RetrievalConfig
from .schema import Answer, Chunk, Hit, SourceInfo, SyncReport
from .settings import Settings
from .store import Collection, Store, chunker_config, safe_filename

if TYPE_CHECKING:
    from .retrieval.langchain import AssistantRetriever

__all__ = ["Assistant", "Message", "safe_filename"]

Message = Mapping[str, str]  # {"role": "user" | "assistant", "content": str}

_RELATED = 3  # passages offered as reading with a refusal
_SENTENCE_CACHE = 50_000  # sentence vectors kept in memory (about 75 MB at 384 dimensions)


@dataclass(frozen=True, slots=True)
class _State:
    """What one question reads; swapped whole after a sync, so readers never see a mix."""

    store: Store
    retriever: HybridRetriever


class Assistant:
    """Grounded question answering over one documents folder and its index.

    bot = Assistant.from_folder("seeds", index_dir="index")
    ans = bot.ask("How much has Amazon invested in Anthropic?")
    print(ans.text, ans.citations)
    """

    def __init__(self, collection: Collection, *, settings: Settings | None = None) -> None:
        """An assistant over a collection (its folder, index store and embedder), passed in
        the way httpx takes a transport: tests hand in one over a MemoryStore."""
        self.settings = settings or Settings()
        self.collection = collection
        self.embedder = collection.embedder
        self._write_lock = threading.Lock()
        self._sentence_vectors: dict[str, np.ndarray] = {}
        self._state = self._make_state(collection.store)

    # ------------------------------------------------------------ construction

    @classmethod
    def from_folder(
        cls,
        folder: str | Path,
        *,
        index_dir: str | Path | None = None,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
        on_progress: Callable[[str, float], None] | None = None,
    ) -> Assistant:
        """Sync the index with folder (only changed files are re-embedded), then load it."""
        settings = settings or Settings()
        index_path = Path(index_dir) if index_dir is not None else settings.index_dir
        embedder = embedder or _default_embedder(settings)
        collection = Collection.from_folder(
            folder,
            index_path,
            embedder,
            chunker_config(settings, embedder),
            max_upload_bytes=settings.max_upload_bytes,
            on_progress=on_progress,
        )
        return cls(collection, settings=settings)

    @classmethod
    def load(
        cls,
        index_dir: str | Path | None = None,
        *,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
    ) -> Assistant:
        """Load an existing index, verifying it against the settings."""
        settings = settings or Settings()
        index_path = Path(index_dir) if index_dir is not None else settings.index_dir
        embedder = embedder or _default_embedder(settings)
        collection = Collection.open(
            index_path,
            embedder,
            chunker_config(settings, embedder),
            max_upload_bytes=settings.max_upload_bytes,
        )
        return cls(collection, settings=settings)

    def _make_state(self, store: Store) -> _State:
        s = self.settings
        config = RetrievalConfig(
            fusion=s.fusion,
            candidates=s.candidates,
            rrf_k=s.rrf_k,
            dense_weight=s.dense_weight,
            lexical_weight=s.lexical_weight,
        )
        return _State(store, HybridRetriever(store, self.embedder, config))

    def _follow_collection(self) -> None:
        """Swap in the collection's latest snapshot, whole (under a lock, so that an older
        snapshot never replaces a newer one)."""
        with self._write_lock:
            store = self.collection.store
            if store is not self._state.store:
                self._state = self._make_state(store)

    # ------------------------------------------------------------ the collection

    @property
    def docs_dir(self) -> Path | None:
        """The documents folder (None when the index does not record one)."""
        return self.collection.folder

    @property
    def index_dir(self) -> Path:
        """Where the index lives."""
        return Path(self.collection.store.location)

    def sync(self, *, on_progress: Callable[[str, float], None] | None = None) -> SyncReport:
        """Re-read the documents folder and update the index and this assistant in place."""
        try:
            return self.collection.sync(on_progress=on_progress)
        finally:
            self._follow_collection()

    @property
    def retriever(self) -> HybridRetriever:
        """The hybrid retriever over the current index (for benchmarks and tools)."""
        return self._state.retriever

    def sources(self) -> list[SourceInfo]:
        """The indexed documents, by name."""
        return self.collection.sources()

    def add_document(
        self,
        name: str,
        content: bytes,
        *,
        on_progress: Callable[[str, float], None] | None = None,
    ) -> SyncReport:
        """Validate an upload, save it into the documents folder and index it.

        Raises InputError (and saves nothing) for an unsupported type, an oversized or empty
        file, or a name that would leave the folder. A file that turns out unreadable is
        removed again, so the folder and the index stay as they were.
        """
        try:
            return self.collection.add_document(name, content, on_progress=on_progress)
        finally:
            self._follow_collection()

    def remove_document(self, source: str) -> SyncReport:
        """Delete a document from the documents folder and drop it from the index."""
        try:
            return self.collection.remove_document(source)
        finally:
            self._follow_collection()

    def chunk(self, chunk_id: str) -> Chunk | None:
        """The indexed chunk with this id (to show a citation's surrounding passage)."""
        return self._state.store.chunk(chunk_id)

    # ------------------------------------------------------------ questions

    def retrieve(self, question: str, k: int | None = None) -> list[Hit]:
        """The k best distinct passages for question, best first."""
        question = self._check_question(question)
        return self._state.retriever.retrieve(question, k or self.settings.k)

    def warm_up(self) -> None:
        """Load the embedding model now, so the first question is not the slow one."""
        self._state.retriever.embed_query("warm up")

    def as_retriever(self, *, k: int | None = None) -> AssistantRetriever:
        """This assistant's hybrid retrieval as a LangChain BaseRetriever."""
        from .retrieval.langchain import AssistantRetriever

        return AssistantRetriever(assistant=self, k=k or self.settings.k)

    def ask(
        self,
        question: str,
        history: Sequence[Message] | None = None,
        *,
        k: int | None = None,
    ) -> Answer:
        """Answer from the documents, every sentence cited; or refuse, saying so plainly."""
        t_start = time.perf_counter()
        question = self._check_question(question)
        state = self._state  # one consistent snapshot, even if a sync swaps it meanwhile
        timings: dict[str, float] = {}

        t = time.perf_counter()
        query = standalone_query(question, history)
        timings["rewrite"] = time.perf_counter() - t

        catalogue = parse_catalogue_question(question)
        if catalogue is not None:
            t = time.perf_counter()
            text, citations = answer_catalogue(catalogue, self.sources(), state.store.chunks())
            timings["catalogue"] = time.perf_counter() - t
            timings["total"] = time.perf_counter() - t_start
            return Answer(question, query, text, citations, refused=False, timings=timings)

        t = time.perf_counter()
        qv = state.retriever.embed_query(query)
        timings["embed"] = time.perf_counter() - t
        t = time.perf_counter()
        hits = state.retriever.retrieve(query, k or self.settings.k, query_vector=qv)
        timings["retrieve"] = time.perf_counter() - t

        t = time.perf_counter()
        s = self.settings
        composition = compose(
            query,
            qv,
            hits,
            embed=self._embed_sentences,
            idf=state.retriever.lexical.idf,
            refusal=RefusalModel(s.refusal_weights, s.refusal_bias, s.refusal_threshold),
            max_sentences=s.max_answer_sentences,
            keep_ratio=s.sentence_keep_ratio,
            lexical_weight=s.sentence_lexical_weight,
            redundancy=s.sentence_redundancy,
            question=question,
        )
        timings["compose"] = time.perf_counter() - t
        timings["total"] = time.perf_counter() - t_start
        if composition.refused:
            return Answer(
                question,
                query,
                refusal_text(question),
                refused=True,
                related=tuple(hits[:_RELATED]),
                hits=tuple(hits),
                timings=timings,
            )
        return Answer(
            question,
            query,
            composition.text,
            composition.citations,
            refused=False,
            hits=tuple(hits),
            timings=timings,
        )

    def _embed_sentences(self, texts: list[str]) -> np.ndarray:
        """Embed candidate sentences, remembering them: the same passages come back often
        (follow-ups, similar questions), and embedding is most of an answer's time."""
        cache = self._sentence_vectors
        found: dict[str, np.ndarray] = {}
        for t in dict.fromkeys(texts):
            vector = cache.get(t)  # .get: another request may clear the cache meanwhile
            if vector is not None:
                found[t] = vector
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            new = dict(zip(missing, self.embedder.embed(missing), strict=True))
            if len(cache) + len(new) > _SENTENCE_CACHE:
                cache.clear()
            cache.update(new)
            found.update(new)
        return np.stack([found[t] for t in texts])

    def stream(
        self,
        question: str,
        history: Sequence[Message] | None = None,
        *,
        k: int | None = None,
    ) -> Iterator[str | Answer]:
        """Text pieces of the answer as it is written out, then the final Answer."""
        answer = self.ask(question, history, k=k)
        yield from re.findall(r"\S+\s*", answer.text)
        yield answer

    def _check_question(self, question: str) -> str:
        question = " ".join(str(question).split())
        if not question:
            raise InputError("the question is empty: type a question about your documents")
        limit = self.settings.max_question_chars
        if len(question) > limit:
            raise InputError(
                f"the question is {len(question)} characters long, over the {limit} limit: "
                "ask something shorter"
            )
        return question


def _default_embedder(settings: Settings) -> Embedder:
    return SentenceTransformerEmbedder(
        settings.model,
        batch_size=settings.embed_batch_size,
        device=settings.device,
        show_progress=settings.show_progress,
    )
