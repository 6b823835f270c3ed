"""The index: chunks and their vectors behind the small `Store` protocol, kept in step with
a documents folder.

- base.py        the Store protocol and its values (Manifest, Batch, ChunkerConfig)
- faiss.py       FaissStore: manifest.json + vectors-<gen>.faiss + chunks-<gen>.jsonl
                 (+ sentences-<gen>.npy and sentence-spans-<gen>.npy: sentence vectors)
- memory.py      MemoryStore: numpy arrays, for fast tests
- postgres.py    PgStore: PostgreSQL + pgvector, for several app servers on one database
- registry.py    location -> store (a folder, or a postgresql:// URL)
- sync.py        scan a folder, plan a sync (pure), apply it as one atomic batch
- digests.py     the documents' sha256 by stat, kept beside the index (digests.json) so that
                 a new process's sync reads only the files that changed
- collection.py  Collection: a folder, its store, and the add/remove/sync operations

Adding a store: implement `Store` (base.py) in a new module, teach registry.py which
locations it serves (import it lazily there), put its driver in a pyproject.toml extra
(e.g. [pg]), and add it to the STORES the contract suite (tests/test_store_contract.py) runs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..embedding import Embedder
from ..schema import SyncReport
from ..settings import DEFAULT_UNPACK_LIMITS, UnpackLimits
from .base import (
    CHUNKER_VERSION,
    FORMAT_VERSION,
    Batch,
    BuildInfo,
    ChunkerConfig,
    LexicalStore,
    Manifest,
    SentenceRows,
    SentenceStore,
    SharedStore,
    SourceChunks,
    Store,
    carried_rows,
    held_and_current,
    sources_of,
)
from .collection import Collection, chunker_config, drop_set_aside, safe_filename
from .faiss import FaissStore, read_manifest
from .memory import MemoryStore
from .registry import empty_store, open_for_sync, open_store, store_for_rebuild
from .sync import SyncPlan, plan_sync, sync_guard, sync_store

__all__ = [
    "CHUNKER_VERSION",
    "FORMAT_VERSION",
    "Batch",
    "BuildInfo",
    "ChunkerConfig",
    "Collection",
    "FaissStore",
    "LexicalStore",
    "Manifest",
    "MemoryStore",
    "SentenceRows",
    "SentenceStore",
    "SharedStore",
    "SourceChunks",
    "Store",
    "SyncPlan",
    "carried_rows",
    "chunker_config",
    "drop_set_aside",
    "empty_store",
    "open_for_sync",
    "open_store",
    "plan_sync",
    "read_manifest",
    "safe_filename",
    "sources_of",
    "store_for_rebuild",
    "sync_index",
    "sync_store",
]


def sync_index(
    folder: Path,
    location: str | Path,
    embedder: Embedder,
    chunker: ChunkerConfig,
    *,
    on_progress: Callable[[str, float], None] | None = None,
    rebuild: bool = False,
    follow_links: bool = False,
    unpack_limits: UnpackLimits = DEFAULT_UNPACK_LIMITS,
    ef_search: int | None = None,
    on_wait: Callable[[], None] | None = None,
) -> SyncReport:
    """Bring the index at location up to date with folder (`assistant index`).

    Files compare by sha256 with the manifest: unchanged files keep their chunks and vectors;
    added and changed files are re-chunked; deleted files' chunks leave the index. Vectors
    are reused by content hash, so only new text is embedded. A file that fails to load is
    reported; if an earlier version was indexed it is kept. A damaged or foreign index is
    rebuilt from the documents; `rebuild` rebuilds every index (`assistant index --rebuild`).
    Links to files outside folder are indexed only with follow_links. On a database several
    processes write, syncs take turns: on_wait is called when this one has to wait for another.
    """
    store = open_for_sync(location, embedder, ef_search=ef_search)
    with sync_guard(store, on_wait):
        # Opened again under the lock only when another sync committed while this one
        # waited (one stat, or one query, tells): loading reads and checks every chunk, and
        # doing it twice was most of an unchanged folder's `assistant index`.
        if rebuild:
            store = store_for_rebuild(location)
        elif not held_and_current(store):
            store = open_for_sync(location, embedder, ef_search=ef_search)
        report, _ = sync_store(
            Path(folder),
            store,
            embedder,
            chunker,
            on_progress=on_progress,
            follow_links=follow_links,
            unpack_limits=unpack_limits,
        )
    return report
