"""Assistant: the composition root. It wires settings, the embedder, the index, retrieval and
the composer, and is the one object every interface (API, CLI, web chat, evals) talks to."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .answer.catalogue import SourceInfo, answer_catalogue, parse_catalogue_question
from .answer.extractive import RefusalModel, compose, refusal_text
from .answer.followup import standalone_query
from .embedding import Embedder, build_embedder
from .errors import InputError
from .ingest.loaders import SUPPORTED_SUFFIXES
from .retrieval.hybrid import HybridRetriever, RetrievalConfig
from .schema import Answer, Chunk, Hit, SyncReport
from .settings import Settings
from .store import ChunkerConfig, Index, load_index, sync_index

if TYPE_CHECKING:
    from .retrieval.langchain import AssistantRetriever

__all__ = ["Assistant", "Message"]

Message = Mapping[str, str]  # {"role": "user" | "assistant", "content": str}

_RELATED = 3  # passages offered as reading with a refusal
_SENTENCE_CACHE = 50_000  # sentence vectors kept in memory (about 75 MB at 384 dimensions)


@dataclass(frozen=True, slots=True)
class _State:
    """What one question reads; swapped whole after a sync, so readers never see a mix."""

    index: Index
    retriever: HybridRetriever


class Assistant:
    """Grounded question answering over one documents folder and its index.

    bot = Assistant.from_folder("seeds", index_dir="index")
    ans = bot.ask("How much has Amazon invested in Anthropic?")
    print(ans.text, ans.citations)
    """

    def __init__(
        self,
        index: Index,
        *,
        settings: Settings,
        embedder: Embedder,
        docs_dir: Path | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.index_dir = index.directory
        folder = docs_dir or (Path(index.manifest.folder) if index.manifest.folder else None)
        self.docs_dir: Path | None = folder
        self._write_lock = threading.Lock()
        self._sentence_vectors: dict[str, np.ndarray] = {}
        self._state = self._make_state(index)

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
        folder = Path(folder)
        index_path = Path(index_dir) if index_dir is not None else settings.index_dir
        embedder = embedder or build_embedder(settings)
        sync_index(
            folder, index_path, embedder, _chunker(settings, embedder), on_progress=on_progress
        )
        return cls(
            load_index(index_path, embedder), settings=settings, embedder=embedder, docs_dir=folder
        )

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
        embedder = embedder or build_embedder(settings)
        return cls(load_index(index_path, embedder), settings=settings, embedder=embedder)

    def _make_state(self, index: Index) -> _State:
        s = self.settings
        config = RetrievalConfig(
            fusion=s.fusion,
            candidates=s.candidates,
            rrf_k=s.rrf_k,
            dense_weight=s.dense_weight,
            lexical_weight=s.lexical_weight,
        )
        return _State(index, HybridRetriever(index, self.embedder, config))

    # ------------------------------------------------------------ the collection

    def sync(self, *, on_progress: Callable[[str, float], None] | None = None) -> SyncReport:
        """Re-read the documents folder and update the index and this assistant in place."""
        if self.docs_dir is None:
            raise InputError(
                "this index does not record its documents folder: use "
                "Assistant.from_folder(FOLDER, index_dir=...) instead"
            )
        with self._write_lock:
            report = sync_index(
                self.docs_dir,
                self.index_dir,
                self.embedder,
                _chunker(self.settings, self.embedder),
                on_progress=on_progress,
            )
            self._state = self._make_state(load_index(self.index_dir, self.embedder))
        return report

    @property
    def retriever(self) -> HybridRetriever:
        """The hybrid retriever over the current index (for benchmarks and tools)."""
        return self._state.retriever

    def sources(self) -> list[SourceInfo]:
        """The indexed documents, by name."""
        m = self._state.index.manifest
        return [
            SourceInfo(source=name, kind=e.kind, size=e.size, chunks=e.chunks, pages=e.pages)
            for name, e in sorted(m.sources.items())
        ]

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
        folder = self._require_folder()
        safe = safe_filename(name)
        if Path(safe).suffix.lower() not in SUPPORTED_SUFFIXES:
            allowed = ", ".join(sorted(SUPPORTED_SUFFIXES))
            raise InputError(f"{name} is not a supported type: upload one of {allowed}")
        if not content:
            raise InputError(f"{name} is empty: upload a file with text in it")
        if len(content) > self.settings.max_upload_bytes:
            limit = self.settings.max_upload_bytes // (1024 * 1024)
            raise InputError(f"{name} is larger than the {limit} MB upload limit: split it first")
        target = folder / safe
        previous = target.read_bytes() if target.exists() else None
        target.write_bytes(content)
        report = self.sync(on_progress=on_progress)
        problem = next((s for s in report.skipped if s.source == safe), None)
        if problem is not None:
            # Put the folder back as it was: a bad upload changes nothing.
            if previous is None:
                target.unlink()
            else:
                target.write_bytes(previous)
            self.sync()
            raise InputError(problem.reason)
        return report

    def remove_document(self, source: str) -> SyncReport:
        """Delete a document from the documents folder and drop it from the index."""
        folder = self._require_folder()
        target = (folder / source).resolve()
        if folder.resolve() not in target.parents or not target.is_file():
            raise InputError(f"there is no document named {source!r}: pick one from the list")
        target.unlink()
        return self.sync()

    def _require_folder(self) -> Path:
        if self.docs_dir is None:
            raise InputError("this assistant was loaded without a documents folder")
        self.docs_dir.mkdir(parents=True, exist_ok=True)
        return self.docs_dir

    def chunk(self, chunk_id: str) -> Chunk | None:
        """The indexed chunk with this id (to show a citation's surrounding passage)."""
        index = self._state.index
        row = index.by_id.get(chunk_id)
        return index.chunks[row] if row is not None else None

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
            text, citations = answer_catalogue(catalogue, self.sources(), state.index.chunks)
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


def _chunker(settings: Settings, embedder: Embedder) -> ChunkerConfig:
    # Two places of the model's window go to [CLS] and [SEP].
    return ChunkerConfig(
        max_tokens=min(settings.chunk_tokens, embedder.max_seq_length - 2),
        overlap_tokens=settings.chunk_overlap_tokens,
    )


_UNSAFE = re.compile(r"[^\w.\- ]+", re.UNICODE)


def safe_filename(name: str) -> str:
    """A plain file name that stays inside the documents folder.

    Example: safe_filename("../../etc/pass wd.txt") -> "pass wd.txt";
             safe_filename("C:\\\\Users\\\\me\\\\notes.md") -> "notes.md"
    """
    base = re.split(r"[\\/]", name)[-1].strip()
    base = _UNSAFE.sub("_", base).strip(". ")
    if not base:
        raise InputError(f"{name!r} is not a usable file name: rename the file and upload it again")
    return base[:200]
