"""A bounded fuzz pass over what reads untrusted bytes: every loader and the manifest reader.

Whatever the input, a loader returns Documents whose text is what the chunker needs, or
raises DocumentError (one sentence); the manifest reader returns a Manifest or raises one
of the index errors that say what to do. Anything else (a KeyError, a RecursionError, a
hang) is a bug. Each test is bounded (at most 200 examples, derandomized) so CI stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from format_files import (
    docx_bytes,
    eml_bytes,
    epub_bytes,
    mbox_bytes,
    pptx_bytes,
    text_pdf_bytes,
    xlsx_bytes,
)
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from assistant.errors import DocumentError, IndexCorruptError, IndexMismatchError
from assistant.ingest import loaders
from assistant.settings import DEFAULT_UNPACK_LIMITS
from assistant.store import Manifest, read_manifest

FUZZ = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def seeds() -> dict[str, bytes]:
    """One valid file of each kind, to mutate (random bytes alone rarely get past a
    format's first check)."""
    return {
        ".txt": "Le café est fort.\nThe harvest starts in September.\n".encode(),
        ".md": b"# Title\n\nSome *text* with [a link](http://x).\n\n## Sub\n\nMore.\n",
        ".html": b"<html><head><title>T</title></head><body><h1>H</h1><p>Para.</p></body>",
        ".csv": b"Region,Total\nBerlin,1250\nParis,900\n",
        ".docx": docx_bytes(),
        ".pptx": pptx_bytes(),
        ".xlsx": xlsx_bytes(),
        ".eml": eml_bytes(),
        ".mbox": mbox_bytes(),
        ".epub": epub_bytes(),
        # A text layer: a blank page would send every example to OCR.
        ".pdf": text_pdf_bytes(["The harvest starts in September."]),
    }


def _check_loaded(data: bytes, suffix: str) -> None:
    try:
        documents, skipped = loaders._load_bytes(
            data, suffix, f"f{suffix}", depth=0, limits=DEFAULT_UNPACK_LIMITS
        )
    except DocumentError as exc:
        message = str(exc)
        assert message and "\n" not in message, message
        return
    assert documents and documents[0].text.strip()
    for doc in documents:
        doc.text.encode("utf-8", "surrogatepass")  # storable
        assert all(0 <= start <= len(doc.text) for start, _ in doc.locators)
    for s in skipped:
        assert s.reason and "\n" not in s.reason


@FUZZ
@given(
    suffix=st.sampled_from(sorted(loaders.SUPPORTED_SUFFIXES)),
    data=st.binary(max_size=2048),
)
def test_loaders_take_any_bytes(suffix: str, data: bytes) -> None:
    _check_loaded(data, suffix)


# Up to eight bytes overwritten (at positions taken modulo the file's length), and maybe the
# file cut short: see _damaged.
_FLIPS = st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), max_size=8)
_CUT = st.one_of(st.none(), st.integers(0, 1 << 20))


def _damaged(data: bytes, flips: list[tuple[int, int]], cut: int | None) -> bytes:
    """data with each (position, value) of flips written at position modulo its length, then
    cut to its first cut bytes (modulo its length + 1) unless cut is None.

    Example: _damaged(b"abcdef", [(7, 0x5A)], 4) -> b"aZcd"
    """
    damaged = bytearray(data)
    for position, value in flips:
        damaged[position % len(damaged)] = value
    if cut is not None:
        damaged = damaged[: cut % (len(damaged) + 1)]
    return bytes(damaged)


@FUZZ
@given(
    suffix=st.sampled_from([".txt", ".md", ".html", ".csv", ".docx", ".pptx", ".xlsx"]),
    flips=_FLIPS,
    cut=_CUT,
)
def test_loaders_take_damaged_files(
    seeds: dict[str, bytes], suffix: str, flips: list[tuple[int, int]], cut: int | None
) -> None:
    _check_loaded(_damaged(seeds[suffix], flips, cut), suffix)


