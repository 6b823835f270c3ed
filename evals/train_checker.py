"""Train the learned support checker: gradient-boosted trees over alignment features.

Data: the synthetic (premise, hypothesis, supported?) pairs of evals/train_verifier.py
(`build_pairs`: covid-qa articles that are not held out for evals/verify_set.jsonl, read at
run time from ../shared/datasets/covid-qa, and the seed article; faithful rewrites against
swapped numbers and names, flipped negations, dropped hedges, joined clauses, world-knowledge
claims), never the verification set itself, plus this script's own rewordings, clause
extractions and subject swaps (`restyle`, `tail_clause`, `compress`, `swap_subject`). Only the
pairs that pass the verifier's rules are kept: the checker is asked about nothing else at
answer time (answer/verify.py `assess`). `--handwritten evals/checker_handwritten.jsonl` adds
sentences written by hand (paraphrases and errors, in the verification set's format, against
articles the set does not use; `handwritten_pairs`: the spans the verifier asks about, for
supported and unsupported rows alike), each pair `--handwritten-weight` times; off by default
(evals/VERIFIER.md, "Session 7" and its second pass, says why). `--cross-validate OUT` trains
two checkers, each on half the hand-written rows (folds by passage), and writes every row's
out-of-fold scores for `score_verifier.py --calibrate-with OUT`.

Model: scikit-learn's HistGradientBoostingClassifier over answer/checker.py's `features`, with
monotone constraints (`MONOTONE`), one per draw of the synthetic data (`--bag` draws, seeds
seed..seed+bag-1), their log-odds averaged (`merge`): one draw's model moved the confirm
half's caught share between 0.80 and 0.95, the average does not depend on a lucky draw. It is
written to assistant/answer/verifier/checker.json as plain trees (feature, threshold,
children, leaf values) that answer/checker.py's TreeChecker evaluates in pure Python; the
export is checked against scikit-learn's own log-odds. A logistic regression over the same
features is fitted on each draw and reported, for comparison.

    PYTHONPATH=$PWD nice -n 10 .venv/bin/python evals/train_checker.py          # train, install
    PYTHONPATH=$PWD .venv/bin/python evals/score_verifier.py --calibrate         # tune threshold
    ... train_checker.py --handwritten evals/checker_handwritten.jsonl --handwritten-weight 3 \
        --cross-validate evals/runs/checker/oof.jsonl                            # 4 min

Reproducible: the seeds drive the data and the trees. Five draws take about six minutes on
one thread.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_verifier import build_pairs

from assistant.answer.checker import CHECKER_FILE, FEATURE_NAMES, TreeChecker, features
from assistant.answer.verify import _NOT_NAMES, known_names, rule_reason

__all__ = [
    "auc",
    "compress",
    "cross_validate",
    "export_trees",
    "fit_bag",
    "handwritten_fold",
    "handwritten_pairs",
    "labelled_pairs",
    "restyle",
    "rule_passing",
    "set_pairs",
    "swap_subject",
    "tail_clause",
    "to_matrix",
]

# How a chat model rewords a passage without changing what it says. These lists are the
# training side's own: the verification set's rewrites (evals/make_verify_set.py) use other
# wrappers and synonyms, so the set measures whether the checker generalises.
_WRAPPERS = [
    "According to the passage, ",
    "The text states that ",
    "As the article notes, ",
    "It is noted that ",
    "The document says that ",
    "As described, ",
    "The passage explains that ",
    "In fact, ",
    "Indeed, ",
    "Specifically, ",
]
_MORE_SYNONYMS = {
    "method": "technique",
    "methods": "techniques",
    "important": "key",
    "rapidly": "quickly",
    "often": "frequently",
    "main": "primary",
    "begin": "start",
    "began": "started",
    "shows": "reveals",
    "need": "require",
    "needs": "requires",
    "building": "developing",
    "aims to": "intends to",
    "secure": "obtain",
    "costly": "expensive",
    "partly": "partially",
    "partially": "in part",
    "however": "yet",
    "help": "aid",
    "compared with": "relative to",
    "compared to": "relative to",
    "investment": "funding",
    "effect": "impact",
    "effects": "impacts",
    "role": "part",
    "patients": "people treated",
    "reduce": "lower",
    "whole": "entire",
}
_FILLERS = [r"\b(is|are|was|were|has|have)\b ", r"\b(can|will)\b "]
HANDWRITTEN = Path(__file__).resolve().parent / "checker_handwritten.jsonl"


_CLAUSE = re.compile(r"(?:, but |, while |, although |, whereas |; |, as |, and )(?!which|that)")


def tail_clause(sentence: str) -> str | None:
    """The clause after ", but" / ", while" / "; "... as a sentence of its own: a chat model
    often answers with one clause of a long sentence. None when it would be short or when
    the clause starts with a pronoun that needs the first part.

    Example: tail_clause("Amazon invested $8 billion, but unlike Microsoft, Amazon holds less
             leverage.") -> "Unlike Microsoft, Amazon holds less leverage."
    """
    for m in _CLAUSE.finditer(sentence):
        tail = sentence[m.end() :].strip()
        first = tail.split()[0].lower() if tail else ""
        if len(tail.split()) < 6 or first in {"it", "they", "this", "these", "which", "that"}:
            continue
        return tail[0].upper() + tail[1:]
    return None


_AUXILIARY = re.compile(r"^((?:\S+\s){0,4}?(?:is|are|was|were|has|have|had)\s)")


def compress(sentence: str) -> str | None:
    """The sentence with a middle part left out the way a summary does: an aside between
    commas (", on the other hand,"), or the first of two predicates joined by "and"
    ("X is doing A, and doing B" -> "X is doing B"). None when neither applies.

    Example: compress("Amazon, on the other hand, is hedging its bets.")
             -> "Amazon is hedging its bets."
    """
    aside = re.sub(r"^(\S+(?: \S+)?), [^,]{3,60}, ", r"\1 ", sentence, count=1)
    if aside != sentence:
        return aside
    head = _AUXILIARY.match(sentence)
    if head:
        m = re.search(r",? and (?=\w+(?:ing|ed|s)\b)", sentence[head.end() :])
        if m:
            tail = sentence[head.end() + m.end() :]
            if len(tail.split()) >= 3:
                return head.group(1) + tail
    return None


_MID_NAME = re.compile(r"(?<=[a-z,;] )[A-Z][a-zA-Z]+(?:-[A-Za-z0-9]+)?\b")


def swap_subject(hypothesis: str, premise: str, rng: random.Random) -> str | None:
    """The hypothesis with the name that opens it replaced by another name of the premise:
    who did it changes while every word stays in the span (train_verifier's swaps only touch
    names inside the sentence). None when it opens with no name or the premise has no other.

    Example: swap_subject("Meta is building models in-house.", "Meta is building models
             in-house, unlike Amazon.", rng) -> "Amazon is building models in-house."
    """

    def bare(word: str) -> str:
        return re.sub(r"[’']s$", "", word.strip(",;:"))

    first = bare(hypothesis.split()[0])
    names = {m.group(0) for m in _MID_NAME.finditer(premise)}
    if first.lower() in _NOT_NAMES or first not in names | {bare(premise.split()[0])}:
        return None
    others = sorted(n for n in names if n.lower() != first.lower() and len(n) > 2)
    if not others:
        return None
    return re.sub(rf"^{re.escape(first)}", rng.choice(others), hypothesis, count=1)


def restyle(hypothesis: str, premise: str, rng: random.Random) -> str:
    """The hypothesis worded a little more like a chat model would: a wrapper ("According to
    the passage, ..."), a synonym, or "also"/"already" after the first auxiliary. Meaning
    is unchanged, so it is applied to supported and unsupported pairs alike.

    Example: restyle("Amazon has invested $8 billion.", premise, rng) might give
             "According to the passage, Amazon has invested $8 billion."
    """
    out = hypothesis
    roll = rng.random()
    if roll < 0.45:
        first = out.split()[0]
        capitalised_inside = re.search(rf"(?<=[a-z,;] ){re.escape(first)}\b", premise)
        keep = first.isupper() or bool(capitalised_inside) or first in ("I",)
        out = rng.choice(_WRAPPERS) + (out if keep else out[0].lower() + out[1:])
    elif roll < 0.8:
        words = list(_MORE_SYNONYMS)
        rng.shuffle(words)
        for w in words:
            new, n = re.subn(rf"\b{w}\b", _MORE_SYNONYMS[w], out, count=1)
            if n:
                out = new
                break
    else:
        filler = rng.choice(["also ", "already ", "now "])
        new, n = re.subn(rng.choice(_FILLERS), lambda m: m.group(0) + filler, out, count=1)
        out = new if n else out
    return out


def rule_passing(pairs: list[dict]) -> list[dict]:
    """The pairs whose hypothesis passes the verifier's rules against its premise.

    Example: a "number" negative with a value the premise lacks is left out (the rules drop
    it before the checker is asked); a swap of two numbers of the premise stays.
    """
    out = []
    for p in pairs:
        names = known_names([p["premise"], p["hypothesis"]])
        if rule_reason(p["hypothesis"], p["premise"], names) is None:
            out.append(p)
    return out


def labelled_pairs(rows: list[dict], prefix: str) -> list[dict]:
    """Pairs from labelled rows (verify_set.jsonl's format: sentence, passages as offsets,
    supported, kind), exactly the pairs the checker is asked about at answer time: answer/
    verify.py `assess` with its defaults picks, of each sentence's three best spans, the two
    that pass the rules and cover the most of its words. Every pair of a row takes the row's
    label, supported or not, so that both labels come from the same choice of spans (taking
    every rule-passing span of an unsupported row but only the best of a supported one made
    the span's length a cue: unsupported pairs had short sentences for their spans). A row
    whose spans all fail the rules gives no pair: the checker is never asked about it.

    Example: an unsupported row whose number swap passes the rules in all three of its
             spans gives the two best-covered of them, labelled 0, kind prefix + "number".
    """
    from score_verifier import covid_dir, row_passages

    from assistant.answer.verify import assess

    out = []
    covid = covid_dir()
    for row in rows:
        passages = row_passages(row, covid)
        if passages is None:
            continue
        # With no scorer, assess gives score 1.0 to the spans it would ask the checker about
        # and None to the others; the row's sentence cites its first passage, as in
        # score_verifier.py.
        for assessment in assess(row["sentence"] + " [1]", passages, None):
            for a in assessment.attempts:
                if a.score is None:
                    continue
                out.append(
                    {
                        "premise": a.span.text,
                        "hypothesis": assessment.sentence.text,
                        "label": int(row["supported"]),
                        "kind": prefix + row["kind"],
                    }
                )
    return out


def set_pairs(half: str) -> list[dict]:
    """Pairs from one half of evals/verify_set.jsonl (`labelled_pairs`). Used only with
    --with-tune, and never with the confirm half."""
    from score_verifier import load_set

    return labelled_pairs([r for r in load_set() if r["half"] == half], "set-")


def handwritten_rows(paths: Sequence[Path] = (HANDWRITTEN,)) -> list[dict]:
    """The labelled rows of every file, in order (evals/checker_handwritten.jsonl, and
    evals/verify_dev_s9.jsonl when a checker may learn from the development rows too)."""
    from score_verifier import load_set

    return [row for path in paths for row in load_set(path)]


def handwritten_pairs(paths: Sequence[Path] = (HANDWRITTEN,)) -> list[dict]:
    """Pairs from the hand-written training rows (evals/checker_handwritten.jsonl:
    paraphrases and errors written by hand against covid-qa articles that are neither held
    out nor in the verification set, and the seed article; `labelled_pairs`)."""
    return labelled_pairs(handwritten_rows(paths), "hw-")


def to_matrix(pairs: list[dict]) -> tuple[list[list[float]], list[int]]:
    # One line each, as TreeChecker.scores sees them.
    x = [
        list(features(" ".join(p["premise"].split()), " ".join(p["hypothesis"].split())))
        for p in pairs
    ]
    return x, [int(p["label"]) for p in pairs]


# +1: more of it can only raise the support score, -1: only lower it (0: free). The
# constraints keep the trees from learning quirks of the synthetic data that a real answer
# would not share (a perfect coverage counting against support, say).
MONOTONE = {
    "coverage": 1,
    "missing_words": -1,
    "missing_capitalised": -1,
    "missing_long": -1,
    "longest_uncovered_run": -1,
    "uncovered_run_share": -1,
    "min_half_coverage": 1,
    "hedge_dropped": -1,
    "hedge_lost": -1,
    "certainty_added": -1,
    "negation_difference": -1,
    "number_context": 1,
    "number_order": 1,
    "name_context": 1,
    "subject_agrees": 1,
    "connector_added": -1,
    "copy": 1,
}


def export_trees(model: Any) -> dict[str, Any]:
    """A fitted binary HistGradientBoostingClassifier as plain JSON: each tree's arrays
    (feature, threshold, children, leaf values: a sample goes left when x <= threshold) and
    the baseline log-odds (bias). TreeChecker.from_dict reads it."""
    trees = []
    for (predictor,) in model._predictors:
        nodes = predictor.nodes
        leaf = nodes["is_leaf"].astype(bool)
        trees.append(
            {
                "feature": [
                    -1 if is_leaf else int(f)
                    for f, is_leaf in zip(nodes["feature_idx"], leaf, strict=True)
                ],
                "threshold": [float(v) for v in nodes["num_threshold"]],  # exact: ties go left
                "left": [int(v) for v in nodes["left"]],
                "right": [int(v) for v in nodes["right"]],
                "value": [round(float(v), 9) for v in nodes["value"]],
            }
        )
    return {
        "kind": "gradient-boosted trees",
        "features": list(FEATURE_NAMES),
        "bias": float(model._baseline_prediction.ravel()[0]),
        "rate": 1.0,  # the leaf values already hold the learning rate
        "trees": trees,
    }


def training_pairs(
    seed: int, per_article: int, with_tune: int = 0, handwritten: list[dict] | None = None
) -> list[dict]:
    """One draw of the synthetic recipe (see the module docstring), rule-passing pairs only,
    shuffled by the seed; then the given hand-written pairs (`handwritten_pairs`, already
    repeated by their weight) at the end, after the fifth that main() holds out, so that the
    held-out accuracy stays a measure on synthetic pairs."""
    pairs = build_pairs(seed, per_article)
    rng = random.Random(seed)
    for p in pairs:  # half the pairs reworded, supported or not: a wrapper is no signal
        if rng.random() < 0.5:
            p["hypothesis"] = restyle(p["hypothesis"], p["premise"], rng)
    clauses = []
    for p in pairs:  # one clause of a long sentence of the span, as a supported answer
        if p["label"] == 1 and p["kind"] == "identity":
            tail = tail_clause(p["hypothesis"])
            if tail:
                clauses.append({**p, "hypothesis": tail, "kind": "tail_clause"})
            short = compress(p["hypothesis"])
            if short:
                clauses.append({**p, "hypothesis": short, "kind": "compress"})
        if p["label"] == 1:  # the same sentence with another name of the span as its subject
            swapped = swap_subject(p["hypothesis"], p["premise"], rng)
            if swapped and rng.random() < 0.5:
                clauses.append({**p, "hypothesis": swapped, "label": 0, "kind": "subject"})
    pairs += clauses
    kept = rule_passing(pairs)
    if with_tune:
        kept += set_pairs("tune") * with_tune
    rng.shuffle(kept)
    kept += handwritten or []
    counts = Counter((p["label"], p["kind"].split("+")[0]) for p in kept)
    print(
        f"seed {seed}: {len(pairs)} pairs, {len(kept)} pass the rules:",
        dict(sorted(counts.items())),
    )
    return kept


def merge(models: list[dict[str, Any]]) -> dict[str, Any]:
    """Several exported models as one whose log-odds are the mean of theirs (bagging over
    draws of the synthetic data: one draw's quirks average out).

    Example: merge([a, b]) has bias (a.bias + b.bias) / 2, rate 1/2 and the trees of both.
    """
    assert all(m["rate"] == 1.0 for m in models)
    return {
        **models[0],
        "bias": sum(m["bias"] for m in models) / len(models),
        "rate": 1.0 / len(models),
        "trees": [t for m in models for t in m["trees"]],
    }


def handwritten_fold(row: dict, folds: int = 2) -> int:
    """The cross-validation fold of a labelled row, by its first passage (a hash of its doc
    and start): rows written against one passage always fall in the same fold, so a held-out
    row's passage is never in training.

    Example: every row whose first passage is {"doc": "covid-qa:776.txt", "start": 1203, ...}
             gets the same fold, 0 or 1.
    """
    first = row["passages"][0]
    key = f"{first['doc']}:{first['start']}".encode()
    return int(hashlib.sha256(key).hexdigest(), 16) % folds


def auc(rows: list[dict]) -> float:
    """Probability that a supported row scores above an unsupported one (ties count half),
    over rows with `tries` (score_verifier.row_scores) that pass the rules in every sentence.

    Example: supported rows scoring 0.9 and 0.4, unsupported 0.5 -> 0.5.
    """
    from score_verifier import row_score

    passing = [r for r in rows if r["tries"] and all(r["tries"])]
    pos = [row_score(r["tries"]) for r in passing if r["supported"]]
    neg = [row_score(r["tries"]) for r in passing if not r["supported"]]
    if not pos or not neg:
        return float("nan")
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def fit_bag(args: argparse.Namespace, written: list[dict]) -> dict[str, Any]:
    """One checker: a model per draw of the synthetic data (seeds args.seed ..
    args.seed + args.bag - 1), each also trained on the pairs `written` (already repeated by
    their weight), merged into the plain-JSON trees TreeChecker reads, with the training
    figures under "training" (hand-written: `file`, `pairs`, `weight` filled in by the
    caller)."""
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.inspection import permutation_importance
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    exported, margins, stats = [], [], []
    first: list[dict] = []
    xa0: Any = None
    importance: list[tuple[str, float]] = []
    for seed in range(args.seed, args.seed + args.bag):
        kept = training_pairs(seed, args.per_article, args.with_tune, written)
        x, y = to_matrix(kept)
        xa, ya = np.array(x), np.array(y)
        # A fifth held out to report how well unseen pairs separate (synthetic ones: the
        # hand-written pairs come last).
        cut = (len(kept) - len(written)) // 5

        def trees(seed: int = seed) -> Any:
            return HistGradientBoostingClassifier(
                max_iter=args.trees,
                max_depth=args.depth,
                learning_rate=args.rate,
                monotonic_cst=[MONOTONE.get(name, 0) for name in FEATURE_NAMES],
                early_stopping=False,
                l2_regularization=1.0,
                random_state=seed,
            )

        logistic = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=1.0))
        accuracy = {}
        held = trees()
        for name, model in (("trees", held), ("logistic", logistic)):
            model.fit(xa[cut:], ya[cut:])
            accuracy[name] = round(float(np.mean(model.predict(xa[:cut]) == ya[:cut])), 3)
        print(f"seed {seed}: synthetic held-out accuracy {accuracy} ({cut} pairs)")
        if not first:
            found = permutation_importance(held, xa[:cut], ya[:cut], n_repeats=3, random_state=0)
            importance = sorted(
                zip(FEATURE_NAMES, found.importances_mean, strict=True), key=lambda t: -t[1]
            )
            first, xa0 = kept, xa
        shipped = trees().fit(xa, ya)  # the shipped trees see every pair of their draw
        exported.append(export_trees(shipped))
        margins.append(shipped.decision_function(xa0[:500]))
        counts = Counter((p["label"], p["kind"].split("+")[0]) for p in kept)
        stats.append(
            {
                "seed": seed,
                "pairs": len(kept),
                "supported": int(sum(y)),
                "held_out_accuracy": accuracy,
                "kinds": {f"{label}:{kind}": n for (label, kind), n in sorted(counts.items())},
            }
        )
    data = merge(exported)
    checker = TreeChecker.from_dict(data)
    mine = np.array(checker.scores([(p["premise"], p["hypothesis"]) for p in first[:500]]))
    theirs = 1.0 / (1.0 + np.exp(-np.mean(margins, axis=0)))
    gap = float(np.max(np.abs(mine - theirs)))
    assert gap < 1e-6, f"exported trees disagree with scikit-learn by {gap}"
    print("importance:", ", ".join(f"{k} {v:.3f}" for k, v in importance[:10]))
    data["training"] = {
        "per_article": args.per_article,
        "with_tune": args.with_tune,
        "models": stats,
        "importance_first_model": {k: round(float(v), 4) for k, v in importance},
    }
    return data


def cross_validate(args: argparse.Namespace, out: Path) -> None:
    """Two-fold cross-validation over the --handwritten rows (folds by passage,
    `handwritten_fold`): for each fold, a checker trained as main() trains one but on the
    other fold's rows only scores this fold's rows. Writes every row with its out-of-fold
    `tries` (score_verifier.row_scores) to out, for score_verifier.py --calibrate-with, and
    prints the AUC of the rule-passing rows, overall and per kind of error."""
    from score_verifier import covid_dir, row_scores

    rows = handwritten_rows(args.handwritten)
    scored: list[dict] = []
    for fold in (0, 1):
        train_rows = [r for r in rows if handwritten_fold(r) != fold]
        test_rows = [r for r in rows if handwritten_fold(r) == fold]
        written = labelled_pairs(train_rows, "hw-")
        print(
            f"fold {fold}: train on {len(train_rows)} rows ({len(written)} pairs), "
            f"score {len(test_rows)}"
        )
        checker = TreeChecker.from_dict(fit_bag(args, written * args.handwritten_weight))
        found, _ = row_scores(test_rows, checker, covid_dir())
        scored += [{**r, "fold": fold} for r in found]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in scored))
    passing = [r for r in scored if r["tries"] and all(r["tries"])]
    good = [r for r in passing if r["supported"]]
    print(
        f"{len(scored)} rows scored out of fold, {len(passing)} pass the rules "
        f"({len(good)} supported): AUC {auc(scored):.3f}"
    )
    for kind in sorted({r["kind"] for r in passing if not r["supported"]}):
        some = good + [r for r in passing if r["kind"] == kind and not r["supported"]]
        print(f"  {kind:<16} {len(some) - len(good):>3} rows  AUC {auc(some):.3f}")
    print(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--bag", type=int, default=5, help="models on draws seed, seed+1, ...")
    parser.add_argument("--per-article", type=int, default=40)
    parser.add_argument("--trees", type=int, default=300)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--rate", type=float, default=0.1)
    parser.add_argument("--out", type=Path, default=CHECKER_FILE)
    parser.add_argument(
        "--with-tune",
        type=int,
        default=0,
        metavar="W",
        help="also train on the verification set's tune half, each of its pairs W times",
    )
    parser.add_argument(
        "--handwritten",
        type=Path,
        nargs="+",
        default=None,
        metavar="FILE",
        help=f"also train on hand-written labelled rows (e.g. {HANDWRITTEN.name}; several "
        "files are read as one); off by default",
    )
    parser.add_argument(
        "--handwritten-weight",
        type=int,
        default=1,
        metavar="W",
        help="each rule-passing pair of --handwritten W times in every draw",
    )
    parser.add_argument(
        "--cross-validate",
        type=Path,
        default=None,
        metavar="OUT",
        help="instead of training one checker, cross-validate over --handwritten (two folds "
        "by passage) and write each row's out-of-fold scores to OUT (a .jsonl)",
    )
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    started = time.time()
    if args.cross_validate:
        if not args.handwritten:
            parser.error("--cross-validate needs --handwritten FILE")
        cross_validate(args, args.cross_validate)
        print(f"cross-validated in {time.time() - started:.0f} s")
        return
    written = handwritten_pairs(args.handwritten) if args.handwritten else []
    if written:
        print(
            f"{args.handwritten}: {len(written)} rule-passing pairs "
            f"({sum(p['label'] for p in written)} supported), each {args.handwritten_weight}x"
        )
    data = fit_bag(args, written * args.handwritten_weight)
    data["training"]["handwritten"] = {
        "file": " ".join(p.name for p in args.handwritten) if args.handwritten else None,
        "pairs": len(written),
        "weight": args.handwritten_weight if written else 0,
    }
    args.out.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
    size = args.out.stat().st_size // 1024
    print(
        f"wrote {args.out} ({size} KB, {len(data['trees'])} trees) in {time.time() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
