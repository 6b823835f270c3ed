"""Chunk vectors derived from sentence vectors (`ChunkerConfig.vectors == "sentences"`): a
chunk's vector is the normalised mean of its pieces' vectors (its quotable sentences and the
text between them), so indexing embeds every text once. The manifest records the way; an
index made the other way is remade by the next sync, never mixed, and still answers as it
is until then.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from fakes import FakeEmbedder

from assistant import Assistant, Settings
from assistant.embedding import mean_directions
from assistant.ingest.chunking import sentence_units, vector_pieces
from assistant.schema import SourceInfo
from assistant.store import (
    FORMAT_VERSION,
    ChunkerConfig,
    Manifest,
    SentenceStore,
    Store,
    chunker_config,
    open_store,
    plan_sync,
    sync_index,
)
from assistant.store.sync import chunker_to_use

ENCODE = ChunkerConfig(max_tokens=40, overlap_tokens=8, vectors="encode")
DERIVE = ChunkerConfig(max_tokens=40, overlap_tokens=8, vectors="sentences")

# A heading, a list and a table row between quotable sentences: text no quotable sentence
# covers, which a derived chunk vector must still represent.
GARDEN = (
    "# Tomatoes\n\n"
    "Tomatoes need full sun and warm soil to ripen well. Water them deeply twice a week.\n\n"
    "Pests:\n- aphids\n- hornworms\n\n"
    "| variety | days |\n| Roma | 75 |\n\n"
    "Pick the fruit when it turns deep red and feels slightly soft.\n"
)
HIVES = (
    "Bees make honey from the nectar of flowers. A strong hive holds fifty thousand bees.\n\n"
    "Beekeepers check the frames every week in summer. Smoke calms the bees during checks.\n"
)


class RecordingEmbedder(FakeEmbedder):
    """The fake embedder, remembering every text it embedded."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.texts.extend(texts)
        return super().embed(texts)


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "garden.md").write_text(GARDEN, encoding="utf-8")
    (folder / "hives.txt").write_text(HIVES, encoding="utf-8")
    return folder


def chunk_vectors(store: Store) -> list[np.ndarray]:
    found = store.vectors_by_hash([c.hash for c in store.chunks()])
    return [found[c.hash] for c in store.chunks()]


def derived(text: str) -> np.ndarray:
    """A chunk's vector as the derivation promises: the normalised mean of its pieces'."""
    pieces = [text[a:b] for a, b in vector_pieces(text)]
    return mean_directions(FakeEmbedder().embed(pieces), [len(pieces)])[0]


def test_pieces_are_the_quotable_sentences_and_the_text_between_them() -> None:
    text = (
        "Results\n\nMeta builds models in-house. Amazon invests. Fever is the most common symptom."
    )
    pieces = vector_pieces(text)
    assert pieces == [(0, 7), (9, 37), (38, 53), (54, 87)]
    assert [text[a:b] for a, b in pieces] == [
        "Results",
        "Meta builds models in-house.",
        "Amazon invests.",  # too short to quote, still part of the chunk's meaning
        "Fever is the most common symptom.",
    ]
    # The quotable sentences are among the pieces, unchanged: their stored vectors serve both.
    assert set(sentence_units(text)) <= set(pieces)
    # Digits and punctuation alone are no piece; a text with no piece at all is one piece.
    assert vector_pieces("Fever is the most common symptom.\n\n12 - 14") == [(0, 33)]
    assert vector_pieces("12 - 14") == [(0, 7)]


def test_every_letter_of_a_chunk_is_in_one_of_its_pieces() -> None:
    pieces = vector_pieces(GARDEN)
    covered = set().union(*(range(a, b) for a, b in pieces))
    assert all(i in covered for i, ch in enumerate(GARDEN) if ch.isalpha())
    texts = [GARDEN[a:b] for a, b in pieces]
    assert "# Tomatoes" in texts and any("hornworms" in t for t in texts)
    assert any("Roma" in t for t in texts)


def test_mean_directions_is_the_normalised_mean_of_each_group() -> None:
    out = mean_directions(np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]), [2, 1])
    assert np.allclose(out, [[0.70710677, 0.70710677], [0.0, 1.0]])
    # Opposite pieces cancel out: the first piece's direction is kept, still a unit vector.
    assert np.allclose(mean_directions(np.array([[1.0, 0.0], [-1.0, 0.0]]), [2]), [[1.0, 0.0]])
    with pytest.raises(ValueError):
        mean_directions(np.zeros((2, 2)), [3])


