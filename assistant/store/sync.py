"""Keep a store in step with a documents folder, doing only the work that changed.

Three steps: `scan` reads the folder (sha256 of every file whose stat changed since the
last sync: `digests.Digest`, kept in memory by a Collection and beside the index by a
DigestStore, so that a new process does not read every file again), `plan_sync` decides
what to do (a pure function of the scan, the store's manifest and the chunker settings), and
`apply_plan` loads and chunks what the plan names, embeds only text whose vector the store
does not already hold, and commits everything as one `Batch`. It streams: a source at a
time, its chunks a batch at a time (`ingest.chunking.iter_chunks`), vectors into temporary
files (`base.RowFile`), so memory holds the chunks and a few numbers per sentence, never
every sentence's text or vector (issue 13: bounded memory).

A store that keeps sentence vectors (a SentenceStore) also gets the vectors of every new
chunk's quotable sentences (`ingest.chunking.sentence_units`), reused by text like chunk
vectors, so that answering embeds only the question. An index that lacks them (written
before they existed) is upgraded by its next sync: every file is chunked again, the chunk
vectors are reused, and only the sentences are embedded.

A chunk's vector is made as `ChunkerConfig.vectors` says: "encode" embeds its whole text;
"sentences" takes the normalised mean of its pieces' vectors (`ingest.chunking.vector_pieces`:
its quotable sentences and the text between them), so one pass embeds each text once, and
the quotable sentences' vectors are the ones stored for answers. The manifest records the
way; a sync with the other way remakes every chunk vector (stored sentence vectors are
reused) rather than mixing the two.
"""

from __future__ import annotations

import errno
import hashlib
import itertools
import os
import stat
import time
from array import array
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import numpy as np

from ..embedding import Embedder, mean_directions
from ..errors import DocumentError, IndexWriteError
from ..ingest.chunking import iter_chunks, section_problem, sentence_units, vector_pieces
from ..ingest.loaders import load_documents, open_regular, scan_folder, too_big
from ..schema import Chunk, SkippedFile, SourceInfo, SyncReport
from ..settings import DEFAULT_UNPACK_LIMITS, UnpackLimits
from .base import (
    FORMAT_VERSION,
    Batch,
    BuildInfo,
    ChunkerConfig,
    DigestStore,
    GatheredRows,
    Manifest,
    RowFile,
    SentenceRows,
    SentenceStore,
    SharedStore,
    SourceChunks,
    Store,
)
from .digests import Digest

__all__ = [
    "Digest",
    "FileState",
    "Scan",
    "SyncPlan",
    "apply_plan",
    "chunker_to_use",
    "plan_sync",
    "scan",
    "sync_guard",
    "sync_store",
]

Progress = Callable[[str, float], None]


@dataclass(frozen=True, slots=True)
class FileState:
    """A file as found on disk; sha256 is None when it could not be read. identity: the
    (device, inode) hashed, which the file must still be when it is read to be indexed."""

    path: Path
    sha256: str | None
    size: int = 0
    identity: tuple[int, int] | None = None


# A file's change must be older than this when it is read for its digest to be kept: more
# than the coarsest timestamp tick of the file systems a folder may be on (FAT: 2 s).
_STABLE_NS = 2_000_000_000


@dataclass(frozen=True, slots=True)
class Scan:
    folder: Path
    files: Mapping[str, FileState]  # by source name
    skipped: tuple[SkippedFile, ...]  # unsupported, empty, unreadable
    # The files' digests a later scan may trust (Digest), by source name.
    digests: Mapping[str, Digest] = field(default_factory=dict)
    # Whether digests differ from the ones the scan started from (they are worth keeping).
    digests_changed: bool = True


