"""Fit and check the refusal model over the evidence features of assistant/answer/features.py.

    python evals/make_refusal_sets.py          # once: writes evals/refusal/*.jsonl
    python evals/calibrate_refusal.py [--max-answerable 150] [--refuse-answerable 0.04]

Data (see make_refusal_sets.py): answerable covid-qa questions and seed-article questions;
adversarial unanswerable ones (entity swapped, number swapped, absent attribute) made from
both; off-topic questions asked of both corpora. Each item is asked of its corpus's index
(covid-qa: the subset of articles the sets were made from; seed: the seed article), with the
same retrieval and candidate sentences as an answer uses. Retrieval, question and sentence
vectors are cached under evals/runs/refusal-cache/, so a rerun only refits.

The model is fitted on the tune half. Its threshold is the highest whose share of answerable
tune questions refused stays within --refuse-answerable; the confirm half then reports the
targets: answerable wrongly refused, adversarial refused (by kind), off-topic refused. Each
feature's contribution is measured by refitting without it (same threshold rule).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assistant import Assistant, Settings
from assistant.answer.evidence import candidate_sentences
from assistant.answer.features import FEATURE_NAMES, evidence_features

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "evals"))
from make_refusal_sets import SUBSET_CHARS, default_data, subset_names  # noqa: E402

SETS = ROOT / "evals" / "refusal"
CACHE = ROOT / "evals" / "runs" / "refusal-cache"
# Today's rule (Settings before this change): sigmoid(8.589 * best_cosine - 5.5) >= 0.30.
BASELINE = {"best_cosine": 8.589}, -5.5, 0.30


class VectorCache:
    """Embeddings by text, kept in one .npz on disk so reruns embed nothing."""

    def __init__(self, path: Path, embed: Any) -> None:
        self.path, self.embed = path, embed
        self.vectors: dict[str, np.ndarray] = {}
        if path.is_file():
            data = np.load(path)
            self.vectors = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))
        self.dirty = False

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha1(text.encode()).hexdigest()

    def get(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if self.key(t) not in self.vectors))
        if missing:
            for text, vec in zip(missing, self.embed(missing), strict=True):
                self.vectors[self.key(text)] = vec
            self.dirty = True
        return np.stack([self.vectors[self.key(t)] for t in texts])

    def save(self) -> None:
        if self.dirty and self.vectors:
            keys = list(self.vectors)
            tmp = self.path.with_suffix(".tmp.npz")
            np.savez(tmp, keys=np.array(keys), vectors=np.stack([self.vectors[k] for k in keys]))
            os.replace(tmp, self.path)
            self.dirty = False


def load_items(data: Path, max_answerable: int) -> list[dict]:
    """The sets' items with their question text, covid-qa answerable ones read from data."""
    covid_q = {
        json.loads(line)["id"]: json.loads(line)["question"]
        for line in (data / "questions.jsonl").open()
    }
    items: list[dict] = []
    for name in ("covid-qa", "seed", "offtopic"):
        for line in (SETS / f"{name}.jsonl").open():
            item = json.loads(line)
            if "question" not in item:
                item["question"] = " ".join(covid_q[item["qid"]].split())
            if item["corpus"] == "both":
                for corpus in ("covid-qa", "seed"):
                    items.append({**item, "corpus": corpus, "id": f"{item['id']}@{corpus}"})
            else:
                items.append(item)
    # Keep the sample small (the machine is shared): every nth answerable covid-qa question.
    out: list[dict] = []
    for half in ("tune", "confirm"):
        answerable = [i for i in items if i["half"] == half and i["kind"] == "answerable"]
        step = max(1, len(answerable) // max_answerable)
        keep = {i["id"] for i in answerable[::step][:max_answerable]}
        out += [
            i for i in items if i["half"] == half and (i["kind"] != "answerable" or i["id"] in keep)
        ]
    return out


def gather(bots: dict[str, Assistant], items: list[dict], k: int) -> dict[str, dict]:
    """Retrieval and candidate sentences with their cosines, per (corpus, question); cached.

    All questions are embedded first, then the union of their candidate sentences, in large
    batches saved as they go (a killed run keeps what it embedded)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    # One file per pool size: the records hold the candidates of k passages.
    records_path = CACHE / f"evidence-k{k}.jsonl"
    records: dict[str, dict] = {}
    if records_path.is_file():
        for line in records_path.open():
            r = json.loads(line)
            records[r["key"]] = r
    some_bot = next(iter(bots.values()))
    vectors = VectorCache(CACHE / "vectors.npz", some_bot.embedder.embed)
    todo = list(
        {
            f"{i['corpus']}|{i['question']}": i
            for i in items
            if f"{i['corpus']}|{i['question']}" not in records
        }.values()
    )
    if not todo:
        return records

    def embed_all(texts: list[str], what: str) -> None:
        texts = [t for t in dict.fromkeys(texts) if vectors.key(t) not in vectors.vectors]
        texts.sort(key=len)
        t0 = time.perf_counter()
        for n in range(0, len(texts), 256):
            vectors.get(texts[n : n + 256])
            vectors.save()
            done = min(n + 256, len(texts))
            print(f"  {what}: {done}/{len(texts)} in {time.perf_counter() - t0:.0f}s", flush=True)

    embed_all([i["question"] for i in todo], "questions")
    gathered = []
    for item in todo:
        bot = bots[item["corpus"]]
        qv = vectors.get([item["question"]])[0]
        hits = bot.retriever.retrieve(item["question"], k, query_vector=qv)
        gathered.append((item, qv, hits, candidate_sentences(hits)))
    embed_all([s.text for *_, sents in gathered for s in sents], "sentences")
    with records_path.open("a") as f:
        for item, qv, hits, sents in gathered:
            cos = (vectors.get([s.text for s in sents]) @ qv).tolist() if sents else []
            r = {
                "key": f"{item['corpus']}|{item['question']}",
                "chunks": [h.chunk.id for h in hits],
                "top_dense": max((h.dense_score or 0.0 for h in hits), default=0.0),
                "sentences": [[s.text, c] for s, c in zip(sents, cos, strict=True)],
            }
            records[r["key"]] = r
            f.write(json.dumps(r) + "\n")
    return records


def feature_rows(
    bots: dict[str, Assistant], items: list[dict], records: dict[str, dict]
) -> np.ndarray:
    rows = []
    for item in items:
        bot = bots[item["corpus"]]
        r = records[f"{item['corpus']}|{item['question']}"]
        passages = [c.text for cid in r["chunks"] if (c := bot.chunk(cid)) is not None]
        f = evidence_features(
            item.get("own", item["question"]),  # a follow-up's own words; question = query
            [(t, c) for t, c in r["sentences"]],
            passages,
            bot.retriever.lexical.idf,
            top_dense=r["top_dense"],
            query=item["question"],
        )
        rows.append(f.as_vector())
    return np.array(rows, dtype=float)


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


def class_weights(items: list[dict]) -> np.ndarray:
    """Each kind (answerable, seed_answerable, swap_entity, ...) weighs as much in the fit as
    the others of its label, so the large covid-qa answerable group does not set the rule."""
    counts: dict[str, int] = defaultdict(int)
    for i in items:
        counts[i["kind"]] += 1
    return np.array([1.0 / counts[i["kind"]] for i in items]) * len(items) / len(counts)


def fit_weighted(x: np.ndarray, y: np.ndarray, sw: np.ndarray, l2: float = 1e-2) -> np.ndarray:
    xb = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(xb.shape[1])
    for _ in range(60):
        p = 1 / (1 + np.exp(-xb @ w))
        grad = xb.T @ (sw * (p - y)) + l2 * np.r_[0, w[1:]]
        hess = (xb.T * (sw * p * (1 - p))) @ xb + l2 * np.diag(np.r_[0, np.ones(len(w) - 1)])
        w -= np.linalg.solve(hess, grad)
    return w


def rates(prob: np.ndarray, items: list[dict], threshold: float) -> dict[str, float]:
    """Share refused per kind, plus the three targets' groups."""
    refused = prob < threshold
    groups: dict[str, list[bool]] = defaultdict(list)
    for r, item in zip(refused, items, strict=True):
        groups[item["kind"]].append(bool(r))
        if item["label"] == 1:
            groups["ANSWERABLE"].append(bool(r))
        elif item["kind"] == "offtopic":
            groups["OFFTOPIC"].append(bool(r))
        else:
            groups["ADVERSARIAL"].append(bool(r))
    return {g: float(np.mean(v)) for g, v in groups.items()}


def choose_threshold(prob: np.ndarray, items: list[dict], budget: float) -> float:
    """The highest threshold refusing at most budget of the answerable items."""
    answerable = np.array([i["label"] == 1 for i in items])
    best = 0.0
    for th in np.linspace(0.01, 0.99, 99):
        if np.mean(prob[answerable] < th) <= budget:
            best = float(th)
    return best


def evaluate(
    names: list[str], xs: dict[str, np.ndarray], halves: dict[str, list[dict]], budget: float
) -> tuple[np.ndarray, float, dict[str, dict[str, float]]]:
    cols = [FEATURE_NAMES.index(n) for n in names]
    tune = halves["tune"]
    y = np.array([i["label"] for i in tune], dtype=float)
    w = fit_weighted(xs["tune"][:, cols], y, class_weights(tune))

    def prob(x: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-(w[0] + x[:, cols] @ w[1:])))

    th = choose_threshold(prob(xs["tune"]), tune, budget)
    out = {h: rates(prob(xs[h]), halves[h], th) for h in ("tune", "confirm")}
    return w, th, out


