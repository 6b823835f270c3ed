"""The seam between a language model's draft and the sentence verifier.

An LLM backend hands its draft and the numbered passages it gave the model to a `Verifier`,
and keeps only what comes back: sentences each cited with exact offsets
(`source_text[start:end] == quote`) and the removed ones, each with its reason.

    check = verifier(draft, passages)        # passages[0] is [1] in the prompt
    check.text, check.citations, check.dropped

`default_verifier()` is the verifier of answer/verify.py (rules for numbers, names, negations
and hedges, then the learned checker of answer/checker.py) when that module is present, with
its shipped checker and calibration; `default_verifier("rules")` is the same without the
checker (Settings.verifier chooses); otherwise `rules_verifier`, the small rule check below.
All satisfy the protocol, so any plugs into every LLM backend unchanged.
"""

from __future__ import annotations

import importlib
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ..ingest.chunking import split_sentences
from ..schema import Chunk, Citation, Dropped

__all__ = [
    "Check",
    "Verifier",
    "default_verifier",
    "rules_verifier",
    "split_claims",
]


class _DroppedLike(Protocol):
    @property
    def sentence(self) -> str: ...
    @property
    def reason(self) -> str: ...


class _CheckLike(Protocol):
    @property
    def text(self) -> str: ...
    @property
    def citations(self) -> tuple[Citation, ...]: ...
    @property
    def dropped(self) -> Sequence[_DroppedLike]: ...


class Verifier(Protocol):
    """verifier(answer, passages) -> the checked answer.

    answer: the model's draft, with whatever [n] markers it wrote. passages: the chunks given
    to the model, [1] first. The result's text is the kept sentences each ending in [n]
    (numbered by its citations, 1..N by first use); citations quote their source exactly;
    dropped lists each removed sentence with a short reason (answer/verify.py's
    `verify_answer` bound to a scorer is one; `rules_verifier` another).
    """

    def __call__(self, answer: str, passages: Sequence[Chunk], /) -> _CheckLike: ...


@dataclass(frozen=True, slots=True)
class Check:
    """What rules_verifier returns (the Verifier protocol's result)."""

    text: str
    citations: tuple[Citation, ...]
    dropped: tuple[Dropped, ...]


def default_verifier(kind: str = "checker") -> Verifier:
    """The verifier of answer/verify.py: with kind "checker" (the default) its rules and the
    installed learned checker, with kind "rules" its rules alone, each with the cut-offs
    calibrated for it; rules_verifier when that module is absent.

    The verifier is looked up by module name so that this seam does not depend on it: a
    checkout without it still checks every sentence, by rules.
    """
    if kind not in ("checker", "rules"):
        raise ValueError(f"unknown verifier {kind!r}: use 'checker' or 'rules'")
    try:
        model = importlib.import_module(f"{__package__}.verifier_model")
        scorer = model.default_scorer() if kind == "checker" else None
    except ImportError:
        return rules_verifier
    except Exception:  # the model file is missing (ModelNotFoundError) or unreadable
        scorer = None
        kind = "rules"

    def learned(answer: str, passages: Sequence[Chunk], /) -> _CheckLike:
        # check_answer applies the shipped calibration (the checker's threshold and the
        # word-coverage cut-off chosen on the labelled set's tune half), which a bare
        # verify_answer call would skip.
        result: _CheckLike = model.check_answer(answer, passages, scorer, kind=kind)
        return result

    learned.__name__ = "learned_verifier" if kind == "checker" else "calibrated_rules_verifier"
    return learned


# --- the rule check ------------------------------------------------------------------------

_MARKERS = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+")
_NUMBER_WORDS = {
    "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "twenty": "20",
    "thirty": "30", "forty": "40", "fifty": "50", "hundred": "100",
}  # fmt: skip
_NEGATION = re.compile(
    r"\b(?:not|no|never|none|neither|nor|without|cannot)\b|n[’']t\b|\bnon-|\bun(?=able\b|likely\b)",
    re.I,
)
_WORD = re.compile(r"[A-Za-z][\w’'-]*")
_STOP = frozenset(
    """a an the and or but of in on at to for by with from as is are was were be been being
    has have had it its this that these those their there which who whom what when where how
    also into about than then so such not no can could would should may might will do does
    did according passage passages document documents""".split()  # noqa: SIM905
)


