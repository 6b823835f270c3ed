"""Check evals/squadlike: every gold answer is a span of its passage, offsets are right.

Run: ``python evals/squadlike/validate.py`` (exit status 1 and one line per fault if not).
For example, an item {"answers": ["Szeged"], "doc": "helena-varga.txt", "answer_start": 142}
passes only when the passage's characters 142..148 read "Szeged".
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

__all__ = ["KINDS", "faults"]

KINDS = ("answerable", "swap_entity", "negation", "antonym", "absent_attribute", "swap_number")
HERE = Path(__file__).resolve().parent


def faults(folder: Path = HERE) -> list[str]:
    """Every problem found in the set's questions.jsonl, as readable lines (none: valid)."""
    found: list[str] = []
    ids: set[str] = set()
    for number, line in enumerate((folder / "questions.jsonl").read_text("utf-8").splitlines(), 1):
        item = json.loads(line)
        where = f"line {number} ({item.get('id')})"
        if item["id"] in ids:
            found.append(f"{where}: duplicate id")
        ids.add(item["id"])
        doc = folder / "docs" / item["doc"]
        if not doc.is_file():
            found.append(f"{where}: no document {item['doc']}")
            continue
        text = doc.read_text("utf-8")
        answers, kind, start = item["answers"], item["kind"], item["answer_start"]
        if kind not in KINDS:
            found.append(f"{where}: unknown kind {kind!r}")
        if (kind == "answerable") != bool(answers):
            found.append(f"{where}: kind {kind} with {len(answers)} answers")
        if answers and text[start : start + len(answers[0])] != answers[0]:
            found.append(f"{where}: {answers[0]!r} is not at offset {start}")
        found.extend(f"{where}: {a!r} not in the passage" for a in answers if a not in text)
    return found


if __name__ == "__main__":
    problems = faults()
    print("\n".join(problems) or "ok")
    sys.exit(1 if problems else 0)
