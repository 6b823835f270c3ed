"""Ask every question of a set through Assistant.ask and score the answers.

Definitions (the functions are in scoring.py; this module only gathers their inputs):

Question sets (facts per question):
- fact_recall: per answerable question, the share of its facts found in the answer text
  (a refusal finds none); the metric is the mean over answerable questions.
- citation_support: per answered question with at least one fact found (collection
  questions aside: their answer is the catalogue of sources, not a quote), the share of
  found facts that also lie inside a cited quote, or 0 if any citation's quote differs from
  the source file's text at its offsets; mean over those questions.
- quote_accuracy: share of all citations whose quote is the source's text at its offsets.
- retrieval_hit_at_k / retrieval_mrr: over answerable questions except collection ones
  (answered from the catalogue, without retrieval). A retrieved chunk (answer.hits, k of
  them) is relevant when its text contains an alternative of one of the expected facts; for
  an item without facts, when its source is one of the expected sources. hit@k: some chunk
  is relevant; MRR: mean of 1/rank of the first relevant chunk (0 when none).
  Facts rather than sources decide, because with one document every chunk has the
  expected source; source_hit_at_k reports the source-only view.
- refusal_precision / refusal_recall: refusing as a classifier, positive class =
  unanswerable; precision = refused unanswerable / refused, recall = refused unanswerable /
  unanswerable.
- followup_success: share of followup questions answered with all their facts found.

Data sets (gold answer spans):
- retrieval_hit_at_k: some retrieved chunk is from the gold document and overlaps the gold
  span [answer_start, answer_start + len(answers[0])); retrieval_mrr as above.
- answer_f1: SQuAD token F1 of the answer (markers removed) against the gold answers, max
  over them; answer_containment: some normalised gold answer occurs in the answer.
- answer_containment covers the answerable questions (a refusal contains nothing);
  containment_when_answered only those answered, to tell wrong refusals from wrong quotes.
- answerable_refused: share of answerable questions refused (lower is better);
  unanswerable_refused: share of the items without gold answers (SQuAD 2.0's unanswerable
  questions) refused. The per-category table splits them by each item's "kind".

Both kinds:
- median_sentences: median number of citations (quoted sentences) per answered question,
  collection answers aside; duplicated_quotes: number of answers with two citations sharing
  characters of one source (quotes_overlap). Lower is better for both: tight answers.

Answers a language model wrote (any mode; 0 for the extractive one):
- sentences_dropped: of all sentences written for answered questions, the share the
  verifier removed (answer.dropped), pooled over the run. A kept sentence is one [n]-ended
  sentence of the final answer; when nothing survived and the extractive answer was given
  instead (answer.notice), none of the model's sentences counts as kept.
- first_token_seconds / total_seconds: medians of answer.timings "first_piece" (time to the
  first streamed piece: the first token of a model) and "total" (lower is better).

Latency: p50 and p95 of each answer.timings stage over the questions that ran it; "total"
is the whole ask() as the Assistant measures it; "first_piece" is the time to the first
streamed piece (the first token, for a language model).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import AssistantError
from ..schema import Answer, Citation, Hit
from . import scoring as sc
from .sets import EvalItem, QuestionSet

if TYPE_CHECKING:
    from ..pipeline import Assistant

__all__ = ["Aggregate", "ItemResult", "SourceTexts", "aggregate", "ask_all", "score_item"]


class SourceTexts:
    """The text citations are checked against, read once per source: the decoded file for
    .txt/.md (read as bytes, so line endings stay as on disk), the loader's text otherwise."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._cache: dict[str, str | None] = {}

    def get(self, source: str) -> str | None:
        if source not in self._cache:
            self._cache[source] = self._read(source)
        return self._cache[source]

    def _read(self, source: str) -> str | None:
        from ..ingest.loaders import load_documents, source_file

        path = (self.folder / source_file(source)).resolve()
        if self.folder.resolve() not in path.parents or not path.is_file():
            return None
        if path.suffix.lower() in (".txt", ".md", ".markdown") and source == source_file(source):
            try:
                return path.read_bytes().decode("utf-8-sig")
            except UnicodeDecodeError:
                pass  # a legacy encoding: the loader knows the fallbacks
        try:
            docs, _ = load_documents(path, self.folder)
        except AssistantError:
            return None
        return next((d.text for d in docs if d.source == source), None)


