"""The twelfth red-team pass on a running web chat, its APIs and the ingest path: uploads
whose names are long in bytes, ... Each is sent over HTTP as a hostile (or merely foreign)
visitor would send it, to the chat as `assistant ui` serves it, with the fake embedder, so
these run in seconds.
"""

from __future__ import annotations

from pathlib import Path


# ---------------------------------------------------------------- names long in bytes

# 240 bytes in UTF-8, the most an upload name may have: 78 Chinese characters (a Chinese
# report's title, not an attack at all).
_LONG_NAME = "年度报告" * 19 + "年度" + "v2.txt"
assert len(_LONG_NAME.encode()) == 240


def test_a_document_whose_name_is_240_bytes_is_added(tmp_path: Path) -> None:
    # Found in this pass: an upload is written under a hidden temporary name built on its
    # own (".<name>.<8 hex>.upload", 17 bytes more), so a name of 239 or 240 bytes in UTF-8
    # (under the 240 an upload name is cut to) became 256-257 bytes, over the file system's
    # 255: add_document raised OSError "File name too long", naming the documents folder's
    # path on the server. (The page's uploads pass Gradio's route, which cuts names to 200
    # bytes first.)
    from fakes import FakeEmbedder

    from assistant import Assistant, Settings

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Zebras graze at dawn.\n", encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index", show_progress=False)
    bot = Assistant.from_folder(docs, settings=settings, embedder=FakeEmbedder())
    report = bot.add_document(_LONG_NAME, b"The zircon vault opens at nine.\n")
    assert report.added == (_LONG_NAME,)
    # Replacing it (the same name) writes through the same temporary name.
    report = bot.add_document(_LONG_NAME, b"The zircon vault opens at ten.\n")
    assert report.updated == (_LONG_NAME,)
    assert "at ten" in (docs / _LONG_NAME).read_text(encoding="utf-8")
    assert sorted(p.name for p in docs.iterdir()) == sorted(["a.txt", _LONG_NAME])


def test_a_long_name_is_restored_when_its_child_indexing_fails(tmp_path: Path) -> None:
    # The child indexer's put_back wrote its copy under such a name too, so a failed big
    # upload of a long name left the file it had replaced lost.
    from assistant.indexchild import put_back, sha256_of

    target = tmp_path / _LONG_NAME
    previous = tmp_path / "previous"
    previous.write_text("The old text.\n", encoding="utf-8")
    target.write_text("The upload.\n", encoding="utf-8")
    assert put_back(target, sha256_of(target), previous, committed_sha="")
    assert target.read_text(encoding="utf-8") == "The old text.\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([_LONG_NAME, "previous"])
