"""Check evals/seed_blind5.yaml against the seed article, without running the assistant.

Usage:
    .venv/bin/python evals/seed_blind5_check.py [evals/seed_blind5.yaml]

The checks are evals/seed_blind_check.py's (facts and quoted turns verbatim in the article,
ids, categories, histories, no thresholds while held out), run with this set's RULES and its
planned counts (EXPECTED, WITH_HISTORY); failures are printed one per line (exit status 1),
then the number of items per category.
"""

from __future__ import annotations

import sys

from seed_blind_check import Rules, main

__all__ = ["EXPECTED", "RULES", "WITH_HISTORY"]

# The plan: 16 single-turn paraphrases, 12 single-turn unanswerable questions, 24 followups
# with 1-4 earlier turns and 8 unanswerable followups (so 32 items with a history).
EXPECTED = {"paraphrase": 16, "unanswerable": 20, "followup": 24}
WITH_HISTORY = {"followup": 24, "unanswerable": 8}
RULES = Rules(
    held_out=False,  # a development set, gated in CI, since session 15's midway
    strict_history=True,
    quote_parts=True,
    expected=tuple(EXPECTED.items()),
    with_history=tuple(WITH_HISTORY.items()),
)

if __name__ == "__main__":
    sys.exit(main(sys.argv, RULES, "seed_blind5.yaml"))
