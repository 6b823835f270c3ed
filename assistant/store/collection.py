"""A documents collection: a folder, the store indexing it, and the embedder and chunker
settings that turn one into the other. Everything that changes an index goes through here.

col = Collection.from_folder("seeds", "index", embedder, chunker_config(settings, embedder))
col.add_document("notes.md", b"# Notes ...")
col.store.search(vector, 5)
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import stat
import threading
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..embedding import Embedder
from ..errors import (
    AssistantError,
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
    InputError,
)
from ..ingest.loaders import SUPPORTED_SUFFIXES, source_file
from ..schema import Chunk, SourceInfo, SyncReport
from ..settings import DEFAULT_UNPACK_LIMITS, UnpackLimits
from ..text import SPACE_RUNS, drawn_alike
from .base import ChunkerConfig, Store, committed_since, held_and_current, sources_of
from .registry import empty_store, open_store
from .sync import Digest, sync_guard, sync_store

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = [
    "DEFAULT_MAX_UPLOAD_BYTES",
    "Collection",
    "chunker_config",
    "drop_set_aside",
    "safe_filename",
]

DEFAULT_MAX_UPLOAD_BYTES = 20 * 1024 * 1024

_log = logging.getLogger(__name__)


def chunker_config(settings: Settings, embedder: Embedder) -> ChunkerConfig:
    """The chunker settings for this embedder: chunks never exceed the model's window.

    Example: chunk_tokens=200 with a 256-piece model -> ChunkerConfig(200, 32, vectors=
             settings.chunk_vectors); chunk_tokens=300 -> ChunkerConfig(254, 32, ...)
    """
    # Two places of the model's window go to [CLS] and [SEP].
    return ChunkerConfig(
        max_tokens=min(settings.chunk_tokens, embedder.max_seq_length - 2),
        overlap_tokens=settings.chunk_overlap_tokens,
        vectors=settings.chunk_vectors,
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
        follow_links: bool = False,
        unpack_limits: UnpackLimits = DEFAULT_UNPACK_LIMITS,
        ef_search: int | None = None,
    ) -> None:
        self.embedder = embedder
        self.follow_links = follow_links  # index links to files outside the folder
        self.unpack_limits = unpack_limits  # zip-bomb limits for .docx, .epub, ...
        self.ef_search = ef_search  # PgStore's HNSW search depth (None: its default)
        self.chunker = chunker
        recorded = store.manifest.folder if store.manifest is not None else ""
        self.folder: Path | None = (
            Path(folder) if folder else (Path(recorded) if recorded else None)
        )
        self.max_upload_bytes = max_upload_bytes
        self._store = store
        # Reentrant: remove and add hold it across their check, file change and sync.
        self._lock = threading.RLock()
        self._follow_problem = ""  # the last reason follow() kept the loaded snapshot
        # The folder's files as hashed by the last sync (sync.Digest): the next sync reads
        # only files whose stat changed, not every byte of the folder.
        self._digests: dict[str, Digest] = {}
        # (the manifest it was read from, composed name -> indexed name): see _composed_names.
        self._composed: tuple[object, dict[str, str]] | None = None

    @classmethod
    def open(
        cls,
        location: str | Path,
        embedder: Embedder,
        chunker: ChunkerConfig,
        *,
        folder: str | Path | None = None,
        max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
        follow_links: bool = False,
        unpack_limits: UnpackLimits = DEFAULT_UNPACK_LIMITS,
        ef_search: int | None = None,
    ) -> Collection:
        """The existing index at location, verified against the embedder."""
        return cls(
            open_store(location, embedder, ef_search=ef_search),
            embedder,
            chunker,
            folder=folder,
            max_upload_bytes=max_upload_bytes,
            follow_links=follow_links,
            unpack_limits=unpack_limits,
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
        follow_links: bool = False,
        unpack_limits: UnpackLimits = DEFAULT_UNPACK_LIMITS,
        ef_search: int | None = None,
    ) -> Collection:
        """Sync the index at location with folder (only changed files are re-embedded)."""
        collection = cls(
            empty_store(location, ef_search=ef_search),
            embedder,
            chunker,
            folder=folder,
            max_upload_bytes=max_upload_bytes,
            follow_links=follow_links,
            unpack_limits=unpack_limits,
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
                self.folder,
                self._latest(),
                self.embedder,
                self.chunker,
                on_progress=on_progress,
                follow_links=self.follow_links,
                unpack_limits=self.unpack_limits,
                known=self._digests,
            )
        return report

    def follow(self) -> bool:
        """Take the latest committed snapshot if another process committed since (a shared
        store: several app servers on one database; one cheap query). Returns whether the
        snapshot changed."""
        store = self._store
        if not committed_since(store):
            return False
        with self._lock:
            if self._store is store:
                try:
                    self._store = store.refresh()
                except (IndexCorruptError, IndexMissingError, IndexMismatchError) as exc:
                    # What another process left is unusable (damaged, deleted, another
                    # model): keep answering from the snapshot in hand, say so once, and
                    # look again at the next question.
                    if str(exc) != self._follow_problem:
                        self._follow_problem = str(exc)
                        _log.warning("keeping the loaded index: %s", exc)
                    return False
        self._follow_problem = ""
        return True

    def _latest(self) -> Store:
        """The committed index to update, or an empty store to build afresh: none yet,
        damaged, or built with another model (the documents are the truth, and the old
        index is replaced only at the commit)."""
        try:
            # The snapshot in hand when it holds an index and nothing was committed since
            # (one stat, or one query): loading the index again read and checked every
            # chunk before each upload. An empty one (from_folder's) loads what is there.
            store = self._store
            if not held_and_current(store):
                store = store.refresh()
        except InputError:
            raise  # the index location itself is unusable (a file): rebuilding cannot help
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
        file, a name that would leave the folder, or a name already taken by a link or by
        something that is not a regular file (writing there would change what it points to).
        A file that turns out unreadable is removed again, so the folder and the index stay
        as they were.
        """
        folder = self._require_folder()
        # The type only: which indexed document the name becomes is read under the lock.
        if Path(safe_filename(name)).suffix.lower() not in SUPPORTED_SUFFIXES:
            allowed = ", ".join(sorted(SUPPORTED_SUFFIXES))
            raise InputError(f"{name} is not a supported type: upload one of {allowed}")
        if not content:
            raise InputError(f"{name} is empty: upload a file with text in it")
        if len(content) > self.max_upload_bytes:
            limit = self.max_upload_bytes // (1024 * 1024)
            raise InputError(f"{name} is larger than the {limit} MB upload limit: split it first")
        with self._lock:
            self._catch_up()
            safe = self.document_name(name)  # as the index stands now
            target = folder / safe
            indexed = [info.source for info in self.sources()]
            _refuse_lookalike(name, safe, indexed)
            _refuse_unlisted(target, safe, indexed)
            kept = _set_aside(target, safe)
            try:
                _replace_file(target, content)
                try:
                    report = self.sync(on_progress=on_progress)
                except BaseException:
                    # A sync that failed (a bug in a loader, a stop) committed nothing: the
                    # folder goes back too, or the file would fail every later sync, and the
                    # next start, the same way.
                    _put_back(target, kept)
                    kept = None
                    raise
                problem = next((s for s in report.skipped if s.source == safe), None)
                if problem is not None:
                    _put_back(target, kept)  # a bad upload changes nothing
                    kept = None
                    self.sync()
                    raise InputError(_upload_reason(problem.reason))
            finally:
                if kept is not None:
                    with contextlib.suppress(OSError):
                        kept.unlink()
        return report

    def _catch_up(self) -> None:
        """Take the index as it was last committed before checking an upload against it. A
        collection opened on an empty store (an upload's child process, `from_folder` before
        its sync) has read no document yet: a big upload, indexed in a child, was checked
        against none, so a name drawn like a document's ("\u0430nnual.txt") was added beside
        it and "caf\u00e9.txt" beside the indexed "cafe\u0301.txt"."""
        if self._store.manifest is None:
            self._store = self._latest()
        else:
            self.follow()  # another app server or process may have committed since

    def document_name(self, name: str) -> str:
        """The document an upload called name becomes: safe_filename(name), or the indexed
        document whose name is the same text in another Unicode form (its accents written
        apart, as a Mac names files), which it replaces.

        An upload's name is composed ("cafe\u0301.txt" -> "café.txt"), but a file copied
        into the folder keeps its name's form: an upload of the indexed "cafe\u0301.txt",
        whichever form it was sent in, was refused as looking like it, "upload it as
        'café.txt' to replace that document", which was the name sent; the document could
        never be replaced.

        Example: with "cafe\u0301.txt" indexed, document_name("café.txt") ->
                 "cafe\u0301.txt"; document_name("notes.txt") -> "notes.txt"
        """
        safe = safe_filename(name)
        if safe.isascii():
            # No accent to write apart, and every indexed name is left unread (an upload of
            # 1,000 files is checked file by file). A name composed to ASCII from another
            # letter (the Kelvin sign's "K") is refused as drawn alike, as before.
            return safe
        return self._composed_names().get(safe, safe)

    def _composed_names(self) -> dict[str, str]:
        """Each indexed name not in its composed form, by that form (the first such name when
        two compose alike), read once per snapshot of the index.

        Read for each file of an upload, every indexed name was composed again: the page
        took 12 s to look at 1,000 accented names beside 20,000 documents, holding its one
        slot for document changes, which every visitor's uploads and removals share.

        Example: with "cafe\u0301.txt" and "a.txt" indexed -> {"caf\u00e9.txt":
                 "cafe\u0301.txt"}
        """
        manifest = self._store.manifest
        cached = self._composed
        if cached is None or cached[0] is not manifest:
            composed: dict[str, str] = {}
            for info in sources_of(manifest):
                if not info.source.isascii():
                    form = unicodedata.normalize("NFC", info.source)
                    if form != info.source:
                        composed.setdefault(form, info.source)
            cached = self._composed = (manifest, composed)
        return cached[1]

    def remove_document(self, source: str) -> SyncReport:
        """Delete an indexed document from the documents folder and drop it from the index.

        Only a document the index lists can be removed (never another file under the
        folder: hidden files, unsupported or skipped ones). A link is removed itself, never
        what it points to. Removing a document that another request has just removed says
        so in one sentence.
        """
        folder = self._require_folder()
        if "\x00" in source:
            raise InputError(
                "a document name cannot contain a NUL character: pick one from the list"
            )
        with self._lock:
            self.follow()  # another app server may have added it since this snapshot
            indexed = {info.source for info in self.sources()}
            composed = unicodedata.normalize("NFC", source)
            same = [s for s in indexed if unicodedata.normalize("NFC", s) == composed]
            if source not in indexed and len(same) == 1:
                source = same[0]  # the same name, its accents written apart (a Mac's way)
            container = source_file(source)
            if source not in indexed and container != source and container in indexed:
                # Citations name an attachment as "mail.eml#report.txt", but it is part of
                # the e-mail's file: it was refused as "no document named …, it may have
                # just been removed", though it was still there and cited.
                raise InputError(
                    f"the e-mail {_shown(container)} holds {_shown(source)} as an "
                    "attachment, not as a file of its own: remove the e-mail to remove it "
                    "with its attachments"
                )
            if source not in indexed:
                raise InputError(
                    f"there is no document named {_shown(source)} in the index (only listed "
                    "documents can be removed, and it may have just been removed): pick one "
                    "from the list"
                )
            target = folder / source
            _check_inside(folder, source)
            try:
                target.unlink()  # on a link, removes the link only
            except FileNotFoundError:
                pass  # already gone from the folder: the sync below drops it from the index
            except IsADirectoryError as exc:
                raise InputError(
                    f"{source} is now a folder, not a document: remove it by hand"
                ) from exc
            return self.sync()

    def _require_folder(self) -> Path:
        if self.folder is None:
            raise InputError("this assistant was loaded without a documents folder")
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder


