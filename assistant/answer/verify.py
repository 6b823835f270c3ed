"""Check every sentence of a written answer against the passage that supports it.

A language model's answer is split into sentences. For each sentence the verifier looks for
the span of the given passages that supports it (the passages it cites first, then any other
passage: a model that cites nothing is not punished for the missing marker) and keeps the
sentence only when

- every number, amount, percentage, date and proper name in it is in the span (numbers are
  compared as values: "$8 billion" = "8 billion dollars" = "eight billion dollars",
  "40 micrograms/kg" = "0.04 mg/kg");
- it does not flip a negation of the span, nor add one;
- it does not state as done what the span only hedges ("is considering" -> "has invested"),
  nor swap a word for its opposite ("less leverage" -> "more leverage");
- the span holds at least `min_coverage` of its content words (calibrated on data:
  evals/score_verifier.py, stored in assistant/answer/verifier/calibration.json);
- when a learned checker is installed (verifier_model.py), it scores the pair at least at its
  calibrated threshold.

Kept sentences get citations with exact offsets (`source_text[start:end] == quote`), like the
extractive answers; each dropped sentence comes back with a one-phrase reason.

Everything here is pure; the learned checker comes in through the small `SupportScorer`
protocol, so tests can use a fake one.
"""

from __future__ import annotations

import itertools
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from ..ingest.chunking import split_sentences
from ..schema import Chunk, Citation
from .negation import CLAIM_OPPOSITE as _OPPOSITE
from .negation import STOP as _STOP
from .negation import WORD as _WORD
from .negation import content_stems as _content
from .negation import near_negation as _near_negation
from .negation import negated_positions as _negated_positions
from .negation import negation_scope as _scope
from .negation import opposites as _opposites
from .negation import stem as _stem

__all__ = [
    "AnswerSentence",
    "Assessment",
    "Attempt",
    "Dropped",
    "Quantity",
    "Span",
    "SupportScorer",
    "Verification",
    "assess",
    "candidate_spans",
    "causal_reason",
    "certainty_reason",
    "claim_coverage",
    "clause_reason",
    "comparison_reason",
    "coverage",
    "denied_name_reason",
    "framing_hedge",
    "generalisation_reason",
    "hedge_reason",
    "known_names",
    "names_missing",
    "negation_reason",
    "number_swap_reason",
    "opposite_reason",
    "other_member_reason",
    "overstatement_reason",
    "quantities",
    "quantities_missing",
    "recommendation_reason",
    "resolution_reason",
    "respectively_reason",
    "role_reason",
    "rule_reason",
    "sentence_names",
    "split_answer",
    "stance_reason",
    "time_unit_reason",
    "verify_answer",
    "year_swap_reason",
]


class SupportScorer(Protocol):
    """P(span supports sentence) for (span, sentence) pairs; keep at or above `threshold`."""

    threshold: float

    def scores(self, pairs: Sequence[tuple[str, str]]) -> list[float]: ...


@dataclass(frozen=True, slots=True)
class AnswerSentence:
    """One sentence of the answer, without its [n] markers, and the markers it carried."""

    text: str
    cited: tuple[int, ...]  # passage numbers (1-based) from its [n] markers


@dataclass(frozen=True, slots=True)
class Span:
    """A sentence or two adjacent sentences of a passage, with offsets into its source."""

    passage: int  # 1-based number of the passage it comes from
    chunk: Chunk
    start: int  # offsets into the source text
    end: int
    text: str  # == source_text[start:end] == chunk.text[start - chunk.start : end - chunk.start]


@dataclass(frozen=True, slots=True)
class Dropped:
    """A sentence removed from the answer, and why (one short phrase)."""

    sentence: str
    reason: str
    cited: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Verification:
    """The checked answer: kept sentences ending in [n] markers, their citations, what went."""

    text: str
    citations: tuple[Citation, ...]
    dropped: tuple[Dropped, ...]
    scores: tuple[float, ...] = ()  # the checker's score of each kept sentence, in order
    seconds: float = 0.0

    @property
    def empty(self) -> bool:
        return not self.citations


# --- sentences of the answer ---------------------------------------------------------------

_MARKERS = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_LIST_BULLET = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+")


def split_answer(answer: str) -> list[AnswerSentence]:
    """Sentences of an answer with the [n] markers each one carries (markers removed).

    A marker belongs to the sentence it follows, whether written before or after the stop.

    Example: split_answer("Amazon invested $8 billion [1]. Google owns part. [2, 3]") ->
             [AnswerSentence("Amazon invested $8 billion.", (1,)),
              AnswerSentence("Google owns part.", (2, 3))]
    """
    # A marker written after the full stop ("part. [2]") is moved before it, so the sentence
    # splitter sees the stop at the end of the sentence that carries the marker.
    text = re.sub(r"([.!?])((?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])+)", r"\2\1", answer)
    out: list[AnswerSentence] = []
    for start, end in split_sentences(text):
        raw = text[start:end]
        cited = tuple(
            dict.fromkeys(
                int(n) for group in _MARKERS.findall(raw) for n in re.split(r"[,;]", group)
            )
        )
        clean = " ".join(_MARKERS.sub("", raw).split())
        clean = _LIST_BULLET.sub("", clean)
        clean = re.sub(r"\s+([.!?,;:])", r"\1", clean)
        if any(c.isalnum() for c in clean):
            out.append(AnswerSentence(clean, cited))
    return out


# --- numbers -------------------------------------------------------------------------------

_UNITS_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {
    "hundred": 1e2,
    "thousand": 1e3,
    "k": 1e3,
    "million": 1e6,
    "m": 1e6,
    "mn": 1e6,
    "billion": 1e9,
    "bn": 1e9,
    "b": 1e9,
    "trillion": 1e12,
    "tn": 1e12,
}
# Mass units in grams; "/kg" style denominators are kept as written (normalised).
_MASS = {
    "ng": 1e-9, "nanogram": 1e-9, "nanograms": 1e-9,
    "μg": 1e-6, "µg": 1e-6, "ug": 1e-6, "mcg": 1e-6, "microgram": 1e-6, "micrograms": 1e-6,
    "mg": 1e-3, "milligram": 1e-3, "milligrams": 1e-3,
    "g": 1.0, "gram": 1.0, "grams": 1.0,
    "kg": 1e3, "kilogram": 1e3, "kilograms": 1e3,
}  # fmt: skip
_CURRENCY_SIGNS = {"$": "usd", "€": "eur", "£": "gbp", "¥": "jpy"}
_CURRENCY_WORDS = {
    "dollar": "usd", "dollars": "usd", "usd": "usd", "us$": "usd",
    "euro": "eur", "euros": "eur", "eur": "eur",
    "pound": "gbp", "pounds": "gbp", "gbp": "gbp",
}  # fmt: skip

_WORD_NUM = "|".join(sorted(_UNITS_WORDS, key=len, reverse=True))
_SCALE_WORDS = "hundred|thousand|million|billion|trillion"
_NUMBER_WORDS = rf"(?:{_WORD_NUM})(?:[- ](?:{_WORD_NUM}))?(?:\s+(?:{_SCALE_WORDS}))*"
# Thousands are grouped with commas or with (thin) spaces: "76 228" is one number.
_DIGITS = (
    r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<![\d.,])\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?!\d|[.,]\d)"
    r"|\d+(?:\.\d+)?|\.\d+"
)
_MASS_UNITS = "|".join(sorted(map(re.escape, _MASS), key=len, reverse=True))
_QUANTITY = re.compile(
    rf"(?P<cur>US\$|[$€£¥])?\s?"
    rf"(?P<num>{_DIGITS}|\b{_NUMBER_WORDS}\b)"
    rf"(?:\s?(?P<scale>{_SCALE_WORDS}|bn|mn|tn|[kKmMbB]\b))?"
    rf"(?:[\s-]?(?P<unit>%|percent\b|per\s?cent\b|"
    rf"(?:(?:US|U\.S\.)\s)?(?:dollars?|euros?|pounds?|USD|EUR|GBP)\b|(?:{_MASS_UNITS})(?![a-zA-Z]))"
    rf"(?P<per>\s?(?:/|per\s)\s?(?:kg|g|ml|mL|l|L|day|d|h|dose)\b)?)?",
    re.IGNORECASE,
)
# Tokens that mix letters and digits are names, not numbers: COVID-19, GPT-4, 2019-nCoV, H1N1.
_CODE = re.compile(
    r"(?<![\w-])(?=[\w-]*[A-Za-z])(?=[\w-]*\d)(?![\d.]+-[a-z]+\b)"
    r"(?!\d+(?:bn|mn|tn|[kmbKMBx]|mg|kg|g|ml|mL|µg|μg|ug|mcg|ng|h|d|s|kb|nm|st|nd|rd|th)(?![\w-]))"
    r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*"
    r"(?![\w-])"
)


@dataclass(frozen=True, slots=True)
class Quantity:
    """A number as written and as a value: `kind` is money, percent, mass or number."""

    text: str
    value: float  # for mass: grams (per `per`); for money: in units of the currency
    kind: str
    currency: str = ""
    per: str = ""


def _word_value(words: str) -> float | None:
    total, current = 0.0, 0.0
    for w in re.split(r"[\s-]+", words.lower()):
        if w in _UNITS_WORDS:
            current += _UNITS_WORDS[w]
        elif w == "hundred":
            current = max(current, 1) * 100
        elif w in ("thousand", "million", "billion", "trillion"):
            total += max(current, 1) * _SCALES[w]
            current = 0
        else:
            return None
    return total + current


@lru_cache(maxsize=4096)  # passages are checked against every sentence of an answer
def quantities(text: str) -> tuple[Quantity, ...]:
    """Every number in text as a value with its kind; names with digits (COVID-19) excluded.

    Example: [(q.value, q.kind) for q in quantities("$8 billion, 45% and 40 micrograms/kg")]
             -> [(8e9, "money"), (45.0, "percent"), (4e-05, "mass")]
    Lone "one" is not a number ("one of the companies"); "one billion" is.
    """
    masked = _CODE.sub(lambda m: " " * len(m.group(0)), text)
    out: list[Quantity] = []
    for m in _QUANTITY.finditer(masked):
        raw, cur = m.group("num"), m.group("cur")
        scale_word = (m.group("scale") or "").lower()
        unit = re.sub(r"^u\.?s\.?\s", "", (m.group("unit") or "").lower())
        if raw[0].isdigit() or raw[0] == ".":
            value = float(re.sub(r"[,\s]", "", raw))
        else:
            if raw.lower() in ("one", "zero") and not (scale_word or unit or cur):
                continue
            word = _word_value(raw)
            if word is None:
                continue
            value = word
        # One-letter scales are only scales after a currency sign: "5 m" may be metres.
        if scale_word in ("m", "b", "k") and not cur:
            scale_word = ""
        value *= _SCALES.get(scale_word, 1.0)
        per = re.sub(r"\s|per", "", (m.group("per") or "").lower()).lstrip("/")
        currency = _CURRENCY_SIGNS.get(cur or "", "") or ("usd" if cur and "US" in cur else "")
        if unit in ("%", "percent") or unit.replace(" ", "") == "percent":
            out.append(Quantity(m.group(0).strip(), value, "percent"))
        elif unit in _CURRENCY_WORDS or currency:
            out.append(
                Quantity(m.group(0).strip(), value, "money", currency or _CURRENCY_WORDS[unit])
            )
        elif unit and unit in _MASS:
            out.append(Quantity(m.group(0).strip(), value * _MASS[unit], "mass", per=per))
        else:
            out.append(Quantity(m.group(0).strip(), value, "number"))
    return tuple(out)


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12)


def _matches(q: Quantity, p: Quantity) -> bool:
    if q.kind == "mass" and p.kind == "mass":
        return q.per == p.per and _same(q.value, p.value)
    if q.kind == "money" and p.kind == "money" and q.currency and p.currency:
        return q.currency == p.currency and _same(q.value, p.value)
    # A bare number matches the same value of any kind ("8 billion" vs "$8 billion").
    return (q.kind == p.kind or "number" in (q.kind, p.kind)) and _same(q.value, p.value)


# A word before a number that says it is rounded: "about seven", "roughly 0.998".
_APPROXIMATE = re.compile(
    r"(?:about|around|roughly|approximately|approx\.?|nearly|almost|some|close to|~)\s*[$€£]?$",
    re.IGNORECASE,
)


def _decimals(text: str) -> int:
    """Decimal places written in a number's text ("0.998" -> 3, "seven" -> 0)."""
    m = re.search(r"\d\.(\d+)", text)
    return len(m.group(1)) if m else 0


def _significant(text: str) -> int:
    """Significant digits written in a number's text ("0.998" -> 3, "7" -> 1, "seven" -> 1)."""
    digits = re.sub(r"\D", "", text.split("%")[0]).lstrip("0")
    return max(1, len(digits))


def _rounds_to(q: Quantity, p: Quantity, approximate: bool) -> bool:
    """Whether q is p rounded to the decimals q is written with: "0.998" for 0.997966,
    "about seven" for 7.2. A rounded number needs two significant digits of its own or a
    word that says it is rounded ("about", "roughly"), so that "7" never passes for 7.4.
    Money and mass are compared in their own units; this covers plain numbers and shares.
    """
    if q.kind not in ("number", "percent") or p.kind not in ("number", "percent", q.kind):
        return False
    if not approximate and _significant(q.text) < 2:
        return False
    places = _decimals(q.text)
    if _decimals(p.text) <= places:
        return False  # p is no more precise than q: equal values are _matches' business
    return _same(round(p.value, places), q.value)


