"""Evidence: what the retrieved passages offer towards an answer, and whether to answer at all.

The decision is taken here, before any backend writes a word, so that it is the same whichever
backend writes the answer. Candidate sentences are cut from the retrieved chunks, looked up in
the index (which stores their vectors) or else embedded, and scored against the query; the
features of answer/features.py (best sentence cosine, the question's key terms together in one
sentence of the asked-for type, names absent from the passages, ...) go into a small logistic
model (`RefusalModel`, its weights in Settings), calibrated on data by
evals/calibrate_refusal.py (see evals/refusal/README.md).

    grounds = gather_evidence(query, query_vector, hits, embed=embed, idf=idf, refusal=model)
    grounds.answerable, grounds.probability, grounds.evidence.as_vector()
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError
from ..ingest.chunking import attach_continuations, points_back, sentence_units, split_sentences
from ..retrieval.lexical import analyze
from ..schema import Chunk, Hit
from ..store import SentenceStore
from .features import (
    FEATURE_NAMES,
    EvidenceFeatures,
    acronym_spellings,
    answer_probability,
    attached_type,
    counted_terms,
    counts_counted,
    dated_years,
    evidence_features,
    has_answer_type,
    implied_names,
    phrase_overlap,
    selection_type,
    specific_tokens,
    spelled_out,
    with_aliases,
    years_in,
)
from .negation import near_negation, question_negation

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = [
    "Evidence",
    "Grounds",
    "RefusalModel",
    "Sentence",
    "SentenceVectors",
    "attach_continuations",
    "candidate_sentences",
    "coverage",
    "document_previous",
    "gather_evidence",
    "joined_coverage",
    "passage_aliases",
    "passage_topics",
    "points_back",
    "sentence_vectors",
    "term_weights",
]


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence inside a retrieved chunk, with offsets into its source."""

    chunk: Chunk
    rank: int  # rank of the chunk in retrieval, 0 = best
    start: int
    end: int
    text: str


Evidence = EvidenceFeatures  # the refusal model's inputs, by name (answer/features.py)


@dataclass(frozen=True, slots=True)
class RefusalModel:
    """P(answerable) = sigmoid(bias + sum of weights[name] * feature); answer when it reaches
    threshold. A feature left out of weights weighs nothing.

    Example: RefusalModel({"best_cosine": 10.0}, -5.0, 0.5) answers a best cosine of 0.6
    (sigmoid(1.0) = 0.73) and refuses one of 0.4 (sigmoid(-1.0) = 0.27).
    """

    weights: Mapping[str, float] = field(hash=False)
    bias: float
    threshold: float
    displaced_veto: float = 1.01  # name_displaced at least this refuses (above 1: never)
    floor: float = 1.0  # from here up to threshold, answered when unswapped (1: never)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.weights) - set(FEATURE_NAMES))
        if unknown:
            raise InputError(
                f"refusal_weights names unknown features {unknown}: use only {list(FEATURE_NAMES)}."
            )

    @classmethod
    def from_settings(cls, settings: Settings) -> RefusalModel:
        return cls(
            dict(settings.refusal_weights),
            settings.refusal_bias,
            settings.refusal_threshold,
            settings.refusal_displaced_veto,
            settings.refusal_floor,
        )

    def probability(self, evidence: EvidenceFeatures) -> float:
        return answer_probability(evidence, self.weights, self.bias)

    def answerable(self, evidence: EvidenceFeatures) -> bool:
        """P(answerable) reaches the threshold, and the question neither denies what the
        passages state, nor asks for the opposite of what they say, nor asks about one name
        what they state of another, nor would lead with what another name does, nor dates or
        numbers a name otherwise than the passages, nor names the unit of an answer no top
        sentence holds (negation_unmatched, opposite_unmatched, agent_displaced,
        number_displaced, year_displaced, person_missing, unit_missing and name_displaced
        veto whatever the probability). A name asked for that the lead sentence gives beside
        its thing (name_given) answers whatever the probability, and so does one from floor
        up when nothing in its evidence points to a swap (unswapped)."""
        # A name asked for and given beside its thing answers however the question is
        # worded ("What was the name of the first shaft?" over "sank the first shaft, the
        # King's Shaft, in 1783": p 0.015).
        p = self.probability(evidence)
        likely = p >= self.threshold or bool(evidence.name_given)
        likely = likely or (p >= self.floor and unswapped(evidence))
        return likely and not self.vetoed(evidence)

    def vetoed(self, evidence: EvidenceFeatures) -> bool:
        """Whether a veto refuses whatever the probability (see answerable)."""
        turned = evidence.negation_unmatched or evidence.opposite_unmatched
        turned = turned or evidence.agent_displaced or evidence.number_displaced
        turned = turned or evidence.year_displaced or evidence.person_missing
        turned = turned or evidence.unit_missing
        return bool(turned) or evidence.name_displaced >= self.displaced_veto


