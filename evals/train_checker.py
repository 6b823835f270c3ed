"""Train the learned support checker: gradient-boosted trees over alignment features.

Data: the synthetic (premise, hypothesis, supported?) pairs of evals/train_verifier.py
(`build_pairs`: covid-qa articles that are not held out for evals/verify_set.jsonl, read at
run time from ../shared/datasets/covid-qa, and the seed article; faithful rewrites against
swapped numbers and names, flipped negations, dropped hedges, joined clauses, world-knowledge
claims), never the verification set itself, plus this script's own rewordings, clause
extractions and subject swaps (`restyle`, `tail_clause`, `compress`, `swap_subject`). Only the
pairs that pass the verifier's rules are kept: the checker is asked about nothing else at
answer time (answer/verify.py `assess`).

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

Reproducible: the seeds drive the data and the trees. Five draws take about six minutes on
one thread.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_verifier import build_pairs

from assistant.answer.checker import CHECKER_FILE, FEATURE_NAMES, TreeChecker, features
from assistant.answer.verify import _NOT_NAMES, known_names, rule_reason

__all__ = [
    "clause_join",
    "compress",
    "export_trees",
    "restyle",
    "rule_passing",
    "set_pairs",
    "silent_hedge_drop",
    "subject_from_elsewhere",
    "swap_subject",
    "swap_words",
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


def _opening_name(hypothesis: str, premise: str) -> tuple[int, int] | None:
    """Where the name that opens the hypothesis is (after an opener such as "Currently, "),
    when the premise uses that word as a name (mid-sentence, or opening it)."""
    m = re.match(r"(?:[^,]{2,40}?, )?([A-Z][\w-]+)(?:[’']s)?\b", hypothesis)
    if not m or m.group(1).lower() in _NOT_NAMES or len(m.group(1)) < 3:
        return None
    names = {n.group(0) for n in _MID_NAME.finditer(premise)} | {premise.split()[0].strip(",")}
    return (m.start(1), m.end(1)) if m.group(1) in names else None


def subject_from_elsewhere(
    hypothesis: str, premise: str, pool: list[str], rng: random.Random
) -> str | None:
    """The hypothesis with its opening name replaced by a name the premise does not hold (a
    name of the same article or another): the verifier's rules take an opening word for a
    name only when the passages use it mid-sentence, so such a swap often passes them.

    Example: subject_from_elsewhere("Meta is building models in-house.", "Meta is building
             models in-house.", ["Google"], rng) -> "Google is building models in-house."
    """
    at = _opening_name(hypothesis, premise)
    if at is None:
        return None
    others = [n for n in pool if n.lower() not in premise.lower() and len(n) > 2]
    if not others:
        return None
    return hypothesis[: at[0]] + rng.choice(others) + hypothesis[at[1] :]


_PREDICATE = re.compile(
    r"^(?:[A-Z][^,;]{2,70}?)\s((?:is|are|was|were|has|have|had|can|could|will|may|might|"
    r"remains?|continues?)\s[^;]{12,})$"
)
_PURPOSE = re.compile(
    r"\b(?:to|aiming to|in order to) ([a-z]{3,}\s(?:the|a|an|its|their)?\s?[^,.;]{6,60})"
)


def clause_join(hypothesis: str, far: str, rng: random.Random) -> str | None:
    """The hypothesis with a clause of a far sentence of the same article attached the way a
    model joins facts: as a relative clause (", which is ..."), a purpose ("... to secure
    access ...") or an aside (", which ..."); the words are the article's own, the link is
    made up. None when the far sentence has no predicate or purpose to take.

    Example: clause_join("Anthropic collaborates with Meta.", "Meta is building AI models
             in-house.", rng) -> "Anthropic collaborates with Meta, which is building AI
             models in-house." (or the purpose form when the far sentence has one)
    """
    far = far.split(". ")[0].rstrip(".")
    base = hypothesis.rstrip(". ")
    made = []
    predicate = _PREDICATE.match(far)
    if predicate:
        made.append(base + rng.choice([", which ", ", who ", ", as it "]) + predicate.group(1))
    purpose = _PURPOSE.search(far)
    if purpose:
        made.append(base + rng.choice([" to ", ", aiming to ", " in order to "]) + purpose.group(1))
    return rng.choice(made) + "." if made else None


# Hedges dropped with no certainty word put in their place: train_verifier's drops write
# "will", "proves", "has completed", which `certainty_added` sees; a model just leaves the
# hedge out.
_SILENT_DROPS = [
    (r"\b(?:is|are) (?:reportedly )?considering (\w+ing)\b", r"is \1"),
    (r"\b(?:is|are) (?:reportedly )?considering (?:a |an )?", "has made a "),
    (r"\b(?:may|might|could) (?:ultimately |eventually )?(?=[a-z]{3,})", ""),
    (r"\b(?:possibly|potentially|probably|reportedly|likely|perhaps|presumably) ", ""),
    (r"\b(?:suggests?|indicates?|implies|imply) that\b", "shows that"),
    (r"\b(?:aims?|plans?|hopes?|intends?|seeks?|wants?) to (\w+)", r"\1s"),
    (r"\b(?:is|are) (?:thought|believed|expected|likely) to (?:be )?", "is "),
    (r"\bpotential ", ""),
]


def swap_words(hypothesis: str, far: str, rng: random.Random, n: int = 2) -> str | None:
    """The hypothesis with n of its content words (lower case, four letters or more, not the
    first word) replaced by content words of a far sentence of the same article that the
    hypothesis lacks: a claim about the right topic with other attributes ("is cheap and
    easy" for "is costly and challenging"), as short as a person writes it.

    Example: swap_words("Building models in-house is costly and challenging.", "Claude is
             cheap and easy to use.", rng) -> "Building models in-house is cheap and easy."
             (two of the words replaced, which two depends on rng)
    """
    words = hypothesis.split()
    slots = [
        i
        for i, w in enumerate(words)
        if i > 0 and re.fullmatch(r"[a-z]{4,}[.,;]?", w) and w.strip(".,;") not in _STOPWORDS
    ]
    have = {w.strip(".,;").lower() for w in words}
    pool = sorted(
        {w for w in re.findall(r"\b[a-z]{4,}\b", far) if w not in have and w not in _STOPWORDS}
    )
    if len(slots) < n + 2 or len(pool) < n:
        return None
    for i, new in zip(sorted(rng.sample(slots, n)), rng.sample(pool, n), strict=True):
        tail = words[i][len(words[i].rstrip(".,;")) :]
        words[i] = new + tail
    return " ".join(words)


_STOPWORDS = frozenset(
    """that this these those with from have been were which their there about into than
    then also only such more most some other each when where while what will would could
    should they them being both after before over under between through because""".split()  # noqa: SIM905
)


def silent_hedge_drop(hypothesis: str) -> str | None:
    """The hypothesis with its first hedge left out, nothing put in its place.

    Example: silent_hedge_drop("Amazon is reportedly considering investing more.")
             -> "Amazon is investing more."
    """
    for pattern, repl in _SILENT_DROPS:
        new, n = re.subn(pattern, repl, hypothesis, count=1)
        if n and new != hypothesis:
            return new
    return None


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


def set_pairs(half: str) -> list[dict]:
    """Pairs from one half of evals/verify_set.jsonl as the checker sees them at answer time:
    each span that passes the rules for an unsupported sentence (label 0), and the span
    covering most of a supported sentence's words (label 1; its other spans may not support
    it, so they are left out). Used only with --with-tune, and never with the confirm half.
    """
    from score_verifier import covid_dir, load_set, row_passages

    from assistant.answer.verify import assess

    out = []
    covid = covid_dir()
    for row in load_set():
        if row["half"] != half:
            continue
        passages = row_passages(row, covid)
        if passages is None:
            continue
        (assessment,) = assess(row["sentence"] + " [1]", passages, None, checks=99)[:1]
        passing = [a for a in assessment.attempts if a.reason is None]
        if row["supported"]:
            passing = sorted(passing, key=lambda a: -a.coverage)[:1]
        for a in passing:
            out.append(
                {
                    "premise": a.span.text,
                    "hypothesis": row["sentence"],
                    "label": int(row["supported"]),
                    "kind": "set-" + row["kind"],
                }
            )
    return out


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
    "clause_coverage": 1,
    "hedge_dropped": -1,
    "hedge_lost": -1,
    "certainty_added": -1,
    "negation_difference": -1,
    "number_context": 1,
    "number_order": 1,
    "name_context": 1,
    "subject_agrees": 1,
    "role_conflicts": -1,
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


def hard_variants(
    p: dict,
    by_doc: dict[str, list[str]],
    names: list[str],
    rng: random.Random,
    swap: bool = False,
) -> list[dict]:
    """Unsupported variants of a supported pair the way a model writes them, none of which
    the recipe of train_verifier makes: its opening name from elsewhere, a clause of another
    sentence of the same article joined to it, its hedge silently left out."""
    out = []
    premise, hypothesis = p["premise"], p["hypothesis"]
    if rng.random() < 0.5:
        local = [m.group(0) for m in _MID_NAME.finditer(" ".join(by_doc.get(p.get("doc", ""), [])))]
        pool = local if local and rng.random() < 0.6 else names
        new = subject_from_elsewhere(hypothesis, premise, pool, rng)
        if new:
            out.append({**p, "hypothesis": new, "label": 0, "kind": "subject_elsewhere"})
    if rng.random() < 0.3:
        fars = [f for f in by_doc.get(p.get("doc", ""), []) if f[:40] not in premise]
        if fars:
            new = clause_join(hypothesis, rng.choice(fars), rng)
            if new:
                out.append({**p, "hypothesis": new, "label": 0, "kind": "clause_join"})
    if swap and rng.random() < 0.3:
        fars = [f for f in by_doc.get(p.get("doc", ""), []) if f[:40] not in premise]
        if fars:
            new = swap_words(hypothesis, rng.choice(fars), rng, 2)
            if new:
                out.append({**p, "hypothesis": new, "label": 0, "kind": "swap_words"})
    new = silent_hedge_drop(hypothesis)
    if new and rng.random() < 0.8:
        out.append({**p, "hypothesis": new, "label": 0, "kind": "silent_hedge"})
    return out


def training_pairs(
    seed: int, per_article: int, with_tune: int = 0, hard: bool = True, swap: bool = False
) -> list[dict]:
    """One draw of the synthetic recipe (see the module docstring), rule-passing pairs only,
    shuffled by the seed."""
    pairs = build_pairs(seed, per_article)
    rng = random.Random(seed)
    for p in pairs:  # half the pairs reworded, supported or not: a wrapper is no signal
        if rng.random() < 0.5:
            p["hypothesis"] = restyle(p["hypothesis"], p["premise"], rng)
    clauses = []
    by_doc: dict[str, list[str]] = {}
    for p in pairs:
        by_doc.setdefault(p.get("doc", ""), []).append(p["premise"])
    names = sorted({m.group(0) for p in pairs for m in _MID_NAME.finditer(p["premise"])})
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
            if hard:
                clauses += hard_variants(p, by_doc, names, rng, swap)
    pairs += clauses
    kept = rule_passing(pairs)
    if with_tune:
        kept += set_pairs("tune") * with_tune
    counts = Counter((p["label"], p["kind"].split("+")[0]) for p in kept)
    print(
        f"seed {seed}: {len(pairs)} pairs, {len(kept)} pass the rules:",
        dict(sorted(counts.items())),
    )
    rng.shuffle(kept)
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
        "--no-hard", action="store_true", help="leave out hard_variants (the older recipe)"
    )
    parser.add_argument(
        "--swap-words", action="store_true", help="hard_variants also swap two content words"
    )
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.inspection import permutation_importance
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    started = time.time()
    exported, margins, stats = [], [], []
    first: list[dict] = []
    xa0: Any = None
    for seed in range(args.seed, args.seed + args.bag):
        kept = training_pairs(
            seed, args.per_article, args.with_tune, not args.no_hard, args.swap_words
        )
        x, y = to_matrix(kept)
        xa, ya = np.array(x), np.array(y)
        cut = len(kept) // 5  # a fifth held out to report how well unseen pairs separate

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
    data["training"] = {
        "per_article": args.per_article,
        "with_tune": args.with_tune,
        "models": stats,
        "importance_first_model": {k: round(float(v), 4) for k, v in importance},
    }
    args.out.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
    print("importance:", ", ".join(f"{k} {v:.3f}" for k, v in importance[:10]))
    size = args.out.stat().st_size // 1024
    print(
        f"wrote {args.out} ({size} KB, {len(data['trees'])} trees) in {time.time() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