def _range_starts(span: str) -> list[Quantity]:
    """The first number of each range whose scale or unit is written once, at its end, as
    the value it stands for: "$12-18 billion" and "12 to 18 million" start at 12e9, 12e6.

    Example: [q.value for q in _range_starts("losses of USD $12-18 billion")] -> [12e9]
    """
    out = []
    for m in re.finditer(
        r"([$€£]?)(?<![\d.])(\d+(?:\.\d+)?)\s*(?:-|–|to|and)\s*[$€£]?\d+(?:\.\d+)?\s?"
        r"(thousand|million|billion|trillion)",
        span,
        re.IGNORECASE,
    ):
        value = float(m.group(2)) * _SCALES[m.group(3).lower()]
        currency = _CURRENCY_SIGNS.get(m.group(1), "")
        out.append(Quantity(m.group(0), value, "money" if currency else "number", currency))
    return out


def quantities_missing(sentence: str, span: str) -> list[Quantity]:
    """The numbers of sentence that the span does not state (compared as values; a number
    rounded from the span's counts as stated: "about 0.998" for "r = 0.997966").

    Example: quantities_missing("Amazon put in eight billion dollars.", "invested $8 billion")
             -> []
             quantities_missing("By day 71 she could talk.", "At discharge (D71), she
             could talk.") -> []
    """
    have = quantities(span) + tuple(_range_starts(span))
    missing = []
    for q in quantities(sentence):
        if any(_matches(q, p) for p in have):
            continue
        at = sentence.find(q.text)
        approximate = at >= 0 and bool(_APPROXIMATE.search(sentence[:at].rstrip()))
        if any(_rounds_to(q, p, approximate) for p in have):
            continue
        # Day and week numbers are written short in clinical notes: "day 71" is "D71".
        unit = re.search(r"\b(day|week)\s*$", sentence[:at], re.IGNORECASE) if at >= 0 else None
        if unit and q.kind == "number" and q.value == int(q.value):
            short = rf"\b(?:{unit.group(1)}|{unit.group(1)[0]})\s?0*{int(q.value)}\b"
            if re.search(short, span, re.IGNORECASE):
                continue
        missing.append(q)
    return missing


# --- names ---------------------------------------------------------------------------------

_NAME = re.compile(r"[A-Z][\w’'&.-]*[\w]|[A-Z]")
_NOT_NAMES = frozenset(
    """
    i a an the this that these those it its they their there he she we you our my his her
    however but and or so yet also in on at of for to by with from as if when while after
    before although though because since unlike like overall currently meanwhile moreover
    furthermore additionally finally first second third then thus therefore here what which
    who how why where yes no not nor all both each every some many most several such other
    according based despite during among between without within into over under about
    """.split()  # noqa: SIM905
)


def _strip_possessive(word: str) -> str:
    # The full stop first: "Google's." at a sentence's end is Google.
    return re.sub(r"[’']s?$", "", word.rstrip("."))


def known_names(texts: Sequence[str]) -> frozenset[str]:
    """Capitalised words that appear inside sentences of texts (lower-cased): the names.

    Example: known_names(["Amazon backs Anthropic."]) -> frozenset({"anthropic"})
    """
    out: set[str] = set()
    for text in texts:
        for m in re.finditer(r"(?<=[\w,;)] )[A-Z][\w’'&-]*", text):
            out.add(_strip_possessive(m.group(0)).lower())
    return frozenset(out)


def sentence_names(sentence: str, names: frozenset[str] = frozenset()) -> list[str]:
    """The proper names of a sentence: capitalised words not opening it, codes such as
    GPT-4, and an opening word that `names` knows as a name.

    Example: sentence_names("Amazon's stake in Anthropic grew", frozenset({"amazon"}))
             -> ["Amazon", "Anthropic"]
    """
    out: list[str] = []
    for m in _CODE.finditer(sentence):
        out.append(m.group(0))
    codes = {c.lower() for c in out}
    opening = True
    for token in re.finditer(r"\S+", sentence):
        word = token.group(0).strip("\"“”‘’'()[]{}:;,!?")
        was_opening = opening
        opening = bool(re.search(r"[.:!?]$", token.group(0)))
        if not word or not word[0].isupper():
            continue
        for part in re.split(r"[-/]", _strip_possessive(word)):
            bare = part.strip(".")
            low = bare.lower()
            if not bare or not bare[0].isupper() or low in codes or low in _NOT_NAMES:
                continue
            if was_opening and low not in names and not bare.isupper():
                continue
            if low == "may" and not was_opening:
                out.append(bare)  # the month; the modal is lower-case mid-sentence
                continue
            out.append(bare)
    return list(dict.fromkeys(out))


# One name written several ways in the literature; a model normalises them.
_NAME_VARIANTS = (frozenset({"covid-19", "covid-2019", "covid19", "covid2019"}),)
# "US" in "US dollars" or "US$" names the currency, which the amount's rule compares.
_CURRENCY_COUNTRY = re.compile(r"\b(?:US|U\.S\.?)(?=\s?(?:\$|dollars?\b))")


def names_missing(sentence: str, span: str, names: frozenset[str] = frozenset()) -> list[str]:
    """Names of sentence that do not occur in span (ignoring case and possessives; an
    acronym's plural is the acronym: "ED" = "EDs"; "US" of "US dollars" is currency).

    Example: names_missing("Google invested in Anthropic.", "Amazon invested in Anthropic.",
                           frozenset({"google", "amazon"})) -> ["Google"]
             names_missing("Each ED tested 3 billion US dollars.", "EDs ... USD $3 billion")
             -> []
    """
    low = span.lower()
    # A code the passage prints with a space before its digits ("EC 50", "R 0", text taken
    # from PDFs) is the sentence's "EC50".
    joined = re.sub(r"(?<=[a-z])\s+(?=\d)", "", low)
    missing = []
    for name in sentence_names(_CURRENCY_COUNTRY.sub(" ", sentence), names):
        forms = {name.lower()}
        if re.fullmatch(r"[A-Z]{2,}s", name):
            forms.add(name[:-1].lower())  # "EDs" -> "ed"
        forms |= next((v for v in _NAME_VARIANTS if name.lower() in v), frozenset())
        plural = "s?" if re.fullmatch(r"[A-Z]{2,}s?", name) else ""
        if any(
            re.search(rf"(?<![\w]){re.escape(f)}{plural}(?![\w])", text)
            for f in forms
            for text in ((low, joined) if any(ch.isdigit() for ch in f) else (low,))
        ):
            continue
        if re.fullmatch(r"[A-Z]{2,6}", name) and _spelled_out(name, span):
            continue
        missing.append(name)
    return missing


_SPELLING_FILLERS = frozenset({"of", "and", "the", "for", "&"})


def _spelled_out(acronym: str, span: str) -> bool:
    """Whether the span writes the acronym out: words whose initials spell it, "of", "and",
    "the" and "for" aside ("United States of America" for "USA", "acute respiratory distress
    syndrome" for "ARDS"); for two letters only capitalised words ("United States" for "US").

    Example: _spelled_out("USA", "In the United States of America, ...") -> True
             _spelled_out("US", "under study") -> False
    """
    words = [w for w in _WORD.findall(span) if w.lower() not in _SPELLING_FILLERS]
    n = len(acronym)
    for i in range(len(words) - n + 1):
        run = words[i : i + n]
        if "".join(w[0] for w in run).upper() != acronym:
            continue
        if n > 2 or all(w[0].isupper() for w in run):
            return True
    return False


# --- negation and hedges -------------------------------------------------------------------

_HEDGE = re.compile(
    r"\b(?:may|might|could|would|possibl[ey]|potential(?:ly)?|probabl[ey]|(?:un)?likely|"
    r"reportedly|consider(?:s|ing)|plan(?:s|ned|ning)?|expect(?:s|ed)?|suggest(?:s|ed)?|"
    r"appear(?:s|ed)?|seem(?:s|ed)?|thought|believed|rumou?red|proposed|"
    r"weigh(?:s|ing)|exploring|talks|whether|if|estimated|"
    r"uncertain|unclear|hypothes\w+|speculat\w+)\b",
    re.IGNORECASE,
)


def negation_reason(sentence: str, span: str) -> str | None:
    """Why the sentence contradicts the span's negation, or None.

    A negated word of the span used without a negation in the sentence ("no guarantee" ->
    "guaranteed") drops the negation; a negated word of the sentence that the span states
    plainly adds one.

    Example: negation_reason("Amazon's stake is exclusive.", "Amazon's stake is
             non-exclusive.") -> "drops the negation of 'exclusive'"
    """
    span_words = {stem for _, stem in _content(span)}
    sentence_words = {stem for _, stem in _content(sentence)}
    sentence_words |= {
        _stem(w[4:]) for w in _WORD.findall(sentence) if w.lower().startswith("non-")
    }
    privative = _privative_roots(sentence)
    for cue in _negated_positions(span):
        scope = _scope(span, [cue])
        # "were unknown" keeps the negation of "did not know the values": the sentence
        # carries this cue's negation in one word, so the cue's other words are negated too.
        if any(_same_root(root, stem) for root in privative for stem in scope):
            continue
        for stem in sorted(scope):
            if stem in sentence_words and not _near_negation(sentence, stem):
                return f"drops the negation of '{_word_for(sentence, stem)}'"
    # A negation of the sentence ends with its clause: "Without interventions, the
    # scenarios estimated ..." does not deny the scenarios.
    clauses = re.split(r"[,;]", sentence)
    negated = set().union(*(_scope(c, _negated_positions(c)) for c in clauses))
    # The span's negation ends with its clause too: "is not exclusive, adding an element of
    # risk" states the risk. Only a clause that a semicolon or a participle opens: a comma
    # alone may go on with the negation's list ("no infrastructure, health systems").
    span_clauses = re.split(r";|,(?=\s+[a-z]+ing\b)", span)
    for stem in sorted(negated):
        if stem in span_words and not any(_near_negation(c, stem) for c in span_clauses):
            return f"negates '{_word_for(sentence, stem)}', which the passage states"
    return None


_PRIVATIVE = re.compile(r"(?:un|in|im|non-?|dis)([a-z]{4,})", re.IGNORECASE)


def _privative_roots(text: str) -> list[str]:
    """The roots of the words of text that negate by a prefix: "unknown" -> "known".

    Example: _privative_roots("The values were unknown and inactive.")
             -> ["known", "active"]
    """
    return [m.group(1).lower() for w in _WORD.findall(text) if (m := _PRIVATIVE.fullmatch(w))]


def _same_root(root: str, stem: str) -> bool:
    """Whether a prefix-negated word's root and a crude stem name one word ("known", "know")."""
    return len(stem) >= 4 and (root.startswith(stem) or stem.startswith(root[:5]))


def _word_for(text: str, stem: str) -> str:
    for w in _WORD.findall(text):
        if _stem(w) == stem:
            return w
        if w.lower().startswith("non-") and _stem(w[4:]) == stem:
            return w[4:]
    return stem


def opposite_reason(sentence: str, span: str, exempt: frozenset[str] = frozenset()) -> str | None:
    """A word of the sentence whose opposite the span uses instead (and not the word itself).
    `exempt` words are not read (the comparing words of a comparison stated the other way
    round: "GPT-4 is ahead of Amazon's models" for "Amazon's models lag behind GPT-4").

    Example: opposite_reason("Amazon holds more leverage.", "Amazon holds less leverage.")
             -> "says 'more' where the passage says 'less'"
    """
    span_words = {w.lower() for w in _WORD.findall(span)}
    for word in _WORD.findall(sentence):
        low = word.lower()
        if low in span_words or low in exempt:
            continue
        for other in sorted(_OPPOSITE.get(low, ())):
            # "not exclusive" in the span says what "non-exclusive" says; "not more" in the
            # sentence no longer claims "more".
            if other in span_words and not (
                _negated_near(span, other) or _negated_near(sentence, low)
            ):
                return f"says '{low}' where the passage says '{other}'"
    return _opposite_group(sentence, span, exempt) or _opposite_beside(sentence, span)


# Groups of _SYNONYM_GROUPS (named by their first word) that say the opposite of each other:
# a word of one where the span has only words of the other ("cooperating" where the span says
# "vying") flips the claim as an opposite word does.
_OPPOSITE_GROUPS = (("work", "compete"), ("similar", "different"), ("lower", "higher"))


def _group_of(word: str) -> str | None:
    return _SYNONYM.get(_synonym_key(word))


@lru_cache(maxsize=1)
def _opposite_heads() -> dict[str, str]:
    heads = {}
    for a, b in _OPPOSITE_GROUPS:
        head_a, head_b = _group_of(a), _group_of(b)
        assert head_a and head_b, (a, b)
        heads[head_a], heads[head_b] = head_b, head_a
    return heads


