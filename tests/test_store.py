"""The on-disk index (FaissStore): incremental sync, the manifest, verification on load,
crash safety. What every store must do is in test_store_contract.py; the pure sync plan is
tested in test_store_plan.py.

Everything here runs with the deterministic FakeEmbedder (no model), so it is fast; the
embedder's `embedded` counter shows exactly how much text a sync had to embed.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fakes import FakeEmbedder

from assistant.errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from assistant.ingest.chunking import sentence_units
from assistant.schema import Chunk, SourceInfo
from assistant.store import (
    FORMAT_VERSION,
    ChunkerConfig,
    SentenceStore,
    Store,
    open_store,
    sync_index,
)
from assistant.store import faiss as faiss_store

# Small chunks, so that every document spans several of them.
CHUNKER = ChunkerConfig(max_tokens=24, overlap_tokens=6)

ALPHA = (
    "Apples grow on trees in cool orchards. Farmers prune the trees every winter.\n\n"
    "The harvest starts in September and ends in late October. Pickers fill wooden crates "
    "with red and green apples.\n\n"
    "Cider presses run day and night during the harvest. The juice ferments for weeks.\n"
)
BETA = (
    "# Bicycles\n\n"
    "A bicycle has two wheels, a frame and a chain. Riders pedal to turn the rear wheel.\n\n"
    "## Maintenance\n\n"
    "Oil the chain every month. Check the tyre pressure before every long ride.\n"
)
# CRLF line ends and non-ASCII text: offsets must still slice the file's own text.
GAMMA = (
    "Le café du coin sert un espresso très fort.\r\n"
    "Naïve visitors order a latte — the barista smiles.\r\n\r\n"
    "The café opens at seven and closes at noon on Sundays.\r\n"
)


def write_docs(folder: Path) -> None:
    (folder / "sub").mkdir(parents=True, exist_ok=True)
    (folder / "alpha.txt").write_text(ALPHA, encoding="utf-8", newline="")
    (folder / "beta.md").write_text(BETA, encoding="utf-8", newline="")
    (folder / "sub" / "gamma.txt").write_text(GAMMA, encoding="utf-8", newline="")


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    write_docs(folder)
    return folder


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    return tmp_path / "index"


@pytest.fixture
def embedder() -> FakeEmbedder:
    return FakeEmbedder()


def load_index(index_dir: Path, embedder: FakeEmbedder) -> Store:
    return open_store(index_dir, embedder)


def sources_in(store: Store) -> dict[str, SourceInfo]:
    assert store.manifest is not None  # a loaded index always has one
    return store.manifest.sources


def stored_vectors(store: Store) -> np.ndarray:
    """Every chunk's stored vector, row i for chunk i, read back through the Store protocol
    (the cosine with each unit axis is one coordinate)."""
    ids = [c.id for c in store.chunks()]
    assert store.manifest is not None
    axes = np.eye(store.manifest.dimension, dtype=np.float32)
    return np.stack([store.cosines(axis, ids) for axis in axes], axis=1)


def chunks_of(index_dir: Path, embedder: FakeEmbedder, source: str) -> list[Chunk]:
    return [c for c in load_index(index_dir, embedder).chunks() if c.source == source]


def index_files(index_dir: Path) -> set[str]:
    return {p.name for p in index_dir.iterdir()}


def sentence_texts(chunks: Sequence[Chunk]) -> set[str]:
    """The distinct quotable sentences of chunks: what the index embeds besides them."""
    return {c.text[a:b] for c in chunks for a, b in sentence_units(c.text)}


# ---------------------------------------------------------------- first build


def test_first_sync_writes_index_files_and_manifest(
    docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    report = sync_index(docs, index_dir, embedder, CHUNKER)

    assert report.added == ("alpha.txt", "beta.md", "sub/gamma.txt")
    assert report.updated == report.removed == report.unchanged == ()
    assert report.skipped == ()
    assert report.chunks_total > 3  # small chunks: several per document
    assert report.chunks_embedded == report.chunks_total
    # Besides the chunks, each distinct quotable sentence is embedded once (answers then
    # embed only their question).
    index = load_index(index_dir, embedder)
    assert report.sentences_embedded == len(sentence_texts(index.chunks())) > 0
    assert embedder.embedded == report.chunks_total + report.sentences_embedded

    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["model"] == "fake"
    assert manifest["dimension"] == embedder.dimension
    assert manifest["chunker"]["max_tokens"] == CHUNKER.max_tokens
    assert manifest["chunker"]["overlap_tokens"] == CHUNKER.overlap_tokens
    assert set(manifest["sources"]) == {"alpha.txt", "beta.md", "sub/gamma.txt"}
    for name, entry in manifest["sources"].items():
        data = (docs / name).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest(), name
        assert entry["size"] == len(data), name
        assert entry["chunks"] >= 1, name
    assert manifest["counts"] == {"sources": 3, "chunks": report.chunks_total}
    assert sum(e["chunks"] for e in manifest["sources"].values()) == report.chunks_total

    # The files the manifest names exist, and nothing else but the manifest and the
    # documents' digests (store/digests.py) is there.
    files = manifest["files"]
    assert index_files(index_dir) == {"manifest.json", "digests.json", *files.values()}
    assert set(files) == {"vectors", "chunks", "sentences", "sentence_spans"}
    lines = (index_dir / files["chunks"]).read_text(encoding="utf-8").splitlines()
    assert len(lines) == report.chunks_total

    import faiss

    vectors = faiss.read_index(str(index_dir / files["vectors"]))
    assert len(index.chunks()) == vectors.ntotal == report.chunks_total


def test_chunk_offsets_slice_the_source_text(
    docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    sync_index(docs, index_dir, embedder, CHUNKER)
    index = load_index(index_dir, embedder)

    assert {c.source for c in index.chunks()} == {"alpha.txt", "beta.md", "sub/gamma.txt"}
    for chunk in index.chunks():
        text = (docs / chunk.source).read_bytes().decode("utf-8")
        assert text[chunk.start : chunk.end] == chunk.text, chunk
        assert chunk.hash == hashlib.sha256(chunk.text.encode("utf-8")).hexdigest()
    # Each document's text is covered: every word of it is in some chunk of it.
    for name in ("alpha.txt", "beta.md", "sub/gamma.txt"):
        text = (docs / name).read_bytes().decode("utf-8")
        covered = " ".join(c.text for c in index.chunks() if c.source == name)
        assert set(text.split()) <= set(covered.split()), name


def test_no_pickle_anywhere_in_the_index(
    docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    sync_index(docs, index_dir, embedder, CHUNKER)
    files = [p for p in index_dir.rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert path.suffix not in {".pkl", ".pickle", ".joblib", ".npy", ".npz"}, path
        head = path.read_bytes()[:2]
        # Pickle protocol 2+ starts with PROTO (0x80) and the protocol number.
        assert not (head[:1] == b"\x80" and head[1:2] in {bytes([n]) for n in range(2, 6)}), path


# ---------------------------------------------------------------- incremental sync


def test_resync_of_unchanged_folder_embeds_nothing(
    docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    first = sync_index(docs, index_dir, embedder, CHUNKER)
    before = load_index(index_dir, embedder).chunks()
    embedded = embedder.embedded

    report = sync_index(docs, index_dir, embedder, CHUNKER)

    assert report.chunks_embedded == 0
    assert embedder.embedded == embedded
    assert report.unchanged == ("alpha.txt", "beta.md", "sub/gamma.txt")
    assert report.added == report.updated == report.removed == ()
    assert report.chunks_total == first.chunks_total
    assert load_index(index_dir, embedder).chunks() == before


def test_changed_file_is_the_only_one_re_embedded(
    docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    sync_index(docs, index_dir, embedder, CHUNKER)
    old = load_index(index_dir, embedder)
    old_hashes = {c.hash for c in old.chunks()}
    untouched = {s: chunks_of(index_dir, embedder, s) for s in ("beta.md", "sub/gamma.txt")}
    embedded = embedder.embedded

    (docs / "alpha.txt").write_text(
        ALPHA + "\nA new orchard of pears was planted beside the old apple trees.\n",
        encoding="utf-8",
        newline="",
    )
    report = sync_index(docs, index_dir, embedder, CHUNKER)

    assert report.updated == ("alpha.txt",)
    assert report.added == report.removed == ()
    assert report.unchanged == ("beta.md", "sub/gamma.txt")
    new_alpha = chunks_of(index_dir, embedder, "alpha.txt")
    fresh = {c.hash for c in new_alpha} - old_hashes
    # Only the changed file's new text was embedded: its unchanged chunks reuse vectors.
    assert fresh
    assert report.chunks_embedded == len(fresh)
    # Sentences too: only those whose text the index did not hold yet.
    new_sentences = sentence_texts(new_alpha) - sentence_texts(old.chunks())
    assert 0 < report.sentences_embedded == len(new_sentences)
    assert embedder.embedded - embedded == len(fresh) + len(new_sentences)
    assert len(fresh) < len(new_alpha) + len(untouched["beta.md"])
    assert any("pears" in c.text for c in new_alpha)
    for source, chunks in untouched.items():
        assert chunks_of(index_dir, embedder, source) == chunks, source


def test_reused_vectors_are_the_vectors_of_their_text(
    docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    sync_index(docs, index_dir, embedder, CHUNKER)
    (docs / "alpha.txt").write_text(ALPHA + "\nPears too.\n", encoding="utf-8", newline="")
    (docs / "beta.md").unlink()
    sync_index(docs, index_dir, embedder, CHUNKER)

    index = load_index(index_dir, embedder)
    expected = FakeEmbedder().embed([c.text for c in index.chunks()])
    assert stored_vectors(index) == pytest.approx(expected, abs=1e-6)


def test_added_file_is_reported_and_indexed(
    docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    sync_index(docs, index_dir, embedder, CHUNKER)
    embedded = embedder.embedded

    (docs / "delta.txt").write_text(
        "Tea is grown on steep hills. The leaves are picked by hand.\n", encoding="utf-8"
    )
    report = sync_index(docs, index_dir, embedder, CHUNKER)

    assert report.added == ("delta.txt",)
    assert report.updated == report.removed == ()
    delta = chunks_of(index_dir, embedder, "delta.txt")
    assert delta
    assert report.chunks_embedded == len(delta)
    assert report.sentences_embedded == len(sentence_texts(delta)) > 0
    assert embedder.embedded - embedded == len(delta) + report.sentences_embedded
    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    assert "delta.txt" in manifest["sources"]
    assert manifest["counts"]["sources"] == 4


def test_deleted_file_is_reported_and_its_chunks_leave(
    docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    sync_index(docs, index_dir, embedder, CHUNKER)
    beta_chunks = len(chunks_of(index_dir, embedder, "beta.md"))
    total = len(load_index(index_dir, embedder).chunks())

    (docs / "beta.md").unlink()
    report = sync_index(docs, index_dir, embedder, CHUNKER)

    assert report.removed == ("beta.md",)
    assert report.added == report.updated == ()
    assert report.chunks_embedded == 0
    index = load_index(index_dir, embedder)
    assert all(c.source != "beta.md" for c in index.chunks())
    assert not any("bicycle" in c.text.lower() for c in index.chunks())
    assert len(index.chunks()) == total - beta_chunks
    assert "beta.md" not in sources_in(index)


def test_empty_and_binary_files_are_skipped_without_stopping_the_run(
    docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    (docs / "empty.txt").write_bytes(b"")
    (docs / "blob.txt").write_bytes(b"\x00\x01\x02binary\x00data" * 10)
    (docs / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n")

    report = sync_index(docs, index_dir, embedder, CHUNKER)

    skipped = {s.source: s.reason for s in report.skipped}
    assert set(skipped) == {"empty.txt", "blob.txt", "photo.png"}
    assert "empty" in skipped["empty.txt"]
    assert "binary" in skipped["blob.txt"]
    assert report.added == ("alpha.txt", "beta.md", "sub/gamma.txt")
    index = load_index(index_dir, embedder)
    assert {c.source for c in index.chunks()} == {"alpha.txt", "beta.md", "sub/gamma.txt"}
    assert set(sources_in(index)) == {"alpha.txt", "beta.md", "sub/gamma.txt"}


def test_indexed_file_that_turns_binary_keeps_its_old_chunks(
    docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    sync_index(docs, index_dir, embedder, CHUNKER)
    before = chunks_of(index_dir, embedder, "alpha.txt")
    entry = sources_in(load_index(index_dir, embedder))["alpha.txt"]

    (docs / "alpha.txt").write_bytes(b"\x00\xff\x00 garbage that is not text \x00" * 20)
    report = sync_index(docs, index_dir, embedder, CHUNKER)

    assert [s.source for s in report.skipped] == ["alpha.txt"]
    assert "alpha.txt" not in report.updated
    assert "alpha.txt" not in report.removed
    assert chunks_of(index_dir, embedder, "alpha.txt") == before
    assert sources_in(load_index(index_dir, embedder))["alpha.txt"] == entry


def deny_reading(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """Make opening `path` fail as it does without read permission (simulated: these tests
    may run as root, where chmod 000 does not stop reads)."""
    locked = path.resolve()
    real_open = Path.open

    def guarded_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self.resolve() == locked:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", guarded_open)
    real_os_open = os.open

    def guarded_os_open(file: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        # The loaders open files with os.open (non-blocking, checked with fstat).
        if Path(file).resolve() == locked:
            raise PermissionError(13, "Permission denied", str(file))
        return real_os_open(file, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", guarded_os_open)


def test_indexed_file_that_turns_unreadable_keeps_its_old_chunks(
    docs: Path, index_dir: Path, embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A permission error must be reported, not crash the sync, and must not drop the
    file's indexed text."""
    sync_index(docs, index_dir, embedder, CHUNKER)
    before = chunks_of(index_dir, embedder, "alpha.txt")
    deny_reading(monkeypatch, docs / "alpha.txt")
    report = sync_index(docs, index_dir, embedder, CHUNKER)
    monkeypatch.undo()

    assert [s.source for s in report.skipped] == ["alpha.txt"]
    assert "alpha.txt" not in report.removed
    assert chunks_of(index_dir, embedder, "alpha.txt") == before


