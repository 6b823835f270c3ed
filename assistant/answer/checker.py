"""The learned support checker: gradient-boosted trees over alignment features of a
(span, sentence) pair, shipped as plain JSON and run in pure Python (no scikit-learn, no
torch, no model download at answer time).

The rules of answer/verify.py run first (numbers as values, names, negations, hedges,
opposites); the checker only sees pairs that passed them, and judges what rules cannot: a
clause the span does not hold (a fact joined from elsewhere, a claim from world knowledge),
a hedge of the span stated as done, a negation moved, two names or numbers of the span
swapped, a name put in another's place. Its inputs are `features(span, sentence)`, all cheap
word counts and alignments (about a millisecond a pair for the five averaged models), so a
whole answer is checked in 10-20 ms; a cross-encoder costs 800-1,000 ms an answer on this
machine (evals/VERIFIER.md).

The weights come from evals/train_checker.py (synthetic pairs made by program from covid-qa
and the seed article, never from evals/verify_set.jsonl; five models on five draws, their
log-odds averaged); the threshold is chosen on the tune half of that set by
evals/score_verifier.py --calibrate.

    checker = TreeChecker.load()                      # assistant/answer/verifier/checker.json
    checker.scores([(span, sentence)])                # -> [P(span supports sentence)]
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import ModelNotFoundError
from .negation import NEGATION as _NEGATION
from .negation import STOP as _STOP
from .negation import WORD as _WORD
from .verify import (
    _CODE,
    _HEDGE,
    _loose,
    _word_value,
    coverage,
    quantities,
)

__all__ = [
    "CHECKER_FILE",
    "FEATURE_NAMES",
    "TreeChecker",
    "features",
    "hedge_lost",
    "longest_uncovered_run",
    "min_half_coverage",
    "number_context",
    "subject_agrees",
]

CHECKER_FILE = Path(__file__).resolve().parent / "verifier" / "checker.json"

FEATURE_NAMES: tuple[str, ...] = (
    "coverage",  # share of the sentence's content words in the span (crude stems)
    "reverse_coverage",  # share of the span's content words in the sentence
    "sentence_words",  # content words of the sentence (log1p)
    "missing_words",  # content words of the sentence not in the span (log1p)
    "missing_capitalised",  # of those, written with a capital inside the sentence
    "missing_long",  # of those, eight letters or more (specific terms, not glue)
    "longest_uncovered_run",  # most consecutive content words of the sentence not in the span
    "uncovered_run_share",  # the same, over the sentence's content words
    "min_half_coverage",  # the worse covered half of the sentence (a joined clause)
    "bigram_share",  # adjacent content-word pairs of the sentence adjacent in the span too
    "order_share",  # longest common subsequence of content words, over the sentence's
    "length_ratio",  # words of the sentence over words of the span
    "span_sentences",  # sentence stops in the span (one or two sentences)
    "hedges_span",  # hedge cues of the span (may, considering, suggests...)
    "hedges_sentence",
    "hedge_dropped",  # the span hedges and the sentence does not
    "hedge_lost",  # a hedge of the span over words the sentence repeats, without that hedge
    "certainty_added",  # proves, confirmed, certainly... in the sentence, not in the span
    "negations_span",
    "negations_sentence",
    "negation_difference",  # |negations of the span - negations of the sentence|
    "numbers_sentence",
    "number_context",  # share of the sentence's numbers whose neighbour words match the span's
    "number_order",  # 1 when the sentence's numbers come in the span's order, else 0
    "names_sentence",
    "name_context",  # share of the sentence's names whose neighbour words match the span's
    "subject_agrees",  # the name opening the sentence comes before its verb in the span too
    "connector_added",  # because, therefore, which means, while... in the sentence, not the span
    "copy",  # the sentence is a stretch of the span word for word
)

_CERTAIN = re.compile(
    r"\b(?:prove[sdn]?|proving|confirm(?:s|ed)?|establish(?:es|ed)?|known|certain(?:ly)?|"
    r"definite(?:ly)?|clearly|undoubtedly|always|completed|finalis(?:ed|es)|finaliz(?:ed|es)|"
    r"guarantee[sd]?|will)\b",
    re.IGNORECASE,
)
_CONNECTOR = re.compile(
    r"\b(?:because|therefore|thus|hence|consequently|which means|which explains|so that|"
    r"while|whereas|furthermore|moreover|in addition|additionally|as a result|leading to|"
    r"due to|thanks to|after which)\b|, so\b",
    re.IGNORECASE,
)


@lru_cache(maxsize=4096)
def _tokens(text: str) -> tuple[tuple[str, str], ...]:
    """(word as written, crude stem) of the content words of text, in order; numbers and
    codes (COVID-19) are left out: the rules compare them as values and names."""
    masked = _CODE.sub(" ", text)
    return tuple(
        (w, _loose(w)) for w in _WORD.findall(masked) if w.lower() not in _STOP and len(w) > 2
    )


def longest_uncovered_run(sentence: str, span: str) -> int:
    """The most consecutive content words of sentence whose stems the span lacks.

    A synonym leaves one word uncovered; a clause from elsewhere leaves a run of them.
    Example: longest_uncovered_run("Amazon invested in Anthropic, which later bought a
             football club.", "Amazon invested in Anthropic.") -> 4 (later bought football club)
    """
    have = {stem for _, stem in _tokens(span)}
    best = run = 0
    for _, stem in _tokens(sentence):
        run = 0 if stem in have else run + 1
        best = max(best, run)
    return best


def min_half_coverage(sentence: str, span: str) -> float:
    """Coverage of the worse covered half of the sentence (split at its middle content word).

    Two facts joined from two places leave one half uncovered even when the whole sentence
    reaches a good coverage. Example: min_half_coverage("Amazon invested in Anthropic and
    Google bought Fitbit", "Amazon invested in Anthropic.") -> 0.0
    """
    stems = [stem for _, stem in _tokens(sentence)]
    if len(stems) < 2:
        return coverage(sentence, span)
    have = {stem for _, stem in _tokens(span)}
    mid = len(stems) // 2
    halves = (stems[:mid], stems[mid:])
    return min(sum(s in have for s in h) / len(h) for h in halves)


def _lcs(a: Sequence[str], b: Sequence[str]) -> int:
    if not a or not b:
        return 0
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def _neighbours(words: Sequence[str], i: int, width: int) -> set[str]:
    return {w for w in words[max(0, i - width) : i + width + 1]} - {words[i]}


def _sides(stems: Sequence[str], i: int, width: int = 3) -> tuple[str, str]:
    """The nearest content word before and after position i (within width), numbers aside."""

    def near(seq: Sequence[str]) -> str:
        return next((w for w in seq[:width] if w not in _GLUE), "")

    return near(stems[:i][::-1]), near(stems[i + 1 :])


def number_context(sentence: str, span: str) -> float:
    """Share of the sentence's numbers that have, next to them, the content word the span
    has next to the same value on the same side (1.0 when the sentence has no numbers).

    Two numbers of the span swapped pass the value rule; their neighbours give them away.
    Example: number_context("12 patients and 45 controls", "45 patients and 12 controls")
             -> 0.0; number_context("45 controls", "12 patients and 45 controls") -> 1.0
    """
    s_words = [w.lower() for w in re.findall(r"[\w.,%$€£]+", sentence)]
    p_words = [w.lower() for w in re.findall(r"[\w.,%$€£]+", span)]
    # Numbers (digits or words) are blanked: the neighbour compared is a word, not a number.
    s_stems = ["" if _is_number(w.rstrip(".,")) else _loose(w.rstrip(".,")) for w in s_words]
    p_stems = ["" if _is_number(w.rstrip(".,")) else _loose(w.rstrip(".,")) for w in p_words]
    values = [q.value for q in quantities(sentence)]
    if not values:
        return 1.0
    hits = 0
    for value in values:
        s_at = [i for i, w in enumerate(s_words) if _value(w) == value]
        p_at = [i for i, w in enumerate(p_words) if _value(w) == value]
        if not s_at or not p_at:  # written as words or with a scale: no neighbour to compare
            hits += 1
            continue
        mine = [_sides(s_stems, i) for i in s_at]
        theirs = [_sides(p_stems, i) for i in p_at]
        hits += any(
            (a and a == c) or (b and b == d) or (not a and not b)
            for a, b in mine
            for c, d in theirs
        )
    return hits / len(values)


_GLUE = frozenset(_loose(w) for w in _STOP) | {"", "%"}


def _is_number(word: str) -> bool:
    return _value(word) is not None or _word_value(word) is not None


def _value(word: str) -> float | None:
    digits = re.sub(r"[$€£%,]", "", word).rstrip(".")
    try:
        return float(digits)
    except ValueError:
        return None


def _number_order(sentence: str, span: str) -> float:
    """1.0 when the sentence's numbers that the span holds appear in the span's order."""
    span_values = [q.value for q in quantities(span)]
    positions = []
    for q in quantities(sentence):
        if q.value in span_values:
            positions.append(span_values.index(q.value))
    return float(all(a <= b for a, b in itertools.pairwise(positions)))


def subject_agrees(sentence: str, span: str) -> float:
    """Whether the name that opens the sentence (its subject) is the span's subject too.

    0.0 when the span holds the sentence's first verb or noun but not after that name in the
    same sentence of the span; 0.5 when the span does not hold the name at all (it may be a
    name from elsewhere, or a common word opening the sentence); 1.0 otherwise, and when the
    sentence opens with no name (a capitalised word the span also writes in lower case, such
    as "Building", is no name). The rules treat an opening word as a name only when the
    passages use it mid-sentence, and a name of the span put in another's place keeps every
    word in the span.

    Example: subject_agrees("Amazon is investing in building AI models.", "Meta is
             investing in building AI models. Amazon backs Anthropic.") -> 0.0;
             with the span "Meta is investing in building AI models." alone -> 0.5
    """
    s_tokens = _WORD.findall(sentence)
    first = next((i for i, t in enumerate(s_tokens[:3]) if t[0].isupper()), None)
    if first is None:
        return 1.0
    word = re.sub(r"[’']s$", "", s_tokens[first])
    span_lower = {w for w in _WORD.findall(span) if w[0].islower()}
    if word.lower() in _STOP or word.lower() in _NOT_SUBJECT or word.lower() in span_lower:
        return 1.0
    subject = _loose(word)
    predicate = next(
        (
            _loose(t)
            for t in s_tokens[first + 1 :]
            if t.lower() not in _STOP and len(t) > 2 and not t[0].isupper()
        ),
        None,
    )
    stems = [
        [_loose(re.sub(r"[’']s$", "", t)) for t in _WORD.findall(part)]
        for part in re.split(r"(?<=[.!?;])\s+", span)
    ]
    if predicate is None or not any(predicate in part for part in stems):
        return 1.0
    if not any(subject in part for part in stems):
        return 0.5
    for part in stems:
        for j, stem in enumerate(part):
            if stem == predicate and subject in part[:j]:
                return 1.0
    return 0.0


_NOT_SUBJECT = frozenset(
    """however unlike according overall currently although while since because despite
    nothing everything something nobody everyone someone none neither either one two three
    researchers scientists authors studies patients people companies experts data results
    """.split()  # noqa: SIM905
)


def hedge_lost(sentence: str, span: str) -> float:
    """1.0 when a hedge word of the span governs words the sentence repeats (two content
    words of the eight after it, names aside) and the sentence does not use that hedge word.

    verify.hedge_reason lets a sentence pass when it has any hedge of its own; this counts
    the hedge that was dropped even then ("may lead" -> "certainly will lead ... potential").
    Example: hedge_lost("Vaccines will certainly prevent potential infections.",
             "Vaccines may prevent infections.") -> 1.0
    """
    sentence_words = {_loose(w) for w in _WORD.findall(sentence)}
    tokens = _WORD.findall(span)
    for i, token in enumerate(tokens):
        if not _HEDGE.fullmatch(token) or _loose(token) in sentence_words:
            continue
        governed = {
            _loose(t)
            for t in tokens[i + 1 : i + 9]
            if t.lower() not in _STOP and len(t) > 2 and not t[0].isupper()
        }
        if len(governed & sentence_words) >= 2:
            return 1.0
    return 0.0


def _name_context(sentence: str, span: str, width: int = 4) -> tuple[int, float]:
    """(names in the sentence, share of them with a neighbour word near them in the span)."""
    s_tokens = _WORD.findall(sentence)
    p_tokens = _WORD.findall(span)
    s_low = [_loose(t) for t in s_tokens]
    p_low = [_loose(t) for t in p_tokens]
    names = [
        i for i, t in enumerate(s_tokens) if i > 0 and t[0].isupper() and t.lower() not in _STOP
    ]
    if not names:
        return 0, 1.0
    hits = 0
    for i in names:
        at = [j for j, t in enumerate(p_low) if t == s_low[i]]
        near_s = _neighbours(s_low, i, width) - _GLUE
        if not at or not near_s:
            hits += 1
            continue
        near_p = set().union(*(_neighbours(p_low, j, width + 2) for j in at)) - _GLUE
        hits += bool(near_s & near_p)
    return len(names), hits / len(names)


def _one_line(text: str) -> str:
    return " ".join(text.split())


@lru_cache(maxsize=4096)
def features(span: str, sentence: str) -> tuple[float, ...]:
    """The checker's inputs for one pair, in FEATURE_NAMES order.

    Example: f = dict(zip(FEATURE_NAMES, features("Amazon is considering investing more in
             Anthropic.", "Amazon invested more in Anthropic.")))
             f["hedge_dropped"] -> 1.0, f["coverage"] -> 1.0, f["copy"] -> 0.0
    """
    s_tok = _tokens(sentence)
    p_tok = _tokens(span)
    s_stems = [stem for _, stem in s_tok]
    p_stems = [stem for _, stem in p_tok]
    have = set(p_stems)
    missing = [(w, stem) for w, stem in s_tok if stem not in have]
    run = longest_uncovered_run(sentence, span)
    s_bigrams = list(itertools.pairwise(s_stems))
    p_bigrams = set(itertools.pairwise(p_stems))
    hedges_span = len(_HEDGE.findall(span))
    hedges_sentence = len(_HEDGE.findall(sentence))
    negations_span = len(_NEGATION.findall(span))
    negations_sentence = len(_NEGATION.findall(sentence))
    certain = {m.lower() for m in _CERTAIN.findall(sentence)} - {
        m.lower() for m in _CERTAIN.findall(span)
    }
    connectors = {m.lower() for m in _CONNECTOR.findall(sentence)} - {
        m.lower() for m in _CONNECTOR.findall(span)
    }
    n_names, name_share = _name_context(sentence, span)
    words_sentence = max(1, len(sentence.split()))
    words_span = max(1, len(span.split()))
    return (
        coverage(sentence, span),
        coverage(span, sentence),
        math.log1p(len(s_stems)),
        math.log1p(len(missing)),
        float(sum(w[0].isupper() for w, _ in missing[1:] if w != s_tok[0][0])),
        float(sum(len(w) >= 8 for w, _ in missing)),
        float(run),
        run / max(1, len(s_stems)),
        min_half_coverage(sentence, span),
        sum(b in p_bigrams for b in s_bigrams) / max(1, len(s_bigrams)),
        _lcs(s_stems, p_stems) / max(1, len(s_stems)),
        words_sentence / words_span,
        float(len(re.findall(r"[.!?](?:\s|$)", span.strip()))),
        float(hedges_span),
        float(hedges_sentence),
        float(hedges_span > 0 and hedges_sentence == 0),
        hedge_lost(sentence, span),
        float(len(certain)),
        float(negations_span),
        float(negations_sentence),
        float(abs(negations_span - negations_sentence)),
        float(len(quantities(sentence))),
        number_context(sentence, span),
        _number_order(sentence, span),
        float(n_names),
        name_share,
        subject_agrees(sentence, span),
        float(len(connectors)),
        float(_one_line(sentence).rstrip(".").lower() in _one_line(span).lower()),
    )


@dataclass(frozen=True, slots=True)
class _Tree:
    feature: tuple[int, ...]  # -1 at a leaf
    threshold: tuple[float, ...]
    left: tuple[int, ...]
    right: tuple[int, ...]
    value: tuple[float, ...]

    def __call__(self, x: Sequence[float]) -> float:
        node = 0
        while self.feature[node] >= 0:
            go_left = x[self.feature[node]] <= self.threshold[node]
            node = self.left[node] if go_left else self.right[node]
        return self.value[node]


class TreeChecker:
    """P(span supports sentence) = sigmoid(bias + rate * sum of the trees' leaf values).

    Satisfies verify.SupportScorer. The trees are scikit-learn's GradientBoostingClassifier's,
    written out by evals/train_checker.py; `threshold` and `min_coverage` are the calibrated
    cut-offs (calibration.json), set by whoever loads it.

    Example: TreeChecker.load().scores([("Amazon has invested $8 billion in Anthropic.",
             "Amazon put $8 billion into Anthropic.")]) -> [p] with p close to 1
    """

    def __init__(
        self,
        trees: Sequence[_Tree],
        bias: float,
        rate: float,
        *,
        threshold: float = 0.5,
        min_coverage: float = 0.0,
    ) -> None:
        self.trees = tuple(trees)
        self.bias = bias
        self.rate = rate
        self.threshold = threshold
        self.min_coverage = min_coverage

    @classmethod
    def from_dict(cls, data: dict[str, Any], **cutoffs: float) -> TreeChecker:
        if tuple(data["features"]) != FEATURE_NAMES:
            raise ModelNotFoundError(
                "The checker's weights were trained on other features than this code computes; "
                "retrain them with evals/train_checker.py."
            )
        trees = [
            _Tree(
                tuple(t["feature"]),
                tuple(t["threshold"]),
                tuple(t["left"]),
                tuple(t["right"]),
                tuple(t["value"]),
            )
            for t in data["trees"]
        ]
        return cls(trees, float(data["bias"]), float(data["rate"]), **cutoffs)

    @classmethod
    def load(cls, path: Path = CHECKER_FILE, **cutoffs: float) -> TreeChecker:
        """The checker in path (the packaged one by default)."""
        if not Path(path).is_file():
            raise ModelNotFoundError(
                f"No checker weights at {path}; train them with evals/train_checker.py, or "
                "choose the rule check (ASSISTANT_VERIFIER=rules)."
            )
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")), **cutoffs)

    def margin(self, x: Sequence[float]) -> float:
        """The log-odds of support for one feature vector."""
        return self.bias + self.rate * sum(tree(x) for tree in self.trees)

    def scores(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        """P(support) of each (span, sentence) pair, in order."""
        out = []
        for span, sentence in pairs:
            z = self.margin(features(_one_line(span), _one_line(sentence)))
            out.append(1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z)))))
        return out
