"""Sentence vectors stream from the embedder to the generation file (issue 13, item 7): the
embedder's output goes to a temporary file a slice at a time, a merge gathers rows from
where they lie (the old generation's memory map, that file) without copying them, and the
write copies them a slice at a time. What is written equals the whole; a write killed
halfway leaves the old generation loadable.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fakes import FakeEmbedder
from test_sentence_vectors import assert_sentences_stored

import assistant.store.faiss as faiss_store
import assistant.store.sync as sync_module
from assistant.store import ChunkerConfig, SentenceStore, open_store, sync_index
from assistant.store.base import GatheredRows, RowFile

CHUNKER = ChunkerConfig(max_tokens=24, overlap_tokens=6, vectors="sentences")


def _text(n: int, seed: int) -> str:
    words = ["apples", "trees", "harvest", "cider", "chain", "wheel", "frost", "orchard"]
    rng = np.random.default_rng(seed)
    return "\n\n".join(
        " ".join(
            f"{' '.join(rng.choice(words, size=int(rng.integers(4, 9))))} number {seed}-{i}-{j}."
            for j in range(3)
        ).capitalize()
        for i in range(n)
    )


def test_gathered_rows_read_in_slices_equal_the_rows_stacked_and_indexed() -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((5, 3)).astype(np.float32)
    b = rng.standard_normal((4, 3)).astype(np.float32)
    file = RowFile(3)
    file.append(b[:2])
    file.append(b[2:])
    index = np.array([8, 0, 3, 3, 5, 1, 7])
    whole = np.concatenate([a, b])[index]

    rows = GatheredRows([a, file], index, 3)
    assert len(rows) == 7 and rows.shape == (7, 3)
    assert np.array_equal(np.asarray(rows), whole)
    assert np.array_equal(np.concatenate(list(rows.slices(2))), whole)
    assert np.array_equal(rows[2:5], whole[2:5]) and np.array_equal(rows[-1], whole[-1])
    # A gather of a gather reads the arrays underneath, each listed once.
    again = GatheredRows([rows, a, rows], np.array([0, 7, 17]), 3)
    assert np.array_equal(np.asarray(again), np.stack([whole[0], a[0], whole[5]]))
    assert len(again._parts) == 2
    with pytest.raises(ValueError):
        GatheredRows([a], np.array([5]), 3)


def test_raw_rows_written_a_slice_at_a_time_equal_the_whole_array(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(faiss_store, "_SLICE_BYTES", 3 * 4 * 4)  # 3 rows of 4 values a slice
    vectors = np.random.default_rng(1).standard_normal((10, 4)).astype(np.float32)
    rows = GatheredRows([vectors], np.arange(9, -1, -1), 4)
    faiss_store._save_raw(tmp_path / "v.f32", rows)
    assert (tmp_path / "v.f32").read_bytes() == vectors[::-1].astype("<f4").tobytes()
    table = np.arange(12, dtype=np.int32).reshape(4, 3)
    faiss_store._save_raw(tmp_path / "t.i32", table)
    assert np.array_equal(np.fromfile(tmp_path / "t.i32", dtype="<i4").reshape(4, 3), table)


def test_sentence_vectors_embedded_and_merged_in_slices_are_the_ones_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small slices everywhere, so that every path crosses slice boundaries many times."""
    monkeypatch.setattr(sync_module, "_EMBED_SLICE", 3)
    monkeypatch.setattr(sync_module, "_LOOKUP_SLICE", 4)
    monkeypatch.setattr(sync_module, "_DERIVE_CHUNKS", 2)
    monkeypatch.setattr(faiss_store, "_SLICE_BYTES", 5 * 64 * 4)
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(3):
        (docs / f"f{i}.txt").write_text(_text(6, i), encoding="utf-8")
    embedder = FakeEmbedder()
    sync_index(docs, tmp_path / "index", embedder, CHUNKER)
    (docs / "f1.txt").write_text(_text(6, 1) + "\n\n" + _text(2, 9), encoding="utf-8")
    report = sync_index(docs, tmp_path / "index", embedder, CHUNKER)
    assert report.updated == ("f1.txt",)

    store = open_store(tmp_path / "index", embedder)
    assert isinstance(store, SentenceStore) and store.has_sentences
    assert_sentences_stored(store)
    # The stored chunk vectors are the ones one pass over every chunk at once would make.
    fresh = tmp_path / "fresh"
    sync_index(docs, fresh, FakeEmbedder(), CHUNKER)
    whole = open_store(fresh, embedder)
    assert [c.id for c in whole.chunks()] == [c.id for c in store.chunks()]
    ids = [c.id for c in store.chunks()]
    probe = FakeEmbedder().embed(["cider harvest"])[0]
    assert np.allclose(store.cosines(probe, ids), whole.cosines(probe, ids), atol=1e-6)