def _put_back(target: Path, kept: Path | None) -> None:
    """The folder as it was before an upload wrote target: the file set aside at kept
    (`_set_aside`) back in its place, or no file."""
    if kept is None:
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
    else:
        os.replace(kept, target)


def _shown(name: str, limit: int = 120) -> str:
    """name quoted for a message, cut at limit characters: a refusal must not echo back the
    megabytes a caller sent as a name.

    Example: _shown("a.txt") -> "'a.txt'"; _shown("x" * 500) -> "'xxx…'" (120 x's, then …)
    """
    return repr(name) if len(name) <= limit else repr(name[:limit])[:-1] + "…'"


def _check_inside(folder: Path, source: str) -> None:
    """Refuse a source whose path leaves folder or passes through a link to a folder (the
    index never records such names, but the folder may have changed since)."""
    parts = Path(source).parts
    if Path(source).is_absolute() or ".." in parts:
        raise InputError(f"{source!r} is not a document of this folder: pick one from the list")
    here = folder
    for part in parts[:-1]:
        here = here / part
        if here.is_symlink():
            raise InputError(
                f"{source} lies under {here.name}, which is now a link: remove it by hand"
            )


def _refuse_lookalike(name: str, safe: str, sources: Iterable[str]) -> None:
    """InputError when safe is drawn like an indexed document's name but is another name:
    "\u0430nnual.txt" (a Cyrillic а) beside "annual.txt" would show as a second
    "annual.txt", its text cited as if from the first. The same name replaces the document.

    Example: _refuse_lookalike("\u0430nnual.txt", "\u0430nnual.txt", ["annual.txt"]) raises;
             _refuse_lookalike("annual.txt", "annual.txt", ["annual.txt"]) -> None
    """
    drawn = drawn_alike(safe)
    twin = next((s for s in sources if s != safe and drawn_alike(s) == drawn), None)
    if twin is not None:
        spelled = "".join(c if drawn_alike(c) == c else f"[U+{ord(c):04X}]" for c in safe)
        if safe_filename(twin) != twin:
            # No upload can take that name (an upload's name is composed, its spaces one):
            # "upload it as 'K.txt'" named what had just been sent.
            shown = "".join(
                c
                if c.isascii() and c.isprintable() and not (c == " " == twin[i - 1 : i])
                else f"[U+{ord(c):04X}]"
                for i, c in enumerate(twin)
            )
            raise InputError(
                f"The name {_shown(spelled)} looks the same as the document {_shown(shown)}, "
                "whose name no upload can take: remove that document first to replace it, "
                "or rename the file"
            )
        raise InputError(
            f"The name {_shown(spelled)} looks the same as the document {_shown(twin)} "
            "(letters of another script or width drawn alike): upload it as "
            f"{_shown(twin)} to replace that document, or rename it"
        )


