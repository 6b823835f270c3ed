"""BM25 over chunk texts (bm25s: sparse, numpy-only, fast to build), with English stemming
so that "invested" finds "investment"."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..text import BM25_B, BM25_K1, STOPWORDS, analyze

__all__ = ["STOPWORDS", "LexicalIndex", "analyze"]


class LexicalIndex:
    """BM25 (Lucene variant) over a fixed list of texts; rows match the chunk rows."""

    def __init__(self, texts: Sequence[str]) -> None:
        import bm25s

        self._size = len(texts)
        # k1 and b were chosen on the tune half of covid-qa (k1 1.5/0.75 defaults lost 2 points
        # of hit@5 there): term saturation early and mild length normalisation suit chunks of
        # near-equal length.
        self._retriever = bm25s.BM25(k1=BM25_K1, b=BM25_B)
        corpus_tokens = [analyze(t) for t in texts]
        vocab: dict[str, int] = {}
        ids = [[vocab.setdefault(w, len(vocab)) for w in doc] for doc in corpus_tokens]
        self._vocab = vocab
        df: dict[str, int] = {}
        for doc in corpus_tokens:
            for w in set(doc):
                df[w] = df.get(w, 0) + 1
        self._df = df
        if self._size:
            self._retriever.index(
                bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), show_progress=False
            )

    def idf(self, term: str) -> float:
        """BM25 inverse document frequency of an analysed term; a term the corpus lacks gets
        the highest weight, so its absence counts as missing evidence.

        Example: in 3 texts, a term in 1 of them -> log(1 + 2.5 / 1.5) = 0.98
        """
        n, df = self._size, self._df.get(term, 0)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every row for query (zeros when no query term is in the corpus)."""
        terms = [self._vocab[w] for w in analyze(query) if w in self._vocab]
        if not terms or not self._size:
            return np.zeros(self._size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(terms), dtype=np.float32)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """Top-k (row, BM25 score) with a positive score, best first."""
        k = min(k, self._size)
        if k == 0:
            return []
        scores = self.scores(query)
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        ranked = sorted(((int(i), float(scores[i])) for i in top), key=lambda p: -p[1])
        return [(i, s) for i, s in ranked if s > 0]
