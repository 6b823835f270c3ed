"""The fourth red-team pass on a running web chat: what one visitor's address may hold of the
server (files sent to Gradio's upload route and never submitted, questions in flight) and a
request body trickled a byte at a time, each sent over HTTP as a hostile client would.

The servers here are served as `assistant ui` serves them (the chat mounted on the early
server) with the fake embedder, so these run in seconds. Other addresses are loopback ones
(127.0.0.2, ...), which the server tells apart as it would two visitors.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fakes import fake_bot
from servers import free_port, thread_uvicorn
from test_redteam import one_sentence

from assistant.api import ClientLoad, header_deadline_protocol
from assistant.ui import UploadBudget

QUESTION = "Where does Amazon build custom chips?"


@dataclass
class Limited:
    url: str
    docs: Path
    demo: Any  # the chat's gr.Blocks: its upload folder is demo.GRADIO_CACHE


@contextmanager
def _served(
    root: Path,
    trusted_proxies: str = "",
    documents: dict[str, str] | None = None,
    **limits: Any,
) -> Iterator[Limited]:
    """The web chat as `assistant.ui.serve` serves it, with these Settings (limits) and
    these trusted proxies, over a.txt and `documents` (name -> text) placed in its folder."""
    from assistant.startup import StartupProgress, serve_early
    from assistant.ui import _mounted, build_app

    documents = {"a.txt": "Amazon builds custom chips in Austin.\n", **(documents or {})}
    bot = fake_bot(root, documents, trusted_proxies=trusted_proxies, **limits)
    docs, settings = root / "docs", bot.settings
    port = free_port()
    server = serve_early(
        StartupProgress(lambda _line: None),
        host="127.0.0.1",
        port=port,
        trusted_proxies=trusted_proxies,
    )
    try:
        demo = build_app(bot)
        app, lifespan = _mounted(demo, bot, settings, "127.0.0.1", port, None)
        server.attach(app, lifespan)
        yield Limited(f"http://127.0.0.1:{port}", docs, demo)
    finally:
        server.stop()


def _client(address: str = "127.0.0.1") -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=60)


# ---------------------------------------------------------------- files that wait, unsubmitted

FILE_BYTES = 90_000  # under max_upload_bytes below; the multipart form adds a few hundred


@pytest.fixture
def uploads(tmp_path: Path) -> Iterator[Limited]:
    with _served(
        tmp_path,
        max_upload_bytes=100_000,
        upload_waiting_bytes_per_client=200_000,  # two files from one address
        upload_waiting_bytes=400_000,  # four in all
    ) as served:
        yield served


def _upload(client: httpx.Client, url: str, name: str) -> httpx.Response:
    data = (f"Zebras of {name} graze at dawn. " * 4000).encode()[:FILE_BYTES]
    return client.post(f"{url}/gradio_api/upload", files=[("files", (name, data, "text/plain"))])


def _cached(demo: Any, name: str) -> list[str]:
    """Files called name in the upload folder (shared with other servers, so walked in a way
    that other processes' deletions do not break)."""
    return [
        os.path.join(where, name)
        for where, _dirs, files in os.walk(demo.GRADIO_CACHE)
        if name in files
    ]


def test_files_left_waiting_in_the_upload_folder_are_capped_per_address_and_in_all(
    uploads: Limited,
) -> None:
    # Found in this pass: Gradio's upload route keeps every file it is sent until it is
    # submitted or swept 15 minutes later, with no cap: one visitor sending file after file
    # of the maximum size, never submitting them, filled the disk (under the old code each
    # upload below got 200 and stayed on disk). Now what waits is capped per address and in
    # all, and an upload past the cap is refused before anything is written.
    url, demo = uploads.url, uploads.demo
    with _client("127.0.0.1") as first, _client("127.0.0.2") as second:
        held = [_upload(first, url, f"f{i}.txt") for i in range(2)]
        assert all(r.status_code == 200 for r in held), [r.text[:200] for r in held]
        refused = _upload(first, url, "f2.txt")
        assert refused.status_code == 413, refused.text[:200]
        message = refused.text  # plain text: the page shows it as it is
        assert one_sentence(message) and "your address" in message, message
        assert _cached(demo, "f2.txt") == []  # nothing of the refused upload was written
        # Another visitor is not held back by the first one's files...
        assert _upload(second, url, "g0.txt").status_code == 200
        with _client("127.0.0.3") as third:
            assert _upload(third, url, "h0.txt").status_code == 200
            # ...until the server as a whole holds its cap.
            full = _upload(third, url, "h1.txt")
        assert full.status_code == 413, full.text[:200]
        assert one_sentence(full.text) and "server" in full.text, full.text

        # Submitted files leave the upload folder, and with them the address's share.
        files = [
            {"path": path, "meta": {"_type": "gradio.FileData"}}
            for reply in held
            for path in reply.json()
        ]
        started = first.post(f"{url}/gradio_api/call/upload", json={"data": [files]})
        assert started.status_code == 200, started.text[:200]
        event = started.json()["event_id"]
        with first.stream("GET", f"{url}/gradio_api/call/upload/{event}") as events:
            outcome = "".join(events.iter_lines())
        assert "added" in outcome, outcome[:300]
        assert _upload(first, url, "f3.txt").status_code == 200
        # Nor does Gradio remember them for as long as the server runs (it did).
        assert not {f["path"] for f in files} & demo.upload_file_set
    assert sorted(p.name for p in uploads.docs.iterdir()) == ["a.txt", "f0.txt", "f1.txt"]


def test_an_upload_that_does_not_say_its_size_is_refused(uploads: Limited) -> None:
    # A chunked body declares no size, so the cap could only be checked once written.
    body = iter([b"--x\r\nContent-Disposition: form-data; name=files; filename=a.txt\r\n\r\n"])
    reply = httpx.post(
        f"{uploads.url}/gradio_api/upload",
        content=body,
        headers={"content-type": "multipart/form-data; boundary=x"},
        timeout=30,
    )
    assert reply.status_code == 411, reply.text[:200]
    assert one_sentence(reply.text), reply.text


def test_upload_budget_counts_files_until_they_leave_the_disk(tmp_path: Path) -> None:
    budget = UploadBudget(total=300, per_client=200, files=3)
    kept = tmp_path / "kept.txt"
    kept.write_bytes(b"x" * 150)
    assert budget.refusal("a", 150) is None
    budget.reserve("a", 160)  # declared: the file and its form's few extra bytes
    budget.settle("a", 160, [str(kept), str(tmp_path / "never-written.txt")])
    assert budget.refusal("a", 60) is not None  # 150 + 60 > 200
    assert budget.refusal("b", 140) is None  # 150 + 140 <= 300
    assert budget.refusal("b", 160) is not None  # over the total
    kept.unlink()  # submitted, or swept: it no longer counts
    assert budget.refusal("a", 190) is None
    for name in ("1", "2", "3"):
        small = tmp_path / name
        small.write_bytes(b"y")
        budget.settle("c", 0, [str(small)])
    assert budget.refusal("c", 1) is not None  # three files wait: the count is capped too


# ---------------------------------------------------------------- questions in flight


@pytest.fixture
def questions(tmp_path: Path) -> Iterator[Limited]:
    with _served(tmp_path, questions_per_client=2) as served:
        yield served


def _join_ask(client: httpx.Client, url: str) -> httpx.Response:
    return client.post(f"{url}/gradio_api/call/ask", json={"data": [QUESTION]})


def _result(client: httpx.Client, url: str, started: httpx.Response) -> str:
    event = started.json()["event_id"]
    with client.stream("GET", f"{url}/gradio_api/call/ask/{event}") as events:
        return "".join(events.iter_lines())


def test_one_address_cannot_queue_ahead_of_everyone_else(
    held_answers: threading.Event, questions: Limited
) -> None:
    # Found in this pass: one client sending 60 questions at once queued them all ahead of
    # everyone else (another visitor's answer waited 2.9 s). Now an address with its limit
    # of questions in flight is refused one more at once, on /ask, the page and /v1 alike.
    url = questions.url
    v1 = {"model": "assistant", "messages": [{"role": "user", "content": QUESTION}]}
    with _client("127.0.0.1") as first, _client("127.0.0.2") as second:
        accepted = [_join_ask(first, url) for _ in range(2)]
        assert [r.status_code for r in accepted] == [200, 200], [r.text for r in accepted]
        refused = _join_ask(first, url)
        assert refused.status_code == 429, refused.text[:200]
        message = refused.json()["detail"]
        assert one_sentence(message) and "2 questions being answered" in message, message
        page = first.post(
            f"{url}/gradio_api/queue/join",
            json={"data": [QUESTION, [], [], 4, None], "fn_index": 0, "session_hash": "s"},
        )
        assert page.status_code == 429, page.text[:200]
        openai = first.post(f"{url}/v1/chat/completions", json=v1)
        assert openai.status_code == 429, openai.text[:200]
        assert openai.json()["error"]["message"] == message
        # Another address is not refused, and its question is answered once the machine is.
        other = _join_ask(second, url)
        assert other.status_code == 200, other.text[:200]
        held_answers.set()
        assert "Austin" in _result(second, url, other)
        for reply in accepted:
            assert "Austin" in _result(first, url, reply)
        # Answered questions no longer count: the address may ask again, /v1 included.
        again = first.post(f"{url}/v1/chat/completions", json=v1)
        assert again.status_code == 200 and "Austin" in again.text, again.text[:200]
        assert "Austin" in _result(first, url, _join_ask(first, url))


def test_a_streamed_v1_answer_counts_until_it_ends(
    monkeypatch: pytest.MonkeyPatch, questions: Limited
) -> None:
    from assistant import Assistant

    release = threading.Event()
    original = Assistant.stream

    def stalled(self: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        pieces = original(self, *args, **kwargs)
        yield next(pieces)  # the stream starts, then stalls mid-answer
        release.wait(60)
        yield from pieces

    monkeypatch.setattr(Assistant, "stream", stalled)
    url = questions.url
    body = {
        "model": "assistant",
        "messages": [{"role": "user", "content": QUESTION}],
        "stream": True,
    }
    try:
        with _client() as client:
            with client.stream("POST", f"{url}/v1/chat/completions", json=body) as one:
                with client.stream("POST", f"{url}/v1/chat/completions", json=body) as two:
                    assert one.status_code == two.status_code == 200
                    third = client.post(f"{url}/v1/chat/completions", json=body)
                    assert third.status_code == 429, third.text[:200]
                    release.set()
                    assert "[DONE]" in "".join(two.iter_lines())
                assert "[DONE]" in "".join(one.iter_lines())
            after = client.post(f"{url}/v1/chat/completions", json=body)
            assert after.status_code == 200 and "[DONE]" in after.text
    finally:
        release.set()


def test_client_load_counts_each_address_apart() -> None:
    load = ClientLoad(2)
    assert load.enter("a") and load.enter("a") and not load.enter("a")
    load.leave("a")
    assert load.enter("a") and load.count("a") == 2 and load.count("b") == 0
    queued = {"b": 1}
    elsewhere = ClientLoad(2, queued=lambda address: queued.get(address, 0))
    assert elsewhere.enter("b") and not elsewhere.enter("b")  # one held in the queue
    assert elsewhere.enter("c") and elsewhere.count("b") == 2
    assert all(ClientLoad(0).enter("a") for _ in range(100))  # 0: no limit


# ---------------------------------------------------------------- a trickled body


async def _echo_length(scope: Any, receive: Any, send: Any) -> None:
    """An ASGI app that reads the whole body and answers its length."""
    if scope["type"] != "http":
        return
    size, more = 0, True
    while more:
        message = await receive()
        size += len(message.get("body", b""))
        more = message["type"] == "http.request" and bool(message.get("more_body"))
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(size).encode()})