def _opposite_group(sentence: str, span: str, exempt: frozenset[str] = frozenset()) -> str | None:
    """A word of the sentence whose synonym group the span never uses, where the span uses
    the opposite group (not negated): "cooperating" where the span says "vying".

    Example: _opposite_group("Meta and Amazon are cooperating.", "Meta and Amazon are
             vying for leadership.") -> "says 'cooperating' where the passage says 'vying'"
    """
    opposite = _opposite_heads()
    span_groups: dict[str, str] = {}
    for w in _WORD.findall(span):
        head = _group_of(w)
        if head is not None:
            span_groups.setdefault(head, w)
    for word in _WORD.findall(sentence):
        head = _group_of(word)
        if head is None or head not in opposite or head in span_groups:
            continue
        if word.lower() in exempt or _negated_near(sentence, word.lower()):
            continue
        other = span_groups.get(opposite[head])
        if other is not None and not _negated_near(span, other.lower()):
            return f"says '{word}' where the passage says '{other}'"
    return None


@lru_cache(maxsize=4096)
def _pairs_beside(text: str) -> frozenset[tuple[str, str]]:
    """(word, crude stem of the next content word within two words) of each word of text."""
    tokens = [t.lower() for t in _WORD.findall(text)]
    out = set()
    for i, t in enumerate(tokens):
        for nxt in tokens[i + 1 : i + 3]:
            if nxt not in _STOP and len(nxt) > 2:
                out.add((t, _loose(nxt)))
                break
    return frozenset(out)


# Opposites only before the same word: degree ("mainly about X" where the span says "less
# about X and more about Y"), sharing ("its own laboratory" where the span says "a single
# laboratory") and place. Anywhere else the words are too common to oppose each other.
_BESIDE_OPPOSITE = _opposites(
    [
        *(
            (strong, weak)
            for strong in ("mainly", "mostly", "primarily", "largely", "chiefly")
            for weak in ("less", "little", "rarely")
        ),
        *(
            (each, one)
            for each in ("own", "separate", "individual", "respective", "different")
            for one in ("single", "shared", "common", "joint", "same")
        ),
        # Place: "outside China" where the span says "in China".
        *(("outside", inside) for inside in ("in", "inside", "within")),
    ]
)


def _opposite_beside(sentence: str, span: str) -> str | None:
    """A word of the sentence whose opposite the span puts before the same word, where the
    span uses both words elsewhere: "more hospital admissions" against "fewer hospital
    admissions ... more patients receiving their results".

    Example: _opposite_beside("It led to more admissions.", "It led to fewer admissions and
             more tests.") -> "says 'more admissions' where the passage says 'fewer admissions'"
    """
    span_pairs = _pairs_beside(span)
    for word, following in sorted(_pairs_beside(sentence)):
        if (word, following) in span_pairs or _negated_near(sentence, word):
            continue
        for other in sorted(_OPPOSITE.get(word, set()) | _BESIDE_OPPOSITE.get(word, set())):
            if (other, following) in span_pairs:
                noun = next(
                    (w for w in _WORD.findall(sentence) if _loose(w.lower()) == following),
                    following,
                )
                return f"says '{word} {noun}' where the passage says '{other} {noun}'"
    return None


def _negated_near(text: str, word: str, window: int = 3) -> bool:
    """Whether every use of word (lower case) in text follows a negation cue closely.

    Example: _negated_near("Amazon's position is not exclusive.", "exclusive") -> True
    """
    tokens = [t.lower() for t in _WORD.findall(text)]
    cues = _negated_positions(text)
    uses = [i for i, t in enumerate(tokens) if t == word]
    return bool(uses) and all(any(0 < i - c <= window for c in cues) for i in uses)


# Words that report a claim as someone's without vouching for it; a hedge like "reportedly".
_ATTRIBUTION = re.compile(
    r"\b(?:alleg(?:e|es|ed|edly)|claimed|purported(?:ly)?|supposedly)\b", re.IGNORECASE
)
_FRAMING_WORDS = 6  # how close to a quotation its hedge must stand


def framing_hedge(framing: str) -> str | None:
    """The hedge among the last few words that lead into a quotation (same clause), or None.

    Example: framing_hedge("Some people have alleged that the human ") -> "alleged"
             framing_hedge("Although it may be costly, ") -> None (the hedge is in another
             clause)
    """
    lead = re.split(r"[.!?;,:]\s|[.!?;,:]$", framing.rstrip())[-1]
    words = _WORD.findall(lead)[-_FRAMING_WORDS:]
    for word in reversed(words):
        if _HEDGE.fullmatch(word) or _ATTRIBUTION.fullmatch(word):
            return word
    return None


# Hedges the rules read besides _HEDGE (which the checker's features read as trained):
# ways to say "considering" or "expected" that a rewrite uses ("is thinking about").
_MORE_HEDGES = re.compile(
    r"\b(?:thinking|mull(?:s|ed|ing)?|contemplat\w+|eye(?:s|ing)|hop(?:e|es|ed|ing))\b",
    re.IGNORECASE,
)
# Words that keep a claim short of a fact in the sentence, though in a span they only state a
# purpose or a result ("aiming to control the stack", "were predicted and compared").
_SENTENCE_HEDGES = re.compile(
    r"\b(?:aim(?:s|ed|ing)?|intend(?:s|ed|ing)?|projected|predict(?:s|ed)?|anticipat\w+|"
    r"forecast\w*|propos\w+|perhaps|maybe|necessarily|tend(?:s|ed)?|can|"
    # "This points to X", "indicates X" for the span's "This suggested that X".
    r"points?|pointed|indicat(?:e|es|ed|ing)|impl(?:y|ies|ied)|hint(?:s|ed)?)\b",
    re.IGNORECASE,
)


# A denied certainty is a doubt: "there is no guarantee that X", "X is not certain", "not
# necessarily X" leave X open, as "may" does; written so in a sentence it is a hedge too.
_DOUBT = re.compile(
    r"\b(?:no|not|nothing|never|cannot|can't|isn't|aren't)\W+(?:\w+\W+)?"
    r"(?P<cue>guarantee[sd]?|guarantees|assurance|certain(?:ty)?|sure|assured|clear|"
    r"necessarily|definite(?:ly)?|known)\b",
    re.IGNORECASE,
)


# An open question in other words: "it is too early to quantify its impacts", "there are
# fears that it may", "it remains to be seen whether".
_OPEN = re.compile(
    r"\btoo\s+(?P<early>early|soon)\s+to\b"
    r"|\b(?P<fear>fears?|feared|concerns?|worr(?:y|ies|ied))\s+that\b"
    r"|\b(?P<seen>remains?)\s+to\s+be\s+seen\b",
    re.IGNORECASE,
)


_HEDGE_CLAUSE = 16  # the most words a hedge governs, when its clause runs on


def _clause_breaks(text: str) -> list[bool]:
    """For each word of text (_WORD.findall), whether a clause break (, ; : . ! ?) stands
    between it and the word before.

    Example: _clause_breaks("It may rise, then fall.") -> [False, False, False, True, False]
    """
    out, last = [], 0
    for m in _WORD.finditer(text):
        out.append(bool(re.search(r"[,;:.!?]", text[last : m.start()])) and last > 0)
        last = m.end()
    return out


def _doubt_positions(text: str) -> set[int]:
    """Token indices (of _WORD.findall(text)) of the certainty words a negation denies, and
    of the words that leave a question open ("too early to", "fears that").

    Example: _doubt_positions("There is no guarantee that it stays.") -> {3}
    """
    starts = {m.start(): k for k, m in enumerate(_WORD.finditer(text))}
    found = {m.start("cue") for m in _DOUBT.finditer(text)}
    found |= {m.start(m.lastgroup or 0) for m in _OPEN.finditer(text)}
    return {starts[at] for at in found if at in starts}


_RESTRICTIVE = re.compile(
    r"\b(?:when|whenever|where|wherever|unless|once|provided|in case|without|who|whose)\b",
    re.IGNORECASE,
)


def hedge_reason(sentence: str, span: str) -> str | None:
    """Why the sentence states as fact what the span only hedges, or None.

    Fires when a hedge of the span governs words the sentence repeats (two content words, not
    names, of the eight after the hedge, or all of them when there are fewer) and the
    sentence has no hedge of its own. A hedge written another way ("is thinking about" for
    "is considering", "were hoped" for "were expected") counts when it stands before the
    repeated words and is not a word of the span (then it is the span's own, elsewhere).

    Example: hedge_reason("Amazon has made a multi-billion dollar investment in Anthropic.",
             "Amazon is considering a multi-billion dollar investment in Anthropic.")
             -> "drops the hedge 'considering'"
             hedge_reason("Amazon is thinking about a multi-billion dollar investment.",
             "Amazon is considering a multi-billion dollar investment.") -> None
    """
    # A hedge of the sentence's own keeps the claim a hedge ("Amazon may invest" for "is
    # reportedly considering"); which hedge it is, is the checker's business. Tried: using
    # up the hedges the sentence repeats, so that "reportedly decided" drops "considering"
    # of "reportedly considering"; it dropped faithful rewrites of stacked hedges
    # ("speculation that pangolins might" -> "pangolins might"), so the rule stays simple.
    if (
        _HEDGE.search(sentence)
        or _ATTRIBUTION.search(sentence)
        or _DOUBT.search(sentence)
        or _OPEN.search(sentence)
    ):
        return None
    sentence_tokens = _WORD.findall(sentence)
    span_tokens = _WORD.findall(span)
    doubts = _doubt_positions(span)
    breaks = _clause_breaks(span)
    span_stems = {_stem(t) for t in span_tokens}
    own_hedges = [
        k
        for k, t in enumerate(sentence_tokens)
        if (_MORE_HEDGES.fullmatch(t) or _SENTENCE_HEDGES.fullmatch(t))
        and _stem(t) not in span_stems
    ]
    sentence_content = _content(sentence)
    sentence_words = {stem for _, stem in sentence_content}
    synonyms = {
        head: stem
        for j, stem in sentence_content
        if (head := _SYNONYM.get(_synonym_key(sentence_tokens[j])))
    }
    content = _content(span)
    for i, token in enumerate(span_tokens):
        if not (
            _HEDGE.fullmatch(token)
            or _ATTRIBUTION.fullmatch(token)
            or _MORE_HEDGES.fullmatch(token)
            or i in doubts
        ):
            continue
        # Names say who; the hedge governs what is done ("considering an investment").
        # A synonym of a sentence word counts as that word ("stay loyal" for "remain loyal").
        # A hedge governs eight words; an open question governs its clause ("too early to
        # quantify or project its impacts on the global economy,"), up to sixteen words: a
        # one-word hedge that far would reach into other claims.
        reach = i + 8
        if i in doubts:
            reach = i
            while reach < min(len(span_tokens) - 1, i + _HEDGE_CLAUSE) and not breaks[reach + 1]:
                reach += 1
        governed = {
            synonyms.get(_SYNONYM.get(_synonym_key(span_tokens[j]), ""), stem)
            for j, stem in content
            if i < j <= reach and not span_tokens[j][0].isupper()
        }
        shared = governed & sentence_words
        # Two shared words, or every word it governs when it governs only one or two.
        if len(shared) >= 2 or (shared and shared == governed):
            kept = any(
                0 < j - k <= 8 for k in own_hedges for j, stem in sentence_content if stem in shared
            )
            # A condition may be restated as a restriction: "if a respondent has no risk"
            # -> "respondents without a risk", "if possible" -> "where possible".
            if token.lower() == "if" and _RESTRICTIVE.search(sentence):
                kept = True
            if not kept:
                return f"drops the hedge '{token}'"
    return None


_NUMBER_TOKEN = re.compile(r"[$€£]?\d[\d,]*(?:\.\d+)?%?|[A-Za-z][\w’'-]*|[,;:.](?!\d)")


@lru_cache(maxsize=4096)
def _number_neighbours(text: str) -> tuple[tuple[float, str, str], ...]:
    """(value, nearest content word before, nearest content word after) of each number
    written as one token in text (digits or a number word; within two words and the same
    clause, stop words and numbers skipped; "" when there is none). Years are left out:
    "January 2020" says when, not what was counted.

    Example: _number_neighbours("fever (98%) and diarrhea (3%)")
             -> ((98.0, "fever", "diarr"), (3.0, "diarr", ""))
    """
    tokens = [t.rstrip(",") for t in _NUMBER_TOKEN.findall(text)]
    values: list[float | None] = []
    for t in tokens:
        if t in ",;:.":
            values.append(None)
        elif t[0].isalpha():
            values.append(_word_value(t) if t.lower() not in ("one", "zero") else None)
        else:
            try:
                values.append(float(re.sub(r"[$€£%,]", "", t)))
            except ValueError:
                values.append(None)

    def near(indices: range) -> str:
        for j in indices[:2]:  # a range: not list(indices), which made each number O(n)
            t = tokens[j]
            if t in ",;:.":
                break
            if values[j] is None and t.lower() not in _STOP and len(t) > 2:
                return _loose(t)
        return ""

    out = []
    for i, value in enumerate(values):
        if value is not None and not (1900 <= value <= 2100 and value == int(value)):
            out.append((value, near(range(i - 1, -1, -1)), near(range(i + 1, len(tokens)))))
    return tuple(out)