@dataclass(frozen=True, slots=True)
class ItemResult:
    """One question's answer and its scores (None where a score does not apply)."""

    item: EvalItem
    answer: str
    refused: bool
    query: str
    citations: tuple[Citation, ...]
    retrieved: tuple[tuple[str, int, int], ...]  # (source, start, end) of answer.hits
    timings: Mapping[str, float]
    scores: Mapping[str, Any]
    facts_found: tuple[str, ...] = ()
    facts_missing: tuple[str, ...] = ()
    facts_unsupported: tuple[str, ...] = ()  # found in the answer but in no cited quote
    bad_quotes: tuple[int, ...] = ()  # [n] of citations whose quote is not the source's text
    error: str | None = None  # an AssistantError the question raised
    dropped: tuple[tuple[str, str], ...] = ()  # (sentence, reason) the verifier removed
    kept_sentences: int = 0  # sentences of the final answer written by its backend

    @property
    def problems(self) -> list[str]:
        """What went wrong, one phrase each; empty for a fully right answer."""
        s, out = self.scores, []
        if self.error:
            out.append(f"error: {self.error}")
        if s.get("refusal_correct") is False:
            out.append(
                "refused an answerable question" if self.refused else "answered instead of refusing"
            )
        if self.facts_missing and not self.refused:
            out.append("missing facts: " + "; ".join(self.facts_missing))
        if self.facts_unsupported:
            out.append("facts not inside a cited quote: " + "; ".join(self.facts_unsupported))
        if self.bad_quotes:
            out.append(
                "quotes not matching the source: " + ", ".join(f"[{n}]" for n in self.bad_quotes)
            )
        if s.get("retrieval_hit") is False:
            out.append("no relevant chunk retrieved")
        if self.item.category == "dataset" and not self.refused and not s.get("answer_contains"):
            out.append(f"gold answer not contained (F1 {s.get('answer_f1', 0.0):.2f})")
        return out

    def to_row(self) -> dict[str, Any]:
        """The results.jsonl line."""
        row: dict[str, Any] = {
            "id": self.item.id,
            "category": self.item.category,
            "question": self.item.question,
        }
        if self.item.history:
            row["history"] = [dict(t) for t in self.item.history]
        if self.query != self.item.question:
            row["query"] = self.query
        row.update(
            answer=self.answer,
            refused=self.refused,
            citations=[
                {
                    "n": c.n,
                    "source": c.source,
                    "start": c.start,
                    "end": c.end,
                    "quote": c.quote,
                    "page": c.page,
                    "chunk_id": c.chunk_id,
                }
                for c in self.citations
            ],
        )
        if self.item.kind:
            row["kind"] = self.item.kind
        if self.item.category == "dataset":
            row.update(gold_answers=list(self.item.answers), doc=self.item.doc)
        else:
            row.update(facts_found=list(self.facts_found), facts_missing=list(self.facts_missing))
            if self.facts_unsupported:
                row["facts_unsupported"] = list(self.facts_unsupported)
        if self.bad_quotes:
            row["bad_quotes"] = list(self.bad_quotes)
        if self.dropped:
            row["dropped"] = [{"sentence": s, "reason": r} for s, r in self.dropped]
        row.update(
            scores=dict(self.scores),
            retrieved=[list(r) for r in self.retrieved],
            timings=dict(self.timings),
        )
        if self.error:
            row["error"] = self.error
        return row


def ask_all(
    bot: Assistant,
    qset: QuestionSet,
    items: Sequence[EvalItem],
    *,
    k: int,
    progress: bool | None = None,
) -> list[ItemResult]:
    """Ask each item (with its history) and score it. progress: show a tqdm bar (None:
    only on a terminal)."""
    from tqdm import tqdm

    texts = SourceTexts(qset.documents)
    results = []
    for item in tqdm(
        items, desc=qset.name, unit="q", disable=None if progress is None else not progress
    ):
        try:
            answer = bot.ask(item.question, list(item.history) or None, k=k)
        except AssistantError as exc:  # one bad question must not end the run
            results.append(_error_result(item, str(exc)))
            continue
        results.append(score_item(item, answer, texts.get, k=k))
    return results


def _error_result(item: EvalItem, error: str) -> ItemResult:
    empty = Answer(item.question, item.question, "")
    result = score_item(item, empty, lambda _source: None, k=0)
    scores = dict(result.scores)
    scores["refusal_correct"] = False  # neither a right answer nor a right refusal
    return ItemResult(
        item,
        "",
        False,
        item.question,
        (),
        (),
        {},
        scores,
        facts_missing=result.facts_missing,
        error=error,
    )


