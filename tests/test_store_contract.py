"""The Store contract: what every index store must do, run against each one.

Adding a store = adding one entry to STORES below: a function that returns an empty store.
PgStore runs against the PostgreSQL the session starts (tests/pg.py), a fresh database per
test. Vectors are random unit vectors, so results are checked against brute force with numpy.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from assistant.schema import Chunk, SourceInfo
from assistant.store import (
    Batch,
    BuildInfo,
    ChunkerConfig,
    FaissStore,
    MemoryStore,
    SentenceRows,
    SentenceStore,
    SourceChunks,
    Store,
)
from assistant.store.postgres import PgStore

DIM = 16
BUILD = BuildInfo(
    model="fake", dimension=DIM, max_seq_length=64, chunker=ChunkerConfig(24, 6), folder="/docs"
)


def _faiss(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return FaissStore(tmp_path / "index")


def _memory(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return MemoryStore()


def _postgres(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return PgStore.empty(request.getfixturevalue("pg_url"))


STORES: dict[str, Callable[[pytest.FixtureRequest, Path], Store]] = {
    "faiss": _faiss,
    "memory": _memory,
    "postgres": _postgres,
}


@pytest.fixture(params=sorted(STORES))
def empty(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return STORES[request.param](request, tmp_path)


# ---------------------------------------------------------------- building batches


def unit(seed: str) -> np.ndarray:
    rng = np.random.default_rng(int(hashlib.sha256(seed.encode()).hexdigest()[:8], 16))
    v = rng.normal(size=DIM).astype(np.float32)
    return v / np.linalg.norm(v)


def doc(source: str, *texts: str, sha: str = "") -> SourceChunks:
    """A source whose chunks are texts; a chunk's vector depends on its text only."""
    chunks, start = [], 0
    for i, text in enumerate(texts):
        h = hashlib.sha256(text.encode()).hexdigest()
        chunks.append(
            Chunk(
                id=hashlib.sha256(f"{source}:{start}:{h}".encode()).hexdigest()[:16],
                source=source,
                text=text,
                start=start,
                end=start + len(text),
                ordinal=i,
                hash=h,
            )
        )
        start += len(text) + 1
    info = SourceInfo(
        source=source,
        kind="txt",
        size=start,
        chunks=len(chunks),
        sha256=sha or hashlib.sha256("|".join(texts).encode()).hexdigest(),
    )
    vectors = np.stack([unit(t) for t in texts]) if texts else np.zeros((0, DIM), dtype=np.float32)
    return SourceChunks(info, tuple(chunks), vectors)


def batch(
    *upserts: SourceChunks, deletes: tuple[str, ...] = (), replace_all: bool = False
) -> Batch:
    return Batch(BUILD, upserts=upserts, deletes=deletes, replace_all=replace_all)


def three(empty: Store) -> Store:
    return empty.apply(
        batch(
            doc("b.txt", "bees make honey", "honey is sweet"),
            doc("a.txt", "apples grow on trees", "trees need water", "water is wet"),
            doc("c/d.txt", "deserts are dry"),
        )
    )


def stored(store: Store) -> np.ndarray:
    """Row i: chunk i's stored vector (the cosine with each unit axis is one coordinate)."""
    ids = [c.id for c in store.chunks()]
    return np.stack([store.cosines(axis, ids) for axis in np.eye(DIM, dtype=np.float32)], axis=1)


# ---------------------------------------------------------------- the contract


def test_empty_store_holds_nothing(empty: Store) -> None:
    assert empty.manifest is None
    assert list(empty.chunks()) == []
    assert empty.chunk("anything") is None
    assert empty.search(unit("q"), 5) == []
    assert len(empty.cosines(unit("q"), [])) == 0
    assert empty.vectors_by_hash(["nope"]) == {}
    assert empty.location


def test_apply_returns_a_store_with_the_manifest_and_chunks_in_order(empty: Store) -> None:
    store = three(empty)

    m = store.manifest
    assert m is not None
    assert (m.model, m.dimension, m.max_seq_length, m.chunker, m.folder) == (
        "fake",
        DIM,
        64,
        ChunkerConfig(24, 6),
        "/docs",
    )
    assert m.build == BUILD
    assert set(m.sources) == {"a.txt", "b.txt", "c/d.txt"}
    assert (
        m.sources["a.txt"]
        == doc("a.txt", "apples grow on trees", "trees need water", "water is wet").info
    )
    assert m.chunk_count == 6
    assert m.generation and m.built_at
    # Sources by name, chunks in document order within each.
    assert [(c.source, c.ordinal) for c in store.chunks()] == [
        ("a.txt", 0),
        ("a.txt", 1),
        ("a.txt", 2),
        ("b.txt", 0),
        ("b.txt", 1),
        ("c/d.txt", 0),
    ]
    # The receiver is a snapshot: it still holds nothing.
    assert empty.manifest is None
    assert list(empty.chunks()) == []


