"""The checks shared by the SQuAD-style probe sets' validate.py (evals/squadlike2..5).

Each set's validate.py holds only its Layout (the counts it was written to) and calls main();
this module reads the set's questions.jsonl and docs/, and reports each problem on its own
line, then a count line. Exit status 0 when sound, 1 otherwise.

Example: the line {"id": "x-01", "answers": ["1872"], "doc": "x.txt", "answer_start": 5, ...}
is sound when docs/x.txt holds "1872" at characters 5..9. A Layout may also ask for a number
of questions on every passage (some of them answerable), a number of passages, a number of
questions of each unanswerable kind, and at most so many gold answers of so many words.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "KINDS",
    "UNANSWERABLE_KINDS",
    "Layout",
    "Problem",
    "check_counts",
    "check_item",
    "main",
    "validate",
]

UNANSWERABLE_KINDS = ("swap_entity", "negation", "antonym", "absent_attribute", "swap_number")
KINDS = ("answerable", *UNANSWERABLE_KINDS)


@dataclass(frozen=True, slots=True)
class Layout:
    """The counts a set was written to (its README.md); None: that count is not checked.

    docs: passages in docs/. per_doc and answerable_per_doc go together: every passage has
    per_doc questions, answerable_per_doc of them answerable. per_kind: questions of each
    unanswerable kind. max_answers, max_words: gold answers an answerable question may have,
    and words a gold answer may have.
    Example: Layout(per_doc=7, answerable_per_doc=4, max_answers=3, max_words=6).
    """

    per_doc: int | None = None
    answerable_per_doc: int | None = None
    max_answers: int | None = None
    max_words: int | None = None
    docs: int | None = None
    per_kind: int | None = None

    def __post_init__(self) -> None:
        if (self.per_doc is None) != (self.answerable_per_doc is None):
            raise ValueError("per_doc and answerable_per_doc are given together")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one line of questions.jsonl (line 0: with the set as a whole).

    Example: str(Problem(3, "duplicate id a-01")) -> "questions.jsonl:3: duplicate id a-01"
    """

    line: int
    message: str

    def __str__(self) -> str:
        where = f"questions.jsonl:{self.line}" if self.line else "questions.jsonl"
        return f"{where}: {self.message}"


def check_item(item: dict[str, object], docs: dict[str, str], layout: Layout) -> list[str]:
    """What is wrong with one question (empty when sound); docs maps file name to its text.

    Example: check_item({"id": "a-01", "question": "When?", "answers": ["1872"],
    "doc": "a.txt", "answer_start": 0, "kind": "answerable"}, {"a.txt": "1872 ..."},
    Layout()) -> []; with "answer_start": 1 -> ["gold '1872' is not at offset 1"]
    """
    problems: list[str] = []
    for key in ("id", "question", "doc", "kind"):
        if not isinstance(item.get(key), str) or not item.get(key):
            problems.append(f"{key} must be a non-empty string")
    answers, start, kind = item.get("answers"), item.get("answer_start"), item.get("kind")
    if not isinstance(answers, list) or not all(isinstance(a, str) and a for a in answers):
        return [*problems, "answers must be a list of non-empty strings"]
    if not isinstance(start, int) or isinstance(start, bool):
        return [*problems, "answer_start must be an integer"]
    if kind not in KINDS:
        problems.append(f"unknown kind {kind!r}: use one of {', '.join(KINDS)}")
    text = docs.get(str(item.get("doc")))
    if text is None:
        return [*problems, f"no document docs/{item.get('doc')}"]
    if kind == "answerable":
        if not answers:
            problems.append("an answerable question needs at least one gold answer")
        elif text[start : start + len(answers[0])] != answers[0]:
            problems.append(f"gold {answers[0]!r} is not at offset {start}")
        problems += [f"gold {a!r} is not in the document" for a in answers[1:] if a not in text]
        if layout.max_answers is not None and len(answers) > layout.max_answers:
            problems.append(f"{len(answers)} gold answers: give at most {layout.max_answers}")
        if layout.max_words is not None:
            problems += [
                f"gold {a!r} is longer than {layout.max_words} words"
                for a in answers
                if len(a.split()) > layout.max_words
            ]
    elif answers or start != 0:
        problems.append(f"an unanswerable ({kind}) question needs answers [] and answer_start 0")
    return problems


def check_counts(per_doc: dict[str, list[str]], doc_names: list[str], layout: Layout) -> list[str]:
    """What is wrong with how the questions spread over the passages (empty when sound).

    per_doc maps a document name to the kinds of its questions, in file order; nothing is
    checked when the layout gives no per_doc.
    Example: check_counts({"a.txt": ["answerable"] * 4 + ["negation"] * 3}, ["a.txt"],
    Layout(per_doc=7, answerable_per_doc=4)) -> []
    """
    if layout.per_doc is None:
        return []
    problems = [f"docs/{name} has no questions" for name in doc_names if name not in per_doc]
    for name, kinds in sorted(per_doc.items()):
        answerable = kinds.count("answerable")
        if len(kinds) != layout.per_doc or answerable != layout.answerable_per_doc:
            problems.append(
                f"docs/{name}: {len(kinds)} questions, {answerable} answerable "
                f"(want {layout.per_doc}, {layout.answerable_per_doc})"
            )
    return problems


def validate(folder: Path, layout: Layout) -> tuple[list[Problem], Counter[str]]:
    """The problems in folder's questions.jsonl, and how many questions of each kind."""
    docs = {p.name: p.read_text(encoding="utf-8") for p in sorted((folder / "docs").glob("*.txt"))}
    problems: list[Problem] = []
    kinds: Counter[str] = Counter()
    ids: set[str] = set()
    per_doc: defaultdict[str, list[str]] = defaultdict(list)
    lines = (folder / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(Problem(number, f"not JSON ({exc})"))
            continue
        if not isinstance(item, dict):
            problems.append(Problem(number, "not a JSON object"))
            continue
        problems += [Problem(number, m) for m in check_item(item, docs, layout)]
        qid = str(item.get("id"))
        if qid in ids:
            problems.append(Problem(number, f"duplicate id {qid}"))
        ids.add(qid)
        kinds[str(item.get("kind"))] += 1
        per_doc[str(item.get("doc"))].append(str(item.get("kind")))
    problems += [Problem(0, m) for m in check_counts(per_doc, sorted(docs), layout)]
    if layout.docs is not None and len(docs) != layout.docs:
        problems.append(Problem(0, f"{len(docs)} documents in docs/ (want {layout.docs})"))
    if layout.per_kind is not None:
        want = layout.per_kind
        problems += [
            Problem(0, f"{kinds[k]} {k} questions (want {want})")
            for k in UNANSWERABLE_KINDS
            if kinds[k] != want
        ]
    return problems, kinds


def main(folder: Path, layout: Layout) -> int:
    """Print folder's problems and its count line; the exit status (1: some problem)."""
    problems, kinds = validate(folder, layout)
    for problem in problems:
        print(problem)
    total = sum(kinds.values())
    print(f"{total} questions: " + ", ".join(f"{k} {kinds[k]}" for k in KINDS))
    return 1 if problems else 0