def test_a_derived_index_embeds_each_text_once_and_no_chunk_whole(
    docs: Path, tmp_path: Path
) -> None:
    embedder = RecordingEmbedder()
    report = sync_index(docs, tmp_path / "index", embedder, DERIVE)
    store = open_store(tmp_path / "index", embedder)
    chunks = store.chunks()
    assert len(chunks) > 2  # the overlap between chunks repeats sentences

    # Each chunk's vector is the mean of its pieces' fake vectors.
    for chunk, vector in zip(chunks, chunk_vectors(store), strict=True):
        assert np.allclose(vector, derived(chunk.text), atol=1e-6), chunk.id
    # One embed call, each distinct piece text once; a chunk's text only where it is its
    # one piece.
    assert embedder.calls == 1
    pieces = {c.text[a:b] for c in chunks for a, b in vector_pieces(c.text)}
    assert sorted(embedder.texts) == sorted(pieces)
    assert report.sentences_embedded == len(pieces)
    assert report.chunks_embedded == len({c.hash for c in chunks})
    # The quotable sentences' vectors are stored for answers, as with encoded chunks.
    assert isinstance(store, SentenceStore) and store.has_sentences
    manifest = store.manifest
    assert manifest is not None and manifest.chunker.vectors == "sentences"
    assert manifest.format_version == FORMAT_VERSION
    data = json.loads((tmp_path / "index" / "manifest.json").read_text(encoding="utf-8"))
    assert data["chunker"]["vectors"] == "sentences"


def test_an_unchanged_sync_embeds_nothing_and_an_edit_only_its_new_text(
    docs: Path, tmp_path: Path
) -> None:
    embedder = RecordingEmbedder()
    sync_index(docs, tmp_path / "index", embedder, DERIVE)
    again = sync_index(docs, tmp_path / "index", embedder, DERIVE)
    assert again.sentences_embedded == 0 and again.chunks_embedded == 0

    (docs / "hives.txt").write_text(
        HIVES + "\nQueens lay up to two thousand eggs a day in spring.\n", encoding="utf-8"
    )
    embedder.texts.clear()
    report = sync_index(docs, tmp_path / "index", embedder, DERIVE)
    assert report.updated == ("hives.txt",)
    # Only the new sentence is embedded: the others' vectors are the stored ones.
    assert embedder.texts == ["Queens lay up to two thousand eggs a day in spring."]
    store = open_store(tmp_path / "index", embedder)
    for chunk, vector in zip(store.chunks(), chunk_vectors(store), strict=True):
        assert np.allclose(vector, derived(chunk.text), atol=1e-6), chunk.id


def test_switching_the_way_remakes_every_chunk_vector_and_never_mixes(
    docs: Path, tmp_path: Path
) -> None:
    embedder = RecordingEmbedder()
    sync_index(docs, tmp_path / "index", embedder, ENCODE)
    encoded = open_store(tmp_path / "index", embedder)
    assert encoded.manifest is not None and encoded.manifest.chunker.vectors == "encode"
    before = chunk_vectors(encoded)

    # To "sentences": the stored sentence vectors are reused, only the other pieces embedded.
    embedder.texts.clear()
    report = sync_index(docs, tmp_path / "index", embedder, DERIVE)
    assert any("remade every chunk vector" in n and "'sentences'" in n for n in report.notes)
    store = open_store(tmp_path / "index", embedder)
    assert store.chunks() == encoded.chunks()  # nothing indexed was lost
    for chunk, vector in zip(store.chunks(), chunk_vectors(store), strict=True):
        assert np.allclose(vector, derived(chunk.text), atol=1e-6), chunk.id
    quotable = {c.text[a:b] for c in store.chunks() for a, b in sentence_units(c.text)}
    assert embedder.texts and not set(embedder.texts) & quotable
    assert store.manifest is not None and store.manifest.chunker.vectors == "sentences"

    # And back to "encode": every chunk's whole text is embedded again, none kept derived.
    embedder.texts.clear()
    report = sync_index(docs, tmp_path / "index", embedder, ENCODE)
    assert any("'encode'" in n for n in report.notes)
    back = open_store(tmp_path / "index", embedder)
    assert sorted(embedder.texts) == sorted({c.text for c in back.chunks()})
    for a, b in zip(chunk_vectors(back), before, strict=True):
        assert np.allclose(a, b, atol=1e-6)


