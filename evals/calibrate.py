"""Fit the refusal model on data: when do the documents support an answer?

Answerable: covid-qa questions asked of the covid-qa index (their gold article is there).
Unanswerable, two kinds:
  - on-topic but absent: the same questions with their gold article left out of retrieval
    (other articles may still hold the answer, so these labels are noisy: they err towards
    answering, which is the side a person can check);
  - off-topic: the same questions asked of the seed article's index.
The model is fitted on the "tune" half (even ids) and the chosen threshold is reported on the
"confirm" half (odd ids). The seed eval set (evals/seed.yaml) is the second, independent check.

    python evals/calibrate.py [--per-half 120] [--target-precision 0.9]

Prints the fitted weights and the precision/recall of refusing on both halves; copy the
weights into Settings (refusal_weights, refusal_bias, refusal_threshold) if they improve.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from assistant import Assistant, Settings
from assistant.answer.evidence import RefusalModel

ROOT = Path(__file__).resolve().parent.parent
FEATURES = ["top_dense", "best_cosine", "best_coverage", "passage_coverage"]


def evidence_for(bot: Assistant, question: str, *, exclude_doc: str | None = None) -> list[float]:
    retriever = bot.retriever
    qv = retriever.embed_query(question)
    k = bot.settings.k
    hits = retriever.retrieve(question, k * 4 if exclude_doc else k, query_vector=qv)
    if exclude_doc:
        hits = [h for h in hits if h.chunk.source != exclude_doc][:k]
    # The same evidence the assistant decides on; the features do not depend on the refusal
    # model being fitted, only the decision does.
    grounds = bot.answerer.gather(question, qv, hits, idf=retriever.lexical.idf)
    return grounds.evidence.as_vector()


def fit_logistic(x: np.ndarray, y: np.ndarray, *, l2: float = 1e-2, steps: int = 50) -> np.ndarray:
    """Newton's method for L2-regularised logistic regression; returns [bias, w...]."""
    xb = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(xb.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-xb @ w))
        grad = xb.T @ (p - y) + l2 * np.r_[0, w[1:]]
        hess = (xb.T * (p * (1 - p))) @ xb + l2 * np.diag(np.r_[0, np.ones(len(w) - 1)])
        w -= np.linalg.solve(hess, grad)
    return w


def refusal_scores(prob: np.ndarray, y: np.ndarray, threshold: float) -> tuple[float, float]:
    """Precision and recall of refusing (positive = unanswerable, y == 0)."""
    refused = prob < threshold
    unanswerable = y == 0
    tp = np.sum(refused & unanswerable)
    precision = tp / max(1, refused.sum())
    recall = tp / max(1, unanswerable.sum())
    return float(precision), float(recall)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(ROOT.parent / "shared/datasets/covid-qa"))
    ap.add_argument("--index-dir", default=str(ROOT / "evals/runs/.index/covid-qa"))
    ap.add_argument("--seed-index-dir", default=str(ROOT / "evals/runs/.index/seed"))
    ap.add_argument("--per-half", type=int, default=120)
    ap.add_argument("--target-precision", type=float, default=0.92)
    ap.add_argument(
        "--features",
        default="best_cosine",
        help=f"comma-separated subset of {','.join(FEATURES)} (default: best_cosine)",
    )
    ap.add_argument("--cache", default=str(ROOT / "evals/runs/calibration-evidence.json"))
    args = ap.parse_args()
    data = Path(args.data)
    questions = [json.loads(line) for line in (data / "questions.jsonl").open()]
    settings = Settings()
    covid = Assistant.from_folder(data / "docs", index_dir=args.index_dir, settings=settings)
    seed = Assistant.from_folder(ROOT / "seeds", index_dir=args.seed_index_dir, settings=settings)

    cache = Path(args.cache)
    rows: dict[str, tuple[list[list[float]], list[int]]] = {}
    if cache.is_file():
        rows = {k: (v[0], v[1]) for k, v in json.loads(cache.read_text()).items()}
        print(f"evidence read from {cache}")
    for half, parity in (("tune", 0), ("confirm", 1)):
        if half in rows:
            continue
        sample = [q for q in questions if int(q["id"]) % 2 == parity]
        sample = sample[:: max(1, len(sample) // args.per_half)][: args.per_half]
        x: list[list[float]] = []
        y: list[int] = []
        t = time.perf_counter()
        for q in sample:
            x.append(evidence_for(covid, q["question"]))
            y.append(1)
            x.append(evidence_for(covid, q["question"], exclude_doc=q["doc"]))
            y.append(0)
            x.append(evidence_for(seed, q["question"]))
            y.append(0)
        rows[half] = (x, y)
        print(f"{half}: {len(x)} examples in {time.perf_counter() - t:.0f}s")
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(rows))

    x_tune, y_tune = (np.array(v, dtype=float) for v in rows["tune"])
    cols = [FEATURES.index(f) for f in args.features.split(",")]
    fitted = fit_logistic(x_tune[:, cols], y_tune)
    weights = [0.0] * len(FEATURES)
    for col, w in zip(cols, fitted[1:], strict=True):
        weights[col] = float(w)
    w1, w2, w3, w4 = weights  # one per evidence feature (FEATURES)
    model = RefusalModel((w1, w2, w3, w4), float(fitted[0]), 0.5)
    print(f"features {FEATURES}")
    print(f"weights = {tuple(round(v, 3) for v in model.weights)}, bias = {model.bias:.3f}")

    def probs(x: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-(x @ np.array(model.weights) + model.bias)))

    p_tune = probs(x_tune)
    # The lowest threshold whose refusals are right at least target_precision of the time on
    # the tune half: refuse as often as that precision allows.
    chosen = 0.5
    for th in np.linspace(0.05, 0.95, 19):
        precision, recall = refusal_scores(p_tune, y_tune, th)
        if precision >= args.target_precision:
            chosen = float(th)
    print(f"threshold {chosen:.2f} (refusal precision >= {args.target_precision} on tune)")
    for half in ("tune", "confirm"):
        features, labels = (np.array(v, dtype=float) for v in rows[half])
        for th in sorted({0.2, 0.3, 0.4, 0.5, 0.6, round(chosen, 2)}):
            precision, recall = refusal_scores(probs(features), labels, th)
            answered = float(np.mean(probs(features)[labels == 1] >= th))
            print(
                f"  {half:8s} threshold {th:.2f}: refusal precision {precision:.3f} "
                f"recall {recall:.3f}; answerable answered {answered:.3f}"
            )


if __name__ == "__main__":
    main()
