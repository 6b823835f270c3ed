"""Check evals/seed_blind8.yaml against the seed article, without running the assistant.

Usage:
    .venv/bin/python evals/seed_blind8_check.py [evals/seed_blind8.yaml]

The checks are evals/seed_blind_check.py's (facts and quoted turns verbatim in the article,
ids, categories, histories, thresholds if any are numbers), run with this set's RULES and its
planned counts (EXPECTED, WITH_HISTORY); failures are printed one per line (exit status 1),
then the number of items per category. The set was written blind in session 16 but is a
development set from the start (read by the lead), so it is not held out: see seed_blind8.md.

Example: the fact ["custom chips"] passes (the article says "including custom chips"); an
assistant turn "Amazon holds less leverage. [1]" passes; ["$9 billion"] would be reported.
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
    held_out=False,  # a development set from the start (session 16): see seed_blind8.md
    strict_history=True,
    quote_parts=True,
    expected=tuple(EXPECTED.items()),
    with_history=tuple(WITH_HISTORY.items()),
)

if __name__ == "__main__":
    sys.exit(main(sys.argv, RULES, "seed_blind8.yaml"))