def split_claims(answer: str) -> list[tuple[str, tuple[int, ...]]]:
    """The sentences of answer, without [n] markers or list bullets, with the passage
    numbers each one cited (a marker after the full stop belongs to the sentence before it).

    Example: split_claims("Amazon invested $8 billion [1]. Google owns 14%. [2, 3]") ->
             [("Amazon invested $8 billion.", (1,)), ("Google owns 14%.", (2, 3))]
    """
    text = re.sub(r"([.!?])((?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])+)", r"\2\1", answer)
    text = "\n".join(_BULLET.sub("", line) for line in text.splitlines())
    out: list[tuple[str, tuple[int, ...]]] = []
    for start, end in split_sentences(text):
        raw = text[start:end]
        cited = tuple(
            dict.fromkeys(int(n) for g in _MARKERS.findall(raw) for n in re.split(r"[,;]", g))
        )
        clean = re.sub(r"\s+([.!?,;:])", r"\1", " ".join(_MARKERS.sub("", raw).split()))
        if len(_WORD.findall(clean)) >= 2:
            out.append((clean, cited))
    return out


def _numbers(text: str) -> set[str]:
    """Example: _numbers("$8 billion, 8,000 and eight") -> {"8", "8000"}"""
    found = {n.replace(",", "").rstrip(".") for n in re.findall(r"\d[\d,]*(?:\.\d+)?", text)}
    words = {_NUMBER_WORDS[w.lower()] for w in _WORD.findall(text) if w.lower() in _NUMBER_WORDS}
    return found | words


def _names(sentence: str) -> list[str]:
    """Capitalised words that do not open the sentence: its proper names."""
    words = _WORD.findall(sentence)
    return [w for w in words[1:] if w[0].isupper() and w.lower() not in _STOP]


def _stems(text: str) -> set[str]:
    return {w.lower()[:5] for w in _WORD.findall(text) if w.lower() not in _STOP and len(w) > 2}


@dataclass(frozen=True, slots=True)
class _Span:
    passage: int
    chunk: Chunk
    start: int  # offsets into the source text
    end: int

    @property
    def text(self) -> str:
        return self.chunk.text[self.start - self.chunk.start : self.end - self.chunk.start]


def _spans(passages: Sequence[Chunk]) -> list[_Span]:
    """Each sentence of each passage, and each two adjacent sentences."""
    out: list[_Span] = []
    for n, chunk in enumerate(passages, start=1):
        sentences = split_sentences(chunk.text)
        out += [_Span(n, chunk, chunk.start + s, chunk.start + e) for s, e in sentences]
        out += [
            _Span(n, chunk, chunk.start + s, chunk.start + e)
            for (s, _), (_, e) in itertools.pairwise(sentences)
        ]
    return out


def _rule(sentence: str, span: str, min_overlap: float) -> str | None:
    """Why span does not support sentence, or None when it does."""
    missing = sorted(_numbers(sentence) - _numbers(span))
    if missing:
        return f"number {missing[0]} is not in"
    span_words = {w.lower() for w in _WORD.findall(span)}
    for name in _names(sentence):
        if name.lower() not in span_words and not any(
            w.startswith(name.lower()[:5]) for w in span_words
        ):
            return f"name {name} is not in"
    if bool(_NEGATION.search(sentence)) != bool(_NEGATION.search(span)):
        return "its negation differs from"
    words = _stems(sentence)
    if words and len(words & _stems(span)) / len(words) < min_overlap:
        return "most of its words are not in"
    return None


def rules_verifier(answer: str, passages: Sequence[Chunk], /, *, min_overlap: float = 0.6) -> Check:
    """Keep each sentence of answer that some span of passages supports by rule: all its
    numbers and proper names are in the span, negated in both or neither, and at least
    min_overlap of its content words are there. Cited passages are tried first, but an
    uncited sentence (small models often cite nothing) is attributed to any passage.

    Example: passages = [chunk "Amazon has invested around $8 billion in Anthropic."]
             rules_verifier("Amazon invested $8 billion in Anthropic. It paid $9 billion [1].",
                            passages)
             -> text "Amazon invested $8 billion in Anthropic. [1]", one citation quoting the
                passage; dropped ("It paid $9 billion.", "number 9 is not in passage [1]")
    """
    spans = _spans(passages)
    citations: dict[tuple[str, int, int], Citation] = {}
    kept: list[str] = []
    dropped: list[Dropped] = []
    for sentence, cited in split_claims(answer):
        words = _stems(sentence)

        def order(span: _Span, cited: tuple[int, ...] = cited, words: set[str] = words) -> tuple:
            return (span.passage not in cited, -len(words & _stems(span.text)), span.end)

        support, first_reason = None, None
        for span in sorted(spans, key=order):
            reason = _rule(sentence, span.text, min_overlap)
            if reason is None:
                support = span
                break
            first_reason = first_reason or f"{reason} passage [{span.passage}]"
        if support is None:
            dropped.append(Dropped(sentence, first_reason or "no passage was given"))
            continue
        key = (support.chunk.source, support.start, support.end)
        if key not in citations:
            citations[key] = support.chunk.cite(len(citations) + 1, support.start, support.end)
        kept.append(f"{sentence} [{citations[key].n}]")
    return Check(" ".join(kept), tuple(citations.values()), tuple(dropped))