@pytest.fixture
def body_server() -> Iterator[int]:
    with thread_uvicorn(
        _echo_length, http=header_deadline_protocol(1.0, body_rate=500), lifespan="off"
    ) as port:
        yield port


def test_a_body_trickled_a_byte_at_a_time_is_closed(body_server: int) -> None:
    # Found in this pass: headers sent at once, then a body of one byte a second, held a
    # connection (a file descriptor) for as long as the client liked; thousands of them
    # left the server unable to accept anyone. Under the old code these stayed open.
    held = [socket.create_connection(("127.0.0.1", body_server)) for _ in range(20)]
    head = b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n"
    for sock in held:
        sock.sendall(head)
    started = time.monotonic()
    try:
        closed: set[int] = set()
        while len(closed) < len(held) and time.monotonic() - started < 6:
            for i, sock in enumerate(held):
                if i in closed:
                    continue
                try:
                    sock.sendall(b"a")
                except OSError:
                    closed.add(i)
                    continue
                sock.setblocking(False)
                try:
                    if sock.recv(100) == b"":
                        closed.add(i)
                except BlockingIOError:
                    pass
                except OSError:
                    closed.add(i)
                sock.setblocking(True)
            time.sleep(0.2)
        assert len(closed) == len(held), f"{len(held) - len(closed)} trickled bodies still open"
        assert time.monotonic() - started < 4
    finally:
        for sock in held:
            sock.close()


