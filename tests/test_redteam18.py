"""The eighteenth red-team pass: what an upload may replace in the documents folder, and the
checks an upload indexed in a child process is held to. The HTTP tests run the web chat as
`assistant ui` serves it (the chat mounted on the early server) with the fake embedder; the
child-process test runs the real packaged model in a real child.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fakes import fake_bot
from test_redteam import one_sentence
from test_redteam4 import _served
from test_redteam11 import _add
from test_redteam14 import _handler
from test_upload_child import wait_for

from assistant import Assistant, Settings
from assistant.errors import InputError
from assistant.ui import _Indexer

if TYPE_CHECKING:
    from assistant.embedding import Embedder

# ---------------------------------------------------------------- files the index does not list

# A file of the folder the sync skipped: text whose NULs read as binary, so never indexed.
_BINARY_CSV = "name,value\n\x00\x01\x02\x03 the owner's export\n" * 20
_NEW_CSV = "name,value\nzircon,9\n"
_UNLISTED = "in the documents folder is not indexed"


def test_an_upload_cannot_overwrite_a_file_the_index_does_not_list(tmp_path: Path) -> None:
    """A removal deletes only listed documents (never a skipped file), but an upload of a
    skipped file's name (a broken scan, a binary .csv) overwrote it unasked, and removing
    that upload then deleted it: any visitor could replace or delete any file of a supported
    type at the folder's top. Such an upload is now refused in one sentence, the file kept."""
    bot = fake_bot(tmp_path, {"a.txt": "Amazon builds custom chips in Austin.\n"})
    docs = bot.docs_dir or Path()
    (docs / "data.csv").write_text(_BINARY_CSV, encoding="utf-8")
    (docs / "late.txt").write_text("Put here by the owner after the last sync.\n")
    assert any(s.source == "data.csv" for s in bot.collection.sync().skipped)
    (docs / "later.txt").write_text("Put here by the owner just now.\n", encoding="utf-8")
    for name in ("data.csv", "later.txt"):
        with pytest.raises(InputError) as refused:
            bot.add_document(name, _NEW_CSV.encode())
        assert _UNLISTED in str(refused.value) and "\n" not in str(refused.value)
    assert (docs / "data.csv").read_text(encoding="utf-8") == _BINARY_CSV
    assert (docs / "later.txt").read_text(encoding="utf-8") == "Put here by the owner just now.\n"
    assert [s.source for s in bot.sources()] == ["a.txt", "late.txt"]
    # A listed document is still replaced, as before.
    bot.add_document("a.txt", b"Amazon builds custom chips in Austin and Tel Aviv.\n")
    assert "Tel Aviv" in (docs / "a.txt").read_text(encoding="utf-8")


def test_the_page_and_the_api_refuse_to_overwrite_an_unlisted_file(tmp_path: Path) -> None:
    """Through the web chat the page asked "Replace existing documents?" of the visitor who
    sent the file, and on a yes overwrote the owner's file; `/upload` refused it only as a
    replacement. Both now say in one sentence that the file is not indexed, without asking;
    nothing is written."""
    with _served(tmp_path, documents={"data.csv": _BINARY_CSV}) as chat:
        said = _add(chat.url, "data.csv", _NEW_CSV)  # /upload, over HTTP
        assert _UNLISTED in said and "would replace" not in said, said[-600:]
        line = said.split("was not added: ", 1)[1].split("</div>", 1)[0]
        assert one_sentence(line), line
        sent = tmp_path / "sent" / "data.csv"
        sent.parent.mkdir()
        sent.write_text(_NEW_CSV, encoding="utf-8")
        out = _handler(chat.demo, "upload_page")([str(sent)], [], None)
        assert not out[4] and "Replace existing" not in out[6], out  # not asked: refused
        poll = _handler(chat.demo, "poll")
        wait_for(lambda: _UNLISTED in poll(out[3], [])[0], limit=60)
        assert (chat.docs / "data.csv").read_text(encoding="utf-8") == _BINARY_CSV


# ---------------------------------------------------------------- uploads indexed in a child


