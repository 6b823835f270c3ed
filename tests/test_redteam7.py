"""The seventh red-team pass on a running web chat: what Gradio keeps in memory for each page
session and each unread answer, bodies whose length is given twice or cut off, uploads that
fail half-way, WebSocket handshakes, huge scanned pages, e-mails nested thousands deep, and
requests Gradio answered with a traceback (an example click without its data, several
ranges of a file); each sent over HTTP (or a raw socket) as a hostile client would.

The servers here are served as `assistant ui` serves them (the chat mounted on the early
server) with the fake embedder, so these run in seconds.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import socket
import time
import uuid
from typing import Any

import httpx
import pytest
from fakes import FakeEmbedder
from format_files import pdf_from_objects
from servers import page_call
from test_redteam import one_sentence
from test_redteam4 import QUESTION, Limited, _page_event
from test_redteam5 import _call, _upload_files

# ---------------------------------------------------------------- what a page session keeps


def _held(demo: Any) -> list[int]:
    """The characters each page session's kept values come to, session by session: what
    Gradio holds for it in memory (up to 10,000 sessions, never dropped but by age)."""
    return [
        len(repr(list(session.components))) + len(repr(session.state_data))
        for session in list(demo.state_holder.session_data.values())
    ]


def _message(role: str, text: str) -> dict[str, Any]:
    return {"role": role, "content": [{"type": "text", "text": text}]}


def test_a_page_session_does_not_keep_the_chat_it_was_sent(plain: Limited) -> None:
    # Found in this pass: Gradio kept, for every page session, the last value each of the
    # page's components was sent or shown (for "deep links" the chat does not offer), and
    # keeps up to 10,000 sessions: a client sending one question each from new sessions
    # with a 3 MB chat (300 messages of 10,000 characters, under every limit) grew the
    # server by 5.6 MB a session, 220 MB in 12 s from one connection, on the way to 56 GB.
    # The page sends its chat with every question, so the server needs no copy.
    chat = [_message(("user", "assistant")[i % 2], "x" * 10_000) for i in range(300)]
    respond = _page_event(plain.url, "respond")
    for _ in range(3):
        outcome, _outputs = page_call(plain.url, respond, [QUESTION, chat, [], 4, None])
        assert outcome == "complete", _outputs
    held = _held(plain.demo)
    assert len(held) >= 3 and max(held) < 200_000, held


def test_a_restored_conversation_keeps_no_more_history_than_the_bot_reads(plain: Limited) -> None:
    # Found in this pass: the conversation the browser saved came back whole into the
    # session's history (kept on the server, as above), each message as long as sent: 12
    # messages of 300,000 characters held 3.6 MB a session, where the bot reads at most
    # max_history_chars (4,000) of a whole history.
    history = [
        {"role": ("user", "assistant")[i % 2], "content": f"{i} " + "y" * 300_000}
        for i in range(12)
    ]
    saved: dict[str, Any] = {
        "chat": [_message("user", "hi"), _message("assistant", "hello")],
        "history": history,
    }
    # Sealed as the server seals what it saves (red team 13): only that is restored.
    from assistant.ui import _seal

    key = bytes.fromhex((plain.docs.parent / "index" / "chat-seal.key").read_text().strip())
    saved["seal"] = _seal(key, saved["chat"], history)
    restore = next(
        i for i, fn in plain.demo.fns.items() if getattr(fn.fn, "__name__", "") == "restore"
    )
    outcome, outputs = page_call(plain.url, restore, [saved])
    assert outcome == "complete", outputs
    assert isinstance(outputs[0], list) and len(outputs[0]) == 2, outputs  # restored
    held = _held(plain.demo)
    assert held and max(held) < 200_000, held


def _unread(demo: Any) -> int:
    """The characters of the messages Gradio's queue holds for clients to read, in all."""
    pending = demo._queue.pending_messages_per_session
    return sum(len(repr(list(messages._queue))) for messages in list(pending.values()))


