"""Check evals/squadlike18: gold spans at their offsets, kinds known, ids unique, counts.

Run: `.venv/bin/python evals/squadlike18/validate.py` (exit 0 and a count line when sound,
exit 1 with one line per problem otherwise). It reads only this folder; the checks are
evals/probe_check.py's, with this set's LAYOUT.

Besides each line (evals/probe_check.py has a worked example), the set as a whole must have
LAYOUT.docs passages (8 articles of 5 paragraphs), LAYOUT.per_doc questions on every passage
(LAYOUT.answerable_per_doc of them answerable), LAYOUT.per_kind questions of each unanswerable
kind, no document without questions, and 1-3 gold answers of at most LAYOUT.max_words words
each.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from probe_check import Layout, main

__all__ = ["LAYOUT"]

# The layout the set was written to (README.md): 40 passages (8 articles x 5 paragraphs),
# 7 questions a passage, 4 of them answerable, 24 of each unanswerable kind, and short
# SQuAD-like gold spans.
LAYOUT = Layout(docs=40, per_doc=7, answerable_per_doc=4, per_kind=24, max_answers=3, max_words=6)

if __name__ == "__main__":
    sys.exit(main(Path(__file__).resolve().parent, LAYOUT))
