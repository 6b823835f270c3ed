"""Hybrid retrieval: dense (the store's vectors) and BM25 evidence, fused, then deduplicated.

Two fusions are available. "score" (the default) is a convex combination of the BM25 score
scaled by its maximum and the cosine scaled between the dense candidates' lowest and highest;
"rrf" is weighted reciprocal rank fusion. On covid-qa, score fusion with lexical_weight 0.7
beat RRF and both single retrievers (Settings' default); with the best-sentence dense
score below, 0.6 with sentence_share 1.0 ranked better, but is off by default: see README.

A chunk's dense score may also read its sentences (sentence_share): the cosine of its best
sentence with the question, blended with the chunk's own cosine. A chunk vector is the mean
of its sentences, so one sentence that answers the question is diluted by the others; its
own vector is not. The sentence vectors are stored already (a SentenceStore), so this costs
one small product per candidate. A store without them (PgStore) ranks by chunk cosines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..embedding import Embedder
from ..schema import Chunk, Hit
from ..store import LexicalStore, SentenceStore, Store, carried_rows
from .fusion import dedupe_spans, normalized_score_fusion, reciprocal_rank_fusion
from .lexical import LexicalIndex
from .spelling import Speller

__all__ = ["HybridRetriever", "RetrievalConfig", "blend_best_sentence"]


@dataclass(frozen=True, slots=True)
class RetrievalConfig:
    fusion: Literal["score", "rrf"] = "score"
    candidates: int = 100  # how deep each retriever looks before fusion
    lexical_weight: float = 0.7  # share of BM25 in "score" fusion; RRF weight in "rrf"
    dense_weight: float = 1.0  # RRF weight of the dense ranking ("rrf" only)
    rrf_k: int = 60
    # Share of a chunk's best sentence cosine in its dense score (the rest: the chunk's own
    # cosine). With a share above 0 every candidate of either retriever is scored so.
    # Settings' defaults (sentence share 1.0, BM25 share 0.6) are the measured choice; these
    # are the plain chunk-cosine fusion, which every store ranks the same way.
    sentence_share: float = 0.0


def blend_best_sentence(
    chunk_cosines: np.ndarray, best_sentences: np.ndarray, share: float
) -> np.ndarray:
    """Each chunk's dense score: share * its best sentence's cosine + (1 - share) * its own
    cosine; a chunk whose best sentence is NaN (it has none) keeps its own cosine.

    Example: chunk cosines [0.5, 0.6, 0.4], best sentences [0.9, 0.6, nan], share 0.5
             -> [0.7, 0.6, 0.4]   (0.5*0.9 + 0.5*0.5; 0.5*0.6 + 0.5*0.6; no sentences)
    """
    own = np.asarray(chunk_cosines, dtype=np.float32)
    best = np.asarray(best_sentences, dtype=np.float32)
    blended = share * best + (1 - share) * own
    return np.where(np.isnan(best), own, blended).astype(np.float32)


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
        previous: HybridRetriever | None = None,
    ) -> None:
        """previous: the retriever of an earlier snapshot of the same collection, whose BM25
        index and speller this one derives its own from, reading only the chunks of the
        documents that changed (`store.carried_rows`); the result equals a build from every
        chunk, which is what happens without it or when the two cannot be compared."""
        self.store = store
        self.embedder = embedder
        self.config = config
        self._in_store = lexical is None and isinstance(store, LexicalStore)
        if self._in_store:
            self._chunks: Sequence[Chunk] = ()
            self.lexical: LexicalIndex | LexicalStore = store  # type: ignore[assignment]
            self._speller = Speller.from_texts((), self._whole_word)
            return
        self._chunks = store.chunks()
        derived = self._derived(previous) if previous is not None and lexical is None else None
        if derived is not None:
            self.lexical, self._speller = derived
            return
        self.lexical = lexical or LexicalIndex([c.text for c in self._chunks])
        # Built with the BM25 index, once per snapshot (at start-up and after a sync), so no
        # question waits for it: one pass over the texts, about as long as BM25's (covid-qa's
        # 2.5 MB: 0.34 s each). A store that keeps its texts (PgStore) gets an empty one.
        self._speller = Speller.from_texts((c.text for c in self._chunks), self._whole_word)

    def _derived(self, previous: HybridRetriever) -> tuple[LexicalIndex, Speller] | None:
        """This snapshot's BM25 index and speller from previous's, or None when previous's
        cannot be carried over (another kind of store, model or chunker)."""
        old = previous.lexical
        if previous._in_store or not isinstance(old, LexicalIndex):
            return None
        take = carried_rows(
            previous.store.manifest, previous._chunks, self.store.manifest, self._chunks
        )
        if take is None:
            return None
        kept = take >= 0
        dropped = np.ones(len(previous._chunks), dtype=bool)
        dropped[take[kept]] = False
        added = [self._chunks[int(i)].text for i in np.flatnonzero(~kept)]
        removed = [previous._chunks[int(i)].text for i in np.flatnonzero(dropped)]
        return (
            old.updated(take, added),
            previous._speller.updated(removed, added, self._whole_word),
        )

    def embed_query(self, query: str) -> np.ndarray:
        return self.embedder.embed([query])[0]

    def respell(self, text: str) -> str:
        """text with its chat-typed words spelt as the collection spells them ("amzn" ->
        "amazon"; retrieval/spelling.py). A store that keeps its texts in the database
        (PgStore) is not read whole for this, so its questions are taken as typed."""
        return self._speller.respell(text)

    def _whole_word(self, word: str) -> bool:
        """Whether the encoder reads word as one piece: an English word it knows."""
        return len(self.embedder.token_spans(word)) == 1

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
        if cfg.sentence_share > 0:
            dense = self._with_sentences(qv, dense, lexical)
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
        # Every candidate gets its true chunk cosine (those found only by BM25 too): the
        # composer's refusal decision reads it.
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

    def _with_sentences(
        self,
        qv: np.ndarray,
        dense: list[tuple[str, float]],
        lexical: list[tuple[str, float]],
    ) -> list[tuple[str, float]]:
        """Both retrievers' candidates scored by blend_best_sentence, best first; dense
        unchanged when the store keeps no sentence vectors."""
        store = self.store
        if not (isinstance(store, SentenceStore) and store.has_sentences):
            return dense
        cos = dict(dense)
        ids = list(cos) + [i for i, _ in lexical if i not in cos]
        extra = ids[len(dense) :]
        if extra:
            cos.update(zip(extra, (float(c) for c in store.cosines(qv, extra)), strict=True))
        scores = blend_best_sentence(
            np.array([cos[i] for i in ids], dtype=np.float32),
            store.best_sentence_cosines(qv, ids),
            self.config.sentence_share,
        )
        order = np.argsort(-scores, kind="stable")
        return [(ids[int(r)], float(scores[r])) for r in order]

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
