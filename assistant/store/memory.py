"""MemoryStore: the whole index in numpy arrays, for fast tests and throwaway collections
(a SentenceStore: it keeps sentence vectors when the batches bring them).

Nothing is written anywhere; a MemoryStore lives as long as the process. Several snapshots
share one `_Shelf`, so refresh() sees what the latest apply() committed, as readers of a
shared database would.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from ..schema import Chunk
from .base import Batch, Manifest, SentenceAccess, SentenceRows, merge, merge_sentences

__all__ = ["MemoryStore"]

_generations = itertools.count(1)


@dataclass
class _Shelf:
    """The latest committed snapshot, shared by every snapshot of one store."""

    latest: MemoryStore | None = None


class MemoryStore(SentenceAccess):
    """An index held in memory; search is a matrix product (exact, like FAISS IndexFlatIP)."""

    def __init__(
        self,
        manifest: Manifest | None = None,
        chunks: Sequence[Chunk] = (),
        vectors: np.ndarray | None = None,
        *,
        sentences: SentenceRows | None = None,
        name: str = "memory",
        _shelf: _Shelf | None = None,
    ) -> None:
        chunks = tuple(chunks)
        dimension = manifest.dimension if manifest else 0
        self._vectors = (
            np.zeros((0, dimension), dtype=np.float32)
            if vectors is None
            else np.asarray(vectors, dtype=np.float32)
        )
        if len(self._vectors) != len(chunks):
            raise ValueError("one vector per chunk")
        self._hold_chunks(manifest, chunks, sentences)
        self._name = name
        self._shelf = _shelf or _Shelf()
        if self._shelf.latest is None:
            self._shelf.latest = self

    @property
    def location(self) -> str:
        return f"memory:{self._name}"

    def search(self, query: np.ndarray, k: int) -> list[tuple[str, float]]:
        k = min(k, len(self._chunks))
        if k <= 0:
            return []
        scores = self._vectors @ np.asarray(query, dtype=np.float32)
        # A stable sort of the negated scores: ties stay in chunk order.
        rows = np.argsort(-scores, kind="stable")[:k]
        return [(self._chunks[int(r)].id, float(scores[r])) for r in rows]

    def cosines(self, query: np.ndarray, chunk_ids: Sequence[str]) -> np.ndarray:
        if not chunk_ids:
            return np.zeros(0, dtype=np.float32)
        return self._vectors[[self._row[i] for i in chunk_ids]] @ query

    def vectors_by_hash(self, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        return {h: self._vectors[self._row_of_hash[h]] for h in hashes if h in self._row_of_hash}

    def apply(self, batch: Batch) -> MemoryStore:
        sources, chunks, positions = merge(self._manifest, self._chunks, batch)
        b = batch.build
        pool = [self._vectors.reshape(-1, b.dimension)] if self._chunks else []
        pool += [
            np.asarray(u.vectors, dtype=np.float32).reshape(-1, b.dimension) for u in batch.upserts
        ]
        matrix = (
            np.concatenate(pool)[positions] if chunks else np.zeros((0, b.dimension), np.float32)
        )
        manifest = Manifest.after(batch, sources, len(chunks), f"m{next(_generations)}")
        sentences = merge_sentences(
            self._sentences, len(self._chunks), batch, positions, b.dimension
        )
        if sentences is not None:
            sentences = sentences.held()  # its own array: the old snapshot's can go
        new = MemoryStore(
            manifest, chunks, matrix, sentences=sentences, name=self._name, _shelf=self._shelf
        )
        new._carry_sentence_places(self, positions)
        self._shelf.latest = new
        return new

    def tidy(self) -> None:
        """Nothing to tidy: a MemoryStore has no files."""

    def refresh(self) -> MemoryStore:
        return self._shelf.latest or self
