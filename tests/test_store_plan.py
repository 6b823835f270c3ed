"""The pure sync plan, the registry of stores, and a Collection over the in-memory store
(the fast path tests use: no files, no model)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import FakeEmbedder

from assistant.errors import IndexMissingError, IndexUnavailableError, InputError
from assistant.schema import SourceInfo
from assistant.store import (
    ChunkerConfig,
    Collection,
    FaissStore,
    Manifest,
    MemoryStore,
    SyncPlan,
    empty_store,
    open_store,
    plan_sync,
)

CHUNKER = ChunkerConfig(24, 6)


def manifest(folder: str = "/docs", chunker: ChunkerConfig = CHUNKER, **shas: str) -> Manifest:
    sources = {
        name.replace("_", "."): SourceInfo(name.replace("_", "."), "txt", 1, 1, sha256=sha)
        for name, sha in shas.items()
    }
    return Manifest("fake", 64, 64, chunker, sources, len(sources), "g1", "t", folder)


def test_plan_docstring_example() -> None:
    m = manifest(a_txt="1", b_txt="2", c_txt="3", e_txt="5")
    files = {"a.txt": "1", "b.txt": "9", "c.txt": None, "d.txt": "4"}

    plan = plan_sync(files, m, CHUNKER, "/docs")

    assert plan == SyncPlan(
        added=("d.txt",),
        updated=("b.txt",),
        removed=("e.txt",),
        unchanged=("a.txt", "c.txt"),
        kept_unreadable=("c.txt",),
        rechunk_all=False,
        write=True,
    )
    assert plan.to_chunk == ("d.txt", "b.txt")


def test_nothing_changed_writes_nothing() -> None:
    plan = plan_sync({"a.txt": "1"}, manifest(a_txt="1"), CHUNKER, "/docs")
    assert plan == SyncPlan(unchanged=("a.txt",), rechunk_all=False, write=False)
    assert plan.to_chunk == ()


def test_an_unreadable_indexed_file_alone_writes_nothing() -> None:
    plan = plan_sync({"a.txt": None}, manifest(a_txt="1"), CHUNKER, "/docs")
    assert plan.unchanged == plan.kept_unreadable == ("a.txt",)
    assert plan.removed == ()
    assert not plan.write


def test_another_folder_rewrites_the_manifest_without_rechunking() -> None:
    plan = plan_sync({"a.txt": "1"}, manifest(a_txt="1"), CHUNKER, "/elsewhere")
    assert plan.write
    assert plan.to_chunk == ()
    assert not plan.rechunk_all


def test_other_chunker_settings_rechunk_everything_and_drop_unreadable() -> None:
    m = manifest(a_txt="1", b_txt="2")
    plan = plan_sync({"a.txt": "1", "b.txt": None}, m, ChunkerConfig(48, 6), "/docs")
    assert plan.rechunk_all and plan.write
    assert plan.unchanged == ("a.txt",)
    assert plan.to_chunk == ("a.txt",)
    # Its indexed chunks were cut with the old settings: they cannot be kept.
    assert plan.removed == ("b.txt",)
    assert plan.kept_unreadable == ()


def test_no_index_means_everything_is_added() -> None:
    plan = plan_sync({"b.txt": "2", "a.txt": "1", "x.txt": None}, None, CHUNKER, "/docs")
    assert plan.added == ("a.txt", "b.txt")
    assert plan.rechunk_all and plan.write
    assert plan.removed == plan.unchanged == plan.kept_unreadable == ()


# ---------------------------------------------------------------- registry


def test_a_folder_location_is_a_faiss_store(tmp_path: Path) -> None:
    assert isinstance(empty_store(tmp_path / "index"), FaissStore)
    with pytest.raises(IndexMissingError, match="assistant index"):
        open_store(tmp_path / "index", FakeEmbedder())


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres@/assistant?host=/nonexistent",
        Path("postgres://postgres@/db?host=/nonexistent"),  # Path() folds "//": still a URL
    ],
)
def test_a_database_url_is_a_postgres_store(url: object) -> None:
    from assistant.store.postgres import PgStore

    assert isinstance(empty_store(url), PgStore)  # type: ignore[arg-type] # connects on use
    with pytest.raises(IndexUnavailableError, match="cannot reach the index database") as info:
        open_store(url, FakeEmbedder())  # type: ignore[arg-type]
    assert "\n" not in str(info.value)
    assert "start PostgreSQL or correct the postgresql:// URL" in str(info.value)


# ---------------------------------------------------------------- a collection in memory


def test_collection_over_memory_store_syncs_adds_and_removes(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Apples grow on trees. Farmers prune them.\n", encoding="utf-8")
    embedder = FakeEmbedder()
    col = Collection(MemoryStore(), embedder, CHUNKER, folder=docs)

    first = col.sync()
    assert first.added == ("a.txt",)
    assert [s.source for s in col.sources()] == ["a.txt"]
    snapshot = col.store

    report = col.add_document("b.md", b"# Bees\n\nBees make honey in hives.\n")
    assert report.added == ("b.md",)
    assert [s.source for s in col.sources()] == ["a.txt", "b.md"]
    bee = next(c for c in col.store.chunks() if "honey" in c.text)
    assert col.chunk(bee.id) == bee
    # The earlier snapshot is unchanged: a reader holding it never sees a mix.
    assert [s.source for s in Collection(snapshot, embedder, CHUNKER).sources()] == ["a.txt"]

    embedded = embedder.embedded
    assert col.sync().chunks_embedded == 0
    assert embedder.embedded == embedded

    col.remove_document("a.txt")
    assert [s.source for s in col.sources()] == ["b.md"]
    assert not (docs / "a.txt").exists()

    with pytest.raises(InputError, match="not a supported type"):
        col.add_document("x.exe", b"MZ")
    assert sorted(p.name for p in docs.iterdir()) == ["b.md"]


def test_an_assistant_built_on_an_in_memory_collection(tmp_path: Path) -> None:
    """The collection is passed in, the way httpx takes a transport."""
    from assistant import Assistant, Settings

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Apples grow on trees in cool orchards.\n", encoding="utf-8")
    col = Collection(MemoryStore(), FakeEmbedder(), CHUNKER, folder=docs)
    col.sync()
    bot = Assistant(col, settings=Settings(show_progress=False))

    assert bot.retrieve("orchards")[0].chunk.source == "a.txt"
    assert bot.ask("What documents do you have?").text.startswith("I have 1 document: a.txt")

    bot.add_document("b.txt", b"Bees make honey in their hives.\n")
    # The assistant follows the collection: the new document is searchable at once.
    assert bot.retrieve("honey hives")[0].chunk.source == "b.txt"
    assert [s.source for s in bot.sources()] == ["a.txt", "b.txt"]