def test_chunk_by_id(empty: Store) -> None:
    store = three(empty)
    for c in store.chunks():
        assert store.chunk(c.id) == c
    assert store.chunk("not-an-id") is None


def test_search_agrees_with_brute_force(empty: Store) -> None:
    store = three(empty)
    chunks = list(store.chunks())
    matrix = np.stack([unit(c.text) for c in chunks])
    for q in ("honey", "trees", "dry", "x"):
        query = unit(q)
        expected = sorted(
            ((c.id, float(s)) for c, s in zip(chunks, matrix @ query, strict=True)),
            key=lambda pair: -pair[1],
        )
        got = store.search(query, 4)
        assert [i for i, _ in got] == [i for i, _ in expected[:4]], q
        assert [s for _, s in got] == pytest.approx([s for _, s in expected[:4]], abs=1e-5)
    # k beyond the store: everything, once.
    assert sorted(i for i, _ in store.search(unit("q"), 100)) == sorted(c.id for c in chunks)


def test_cosines_agree_with_brute_force_in_the_order_given(empty: Store) -> None:
    store = three(empty)
    chunks = list(store.chunks())
    ids = [chunks[4].id, chunks[0].id, chunks[5].id]
    query = unit("question")
    expected = [float(unit(chunks[i].text) @ query) for i in (4, 0, 5)]
    assert store.cosines(query, ids) == pytest.approx(expected, abs=1e-5)
    assert stored(store) == pytest.approx(np.stack([unit(c.text) for c in chunks]), abs=1e-6)


def test_vectors_by_hash_returns_only_what_is_stored(empty: Store) -> None:
    store = three(empty)
    honey = hashlib.sha256(b"bees make honey").hexdigest()
    found = store.vectors_by_hash([honey, "missing"])
    assert set(found) == {honey}
    assert found[honey] == pytest.approx(unit("bees make honey"), abs=1e-6)


def test_upsert_replaces_every_chunk_of_its_source(empty: Store) -> None:
    store = three(empty)
    old_a = [c.id for c in store.chunks() if c.source == "a.txt"]

    after = store.apply(batch(doc("a.txt", "apples are red")))

    a_chunks = [c for c in after.chunks() if c.source == "a.txt"]
    assert [c.text for c in a_chunks] == ["apples are red"]
    assert all(after.chunk(i) is None for i in old_a)
    assert after.manifest is not None and after.manifest.sources["a.txt"].chunks == 1
    assert after.manifest.chunk_count == len(after.chunks()) == 4
    # Untouched sources keep their chunks and vectors.
    assert [c for c in after.chunks() if c.source != "a.txt"] == [
        c for c in store.chunks() if c.source != "a.txt"
    ]
    assert stored(after) == pytest.approx(
        np.stack([unit(c.text) for c in after.chunks()]), abs=1e-6
    )
    assert after.manifest is not None and store.manifest is not None
    assert after.manifest.generation != store.manifest.generation


def test_upserts_and_deletes_apply_together(empty: Store) -> None:
    store = three(empty)

    after = store.apply(batch(doc("e.txt", "eels swim"), deletes=("b.txt", "c/d.txt")))

    assert after.manifest is not None
    assert set(after.manifest.sources) == {"a.txt", "e.txt"}
    assert {c.source for c in after.chunks()} == {"a.txt", "e.txt"}
    assert after.vectors_by_hash([hashlib.sha256(b"bees make honey").hexdigest()]) == {}
    assert {i for i, _ in after.search(unit("bees make honey"), 10)} == {
        c.id for c in after.chunks()
    }


def test_replace_all_keeps_only_the_upserts(empty: Store) -> None:
    store = three(empty)
    after = store.apply(batch(doc("z.txt", "zebras run"), replace_all=True))
    assert after.manifest is not None
    assert set(after.manifest.sources) == {"z.txt"}
    assert [c.text for c in after.chunks()] == ["zebras run"]


def test_a_failed_apply_changes_nothing(empty: Store) -> None:
    store = three(empty)
    before = (store.manifest, list(store.chunks()))
    bad = SourceChunks.__new__(SourceChunks)  # bypass validation: vectors of the wrong width
    object.__setattr__(bad, "info", doc("f.txt", "figs").info)
    object.__setattr__(bad, "chunks", doc("f.txt", "figs").chunks)
    object.__setattr__(bad, "vectors", np.ones((1, DIM + 3), dtype=np.float32))

    with pytest.raises(Exception):  # noqa: B017 - any error, as long as nothing is committed
        store.apply(batch(bad, deletes=("a.txt",)))

    assert (store.manifest, list(store.chunks())) == before
    latest = store.refresh()
    assert (latest.manifest, list(latest.chunks())) == before


