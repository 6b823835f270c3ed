"""PgStore: the index in PostgreSQL with pgvector, for several app servers on one database.

Tables (created on first use, idempotently; one index per database, or per schema with
``?options=-csearch_path%3Dname,public`` in the URL):

    assistant_generations  one row per commit: build settings, time, chunk and token counts
    assistant_sources      one row per document version: its SourceInfo
    assistant_chunks       one row per chunk version: the chunk (exact offsets, stable id) as
                           JSON, its file and position, its content hash (the embedding
                           cache key), its analysed terms, a generated tsvector (GIN index)
                           and its vector (HNSW index, cosine)
    assistant_lexemes      document frequency of every term in the latest generation (BM25)

Every row carries the generation that added it and the one that removed it, so a snapshot
(`PgStore` object) pinned to generation g reads exactly what g committed while later syncs
write, the way FaissStore's generation files work. `apply` is one transaction (the commit
point: a sync killed with kill -9 leaves the previous generation), taken under an advisory
lock; rows removed two generations ago are deleted by the next commit. `sync_lock()` is a
second, session-level advisory lock that `assistant index` holds for a whole sync, so two
syncs on one database run one after the other.

Dense search is approximate (HNSW, `hnsw.ef_search` from settings, iterative scans so that
hidden row versions never starve a result list); lexical search is BM25 computed in SQL over
the tsvector column, with the same analysis (assistant/text.py) and parameters as the
in-process BM25, so the fused ranking is the one FaissStore gives.

psycopg 3 is used directly rather than langchain-postgres: see docs/scaling.md.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import re
import struct
import threading
import uuid
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from ..errors import IndexMismatchError, IndexUnavailableError
from ..ingest.loaders import source_file
from ..schema import Chunk, SourceInfo
from ..text import BM25_B, BM25_K1, analyze
from .base import Batch, ChunkerConfig, Manifest

if TYPE_CHECKING:
    import psycopg

__all__ = ["DEFAULT_EF_SEARCH", "PgStore", "redact"]

DEFAULT_EF_SEARCH = 100
# Advisory lock keys (64-bit, per database): one for commits, one held for a whole sync.
_COMMIT_LOCK = int.from_bytes(hashlib.sha256(b"assistant:commit").digest()[:8], "big", signed=True)
_SYNC_LOCK = int.from_bytes(hashlib.sha256(b"assistant:sync").digest()[:8], "big", signed=True)
_CACHE = 20_000  # chunks kept per snapshot after a search fetched them


def redact(url: str) -> str:
    """The URL without its password, for messages.

    Example: redact("postgresql://me:secret@db/idx") -> "postgresql://me:***@db/idx"
    """
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def _pg_terms(text: str) -> list[str]:
    """The analysed terms as the database indexes them. The tsvector is built by PostgreSQL's
    'simple' parser from these terms joined by spaces; it splits at "_", so they are split
    here too and the query and the index agree.

    Example: _pg_terms("Amazon invested in covid_19") -> ["amazon", "invest", "covid", "19"]
    """
    return [p for t in analyze(text) for p in t.split("_") if p]


def _tsquery(terms: Iterable[str]) -> str:
    """An OR query of exact lexemes (terms are \\w+ words: nothing to escape).

    Example: _tsquery(["amazon", "invest"]) -> "'amazon' | 'invest'"
    """
    return " | ".join(f"'{t}'" for t in dict.fromkeys(terms))


_SCHEMA = """
CREATE TABLE IF NOT EXISTS assistant_generations (
    gen bigint PRIMARY KEY,
    name text NOT NULL,
    build jsonb NOT NULL,
    built_at text NOT NULL,
    chunk_count bigint NOT NULL,
    token_count bigint NOT NULL,
    committed_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS assistant_sources (
    source text NOT NULL,
    info jsonb NOT NULL,
    gen_added bigint NOT NULL,
    gen_removed bigint,
    PRIMARY KEY (source, gen_added)
);
CREATE TABLE IF NOT EXISTS assistant_lexemes (
    term text PRIMARY KEY,
    df bigint NOT NULL
);
"""

_CHUNKS = """
CREATE TABLE assistant_chunks (
    id text NOT NULL,
    file text NOT NULL,
    pos integer NOT NULL,
    hash text NOT NULL,
    data text NOT NULL,
    terms text NOT NULL,
    ntokens integer NOT NULL,
    tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, terms)) STORED,
    embedding vector({dim}) NOT NULL,
    gen_added bigint NOT NULL,
    gen_removed bigint,
    PRIMARY KEY (id, gen_added)
);
CREATE INDEX assistant_chunks_file ON assistant_chunks (file);
CREATE INDEX assistant_chunks_hash ON assistant_chunks (hash);
CREATE INDEX assistant_chunks_removed ON assistant_chunks (gen_removed);
"""
_GIN = "CREATE INDEX assistant_chunks_tsv ON assistant_chunks USING gin (tsv)"
_HNSW = (
    "CREATE INDEX assistant_chunks_hnsw ON assistant_chunks "
    "USING hnsw (embedding vector_cosine_ops)"
)
_BULK_ROWS = 2000  # a batch at least this large on a rebuild: index after the insert
_BUILD_MEMORY = "512MB"  # the graph of ~300k 384-d vectors fits: no slow spill to disk

_VISIBLE = "c.gen_added <= %(g)s AND (c.gen_removed IS NULL OR c.gen_removed > %(g)s)"


class _Database:
    """One connection to one database, shared by every snapshot of a store in this process
    (queries are short; a lock serialises the threads of one app server)."""

    def __init__(self, url: str, ef_search: int) -> None:
        self.url = url
        self.ef_search = ef_search
        self.lock = threading.RLock()
        self._conn: psycopg.Connection[Any] | None = None

    @property
    def where(self) -> str:
        return redact(self.url)

    def connect(self) -> psycopg.Connection[Any]:
        """A new connection with the vector type registered; errors say what to do."""
        import psycopg

        try:
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise IndexUnavailableError(
                f"cannot reach the index database {self.where} ({reason}): start PostgreSQL "
                "or correct the postgresql:// URL"
            ) from exc
        try:
            try:
                conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            except psycopg.errors.UniqueViolation:
                # Another process created it at the same moment (IF NOT EXISTS does not
                # guard that race): it is there now.
                conn.execute("SELECT 'vector'::regtype")
        except psycopg.Error as exc:
            conn.close()
            raise IndexUnavailableError(
                f"the database {self.where} lacks the pgvector extension: install pgvector "
                "on the server and run CREATE EXTENSION vector there as a superuser"
            ) from exc
        _register_vector(conn)
        with conn.transaction():
            # Serialised: two processes creating the tables at once would collide.
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_COMMIT_LOCK,))
            conn.execute(_SCHEMA)
        conn.execute("SET hnsw.iterative_scan = relaxed_order")
        return conn

    @contextlib.contextmanager
    def session(self) -> Iterator[psycopg.Connection[Any]]:
        """The shared connection, reconnected if the server went away since."""
        import psycopg

        with self.lock:
            if self._conn is None or self._conn.closed:
                self._conn = self.connect()
            try:
                yield self._conn
            except psycopg.OperationalError as exc:
                with contextlib.suppress(Exception):
                    self._conn.close()
                self._conn = None
                raise IndexUnavailableError(
                    f"lost the connection to the index database {self.where} ({exc}): check "
                    "that PostgreSQL is running, then try again"
                ) from exc


def _register_vector(conn: psycopg.Connection[Any]) -> None:
    """Send numpy vectors and read pgvector values in pgvector's binary format (2-byte
    dimension, 2 unused bytes, big-endian float32s): no text formatting of floats."""
    from psycopg.adapt import Dumper, Loader
    from psycopg.pq import Format
    from psycopg.types import TypeInfo

    info = TypeInfo.fetch(conn, "vector")
    assert info is not None  # the extension was just created
    info.register(conn)  # so that COPY can name the type
    vector_oid = info.oid

    class VectorDumper(Dumper):
        format = Format.BINARY
        oid = vector_oid

        def dump(self, obj: Any) -> bytes:
            v = np.asarray(obj, dtype=">f4").reshape(-1)
            return struct.pack(">HH", len(v), 0) + v.tobytes()

    class VectorLoader(Loader):
        format = Format.BINARY

        def load(self, data: Any) -> np.ndarray:
            return np.frombuffer(bytes(data)[4:], dtype=">f4").astype(np.float32)

    conn.adapters.register_dumper(np.ndarray, VectorDumper)
    conn.adapters.register_loader(info.oid, VectorLoader)


class _LazyChunks(Sequence[Chunk]):
    """Every chunk of a snapshot, read from the database on first use (a question about
    the collection needs them; an ordinary question never does)."""

    def __init__(self, store: PgStore) -> None:
        self._store = store
        self._items: tuple[Chunk, ...] | None = None

    def _load(self) -> tuple[Chunk, ...]:
        if self._items is None:
            self._items = self._store._read_all()
        return self._items

    def __len__(self) -> int:
        if self._items is None:
            m = self._store.manifest
            return 0 if m is None else m.chunk_count
        return len(self._items)

    @overload
    def __getitem__(self, i: int) -> Chunk: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[Chunk]: ...
    def __getitem__(self, i: int | slice) -> Chunk | Sequence[Chunk]:
        return self._load()[i]

    def __iter__(self) -> Iterator[Chunk]:
        return iter(self._load())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]


class PgStore:
    """A snapshot of the index in a PostgreSQL database, pinned to one generation.

    store = PgStore.connect("postgresql://user@host/db")
    store = store.apply(batch)          # one transaction
    store.search(vector, 10); store.lexical_search("amazon invest", 10)
    """

    def __init__(
        self,
        db: _Database,
        generation: int = 0,
        manifest: Manifest | None = None,
        token_count: int = 0,
    ) -> None:
        self._db = db
        self._gen = generation
        self._manifest = manifest
        self._token_count = token_count
        self._all = _LazyChunks(self)
        self._cache: OrderedDict[str, Chunk] = OrderedDict()
        self._idf: dict[str, float] = {}

    # ------------------------------------------------------------ opening

    @classmethod
    def connect(cls, url: str, *, ef_search: int = DEFAULT_EF_SEARCH) -> PgStore:
        """The latest committed index in the database at url (an empty store when it holds
        none yet). IndexUnavailableError when the database cannot be used."""
        db = _Database(url, ef_search)
        return cls(db).refresh()

    @classmethod
    def empty(cls, url: str, *, ef_search: int = DEFAULT_EF_SEARCH) -> PgStore:
        """A store at url that holds nothing yet (its first batch replaces what is there);
        nothing is read until it is used."""
        return cls(_Database(url, ef_search))

    def tidy(self) -> None:
        """Nothing to do: every apply already deletes the row versions no snapshot of the
        last two generations can see, in its own transaction."""

    def refresh(self) -> PgStore:
        return self._snapshot(None)

    def _snapshot(self, generation: int | None) -> PgStore:
        """The snapshot of one committed generation (None: the latest)."""
        with self._db.session() as conn:
            row = conn.execute(
                "SELECT gen, name, build, built_at, chunk_count, token_count "
                "FROM assistant_generations WHERE %(g)s::bigint IS NULL OR gen = %(g)s "
                "ORDER BY gen DESC LIMIT 1",
                {"g": generation},
            ).fetchone()
            if row is None:
                return PgStore(self._db)
            gen, name, build, built_at, chunk_count, token_count = row
            infos = conn.execute(
                "SELECT info FROM assistant_sources c WHERE " + _VISIBLE, {"g": gen}
            ).fetchall()
        sources = {i["source"]: SourceInfo(**i) for (i,) in infos}
        manifest = Manifest(
            model=build["model"],
            dimension=int(build["dimension"]),
            max_seq_length=int(build["max_seq_length"]),
            chunker=ChunkerConfig(**build["chunker"]),
            sources=sources,
            chunk_count=int(chunk_count),
            generation=name,
            built_at=built_at,
            folder=build.get("folder", ""),
        )
        return PgStore(self._db, gen, manifest, int(token_count))

    def latest_generation(self) -> str | None:
        """The generation the database holds now (one cheap query): a snapshot whose
        manifest names another one is stale."""
        with self._db.session() as conn:
            row = conn.execute(
                "SELECT name FROM assistant_generations ORDER BY gen DESC LIMIT 1"
            ).fetchone()
        return None if row is None else str(row[0])

    def is_current(self) -> bool:
        """False when another sync committed since this snapshot was taken."""
        mine = self._manifest.generation if self._manifest else None
        return self.latest_generation() == mine

    @contextlib.contextmanager
    def sync_lock(self, on_wait: Callable[[], None] | None = None) -> Iterator[bool]:
        """Hold the database's sync lock for a whole sync; yields whether it had to wait
        for another sync to finish first (on_wait is called before waiting). Released when
        the block ends or the process dies (it belongs to a connection of its own)."""
        conn = self._db.connect()
        try:
            got = conn.execute("SELECT pg_try_advisory_lock(%s)", (_SYNC_LOCK,)).fetchone()
            waited = not (got and got[0])
            if waited:
                if on_wait is not None:
                    on_wait()
                conn.execute("SELECT pg_advisory_lock(%s)", (_SYNC_LOCK,))
            yield waited
        finally:
            conn.close()

    # ------------------------------------------------------------ reading

    @property
    def location(self) -> str:
        return self._db.url

    @property
    def manifest(self) -> Manifest | None:
        return self._manifest

    def chunks(self) -> Sequence[Chunk]:
        return self._all

    def _read_all(self) -> tuple[Chunk, ...]:
        if self._gen == 0:
            return ()
        with self._db.session() as conn:
            rows = conn.execute(
                "SELECT data FROM assistant_chunks c WHERE "
                + _VISIBLE
                + ' ORDER BY file COLLATE "C", pos',
                {"g": self._gen},
            ).fetchall()
        return tuple(Chunk.from_dict(json.loads(d)) for (d,) in rows)

    def _remember(self, chunk_id: str, data: str) -> Chunk:
        chunk = self._cache.get(chunk_id)
        if chunk is None:
            chunk = Chunk.from_dict(json.loads(data))
            self._cache[chunk_id] = chunk
            if len(self._cache) > _CACHE:
                self._cache.popitem(last=False)
        return chunk

    def chunk(self, chunk_id: str) -> Chunk | None:
        if chunk_id in self._cache:
            return self._cache[chunk_id]
        if self._gen == 0:
            return None
        with self._db.session() as conn:
            row = conn.execute(
                "SELECT data FROM assistant_chunks c WHERE c.id = %(id)s AND " + _VISIBLE,
                {"id": chunk_id, "g": self._gen},
            ).fetchone()
        return None if row is None else self._remember(chunk_id, row[0])

    def search(self, query: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Approximate: pgvector HNSW (cosine) with ef_search from settings."""
        if self._gen == 0 or k <= 0 or self._manifest is None:
            return []
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        with self._db.session() as conn, conn.transaction():
            conn.execute(f"SET LOCAL hnsw.ef_search = {int(max(self._db.ef_search, 1))}")
            rows = conn.execute(
                "SELECT c.id, c.data, c.embedding <=> %(q)s AS d, c.file, c.pos "
                "FROM assistant_chunks c WHERE "
                + _VISIBLE
                + " ORDER BY c.embedding <=> %(q)s LIMIT %(k)s",
                {"q": q, "g": self._gen, "k": k},
            ).fetchall()
        # relaxed_order may return near-ties out of order: rank here, ties in chunks() order.
        ranked = sorted(rows, key=lambda r: (r[2], _c_order(r[3]), r[4]))
        return [(i, 1.0 - float(d)) for i, data, d, _, _ in ranked if self._remember(i, data)]

    def lexical_search(self, query: str, k: int) -> list[tuple[str, float]]:
        """The k chunks with the highest BM25 score for query (positive only), best first:
        the in-process BM25's formula (Lucene variant, same k1 and b) over the tsvector."""
        terms = Counter(_pg_terms(query))
        if self._gen == 0 or not terms or k <= 0 or self._manifest is None:
            return []
        n = self._manifest.chunk_count
        avg = self._token_count / n if n else 1.0
        with self._db.session() as conn:
            rows = conn.execute(
                """
                WITH q AS (
                    SELECT t.term, t.n,
                           ln(1 + (%(n)s - l.df + 0.5) / (l.df + 0.5)) AS idf
                    FROM unnest(%(terms)s::text[], %(counts)s::int[]) AS t(term, n)
                    JOIN assistant_lexemes l ON l.term = t.term
                )
                SELECT c.id, c.data, sum(
                    q.n * q.idf * cardinality(u.positions) / (cardinality(u.positions)
                    + %(k1)s * (1 - %(b)s + %(b)s * c.ntokens / %(avg)s))) AS score,
                    c.file, c.pos
                FROM assistant_chunks c
                -- Only the query's lexemes, picked in C (setweight marks them, ts_filter
                -- keeps them): unnesting whole tsvectors in SQL cost 3x more.
                CROSS JOIN LATERAL unnest(
                    ts_filter(setweight(c.tsv, 'A', %(terms)s::text[]), '{a}')
                ) AS u(lexeme, positions, weights)
                JOIN q ON q.term = u.lexeme
                WHERE c.tsv @@ %(tsq)s::tsquery AND """
                + _VISIBLE
                + """
                GROUP BY c.id, c.gen_added, c.data, c.file, c.pos
                ORDER BY score DESC, c.file COLLATE "C", c.pos
                LIMIT %(k)s
                """,
                {
                    "terms": list(terms),
                    "counts": list(terms.values()),
                    "n": float(n),
                    "k1": BM25_K1,
                    "b": BM25_B,
                    "avg": float(avg or 1.0),
                    "tsq": _tsquery(terms),
                    "g": self._gen,
                    "k": k,
                },
            ).fetchall()
        return [(i, float(s)) for i, data, s, _, _ in rows if s > 0 and self._remember(i, data)]

    def idf(self, term: str) -> float:
        """BM25 inverse document frequency of an analysed term (as LexicalIndex.idf)."""
        if term not in self._idf:
            n = self._manifest.chunk_count if self._manifest else 0
            parts = [p for p in term.split("_") if p]
            df = 0
            if parts and n:
                with self._db.session() as conn:
                    rows = conn.execute(
                        "SELECT df FROM assistant_lexemes WHERE term = ANY(%s)", (parts,)
                    ).fetchall()
                # A split term occurs where its rarest part does, at most.
                df = min((int(r[0]) for r in rows), default=0) if len(rows) == len(parts) else 0
            self._idf[term] = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
        return self._idf[term]

    def cosines(self, query: np.ndarray, chunk_ids: Sequence[str]) -> np.ndarray:
        if not chunk_ids:
            return np.zeros(0, dtype=np.float32)
        with self._db.session() as conn:
            rows = conn.execute(
                "SELECT c.id, c.embedding FROM assistant_chunks c "
                "WHERE c.id = ANY(%(ids)s) AND " + _VISIBLE,
                {"ids": list(chunk_ids), "g": self._gen},
                binary=True,
            ).fetchall()
        by_id = dict(rows)
        q = np.asarray(query, dtype=np.float32)
        return np.array([float(by_id[i] @ q) for i in chunk_ids], dtype=np.float32)

    def vectors_by_hash(self, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        wanted = list(dict.fromkeys(hashes))
        if self._gen == 0 or not wanted:
            return {}
        with self._db.session() as conn:
            rows = conn.execute(
                "SELECT DISTINCT ON (c.hash) c.hash, c.embedding FROM assistant_chunks c "
                "WHERE c.hash = ANY(%(h)s) AND " + _VISIBLE,
                {"h": wanted, "g": self._gen},
                binary=True,
            ).fetchall()
        return dict(rows)

    # ------------------------------------------------------------ writing

    def apply(self, batch: Batch) -> PgStore:
        """Commit the batch in one transaction, merged into the latest committed state (what
        another process committed since this snapshot is kept: syncs hold `sync_lock` and
        start from a refreshed snapshot, so this is the snapshot's own state). Applied to an
        empty snapshot it replaces whatever the database holds, as every store does."""
        b = batch.build
        replace_all = batch.replace_all or self._gen == 0
        # Checked before anything is sent: the database would reject it anyway.
        for u in batch.upserts:
            if u.chunks and np.asarray(u.vectors).shape != (len(u.chunks), b.dimension):
                raise ValueError(f"{u.info.source}: vectors are not {b.dimension}-dimensional")
        with self._db.session() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_COMMIT_LOCK,))
            last = conn.execute(
                "SELECT gen, chunk_count, token_count, build->>'dimension' "
                "FROM assistant_generations ORDER BY gen DESC LIMIT 1"
            ).fetchone()
            prev, count, tokens = (int(last[0]), int(last[1]), int(last[2])) if last else (0, 0, 0)
            g = prev + 1
            self._ensure_chunks_table(conn, b.dimension, replace_all)
            gone = sorted(set(batch.deletes) | {u.info.source for u in batch.upserts})
            removed_where = (
                "gen_removed IS NULL"
                if replace_all
                else "gen_removed IS NULL AND file = ANY(%(gone)s)"
            )
            conn.execute(
                "UPDATE assistant_sources SET gen_removed = %(g)s WHERE "
                + removed_where.replace("file", "source"),
                {"g": g, "gone": gone},
            )
            conn.execute(
                "UPDATE assistant_chunks SET gen_removed = %(g)s WHERE " + removed_where,
                {"g": g, "gone": gone},
            )
            for u in batch.upserts:
                conn.execute(
                    "INSERT INTO assistant_sources (source, info, gen_added) "
                    "VALUES (%s, %s::jsonb, %s)",
                    (u.info.source, json.dumps(_info_json(u.info)), g),
                )
            incoming = sum(len(u.chunks) for u in batch.upserts)
            # pgvector builds an HNSW graph about ten times faster at once than row by row
            # (evals/bench_pg.py), and the GIN index comes out about a quarter faster too
            # (30,000 passages: 11 s against 14 s); a first build or a rebuild has no readers
            # to block.
            bulk = replace_all and incoming >= _BULK_ROWS
            if bulk:
                conn.execute("DROP INDEX IF EXISTS assistant_chunks_hnsw")
                conn.execute("DROP INDEX IF EXISTS assistant_chunks_tsv")
            self._copy_chunks(conn, batch, g)
            if bulk:
                conn.execute(f"SET LOCAL maintenance_work_mem = '{_BUILD_MEMORY}'")
                conn.execute(_GIN)
                conn.execute(_HNSW)
                conn.execute("ANALYZE assistant_chunks")
            # Term statistics of the latest generation: remove what left, add what came.
            delta = conn.execute(
                """
                WITH changed AS (
                    SELECT tsv, ntokens, CASE WHEN gen_added = %(g)s THEN 1 ELSE -1 END AS sign
                    FROM assistant_chunks
                    WHERE gen_added = %(g)s OR gen_removed = %(g)s
                ), terms AS (
                    INSERT INTO assistant_lexemes AS l (term, df)
                    SELECT u.lexeme, sum(sign) FROM changed, unnest(changed.tsv) AS u
                    GROUP BY u.lexeme
                    ON CONFLICT (term) DO UPDATE SET df = l.df + EXCLUDED.df
                )
                SELECT coalesce(sum(sign), 0), coalesce(sum(sign * ntokens), 0) FROM changed
                """,
                {"g": g},
            ).fetchone()
            assert delta is not None
            conn.execute("DELETE FROM assistant_lexemes WHERE df <= 0")
            count, tokens = count + int(delta[0]), tokens + int(delta[1])
            name = uuid.uuid4().hex[:12]
            built_at = batch.stamp()
            build = {
                "model": b.model,
                "dimension": b.dimension,
                "max_seq_length": b.max_seq_length,
                "chunker": {
                    "max_tokens": b.chunker.max_tokens,
                    "overlap_tokens": b.chunker.overlap_tokens,
                    "version": b.chunker.version,
                    "vectors": b.chunker.vectors,
                },
                "folder": b.folder,
            }
            conn.execute(
                "INSERT INTO assistant_generations "
                "(gen, name, build, built_at, chunk_count, token_count) "
                "VALUES (%s, %s, %s::jsonb, %s, %s, %s)",
                (g, name, json.dumps(build), built_at, count, tokens),
            )
            # Versions no snapshot of the last two generations can see any more.
            conn.execute("DELETE FROM assistant_chunks WHERE gen_removed < %s", (g,))
            conn.execute("DELETE FROM assistant_sources WHERE gen_removed < %s", (g,))
            conn.execute("DELETE FROM assistant_generations WHERE gen < %s", (g - 1,))
        return self._snapshot(g)

    def _ensure_chunks_table(
        self, conn: psycopg.Connection[Any], dimension: int, replace_all: bool
    ) -> None:
        row = conn.execute(
            "SELECT atttypmod FROM pg_attribute "
            "WHERE attrelid = to_regclass('assistant_chunks') AND attname = 'embedding'"
        ).fetchone()
        if row is not None and int(row[0]) == dimension:
            return
        if row is not None:
            if not replace_all:
                raise IndexMismatchError(
                    f"{self._db.where} holds {row[0]}-dimensional vectors, this batch has "
                    f"{dimension}: run `assistant index` to rebuild it"
                )
            # A rebuild with another model: the old vectors cannot share the column.
            conn.execute("DROP TABLE assistant_chunks")
            conn.execute("DELETE FROM assistant_lexemes")
            conn.execute("UPDATE assistant_generations SET chunk_count = 0, token_count = 0")
        conn.execute(_CHUNKS.format(dim=int(dimension)))
        conn.execute(_GIN)
        conn.execute(_HNSW)

    def _copy_chunks(self, conn: psycopg.Connection[Any], batch: Batch, g: int) -> None:
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY assistant_chunks (id, file, pos, hash, data, terms, ntokens, embedding,"
                " gen_added) FROM STDIN (FORMAT BINARY)"
            ) as copy,
        ):
            copy.set_types(
                ["text", "text", "int4", "text", "text", "text", "int4", "vector", "int8"]
            )
            for u in batch.upserts:
                vectors = np.asarray(u.vectors, dtype=np.float32)
                for pos, (c, v) in enumerate(zip(u.chunks, vectors, strict=True)):
                    terms = _pg_terms(c.text)
                    copy.write_row(
                        (
                            c.id,
                            source_file(c.source),
                            pos,
                            c.hash,
                            json.dumps(c.to_dict(), ensure_ascii=False),
                            " ".join(terms),
                            len(terms),
                            v,
                            g,
                        )
                    )


def _c_order(s: str) -> bytes:
    """Python's str order, which is COLLATE "C" order on UTF-8."""
    return s.encode("utf-8", "surrogatepass")


def _info_json(info: SourceInfo) -> dict[str, Any]:
    return {
        "source": info.source,
        "kind": info.kind,
        "size": info.size,
        "chunks": info.chunks,
        "pages": info.pages,
        "sha256": info.sha256,
    }
