"""PgStore against a real PostgreSQL (the bundled one the session starts, tests/pg.py):
several processes on one database, syncs that take turns, a sync killed mid-commit, the
plain URL path a user takes, and errors that say what to do. The store contract itself runs
in test_store_contract.py."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
from fakes import FakeEmbedder
from pg import PgServer

from assistant.errors import IndexUnavailableError
from assistant.retrieval.hybrid import HybridRetriever, RetrievalConfig
from assistant.retrieval.lexical import LexicalIndex
from assistant.store import ChunkerConfig, open_store, sync_index
from assistant.store.postgres import PgStore

WORKER = Path(__file__).resolve().parent / "pg_worker.py"
ROOT = Path(__file__).resolve().parent.parent
CHUNKER = ChunkerConfig(24, 6)


def worker(mode: str, url: str, folder: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen(
        [sys.executable, str(WORKER), mode, url, str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def write_docs(folder: Path, docs: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in docs.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


DOCS = {
    "bees.txt": "Bees make honey in hives. A hive holds one queen and many workers.",
    "rivers.txt": "The Danube flows through ten countries before it reaches the Black Sea.",
    "trees.txt": "Oak trees can live for a thousand years. Their acorns feed jays and squirrels.",
}


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def assert_consistent(url: str, folder: Path) -> None:
    """What a committed index must satisfy, whatever happened to the syncs."""
    store = PgStore.connect(url)
    m = store.manifest
    assert m is not None
    assert set(m.sources) == {p.name for p in folder.iterdir()}
    chunks = list(store.chunks())
    assert len(chunks) == m.chunk_count == sum(s.chunks for s in m.sources.values())
    assert len({c.id for c in chunks}) == len(chunks)
    # The BM25 term statistics equal a recount of the live chunks.
    recount = dict(
        rows(
            url,
            "SELECT u.lexeme, count(*) FROM assistant_chunks c, unnest(c.tsv) u "
            "WHERE c.gen_removed IS NULL GROUP BY u.lexeme",
        )
    )
    assert dict(rows(url, "SELECT term, df FROM assistant_lexemes")) == recount


# ---------------------------------------------------------------- lexical search in SQL


def test_bm25_in_the_database_scores_as_the_in_process_bm25(pg_url: str, tmp_path: Path) -> None:
    docs = write_docs(
        tmp_path / "docs",
        {
            **DOCS,
            "honey.txt": "Honey bees, bumble bees and mason bees all visit flowers. "
            "Beekeepers harvest honey from the hive in late summer; honey keeps for years.",
        },
    )
    sync_index(docs, pg_url, FakeEmbedder(), CHUNKER)
    store = PgStore.connect(pg_url)
    chunks = list(store.chunks())
    bm25 = LexicalIndex([c.text for c in chunks])
    for query in ("honey bees hive", "how long do oak trees live", "Danube countries", "zebra"):
        expected = bm25.scores(query)
        got = dict(store.lexical_search(query, 50))
        want = {c.id: float(s) for c, s in zip(chunks, expected, strict=True) if s > 0}
        assert set(got) == set(want), query
        for chunk_id, score in want.items():
            assert got[chunk_id] == pytest.approx(score, rel=1e-4), query
        for term in ("honey", "oak", "zebra"):
            assert store.idf(term) == pytest.approx(bm25.idf(term), rel=1e-6)


def test_a_bulk_first_load_builds_both_indexes_after_the_rows(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first load at least _BULK_ROWS chunks large drops the GIN and HNSW indexes and
    builds them after the rows (faster): they exist afterwards, are used, and searches give
    what a row-by-row load gives."""
    from assistant.store import postgres

    docs = write_docs(tmp_path / "docs", DOCS)
    embedder = FakeEmbedder()
    sync_index(docs, pg_url, embedder, CHUNKER)  # row by row: a few chunks
    expected = PgStore.connect(pg_url)
    want = (
        expected.lexical_search("honey bees hive", 5),
        expected.search(embedder.embed(["oak"])[0], 3),
    )
    bulk_url = pg_url.replace("?", "_bulk?", 1)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {bulk_url.split('?')[0].rsplit('/', 1)[1]}")
    monkeypatch.setattr(postgres, "_BULK_ROWS", 1)
    sync_index(docs, bulk_url, embedder, CHUNKER)
    indexes = {r[0] for r in rows(bulk_url, "SELECT indexname FROM pg_indexes")}
    assert {"assistant_chunks_tsv", "assistant_chunks_hnsw"} <= indexes
    store = PgStore.connect(bulk_url)
    got = (store.lexical_search("honey bees hive", 5), store.search(embedder.embed(["oak"])[0], 3))
    assert got == want
    assert_consistent(bulk_url, docs)


