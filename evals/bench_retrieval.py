"""Retrieval benchmark on an external QA corpus (default: ../shared/datasets/covid-qa).

Prints hit@k for dense only, BM25 only and hybrid fusion settings, on two fixed halves of the
questions: settings are chosen on the "tune" half (even ids) and confirmed on the "confirm"
half (odd ids). With --langchain it also measures LangChain's tutorial pipeline
(RecursiveCharacterTextSplitter 1000/200, the same MiniLM model, FAISS, k) on the same data.

hit@k: one of the top-k chunks comes from the gold document and overlaps the answer span.

With --sentences it also measures a chunk's dense score blended with its best sentence's
cosine (RetrievalConfig.sentence_share) over a grid of shares and BM25 shares, with the mean
time of one retrieve() beside each row.

    python evals/bench_retrieval.py [--data DIR] [--index-dir DIR] [-k 5] [--langchain]
                                    [--sentences] [--only-sentences]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

from assistant import Assistant, Settings
from assistant.retrieval.hybrid import HybridRetriever, RetrievalConfig
from assistant.retrieval.lexical import LexicalIndex

ROOT = Path(__file__).resolve().parent.parent


def overlaps(source: str, start: int, end: int, q: dict) -> bool:
    span_start = q["answer_start"]
    span_end = span_start + len(q["answers"][0])
    return source == q["doc"] and start < span_end and end > span_start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(ROOT.parent / "shared/datasets/covid-qa"))
    ap.add_argument("--index-dir", default=str(ROOT / "evals/runs/.index/covid-qa"))
    ap.add_argument("-k", type=int, default=5)
    ap.add_argument("--langchain", action="store_true")
    ap.add_argument("--sentences", action="store_true", help="also the sentence-share grid")
    ap.add_argument(
        "--only-sentences", action="store_true", help="the default and the sentence grid only"
    )
    args = ap.parse_args()
    data = Path(args.data)
    questions = [json.loads(line) for line in (data / "questions.jsonl").open()]
    halves = {
        "tune": [q for q in questions if int(q["id"]) % 2 == 0],
        "confirm": [q for q in questions if int(q["id"]) % 2 == 1],
    }

    t = time.perf_counter()
    bot = Assistant.from_folder(data / "docs", index_dir=args.index_dir, settings=Settings())
    base = bot.retriever
    print(f"index ready in {time.perf_counter() - t:.1f}s: {len(base.store.chunks())} chunks")
    t = time.perf_counter()
    qvecs = bot.embedder.embed([q["question"] for q in questions])
    print(f"embedded {len(questions)} questions in {time.perf_counter() - t:.1f}s")
    qv_of = {q["id"]: v for q, v in zip(questions, qvecs, strict=True)}
    k = args.k

    def score(config: RetrievalConfig) -> dict[str, float]:
        # BM25 built once in-process is reused; a store that ranks in the database has none.
        lexical = base.lexical if isinstance(base.lexical, LexicalIndex) else None
        r = HybridRetriever(base.store, base.embedder, config, lexical=lexical)
        out = {}
        seconds = 0.0
        for name, qs in halves.items():
            hits = 0
            for q in qs:
                t = time.perf_counter()
                top = r.retrieve(q["question"], k, query_vector=qv_of[q["id"]])
                seconds += time.perf_counter() - t
                hits += any(overlaps(h.chunk.source, h.chunk.start, h.chunk.end, q) for h in top)
            out[name] = hits / len(qs)
        out["ms"] = 1000 * seconds / len(questions)
        return out

    configs: dict[str, RetrievalConfig] = {}
    if not args.only_sentences:
        configs["dense only"] = RetrievalConfig(lexical_weight=0.0)
        configs["BM25 only"] = RetrievalConfig(lexical_weight=1.0)
        for lw in (1.0, 1.5, 2.0):
            configs[f"hybrid rrf bm25_weight={lw}"] = RetrievalConfig(
                fusion="rrf", lexical_weight=lw
            )
        for lw in (0.5, 0.6, 0.7, 0.8):
            configs[f"hybrid score bm25_share={lw}"] = RetrievalConfig(lexical_weight=lw)
    else:
        configs["hybrid score bm25_share=0.7"] = RetrievalConfig(lexical_weight=0.7)
    if args.sentences or args.only_sentences:
        for share in (0.5, 1.0):
            configs[f"dense only sentence_share={share}"] = RetrievalConfig(
                lexical_weight=0.0, sentence_share=share
            )
        # The first pass (README) ran shares 0.3 to 1.0 at BM25 shares 0.5 to 0.7: the best
        # tune rows had the most sentence and the least BM25, so the grid looks there.
        for share, lws in ((0.85, (0.55, 0.6, 0.65)), (1.0, (0.4, 0.5, 0.55, 0.6, 0.65))):
            for lw in lws:
                configs[f"hybrid score bm25_share={lw} sentence_share={share}"] = RetrievalConfig(
                    lexical_weight=lw, sentence_share=share
                )
    print(
        f"\ncovid-qa hit@{k} ({len(halves['tune'])} tune / {len(halves['confirm'])} confirm "
        f"questions; {platform.machine()}, {platform.processor() or 'cpu'})"
    )
    print(f"{'retrieval':55s} {'tune':>6s} {'confirm':>8s} {'all':>6s} {'ms':>6s}")
    for name, config in configs.items():
        s = score(config)
        n_t, n_c = len(halves["tune"]), len(halves["confirm"])
        total = (s["tune"] * n_t + s["confirm"] * n_c) / (n_t + n_c)
        print(
            f"{name:55s} {s['tune']:6.3f} {s['confirm']:8.3f} {total:6.3f} {s['ms']:6.1f}",
            flush=True,
        )

    if args.langchain:
        langchain_baseline(data, questions, bot, k)


def langchain_baseline(data: Path, questions: list[dict], bot: Assistant, k: int) -> None:
    """LangChain's tutorial: RecursiveCharacterTextSplitter(1000, 200), MiniLM, FAISS, k."""
    import faiss
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=1000, chunk_overlap=200, add_start_index=True
    )
    chunks = []
    for path in sorted((data / "docs").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        for d in splitter.create_documents([text]):
            start = d.metadata["start_index"]
            chunks.append((path.name, start, start + len(d.page_content), d.page_content))
    t = time.perf_counter()
    vectors = bot.embedder.embed([c[3] for c in chunks])
    print(
        f"\nLangChain tutorial baseline: {len(chunks)} chunks embedded in "
        f"{time.perf_counter() - t:.1f}s"
    )
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    qv = bot.embedder.embed([q["question"] for q in questions])
    _, rows = index.search(np.ascontiguousarray(qv), k)
    hits = sum(
        any(overlaps(chunks[r][0], chunks[r][1], chunks[r][2], q) for r in row)
        for q, row in zip(questions, rows, strict=True)
    )
    print(
        f"LangChain tutorial pipeline hit@{k}: {hits / len(questions):.3f} "
        f"({len(questions)} questions)"
    )


if __name__ == "__main__":
    main()
