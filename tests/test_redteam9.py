"""The ninth red-team pass on a running web chat: Gradio's development, monitoring, streaming
and custom-component routes, one visitor's upload shared with another's, file names that hide
control characters, /v1 values of the wrong kind, small PDFs and HTML pages that read for a
long time, and what page sessions and unsubmitted uploads leave behind; sent over HTTP as a
hostile client would, or read as the indexer reads them.

The servers here are served as `assistant ui` serves them (the chat mounted on the early
server) with the fake embedder, so these run in seconds.
"""

from __future__ import annotations

import json
import threading
import time
import zlib
from pathlib import Path
from typing import Any

import httpx
import pytest
from format_files import pdf_from_objects, scanned_pdf_bytes, text_pdf_bytes
from test_redteam import one_sentence
from test_redteam4 import Limited, _client, _served
from test_redteam5 import _call, _upload_files

from assistant.errors import DocumentError

# ---------------------------------------------------------------- routes the product lacks


def test_the_development_reload_stream_is_not_served(
    plain: Limited, capfd: pytest.CaptureFixture[str]
) -> None:
    # Found in red team 8: Gradio's /gradio_api/dev/reload, the event stream its `gradio
    # app.py` development server tells the page to reload by, was served by the product too:
    # each connection woke the server every 50 ms for as long as it stayed open (the page
    # opens it only in development mode). It now gets 404 and one sentence, at once.
    began = time.monotonic()
    reply = httpx.get(f"{plain.url}/gradio_api/dev/reload", timeout=10)
    assert time.monotonic() - began < 5
    assert reply.status_code == 404, reply.text[:300]
    assert one_sentence(reply.json()["detail"]), reply.text[:300]
    time.sleep(0.3)
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.parametrize("path", ["monitoring", "monitoring/summary", "monitoring/abc123"])
def test_the_monitoring_pages_are_refused(plain: Limited, path: str) -> None:
    # Found in red team 8: /monitoring/summary answered with the server's traffic summary
    # (each event's count and timings) although monitoring was never turned on: Gradio
    # serves it unless told `enable_monitoring=False`, and a mounted app is not. Every
    # monitoring page now gets 404 and one sentence.
    reply = httpx.get(f"{plain.url}/{path}", timeout=10)
    assert reply.status_code == 404, reply.text[:300]
    assert one_sentence(reply.json()["detail"]), reply.text[:300]


# ---------------------------------------------------------------- /v1 values of the wrong kind