def test_a_body_sent_at_a_fair_rate_may_take_longer_than_the_deadline(body_server: int) -> None:
    def parts() -> Iterator[bytes]:
        for _ in range(12):  # 12 KB over about 2.4 s: ten times the minimum rate
            time.sleep(0.2)
            yield b"b" * 1000

    reply = httpx.post(f"http://127.0.0.1:{body_server}/", content=parts(), timeout=30)
    assert reply.status_code == 200 and reply.text == "12000"
    sized = httpx.post(f"http://127.0.0.1:{body_server}/", content=b"c" * 5000, timeout=30)
    assert sized.text == "5000"  # a body with its headers, and a kept-alive connection


# ---------------------------------------------------------------- streams held open


def test_one_address_cannot_hold_open_streams_without_end(tmp_path: Path) -> None:
    # Found in this pass: Gradio's heartbeat route is an event stream that stays open for as
    # long as the client likes; one client opening 2,000 of them made another visitor's page
    # config take 5 to 11 s (on 2 busy cores) and held 2,000 file descriptors. Now an address
    # has at most requests_per_client requests open; one more gets 429 and one sentence.
    with _served(tmp_path, requests_per_client=5) as served:
        url = served.url
        with _client("127.0.0.1") as first, _client("127.0.0.2") as second:
            streams = [
                first.send(
                    first.build_request("GET", f"{url}/gradio_api/heartbeat/s{i}"), stream=True
                )
                for i in range(5)
            ]
            try:
                assert all(s.status_code == 200 for s in streams)
                refused = first.get(f"{url}/gradio_api/heartbeat/s5", timeout=10)
                assert refused.status_code == 429, refused.text[:200]
                assert one_sentence(refused.json()["detail"]), refused.text
                assert first.get(f"{url}/config").status_code == 429
                assert second.get(f"{url}/config").status_code == 200  # another address
            finally:
                for stream in streams:
                    stream.close()
            deadline = time.monotonic() + 20  # the server notices the closed streams
            while first.get(f"{url}/config").status_code != 200:
                assert time.monotonic() < deadline, "closed streams still count"
                time.sleep(0.2)