def test_answers_nobody_reads_are_not_kept(monkeypatch: pytest.MonkeyPatch, plain: Limited) -> None:
    # Found in this pass: a question sent to Gradio's queue is answered whether or not its
    # client ever reads the answer, which then waits in memory for it, with the chat the
    # question carried, for up to 2,000 sessions: 40 questions with a 3 MB chat each, from
    # new sessions and never read, grew the server by 100 MB (1 question in flight at a
    # time, so no per-address limit applied), on the way to 5 GB. Now an answer nobody has
    # read a while after it is ready is dropped, and a client that reads at once still
    # gets its answer.
    import assistant.ui as ui

    monkeypatch.setattr(ui, "_UNREAD_AFTER_S", 0.5, raising=False)
    chat = [_message(("user", "assistant")[i % 2], "x" * 10_000) for i in range(100)]
    respond = _page_event(plain.url, "respond")
    with httpx.Client(timeout=60) as client:
        for _ in range(3):
            joined = client.post(
                f"{plain.url}/gradio_api/queue/join",
                json={
                    "data": [QUESTION, chat, [], 4, None],
                    "fn_index": respond,
                    "session_hash": uuid.uuid4().hex,
                },
            )
            assert joined.status_code == 200, joined.text[:300]
        started = client.post(f"{plain.url}/gradio_api/call/ask", json={"data": [QUESTION]})
        assert started.status_code == 200, started.text[:300]
        queue, deadline = plain.demo._queue, time.monotonic() + 30
        while time.monotonic() < deadline and (
            _unread(plain.demo) > 100_000 or queue.pending_event_ids_session
        ):
            time.sleep(0.2)
        assert _unread(plain.demo) < 100_000
        assert not queue.pending_event_ids_session, queue.pending_event_ids_session
        # Read at once, an answer is there as before.
        outcome, outputs = page_call(plain.url, respond, [QUESTION, chat[-2:], [], 4, None])
        assert outcome == "complete" and "Austin" in repr(outputs), outputs


# ---------------------------------------------------------------- a body's length given twice


def _raw(url: str, head: bytes, body_mb: int) -> bytes:
    """Send a request's head, then body_mb megabytes as chunks, over a raw socket; the reply
    (b"" if the server closed the connection before answering). A reply the server sends
    before reading the body is read as it comes: once the server closes with the body
    unread, its kernel resets the connection, and a reset drops what the client has not yet
    read (under load the status line came and the JSON after it did not)."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    piece = b"x" * (1024 * 1024)
    reply = b""
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(head)
        with contextlib.suppress(OSError):  # the server may stop reading once it has answered
            for _ in range(body_mb):
                while select.select([conn], [], [], 0.05)[0]:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    reply += chunk
                conn.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            conn.sendall(b"0\r\n\r\n")
        with contextlib.suppress(OSError):
            while chunk := conn.recv(65536):
                reply += chunk
    return reply


@pytest.mark.parametrize(
    "path", ["/gradio_api/queue/join", "/gradio_api/upload", "/v1/chat/completions"]
)
def test_a_body_given_two_lengths_is_refused_before_it_is_read(plain: Limited, path: str) -> None:
    # Found in this pass: the server reads a body by its Transfer-Encoding (chunked) while
    # the checks of a body's size read its Content-Length; a request declaring both passed
    # the 8 MB limit with "Content-Length: 10" and was held in memory whole: one 300 MB
    # body grew the server from 0.4 to 1.6 GB, for good. A proxy in front reading the other
    # header would also see another request than the server (request smuggling). Now such
    # a request gets 400 and one sentence, and its connection is closed.
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Content-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    reply = _raw(plain.url, head, 12)
    status, _, rest = reply.partition(b"\r\n")
    assert status.startswith(b"HTTP/1.1 400"), reply[:300]
    body = json.loads(rest.partition(b"\r\n\r\n")[2])
    message = body["error"]["message"] if path.startswith("/v1") else body["detail"]
    assert one_sentence(message) and "Content-Length" in message, body
    assert b"connection: close" in rest.lower(), reply[:300]


# ---------------------------------------------------------------- a scanned page of any size


def _blank_pdf(width: float, height: float) -> bytes:
    """A PDF of one page of width x height points with nothing on it (so no text layer):
    a few hundred bytes."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %g %g] >>" % (width, height),
    ]
    return pdf_from_objects(objects)


