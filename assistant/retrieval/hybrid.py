"""Hybrid retrieval: dense (the store's vectors) and BM25 evidence, fused, then deduplicated.

Two fusions are available. "score" (the default) is a convex combination of the BM25 score
scaled by its maximum and the cosine scaled between the dense candidates' lowest and highest;
"rrf" is weighted reciprocal rank fusion. On covid-qa, score fusion with lexical_weight 0.7
beat RRF and both single retrievers; see README for the figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..embedding import Embedder
from ..schema import Chunk, Hit
from ..store import LexicalStore, Store
from .fusion import dedupe_spans, normalized_score_fusion, reciprocal_rank_fusion
from .lexical import LexicalIndex

__all__ = ["HybridRetriever", "RetrievalConfig"]


@dataclass(frozen=True, slots=True)
class RetrievalConfig:
    fusion: Literal["score", "rrf"] = "score"
    candidates: int = 100  # how deep each retriever looks before fusion
    lexical_weight: float = 0.7  # share of BM25 in "score" fusion; RRF weight in "rrf"
    dense_weight: float = 1.0  # RRF weight of the dense ranking ("rrf" only)
    rrf_k: int = 60


class HybridRetriever:
    """Dense and BM25 retrieval over one store snapshot; chunks are addressed by id.

    The BM25 index is built from the snapshot's chunks here, so it can never disagree with
    them; a store that ranks by BM25 itself (a LexicalStore: PgStore, in the database) is
    asked instead, so no process holds every chunk's text. Both give the same scores.
    """

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        config: RetrievalConfig,
        *,
        lexical: LexicalIndex | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.config = config
        self._in_store = lexical is None and isinstance(store, LexicalStore)
        if self._in_store:
            self._chunks: Sequence[Chunk] = ()
            self._position: dict[str, int] = {}
            self.lexical: LexicalIndex | LexicalStore = store  # type: ignore[assignment]
        else:
            self._chunks = store.chunks()
            self._position = {c.id: i for i, c in enumerate(self._chunks)}  # BM25's row
            self.lexical = lexical or LexicalIndex([c.text for c in self._chunks])

    def embed_query(self, query: str) -> np.ndarray:
        return self.embedder.embed([query])[0]

    def retrieve(self, query: str, k: int, *, query_vector: np.ndarray | None = None) -> list[Hit]:
        """The k best distinct chunks for query, best first."""
        manifest = self.store.manifest
        if manifest is None or not manifest.chunk_count:
            return []
        cfg = self.config
        qv = self.embed_query(query) if query_vector is None else query_vector
        depth = max(cfg.candidates, 4 * k)  # room for the duplicates dedupe drops
        dense = self.store.search(qv, depth)
        lexical = self._lexical(query, depth)
        lexical_score = dict(lexical)

        if cfg.fusion == "rrf":
            fused = reciprocal_rank_fusion(
                [[i for i, _ in dense], [i for i, _ in lexical]],
                k=cfg.rrf_k,
                weights=[cfg.dense_weight, cfg.lexical_weight],
            )
        else:
            fused = normalized_score_fusion(dense, lexical, lexical_weight=cfg.lexical_weight)

        ids = [i for i, _ in fused]
        # Every candidate gets its true cosine (those found only by BM25 too): the composer's
        # refusal decision reads it.
        cosines = self.store.cosines(qv, ids)
        hits = []
        for (chunk_id, score), cos in zip(fused, cosines, strict=True):
            chunk = self.store.chunk(chunk_id)
            assert chunk is not None  # the ids came from this snapshot
            hits.append(
                Hit(
                    chunk=chunk,
                    score=float(score),
                    dense_score=float(cos),
                    lexical_score=lexical_score.get(chunk_id, 0.0),
                )
            )
        keep = dedupe_spans(
            [(h.chunk.hash, h.chunk.source, h.chunk.start, h.chunk.end) for h in hits]
        )
        return [hits[i] for i in keep][:k]

    def _lexical(self, query: str, depth: int) -> list[tuple[str, float]]:
        """The depth best chunks by BM25 (positive scores), best first, ties in chunk order."""
        if self._in_store:
            return self.store.lexical_search(query, depth)  # type: ignore[attr-defined]
        assert isinstance(self.lexical, LexicalIndex)
        bm25 = self.lexical.scores(query)
        return [
            (self._chunks[int(r)].id, float(bm25[r]))
            for r in np.argsort(-bm25, kind="stable")[:depth]
            if bm25[r] > 0
        ]
