"""Why an answer lacks the gold answer: one class per answerable covid-qa question of a half.

    python evals/diagnose_gold.py --half tune [--answerable 150] [--pool 10] [--show] [--short 6]

Each question is asked end to end (as refusal_report.py asks it, the same sample), then its
evidence is gathered again with a model that never refuses, to see what selection had to
choose from. A question whose answer holds the gold (squad-normalised, as contains_answer
reads it) is "ok"; otherwise the first class that fits:
- refused: the refusal model refused it;
- retrieval: no retrieved chunk holds the gold (with --pool N: "pool" when one of the best
  N chunks would have);
- spans: a chunk holds it, but no candidate unit alone does (it runs over two sentences,
  or sits in a fragment); "spans2" when two adjacent units together hold it;
- selection: a candidate unit holds it and was not chosen (its rank by score is counted);
- normalisation: a chosen unit holds it, yet the answer text does not match.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from assistant.answer.evidence import RefusalModel
from assistant.answer.extractive import select_sentences
from assistant.evals.scoring import contains_answer, squad_normalise

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "evals"))
from calibrate_refusal import load_items  # noqa: E402
from make_refusal_sets import default_data  # noqa: E402
from refusal_report import (  # noqa: E402
    build_bots,
    gold_answers,
    grounds_of,
    sample,
    settings_with,
)

NEVER_REFUSE = RefusalModel({}, 10.0, 0.0)


def holds(text: str, golds: list[str]) -> bool:
    """Does text hold some gold, normalised as contains_answer normalises?

    Example: holds("It binds ACE2, the receptor.", ["ACE2"]) -> True
    """
    return contains_answer(text, golds)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--half", choices=("tune", "confirm"), default="tune")
    ap.add_argument("--data", default=str(default_data()))
    ap.add_argument("--answerable", type=int, default=150)
    ap.add_argument("--pool", type=int, default=0, help="also look for the gold in N chunks")
    ap.add_argument("--set", action="append", default=[], help="Settings override name=JSON")
    ap.add_argument("--show", action="store_true", help="print each miss")
    ap.add_argument("--out", help="write one JSON line per question here")
    ap.add_argument(
        "--short", type=int, default=6, help="also count the classes of golds this short (words)"
    )
    args = ap.parse_args()
    data = Path(args.data)
    settings = settings_with(args.set)
    bots, vectors = build_bots(settings, data)
    bot = bots["covid-qa"]
    gold = gold_answers(data)
    items = [i for i in load_items(data, 10**6) if i["half"] == args.half]
    asked = sample(
        [i for i in items if i["corpus"] == "covid-qa"], ("answerable",), args.answerable
    )

    classes: Counter[str] = Counter()
    short_classes: Counter[str] = Counter()
    ranks: list[int] = []
    rows = []
    state = bot._state
    for item in asked:
        golds = gold[item["qid"]]
        q = item["question"]
        answer = bot.ask(q)
        row: dict = {"id": item["id"], "question": q, "gold": golds[0]}
        if not answer.refused and contains_answer(answer.text, golds):
            cls = "ok"
        elif answer.refused:
            cls = "refused"
        else:
            qv = state.retriever.embed_query(q)
            hits = state.retriever.retrieve(
                q, max(settings.k, settings.evidence_k), query_vector=qv
            )
            if not any(holds(h.chunk.text, golds) for h in hits):
                cls = "retrieval"
                if args.pool:
                    more = state.retriever.retrieve(q, args.pool, query_vector=qv)
                    if any(holds(h.chunk.text, golds) for h in more):
                        cls = "pool"
            else:
                grounds = grounds_of(bot, q, settings, NEVER_REFUSE, query_vector=qv, hits=hits)
                units = grounds.sentences
                holding = [i for i, s in enumerate(units) if holds(s.text, golds)]
                chosen = select_sentences(
                    grounds,
                    max_sentences=settings.max_answer_sentences,
                    keep_ratio=settings.sentence_keep_ratio,
                    redundancy=settings.sentence_redundancy,
                    restating=settings.sentence_restating,
                    adjacent=settings.sentence_adjacent,
                    question=q,
                    part_coverage=settings.sentence_part_coverage,
                    min_sentences=settings.min_answer_sentences,
                    twin_novelty=settings.sentence_twin_novelty,
                )
                if not holding:
                    cls = "spans"
                    for a in units:
                        for b in units:
                            if (
                                a.chunk.source == b.chunk.source
                                and 0 <= b.start - a.end <= 3
                                and holds(a.text + " " + b.text, golds)
                            ):
                                cls = "spans2"
                elif not set(holding) & set(chosen):
                    cls = "selection"
                    order = list(np.argsort(-grounds.scores, kind="stable"))
                    rank = min(order.index(i) for i in holding)
                    ranks.append(rank)
                    row["rank"] = rank
                    row["holding"] = units[holding[0]].text
                    row["scores"] = [
                        round(float(grounds.scores[i]), 3) for i in (order[0], holding[0])
                    ]
                else:
                    cls = "normalisation"
                    row["normalised"] = squad_normalise(answer.text)
            row["answer"] = answer.text
        classes[cls] += 1
        if min(len(g.split()) for g in golds) <= args.short:
            short_classes[cls] += 1
        row["class"] = cls
        rows.append(row)
        if args.show and cls != "ok":
            print(json.dumps(row, ensure_ascii=False)[:900])
    vectors.save()
    print(f"\n{args.half} half, {len(asked)} answerable covid-qa questions; settings {args.set}")
    for cls, n in classes.most_common():
        print(f"  {cls:14s} {n}")
    print(f"  golds of <= {args.short} words ({sum(short_classes.values())}): ", end="")
    print(", ".join(f"{cls} {n}" for cls, n in short_classes.most_common()))
    if ranks:
        print(f"  selection: gold unit's rank median {statistics.median(ranks)}, {Counter(ranks)}")
    if args.out:
        Path(args.out).write_text("".join(json.dumps(r) + "\n" for r in rows))


if __name__ == "__main__":
    main()
