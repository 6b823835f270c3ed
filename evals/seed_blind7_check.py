"""Check evals/seed_blind7.yaml against the seed article, without running the assistant.

Usage:
    .venv/bin/python evals/seed_blind7_check.py [evals/seed_blind7.yaml]

The checks are evals/seed_blind_check.py's (facts and quoted turns verbatim in the article,
ids, categories, histories, no thresholds while held out), run with this set's RULES and its
planned counts (EXPECTED, WITH_HISTORY); failures are printed one per line (exit status 1),
then the number of items per category.
"""

from __future__ import annotations

import sys

from seed_blind_check import Rules, main

__all__ = ["EXPECTED", "RULES", "WITH_HISTORY"]

# The plan: 14 single-turn paraphrases, 12 single-turn unanswerable questions, 26 followups
# with 1-4 earlier exchanges and 8 unanswerable followups (so 34 items with a history).
EXPECTED = {"paraphrase": 14, "unanswerable": 20, "followup": 26}
WITH_HISTORY = {"followup": 26, "unanswerable": 8}
RULES = Rules(
    held_out=False,  # written in session 16, held out until read in session 17 (seed_blind7.md)
    strict_history=True,
    quote_parts=True,
    expected=tuple(EXPECTED.items()),
    with_history=tuple(WITH_HISTORY.items()),
)

if __name__ == "__main__":
    sys.exit(main(sys.argv, RULES, "seed_blind7.yaml"))