def test_an_edit_synced_the_other_way_remakes_the_unchanged_files_too(
    docs: Path, tmp_path: Path
) -> None:
    embedder = FakeEmbedder()
    sync_index(docs, tmp_path / "index", embedder, DERIVE)
    (docs / "garden.md").write_text(GARDEN + "\nStake the plants early.\n", encoding="utf-8")
    sync_index(docs, tmp_path / "index", embedder, ENCODE)
    store = open_store(tmp_path / "index", embedder)
    expected = FakeEmbedder().embed([c.text for c in store.chunks()])
    assert np.allclose(np.stack(chunk_vectors(store)), expected, atol=1e-6)


def as_format_2(index_dir: Path) -> None:
    """Make index_dir what the assistant before this choice wrote: format 2, no 'vectors'
    in the chunker settings."""
    path = index_dir / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["chunker"]["vectors"]
    data["format_version"] = 2
    path.write_text(json.dumps(data), encoding="utf-8")


def test_a_format_2_index_still_answers_and_the_next_sync_derives(
    docs: Path, tmp_path: Path
) -> None:
    embedder = FakeEmbedder()
    sync_index(docs, tmp_path / "index", embedder, ENCODE)
    as_format_2(tmp_path / "index")
    old = open_store(tmp_path / "index", embedder)
    assert old.manifest is not None and old.manifest.format_version == 2
    assert old.manifest.chunker.vectors == "encode"  # what format 2 always did

    # Loaded with settings that ask for derived vectors, it answers as it is, correctly.
    settings = Settings(show_progress=False, chunk_vectors="sentences", chunk_tokens=40)
    bot = Assistant.load(tmp_path / "index", embedder=embedder, settings=settings)
    answer = bot.ask("How many bees does a strong hive hold?")
    assert not answer.refused and "fifty thousand" in answer.text
    for c in answer.citations:
        assert (docs / c.source).read_text(encoding="utf-8")[c.start : c.end] == c.quote

    # The next sync with those settings remakes the chunk vectors, from the stored sentences.
    chunker = chunker_config(settings, embedder)
    assert chunker.vectors == "sentences"
    report = sync_index(docs, tmp_path / "index", embedder, chunker)
    assert any("remade every chunk vector" in n for n in report.notes)
    new = open_store(tmp_path / "index", embedder)
    assert new.manifest is not None and new.manifest.format_version == FORMAT_VERSION
    for chunk, vector in zip(new.chunks(), chunk_vectors(new), strict=True):
        assert np.allclose(vector, derived(chunk.text), atol=1e-6), chunk.id


def test_an_unknown_way_is_refused() -> None:
    with pytest.raises(ValueError, match="encode, sentences"):
        ChunkerConfig(40, 8, vectors="average")


def manifest_with(chunker: ChunkerConfig, *names: str) -> Manifest:
    sources = {n: SourceInfo(n, "txt", 1, 1, sha256="1") for n in names}
    return Manifest("fake", 64, 64, chunker, sources, len(sources), "g1", "t", "/docs")


def test_the_way_changes_only_when_every_indexed_file_can_be_read_again() -> None:
    m = manifest_with(ENCODE, "a.txt", "b.txt")
    # Every file readable (a deleted one simply leaves): the new way, every chunk remade.
    assert chunker_to_use(m, {"a.txt": "1"}, DERIVE) == (DERIVE, "")
    assert plan_sync({"a.txt": "1"}, m, DERIVE, "/docs").rechunk_all
    # An indexed file unreadable now: remaking every chunk would drop it, so the index keeps
    # its way for this sync, and says why.
    chunker, note = chunker_to_use(m, {"a.txt": "1", "b.txt": None}, DERIVE)
    assert chunker == ENCODE
    assert "b.txt cannot be read now" in note and "'encode'" in note
    assert not plan_sync({"a.txt": "1", "b.txt": None}, m, chunker, "/docs").rechunk_all
    # Other chunk sizes as well: everything is rebuilt anyway, as before.
    other = ChunkerConfig(max_tokens=60, overlap_tokens=8, vectors="sentences")
    assert chunker_to_use(m, {"a.txt": "1", "b.txt": None}, other) == (other, "")
    assert chunker_to_use(None, {}, DERIVE) == (DERIVE, "")
