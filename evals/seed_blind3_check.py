"""Check evals/seed_blind3.yaml against the seed article, without running the assistant.

Usage:
    .venv/bin/python evals/seed_blind3_check.py [evals/seed_blind3.yaml]

The checks are evals/seed_blind_check.py's (facts and quoted turns verbatim in the article,
ids, categories, histories; a development set since session 14, so thresholds may be set),
run with this set's RULES and its planned counts (EXPECTED, WITH_HISTORY); failures are
printed one per line (exit status 1), then the number of items per category.
"""

from __future__ import annotations

import sys

from seed_blind_check import Rules, main

__all__ = ["EXPECTED", "RULES", "WITH_HISTORY"]

# The plan: 38 items with a history (30 followups, 8 unanswerable ones) and 12 single-turn
# chat-typed paraphrases.
EXPECTED = {"paraphrase": 12, "followup": 30, "unanswerable": 8}
WITH_HISTORY = {"followup": 30, "unanswerable": 8}
RULES = Rules(
    held_out=False,  # a development set, gated in CI, since session 14
    strict_history=True,
    quote_parts=True,
    expected=tuple(EXPECTED.items()),
    with_history=tuple(WITH_HISTORY.items()),
)

if __name__ == "__main__":
    sys.exit(main(sys.argv, RULES, "seed_blind3.yaml"))