def _fake_ocr(monkeypatch: pytest.MonkeyPatch, reply: str) -> list[bytes]:
    """OCR switched on with a stand-in for tesseract that answers reply; the list it returns
    collects the head of each image sent (its PGM header: width and height)."""
    from assistant.ingest import pdf

    seen: list[bytes] = []

    def tesseract(image: bytes, source: str, page: int) -> str:
        seen.append(image[:40])
        return reply

    monkeypatch.setattr(pdf, "ocr_available", lambda: True)
    monkeypatch.setattr(pdf, "_tesseract", tesseract)
    return seen


@pytest.mark.parametrize(("width", "height"), [(5000, 5000), (200, 14400)])
def test_a_huge_page_is_rendered_for_ocr_at_a_bounded_size(
    monkeypatch: pytest.MonkeyPatch, width: float, height: float
) -> None:
    # Found in this pass: a page without text is rendered at 300 dpi for OCR whatever its
    # size: a 335-byte PDF of one blank 5000-point page (69 inches) took 21 s and 1.3 GB in
    # the server (small uploads are indexed in-process) and 2 GB in tesseract, holding
    # every upload behind it; a page of the largest size a PDF allows (14,400 points) is a
    # 3.6-gigapixel image, copied twice. A page is now rendered at most at 40 million
    # pixels (an A2 sheet at 300 dpi), at a lower dpi for a bigger page.
    from assistant.ingest import pdf

    seen = _fake_ocr(monkeypatch, "Scanned text.")
    built = pdf.pdf_text(_blank_pdf(width, height), "huge.pdf")
    assert built.text == "Scanned text." and len(seen) == 1
    columns, rows = (int(n) for n in seen[0].split(b"\n")[1].split())
    assert columns * rows <= 40_000_000, (columns, rows)
    assert columns / rows == pytest.approx(width / height, rel=0.01)


def test_an_ordinary_scanned_page_is_still_rendered_at_300_dpi(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from assistant.ingest import pdf

    seen = _fake_ocr(monkeypatch, "")
    pdf.pdf_text(_blank_pdf(595, 842), "a4.pdf")  # A4
    assert seen[0].split(b"\n")[1] == b"2480 3509"


# ---------------------------------------------------------------- uploads that fail half-way


def _left_behind(demo: Any, marker: bytes) -> list[str]:
    """Files in Gradio's upload folder holding marker (each test's uploads carry their own):
    what a refused upload left on disk. The folder is shared with other servers, so it is
    walked in a way that their deletions do not break."""
    found = []
    for where, _dirs, files in os.walk(demo.GRADIO_CACHE):
        for name in files:
            path = os.path.join(where, name)
            with contextlib.suppress(OSError), open(path, "rb") as file:
                if marker in file.read(4096):
                    found.append(path)
    return found


def _form(boundary: str, parts: list[tuple[str, str | None, bytes]]) -> bytes:
    """A multipart form of (field name, file name or None for a plain field, content)."""
    body = b""
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"' + (
            f'; filename="{filename}"' if filename is not None else ""
        )
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        body += content + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


