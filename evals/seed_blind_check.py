"""Check evals/seed_blind.yaml against the seed article, without running the assistant.

Usage:
    .venv/bin/python evals/seed_blind_check.py [evals/seed_blind.yaml]

Checks, each failure printed on its own line (exit status 1 if any):
- every fact alternative is a verbatim, case-insensitive substring of the article;
- every quoted assistant turn in a history (less its "[n]" citation marks) is too;
- ids are unique, categories known, unanswerable items list no facts, the others do,
  followups carry a history of alternating user/assistant turns, sources name the article;
- the header's thresholds, if any, are numbers (the set was held out until session 13, and
  is gated in CI since).
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

__all__ = ["CATEGORIES", "check", "main"]

CATEGORIES = ("fact", "paraphrase", "synthesis", "followup", "unanswerable", "collection")
ARTICLE = "amazon-anthropic-investment.txt"
_CITATION = re.compile(r"\s*\[\d+\]")


def _alternatives(fact: Any) -> list[str]:
    """A fact is one string or a list of alternative strings."""
    return [fact] if isinstance(fact, str) else list(fact)


def check(data: dict[str, Any], article: str) -> tuple[list[str], Counter[str]]:
    """The problems found in a loaded set, and its items counted per category.

    Example: check({"questions": [{"id": "a", "category": "fact", "question": "q",
    "facts": [["Claude"]], "sources": [ARTICLE]}]}, "... Claude ...") -> ([], {"fact": 1})
    """
    text = article.lower()
    problems: list[str] = []
    thresholds = data.get("thresholds") or {}
    if not isinstance(thresholds, dict) or not all(
        isinstance(v, int | float) for v in thresholds.values()
    ):
        problems.append("header: thresholds must map metric names to numbers")
    counts: Counter[str] = Counter()
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
        if category == "followup" and not history:
            problems.append(f"{qid}: followup without history")
        for i, turn in enumerate(history):
            role = turn.get("role")
            if role != ("user", "assistant")[i % 2]:
                problems.append(f"{qid}: history turn {i} has role {role!r}")
            if role == "assistant":
                quoted = _CITATION.sub("", str(turn.get("content"))).strip()
                if quoted.lower() not in text:
                    problems.append(f"{qid}: assistant turn {i} does not quote the article")
    return problems, counts


def _order(category: str) -> int:
    """Known categories in their usual order, unknown ones last."""
    return CATEGORIES.index(category) if category in CATEGORIES else len(CATEGORIES)


def main(argv: list[str]) -> int:
    path = Path(argv[1] if len(argv) > 1 else Path(__file__).with_name("seed_blind.yaml"))
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