@pytest.mark.model
def test_an_upload_indexed_in_a_child_is_checked_against_the_index(
    tmp_path: Path, real_embedder: Embedder
) -> None:
    """A big upload (256 KB or more) is indexed in a child process, whose collection opened
    on an empty store: its checks saw no document, so "\\u0430nnual-report.txt" (a Cyrillic
    а) was added beside "annual-report.txt", drawn the same everywhere, and "café.txt" beside
    the indexed "cafe\\u0301.txt" (red teams 11 and 16 hold both, in-process), and a file the
    index does not list was overwritten. The child now checks against the committed index."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "annual-report.txt").write_text("The annual dividend is four dollars.\n")
    (docs / "cafe\u0301.txt").write_text("The cafe opens at nine.\n", encoding="utf-8")
    (docs / "data.csv").write_text(_BINARY_CSV, encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index", show_progress=False)
    bot = Assistant.from_folder(docs, settings=settings, embedder=real_embedder)
    indexer = _Indexer(bot, child_from=0)  # every upload in a child, however small
    try:
        jobs = [
            indexer.submit("\u0430nnual-report.txt", b"The annual dividend was cancelled.\n"),
            indexer.submit("caf\u00e9.txt", b"The cafe opens at ten.\n"),
            indexer.submit("data.csv", _NEW_CSV.encode()),
        ]
        wait_for(lambda: all(j.done for j in indexer.jobs(jobs)), limit=300)
        lines = [j.line() for j in indexer.jobs(jobs)]
    finally:
        indexer.close()
    assert "looks the same as the document" in lines[0], lines[0]
    assert "added" in lines[1], lines[1]
    assert _UNLISTED in lines[2], lines[2]
    assert sorted(p.name for p in docs.iterdir()) == sorted(
        ["annual-report.txt", "cafe\u0301.txt", "data.csv"]
    )
    assert "ten" in (docs / "cafe\u0301.txt").read_text(encoding="utf-8")
    assert (docs / "data.csv").read_text(encoding="utf-8") == _BINARY_CSV
    bot.follow()
    assert sorted(s.source for s in bot.sources()) == ["annual-report.txt", "cafe\u0301.txt"]


# ---------------------------------------------------------------- bodies that are not UTF-8 text

# "\udc80" as UTF-8 would write it, were it allowed: Python's JSON reader reads these bytes
# back as the lone surrogate (it decodes bytes with surrogatepass).
_RAW_SURROGATE = "\udc80".encode("utf-8", "surrogatepass")


def test_a_body_of_raw_surrogates_or_bytes_that_are_not_text_is_one_sentence(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """Red team 10 reads a lone surrogate escaped in JSON ("\\udc80") as U+FFFD, but not
    one sent as raw bytes (ED B2 80), which Python's JSON reader also reads as one: a
    /cancel or /queue/join body holding it and lacking a field made FastAPI's answer, which
    echoes the input, fail to encode (500, a 25-line traceback in the log for each). And a
    body that is not UTF-8 at all (a gzip file) got FastAPI's "There was an error parsing
    the body", which says nothing of what to send. Both are now 400 and one sentence."""
    import httpx

    bodies = [
        b'{"x": "' + _RAW_SURROGATE + b'"}',
        b'{"data": "' + _RAW_SURROGATE + b'", "fn_index": 0, "session_hash": "s"}',
        b"\x1f\x8b\x08\x00\xff\xfe binary",
    ]
    routes = ("/gradio_api/cancel", "/gradio_api/queue/join", "/gradio_api/call/ask")
    with _served(tmp_path) as chat, httpx.Client(timeout=60) as client:
        capfd.readouterr()
        for route in routes:
            for body in bodies:
                said = client.post(
                    f"{chat.url}{route}", content=body, headers={"Content-Type": "application/json"}
                )
                assert 400 <= said.status_code < 500, (route, body, said.status_code, said.text)
                detail = said.json()["detail"]
                assert isinstance(detail, str) and one_sentence(detail), (route, body, detail)
                assert "error parsing the body" not in detail, (route, body, detail)
        # A question holding one is answered, as one escaped in JSON is.
        asked = client.post(
            f"{chat.url}/gradio_api/call/ask",
            content=b'{"data": ["Where does Amazon build chips?' + _RAW_SURROGATE + b'"]}',
            headers={"Content-Type": "application/json"},
        )
        event = asked.json()["event_id"]
        with client.stream("GET", f"{chat.url}/gradio_api/call/ask/{event}") as events:
            assert "Austin" in "".join(events.iter_lines())
    logged = capfd.readouterr()
    assert "Traceback" not in logged.err + logged.out, logged.err[-2000:]