def _refuse_unlisted(target: Path, safe: str, indexed: Sequence[str]) -> None:
    """InputError when target is a file of the folder that the index does not list (one it
    could not read, or one put there since the last sync): an upload may replace a listed
    document only. A removal deletes listed documents only, yet an upload of the name of a
    skipped file (a broken scan, a binary .csv) overwrote it unasked, and the removal of
    that upload then deleted it.

    Example: with data.csv in the folder but not indexed, _refuse_unlisted(folder /
             "data.csv", "data.csv", ["a.txt"]) raises; a name the folder lacks passes
    """
    if safe in indexed or not os.path.lexists(target):
        return
    if not target.is_file() or target.is_symlink():
        return  # a link, folder or special file: _set_aside says what it is
    raise InputError(
        f"The file {_shown(safe)} in the documents folder is not indexed (it could not be "
        "read, or was put there since the last sync): an upload replaces only a listed "
        "document, so rename the file and upload it again"
    )


_SET_ASIDE = ".previous-"


def drop_set_aside(folder: Path, pid: int) -> None:
    """Delete what process pid set aside in folder and could not put back or delete (it
    was killed mid-upload: an upload's child process).

    Example: drop_set_aside(folder, 4242) deletes folder/".previous-4242-<32 hex>"
    """
    for left in folder.glob(f"{_SET_ASIDE}{pid}-*"):
        with contextlib.suppress(OSError):
            left.unlink()