def line(label: str, r: dict[str, float]) -> str:
    return (
        f"{label:34s} answerable refused {r['ANSWERABLE']:.3f} | adversarial refused "
        f"{r['ADVERSARIAL']:.3f} (entity {r.get('swap_entity', 0):.2f}, number "
        f"{r.get('swap_number', 0):.2f}, attribute {r.get('absent_attribute', 0):.2f}) | "
        f"off-topic refused {r['OFFTOPIC']:.3f}"
    )


def seed_items() -> list[dict]:
    """evals/seed.yaml's questions (not the collection ones) as items, asked as the assistant
    asks them: a follow-up by its standalone query."""
    from assistant.answer.followup import standalone_query
    from assistant.evals.sets import load_set

    out = []
    for item in load_set(ROOT / "evals" / "seed.yaml").items:
        if item.category == "collection":
            continue
        query = standalone_query(item.question, list(item.history) or None)
        facts = [[a for a in fact if isinstance(a, str)] for fact in item.facts]
        out.append(
            {
                "id": item.id,
                "kind": item.category,
                "label": int(item.answerable),
                "corpus": "seed",
                "half": "seed",
                "question": query,
                "own": item.question,
                "facts": facts,
            }
        )
    return out


def facts_in_top(item: dict, record: dict, top: int = 4) -> bool:
    """Are all the item's facts in the top sentences by cosine? (The selection step decides
    the answer; this checks the evidence the refusal model saw holds it.)"""
    text = " ".join(t for t, _ in sorted(record["sentences"], key=lambda s: -s[1])[:top])
    text = text.replace("\u2019", "'")
    return all(any(a.replace("\u2019", "'") in text for a in fact) for fact in item["facts"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(default_data()))
    ap.add_argument("--max-answerable", type=int, default=150, help="covid-qa per half")
    ap.add_argument("--refuse-answerable", type=float, default=0.04)
    ap.add_argument(
        "--features",
        default=",".join(Settings().refusal_weights),
        help="features to weigh (default: the shipped model's; any of FEATURE_NAMES, but not "
        "the vetoes negation_unmatched, opposite_unmatched, name_displaced, agent_displaced, "
        "which refuse alone)",
    )
    ap.add_argument(
        "--k",
        type=int,
        default=Settings().k,
        help="passages the features read (default: as an answer decides, on the best k)",
    )
    args = ap.parse_args()
    data = Path(args.data)
    folder = ROOT / "evals" / "runs" / "covid-subset" / "docs"
    folder.mkdir(parents=True, exist_ok=True)
    for name in subset_names(data, SUBSET_CHARS):
        link = folder / name
        if not link.exists():
            link.symlink_to((data / "docs" / name).resolve())
    settings = Settings()
    index = ROOT / "evals" / "runs" / ".index"
    bots = {
        "covid-qa": Assistant.from_folder(
            folder,
            index_dir=index / "covid-subset",
            # The subset folder links to the articles in ../shared: follow those links.
            settings=settings.model_copy(update={"follow_symlinks": True}),
        ),
        "seed": Assistant.from_folder(ROOT / "seeds", index_dir=index / "seed", settings=settings),
    }
    items = load_items(data, args.max_answerable)
    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    for i in items:
        counts[(i["half"], i["corpus"], i["kind"])] += 1
    for key, n in sorted(counts.items()):
        print(" ", *key, n)
    seed = seed_items()
    records = gather(bots, items + seed, args.k)

    halves = {h: [i for i in items if i["half"] == h] for h in ("tune", "confirm")}
    t = time.perf_counter()
    xs = {h: feature_rows(bots, halves[h], records) for h in halves}
    n_items = sum(len(v) for v in halves.values())
    print(f"features: {1000 * (time.perf_counter() - t) / n_items:.1f} ms per question")
    cos = FEATURE_NAMES.index("best_cosine")
    for h in ("tune", "confirm"):
        (wb,), bias, th = BASELINE[0].values(), BASELINE[1], BASELINE[2]
        p = 1 / (1 + np.exp(-(bias + wb * xs[h][:, cos])))
        print(line(f"today's rule, {h}", rates(p, halves[h], th)))

    chosen = args.features.split(",")
    w, th, out = evaluate(chosen, xs, halves, args.refuse_answerable)
    print(f"\nmodel over {chosen}")
    print("  bias", round(float(w[0]), 3))
    for n, v in zip(chosen, w[1:], strict=True):
        print(f"  {n:18s} {v:+.3f}")
    print(f"  threshold {th:.2f} (answerable refused <= {args.refuse_answerable} on tune)")
    for h in ("tune", "confirm"):
        print(line(f"model, {h}", out[h]))
    print("\nwithout each feature (refitted, same threshold rule), confirm half:")
    for name in chosen:
        rest = [n for n in chosen if n != name]
        if rest:
            print(
                line(f"- {name}", evaluate(rest, xs, halves, args.refuse_answerable)[2]["confirm"])
            )
    print("\neach feature alone, confirm half:")
    for name in chosen:
        print(line(f"+ {name}", evaluate([name], xs, halves, args.refuse_answerable)[2]["confirm"]))
    cols = [FEATURE_NAMES.index(n) for n in chosen]
    xseed = feature_rows(bots, seed, records)
    pseed = 1 / (1 + np.exp(-(w[0] + xseed[:, cols] @ w[1:])))
    pbase = 1 / (1 + np.exp(-(BASELINE[1] + BASELINE[0]["best_cosine"] * xseed[:, cos])))
    print("\nseed.yaml (independent check; facts = in the top-4 sentences by cosine):")
    for label, p, t in (("today's rule", pbase, BASELINE[2]), ("model", pseed, th)):
        by: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for item, pi in zip(seed, p, strict=True):
            g = by[item["kind"]]
            g[0] += 1
            refused = pi < t
            if item["label"] == 0:
                g[1] += refused
            else:
                g[1] += not refused
                g[2] += (not refused) and facts_in_top(item, records[f"seed|{item['question']}"])
        print(
            f"  {label}: "
            + "; ".join(
                f"{k} {v[1]}/{v[0]} right"
                + (f" ({v[2]} with facts)" if k != "unanswerable" else "")
                for k, v in by.items()
            )
        )
        wrong = [i["id"] for i, pi in zip(seed, p, strict=True) if (pi < t) == bool(i["label"])]
        print("    wrong:", ", ".join(wrong))
    summary = {
        "features": chosen,
        "bias": float(w[0]),
        "weights": w[1:].tolist(),
        "threshold": th,
        "rates": out,
    }
    (CACHE / "model.json").write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