@pytest.fixture
def capped_server() -> Iterator[int]:
    with thread_uvicorn(
        _echo_length, http=header_deadline_protocol(5.0, per_peer=20), lifespan="off"
    ) as port:
        yield port


def test_one_address_cannot_open_connections_without_end(capped_server: int) -> None:
    # Found in this pass: the deadlines close a quiet connection after 20 s, but a client
    # opening new ones faster than that held as many file descriptors as it liked (the
    # process has 20,000 here); at the limit the server can accept no one. Now a peer
    # address with its cap of connections open has the next one answered and closed.
    held = [socket.create_connection(("127.0.0.1", capped_server)) for _ in range(20)]
    try:
        extra = socket.create_connection(("127.0.0.1", capped_server))
        extra.settimeout(5)
        answer = extra.recv(1000)
        extra.close()
        assert answer.startswith(b"HTTP/1.1 429"), answer
        assert b"too many connections open" in answer
        other = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"))
        assert other.post(f"http://127.0.0.1:{capped_server}/", content=b"x").text == "1"
    finally:
        for sock in held:
            sock.close()
    deadline = time.monotonic() + 10  # closed ones no longer count
    while True:
        try:
            reply = httpx.post(f"http://127.0.0.1:{capped_server}/", content=b"xy", timeout=5)
            if reply.text == "2":
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "closed connections still count"
        time.sleep(0.1)


def test_trusted_proxies_are_not_capped() -> None:
    from assistant.api import _exempt_peers

    assert _exempt_peers("10.0.0.0/8, 192.168.1.5")("10.1.2.3")
    assert _exempt_peers("10.0.0.0/8, 192.168.1.5")("192.168.1.5")
    assert not _exempt_peers("10.0.0.0/8")("127.0.0.1")
    assert not _exempt_peers("")("203.0.113.9") and _exempt_peers("*")("203.0.113.9")


# ---------------------------------------------------------------- values of the wrong kind


def _page_event(url: str, name: str) -> int:
    config = httpx.get(f"{url}/config", timeout=30).json()
    return next(i for i, d in enumerate(config["dependencies"]) if d.get("api_name") == name)


