"""Check evals/seed_blind20.yaml against the seed article, without running the assistant.

Usage:
    .venv/bin/python evals/seed_blind20_check.py [evals/seed_blind20.yaml]

The checks are evals/seed_blind_check.py's (facts and quoted turns verbatim in the article,
ids, categories, histories, no thresholds in a held-out set's header), run with this set's
RULES and its planned counts (EXPECTED, WITH_HISTORY); failures are printed one per line
(exit status 1), then the number of items per category.
"""

from __future__ import annotations

import sys

from seed_blind_check import Rules, main

__all__ = ["EXPECTED", "RULES", "WITH_HISTORY"]

# The plan: 16 single-turn paraphrases; 20 unanswerable (12 single-turn adversarial, 2
# off-topic, 6 follow-ups); 24 answerable follow-ups with 1-4 earlier exchanges (30 with a
# history).
EXPECTED = {"paraphrase": 16, "unanswerable": 20, "followup": 24}
WITH_HISTORY = {"followup": 24, "unanswerable": 6}
RULES = Rules(
    held_out=True,  # written blind on 2026-12-02: see seed_blind20.md
    strict_history=True,
    quote_parts=True,
    expected=tuple(EXPECTED.items()),
    with_history=tuple(WITH_HISTORY.items()),
)

if __name__ == "__main__":
    sys.exit(main(sys.argv, RULES, "seed_blind20.yaml"))