def test_hybrid_retrieval_ranks_the_same_with_either_store(pg_url: str, tmp_path: Path) -> None:
    docs = write_docs(tmp_path / "docs", DOCS)
    embedder = FakeEmbedder()
    sync_index(docs, pg_url, embedder, CHUNKER)
    sync_index(docs, tmp_path / "index", embedder, CHUNKER)
    pg = HybridRetriever(open_store(pg_url, embedder), embedder, RetrievalConfig())
    faiss = HybridRetriever(open_store(tmp_path / "index", embedder), embedder, RetrievalConfig())
    for q in ("where do bees make honey", "Black Sea", "acorns", "queen bee workers"):
        a, b = pg.retrieve(q, 3), faiss.retrieve(q, 3)
        assert a[0].chunk == b[0].chunk, q
        # The same hits and scores; the order of equal scores is left to each index.
        assert sorted((-round(h.score, 5), h.chunk.id) for h in a) == sorted(
            (-round(h.score, 5), h.chunk.id) for h in b
        ), q
        assert {h.chunk.id: h.lexical_score for h in a} == pytest.approx(
            {h.chunk.id: h.lexical_score for h in b}, rel=1e-4
        )


def test_chunk_vectors_derived_from_sentences_in_the_database(pg_url: str, tmp_path: Path) -> None:
    """PgStore keeps no sentence vectors: a sync embeds the pieces only to derive the chunk
    vectors, which are those FAISS gets; the way is recorded, and switching remakes them."""
    docs = write_docs(tmp_path / "docs", DOCS)
    embedder = FakeEmbedder()
    derive = ChunkerConfig(24, 6, vectors="sentences")
    sync_index(docs, pg_url, embedder, derive)
    sync_index(docs, tmp_path / "index", embedder, derive)
    pg, faiss = open_store(pg_url, embedder), open_store(tmp_path / "index", embedder)
    assert pg.manifest is not None and pg.manifest.chunker.vectors == "sentences"
    hashes = [c.hash for c in faiss.chunks()]
    assert [c.hash for c in pg.chunks()] == hashes
    in_pg, in_faiss = pg.vectors_by_hash(hashes), faiss.vectors_by_hash(hashes)
    for h in hashes:
        assert np.allclose(in_pg[h], in_faiss[h], atol=1e-6)

    sync_index(docs, pg_url, embedder, CHUNKER)  # back to encoding each chunk's text
    pg = open_store(pg_url, embedder)
    assert pg.manifest is not None and pg.manifest.chunker.vectors == "encode"
    encoded = FakeEmbedder().embed([c.text for c in pg.chunks()])
    found = pg.vectors_by_hash(hashes)
    assert np.allclose(np.stack([found[c.hash] for c in pg.chunks()]), encoded, atol=1e-6)


# ---------------------------------------------------------------- several processes


def test_syncs_of_one_database_take_turns(pg_url: str, tmp_path: Path) -> None:
    docs = write_docs(tmp_path / "docs", DOCS)
    procs = [worker("sync", pg_url, docs) for _ in range(3)]
    outs = []
    for p in procs:
        out, _ = p.communicate(timeout=300)
        assert p.returncode == 0
        outs.append([json.loads(line) for line in out.splitlines() if line.startswith("{")][-1])

    # One sync indexed the files; each later one waited, then found nothing to do (without
    # the lock they would all have planned against the empty database).
    assert sorted(len(o["added"]) for o in outs) == [0, 0, len(DOCS)]
    assert_consistent(pg_url, docs)
    assert rows(pg_url, "SELECT count(*) FROM assistant_generations") == [(1,)]


def test_a_sync_killed_mid_commit_leaves_the_previous_index(pg_url: str, tmp_path: Path) -> None:
    docs = write_docs(tmp_path / "docs", DOCS)
    embedder = FakeEmbedder()
    sync_index(docs, pg_url, embedder, CHUNKER)
    before = PgStore.connect(pg_url)
    assert before.manifest is not None

    (docs / "rivers.txt").unlink()
    write_docs(docs, {"owls.txt": "Owls hunt at night and swallow mice whole."})
    proc = worker("stall", pg_url, docs)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "in-transaction"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)

    after = PgStore.connect(pg_url)
    assert after.manifest == before.manifest
    assert list(after.chunks()) == list(before.chunks())
    retriever = HybridRetriever(open_store(pg_url, embedder), embedder, RetrievalConfig())
    assert retriever.retrieve("Danube Black Sea", 1)[0].chunk.source == "rivers.txt"
    assert after.lexical_search("owls", 5) == []
    # The killed sync's locks died with it: the next sync runs and commits.
    report = sync_index(docs, pg_url, embedder, CHUNKER)
    assert report.added == ("owls.txt",) and report.removed == ("rivers.txt",)
    assert_consistent(pg_url, docs)