def _set_aside(target: Path, name: str) -> Path | None:
    """A second, hidden name in the folder for the regular file at target, which an upload
    is about to replace (None if there is none), so that `_put_back` can restore it;
    InputError when the name is taken by a link, a folder or a special file, which an
    upload must not replace.

    The file's bytes were read into memory instead: a failing upload of 300 bytes named like
    an indexed 300 MB document took 1.7 s and 300 MB of the server's memory, and wrote the
    300 MB back. A hard link costs neither (a folder whose disk has none gets a copy, made
    in blocks), and puts back the very file.

    Example: _set_aside(folder / "a.txt", "a.txt") -> folder / ".previous-<pid>-<32 hex>",
             a second name of a.txt; _set_aside(folder / "new.txt", "new.txt") -> None
    """
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(mode):
        what = "a link" if stat.S_ISLNK(mode) else "not a regular file"
        raise InputError(
            f"{name} in the documents folder is {what}: rename the upload or remove that "
            "entry first"
        )
    # Hidden, so a scan skips it, and short, as _replace_file's temporary name; named by
    # this process, so that what a killed child process set aside can be found
    # (drop_set_aside).
    kept = target.with_name(f"{_SET_ASIDE}{os.getpid()}-{uuid.uuid4().hex}")
    try:
        os.link(target, kept, follow_symlinks=False)
    except OSError:
        shutil.copyfile(target, kept, follow_symlinks=False)
    return kept