def number_swap_reason(sentence: str, span: str) -> str | None:
    """A number of the sentence next to a word that the span puts next to another number of
    its own, where the span never puts that word next to this number; or None.

    The value rule passes two numbers of the span swapped ("fever in 3%" where the span has
    "fever (98%) ... diarrhea (3%)"), and a count given the noun of another count ("830
    deaths" where the span has "830 cases ... twenty-six deaths"). A word beside the number
    that the span puts beside no other number (a synonym, a reworded clause) passes.

    Example: number_swap_reason("Patients had fever in 3% and cough in 76%.",
             "fever (98%), cough (76%), and diarrhea (3%)")
             -> "puts 3 next to 'fever', which the passage puts next to 98"
    """
    span_numbers = _number_neighbours(span)
    for value, before, after in _number_neighbours(sentence):
        mine = [(b, a) for v, b, a in span_numbers if _same(v, value)]
        if not mine:
            continue
        for side, word in ((0, before), (1, after)):
            if not word or any(pair[side] == word for pair in mine):
                continue
            if any(word in pair for pair in mine):
                continue  # the span has the word by this number, on the other side
            others = [v for v, b, a in span_numbers if not _same(v, value) and (b, a)[side] == word]
            if others:
                written = next((w for w in _WORD.findall(sentence) if _loose(w) == word), word)
                return (
                    f"puts {value:g} next to '{written}', which the passage puts next to "
                    f"{others[0]:g}"
                )
    return None


_CERTAINTY = {
    # cue as written -> the family of words that would state the same certainty in the span
    r"certain(?:ly)?": r"certain(?:ly|ty)?",
    r"definite(?:ly)?": r"definite(?:ly)?",
    r"undoubtedly|unquestionably|indisputabl[ey]": r"undoubtedly|unquestionably|indisputabl[ey]",
    r"prove[sdn]?|proving": r"prove[sdn]?|proving|proof",
    r"guarantee[sd]?": r"guarantee[sd]?",
    r"always": r"always|invariabl[ey]",
}
_CERTAINTY_NEGATED = re.compile(
    r"\b(?:not|no|nothing|never|neither|nor|un\w*)\W+(?:\w+\W+)?$", re.I
)


def certainty_reason(sentence: str, span: str) -> str | None:
    """A word of certainty in the sentence ("certainly", "proven", "always", "guarantees")
    that the span does not use in any form, or None.

    Writing "has been proven" or "will certainly" over a span that states the claim, or only
    suggests it, claims more than the span does; a careful reader asks where the certainty
    came from. A negated cue ("is not guaranteed", "nothing proves") claims less and passes.

    Example: certainty_reason("Transmission through the eye has been proved.",
             "Transmission through the eye may be possible.")
             -> "adds 'proved', which the passage does not say"
             certainty_reason("Nothing guarantees that Anthropic stays loyal.",
             "There is no guarantee that Anthropic will remain loyal.") -> None
    """
    for cue, family in _CERTAINTY.items():
        for m in re.finditer(rf"\b(?:{cue})\b", sentence, re.IGNORECASE):
            if _CERTAINTY_NEGATED.search(sentence[: m.start()]):
                continue
            if re.search(rf"\b(?:{family})\b", span, re.IGNORECASE):
                continue
            # "certain" before a plural noun is "some": "certain bat coronaviruses".
            if m.group(0).lower() == "certain" and not re.match(
                r"\s+(?:to|that)\b", sentence[m.end() :]
            ):
                continue
            return f"adds '{m.group(0)}', which the passage does not say"
    return None


_JOIN = re.compile(
    r"(?:,|;|:|\s[-–—])\s*(?=(?:which|who|whose|where|and|but|while|whereas|so|although|"
    r"though|as|because|since|thus|therefore|making|leading|meaning|a|an)\b)|;\s*|:\s+(?=[A-Z])",
    re.IGNORECASE,
)
_CLAUSE_WORDS = 3  # a clause this long (content words) is a claim of its own
_CLAUSE_COVERAGE = 0.34  # ... and a span holding less than this of it does not state it


def clause_reason(sentence: str, span: str) -> str | None:
    """A clause of the sentence (after ", which", "; ", ", and", ", a ...") of which the span
    holds almost none of the content words, or None.

    Two facts joined from two places keep enough words of the first for the sentence's
    coverage to pass; the joined clause is the part the span cannot support. A clause of
    fewer than three content words (a synonym, an aside) is not judged alone.

    Example: clause_reason("Amazon has invested $8 billion in Anthropic, which was founded
             by former OpenAI employees.", "Amazon has invested $8 billion in Anthropic.")
             -> "adds 'which was founded by former OpenAI employees', which the passage
                does not state"
    """
    parts = _JOIN.split(sentence)
    if len(parts) < 2:
        return None
    for part in parts:
        words = _loose_words(part)
        if len(words) < _CLAUSE_WORDS:
            continue
        if len(words & _loose_words(span)) / len(words) < _CLAUSE_COVERAGE:
            clause = part.strip().rstrip(".")
            return f"adds '{clause}', which the passage does not state"
    return None


_ROLE_TOKEN = re.compile(r"[A-Za-z][\w’'&-]*|[.;:!?](?=\s|$)")
_ASIDE = re.compile(r"\s*\([^()]*\)")
_DISCOURSE = re.compile(
    r",\s*(?:on the other hand|for example|for instance|however|in turn|in contrast|"
    r"by contrast|meanwhile|moreover|in particular|too|also|though|instead)\s*,",
    re.IGNORECASE,
)
_FRAME = 3  # words on one side of a name: the slot it fills ("is heavily investing")
_REACH = 4  # how far from the slot the span's own name may stand ("Meta, for example, is")


_AUXILIARY = frozenset(
    "is are was were has have had will would can could may might does did".split()  # noqa: SIM905
)


_SPELLED_CODE = re.compile(rf"(.+-)({_WORD_NUM})")


def _name_form(low: str) -> str:
    """One form for a name written two ways: "covid-2019" -> "covid-19", "mkp-one" ->
    "mkp-1"; any other word as it is."""
    variants = next((v for v in _NAME_VARIANTS if low in v), None)
    if variants:
        return min(variants)
    spelled = _SPELLED_CODE.fullmatch(low)
    if spelled and (value := _word_value(spelled.group(2))) is not None:
        return f"{spelled.group(1)}{value:g}"
    return low


@lru_cache(maxsize=4096)  # a passage's spans are read against every sentence of an answer
def _role_words(text: str) -> tuple[tuple[str, str], ...]:
    """(lower-case word without possessive, what it is) of each word of text: "break" (a
    sentence or clause end, written "."), "lower", "name" (capitalised inside a sentence,
    not a function word), "opening" (capitalised at a sentence's opening; "opening-sure"
    when all capitals, "opening-subject" when followed by a comma, a possessive or an
    auxiliary verb and not hyphenated) or "other".

    Example: _role_words("Meta, for example, is big.")
             -> (("meta", "opening-subject"), ("for", "lower"), ("example", "lower"),
                 ("is", "lower"), ("big", "lower"), (".", "break"))
    """
    found = list(_ROLE_TOKEN.finditer(text))
    out: list[tuple[str, str]] = []
    opening = True
    for k, m in enumerate(found):
        token = m.group(0)
        if not token[0].isalpha():
            out.append((".", "break"))
            opening = token != ";"  # after a semicolon the clause goes on mid-sentence
            continue
        low = _name_form(_strip_possessive(token).lower())
        if not token[0].isupper():
            kind = "lower"
        elif low in _NOT_NAMES:
            kind = "other"
        elif not opening:
            kind = "name"
        elif token.isupper():
            kind = "opening-sure"
        else:
            after = found[k + 1].group(0).lower() if k + 1 < len(found) else ""
            subject = (
                text[m.end() : m.end() + 1] == ","
                or low != token.lower().rstrip(".")
                or after in _AUXILIARY
            )
            kind = "opening-subject" if subject and "-" not in low else "opening"
        out.append((low, kind))
        opening = False
    return tuple(out)


def _role_tokens(text: str, names: frozenset[str], common: set[str]) -> list[tuple[str, bool]]:
    """(lower-case word without possessive, is it a name) of each word of text; a sentence
    or clause break is "." (never part of a slot).

    A capitalised word is a name inside a sentence. At a sentence's opening it is one when
    `names` knows it, or when it is none of the `common` words (those written in lower case)
    and stands as a subject: followed by a comma, a possessive or an auxiliary verb
    ("Meta, for example, is", "Google is"; not "Large infectious outbreaks").
    """
    out: list[tuple[str, bool]] = []
    previous = "break"
    for low, kind in _role_words(text):
        # A name and its letter are one name: "Hospital B", "ED A" (not the article "A").
        if (
            len(low) == 1
            and kind in ("name", "other")
            and previous not in ("lower", "break", "letter")
        ):
            out[-1] = (f"{out[-1][0]} {low}", True)
            previous = "letter"  # "Hospitals A, B and D": B is not A's letter
            continue
        previous = kind if len(low) > 1 else "letter"
        is_name = kind in ("name", "opening-sure") or (
            kind.startswith("opening")
            and (low in names or (kind == "opening-subject" and low not in common))
        )
        out.append((low, is_name))
    return out


def _as_written(text: str, low: str) -> str:
    """The word of text whose lower-case form without possessive is low, as written (a
    name and its letter, "hospital b", as "Hospital B")."""
    if " " in low:
        m = re.search(r"\s+".join(map(re.escape, low.split())), text, re.IGNORECASE)
        return m.group(0) if m else low
    for token in _ROLE_TOKEN.findall(text):
        if _strip_possessive(token).lower() == low:
            return _strip_possessive(token)
    return low


def role_reason(sentence: str, span: str, names: frozenset[str] = frozenset()) -> str | None:
    """A name of the sentence put where the span has another name, or None.

    The words right after a name (or right before it) are the slot it fills: "Amazon is
    heavily investing", "owned by Google". When the span has those words too, with another
    name next to them and this name nowhere near, the sentence has moved a name of the
    passage (who invests, who owns) into another's place: every word is in the span, so
    the other rules pass it. A slot needs two words that are not stop words, so that "and"
    or "in the" never make one. An opening capitalised word that neither text writes in
    lower case counts as a name here when it stands as a subject ("Google is ..." against a
    span about Meta).

    Example: role_reason("Amazon is heavily investing in in-house AI models.",
             "Meta, for example, is heavily investing in in-house AI models.")
             -> "puts Amazon where the passage has Meta"
             role_reason("Google owns part of Anthropic.", "Anthropic is partly owned by
             Google.") -> None (no slot of the sentence is in the span)
             role_reason("The other tech giants Anthropic is tied to is Google.",
             "Anthropic collaborates with other tech giants like Meta.") -> None (Anthropic
             opens a relative clause after the slot; the span has it as the slot's subject)
    """
    # An aside in brackets is no slot: "treated with DNase (Ambion, Canada) to avoid ...";
    # a discourse marker between commas stands between a name and its slot without a part in
    # either: "Amazon, on the other hand, is hedging its bets".
    sentence = _DISCOURSE.sub(" ", _ASIDE.sub(" ", sentence))
    span = _DISCOURSE.sub(" ", _ASIDE.sub(" ", span))
    common = {w for w, kind in (*_role_words(sentence), *_role_words(span)) if kind == "lower"}
    s_tokens = _role_tokens(sentence, names, common)
    p_tokens = _role_tokens(span, names, common)
    p_words = [w for w, _ in p_tokens]
    p_loose = [_loose(w) for w in p_words]
    for i, (name, is_name) in enumerate(s_tokens):
        if not is_name:
            continue
        for side in (1, -1):
            frame: list[str] = []
            j = i + side
            # Three words; before a name up to five while they hold fewer than two that are
            # not stop words ("sends its samples to Hospital B").
            while 0 <= j < len(s_tokens) and (
                len(frame) < _FRAME
                or (side < 0 and len(frame) < _FRAME + 2 and sum(w not in _STOP for w in frame) < 2)
            ):
                word, other_name = s_tokens[j]
                if word == "." or other_name:
                    break
                frame.append(word)
                j += side
            if side < 0:
                frame.reverse()
            if sum(w not in _STOP for w in frame) < 2:
                continue
            # A name after the slot that goes on with a verb of its own opens a relative
            # clause about the slot's noun ("the other tech giants Anthropic is tied to"),
            # so it does not fill the slot: it keeps its role when the span has it in the
            # slot's clause, before it ("Anthropic ... collaborates with other tech giants
            # like Meta"), as the clause's subject.
            relative = side < 0 and i + 1 < len(s_tokens) and s_tokens[i + 1][0] in _AUXILIARY
            found_self, other = False, ""
            # The slot's words in any order and form: "is investing heavily" fills the slot
            # of "is heavily investing", "hedges its bets" that of "is hedging its bets".
            wanted = sorted(_loose(w) for w in frame if w not in _STOP)
            for at in range(len(p_words) - len(frame) + 1):
                window = p_words[at : at + len(frame)]
                if p_loose[at] not in wanted and window[0] not in _STOP:
                    continue  # a cheap test first: a window opens with a word of the slot
                if "." in window or sorted(_loose(w) for w in window if w not in _STOP) != wanted:
                    continue
                if relative and name in itertools.takewhile(
                    lambda w: w != ".", reversed(p_words[:at])
                ):
                    found_self = True
                    break
                # The span's words on the name's side of the slot, up to a break. Before a
                # verb the whole clause counts: "X remains owned by Y and collaborates with"
                # has X, not Y, collaborating.
                if side > 0:
                    near = p_tokens[:at][::-1]
                else:
                    near = p_tokens[at + len(frame) : at + len(frame) + _REACH]
                for k, (word, word_is_name) in enumerate(near):
                    if word == ".":
                        break
                    if word == name:
                        found_self = True
                        break
                    if word_is_name and not other and k < _REACH:
                        other = word
            if other and not found_self:
                return f"puts {_as_written(sentence, name)} where the passage has " + (
                    _as_written(span, other)
                )
    return None


