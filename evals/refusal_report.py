"""The refusal and answer-tightness figures of issue 10, on one half of evals/refusal/.

    python evals/refusal_report.py --half confirm [--answerable 150] [--adversarial 200]
    python evals/refusal_report.py --half tune --set max_answer_sentences=3

Every question is asked end to end (Assistant.ask: follow-up rewriting, retrieval, the
refusal model of Settings, the extractive backend), each of its own corpus's index: covid-qa
items of the 19-article subset the sets were made from, seed items of the seed article. It
prints:
- answerable wrongly refused (covid-qa and seed answerable questions);
- adversarial unanswerable refused, overall and per kind (entity swapped, number swapped,
  attribute absent);
- off-topic refused;
- answer contains gold: a normalised covid-qa gold answer occurs in the answer, over all the
  answerable covid-qa questions asked (a refusal contains nothing), over those answered, and
  over those whose shortest gold has at most --short words (6; the short spans a SQuAD-like
  set asks for);
- median sentences per answer (cited sentences, answers only);
- answers quoting the same characters twice (overlapping citations of one source): must be 0.

The sample is bounded (evenly spaced answerable and adversarial items, all the off-topic and
seed ones) because every candidate sentence must be embedded; embeddings are cached in
evals/runs/refusal-cache/vectors.npz, shared with calibrate_refusal.py, so a rerun embeds
nothing new. --set overrides a Settings field (JSON value) to compare variants on the tune
half before changing a default.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assistant import Assistant, Settings
from assistant.answer.evidence import Grounds, RefusalModel
from assistant.evals.scoring import contains_answer, quotes_overlap
from assistant.schema import Hit
from assistant.store import SentenceStore

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "evals"))
from calibrate_refusal import CACHE, VectorCache, load_items  # noqa: E402
from make_refusal_sets import SUBSET_CHARS, default_data, subset_names  # noqa: E402

ADVERSARIAL = ("swap_entity", "swap_number", "absent_attribute")


class CachedEmbedder:
    """The packaged embedder, with every vector kept on disk (keyed by text)."""

    def __init__(self, inner: Any, cache: VectorCache) -> None:
        self.inner, self.cache = inner, cache
        self.name, self.dimension = inner.name, inner.dimension
        self.max_seq_length = inner.max_seq_length

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.cache.get(list(texts))

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return self.inner.token_spans(text)


def settings_with(overrides: Sequence[str]) -> Settings:
    """Settings with --set overrides applied ("name=JSON" each).

    Example: settings_with(["evidence_k=5"]).evidence_k -> 5
    """
    return Settings(**{k: json.loads(v) for k, v in (s.split("=", 1) for s in overrides)})


def gold_answers(data: Path) -> dict[str, list[str]]:
    """Each covid-qa question's gold answers, by question id."""
    with (data / "questions.jsonl").open(encoding="utf-8") as lines:
        return {(q := json.loads(line))["id"]: q["answers"] for line in lines}


def sample(items: list[dict], kinds: Sequence[str], n: int) -> list[dict]:
    """At most n of the items of these kinds, evenly spaced (deterministic)."""
    chosen = [i for i in items if i["kind"] in kinds]
    if len(chosen) <= n:
        return chosen
    return [chosen[int(k)] for k in np.linspace(0, len(chosen) - 1, n)]


def grounds_of(
    bot: Assistant,
    question: str,
    settings: Settings,
    refusal: RefusalModel,
    query_vector: np.ndarray | None = None,
    hits: Sequence[Hit] | None = None,
) -> Grounds:
    """The evidence an answer to question would gather from bot's index (the retrieval of an
    answer unless hits are given), decided by refusal."""
    state = bot._state
    stored = state.store if isinstance(state.store, SentenceStore) else None
    qv = state.retriever.embed_query(question) if query_vector is None else query_vector
    if hits is None:
        hits = state.retriever.retrieve(
            question, max(settings.k, settings.evidence_k), query_vector=qv
        )
    return bot.answerer.gather(
        question,
        qv,
        hits,
        idf=state.retriever.lexical.idf,
        refusal=refusal,
        stored=stored,
        decide_on=settings.k,
    )