@FUZZ
# A header made to point before the file's start: zipfile raised ValueError (found by this
# test in session 11).
@example(suffix=".epub", flips=[(3800, 1)], cut=None)
# "From " and no whole separator line: the mailbox reader raised ValueError (session 11).
@example(suffix=".mbox", flips=[], cut=26)
@given(
    suffix=st.sampled_from([".eml", ".mbox", ".epub", ".pdf"]),
    flips=_FLIPS,
    cut=_CUT,
)
def test_mail_book_and_pdf_loaders_take_damaged_files(
    seeds: dict[str, bytes], suffix: str, flips: list[tuple[int, int]], cut: int | None
) -> None:
    _check_loaded(_damaged(seeds[suffix], flips, cut), suffix)


# ---------------------------------------------------------------- the manifest reader

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=20,
)
VALID = {
    "format_version": 1,
    "model": "fake",
    "dimension": 64,
    "max_seq_length": 64,
    "chunker": {"max_tokens": 24, "overlap_tokens": 6, "version": 1},
    "sources": {"a.txt": {"sha256": "ab", "size": 10, "kind": "txt", "chunks": 1, "pages": None}},
    "counts": {"sources": 1, "chunks": 1},
    "generation": "g1",
    "built_at": "2026-01-01T00:00:00+00:00",
    "folder": "/docs",
}
PATHS = [
    (),
    ("sources",),
    ("sources", "a.txt"),
    ("sources", "a.txt", "chunks"),
    ("sources", "a.txt", "pages"),
    ("counts",),
    ("counts", "chunks"),
    ("chunker",),
    ("chunker", "max_tokens"),
    ("dimension",),
    ("model",),
    ("generation",),
    ("format_version",),
]


def _read(index_dir: Path, text: str | bytes) -> None:
    index_dir.mkdir(exist_ok=True)
    path = index_dir / "manifest.json"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        manifest = read_manifest(index_dir)
    except (IndexCorruptError, IndexMismatchError) as exc:
        assert "\n" not in str(exc) and "assistant index" in str(exc), str(exc)
        return
    assert isinstance(manifest, Manifest)
    assert all(isinstance(e.chunks, int) and e.chunks >= 0 for e in manifest.sources.values())


@FUZZ
@given(path=st.sampled_from(PATHS), value=JSON)
def test_manifest_reader_takes_any_replaced_field(
    tmp_path: Path, path: tuple[str, ...], value: object
) -> None:
    data = json.loads(json.dumps(VALID))
    if not path:
        data = value
    else:
        holder = data
        for key in path[:-1]:
            holder = holder[key]
        holder[path[-1]] = value
    _read(tmp_path / "index", json.dumps(data))


@FUZZ
@given(raw=st.binary(max_size=512) | st.text(max_size=512).map(str.encode))
def test_manifest_reader_takes_any_bytes(tmp_path: Path, raw: bytes) -> None:
    _read(tmp_path / "index", raw)


def test_manifest_reader_takes_huge_numbers_and_deep_nesting(tmp_path: Path) -> None:
    text = json.dumps(VALID)
    for damaged in (
        text.replace('"chunks": 1}', '"chunks": 1e400}'),
        text.replace('"dimension": 64', '"dimension": ' + "9" * 5000),
        "[" * 200_000 + "]" * 200_000,
        '{"a":' * 100_000 + "1" + "}" * 100_000,
    ):
        _read(tmp_path / "index", damaged)


@pytest.mark.parametrize("suffix", [".epub", ".docx", ".pptx", ".xlsx"])
def test_a_zip_naming_a_version_that_does_not_exist_is_one_sentence(
    seeds: dict[str, bytes], suffix: str
) -> None:
    # A flipped byte in the central directory's "version needed" made zipfile raise
    # NotImplementedError ("zip file version 16.4"), which stopped indexing.
    data = bytearray(seeds[suffix])
    data[data.find(b"PK\x01\x02") + 6] = 164
    _check_loaded(bytes(data), suffix)
