"""Attacks through a document's shape: small files built so that reading them would hold the
indexer (and every upload queued behind it) for minutes, each of which must read in linear
time; and document text that reaches the chat by another road than the passage (a heading
named as a citation's place), which must stay text."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from format_files import epub_edited
from servers import free_port, thread_uvicorn

from assistant import Answer, Chunk, Citation, Hit
from assistant.api import header_deadline_protocol
from assistant.ingest import load_document
from assistant.ui import render_answer, render_refusal

# Under two busy shared cores the fixed loaders take a fraction of this; before the fixes
# each case took from 10 s to a minute.
BOUND_S = 3.0


def _load_timed(folder: Path, name: str, data: bytes) -> tuple[str, float]:
    path = folder / name
    path.write_bytes(data)
    started = time.perf_counter()
    doc = load_document(path, folder)
    return doc.text, time.perf_counter() - started


def _epub_with_chapter(body: str) -> bytes:
    """The test book with its second chapter's body replaced by `body`."""
    chapter = f"<html><body><p>The hostile part.</p>{body}</body></html>".encode()
    return epub_edited({"ch2.xhtml": lambda _: chapter})


@pytest.mark.parametrize("unit", ["<h1>", "<H3>", "<h2 class='x'"])
def test_an_epub_chapter_of_unclosed_headings_reads_in_linear_time(
    tmp_path: Path, unit: str
) -> None:
    # A few KB compressed; the heading search used to run from each "<h1" to the chapter's end.
    book = _epub_with_chapter(unit * (60_000 // len(unit)))
    assert len(book) < 20_000
    text, took = _load_timed(tmp_path, "hostile.epub", book)
    assert took < BOUND_S, f"a hostile chapter took {took:.1f} s to read"
    assert "The storm reached the island" in text and "The hostile part." in text


def test_epub_headings_still_name_their_parts(tmp_path: Path) -> None:
    chapter = "<h2 id='c2'>The <em>Long</em>\nNight</h2><p>The lamp burned until dawn.</p>"
    path = tmp_path / "night.epub"
    path.write_bytes(_epub_with_chapter(chapter))
    doc = load_document(path, tmp_path)
    assert doc.locator_at(doc.text.index("The lamp burned")) == "part 2: The Long Night"


@pytest.mark.parametrize("line", ["'a\n", '"a"\n', "a\n"])
def test_a_one_column_csv_reads_in_linear_time(tmp_path: Path, line: str) -> None:
    # One column leaves the delimiter to csv.Sniffer, whose patterns are quadratic in their
    # sample: 32 KB of "'a" lines took 15 s, 64 KB a minute.
    data = (line * (64_000 // len(line))).encode()
    text, took = _load_timed(tmp_path, "column.csv", data)
    assert took < BOUND_S, f"a one-column CSV took {took:.1f} s to read"
    assert text.count("a") >= 10_000


def test_a_csv_whose_header_has_no_delimiter_is_still_sniffed(tmp_path: Path) -> None:
    data = "Stations\n" + "".join(f"Stop {i}|Line {i % 3}|{1990 + i}\n" for i in range(300))
    text, _ = _load_timed(tmp_path, "stops.csv", data.encode())
    assert "Stop 299 | Line 2 | 2289" in text  # cells split at "|", not one cell per line


@pytest.mark.parametrize(
    "header",
    [
        "To: " + "a@b.io, " * 12_000,
        "Subject: " + "=?utf-8?q?a?= " * 20_000,
        "Content-Type: text/plain; " + "x=y; " * 10_000,
    ],
    ids=["addresses", "encoded-words", "parameters"],
)
def test_an_email_with_a_huge_header_reads_in_linear_time(tmp_path: Path, header: str) -> None:
    # The standard library's header parser is quadratic: 84 KB of addresses took 7 s.
    mail = f"From: Ana <ana@example.org>\n{header}\n\nThe storm reached the island.\n"
    text, took = _load_timed(tmp_path, "huge.eml", mail.encode())
    assert took < BOUND_S, f"an e-mail with a huge header took {took:.1f} s to read"
    assert "The storm reached the island." in text and "Ana" in text


# A Word heading, an e-book chapter's title or a sheet's name is document text, and a citation
# names it as the quote's place ("section Warranty", "sheet Sales, row 4").
HOSTILE_PLACE = (
    'section Beacon <img src="http://127.0.0.1:9/p.png"> <a href="http://x.test/">here</a>'
)


def test_a_citations_place_from_a_documents_heading_stays_text() -> None:
    quote = "The beacon flashes green every twelve seconds."
    chunk = Chunk("c1", "beacon.docx", quote, 0, len(quote), 0, "h", locator=HOSTILE_PLACE)
    citation = Citation(1, "beacon.docx", 0, len(quote), quote, None, "c1", HOSTILE_PLACE)
    answer = Answer("q", "q", f"{quote} [1]", (citation,))

    body, sources = render_answer(answer, {"c1": chunk}.get)
    related = Answer("q", "q", "No answer.", (), refused=True, related=(Hit(chunk, 1.0),))
    _, reading = render_refusal(related)

    for html in (body, sources, reading):
        assert "<img" not in html and "<a " not in html
    assert "section Beacon &lt;img src=" in sources and "section Beacon &lt;img src=" in reading


# --- slowloris -----------------------------------------------------------------------------


async def _slow_answer(scope: Any, receive: Any, send: Any) -> None:
    """An ASGI app whose answer takes longer than the header deadline used below."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await asyncio.sleep(1.5)
    await send({"type": "http.response.body", "body": b"late but whole"})


@pytest.fixture
def deadline_server() -> Iterator[int]:
    with thread_uvicorn(
        _slow_answer, log_level="warning", http=header_deadline_protocol(1.0), lifespan="off"
    ) as port:
        yield port


def _closed(sock: socket.socket) -> bool:
    sock.settimeout(3)
    try:
        return sock.recv(100) == b""
    except (TimeoutError, ConnectionResetError):
        return False


def test_connections_that_never_finish_their_headers_are_closed(deadline_server: int) -> None:
    # Each held connection is a file descriptor; thousands of them, a few header bytes now
    # and then on each, left a server unable to accept anyone.
    held = [socket.create_connection(("127.0.0.1", deadline_server)) for _ in range(50)]
    for sock in held:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    quiet = socket.create_connection(("127.0.0.1", deadline_server))  # sends nothing at all
    time.sleep(0.5)
    for sock in held[:10]:  # a byte now and then does not reset the deadline
        sock.sendall(b"a")
    try:
        assert all(_closed(sock) for sock in [*held, quiet])
    finally:
        for sock in [*held, quiet]:
            sock.close()


def test_a_request_with_its_headers_in_may_take_longer_than_the_deadline(
    deadline_server: int,
) -> None:
    import httpx

    with httpx.Client(timeout=10) as client:
        first = client.get(f"http://127.0.0.1:{deadline_server}/")
        time.sleep(0.2)  # kept alive, then asked again on the same connection
        second = client.get(f"http://127.0.0.1:{deadline_server}/")
    assert first.text == second.text == "late but whole"


def test_the_web_chat_server_closes_slow_header_connections() -> None:
    from assistant.startup import StartupProgress, serve_early

    server = serve_early(StartupProgress(lambda _line: None), host="127.0.0.1", port=free_port())
    try:
        protocol = server.server.config.http
        assert isinstance(protocol, type) and protocol.__name__ == "HeaderDeadline"
    finally:
        server.stop()
