"""The seventeenth red-team pass: what an upload may replace in the documents folder, and the
checks an upload indexed in a child process is held to. The HTTP tests run the web chat as
`assistant ui` serves it (the chat mounted on the early server) with the fake embedder; the
child-process test runs the real packaged model in a real child.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
    sent the file, and on a yes overwrote the owner's file; `/upload` refused it as a
    replacement ("remove that document first", which no removal can). Both now say in one
    sentence that the file is not indexed, without asking; nothing is written."""
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


# ---------------------------------------------------------------- names of markup, in a browser

# File names put straight into the folder (no "/" can be in a name: an address written with
# backslashes, which a browser reads as slashes), each document saying when its vault opens.
_MARKUP_NAMES = [
    "![i](http:\\\\evil.example\\i.png) vault.txt",
    "<img src=http:\\\\evil.example\\n.png onerror=alert(1)> vault.txt",
    "[x](javascript:alert(1)) vault.txt",
    "<https:\\\\evil.example\\auto> vault.txt",
    "<svg onload=alert(2)><image href=http:\\\\evil.example\\s.svg> vault.txt",
    "<iframe src=http:\\\\evil.example\\f> vault.txt",
    "<style>*{background:url(http:\\\\evil.example\\c.png)}<.txt",
    "&lt;img src=x onerror=alert(3)&gt; vault.txt",
    "<meta http-equiv=refresh content=0;url=http:\\\\evil.example\\r> vault.txt",
]


def test_in_a_browser_names_made_of_markup_load_nothing_and_run_nothing(tmp_path: Path) -> None:
    """Held: documents named with Markdown images and links, raw tags, an autolink, CSS
    url(), entities and a refresh, their text saying the same, shown in the documents table,
    the remove list, the answer and every citation opened: no image, frame or link to
    another address, no dialog, no request outside the chat's address, nothing the page's
    policy had to refuse."""
    from browsers import chromium, playwright_api, refused_by_policy

    sync_api = playwright_api()
    documents = {
        name: f"The zircon vault {i} opens at nine. {name} says {name} too.\n"
        for i, name in enumerate(_MARKUP_NAMES)
    }
    with _served(tmp_path, documents=documents) as chat, chromium(sync_api) as browser:
        page = browser.new_page()
        refused = refused_by_policy(page)
        outside: list[str] = []
        dialogs: list[str] = []
        page.on(
            "request",
            lambda r: None if r.url.startswith(chat.url) else outside.append(r.url),
        )

        def dismissed(dialog: Any) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", dismissed)
        page.set_default_timeout(60_000)
        page.goto(chat.url)
        table = page.locator("#documents")
        sync_api.expect(table).to_contain_text("vault.txt")
        box = page.locator("#question textarea")
        box.fill("When does the zircon vault open?")
        box.press("Enter")
        answer = page.locator("#chat .bot-row").last
        sync_api.expect(answer).to_contain_text("opens at nine")
        sync_api.expect(answer).not_to_contain_text("▍")
        for summary in page.locator("#chat details.citation summary").all():
            summary.click()
        page.locator("#remove-doc input").first.click()
        page.wait_for_timeout(1_000)
        shown = page.locator("body").inner_text()
        found = (
            "#chat img, #chat iframe, #chat svg image, #chat a[href], #chat style, "
            "#documents img, #documents a[href], #documents style, meta[http-equiv]"
        )
        tags = page.evaluate(
            "(s) => [...document.querySelectorAll(s)].map(e => e.outerHTML)", found
        )
    assert outside == [] and dialogs == [] and refused == [], (outside, dialogs, refused)
    hostile = [t for t in tags if any(w in t for w in ("evil", "alert(", "javascript:"))]
    assert hostile == [], hostile  # Gradio's own icons carry a style of their own
    assert "![i](http:\\\\evil.example\\i.png) vault.txt" in shown
    assert "<img src=http:\\\\evil.example\\n.png onerror=alert(1)> vault.txt" in shown


# ---------------------------------------------------------------- names read per upload