def _replace_file(target: Path, content: bytes) -> None:
    """Write content to target through a new file renamed into place: a link that appears
    at target is replaced as a name, never written through, and a reader never sees half a
    file. The temporary name is hidden, so a concurrent scan skips it, and short: built on
    target's name, a name of 239-240 bytes (80 Chinese characters) became 257, over the
    255-byte limit, and such an upload failed with the folder's path in its message."""
    tmp = target.with_name(f".upload-{uuid.uuid4().hex}")
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        # 0o666 (less the umask), as any program writes a file: os.open's default, 0o777,
        # made every uploaded document executable.
        fd = os.open(tmp, flags, 0o666)
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _upload_reason(reason: str) -> str:
    """A skip reason worded for an upload, which never reached the folder: without the
    advice to remove the file from it.

    Example: "a.txt is empty: add text to it or remove it from the folder" ->
             "a.txt is empty: add text to it"
    """
    return re.sub(r",?\s+or remove it from the folder", "", reason)


_UNSAFE = re.compile(r"[^\w.\- ]+", re.UNICODE)
_MAX_NAME_CHARS = 200
_MAX_NAME_BYTES = 240


def safe_filename(name: str) -> str:
    """A plain file name that stays inside the documents folder, at most 200 characters
    (and 240 bytes in UTF-8, below the usual 255-byte limit), keeping its extension.

    Example: safe_filename("../../etc/pass wd.txt") -> "pass wd.txt";
             safe_filename("C:\\\\Users\\\\me\\\\notes.md") -> "notes.md";
             safe_filename("a" * 300 + ".pdf") -> "a" * 196 + ".pdf";
             safe_filename("cafe\\u0301.txt") -> "caf\\u00e9.txt" (composed);
             safe_filename("annual  report.txt") -> "annual report.txt"
    """
    if "\x00" in name:
        raise InputError("a file name cannot contain a NUL character: rename the file")
    base = re.split(r"[\\/]", name)[-1].strip()
    # Composed first: a Mac sends "café" as "cafe" + U+0301, which the pattern below would
    # turn into "cafe_", beside the "café" another visitor uploaded, the two names one name.
    base = _UNSAFE.sub("_", unicodedata.normalize("NFC", base)).strip(". ")
    # One space for a run of them: the page draws "annual  report.txt" as "annual
    # report.txt", so the two were two documents of one drawn name.
    base = SPACE_RUNS.sub(" ", base)
    if not base:
        raise InputError(f"{name!r} is not a usable file name: rename the file and upload it again")
    stem, ext = os.path.splitext(base)
    if len(ext) > 16:  # not an extension a document type has: part of the name
        stem, ext = base, ""
    stem = stem[: max(1, _MAX_NAME_CHARS - len(ext))]
    while len((stem + ext).encode("utf-8")) > _MAX_NAME_BYTES:
        stem = stem[:-1]
    return (stem.rstrip(". ") or "file") + ext
