"""Hybrid retrieval: dense and BM25 candidates, fused by weighted reciprocal rank fusion,
then deduplicated."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..embedding import Embedder
from ..schema import Hit
from ..store import Index
from .fusion import dedupe_spans, reciprocal_rank_fusion
from .lexical import LexicalIndex

__all__ = ["HybridRetriever", "RetrievalConfig"]


@dataclass(frozen=True, slots=True)
class RetrievalConfig:
    candidates: int = 40  # how deep each retriever looks before fusion
    rrf_k: int = 60
    dense_weight: float = 1.0
    lexical_weight: float = 1.0


class HybridRetriever:
    def __init__(self, index: Index, embedder: Embedder, config: RetrievalConfig) -> None:
        self.index = index
        self.embedder = embedder
        self.config = config
        self.lexical = LexicalIndex([c.text for c in index.chunks])

    def embed_query(self, query: str) -> np.ndarray:
        return self.embedder.embed([query])[0]

    def dense(self, query_vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        return self.index.search(query_vector[None, :], k)[0]

    def retrieve(
        self, query: str, k: int, *, query_vector: np.ndarray | None = None
    ) -> list[Hit]:
        """The k best distinct chunks for query, best first."""
        if not self.index.chunks:
            return []
        cfg = self.config
        depth = max(cfg.candidates, k)
        qv = self.embed_query(query) if query_vector is None else query_vector
        dense = self.dense(qv, depth) if cfg.dense_weight > 0 else []
        lexical = self.lexical.search(query, depth) if cfg.lexical_weight > 0 else []
        fused = reciprocal_rank_fusion(
            [[str(r) for r, _ in dense], [str(r) for r, _ in lexical]],
            k=cfg.rrf_k,
            weights=[cfg.dense_weight, cfg.lexical_weight],
        )
        lexical_scores = dict(lexical)
        rows = [int(r) for r, _ in fused]
        # Rows found only lexically still get their true cosine, for the refusal decision.
        all_cos = self.index.vectors_of(rows) @ qv if rows else np.zeros(0)
        hits = [
            Hit(
                chunk=self.index.chunks[row],
                score=score,
                dense_score=float(cos),
                lexical_score=lexical_scores.get(row, 0.0),
            )
            for (row, score), cos in zip(((int(r), s) for r, s in fused), all_cos, strict=True)
        ]
        keep = dedupe_spans([(h.chunk.hash, h.chunk.source, h.chunk.start, h.chunk.end) for h in hits])
        return [hits[i] for i in keep][:k]
