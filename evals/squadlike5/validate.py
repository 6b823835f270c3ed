"""Check evals/squadlike5: gold spans at their offsets, kinds known, ids unique, counts.

Run: `.venv/bin/python evals/squadlike5/validate.py` (exit 0 and a count line when sound,
exit 1 with one line per problem otherwise). It reads only this folder.

Example: the line {"id": "x-01", "answers": ["1872"], "doc": "x.txt", "answer_start": 5, ...}
is sound when docs/x.txt holds "1872" at characters 5..9. Besides each line, the set as a whole
must have DOCS passages (8 articles of 5 paragraphs), PER_DOC questions on every passage
(ANSWERABLE_PER_DOC of them answerable), PER_UNANSWERABLE_KIND questions of each unanswerable
kind, no document without questions, and 1-3 gold answers of at most MAX_SPAN_WORDS words each.
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ANSWERABLE_PER_DOC",
    "DOCS",
    "KINDS",
    "MAX_SPAN_WORDS",
    "PER_DOC",
    "PER_UNANSWERABLE_KIND",
    "UNANSWERABLE_KINDS",
    "Problem",
    "check_counts",
    "check_item",
    "main",
    "validate",
]

UNANSWERABLE_KINDS = ("swap_entity", "negation", "antonym", "absent_attribute", "swap_number")
KINDS = ("answerable", *UNANSWERABLE_KINDS)
FOLDER = Path(__file__).resolve().parent
# The layout the set was written to (README.md): 40 passages (8 articles x 5 paragraphs),
# 7 questions a passage, 4 of them answerable, 24 of each unanswerable kind, and short
# SQuAD-like gold spans.
DOCS = 40
PER_DOC = 7
ANSWERABLE_PER_DOC = 4
PER_UNANSWERABLE_KIND = 24
MAX_SPAN_WORDS = 6


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one line of questions.jsonl (line 0: with the set as a whole)."""

    line: int
    message: str

    def __str__(self) -> str:
        where = f"questions.jsonl:{self.line}" if self.line else "questions.jsonl"
        return f"{where}: {self.message}"


def check_item(item: dict[str, object], docs: dict[str, str]) -> list[str]:
    """What is wrong with one question (empty when sound); docs maps file name to its text.

    Example: check_item({"id": "a-01", "question": "When?", "answers": ["1872"],
    "doc": "a.txt", "answer_start": 0, "kind": "answerable"}, {"a.txt": "1872 ..."}) -> []
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
        if len(answers) > 3:
            problems.append(f"{len(answers)} gold answers: give at most 3")
        problems += [
            f"gold {a!r} is longer than {MAX_SPAN_WORDS} words"
            for a in answers
            if len(a.split()) > MAX_SPAN_WORDS
        ]
    elif answers or start != 0:
        problems.append(f"an unanswerable ({kind}) question needs answers [] and answer_start 0")
    return problems


def validate(folder: Path = FOLDER) -> tuple[list[Problem], Counter[str]]:
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
        problems += [Problem(number, m) for m in check_item(item, docs)]
        qid = str(item.get("id"))
        if qid in ids:
            problems.append(Problem(number, f"duplicate id {qid}"))
        ids.add(qid)
        kinds[str(item.get("kind"))] += 1
        per_doc[str(item.get("doc"))].append(str(item.get("kind")))
    problems += [Problem(0, m) for m in check_counts(per_doc, sorted(docs))]
    if len(docs) != DOCS:
        problems.append(Problem(0, f"{len(docs)} documents in docs/ (want {DOCS})"))
    problems += [
        Problem(0, f"{kinds[k]} {k} questions (want {PER_UNANSWERABLE_KIND})")
        for k in UNANSWERABLE_KINDS
        if kinds[k] != PER_UNANSWERABLE_KIND
    ]
    return problems, kinds


def check_counts(per_doc: dict[str, list[str]], doc_names: list[str]) -> list[str]:
    """What is wrong with how the questions spread over the passages (empty when sound).

    per_doc maps a document name to the kinds of its questions, in file order.
    Example: check_counts({"a.txt": ["answerable"] * 4 + ["negation"] * 3}, ["a.txt"]) -> []
    """
    problems = [f"docs/{name} has no questions" for name in doc_names if name not in per_doc]
    for name, kinds in sorted(per_doc.items()):
        answerable = kinds.count("answerable")
        if len(kinds) != PER_DOC or answerable != ANSWERABLE_PER_DOC:
            problems.append(
                f"docs/{name}: {len(kinds)} questions, {answerable} answerable "
                f"(want {PER_DOC}, {ANSWERABLE_PER_DOC})"
            )
    return problems


def main() -> int:
    problems, kinds = validate()
    for problem in problems:
        print(problem)
    total = sum(kinds.values())
    print(f"{total} questions: " + ", ".join(f"{k} {kinds[k]}" for k in KINDS))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
