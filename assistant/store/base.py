"""What retrieval and sync need from an index of chunks and their vectors: the `Store` seam.

A store keeps, for one documents collection, every chunk (addressed by its stable string id),
one unit vector per chunk, and a `Manifest` (build settings and one `SourceInfo` per
document). Everything above the store speaks chunk ids; rows, files and tables stay inside.

Reads and writes follow one rule, so that a question never sees half a sync:

- a `Store` object is a *snapshot*: what it returns does not change while it is held;
- `apply(batch)` commits a whole batch of upserts and deletes at one commit point (a file
  rename, a database transaction) and returns the snapshot after it; the receiver keeps
  answering from the state before;
- `refresh()` returns a snapshot of the latest committed state (another process may have
  synced: several app servers reading one database).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..ingest.loaders import source_file
from ..schema import Chunk, SourceInfo
from .digests import Digest

__all__ = [
    "CHUNKER_VERSION",
    "CHUNK_VECTOR_METHODS",
    "FORMAT_VERSION",
    "READABLE_FORMATS",
    "Batch",
    "BuildInfo",
    "ChunkerConfig",
    "DigestStore",
    "GatheredRows",
    "LexicalStore",
    "Manifest",
    "RowFile",
    "SentenceAccess",
    "SentenceRows",
    "SentenceStore",
    "SharedStore",
    "SourceChunks",
    "Store",
    "carried_rows",
    "committed_since",
    "held_and_current",
    "merge",
    "merge_sentences",
    "sources_of",
]

# 2: a generation may hold its chunks' sentence vectors (FaissStore: sentences-<gen>.f32).
# 3: the manifest records how chunk vectors were made (ChunkerConfig.vectors). An older
#    reader must refuse it: it would take derived vectors for encoded ones and mix the two.
FORMAT_VERSION = 3
# Version 1 reads as an index without sentence vectors; the next sync adds them. Versions 1
# and 2 read as chunk vectors made by encoding each chunk's text (all they knew).
READABLE_FORMATS = (1, 2, 3)
CHUNKER_VERSION = 1  # bump when chunking changes in a way that alters chunks
# How a chunk's vector is made: "encode" embeds the chunk's whole text; "sentences" takes
# the normalised mean of its pieces' vectors (ingest.chunking.vector_pieces: its quotable
# sentences, which the index embeds anyway, and any text between them).
CHUNK_VECTOR_METHODS = ("encode", "sentences")


@dataclass(frozen=True, slots=True)
class ChunkerConfig:
    """How chunks and their vectors are made: any change means every chunk is made again.

    vectors: one of CHUNK_VECTOR_METHODS. "encode" is what an index recorded before the
    choice existed.
    """

    max_tokens: int
    overlap_tokens: int
    version: int = CHUNKER_VERSION
    vectors: str = "encode"

    def __post_init__(self) -> None:
        if self.vectors not in CHUNK_VECTOR_METHODS:
            raise ValueError(
                f"chunk vectors {self.vectors!r}: expected one of {', '.join(CHUNK_VECTOR_METHODS)}"
            )


@dataclass(frozen=True, slots=True)
class BuildInfo:
    """The settings an index is built with; a batch carries them, the manifest records them."""

    model: str
    dimension: int
    max_seq_length: int
    chunker: ChunkerConfig
    folder: str = ""  # the documents folder, absolute


@dataclass(frozen=True, slots=True)
class Manifest:
    """The index's record of itself: build settings, every document, and its generation."""

    model: str
    dimension: int
    max_seq_length: int
    chunker: ChunkerConfig
    sources: dict[str, SourceInfo]
    chunk_count: int
    generation: str  # changes with every commit
    built_at: str
    folder: str = ""  # the documents folder it was built from, absolute
    format_version: int = FORMAT_VERSION

    @property
    def build(self) -> BuildInfo:
        return BuildInfo(self.model, self.dimension, self.max_seq_length, self.chunker, self.folder)

    @classmethod
    def after(
        cls, batch: Batch, sources: dict[str, SourceInfo], chunk_count: int, generation: str
    ) -> Manifest:
        """The manifest of a store that has applied batch: the batch's build settings and
        time (Batch.stamp), the merged sources and chunk count, and the new generation."""
        b = batch.build
        return cls(
            model=b.model,
            dimension=b.dimension,
            max_seq_length=b.max_seq_length,
            chunker=b.chunker,
            sources=sources,
            chunk_count=chunk_count,
            generation=generation,
            built_at=batch.stamp(),
            folder=b.folder,
        )

    def to_json(self) -> dict[str, Any]:
        """The manifest as JSON data (the layout manifest.json has always had)."""
        return {
            "format_version": self.format_version,
            "model": self.model,
            "dimension": self.dimension,
            "max_seq_length": self.max_seq_length,
            "chunker": {
                "max_tokens": self.chunker.max_tokens,
                "overlap_tokens": self.chunker.overlap_tokens,
                "version": self.chunker.version,
                "vectors": self.chunker.vectors,
            },
            "sources": {
                name: {
                    "sha256": e.sha256,
                    "size": e.size,
                    "kind": e.kind,
                    "chunks": e.chunks,
                    "pages": e.pages,
                }
                for name, e in sorted(self.sources.items())
            },
            "counts": {"sources": len(self.sources), "chunks": self.chunk_count},
            "generation": self.generation,
            "built_at": self.built_at,
            "folder": self.folder,
        }

    @classmethod
    def from_json(cls, data: Any) -> Manifest:
        """The manifest from JSON data; ValueError naming the first field that is missing or
        of the wrong type (a damaged or hand-edited manifest.json must not load).

        Example: from_json({..., "sources": []}) -> ValueError("manifest field 'sources'
                 should be an object")
        """
        data = _field(data, "", dict)
        chunker = _field(data["chunker"], "chunker", dict)
        sources = _field(data["sources"], "sources", dict)
        entries: dict[str, SourceInfo] = {}
        for name, e in sources.items():
            e = _field(e, f"sources.{name}", dict)
            pages = e.get("pages")
            entries[name] = SourceInfo(
                source=name,
                kind=_field(e["kind"], f"sources.{name}.kind", str),
                size=_count(e["size"], f"sources.{name}.size"),
                chunks=_count(e["chunks"], f"sources.{name}.chunks"),
                pages=None if pages is None else _count(pages, f"sources.{name}.pages"),
                sha256=_field(e.get("sha256", ""), f"sources.{name}.sha256", str),
            )
        return cls(
            format_version=_count(data["format_version"], "format_version"),
            model=_field(data["model"], "model", str),
            dimension=_count(data["dimension"], "dimension"),
            max_seq_length=_count(data["max_seq_length"], "max_seq_length"),
            chunker=ChunkerConfig(
                max_tokens=_count(chunker["max_tokens"], "chunker.max_tokens"),
                overlap_tokens=_count(chunker["overlap_tokens"], "chunker.overlap_tokens"),
                version=_count(chunker.get("version", CHUNKER_VERSION), "chunker.version"),
                vectors=_field(chunker.get("vectors", "encode"), "chunker.vectors", str),
            ),
            sources=entries,
            chunk_count=_count(_field(data["counts"], "counts", dict)["chunks"], "counts.chunks"),
            generation=_field(data["generation"], "generation", str),
            built_at=_field(data["built_at"], "built_at", str),
            folder=_field(data.get("folder", ""), "folder", str),
        )


