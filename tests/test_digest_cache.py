"""The documents' digests kept beside the index (store/digests.py, FaissStore's digests.json):
a new process syncing an unchanged folder reads none of its files; a file whose stat moved
is read again; a damaged, foreign, cut-short or oversized digests file is ignored (every
file is read, the index stays as it was) and replaced; nothing is written outside the
index folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeEmbedder

from assistant import Assistant, Settings
from assistant.store import FaissStore, chunker_config, sync_index
from assistant.store import faiss as faiss_module
from assistant.store import sync as sync_module
from assistant.store.digests import Digest, decode_digests, digests_limit, encode_digests

ROOT = Path(__file__).resolve().parent.parent
SHA_A, SHA_B = "a" * 64, "0123456789abcdef" * 4


# ---------------------------------------------------------------- the file's form (pure)


def _pair() -> dict[str, Digest]:
    return {
        "a.txt": Digest(
            (2049, 11, 80, 1_700_000_000_000_000_000, 1_700_000_000_000_000_001), SHA_A
        ),
        "sub/b.md": Digest((2049, 12, 0, -5, 7), SHA_B),  # a time before 1970 is a time
    }


def test_digests_come_back_as_written_for_the_names_still_there() -> None:
    data = encode_digests("/docs", _pair())
    assert decode_digests(data, "/docs", {"a.txt", "sub/b.md", "new.txt"}) == _pair()
    # A name no longer in the folder is dropped.
    assert decode_digests(data, "/docs", ["a.txt"]) == {"a.txt": _pair()["a.txt"]}


def test_any_file_name_comes_back_as_it_was() -> None:
    odd = {
        "line\nbreak.txt": Digest((1, 2, 3, 4, 5), SHA_A),
        "caf\u00e9 \U0001f600.txt": Digest((1, 3, 3, 4, 5), SHA_A),
        "raw-\udcff.txt": Digest((1, 4, 3, 4, 5), SHA_B),  # an undecodable byte, as scanned
    }
    data = encode_digests("/d\u00f6cs", odd)
    assert data.isascii()
    assert decode_digests(data, "/d\u00f6cs", set(odd)) == odd


def test_a_file_of_another_folder_or_form_is_not_trusted() -> None:
    data = encode_digests("/docs", _pair())
    names = set(_pair())
    assert decode_digests(data, "/other", names) == {}
    head, _, body = data.partition(b"\n")
    header = json.loads(head)
    for key, value in (("format", "something-else"), ("version", 2), ("count", 3)):
        changed = json.dumps({**header, key: value}).encode() + b"\n" + body
        assert decode_digests(changed, "/docs", names) == {}, key
    assert decode_digests(b"", "/docs", names) == {}
    assert decode_digests(b"\x00\xff" * 40, "/docs", names) == {}
    assert decode_digests(b"[" * 100_000, "/docs", {"x" * 10_000}) == {}  # deep, not a crash


def test_a_file_cut_short_or_damaged_anywhere_is_ignored() -> None:
    data = encode_digests("/docs", _pair())
    names = set(_pair())
    for cut in range(len(data) - 1):  # every shorter file but the one without its last "\n"
        assert decode_digests(data[:cut], "/docs", names) == {}, cut
    for at in range(len(data)):
        flipped = bytearray(data)
        flipped[at] ^= 0x01
        decoded = decode_digests(bytes(flipped), "/docs", names)
        assert decoded in ({}, _pair()), at  # a flip that still means the same (e.g. a space)


def test_malformed_or_repeated_entries_make_the_whole_file_untrusted() -> None:
    def file_of(entries: list[Any]) -> bytes:
        body = json.dumps(entries).encode()
        header = {
            "format": "assistant-file-digests",
            "version": 1,
            "folder": "/docs",
            "count": len(entries),
            "sha256": hashlib.sha256(body).hexdigest(),
        }
        return json.dumps(header).encode() + b"\n" + body + b"\n"

    good = ["a.txt", 1, 2, 3, 4, 5, SHA_A]
    assert decode_digests(file_of([good]), "/docs", ["a.txt"]) == {
        "a.txt": Digest((1, 2, 3, 4, 5), SHA_A)
    }
    for bad in (
        ["a.txt", True, 2, 3, 4, 5, SHA_A],  # a boolean is no device number
        ["a.txt", 1, 2, -3, 4, 5, SHA_A],  # no size below 0
        ["a.txt", 1, 2, 3, 4.0, 5, SHA_A],
        ["a.txt", 1, 2, 3, 4, 5, SHA_A.upper()],
        ["a.txt", 1, 2, 3, 4, 5, SHA_A[:-1]],
        ["a.txt", 1, 2, 3, 4, 5],
        [7, 1, 2, 3, 4, 5, SHA_A],
        {"a.txt": SHA_A},
    ):
        assert decode_digests(file_of([good, bad]), "/docs", ["a.txt"]) == {}, bad
    assert decode_digests(file_of([good, good]), "/docs", ["a.txt"]) == {}


def test_a_file_larger_than_the_folder_could_need_is_not_read() -> None:
    many = {f"f{i}.txt": Digest((1, i, 3, 4, 5), SHA_A) for i in range(50)}
    data = encode_digests("/docs", many)
    assert decode_digests(data, "/docs", set(many)) == many
    # Far fewer files now than when it was written: over twice what they could need.
    assert len(data) > digests_limit("/docs", ["f1.txt"])
    assert decode_digests(data, "/docs", ["f1.txt"]) == {}
    assert digests_limit("/docs", ["a.txt"]) == 1604  # the docstring's example


# ---------------------------------------------------------------- syncs in new processes


@pytest.fixture
def hashed(hashed: list[str], monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """conftest's `hashed` (the sources each scan reads to hash, in order). The fixture's
    files were written a moment ago; their digests are kept as if they were minutes old
    (sync._STABLE_NS)."""
    monkeypatch.setattr(sync_module, "_STABLE_NS", 0)
    return hashed


def _folder(root: Path, count: int = 12) -> Path:
    docs = root / "docs"
    docs.mkdir(parents=True)
    for i in range(count):
        (docs / f"note-{i:02d}.txt").write_text(
            f"Note {i}. The depot at Harlow counted {i * 7 + 3} flywheels in May.\n",
            encoding="utf-8",
        )
    return docs


def _bot(root: Path, docs: Path) -> Assistant:
    """A new Assistant over the index at root/index, as a new process starts one."""
    settings = Settings(index_dir=root / "index", show_progress=False)
    return Assistant.from_folder(docs, settings=settings, embedder=FakeEmbedder())


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under root with its (size, mtime ns): what a sync may not change."""
    return {
        p.relative_to(root).as_posix(): (p.lstat().st_size, p.lstat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
    }


def test_a_new_collection_of_an_unchanged_folder_reads_no_file(
    tmp_path: Path, hashed: list[str]
) -> None:
    docs = _folder(tmp_path)
    first = _bot(tmp_path, docs)
    assert len(hashed) == 12
    assert (tmp_path / "index" / faiss_module.DIGESTS).is_file()
    chunks = [c.id for c in first.collection.store.chunks()]
    hashed.clear()
    again = _bot(tmp_path, docs)  # nothing in memory: the digests kept with the index
    assert hashed == []
    assert [c.id for c in again.collection.store.chunks()] == chunks
    report = sync_index(docs, tmp_path / "index", FakeEmbedder(), again.collection.chunker)
    assert hashed == [] and len(report.unchanged) == 12 and not report.updated


def test_a_new_process_syncing_an_unchanged_folder_reads_no_file(
    tmp_path: Path, hashed: list[str]
) -> None:
    docs = _folder(tmp_path)
    _bot(tmp_path, docs)
    # A real new process (its _STABLE_NS the default): counts the files it reads.
    child = """
import sys
from pathlib import Path
from fakes import FakeEmbedder
from assistant import Settings
from assistant.store import chunker_config, sync_index
from assistant.store import sync as sync_module
seen = []
original = sync_module._file_digest
def counting(path, source, max_bytes):
    seen.append(source)
    return original(path, source, max_bytes)
sync_module._file_digest = counting
embedder = FakeEmbedder()
config = chunker_config(Settings(), embedder)
report = sync_index(Path(sys.argv[1]), Path(sys.argv[2]), embedder, config)
print(len(seen), len(report.unchanged), len(report.updated) + len(report.added))
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)])}
    done = subprocess.run(
        [sys.executable, "-c", child, str(docs), str(tmp_path / "index")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "12", "0"]


def test_a_touched_file_is_read_again_and_found_unchanged(
    tmp_path: Path, hashed: list[str]
) -> None:
    docs = _folder(tmp_path)
    _bot(tmp_path, docs)
    touched = docs / "note-03.txt"
    later = touched.stat().st_mtime_ns + 5_000_000_000
    os.utime(touched, ns=(later, later))
    hashed.clear()
    bot = _bot(tmp_path, docs)
    assert hashed == ["note-03.txt"]
    # Its new stat is kept: the process after this one reads nothing.
    hashed.clear()
    report = bot.sync()
    assert hashed == [] and not report.updated
    hashed.clear()
    _bot(tmp_path, docs)
    assert hashed == []


def test_a_change_with_size_and_mtime_restored_is_read_again(
    tmp_path: Path, hashed: list[str]
) -> None:
    docs = _folder(tmp_path)
    _bot(tmp_path, docs)
    path = docs / "note-05.txt"
    before = path.stat()
    text = path.read_text(encoding="utf-8")
    changed = text.replace("Harlow", "Brevik")
    assert len(changed) == len(text)
    path.write_text(changed, encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # as `cp -p` would leave it
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    hashed.clear()
    bot = _bot(tmp_path, docs)
    assert hashed == ["note-05.txt"]  # its ctime moved: the kernel sets it, always
    assert any("Brevik" in c.text for c in bot.collection.store.chunks())
    assert not any(
        "Harlow" in c.text and c.source == "note-05.txt" for c in bot.collection.store.chunks()
    )


@pytest.mark.parametrize(
    "damage",
    ["garbage", "cut short", "another folder", "oversized", "a folder", "a link", "a fifo"],
)
def test_a_bad_digests_file_is_ignored_the_index_kept_and_the_file_replaced(
    tmp_path: Path, hashed: list[str], damage: str
) -> None:
    docs = _folder(tmp_path)
    first = _bot(tmp_path, docs)
    index = tmp_path / "index"
    path = index / faiss_module.DIGESTS
    good = path.read_bytes()
    manifest = (index / faiss_module.MANIFEST).read_bytes()
    chunks = [c.id for c in first.collection.store.chunks()]
    folder, names = str(docs.resolve()), {f"note-{i:02d}.txt" for i in range(12)}
    kept = FaissStore(index).read_digests(folder, names)
    assert set(kept) == names
    path.unlink()
    if damage == "garbage":
        path.write_bytes(b"\x00not json at all\n\xff\xfe")
    elif damage == "cut short":
        path.write_bytes(good[: len(good) // 2])
    elif damage == "another folder":
        path.write_bytes(encode_digests("/somewhere/else", kept))
    elif damage == "oversized":
        # Well-formed, but far more than 12 names could need: not even read.
        extra = {f"gone-{i:05d}.txt": Digest((1, i, 3, 4, 5), SHA_A) for i in range(5000)}
        path.write_bytes(encode_digests(folder, kept | extra))
        assert decode_digests(path.read_bytes(), folder, names | set(extra)) == kept | extra
    elif damage == "a folder":
        path.mkdir()
    elif damage == "a link":
        elsewhere = tmp_path / "elsewhere.json"
        elsewhere.write_bytes(good)  # even true digests are not read through a link
        path.symlink_to(elsewhere)
    else:
        os.mkfifo(path)  # opened without blocking, and not read
    hashed.clear()
    bot = _bot(tmp_path, docs)
    assert sorted(hashed) == [f"note-{i:02d}.txt" for i in range(12)]
    assert [c.id for c in bot.collection.store.chunks()] == chunks  # the index as it was
    assert (index / faiss_module.MANIFEST).read_bytes() == manifest  # nothing committed
    if damage == "a folder":
        assert path.is_dir()  # not ours to delete: ignored every time
        return
    # Replaced by a good one at this sync: the next process reads nothing.
    assert path.is_file() and not path.is_symlink()
    if damage == "a link":
        assert (tmp_path / "elsewhere.json").read_bytes() == good  # the link's target untouched
    hashed.clear()
    _bot(tmp_path, docs)
    assert hashed == []


def test_a_removed_file_leaves_the_kept_digests(tmp_path: Path, hashed: list[str]) -> None:
    docs = _folder(tmp_path)
    _bot(tmp_path, docs)
    (docs / "note-07.txt").unlink()
    hashed.clear()
    bot = _bot(tmp_path, docs)
    assert hashed == []
    data = (tmp_path / "index" / faiss_module.DIGESTS).read_bytes()
    assert b"note-07.txt" not in data and b"note-06.txt" in data
    assert "note-07.txt" not in {s.source for s in bot.collection.sources()}


def test_nothing_is_written_outside_the_index_folder(tmp_path: Path, hashed: list[str]) -> None:
    docs = _folder(tmp_path)
    _bot(tmp_path, docs)
    outside = _tree(tmp_path)
    index = tmp_path / "index"
    later = (docs / "note-01.txt").stat().st_mtime_ns + 3_000_000_000
    os.utime(docs / "note-01.txt", ns=(later, later))  # a digest to write again
    (docs / "note-02.txt").write_text("Note 2, rewritten: 99 flywheels.\n", encoding="utf-8")
    expected_docs = _tree(docs)
    digests_before = (index / faiss_module.DIGESTS).read_bytes()
    _bot(tmp_path, docs)
    now = _tree(tmp_path)
    assert (index / faiss_module.DIGESTS).read_bytes() != digests_before
    assert {k for k in now if not k.startswith("index")} == {
        k for k in outside if not k.startswith("index")
    }
    assert _tree(docs) == expected_docs
    names = {p.name for p in index.iterdir()}
    assert faiss_module.DIGESTS in names and not any(n.endswith(".tmp") for n in names)


def test_a_rebuild_or_an_unwritable_digests_file_still_syncs(
    tmp_path: Path, hashed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = _folder(tmp_path)
    _bot(tmp_path, docs)
    hashed.clear()
    embedder = FakeEmbedder()
    config = chunker_config(Settings(), embedder)
    sync_index(docs, tmp_path / "index", embedder, config, rebuild=True)
    assert len(hashed) == 12  # a rebuild reads every file

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(faiss_module, "_atomic_write_bytes", refuse)
    (tmp_path / "index" / faiss_module.DIGESTS).unlink()
    hashed.clear()
    report = sync_index(docs, tmp_path / "index", embedder, config)
    assert len(hashed) == 12 and len(report.unchanged) == 12
    assert not (tmp_path / "index" / faiss_module.DIGESTS).exists()


# ---------------------------------------------------------------- `assistant index`'s load


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The index folders FaissStore loads (reading and checking every chunk), in order."""
    seen: list[Path] = []
    original = FaissStore._load_once.__func__  # type: ignore[attr-defined]

    def counting(cls: type[FaissStore], directory: Path, *args: Any, **kwargs: Any) -> Any:
        seen.append(directory)
        return original(cls, directory, *args, **kwargs)

    monkeypatch.setattr(FaissStore, "_load_once", classmethod(counting))
    return seen


def test_sync_index_loads_the_index_once_when_nothing_committed_meanwhile(
    tmp_path: Path, hashed: list[str], loads: list[Path]
) -> None:
    docs = _folder(tmp_path)
    embedder = FakeEmbedder()
    config = chunker_config(Settings(), embedder)
    sync_index(docs, tmp_path / "index", embedder, config)
    loads.clear()
    hashed.clear()
    report = sync_index(docs, tmp_path / "index", embedder, config)
    assert len(report.unchanged) == 12 and hashed == []
    assert len(loads) == 1  # it was two: once to take the lock, once under it


def test_sync_index_loads_again_what_another_sync_committed_while_it_waited(
    tmp_path: Path, hashed: list[str], loads: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import assistant.store as store_package

    docs = _folder(tmp_path)
    embedder = FakeEmbedder()
    config = chunker_config(Settings(), embedder)
    sync_index(docs, tmp_path / "index", embedder, config)
    real_guard = store_package.sync_guard

    @contextlib.contextmanager
    def another_first(store: Any, on_wait: Any = None) -> Iterator[object]:
        # Another process's sync takes the lock first and commits a new file.
        (docs / "late.txt").write_text("A late note: 41 flywheels.\n", encoding="utf-8")
        monkeypatch.setattr(store_package, "sync_guard", real_guard)
        sync_index(docs, tmp_path / "index", embedder, config)
        with real_guard(store, on_wait) as held:
            yield held

    monkeypatch.setattr(store_package, "sync_guard", another_first)
    loads.clear()
    report = sync_index(docs, tmp_path / "index", embedder, config)
    # It planned against the other sync's commit: the late file is already indexed.
    assert report.added == () and "late.txt" in report.unchanged
    assert len(loads) == 3  # this one's first, the other's, this one's again under the lock
