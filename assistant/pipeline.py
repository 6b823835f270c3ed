"""Assistant: the composition root. It wires settings, the embedder, the index, retrieval and
the Answerer (answer/answerer.py), and is the one object every interface (API, CLI, web chat,
evals) talks to."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .answer.answerer import Answerer, final_answer
from .answer.base import Message
from .answer.catalogue import SourceInfo
from .embedding import Embedder, SentenceTransformerEmbedder
from .errors import InputError
from .ingest.loaders import SUPPORTED_SUFFIXES
from .retrieval.hybrid import HybridRetriever, RetrievalConfig
from .schema import Answer, Chunk, Hit, SyncReport
from .settings import Settings
from .store import ChunkerConfig, Index, load_index, sync_index

if TYPE_CHECKING:
    from .retrieval.langchain import AssistantRetriever

__all__ = ["Assistant", "Message"]


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
        answerer: Answerer | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.index_dir = index.directory
        folder = docs_dir or (Path(index.manifest.folder) if index.manifest.folder else None)
        self.docs_dir: Path | None = folder
        self._write_lock = threading.Lock()
        self.answerer = answerer or Answerer(settings, embedder)
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
        embedder = embedder or _default_embedder(settings)
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
        embedder = embedder or _default_embedder(settings)
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
        mode: str | None = None,
    ) -> Answer:
        """Answer from the documents, every sentence cited; or refuse, saying so plainly.

        mode: the answer backend for this question (default settings.answer_mode).
        """
        return final_answer(self.stream(question, history, k=k, mode=mode))

    def stream(
        self,
        question: str,
        history: Sequence[Message] | None = None,
        *,
        k: int | None = None,
        mode: str | None = None,
    ) -> Iterator[str | Answer]:
        """Text pieces of the answer as the backend writes them, then the final Answer."""
        question = self._check_question(question)
        state = self._state  # one consistent snapshot, even if a sync swaps it meanwhile
        yield from self.answerer.stream(
            question,
            history,
            retriever=state.retriever,
            sources=self.sources(),
            chunks=state.index.chunks,
            k=k,
            mode=mode,
        )

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