_UNIVERSAL = re.compile(r"\b(?:all|every|each|always|everyone|everything)\b", re.IGNORECASE)
_PARTIAL = re.compile(
    r"\b(?:some|most|majority|several|many|few|certain|part|partly|partially|sometimes|"
    r"often|others?|minority|fraction|proportion)\b",
    re.IGNORECASE,
)


def generalisation_reason(sentence: str, span: str) -> str | None:
    """A universal word of the sentence ("all", "every", "always") over words that the span
    qualifies with a partial one ("some", "the majority of", "several"), or None.

    Example: generalisation_reason("All of the deaths were in China.", "The majority of
             the deaths have been in China.") -> "says 'all' where the passage says
             'majority'"
    """
    s_tokens = _WORD.findall(sentence)
    p_tokens = _WORD.findall(span)
    p_stems = [_loose(t.lower()) for t in p_tokens]
    for i, token in enumerate(s_tokens):
        if not _UNIVERSAL.fullmatch(token) or _negated_near(sentence, token.lower(), 2):
            continue
        if any(_UNIVERSAL.fullmatch(t) and t.lower() == token.lower() for t in p_tokens):
            continue
        governed = {
            _loose(t.lower())
            for t in s_tokens[i + 1 : i + 5]
            if t.lower() not in _STOP and len(t) > 2 and _word_value(t) is None
        }
        for j, stem in enumerate(p_stems):
            if stem not in governed:
                continue
            for k in range(max(0, j - 4), j):
                if _PARTIAL.fullmatch(p_tokens[k]):
                    return f"says '{token.lower()}' where the passage says '{p_tokens[k]}'"
    return None


_TIME_UNIT = re.compile(
    # Not from inside a number: tried from each digit of a long one, the pattern read the
    # rest of it again each time (a passage of 6,000 digits took 10 s to check).
    r"(?P<num>(?<![\d.])\d+(?:\.\d+)?|\b(?:{words}))[\s-]*"
    r"(?P<unit>seconds?|minutes?|mins?|hours?|h|days?|weeks?|months?|years?|decades?)\b".replace(
        "{words}", _WORD_NUM
    ),
    re.IGNORECASE,
)


def _time_spans(text: str) -> list[tuple[float, str]]:
    """(value, unit without plural) of each duration in text: "6 weeks" -> (6.0, "week")."""
    out = []
    for m in _TIME_UNIT.finditer(text):
        raw = m.group("num")
        value = float(raw) if raw[0].isdigit() else _word_value(raw)
        unit = {"h": "hour", "min": "minute", "mins": "minute"}.get(m.group("unit").lower())
        out.append((value or 0.0, unit or m.group("unit").lower().rstrip("s")))
    return out


def time_unit_reason(sentence: str, span: str) -> str | None:
    """A duration of the sentence whose number the span gives in another unit only ("six
    months" where the span has "6 weeks"), or None.

    Example: time_unit_reason("It was tapered over six months.", "It was tapered over 6
             weeks.") -> "says 6 months where the passage says 6 weeks"
    """
    span_times = _time_spans(span)
    for value, unit in _time_spans(sentence):
        same = [u for v, u in span_times if _same(v, value)]
        if same and unit not in same:
            return f"says {value:g} {unit}s where the passage says {value:g} {same[0]}s"
    return None


# Closed sets whose members exclude each other: a sentence naming one where its passage names
# only another says something else ("opens in the evening" for "opens in the morning").
# Found by red team 12: a local model wrote "The zircon vault is robbed tomorrow." from
# "... robbed yesterday", and 11 of 17 one-word swaps passed the check, 8 of them within such
# a set (morning/evening, winter/summer, north/south, daily/weekly, male/female, indoors/
# outdoors). "before" and "after" are not here (a comparison may be told from either side),
# nor "last/this/next" (too many other senses).
_CLOSED_SETS: tuple[frozenset[str], ...] = tuple(
    frozenset(words.split())
    for words in (
        "yesterday today tomorrow tonight",
        "morning afternoon evening night noon midnight dawn dusk",
        "summer autumn winter",  # not "spring" (water, a coil) nor "fall"
        "north south east west northern southern eastern western northeast northwest "
        "southeast southwest northeastern northwestern southeastern southwestern",
        "male female males females",
        "men women",
        "boys girls",
        "indoors outdoors indoor outdoor",
        "hourly daily weekly fortnightly monthly quarterly yearly annually biweekly",
    )
)
_MEMBER_SET = {word: members for members in _CLOSED_SETS for word in members}


def other_member_reason(sentence: str, span: str) -> str | None:
    """A word of a closed set (a part of the day, a season, a direction, a sex, a frequency)
    that the sentence uses and the span does not, where the span uses another of its set
    (neither negated), or None.

    Example: other_member_reason("The vault opens in the evening.", "The vault opens in the
             morning.") -> "says 'evening' where the passage says 'morning'";
             other_member_reason("It opens in the morning.", "It opens in the morning and
             closes at night.") -> None
    """
    span_words = [w.lower() for w in _WORD.findall(span)]
    present = set(span_words)
    for word in _WORD.findall(sentence):
        low = word.lower()
        members = _MEMBER_SET.get(low)
        if members is None or low in present or _negated_near(sentence, low):
            continue
        other = next((w for w in span_words if w in members and not _negated_near(span, w)), None)
        if other is not None:
            return f"says '{low}' where the passage says '{other}'"
    return None


# --- comparisons ---------------------------------------------------------------------------

# Words that compare two things, by family and direction (+1: the first side has more of it).
# Families are compared only with themselves ("better" is not "more"). Adjectives take their
# second side after "than"; the others (verbs, "ahead of", "superior to") as their object.
_COMPARE_WORDS = {
    "quantity": (
        "more higher greater larger bigger increased",
        "less fewer lower smaller reduced decreased",
    ),
    "length": ("longer", "shorter"),
    "rank": (
        "better superior ahead outperform outperforms outperformed outperforming exceed exceeds "
        "exceeded exceeding surpass surpasses surpassed surpassing beat beats",
        "worse inferior behind lag lags lagged lagging trail trails trailed trailing "
        "underperform underperforms underperformed underperforming",
    ),
}
_COMPARE = {
    word: (family, direction)
    for family, (up, down) in _COMPARE_WORDS.items()
    for direction, words in ((1, up), (-1, down))
    for word in words.split()
}
# The adjectives, which compare only with "than" ("higher than B"; "higher doses" alone
# compares nothing).
_THAN_ONLY = frozenset(
    {*_COMPARE_WORDS["quantity"][0].split(), *_COMPARE_WORDS["quantity"][1].split()}
) | {"longer", "shorter", "better", "worse"}
_COMPARE_TOKEN = re.compile(r"[A-Za-z][\w’'-]*|[.;:!?]")
# A comparison's sides stay inside its clause: a stop, or a word that opens another clause.
_COMPARE_BREAK = frozenset({".", ";", ":", "!", "?", "while", "whereas", "but", "although"})


@dataclass(frozen=True, slots=True)
class _Comparison:
    family: str
    direction: int  # +1 when the first side has more of it ("higher", "ahead"), else -1
    cue: str  # the comparing word, lower case
    first: frozenset[str]  # crude stems of the first side's words that the second lacks
    second: frozenset[str]
    names: tuple[str, ...]  # capitalised words of the second side, lower case


@lru_cache(maxsize=4096)
def _comparisons(text: str) -> tuple[_Comparison, ...]:
    """The comparisons of text, each with its two sides: "A was lower than B", "A lags
    behind B", "A outperformed B" (brackets left out).

    Example: _comparisons("Costs were lower for adults than for children.")
             -> (_Comparison("quantity", -1, "lower", {"costs", "adult"}, {"child"}, ()),)
    """
    tokens = [
        _strip_possessive(t) if t[0].isalpha() else t
        for t in _COMPARE_TOKEN.findall(_ASIDE.sub(" ", text))
    ]
    low = [t.lower() for t in tokens]
    out = []
    i = 0
    while i < len(tokens):
        hit = _COMPARE.get(low[i])
        if hit is None:
            i += 1
            continue
        start, end = i, i + 1
        while start > 0 and low[start - 1] not in _COMPARE_BREAK:
            start -= 1
        while end < len(tokens) and low[end] not in _COMPARE_BREAK:
            end += 1
        than = next((j for j in range(i + 1, min(end, i + 12)) if low[j] == "than"), None)
        if than is not None:
            first_at, second_at = range(start, than), range(than + 1, end)
        elif low[i] not in _THAN_ONLY:
            first_at, second_at = range(start, i), range(i + 1, end)
        else:
            i += 1
            continue

        def stems(at: range) -> set[str]:
            return {
                _loose(low[j])
                for j in at
                if low[j] not in _STOP and low[j] not in _COMPARE and len(low[j]) > 1
            }

        first, second = stems(first_at), stems(second_at)
        names = tuple(low[j] for j in second_at if tokens[j][0].isupper())
        out.append(
            _Comparison(*hit, low[i], frozenset(first - second), frozenset(second - first), names)
        )
        i = end
    return tuple(out)


def _comparison_check(sentence: str, span: str) -> tuple[str | None, frozenset[str]]:
    """(why the sentence turns a comparison of the span around, or None; the comparing
    words of the sentence that state the span's comparison the other way round, which the
    opposite rule must not read as opposites)."""
    span_comparisons = _comparisons(span)
    consistent: set[str] = set()
    for mine in _comparisons(sentence):
        for theirs in span_comparisons:
            if theirs.family != mine.family:
                continue
            # The second side names what is compared against; the first also holds what is
            # measured ("more microbiology tests"), which does not tell the sides apart.
            same = len(mine.second & theirs.second)
            swapped = len(mine.second & theirs.first) + len(theirs.second & mine.first)
            if same == swapped:
                continue
            order = 1 if same > swapped else -1
            if mine.direction * order != theirs.direction:
                return (
                    f"turns the comparison around: '{mine.cue}' where the passage has "
                    f"'{theirs.cue}'"
                ), frozenset()
            consistent.add(mine.cue)
        # "less leverage than Google" where the span's sentence with "less leverage" compares
        # with someone else: the second side must stand in a sentence of the span that
        # compares the same way.
        if mine.names:
            comparing = [
                s
                for s in re.split(r"[.;!?](?:\s|$)", span)
                if any(_COMPARE.get(w.lower(), ("",))[0] == mine.family for w in _WORD.findall(s))
            ]
            if not comparing or not any(
                all(
                    n in {_strip_possessive(w).lower() for w in _WORD.findall(s)}
                    for n in mine.names
                )
                for s in comparing
            ):
                who = " ".join(mine.names)
                return f"compares with {who}, which the passage does not", frozenset()
    return None, frozenset(consistent)


def comparison_reason(sentence: str, span: str) -> str | None:
    """Why the sentence turns a comparison of the span around, or None.

    A comparison has a direction and two sides ("A was lower than B", "A lags behind B").
    The sentence turns it around when it keeps the sides in the span's order and changes the
    direction ("more" for "lower"), or swaps the sides and keeps the direction; swapping both
    ("B is ahead of A" for "A lags behind B") says the same. Sides are matched on the words
    of each text's second side (what is compared against) that the other side lacks, found
    on the other text's second or first side; a sentence that names its second side
    ("than Google") must find it in a sentence of the span that compares the same kind of
    thing.

    Example: comparison_reason("The rapid group had more tests than the standard group.",
             "Tests were significantly lower for the rapid group than for the standard
             group.") -> "turns the comparison around: 'more' where the passage has 'lower'"
             comparison_reason("GPT-4 is ahead of Amazon's models.", "Amazon's models lag
             behind GPT-4.") -> None
             comparison_reason("Amazon has less leverage than Google.", "Unlike Microsoft,
             Amazon holds less leverage. Google owns part of it.") -> "compares with google,
             which the passage does not"
    """
    return _comparison_check(sentence, span)[0]


# Words that claim the end point of what a weaker word says by degree: "eliminates the
# chance" where the span says "decreasing the chance", "cures" for "relieves", "never" for
# "rarely". (strong words, the weaker words a span would use), as patterns over a word.
_OVERSTATEMENTS = (
    (
        r"eliminat\w*|eradicat\w*|abolish\w*",
        r"reduc\w*|decreas\w*|lower(?:s|ed|ing)?|lessen\w*|mitigat\w*|limit(?:s|ed|ing)?|"
        r"minimi[sz]\w*|curb\w*|diminish\w*|cut(?:s|ting)?|slow(?:s|ed|ing)?",
    ),
    (
        r"prevent(?:s|ed|ing)?|stop(?:s|ped|ping)?|halt(?:s|ed|ing)?",
        r"reduc\w*|decreas\w*|lower(?:s|ed|ing)?|lessen\w*|mitigat\w*|limit(?:s|ed|ing)?|"
        r"minimi[sz]\w*|curb\w*|diminish\w*|slow(?:s|ed|ing)?|delay(?:s|ed|ing)?",
    ),
    (r"cur(?:e|es|ed|ing)", r"treat(?:s|ed|ing)?|improv\w*|reliev\w*|alleviat\w*|eas(?:e|es|ed)"),
    (r"never", r"rarely|seldom|infrequently|hardly"),
    (r"impossible", r"difficult|hard|challenging"),
)
_ANY_STRONG = re.compile(
    r"\b(?:" + "|".join(strong for strong, _ in _OVERSTATEMENTS) + r")\b", re.IGNORECASE
)
_OVERSTATED = tuple(
    (re.compile(strong, re.IGNORECASE), re.compile(weak, re.IGNORECASE))
    for strong, weak in _OVERSTATEMENTS
)
_OBJECT_WORDS = 3  # content words after a verb that name what it acts on