_ASK = {"model": "assistant", "messages": [{"role": "user", "content": "Who builds chips?"}]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        # Found in red team 8: pydantic read "yes" as true and answered in a stream.
        (b'"stream": "yes"', "stream"),
        (b'"stream": 1', "stream"),
        # Python's JSON reader takes NaN and Infinity, which JSON lacks, and 1e999 is
        # infinite: the sampling options went unread, so these were answered as valid.
        (b'"temperature": NaN', "JSON"),
        (b'"temperature": 1e999', "temperature"),
        (b'"temperature": "0.5"', "temperature"),
        (b'"temperature": 7', "temperature"),
        (b'"top_p": -Infinity', "JSON"),
        (b'"top_p": 1.5', "top_p"),
        (b'"presence_penalty": true', "presence_penalty"),
        (b'"max_tokens": 0', "max_tokens"),
        (b'"max_tokens": 10.5', "max_tokens"),
        (b'"n": true', "n"),
        (b'"n": "1"', "n"),
        (b'"logprobs": "no"', "logprobs"),
        (b'"seed": "7"', "seed"),
        (b'"stop": 5', "stop"),
        (b'"stream_options": {"include_usage": "yes"}', "include_usage"),
        (b'"logit_bias": {"50256": "x"}', "logit_bias"),
    ],
)
def test_v1_values_of_the_wrong_kind_are_refused_in_one_sentence(
    plain: Limited, body: bytes, field: str
) -> None:
    sent = b'{"model": "assistant", "messages": [{"role": "user", "content": "Who?"}], %s}' % body
    reply = httpx.post(
        f"{plain.url}/v1/chat/completions",
        content=sent,
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert reply.status_code == 400, reply.text[:300]
    message = reply.json()["error"]["message"]
    assert one_sentence(message) and field in message, message


def test_v1_requests_with_valid_sampling_options_are_answered(plain: Limited) -> None:
    options = {
        "temperature": 0,
        "top_p": 0.5,
        "max_tokens": 200,
        "stop": ["\n\n"],
        "seed": 3,
        "n": 1,
        "stream": False,
        "presence_penalty": -1.5,
        "logit_bias": {"50256": -100},
        "user": "me",
    }
    reply = httpx.post(f"{plain.url}/v1/chat/completions", json={**_ASK, **options}, timeout=60)
    assert reply.status_code == 200, reply.text[:300]
    assert "Austin" in reply.json()["choices"][0]["message"]["content"]


# ---------------------------------------------------------------- names placed in the folder


def _page(chat: Limited, handler: str, data: list[Any], session: str = "") -> tuple[str, Any]:
    """The page event that runs handler, called as the page calls it in page session
    `session` (a new one by default), as servers.page_call calls it but with its stream
    read by events: httpx's lines also break at U+0085, which JSON need not escape."""
    index = next(i for i, fn in chat.demo.fns.items() if fn.fn.__name__ == handler)
    session = session or f"s{time.monotonic_ns()}"
    with httpx.Client(timeout=30) as client:
        body = {"data": data, "fn_index": index, "session_hash": session}
        client.post(f"{chat.url}/gradio_api/queue/join", json=body).raise_for_status()
        stream = client.get(f"{chat.url}/gradio_api/queue/data", params={"session_hash": session})
        for event in stream.text.split("\n\n"):
            if event.startswith("data: ") and '"process_completed"' in event:
                done = json.loads(event.removeprefix("data: "))
                if done.get("success"):
                    return "complete", done["output"].get("data")
                return "error", done["output"].get("error")
    return "", None


def test_control_characters_in_names_placed_in_the_folder_are_shown(tmp_path: Path) -> None:
    # Found in red team 8: a file put straight into the documents folder (not uploaded, so
    # its name was never made safe) may hold control characters, which the browser draws as
    # nothing: "notes\x07.txt" showed as "notes.txt" beside the real one, in the documents
    # table, the remove list and the question "Delete …?", so a visitor could not tell which
    # file they removed. Every such character is now shown as its code point.
    tricky = {
        "notes\x07.txt": "Bell.",
        "notes\x1b.txt": "Escape.",
        "notes\u00a0two.txt": "No-break space.",
        "notes\u0085.txt": "Next line.",
        "notes\u3164.txt": "Hangul filler.",
    }
    shown = [
        "notes[U+0007].txt",
        "notes[U+001B].txt",
        "notes[U+00A0]two.txt",
        "notes[U+0085].txt",
        "notes[U+3164].txt",
    ]
    with _served(tmp_path, documents={"notes.txt": "Zebras.", **tricky}) as chat:
        assert sorted(p.name for p in chat.docs.iterdir()) == sorted(
            ["a.txt", "notes.txt", *tricky]
        )
        kind, (table, choices) = _page(chat, "refresh", [])
        assert kind == "complete", table
        labels = {label for label, _value in choices["choices"]}
        for name, visible in zip(tricky, shown, strict=True):
            assert name not in table and visible in table, table
            assert visible in labels, labels
            kind, (_group, question) = _page(chat, "confirm_remove", [name])
            assert kind == "complete" and f"Delete “{visible}”?" in question, question
        kind, outputs = _page(chat, "remove", ["notes\x07.txt"])
        assert kind == "complete" and "notes[U+0007].txt</b> removed" in outputs[0], outputs
        assert (chat.docs / "notes.txt").exists() and not (chat.docs / "notes\x07.txt").exists()


# ---------------------------------------------------------------- one visitor's upload, another's


def test_two_visitors_sending_the_same_file_get_copies_of_their_own(plain: Limited) -> None:
    # Found in red team 8: Gradio files an upload under its content's hash and its name, so
    # two visitors sending the same file shared one copy in its upload folder: once one
    # visitor's upload was added, the chat deleted that copy, and the other's, waiting for
    # its visitor to confirm that it should replace the document, "could not be read"; and
    # each could learn, by the path it got back, that someone had sent that very file. Each
    # upload now has a folder of its own.
    text = "Zebras graze in Kenya at dawn."
    with _client("127.0.0.1") as first, _client("127.0.0.2") as second:
        mine = _upload_files(first, plain.url, "zebras.txt", text)
        theirs = _upload_files(second, plain.url, "zebras.txt", text)
        again = _upload_files(second, plain.url, "zebras.txt", text)
        paths = [f[0]["path"] for f in (mine, theirs, again)]
        assert len({Path(p).parent for p in paths}) == 3, paths
        assert "zebras.txt</b> added" in _call(first, plain.url, "upload", [mine])
        assert not Path(paths[0]).exists()  # the first visitor's copy is gone...
        assert Path(paths[1]).exists() and Path(paths[2]).exists()  # ...and only it
    # The second visitor's page asks whether to replace zebras.txt, and they say yes.
    kind, outputs = _page(plain, "upload_page", [theirs, []], session="second")
    assert kind == "complete" and "Replace existing documents?" in outputs[-1], outputs
    kind, outputs = _page(plain, "replace_held", [None, None], session="second")
    assert kind == "complete" and "could not be read" not in outputs[0], outputs
    assert "zebras.txt" in outputs[0], outputs


# ---------------------------------------------------------------- small PDFs that read for long


def _long_pages(pages: int, content: bytes) -> bytes:
    """A PDF of `pages` pages, each with a content stream of its own holding content,
    deflated twice (two filters), a few hundred bytes each."""
    packed = zlib.compress(zlib.compress(content, 9), 9)
    stream = b"<< /Length %d /Filter [/FlateDecode /FlateDecode] >>stream\n%s\nendstream" % (
        len(packed),
        packed,
    )
    kids = b" ".join(b"%d 0 R" % (4 + 2 * i) for i in range(pages))
    page = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>"
    )
    return pdf_from_objects(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            *[part for i in range(pages) for part in (page % (5 + 2 * i), stream)],
        ]
    )


