"""Check evals/squadlike2: every gold span lies at its offset, every kind is known.

Run: `.venv/bin/python evals/squadlike2/validate.py` (exit 0 and a count line when sound,
exit 1 with one line per problem otherwise). It reads only this folder; the checks are
evals/probe_check.py's, with no counts asked of this set.

Example: the line {"id": "x-01", "answers": ["1872"], "doc": "x.txt", "answer_start": 5, ...}
is sound when docs/x.txt holds "1872" at characters 5..9.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from probe_check import Layout, main

__all__ = ["LAYOUT"]

# The set predates the count checks: only each line is checked.
LAYOUT = Layout()

if __name__ == "__main__":
    sys.exit(main(Path(__file__).resolve().parent, LAYOUT))