def _objects(tokens: Sequence[str], i: int) -> set[str]:
    """Crude stems of the first few content words after token i (what it acts on)."""
    after = (_loose(t.lower()) for t in tokens[i + 1 :] if t.lower() not in _STOP and len(t) > 2)
    return set(itertools.islice(after, _OBJECT_WORDS))


def overstatement_reason(sentence: str, span: str) -> str | None:
    """A word of the sentence that claims the end point of what the span says by degree,
    over the same thing ("eliminates the chance of spread" where the span says "decreasing
    the chance of spread"), where the span uses no word of the strong kind; or None.

    Example: overstatement_reason("Early quarantine eliminates the chance of spread.",
             "Early quarantine decreases the chance of spread.")
             -> "says 'eliminates' where the passage says 'decreases'"
             overstatement_reason("Masks reduce the chance of spread.", "Masks decrease the
             chance of spread.") -> None
    """
    if not _ANY_STRONG.search(sentence):
        return None
    s_tokens = _WORD.findall(sentence)
    p_tokens = _WORD.findall(span)
    for strong, weak in _OVERSTATED:
        if any(strong.fullmatch(t) for t in p_tokens):
            continue
        for i, token in enumerate(s_tokens):
            if not strong.fullmatch(token):
                continue
            if _negated_near(sentence, token.lower()):
                continue  # "does not eliminate" claims no end point
            wanted = _objects(s_tokens, i)
            for j, other in enumerate(p_tokens):
                if weak.fullmatch(other) and wanted & _objects(p_tokens, j):
                    return f"says '{token}' where the passage says '{other}'"
    return None


# Whether a clause says two things were alike or differed: "similar in sex" / "differed
# significantly for age", "were lower for the rapid group".
_ALIKE = re.compile(
    r"similar(?:ly)?|same|comparable|alike|identical|equal|equivalent", re.IGNORECASE
)
_DIFFER = re.compile(
    r"differ(?:s|ed|ing|ent|ence|ences)?|significantly|higher|lower|more|fewer|less|greater|"
    r"smaller|larger|increased|reduced|decreased",
    re.IGNORECASE,
)
_STANCE_CLAUSE = re.compile(r"[.;!?](?:\s|$)|,?\s+\b(?:but|whereas|while|although)\b\s+")


@lru_cache(maxsize=4096)
def _stances(text: str) -> tuple[tuple[str, str, frozenset[str], frozenset[str]], ...]:
    """(stance, its word, crude stems of the other content words, of those after the stance
    word: what was compared, not who) of each clause of text (brackets left out); the stance
    is "alike", "differ", or "" (neither, both, or denied: "did not differ").

    Example: _stances("The groups were similar in sex, but differed for age.")
             -> (("alike", "similar", {"group", "sex"}, {"sex"}),
                 ("differ", "differed", {"age"}, {"age"}), ("", "", {}, {}))
    """
    out = []
    # Squeezed again: brackets one after another leave a run of spaces ("(a)(b)(c)").
    for clause in _STANCE_CLAUSE.split(_squeezed(_ASIDE.sub(" ", text))):
        tokens = _WORD.findall(clause)
        marks = [bool(_ALIKE.fullmatch(t)) - bool(_DIFFER.fullmatch(t)) for t in tokens]
        stance, at = "", len(tokens)
        if (1 in marks) != (-1 in marks) and not _negated_positions(clause):
            stance = "alike" if 1 in marks else "differ"
            at = next(i for i, m in enumerate(marks) if m)
        stems = [
            (i, _loose(t.lower()))
            for i, t in enumerate(tokens)
            if t.lower() not in _STOP and len(t) > 2 and not marks[i]
        ]
        cue = tokens[at] if stance else ""
        out.append(
            (stance, cue, frozenset(s for _, s in stems), frozenset(s for i, s in stems if i > at))
        )
    return tuple(out)


def stance_reason(sentence: str, span: str) -> str | None:
    """A word the sentence says two things were alike in where the span says they differed
    in it, or the other way round; or None. Each clause of the span is read on its own: the
    word must stand only in clauses of the other stance.

    Example: stance_reason("The two groups were similar in age.", "The two groups were
             similar in terms of sex, but differed significantly for age.")
             -> "says 'similar' of 'age' where the passage says 'differed'"
    """
    span_stances = _stances(span)
    if not any(stance for stance, _, _, _ in span_stances):
        return None
    for stance, cue, _, compared in _stances(sentence):
        if not stance:
            continue
        for word in sorted(compared):
            where = [(s, c) for s, c, w, _ in span_stances if word in w]
            if where and all(s and s != stance for s, _ in where):
                written = next((w for w in _WORD.findall(sentence) if _loose(w) == word), word)
                return f"says '{cue}' of '{written}' where the passage says '{where[0][1]}'"
    return None


# A decision taken, where the span has it still being weighed ("has reportedly decided on an
# investment" for "is reportedly considering an investment"): a hedge of the sentence's own
# ("reportedly") does not keep it a deliberation.
_RESOLVED = re.compile(
    r"decid(?:e|es|ed)|agreed|committed|finali[sz]ed|settled|approved|signed|completed|"
    r"concluded|closed|reached|achieved|attained|accomplished",
    re.IGNORECASE,
)
# Matters still open: weighed ("considering", "in talks") or striven for ("the race to
# develop", "vying for", "aims to").
_DELIBERATING = re.compile(
    r"consider(?:s|ing)?|weigh(?:s|ing)?|explor(?:es|ing)|mull(?:s|ing)?|contemplat(?:es|ing)|"
    r"discuss(?:es|ing)?|negotiat(?:es|ing)|talks|deliberat(?:es|ing)|race|racing|vying|"
    r"aim(?:s|ing)?|seek(?:s|ing)?|striv(?:es|ing)|trying|attempt(?:s|ing)",
    re.IGNORECASE,
)


def resolution_reason(sentence: str, span: str) -> str | None:
    """A decision or a completed deal in the sentence over words the span says are only
    being weighed (two content words of the eight after the span's word), where the span
    has no word of a decision; or None.

    Example: resolution_reason("Amazon has reportedly decided on a new investment in
             Anthropic.", "Amazon is reportedly considering a new investment in
             Anthropic.") -> "says 'decided' where the passage says 'considering'"
    """
    s_tokens = _WORD.findall(sentence)
    resolved = [t for t in s_tokens if _RESOLVED.fullmatch(t)]
    if not resolved or any(_negated_near(sentence, t.lower()) for t in resolved):
        return None
    p_tokens = _WORD.findall(span)
    if any(_RESOLVED.fullmatch(t) for t in p_tokens):
        return None
    sentence_words = {_loose(t.lower()) for t in s_tokens if t.lower() not in _STOP}
    for i, token in enumerate(p_tokens):
        if not _DELIBERATING.fullmatch(token):
            continue
        governed = {
            _loose(t.lower())
            for t in p_tokens[i + 1 : i + 9]
            if t.lower() not in _STOP and len(t) > 2 and not t[0].isupper()
        }
        if len(governed & sentence_words) >= 2:
            return f"says '{resolved[0]}' where the passage says '{token}'"
    return None


# A cause where the span states only an association: "led to fewer admissions" for "was
# associated with fewer admissions" (a before-and-after study shows the one, not the other).
_CAUSAL = re.compile(
    r"\b(?:l(?:ed|eads?|eading)\s+to|caus(?:e|es|ed|ing)|result(?:s|ed|ing)?\s+in|"
    r"due\s+to|because\s+of|brought\s+about|drives|drove|produc(?:e|es|ed)|"
    r"thanks\s+to)\b",
    re.IGNORECASE,
)
_ASSOCIATED = re.compile(
    r"\b(?:associat(?:ed|ion|ions)|link(?:ed|s)?|correlat(?:ed|es|ion|ions)|"
    r"related\s+to|relationship)\b",
    re.IGNORECASE,
)


def causal_reason(sentence: str, span: str) -> str | None:
    """A cause stated in the sentence ("led to", "caused", "resulted in") where the span
    states only an association ("was associated with", "linked to", "correlated") and no
    cause; or None.

    Example: causal_reason("Rapid testing led to fewer admissions.", "Rapid testing was
             associated with fewer admissions.") -> "says 'led to' where the passage says
             only 'associated'"
    """
    cause = _CAUSAL.search(sentence)
    if cause is None or _negated_near(sentence, _WORD.findall(cause.group(0))[0].lower()):
        return None
    association = _ASSOCIATED.search(span)
    if association is None or _CAUSAL.search(span):
        return None
    written = " ".join(cause.group(0).split())
    return f"says '{written}' where the passage says only '{association.group(0)}'"


# "A, B and C (76 228, 54 443 and 50 025 ... respectively)": the k-th number is the k-th
# item's. Items are single words or letters; lists of longer items are not read.
_LIST_NUMBER = rf"(?:{_DIGITS})%?"
_NUMBER_LIST = re.compile(
    rf"{_LIST_NUMBER}(?:\s*,\s*{_LIST_NUMBER})*,?\s+(?:and|or)\s+{_LIST_NUMBER}"
)
_ITEM_LIST = re.compile(
    r"(?<![\w’'-])[A-Za-z][\w’'-]*(?:\s*,\s*[A-Za-z][\w’'-]*)*,?\s+(?:and|or)\s+"
    r"[A-Za-z][\w’'-]*(?![\w’'-])"
)
_MOST = re.compile(r"most|largest|highest|greatest|biggest|maximum|longest", re.IGNORECASE)
_LEAST = re.compile(r"fewest|least|smallest|lowest|minimum|shortest", re.IGNORECASE)


@lru_cache(maxsize=4096)
def _respectively(text: str) -> tuple[tuple[tuple[str, float], ...], ...]:
    """The (item, value) pairs of each "respectively" list of text.

    Example: _respectively("EDs A, B and C had 76 228, 54 443 and 50 025 visits
             respectively.") -> ((("A", 76228.0), ("B", 54443.0), ("C", 50025.0)),)
    """
    out = []
    for m in re.finditer(r"\brespectively\b", text):
        window = text[max(0, m.start() - 300) : m.start()]
        numbers = list(_NUMBER_LIST.finditer(window))
        if not numbers:
            continue
        values = [
            float(re.sub(r"[^\d.]", "", n)) for n in re.findall(_LIST_NUMBER, numbers[-1].group(0))
        ]
        items = [
            [w for w in re.split(r"\s*,\s*|,?\s+(?:and|or)\s+", x.group(0)) if w]
            for x in _ITEM_LIST.finditer(window[: numbers[-1].start()])
        ]
        same = [x for x in items if len(x) == len(values)]
        if same:
            out.append(tuple(zip(same[-1], values, strict=True)))
    return tuple(out)


def _mentions(sentence: str, item: str) -> bool:
    """Whether the sentence names a list item: a capital letter as a word of its own ("ED
    A"), any other word in any case."""
    flags = 0 if len(item) == 1 else re.IGNORECASE
    return re.search(rf"(?<![\w’'-]){re.escape(item)}(?![\w’'-])", sentence, flags) is not None


def respectively_reason(sentence: str, span: str) -> str | None:
    """A number of a "respectively" list of the span given to another item than its own, or
    without its item; or a superlative ("the fewest") said of an item whose number is not
    the list's extreme. None otherwise.

    Example: respectively_reason("ED B had 76,228 presentations.", "EDs A, B and C (76 228,
             54 443 and 50 025 presentations respectively)") -> "gives 76228 to B, which the
             passage gives 54443"
             respectively_reason("ED A had the fewest presentations.", same span)
             -> "says 'fewest' of A, which is not the least of the list"
    """
    lists = _respectively(span)
    if not lists:
        return None
    s_quantities = quantities(sentence)
    for pairs in lists:
        named = [(item, value) for item, value in pairs if _mentions(sentence, item)]
        for q in s_quantities:
            own = [item for item, value in pairs if _same(value, q.value)]
            if not own or any(item in own for item, _ in named):
                continue
            if named:
                item, value = named[0]
                return f"gives {q.value:g} to {item}, which the passage gives {value:g}"
            return f"gives {q.value:g} without {own[0]}, whose number it is in the passage"
        if len(named) != 1:
            continue
        item, value = named[0]
        values = [v for _, v in pairs]
        for token in _WORD.findall(sentence):
            if _MOST.fullmatch(token) and value < max(values):
                return f"says '{token}' of {item}, which is not the most of the list"
            if _LEAST.fullmatch(token) and value > min(values):
                return f"says '{token}' of {item}, which is not the least of the list"
    return None


_YEAR_TOKEN = re.compile(r"(?<![\d.,])(?:19|20)\d\d(?![\d,]|\.\d)|[A-Za-z][\w’'-]*|[.;]")
_YEAR_REACH = 6  # content words on each side that say what a year dates
_YEAR_RANGE = re.compile(r"\b((?:19|20)\d\d)\s*(?:-|–|to|and|until)\s*((?:19|20)\d\d)\b")


