"""The index on disk: build it, keep it in sync with a folder, load and verify it.

Layout of index/ (no pickle anywhere):

    manifest.json            format version, model, dimension, chunker settings, every
                             source's sha256/size/chunk count, counts, build time; it names
                             the generation files below and is the commit point of a write
    vectors-<gen>.faiss      FAISS inner-product index of unit vectors (cosine similarity)
    chunks-<gen>.jsonl       one chunk a line, in the same order as the vectors

A write puts new generation files beside the old ones, then atomically replaces
manifest.json, then deletes the old generation: a crash at any point leaves a loadable index.
The lexical (BM25) index is derived from the chunks when the index is loaded, so it can never
disagree with them.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .embedding import Embedder
from .errors import (
    AssistantError,
    DocumentError,
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
)
from .ingest.chunking import chunk_document
from .ingest.loaders import load_document, scan_folder
from .schema import Chunk, SkippedFile, SyncReport

if TYPE_CHECKING:
    import faiss

__all__ = ["FORMAT_VERSION", "ChunkerConfig", "Index", "SourceEntry", "load_index", "sync_index"]

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CHUNKER_VERSION = 1  # bump when chunking changes in a way that alters chunks


@dataclass(frozen=True, slots=True)
class ChunkerConfig:
    max_tokens: int
    overlap_tokens: int
    version: int = CHUNKER_VERSION


@dataclass(frozen=True, slots=True)
class SourceEntry:
    sha256: str
    size: int
    kind: str
    chunks: int
    pages: int | None = None


@dataclass(frozen=True, slots=True)
class Manifest:
    model: str
    dimension: int
    max_seq_length: int
    chunker: ChunkerConfig
    sources: dict[str, SourceEntry]
    chunk_count: int
    generation: str
    built_at: str
    folder: str = ""  # the documents folder it was built from, absolute
    format_version: int = FORMAT_VERSION

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "model": self.model,
            "dimension": self.dimension,
            "max_seq_length": self.max_seq_length,
            "chunker": {
                "max_tokens": self.chunker.max_tokens,
                "overlap_tokens": self.chunker.overlap_tokens,
                "version": self.chunker.version,
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
            "files": {
                "vectors": _vectors_name(self.generation),
                "chunks": _chunks_name(self.generation),
            },
            "built_at": self.built_at,
            "folder": self.folder,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        return cls(
            format_version=int(data["format_version"]),
            model=str(data["model"]),
            dimension=int(data["dimension"]),
            max_seq_length=int(data["max_seq_length"]),
            chunker=ChunkerConfig(**data["chunker"]),
            sources={name: SourceEntry(**e) for name, e in data["sources"].items()},
            chunk_count=int(data["counts"]["chunks"]),
            generation=str(data["generation"]),
            built_at=str(data["built_at"]),
            folder=str(data.get("folder", "")),
        )


def _vectors_name(generation: str) -> str:
    return f"vectors-{generation}.faiss"


def _chunks_name(generation: str) -> str:
    return f"chunks-{generation}.jsonl"


@dataclass
class Index:
    """A loaded, verified index: chunks and their vectors, row i for chunk i."""

    directory: Path
    manifest: Manifest
    chunks: list[Chunk]
    vectors: faiss.Index
    by_id: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_id = {c.id: i for i, c in enumerate(self.chunks)}

    def search(self, query_vectors: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        """Top-k (row, cosine) per query row, best first."""
        k = min(k, len(self.chunks))
        if k == 0:
            return [[] for _ in range(len(query_vectors))]
        scores, rows = self.vectors.search(np.ascontiguousarray(query_vectors, dtype=np.float32), k)
        return [
            [(int(r), float(s)) for r, s in zip(row, score, strict=True) if r >= 0]
            for row, score in zip(rows, scores, strict=True)
        ]

    def vectors_of(self, rows: list[int]) -> np.ndarray:
        """The stored unit vectors of the given rows."""
        return np.stack([self.vectors.reconstruct(int(r)) for r in rows]).astype(np.float32)

    def all_vectors(self) -> np.ndarray:
        n = self.vectors.ntotal
        if n == 0:
            return np.zeros((0, self.manifest.dimension), dtype=np.float32)
        return np.asarray(self.vectors.reconstruct_n(0, n), dtype=np.float32)


# ---------------------------------------------------------------- loading


def read_manifest(index_dir: Path) -> Manifest:
    path = index_dir / MANIFEST
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
        data = json.loads(path.read_text(encoding="utf-8"))
        version = data.get("format_version") if isinstance(data, dict) else None
        if version != FORMAT_VERSION:
            raise IndexMismatchError(
                f"{path} has format version {version!r}, this assistant reads version "
                f"{FORMAT_VERSION}: run `assistant index` to rebuild it"
            )
        return Manifest.from_json(data)
    except (ValueError, KeyError, TypeError) as exc:
        raise IndexCorruptError(
            f"{path} is unreadable ({exc.__class__.__name__}): run `assistant index` to rebuild it"
        ) from exc


def load_index(index_dir: Path, embedder: Embedder) -> Index:
    """Load and verify the index; every failure is one sentence saying what to do."""
    import faiss

    manifest = read_manifest(index_dir)
    if manifest.model != embedder.name or manifest.dimension != embedder.dimension:
        raise IndexMismatchError(
            f"{index_dir} was built with {manifest.model!r} ({manifest.dimension} dimensions), "
            f"settings ask for {embedder.name!r} ({embedder.dimension}): "
            "run `assistant index` to rebuild it"
        )
    vectors_path = index_dir / _vectors_name(manifest.generation)
    chunks_path = index_dir / _chunks_name(manifest.generation)
    try:
        vectors = faiss.read_index(str(vectors_path))
        with chunks_path.open(encoding="utf-8") as fh:
            chunks = [Chunk.from_dict(json.loads(line)) for line in fh if line.strip()]
    except (OSError, RuntimeError, ValueError, TypeError, KeyError) as exc:
        raise IndexCorruptError(
            f"the index files in {index_dir} are missing or damaged: run `assistant index` to "
            "rebuild it"
        ) from exc
    if (
        not (vectors.ntotal == len(chunks) == manifest.chunk_count)
        or vectors.d != manifest.dimension
    ):
        raise IndexCorruptError(
            f"{index_dir} is inconsistent ({vectors.ntotal} vectors, {len(chunks)} chunks, "
            f"manifest says {manifest.chunk_count}): run `assistant index` to rebuild it"
        )
    return Index(directory=index_dir, manifest=manifest, chunks=chunks, vectors=vectors)


# ---------------------------------------------------------------- syncing


def sync_index(
    folder: Path,
    index_dir: Path,
    embedder: Embedder,
    chunker: ChunkerConfig,
    *,
    on_progress: Callable[[str, float], None] | None = None,
) -> SyncReport:
    """Bring index_dir up to date with folder, doing only the work that changed.

    Files are compared by sha256 with the manifest: unchanged files keep their chunks and
    vectors; added and changed files are re-chunked; deleted files' chunks leave the index.
    Vectors are reused by (model, chunk content hash), so only new text is embedded.
    A file that fails to load is reported; if an earlier version was indexed it is kept.
    """
    progress = on_progress or (lambda _stage, _fraction: None)
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()

    old = _load_previous(index_dir, embedder, chunker)
    old_sources = old.manifest.sources if old else {}
    rechunk_all = old is None or old.manifest.chunker != chunker

    paths, skipped = scan_folder(folder)
    skipped = list(skipped)
    current: dict[str, tuple[Path, str, int]] = {}
    for path in paths:
        source = path.relative_to(folder).as_posix()
        try:
            data_sha, size = _file_digest(path)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            skipped.append(
                SkippedFile(
                    source, f"could not read {source} ({reason}): check that it is readable"
                )
            )
            entry = old_sources.get(source)
            if entry is not None and not rechunk_all:
                current[source] = (path, entry.sha256, entry.size)  # keep the indexed version
            continue
        current[source] = (path, data_sha, size)
    seconds["scan"] = time.perf_counter() - t0
    progress("scan", 1.0)

    added = sorted(s for s in current if s not in old_sources)
    removed = sorted(s for s in old_sources if s not in current)
    updated = sorted(
        s for s in current if s in old_sources and current[s][1] != old_sources[s].sha256
    )
    unchanged = sorted(s for s in current if s in old_sources and s not in updated)
    to_chunk = added + updated + (unchanged if rechunk_all else [])

    same_folder = old is not None and old.manifest.folder == str(folder.resolve())
    if old is not None and same_folder and not to_chunk and not removed:
        seconds["total"] = time.perf_counter() - t0
        return SyncReport(
            unchanged=tuple(unchanged),
            skipped=tuple(skipped),
            chunks_total=len(old.chunks),
            seconds=seconds,
        )

    # Keep what did not change, chunk what did.
    t = time.perf_counter()
    kept_sources = set(unchanged) if not rechunk_all else set()
    chunks_by_source: dict[str, list[Chunk]] = {}
    entries: dict[str, SourceEntry] = {}
    if old is not None:
        for chunk in old.chunks:
            if chunk.source in kept_sources:
                chunks_by_source.setdefault(chunk.source, []).append(chunk)
        entries = {s: old_sources[s] for s in kept_sources}
    failed: list[str] = []
    for i, source in enumerate(to_chunk):
        path, data_sha, size = current[source]
        try:
            doc = load_document(path, folder)
        except DocumentError as exc:
            skipped.append(SkippedFile(source, str(exc)))
            failed.append(source)
            continue
        chunks = chunk_document(
            doc,
            embedder.token_spans,
            max_tokens=chunker.max_tokens,
            overlap_tokens=chunker.overlap_tokens,
        )
        chunks_by_source[source] = chunks
        entries[source] = SourceEntry(
            sha256=doc.sha256,
            size=doc.size,
            kind=doc.kind,
            chunks=len(chunks),
            pages=len(doc.page_starts) or None,
        )
        progress("chunk", (i + 1) / len(to_chunk))
    # A file that now fails to load keeps its previously indexed version: nothing indexed is
    # lost because of a bad edit (the report says so).
    for source in failed:
        if old is not None and source in old_sources and not rechunk_all:
            chunks_by_source[source] = [c for c in old.chunks if c.source == source]
            entries[source] = old_sources[source]
    added = [s for s in added if s not in failed]
    updated = [s for s in updated if s not in failed]
    seconds["chunk"] = time.perf_counter() - t

    chunks = [c for source in sorted(chunks_by_source) for c in chunks_by_source[source]]

    # Embed only content whose vector is not already known.
    t = time.perf_counter()
    cache: dict[str, np.ndarray] = {}
    if old is not None:
        old_vectors = old.all_vectors()
        cache = {c.hash: old_vectors[i] for i, c in enumerate(old.chunks)}
    missing = list(dict.fromkeys(c.hash for c in chunks if c.hash not in cache))
    text_of = {c.hash: c.text for c in chunks}
    if missing:
        progress("embed", 0.0)
        new_vectors = embedder.embed([text_of[h] for h in missing])
        cache.update(zip(missing, new_vectors, strict=True))
    progress("embed", 1.0)
    seconds["embed"] = time.perf_counter() - t

    t = time.perf_counter()
    matrix = (
        np.stack([cache[c.hash] for c in chunks]).astype(np.float32)
        if chunks
        else np.zeros((0, embedder.dimension), dtype=np.float32)
    )
    manifest = Manifest(
        model=embedder.name,
        dimension=embedder.dimension,
        max_seq_length=embedder.max_seq_length,
        chunker=chunker,
        sources=entries,
        chunk_count=len(chunks),
        generation=uuid.uuid4().hex[:12],
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        folder=str(folder.resolve()),
    )
    write_index(index_dir, manifest, chunks, matrix)
    seconds["write"] = time.perf_counter() - t
    seconds["total"] = time.perf_counter() - t0
    progress("write", 1.0)
    return SyncReport(
        added=tuple(added),
        updated=tuple(updated),
        removed=tuple(removed),
        unchanged=tuple(unchanged),
        skipped=tuple(skipped),
        chunks_embedded=len(missing),
        chunks_total=len(chunks),
        seconds=seconds,
    )


def _load_previous(index_dir: Path, embedder: Embedder, chunker: ChunkerConfig) -> Index | None:
    """The index to update, or None to build afresh (none yet, another model, or damaged)."""
    try:
        return load_index(index_dir, embedder)
    except IndexMissingError:
        return None
    except AssistantError:
        # A damaged or foreign index is rebuilt from the documents, which are the truth;
        # the old files are replaced only once the new ones are written.
        return None


def _file_digest(path: Path) -> tuple[str, int]:
    import hashlib

    h = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size


def write_index(
    index_dir: Path, manifest: Manifest, chunks: list[Chunk], matrix: np.ndarray
) -> None:
    """Write generation files, then switch manifest.json to them atomically."""
    import faiss

    index_dir.mkdir(parents=True, exist_ok=True)
    vectors = faiss.IndexFlatIP(manifest.dimension)
    if len(matrix):
        vectors.add(np.ascontiguousarray(matrix, dtype=np.float32))
    vectors_path = index_dir / _vectors_name(manifest.generation)
    chunks_path = index_dir / _chunks_name(manifest.generation)
    faiss.write_index(vectors, str(vectors_path))
    with chunks_path.open("w", encoding="utf-8") as fh:
        for chunk in chunks:
            fh.write(json.dumps(chunk.to_dict(), ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    _atomic_write_text(index_dir / MANIFEST, json.dumps(manifest.to_json(), indent=2))
    keep = {vectors_path.name, chunks_path.name, MANIFEST}
    leftovers = [
        *index_dir.glob("vectors-*.faiss"),
        *index_dir.glob("chunks-*.jsonl"),
        *index_dir.glob(f".{MANIFEST}.*.tmp"),  # from a write killed before its rename
    ]
    for stale in leftovers:
        if stale.name not in keep:
            with contextlib.suppress(OSError):
                stale.unlink()


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
