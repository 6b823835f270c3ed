"""The refusal threshold's curve: answerable refused, unanswerable refused per kind and answer
contains gold at every threshold, from one run of a data set.

    python evals/refusal_curve.py SET_FOLDER --index-dir DIR --out rows.jsonl
    python evals/refusal_curve.py --read rows.jsonl [rows2.jsonl ...] [--veto 0.7] [--half tune]

SET_FOLDER is a data set as `assistant eval` reads it (docs/ + questions.jsonl: an exported
half of the refusal sets, evals/export_refusal_sets.py, or covid-qa itself). Each question is
asked as `assistant eval` asks it, with the refusal threshold at 0, and its P(answerable)
and whether a veto (negation, opposite, a displaced name) or the backend refused it are
kept; an answer at threshold t is the same answer when P >= t and no veto refused it, since
the threshold decides only whether to answer (selection does not read it). --read prints
the curve of saved rows, every set's kinds side by side; asked with
--set refusal_displaced_veto=1.01, rows read with --veto show any veto too.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant import Assistant, Settings
from assistant.answer.features import FEATURE_NAMES
from assistant.evals.scoring import contains_answer
from assistant.evals.sets import load_set

THRESHOLDS = (*(i / 100 for i in range(2, 17)), 0.18, 0.20, 0.25, 0.30)


def collect(folder: Path, index_dir: Path, settings: Settings) -> list[dict[str, Any]]:
    """One row per question: its kind, P(answerable), whether it is refused whatever the
    threshold, and (when answered at threshold 0) whether the answer holds a gold answer."""
    qset = load_set(folder)
    bot = Assistant.from_folder(
        qset.documents,
        index_dir=index_dir,
        settings=settings.model_copy(update={"refusal_threshold": 0.0, "show_progress": False}),
    )
    seen: list[Any] = []
    gather = bot.answerer.gather

    def recording(*args: Any, **kwargs: Any) -> Any:
        grounds = gather(*args, **kwargs)
        seen.append(grounds)
        return grounds

    bot.answerer.gather = recording  # type: ignore[method-assign]
    rows = []
    for item in qset.items:
        seen.clear()
        answer = bot.ask(item.question, list(item.history) or None)
        grounds = seen[-1] if seen else None
        text = "" if answer.refused else answer.text
        # Where the gold stands among the candidate units by score (None: in none of them),
        # to tell a selection miss from a retrieval miss.
        gold_rank = None
        if grounds is not None and item.answers:
            order = sorted(range(len(grounds.sentences)), key=lambda i: -grounds.scores[i])
            gold_rank = next(
                (
                    rank
                    for rank, i in enumerate(order)
                    if contains_answer(grounds.sentences[i].text, item.answers)
                ),
                None,
            )
        rows.append(
            {
                "id": item.id,
                "kind": item.group,
                "answerable": item.answerable,
                "question": item.question,
                "p": grounds.probability if grounds is not None else 0.0,
                # Refused at threshold 0: a veto, no candidate, or the backend.
                "always_refused": answer.refused,
                "displaced": grounds.evidence.name_displaced if grounds is not None else 0.0,
                "features": {n: float(getattr(grounds.evidence, n)) for n in FEATURE_NAMES}
                if grounds is not None
                else {},
                "contains": bool(item.answers)
                and bool(text)
                and contains_answer(text, item.answers),
                "short_gold": bool(item.answers) and min(len(a.split()) for a in item.answers) <= 3,
                "sentences": len(answer.citations),
                "gold_rank": gold_rank,
            }
        )
    return rows


def curve(
    rows: Sequence[dict[str, Any]], thresholds: Sequence[float], veto: float | None = None
) -> list[dict[str, Any]]:
    """At each threshold: the share refused of each kind, and contains gold over all the
    answerable rows and over those answered. veto: refuse too when name_displaced reaches it
    (for rows asked with the veto off, refusal_displaced_veto=1.01; None: as asked).

    Example: rows [{"kind": "a", "answerable": True, "p": 0.5, "always_refused": False,
    "contains": True, "short_gold": False}] at 0.6 -> refused["a"] 1.0, contains 0.0.
    """
    out = []
    for t in thresholds:
        by_kind: dict[str, list[bool]] = defaultdict(list)
        contains, answered, short = [], [], []
        for r in rows:
            displaced = veto is not None and r.get("displaced", 0.0) >= veto
            refused = r["always_refused"] or displaced or r["p"] < t
            by_kind[r["kind"]].append(refused)
            if r["answerable"]:
                hit = not refused and r["contains"]
                contains.append(hit)
                if not refused:
                    answered.append(hit)
                if r["short_gold"]:
                    short.append(hit)
        out.append(
            {
                "threshold": t,
                "refused": {k: sum(v) / len(v) for k, v in sorted(by_kind.items())},
                "counts": {k: (sum(v), len(v)) for k, v in sorted(by_kind.items())},
                "contains": sum(contains) / len(contains) if contains else None,
                "contains_answered": sum(answered) / len(answered) if answered else None,
                "contains_short": sum(short) / len(short) if short else None,
            }
        )
    return out


def print_curve(
    named: dict[str, list[dict[str, Any]]], thresholds: Sequence[float], veto: float | None = None
) -> None:
    """A table per set: one line per threshold, refused count/total per kind."""
    for name, rows in named.items():
        points = curve(rows, thresholds, veto)
        kinds = list(points[0]["counts"])
        print(f"\n{name}")
        print("thr   " + " ".join(f"{k[:14]:>14s}" for k in kinds) + "  gold  (answered) short")
        for p in points:
            cells = " ".join(
                f"{p['counts'][k][0]:>4d}/{p['counts'][k][1]:<4d}{p['refused'][k]:5.3f}"[:14].rjust(
                    14
                )
                for k in kinds
            )
            gold = p["contains"] or 0.0
            answered = p["contains_answered"] or 0.0
            short = p["contains_short"] or 0.0
            print(f"{p['threshold']:.2f}  {cells}  {gold:.3f} ({answered:.3f}) {short:.3f}")


def in_half(row: dict[str, Any], half: str | None) -> bool:
    """Is the row in that half (numeric ids by parity, even = tune; other ids always)?

    Example: in_half({"id": "262"}, "tune") -> True; in_half({"id": "cq-918"}, "confirm") -> True
    """
    if half is None or not str(row["id"]).isdigit():
        return True
    return (int(row["id"]) % 2 == 0) == (half == "tune")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?")
    ap.add_argument("--index-dir")
    ap.add_argument("--out")
    ap.add_argument("--set", action="append", default=[], help="Settings override name=JSON")
    ap.add_argument("--read", nargs="*", default=[])
    ap.add_argument("--veto", type=float, help="name_displaced veto applied when reading")
    ap.add_argument(
        "--half",
        choices=("tune", "confirm"),
        help="keep only this half of numeric question ids (covid-qa itself: even = tune)",
    )
    args = ap.parse_args()
    if args.folder:
        overrides = {k: json.loads(v) for k, v in (s.split("=", 1) for s in args.set)}
        rows = collect(Path(args.folder), Path(args.index_dir), Settings(**overrides))
        if args.out:
            Path(args.out).write_text("".join(json.dumps(r) + "\n" for r in rows))
        print_curve({args.folder: rows}, THRESHOLDS)
    named = {
        path: [
            row
            for line in Path(path).read_text().splitlines()
            if in_half(row := json.loads(line), args.half)
        ]
        for path in args.read
    }
    if named:
        print_curve(named, THRESHOLDS, args.veto)
    if not args.folder and not named:
        sys.exit("give a set folder to ask, or --read saved rows")


if __name__ == "__main__":
    main()