def test_a_write_killed_between_slices_leaves_the_old_generation_loadable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(_text(8, 1), encoding="utf-8")
    embedder = FakeEmbedder()
    sync_index(docs, tmp_path / "index", embedder, CHUNKER)
    before = open_store(tmp_path / "index", embedder)
    files_before = sorted(p.name for p in (tmp_path / "index").iterdir())

    (docs / "b.txt").write_text(_text(8, 2), encoding="utf-8")
    monkeypatch.setattr(faiss_store, "_SLICE_BYTES", 4 * 64 * 4)
    real_take = GatheredRows._take
    partial: list[int] = []

    def take_then_die(self: GatheredRows, rows: np.ndarray) -> np.ndarray:
        new = [
            p for p in (tmp_path / "index").glob("sentences-*.f32") if p.name not in files_before
        ]
        if new and new[0].stat().st_size >= 3 * 4 * 64 * 4:  # three slices are on disk
            partial.append(new[0].stat().st_size)
            raise KeyboardInterrupt("killed in the middle of the sentence vectors")
        return real_take(self, rows)

    monkeypatch.setattr(GatheredRows, "_take", take_then_die)
    with pytest.raises(KeyboardInterrupt, match="middle of the sentence vectors"):
        sync_index(docs, tmp_path / "index", embedder, CHUNKER)
    assert partial  # the kill came with part of the new file written
    monkeypatch.setattr(GatheredRows, "_take", real_take)

    after = open_store(tmp_path / "index", embedder)
    assert [c.id for c in after.chunks()] == [c.id for c in before.chunks()]
    assert sorted(p.name for p in (tmp_path / "index").iterdir()) == files_before
    report = sync_index(docs, tmp_path / "index", embedder, CHUNKER)
    assert report.added == ("b.txt",)
    assert {c.source for c in open_store(tmp_path / "index", embedder).chunks()} == {
        "a.txt",
        "b.txt",
    }


def test_the_faiss_file_written_a_slice_at_a_time_is_the_one_faiss_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import faiss

    monkeypatch.setattr(faiss_store, "_SLICE_BYTES", 3 * 8 * 4)  # 3 rows of 8 values a slice
    vectors = np.random.default_rng(2).standard_normal((10, 8)).astype(np.float32)
    index = faiss.IndexFlatIP(8)
    index.add(vectors[::-1].copy())
    faiss.write_index(index, str(tmp_path / "faiss.faiss"))
    faiss_store._save_flat_ip(
        tmp_path / "ours.faiss", GatheredRows([vectors], np.arange(9, -1, -1), 8)
    )
    # Written from FAISS's own empty header, not by an index built in memory.
    assert faiss_store._flat_ip_header(8) is not None
    assert (tmp_path / "ours.faiss").read_bytes() == (tmp_path / "faiss.faiss").read_bytes()
    loaded = faiss.read_index(str(tmp_path / "ours.faiss"))
    assert loaded.ntotal == 10 and np.array_equal(loaded.reconstruct_n(0, 10), vectors[::-1])


def test_chunks_come_one_at_a_time_without_tokenising_the_whole_text() -> None:
    """A big text's first chunk comes after a few tokenizer calls on its first paragraphs,
    not after its every sentence and word piece are in memory (issue 13: indexing streams)."""
    from assistant.ingest.chunking import iter_chunks
    from assistant.schema import Document

    text = _text(4000, 3)  # about 1 MB, 4,000 paragraphs
    seen: list[int] = []

    def spans(part: str) -> list[tuple[int, int]]:
        seen.append(len(part))
        return FakeEmbedder().token_spans(part)

    doc = Document(source="big.txt", text=text, kind="txt", sha256="0", size=len(text))
    chunks = iter_chunks(doc, spans, max_tokens=24, overlap_tokens=6)
    first = next(chunks)
    assert text[first.start : first.end] == first.text
    # What was tokenised before the first chunk: one run of paragraphs (about 64 K
    # characters) and the check of that chunk, a small part of the text.
    assert sum(seen) < len(text) / 8
    rest = list(chunks)
    assert rest and rest[-1].end == len(text.rstrip())
