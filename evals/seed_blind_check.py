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

The checker is shared: evals/seed_blind2_check.py runs it with that set's stricter Rules
(SEED_BLIND is this set's).

Example: a fact ["$8 billion", "8 billion"] passes because the article says
"invested around $8 billion"; ["$9 billion"] would be reported.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = ["CATEGORIES", "SEED_BLIND", "Rules", "check", "main", "quoted_parts"]

CATEGORIES = ("fact", "paraphrase", "synthesis", "followup", "unanswerable", "collection")
ARTICLE = "amazon-anthropic-investment.txt"
_CITATION = re.compile(r"\s*\[\d+\]")
_REFUSAL = "the documents don't say"


@dataclass(frozen=True, slots=True)
class Rules:
    """What one set asks beyond the checks every set gets.

    held_out: the header has no thresholds (otherwise: thresholds, if any, are numbers).
    strict_history: fact and paraphrase items carry no history, a history ends on an assistant
    turn and has no empty turn. quote_parts: each stretch of an assistant turn between "[n]"
    marks is checked on its own, and a refusal not at all (otherwise: the whole turn less its
    marks). expected, with_history: the planned items per category, in all and with a history,
    as (category, count) pairs; None: not checked.
    Example: Rules() is seed_blind.yaml's; Rules(held_out=True, expected=(("fact", 8),)).
    """

    held_out: bool = False
    strict_history: bool = False
    quote_parts: bool = False
    expected: tuple[tuple[str, int], ...] | None = None
    with_history: tuple[tuple[str, int], ...] | None = None


SEED_BLIND = Rules()


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


def _check_history(
    qid: str, category: Any, history: list[Any], text: str, rules: Rules
) -> list[str]:
    """The problems of one item's earlier turns."""
    problems: list[str] = []
    if category == "followup" and not history:
        problems.append(f"{qid}: followup without history")
    if rules.strict_history:
        if category in ("fact", "paraphrase") and history:
            problems.append(f"{qid}: a {category} item carries a history")
        if history and history[-1].get("role") != "assistant":
            problems.append(f"{qid}: history should end on an assistant turn")
    for i, turn in enumerate(history):
        role = turn.get("role")
        if role != ("user", "assistant")[i % 2]:
            problems.append(f"{qid}: history turn {i} has role {role!r}")
        if rules.strict_history and not str(turn.get("content") or "").strip():
            problems.append(f"{qid}: history turn {i} is empty")
        if role == "assistant":
            content = str(turn.get("content"))
            parts = (
                quoted_parts(content) if rules.quote_parts else [_CITATION.sub("", content).strip()]
            )
            problems += [
                f"{qid}: assistant turn {i} does not quote the article"
                for part in parts
                if part.lower() not in text
            ]
    return problems


def check(
    data: dict[str, Any], article: str, rules: Rules = SEED_BLIND
) -> tuple[list[str], Counter[str]]:
    """The problems found in a loaded set, and its items counted per category.

    Example: check({"questions": [{"id": "a", "category": "fact", "question": "q",
    "facts": [["Claude"]], "sources": [ARTICLE]}]}, "... Claude ...") -> ([], {"fact": 1})
    """
    text = article.lower()
    problems: list[str] = []
    if rules.held_out:
        if "thresholds" in data:
            problems.append("header: a held-out set has no thresholds")
    else:
        thresholds = data.get("thresholds") or {}
        if not isinstance(thresholds, dict) or not all(
            isinstance(v, int | float) for v in thresholds.values()
        ):
            problems.append("header: thresholds must map metric names to numbers")
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
        problems.extend(_check_history(qid, category, history, text, rules))
    if rules.expected is not None and dict(counts) != dict(rules.expected):
        problems.append(f"counts: {dict(counts)}, planned {dict(rules.expected)}")
    if rules.with_history is not None and dict(with_history) != dict(rules.with_history):
        problems.append(f"with history: {dict(with_history)}, planned {dict(rules.with_history)}")
    return problems, counts


def _order(category: str) -> int:
    """Known categories in their usual order, unknown ones last."""
    return CATEGORIES.index(category) if category in CATEGORIES else len(CATEGORIES)


def main(argv: list[str], rules: Rules = SEED_BLIND, default: str = "seed_blind.yaml") -> int:
    """Check the YAML named in argv[1] (default: the file `default` next to this one)."""
    path = Path(argv[1] if len(argv) > 1 else Path(__file__).with_name(default))
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    article_path = (path.parent / str(data.get("documents", "../seeds")) / ARTICLE).resolve()
    problems, counts = check(data, article_path.read_text(encoding="utf-8"), rules)
    for problem in problems:
        print(problem)
    for category, count in sorted(counts.items(), key=lambda kv: _order(kv[0])):
        print(f"{category}: {count}")
    print(f"total: {sum(counts.values())}, problems: {len(problems)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
