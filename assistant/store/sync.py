"""Keep a store in step with a documents folder, doing only the work that changed.

Three steps: `scan` reads the folder (sha256 of every file), `plan_sync` decides what to do
(a pure function of the scan, the store's manifest and the chunker settings), and
`apply_plan` loads and chunks what the plan names, embeds only text whose vector the store
does not already hold, and commits everything as one `Batch`.

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

import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ..embedding import Embedder, mean_directions
from ..errors import DocumentError
from ..ingest.chunking import chunk_document, sentence_units, vector_pieces
from ..ingest.loaders import load_documents, open_regular, scan_folder
from ..schema import Chunk, SkippedFile, SourceInfo, SyncReport
from ..settings import DEFAULT_UNPACK_LIMITS, UnpackLimits
from .base import (
    FORMAT_VERSION,
    Batch,
    BuildInfo,
    ChunkerConfig,
    GatheredRows,
    Manifest,
    RowFile,
    SentenceRows,
    SentenceStore,
    SharedStore,
    SourceChunks,
    Store,
)

__all__ = [
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
    """A file as found on disk; sha256 is None when it could not be read."""

    path: Path
    sha256: str | None
    size: int = 0


@dataclass(frozen=True, slots=True)
class Scan:
    folder: Path
    files: Mapping[str, FileState]  # by source name
    skipped: tuple[SkippedFile, ...]  # unsupported, empty, unreadable


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


def scan(folder: Path, *, follow_links: bool = False) -> Scan:
    """Every supported file under folder with its sha256; what cannot be used is skipped
    (links are followed as `loaders.scan_folder` says)."""
    paths, skipped_files = scan_folder(folder, follow_links=follow_links)
    skipped = list(skipped_files)
    files: dict[str, FileState] = {}
    for path in paths:
        source = path.relative_to(folder).as_posix()
        try:
            sha, size = _file_digest(path, source)
        except DocumentError as exc:
            skipped.append(SkippedFile(source, str(exc)))
            files[source] = FileState(path, None)
            continue
        files[source] = FileState(path, sha, size)
    return Scan(folder, files, tuple(skipped))


def sync_store(
    folder: Path,
    store: Store,
    embedder: Embedder,
    chunker: ChunkerConfig,
    *,
    on_progress: Progress | None = None,
    follow_links: bool = False,
    unpack_limits: UnpackLimits = DEFAULT_UNPACK_LIMITS,
) -> tuple[SyncReport, Store]:
    """Bring store up to date with folder; returns the report and the store after it.

    To rebuild a damaged or foreign index, pass an empty store at its location
    (`registry.empty_store`): its contents are replaced only by the commit. Links to files
    outside folder are indexed only with follow_links. unpack_limits: the zip-bomb limits
    (Settings.unpack_limits).
    """
    progress = on_progress or (lambda _stage, _fraction: None)
    t0 = time.perf_counter()
    found = scan(folder, follow_links=follow_links)
    files = {s: f.sha256 for s, f in found.files.items()}
    chunker, kept = chunker_to_use(store.manifest, files, chunker)
    plan = plan_sync(
        files,
        store.manifest,
        chunker,
        str(folder.resolve()),
        upgrade=needs_sentences(store, files),
    )
    seconds = {"scan": time.perf_counter() - t0}
    progress("scan", 1.0)
    return apply_plan(
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

    t = time.perf_counter()
    to_chunk = plan.to_chunk
    chunked: dict[str, tuple[SourceInfo, list[Chunk]]] = {}
    failed: set[str] = set()
    for i, source in enumerate(to_chunk):
        try:
            docs, bad_attachments = load_documents(
                found.files[source].path, found.folder, unpack_limits
            )
        except DocumentError as exc:
            # Not upserted: an indexed version stays unless the whole index is rebuilt.
            skipped.append(SkippedFile(source, str(exc)))
            failed.add(source)
            continue
        # An e-mail's readable attachments are indexed with it, as "<file>#<name>".
        skipped.extend(bad_attachments)
        doc = docs[0]
        chunks = [
            c
            for d in docs
            for c in chunk_document(
                d,
                embedder.token_spans,
                max_tokens=chunker.max_tokens,
                overlap_tokens=chunker.overlap_tokens,
            )
        ]
        info = SourceInfo(
            source=source,
            kind=doc.kind,
            size=doc.size,
            chunks=len(chunks),
            pages=len(doc.page_starts) or None,
            sha256=doc.sha256,
        )
        chunked[source] = (info, chunks)
        del docs, doc  # a big file's text is not held through embedding
        progress("chunk", (i + 1) / len(to_chunk))
    seconds["chunk"] = time.perf_counter() - t

    # Embed only content whose vector the store does not hold. The order (sources by name,
    # chunks in document order) is the one the index has always embedded in.
    t = time.perf_counter()
    new_chunks = [c for s in sorted(chunked) for c in chunked[s][1]]
    hashes = list(dict.fromkeys(c.hash for c in new_chunks))
    # Vectors made the other way are never reused (plan_sync remakes every chunk then).
    same_way = store.manifest is None or store.manifest.chunker.vectors == chunker.vectors
    known = store.vectors_by_hash(hashes) if same_way else {}
    missing = [h for h in hashes if h not in known]
    text_of = {c.hash: c.text for c in new_chunks}
    keeps_sentences = isinstance(store, SentenceStore)
    derive = chunker.vectors == "sentences"
    units = (
        {h: sentence_units(text) for h, text in text_of.items()}
        if keeps_sentences or derive
        else {}
    )
    pieces = _TextVectors({}, GatheredRows([], np.zeros(0, dtype=np.int64), embedder.dimension))
    sentences_embedded = 0
    if derive:
        # One pass: the pieces of the chunks that need a vector (their quotable sentences
        # among them) and the other new chunks' quotable sentences (stored for answers).
        needed = set(missing)
        spans = {
            h: vector_pieces(text_of[h], units[h]) if h in needed else units[h]
            for h in hashes
            if h in needed or keeps_sentences
        }
        pieces, sentences_embedded = _embed_pieces(
            spans, text_of, store, embedder, progress, "embed"
        )
        known.update(_derived({h: spans[h] for h in missing}, text_of, pieces))
        del spans
    elif missing:
        progress("embed", 0.0)
        known.update(zip(missing, embedder.embed([text_of[h] for h in missing]), strict=True))
    progress("embed", 1.0)
    seconds["embed"] = time.perf_counter() - t

    sentences: dict[str, SentenceRows] = {}
    notes = list(notes)
    if keeps_sentences:
        t = time.perf_counter()
        if not derive:
            pieces, sentences_embedded = _embed_pieces(
                {h: units[h] for h in hashes}, text_of, store, embedder, progress, "sentences"
            )
        sentences = {
            s: _sentence_rows(chunked[s][1], units, pieces, embedder.dimension) for s in chunked
        }
        seconds["sentences"] = time.perf_counter() - t
        if plan.upgrade:
            notes.append(
                f"upgraded the index in {store.location} to format {FORMAT_VERSION}: it now "
                f"stores the vectors of {sum(len(r.spans) for r in sentences.values())} "
                "sentences, so answers embed only the question"
            )
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
    upserts = tuple(
        SourceChunks(
            info,
            tuple(chunks),
            np.stack([known[c.hash] for c in chunks]).astype(np.float32, copy=False)
            if chunks
            else np.zeros((0, embedder.dimension), dtype=np.float32),
            sentences.get(info.source),
        )
        for info, chunks in (chunked[s] for s in sorted(chunked))
    )
    known.clear()  # the upserts hold the chunk vectors now: one copy of them, not two
    batch = Batch(
        build=BuildInfo(
            model=embedder.name,
            dimension=embedder.dimension,
            max_seq_length=embedder.max_seq_length,
            chunker=chunker,
            folder=str(found.folder.resolve()),
        ),
        upserts=upserts,
        deletes=plan.removed,
        replace_all=plan.rechunk_all,
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    store = store.apply(batch)
    seconds["write"] = time.perf_counter() - t
    seconds["total"] = time.perf_counter() - t0
    progress("write", 1.0)
    return SyncReport(
        added=tuple(s for s in plan.added if s not in failed),
        updated=tuple(s for s in plan.updated if s not in failed),
        removed=plan.removed,
        unchanged=plan.unchanged,
        skipped=tuple(skipped),
        chunks_embedded=len(missing),
        chunks_total=len(store.chunks()),
        seconds=seconds,
        sentences_embedded=sentences_embedded,
        notes=tuple(notes),
    ), store


@dataclass(frozen=True, slots=True)
class _TextVectors:
    """Vectors by text: text t's vector is row row[t] of rows. The rows stay where they
    were put (the embedder's output in a RowFile, the stored vectors found) and are copied
    a slice at a time."""

    row: Mapping[str, int]
    rows: GatheredRows


_EMBED_SLICE = 4096  # texts embedded at a time: 6 MB of 384-dimensional vectors
_LOOKUP_SLICE = 8192  # stored sentence vectors looked up this many texts at a time
_DERIVE_CHUNKS = 256  # chunk vectors derived this many chunks at a time (about 6 MB of pieces)


def _embed_pieces(
    spans: Mapping[str, list[tuple[int, int]]],
    text_of: Mapping[str, str],
    store: Store,
    embedder: Embedder,
    progress: Progress,
    stage: str,
) -> tuple[_TextVectors, int]:
    """The vectors of the given spans' texts (spans by chunk hash, into text_of[hash]), and
    how many were embedded. Each distinct text is embedded once, and only when the store
    does not keep its vector already (neighbouring chunks overlap, so they share sentences;
    an edited file keeps most of its sentences). Every vector is held once: the stored ones
    are looked up a slice of texts at a time, the embedder's output is used as it comes."""
    texts = list(dict.fromkeys(text_of[h][a:b] for h, hs in spans.items() for a, b in hs))
    dimension = embedder.dimension
    row: dict[str, int] = {}
    parts: list[np.ndarray | RowFile] = []
    missing = texts
    if isinstance(store, SentenceStore) and store.has_sentences:
        missing = []
        for start in range(0, len(texts), _LOOKUP_SLICE):
            some = texts[start : start + _LOOKUP_SLICE]
            found = store.sentence_vectors(some)
            base = len(row)
            for i, text in enumerate(found):
                row[text] = base + i
            if found:
                parts.append(np.stack(list(found.values())).astype(np.float32, copy=False))
            missing += [t for t in some if t not in found]
    if missing:
        progress(stage, 0.0)
        # Embedded a slice at a time into a file without a name (in the index folder when
        # the store is one): memory holds one slice of the new vectors, never all of them.
        location = Path(store.location)
        embedded = RowFile(dimension, str(location) if location.is_dir() else None)
        base = len(row)
        for start in range(0, len(missing), _EMBED_SLICE):
            embedded.append(embedder.embed(missing[start : start + _EMBED_SLICE]))
            progress(stage, min(1.0, (start + _EMBED_SLICE) / len(missing)))
        for i, text in enumerate(missing):
            row[text] = base + i
        parts.append(embedded)
    progress(stage, 1.0)
    table = GatheredRows(parts, np.arange(len(row), dtype=np.int64), dimension)
    return _TextVectors(row, table), len(missing)


def _derived(
    pieces: Mapping[str, list[tuple[int, int]]],
    text_of: Mapping[str, str],
    vectors: _TextVectors,
) -> dict[str, np.ndarray]:
    """Each chunk's vector (by hash) from its pieces' vectors (embedding.mean_directions),
    a few hundred chunks at a time (overlapping chunks share pieces: gathering every
    chunk's pieces at once would hold more than one copy of the vectors)."""
    out: dict[str, np.ndarray] = {}
    hashes = list(pieces)
    for start in range(0, len(hashes), _DERIVE_CHUNKS):
        some = hashes[start : start + _DERIVE_CHUNKS]
        rows = [vectors.row[text_of[h][a:b]] for h in some for a, b in pieces[h]]
        gathered = GatheredRows(
            [vectors.rows], np.array(rows, dtype=np.int64), vectors.rows.dimension
        )
        derived = mean_directions(gathered[:], [len(pieces[h]) for h in some])
        out.update(zip(some, derived, strict=True))
    return out


def _sentence_rows(
    chunks: list[Chunk],
    units: Mapping[str, list[tuple[int, int]]],
    vectors: _TextVectors,
    dimension: int,
) -> SentenceRows:
    """A source's SentenceRows: its chunks' quotable sentences (units, by chunk hash) with
    their vectors (by text), which stay where they are until the store writes them."""
    offsets = np.zeros(len(chunks) + 1, dtype=np.int64)
    np.cumsum([len(units[c.hash]) for c in chunks], out=offsets[1:])
    n = int(offsets[-1])
    # Filled in place: a list of every sentence's text and span would hold them twice.
    spans = np.empty((n, 2), dtype=np.int32)
    rows = np.empty(n, dtype=np.int64)
    r = 0
    for c in chunks:
        for a, b in units[c.hash]:
            spans[r] = a, b
            rows[r] = vectors.row[c.text[a:b]]
            r += 1
    return SentenceRows(offsets, spans, GatheredRows([vectors.rows], rows, dimension))


def _file_digest(path: Path, source: str) -> tuple[str, int]:
    """sha256 and size of a regular file, read in blocks; DocumentError for anything else."""
    h = hashlib.sha256()
    size = 0
    with open_regular(path, source) as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size
