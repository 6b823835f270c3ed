"""FaissStore: the index as files in a folder (no pickle anywhere).

Layout of the folder:

    manifest.json            format version, model, dimension, chunker settings, every
                             source's sha256/size/chunk count, counts, build time; it names
                             the generation files below and is the commit point of a write
    vectors-<gen>.faiss      FAISS inner-product index of unit vectors (cosine similarity)
    chunks-<gen>.jsonl       one chunk a line, in the same order as the vectors

A batch is written as new generation files beside the old ones, then manifest.json is
replaced atomically, then the old generation is deleted: a crash at any point leaves a
loadable index. FAISS rows never leave this module: callers see chunk ids.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from ..schema import Chunk
from .base import FORMAT_VERSION, Batch, Manifest, merge

if TYPE_CHECKING:
    import faiss

__all__ = ["MANIFEST", "FaissStore", "read_manifest"]

MANIFEST = "manifest.json"


def _vectors_name(generation: str) -> str:
    return f"vectors-{generation}.faiss"


def _chunks_name(generation: str) -> str:
    return f"chunks-{generation}.jsonl"


class FaissStore:
    """One loaded generation of an index folder (a snapshot: apply() returns a new one)."""

    def __init__(
        self,
        directory: Path,
        manifest: Manifest | None = None,
        chunks: Sequence[Chunk] = (),
        vectors: faiss.Index | None = None,
    ) -> None:
        self.directory = Path(directory)
        self._manifest = manifest
        self._chunks = tuple(chunks)
        self._vectors = vectors
        self._row = {c.id: i for i, c in enumerate(self._chunks)}
        self._row_of_hash = {c.hash: i for i, c in enumerate(self._chunks)}

    # ------------------------------------------------------------ opening

    @classmethod
    def load(
        cls, directory: str | Path, *, model: str | None = None, dimension: int | None = None
    ) -> FaissStore:
        """Load and verify the index in directory; with model and dimension, also check it
        was built with them. Every failure is one sentence saying what to do."""
        import faiss

        directory = Path(directory)
        manifest = read_manifest(directory)
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
            vectors = faiss.read_index(str(vectors_path))
            with chunks_path.open(encoding="utf-8") as fh:
                chunks = [Chunk.from_dict(json.loads(line)) for line in fh if line.strip()]
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
        return cls(directory, manifest, chunks, vectors)

    # ------------------------------------------------------------ reading

    @property
    def location(self) -> str:
        return str(self.directory)

    @property
    def manifest(self) -> Manifest | None:
        return self._manifest

    def chunks(self) -> Sequence[Chunk]:
        return self._chunks

    def chunk(self, chunk_id: str) -> Chunk | None:
        row = self._row.get(chunk_id)
        return self._chunks[row] if row is not None else None

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
        return np.stack([self._vectors.reconstruct(int(r)) for r in rows]).astype(np.float32)

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
        pool = [self._all_vectors()] if self._chunks else []
        pool += [np.asarray(u.vectors, dtype=np.float32) for u in batch.upserts]
        matrix = (
            np.concatenate([p.reshape(-1, b.dimension) for p in pool])[positions]
            if chunks
            else np.zeros((0, b.dimension), dtype=np.float32)
        )
        manifest = Manifest(
            model=b.model,
            dimension=b.dimension,
            max_seq_length=b.max_seq_length,
            chunker=b.chunker,
            sources=sources,
            chunk_count=len(chunks),
            generation=uuid.uuid4().hex[:12],
            built_at=batch.built_at or datetime.now(UTC).isoformat(timespec="seconds"),
            folder=b.folder,
        )
        vectors = faiss.IndexFlatIP(manifest.dimension)
        if len(matrix):
            vectors.add(np.ascontiguousarray(matrix, dtype=np.float32))
        _write(self.directory, manifest, chunks, vectors)
        return FaissStore(self.directory, manifest, chunks, vectors)

    def refresh(self) -> FaissStore:
        return FaissStore.load(self.directory)


def read_manifest(index_dir: Path) -> Manifest:
    """The manifest of the index in index_dir, or one sentence saying what to do."""
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


def _write(
    index_dir: Path, manifest: Manifest, chunks: Sequence[Chunk], vectors: faiss.Index
) -> None:
    """Write generation files, then switch manifest.json to them atomically."""
    import faiss

    index_dir.mkdir(parents=True, exist_ok=True)
    vectors_path = index_dir / _vectors_name(manifest.generation)
    chunks_path = index_dir / _chunks_name(manifest.generation)
    faiss.write_index(vectors, str(vectors_path))
    with chunks_path.open("w", encoding="utf-8") as fh:
        for chunk in chunks:
            fh.write(json.dumps(chunk.to_dict(), ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    data = manifest.to_json()
    data["files"] = {"vectors": vectors_path.name, "chunks": chunks_path.name}
    _atomic_write_text(index_dir / MANIFEST, json.dumps(data, indent=2))
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