def test_new_unreadable_file_is_skipped_without_stopping_the_run(
    docs: Path, index_dir: Path, embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    (docs / "secret.txt").write_text("Locked away from the indexer.\n", encoding="utf-8")
    deny_reading(monkeypatch, docs / "secret.txt")
    report = sync_index(docs, index_dir, embedder, CHUNKER)
    monkeypatch.undo()

    assert [s.source for s in report.skipped] == ["secret.txt"]
    assert report.added == ("alpha.txt", "beta.md", "sub/gamma.txt")


# ---------------------------------------------------------------- verification on load


def test_missing_index_raises_index_missing(tmp_path: Path, embedder: FakeEmbedder) -> None:
    with pytest.raises(IndexMissingError, match="assistant index"):
        load_index(tmp_path / "nowhere", embedder)
    (tmp_path / "empty").mkdir()
    with pytest.raises(IndexMissingError, match="assistant index"):
        load_index(tmp_path / "empty", embedder)


def test_garbage_manifest_raises_index_corrupt(
    docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    sync_index(docs, index_dir, embedder, CHUNKER)
    (index_dir / "manifest.json").write_bytes(b"\x00\xff\xfe{{ not json \x9c\x80 at all")

    with pytest.raises(IndexCorruptError) as info:
        load_index(index_dir, embedder)
    message = str(info.value)
    assert "`assistant index`" in message
    assert "\n" not in message


def test_truncated_json_manifest_raises_index_corrupt(
    docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    sync_index(docs, index_dir, embedder, CHUNKER)
    text = (index_dir / "manifest.json").read_text(encoding="utf-8")
    (index_dir / "manifest.json").write_text(text[: len(text) // 2], encoding="utf-8")

    with pytest.raises(IndexCorruptError, match="assistant index"):
        load_index(index_dir, embedder)


def test_missing_manifest_beside_index_files_is_corrupt_not_missing(
    docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    sync_index(docs, index_dir, embedder, CHUNKER)
    (index_dir / "manifest.json").unlink()

    with pytest.raises(IndexCorruptError, match="assistant index"):
        load_index(index_dir, embedder)


def test_corrupt_index_is_rebuilt_by_the_next_sync(
    docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    first = sync_index(docs, index_dir, embedder, CHUNKER)
    (index_dir / "manifest.json").write_bytes(b"\x00garbage")

    report = sync_index(docs, index_dir, embedder, CHUNKER)

    assert report.chunks_total == first.chunks_total
    assert len(load_index(index_dir, embedder).chunks()) == first.chunks_total


@pytest.mark.parametrize(
    ("name", "dimension"),
    [
        pytest.param("another-model", 64, id="model-name"),
        pytest.param("fake", 32, id="dimension"),
    ],
)
def test_model_mismatch_raises_index_mismatch(
    docs: Path, index_dir: Path, embedder: FakeEmbedder, name: str, dimension: int
) -> None:
    sync_index(docs, index_dir, embedder, CHUNKER)
    foreign = FakeEmbedder(dimension=dimension)
    foreign.name = name

    with pytest.raises(IndexMismatchError) as info:
        load_index(index_dir, foreign)
    assert "`assistant index`" in str(info.value)


def test_chunk_file_missing_a_line_raises_index_corrupt(
    docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    sync_index(docs, index_dir, embedder, CHUNKER)
    chunks_file = next(index_dir.glob("chunks-*.jsonl"))
    lines = chunks_file.read_text(encoding="utf-8").splitlines(keepends=True)
    chunks_file.write_text("".join(lines[:-1]), encoding="utf-8")

    with pytest.raises(IndexCorruptError, match="assistant index"):
        load_index(index_dir, embedder)


def test_chunk_file_cut_mid_line_raises_index_corrupt(
    docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    sync_index(docs, index_dir, embedder, CHUNKER)
    chunks_file = next(index_dir.glob("chunks-*.jsonl"))
    data = chunks_file.read_bytes()
    chunks_file.write_bytes(data[: len(data) - 40])

    with pytest.raises(IndexCorruptError, match="assistant index"):
        load_index(index_dir, embedder)


def test_missing_vectors_file_raises_index_corrupt(
    docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    sync_index(docs, index_dir, embedder, CHUNKER)
    next(index_dir.glob("vectors-*.faiss")).unlink()

    with pytest.raises(IndexCorruptError, match="assistant index"):
        load_index(index_dir, embedder)


# ---------------------------------------------------------------- crash safety


class Crash(RuntimeError):
    pass


def _crash_in_faiss_write(monkeypatch: pytest.MonkeyPatch) -> None:
    real = faiss_store._save_flat_ip  # the chunk vectors' FAISS file, a slice at a time

    def write_then_crash(path: Path, rows: Any, *mapped: Any) -> None:
        real(path, rows, *mapped)
        raise Crash("disk full after the vectors")

    monkeypatch.setattr(faiss_store, "_save_flat_ip", write_then_crash)


def _crash_mid_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    real = Chunk.to_dict
    calls = {"n": 0}

    def to_dict_then_crash(self: Chunk) -> dict[str, object]:
        calls["n"] += 1
        if calls["n"] > 2:
            raise Crash("disk full in the middle of the chunks")
        return real(self)

    monkeypatch.setattr(Chunk, "to_dict", to_dict_then_crash)
    # A sync copies the lines of unchanged documents from the old chunks file: cut there too.
    copy = faiss_store._copy_range

    def copy_then_crash(source: int, out: int, offset: int, count: int) -> None:
        copy(source, out, offset, max(1, count // 2))
        raise Crash("disk full in the middle of the chunks")

    monkeypatch.setattr(faiss_store, "_copy_range", copy_then_crash)


def _crash_in_sentence_write(monkeypatch: pytest.MonkeyPatch) -> None:
    real = faiss_store._save_raw
    calls = {"n": 0}

    def save_then_crash(path: Path, array: np.ndarray, *mapped: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:  # the spans are written; the sentence vectors are cut short
            path.write_bytes(np.asarray(array).tobytes()[:10])
            raise Crash("killed while writing the sentence vectors")
        real(path, array, *mapped)

    monkeypatch.setattr(faiss_store, "_save_raw", save_then_crash)


def _crash_in_rename(monkeypatch: pytest.MonkeyPatch) -> None:
    def replace(src: object, dst: object) -> None:
        raise Crash("power cut before the manifest was switched")

    monkeypatch.setattr(faiss_store.os, "replace", replace)


@pytest.mark.parametrize(
    "crash",
    [
        pytest.param(_crash_in_faiss_write, id="after-vectors"),
        pytest.param(_crash_mid_chunks, id="mid-chunks"),
        pytest.param(_crash_in_sentence_write, id="mid-sentences"),
        pytest.param(_crash_in_rename, id="manifest-rename"),
    ],
)
def test_crash_during_resync_leaves_previous_index_loadable(
    docs: Path,
    index_dir: Path,
    embedder: FakeEmbedder,
    monkeypatch: pytest.MonkeyPatch,
    crash: Callable[[pytest.MonkeyPatch], None],
) -> None:
    sync_index(docs, index_dir, embedder, CHUNKER)
    before = load_index(index_dir, embedder)
    before_vectors = stored_vectors(before)

    (docs / "alpha.txt").write_text("Completely new text about volcanoes.\n", encoding="utf-8")
    (docs / "beta.md").unlink()
    with monkeypatch.context() as patch:
        crash(patch)
        with pytest.raises(Crash):
            sync_index(docs, index_dir, embedder, CHUNKER)

    after = load_index(index_dir, embedder)
    assert after.chunks() == before.chunks()
    assert after.manifest == before.manifest
    assert stored_vectors(after) == pytest.approx(before_vectors)
    assert isinstance(after, SentenceStore) and isinstance(before, SentenceStore)
    for c in before.chunks():
        kept, old = after.chunk_sentences(c.id), before.chunk_sentences(c.id)
        assert kept is not None and old is not None
        assert kept[0].tolist() == old[0].tolist()
        assert kept[1] == pytest.approx(old[1])

    # The next sync completes the change and leaves one generation of files.
    report = sync_index(docs, index_dir, embedder, CHUNKER)
    assert report.updated == ("alpha.txt",)
    assert report.removed == ("beta.md",)
    done = load_index(index_dir, embedder)
    assert any("volcanoes" in c.text for c in done.chunks())
    assert len(list(index_dir.glob("vectors-*.faiss"))) == 1
    assert len(list(index_dir.glob("chunks-*.jsonl"))) == 1
    assert len(list(index_dir.glob("sentences-*"))) == 1
    assert len(list(index_dir.glob("sentence-spans-*"))) == 1


def test_crash_during_manifest_switch_leaves_no_temporary_files_behind(
    docs: Path, index_dir: Path, embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync_index(docs, index_dir, embedder, CHUNKER)
    (docs / "alpha.txt").write_text("Completely new text about volcanoes.\n", encoding="utf-8")
    with monkeypatch.context() as patch:
        _crash_in_rename(patch)
        with pytest.raises(Crash):
            sync_index(docs, index_dir, embedder, CHUNKER)
    sync_index(docs, index_dir, embedder, CHUNKER)

    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    expected = {"manifest.json", *manifest["files"].values()}
    assert len(expected) == 5  # vectors, chunks, sentence vectors and spans, manifest
    assert index_files(index_dir) == expected | {"digests.json"}


# ---------------------------------------------------------------- several processes

# Holds the index folder's sync lock (as a sync in another process would) until stdin closes.
_HOLD_LOCK = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
sys.stdin.read()
"""


def test_a_sync_waits_while_another_process_syncs_the_same_folder(
    docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    import subprocess
    import sys
    import threading

    sync_index(docs, index_dir, embedder, CHUNKER)
    (docs / "delta.txt").write_text("Glaciers carve valleys over millennia.\n", encoding="utf-8")
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(index_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        waiting = threading.Event()
        done = threading.Event()

        def run() -> None:
            sync_index(docs, index_dir, embedder, CHUNKER, on_wait=waiting.set)
            done.set()

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        assert waiting.wait(10), "the second sync did not notice the first"
        # While the other process holds the folder, nothing is written or deleted there.
        assert not done.wait(0.5)
        assert "delta.txt" not in sources_in(load_index(index_dir, embedder))
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(10)
    worker.join(20)
    assert done.is_set()
    assert "delta.txt" in sources_in(load_index(index_dir, embedder))
    assert len(list(index_dir.glob("vectors-*.faiss"))) == 1


def test_an_open_index_sees_what_another_process_committed(
    docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    from assistant.store import SharedStore

    sync_index(docs, index_dir, embedder, CHUNKER)
    reader = load_index(index_dir, embedder)
    assert isinstance(reader, SharedStore) and reader.is_current()

    (docs / "delta.txt").write_text("Glaciers carve valleys over millennia.\n", encoding="utf-8")
    sync_index(docs, index_dir, embedder, CHUNKER)  # stands for another process's sync

    assert not reader.is_current()
    latest = reader.refresh()
    assert latest.is_current()  # type: ignore[attr-defined]
    assert "delta.txt" in sources_in(latest)
    # The reader's own snapshot still answers from the generation it loaded.
    assert "delta.txt" not in sources_in(reader)


def test_a_running_assistant_answers_from_a_document_another_process_indexed(
    docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    from assistant import Assistant, Settings
    from assistant.store import chunker_config

    settings = Settings(index_dir=index_dir, show_progress=False)
    bot = Assistant.from_folder(docs, index_dir=index_dir, settings=settings, embedder=embedder)
    (docs / "delta.txt").write_text(
        "Glaciers carve deep valleys over millennia. Meltwater feeds the rivers below.\n",
        encoding="utf-8",
    )
    # `assistant index` run beside a live web chat: its own process, its own store object.
    sync_index(docs, index_dir, FakeEmbedder(), chunker_config(settings, embedder))

    answer = bot.ask("What do glaciers carve over millennia?")
    assert "delta.txt" in {s.source for s in bot.sources()}
    assert any(c.source == "delta.txt" for c in answer.citations)


def test_a_running_assistant_keeps_answering_when_another_process_damages_the_index(
    docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    from assistant import Assistant, Settings

    settings = Settings(index_dir=index_dir, show_progress=False)
    bot = Assistant.from_folder(docs, index_dir=index_dir, settings=settings, embedder=embedder)
    question = "When does the apple harvest start?"
    before = [h.chunk.id for h in bot.retrieve(question)]
    assert before

    (index_dir / "manifest.json").write_text("{ not json", encoding="utf-8")

    # The snapshot in hand still answers; the damage is for the next `assistant index`.
    assert [h.chunk.id for h in bot.retrieve(question)] == before
    assert {s.source for s in bot.sources()} == {"alpha.txt", "beta.md", "sub/gamma.txt"}
