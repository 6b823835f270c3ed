"""Questions turned around by a "not" or an opposite, on one half of issue 10's refusal sets.

    python evals/negation_report.py --half confirm

A reading-comprehension set's unanswerable questions are often an answerable question with
a "not" put in ("What is not the main cause of HIV-1 infection in children?") or a word
swapped for its opposite ("What is the least common species?"): the passage says what is,
not what is not. These are made by program from the answerable questions of evals/refusal/
(covid-qa questions of the 19-article subset, and the seed-article ones):
- not: a "not" after the auxiliary among the first four words ("What is X" -> "What is not
  X"); a question without one is skipped;
- opposite: its first word that has an opposite in answer/negation.py's ASKED_OPPOSITE
  replaced by that opposite (the first in alphabetical order); a question without one is
  skipped.
Each is asked of its corpus's index as refusal_report.py asks, and counted refused by the
refusal model alone (P(answerable) under the threshold) and as shipped, with the vetoes
(answer/negation.py `unmatched_negation`, `unmatched_opposite`). Labels are noisy: a
passage may also say what is not, or state both.

The veto's cost is counted on real questions: the answerable covid-qa questions of the half
that hold a "not", "never" or "n't" themselves, asked the same way.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from assistant.answer.evidence import RefusalModel
from assistant.answer.negation import ASKED_OPPOSITE, WORD

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "evals"))
from calibrate_refusal import load_items  # noqa: E402
from make_refusal_sets import default_data  # noqa: E402
from refusal_report import build_bots, grounds_of, settings_with  # noqa: E402

_AUXILIARIES = frozenset(
    "is are was were does do did can has have will would could should".split()  # noqa: SIM905
)
_DENIES = re.compile(r"\b(?:not|never|cannot)\b|n[’']t\b", re.IGNORECASE)


def insert_not(question: str) -> str | None:
    """The question with "not" after its first auxiliary (among its first four words), or
    None when it has none or already denies something there.

    Example: insert_not("What is the main cause of HIV-1?") -> "What is not the main cause
             of HIV-1?"; insert_not("Name the main cause.") -> None
    """
    words = question.split()
    for i, word in enumerate(words[:4]):
        if word.lower() in _AUXILIARIES:
            if i + 1 < len(words) and words[i + 1].lower() in ("not", "no", "never"):
                return None
            return " ".join([*words[: i + 1], "not", *words[i + 1 :]])
    return None


def swap_opposite(question: str) -> str | None:
    """The question with its first word that has an opposite replaced by it, or None.

    Example: swap_opposite("What is the largest city?") -> "What is the smallest city?"
    """
    for match in WORD.finditer(question):
        others = ASKED_OPPOSITE.get(match.group().lower())
        if others:
            return question[: match.start()] + sorted(others)[0] + question[match.end() :]
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--half", choices=("tune", "confirm"), default="confirm")
    ap.add_argument("--data", default=str(default_data()))
    ap.add_argument("--set", action="append", default=[], help="Settings override name=JSON")
    args = ap.parse_args()
    data = Path(args.data)
    settings = settings_with(args.set)
    bots, vectors = build_bots(settings, data)
    refusal = RefusalModel.from_settings(settings)
    items = [
        i
        for i in load_items(data, 10**6)
        if i["half"] == args.half and i["label"] == 1 and i["corpus"] in bots
    ]

    def decide(corpus: str, question: str) -> tuple[bool, bool]:
        """(refused by the model alone, refused as shipped)."""
        grounds = grounds_of(bots[corpus], question, settings, refusal)
        return grounds.probability < refusal.threshold, not grounds.answerable

    print(f"{args.half} half")
    for kind, turn in (("not", insert_not), ("opposite", swap_opposite)):
        for corpus in sorted(bots):
            made = [(i, q) for i in items if i["corpus"] == corpus and (q := turn(i["question"]))]
            if not made:
                continue
            decided = [decide(corpus, q) for _, q in made]
            model = sum(m for m, _ in decided) / len(made)
            shipped = sum(s for _, s in decided) / len(made)
            print(
                f"  {kind}, {corpus}: {len(made)} questions; refused by the model alone "
                f"{model:.3f}, as shipped (with the vetoes) {shipped:.3f}"
            )
            for (_, q), (_, s) in list(zip(made, decided, strict=True))[:2]:
                print(f"    {'refused ' if s else 'answered'} {q}")
    real = [i for i in items if i["corpus"] == "covid-qa" and _DENIES.search(i["question"])]
    cost = [(i["question"], decide("covid-qa", i["question"])) for i in real]
    print(
        f"  answerable covid-qa questions that deny something themselves: {len(real)}; "
        f"refused by the model {sum(m for _, (m, _) in cost)}, "
        f"as shipped {sum(s for _, (_, s) in cost)}"
    )
    vectors.save()


if __name__ == "__main__":
    main()
