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
- the header's thresholds, if any, are numbers (held out until session 13, gated since);
- the counts match the plan (EXPECTED, WITH_HISTORY).
Then prints the number of items per category.

The checks are evals/seed_blind_check.py's, run with this set's RULES.

Example: a fact ["$8 billion", "8 billion"] passes because the article says
"invested around $8 billion"; ["$9 billion"] would be reported.
"""

from __future__ import annotations

import sys

from seed_blind_check import Rules, main

__all__ = ["EXPECTED", "RULES", "WITH_HISTORY"]

# The plan: 24 items with a history (21 followups, 3 unanswerable ones), 16 paraphrases,
# 12 single-turn unanswerable questions and 8 facts.
EXPECTED = {"fact": 8, "paraphrase": 16, "followup": 21, "unanswerable": 15}
WITH_HISTORY = {"followup": 21, "unanswerable": 3}
RULES = Rules(
    held_out=False,  # gated in CI since session 13
    strict_history=True,
    quote_parts=True,
    expected=tuple(EXPECTED.items()),
    with_history=tuple(WITH_HISTORY.items()),
)

if __name__ == "__main__":
    sys.exit(main(sys.argv, RULES, "seed_blind2.yaml"))