def test_a_small_pdf_of_a_few_long_pages_is_refused_at_once(plain: Limited) -> None:
    # Found in red team 8: a PDF's page content was held to the zip packages' limits, which
    # let any file unpack to 32 MB, however small; but page content is read 20 times slower
    # than XML (1.3-2.2 us a byte): a 2 KB PDF of 4 pages of 3.5 MB of text operators each
    # (packed twice; pypdf stops reading a page at about 4 MB), under that floor, held the
    # server's indexer for 56 s on 2 busy cores, every upload behind it waiting, and was
    # added as 25,660 passages. A PDF's floor is now 1 MB (1-2 s of reading); past it, 100
    # times its size, as before.
    line = b"BT /F1 12 Tf 72 700 Td (Zebras graze in Kenya at dawn.) Tj ET\n"
    bomb = _long_pages(4, b"BT " + line * (3_500_000 // len(line)) + b" ET")
    assert len(bomb) < 4_000
    with httpx.Client(timeout=300) as client:
        files = _upload_files_of(client, plain.url, "long.pdf", bomb)
        began = time.monotonic()
        outcome = _call(client, plain.url, "upload", [files])
        took = time.monotonic() - began
        assert "long.pdf</b> was not added" in outcome and "unpacks to" in outcome, outcome
        assert "re-save it" in outcome, outcome
        assert took < 10, f"the refusal took {took:.0f} s"
        later = _upload_files(client, plain.url, "zebras.txt", "Zebras graze in Kenya at dawn.")
        assert "zebras.txt</b> added" in _call(client, plain.url, "upload", [later])
    assert sorted(p.name for p in plain.docs.iterdir()) == ["a.txt", "zebras.txt"]


def _upload_files_of(
    client: httpx.Client, url: str, name: str, data: bytes
) -> list[dict[str, Any]]:
    sent = client.post(
        f"{url}/gradio_api/upload", files=[("files", (name, data, "application/pdf"))]
    )
    assert sent.status_code == 200, sent.text[:200]
    return [{"path": path, "meta": {"_type": "gradio.FileData"}} for path in sent.json()]


def _blank_pages(count: int, box: bytes = b"[0 0 612 792]") -> bytes:
    """A PDF of count pages with nothing on them (no text layer), about 75 bytes a page."""
    kids = b" ".join(b"%d 0 R" % (3 + i) for i in range(count))
    return pdf_from_objects(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [%s] /Count %d /MediaBox %s >>" % (kids, count, box),
            *[b"<< /Type /Page /Parent 2 0 R >>"] * count,
        ]
    )


def test_a_small_pdf_of_many_blank_pages_is_refused_before_any_ocr(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Found in this pass: a page without text is read by OCR, 0.6 s for a blank Letter page
    # on 2 busy cores (2 s at the biggest size rendered), and one takes 75 bytes: a 6 KB
    # PDF of 75 blank pages, under the 500 pages OCR reads in one file, held the indexer for
    # 45 s (150 s at the biggest size). A PDF now has at most one page read by OCR per 2 KB
    # of file (a scanned page is a picture of 10-100 KB), and at least 4.
    from test_redteam7 import _fake_ocr

    from assistant.ingest.pdf import pdf_text

    seen = _fake_ocr(monkeypatch, "Scanned text.")
    bomb = _blank_pages(75)
    assert len(bomb) < 6_000
    began = time.monotonic()
    with pytest.raises(DocumentError) as refused:
        pdf_text(bomb, "blank.pdf")
    assert time.monotonic() - began < 5 and seen == []
    message = str(refused.value)
    assert one_sentence(message[0].upper() + message[1:]) and "75 pages without text" in message
    assert "remove its empty pages" in message
    # A few blank pages, and a real scan of many pages, are read as before.
    assert pdf_text(_blank_pages(4), "four.pdf").text.count("Scanned text.") == 4
    scan = scanned_pdf_bytes([f"Page {i} of the herd survey." for i in range(12)])
    assert pdf_text(scan, "scan.pdf").text.count("Scanned text.") == 12


def test_an_ordinary_pdf_reads_within_its_allowance() -> None:
    # A text PDF holds two or three times its size in page content: far from either limit.
    from assistant.ingest.pdf import pdf_text

    pages = [f"Zebras of herd {i} graze in Kenya at dawn." * 40 for i in range(50)]
    built = pdf_text(text_pdf_bytes(pages), "herd.pdf")
    assert len(built.page_starts) == 50 and "herd 49" in built.text


# ---------------------------------------------------------------- a queued call's values swapped


def test_a_queued_calls_values_cannot_be_replaced_unchecked(
    held_answers: threading.Event, tmp_path: Path
) -> None:
    # Found in this pass: Gradio's /gradio_api/stream/{event_id}, the route its streaming
    # inputs (a live microphone or camera) send each new value by, replaced the values of
    # any call waiting in the queue with whatever it was sent, past every check made as the
    # call joined (kinds of values, conversations cut to their last messages, the questions
    # an address has in flight): a call sent with a question alone ran with a history of
    # 20,000 messages. The chat has no streaming inputs: the route gets 404 and one sentence.
    from test_redteam4 import QUESTION

    history = [{"role": "user", "content": "Tell me about chips."}] * 20_000
    with (
        _served(tmp_path) as chat,
        _client("127.0.0.1") as first,
        _client("127.0.0.2") as second,
    ):
        busy = [first.post(f"{chat.url}/gradio_api/call/ask", json={"data": [QUESTION]})]
        busy += [
            first.post(f"{chat.url}/gradio_api/call/ask", json={"data": [QUESTION]})
            for _ in range(3)
        ]
        assert all(r.status_code == 200 for r in busy), [r.text for r in busy]
        waiting = second.post(f"{chat.url}/gradio_api/call/ask", json={"data": [QUESTION]})
        assert waiting.status_code == 200, waiting.text[:300]
        event = waiting.json()["event_id"]
        index = next(i for i, fn in chat.demo.fns.items() if fn.api_name == "ask")
        swapped = second.post(
            f"{chat.url}/gradio_api/stream/{event}",
            json={"data": [QUESTION, history, 4, None], "fn_index": index, "session_hash": event},
        )
        closed = second.post(f"{chat.url}/gradio_api/stream/{event}/close")
        for reply in (swapped, closed):
            assert reply.status_code == 404, reply.text[:300]
            assert one_sentence(reply.json()["detail"]), reply.text[:300]
        held_answers.set()
        with second.stream("GET", f"{chat.url}/gradio_api/call/ask/{event}") as events:
            outcome = "".join(events.iter_lines())
        assert "Austin" in outcome and "messages" not in outcome, outcome[:500]


def test_the_custom_components_route_writes_nothing_to_the_log(
    plain: Limited, capfd: pytest.CaptureFixture[str]
) -> None:
    # Found in this pass: Gradio's route for custom components' files printed each request's
    # names to the server's log before answering 404, carriage returns and all: any visitor
    # could write text of their choosing there ("id=x\rINFO: admin logged in from
    # 127.0.0.1", which a terminal shows as that line alone), tens of KB a request. The chat
    # has no custom components: 404 and one sentence, nothing logged.
    forged = "%0DINFO:%20admin%20logged%20in%20from%20127.0.0.1"
    reply = httpx.get(f"{plain.url}/gradio_api/custom_component/x{forged}/client/a/b", timeout=10)
    assert reply.status_code == 404 and one_sentence(reply.json()["detail"]), reply.text[:300]
    time.sleep(0.3)
    assert "admin logged in" not in capfd.readouterr().out


# ---------------------------------------------------------------- HTML that never closes


@pytest.mark.parametrize(
    "markup",
    [
        b"<p>Zebras graze.</p>" + b"<a b\n" * 10_000,  # tags that never end
        b"<p>Zebras graze.</p>" + b"<!--" * 50_000,  # comments that never end
        b"<p>Zebras graze.</p>" + b"<a " * 16_000,  # one tag's attributes, never ended
    ],
    ids=["tags", "comments", "attributes"],
)
def test_a_page_of_markup_that_never_closes_reads_in_linear_time(markup: bytes) -> None:
    # Found in this pass: Python's HTML parser reads a tag or comment that never ends as
    # text, one at a time, each time first searching the rest of the page for its end: a
    # 50 KB .html of "<a b" lines took 16 s to read (a page of "<a " 22 s), 200 KB of
    # "<!--" 18 s, and the 20 MB an upload may be would hold the indexer for days (an
    # e-book's chapters and an e-mail's HTML body are read the same way). Such markup is
    # now written as the text it is read as before the parser sees it.
    from assistant.ingest.html import html_text

    began = time.monotonic()
    text = html_text(markup, "open.html")
    assert time.monotonic() - began < 3
    assert text.startswith("Zebras graze."), text[:100]


def test_an_html_upload_of_unclosed_comments_is_read_at_once(plain: Limited) -> None:
    page = b"<html><body><p>Zebras graze in Kenya at dawn.</p>" + b"<!--" * 50_000
    with httpx.Client(timeout=300) as client:
        sent = client.post(
            f"{plain.url}/gradio_api/upload",
            files=[("files", ("open.html", page, "text/html"))],
        )
        assert sent.status_code == 200, sent.text[:200]
        files = [{"path": p, "meta": {"_type": "gradio.FileData"}} for p in sent.json()]
        began = time.monotonic()
        outcome = _call(client, plain.url, "upload", [files])
        assert "open.html</b> added" in outcome, outcome[:500]
        assert time.monotonic() - began < 10
        answer = _call(client, plain.url, "ask", ["When do zebras graze in Kenya?"])
        assert "dawn" in answer, answer[:500]


def test_the_sweep_of_unsubmitted_uploads_leaves_no_empty_folders(plain: Limited) -> None:
    # Found in this pass: Gradio's sweep deletes an upload nobody submitted once it is 15
    # minutes old, but not the folder it was kept in: a client sending 1,000 small files a
    # request and never submitting them left 1,000 empty folders in the temporary folder
    # every 15 minutes, for as long as the server ran. The sweep (run here as Gradio's
    # schedule runs it) now removes each folder it empties, and only those.
    from gradio import route_utils

    with httpx.Client(timeout=60) as client:
        sent = client.post(
            f"{plain.url}/gradio_api/upload",
            files=[
                ("files", (f"z{i}.txt", f"Zebra {i}.".encode(), "text/plain")) for i in range(20)
            ],
        )
        assert sent.status_code == 200, sent.text[:200]
        paths = [Path(p) for p in sent.json()]
    assert all(p.exists() for p in paths)
    route_utils.delete_files_created_by_app(plain.demo, 0)
    assert not any(p.exists() for p in paths)
    assert not any(p.parent.exists() for p in paths), [p.parent for p in paths]
    assert Path(plain.demo.GRADIO_CACHE).is_dir()


def test_a_page_session_keeps_no_copy_of_the_pages_configuration(tmp_path: Path) -> None:
    # Found in this pass: Gradio gives each page session a copy of the whole page's
    # configuration, for "deep links" the chat does not offer, and keeps up to 10,000
    # sessions, which any client may start by naming them: with 300 documents (whose names
    # the configuration holds) a session that had listed them kept 116 KB, 71 KB of it that
    # copy (measured with tracemalloc). A session now keeps its gr.State values and the
    # components its events changed (49 KB there), not that copy.
    docs = {f"herd-survey-{i:04d}.txt": f"Zebra {i} grazes at dawn." for i in range(300)}
    with _served(tmp_path, documents=docs) as chat:
        for session in ("first", "second"):
            kind, (table, _choices) = _page(chat, "refresh", [], session=session)
            assert kind == "complete" and "herd-survey-0299.txt" in table
            kept = chat.demo.state_holder.session_data[session]
            assert len(kept.config_values) == 0, len(kept.config_values)
            assert list(kept.components) == []


def test_one_address_keeps_a_bounded_number_of_page_sessions(tmp_path: Path) -> None:
    # Found in this pass: Gradio keeps up to 10,000 page sessions under the names their
    # clients give, each with the components its events changed (the documents' list: 49 KB
    # with 300 documents, more with more): one client naming a new session for each cheap
    # page event held them all (gigabytes with a large folder), and pushed every other
    # visitor's session, and the conversation it holds, out. An address now keeps its
    # newest sessions_per_client sessions; another address's are untouched.
    with (
        _served(tmp_path, sessions_per_client=3) as chat,
        _client("127.0.0.1") as first,
        _client("127.0.0.2") as second,
    ):
        index = next(i for i, fn in chat.demo.fns.items() if fn.fn.__name__ == "refresh")

        def list_documents(client: httpx.Client, session: str) -> None:
            body = {"data": [], "fn_index": index, "session_hash": session}
            assert client.post(f"{chat.url}/gradio_api/queue/join", json=body).status_code == 200
            with client.stream(
                "GET", f"{chat.url}/gradio_api/queue/data", params={"session_hash": session}
            ) as events:
                for line in events.iter_lines():
                    if "process_completed" in line:
                        break

        list_documents(second, "theirs")
        for i in range(6):
            list_documents(first, f"mine{i}")
        kept = set(chat.demo.state_holder.session_data)
    assert {"theirs", "mine3", "mine4", "mine5"} <= kept, kept
    assert not kept & {"mine0", "mine1", "mine2"}, kept