@pytest.mark.parametrize(
    "shape",
    [
        [("files", "notes.txt", b"FILE"), ("files", None, b"not a file")],
        [("files", "notes.txt", b"FILE"), ("other", "other.txt", b"FILE")],
        [("files", "notes.txt", b"FILE"), ("files", "..", b"FILE")],
    ],
    ids=["a-plain-field-named-files", "a-file-under-another-name", "a-file-named-dot-dot"],
)
def test_a_refused_upload_leaves_no_file_behind(
    plain: Limited, caplog: pytest.LogCaptureFixture, shape: list[tuple[str, str | None, bytes]]
) -> None:
    # Found in this pass: an upload Gradio refuses half-way kept the files it had written
    # so far, where nothing ever deletes them (Gradio's sweep knows only the files it
    # answered with) and the address's budget of waiting files no longer counts them: a
    # file followed by a plain field named "files" (a 500 and a 100-line traceback in the
    # log), a file part under another name, or a file named "..", each left up to the
    # address's 256 MB on disk, request after request. Now each is 400 and one sentence
    # before Gradio writes a byte past the form's head, and nothing is left.
    marker = uuid.uuid4().hex.encode()
    parts = [(n, f, marker + b" " + c * 50_000) for n, f, c in shape]
    with caplog.at_level(logging.ERROR), httpx.Client(timeout=60) as client:
        sent = client.post(
            f"{plain.url}/gradio_api/upload",
            content=_form("b0undary", parts),
            headers={"content-type": "multipart/form-data; boundary=b0undary"},
        )
    assert sent.status_code == 400, sent.text[:300]
    assert one_sentence(sent.text), sent.text[:300]
    assert _left_behind(plain.demo, marker) == []
    assert not [r for r in caplog.records if "Traceback" in r.getMessage() or r.exc_info]


def test_an_upload_cut_off_by_its_client_leaves_no_file_behind(
    plain: Limited, caplog: pytest.LogCaptureFixture
) -> None:
    # Found in this pass: a client that sent 5 MB of a file and then hung up left the 5 MB
    # in Gradio's upload folder for good (and a 90-line traceback in the log), uncounted
    # by its address's budget, request after request.
    marker = uuid.uuid4().hex.encode()
    head = _form("b0undary", [("files", "notes.txt", marker)])[: -len("\r\n--b0undary--\r\n")]
    host, port = plain.url.removeprefix("http://").rsplit(":", 1)
    with caplog.at_level(logging.ERROR):
        with socket.create_connection((host, int(port)), timeout=30) as conn:
            conn.sendall(
                b"POST /gradio_api/upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: multipart/form-data; boundary=b0undary\r\n"
                b"Content-Length: %d\r\n\r\n" % (len(head) + 10_000_000)
            )
            conn.sendall(head + b"x" * 5_000_000)
            time.sleep(1)  # the server has written what came so far
        deadline = time.monotonic() + 20
        while _left_behind(plain.demo, marker) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _left_behind(plain.demo, marker) == []
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records]


# ---------------------------------------------------------------- one file that poisoned every sync


def _nested_mail(depth: int, how: str) -> bytes:
    """An e-mail of a few dozen KB whose one line of text sits `depth` parts deep: forwarded
    messages within forwarded messages, or multipart sections within sections."""
    if how == "forwarded":
        message = b"Subject: leaf\r\n\r\nZebras graze at dawn.\r\n"
        for i in range(depth):
            message = b"Subject: fwd %d\r\nContent-Type: message/rfc822\r\n\r\n%s" % (i, message)
        return message
    part = b"Content-Type: text/plain\r\n\r\nZebras graze at dawn.\r\n"
    for i in range(depth):
        part = b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n%s\r\n--b%d--\r\n" % (
            i,
            i,
            part,
            i,
        )
    return b"Subject: top\r\nMIME-Version: 1.0\r\n" + part