def build_bots(settings: Settings, data: Path) -> tuple[dict[str, Assistant], VectorCache]:
    """An Assistant per corpus ("seed": the seed article, "covid-qa": the 19-article subset
    the sets were made from), sharing one embedder whose vectors are cached on disk (save the
    returned cache when done)."""
    folder = ROOT / "evals" / "runs" / "covid-subset" / "docs"
    folder.mkdir(parents=True, exist_ok=True)
    for name in subset_names(data, SUBSET_CHARS):
        link = folder / name
        if not link.exists():
            link.symlink_to((data / "docs" / name).resolve())
    CACHE.mkdir(parents=True, exist_ok=True)
    index = ROOT / "evals" / "runs" / ".index"
    first = Assistant.from_folder(ROOT / "seeds", index_dir=index / "seed", settings=settings)
    vectors = VectorCache(CACHE / "vectors.npz", first.embedder.embed)
    embedder = CachedEmbedder(first.embedder, vectors)
    bots = {
        "seed": Assistant.from_folder(
            ROOT / "seeds", index_dir=index / "seed", settings=settings, embedder=embedder
        ),
        "covid-qa": Assistant.from_folder(
            folder,
            index_dir=index / "covid-subset",
            # The subset folder links to the articles in ../shared: follow those links.
            settings=settings.model_copy(update={"follow_symlinks": True}),
            embedder=embedder,
        ),
    }
    return bots, vectors


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--half", choices=("tune", "confirm"), default="confirm")
    ap.add_argument("--data", default=str(default_data()))
    ap.add_argument("--answerable", type=int, default=150, help="covid-qa answerable asked")
    ap.add_argument("--adversarial", type=int, default=200, help="adversarial asked")
    ap.add_argument("--set", action="append", default=[], help="Settings override name=JSON")
    ap.add_argument(
        "--short", type=int, default=6, help="also report golds of at most this many words"
    )
    args = ap.parse_args()
    data = Path(args.data)
    settings = settings_with(args.set)

    bots, vectors = build_bots(settings, data)
    gold = gold_answers(data)

    items = [i for i in load_items(data, 10**6) if i["half"] == args.half]
    asked = (
        sample([i for i in items if i["corpus"] == "covid-qa"], ("answerable",), args.answerable)
        + [i for i in items if i["kind"] == "seed_answerable"]
        + sample(items, ADVERSARIAL, args.adversarial)
        + [i for i in items if i["kind"] == "offtopic"]
    )
    t0 = time.perf_counter()
    refused: dict[str, list[bool]] = defaultdict(list)
    contains: list[bool] = []
    contains_answered: list[bool] = []
    contains_short: list[bool] = []  # questions whose shortest gold is short (SQuAD-like)
    lengths: list[int] = []
    duplicates: list[str] = []
    for n, item in enumerate(asked, 1):
        answer = bots[item["corpus"]].ask(item["question"])
        refused[item["kind"]].append(answer.refused)
        if not answer.refused:
            lengths.append(len(answer.citations))
            if quotes_overlap((c.source, c.start, c.end) for c in answer.citations):
                duplicates.append(item["id"])
        if item["kind"] == "answerable":
            hit = not answer.refused and contains_answer(answer.text, gold[item["qid"]])
            contains.append(hit)
            if min(len(g.split()) for g in gold[item["qid"]]) <= args.short:
                contains_short.append(hit)
            if not answer.refused:
                contains_answered.append(hit)
        if n % 50 == 0:
            vectors.save()
            print(f"  {n}/{len(asked)} asked in {time.perf_counter() - t0:.0f}s", flush=True)
    vectors.save()
    seconds = time.perf_counter() - t0

    def share(kinds: Sequence[str]) -> str:
        values = [v for k in kinds for v in refused.get(k, [])]
        return f"{sum(values) / len(values):.3f} ({sum(values)}/{len(values)})" if values else "-"

    def rate(values: list[bool]) -> str:
        return f"{sum(values) / len(values):.3f} ({sum(values)}/{len(values)})" if values else "-"

    print(f"\n{args.half} half, {len(asked)} questions in {seconds:.0f}s; settings {args.set}")
    rows = [
        ("answerable wrongly refused", share(("answerable", "seed_answerable"))),
        ("  covid-qa / seed", f"{share(('answerable',))} / {share(('seed_answerable',))}"),
        ("adversarial refused", share(ADVERSARIAL)),
        *((f"  {k}", share((k,))) for k in ADVERSARIAL),
        ("off-topic refused", share(("offtopic",))),
        ("answer contains gold (covid-qa, all)", rate(contains)),
        ("  of those answered", rate(contains_answered)),
        (f"  golds of <= {args.short} words, all", rate(contains_short)),
        (
            "median sentences per answer",
            f"{statistics.median(lengths):g} (mean {statistics.fmean(lengths):.2f})"
            if lengths
            else "-",
        ),
        ("answers with a duplicated quote", f"{len(duplicates)} {duplicates[:5]}"),
    ]
    for label, value in rows:
        print(f"  {label:40s} {value}")


if __name__ == "__main__":
    main()
