"""Check evals/seed_blind3.yaml against the seed article, without running the assistant.

Usage:
    .venv/bin/python evals/seed_blind3_check.py [evals/seed_blind3.yaml]

Checks, each failure printed on its own line (exit status 1 if any):
- every fact alternative is a verbatim, case-insensitive substring of the article;
- every quoted assistant turn in a history is too, each stretch between "[n]" citation marks
  on its own; a refusal ("The documents don't say ...") quotes nothing and is not checked;
- ids are unique, categories known, unanswerable items list no facts, the others do and name
  the article as their source, followups carry a history of alternating user/assistant turns
  ending on an assistant turn, paraphrase items carry none;
- the header has no thresholds (the set is held out);
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

# The plan: 38 items with a history (30 followups, 8 unanswerable ones) and 12 single-turn
# chat-typed paraphrases.
EXPECTED = {"paraphrase": 12, "followup": 30, "unanswerable": 8}
WITH_HISTORY = {"followup": 30, "unanswerable": 8}
RULES = Rules(
    held_out=True,
    strict_history=True,
    quote_parts=True,
    expected=tuple(EXPECTED.items()),
    with_history=tuple(WITH_HISTORY.items()),
)

if __name__ == "__main__":
    sys.exit(main(sys.argv, RULES, "seed_blind3.yaml"))