@lru_cache(maxsize=4096)
def _year_contexts(text: str) -> tuple[tuple[int, frozenset[str], frozenset[str]], ...]:
    """(year, crude stems of the content words before it, after it) for each year of text
    that is not one end of a range; each side stops at a sentence or clause stop or at
    another year.

    Example: _year_contexts("Rapid PCR in 2017; standard PCR in 2016.")
             -> ((2017, {"rapid", "pcr"}, set()), (2016, {"stand", "pcr"}, set()))
    """
    tokens = _YEAR_TOKEN.findall(text)

    def side(indices: range) -> frozenset[str]:
        out: list[str] = []
        for j in indices:
            t = tokens[j]
            if t in ".;" or t[0].isdigit() or len(out) == _YEAR_REACH:
                break
            if t.lower() not in _STOP and len(t) > 2:
                out.append(_loose(t.lower()))
        return frozenset(out)

    # A year of a range ("1918-1919", "2013 to 2014") dates the same things as the other.
    ranged = {m.start(k) for m in _YEAR_RANGE.finditer(text) for k in (1, 2)}
    starts = [m.start() for m in _YEAR_TOKEN.finditer(text)]
    return tuple(
        (int(t), side(range(i - 1, -1, -1)), side(range(i + 1, len(tokens))))
        for i, t in enumerate(tokens)
        if t[0].isdigit() and starts[i] not in ranged
    )


def year_swap_reason(sentence: str, span: str) -> str | None:
    """A year of the sentence put with words that the span puts with another of its years
    ("rapid PCR data from 2016" where the span has rapid PCR in 2017 and standard PCR in
    2016); or None. A year dates what comes before it ("data from 2016"); the words that
    tell the span's years apart are those near one year and not the other. A word of the
    year's own after it ("in 2017, after rapid PCR came in") keeps it.

    Example: year_swap_reason("Rapid PCR was used in 2016.", "Rapid PCR was used in 2017;
             standard PCR was used in 2016.") -> "dates 'Rapid' 2016, where the passage
             dates it 2017"
    """
    span_years = _year_contexts(span)
    years = {y for y, _, _ in span_years}
    if len(years) < 2:
        return None
    near = {y: set().union(*(b for z, b, _ in span_years if z == y)) for y in years}
    own = {y: near[y] - set().union(*(near[z] for z in years if z != y)) for y in years}
    for year, before, after in _year_contexts(sentence):
        if year not in years or before & own[year] or after & own[year]:
            continue
        for other in sorted(years - {year}):
            moved = sorted(before & own[other])
            if moved:
                written = next(
                    (w for w in _WORD.findall(sentence) if _loose(w.lower()) == moved[0]), moved[0]
                )
                return f"dates '{written}' {year}, where the passage dates it {other}"
    return None


# What a span recommends or finds wanting has not been done: "A formal cost-benefit analysis
# should be undertaken" does not say that one showed anything.
_RECOMMENDED = re.compile(
    r"\b(?:should|must|ought\s+to|needs?\s+to)\s+be\b|\b(?:is|are)\s+(?:still\s+)?"
    r"(?:needed|required|warranted|recommended|lacking)\b",
    re.IGNORECASE,
)
_MODAL = re.compile(
    r"\b(?:should|must|ought|needs?|needed|required|warranted|recommend\w*|would|could|may|"
    r"might|propos\w+|call(?:s|ed)?\s+for)\b",
    re.IGNORECASE,
)


def recommendation_reason(sentence: str, span: str) -> str | None:
    """The thing a span's clause recommends ("X should be undertaken", "X is needed") stated
    by the sentence without any modal of its own, as if it had been done ("X showed ..."),
    or None. The thing is the clause's words before the recommendation; the sentence must
    hold at least two of them and two thirds.

    Example: recommendation_reason("A formal cost-benefit analysis showed savings.",
             "A formal cost-benefit analysis should be undertaken.")
             -> "states as done what the passage recommends: 'should be'"
    """
    if _MODAL.search(sentence):
        return None
    sentence_words = _loose_words(sentence)
    for clause in re.split(r"[.;!?](?:\s|$)", span):
        m = _RECOMMENDED.search(clause)
        if m is None:
            continue
        # The thing is the noun phrase right before it: "this claim lacks any basis and must
        # be discounted" recommends no claim.
        thing = _loose_words(re.split(r",|\b(?:and|but|which|that|or)\b", clause[: m.start()])[-1])
        shared = thing & sentence_words
        if len(shared) >= 2 and len(shared) * 3 >= len(thing) * 2:
            written = " ".join(m.group(0).split())
            return f"states as done what the passage recommends: '{written}'"
    return None


def denied_name_reason(sentence: str, span: str) -> str | None:
    """A name the sentence denies ("works with Google, not Microsoft") that the span never
    denies; or None. The negation rule reads what is denied, not who (a name in its scope
    says who); a sentence that sets a name aside claims something about it all the same.

    Example: denied_name_reason("Anthropic works with Google, not Microsoft.", "Anthropic
             collaborates with Google. Unlike Microsoft's deal, ...") -> "denies Microsoft,
             which the passage does not"
    """
    tokens = _WORD.findall(sentence)
    p_tokens = _WORD.findall(span)
    p_cues = _negated_positions(span)
    for cue in _negated_positions(sentence):
        for k in range(cue + 1, min(cue + 3, len(tokens))):
            word = tokens[k]
            if not word[0].isupper():
                if word.lower() in _STOP:
                    continue
                break
            name = _strip_possessive(word).lower()
            uses = [i for i, t in enumerate(p_tokens) if _strip_possessive(t).lower() == name]
            if uses and not any(0 < i - c <= 3 for i in uses for c in p_cues):
                return f"denies {_strip_possessive(word)}, which the passage does not"
            break
    return None


def rule_reason(
    sentence: str, span: str, names: frozenset[str] = frozenset(), where: str = "the passage"
) -> str | None:
    """The first rule the sentence breaks against span, as a short phrase, or None.

    Example: rule_reason("Amazon has invested $10 billion.", "Amazon has invested $8 billion.")
             -> "amount $10 billion not in the passage"
    """
    # A run of white space reads as one space to every rule, and many of the rules' patterns
    # start with \s+ or \s*, trying it again from each of its characters: a passage (a
    # document's text) with 16,000 spaces in one sentence took 12 s to check, a megabyte
    # hours. Squeezed here once, in linear time.
    sentence, span = _squeezed(sentence), _squeezed(span)
    # What states nothing cannot be supported, yet its words are all in any passage: a model
    # echoing its prompt ("Question: How many boxes does the vault hold? [1]") or stopping
    # mid-sentence ("The [3]") had the fragment kept, cited, shown as part of the answer.
    if sentence.rstrip(" \"'”’)").endswith("?"):
        return f"asks a question rather than saying what {where} says"
    if not _content(sentence) and not any(c.isdigit() for c in sentence):
        return f"says nothing that {where} could support"
    for q in quantities_missing(sentence, span):
        label = {"money": "amount", "percent": "percentage", "mass": "dose"}.get(q.kind, "number")
        if q.kind == "number" and 1800 <= q.value <= 2100 and q.value == int(q.value):
            label = "date"
        return f"{label} {q.text} not in {where}"
    for name in names_missing(sentence, span, names):
        return f"name {name} not in {where}"
    quote, line = _one_line(sentence).rstrip("."), _one_line(span)
    if quote in line:
        # A quotation cannot flip a negation or drop a hedge of its own; but the words that
        # lead into it can hedge it ("Some have alleged that X", "it is possible that X").
        framing = framing_hedge(line[: line.index(quote)])
        return framing and f"drops the hedge '{framing}' in {where}"
    compared, exempt = _comparison_check(sentence, span)
    reason = (
        negation_reason(sentence, span)
        or compared
        or opposite_reason(sentence, span, exempt)
        or hedge_reason(sentence, span)
        or role_reason(sentence, span, names)
        or number_swap_reason(sentence, span)
        or certainty_reason(sentence, span)
        or clause_reason(sentence, span)
        or generalisation_reason(sentence, span)
        or time_unit_reason(sentence, span)
        or other_member_reason(sentence, span)
        or overstatement_reason(sentence, span)
        or stance_reason(sentence, span)
        or resolution_reason(sentence, span)
        or causal_reason(sentence, span)
        or respectively_reason(sentence, span)
        or year_swap_reason(sentence, span)
        or recommendation_reason(sentence, span)
        or denied_name_reason(sentence, span)
    )
    return reason and f"{reason} in {where}"


# --- finding the span ----------------------------------------------------------------------


def candidate_spans(passages: Sequence[Chunk]) -> list[Span]:
    """Each sentence of each passage, and each two adjacent sentences of a paragraph.

    Example: one passage "A b c. D e f." starting at offset 10 ->
             spans (10, 16) "A b c.", (17, 23) "D e f.", (10, 23) "A b c. D e f."
    """
    out: list[Span] = []
    for n, chunk in enumerate(passages, start=1):
        sentences = split_sentences(chunk.text)
        for s, e in sentences:
            out.append(Span(n, chunk, chunk.start + s, chunk.start + e, chunk.text[s:e]))
        for (s, _), (s2, e2) in itertools.pairwise(sentences):
            if "\n\n" in chunk.text[s:s2]:
                continue
            out.append(Span(n, chunk, chunk.start + s, chunk.start + e2, chunk.text[s:e2]))
    return out


def _overlap(sentence_stems: set[str], span: Span) -> float:
    if not sentence_stems:
        return 0.0
    return len(sentence_stems & {stem for _, stem in _content(span.text)}) / len(sentence_stems)


def _ranked(sentence: AnswerSentence, spans: Sequence[Span], limit: int) -> list[Span]:
    """The spans most likely to support the sentence: best of its cited passages first."""
    stems = {stem for _, stem in _content(sentence.text)}

    def key(span: Span) -> tuple[float, int]:
        return (-_overlap(stems, span), span.end - span.start)

    cited = sorted((s for s in spans if s.passage in sentence.cited), key=key)
    others = sorted((s for s in spans if s.passage not in sentence.cited), key=key)
    picked = cited[: limit - 1 if others else limit] + others
    return list(dict.fromkeys(picked))[:limit]


@dataclass(frozen=True, slots=True)
class Attempt:
    """One span tried for a sentence: the rule it breaks (or None) and the checker's score
    (None when the checker was not asked: a rule failed, or better spans were checked)."""

    span: Span
    reason: str | None
    score: float | None
    coverage: float = 1.0  # share of the sentence's content words found in the span


@dataclass(frozen=True, slots=True)
class Assessment:
    sentence: AnswerSentence
    attempts: tuple[Attempt, ...]

    def best(self, min_coverage: float = 0.0) -> float:
        """The best checker score among spans that pass the rules and cover at least
        min_coverage of the sentence's words (-1.0 when none does)."""
        return max(
            (a.score for a in self.attempts if a.score is not None and a.coverage >= min_coverage),
            default=-1.0,
        )


_SUFFIX = re.compile(r"(?:ations?|ing|ed|es|s|ly|ially|ial|al)$")


@lru_cache(maxsize=16384)  # called for every word of every span a sentence is read against
def _loose(word: str) -> str:
    """A crude stem for word overlap: owned/owns -> own, investment -> invest."""
    w = word.lower().replace("’", "'")
    return _SUFFIX.sub("", w)[:5] if len(w) > 4 else w


def _content_tokens(text: str) -> list[str]:
    """The words of text that coverage counts: not codes, stop words, numbers, scales or
    currencies, and at least three letters."""
    return [
        w
        for w in _WORD.findall(_CODE.sub(" ", text))
        if w.lower() not in _STOP
        and len(w) > 2
        and _word_value(w) is None
        and w.lower() not in _SCALES
        and w.lower() not in _CURRENCY_WORDS
    ]


@lru_cache(maxsize=4096)
def _loose_words(text: str) -> frozenset[str]:
    return frozenset(_loose(w) for w in _content_tokens(text))


def coverage(sentence: str, span: str) -> float:
    """Share of the sentence's content words (numbers aside: they are checked as values)
    whose crude stem occurs in span.

    Example: coverage("Google owns part of Anthropic.", "Anthropic is owned by Google.")
             -> 0.75  (google, own and anthropic are there; part is not)
    """
    words = _loose_words(sentence)
    if not words:
        return 1.0
    return len(words & _loose_words(span)) / len(words)


# Words that qualify a number or a time without changing the claim: a paraphrase swaps them
# freely ("around $8 billion" -> "roughly $8 billion", "currently" -> "so far"), and the
# numbers themselves are checked as values. They do not count against the coverage cut-off.
_QUALIFIERS = re.compile(
    r"\b(?:roughly|approximately|around|about|nearly|almost|some|circa|currently|"
    r"presently|so far|to date|thus far|as yet)\b",
    re.IGNORECASE,
)