def score_item(
    item: EvalItem,
    answer: Answer,
    source_text: Callable[[str], str | None],
    *,
    k: int,
) -> ItemResult:
    """Score one answer. source_text(source) gives a source's text (None if missing)."""
    bad_quotes = tuple(
        c.n
        for c in answer.citations
        if not sc.quote_matches_source(c.quote, source_text(c.source), c.start, c.end)
    )
    hits = answer.hits[:k] if k else answer.hits
    tightness = not answer.refused and item.category != "collection"
    scores: dict[str, Any] = {
        "refusal_correct": answer.refused != item.answerable,
        "quotes_verbatim": (not bad_quotes) if answer.citations else None,
        "sentences": len(answer.citations) if tightness else None,
        "duplicated_quote": (
            sc.quotes_overlap((c.source, c.start, c.end) for c in answer.citations)
            if tightness
            else None
        ),
    }
    found: list[sc.Fact] = []
    missing: list[sc.Fact] = []
    unsupported: list[sc.Fact] = []
    if item.category == "dataset":
        scores.update(_dataset_scores(item, answer, hits))
    else:
        # A refusal's text is not an answer: it finds no facts (it may echo the question).
        text = "" if answer.refused else answer.text
        found = [f for f in item.facts if sc.fact_found(f, text)]
        missing = [f for f in item.facts if f not in found]
        quotes = [c.quote for c in answer.citations]
        if item.answerable:
            scores["fact_recall"] = sc.fact_recall(item.facts, text)
            # Collection answers list sources from the catalogue: no quote to hold a fact.
            checks_support = item.category != "collection" and not answer.refused
            scores["citation_support"] = (
                sc.citation_support(item.facts, text, quotes, quotes_verbatim=not bad_quotes)
                if checks_support
                else None
            )
            if checks_support:
                unsupported = [f for f in found if not sc.fact_supported(f, text, quotes)]
            if item.category != "collection":
                scores.update(_retrieval_scores(item, hits))
        if item.category == "followup":
            scores["followup_success"] = not answer.refused and not missing
    return ItemResult(
        item=item,
        answer=answer.text,
        refused=answer.refused,
        query=answer.query,
        citations=answer.citations,
        retrieved=tuple((h.chunk.source, h.chunk.start, h.chunk.end) for h in hits),
        timings=dict(answer.timings),
        scores=scores,
        facts_found=tuple(sc.fact_label(f) for f in found),
        facts_missing=tuple(sc.fact_label(f) for f in missing),
        facts_unsupported=tuple(sc.fact_label(f) for f in unsupported),
        bad_quotes=bad_quotes,
        dropped=tuple((d.sentence, d.reason) for d in answer.dropped),
        kept_sentences=0
        if answer.refused or answer.notice
        else len(re.findall(r"\[\d+(?:\s*,\s*\d+)*\]", answer.text)),
    )


def _retrieval_scores(item: EvalItem, hits: Sequence[Hit]) -> dict[str, Any]:
    if item.facts:
        relevant = [any(sc.fact_found(f, h.chunk.text) for f in item.facts) for h in hits]
    else:
        relevant = [h.chunk.source in item.sources for h in hits]
    rank = sc.first_relevant_rank(relevant)
    scores: dict[str, Any] = {
        "retrieval_hit": rank is not None,
        "retrieval_rank": rank,
        "reciprocal_rank": sc.reciprocal_rank(rank),
    }
    if item.sources:
        scores["source_hit"] = any(h.chunk.source in item.sources for h in hits)
    return scores


def _dataset_scores(item: EvalItem, answer: Answer, hits: Sequence[Hit]) -> dict[str, Any]:
    span_start, span_end = item.gold_span
    rank = sc.first_relevant_rank(
        h.chunk.source == item.doc
        and sc.spans_overlap(h.chunk.start, h.chunk.end, span_start, span_end)
        for h in hits
    )
    text = "" if answer.refused else answer.text
    return {
        "retrieval_hit": rank is not None,
        "retrieval_rank": rank,
        "reciprocal_rank": sc.reciprocal_rank(rank),
        "answer_f1": sc.best_token_f1(text, item.answers) if text else 0.0,
        "answer_contains": sc.contains_answer(text, item.answers) if text else False,
    }


# ---------------------------------------------------------------- aggregation


@dataclass(frozen=True, slots=True)
class Aggregate:
    metrics: dict[str, float | None]
    by_category: dict[str, dict[str, float | None]]
    latency: dict[str, dict[str, float | None]]
    counts: dict[str, int] = field(default_factory=dict)


