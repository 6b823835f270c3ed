"""Fit the sentence-ranking weights of the extractive answer on the tune half; report both.

    python evals/fit_selection.py [--features title,after_match,...] [--pool 5]

Every answerable covid-qa question of the refusal sets whose retrieved candidates hold its
gold answer is one choice among its candidate units. A conditional logit (softmax over each
question's candidates) is fitted on the tune half over the ranking features below
(`selection_features`); the weights are rescaled so that cosine weighs 1,
as in the score the extractive backend ranks by (cosine + lexical_weight * coverage +
type_weight * typed + ...). It prints, per half, how often the best-scoring unit holds the
gold (top-1) and how often one of the best two does, for today's score and the fitted one.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from assistant.answer.evidence import Grounds, RefusalModel
from assistant.answer.features import phrase_overlap
from assistant.evals.scoring import contains_answer
from assistant.retrieval.lexical import analyze
from assistant.store import SentenceStore

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "evals"))
from calibrate_refusal import load_items  # noqa: E402
from make_refusal_sets import default_data  # noqa: E402
from refusal_report import build_bots, gold_answers, settings_with  # noqa: E402

NEVER_REFUSE = RefusalModel({}, 10.0, 0.0)


# The ranking features measured besides today's score (cosine, coverage and its bonuses).
SELECTION_FEATURES = ("heading", "after_match", "restates", "rank", "words", "phrases")

# A unit that ends like a sentence: a full stop or "!" (then closing quotes, brackets or a
# citation mark). Anything else, a question mark, a colon or nothing, is a heading, a title or
# an announcement: it names the topic but does not say anything about it.
_SENTENCE_END = re.compile(r"[.!](?:[\s\"'’”)\]]|\[[\d,\s\-–]*\])*$")


def selection_features(
    question: str,
    texts: Sequence[str],
    previous: Sequence[int | None],
    coverages: Sequence[float],
    ranks: Sequence[int],
) -> np.ndarray:
    """Ranking features of each candidate unit, in SELECTION_FEATURES order (one row each):
    - heading: 1 when the unit does not end like a sentence (a title, a question, "...:");
    - after_match: the coverage of the unit just before it in its document (previous[i],
      None for none): an answer often follows the sentence that restates the question;
    - restates: the share of the unit's terms that are the question's;
    - rank: the retrieval rank of its passage (0 = best);
    - words: its length in words, capped at 60, over 60;
    - phrases: answer/features.py phrase_overlap (kept: sentence_phrase_weight).

    Example: selection_features("What is NDV?", ["NDV has appealing qualities:",
             "It has no DNA phase."], [None, 0], [0.9, 0.0], [0, 0])
             -> [[1, 0, 0.33, 0, 0.067, 0], [0, 0.9, 0, 0, 0.083, 0]]
    """
    asked = set(analyze(question))
    rows = []
    for i, text in enumerate(texts):
        terms = set(analyze(text))
        before = previous[i]
        rows.append(
            [
                float(_SENTENCE_END.search(text.rstrip()) is None),
                float(coverages[before]) if before is not None else 0.0,
                len(terms & asked) / len(terms) if terms else 0.0,
                float(ranks[i]),
                min(len(text.split()), 60) / 60,
                phrase_overlap(question, text),
            ]
        )
    return np.array(rows, dtype=float).reshape(len(texts), len(SELECTION_FEATURES))


def fit_choice(groups: list[tuple[np.ndarray, np.ndarray]], l2: float = 1.0) -> np.ndarray:
    """Conditional logit: weights w maximising sum over groups of log softmax(x @ w)[gold],
    where a group's gold is any unit labelled 1 (their probabilities summed). Gradient
    ascent with L2; returns w.

    Example: one group, x = [[1.0], [0.0]], labels [1, 0] -> a positive weight.
    """
    dim = groups[0][0].shape[1]
    w = np.zeros(dim)
    lr = 0.5
    for _ in range(3000):
        grad = -l2 * w
        for x, y in groups:
            z = x @ w
            p = np.exp(z - z.max())
            p /= p.sum()
            q = p * y
            q /= q.sum()
            grad += x.T @ (q - p)
        w += lr * grad / len(groups)
    return w


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(default_data()))
    ap.add_argument("--features", default=",".join(SELECTION_FEATURES))
    ap.add_argument("--set", action="append", default=[], help="Settings override name=JSON")
    ap.add_argument("--l2", type=float, default=1.0)
    ap.add_argument("--dump", help="save the candidate features here (.npy) for analysis")
    args = ap.parse_args()
    data = Path(args.data)
    settings = settings_with(args.set)
    bots, vectors = build_bots(settings, data)
    bot = bots["covid-qa"]
    state = bot._state
    stored = state.store if isinstance(state.store, SentenceStore) else None
    gold = gold_answers(data)
    names = ["cosine", "coverage", "bonuses", *args.features.split(",")]
    cols = [["cosine", "coverage", "bonuses", *SELECTION_FEATURES].index(n) for n in names]
    halves: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {"tune": [], "confirm": []}
    n_asked = {"tune": 0, "confirm": 0}
    for item in load_items(data, 10**6):
        if item["kind"] != "answerable" or item["corpus"] != "covid-qa":
            continue
        q = item["question"]
        n_asked[item["half"]] += 1
        qv = vectors.get([q])[0]
        hits = state.retriever.retrieve(q, max(settings.k, settings.evidence_k), query_vector=qv)
        grounds = bot.answerer.gather(
            q, qv, hits, idf=state.retriever.lexical.idf, refusal=NEVER_REFUSE, stored=stored
        )
        if not grounds.sentences:
            continue
        y = np.array([contains_answer(s.text, gold[item["qid"]]) for s in grounds.sentences])
        if not y.any():
            continue
        extra = selection_features(
            q,
            [s.text for s in grounds.sentences],
            _adjacent(grounds),
            grounds.coverages.tolist(),
            [s.rank for s in grounds.sentences],
        )
        base = np.column_stack(
            [
                grounds.cosines,
                grounds.coverages,
                grounds.scores - grounds.cosines - grounds.coverages,
            ]
        )
        x = np.column_stack([base, extra])[:, cols]
        halves[item["half"]].append((x, y.astype(float)))
    vectors.save()
    if args.dump:
        np.save(args.dump, np.array([halves, names], dtype=object), allow_pickle=True)
    print(
        {
            h: f"{len(g)} of {n_asked[h]} questions with the gold in a candidate"
            for h, g in halves.items()
        }
    )
    w = fit_choice(halves["tune"], args.l2)
    w = w / w[0]
    print("fitted (cosine = 1):", {n: round(float(v), 3) for n, v in zip(names, w, strict=True)})
    today = np.zeros(len(names))
    today[:3] = [1.0, settings.sentence_lexical_weight, 1.0]
    for half, groups in halves.items():
        for label, weights in (("today", today), ("fitted", w)):
            top1 = top2 = 0
            for x, y in groups:
                order = np.argsort(-(x @ weights), kind="stable")
                top1 += bool(y[order[0]])
                top2 += bool(y[order[:2]].any())
            n = len(groups)
            print(f"  {half:8s} {label:7s} top-1 {top1 / n:.3f}  top-2 {top2 / n:.3f}")


def _adjacent(grounds: Grounds) -> list[int | None]:
    """For each unit, the index of the candidate that ends just before it (or None)."""
    out: list[int | None] = []
    for s in grounds.sentences:
        prev = None
        for j, o in enumerate(grounds.sentences):
            if o.chunk.source == s.chunk.source and o.end <= s.start and s.start - o.end <= 3:
                prev = j
                break
        out.append(prev)
    return out


if __name__ == "__main__":
    main()