# What an unsure answer needs besides (RefusalModel.floor): a sentence near the question in
# meaning and holding some of its terms. Chosen with the floor on the tune halves (session 24,
# evals/refusal/README.md); without them off-topic questions over a name-free corpus pass.
# Focus 0.2 -> 0.1 in session 25: a paraphrase shares few words with its answer ("For
# roughly how long could the star be seen without a telescope?" over "... visible to the
# naked eye for about sixteen months": p 0.021, focus 0.161). Tune halves +1, confirm +2,
# none lost; 0.05 lets an off-topic question about the documents' field through, 0.0 two
# absent dates more.
UNSWAPPED_COSINE = 0.3
UNSWAPPED_FOCUS = 0.1
UNSWAPPED_CONTEXT = 0.8


def unswapped(evidence: EvidenceFeatures) -> bool:
    """Whether nothing in the evidence points to a question written against the passages:
    each of its names sits in a passage with most of its other terms (name_context), no
    other name holds what it asks (name_displaced), the amount or date it asks for stands
    with its names (type_detached), and some sentence is near it (best_cosine, focus). A
    paraphrase far from the passages' words has all of these and still a low probability:
    "Beside which river is the composer's native village?" over "... born in 1841 in
    Nelahozeves, a village on the Vltava river" (p 0.003 with MiniLM). A question asking
    for an amount is not: passages give figures of many things, and one asked of something
    they do not measure ("How long do krill eggs take to hatch?") looks answered by them.

    Example: name_context 1.0, name_displaced 0.0, type_detached 0.0, best_cosine 0.45,
             focus 0.4 -> True; the same with name_context 0.4 -> False;
             the same with focus 0.05 -> False
    """
    return (
        evidence.name_context >= UNSWAPPED_CONTEXT
        and evidence.name_displaced == 0
        and evidence.type_detached == 0
        and evidence.best_cosine >= UNSWAPPED_COSINE
        and evidence.focus >= UNSWAPPED_FOCUS
        and not evidence.asks_amount
    )


@dataclass(frozen=True, slots=True, eq=False)
class Grounds:
    """The evidence gathered for one query, and the decision taken on it.

    Row i of vectors, cosines, coverages and scores belongs to sentences[i]; a backend may
    use them (the extractive one selects by score) but must not re-decide `answerable`.
    """

    sentences: tuple[Sentence, ...]
    vectors: np.ndarray  # (n, dim) normalised sentence vectors
    cosines: np.ndarray  # (n,) cosine of each sentence with the query
    coverages: np.ndarray  # (n,) share of the query's term weight in each sentence
    scores: np.ndarray  # (n,) cosine + lexical_weight * coverage: the sentence ranking
    evidence: Evidence
    probability: float  # P(answerable) under the refusal model
    answerable: bool


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
        for s, e in sentence_units(chunk.text):
            key = (chunk.source, chunk.start + s, chunk.start + e)
            if key in seen:
                continue
            seen.add(key)
            out.append(Sentence(chunk, rank, chunk.start + s, chunk.start + e, chunk.text[s:e]))
    return out


