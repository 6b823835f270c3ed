"""An e-mail's readable attachments are indexed as documents of their own ("mail.eml#name"),
and stay in the index with their e-mail across syncs until the e-mail itself changes or goes."""

from __future__ import annotations

from pathlib import Path

from fakes import FakeEmbedder
from format_files import eml_bytes

from assistant.store import ChunkerConfig, open_store, sync_index

CHUNKER = ChunkerConfig(max_tokens=48, overlap_tokens=8)
NOTES = b"The loading bay at Quay Street opens at 7 in the morning from 3 August onwards.\n"


def sources(index: Path) -> set[str]:
    return {c.source for c in open_store(index, FakeEmbedder()).chunks()}


def test_attachments_are_indexed_with_their_mail_and_kept_across_syncs(tmp_path: Path) -> None:
    docs, index = tmp_path / "docs", tmp_path / "index"
    docs.mkdir()
    (docs / "move.eml").write_bytes(eml_bytes([("notes.txt", NOTES)]))
    (docs / "other.txt").write_text("A note about something else entirely.\n")

    report = sync_index(docs, index, FakeEmbedder(), CHUNKER)
    assert report.added == ("move.eml", "other.txt")
    assert sources(index) == {"move.eml", "move.eml#notes.txt", "other.txt"}
    attachment = next(
        c for c in open_store(index, FakeEmbedder()).chunks() if c.source == "move.eml#notes.txt"
    )
    assert "loading bay" in attachment.text

    # Another file changes: the e-mail is unchanged, so its attachment stays indexed.
    (docs / "other.txt").write_text("A different note now.\n")
    report = sync_index(docs, index, FakeEmbedder(), CHUNKER)
    assert report.updated == ("other.txt",)
    assert sources(index) == {"move.eml", "move.eml#notes.txt", "other.txt"}
    assert open_store(index, FakeEmbedder()).manifest is not None

    # The e-mail goes: so do its attachments.
    (docs / "move.eml").unlink()
    report = sync_index(docs, index, FakeEmbedder(), CHUNKER)
    assert report.removed == ("move.eml",)
    assert sources(index) == {"other.txt"}