def aggregate(results: Sequence[ItemResult], kind: str) -> Aggregate:
    """Summary metrics, per-category scores and latency percentiles of a run."""
    metrics = _metrics(results, kind)
    by_category: dict[str, dict[str, float | None]] = {}
    for category in dict.fromkeys(r.item.group for r in results):
        group = [r for r in results if r.item.group == category]
        by_category[category] = {"questions": float(len(group)), **_category(group, kind)}
    latency: dict[str, dict[str, float | None]] = {}
    stages = dict.fromkeys(stage for r in results for stage in r.timings)
    for stage in sorted(stages, key=lambda s: (s == "total", list(stages).index(s))):
        values = [r.timings[stage] for r in results if stage in r.timings]
        latency[stage] = {
            "p50": sc.percentile(values, 50),
            "p95": sc.percentile(values, 95),
            "n": float(len(values)),
        }
    counts = {
        "questions": len(results),
        "answered": sum(not r.refused and not r.error for r in results),
        "refused": sum(r.refused for r in results),
        "errors": sum(bool(r.error) for r in results),
        "citations": sum(len(r.citations) for r in results),
    }
    return Aggregate(metrics, by_category, latency, counts)


def _metrics(results: Sequence[ItemResult], kind: str) -> dict[str, float | None]:
    def avg(key: str, group: Sequence[ItemResult] = results) -> float | None:
        return sc.mean(r.scores.get(key) for r in group)

    cited = sum(len(r.citations) for r in results)
    bad = sum(len(r.bad_quotes) for r in results)
    quote_accuracy = (cited - bad) / cited if cited else None
    answered = [r for r in results if not r.refused and not r.error]
    tightness = {
        "median_sentences": sc.percentile(
            [r.scores["sentences"] for r in answered if r.scores.get("sentences") is not None],
            50,
        ),
        # A count, not a share: one answer quoting the same span twice is one too many.
        "duplicated_quotes": float(sum(bool(r.scores.get("duplicated_quote")) for r in results)),
    }
    if kind == "dataset":
        return {
            "retrieval_hit_at_k": avg("retrieval_hit"),
            "retrieval_mrr": avg("reciprocal_rank"),
            "answer_f1": avg("answer_f1"),
            "answer_containment": avg("answer_contains"),
            "containment_when_answered": avg("answer_contains", answered),
            "answerable_refused": sc.mean(r.refused for r in results if r.item.answerable),
            "unanswerable_refused": sc.mean(r.refused for r in results if not r.item.answerable),
            **tightness,
            "quote_accuracy": quote_accuracy,
        }
    refusal = sc.refusal_scores((not r.item.answerable, r.refused) for r in results)
    written = sum(len(r.dropped) + r.kept_sentences for r in results)
    return {
        "fact_recall": avg("fact_recall"),
        "citation_support": avg("citation_support"),
        "quote_accuracy": quote_accuracy,
        "retrieval_hit_at_k": avg("retrieval_hit"),
        "retrieval_mrr": avg("reciprocal_rank"),
        "source_hit_at_k": avg("source_hit"),
        "refusal_precision": refusal.precision,
        "refusal_recall": refusal.recall,
        "followup_success": avg("followup_success"),
        **tightness,
        "sentences_dropped": sum(len(r.dropped) for r in results) / written if written else None,
        # Medians, in seconds: what a person waits for text to start, and for the whole answer.
        "first_token_seconds": sc.percentile(
            [r.timings["first_piece"] for r in results if "first_piece" in r.timings], 50
        ),
        "total_seconds": sc.percentile(
            [r.timings["total"] for r in results if "total" in r.timings], 50
        ),
    }


def _category(group: Sequence[ItemResult], kind: str) -> dict[str, float | None]:
    def avg(key: str) -> float | None:
        return sc.mean(r.scores.get(key) for r in group)

    if kind == "dataset":
        return {
            "retrieval_hit_at_k": avg("retrieval_hit"),
            "retrieval_mrr": avg("reciprocal_rank"),
            "answer_f1": avg("answer_f1"),
            "answer_containment": avg("answer_contains"),
            "refusal_correct": avg("refusal_correct"),
        }
    return {
        "fact_recall": avg("fact_recall"),
        "citation_support": avg("citation_support"),
        "retrieval_hit_at_k": avg("retrieval_hit"),
        "retrieval_mrr": avg("reciprocal_rank"),
        "refusal_correct": avg("refusal_correct"),
        "followup_success": avg("followup_success"),
    }