_JSON_TYPES = {dict: "an object", str: "a string", int: "a whole number"}


def _field(value: Any, name: str, kind: type) -> Any:
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"manifest field {name or '(top level)'!r} should be {_JSON_TYPES[kind]}")
    return value


def _count(value: Any, name: str) -> int:
    """A non-negative int (JSON floats such as 1e400, and booleans, are refused)."""
    if _field(value, name, int) < 0:
        raise ValueError(f"manifest field {name!r} should not be negative")
    return value


class RowFile:
    """float32 rows appended to a temporary file that has no name (the system deletes it
    when it is closed or the process dies), read back a few rows at a time. A sync keeps the
    sentence vectors it embeds here, so memory holds one batch of them, not all (20 MB of
    text has about 250 MB of them).

    Example: f = RowFile(2); f.append(np.eye(2)); f.append(np.ones((1, 2)))
             -> len(f) == 3, f[np.array([2, 0])] -> [[1, 1], [1, 0]]
    """

    ndim = 2

    def __init__(self, dimension: int, directory: str | None = None) -> None:
        import tempfile

        self._file = tempfile.TemporaryFile(dir=directory)  # noqa: SIM115 (lives with self)
        self._rows = 0
        self.dimension = dimension

    @property
    def shape(self) -> tuple[int, int]:
        return (self._rows, self.dimension)

    def __len__(self) -> int:
        return self._rows

    def append(self, rows: np.ndarray) -> None:
        rows = np.ascontiguousarray(rows, dtype="<f4").reshape(-1, self.dimension)
        self._file.seek(0, 2)
        self._file.write(rows.data.cast("B"))
        self._rows += len(rows)

    def __getitem__(self, rows: np.ndarray) -> np.ndarray:
        """The given rows (an int array), copied out. The file is mapped only for the read,
        so the rows read do not stay in this process's memory."""
        self._file.flush()
        mapped = np.memmap(self._file, dtype="<f4", mode="r", shape=self.shape)
        try:
            # Fancy indexing copies the rows out; view and astype add no second copy.
            return mapped[rows].view(np.ndarray).astype(np.float32, copy=False)
        finally:
            mapped._mmap.close()  # type: ignore[attr-defined]  # unmapped now, not at gc


