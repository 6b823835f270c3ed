"""Check evals/seed_blind2.yaml against the seed article, without running the assistant.

Usage:
    .venv/bin/python evals/seed_blind2_check.py [evals/seed_blind2.yaml]

Checks, each failure printed on its own line (exit status 1 if any):
- every fact alternative is a verbatim, case-insensitive substring of the article;
- every quoted assistant turn in a history is too, each stretch between "[n]" citation marks
  on its own; a refusal ("The documents don't say ...") quotes nothing and is not checked;
- ids are unique, categories known, unanswerable items list no facts, the others do and name
  the article as their source, followups carry a history of alternating user/assistant turns
  ending on an assistant turn, paraphrase and fact items carry none;
- the header has no thresholds (the set is held out);
- the counts match the plan (EXPECTED, WITH_HISTORY).
Then prints the number of items per category.

Example: a fact ["$8 billion", "8 billion"] passes because the article says
"invested around $8 billion"; ["$9 billion"] would be reported.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

__all__ = ["CATEGORIES", "EXPECTED", "WITH_HISTORY", "check", "main", "quoted_parts"]

CATEGORIES = ("fact", "paraphrase", "synthesis", "followup", "unanswerable", "collection")
ARTICLE = "amazon-anthropic-investment.txt"
# The plan: 24 items with a history (21 followups, 3 unanswerable ones), 16 paraphrases,
# 12 single-turn unanswerable questions and 8 facts.
EXPECTED = {"fact": 8, "paraphrase": 16, "followup": 21, "unanswerable": 15}
WITH_HISTORY = {"followup": 21, "unanswerable": 3}
_CITATION = re.compile(r"\s*\[\d+\]")
_REFUSAL = "the documents don't say"


def _alternatives(fact: Any) -> list[str]:
    """A fact is one string or a list of alternative strings."""
    return [fact] if isinstance(fact, str) else list(fact)


def quoted_parts(answer: str) -> list[str]:
    """The stretches of a cited answer that must be verbatim in the article; none for a refusal.

    Example: quoted_parts("A b. [1] C d. [2]") -> ["A b.", "C d."];
    quoted_parts("The documents don't say when.") -> []
    """
    if answer.strip().lower().startswith(_REFUSAL):
        return []
    return [part.strip() for part in _CITATION.split(answer) if part.strip()]


def _check_history(qid: str, category: Any, history: list[Any], text: str) -> list[str]:
    """The problems of one item's earlier turns."""
    problems: list[str] = []
    if category == "followup" and not history:
        problems.append(f"{qid}: followup without history")
    if category in ("fact", "paraphrase") and history:
        problems.append(f"{qid}: a {category} item carries a history")
    if history and history[-1].get("role") != "assistant":
        problems.append(f"{qid}: history should end on an assistant turn")
    for i, turn in enumerate(history):
        role = turn.get("role")
        if role != ("user", "assistant")[i % 2]:
            problems.append(f"{qid}: history turn {i} has role {role!r}")
        if not str(turn.get("content") or "").strip():
            problems.append(f"{qid}: history turn {i} is empty")
        if role == "assistant":
            for part in quoted_parts(str(turn.get("content"))):
                if part.lower() not in text:
                    problems.append(f"{qid}: assistant turn {i} does not quote the article")
    return problems


def check(data: dict[str, Any], article: str) -> tuple[list[str], Counter[str]]:
    """The problems found in a loaded set, and its items counted per category.

    Example: check({"questions": [{"id": "a", "category": "fact", "question": "q",
    "facts": [["Claude"]], "sources": [ARTICLE]}]}, "... Claude ...")
    -> (["counts: ..."], {"fact": 1})   (only the plan's counts fail)
    """
    text = article.lower()
    problems: list[str] = []
    if "thresholds" in data:
        problems.append("header: a held-out set has no thresholds")
    counts: Counter[str] = Counter()
    with_history: Counter[str] = Counter()
    seen: set[str] = set()
    for item in data.get("questions") or ():
        qid = str(item.get("id"))
        if qid in seen:
            problems.append(f"{qid}: id used twice")
        seen.add(qid)
        category = item.get("category")
        counts[str(category)] += 1
        if category not in CATEGORIES:
            problems.append(f"{qid}: unknown category {category!r}")
        if not str(item.get("question") or "").strip():
            problems.append(f"{qid}: no question")
        facts = item.get("facts") or []
        if category == "unanswerable":
            if facts:
                problems.append(f"{qid}: unanswerable but lists facts")
        else:
            if not facts:
                problems.append(f"{qid}: lists no facts")
            if item.get("sources") != [ARTICLE]:
                problems.append(f"{qid}: sources should be [{ARTICLE}]")
        for fact in facts:
            for alt in _alternatives(fact):
                if str(alt).lower() not in text:
                    problems.append(f"{qid}: fact {alt!r} is not in the article")
        history = item.get("history") or []
        if history:
            with_history[str(category)] += 1
        problems.extend(_check_history(qid, category, history, text))
    if dict(counts) != EXPECTED:
        problems.append(f"counts: {dict(counts)}, planned {EXPECTED}")
    if dict(with_history) != WITH_HISTORY:
        problems.append(f"with history: {dict(with_history)}, planned {WITH_HISTORY}")
    return problems, counts


def _order(category: str) -> int:
    """Known categories in their usual order, unknown ones last."""
    return CATEGORIES.index(category) if category in CATEGORIES else len(CATEGORIES)


def main(argv: list[str]) -> int:
    path = Path(argv[1] if len(argv) > 1 else Path(__file__).with_name("seed_blind2.yaml"))
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    article_path = (path.parent / str(data.get("documents", "../seeds")) / ARTICLE).resolve()
    problems, counts = check(data, article_path.read_text(encoding="utf-8"))
    for problem in problems:
        print(problem)
    for category, count in sorted(counts.items(), key=lambda kv: _order(kv[0])):
        print(f"{category}: {count}")
    print(f"total: {sum(counts.values())}, problems: {len(problems)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
