"""The extractive composer: pick the retrieved sentences that answer the question, cite each.

It can only copy sentences out of retrieved passages, so it cannot state anything the
documents don't. Whether to answer at all is decided by a small logistic model over four
evidence features, calibrated on data by evals/calibrate.py (see README).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..ingest.chunking import split_sentences
from ..retrieval.lexical import analyze
from ..schema import Chunk, Citation, Hit

__all__ = [
    "Composition",
    "Evidence",
    "RefusalModel",
    "Sentence",
    "candidate_sentences",
    "compose",
    "refusal_text",
]

_MIN_WORDS = 4  # shorter "sentences" are headings or fragments, not answers


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence inside a retrieved chunk, with offsets into its source."""

    chunk: Chunk
    rank: int  # rank of the chunk in retrieval, 0 = best
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Evidence:
    """How well the retrieved text supports answering; the refusal model's inputs."""

    top_dense: float  # best cosine between the query and a retrieved chunk
    best_cosine: float  # best cosine between the query and a candidate sentence
    best_coverage: float  # share of the query's (IDF-weighted) terms in the best sentence
    passage_coverage: float  # share of the query's terms anywhere in the retrieved chunks

    def as_vector(self) -> list[float]:
        return [self.top_dense, self.best_cosine, self.best_coverage, self.passage_coverage]


@dataclass(frozen=True, slots=True)
class RefusalModel:
    """P(answerable) = sigmoid(bias + weights · evidence); answer when it reaches threshold."""

    weights: tuple[float, float, float, float]
    bias: float
    threshold: float

    def probability(self, evidence: Evidence) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, evidence.as_vector(), strict=True))
        return 1.0 / (1.0 + math.exp(-z))

    def answerable(self, evidence: Evidence) -> bool:
        return self.probability(evidence) >= self.threshold


@dataclass(frozen=True, slots=True)
class Composition:
    text: str
    citations: tuple[Citation, ...]
    refused: bool
    evidence: Evidence
    probability: float


def candidate_sentences(hits: Sequence[Hit]) -> list[Sentence]:
    """Every distinct sentence of the hits' chunks, in retrieval order.

    A sentence that opens by pointing back ("This approach is costly...") is kept together
    with the sentence before it, since alone it would not say what it is about. Sentences
    repeated by overlapping chunks appear once (the copy from the better chunk).
    """
    seen: set[tuple[str, int, int]] = set()
    out: list[Sentence] = []
    for rank, hit in enumerate(hits):
        chunk = hit.chunk
        for s, e in attach_continuations(chunk.text, split_sentences(chunk.text)):
            key = (chunk.source, chunk.start + s, chunk.start + e)
            if key in seen:
                continue
            seen.add(key)
            text = chunk.text[s:e]
            if len(text.split()) < _MIN_WORDS:
                continue
            out.append(Sentence(chunk, rank, chunk.start + s, chunk.start + e, text))
    return out


_POINTS_BACK = re.compile(
    r"(?:This|That|These|Those|Such|It|Its|They|Their|Both|Neither)\b(?!\s+(?:is|was)\s+(?:not\s+)?"
    r"(?:also\s+)?(?:possible|likely|important|clear|known|thought|believed)\b)"
)