@pytest.mark.parametrize("how", ["forwarded", "multipart"])
def test_an_e_mail_nested_thousands_deep_is_refused_and_poisons_nothing(
    plain: Limited, how: str
) -> None:
    # Found in this pass: a 66 KB .eml of 1,000 forwarded messages within each other (or
    # multipart sections within sections) made Python's e-mail parser raise RecursionError,
    # which no loader turned into a sentence: the upload failed ("indexing failed
    # (RecursionError)") but the file stayed in the folder, so every later upload failed
    # the same way, and the next start could not load the index at all: nothing indexed
    # survived. Now it is one file that cannot be read, like any broken file.
    from assistant import Assistant, Settings

    with httpx.Client(timeout=120) as client:
        sent = client.post(
            f"{plain.url}/gradio_api/upload",
            files=[("files", (f"deep-{how}.eml", _nested_mail(1000, how), "message/rfc822"))],
        )
        assert sent.status_code == 200, sent.text[:300]
        files = [{"path": p, "meta": {"_type": "gradio.FileData"}} for p in sent.json()]
        outcome = _call(client, plain.url, "upload", [files])
        assert "was not added" in outcome and "nested too deeply" in outcome, outcome[:500]
        assert "RecursionError" not in outcome, outcome[:500]
        later = _upload_files(client, plain.url, "zebras.txt", "Zebras graze in Kenya at dawn.")
        assert "zebras.txt</b> added" in _call(client, plain.url, "upload", [later])
    assert sorted(p.name for p in plain.docs.iterdir()) == ["a.txt", "zebras.txt"]
    settings = Settings(index_dir=plain.docs.parent / "index", show_progress=False)
    again = Assistant.from_folder(plain.docs, settings=settings, embedder=FakeEmbedder())
    assert sorted(s.source for s in again.sources()) == ["a.txt", "zebras.txt"]


def test_an_upload_whose_indexing_fails_unexpectedly_leaves_the_folder_as_it_was(
    monkeypatch: pytest.MonkeyPatch, plain: Limited
) -> None:
    # Found in this pass, beside the e-mail above: whatever a loader raises that is not
    # one of ours (a bug), the upload failed but its file stayed in the folder (an upload
    # indexed in a child process was put back; one indexed in the server was not), so
    # every later sync met it again. Now the folder goes back as it was either way.
    from assistant.ingest import loaders

    extract = loaders._extract

    def buggy(kind: str, data: bytes, source: str, limits: Any) -> Any:
        if source == "bug.txt":
            raise KeyError("a loader bug")
        return extract(kind, data, source, limits)

    monkeypatch.setattr(loaders, "_extract", buggy)
    with httpx.Client(timeout=120) as client:
        files = _upload_files(client, plain.url, "bug.txt", "Zebras graze at dawn.")
        outcome = _call(client, plain.url, "upload", [files])
        assert "bug.txt</b> was not added" in outcome, outcome[:500]
        later = _upload_files(client, plain.url, "zebras.txt", "Zebras graze in Kenya at dawn.")
        assert "zebras.txt</b> added" in _call(client, plain.url, "upload", [later])
    assert sorted(p.name for p in plain.docs.iterdir()) == ["a.txt", "zebras.txt"]


# ---------------------------------------------------------------- WebSocket upgrades


