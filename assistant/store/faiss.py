"""FaissStore: the index as files in a folder (no pickle anywhere).

Layout of the folder:

    manifest.json            format version, model, dimension, chunker settings (with how
                             chunk vectors are made, format 3), every
                             source's sha256/size/chunk count, counts, build time; it names
                             the generation files below and is the commit point of a write
    vectors-<gen>.faiss      FAISS inner-product index of unit vectors (cosine similarity)
    chunks-<gen>.jsonl       one chunk a line, in the same order as the vectors
    sentences-<gen>.f32      little-endian float32 unit vectors (rows of `dimension`) of
                             every chunk's quotable sentences (ingest.chunking.sentence_units),
                             chunk by chunk; memory-mapped, so loading reads none of it
    sentence-spans-<gen>.i32 little-endian int32 rows (chunk row, start, end) beside them:
                             the sentence is chunks[row].text[start:end]
    digests.json             the documents' sha256 with the stat each was read under, as the
                             last sync found them (store/digests.py): a cache beside the
                             commit, so that a new process's sync reads only changed files;
                             damaged or foreign, it is ignored and written again

The two sentence files let an answer embed only its question (answer/evidence.py looks the
candidate sentences up instead of embedding them); an index without them (format 1, or a
generation written from a batch without sentences) still answers, embedding them then.

A batch is written as new generation files beside the old ones, then manifest.json is
replaced atomically, then the old generation is deleted: a crash at any point leaves a
loadable index. Vectors are written a slice at a time from where they lie (the old
generation's memory map, a sync's RowFile: `base.GatheredRows`), so a write never holds a
copy of every sentence vector. Syncs from several processes (an `assistant index` run beside an
`assistant ui`) take turns through a lock on the folder itself (flock), so none deletes
the files another is writing; a reader notices a newer manifest with one stat and loads
it. FAISS rows never leave this module: callers see chunk ids.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import (
    AssistantError,
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
    InputError,
)
from ..ingest.loaders import source_file
from ..schema import Chunk
from .base import (
    FORMAT_VERSION,
    READABLE_FORMATS,
    Batch,
    GatheredRows,
    Manifest,
    SentenceAccess,
    SentenceRows,
    merge,
    merge_sentences,
)
from .digests import Digest, decode_digests, digests_limit, encode_digests

if TYPE_CHECKING:
    import faiss

__all__ = ["DIGESTS", "MANIFEST", "FaissStore", "clear_for_rebuild", "read_manifest"]

MANIFEST = "manifest.json"
DIGESTS = "digests.json"
_MAX_MANIFEST_BYTES = 256 * 1024 * 1024  # far above any real manifest; refuse to parse more
_LOAD_ATTEMPTS = 3  # a reader racing commits re-reads the manifest this many times at most


def _vectors_name(generation: str) -> str:
    return f"vectors-{generation}.faiss"


def _chunks_name(generation: str) -> str:
    return f"chunks-{generation}.jsonl"


def _sentences_name(generation: str) -> str:
    return f"sentences-{generation}.f32"


def _spans_name(generation: str) -> str:
    return f"sentence-spans-{generation}.i32"


@dataclass(frozen=True, slots=True, eq=False)
class ChunkLines:
    """Where each chunk's line lies in a generation's chunks file: chunk i is bytes
    ends[i - 1] (0 for the first) to ends[i]. stamp: the file's (inode, mtime ns, size) when
    they were recorded; a write copies lines from the file only while it still has them, so
    a file changed since (by hand, or damaged) is never copied into the next generation."""

    path: Path
    stamp: tuple[int, int, int]
    ends: np.ndarray  # int64, one a chunk

    def unchanged(self) -> bool:
        return _file_stamp(self.path) == self.stamp


@dataclass(frozen=True, slots=True)
class MappedFile:
    """Memory [address, address + size) that holds a generation file's bytes from byte
    offset on (mapped, or read when FAISS cannot map): rows read from there are copied file
    to file by the kernel when a write keeps them (os.copy_file_range), not read into this
    process and written back."""

    address: int
    size: int
    path: Path
    offset: int
    stamp: tuple[int, int, int]  # the file's when mapped: a changed file is not copied


class FaissStore(SentenceAccess):
    """One loaded generation of an index folder (a snapshot: apply() returns a new one)."""

    def __init__(
        self,
        directory: Path,
        manifest: Manifest | None = None,
        chunks: Sequence[Chunk] = (),
        vectors: faiss.Index | None = None,
        sentences: SentenceRows | None = None,
        stamp: tuple[int, int, int] | None = None,
        lines: ChunkLines | None = None,
    ) -> None:
        self.directory = Path(directory)
        self._vectors = vectors
        self._lines = lines if lines is not None and len(lines.ends) == len(chunks) else None
        self._mapped: tuple[MappedFile, ...] = ()  # this generation's vectors, where mapped
        self._hold_chunks(manifest, chunks, sentences)
        # manifest.json as this snapshot found it; a different one means another commit.
        self._stamp = stamp if stamp is not None else _manifest_stamp(self.directory)

    # ------------------------------------------------------------ opening

    @classmethod
    def load(
        cls, directory: str | Path, *, model: str | None = None, dimension: int | None = None
    ) -> FaissStore:
        """Load and verify the index in directory; with model and dimension, also check it
        was built with them. Every failure is one sentence saying what to do."""
        directory = Path(directory)
        for attempt in range(_LOAD_ATTEMPTS):
            stamp = _manifest_stamp(directory)
            try:
                return cls._load_once(directory, stamp, model=model, dimension=dimension)
            except IndexCorruptError:
                # Another process committed meanwhile and deleted the generation this read
                # began with: read the new manifest. A damaged index fails every attempt.
                if attempt + 1 == _LOAD_ATTEMPTS or _manifest_stamp(directory) == stamp:
                    raise
        raise AssertionError("unreachable")

    @classmethod
    def _load_once(
        cls,
        directory: Path,
        stamp: tuple[int, int, int] | None,
        *,
        model: str | None,
        dimension: int | None,
    ) -> FaissStore:
        import faiss

        manifest, files = _read_manifest(directory)
        if (model is not None and manifest.model != model) or (
            dimension is not None and manifest.dimension != dimension
        ):
            raise IndexMismatchError(
                f"{directory} was built with {manifest.model!r} ({manifest.dimension} "
                f"dimensions), settings ask for {model!r} ({dimension}): "
                "run `assistant index` to rebuild it"
            )
        vectors_path = directory / _vectors_name(manifest.generation)
        chunks_path = directory / _chunks_name(manifest.generation)
        try:
            # Mapped, not read: loading costs nothing whatever the size, and the vectors are
            # page cache (shared by every process serving this index, dropped under memory
            # pressure) rather than private memory. Generation files never change once
            # written, so the mapping stays valid until the snapshot is dropped.
            vectors = faiss.read_index(str(vectors_path), getattr(faiss, "IO_FLAG_MMAP_IFC", 0))
            chunks, lines = _read_chunks(chunks_path)
            sentences = (
                _read_sentences(directory, manifest, chunks) if "sentences" in files else None
            )
        except (OSError, RuntimeError, ValueError, TypeError, KeyError) as exc:
            raise IndexCorruptError(
                f"the index files in {directory} are missing or damaged: run `assistant index` "
                "to rebuild it"
            ) from exc
        if (
            not (vectors.ntotal == len(chunks) == manifest.chunk_count)
            or vectors.d != manifest.dimension
        ):
            raise IndexCorruptError(
                f"{directory} is inconsistent ({vectors.ntotal} vectors, {len(chunks)} chunks, "
                f"manifest says {manifest.chunk_count}): run `assistant index` to rebuild it"
            )
        problem = _chunks_problem(chunks, manifest)
        if problem:
            raise IndexCorruptError(
                f"the chunks in {chunks_path} {problem}, so citations could quote text that "
                "is not in the documents: run `assistant index --rebuild` to rebuild the index"
            )
        store = cls(directory, manifest, chunks, vectors, sentences, stamp, lines)
        store._map_files()
        return store

    # ------------------------------------------------------------ reading

    @property
    def location(self) -> str:
        return str(self.directory)

    def search(self, query: np.ndarray, k: int) -> list[tuple[str, float]]:
        k = min(k, len(self._chunks))
        if k <= 0 or self._vectors is None:
            return []
        q = np.ascontiguousarray(np.asarray(query, dtype=np.float32).reshape(1, -1))
        scores, rows = self._vectors.search(q, k)
        return [
            (self._chunks[int(r)].id, float(s))
            for r, s in zip(rows[0], scores[0], strict=True)
            if r >= 0
        ]

    def cosines(self, query: np.ndarray, chunk_ids: Sequence[str]) -> np.ndarray:
        if not chunk_ids:
            return np.zeros(0, dtype=np.float32)
        return self._rows_vectors([self._row[i] for i in chunk_ids]) @ query

    def vectors_by_hash(self, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        found = {h: self._row_of_hash[h] for h in hashes if h in self._row_of_hash}
        if not found:
            return {}
        vectors = self._rows_vectors(list(found.values()))
        return dict(zip(found, vectors, strict=True))

    def _rows_vectors(self, rows: list[int]) -> np.ndarray:
        assert self._vectors is not None  # rows exist, so the vectors do
        # One call for all rows: retrieval asks for a couple of hundred per question, and a
        # reconstruct() per row cost ~10 us each (1.7 ms for 170 rows; this 0.2 ms).
        return np.asarray(
            self._vectors.reconstruct_batch(np.asarray(rows, dtype=np.int64)), dtype=np.float32
        ).reshape(len(rows), -1)

    def _map_files(self) -> None:
        """Note where this generation's vector files are mapped (MappedFile), so that the
        next write copies the rows it keeps file to file. Called right after the files
        are mapped; a file laid out otherwise than this module writes it is not noted."""
        if self._manifest is None:
            return
        g, mapped = self._manifest.generation, []
        view = self._vector_view() if self._chunks else None
        header = _flat_ip_header(self._manifest.dimension) if view is not None else None
        path = self.directory / _vectors_name(g)
        stamp = _file_stamp(path)
        if view is not None and header is not None and stamp is not None:
            n = len(view)
            with contextlib.suppress(OSError), path.open("rb") as fh:
                start = fh.read(len(header))
                ours = header[:8] + n.to_bytes(8, "little") + header[16:37]
                if start == ours + (n * self._manifest.dimension).to_bytes(8, "little"):
                    mapped.append(MappedFile(_address(view), view.nbytes, path, len(header), stamp))
        rows = self._sentences.vectors if self._sentences is not None else None
        path = self.directory / _sentences_name(g)
        stamp = _file_stamp(path)
        if isinstance(rows, np.memmap) and rows.offset == 0 and stamp is not None:
            mapped.append(MappedFile(_address(rows), rows.nbytes, path, 0, stamp))
        self._mapped = tuple(mapped)

    def _vector_view(self) -> np.ndarray:
        """Every chunk vector, read in place where FAISS keeps them (the old generation's
        memory map once loaded), so a sync that adds one file to a big index does not copy
        the index's vectors first; a copy where the index cannot lend them."""
        import faiss

        index = self._vectors
        if index is None or not index.ntotal or not hasattr(index, "get_xb"):
            return self._all_vectors()
        n, d = index.ntotal, index.d
        return np.asarray(faiss.rev_swig_ptr(index.get_xb(), n * d)).reshape(n, d)

    def _all_vectors(self) -> np.ndarray:
        n = 0 if self._vectors is None else self._vectors.ntotal
        if self._vectors is None or n == 0:
            d = self._manifest.dimension if self._manifest else 0
            return np.zeros((0, d), dtype=np.float32)
        return np.asarray(self._vectors.reconstruct_n(0, n), dtype=np.float32)

    # ------------------------------------------------------------ writing

    def apply(self, batch: Batch) -> FaissStore:
        import faiss

        sources, chunks, positions = merge(self._manifest, self._chunks, batch)
        b = batch.build
        pool: list[np.ndarray | GatheredRows] = [self._vector_view()] if self._chunks else []
        # A sync's vectors are read from where they lie (its temporary file), not copied.
        pool += [
            u.vectors
            if isinstance(u.vectors, GatheredRows)
            else np.asarray(u.vectors, dtype=np.float32).reshape(-1, b.dimension)
            for u in batch.upserts
        ]
        # Added to the new FAISS index a slice at a time: no stacked copy of every vector.
        rows = np.asarray(positions, dtype=np.int64)
        matrix = GatheredRows(pool, rows, b.dimension)
        manifest = Manifest.after(batch, sources, len(chunks), uuid.uuid4().hex[:12])
        sentences = merge_sentences(
            self._sentences, len(self._chunks), batch, positions, b.dimension
        )
        # The lines of the documents that stay are copied from the old chunks file, not
        # encoded again: JSON for every chunk was most of a small upload's write. merge()
        # already placed them: a position below the old chunk count is that chunk's row.
        carried = None
        if self._lines is not None and not batch.replace_all:
            carried = (self._lines, np.where(rows < len(self._chunks), rows, -1))
        lines = _write(self.directory, manifest, chunks, matrix, sentences, carried, self._mapped)
        del pool, matrix
        # Mapped from the file just written, as a loaded index is: the chunk vectors were
        # never all in memory at once, and are page cache now (issue 13, memory).
        vectors = faiss.read_index(
            str(self.directory / _vectors_name(manifest.generation)),
            getattr(faiss, "IO_FLAG_MMAP_IFC", 0),
        )
        if sentences is not None and len(sentences.spans):
            # Mapped from the file just written, as a loaded index is: a server that syncs
            # does not keep every sentence vector in private memory.
            with contextlib.suppress(OSError, ValueError):
                sentences = _read_sentences(self.directory, manifest, chunks)
        new = FaissStore(self.directory, manifest, chunks, vectors, sentences, lines=lines)
        new._map_files()
        new._carry_sentence_places(self, positions)
        return new

    def refresh(self) -> FaissStore:
        return FaissStore.load(self.directory)

    def is_current(self) -> bool:
        """False when another process committed since this snapshot was taken (one stat)."""
        return _manifest_stamp(self.directory) == self._stamp

    @contextlib.contextmanager
    def sync_lock(self, on_wait: Callable[[], None] | None = None) -> Iterator[bool]:
        """Hold the folder's sync lock for a whole sync; yields whether it had to wait for
        another process's sync first (on_wait is called before waiting). The kernel drops
        the lock when the process dies, so a killed sync never blocks the next one. Where
        the folder cannot be made or opened, the write that follows says what is wrong."""
        import fcntl

        try:
            if not self.directory.exists():
                self.directory.mkdir(parents=True)
            # The folder itself is locked: no lock file to leave behind or to race on.
            fd = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            yield False
            return
        try:
            waited = False
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                waited = True
                if on_wait is not None:
                    on_wait()
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield waited
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def read_digests(self, folder: str, names: Collection[str]) -> dict[str, Digest]:
        """The digests digests.json keeps for folder's files named (DigestStore); {} when
        there is none, or it is not a regular file, or is larger than those names could
        need (digests_limit: it is not read then), or is anything but well-formed."""
        limit = digests_limit(folder, names)
        try:
            # No link followed, and a FIFO put there does not block the open.
            fd = os.open(self.directory / DIGESTS, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            return {}
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
                return {}
            data = b""
            while len(data) <= limit:  # a file grown since the fstat is still cut off
                block = os.read(fd, limit + 1 - len(data))
                if not block:
                    break
                data += block
        except OSError:
            return {}
        finally:
            os.close(fd)
        return decode_digests(data, folder, names)

    def write_digests(self, folder: str, digests: Mapping[str, Digest]) -> None:
        """Replace digests.json atomically (DigestStore); a failure (a read-only index
        folder, a full disk) is ignored: the next new process reads the files instead.
        Not fsynced: a file cut short by a crash fails its checksum and is ignored."""
        if not self.directory.is_dir():
            return
        with contextlib.suppress(OSError):
            _atomic_write_bytes(
                self.directory / DIGESTS, encode_digests(folder, digests), sync=False
            )

    def tidy(self) -> None:
        """Delete generation files and temporary manifests that manifest.json does not
        name (left by a write that was killed). Only files of the index's own name patterns
        inside its folder are touched."""
        if not self.directory.is_dir():
            return
        try:
            keep = _named_files(read_manifest(self.directory))
        except AssistantError:
            return  # without a readable manifest nothing is known to be unused
        _remove_leftovers(self.directory, keep)


def _manifest_stamp(directory: Path) -> tuple[int, int, int] | None:
    """(inode, mtime ns, size) of manifest.json, None without one. A commit replaces the
    file (os.replace), so its inode changes even within one clock tick."""
    return _file_stamp(directory / MANIFEST)


def _file_stamp(path: Path) -> tuple[int, int, int] | None:
    """(inode, mtime ns, size) of a file, None when it cannot be read."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _read_chunks(path: Path) -> tuple[list[Chunk], ChunkLines | None]:
    """The chunks of a chunks file, one JSON object a line (blank lines skipped), and where
    each chunk's line ends (so that a write can copy them)."""
    stamp = _file_stamp(path)
    chunks: list[Chunk] = []
    ends: list[int] = []
    at = 0
    with path.open("rb") as fh:
        for line in fh:
            at += len(line)
            if line.strip():
                chunks.append(Chunk.from_dict(json.loads(line.decode("utf-8"))))
                ends.append(at)
    if stamp is None or _file_stamp(path) != stamp:
        return chunks, None
    return chunks, ChunkLines(path, stamp, np.array(ends, dtype=np.int64))


def _named_files(manifest: Manifest) -> set[str]:
    g = manifest.generation
    return {_vectors_name(g), _chunks_name(g), _sentences_name(g), _spans_name(g), MANIFEST}


def _remove_leftovers(index_dir: Path, keep: set[str]) -> None:
    leftovers = [
        *index_dir.glob("vectors-*.faiss"),
        *index_dir.glob("chunks-*.jsonl"),
        *index_dir.glob("sentences-*.f32"),
        *index_dir.glob("sentence-spans-*.i32"),
        *index_dir.glob(f".{MANIFEST}.*.tmp"),  # from a write killed before its rename
        *index_dir.glob(f".{DIGESTS}.*.tmp"),
    ]
    for stale in leftovers:
        if stale.name not in keep and not stale.is_symlink():
            with contextlib.suppress(OSError):
                stale.unlink()


def _chunks_problem(chunks: Sequence[Chunk], manifest: Manifest) -> str:
    """What is wrong with the loaded chunks ("" when nothing): text that no longer hashes
    to its recorded sha256 or length (edited on disk), or per-document counts that differ
    from the manifest's. One sha256 pass over the text: about 0.1 s for 50 MB.

    Example: a chunk whose text was edited -> "of a.txt were edited (chunk 3)"
    """
    counts: dict[str, int] = {}
    for c in chunks:
        body = c.text.encode("utf-8", "surrogatepass")
        if hashlib.sha256(body).hexdigest() != c.hash or len(c.text) != c.end - c.start:
            return f"of {c.source} were edited (chunk {c.ordinal})"
        counts[source_file(c.source)] = counts.get(source_file(c.source), 0) + 1
    for name, info in manifest.sources.items():
        if counts.pop(name, 0) != info.chunks:
            return f"of {name} do not match the {info.chunks} the manifest records"
    if counts:
        return f"name {min(counts)}, which the manifest does not list"
    return ""


def read_manifest(index_dir: Path) -> Manifest:
    """The manifest of the index in index_dir, or one sentence saying what to do.

    InputError when index_dir is a file (it is never ours, so nothing deletes it);
    IndexCorruptError for a damaged manifest; IndexMissingError when there is none.
    """
    return _read_manifest(index_dir)[0]


def _read_manifest(index_dir: Path) -> tuple[Manifest, dict[str, str]]:
    """read_manifest, and the generation files manifest.json names ({} when it names none)."""
    path = index_dir / MANIFEST
    if index_dir.exists() and not index_dir.is_dir():
        raise InputError(
            f"{index_dir} is a file, not an index folder: move that file away or choose "
            "another index folder (--index-dir or ASSISTANT_INDEX_DIR)"
        )
    if path.exists() and not path.is_file():
        raise IndexCorruptError(
            f"{path} is not a file: run `assistant index --rebuild` to replace it"
        )
    if not path.is_file():
        if index_dir.is_dir() and any(index_dir.glob("vectors-*.faiss")):
            raise IndexCorruptError(
                f"{index_dir} has no {MANIFEST}: run `assistant index` to rebuild it"
            )
        raise IndexMissingError(
            f"there is no index in {index_dir}: "
            f"run `assistant index FOLDER --index-dir {index_dir}`"
        )
    try:
        if path.stat().st_size > _MAX_MANIFEST_BYTES:
            raise ValueError("manifest too large")
        data = json.loads(path.read_text(encoding="utf-8"))
        version = data.get("format_version") if isinstance(data, dict) else None
        if version not in READABLE_FORMATS or isinstance(version, bool):
            raise IndexMismatchError(
                f"{path} has format version {version!r}, this assistant reads versions "
                f"{READABLE_FORMATS[0]} to {FORMAT_VERSION}: run `assistant index` to rebuild it"
            )
        files = data.get("files")
        named = {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {}
        return Manifest.from_json(data), named
    except (
        ValueError,  # JSON syntax, bad UTF-8, wrong field types
        KeyError,
        TypeError,
        OverflowError,
        RecursionError,  # deeply nested JSON
        OSError,
    ) as exc:
        raise IndexCorruptError(
            f"{path} is unreadable ({exc.__class__.__name__}): run `assistant index` to rebuild it"
        ) from exc


def _read_sentences(index_dir: Path, manifest: Manifest, chunks: Sequence[Chunk]) -> SentenceRows:
    """The generation's sentence rows: vectors memory-mapped (an answer reads a few dozen
    rows, so loading reads none of the file), spans read and checked against the chunks'
    texts. ValueError when the files do not fit the chunks."""
    g = manifest.generation
    spans = np.fromfile(index_dir / _spans_name(g), dtype="<i4")
    vectors_path = index_dir / _sentences_name(g)
    n, rest = divmod(len(spans), 3)
    if rest or vectors_path.stat().st_size != n * manifest.dimension * 4:
        raise ValueError("sentence files of different lengths")
    spans = spans.reshape(n, 3).astype(np.int32)
    vectors = (
        np.memmap(vectors_path, dtype="<f4", mode="r", shape=(n, manifest.dimension))
        if n
        else np.zeros((0, manifest.dimension), dtype=np.float32)  # mmap refuses empty files
    )
    rows, starts, ends = spans[:, 0], spans[:, 1], spans[:, 2]
    lengths = np.array([len(c.text) for c in chunks], dtype=np.int64)
    if n and (
        np.any(np.diff(rows) < 0)
        or rows[0] < 0
        or rows[-1] >= len(chunks)
        or np.any(starts < 0)
        or np.any(ends <= starts)
        or np.any(ends > lengths[rows])
    ):
        raise ValueError("sentence spans outside their chunks")
    offsets = np.searchsorted(rows, np.arange(len(chunks) + 1), side="left").astype(np.int64)
    return SentenceRows(offsets, np.ascontiguousarray(spans[:, 1:]), vectors)


_SLICE_BYTES = 4 << 20  # what one step of a write holds beside the rows it reads from


def _save_raw(
    path: Path, array: np.ndarray | GatheredRows, mapped: Sequence[MappedFile] = ()
) -> None:
    """array's rows, little-endian, C order (read back with np.fromfile / np.memmap),
    written a slice at a time: no step copies the whole array (a memory map or a
    GatheredRows is read from where it lies, and rows of a mapped file are copied file to
    file: _write_rows)."""
    out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        if isinstance(array, GatheredRows):
            _write_rows(out, array, mapped)
        else:
            width = int(np.prod(array.shape[1:], dtype=np.int64)) if len(array.shape) > 1 else 1
            step = max(1, _SLICE_BYTES // (4 * max(1, width)))
            for start in range(0, len(array), step):
                rows = np.asarray(array[start : start + step])
                little = rows.dtype.newbyteorder("<")
                _write_all(out, np.ascontiguousarray(rows, dtype=little).data.cast("B"))
        os.fsync(out)
    finally:
        os.close(out)


# Shorter runs are read and written with their neighbours: a copy per run would cost more.
_COPY_ROWS = 64


def _write_rows(out: int, rows: GatheredRows, mapped: Sequence[MappedFile]) -> None:
    """Write rows (little-endian float32) to the descriptor out, in order. A run of at
    least _COPY_ROWS rows that lie one after another in a part inside a mapped file that
    is as it was mapped (an old generation's vectors, which a sync keeps for every document
    that stays) is copied by the kernel; the rest is read and written a slice at a time.

    Example: the old generation's 30,000 sentence vectors, one document's 40 removed from
             the middle and 12 new ones added -> two copies and one 12-row write
    """
    step = max(1, _SLICE_BYTES // (4 * rows.dimension))
    width = 4 * rows.dimension
    sources: dict[int, tuple[int, int]] = {}  # part -> (descriptor, offset of its row 0)
    try:
        for p, part in enumerate(rows.parts):
            if not isinstance(part, np.ndarray) or not _plain_rows(part):
                continue
            address = _address(part)
            for m in mapped:
                inside = m.address <= address and address + part.nbytes <= m.address + m.size
                if inside and _file_stamp(m.path) == m.stamp:
                    with contextlib.suppress(OSError):
                        sources[p] = (os.open(m.path, os.O_RDONLY), m.offset + address - m.address)
                    break
        done = 0
        for p, first, count, at in zip(*(a.tolist() for a in rows.runs(_COPY_ROWS)), strict=True):
            if p not in sources:
                continue
            for start in range(done, at, step):
                _write_all(out, _little(rows[start : min(start + step, at)]))
            fd, base = sources[p]
            _copy_range(fd, out, base + first * width, count * width)
            done = at + count
        for start in range(done, len(rows), step):
            _write_all(out, _little(rows[start : start + step]))
    finally:
        for fd, _ in sources.values():
            os.close(fd)


def _plain_rows(part: np.ndarray) -> bool:
    """Whether part's rows lie in memory as the files hold them: float32, little-endian,
    one after another."""
    return part.dtype == np.dtype("<f4") and part.ndim == 2 and part.flags.c_contiguous


def _address(array: np.ndarray) -> int:
    return int(array.__array_interface__["data"][0])


def _little(rows: np.ndarray) -> memoryview:
    return np.ascontiguousarray(rows, dtype="<f4").data.cast("B")


def _flat_ip_header(dimension: int) -> bytes | None:
    """The bytes FAISS writes before the vectors of an IndexFlatIP of this dimension with
    no vectors (its row count and float count are zero, at offsets 8 and 37), or None when
    this FAISS lays the file out otherwise."""
    import faiss

    empty = faiss.serialize_index(faiss.IndexFlatIP(dimension)).tobytes()
    if len(empty) != 45 or empty[:4] != b"IxFI" or empty[8:16] != bytes(8) or any(empty[37:]):
        return None
    return empty


def _save_flat_ip(path: Path, rows: GatheredRows, mapped: Sequence[MappedFile] = ()) -> None:
    """The file faiss.write_index writes for an IndexFlatIP holding rows, written a slice
    at a time from where the rows lie: no index of every chunk vector is built in memory
    (20 MB of text has about 40 MB of them). The header is the one FAISS itself writes for
    an empty index, with the counts filled in (tests compare the bytes with write_index's).

    Example: rows of shape (2, 4) -> header with ntotal 2, then the float count 8, then
             the 8 floats, little-endian
    """
    import faiss

    dimension = rows.dimension
    header = _flat_ip_header(dimension)
    if header is None:  # another layout: let FAISS write it, from an index in memory
        index = faiss.IndexFlatIP(dimension)
        for some in rows.slices(max(1, _SLICE_BYTES // (4 * dimension))):
            index.add(some)
        faiss.write_index(index, str(path))
        return
    n = len(rows)
    out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        _write_all(out, header[:8] + n.to_bytes(8, "little") + header[16:37])
        _write_all(out, (n * dimension).to_bytes(8, "little"))
        _write_rows(out, rows, mapped)  # the rows of documents that stay: file to file
        os.fsync(out)
    finally:
        os.close(out)


def _make_index_dir(index_dir: Path) -> None:
    """Make the index folder (and the folders above it), or raise InputError saying why it
    cannot be made and what to do.

    An index folder under a file, a pipe, /proc or /sys, or a folder the user may not write
    to, stopped `assistant index` (and the web chat's start) with the OSError's traceback.

    Example: _make_index_dir(Path("/proc/self/x")) raises InputError("cannot make the index
             folder /proc/self/x (No such file or directory): choose another index folder
             (--index-dir or ASSISTANT_INDEX_DIR)")
    """
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"cannot make the index folder {index_dir} ({exc.strerror or exc}): choose "
            "another index folder (--index-dir or ASSISTANT_INDEX_DIR)"
        ) from exc


def _write(
    index_dir: Path,
    manifest: Manifest,
    chunks: Sequence[Chunk],
    vectors: GatheredRows,
    sentences: SentenceRows | None = None,
    carried: tuple[ChunkLines, np.ndarray] | None = None,
    mapped: Sequence[MappedFile] = (),
) -> ChunkLines | None:
    """Write generation files, then switch manifest.json to them atomically; returns where
    the new chunks file's lines lie. A write that fails removes its own new files again, so
    failed runs leave nothing behind. carried: the old chunks file's lines and, for each
    chunk, its row there or -1 (from merge's positions), whose line is copied rather than
    encoded. mapped: the old generation's vector files, whose kept rows are copied file to
    file."""
    if index_dir.exists() and not index_dir.is_dir():
        read_manifest(index_dir)  # raises the sentence for an index folder that is a file
    _make_index_dir(index_dir)
    manifest_path = index_dir / MANIFEST
    if manifest_path.is_dir() and not manifest_path.is_symlink():
        with contextlib.suppress(OSError):
            manifest_path.rmdir()  # an empty folder in its place: nothing to lose
        if manifest_path.exists():
            raise IndexCorruptError(
                f"{manifest_path} is a folder with files in it: move it away, or run "
                "`assistant index --rebuild` to delete it and rebuild the index"
            )
    vectors_path = index_dir / _vectors_name(manifest.generation)
    chunks_path = index_dir / _chunks_name(manifest.generation)
    sentences_path = index_dir / _sentences_name(manifest.generation)
    spans_path = index_dir / _spans_name(manifest.generation)
    try:
        _save_flat_ip(vectors_path, vectors, mapped)
        ends = _write_chunks(chunks_path, chunks, carried)
        files = {"vectors": vectors_path.name, "chunks": chunks_path.name}
        if sentences is not None:
            counts = np.diff(sentences.offsets)
            rows = np.repeat(np.arange(len(counts), dtype=np.int32), counts)
            table = np.column_stack([rows, sentences.spans]) if len(rows) else np.zeros((0, 3))
            _save_raw(spans_path, table.astype("<i4"))
            _save_raw(sentences_path, sentences.vectors, mapped)
            files |= {"sentences": sentences_path.name, "sentence_spans": spans_path.name}
        data = manifest.to_json()
        data["files"] = files
        _atomic_write_text(manifest_path, json.dumps(data, indent=2))
    except BaseException:
        for new in (vectors_path, chunks_path, sentences_path, spans_path):
            with contextlib.suppress(OSError):
                new.unlink()
        raise
    _remove_leftovers(index_dir, _named_files(manifest))
    stamp = _file_stamp(chunks_path)
    return ChunkLines(chunks_path, stamp, ends) if stamp is not None else None


def _write_chunks(
    path: Path, chunks: Sequence[Chunk], carried: tuple[ChunkLines, np.ndarray] | None
) -> np.ndarray:
    """Write the chunks file, one JSON line a chunk, and return where each line ends.
    Runs of chunks the old file holds in the same order (carried: its lines, and each
    chunk's row there or -1) are copied from it by the kernel (os.copy_file_range), only
    while that file is as it was recorded; the others are encoded.

    Example: carried rows [0, 1, -1, 2] -> old lines 0-1 copied, chunk 2 encoded, old
             line 2 copied
    """
    ends = np.zeros(len(chunks), dtype=np.int64)
    source = None
    take, old_ends = np.full(len(chunks), -1, dtype=np.int64), ends
    if carried is not None and carried[0].unchanged():
        with contextlib.suppress(OSError):
            source = os.open(carried[0].path, os.O_RDONLY)
            take, old_ends = carried[1], carried[0].ends
    out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        pending = bytearray()
        at = 0
        i = 0
        while i < len(chunks):
            if source is not None and take[i] >= 0:
                j = i + 1  # the run of old lines that follow each other
                while j < len(chunks) and take[j] == take[j - 1] + 1:
                    j += 1
                first, last = int(take[i]), int(take[j - 1])
                start = int(old_ends[first - 1]) if first else 0
                stop = int(old_ends[last])
                _write_all(out, pending)
                pending.clear()
                _copy_range(source, out, start, stop - start)
                ends[i:j] = old_ends[first : last + 1] - start + at
                at += stop - start
                i = j
                continue
            line = (json.dumps(chunks[i].to_dict(), ensure_ascii=False) + "\n").encode("utf-8")
            pending += line
            at += len(line)
            ends[i] = at
            if len(pending) >= _SLICE_BYTES:
                _write_all(out, pending)
                pending.clear()
            i += 1
        _write_all(out, pending)
        os.fsync(out)
    finally:
        os.close(out)
        if source is not None:
            os.close(source)
    return ends


def _write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _copy_range(source: int, out: int, offset: int, count: int) -> None:
    """Append count bytes of source from offset to out (at its position): in the kernel
    where it can, else read and written a slice at a time."""
    while count > 0:
        try:
            done = os.copy_file_range(source, out, count, offset)
        except OSError:
            done = 0  # another file system, an old kernel: copied by hand below
        if done <= 0:
            block = os.pread(source, min(count, _SLICE_BYTES), offset)
            if not block:
                raise OSError("the old chunks file is shorter than recorded")
            _write_all(out, block)
            done = len(block)
        offset += done
        count -= done


def clear_for_rebuild(index_dir: Path) -> None:
    """Before `assistant index --rebuild`: delete a folder that stands where manifest.json
    belongs (inside the index folder, at the name only the index uses). The index folder
    itself, if it is a file, is never deleted: that file was not written by the index."""
    if index_dir.exists() and not index_dir.is_dir():
        read_manifest(index_dir)  # raises its sentence
    manifest_path = index_dir / MANIFEST
    if manifest_path.is_dir() and not manifest_path.is_symlink():
        shutil.rmtree(manifest_path)


def _atomic_write_text(path: Path, text: str) -> None:
    _atomic_write_bytes(path, text.encode("utf-8"))


def _atomic_write_bytes(path: Path, data: bytes, *, sync: bool = True) -> None:
    """Write path whole or not at all: a temporary file beside it, renamed over it."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            if sync:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