def test_refresh_sees_the_latest_commit(empty: Store) -> None:
    store = three(empty)
    newer = store.apply(batch(deletes=("b.txt",)))
    assert newer.manifest is not None
    refreshed = store.refresh()
    assert refreshed.manifest == newer.manifest
    assert list(refreshed.chunks()) == list(newer.chunks())
    assert store.manifest is not None
    assert "b.txt" in store.manifest.sources  # the old snapshot


def test_an_empty_source_and_an_emptied_store(empty: Store) -> None:
    store = empty.apply(batch(doc("blank.txt")))
    assert store.manifest is not None and store.manifest.sources["blank.txt"].chunks == 0
    assert list(store.chunks()) == []
    assert store.search(unit("q"), 3) == []

    cleared = three(empty).apply(batch(deletes=("a.txt", "b.txt", "c/d.txt")))
    assert cleared.manifest is not None and cleared.manifest.sources == {}
    assert list(cleared.chunks()) == []
    assert cleared.search(unit("q"), 3) == []


# ---------------------------------------------------------------- sentence vectors


def with_sentences(source: SourceChunks) -> SourceChunks:
    """source with one stored sentence per word pair of each chunk (spans into the chunk's
    text), each sentence's vector depending on its text only."""
    spans, vectors, offsets = [], [], [0]
    for c in source.chunks:
        words = [(m.start(), m.end()) for m in re.finditer(r"\S+", c.text)]
        for first in range(0, len(words), 2):
            a, b = words[first][0], words[min(first + 1, len(words) - 1)][1]
            spans.append((a, b))
            vectors.append(unit(c.text[a:b]))
        offsets.append(len(spans))
    rows = SentenceRows(
        np.array(offsets, dtype=np.int64),
        np.array(spans, dtype=np.int32).reshape(-1, 2),
        np.array(vectors, dtype=np.float32).reshape(-1, DIM),
    )
    return SourceChunks(source.info, source.chunks, source.vectors, rows)


def expected_sentences(chunk: Chunk) -> list[tuple[str, np.ndarray]]:
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", chunk.text)]
    out = []
    for first in range(0, len(words), 2):
        a, b = words[first][0], words[min(first + 1, len(words) - 1)][1]
        out.append((chunk.text[a:b], unit(chunk.text[a:b])))
    return out


def test_a_batch_with_sentence_vectors_is_applied_and_they_are_kept_per_chunk(
    empty: Store,
) -> None:
    """Every store accepts sentence vectors in a batch; one that keeps them (a SentenceStore)
    gives back each chunk's own, through later batches too. PgStore ignores them: its
    answers embed the sentences instead."""
    store = empty.apply(
        batch(
            with_sentences(doc("b.txt", "bees make honey", "honey is sweet")),
            with_sentences(doc("a.txt", "apples grow on trees", "trees need water")),
        )
    )
    # b.txt replaced, c.txt added, a.txt kept: its rows must follow it to its new position.
    store = store.apply(
        batch(
            with_sentences(doc("b.txt", "bees dance in the hive")),
            with_sentences(doc("c.txt", "cats sleep all day long")),
        )
    )
    assert [c.text for c in store.chunks()] == [
        "apples grow on trees",
        "trees need water",
        "bees dance in the hive",
        "cats sleep all day long",
    ]
    if not isinstance(store, SentenceStore):
        assert not isinstance(store, (FaissStore, MemoryStore))
        return
    for s in (store, store.refresh()):
        assert isinstance(s, SentenceStore) and s.has_sentences
        for c in store.chunks():
            found = s.chunk_sentences(c.id)
            assert found is not None
            spans, vectors = found
            expected = expected_sentences(c)
            assert [c.text[a:b] for a, b in spans] == [t for t, _ in expected]
            assert np.allclose(vectors, [v for _, v in expected], atol=1e-6)
        reused = s.sentence_vectors(["bees dance", "honey is", "not stored"])
        assert set(reused) == {"bees dance"}  # b.txt's old sentences left with it
        assert np.allclose(reused["bees dance"], unit("bees dance"), atol=1e-6)

    # A batch without them leaves a generation without any: never half of them.
    bare = store.apply(batch(doc("d.txt", "dogs bark")))
    assert isinstance(bare, SentenceStore)
    assert not bare.has_sentences
    assert bare.chunk_sentences(bare.chunks()[0].id) is None
    assert bare.sentence_vectors(["bees dance"]) == {}