@pytest.mark.parametrize(
    ("place", "value", "said"),
    [
        (3, "abc", "k must be a number from 1 to 10"),
        (3, 1e308, "k must be a number from 1 to 10"),
        (3, True, "k must be a number"),
        (0, None, "question must be text"),
        (0, ["a"], "question must be text"),
        (1, "x", "chat must be a list of chat messages"),
        (1, [{"role": "user", "content": {"a": 1}}], "chat must be a list of chat messages"),
        (4, "nonexistent", "mode must be one of extractive"),
    ],
)
def test_a_page_value_of_the_wrong_kind_is_one_sentence_and_no_traceback(
    plain: Limited, capfd: pytest.CaptureFixture[str], place: int, value: Any, said: str
) -> None:
    # Found in this pass: Gradio answered each of these with a many-line error and wrote a
    # 45-line traceback to the server's log (a question of None failed in our handler with
    # another), so a visitor sending them in a loop filled the disk.
    data: list[Any] = [QUESTION, [], [], 4, None]
    data[place] = value
    body = {"data": data, "fn_index": _page_event(plain.url, "respond"), "session_hash": "h"}
    reply = httpx.post(f"{plain.url}/gradio_api/queue/join", json=body, timeout=30)
    assert reply.status_code == 400, reply.text[:300]
    message = reply.json()["detail"]
    assert one_sentence(message) and said in message, message
    time.sleep(0.5)  # anything Gradio would print comes by now
    assert "Traceback" not in capfd.readouterr().err


def test_the_values_the_page_sends_still_pass(plain: Limited) -> None:
    from servers import page_call

    chat = [  # as the page holds them: content in parts
        {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "<b>Hello</b>"}]},
    ]
    index = _page_event(plain.url, "respond")
    kind, outputs = page_call(plain.url, index, [QUESTION, chat, [], 4.0, "extractive"])
    assert kind == "complete" and "Austin" in json.dumps(outputs[1]), outputs


# ---------------------------------------------------------------- another site's page


def test_a_page_from_another_site_cannot_post_to_the_chat(plain: Limited) -> None:
    # Found in this pass: a web page the user opens could make the browser post files to
    # the upload route (a form post needs no permission; each got 200 and stayed in the
    # upload folder, up to the user's own cap) and questions to /v1 as text/plain (answered).
    # Browsers mark such requests "Sec-Fetch-Site: cross-site"; they now get 403.
    url = plain.url
    cross = {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}
    note = [("files", ("x.txt", b"Zebras graze at dawn.", "text/plain"))]
    refused = httpx.post(f"{url}/gradio_api/upload", files=note, headers=cross)
    assert refused.status_code == 403, refused.text[:200]
    assert one_sentence(refused.json()["detail"])
    v1 = b'{"model": "assistant", "messages": [{"role": "user", "content": "Where?"}]}'
    text = {**cross, "content-type": "text/plain"}
    assert httpx.post(f"{url}/v1/chat/completions", content=v1, headers=text).status_code == 403
    # The chat's own page (same origin) and programs (no such header) pass.
    own = httpx.post(
        f"{url}/gradio_api/upload", files=note, headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert own.status_code == 200, own.text[:200]
    assert httpx.post(f"{url}/gradio_api/upload", files=note).status_code == 200
    assert (
        httpx.get(f"{url}/config", headers=cross).status_code == 200
    )  # reading is the browser's to allow


# ---------------------------------------------------------------- a huge history


def test_a_huge_history_is_cut_before_gradio_reads_it(plain: Limited) -> None:
    # Found in this pass: /ask with a 7 MB history of 250,000 empty messages took 9.5 s of
    # the server's time and 200 MB (Gradio reads and copies it several times before the bot
    # keeps its last few); now it is cut to its last 100 messages first: 1.6 s and 36 MB
    # (2 busy shared cores). The answer still says older messages were left out.
    history = [{"role": "user", "content": ""}] * 250_000
    with _client() as client:
        started = client.post(
            f"{plain.url}/gradio_api/call/ask", json={"data": [QUESTION, history]}
        )
        assert started.status_code == 200, started.text[:200]
        outcome = _result(client, plain.url, started)
    assert "Austin" in outcome and "Only the" in outcome, outcome[:400]


def test_recent_history_keeps_the_last_messages_of_ask_only() -> None:
    from assistant.ui import _HISTORY_SENT, CallShape, _recent_history

    ask = CallShape(
        "The /ask endpoint", ("question", "history", "k", "mode"), ("", None, None, None)
    )
    messages = [{"role": "user", "content": str(i)} for i in range(_HISTORY_SENT + 50)]
    cut = _recent_history(ask, ["Who?", messages, None, None])
    assert cut[0] == "Who?" and cut[1] == messages[-_HISTORY_SENT:] and cut[2:] == [None, None]
    short = ["Who?", messages[:3], None, None]
    assert _recent_history(ask, short) is short
    page = CallShape("The page's event 0", ("question", "history"), ("", None))
    assert _recent_history(page, ["Who?", messages])[1] is messages