def start_ui(
    docs: Path, port: int, log: Path, *, store: str, via_env: bool
) -> subprocess.Popen[bytes]:
    """`python -m assistant ui DOCS --host 127.0.0.1 --port PORT` on the store, given by
    --store or (via_env) by ASSISTANT_STORE, as a user runs it; its output goes to log."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
        "ASSISTANT_SHOW_PROGRESS": "false",
    }
    env.pop("ASSISTANT_API_KEY", None)  # loopback: no key
    env.pop("ASSISTANT_STORE", None)
    cmd = [sys.executable, "-m", "assistant", "ui", str(docs), "--host", "127.0.0.1"]
    cmd += ["--port", str(port)]
    if via_env:
        env["ASSISTANT_STORE"] = store
    else:
        cmd += ["--store", store]
    with log.open("wb") as out:
        return subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)


def wait_until_up(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    import httpx

    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"assistant ui exited: {log.read_text()[-2000:]}"
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/v1/models", timeout=2).status_code == 200:
                return
        time.sleep(0.5)
    raise AssertionError(f"assistant ui was not up after 300 s: {log.read_text()[-2000:]}")


def chat(base: str, question: str) -> dict[str, Any]:
    """One question through the OpenAI-compatible endpoint; its JSON answer."""
    import httpx

    reply = httpx.post(
        f"{base}/v1/chat/completions",
        json={"model": "assistant", "messages": [{"role": "user", "content": question}]},
        timeout=120,
    )
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


@pytest.fixture
def two_ui_servers(pg_url: str, tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    """Two `assistant ui` processes on one PostgreSQL index and one documents folder (the
    shared folder the README describes), started at once; one gets the database's URL by
    --store, the other by ASSISTANT_STORE. Yields their base URLs and the folder."""
    from conftest import SEEDS
    from servers import free_port

    docs = tmp_path / "docs"
    docs.mkdir()
    for f in SEEDS.iterdir():
        if f.is_file():
            (docs / f.name).write_bytes(f.read_bytes())
    bases: list[str] = []
    procs: list[subprocess.Popen[bytes]] = []
    logs: list[Path] = []
    try:
        for via_env in (False, True):
            port, log = free_port(), tmp_path / f"ui-{len(procs)}.log"
            procs.append(start_ui(docs, port, log, store=pg_url, via_env=via_env))
            bases.append(f"http://127.0.0.1:{port}")
            logs.append(log)
        for base, proc, log in zip(bases, procs, logs, strict=True):
            wait_until_up(base, proc, log)
        yield bases[0], bases[1], docs
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.mark.model
def test_a_document_added_through_one_ui_server_is_answered_by_the_other(
    two_ui_servers: tuple[str, str, Path], pg_url: str, tmp_path: Path
) -> None:
    from gradio_client import Client, handle_file

    a, b, docs = two_ui_servers
    # Both started on the same folder: one indexed it, the other found nothing to do.
    assert rows(pg_url, "SELECT count(*) FROM assistant_generations") == [(1,)]
    question = "When did the Tallinn zoo get its snow leopard?"
    assert chat(b, question)["refused"]

    note = tmp_path / "zoo-news.txt"
    note.write_text(
        "Tallinn Zoo news. The Tallinn zoo got its snow leopard, a female named Irbis, in "
        "March 2019. She came from a zoo in Helsinki.",
        encoding="utf-8",
    )
    # Through A's web chat API, which returns once the upload is indexed (one sync).
    _files, status, _table, _choices = Client(a, verbose=False).predict(
        [handle_file(str(note))], api_name="/upload"
    )
    assert "zoo-news.txt</b> added" in status

    # B was not restarted and ran no sync: its next question is answered from the upload.
    answer = chat(b, question)
    assert not answer["refused"]
    assert "zoo-news.txt" in {c["source"] for c in answer["citations"]}
    assert any("March 2019" in c["quote"] for c in answer["citations"])
    for c in answer["citations"]:  # exact offsets into the shared folder's file
        text = (docs / c["source"]).read_text(encoding="utf-8")
        assert text[c["start"] : c["end"]] == c["quote"]
    client_b = Client(b, verbose=False)
    assert "zoo-news.txt" in {s["source"] for s in client_b.predict(api_name="/sources")}

    # And back: removed through B, A no longer answers from it; the seed still answers on both.
    status, _table, _choices = client_b.predict("zoo-news.txt", api_name="/remove")
    assert "zoo-news.txt</b> removed" in status
    listed = Client(a, verbose=False).predict(api_name="/sources")  # A's list follows too
    assert "zoo-news.txt" not in {s["source"] for s in listed}
    assert chat(a, question)["refused"]
    for base in (a, b):
        seed = chat(base, "How much has Amazon invested in Anthropic?")
        assert "$8 billion" in seed["choices"][0]["message"]["content"]


# ---------------------------------------------------------------- the plain path


@pytest.mark.model
def test_index_and_ask_through_a_postgresql_url(
    pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`assistant index seeds --store URL`, then `assistant ask --store URL ...`: the server
    reached by URL as a user's own would be (host= names the socket directory)."""
    from conftest import SEEDS

    from assistant.cli import main

    assert pg_url.startswith("postgresql://") and "host=/" in pg_url
    assert main(["index", str(SEEDS), "--store", pg_url]) == 0
    assert "added 1" in capsys.readouterr().out
    assert main(["ask", "--store", pg_url, "How much has Amazon invested in Anthropic?"]) == 0
    out = capsys.readouterr().out
    assert "$8 billion" in out
    assert "Sources:" in out and "amazon-anthropic-investment.txt (chars" in out
    # Indexing again changes nothing and embeds nothing.
    assert main(["index", str(SEEDS), "--store", pg_url]) == 0
    assert "unchanged 1" in capsys.readouterr().out


