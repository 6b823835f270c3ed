"""Hostile and careless files in the documents folder and the index folder (issue 13, items
1, 2, 8-14): nothing outside the collection is written, deleted or read; nothing stalls or
crashes a sync; a damaged index says what to do and `assistant index` repairs it.

Everything runs with the deterministic FakeEmbedder, so it is fast.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeEmbedder

from assistant.errors import AssistantError, DocumentError, IndexCorruptError, InputError
from assistant.ingest.loaders import load_document, scan_folder
from assistant.ingest.textbuild import decode_text, looks_binary
from assistant.store import (
    ChunkerConfig,
    Collection,
    open_store,
    read_manifest,
    safe_filename,
    sync_index,
)

CHUNKER = ChunkerConfig(max_tokens=24, overlap_tokens=6)
TEXT = "Apples grow on trees in cool orchards. Farmers prune the trees every winter.\n"


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "notes.txt").write_text(TEXT, encoding="utf-8")
    return folder


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    return tmp_path / "index"


@pytest.fixture
def embedder() -> FakeEmbedder:
    return FakeEmbedder()


def collection(
    docs: Path, index_dir: Path, embedder: FakeEmbedder, *, follow_links: bool = False
) -> Collection:
    return Collection.from_folder(docs, index_dir, embedder, CHUNKER, follow_links=follow_links)


def skipped_reasons(report: object) -> dict[str, str]:
    return {s.source: s.reason for s in report.skipped}  # type: ignore[attr-defined]


def one_sentence(message: str) -> None:
    assert "\n" not in message and ": " in message, message


# ------------------------------------------------------------------ 1. remove only indexed


def test_remove_refuses_files_that_are_not_indexed(
    docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    (docs / ".private").mkdir()
    (docs / ".private" / "keys.cfg").write_text("secret")
    (docs / ".git").mkdir()
    (docs / ".git" / "config").write_text("[core]")
    (docs / "draft.docx").write_bytes(b"not really a docx")  # fails to load: not indexed
    col = collection(docs, index_dir, embedder)
    assert [s.source for s in col.sources()] == ["notes.txt"]
    for name in (".private/keys.cfg", ".git/config", "draft.docx", "../index/manifest.json"):
        with pytest.raises(InputError) as err:
            col.remove_document(name)
        one_sentence(str(err.value))
        assert "no document named" in str(err.value)
    assert (docs / ".private" / "keys.cfg").read_text() == "secret"
    assert (docs / ".git" / "config").exists() and (docs / "draft.docx").exists()
    col.remove_document("notes.txt")
    assert not (docs / "notes.txt").exists() and col.sources() == []


def test_two_removes_of_one_document_race_into_one_sentence(
    docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    col = collection(docs, index_dir, embedder)
    errors: list[BaseException] = []

    def remove() -> None:
        try:
            col.remove_document("notes.txt")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=remove) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 1 and isinstance(errors[0], InputError), errors
    one_sentence(str(errors[0]))
    assert col.sources() == []


def test_remove_of_a_file_deleted_behind_the_index_is_not_a_traceback(
    docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    col = collection(docs, index_dir, embedder)
    (docs / "notes.txt").unlink()  # gone from disk, still listed until the next sync
    col.remove_document("notes.txt")
    assert col.sources() == []


def test_nul_in_a_name_is_one_sentence(docs: Path, index_dir: Path, embedder: FakeEmbedder) -> None:
    col = collection(docs, index_dir, embedder)
    for call in (
        lambda: col.remove_document("notes\x00.txt"),
        lambda: col.add_document("evil\x00.txt", b"text"),
    ):
        with pytest.raises(InputError) as err:
            call()
        one_sentence(str(err.value))
        assert "NUL" in str(err.value)


# ------------------------------------------------------------------ 2. symlinks


def test_upload_onto_a_link_never_writes_through_it(
    tmp_path: Path, docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    (docs / "l.txt").symlink_to(outside)
    col = collection(docs, index_dir, embedder)
    with pytest.raises(InputError) as err:
        col.add_document("l.txt", b"overwrite attempt")
    one_sentence(str(err.value))
    assert outside.read_text() == "precious"
    assert (docs / "l.txt").is_symlink()


def test_removing_an_alias_deletes_the_link_not_its_target(
    docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    (docs / "alias.txt").symlink_to(docs / "notes.txt")  # inside the folder: indexed
    col = collection(docs, index_dir, embedder)
    assert {s.source for s in col.sources()} == {"alias.txt", "notes.txt"}
    col.remove_document("alias.txt")
    assert not (docs / "alias.txt").exists()
    assert (docs / "notes.txt").read_text(encoding="utf-8") == TEXT
    assert [s.source for s in col.sources()] == ["notes.txt"]


def test_links_out_of_the_folder_are_skipped_unless_allowed(
    tmp_path: Path, docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    outside = tmp_path / "os-release.txt"
    outside.write_text("NAME=Secret Linux. VERSION=1.")
    (docs / "os.txt").symlink_to(outside)
    (docs / "dir").symlink_to(tmp_path, target_is_directory=True)
    report = sync_index(docs, index_dir, embedder, CHUNKER)
    reasons = skipped_reasons(report)
    assert "outside the documents folder" in reasons["os.txt"]
    assert "link to a folder" in reasons["dir"]
    one_sentence(reasons["os.txt"])
    assert "os.txt" not in read_manifest(index_dir).sources

    report = sync_index(docs, index_dir, embedder, CHUNKER, follow_links=True)
    assert "os.txt" in read_manifest(index_dir).sources


def test_follow_symlinks_is_a_setting_that_defaults_off() -> None:
    from assistant.settings import Settings

    assert Settings().follow_symlinks is False
    assert Settings(follow_symlinks=True).follow_symlinks is True


# ------------------------------------------------------------------ 8. not regular files


def test_fifo_socket_and_device_links_are_skipped_without_opening(
    tmp_path: Path, docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    os.mkfifo(docs / "p.txt")
    (docs / "zero.txt").symlink_to("/dev/zero")
    sock = socket.socket(socket.AF_UNIX)
    short = Path("/tmp") / f"hf-sock-{os.getpid()}"
    short.mkdir(exist_ok=True)
    try:
        sock.bind(str(short / "s.txt"))
        (docs / "s.txt").symlink_to(short / "s.txt")
        result: dict[str, object] = {}
        # A FIFO opened for reading blocks forever: run the sync where a hang is detected.
        worker = threading.Thread(
            target=lambda: result.update(
                report=sync_index(docs, index_dir, embedder, CHUNKER, follow_links=True)
            ),
            daemon=True,
        )
        worker.start()
        worker.join(timeout=60)
        assert not worker.is_alive(), "indexing hung on a FIFO or a device"
    finally:
        sock.close()
        (short / "s.txt").unlink(missing_ok=True)
        short.rmdir()
    reasons = skipped_reasons(result["report"])
    for name in ("p.txt", "zero.txt", "s.txt"):
        assert "not a regular file" in reasons[name], reasons
        one_sentence(reasons[name])
    assert list(read_manifest(index_dir).sources) == ["notes.txt"]


def test_loader_refuses_a_fifo_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "p.txt")
    outcome: list[BaseException] = []
    worker = threading.Thread(
        target=lambda: _catch(outcome, lambda: load_document(tmp_path / "p.txt", tmp_path)),
        daemon=True,
    )
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), "load_document blocked on a FIFO"
    assert outcome and "not a regular file" in str(outcome[0])


def _catch(into: list[BaseException], call: object) -> None:
    try:
        call()  # type: ignore[operator]
    except AssistantError as exc:
        into.append(exc)


# ------------------------------------------------------------------ 9. non-UTF-8 names


def test_name_that_is_not_utf8_is_skipped_and_runs_keep_working(
    docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    bad = os.path.join(os.fsencode(docs), b"caf\xe9.txt")
    with open(bad, "wb") as fh:
        fh.write(b"Cafe notes. The espresso is strong.\n")
    for _ in range(3):
        report = sync_index(docs, index_dir, embedder, CHUNKER)
        reasons = skipped_reasons(report)
        assert "caf\\xe9.txt" in reasons and "not valid UTF-8" in reasons["caf\\xe9.txt"]
        json.dumps(reasons)  # what is reported can be written out
    names = sorted(p.name for p in index_dir.iterdir())
    # manifest + one generation (vectors, chunks, sentence vectors and spans) + the
    # documents' digests: no orphans
    files = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))["files"]
    expected = sorted(["manifest.json", "digests.json", *files.values()])
    assert len(names) == 6 and names == expected, names
    assert list(open_store(index_dir, embedder).manifest.sources) == ["notes.txt"]  # type: ignore[union-attr]


# ------------------------------------------------------------------ 10. manifest damage


def _damage_sources_list(m: dict) -> None:
    m["sources"] = []


def _damage_sources_null(m: dict) -> None:
    m["sources"] = None


def _huge(where: str) -> Callable[[Path], None]:
    def change(path: Path) -> None:
        data = json.loads(path.read_text())
        target = data["counts"] if where == "counts" else data["sources"]["notes.txt"]
        target["chunks"] = "__HUGE__"
        path.write_text(json.dumps(data).replace('"__HUGE__"', "1e400"))

    return change


DAMAGES: dict[str, Callable[[Path], object]] = {
    "sources-list": lambda p: _edit(p, _damage_sources_list),
    "sources-null": lambda p: _edit(p, _damage_sources_null),
    "source-chunks-1e400": _huge("source"),
    "counts-chunks-1e400": _huge("counts"),
    "deep-nesting": lambda p: p.write_text("[" * 100_000 + "]" * 100_000),
    "bool-dimension": lambda p: _edit(p, lambda m: m.update(dimension=True)),
}


def _edit(path: Path, change: Callable[[dict[str, Any]], object]) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_damaged_manifest_is_one_sentence_and_index_repairs_it(
    damage: str, docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    sync_index(docs, index_dir, embedder, CHUNKER)
    DAMAGES[damage](index_dir / "manifest.json")
    with pytest.raises(IndexCorruptError) as err:
        open_store(index_dir, embedder)
    one_sentence(str(err.value))
    assert "assistant index" in str(err.value)
    sync_index(docs, index_dir, embedder, CHUNKER)  # `assistant index`
    assert list(open_store(index_dir, embedder).manifest.sources) == ["notes.txt"]  # type: ignore[union-attr]


def test_manifest_as_a_folder_says_what_to_do_and_rebuild_repairs_it(
    docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    sync_index(docs, index_dir, embedder, CHUNKER)
    (index_dir / "manifest.json").unlink()
    (index_dir / "manifest.json").mkdir()
    (index_dir / "manifest.json" / "junk").write_text("x")
    with pytest.raises(IndexCorruptError) as err:
        open_store(index_dir, embedder)
    one_sentence(str(err.value))
    assert "--rebuild" in str(err.value)
    before = sorted(p.name for p in index_dir.iterdir())
    with pytest.raises(IndexCorruptError) as err:
        sync_index(docs, index_dir, embedder, CHUNKER)
    assert "--rebuild" in str(err.value)
    assert sorted(p.name for p in index_dir.iterdir()) == before  # the failed run left nothing
    sync_index(docs, index_dir, embedder, CHUNKER, rebuild=True)
    assert list(open_store(index_dir, embedder).manifest.sources) == ["notes.txt"]  # type: ignore[union-attr]


def test_empty_folder_as_manifest_is_repaired_by_a_plain_index(
    docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    index_dir.mkdir()
    (index_dir / "manifest.json").mkdir()
    sync_index(docs, index_dir, embedder, CHUNKER)
    assert (index_dir / "manifest.json").is_file()


def test_index_folder_that_is_a_file_is_explained_and_never_deleted(
    docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    index_dir.write_text("my shopping list")
    for call in (
        lambda: open_store(index_dir, embedder),
        lambda: sync_index(docs, index_dir, embedder, CHUNKER),
        lambda: sync_index(docs, index_dir, embedder, CHUNKER, rebuild=True),
        lambda: collection(docs, index_dir, embedder),
    ):
        with pytest.raises(InputError) as err:
            call()
        one_sentence(str(err.value))
        assert "is a file" in str(err.value)
    assert index_dir.read_text() == "my shopping list"


# ------------------------------------------------------------------ 11. chunks edited on disk


def test_chunk_text_edited_on_disk_does_not_load(
    docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    sync_index(docs, index_dir, embedder, CHUNKER)
    chunks_file = next(index_dir.glob("chunks-*.jsonl"))
    chunks_file.write_text(chunks_file.read_text().replace("Apples", "Pears"), encoding="utf-8")
    with pytest.raises(IndexCorruptError) as err:
        open_store(index_dir, embedder)
    one_sentence(str(err.value))
    assert "edited" in str(err.value)
    sync_index(docs, index_dir, embedder, CHUNKER)  # `assistant index` repairs it
    assert all("Pears" not in c.text for c in open_store(index_dir, embedder).chunks())


def test_wrong_per_source_chunk_count_does_not_load(
    docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    sync_index(docs, index_dir, embedder, CHUNKER)
    path = index_dir / "manifest.json"
    data = json.loads(path.read_text())
    data["sources"]["notes.txt"]["chunks"] += 1
    path.write_text(json.dumps(data))
    with pytest.raises(IndexCorruptError) as err:
        open_store(index_dir, embedder)
    assert "manifest records" in str(err.value)


# ------------------------------------------------------------------ 12. orphans


def test_orphan_generation_files_go_even_when_nothing_changed(
    docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    sync_index(docs, index_dir, embedder, CHUNKER)
    kept = sorted(p.name for p in index_dir.iterdir())
    for name in (
        "vectors-dead0000.faiss",
        "chunks-dead0000.jsonl",
        ".manifest.json.x1.tmp",
        ".digests.json.x1.tmp",
    ):
        (index_dir / name).write_text("left by a killed run")
    report = sync_index(docs, index_dir, embedder, CHUNKER)
    assert report.unchanged == ("notes.txt",) and not report.added
    assert sorted(p.name for p in index_dir.iterdir()) == kept


# ------------------------------------------------------------------ 13. bad text


def test_random_binary_without_nul_is_not_indexed(
    docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    import random

    rng = random.Random(7)
    noise = bytes(rng.randrange(1, 256) for _ in range(200_000))
    (docs / "noise.txt").write_bytes(noise)
    report = sync_index(docs, index_dir, embedder, CHUNKER)
    assert "binary" in skipped_reasons(report)["noise.txt"]
    assert list(read_manifest(index_dir).sources) == ["notes.txt"]


def test_one_invalid_byte_does_not_turn_utf8_into_mojibake(tmp_path: Path) -> None:
    data = "Le café est fort. Naïve visitors smile.\n".encode() + b"\xff tail\n"
    (tmp_path / "cafe.txt").write_bytes(data)
    doc = load_document(tmp_path / "cafe.txt", tmp_path)
    assert doc.text == "Le café est fort. Naïve visitors smile.\n\ufffd tail\n"
    assert "Ã" not in doc.text


def test_decoding_and_binary_detection_keep_old_editor_files() -> None:
    assert decode_text("Café crème".encode("cp1252")) == "Café crème"
    assert decode_text(b"abc \x81 def") == "abc \x81 def"
    assert not looks_binary("Ünïcödé text\twith tabs\r\n".encode() * 100)
    assert not looks_binary(b"\x1b[31mred\x1b[0m log line\n" * 100)
    assert looks_binary(bytes(range(1, 256)) * 40)


# ------------------------------------------------------------------ 14. small things


def test_long_names_keep_their_extension() -> None:
    assert safe_filename("a" * 300 + ".pdf") == "a" * 196 + ".pdf"
    long_accented = safe_filename("é" * 300 + ".docx")
    assert long_accented.endswith(".docx") and len(long_accented.encode()) <= 240


def test_pypdf_prints_nothing_for_a_broken_pdf(tmp_path: Path) -> None:
    """pypdf's repair warnings reach stderr through logging's last-resort handler, which
    only a fresh process without pytest's log capture shows: run one."""
    import io
    import subprocess
    import sys

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(100, 100)
    buffer = io.BytesIO()
    writer.write(buffer)
    (tmp_path / "broken.pdf").write_bytes(buffer.getvalue().replace(b"%%EOF", b""))
    script = (
        "import sys; from pathlib import Path; "
        "from assistant.ingest.loaders import load_document\n"
        "try:\n    load_document(Path(sys.argv[1]), Path(sys.argv[2]))\n"
        "except Exception as exc:\n    print(exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "broken.pdf"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    assert "EOF marker" not in result.stderr, result.stderr
    assert result.stdout.count("\n") == 1 and "broken.pdf" in result.stdout


def test_scan_reports_no_unusable_file_as_supported(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "p.md")
    (tmp_path / "ok.md").write_text("# Fine\n")
    supported, skipped = scan_folder(tmp_path)
    assert supported == [tmp_path / "ok.md"]
    assert [s.source for s in skipped] == ["p.md"]


# ------------------------------------------------------------------ the command line


def test_cli_index_repairs_damage_and_rebuild_replaces_a_manifest_folder(tmp_path: Path) -> None:
    """`assistant index` as a user runs it (the real model): one error line for what it
    cannot fix alone, and --rebuild fixes it."""
    from test_cli import assert_one_error_line, run_cli

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes.txt").write_text(TEXT, encoding="utf-8")
    index = tmp_path / "index"
    index.mkdir()
    (index / "manifest.json").mkdir()
    (index / "manifest.json" / "junk").write_text("x")
    message = assert_one_error_line(run_cli("index", docs, "--index-dir", index, cwd=tmp_path))
    assert "--rebuild" in message
    result = run_cli("index", docs, "--index-dir", index, "--rebuild", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "notes.txt" in json.loads((index / "manifest.json").read_text())["sources"]

    index_file = tmp_path / "index-file"
    index_file.write_text("not an index")
    message = assert_one_error_line(
        run_cli("index", docs, "--index-dir", index_file, "--rebuild", cwd=tmp_path)
    )
    assert "is a file" in message and index_file.read_text() == "not an index"


def test_assistant_removes_only_indexed_documents_and_passes_the_link_setting(
    tmp_path: Path, docs: Path, index_dir: Path, embedder: FakeEmbedder
) -> None:
    from assistant.pipeline import Assistant
    from assistant.settings import Settings

    (docs / ".git").mkdir()
    (docs / ".git" / "config").write_text("[core]")
    outside = tmp_path / "outside.txt"
    outside.write_text("The lighthouse keeper rows to the island every morning.")
    (docs / "link.txt").symlink_to(outside)
    bot = Assistant.from_folder(docs, index_dir=index_dir, embedder=embedder)
    assert [s.source for s in bot.sources()] == ["notes.txt"]
    with pytest.raises(InputError):
        bot.remove_document(".git/config")
    assert (docs / ".git" / "config").exists()

    following = Assistant.from_folder(
        docs, index_dir=index_dir, embedder=embedder, settings=Settings(follow_symlinks=True)
    )
    assert [s.source for s in following.sources()] == ["link.txt", "notes.txt"]
    following.remove_document("link.txt")
    assert outside.exists() and not (docs / "link.txt").exists()


def test_pdf_page_that_pdfium_cannot_load_is_left_blank_not_a_crash(tmp_path: Path) -> None:
    """Found by the fuzz pass: pypdf reads a blank page that pdfium then fails to load for
    OCR; the file must end as one DocumentError sentence, not a PdfiumError."""
    import io

    from pypdf import PdfWriter

    from assistant.ingest.pdf import ocr_available

    if not ocr_available():
        pytest.skip("tesseract is not installed: the OCR path is not taken")
    writer = PdfWriter()
    writer.add_blank_page(100, 100)
    buffer = io.BytesIO()
    writer.write(buffer)
    data = bytearray(buffer.getvalue())
    data[278779 % len(data)] = 0  # the byte the fuzz pass changed
    (tmp_path / "odd.pdf").write_bytes(bytes(data))
    with pytest.raises(AssistantError) as err:
        load_document(tmp_path / "odd.pdf", tmp_path)
    one_sentence(str(err.value))


def test_reading_a_small_file_under_a_large_cap_sets_aside_no_more_than_a_block(
    tmp_path: Path,
) -> None:
    """A 1 GiB cap once made Python reserve 1 GiB to read a 300-byte document, which fails
    where the system does not overcommit memory."""
    import tracemalloc

    from assistant.ingest.loaders import read_regular

    path = tmp_path / "note.txt"
    path.write_bytes(b"x" * 300)
    tracemalloc.start()
    try:
        data = read_regular(path, "note.txt", max_bytes=1 << 30)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert data == b"x" * 300
    assert peak < 4 << 20
    big = tmp_path / "big.txt"
    big.write_bytes(b"y" * 5000)
    with pytest.raises(DocumentError, match="more than"):
        read_regular(big, "big.txt", max_bytes=4096)
