"""A documents collection: a folder, the store indexing it, and the embedder and chunker
settings that turn one into the other. Everything that changes an index goes through here.

col = Collection.from_folder("seeds", "index", embedder, chunker_config(settings, embedder))
col.add_document("notes.md", b"# Notes ...")
col.store.search(vector, 5)
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..embedding import Embedder
from ..errors import AssistantError, InputError
from ..ingest.loaders import SUPPORTED_SUFFIXES
from ..schema import Chunk, SourceInfo, SyncReport
from .base import ChunkerConfig, SharedStore, Store, sources_of
from .registry import empty_store, open_store
from .sync import sync_guard, sync_store

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = ["DEFAULT_MAX_UPLOAD_BYTES", "Collection", "chunker_config", "safe_filename"]

DEFAULT_MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def chunker_config(settings: Settings, embedder: Embedder) -> ChunkerConfig:
    """The chunker settings for this embedder: chunks never exceed the model's window.

    Example: chunk_tokens=200 with a 256-piece model -> ChunkerConfig(200, 32);
             chunk_tokens=300 -> ChunkerConfig(254, 32)
    """
    # Two places of the model's window go to [CLS] and [SEP].
    return ChunkerConfig(
        max_tokens=min(settings.chunk_tokens, embedder.max_seq_length - 2),
        overlap_tokens=settings.chunk_overlap_tokens,
    )


class Collection:
    """A documents folder and its index, kept in step.

    `store` is the current snapshot; every change (sync, add, remove) builds the next one and
    swaps it in whole, so a reader holding a snapshot never sees a mix. Changes are
    serialised by a lock.
    """

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        chunker: ChunkerConfig,
        *,
        folder: str | Path | None = None,
        max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
        ef_search: int | None = None,
    ) -> None:
        self.embedder = embedder
        self.ef_search = ef_search  # PgStore's HNSW search depth (None: its default)
        self.chunker = chunker
        recorded = store.manifest.folder if store.manifest is not None else ""
        self.folder: Path | None = (
            Path(folder) if folder else (Path(recorded) if recorded else None)
        )
        self.max_upload_bytes = max_upload_bytes
        self._store = store
        self._lock = threading.Lock()

    @classmethod
    def open(
        cls,
        location: str | Path,
        embedder: Embedder,
        chunker: ChunkerConfig,
        *,
        folder: str | Path | None = None,
        max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
        ef_search: int | None = None,
    ) -> Collection:
        """The existing index at location, verified against the embedder."""
        return cls(
            open_store(location, embedder, ef_search=ef_search),
            embedder,
            chunker,
            folder=folder,
            max_upload_bytes=max_upload_bytes,
            ef_search=ef_search,
        )

    @classmethod
    def from_folder(
        cls,
        folder: str | Path,
        location: str | Path,
        embedder: Embedder,
        chunker: ChunkerConfig,
        *,
        max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
        on_progress: Callable[[str, float], None] | None = None,
        ef_search: int | None = None,
    ) -> Collection:
        """Sync the index at location with folder (only changed files are re-embedded)."""
        collection = cls(
            empty_store(location, ef_search=ef_search),
            embedder,
            chunker,
            folder=folder,
            max_upload_bytes=max_upload_bytes,
            ef_search=ef_search,
        )
        collection.sync(on_progress=on_progress)
        return collection

    # ------------------------------------------------------------ reading

    @property
    def store(self) -> Store:
        """The current snapshot of the index."""
        return self._store

    def sources(self) -> list[SourceInfo]:
        """The indexed documents, by name."""
        return sources_of(self._store.manifest)

    def chunk(self, chunk_id: str) -> Chunk | None:
        return self._store.chunk(chunk_id)

    # ------------------------------------------------------------ changing

    def sync(self, *, on_progress: Callable[[str, float], None] | None = None) -> SyncReport:
        """Re-read the documents folder and update the index."""
        if self.folder is None:
            raise InputError(
                "this index does not record its documents folder: use "
                "Assistant.from_folder(FOLDER, index_dir=...) instead"
            )
        with self._lock, sync_guard(self._store):
            report, self._store = sync_store(
                self.folder, self._latest(), self.embedder, self.chunker, on_progress=on_progress
            )
        return report

    def follow(self) -> bool:
        """Take the latest committed snapshot if another process committed since (a shared
        store: several app servers on one database; one cheap query). Returns whether the
        snapshot changed."""
        store = self._store
        if not isinstance(store, SharedStore) or store.is_current():
            return False
        with self._lock:
            if self._store is store:
                self._store = store.refresh()
        return True

    def _latest(self) -> Store:
        """The committed index to update, or an empty store to build afresh: none yet,
        damaged, or built with another model (the documents are the truth, and the old
        index is replaced only at the commit)."""
        try:
            store = self._store.refresh()
        except AssistantError:
            return empty_store(self._store.location, ef_search=self.ef_search)
        m = store.manifest
        if m is not None and (m.model, m.dimension) != (
            self.embedder.name,
            self.embedder.dimension,
        ):
            return empty_store(self._store.location, ef_search=self.ef_search)
        return store

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
        if len(content) > self.max_upload_bytes:
            limit = self.max_upload_bytes // (1024 * 1024)
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
        if self.folder is None:
            raise InputError("this assistant was loaded without a documents folder")
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder


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
