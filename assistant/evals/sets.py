"""Question sets and external data sets: reading, validating, sampling.

Two kinds of input:

- a question set file, YAML (like evals/seed.yaml) or JSONL: expected facts per question;
- a data set folder in the covid-qa layout: docs/ + questions.jsonl whose items carry gold
  answer spans ({"id", "question", "answers", "doc", "answer_start"}). As in SQuAD 2.0, an
  item with no answers ("answers": [], or "is_impossible": true) is a question the documents
  do not answer: the assistant should refuse it. An optional "kind" ("swap_entity",
  "offtopic", ...) groups items in the report's per-category table.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..errors import InputError
from .scoring import Fact, parse_fact

__all__ = [
    "CATEGORIES",
    "DATASET_METRICS",
    "QUESTION_METRICS",
    "EvalItem",
    "QuestionSet",
    "load_set",
    "sample",
]

CATEGORIES = ("fact", "paraphrase", "synthesis", "followup", "unanswerable", "collection")

# The summary metrics of each kind of set: the names thresholds may use.
QUESTION_METRICS = (
    "fact_recall",
    "citation_support",
    "quote_accuracy",
    "retrieval_hit_at_k",
    "retrieval_mrr",
    "source_hit_at_k",
    "refusal_precision",
    "refusal_recall",
    "followup_success",
    "median_sentences",
    "duplicated_quotes",
    "sentences_dropped",
    "first_token_seconds",
    "total_seconds",
)
DATASET_METRICS = (
    "retrieval_hit_at_k",
    "retrieval_mrr",
    "answer_f1",
    "answer_containment",
    "containment_when_answered",
    "answerable_refused",
    "unanswerable_refused",
    "median_sentences",
    "duplicated_quotes",
    "quote_accuracy",
)

Kind = Literal["questions", "dataset"]


@dataclass(frozen=True, slots=True)
class EvalItem:
    """One question to ask, with what a right answer must contain."""

    id: str
    question: str
    category: str
    facts: tuple[Fact, ...] = ()
    sources: tuple[str, ...] = ()
    history: tuple[Mapping[str, str], ...] = ()  # earlier turns, {"role", "content"}
    # Data set items: gold answers and where answers[0] lies in its document.
    answers: tuple[str, ...] = ()
    doc: str = ""
    answer_start: int = -1
    kind: str = ""  # a finer label for the report (e.g. "swap_entity"); the category if empty

    @property
    def answerable(self) -> bool:
        return self.category != "unanswerable"

    @property
    def group(self) -> str:
        """The row of the report's per-category table this item counts in."""
        return self.kind or self.category

    @property
    def gold_span(self) -> tuple[int, int]:
        """[start, end) of answers[0] in its document."""
        return self.answer_start, self.answer_start + len(self.answers[0])


@dataclass(frozen=True, slots=True)
class QuestionSet:
    name: str
    path: Path
    kind: Kind
    documents: Path  # the folder the assistant answers from
    items: tuple[EvalItem, ...]
    k: int | None = None
    thresholds: Mapping[str, float] = field(default_factory=dict)
    description: str = ""

    @property
    def metrics(self) -> tuple[str, ...]:
        return QUESTION_METRICS if self.kind == "questions" else DATASET_METRICS


def load_set(path: str | Path) -> QuestionSet:
    """Read a question set file (.yaml/.yml/.jsonl) or a data set folder (docs/ and
    questions.jsonl). Raises InputError, saying what to fix, for anything malformed."""
    path = Path(path)
    if path.is_dir():
        return _load_dataset(path)
    if not path.is_file():
        raise InputError(
            f"no question set at {path}: pass a .yaml or .jsonl question set, or a data set "
            "folder holding docs/ and questions.jsonl"
        )
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        header, raw_items = _read_yaml(path)
    elif suffix == ".jsonl":
        header, raw_items = _read_jsonl(path)
    else:
        raise InputError(f"{path} is not a question set: use a .yaml, .yml or .jsonl file")
    return _build_set(path, header, raw_items)


