"""ask() with the index's stored sentence vectors against ask() embedding the passages'
sentences (what an index without them, e.g. PgStore, does, and what every answer did
before they were stored), on one index in one process. The two paths take turns question by
question, so both see the same load; every answer must be the same both ways.

    python evals/bench_answer_path.py --index-dir DIR [--data DIR] [--questions 300]

The index must have been built from (a subset of) the data set's docs/ folder; questions
about documents it does not hold are left out.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

from assistant import Assistant, Settings
from assistant.schema import Answer
from assistant.store import Collection, SentenceStore

ROOT = Path(__file__).resolve().parent.parent
_SENTENCE_API = {"has_sentences", "chunk_sentences", "sentence_vectors"}


class WithoutSentences:
    """A store seen without its sentence vectors (as PgStore is): everything else passes."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        if name in _SENTENCE_API:
            raise AttributeError(name)
        return getattr(self._store, name)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def hit5(answer: Answer, q: dict[str, Any]) -> bool:
    end = q["answer_start"] + len(q["answers"][0])
    return any(
        h.chunk.source == q["doc"] and h.chunk.start < end and q["answer_start"] < h.chunk.end
        for h in answer.hits[:5]
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index-dir", required=True)
    ap.add_argument("--data", default=str(ROOT.parent / "shared/datasets/covid-qa"))
    ap.add_argument("--questions", type=int, default=300)
    args = ap.parse_args()

    settings = Settings(show_progress=False)
    t = time.perf_counter()
    stored = Assistant.load(args.index_dir, settings=settings)
    load_s = time.perf_counter() - t
    store = stored.collection.store
    if not (isinstance(store, SentenceStore) and store.has_sentences):
        raise SystemExit(f"{args.index_dir} holds no sentence vectors: run `assistant index`")
    c = stored.collection
    embedded = Assistant(
        Collection(WithoutSentences(store), c.embedder, c.chunker, folder=c.folder),
        settings=settings,
    )
    stored.warm_up()
    assert store.manifest is not None
    names = set(store.manifest.sources)
    lines = (Path(args.data) / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    qs = [q for q in map(json.loads, lines) if q["doc"] in names][: args.questions]

    times: dict[str, list[float]] = {"stored": [], "embedded": []}
    stages: dict[str, dict[str, list[float]]] = {"stored": {}, "embedded": {}}
    hits = {"stored": 0, "embedded": 0}
    differ = []
    for i, q in enumerate(qs):
        order = [("stored", stored), ("embedded", embedded)]
        answers = {}
        for name, bot in order if i % 2 == 0 else order[::-1]:
            t = time.perf_counter()
            answers[name] = bot.ask(q["question"])
            times[name].append((time.perf_counter() - t) * 1000)
            for stage, seconds in answers[name].timings.items():
                stages[name].setdefault(stage, []).append(seconds * 1000)
            hits[name] += hit5(answers[name], q)
        a, b = answers["stored"], answers["embedded"]
        if (a.text, a.refused, a.citations) != (b.text, b.refused, b.citations):
            differ.append(q["question"])

    print(
        f"{len(qs)} covid-qa questions on {args.index_dir} ({len(store.chunks())} chunks); "
        f"load {load_s:.2f} s; {platform.machine()}, {os.cpu_count()} cores, "
        f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    print(
        f"{'ask() path':34s} {'p50 ms':>8s} {'p95 ms':>8s} {'hit@5':>6s}  "
        "p50 ms of embed / retrieve / compose"
    )
    for name, label in (
        ("embedded", "embed the sentences (before)"),
        ("stored", "stored sentence vectors (after)"),
    ):
        parts = " / ".join(
            f"{pct(stages[name].get(s, [0.0]), 50):.1f}" for s in ("embed", "retrieve", "compose")
        )
        print(
            f"{label:34s} {pct(times[name], 50):8.1f} {pct(times[name], 95):8.1f} "
            f"{hits[name] / max(len(qs), 1):6.3f}  {parts}"
        )
    print(f"answers that differ: {len(differ)} of {len(qs)}")
    for question in differ[:10]:
        print(f"  {question}")


if __name__ == "__main__":
    main()
