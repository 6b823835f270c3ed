"""Which store an index location means, and opening it.

A location is a folder path (FaissStore) or, from the next issue on, a ``postgresql://`` URL
(PgStore). Each store module is imported only when its kind of location is used, so a FAISS
install never imports a database driver and the other way round.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..embedding import Embedder
from ..errors import AssistantError, InputError
from .base import Store

__all__ = ["empty_store", "open_for_sync", "open_store", "store_for_rebuild"]

# Path("postgresql://h/db") keeps one slash, so both spellings are recognised.
_DATABASE_URL = re.compile(r"^postgres(?:ql)?(?:\+\w+)?:/", re.IGNORECASE)


def _is_database(location: str | Path) -> bool:
    return bool(_DATABASE_URL.match(str(location)))


def _no_database_store(location: str | Path) -> InputError:
    # The hook for PgStore: return it from here (imported lazily) once it exists.
    return InputError(
        f"{location} is a database URL, and this version stores indexes only in folders: "
        "set the index location to a folder path"
    )


def open_store(location: str | Path, embedder: Embedder) -> Store:
    """The index at location, verified against the embedder; IndexMissingError,
    IndexCorruptError or IndexMismatchError (each saying what to do) when it cannot be used."""
    if _is_database(location):
        raise _no_database_store(location)
    from .faiss import FaissStore

    return FaissStore.load(Path(location), model=embedder.name, dimension=embedder.dimension)


def empty_store(location: str | Path) -> Store:
    """A store at location holding nothing yet: the first batch applied to it replaces
    whatever is there (how a damaged or foreign index is rebuilt)."""
    if _is_database(location):
        raise _no_database_store(location)
    from .faiss import FaissStore

    return FaissStore(Path(location))


def open_for_sync(location: str | Path, embedder: Embedder) -> Store:
    """The index to update, or an empty store to build afresh (none yet, another model, or
    damaged: the documents are the truth; the old index is replaced only at the commit)."""
    try:
        return open_store(location, embedder)
    except InputError:
        raise
    except AssistantError:
        return empty_store(location)


def store_for_rebuild(location: str | Path) -> Store:
    """An empty store at location for `assistant index --rebuild`: the whole index is built
    again from the documents, whatever state it is in. Damage inside the index folder that
    a plain write cannot replace (a folder where manifest.json belongs) is deleted first;
    an index location that is a file is refused (InputError), never deleted."""
    if _is_database(location):
        raise _no_database_store(location)
    from .faiss import clear_for_rebuild

    clear_for_rebuild(Path(location))
    return empty_store(location)