@dataclass(frozen=True, slots=True)
class SyncPlan:
    """What a sync will do. Source names are sorted within each field."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    kept_unreadable: tuple[str, ...] = ()  # indexed, unreadable now: the indexed version stays
    rechunk_all: bool = False  # no usable index, or other chunker settings: rebuild
    upgrade: bool = False  # rewrite every source to add what the index lacks (sentence vectors)
    write: bool = True  # False: the store is already up to date, nothing to commit

    @property
    def to_chunk(self) -> tuple[str, ...]:
        """The sources to load and chunk, in the order they are worked on."""
        return self.added + self.updated + (self.unchanged if self.rechunk_all else ())


def plan_sync(
    files: Mapping[str, str | None],
    manifest: Manifest | None,
    chunker: ChunkerConfig,
    folder: str,
    *,
    upgrade: bool = False,
) -> SyncPlan:
    """Decide a sync from the folder's files (name -> sha256, None when unreadable), the
    store's manifest (None: no usable index) and the chunker settings.

    Files compare by sha256. An unreadable file that was indexed keeps its indexed version
    (it counts as unchanged); one that was not is left out. Other chunker settings, or no
    index, mean every source is chunked again (rechunk_all) and then an unreadable file
    cannot keep anything. Nothing is written when nothing changed and the folder is the one
    the index was built from. upgrade: the index lacks what this version stores (sentence
    vectors), so every source is chunked again and rewritten (its vectors are reused).

    Example: the manifest holds a.txt (sha "1"), b.txt ("2"), c.txt ("3"), e.txt ("5"), built
    from "/docs" with the same chunker; the folder now has
    {"a.txt": "1", "b.txt": "9", "c.txt": None, "d.txt": "4"}
    -> SyncPlan(added=("d.txt",), updated=("b.txt",), removed=("e.txt",),
                unchanged=("a.txt", "c.txt"), kept_unreadable=("c.txt",),
                rechunk_all=False, write=True); to_chunk == ("d.txt", "b.txt")
    """
    old = manifest.sources if manifest is not None else {}
    rechunk_all = manifest is None or manifest.chunker != chunker or upgrade
    current: dict[str, str] = {}
    kept_unreadable = []
    for source, sha in files.items():
        if sha is not None:
            current[source] = sha
        elif source in old and not rechunk_all:
            current[source] = old[source].sha256  # keep the indexed version
            kept_unreadable.append(source)

    added = sorted(s for s in current if s not in old)
    removed = sorted(s for s in old if s not in current)
    updated = sorted(s for s in current if s in old and current[s] != old[s].sha256)
    unchanged = sorted(s for s in current if s in old and s not in updated)
    same_folder = manifest is not None and manifest.folder == folder
    changes = added or updated or removed or (rechunk_all and unchanged)
    return SyncPlan(
        added=tuple(added),
        updated=tuple(updated),
        removed=tuple(removed),
        unchanged=tuple(unchanged),
        kept_unreadable=tuple(sorted(kept_unreadable)),
        rechunk_all=rechunk_all,
        upgrade=upgrade,
        write=not (manifest is not None and same_folder and not changes),
    )


def sync_guard(
    store: Store, on_wait: Callable[[], None] | None = None
) -> AbstractContextManager[object]:
    """Held around a whole sync: a shared store's lock (two `assistant index` runs on one
    database take turns: the second calls on_wait, waits, then plans against what the
    first committed); nothing for a store only this process writes."""
    return store.sync_lock(on_wait) if isinstance(store, SharedStore) else nullcontext()


def scan(
    folder: Path,
    *,
    follow_links: bool = False,
    max_bytes: int = DEFAULT_UNPACK_LIMITS.max_bytes,
    known: Mapping[str, Digest] | None = None,
    recall: Callable[[Collection[str]], Mapping[str, Digest]] | None = None,
) -> Scan:
    """Every supported file under folder with its sha256; what cannot be used is skipped
    (links are followed as `loaders.scan_folder` says), and so is a file over max_bytes
    (UnpackLimits.max_bytes: the most a document may unpack to, so the most it may be).

    known: digests of an earlier scan (Scan.digests): a file whose whole stat key is the one
    recorded there is not read again (a sync after an upload reads the upload, not the
    folder). recall: when known holds none, where to find them from the names of the files
    found (DigestStore.read_digests: the ones kept beside the index by an earlier process).

    Example: a folder of a.txt and b.txt, known = the digests of the scan before, and b.txt
             rewritten since (its ctime moved) -> only b.txt is read; files and digests
             hold both, digests_changed is True
    """
    paths, skipped_files = scan_folder(folder, follow_links=follow_links)
    skipped = list(skipped_files)
    files: dict[str, FileState] = {}
    digests: dict[str, Digest] = {}
    sources = {path: path.relative_to(folder).as_posix() for path in paths}
    if not known and recall is not None:
        known = recall(set(sources.values()))
    known = known or {}
    for path, source in sources.items():
        cached = known.get(source)
        if cached is not None:
            try:
                st = os.stat(path)
            except OSError:
                st = None
            if (
                st is not None
                and stat.S_ISREG(st.st_mode)
                and st.st_size <= max_bytes
                and _stat_key(st) == cached.stat
            ):
                files[source] = FileState(path, cached.sha256, st.st_size, cached.stat[:2])
                digests[source] = cached
                continue
        try:
            sha, size, identity, stable = _file_digest(path, source, max_bytes)
        except DocumentError as exc:
            skipped.append(SkippedFile(source, str(exc)))
            files[source] = FileState(path, None)
            continue
        files[source] = FileState(path, sha, size, identity)
        if stable is not None:
            digests[source] = Digest(stable, sha)
    return Scan(folder, files, tuple(skipped), digests, digests != dict(known))


def _stat_key(st: os.stat_result) -> tuple[int, int, int, int, int]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def sync_store(
    folder: Path,
    store: Store,
    embedder: Embedder,
    chunker: ChunkerConfig,
    *,
    on_progress: Progress | None = None,
    follow_links: bool = False,
    unpack_limits: UnpackLimits = DEFAULT_UNPACK_LIMITS,
    known: dict[str, Digest] | None = None,
) -> tuple[SyncReport, Store]:
    """Bring store up to date with folder; returns the report and the store after it.

    To rebuild a damaged or foreign index, pass an empty store at its location
    (`registry.empty_store`): its contents are replaced only by the commit. Links to files
    outside folder are indexed only with follow_links. unpack_limits: the zip-bomb limits
    (Settings.unpack_limits). known: the caller's digests of the files hashed before
    (`scan`), kept between its syncs (a Collection keeps one), replaced by this scan's.
    When it holds none (a new process) and the store keeps digests (DigestStore) of an
    index of this folder, the kept ones are used; after the sync, the store keeps this
    scan's when they changed or a commit was made (a damaged file is replaced then).
    """
    progress = on_progress or (lambda _stage, _fraction: None)
    t0 = time.perf_counter()
    where = str(folder.resolve())
    m = store.manifest
    # Only an index of this folder: a rebuild's empty store, or an index of another folder
    # (whose names would mean other files), reads every file.
    recall = (
        partial(store.read_digests, where)
        if isinstance(store, DigestStore) and m is not None and m.folder == where
        else None
    )
    found = scan(
        folder,
        follow_links=follow_links,
        max_bytes=unpack_limits.max_bytes,
        known=known,
        recall=recall,
    )
    if known is not None:
        known.clear()
        known.update(found.digests)
    files = {s: f.sha256 for s, f in found.files.items()}
    chunker, kept = chunker_to_use(store.manifest, files, chunker)
    plan = plan_sync(files, store.manifest, chunker, where, upgrade=needs_sentences(store, files))
    seconds = {"scan": time.perf_counter() - t0}
    progress("scan", 1.0)
    try:
        report, after = apply_plan(
            plan,
            found,
            store,
            embedder,
            chunker,
            progress=progress,
            t0=t0,
            seconds=seconds,
            notes=(kept,) if kept else (),
            unpack_limits=unpack_limits,
        )
    except OSError as exc:
        problem = disk_full(exc)
        if problem is None:
            raise
        raise IndexWriteError(problem) from exc
    if isinstance(after, DigestStore) and (plan.write or found.digests_changed):
        after.write_digests(where, found.digests)
    return report, after


# What a write says when its disk has no room left for it: full, or the user's quota used up.
_DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


def disk_full(exc: OSError) -> str | None:
    """The sentence for a sync whose writes ran out of disk (None for any other OSError). A
    sync writes its new generation beside the index it replaces, and commits by renaming its
    manifest last, so the index on disk is the one before it: an upload whose passages took
    more room than was left (a 20 MB text of four-word sentences is 1.2 GB of sentence
    vectors) stopped `assistant index` with a 30-line traceback, and the page with "indexing
    failed (OSError)". Names no path: a web visitor reads it too.

    Example: disk_full(OSError(errno.ENOSPC, "No space left on device")) -> "there is no
             room left on disk to write the index (No space left on device): the index is
             as it was; free some space, then index the documents again"
    """
    if exc.errno not in _DISK_FULL:
        return None
    return (
        f"there is no room left on disk to write the index ({exc.strerror or 'disk full'}): "
        "the index is as it was; free some space, then index the documents again"
    )


def chunker_to_use(
    manifest: Manifest | None, files: Mapping[str, str | None], chunker: ChunkerConfig
) -> tuple[ChunkerConfig, str]:
    """The chunker settings a sync uses, and a note when they are not the ones asked for.

    Another way of making chunk vectors means every file is chunked again; while an indexed
    file cannot be read, that would drop its indexed version. Then the index keeps its way
    for this sync (the same way for every chunk: never mixed), and the note says so.

    Example: an index of a.txt made with vectors "encode", a.txt unreadable now, settings
             asking for "sentences" -> (the chunker with vectors "encode", "kept ... a.txt ...")
    """
    if manifest is None or manifest.chunker == chunker:
        return chunker, ""
    if replace(manifest.chunker, vectors=chunker.vectors) != chunker:
        return chunker, ""  # other chunks as well: rebuilt anyway
    unreadable = sorted(n for n in manifest.sources if n in files and files[n] is None)
    if not unreadable:
        return chunker, ""
    return manifest.chunker, (
        f"kept the chunk vectors of {manifest.chunker.vectors!r} in this sync, not "
        f"{chunker.vectors!r}: {unreadable[0]} cannot be read now and would leave the index; "
        "the next sync that can read every file makes the change"
    )


def needs_sentences(store: Store, files: Mapping[str, str | None]) -> bool:
    """Whether a sync should add sentence vectors to an index that lacks them: the store
    keeps them, holds chunks without them, and every indexed file can be read again (an
    unreadable one would lose its indexed version in the rewrite; the index then stays
    as it is, and answers embed the sentences)."""
    m = store.manifest
    return (
        isinstance(store, SentenceStore)
        and not store.has_sentences
        and m is not None
        and m.chunk_count > 0
        and all(files.get(name) is not None for name in m.sources)
    )


def apply_plan(
    plan: SyncPlan,
    found: Scan,
    store: Store,
    embedder: Embedder,
    chunker: ChunkerConfig,
    *,
    progress: Progress | None = None,
    t0: float | None = None,
    seconds: dict[str, float] | None = None,
    notes: Sequence[str] = (),
    unpack_limits: UnpackLimits = DEFAULT_UNPACK_LIMITS,
) -> tuple[SyncReport, Store]:
    """Carry out a plan: chunk, embed what is new, commit one batch. notes: lines for the
    report, from the planning."""
    progress = progress or (lambda _stage, _fraction: None)
    t0 = time.perf_counter() if t0 is None else t0
    seconds = dict(seconds or {})
    skipped = list(found.skipped)
    if not plan.write:
        # Nothing to commit, but files a killed run left behind still go.
        store.tidy()
        seconds["total"] = time.perf_counter() - t0
        return SyncReport(
            unchanged=plan.unchanged,
            skipped=tuple(skipped),
            chunks_total=len(store.chunks()),
            seconds=seconds,
            notes=tuple(notes),
        ), store

    # Source by source, a few hundred chunks at a time: load, chunk, embed what the store
    # does not hold, put the vectors in temporary files, keep each chunk and its sentences'
    # spans and rows; only then drop the source's text. No step holds every sentence, piece
    # or vector of the sync (issue 13: a 20 MB text once peaked at 15 times its size).
    clock = _Clock(seconds)
    same_way = store.manifest is None or store.manifest.chunker.vectors == chunker.vectors
    work = _Streamed(store, embedder, chunker, same_way=same_way)
    to_chunk = sorted(plan.to_chunk)  # the order the index has always embedded in
    total = sum(max(1, found.files[s].size) for s in to_chunk) or 1
    done = 0
    failed: set[str] = set()
    # Stages as a person reads them: "chunk" while the next file is read (by the share of
    # the files' bytes done), "embed" (by the position reached) while a file's pieces are
    # split and embedded; what is still due is embedded at the end, under "embed" too.
    for source in to_chunk:
        if done:
            progress("chunk", done / total)
        with clock("chunk"):
            try:
                state = found.files[source]
                docs, bad_attachments = load_documents(
                    state.path, found.folder, unpack_limits, state.identity
                )
            except DocumentError as exc:
                # Not upserted: an indexed version stays unless the whole index is rebuilt.
                skipped.append(SkippedFile(source, str(exc)))
                failed.add(source)
                continue
        problem = next(filter(None, map(section_problem, docs)), None)
        if problem is not None:
            # Refused whole before any chunk, like a file that cannot be read: its indexed
            # version (if any) stays, and the other files are indexed.
            skipped.append(SkippedFile(source, problem))
            failed.add(source)
            continue
        # An e-mail's readable attachments are indexed with it, as "<file>#<name>".
        skipped.extend(bad_attachments)
        size = max(1, found.files[source].size)
        first = docs[0]
        info = SourceInfo(
            source=source,
            kind=first.kind,
            size=first.size,
            chunks=0,
            pages=len(first.page_starts) or None,
            sha256=first.sha256,
        )
        del first
        while docs:
            doc = docs.pop(0)  # a big file's text goes as soon as it is chunked
            chunks = iter_chunks(
                doc,
                embedder.token_spans,
                max_tokens=chunker.max_tokens,
                overlap_tokens=chunker.overlap_tokens,
            )
            length = max(1, len(doc.text))
            while True:
                with clock("chunk"):
                    batch = list(itertools.islice(chunks, _DERIVE_CHUNKS))
                if not batch:
                    break
                work.add(batch, clock)
                reached = done + size * min(1.0, batch[-1].end / length)
                progress("embed", min(0.999, reached / total))
            del doc, chunks
        work.end_source(info, clock)
        done += size
    progress("chunk", 1.0)
    progress("embed", min(0.999, done / total))
    work.flush(clock)
    progress("embed", 1.0)

    notes = list(notes)
    if plan.upgrade:
        notes.append(
            f"upgraded the index in {store.location} to format {FORMAT_VERSION}: it now "
            f"stores the vectors of {work.sentence_count} "
            "sentences, so answers embed only the question"
        )
    derive = chunker.vectors == "sentences"
    if plan.rechunk_all and not same_way and store.manifest is not None:
        notes.append(
            f"remade every chunk vector of the index in {store.location} from "
            + (
                "its sentences' vectors (chunk_vectors is now 'sentences')"
                if derive
                else "its chunk's whole text (chunk_vectors is now 'encode')"
            )
        )

    t = time.perf_counter()
    batch_ = Batch(
        build=BuildInfo(
            model=embedder.name,
            dimension=embedder.dimension,
            max_seq_length=embedder.max_seq_length,
            chunker=chunker,
            folder=str(found.folder.resolve()),
        ),
        upserts=tuple(work.finished),
        deletes=plan.removed,
        replace_all=plan.rechunk_all,
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    work.finished.clear()
    store = store.apply(batch_)
    del batch_
    seconds["write"] = time.perf_counter() - t
    seconds["total"] = time.perf_counter() - t0
    progress("write", 1.0)
    return SyncReport(
        added=tuple(s for s in plan.added if s not in failed),
        updated=tuple(s for s in plan.updated if s not in failed),
        removed=plan.removed,
        unchanged=plan.unchanged,
        skipped=tuple(skipped),
        chunks_embedded=work.chunks_embedded,
        chunks_total=len(store.chunks()),
        seconds=seconds,
        sentences_embedded=work.sentences_embedded,
        notes=tuple(notes),
    ), store


class _Clock:
    """Seconds by stage, added up over the many short steps of a streamed sync."""

    def __init__(self, seconds: dict[str, float]) -> None:
        self.seconds = seconds

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        t = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - t


_EMBED_SLICE = 4096  # texts embedded at a time: 6 MB of 384-dimensional vectors
_LOOKUP_SLICE = 8192  # stored sentence vectors looked up this many texts at a time
_DERIVE_CHUNKS = 256  # chunks chunked, embedded and recorded at a time (a few MB of pieces)


class _SeenTexts:
    """Which texts a sync has a vector for, and its row: each text by its 128-bit blake2b
    digest, kept as sorted numpy arrays (24 bytes a text; a dict of the texts themselves
    held 20 MB of text twice over). Both halves of the digest must match.

    Example: s = _SeenTexts(); keys = s.digests(["a", "b"]); s.add(keys, np.array([7, 9]))
             -> s.find(s.digests(["b", "c"])) == [9, -1]
    """

    def __init__(self) -> None:
        self._keys = np.zeros(0, dtype=np.uint64)
        self._checks = np.zeros(0, dtype=np.uint64)
        self._rows = np.zeros(0, dtype=np.int64)

    @staticmethod
    def digests(texts: Sequence[str]) -> np.ndarray:
        raw = b"".join(
            hashlib.blake2b(t.encode("utf-8", "surrogatepass"), digest_size=16).digest()
            for t in texts
        )
        return np.frombuffer(raw, dtype="<u8").reshape(-1, 2)

    def find(self, digests: np.ndarray) -> np.ndarray:
        """The row of each digest's text, -1 where it has none."""
        out = np.full(len(digests), -1, dtype=np.int64)
        if not len(self._keys) or not len(digests):
            return out
        at = np.minimum(np.searchsorted(self._keys, digests[:, 0]), len(self._keys) - 1)
        hit = (self._keys[at] == digests[:, 0]) & (self._checks[at] == digests[:, 1])
        out[hit] = self._rows[at[hit]]
        return out

    def add(self, digests: np.ndarray, rows: np.ndarray) -> None:
        # Inserted in place (one copy of the arrays a batch), not sorted again.
        order = np.argsort(digests[:, 0], kind="stable")
        keys = digests[order, 0]
        at = np.searchsorted(self._keys, keys)
        self._keys = np.insert(self._keys, at, keys)
        self._checks = np.insert(self._checks, at, digests[order, 1])
        self._rows = np.insert(self._rows, at, np.asarray(rows, dtype=np.int64)[order])