def passage_topics(sentences: Sequence[Sentence]) -> list[str]:
    """For each sentence, the first sentence of its passage, which names what the passage is
    about; "" for that first sentence itself. Each passage is cut into sentences once.

    Example: passage "Halvorsen is a maker. It was listed in 1986." ->
             ["", "Halvorsen is a maker."]
    """
    firsts: dict[str, tuple[int, str]] = {}  # chunk id -> (document offset, text)
    out = []
    for s in sentences:
        chunk = s.chunk
        if chunk.id not in firsts:
            units = sentence_units(chunk.text)
            a, b = units[0] if units else (0, 0)
            firsts[chunk.id] = (chunk.start + a, chunk.text[a:b])
        start, text = firsts[chunk.id]
        out.append("" if start == s.start else text)
    return out


def document_previous(sentences: Sequence[Sentence], *, gap: int = 3) -> list[int | None]:
    """For each sentence, the index of the one that ends just before it in its document (at
    most gap characters between: a space or a line break), or None when none of them does.

    Example: units (doc a, 0-10), (doc b, 0-8), (doc a, 11-20) -> [None, None, 0]
    """
    ends: dict[str, list[tuple[int, int]]] = {}
    for i, s in enumerate(sentences):
        ends.setdefault(s.chunk.source, []).append((s.end, i))
    out: list[int | None] = []
    for s in sentences:
        before = [(end, i) for end, i in ends[s.chunk.source] if s.start - gap <= end <= s.start]
        out.append(max(before)[1] if before else None)
    return out


def passage_aliases(question: str, passages: Sequence[str]) -> list[tuple[set[str], set[str]]]:
    """Names written two ways, as analysed terms (acronym, the words that spell it): those the
    question spells out in brackets and those the passages define ("hepatitis B virus (HBV)"),
    so that a sentence on "HBV" covers the question's "Hepatitis B" (features.with_aliases).

    Example: passage_aliases("What does Hepatitis B need?", ["hepatitis B virus (HBV) is ..."])
             -> [({"hbv"}, {"hepat", "b", "virus"})]
    """
    pairs = [(acronym, tuple(words)) for acronym, words in spelled_out(question)]
    pairs += [pair for p in passages for pair in _spellings(p)]
    return [(set(analyze(acronym)), set(analyze(" ".join(words)))) for acronym, words in pairs]