def test_an_upload_of_many_files_reads_the_indexed_names_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page looks at each file of an upload (which document it becomes, whether it
    would replace one) in its one slot for document changes, which every visitor's uploads
    and removals share: for each file it listed every indexed document again, and composed
    every accented name again, so 1,000 accented names (one upload may hold 1,000 files)
    beside 40,000 documents took 11.9 s. The names are now read once per upload (and composed
    once per snapshot of the index): 2.3 s."""
    import unicodedata

    import assistant.store.collection as collection_module
    from assistant.ui import build_app

    bot = fake_bot(tmp_path, {f"caf\u00e9 {i}.txt": f"Note {i}.\n" for i in range(300)})
    upload_page = _handler(build_app(bot), "upload_page")
    sent = tmp_path / "sent"
    paths = []
    for i in range(200):
        (sent / str(i)).mkdir(parents=True)
        paths.append(sent / str(i) / f"r\u00e9sum\u00e9 {i}.txt")
        paths[-1].write_text("x", encoding="utf-8")
    listed, composed = [0], [0]
    real_sources = Assistant.sources

    def counted_sources(self: Assistant) -> Any:
        listed[0] += 1
        return real_sources(self)

    class CountedUnicodedata:
        def __getattr__(self, name: str) -> Any:
            return getattr(unicodedata, name)

        def normalize(self, form: Any, text: str) -> str:
            composed[0] += 1
            return unicodedata.normalize(form, text)

    monkeypatch.setattr(Assistant, "sources", counted_sources)
    monkeypatch.setattr(collection_module, "unicodedata", CountedUnicodedata())
    out = upload_page([str(p) for p in paths], [], None)
    # 75 may wait, one address's most; one more is queued when the indexer has already
    # taken the first file off the queue (it then no longer waits): under load it may have.
    assert 75 <= len(out[3]) <= 76 and not out[4], out[1][-300:]
    assert listed[0] <= 3, listed  # was one listing per file, 200
    assert composed[0] < 3_000, composed  # each file a few times; was 200 x 300 = 60,000 more


# ---------------------------------------------------------------- what a failing upload holds


def test_a_failing_upload_over_a_big_document_does_not_read_it_into_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An upload that replaces a document kept the document's bytes in memory to put back
    should it fail: a 300-byte broken upload named like an indexed 300 MB .docx (a scan
    kept in it) took 1.7 s and 300 MB of the server's memory, and wrote the 300 MB back,
    request after request. The document is now set aside under a second, hidden name (a
    hard link) and put back as the very file: 0.4 s, 3 MB; nothing is left behind."""
    import zipfile

    import docx

    bot = fake_bot(tmp_path, {"a.txt": "Amazon builds custom chips in Austin.\n"})
    docs = bot.docs_dir or Path()
    big = docs / "big.docx"
    made = docx.Document()
    made.add_paragraph("The zircon vault opens at nine in the morning.")
    made.save(str(big))
    with zipfile.ZipFile(big, "a", compression=zipfile.ZIP_STORED) as packed:
        packed.writestr("word/media/scan.bin", os.urandom(20 << 20))  # kept, never read
    bot.collection.sync()
    assert [s.source for s in bot.sources()] == ["a.txt", "big.docx"]
    before = big.stat()
    read: list[int] = []
    real_read = Path.read_bytes

    def counted(self: Path) -> bytes:
        data = real_read(self)
        read.append(len(data))
        return data

    monkeypatch.setattr(Path, "read_bytes", counted)
    with pytest.raises(InputError):
        bot.add_document("big.docx", b"PK\x03\x04 broken " * 20)
    assert max(read, default=0) < 1 << 20, read  # was the whole 20 MB document
    after = big.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
        before.st_ino,
        before.st_size,
        before.st_mtime_ns,
    )
    assert sorted(p.name for p in docs.iterdir()) == ["a.txt", "big.docx"]  # nothing hidden left
    assert [s.source for s in bot.sources()] == ["a.txt", "big.docx"]
    bot.add_document("a.txt", b"Amazon builds custom chips in Austin and Tel Aviv.\n")
    assert sorted(p.name for p in docs.iterdir()) == ["a.txt", "big.docx"]