@dataclass(slots=True)
class _Pending:
    """A batch of one source's chunks waiting for the vectors of its texts."""

    chunks: Sequence[Chunk]
    missing: list[str]  # hashes of the chunks whose vector this batch makes
    units: dict[str, list[tuple[int, int]]]  # quotable sentences, by chunk hash
    pieces: dict[str, list[tuple[int, int]]]  # what a derived vector is made of, by hash
    row_of: dict[str, int]  # text -> row of text_rows, for the texts found already
    texts: list[str]  # the texts still to look up or embed


class _Streamed:
    """The vectors of a streamed sync, added a batch of chunks at a time.

    Every distinct text embedded or reused (a chunk's quotable sentences, and the pieces a
    derived chunk vector is made from) has one row in a temporary file, and every distinct
    chunk one row in another (ChunkerConfig.vectors says how it is made); a source's chunks
    keep only the numbers of their rows (and of their sentences' spans and rows) until the
    store writes them. Each text is embedded once per sync, and only when the store does
    not hold its vector: neighbouring chunks overlap, an edited file keeps most of its
    sentences. Batches wait until _EMBED_SLICE texts are due (across sources: many small
    files make few embed calls), then are finished in order.
    """

    def __init__(
        self, store: Store, embedder: Embedder, chunker: ChunkerConfig, *, same_way: bool
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.keeps_sentences = isinstance(store, SentenceStore)
        self.lookup = isinstance(store, SentenceStore) and store.has_sentences
        self.derive = chunker.vectors == "sentences"
        # Vectors made the other way are never reused (plan_sync remakes every chunk then).
        self.same_way = same_way
        location = Path(store.location)
        folder = str(location) if location.is_dir() else None  # beside the index when it has one
        self.text_rows = RowFile(embedder.dimension, folder)
        self.chunk_rows = RowFile(embedder.dimension, folder)
        self.seen = _SeenTexts()
        self.chunk_row: dict[str, int] = {}  # chunk hash -> row of chunk_rows
        self.chunks_embedded = 0
        self.sentences_embedded = 0
        self.sentence_count = 0
        self.finished: list[SourceChunks] = []
        self._queue: list[_Pending | SourceInfo] = []  # batches, and the end of each source
        self._due: dict[str, None] = {}  # the queued batches' texts to look up or embed
        self._made: set[str] = set()  # hashes of the chunks a queued batch makes
        self._reset()

    def _reset(self) -> None:
        self._chunks: list[Chunk] = []
        self._vector_rows = array("q")  # each chunk's row of chunk_rows
        self._counts = array("q")  # each chunk's number of sentences
        self._spans = array("i")  # start, end of each sentence in its chunk's text
        self._sentence_rows = array("q")  # each sentence's row of text_rows

    def add(self, chunks: Sequence[Chunk], clock: _Clock) -> None:
        """Queue a batch of one source's chunks, in order (finished when enough is due)."""
        text_of = {c.hash: c.text for c in chunks}
        new = [h for h in text_of if h not in self.chunk_row and h not in self._made]
        with clock("embed"):
            found = self.store.vectors_by_hash(new) if self.same_way and new else {}
            if found:
                self._chunk_vectors(list(found), np.stack(list(found.values())))
        missing = [h for h in new if h not in found]
        self._made.update(missing)
        pieces_of = set(missing)
        units = {
            h: sentence_units(text)
            for h, text in text_of.items()
            if self.keeps_sentences or (self.derive and h in pieces_of)
        }
        pieces = {h: vector_pieces(text_of[h], units[h]) for h in missing} if self.derive else {}
        texts = list(
            dict.fromkeys(
                text_of[h][a:b]
                for spans in (units, pieces)
                for h, hs in spans.items()
                for a, b in hs
            )
        )
        rows = self.seen.find(self.seen.digests(texts))
        row_of = {t: int(r) for t, r in zip(texts, rows, strict=True) if r >= 0}
        due = [t for t in texts if t not in row_of]
        self._due.update(dict.fromkeys(due))
        self._queue.append(_Pending(chunks, missing, units, pieces, row_of, due))
        if len(self._due) >= _EMBED_SLICE:
            self.flush(clock)

    def end_source(self, info: SourceInfo, clock: _Clock) -> None:
        """The source's chunks are all added; its SourceChunks joins `finished` once its
        batches are."""
        self._queue.append(info)

    def flush(self, clock: _Clock) -> None:
        """Look up or embed every due text, then finish the queued batches in order."""
        with clock("embed"):
            fresh = self._text_rows(list(self._due))
            self._due = {}
            if not self.derive:
                hashes = [h for p in self._queue if isinstance(p, _Pending) for h in p.missing]
                text_of = {
                    c.hash: c.text for p in self._queue if isinstance(p, _Pending) for c in p.chunks
                }
                for start in range(0, len(hashes), _EMBED_SLICE):
                    some = hashes[start : start + _EMBED_SLICE]
                    self._chunk_vectors(some, self.embedder.embed([text_of[h] for h in some]))
                self.chunks_embedded += len(hashes)
        queue, self._queue = self._queue, []
        for item in queue:
            if isinstance(item, SourceInfo):
                self.finished.append(self._finish(item))
                continue
            item.row_of.update((t, fresh[t]) for t in item.texts)
            if self.derive:
                with clock("embed"):
                    self._derive(item)
            with clock("sentences") if self.keeps_sentences else nullcontext():
                self._record(item)
        self._made.clear()

    def _derive(self, item: _Pending) -> None:
        """The batch's new chunk vectors, each the mean of its pieces' vectors."""
        missing, pieces, chunks = item.missing, item.pieces, item.chunks
        text_of = {c.hash: c.text for c in chunks}
        for start in range(0, len(missing), _DERIVE_CHUNKS):
            some = missing[start : start + _DERIVE_CHUNKS]
            rows = [item.row_of[text_of[h][a:b]] for h in some for a, b in pieces[h]]
            gathered = self.text_rows[np.array(rows, dtype=np.int64)]
            derived = mean_directions(gathered, [len(pieces[h]) for h in some])
            self._chunk_vectors(some, derived)
        self.chunks_embedded += len(missing)

    def _record(self, item: _Pending) -> None:
        for c in item.chunks:
            self._chunks.append(c)
            self._vector_rows.append(self.chunk_row[c.hash])
            if self.keeps_sentences:
                mine = item.units[c.hash]
                self._counts.append(len(mine))
                for a, b in mine:
                    self._spans.extend((a, b))
                    self._sentence_rows.append(item.row_of[c.text[a:b]])

    def _finish(self, info: SourceInfo) -> SourceChunks:
        """The source's chunks, their vectors and their sentences, for the batch; what this
        holds of the source is let go."""
        dimension = self.embedder.dimension
        chunks = tuple(self._chunks)
        vectors: np.ndarray | GatheredRows = (
            GatheredRows([self.chunk_rows], np.frombuffer(self._vector_rows, np.int64), dimension)
            if chunks
            else np.zeros((0, dimension), dtype=np.float32)
        )
        sentences = None
        if self.keeps_sentences:
            offsets = np.zeros(len(chunks) + 1, dtype=np.int64)
            np.cumsum(np.frombuffer(self._counts, np.int64), out=offsets[1:])
            rows = np.frombuffer(self._sentence_rows, np.int64).copy()
            sentences = SentenceRows(
                offsets,
                np.frombuffer(self._spans, np.int32).reshape(-1, 2).copy(),
                GatheredRows([self.text_rows], rows, dimension),
            )
            self.sentence_count += len(rows)
        self._reset()
        return SourceChunks(replace(info, chunks=len(chunks)), chunks, vectors, sentences)

    def _chunk_vectors(self, hashes: Sequence[str], vectors: np.ndarray) -> None:
        base = len(self.chunk_rows)
        self.chunk_rows.append(vectors)
        for i, h in enumerate(hashes):
            self.chunk_row[h] = base + i

    def _text_rows(self, texts: list[str]) -> dict[str, int]:
        """The row of text_rows of each (distinct, new to this sync) text: looked up in the
        store, or embedded."""
        digests = self.seen.digests(texts)
        rows = np.full(len(texts), -1, dtype=np.int64)
        missing = list(range(len(texts)))
        if self.lookup and missing:
            assert isinstance(self.store, SentenceStore)
            still: list[int] = []
            for start in range(0, len(missing), _LOOKUP_SLICE):
                some = missing[start : start + _LOOKUP_SLICE]
                stored = self.store.sentence_vectors([texts[i] for i in some])
                taken = [i for i in some if texts[i] in stored]
                if taken:
                    found = np.stack([stored[texts[i]] for i in taken])
                    self._new_rows(taken, found, rows, digests)
                still += [i for i in some if texts[i] not in stored]
            missing = still
        for start in range(0, len(missing), _EMBED_SLICE):
            some = missing[start : start + _EMBED_SLICE]
            vectors = self.embedder.embed([texts[i] for i in some])
            self._new_rows(some, vectors, rows, digests)
            self.sentences_embedded += len(some)
        return dict(zip(texts, rows.tolist(), strict=True))

    def _new_rows(
        self, which: list[int], vectors: np.ndarray, rows: np.ndarray, digests: np.ndarray
    ) -> None:
        """Put the vectors of texts[which] in text_rows, and note their rows."""
        base = len(self.text_rows)
        self.text_rows.append(vectors)
        added = np.arange(base, base + len(which), dtype=np.int64)
        rows[which] = added
        self.seen.add(digests[which], added)


def _file_digest(
    path: Path, source: str, max_bytes: int
) -> tuple[str, int, tuple[int, int], tuple[int, int, int, int, int] | None]:
    """sha256, size and (device, inode) of a regular file of at most max_bytes, read in
    blocks, and its stat key when a later scan may trust the digest (Digest: unchanged
    while it was read, its last change older than _STABLE_NS); DocumentError for anything
    else (a file that grows past max_bytes while it is read is refused too)."""
    h = hashlib.sha256()
    size = 0
    started = time.time_ns()
    with open_regular(path, source, max_bytes) as fh:
        info = os.fstat(fh.fileno())
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
            size += len(block)
            if size > max_bytes:
                raise DocumentError(too_big(source, max_bytes))
        after = os.fstat(fh.fileno())
    key = _stat_key(info)
    stable = key == _stat_key(after) and size == info.st_size
    settled = info.st_ctime_ns < started - _STABLE_NS
    return h.hexdigest(), size, (info.st_dev, info.st_ino), key if stable and settled else None