def _websocket_handshake(url: str) -> bytes:
    """A WebSocket handshake for the chat's root, as any web page may start one to any
    address (WebSockets are not held back by CORS); the first bytes of the answer."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(
            b"GET / HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Sec-WebSocket-Version: 13\r\n\r\n" % port.encode()
        )
        return conn.recv(200)


def test_websocket_handshakes_do_not_use_up_an_addresss_connections(plain: Limited) -> None:
    # Found in this pass: each WebSocket handshake (the chat has no WebSocket route, so it
    # is refused with 403) kept one of its address's 256 connections counted for good:
    # uvicorn hands the connection to its WebSocket protocol, which never told the count it
    # closed. 256 handshakes, which any web page the user opens may start against
    # ws://127.0.0.1:7860, and every later request from that address got 429 until the
    # server restarted.
    for _ in range(300):
        assert _websocket_handshake(plain.url).startswith(b"HTTP/1.1 403"), "refused"
    time.sleep(0.5)  # the refused connections close
    assert httpx.get(f"{plain.url}/config", timeout=30).status_code == 200


# ---------------------------------------------------------------- session names


@pytest.mark.parametrize("route", ["queue/join", "call/ask", "call/v2/ask"])
def test_a_session_named_by_megabytes_is_refused(plain: Limited, route: str) -> None:
    # Found in this pass: a page session is named by its client, at any length, and Gradio
    # keeps up to 10,000 sessions under their names: 50 questions each naming a new session
    # of 1 MB grew the server by 58 MB for good, on the way to 70 GB with 7 MB names (under
    # the 8 MB body limit). The page names its sessions with a dozen characters.
    refresh = next(
        i for i, fn in plain.demo.fns.items() if getattr(fn.fn, "__name__", "") == "refresh"
    )
    body: dict[str, Any] = {"session_hash": "s" * 1_000_000}
    if route == "queue/join":
        body |= {"data": [], "fn_index": refresh}
    elif route == "call/ask":
        body |= {"data": [QUESTION]}
    else:
        body |= {"question": QUESTION}
    sent = httpx.post(f"{plain.url}/gradio_api/{route}", json=body, timeout=60)
    assert sent.status_code == 400, sent.text[:300]
    assert one_sentence(sent.json()["detail"]), sent.text[:300]
    assert all(len(s) <= 64 for s in plain.demo.state_holder.session_data)
    assert all(len(s) <= 64 for s in plain.demo._queue.pending_messages_per_session)
    # What the page and gradio_client send still passes.
    fine = httpx.post(
        f"{plain.url}/gradio_api/queue/join",
        json={"data": [], "fn_index": refresh, "session_hash": uuid.uuid4().hex},
        timeout=60,
    )
    assert fine.status_code == 200, fine.text[:300]


# ---------------------------------------------------------------- a /v1 body cut off


def test_a_v1_body_cut_off_by_its_client_writes_no_traceback(
    plain: Limited, caplog: pytest.LogCaptureFixture
) -> None:
    # Found in this pass: a client that sent the start of a /v1 body and hung up wrote a
    # 73-line traceback (ClientDisconnect) to the server's log, each time: a loop of them
    # filled the disk at megabytes a second.
    host, port = plain.url.removeprefix("http://").rsplit(":", 1)
    with caplog.at_level(logging.ERROR):
        for _ in range(3):
            with socket.create_connection((host, int(port)), timeout=30) as conn:
                conn.sendall(
                    b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
                    b'{"model": "assistant", "messages": [{"role": "user", "content": "Wh'
                )
                time.sleep(0.3)
        time.sleep(1)
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records]
    reply = httpx.post(
        f"{plain.url}/v1/chat/completions",
        json={"model": "assistant", "messages": [{"role": "user", "content": QUESTION}]},
        timeout=60,
    )
    assert reply.status_code == 200 and "Austin" in reply.text, reply.text[:300]


# ---------------------------------------------------------------- an example clicked, no data


@pytest.mark.parametrize("event_data", [None, "zz", {"index": 0}, [1, 2]])
def test_an_example_click_without_its_data_is_one_sentence_and_no_traceback(
    plain: Limited, caplog: pytest.LogCaptureFixture, event_data: Any
) -> None:
    # Found in this pass: the page's "example clicked" event reads which example from the
    # event's data; sent without it (or with a string, or without the example's value),
    # each request wrote a 20-line traceback to the log (TypeError, KeyError inside
    # Gradio's gr.SelectData). Now it is 400 and one sentence before Gradio reads it.
    example = next(
        i for i, fn in plain.demo.fns.items() if getattr(fn.fn, "__name__", "") == "on_example"
    )
    body: dict[str, Any] = {
        "data": [[], [], 4, None],
        "fn_index": example,
        "session_hash": uuid.uuid4().hex,
    }
    if event_data is not None:
        body["event_data"] = event_data
    with caplog.at_level(logging.ERROR):
        sent = httpx.post(f"{plain.url}/gradio_api/queue/join", json=body, timeout=60)
        time.sleep(1)
    assert sent.status_code == 400, sent.text[:300]
    assert one_sentence(sent.json()["detail"]), sent.text[:300]
    assert not [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
    # The page's own click, with the example's data, still asks it.
    session = uuid.uuid4().hex
    body = {
        "data": [[], [], 4, None],
        "fn_index": example,
        "session_hash": session,
        "event_data": {"index": 0, "value": {"text": QUESTION}},
    }
    with httpx.Client(timeout=60) as client:
        joined = client.post(f"{plain.url}/gradio_api/queue/join", json=body)
        assert joined.status_code == 200, joined.text[:300]
        with client.stream(
            "GET", f"{plain.url}/gradio_api/queue/data", params={"session_hash": session}
        ) as events:
            done = next(line for line in events.iter_lines() if "process_completed" in line)
    assert "Austin" in done, done[:500]


# ---------------------------------------------------------------- a file asked for in pieces


@pytest.mark.parametrize(
    "ranges", ["bytes=0-1,4-5", "bytes=0-1-2", "bytes=" + "0-0," * 500 + "1-1"]
)
def test_a_file_asked_for_in_several_ranges_is_served_without_a_traceback(
    plain: Limited, caplog: pytest.LogCaptureFixture, ranges: str
) -> None:
    # Found in this pass: Gradio's file route read a Range header as one "start-end": any
    # other (several ranges, as HTTP allows) was a 500 and a 113-line traceback in the log,
    # each time, for anyone with a file they uploaded. Such a Range is now ignored, as HTTP
    # lets a server do: the whole file comes back.
    with httpx.Client(timeout=60) as client:
        (path,) = client.post(
            f"{plain.url}/gradio_api/upload",
            files=[("files", ("n.txt", b"Zebras graze at dawn.", "text/plain"))],
        ).json()
        with caplog.at_level(logging.ERROR):
            got = client.get(f"{plain.url}/gradio_api/file={path}", headers={"Range": ranges})
        assert got.status_code == 200 and got.content == b"Zebras graze at dawn.", got.text[:200]
        one = client.get(f"{plain.url}/gradio_api/file={path}", headers={"Range": "bytes=0-5"})
        assert one.status_code == 206 and one.content == b"Zebras", one.text[:200]
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records]


# ---------------------------------------------------------------- Host headers


@pytest.mark.parametrize("host", ["[::1].evil.example", "[::1]evil.example:7860", "[::1]:80:81"])
def test_a_host_header_with_more_after_a_bracketed_address_is_refused(
    plain: Limited, host: str
) -> None:
    # Found in this pass: the loopback check read "[::1].evil.example" as [::1] and let it
    # through: whatever followed the bracketed address was never looked at. Only a port
    # may follow it.
    host_name, port = plain.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host_name, int(port)), timeout=30) as conn:
        conn.sendall(f"GET /config HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        reply = conn.recv(100)
    assert reply.startswith(b"HTTP/1.1 403"), reply


def test_a_pdf_with_more_blank_pages_than_ocr_reads_is_refused_before_any_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A few hundred bytes make a thousand blank pages, each seconds of OCR: the indexer was
    # held for hours. A file with more pages without text than ocr_max_pages is one sentence
    # before any page is rendered.
    from assistant.errors import DocumentError
    from assistant.ingest import pdf
    from assistant.settings import Settings

    seen = _fake_ocr(monkeypatch, "Scanned text.")
    limits = Settings(ocr_max_pages=0).unpack_limits
    with pytest.raises(DocumentError) as refused:
        pdf.pdf_text(_blank_pdf(595, 842), "scan.pdf", limits)
    assert seen == []
    one_sentence(str(refused.value))
    assert "split it" in str(refused.value) and "ocr_max_pages" in str(refused.value)
    # Within the limit the page is read as before.
    built = pdf.pdf_text(_blank_pdf(595, 842), "scan.pdf", Settings(ocr_max_pages=1).unpack_limits)
    assert built.text == "Scanned text." and len(seen) == 1