def test_a_plain_role_on_a_database_its_administrator_prepared(
    pg_server: PgServer, pg_url: str, tmp_path: Path
) -> None:
    """The usual own server: an administrator ran CREATE EXTENSION vector once and gave an
    ordinary role (no superuser) a schema of its own; that role indexes and searches by URL,
    the schema chosen in the URL, and nothing lands in the public schema."""
    role = f"app_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.execute(f"CREATE ROLE {role} LOGIN NOSUPERUSER")
        conn.execute(f"CREATE SCHEMA team_a AUTHORIZATION {role}")
    url = pg_url.replace("postgres@", f"{role}@") + "&options=-csearch_path%3Dteam_a,public"
    docs = write_docs(tmp_path / "docs", DOCS)
    embedder = FakeEmbedder()
    report = sync_index(docs, url, embedder, CHUNKER)
    assert sorted(report.added) == sorted(DOCS)
    retriever = HybridRetriever(open_store(url, embedder), embedder, RetrievalConfig())
    assert retriever.retrieve("Danube Black Sea", 1)[0].chunk.source == "rivers.txt"
    assert (
        rows(
            pg_url,
            "SELECT schemaname, tableowner FROM pg_tables WHERE tablename LIKE 'assistant_%'",
        )
        == [("team_a", role)] * 4
    )


# ---------------------------------------------------------------- errors


def test_an_unreachable_database_is_one_sentence_saying_what_to_do(tmp_path: Path) -> None:
    url = f"postgresql://postgres@/nothing?host={tmp_path}"
    with pytest.raises(IndexUnavailableError) as err:
        open_store(url, FakeEmbedder())
    message = str(err.value)
    assert message.startswith("cannot reach the index database")
    assert "start PostgreSQL or correct the postgresql:// URL" in message
    assert "\n" not in message


def test_a_database_without_pgvector_is_one_sentence_saying_what_to_do(
    pg_server: PgServer, pg_url: str
) -> None:
    # An ordinary role that may not create extensions in a database without pgvector:
    # what a user meets on a managed server where nobody installed it.
    name = pg_url.split("?")[0].rsplit("/", 1)[1]
    with psycopg.connect(pg_server.url(), autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS plain_user")
        conn.execute("CREATE ROLE plain_user LOGIN")
        conn.execute(f"REVOKE CREATE ON DATABASE {name} FROM PUBLIC")
    url = pg_url.replace("postgres@", "plain_user@")
    with pytest.raises(IndexUnavailableError) as err:
        open_store(url, FakeEmbedder())
    assert "lacks the pgvector extension" in str(err.value)
    assert "CREATE EXTENSION vector" in str(err.value)


def test_the_password_never_shows_in_messages(tmp_path: Path) -> None:
    url = f"postgresql://me:s3cret@/nothing?host={tmp_path}"
    with pytest.raises(IndexUnavailableError) as err:
        open_store(url, FakeEmbedder())
    assert "s3cret" not in str(err.value)


def test_settings_choose_the_store_and_its_search_depth(pg_url: str, tmp_path: Path) -> None:
    from assistant import Assistant, Settings

    docs = write_docs(tmp_path / "docs", DOCS)
    settings = Settings(store=pg_url, hnsw_ef_search=7, show_progress=False)
    assert settings.index_location == pg_url
    assert Settings(show_progress=False).hnsw_ef_search == 100  # pgvector's 40 loses recall
    bot = Assistant.from_folder(docs, settings=settings, embedder=FakeEmbedder())
    store = bot.collection.store
    assert isinstance(store, PgStore) and store.location == pg_url
    assert store._db.ef_search == 7
    assert [h.chunk.source for h in bot.retrieve("Danube", 1)] == ["rivers.txt"]
    # Nothing was written beside the documents: the index is in the database.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["docs"]