# The same passages come back for many questions, and reading a passage's acronyms is about a
# millisecond each (measured: 8.6 ms for eight 1,500-character passages).
@functools.lru_cache(maxsize=4096)
def _spellings(passage: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple((acronym, tuple(words)) for acronym, words in acronym_spellings(passage))


# What a unit's joined sentences add to its best sentence's coverage counts half: three
# sentences joined because each points back ("..., like Meta. This means ... This situation
# highlights how companies are approaching AI.") had covered "How is Meta approaching AI?"
# better than the sentence about Meta's approach.
JOINED_SHARE = 0.5


def joined_coverage(
    weights: dict[str, float],
    parts: Sequence[set[str]],
    whole: set[str],
    share: float = JOINED_SHARE,
) -> float:
    """The coverage of a unit: its best sentence's (parts: each sentence's terms), plus share
    of what the whole unit's terms (whole) cover beyond it. One sentence: whole's coverage.

    Example: weights {"meta": 1.0, "approach": 1.0}, parts [{"googl", "meta"}, {"approach"}],
             whole {"googl", "meta", "approach"} -> 0.75
    """
    covered = coverage(weights, whole)
    if len(parts) < 2:
        return covered
    best = max(coverage(weights, terms) for terms in parts)
    return best + share * max(covered - best, 0.0)


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


def gather_evidence(
    query: str,
    query_vector: np.ndarray,
    hits: Sequence[Hit],
    *,
    embed: Callable[[list[str]], np.ndarray],
    idf: Callable[[str], float],
    refusal: RefusalModel,
    lexical_weight: float = 1.0,
    type_weight: float = 0.0,
    phrase_weight: float = 0.0,
    question: str | None = None,
    stored: SentenceStore | None = None,
    decide_on: int | None = None,
) -> Grounds:
    """Score every candidate sentence of hits against query and decide whether to answer.

    A sentence scores cosine(sentence, query) + lexical_weight * its share of the query's
    IDF-weighted terms (a name written two ways, an acronym and its spelling, counts in either
    form: passage_aliases; a unit of joined sentences: joined_coverage) + type_weight when it
    holds what the question asks for (a number for "how many", a date for "when", a reason for
    "why": answer/features.py selection_type; no
    question type, no bonus), type_weight again when it holds a year the question dates its
    subject by ("in 1947"), the ranking the extractive backend selects by; the decision is the
    refusal model over evidence_features of all candidates and passages. question: the
    words the person typed, when query is a rewritten follow-up (its own terms count double).
    stored: the index the hits come from, when it keeps sentence vectors; only sentences it
    lacks are embedded. decide_on: how many of the best hits the refusal features read (None:
    all); the sentences of the others are candidates for the answer only (the refusal model
    was calibrated on the passages an answer shows, and reading more passages made it refuse
    more answerable questions: evals/refusal/README.md). Without a candidate sentence there is
    nothing to answer from: answerable is False.
    """
    sentences = candidate_sentences(hits)
    weights = term_weights(query, idf)
    if question is not None:
        # Terms a follow-up carried over from earlier turns set the topic; the question's own
        # words say what is asked about it, so they count double.
        own = set(analyze(question))
        weights = {t: w * (1.0 if t in own else 0.5) for t, w in weights.items()}
    top_dense = max((h.dense_score or 0.0 for h in hits[:decide_on]), default=0.0)
    topics = passage_topics(sentences)
    if sentences:
        vectors = sentence_vectors(sentences, embed, stored)
        cosines = vectors @ query_vector
        aliases = passage_aliases(question or query, [h.chunk.text for h in hits])
        # A sentence that points back to its passage's subject holds the subject's name.
        names = set(analyze(" ".join(specific_tokens(question or query))))
        coverages = np.array(
            [
                joined_coverage(
                    weights,
                    [
                        with_aliases(set(analyze(s.text[a:b])), aliases)
                        for a, b in split_sentences(s.text)
                    ],
                    with_aliases(set(analyze(s.text)) | implied_names(names, s.text, t), aliases),
                )
                for s, t in zip(sentences, topics, strict=True)
            ]
        )
    else:
        vectors = np.zeros((0, len(query_vector)), dtype=np.float32)
        cosines = coverages = np.zeros(0)
    scores = cosines + lexical_weight * coverages
    kind = selection_type(question or query)
    if type_weight and kind is not None and sentences:
        # "How much did deaths fall?": the sentence with the figure, not the one that says
        # deaths fell.
        # A count of what is counted: "How many nucleotides?" prefers "31,028 nucleotides"
        # to any sentence with a number.
        # A count of the thing counted ("three genotypes") is the full match; a count in a
        # clause that names it ("the Asian genotype emerged 50 to 310 years ago"), half.
        counted = counted_terms(question or query) if kind == "count" else set()
        typed = np.array(
            [
                (1.0 if counts_counted(s.text, counted) else 0.5)
                * any(attached_type(kind, s.text, {t}) for t in counted)
                if counted
                else has_answer_type(kind, s.text)
                for s in sentences
            ],
            dtype=float,
        )
        scores = scores + type_weight * typed
    years = dated_years(question or query)
    if type_weight and years and sentences:
        # A year the question dates its subject by ("Which prize was Varga given in 1947?")
        # pins the sentence: "She was awarded the Davy Medal in 1947", not the one naming
        # Varga with other years.
        scores = scores + type_weight * np.array(
            [bool(years & years_in(s.text)) for s in sentences], dtype=float
        )
    denied = question_negation(question or query) if type_weight and sentences else set()
    if denied:
        # "Which company does NOT have an exclusive arrangement?": a sentence that denies the
        # same word ("Amazon's stake is non-exclusive"), not one that merely uses it.
        scores = scores + type_weight * np.array(
            [
                any(near_negation(s.text, w, bounded=False, contrast=True) for w in denied)
                for s in sentences
            ],
            dtype=float,
        )
    if phrase_weight and sentences:
        # The question's phrases, not only its words: "incubation period" together.
        asked = question or query
        scores = scores + phrase_weight * np.array(
            [phrase_overlap(asked, s.text) for s in sentences]
        )
    decided = len(hits) if decide_on is None else decide_on
    kept = [i for i, s in enumerate(sentences) if s.rank < decided]
    read = [(sentences[i], float(cosines[i])) for i in kept]
    # The sentence the answer would lead with: the best score among those read.
    lead = max(range(len(kept)), key=lambda j: float(scores[kept[j]])) if kept else None
    evidence = evidence_features(
        question or query,
        [(s.text, c) for s, c in read],
        [h.chunk.text for h in hits[:decided]],
        idf,
        top_dense=top_dense,
        query=query,
        before=document_previous([s for s, _ in read]),
        lead=lead,
        topics=[topics[i] for i in kept],
    )
    probability = refusal.probability(evidence)
    return Grounds(
        tuple(sentences),
        vectors,
        cosines,
        coverages,
        scores,
        evidence,
        probability,
        # Without a candidate sentence there is nothing to answer from.
        answerable=any(s.rank < decided for s in sentences) and refusal.answerable(evidence),
    )


def sentence_vectors(
    sentences: Sequence[Sentence],
    embed: Callable[[list[str]], np.ndarray],
    stored: SentenceStore | None = None,
) -> np.ndarray:
    """One vector per sentence (float32, in order): the one stored is looked up by its
    chunk and its offsets in that chunk; the rest are embedded, in one call.

    A stored vector is the embedding of exactly chunk.text[start:end] by the index's model,
    so the result equals embedding every sentence (up to float rounding between batches);
    an index without sentence vectors (PgStore, or one built before they were stored)
    simply embeds them all.
    """
    out: list[np.ndarray | None] = [None] * len(sentences)
    if stored is not None and stored.has_sentences:
        tables: dict[str, dict[tuple[int, int], np.ndarray]] = {}
        for i, s in enumerate(sentences):
            table = tables.get(s.chunk.id)
            if table is None:
                found = stored.chunk_sentences(s.chunk.id)
                table = tables[s.chunk.id] = (
                    {}
                    if found is None
                    else {(int(a), int(b)): v for (a, b), v in zip(*found, strict=True)}
                )
            out[i] = table.get((s.start - s.chunk.start, s.end - s.chunk.start))
    missing = [i for i, v in enumerate(out) if v is None]
    if missing:
        for i, v in zip(missing, embed([sentences[i].text for i in missing]), strict=True):
            out[i] = v
    return np.stack([np.asarray(v, dtype=np.float32) for v in out if v is not None])


class SentenceVectors:
    """embed(texts), remembering each sentence's vector: the same passages come back often
    (follow-ups, similar questions), and embedding is most of an answer's time when the
    index does not store sentence vectors (PgStore).

    Safe to share between threads: a lookup that races a clear simply embeds again.

    Held to `capacity` sentences and `capacity_chars` characters of them: a sentence is
    kept as its text, and may be as long as a passage (20,000 characters, one unbroken
    word); 50,000 such sentences of emoji (4 bytes a character) would have kept 4 GB, where
    a question brings new ones to the cache at will (a document of them uploaded first).
    """

    def __init__(
        self,
        embed: Callable[[list[str]], np.ndarray],
        *,
        capacity: int = 50_000,
        capacity_chars: int = 10_000_000,
    ) -> None:
        self._embed = embed
        self._capacity = capacity  # 50k vectors of 384 floats: about 75 MB
        # Ordinary sentences of 100-200 characters: 50k of them fit either bound.
        self._capacity_chars = capacity_chars
        self._chars = 0
        self._cache: dict[str, np.ndarray] = {}

    def __call__(self, texts: list[str]) -> np.ndarray:
        cache = self._cache
        found: dict[str, np.ndarray] = {}
        for t in dict.fromkeys(texts):
            vector = cache.get(t)  # .get: another request may clear the cache meanwhile
            if vector is not None:
                found[t] = vector
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            new = dict(zip(missing, self._embed(missing), strict=True))
            chars = sum(map(len, new))
            if len(cache) + len(new) > self._capacity or self._chars + chars > self._capacity_chars:
                cache.clear()
                self._chars = 0
            if chars <= self._capacity_chars:  # one answer's sentences past it: not kept
                cache.update(new)
                self._chars += chars
            found.update(new)
        return np.stack([found[t] for t in texts])

    def __len__(self) -> int:
        return len(self._cache)
