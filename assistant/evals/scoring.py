"""Pure scoring functions for the eval runner: no model, no files, no clock.

Every function here takes plain values and returns plain values, so the definitions of the
metrics can be read (and tested) in one place. The runner only gathers inputs for them.
"""

from __future__ import annotations

import itertools
import math
import re
import string
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "LOWER_IS_BETTER",
    "REGRESSION_KEYS",
    "Alternative",
    "Fact",
    "GateFailure",
    "RefusalScores",
    "Regex",
    "Regression",
    "alternative_in",
    "best_token_f1",
    "check_thresholds",
    "citation_support",
    "contains_answer",
    "diff_runs",
    "fact_found",
    "fact_label",
    "fact_recall",
    "fact_supported",
    "first_relevant_rank",
    "mean",
    "normalise",
    "parse_fact",
    "percentile",
    "quote_matches_source",
    "quotes_overlap",
    "reciprocal_rank",
    "refusal_scores",
    "spans_overlap",
    "squad_normalise",
    "strip_markers",
    "token_f1",
]


# ---------------------------------------------------------------- facts


@dataclass(frozen=True, slots=True)
class Regex:
    """A fact alternative given as a regular expression (searched case-insensitively in the
    normalised text)."""

    pattern: str


Alternative = str | Regex
Fact = tuple[Alternative, ...]  # acceptable alternatives: any one of them found is enough

