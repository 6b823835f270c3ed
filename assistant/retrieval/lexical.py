"""BM25 over chunk texts, with English stemming so that "invested" finds "investment".

The index keeps term frequencies, not scores: a score is computed when a query reads a
term's postings, from the collection's current size, average length and document
frequencies. So a snapshot that adds or drops a document derives its index from the
previous one (`LexicalIndex.updated`), analysing only the new texts, and scores exactly as
an index built from all the texts would: BM25's weights depend on the whole collection, and
precomputing them (bm25s did) meant building everything again after each change.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

from ..text import BM25_B, BM25_K1, STOPWORDS, analyze

__all__ = ["STOPWORDS", "LexicalIndex", "analyze"]

_ROW_BITS = 32  # a posting's key: term id above these bits, row below


class LexicalIndex:
    """BM25 (Lucene variant, as bm25s computes it) over a list of texts; rows match the
    chunk rows.

    Postings are one sorted int64 array of keys (term id << 32 | row) beside each one's
    term frequency; a term's postings are the keys between two binary searches.

    Example: LexicalIndex(["Amazon invested", "Google invested twice, invested"])
             .scores("amazon") -> [0.389, 0.0] (only row 0 has the term: idf log 2 = 0.693
             times 1 / (0.9 * (0.6 + 0.4 * 2 / 3) + 1) for one use in a text of 2 terms
             against 3 on average)
    """

    _vocab: dict[str, int]  # analysed term -> id (a term no text holds now keeps its id)
    _df: np.ndarray  # int64 by term id: how many rows hold the term
    _keys: np.ndarray  # int64, sorted: term id << 32 | row, one per (term, row)
    _tf: np.ndarray  # float32 beside _keys: the term's count in the row
    _lengths: np.ndarray  # int64 by row: analysed terms in the row

    def __init__(self, texts: Sequence[str]) -> None:
        self._vocab = {}
        keys, tf, lengths = self._postings(texts, 0)
        order = np.argsort(keys, kind="stable")
        self._keys, self._tf = keys[order], tf[order]
        self._lengths = lengths
        self._df = np.bincount(self._keys >> _ROW_BITS, minlength=len(self._vocab)).astype(np.int64)

    @property
    def size(self) -> int:
        return len(self._lengths)

    def _postings(self, texts: Sequence[str], first_row: int) -> tuple[np.ndarray, ...]:
        """Keys, term frequencies and lengths of texts as rows first_row on, adding their
        new terms to the vocabulary (unsorted: the caller orders them)."""
        keys: list[int] = []
        tfs: list[int] = []
        lengths = np.zeros(len(texts), dtype=np.int64)
        vocab = self._vocab
        for i, text in enumerate(texts):
            terms = analyze(text)
            lengths[i] = len(terms)
            row = first_row + i
            for term, count in Counter(terms).items():
                keys.append((vocab.setdefault(term, len(vocab)) << _ROW_BITS) | row)
                tfs.append(count)
        return (
            np.array(keys, dtype=np.int64),
            np.array(tfs, dtype=np.float32),
            lengths,
        )

    def updated(self, take: np.ndarray, texts: Sequence[str]) -> LexicalIndex:
        """The index of another list of texts that keeps some of these rows: row i of the
        new list is old row take[i], or, where take[i] is -1, the next of texts. Kept rows
        must keep their order (take's values >= 0 increase). Only texts are analysed; the
        rest is array work over the postings, and the scores equal an index built from
        the whole new list. self is unchanged.

        Example: the index of ["Amazon invested", "Google invested twice, invested"],
                 take [0, -1], texts ["Google sold"] -> the index of ["Amazon invested",
                 "Google sold"]: scores("google") -> [0.0, 0.365] from both
        """
        take = np.asarray(take, dtype=np.int64)
        kept = take >= 0
        if int((~kept).sum()) != len(texts):
            raise ValueError("one text for each row that is not taken")
        if np.any(np.diff(take[kept]) <= 0) or (kept.any() and take[kept][-1] >= self.size):
            raise ValueError("kept rows must be old rows, in their old order")
        new = LexicalIndex.__new__(LexicalIndex)
        new._vocab = dict(self._vocab)
        # Old rows -> new rows (-1: dropped); monotone, so kept keys stay sorted.
        moved = np.full(self.size, -1, dtype=np.int64)
        moved[take[kept]] = np.flatnonzero(kept)
        rows = moved[self._keys & ((1 << _ROW_BITS) - 1)]
        stays = rows >= 0
        terms = self._keys >> _ROW_BITS
        df = self._df - np.bincount(terms[~stays], minlength=len(self._df))
        old_keys = (terms[stays] << _ROW_BITS) | rows[stays]
        old_tf = self._tf[stays]
        # The new texts' rows, in the order they stand among the kept ones.
        where = np.flatnonzero(~kept)
        keys, tf, lengths = new._postings(texts, 0)
        keys = (keys >> _ROW_BITS << _ROW_BITS) | where[keys & ((1 << _ROW_BITS) - 1)]
        order = np.argsort(keys, kind="stable")
        keys, tf = keys[order], tf[order]
        at = np.searchsorted(old_keys, keys)
        new._keys = np.insert(old_keys, at, keys)
        new._tf = np.insert(old_tf, at, tf)
        new._lengths = np.zeros(len(take), dtype=np.int64)
        new._lengths[kept] = self._lengths[take[kept]]
        new._lengths[where] = lengths
        df = np.concatenate([df, np.zeros(len(new._vocab) - len(df), dtype=np.int64)])
        new._df = df + np.bincount(keys >> _ROW_BITS, minlength=len(new._vocab))
        if 2 * int((new._df == 0).sum()) > len(new._df):
            new._forget_unused_terms()
        return new

    def _forget_unused_terms(self) -> None:
        """Renumber the terms some row holds in their order, dropping the others (after
        many removals, the vocabulary would keep every term ever indexed). Monotone, so the
        keys stay sorted."""
        used = self._df > 0
        renumber = np.cumsum(used) - 1
        self._keys = (renumber[self._keys >> _ROW_BITS] << _ROW_BITS) | (
            self._keys & ((1 << _ROW_BITS) - 1)
        )
        self._vocab = {t: int(renumber[i]) for t, i in self._vocab.items() if used[i]}
        self._df = self._df[used]

    def idf(self, term: str) -> float:
        """BM25 inverse document frequency of an analysed term; a term the corpus lacks gets
        the highest weight, so its absence counts as missing evidence.

        Example: in 3 texts, a term in 1 of them -> log(1 + 2.5 / 1.5) = 0.98
        """
        i = self._vocab.get(term)
        df = 0 if i is None else int(self._df[i])
        return math.log(1.0 + (self.size - df + 0.5) / (df + 0.5))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every row for query (zeros when no query term is in the corpus).

        The arithmetic is bm25s's, step for step (its scores were the ones measured and
        tuned): each term's weight in a row computed in float64 from the float32 idf, then
        rounded to float32, and the query's terms (a repeated one twice) added in float32
        in query order.
        """
        n = self.size
        scores = np.zeros(n, dtype=np.float32)
        terms = [self._vocab[w] for w in analyze(query) if w in self._vocab]
        if not terms or not n:
            return scores
        average = np.float64(self._lengths.sum()) / n  # bm25s: np.mean of the lengths
        for term in terms:
            lo, hi = np.searchsorted(self._keys, [term << _ROW_BITS, (term + 1) << _ROW_BITS])
            if lo == hi:
                continue
            rows = self._keys[lo:hi] & ((1 << _ROW_BITS) - 1)
            tf = self._tf[lo:hi]
            df = int(self._df[term])
            idf = np.float32(math.log(1 + (n - df + 0.5) / (df + 0.5)))
            lengths = self._lengths[rows].astype(np.float64)
            norm = BM25_K1 * ((1 - BM25_B) + BM25_B * lengths / average) + tf
            scores[rows] += (idf * (tf / norm)).astype(np.float32)
        return scores

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """Top-k (row, BM25 score) with a positive score, best first."""
        k = min(k, self.size)
        if k == 0:
            return []
        scores = self.scores(query)
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        ranked = sorted(((int(i), float(scores[i])) for i in top), key=lambda p: -p[1])
        return [(i, s) for i, s in ranked if s > 0]