class GatheredRows:
    """Rows taken from other arrays (a memory-mapped old generation, an embedder's output),
    copied only when read: a slice or a row at a time. A sync passes the sentence vectors
    of a whole index this way, from the embedder to the generation file, so that no step
    holds a second copy of them (20 MB of text has about 250 MB of them).

    Row i is row index[i] of the parts stacked in order. A part that is itself a
    GatheredRows is looked through, so gathering from a gather reads the arrays underneath.

    Example: parts [[[1, 0]], [[0, 1], [0, 2]]] (1 row and 2 rows), index [2, 0]
             -> rows [[0, 2], [1, 0]]; rows[1:] -> [[1, 0]]
    """

    __slots__ = ("_bases", "_parts", "dimension", "index")
    index: np.ndarray  # int64: row i is row index[i] of the flat parts stacked
    dimension: int
    _parts: tuple[np.ndarray | RowFile, ...]
    _bases: np.ndarray  # int64: the first row of each flat part, then the total

    def __init__(
        self,
        parts: Sequence[np.ndarray | RowFile | GatheredRows],
        index: np.ndarray,
        dimension: int,
    ) -> None:
        flat: list[np.ndarray | RowFile] = []
        first_row: dict[int, int] = {}  # id of an array -> its first row among the flat parts
        maps: list[np.ndarray] = []  # each given part's rows as rows of the flat parts

        def place(array: np.ndarray | RowFile) -> int:
            # Sources of one sync gather from the same embedder output: listed once.
            if id(array) not in first_row:
                if array.ndim != 2 or array.shape[1] != dimension:
                    raise ValueError(f"rows of {dimension} values expected")
                first_row[id(array)] = sum(len(f) for f in flat)
                flat.append(array)
            return first_row[id(array)]

        for part in parts:
            if isinstance(part, GatheredRows):
                starts = np.array([place(inner) for inner in part._parts], dtype=np.int64)
                which = np.searchsorted(part._bases, part.index, side="right") - 1
                maps.append(part.index - part._bases[which] + starts[which])
            else:
                maps.append(place(part) + np.arange(len(part), dtype=np.int64))
        index = np.asarray(index, dtype=np.int64)
        everything = np.concatenate(maps) if maps else np.zeros(0, dtype=np.int64)
        if len(index) and (index.min() < 0 or index.max() >= len(everything)):
            raise ValueError("row index outside the parts")
        self.index = everything[index]
        self._parts = tuple(flat)
        self._bases = np.cumsum([0] + [len(p) for p in flat], dtype=np.int64)
        self.dimension = dimension

    def __len__(self) -> int:
        return len(self.index)

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.index), self.dimension)

    def __getitem__(self, key: int | slice) -> np.ndarray:
        """One row (int) or a run of rows (slice), as a new float32 array."""
        if isinstance(key, slice):
            return self._take(self.index[key])
        return self._take(self.index[key : key + 1 or None])[0]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """Every row in one array: a full copy, for a store that holds them in memory."""
        rows = self._take(self.index)
        return rows if dtype is None else rows.astype(dtype, copy=False)

    def slices(self, rows: int) -> Iterable[np.ndarray]:
        """The rows in order, at most `rows` at a time."""
        for start in range(0, len(self.index), max(1, rows)):
            yield self._take(self.index[start : start + rows])

    @property
    def parts(self) -> tuple[np.ndarray | RowFile, ...]:
        """The arrays the rows are taken from (GatheredRows looked through)."""
        return self._parts

    def runs(self, min_rows: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The runs of at least min_rows rows that lie one after another in one part, in
        order: (part, first row in that part, row count, first row here) as four int64
        arrays. A write copies such runs of a file whole.

        Example: parts [A (3 rows), B (2 rows)], index [0, 1, 2, 4, 3], min_rows 2
                 -> parts [0], firsts [0], counts [3], at [0]  (B's rows run backwards)
        """
        index = self.index
        if not len(index):
            return tuple(np.zeros(0, dtype=np.int64) for _ in range(4))  # type: ignore[return-value]
        which = np.searchsorted(self._bases, index, side="right") - 1
        breaks = np.flatnonzero((np.diff(index) != 1) | (np.diff(which) != 0)) + 1
        at = np.concatenate([[0], breaks]).astype(np.int64)
        counts = np.diff(np.concatenate([at, [len(index)]])).astype(np.int64)
        long = counts >= min_rows
        at, counts = at[long], counts[long]
        return which[at], index[at] - self._bases[which[at]], counts, at

    def _take(self, flat_rows: np.ndarray) -> np.ndarray:
        out = np.empty((len(flat_rows), self.dimension), dtype=np.float32)
        if not len(flat_rows):
            return out
        which = np.searchsorted(self._bases, flat_rows, side="right") - 1
        for p in np.unique(which):
            mask = which == p
            out[mask] = self._parts[p][flat_rows[mask] - self._bases[p]]
        return out


@dataclass(frozen=True, slots=True, eq=False)
class SentenceRows:
    """The vectors of the sentences an answer may quote from a run of chunks
    (`ingest.chunking.sentence_units` of each chunk's text), stored so that answering embeds
    only the question.

    Chunk i's sentences are rows offsets[i]:offsets[i + 1] of spans and vectors; a span is
    (start, end) in the chunk's own text, so chunk.text[start:end] is the sentence.

    Example: two chunks with 2 and 1 sentences -> offsets [0, 2, 3], spans
             [[0, 40], [41, 90], [0, 55]], vectors of shape (3, dimension)
    """

    offsets: np.ndarray  # int64, (chunks + 1,), offsets[0] == 0, non-decreasing
    spans: np.ndarray  # int32, (n, 2)
    # float32, (n, dimension), unit length; GatheredRows while a sync carries them to a write
    vectors: np.ndarray | GatheredRows

    def __post_init__(self) -> None:
        n = len(self.spans)
        if (
            self.offsets.ndim != 1
            or len(self.offsets) == 0
            or self.offsets[0] != 0
            or self.offsets[-1] != n
            or np.any(np.diff(self.offsets) < 0)
            or self.spans.shape != (n, 2)
            or len(self.vectors) != n
        ):
            raise ValueError("offsets must split the spans and vectors into one run per chunk")

    @property
    def chunk_count(self) -> int:
        return len(self.offsets) - 1

    def of(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """(spans, vectors) of chunk i."""
        a, b = int(self.offsets[i]), int(self.offsets[i + 1])
        return self.spans[a:b], self.vectors[a:b]

    def held(self) -> SentenceRows:
        """These rows with their vectors in one array of their own (a store that keeps
        everything in memory does not keep the arrays they were gathered from alive)."""
        if isinstance(self.vectors, np.ndarray):
            return self
        return SentenceRows(self.offsets, self.spans, np.asarray(self.vectors))

    def places_by_text(
        self, chunks: Sequence[Chunk], rows: Iterable[int] | None = None
    ) -> Iterator[tuple[str, str, int]]:
        """(text, chunk id, place among the chunk's sentences) of each sentence of the given
        chunk rows (all by default), in row order; chunks are the run these rows belong to.

        Example: chunks ["Aa. Bb.", "Aa."] (ids c0, c1) with spans [[0, 3], [4, 7]], [[0, 3]]
                 -> ("Aa.", "c0", 0), ("Bb.", "c0", 1), ("Aa.", "c1", 0)
        """
        offsets = self.offsets.tolist()  # plain ints: indexing numpy per sentence cost 3x
        spans = self.spans
        for i in range(len(chunks)) if rows is None else rows:
            chunk = chunks[i]
            for k, (s, e) in enumerate(spans[offsets[i] : offsets[i + 1]].tolist()):
                yield chunk.text[s:e], chunk.id, k

    @classmethod
    def empty(cls, dimension: int, chunks: int = 0) -> SentenceRows:
        return cls(
            np.zeros(chunks + 1, dtype=np.int64),
            np.zeros((0, 2), dtype=np.int32),
            np.zeros((0, dimension), dtype=np.float32),
        )


@dataclass(frozen=True, slots=True)
class SourceChunks:
    """One document's new chunks and their unit vectors (row i for chunk i), and, for a
    store that keeps them (a SentenceStore), their sentences' vectors."""

    info: SourceInfo
    chunks: tuple[Chunk, ...]
    # float32, (len(chunks), dimension); GatheredRows while a sync carries them to a write
    vectors: np.ndarray | GatheredRows
    sentences: SentenceRows | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if len(self.vectors) != len(self.chunks) or any(
            source_file(c.source) != self.info.source for c in self.chunks
        ):
            raise ValueError("one vector per chunk, every chunk of info.source")
        if self.sentences is not None and self.sentences.chunk_count != len(self.chunks):
            raise ValueError("one run of sentence rows per chunk")


@dataclass(frozen=True, slots=True)
class Batch:
    """One sync's changes, applied all or nothing.

    An upsert replaces every chunk of its source; a delete drops a source and its chunks.
    With replace_all the store starts from empty: only the upserted sources remain (a
    rebuild: another chunker, another model, or a damaged index).
    """

    build: BuildInfo
    upserts: tuple[SourceChunks, ...] = ()
    deletes: tuple[str, ...] = ()
    replace_all: bool = False
    built_at: str = field(default="", compare=False)  # "" -> the store stamps the time

    def stamp(self) -> str:
        """When the batch's generation was built: built_at where the batch names it, else
        now (UTC, ISO 8601 to the second, e.g. "2026-11-30T21:08:00+00:00")."""
        return self.built_at or datetime.now(UTC).isoformat(timespec="seconds")


@runtime_checkable
class Store(Protocol):
    """An index snapshot: chunks by id, their vectors, dense search, atomic batches.

    Conventions every store keeps (tests/test_store_contract.py checks them):
    - `manifest` is None until the first batch is applied;
    - `chunks()` is in (source name, position in source) order, sources compared as Python
      compares str (for SQL: ORDER BY source COLLATE "C", ordinal); BM25 and the tie-breaks
      of dense search follow this order;
    - vectors are unit length, so the inner product is the cosine;
    - `search` ranks by cosine, best first, ties in `chunks()` order. FaissStore and
      MemoryStore search exactly; an approximate index (pgvector HNSW) may trade a little
      recall for speed, and must say so where it is registered.
    """

    @property
    def location(self) -> str:
        """Where the index lives (a folder, a database URL), for messages."""
        ...

    @property
    def manifest(self) -> Manifest | None: ...

    def chunks(self) -> Sequence[Chunk]:
        """Every chunk, in the order above."""
        ...

    def chunk(self, chunk_id: str) -> Chunk | None: ...

    def search(self, query: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The k chunks nearest to one unit query vector: (chunk id, cosine), best first."""
        ...

    def cosines(self, query: np.ndarray, chunk_ids: Sequence[str]) -> np.ndarray:
        """The cosine of the query with each given chunk (float32, in the order given)."""
        ...

    def vectors_by_hash(self, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        """Stored vectors of the given chunk content hashes (those present): embedding reuse."""
        ...

    def apply(self, batch: Batch) -> Store:
        """Commit the batch atomically; return the snapshot after it (self is unchanged)."""
        ...

    def refresh(self) -> Store:
        """A snapshot of the latest committed state."""
        ...

    def tidy(self) -> None:
        """Remove what an interrupted write left behind (files or rows no commit names);
        never anything committed. A sync calls it even when it has nothing to write."""
        ...


@runtime_checkable
class LexicalStore(Protocol):
    """A store that also ranks its chunks by BM25 itself (PgStore: in the database), so
    retrieval need not hold every chunk's text in memory. Scores and idf follow
    retrieval/lexical.py's LexicalIndex: the same analysis (assistant/text.py), k1 and b."""

    def lexical_search(self, query: str, k: int) -> list[tuple[str, float]]:
        """The k chunks with the highest positive BM25 score: (chunk id, score), best first."""
        ...

    def idf(self, term: str) -> float:
        """BM25 inverse document frequency of an analysed term."""
        ...


@runtime_checkable
class SharedStore(Protocol):
    """A store other processes write to as well (PgStore): cheap staleness checks for
    readers, and a lock that makes whole syncs take turns."""

    def is_current(self) -> bool:
        """False when another process committed since this snapshot was taken."""
        ...

    def sync_lock(self, on_wait: Callable[[], None] | None = None) -> AbstractContextManager[bool]:
        """Held for a whole sync; calls on_wait before waiting for another sync to end."""
        ...


def committed_since(store: Store) -> bool | None:
    """Whether another process committed since this snapshot was taken, as a shared store
    tells cheaply (one stat, or one query); None for a store that cannot tell (MemoryStore).
    Readers follow only a True; a sync keeps its snapshot only on a False (a MemoryStore
    snapshot may be behind a commit made through another snapshot of it).

    Example: committed_since(MemoryStore()) -> None;
             committed_since(FaissStore.load(folder)) -> False, until another process syncs
    """
    return not store.is_current() if isinstance(store, SharedStore) else None


def held_and_current(store: Store) -> bool:
    """Whether the snapshot in hand may be used as the latest committed state without
    loading it again: it holds an index and nothing was committed since (one stat, or
    one query). Loading reads and checks every chunk, so a sync or an upload asks this
    first; a store that cannot tell (committed_since -> None) is loaded again.

    Example: held_and_current(FaissStore.load(folder)) -> True, until another process syncs;
             held_and_current(MemoryStore()) -> False (it cannot tell, and holds no index)
    """
    return store.manifest is not None and committed_since(store) is False


@runtime_checkable
class DigestStore(Protocol):
    """A store that keeps the documents' digests of its last sync beside its commits
    (FaissStore: digests.json in the index folder), so that a sync in a new process reads
    only the files whose stat changed (sync.scan). The digests are a cache: reading never
    fails (a missing, damaged or foreign file reads as none), and neither does writing."""

    def read_digests(self, folder: str, names: Collection[str]) -> dict[str, Digest]:
        """The digests kept for documents folder `folder` (resolved), of the files named
        (the ones in the folder now); {} when there are none to trust."""
        ...

    def write_digests(self, folder: str, digests: Mapping[str, Digest]) -> None:
        """Keep these digests, replacing the ones kept, atomically; a failure is ignored
        (the next process reads the files instead)."""
        ...


@runtime_checkable
class SentenceStore(Protocol):
    """A store that also keeps the vectors of its chunks' sentences (FaissStore,
    MemoryStore), so that answering a question embeds only the question. A store without
    them (PgStore) is still answered from: the sentences are embedded at question time.

    A generation holds sentence vectors for every chunk or for none: `has_sentences` says
    which (an index written before they existed has none until its next sync).
    """

    @property
    def has_sentences(self) -> bool: ...

    def chunk_sentences(self, chunk_id: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(spans, vectors) of the chunk's stored sentences (SentenceRows.of), or None when
        this generation holds none or the chunk is unknown."""
        ...

    def sentence_vectors(self, texts: Iterable[str]) -> dict[str, np.ndarray]:
        """Stored vectors of the given sentence texts (those present): embedding reuse
        across syncs, as vectors_by_hash is for chunks."""
        ...

    def best_sentence_cosines(self, query: np.ndarray, chunk_ids: Sequence[str]) -> np.ndarray:
        """For each given chunk, the highest cosine of one of its stored sentences with one
        unit query vector (float32, in the order given); NaN for a chunk with none."""
        ...


class SentenceAccess:
    """The reading methods that a snapshot held in this process answers from its chunk tuple
    (manifest, chunks, chunk) and SentenceStore's methods over its SentenceRows: one copy for
    the stores that keep them (FaissStore, MemoryStore), which call _hold_chunks."""

    _manifest: Manifest | None
    _chunks: tuple[Chunk, ...]
    _row: dict[str, int]  # chunk id -> row
    _row_of_hash: dict[str, int]  # chunk hash -> row
    _sentences: SentenceRows | None
    # sentence text -> (chunk id, its place among the chunk's sentences), for embedding reuse:
    # made on first use, then carried from snapshot to snapshot (_carry_sentence_places).
    _sentence_place: dict[str, tuple[str, int]] | None = None

    def _hold_chunks(
        self, manifest: Manifest | None, chunks: Sequence[Chunk], sentences: SentenceRows | None
    ) -> None:
        """Keep a snapshot's manifest, chunks (with their rows by id and by hash) and
        sentence rows; ValueError unless there is one run of sentence rows per chunk."""
        self._manifest = manifest
        self._chunks = tuple(chunks)
        if sentences is not None and sentences.chunk_count != len(self._chunks):
            raise ValueError("one run of sentence rows per chunk")
        self._sentences = sentences
        self._row = {c.id: i for i, c in enumerate(self._chunks)}
        self._row_of_hash = {c.hash: i for i, c in enumerate(self._chunks)}

    @property
    def manifest(self) -> Manifest | None:
        return self._manifest

    def chunks(self) -> Sequence[Chunk]:
        return self._chunks

    def chunk(self, chunk_id: str) -> Chunk | None:
        row = self._row.get(chunk_id)
        return self._chunks[row] if row is not None else None

    @property
    def has_sentences(self) -> bool:
        return self._sentences is not None

    def chunk_sentences(self, chunk_id: str) -> tuple[np.ndarray, np.ndarray] | None:
        row = self._row.get(chunk_id)
        if row is None or self._sentences is None:
            return None
        return self._sentences.of(row)

    def sentence_vectors(self, texts: Iterable[str]) -> dict[str, np.ndarray]:
        if self._sentences is None:
            return {}
        if self._sentence_place is None:
            places: dict[str, tuple[str, int]] = {}
            for text, chunk_id, k in self._sentences.places_by_text(self._chunks):
                places.setdefault(text, (chunk_id, k))
            self._sentence_place = places
        offsets, vectors = self._sentences.offsets, self._sentences.vectors
        out = {}
        for t in texts:
            place = self._sentence_place.get(t)
            row = self._row.get(place[0]) if place is not None else None
            if place is not None and row is not None:
                out[t] = np.array(vectors[int(offsets[row]) + place[1]], dtype=np.float32)
        return out

    def _carry_sentence_places(self, old: SentenceAccess, positions: Sequence[int]) -> None:
        """Take old's sentence places (when it made them), less those of the chunks that
        left and with those of the chunks that came (positions: merge()'s, for this
        snapshot made from old by a batch): an upload reads its own sentences, not every
        sentence of the collection again. A text whose chunk left is dropped even if another
        chunk holds it too (that chunk's copy is then embedded again if a sync needs it)."""
        if old._sentence_place is None or old._sentences is None or self._sentences is None:
            return
        places = dict(old._sentence_place)
        at = np.asarray(positions, dtype=np.int64)
        stays = np.zeros(len(old._chunks), dtype=bool)
        stays[at[at < len(old._chunks)]] = True
        for text, chunk_id, _ in old._sentences.places_by_text(
            old._chunks, np.flatnonzero(~stays).tolist()
        ):
            if places.get(text, ("",))[0] == chunk_id:
                del places[text]
        for text, chunk_id, k in self._sentences.places_by_text(
            self._chunks, np.flatnonzero(at >= len(old._chunks)).tolist()
        ):
            places.setdefault(text, (chunk_id, k))
        self._sentence_place = places

    def best_sentence_cosines(self, query: np.ndarray, chunk_ids: Sequence[str]) -> np.ndarray:
        out = np.full(len(chunk_ids), np.nan, dtype=np.float32)
        if self._sentences is None or not len(chunk_ids):
            return out
        # One gather of every candidate's rows and one product: retrieval asks this for a
        # couple of hundred chunks per question (a loop over chunk_sentences cost ~4 ms).
        rows = np.array([self._row.get(i, -1) for i in chunk_ids], dtype=np.int64)
        offsets = self._sentences.offsets
        which = np.flatnonzero(rows >= 0)
        starts = offsets[rows[which]]
        counts = offsets[rows[which] + 1] - starts
        which, starts, counts = which[counts > 0], starts[counts > 0], counts[counts > 0]
        if not len(which):
            return out
        first = np.zeros(len(counts), dtype=np.int64)
        np.cumsum(counts[:-1], out=first[1:])
        flat = np.repeat(starts - first, counts) + np.arange(int(counts.sum()))
        vectors = self._sentences.vectors
        taken = vectors[flat] if isinstance(vectors, np.ndarray) else np.asarray(vectors)[flat]
        cos = np.asarray(taken, dtype=np.float32) @ np.asarray(query, dtype=np.float32)
        out[which] = np.maximum.reduceat(cos, first)
        return out


def carried_rows(
    old: Manifest | None,
    old_chunks: Sequence[Chunk],
    new: Manifest | None,
    new_chunks: Sequence[Chunk],
) -> np.ndarray | None:
    """For each chunk of a new snapshot, its row among an old snapshot's chunks when it is
    the same chunk (its document is the same version in both), else -1: what a reader of
    the old snapshot may carry over to the new one instead of reading every chunk again.

    A store keeps each document's chunks together, documents in name order (merge), so this
    reads the two manifests, not the chunks: O(documents). None when the snapshots cannot be
    compared so (either has no manifest; another model or chunker, which cut other chunks
    from the same files; or chunks not laid out as their manifest says, checked at the ends
    of each document carried over).

    Example: old a.txt (2 chunks), b.txt (1); new a.txt the same, b.txt changed (2 chunks),
             c.txt added (1) -> [0, 1, -1, -1, -1]
    """
    if (
        old is None
        or new is None
        or (old.model, old.dimension, old.chunker) != (new.model, new.dimension, new.chunker)
        or sum(e.chunks for e in old.sources.values()) != len(old_chunks)
        or sum(e.chunks for e in new.sources.values()) != len(new_chunks)
    ):
        return None
    old_start: dict[str, int] = {}
    at = 0
    for name in sorted(old.sources):
        old_start[name] = at
        at += old.sources[name].chunks
    take = np.full(len(new_chunks), -1, dtype=np.int64)
    at = 0
    for name in sorted(new.sources):
        info = new.sources[name]
        first = old_start.get(name)
        if first is not None and old.sources[name] == info and info.chunks:
            last = info.chunks - 1
            if (old_chunks[first].id, old_chunks[first + last].hash) != (
                new_chunks[at].id,
                new_chunks[at + last].hash,
            ):
                return None
            take[at : at + info.chunks] = np.arange(first, first + info.chunks)
        at += info.chunks
    return take


def sources_of(manifest: Manifest | None) -> list[SourceInfo]:
    """The indexed documents, by name."""
    return [] if manifest is None else [manifest.sources[n] for n in sorted(manifest.sources)]


def merge(
    manifest: Manifest | None, chunks: Sequence[Chunk], batch: Batch
) -> tuple[dict[str, SourceInfo], list[Chunk], list[int]]:
    """What a store holds after a batch, computed the same way by every store.

    Returns the new per-source records, the new chunks in store order, and for each new
    chunk the position of its vector: i < len(chunks) is old chunk i's vector, otherwise
    row i - len(chunks) of the upserts' vectors stacked in batch order.

    Example: old chunks [a#0, b#0], batch upserts b -> [b#0', b#1'] and deletes nothing
    -> chunks [a#0, b#0', b#1'], positions [0, 2, 3]
    """
    gone = set(batch.deletes) | {u.info.source for u in batch.upserts}
    sources: dict[str, SourceInfo] = {}
    if manifest is not None and not batch.replace_all:
        sources = {n: e for n, e in manifest.sources.items() if n not in gone}
    kept_sources = set(sources)
    by_source: dict[str, list[tuple[Chunk, int]]] = {}
    for i, c in enumerate(chunks):
        # An e-mail's attachments are indexed as "<file>#<name>" but belong to the file.
        if source_file(c.source) in kept_sources:
            by_source.setdefault(source_file(c.source), []).append((c, i))
    offset = len(chunks)
    for u in batch.upserts:
        sources[u.info.source] = u.info
        by_source[u.info.source] = [(c, offset + j) for j, c in enumerate(u.chunks)]
        offset += len(u.chunks)
    pairs = [pair for name in sorted(by_source) for pair in by_source[name]]
    return sources, [c for c, _ in pairs], [i for _, i in pairs]


def merge_sentences(
    old: SentenceRows | None,
    old_chunks: int,
    batch: Batch,
    positions: Sequence[int],
    dimension: int,
) -> SentenceRows | None:
    """The sentence rows after a batch, in the chunk order merge() returned (positions: its
    third result), from the old rows (of the store's old_chunks chunks) and the upserts'.
    None when a chunk that stays has none: a generation holds sentences for every chunk
    or for none.

    Example: old rows of chunks [a#0 (2 sentences), b#0 (1)], an upsert of one chunk with 3,
             positions [0, 2] (a#0 stays, b#0 is replaced) -> offsets [0, 2, 5]
    """
    if old is not None and old.chunk_count != old_chunks:
        raise ValueError("the old sentence rows must cover the old chunks")
    if old is None:
        if any(p < old_chunks for p in positions):
            return None
        old = SentenceRows.empty(dimension, old_chunks)
    parts = [old]
    for u in batch.upserts:
        if u.sentences is None:
            return None
        parts.append(u.sentences)
    # Every part's offsets shifted into one numbering of rows and of chunks.
    counts = np.concatenate([np.diff(p.offsets) for p in parts])
    starts = np.concatenate([p.offsets[:-1] + base for p, base in _bases(parts)])
    spans = np.concatenate([p.spans for p in parts])
    order = np.asarray(positions, dtype=np.int64)
    take_counts = counts[order].astype(np.int64)
    offsets = np.zeros(len(order) + 1, dtype=np.int64)
    np.cumsum(take_counts, out=offsets[1:])
    # Row r of the result comes from row starts[chunk] + (r - offsets[chunk]).
    rows = np.repeat(starts[order] - offsets[:-1], take_counts) + np.arange(offsets[-1])
    # The vectors are not copied here: the write reads them a slice at a time (a memory-
    # mapped old generation stays on disk until then).
    vectors = GatheredRows([_as_rows(p.vectors, dimension) for p in parts], rows, dimension)
    return SentenceRows(offsets, spans[rows].astype(np.int32), vectors)


def _as_rows(vectors: np.ndarray | GatheredRows, dimension: int) -> np.ndarray | GatheredRows:
    if not isinstance(vectors, np.ndarray):
        return vectors
    if vectors.dtype != np.float32:  # float32 arrays (and memory maps) are used in place
        vectors = vectors.astype(np.float32)
    return vectors.reshape(-1, dimension)


def _bases(parts: Sequence[SentenceRows]) -> list[tuple[SentenceRows, int]]:
    """Each part with the number of rows before it."""
    out, base = [], 0
    for p in parts:
        out.append((p, base))
        base += len(p.spans)
    return out