# Typographic quotes and apostrophes become straight ones, so "Anthropic’s" in a document
# matches "Anthropic's" in a question set (and the other way round).
_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
    }
)
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Straight quotes and single spaces, so matching ignores typography and line wraps.

    Example: normalise("Amazon’s  “exclusive”\\ndeal") -> 'Amazon\\'s "exclusive" deal'
    """
    return _SPACES.sub(" ", text.translate(_QUOTES)).strip()


def parse_fact(value: Any) -> Fact:
    """A fact from its set-file form: a list of alternatives, each a string or {regex: ...};
    a lone string or mapping is one alternative. Raises ValueError for anything else.

    Example: parse_fact(["$8 billion", {"regex": "8\\\\s*bn"}])
             -> ("$8 billion", Regex("8\\\\s*bn"))
    """
    values = value if isinstance(value, list | tuple) else [value]
    alternatives: list[Alternative] = []
    for v in values:
        if isinstance(v, str) and v.strip():
            alternatives.append(v)
        elif isinstance(v, Mapping) and set(v) == {"regex"} and isinstance(v["regex"], str):
            try:
                re.compile(v["regex"])
            except re.error as exc:
                raise ValueError(f"bad regex {v['regex']!r}: {exc}") from None
            alternatives.append(Regex(v["regex"]))
        else:
            raise ValueError(
                f"a fact alternative must be a non-empty string or {{regex: ...}}, not {v!r}"
            )
    if not alternatives:
        raise ValueError("a fact needs at least one alternative")
    return tuple(alternatives)


def fact_label(fact: Fact) -> str:
    """How a fact is shown in reports.

    Example: fact_label(("$8 billion", Regex("8 bn"))) -> '$8 billion | /8 bn/'
    """
    return " | ".join(a if isinstance(a, str) else f"/{a.pattern}/" for a in fact)


def alternative_in(alternative: Alternative, text: str) -> bool:
    """Whether one alternative occurs in text: a string as a case-insensitive substring, a
    Regex by re.search with IGNORECASE; both after normalise() on both sides.

    Example: alternative_in("Anthropic's needs", "tailored to Anthropic’s Needs") -> True
             alternative_in(Regex(r"\\$?8 billion"), "around $8 billion") -> True
    """
    haystack = normalise(text)
    if isinstance(alternative, Regex):
        return re.search(alternative.pattern, haystack, re.IGNORECASE) is not None
    return normalise(alternative).casefold() in haystack.casefold()


def fact_found(fact: Fact, text: str) -> bool:
    """Whether any alternative of the fact occurs in text.

    Example: fact_found(("non-exclusive", "not exclusive"), "The stake is non-exclusive.") -> True
    """
    return any(alternative_in(a, text) for a in fact)


def fact_recall(facts: Sequence[Fact], text: str) -> float:
    """Share of facts found in text (1.0 for no facts: nothing was missed).

    Example: fact_recall([("custom chips",), ("data centers",)], "custom chips [1]") -> 0.5
    """
    if not facts:
        return 1.0
    return sum(fact_found(f, text) for f in facts) / len(facts)


def fact_supported(fact: Fact, answer: str, quotes: Sequence[str]) -> bool:
    """Whether an alternative of the fact that occurs in the answer also occurs inside one
    cited quote: the answer says it, and a citation shows where the document says it.

    Example: fact_supported(("Alexa",), "Products like Alexa. [1]", ["products like Alexa"])
             -> True
             fact_supported(("Alexa",), "Products like Alexa. [1]", ["custom chips"]) -> False
    """
    return any(
        alternative_in(a, answer) and any(alternative_in(a, q) for q in quotes) for a in fact
    )


def citation_support(
    facts: Sequence[Fact], answer: str, quotes: Sequence[str], *, quotes_verbatim: bool
) -> float | None:
    """Share of the facts found in the answer that lie inside a cited quote, or 0.0 when any
    citation's quote is not the source's text at its offsets. None when no fact was found
    (there is nothing whose support could be checked; fact recall already counts the miss).

    Example: facts [("custom chips",), ("Alexa",)], answer "custom chips and Alexa [1]",
             quotes ["custom chips and data centers"], quotes_verbatim=True -> 0.5
             (the same with quotes_verbatim=False -> 0.0; answer "no idea" -> None)
    """
    found = [f for f in facts if fact_found(f, answer)]
    if not found:
        return None
    if not quotes_verbatim:
        return 0.0
    return sum(fact_supported(f, answer, quotes) for f in found) / len(found)


def quote_matches_source(quote: str, source_text: str | None, start: int, end: int) -> bool:
    """Whether a citation's quote is exactly the source's text at [start, end).

    Example: quote_matches_source("cd", "abcdef", 2, 4) -> True
             quote_matches_source("cd", "abcdef", 1, 3) -> False
             quote_matches_source("cd", None, 2, 4) -> False   (source missing)
    """
    if source_text is None or not 0 <= start <= end <= len(source_text):
        return False
    return source_text[start:end] == quote


_MARKER = re.compile(r"\s*\[\d+\]")


def strip_markers(text: str) -> str:
    """The answer without its [n] citation markers.

    Example: strip_markers("Amazon invested $8 billion. [1] It wants Claude. [2]")
             -> 'Amazon invested $8 billion. It wants Claude.'
    """
    return _MARKER.sub("", text).strip()


# ---------------------------------------------------------------- retrieval


def first_relevant_rank(relevant: Iterable[bool]) -> int | None:
    """1-based rank of the first relevant retrieved item, or None when none is relevant.

    Example: first_relevant_rank([False, True, True]) -> 2;  first_relevant_rank([]) -> None
    """
    for rank, flag in enumerate(relevant, start=1):
        if flag:
            return rank
    return None


def reciprocal_rank(rank: int | None) -> float:
    """1/rank, or 0.0 when nothing relevant was retrieved; its mean is MRR.

    Example: reciprocal_rank(4) -> 0.25;  reciprocal_rank(None) -> 0.0
    """
    return 0.0 if rank is None else 1.0 / rank


def spans_overlap(start: int, end: int, span_start: int, span_end: int) -> bool:
    """Whether half-open [start, end) and [span_start, span_end) share a character.

    Example: spans_overlap(0, 10, 9, 20) -> True;  spans_overlap(0, 10, 10, 20) -> False
    """
    return start < span_end and end > span_start


# ---------------------------------------------------------------- answers against gold spans

_PUNCT = str.maketrans("", "", string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def squad_normalise(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, no articles, single spaces
    (after straightening quotes and dropping [n] markers).

    Example: squad_normalise("The  Spike (S) protein! [1]") -> 'spike s protein'
    """
    text = strip_markers(text.translate(_QUOTES)).lower().translate(_PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def token_f1(prediction: str, gold: str) -> float:
    """SQuAD token F1: harmonic mean of token precision and recall, tokens counted with
    multiplicity, after squad_normalise().

    Example: token_f1("the spike protein binds ACE2", "spike protein") -> 0.5714...
             (common 2; precision 2/4, recall 2/2; F1 = 2*0.5*1/1.5)
    """
    pred = squad_normalise(prediction).split()
    ref = squad_normalise(gold).split()
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def best_token_f1(prediction: str, golds: Sequence[str]) -> float:
    """The best token F1 against any gold answer (SQuAD takes the max).

    Example: best_token_f1("spike protein", ["ACE2", "the spike protein"]) -> 1.0
    """
    return max((token_f1(prediction, g) for g in golds), default=0.0)


def contains_answer(prediction: str, golds: Sequence[str]) -> bool:
    """Whether some gold answer, normalised, occurs whole in the normalised prediction
    (matched on token boundaries, so "ace" is not found in "space").

    Example: contains_answer("It binds the ACE2 receptor. [1]", ["ACE2 receptor"]) -> True
    """
    pred = f" {squad_normalise(prediction)} "
    return any(g and f" {g} " in pred for g in map(squad_normalise, golds))


def quotes_overlap(spans: Iterable[tuple[str, int, int]]) -> bool:
    """Whether two citations of one answer quote some of the same characters of one source:
    the same span cited twice (or nested) reads as padding, and issue 10 allows none.

    spans: (source, start, end) of each citation.
    Example: [("a.txt", 0, 50), ("a.txt", 40, 90)] -> True;
             [("a.txt", 0, 50), ("b.txt", 0, 50), ("a.txt", 50, 60)] -> False
    """
    ordered = sorted(spans)
    return any(a[0] == b[0] and b[1] < a[2] for a, b in itertools.pairwise(ordered))


# ---------------------------------------------------------------- refusals


@dataclass(frozen=True, slots=True)
class RefusalScores:
    """Refusal as a classifier; the positive class is "unanswerable" (refused)."""

    true_pos: int  # unanswerable and refused
    false_pos: int  # answerable but refused
    false_neg: int  # unanswerable but answered
    true_neg: int  # answerable and answered
    precision: float | None  # None when nothing was refused
    recall: float | None  # None when no question was unanswerable


def refusal_scores(pairs: Iterable[tuple[bool, bool]]) -> RefusalScores:
    """Precision and recall of refusing, from (unanswerable, refused) pairs.

    Example: [(True, True), (True, False), (False, True), (False, False), (False, False)]
             -> tp 1, fp 1, fn 1, tn 2; precision 0.5, recall 0.5
    """
    counts = Counter((bool(u), bool(r)) for u, r in pairs)
    tp, fp = counts[True, True], counts[False, True]
    fn, tn = counts[True, False], counts[False, False]
    return RefusalScores(
        tp,
        fp,
        fn,
        tn,
        precision=tp / (tp + fp) if tp + fp else None,
        recall=tp / (tp + fn) if tp + fn else None,
    )


# ---------------------------------------------------------------- aggregates


def mean(values: Iterable[float | bool | None]) -> float | None:
    """Mean of the values that are not None; None when there are none.

    Example: mean([1.0, None, 0.0, True]) -> 0.6666...;  mean([None]) -> None
    """
    present = [float(v) for v in values if v is not None]
    return sum(present) / len(present) if present else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation between closest ranks (numpy's
    default method); None for no values.

    Example: percentile([4, 1, 3, 2], 50) -> 2.5;  percentile([1, 2, 3, 4], 95) -> 3.85
    """
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# ---------------------------------------------------------------- gates and baselines

# Metrics where a smaller value is better: their threshold is a maximum, not a minimum.
LOWER_IS_BETTER = frozenset(
    {
        "answerable_refused",
        "sentences_dropped",
        "first_token_seconds",
        "total_seconds",
        "median_sentences",
        "duplicated_quotes",
    }
)


@dataclass(frozen=True, slots=True)
class GateFailure:
    metric: str
    value: float | None  # None: the run could not measure it
    threshold: float

    def __str__(self) -> str:
        if self.value is None:
            return f"{self.metric}: not measured (threshold {self.threshold:.3f})"
        op = ">" if self.metric in LOWER_IS_BETTER else "<"
        return f"{self.metric}: {self.value:.3f} {op} threshold {self.threshold:.3f}"


def check_thresholds(
    metrics: Mapping[str, float | None],
    thresholds: Mapping[str, float],
    *,
    unmeasured_fails: bool = True,
) -> list[GateFailure]:
    """The gated metrics that miss their threshold (a minimum; a maximum for the metrics in
    LOWER_IS_BETTER). A metric that could not be measured (None) fails its gate unless
    unmeasured_fails is False (a --limit sample may hold no question of a kind).

    Example: check_thresholds({"fact_recall": 0.7, "refusal_recall": None},
                              {"fact_recall": 0.8, "refusal_recall": 0.75})
             -> [GateFailure("fact_recall", 0.7, 0.8), GateFailure("refusal_recall", None, 0.75)]
    """
    failures = []
    for name, threshold in thresholds.items():
        value = metrics.get(name)
        if value is None:
            if unmeasured_fails:
                failures.append(GateFailure(name, None, threshold))
        elif (value > threshold) if name in LOWER_IS_BETTER else (value < threshold):
            failures.append(GateFailure(name, value, threshold))
    return failures


# Per-question scores where a drop from the baseline is a regression (all higher-is-better).
REGRESSION_KEYS = (
    "fact_recall",
    "citation_support",
    "retrieval_hit",
    "answer_f1",
    "answer_contains",
)
_EPSILON = 1e-9  # floats from the same computation: ignore rounding noise only


@dataclass(frozen=True, slots=True)
class Regression:
    id: str
    metric: str  # a REGRESSION_KEYS name, or "refusal" for a wrong flip
    before: Any
    after: Any

    def __str__(self) -> str:
        if self.metric == "refusal":
            return f"{self.id}: refusal flipped wrongly ({self.before} -> {self.after})"
        return f"{self.id}: {self.metric} dropped {_fmt(self.before)} -> {_fmt(self.after)}"


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def diff_runs(
    baseline: Mapping[str, Mapping[str, Any]], current: Mapping[str, Mapping[str, Any]]
) -> list[Regression]:
    """Every question (present in both runs) that got worse: a REGRESSION_KEYS score
    dropped, or the refusal decision went from right to wrong. Arguments map question id ->
    results.jsonl row (its "scores" and "refused" fields are read).

    Example: baseline {"q1": {"refused": False, "scores": {"fact_recall": 1.0,
                                                           "refusal_correct": True}}}
             current  {"q1": {"refused": True, "scores": {"fact_recall": 0.0,
                                                          "refusal_correct": False}}}
             -> [Regression("q1", "fact_recall", 1.0, 0.0),
                 Regression("q1", "refusal", "answered", "refused")]
    """
    regressions = []
    for qid, now in current.items():
        before = baseline.get(qid)
        if before is None:
            continue
        old_scores, new_scores = before.get("scores", {}), now.get("scores", {})
        for key in REGRESSION_KEYS:
            old, new = old_scores.get(key), new_scores.get(key)
            if old is None:
                continue
            # A score that became unmeasurable counts as 0 (e.g. citation support once no
            # fact is found any more).
            if float(new or 0.0) < float(old) - _EPSILON:
                regressions.append(Regression(qid, key, old, new))
        if old_scores.get("refusal_correct") is True and new_scores.get("refusal_correct") is False:
            regressions.append(
                Regression(
                    qid,
                    "refusal",
                    "refused" if before.get("refused") else "answered",
                    "refused" if now.get("refused") else "answered",
                )
            )
    return regressions
