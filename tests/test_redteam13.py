"""The thirteenth red-team pass: special files in the documents folder (pipes, sockets,
devices, link loops, sparse and growing files, folders named like documents), a folder of
many tiny files, and a conversation forged in the browser's local storage. Each runs in
seconds, with the fake embedder.
"""

from __future__ import annotations

import os
import socket
import tracemalloc
from pathlib import Path

import pytest
from fakes import FakeEmbedder

from assistant.errors import DocumentError
from assistant.settings import UnpackLimits

_TEXT = "The zircon vault opens at nine in the morning.\n"


def _bot(docs: Path, index: Path, **settings: object):  # type: ignore[no-untyped-def]
    from assistant import Assistant, Settings

    return Assistant.from_folder(
        docs,
        settings=Settings(index_dir=index, show_progress=False, **settings),  # type: ignore[arg-type]
        embedder=FakeEmbedder(),
    )


# ---------------------------------------------------------------- files too big to be documents


def test_a_file_over_the_most_a_document_may_be_is_skipped_unread(tmp_path: Path) -> None:
    # Found in this pass: a 10 GB sparse .txt (`truncate -s 10G`, made in an instant, all
    # holes) was hashed whole and then read whole into memory to be found binary: `assistant
    # index` took 54 s and peaked at 10.5 GB (the web chat's start-up and every sync the
    # same; a bigger one would take the server down). A file over unpack_max_bytes (the
    # most a document may unpack to, 1 GiB) is now skipped in one sentence, unread.
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(_TEXT, encoding="utf-8")
    with open(docs / "sparse.txt", "wb") as fh:
        fh.truncate(64 << 20)  # holes: nothing written
    (docs / "long.txt").write_text("Zebras graze at dawn. " * 100_000, encoding="utf-8")  # 2.2 MB
    bot = _bot(docs, tmp_path / "index", unpack_max_bytes=1 << 20)
    assert [s.source for s in bot.sources()] == ["a.txt"]
    report = bot.sync()
    reasons = {s.source: s.reason for s in report.skipped}
    assert reasons["sparse.txt"] == (
        "sparse.txt is 64 MB, more than the 1 MB a document may be (ASSISTANT_UNPACK_MAX_BYTES): "
        "split it or remove it from the documents folder"
    )
    assert reasons["long.txt"].startswith("long.txt is 2 MB, more than the 1 MB")


def test_an_indexed_file_that_grows_too_big_keeps_its_indexed_version(tmp_path: Path) -> None:
    # Nothing already indexed is lost: the file's indexed version stays, like any file that
    # cannot be read now.
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(_TEXT, encoding="utf-8")
    bot = _bot(docs, tmp_path / "index", unpack_max_bytes=1 << 20)
    with open(docs / "a.txt", "ab") as fh:
        fh.truncate(8 << 20)
    report = bot.sync()
    assert [s.source for s in report.skipped] == ["a.txt"]
    assert not report.removed
    assert [s.source for s in bot.sources()] == ["a.txt"]
    assert "zircon vault" in bot.retrieve("When does the zircon vault open?")[0].chunk.text


def test_a_file_that_reads_as_more_than_its_size_is_cut_off(tmp_path: Path) -> None:
    # A file that grows while it is read (or a /proc file, whose size reads as 0, through a
    # link with ASSISTANT_FOLLOW_SYMLINKS) is refused once past the limit, not read on.
    from assistant.ingest.loaders import read_regular

    path = tmp_path / "growing.txt"
    path.write_bytes(b"x" * 3000)
    with pytest.raises(DocumentError, match=r"^growing\.txt is 3,000 bytes, more than the 2,000"):
        read_regular(path, "growing.txt", 2000)
    environ = Path("/proc/self/environ")
    if environ.exists() and environ.stat().st_size == 0:
        with pytest.raises(DocumentError, match=r"^environ\.txt reads as more than"):
            read_regular(environ, "environ.txt", 1)


def test_a_text_file_of_holes_is_refused_from_its_head(tmp_path: Path) -> None:
    # Under the limit, a sparse .txt was still read whole before its first bytes showed it
    # binary: a 1,000 MB one took 6.0 s and 1.1 GB. Its head is tested first now.
    from assistant.ingest.loaders import load_documents

    path = tmp_path / "holes.txt"
    with open(path, "wb") as fh:
        fh.truncate(64 << 20)
    tracemalloc.start()
    try:
        with pytest.raises(DocumentError, match="looks like a binary file"):
            load_documents(path, tmp_path, UnpackLimits())
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20, peak


# ---------------------------------------------------------------- special files, held


def test_special_files_in_the_folder_are_skipped_and_nothing_blocks(tmp_path: Path) -> None:
    # Held, unchanged: a FIFO (a naive open() blocks for ever), a Unix socket, links to
    # devices and /proc, a link loop, a link out of the folder and a folder named like a
    # document are each skipped in one sentence (or, the folder, walked into); the index
    # holds the two real documents.
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(_TEXT, encoding="utf-8")
    os.mkfifo(docs / "pipe.txt")
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(docs / "sock.md"))
        (docs / "zero.txt").symlink_to("/dev/zero")
        (docs / "environ.txt").symlink_to("/proc/self/environ")
        (docs / "loop1.txt").symlink_to("loop2.txt")
        (docs / "loop2.txt").symlink_to("loop1.txt")
        (tmp_path / "outside.txt").write_text("A secret outside the folder.\n", encoding="utf-8")
        (docs / "out.txt").symlink_to(tmp_path / "outside.txt")
        (docs / "notes.txt").mkdir()
        (docs / "notes.txt" / "inner.md").write_text(_TEXT, encoding="utf-8")
        bot = _bot(docs, tmp_path / "index")
        report = bot.sync()
    finally:
        sock.close()
    assert sorted(s.source for s in bot.sources()) == ["a.txt", "notes.txt/inner.md"]
    reasons = {s.source: s.reason for s in report.skipped}
    assert "not a regular file" in reasons["pipe.txt"]
    assert "not a regular file" in reasons["sock.md"]
    assert "outside the documents folder" in reasons["zero.txt"]
    assert "outside the documents folder" in reasons["environ.txt"]
    assert "outside the documents folder" in reasons["out.txt"]
    assert "a link to nothing" in reasons["loop1.txt"]
    # With links followed, a device is still refused by what it is, never read.
    bot = _bot(docs, tmp_path / "index2", follow_symlinks=True)
    assert "out.txt" in {s.source for s in bot.sources()}
    reasons = {s.source: s.reason for s in bot.sync().skipped}
    assert "not a regular file" in reasons["zero.txt"]