# Words a rewrite puts for one another (one group a line): general English, the verbs and
# adjectives of reporting results. A synonym is not a missing word for the coverage cut-off;
# the checker's features read coverage(), as they were trained.
_SYNONYM_GROUPS = (
    "stay remain keep",
    "work collaborate cooperate partner",
    "several multiple many various numerous",
    "compete vie vying rival",
    "check verify verification validate confirm",
    "scarce limited few insufficient",
    "hard difficult challenging",
    "sort stratify classify group categorise categorize",
    "link associate relate tie connect",
    "lower fewer reduced less decreased smaller",
    "higher greater increased larger bigger",
    "speed expedite accelerate hasten quicken",
    "fast rapid quick swift",
    "show demonstrate reveal indicate find found",
    "use employ utilise utilize apply",
    "help assist aid support facilitate enable allow",
    "begin start commence initiate launch introduce",
    "end finish complete conclude",
    "big large major substantial considerable significant",
    "small minor slight modest",
    "buy purchase acquire",
    "need require necessary",
    "try attempt seek",
    "get receive obtain gain",
    "give provide offer supply",
    "build develop construct create make",
    "important key crucial critical essential vital",
    "whole entire full complete",
    "ill sick unwell",
    "death fatal fatality die dead",
    "stop halt cease prevent",
    "rise grow climb increase",
    "fall drop decline decrease",
    "cost expense price",
    "aim goal purpose intend",
    "study research investigation analysis",
    "author researcher investigator",
    "patient case",
    "country nation",
    "worldwide global globally international",
    "company firm business corporation",
    "invest fund finance back",
    # Not "stake" or "hold": with them "the company that owns Anthropic" covered "Amazon's
    # stake in Anthropic" in a local model's false answer (evals/VERIFIER.md, Session 9).
    "own possess",
    "expect anticipate predict forecast project",
    "suggest imply indicate",
    "estimate approximate",
    "report state say note",
    "similar alike comparable",
    "different distinct dissimilar",
    "affect influence impact change",
    "treat manage",
    "allow permit let",
    "ask question query",
    "answer reply respond",
)


def _synonym_key(word: str) -> str:
    """A word without its inflection, not cut short: the crude five-letter stems of coverage
    would join "company" with "comparable" and "internally" with "international".

    Example: _synonym_key("Collaborates") -> "collaborat"
    """
    return _SUFFIX.sub("", word.lower().replace("’", "'"))


def _synonym_map() -> dict[str, str]:
    seen: dict[str, set[str]] = {}
    for group in _SYNONYM_GROUPS:
        for word in group.split():
            seen.setdefault(_synonym_key(word), set()).add(group.split()[0])
    # A form that two groups share ("found": find, base) means neither for sure: left out.
    # The group is named by its first word's crude stem, so that a form outside the list
    # ("investment") still meets its listed kin ("invested") as coverage() would.
    out = {key: _loose(next(iter(heads))) for key, heads in seen.items() if len(heads) == 1}
    # A listed verb's "-ing" and "-ed" forms lose its final "e" ("cooperate": "cooperating",
    # "cooperated" -> "cooperat"); such a form joins the group unless a listed word has it
    # already ("increased" is listed with "higher", so it stays there, not with "increase").
    # Not in short words: "note" is not "not".
    bare: dict[str, set[str]] = {}
    for group in _SYNONYM_GROUPS:
        for word in group.split():
            key = _synonym_key(word)
            if key.endswith("e") and len(key) > 5 and key[:-1] not in seen:
                bare.setdefault(key[:-1], set()).add(group.split()[0])
    out.update({key: _loose(next(iter(h))) for key, h in bare.items() if len(h) == 1})
    return out


_SYNONYM = _synonym_map()
# The "-ing"/"-ed" forms that joined a group without being listed ("introduced", "managing"):
# they keep their crude stem too, as before they joined, so "introduced" still meets
# "introduction".
_UNLISTED_FORMS = frozenset(_SYNONYM) - {
    _synonym_key(w) for group in _SYNONYM_GROUPS for w in group.split()
}


@lru_cache(maxsize=4096)
def _claim_words(text: str) -> tuple[frozenset[str], ...]:
    """Each content word of text as the keys it may be found under (_word_keys: "remains"
    -> {"stay"}, "adds" -> {"adds", "add"}); a word is covered when one of its keys is a key
    of the span."""
    return tuple(dict.fromkeys(_word_keys(w) for w in _content_tokens(text)))


def _word_keys(word: str) -> frozenset[str]:
    """The keys a word is found under: its synonym group when it has one, else its crude
    stem; a short word also without its inflection ("adds" -> "add", as the stem of
    "adding"); for "non-x" the keys of x (whether it is negated is the negation rule's
    business).

    Tried: a listed word found by its stem as well as its group ("development" meeting
    "develop", which is listed with "build"). It kept three more hand-written paraphrases
    (rules alone), but read against the passages a local model was given it also kept two
    of its made-up sentences ("The company is also investing in the development of AGI,
    ...") that these keys drop (evals/VERIFIER.md, Session 10).

    Example: _word_keys("non-exclusive") -> {"non-e", "exclu"}
    """
    key = _synonym_key(word)
    head = _SYNONYM.get(key)
    keys = {head} if head else {_loose(word)}
    if key in _UNLISTED_FORMS:
        keys.add(_loose(word))
    if len(word) <= 4:
        keys.add(_synonym_key(word))
    if word.lower().startswith("non-") and len(word) > 6:
        keys |= _word_keys(word[4:])
    return frozenset(keys)


@lru_cache(maxsize=4096)
def _claim_keys(text: str) -> frozenset[str]:
    """Every key of the words of text, and of the parts of its hyphenated words ("high-risk"
    holds "high" and "risk" for a sentence that writes them apart)."""
    keys = set().union(*_claim_words(text))
    for w in _content_tokens(text):
        for part in w.split("-")[1 if w.lower().startswith("non-") else 0 :]:
            if len(part) > 2 and part.lower() not in _STOP:
                keys |= _word_keys(part)
    return frozenset(keys)


def claim_coverage(sentence: str, span: str) -> float:
    """coverage() of the sentence's words less the qualifiers of numbers and time, with
    synonyms counted as the same word: the share that the min_coverage cut-off reads (the
    checker's own features use coverage()).

    Example: claim_coverage("So far Amazon's investment amounts to roughly $8 billion.",
             "Amazon has already invested around $8 billion.") -> 0.67
             (coverage() -> 0.4: "far" and "roughly" count as missing there)
             claim_coverage("Anthropic will stay loyal.", "Anthropic will remain loyal.")
             -> 1.0
    """
    words = _claim_words(_QUALIFIERS.sub(" ", sentence))
    if not words:
        return 1.0
    keys = _claim_keys(span)
    return sum(bool(w & keys) for w in words) / len(words)


def assess(
    answer: str,
    passages: Sequence[Chunk],
    scorer: SupportScorer | None,
    candidates: int = 3,
    *,
    min_coverage: float = 0.0,
    checks: int = 2,
) -> list[Assessment]:
    """Try each sentence of answer against its best `candidates` spans: rules, then scorer.

    Rules run first (cheap). The checker is the slow part, so it is asked only about the
    `checks` spans of each sentence that pass the rules and cover the most of its words (at
    least min_coverage), all sentences in one batch. Spans it was not asked about have score
    None. With scorer None every span it would have been asked about scores 1.0.

    Example: assess("Amazon invested $9 billion [1].", [chunk "...invested $8 billion..."],
             None)[0].attempts[0].reason -> "amount $9 billion not in passage [1]"
    """
    sentences = split_answer(answer)
    spans = candidate_spans(passages)
    names = known_names([c.text for c in passages] + [s.text for s in sentences])
    tried: list[list[tuple[Span, str | None, float, bool]]] = []
    pairs: list[tuple[str, str]] = []
    for sentence in sentences:
        rows = []
        for span in _ranked(sentence, spans, candidates):
            reason = rule_reason(sentence.text, span.text, names, f"passage [{span.passage}]")
            rows.append((span, reason, claim_coverage(sentence.text, span.text)))
        eligible = [r for r in rows if r[1] is None and r[2] >= min_coverage]
        asked = {id(r) for r in sorted(eligible, key=lambda r: -r[2])[:checks]}
        tried.append([(*r, id(r) in asked) for r in rows])
        pairs.extend((_one_line(r[0].text), sentence.text) for r in rows if id(r) in asked)
    scores = iter(scorer.scores(pairs) if scorer is not None and pairs else [1.0] * len(pairs))
    return [
        Assessment(
            sentence,
            tuple(
                Attempt(span, reason, next(scores) if was_asked else None, cover)
                for span, reason, cover, was_asked in rows
            ),
        )
        for sentence, rows in zip(sentences, tried, strict=True)
    ]


def verify_answer(
    answer: str,
    passages: Sequence[Chunk],
    scorer: SupportScorer | None,
    *,
    threshold: float | None = None,
    min_coverage: float | None = None,
    candidates: int = 3,
) -> Verification:
    """Keep the sentences of answer that a span of passages supports; cite that span.

    passages are numbered 1..n in the order given, as in the prompt ([n] markers refer to
    them). Each sentence is tried against its best `candidates` spans (cited passages first);
    the first span that passes the rules, covers at least min_coverage of the sentence's
    words and that the scorer accepts (score >= threshold) supports it. Both cut-offs default
    to the scorer's calibrated ones. With scorer None only the rules are applied.
    Citations are numbered in order of first use; a span used twice keeps one number. No two
    citations share characters (issue 10: no quote twice): a sentence takes the first
    supporting span that overlaps no earlier citation; when every one does, the earlier
    citation grows to cover both spans (cite_without_overlap) and both sentences cite it.

    Example: passages = [chunk "Amazon has invested around $8 billion in Anthropic."]
             verify_answer("Amazon put $8 billion into Anthropic [1]. It paid $9 billion.", ...)
             -> text "Amazon put $8 billion into Anthropic. [1]", one citation quoting the
                passage sentence, dropped [("It paid $9 billion.", "amount $9 billion not in
                passage [1]")]
    """
    started = time.perf_counter()
    cut = threshold if threshold is not None else (scorer.threshold if scorer else 0.0)
    if min_coverage is None:
        min_coverage = getattr(scorer, "min_coverage", 0.0) if scorer else 0.0
    kept_text: list[str] = []
    kept_scores: list[float] = []
    citations: dict[tuple[str, int, int], Citation] = {}
    dropped: list[Dropped] = []
    for assessment in assess(answer, passages, scorer, candidates, min_coverage=min_coverage):
        sentence = assessment.sentence
        supports = [
            a
            for a in assessment.attempts
            if a.score is not None and a.score >= cut and a.coverage >= min_coverage
        ]
        if not supports:
            reasons = [_reason(a, min_coverage) for a in assessment.attempts]
            reason = reasons[0] if reasons else "no passage shares its words"
            dropped.append(Dropped(sentence.text, reason, sentence.cited))
            continue
        support = next((a for a in supports if _clashing(a.span, citations) is None), supports[0])
        n = cite_without_overlap(citations, support.span)
        kept_text.append(f"{sentence.text} [{n}]")
        kept_scores.append(support.score or 0.0)
    return Verification(
        text=" ".join(kept_text),
        citations=tuple(citations.values()),
        dropped=tuple(dropped),
        scores=tuple(kept_scores),
        seconds=time.perf_counter() - started,
    )


CitationKey = tuple[str, int, int]  # (source, start, end)


def _clashing(span: Span, citations: Mapping[CitationKey, Citation]) -> CitationKey | None:
    """The key of a citation that shares characters with span without being the same span."""
    key = (span.chunk.source, span.start, span.end)
    return next(
        (
            k
            for k in citations
            if k != key and k[0] == key[0] and k[1] < span.end and span.start < k[2]
        ),
        None,
    )


def cite_without_overlap(citations: dict[CitationKey, Citation], span: Span) -> int:
    """Cite span, in place in citations (keyed by source and offsets, in order of first
    use), and return its [n]: the same span keeps its number; a span sharing characters
    with an earlier citation merges into it (the earlier citation is re-cut to cover both,
    keeping its number) when span's passage holds both, so no two quotes overlap.

    Example: citations {("a.txt", 10, 60): [1] of 10-60}; span 40-60 -> 1, and [1] stays
             10-60; span 40-90 -> 1, and [1] becomes 10-90
    """
    key = (span.chunk.source, span.start, span.end)
    if key in citations:
        return citations[key].n
    clash = _clashing(span, citations)
    if clash is not None:
        start, end = min(clash[1], span.start), max(clash[2], span.end)
        if span.chunk.start <= start and end <= span.chunk.end:
            n = citations[clash].n
            grown = (span.chunk.source, start, end)
            merged = span.chunk.cite(n, start, end)
            # Re-key in place, keeping the order of first use.
            rebuilt = {
                (grown if k == clash else k): (merged if k == clash else c)
                for k, c in citations.items()
            }
            citations.clear()
            citations.update(rebuilt)
            return n
    citations[key] = span.chunk.cite(len(citations) + 1, span.start, span.end)
    return citations[key].n


def _reason(attempt: Attempt, min_coverage: float) -> str:
    if attempt.reason:
        return attempt.reason
    where = f"passage [{attempt.span.passage}]"
    if attempt.coverage < min_coverage:
        return f"most of its words are not in {where}"
    if attempt.score is None:
        return f"a better span of {where} was checked instead"
    return f"not supported by {where} (checker score {attempt.score or 0.0:.2f})"


_WHITE_RUN = re.compile(r"\s{2,}")


def _squeezed(text: str) -> str:
    """text with each run of white space made one space (a single white character is kept).

    Example: _squeezed("8 hours\n\n   at dawn") -> "8 hours at dawn"
    """
    return _WHITE_RUN.sub(" ", text)


def _one_line(text: str) -> str:
    return " ".join(text.split())