def attach_continuations(text: str, spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join each sentence that points back to the one before it, within a paragraph.

    Example: text = "Meta builds in-house. This approach is costly. Amazon invests."
    spans [(0, 21), (22, 46), (47, 62)] -> [(0, 46), (47, 62)]
    """
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if (
            out
            and _POINTS_BACK.match(text, start)
            and "\n\n" not in text[out[-1][1] : start]
            and out[-1][1] - out[-1][0] < 600  # keep units short enough to read as one
        ):
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def term_weights(query: str, idf: Callable[[str], float]) -> dict[str, float]:
    """IDF weight of each analysed query term.

    Example: with idf = {"amazon": 0.5, "invest": 2.0}.get,
    term_weights("How much has Amazon invested?", ...) -> {"amazon": 0.5, "invest": 2.0}
    """
    return {term: max(idf(term) or 0.0, 0.0) for term in dict.fromkeys(analyze(query))}


def coverage(weights: dict[str, float], terms: set[str]) -> float:
    """Share of the query's term weight present in terms (0..1; 0 when the query has none).

    Example: coverage({"amazon": 1.0, "invest": 3.0}, {"invest", "billion"}) -> 0.75
    """
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    return sum(w for t, w in weights.items() if t in terms) / total


def compose(
    query: str,
    query_vector: np.ndarray,
    hits: Sequence[Hit],
    *,
    embed: Callable[[list[str]], np.ndarray],
    idf: Callable[[str], float],
    refusal: RefusalModel,
    max_sentences: int = 4,
    keep_ratio: float = 0.85,
    lexical_weight: float = 1.0,
    redundancy: float = 0.8,
    question: str | None = None,
) -> Composition:
    """Select up to max_sentences sentences that answer query, each ending in [n].

    Sentences are scored by cosine(sentence, query) + lexical_weight * term coverage; the
    best one is kept, then others scoring at least keep_ratio of it, unless their cosine with
    a kept sentence exceeds redundancy. Citations are numbered
    1..N in order of first use, and each quote is the exact text at its offsets.
    """
    sentences = candidate_sentences(hits)
    weights = term_weights(query, idf)
    if question is not None:
        # Terms a follow-up carried over from earlier turns set the topic; the question's own
        # words say what is asked about it, so they count double.
        own = set(analyze(question))
        weights = {t: w * (1.0 if t in own else 0.5) for t, w in weights.items()}
    passage_terms = {t for h in hits for t in analyze(h.chunk.text)}
    top_dense = max((h.dense_score or 0.0 for h in hits), default=0.0)
    if not sentences:
        evidence = Evidence(top_dense, 0.0, 0.0, coverage(weights, passage_terms))
        return Composition("", (), True, evidence, refusal.probability(evidence))

    vectors = embed([s.text for s in sentences])
    cosines = vectors @ query_vector
    coverages = np.array([coverage(weights, set(analyze(s.text))) for s in sentences])
    scores = cosines + lexical_weight * coverages
    order = list(np.argsort(-scores, kind="stable"))
    best = order[0]
    evidence = Evidence(
        top_dense=top_dense,
        best_cosine=float(cosines.max()),
        best_coverage=float(coverages[best]),
        passage_coverage=coverage(weights, passage_terms),
    )
    probability = refusal.probability(evidence)
    if probability < refusal.threshold:
        return Composition("", (), True, evidence, probability)

    chosen: list[int] = []
    for i in order:
        # The cap counts answer units: a sentence, or a sentence with the continuation that
        # points back to it (measured: counting the continuation separately lost seed facts).
        if len(chosen) >= max_sentences or scores[i] < keep_ratio * scores[best]:
            break
        # Skip what mostly repeats a chosen sentence: it makes the answer longer, not better.
        if any(float(vectors[i] @ vectors[j]) > redundancy for j in chosen):
            continue
        chosen.append(i)

    parts: list[str] = []
    citations: list[Citation] = []
    for i in chosen:
        unit = sentences[i]
        # A unit may be a sentence and its continuation: each sentence gets its own citation.
        for a, b in split_sentences(unit.text):
            n = len(citations) + 1
            quote = unit.text[a:b]
            parts.append(f"{_one_line(quote)} [{n}]")
            citations.append(
                Citation(
                    n=n,
                    source=unit.chunk.source,
                    start=unit.start + a,
                    end=unit.start + b,
                    quote=quote,
                    page=unit.chunk.page,
                    chunk_id=unit.chunk.id,
                )
            )
    return Composition(" ".join(parts), tuple(citations), False, evidence, probability)


def _one_line(text: str) -> str:
    return " ".join(text.split())


_WH = re.compile(
    r"^(what|who|whom|whose|when|where|why|which(?: \w+)?|how(?: much| many| long| old| big)?)\s+"
    r"(is|are|was|were|has|have|had|will|can|could|would|should)\s+(.+?)[?.!\s]*$",
    re.IGNORECASE,
)


def refusal_text(question: str) -> str:
    """One plain sentence saying the documents don't answer the question.

    Example: refusal_text("What was Anthropic's revenue?")
             -> "The documents don't say what Anthropic's revenue was."
    """
    q = _one_line(question).rstrip()
    m = _WH.match(q)
    if m:
        wh, aux, rest = m.group(1).lower(), m.group(2).lower(), m.group(3)
        return f"The documents don't say {wh} {rest} {aux}."
    return f"The documents don't answer “{q.rstrip('?.! ')}”."
