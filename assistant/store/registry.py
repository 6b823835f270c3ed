"""Which store an index location means, and opening it.

A location is a folder path (FaissStore) or a ``postgresql://`` URL (PgStore: approximate
dense search with pgvector HNSW, its depth set by ``ef_search``). Each store module is imported
only when its kind of location is used, so a FAISS install never imports a database driver
and the other way round.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..embedding import Embedder
from ..errors import (
    AssistantError,
    IndexMismatchError,
    IndexMissingError,
    IndexUnavailableError,
    InputError,
)
from .base import Store

__all__ = ["empty_store", "open_for_sync", "open_store", "store_for_rebuild"]

# Path("postgresql://h/db") keeps one slash, so both spellings are recognised.
_DATABASE_URL = re.compile(r"^postgres(?:ql)?(?:\+\w+)?:/", re.IGNORECASE)


def _is_database(location: str | Path) -> bool:
    return bool(_DATABASE_URL.match(str(location)))


def _url(location: str | Path) -> str:
    """The URL for libpq: Path() folds "//" into one slash, and a SQLAlchemy-style driver
    suffix ("postgresql+psycopg://") is not libpq's.

    Example: _url(Path("postgresql+psycopg://h/db")) -> "postgresql://h/db"
    """
    scheme, rest = str(location).split(":", 1)
    return f"{scheme.split('+')[0]}:{rest if rest.startswith('//') else '/' + rest}"


def open_store(location: str | Path, embedder: Embedder, *, ef_search: int | None = None) -> Store:
    """The index at location, verified against the embedder; IndexMissingError,
    IndexCorruptError, IndexMismatchError or IndexUnavailableError (each saying what to do)
    when it cannot be used."""
    if _is_database(location):
        from .postgres import DEFAULT_EF_SEARCH, PgStore, redact

        store = PgStore.connect(_url(location), ef_search=ef_search or DEFAULT_EF_SEARCH)
        m = store.manifest
        if m is None:
            raise IndexMissingError(
                f"there is no index in {redact(_url(location))}: "
                f"run `assistant index FOLDER --store {redact(_url(location))}`"
            )
        if (m.model, m.dimension) != (embedder.name, embedder.dimension):
            raise IndexMismatchError(
                f"{redact(_url(location))} was built with {m.model!r} ({m.dimension} "
                f"dimensions), settings ask for {embedder.name!r} ({embedder.dimension}): "
                "run `assistant index` to rebuild it"
            )
        return store
    from .faiss import FaissStore

    return FaissStore.load(Path(location), model=embedder.name, dimension=embedder.dimension)


def empty_store(location: str | Path, *, ef_search: int | None = None) -> Store:
    """A store at location holding nothing yet: the first batch applied to it replaces
    whatever is there (how a damaged or foreign index is rebuilt)."""
    if _is_database(location):
        from .postgres import DEFAULT_EF_SEARCH, PgStore

        return PgStore.empty(_url(location), ef_search=ef_search or DEFAULT_EF_SEARCH)
    from .faiss import FaissStore

    return FaissStore(Path(location))


def open_for_sync(
    location: str | Path, embedder: Embedder, *, ef_search: int | None = None
) -> Store:
    """The index to update, or an empty store to build afresh (none yet, another model, or
    damaged: the documents are the truth; the old index is replaced only at the commit).
    A database that cannot be reached is an error, not an empty index."""
    try:
        return open_store(location, embedder, ef_search=ef_search)
    except (InputError, IndexUnavailableError):
        raise
    except AssistantError:
        return empty_store(location, ef_search=ef_search)


def store_for_rebuild(location: str | Path, *, ef_search: int | None = None) -> Store:
    """An empty store at location for `assistant index --rebuild`: the whole index is built
    again from the documents, whatever state it is in. Damage inside the index folder that
    a plain write cannot replace (a folder where manifest.json belongs) is deleted first;
    an index location that is a file is refused (InputError), never deleted."""
    if not _is_database(location):
        from .faiss import clear_for_rebuild

        clear_for_rebuild(Path(location))
    return empty_store(location, ef_search=ef_search)