def sample(items: Sequence[EvalItem], limit: int | None, *, spread: bool) -> list[EvalItem]:
    """The questions a --limit run scores: the first `limit`, or with spread=True `limit`
    evenly spaced ones (item i * len / limit, rounded down), deterministic either way.
    Data sets group questions by document, so their first N would cover one or two articles.

    Example: 10 items, limit 4 -> indices 0, 1, 2, 3; with spread -> 0, 2, 5, 7
    """
    if limit is None or limit >= len(items):
        return list(items)
    if limit <= 0:
        raise InputError(f"--limit must be a positive number, not {limit}")
    if not spread:
        return list(items[:limit])
    return [items[i * len(items) // limit] for i in range(limit)]


# ---------------------------------------------------------------- question set files


def _read_yaml(path: Path) -> tuple[dict[str, Any], list[Any]]:
    import yaml  # only needed here

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(f"{path} is not valid YAML ({exc}): fix the file") from None
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
        raise InputError(f"{path} has no `questions:` list: see evals/seed.yaml for the format")
    header = {key: value for key, value in data.items() if key != "questions"}
    return header, data["questions"]


def _read_jsonl(path: Path) -> tuple[dict[str, Any], list[Any]]:
    """JSONL: one question object a line; a line without "question" is the set's header
    (name, description, documents, k, thresholds)."""
    header: dict[str, Any] = {}
    items: list[Any] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{number} is not valid JSON ({exc}): fix the line") from None
        if isinstance(obj, dict) and "question" not in obj:
            header.update(obj)
        else:
            items.append(obj)
    return header, items


def _build_set(path: Path, header: Mapping[str, Any], raw_items: list[Any]) -> QuestionSet:
    documents = header.get("documents")
    if not isinstance(documents, str) or not documents.strip():
        raise InputError(
            f"{path} does not say which documents it is about: add `documents:` "
            "(a folder relative to the set file)"
        )
    folder = (path.parent / documents).resolve()
    if not folder.is_dir():
        raise InputError(f"{path}: its documents folder {folder} does not exist")
    items = tuple(_parse_item(path, i, raw) for i, raw in enumerate(raw_items, start=1))
    if not items:
        raise InputError(f"{path} has no questions: add some under `questions:`")
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise InputError(f"{path}: the id {item.id!r} is used twice: make ids unique")
        seen.add(item.id)
    k = header.get("k")
    if k is not None and (not isinstance(k, int) or isinstance(k, bool) or k < 1):
        raise InputError(f"{path}: `k:` must be a positive whole number, not {k!r}")
    qset = QuestionSet(
        name=str(header.get("name") or path.stem),
        path=path,
        kind="questions",
        documents=folder,
        items=items,
        k=k,
        thresholds=_thresholds(path, header.get("thresholds"), QUESTION_METRICS),
        description=str(header.get("description") or ""),
    )
    return qset


def _parse_item(path: Path, number: int, raw: Any) -> EvalItem:
    where = f"{path}: question {number}"
    if not isinstance(raw, dict):
        raise InputError(f"{where} is not a mapping with id, question and category")
    qid, question, category = raw.get("id"), raw.get("question"), raw.get("category")
    if not isinstance(qid, str | int) or not str(qid).strip():
        raise InputError(f"{where} has no `id`: give every question a unique id")
    where = f"{path}: question {qid!r}"
    if not isinstance(question, str) or not question.strip():
        raise InputError(f"{where} has no `question` text")
    if category not in CATEGORIES:
        raise InputError(f"{where} has category {category!r}: use one of {', '.join(CATEGORIES)}")
    try:
        facts = tuple(parse_fact(f) for f in raw.get("facts") or ())
    except ValueError as exc:
        raise InputError(f"{where}: {exc}") from None
    sources = raw.get("sources") or ()
    if isinstance(sources, str):
        sources = (sources,)
    if category == "unanswerable" and facts:
        raise InputError(f"{where} is unanswerable but lists facts: remove them")
    if category != "unanswerable" and not facts:
        raise InputError(f"{where} lists no facts: say what a right answer must contain")
    history = raw.get("history") or ()
    if category == "followup" and not history:
        raise InputError(f"{where} is a followup without `history`: add the earlier turns")
    turns = []
    for turn in history:
        if (
            not isinstance(turn, dict)
            or turn.get("role") not in ("user", "assistant")
            or not isinstance(turn.get("content"), str)
        ):
            raise InputError(f"{where}: each history turn needs role (user/assistant) and content")
        turns.append({"role": turn["role"], "content": turn["content"]})
    return EvalItem(
        id=str(qid),
        question=question,
        category=category,
        facts=facts,
        sources=tuple(str(s) for s in sources),
        history=tuple(turns),
    )


def _thresholds(path: Path, raw: Any, known: Sequence[str]) -> dict[str, float]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InputError(f"{path}: `thresholds:` must map metric names to numbers")
    thresholds: dict[str, float] = {}
    for name, value in raw.items():
        if name not in known:
            raise InputError(
                f"{path}: unknown metric {name!r} in thresholds: use one of {', '.join(known)}"
            )
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(f"{path}: threshold {name} must be a number, not {value!r}")
        thresholds[name] = float(value)
    return thresholds


# ---------------------------------------------------------------- data set folders


def _load_dataset(folder: Path) -> QuestionSet:
    questions, docs = folder / "questions.jsonl", folder / "docs"
    if not questions.is_file() or not docs.is_dir():
        raise InputError(
            f"{folder} is not a data set folder: it needs docs/ and questions.jsonl "
            "(the covid-qa layout)"
        )
    items: list[EvalItem] = []
    for number, line in enumerate(questions.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        items.append(_dataset_item(f"{questions}:{number}", line))
    if not items:
        raise InputError(f"{questions} holds no questions")
    return QuestionSet(
        name=folder.resolve().name,
        path=folder,
        kind="dataset",
        documents=docs.resolve(),
        items=tuple(items),
    )


def _dataset_item(where: str, line: str) -> EvalItem:
    """One questions.jsonl line: answerable with a gold span, or (no answers) unanswerable."""
    try:
        raw = json.loads(line)
        answers = tuple(str(a) for a in raw.get("answers") or ())
        kind = raw.get("kind") or ""
        if not isinstance(kind, str):
            raise TypeError(f"kind must be a word, not {kind!r}")
        if raw.get("is_impossible") or not answers:
            return EvalItem(
                id=str(raw["id"]),
                question=str(raw["question"]),
                category="unanswerable",
                doc=str(raw.get("doc") or ""),
                kind=kind,
            )
        item = EvalItem(
            id=str(raw["id"]),
            question=str(raw["question"]),
            category="dataset",
            answers=answers,
            doc=str(raw["doc"]),
            answer_start=int(raw["answer_start"]),
            kind=kind,
        )
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(
            f"{where} is not a data set question ({type(exc).__name__}: {exc}): it needs "
            "id, question, answers, doc and answer_start (answers [] for an unanswerable one)"
        ) from None
    if not item.answers[0]:
        raise InputError(f"{where} has an empty gold answer: give its text, or [] if none")
    return item
