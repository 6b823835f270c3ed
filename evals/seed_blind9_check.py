"""Check evals/seed_blind9.yaml against the seed article, without running the assistant.

Usage:
    .venv/bin/python evals/seed_blind9_check.py [evals/seed_blind9.yaml]

The checks are evals/seed_blind_check.py's (facts and quoted turns verbatim in the article,
ids, categories, histories, thresholds if any are numbers), run with this set's RULES and its
planned counts (EXPECTED, WITH_HISTORY); failures are printed one per line (exit status 1),
then the number of items per category.
"""

from __future__ import annotations

import sys

from seed_blind_check import Rules, main

__all__ = ["EXPECTED", "RULES", "WITH_HISTORY"]

# The plan: 26 single-turn paraphrases, 20 single-turn unanswerable questions (3 off-topic),
# 10 followups with 1-2 earlier exchanges and 4 unanswerable followups (14 with a history).
EXPECTED = {"paraphrase": 26, "unanswerable": 24, "followup": 10}
WITH_HISTORY = {"followup": 10, "unanswerable": 4}
RULES = Rules(
    held_out=False,  # a development set from the start, read by the lead: see seed_blind9.md
    strict_history=True,
    quote_parts=True,
    expected=tuple(EXPECTED.items()),
    with_history=tuple(WITH_HISTORY.items()),
)

if __name__ == "__main__":
    sys.exit(main(sys.argv, RULES, "seed_blind9.yaml"))
