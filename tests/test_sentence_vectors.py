"""Sentence vectors stored with the index (FaissStore's sentences-<gen>.f32), so that an
answer embeds only its question: written and read back, reused across syncs, safe against a
kill mid-write, and never needed (an index without them still answers, the same answers).

The fake embedder counts what it embeds, so each test sees exactly what was embedded when.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from fakes import FakeEmbedder

from assistant import Assistant, Settings
from assistant.errors import IndexCorruptError, IndexMismatchError
from assistant.ingest.chunking import sentence_units
from assistant.schema import Answer, Chunk
from assistant.store import (
    FORMAT_VERSION,
    ChunkerConfig,
    SentenceStore,
    Store,
    open_store,
    sync_index,
)

CHUNKER = ChunkerConfig(max_tokens=24, overlap_tokens=6)

ORCHARD = (
    "Apples grow on trees in cool orchards. Farmers prune the trees every winter.\n\n"
    "The harvest starts in September and ends in late October. This keeps the pickers busy "
    "for weeks.\n\n"
    "Cider presses run day and night during the harvest. The juice ferments for six weeks.\n"
)
BIKES = (
    "# Bicycles\n\n"
    "A bicycle has two wheels, a frame and a chain. Riders pedal to turn the rear wheel.\n\n"
    "## Maintenance\n\n"
    "Oil the chain every month. Check the tyre pressure before every long ride.\n"
)
QUESTIONS = [
    "When does the harvest start?",
    "How long does the juice ferment?",
    "How often should the chain be oiled?",
    "What turns the rear wheel of a bicycle?",
    "Who won the football match?",
]


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "orchard.txt").write_text(ORCHARD, encoding="utf-8")
    (folder / "bikes.md").write_text(BIKES, encoding="utf-8")
    return folder


def sentence_texts(chunks: Sequence[Chunk]) -> set[str]:
    return {c.text[a:b] for c in chunks for a, b in sentence_units(c.text)}


def strip_sentences(index_dir: Path) -> None:
    """Make index_dir what an assistant before sentence vectors wrote: format 1, no
    sentence files."""
    path = index_dir / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    for key in ("sentences", "sentence_spans"):
        (index_dir / data["files"].pop(key)).unlink()
    data["format_version"] = 1
    path.write_text(json.dumps(data), encoding="utf-8")


def assert_sentences_stored(store: Store) -> list[np.ndarray]:
    """Each chunk's stored sentences are exactly those an answer would quote from it, with the
    fake embedder's vectors; returns each chunk's vectors as loaded."""
    assert isinstance(store, SentenceStore) and store.has_sentences
    loaded = []
    for chunk in store.chunks():
        found = store.chunk_sentences(chunk.id)
        assert found is not None
        spans, vectors = found
        assert [tuple(s) for s in spans.tolist()] == sentence_units(chunk.text)
        texts = [chunk.text[a:b] for a, b in spans]
        assert np.allclose(vectors, FakeEmbedder().embed(texts), atol=1e-6)
        loaded.append(vectors)
    return loaded


def same_answer(a: Answer, b: Answer) -> bool:
    return (a.text, a.refused, a.citations, a.query) == (b.text, b.refused, b.citations, b.query)


def test_every_quotable_sentence_is_stored_and_read_back_memory_mapped(
    docs: Path, tmp_path: Path
) -> None:
    embedder = FakeEmbedder()
    report = sync_index(docs, tmp_path / "index", embedder, CHUNKER)
    store = open_store(tmp_path / "index", embedder)

    assert isinstance(store, SentenceStore) and store.has_sentences
    assert report.sentences_embedded == len(sentence_texts(store.chunks()))
    for vectors in assert_sentences_stored(store):
        # Loading maps the file: an answer reads only the rows it needs.
        assert isinstance(vectors, np.memmap) or len(vectors) == 0
    assert store.chunk_sentences("no such chunk") is None


def test_sentence_vectors_are_reused_across_a_sync(docs: Path, tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    sync_index(docs, tmp_path / "index", embedder, CHUNKER)
    old = open_store(tmp_path / "index", embedder)
    assert isinstance(old, SentenceStore)
    old_bikes = {c.id: old.chunk_sentences(c.id) for c in old.chunks() if c.source == "bikes.md"}

    (docs / "orchard.txt").write_text(
        ORCHARD + "\nPear trees were planted beside the old apple trees last spring.\n",
        encoding="utf-8",
    )
    report = sync_index(docs, tmp_path / "index", embedder, CHUNKER)
    new = open_store(tmp_path / "index", embedder)
    assert isinstance(new, SentenceStore) and new.has_sentences

    # Only sentences whose text the index did not hold were embedded.
    fresh = sentence_texts(new.chunks()) - sentence_texts(old.chunks())
    assert fresh == {"Pear trees were planted beside the old apple trees last spring."}
    assert report.sentences_embedded == 1
    # The unchanged file keeps its sentences and their vectors.
    for chunk_id, before in old_bikes.items():
        after = new.chunk_sentences(chunk_id)
        assert before is not None and after is not None
        assert after[0].tolist() == before[0].tolist()
        assert np.array_equal(after[1], before[1])


def test_an_answer_embeds_only_its_question(docs: Path, tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    bot = Assistant.from_folder(
        docs,
        index_dir=tmp_path / "index",
        embedder=embedder,
        settings=Settings(show_progress=False),
    )
    # The synced snapshot maps the sentence vectors it has just written, as a loaded one does.
    store = bot.collection.store
    assert isinstance(store, SentenceStore)
    found = store.chunk_sentences(store.chunks()[0].id)
    assert found is not None and isinstance(found[1], np.memmap)
    for question in QUESTIONS:
        calls, embedded = embedder.calls, embedder.embedded
        answer = bot.ask(question)
        assert (embedder.calls - calls, embedder.embedded - embedded) == (1, 1), question
        assert answer.hits  # there were passages, whose sentences were looked up instead
    # The answer is the one the documents give (not a refusal), cited exactly.
    answer = bot.ask("When does the harvest start?")
    assert not answer.refused
    assert "September" in answer.text
    for c in answer.citations:
        assert (docs / c.source).read_text(encoding="utf-8")[c.start : c.end] == c.quote


def test_an_index_without_sentence_vectors_gives_the_same_answers(
    docs: Path, tmp_path: Path
) -> None:
    embedder = FakeEmbedder()
    sync_index(docs, tmp_path / "index", embedder, CHUNKER)
    shutil.copytree(tmp_path / "index", tmp_path / "old")
    strip_sentences(tmp_path / "old")

    settings = Settings(show_progress=False)
    stored = Assistant.load(tmp_path / "index", embedder=embedder, settings=settings)
    for question in QUESTIONS:
        # A fresh assistant each time: its in-memory sentence cache starts empty.
        old_embedder = FakeEmbedder()
        old = Assistant.load(tmp_path / "old", embedder=old_embedder, settings=settings)
        old_store = old.collection.store
        assert isinstance(old_store, SentenceStore) and not old_store.has_sentences
        embedded = old_embedder.embedded
        from_old = old.ask(question)
        # Without stored vectors the passages' sentences are embedded while answering.
        assert old_embedder.embedded - embedded > 1 or from_old.refused, question
        assert same_answer(from_old, stored.ask(question)), question


def test_an_index_from_before_sentence_vectors_is_upgraded_by_the_next_sync(
    docs: Path, tmp_path: Path
) -> None:
    embedder = FakeEmbedder()
    sync_index(docs, tmp_path / "index", embedder, CHUNKER)
    strip_sentences(tmp_path / "index")
    before = open_store(tmp_path / "index", embedder)
    assert before.manifest is not None and before.manifest.format_version == 1

    embedded = embedder.embedded
    report = sync_index(docs, tmp_path / "index", embedder, CHUNKER)

    after = open_store(tmp_path / "index", embedder)
    assert isinstance(after, SentenceStore) and after.has_sentences
    assert after.manifest is not None and after.manifest.format_version == FORMAT_VERSION
    assert after.chunks() == before.chunks()  # nothing indexed was lost
    # One line says what happened; the chunk vectors were reused, only sentences embedded.
    assert len(report.notes) == 1 and "upgraded the index" in report.notes[0]
    assert report.chunks_embedded == 0
    assert report.sentences_embedded == len(sentence_texts(after.chunks()))
    assert embedder.embedded - embedded == report.sentences_embedded
    # Upgraded once: the next sync has nothing to do.
    again = sync_index(docs, tmp_path / "index", embedder, CHUNKER)
    assert again.notes == () and again.sentences_embedded == 0


def test_damaged_sentence_files_are_reported_and_rebuilt(docs: Path, tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    sync_index(docs, tmp_path / "index", embedder, CHUNKER)
    vectors = next((tmp_path / "index").glob("sentences-*.f32"))
    vectors.write_bytes(vectors.read_bytes()[:-4])  # cut short

    with pytest.raises(IndexCorruptError, match="assistant index"):
        open_store(tmp_path / "index", embedder)
    sync_index(docs, tmp_path / "index", embedder, CHUNKER)
    store = open_store(tmp_path / "index", embedder)
    assert isinstance(store, SentenceStore) and store.has_sentences


def test_spans_outside_their_chunk_are_refused(docs: Path, tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    sync_index(docs, tmp_path / "index", embedder, CHUNKER)
    spans_path = next((tmp_path / "index").glob("sentence-spans-*.i32"))
    spans = np.fromfile(spans_path, dtype="<i4").reshape(-1, 3)
    spans[0, 2] = 10_000  # an end far past the chunk's text
    spans.tofile(spans_path)

    with pytest.raises(IndexCorruptError, match="assistant index"):
        open_store(tmp_path / "index", embedder)


def test_an_index_of_a_newer_format_is_refused_with_what_to_do(docs: Path, tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    sync_index(docs, tmp_path / "index", embedder, CHUNKER)
    path = tmp_path / "index" / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["format_version"] = FORMAT_VERSION + 1
    path.write_text(json.dumps(data), encoding="utf-8")

    with pytest.raises(
        IndexMismatchError, match=rf"reads versions 1 to {FORMAT_VERSION}: run `assistant index`"
    ):
        open_store(tmp_path / "index", embedder)
