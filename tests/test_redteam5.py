"""The fifth red-team pass on a running web chat: conversations sent by every route Gradio
offers, page events named loosely or through its direct /run route, clients spread over an
IPv6 /64, an upload and a removal of the same document at once, and a document of blank
lines that stalled every question retrieving it; each sent over HTTP as a hostile client
would.

The servers here are served as `assistant ui` serves them (the chat mounted on the early
server) with the fake embedder, so these run in seconds.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from servers import page_call
from test_redteam import one_sentence
from test_redteam4 import (
    QUESTION,
    Limited,
    _cached,
    _client,
    _page_event,
    _result,
    _served,
)

from assistant.api import address_group, client_address
from assistant.ingest.chunking import split_sentences


def _call(client: httpx.Client, url: str, api: str, data: list[Any]) -> str:
    started = client.post(f"{url}/gradio_api/call/{api}", json={"data": data})
    assert started.status_code == 200, started.text[:300]
    event = started.json()["event_id"]
    with client.stream("GET", f"{url}/gradio_api/call/{api}/{event}") as events:
        return "".join(events.iter_lines())


# ---------------------------------------------------------------- conversations, every route


def test_a_history_sent_by_name_is_cut_as_one_sent_in_order(plain: Limited) -> None:
    # Found in this pass: /call/v2/ask, Gradio's route that takes values by name, handed a
    # history of 250,000 messages on whole (3.5 s of the server's time and 200 MB, where the
    # same history by /call/ask took 1.1 s). The answer's note says how many messages reached
    # the bot: now the last 100, whichever route they came by.
    history = [{"role": "user", "content": "Tell me about chips."}] * 20_000
    with _client() as client:
        by_name = client.post(
            f"{plain.url}/gradio_api/call/v2/ask", json={"question": QUESTION, "history": history}
        )
        assert by_name.status_code == 200, by_name.text[:300]
        named = _result(client, plain.url, by_name)
        in_order = _call(client, plain.url, "ask", [QUESTION, history])
    for outcome in (named, in_order):
        assert "Austin" in outcome and "of 100 messages" in outcome, outcome[:500]


def test_the_pages_chat_and_saved_conversation_are_cut_before_gradio_reads_them(
    plain: Limited,
) -> None:
    # Found in this pass: the page sends its whole chat with each question, and Gradio
    # validates, copies and sends back all of it: a chat of 100,000 messages (4 MB) took 26 s
    # of the server's time, and the same as the conversation saved in the browser 11 s. Now
    # the chat is cut to its last 300 messages (a long session's screen) and the saved one to
    # the 60 the page saves: 3 s and 0.8 s.
    message = {"role": "user", "content": [{"type": "text", "text": "An earlier question"}]}
    chat = [message] * 2_000
    respond = _page_event(plain.url, "respond")
    kind, outputs = page_call(plain.url, respond, [QUESTION, chat, [], 4, None])
    assert kind == "complete", outputs
    shown = outputs[1]
    assert 300 <= len(shown) <= 303 and "Austin" in json.dumps(shown[-3:]), len(shown)
    restore = _page_event(plain.url, "restore")
    # Sealed as the server seals what it saves (red team 13): the 60 messages it would keep,
    # so the conversation is restored once cut to them before Gradio reads it.
    from assistant.ui import _SAVED_MESSAGES, _seal

    key = bytes.fromhex((plain.docs.parent / "index" / "chat-seal.key").read_text().strip())
    saved = {"chat": chat, "history": [], "seal": _seal(key, chat[-_SAVED_MESSAGES:], [])}
    kind, outputs = page_call(plain.url, restore, [saved])
    assert kind == "complete" and len(outputs[0]) == 60, (kind, len(outputs[0]))


@pytest.mark.parametrize("index", ["0", 0.0, True])
def test_a_page_event_named_loosely_is_checked_like_any_other(
    plain: Limited, capfd: pytest.CaptureFixture[str], index: Any
) -> None:
    # Found in this pass: Gradio reads fn_index leniently ("0", 0.0 and true all call event
    # 0), and the checks before it keyed on the number: such a request skipped them all (the
    # values' kinds, the chat's length, the address's questions in flight), and a value of
    # the wrong kind wrote a 40-line traceback to the log again.
    body = {"data": [QUESTION, "x", [], 4, None], "fn_index": index, "session_hash": "h"}
    reply = httpx.post(f"{plain.url}/gradio_api/queue/join", json=body, timeout=30)
    assert reply.status_code == 400, reply.text[:300]
    assert one_sentence(reply.json()["detail"]), reply.text
    time.sleep(0.5)
    assert "Traceback" not in capfd.readouterr().err


def test_the_direct_route_cannot_run_another_event_or_skip_the_queue(plain: Limited) -> None:
    # Found in this pass: Gradio's /run/NAME route calls a handler at once, past the queue's
    # limits (one document change at a time, four answers at once), and takes the fn_index
    # in its body over NAME: /run/ask, its values checked as a question, ran the remove
    # button's handler and deleted a.txt. The direct routes are closed now; /call and the
    # queue, which gradio_client and the page use, remain.
    remove = _page_event(plain.url, "remove")
    reply = httpx.post(
        f"{plain.url}/gradio_api/run/ask", json={"data": ["a.txt"], "fn_index": remove}, timeout=30
    )
    assert reply.status_code == 404, reply.text[:300]
    assert (plain.docs / "a.txt").exists()
    with _client() as client:
        assert "a.txt" in _call(client, plain.url, "sources", [])
        assert "Austin" in _call(client, plain.url, "ask", [QUESTION])


# ---------------------------------------------------------------- one client, many addresses


def test_address_group_counts_an_ipv6_64_as_one_client() -> None:
    assert address_group("2001:db8:1:2:aaaa::1") == address_group("2001:db8:1:2:ffff::9")
    assert address_group("2001:db8:1:2::1") != address_group("2001:db8:1:3::1")
    assert address_group("::ffff:203.0.113.9") == "203.0.113.9" == address_group("203.0.113.9")
    assert address_group("unknown") == "unknown"
    assert client_address({"client": ("2001:db8::7", 1)}) == "2001:db8::/64"


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[Limited]:
    """A chat behind a reverse proxy on this machine, which names each client."""
    with _served(tmp_path, trusted_proxies="127.0.0.1", questions_per_client=2) as served:
        yield served


def test_one_client_cannot_spread_its_questions_over_an_ipv6_64(
    held_answers: threading.Event, proxied: Limited
) -> None:
    # Found in this pass: each IPv6 address had its own budget, and a client is given a
    # whole /64 (2**64 addresses), so one client had as many questions in flight (and
    # uploads waiting, requests open, login tries) as it liked. Now a /64 counts as one
    # address, and an IPv4 address counts the same written IPv4-mapped.
    def ask(address: str) -> httpx.Response:
        return httpx.post(
            f"{proxied.url}/gradio_api/call/ask",
            json={"data": [QUESTION]},
            headers={"X-Forwarded-For": address},
            timeout=30,
        )

    accepted = [ask("2001:db8::1"), ask("2001:db8::2")]
    assert [r.status_code for r in accepted] == [200, 200], [r.text[:200] for r in accepted]
    refused = ask("2001:db8::abcd:1")
    assert refused.status_code == 429, refused.text[:200]
    assert one_sentence(refused.json()["detail"])
    assert ask("2001:db8:0:1::1").status_code == 200  # another /64: another client
    assert [ask("198.51.100.7").status_code, ask("198.51.100.7").status_code] == [200, 200]
    assert ask("::ffff:198.51.100.7").status_code == 429
    held_answers.set()


# ---------------------------------------------------------------- upload and remove at once


def _upload_files(client: httpx.Client, url: str, name: str, text: str) -> list[dict[str, Any]]:
    sent = client.post(
        f"{url}/gradio_api/upload", files=[("files", (name, text.encode(), "text/plain"))]
    )
    assert sent.status_code == 200, sent.text[:200]
    return [{"path": path, "meta": {"_type": "gradio.FileData"}} for path in sent.json()]


def _page_events(url: str, session: str, calls: list[tuple[int, list[Any]]]) -> None:
    """Run page events one after the other in one page session (whose state they share)."""
    with httpx.Client(timeout=60) as client:
        for index, data in calls:
            body = {"data": data, "fn_index": index, "session_hash": session}
            joined = client.post(f"{url}/gradio_api/queue/join", json=body)
            assert joined.status_code == 200, joined.text[:300]
            with client.stream(
                "GET", f"{url}/gradio_api/queue/data", params={"session_hash": session}
            ) as events:
                for line in events.iter_lines():
                    if '"process_completed"' in line:
                        assert '"success": true' in line or '"success":true' in line, line
                        break


def test_a_document_being_uploaded_again_is_not_removed_meanwhile(
    monkeypatch: pytest.MonkeyPatch, plain: Limited
) -> None:
    # Found in this pass: a big upload is indexed in a child process, which the server's own
    # lock does not hold back; removing the document it replaces meanwhile deleted the file
    # the child had just written (the page then said "added" for a document that was gone),
    # or was undone when the child, failing, put the old file back. Here the upload is held
    # in the server (as a child's long indexing would be): the removal of its name is now
    # refused in one sentence, and the upload lands.
    from assistant import Assistant

    release, started = threading.Event(), threading.Event()
    original = Assistant.add_document

    def slow(self: Any, *args: Any, **kwargs: Any) -> Any:
        started.set()
        release.wait(60)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Assistant, "add_document", slow)
    url = plain.url
    try:
        with _client() as client:
            files = _upload_files(client, url, "a.txt", "Amazon builds custom chips in Dallas.\n")
            session = uuid.uuid4().hex
            upload, replace = _page_event(url, "upload_page"), _page_event(url, "replace_held")
            # The page: the upload would replace a.txt, so it asks; the visitor says replace.
            _page_events(url, session, [(upload, [files, None]), (replace, [None, None])])
            assert started.wait(30), "the replacement never reached the indexer"
            refused = _call(client, url, "remove", ["a.txt"])
            assert "being uploaded right now" in refused, refused[:300]
            release.set()
            deadline = time.monotonic() + 30
            while "Dallas" not in _call(client, url, "ask", [QUESTION]):
                assert time.monotonic() < deadline, "the replacement was not indexed"
                time.sleep(0.2)
            assert "removed" in _call(client, url, "remove", ["a.txt"])  # once it is in
    finally:
        release.set()
    assert not (plain.docs / "a.txt").exists()


def test_uploads_and_removals_of_one_name_at_once_leave_the_folder_and_index_agreeing(
    plain: Limited,
) -> None:
    # Probed in this pass: two uploads and two removals of one name at once, six times over,
    # from separate clients. Nothing indexed is lost (a.txt stays), and what the folder
    # holds is exactly what the index lists: no stray or half-written file is left.
    url, name = plain.url, f"race-{uuid.uuid4().hex[:8]}.txt"  # the upload folder is shared
    problems: list[str] = []

    def upload(i: int) -> None:
        with _client() as client:
            files = _upload_files(client, url, name, f"Zebras number {i} graze at dawn.\n")
            outcome = _call(client, url, "upload", [files])
            if "event: complete" not in outcome:
                problems.append(outcome[:300])

    def remove(_i: int) -> None:
        with _client() as client:
            outcome = _call(client, url, "remove", [name])
            if "event: complete" not in outcome:
                problems.append(outcome[:300])

    for round_ in range(6):
        threads = [
            threading.Thread(target=job, args=(round_ * 10 + j,))
            for job in (upload, remove)
            for j in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    assert problems == []
    with _client() as client:
        sources = json.loads(_call(client, url, "sources", []).split("data: ", 1)[1])[0]
        assert "Austin" in _call(client, url, "ask", [QUESTION])
    listed = {s["source"] for s in sources}
    on_disk = set(os.listdir(plain.docs))
    assert "a.txt" in listed and listed == on_disk, (listed, on_disk)
    assert _cached(plain.demo, name) == []  # no upload's temporary copy is left behind


# ---------------------------------------------------------------- a document of blank lines


def test_sentences_of_a_megabyte_of_blank_lines_split_in_linear_time() -> None:
    text = "Zebras graze at dawn." + "\n" * 1_000_000 + "Amazon builds chips."
    started = time.perf_counter()
    spans = split_sentences(text)
    assert time.perf_counter() - started < 2.0  # 5 s before, on 2 busy shared cores
    assert [text[a:b] for a, b in spans] == ["Zebras graze at dawn.", "Amazon builds chips."]
    spaced = "Zebras graze at dawn. " + " " * 4_000_000 + "Amazon builds chips."
    started = time.perf_counter()
    assert len(split_sentences(spaced)) == 2
    assert time.perf_counter() - started < 2.0


def test_a_document_of_blank_lines_does_not_stall_the_questions_that_find_it(
    plain: Limited,
) -> None:
    # Found in this pass: space has no word pieces, so a chunk may hold megabytes of blank
    # lines, and every question that retrieved it split them again, one line at a time in
    # Python: with a 2 MB upload of blank lines around one sentence, each question about it
    # took 34 s of the server's time (17 s a megabyte, on 2 busy shared cores). Now 0.5 s.
    url = plain.url
    text = "Zebras graze at dawn near the river.\n" + "\n" * 2_000_000 + "The end of the notes.\n"
    with _client() as client:
        files = _upload_files(client, url, "blank.txt", text)
        assert "added" in _call(client, url, "upload", [files])
        started = time.monotonic()
        outcome = _call(client, url, "ask", ["Where do zebras graze at dawn?"])
        took = time.monotonic() - started
    assert "river" in outcome, outcome[:300]
    assert took < 8, f"the question took {took:.1f} s"


# ---------------------------------------------------------------- what the page may load


def test_no_other_site_may_frame_the_chat_and_the_page_loads_nothing_from_outside(
    plain: Limited,
) -> None:
    # Found in this pass: the page sent no Content-Security-Policy and no X-Frame-Options,
    # so another site's page could show the chat in a frame; the chat's requests from inside
    # it are same-origin (the cross-site check passes them), and a page laid over it could
    # lead a visitor into pressing "Delete file". Every response now forbids framing, and the
    # page may load images and media from this server only, whatever a document says.
    url = plain.url
    hostile = (
        "Zebras graze at dawn beside the old mill. ![x](http://evil.example/a.png) "
        '<img src="http://evil.example/b.png"> <iframe src="http://evil.example/"></iframe>\n'
    )
    with _client() as client:
        files = _upload_files(client, url, "hostile.txt", hostile)
        assert "added" in _call(client, url, "upload", [files])
        for path in ("/", "/config", "/gradio_api/info"):
            headers = client.get(f"{url}{path}").headers
            policy = headers.get("content-security-policy", "")
            assert "frame-ancestors 'none'" in policy, (path, policy)
            assert "img-src 'self' data: blob:" in policy and "object-src 'none'" in policy
            assert headers.get("x-frame-options") == "DENY"
    kind, outputs = page_call(
        url, _page_event(url, "respond"), ["Where do zebras graze at dawn?", [], [], 4, None]
    )
    assert kind == "complete", outputs
    shown = json.dumps(outputs[1])
    assert "old mill" in shown and "evil.example" in shown, shown[:500]
    assert "<img" not in shown and "<iframe" not in shown  # shown as text, escaped


# ---------------------------------------------------------------- files, and the log


def test_a_file_of_another_type_is_refused_without_a_traceback(
    plain: Limited, capfd: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Found in this pass: a file of a type the chat does not read, sent to /upload, was
    # refused by Gradio with a 31-line traceback in the server's log for each request, so a
    # visitor sending them in a loop filled the disk. The caller still gets Gradio's message.
    with _client() as client:
        sent = client.post(
            f"{plain.url}/gradio_api/upload",
            files=[("files", ("setup.exe", b"MZ\x90\x00" * 64, "application/octet-stream"))],
        )
        files = [{"path": path, "meta": {"_type": "gradio.FileData"}} for path in sent.json()]
        outcome = _call(client, plain.url, "upload", [files])
    assert "event: error" in outcome and "Invalid file type" in outcome, outcome[:300]
    assert sorted(p.name for p in plain.docs.iterdir()) == ["a.txt"]
    time.sleep(0.5)
    assert "Traceback" not in capfd.readouterr().err


def test_remote_file_path_finds_paths_outside_the_upload_folder(tmp_path: Path) -> None:
    from assistant.ui import remote_file_path

    folder = tmp_path / "gradio"
    (folder / "ab").mkdir(parents=True)
    (folder / "ab" / "a.txt").write_text("x", encoding="utf-8")
    (folder / "ab" / "link.txt").symlink_to("/etc/hostname")
    inside = {"path": str(folder / "ab" / "a.txt")}
    assert remote_file_path({"data": [inside]}, folder) is None
    for path in ("/etc/passwd", f"{folder}/../secret.txt", str(folder / "ab" / "link.txt")):
        assert remote_file_path({"data": [[inside, {"path": path}]]}, folder) == path
    assert remote_file_path({"data": [{"path": "/etc/passwd"}]}) is None  # no folder given


def test_a_value_of_the_wrong_kind_sent_by_name_is_one_sentence_and_no_traceback(
    plain: Limited, capfd: pytest.CaptureFixture[str]
) -> None:
    # Found in this pass: values sent by name (/call/v2/NAME) were not checked as values
    # sent in order are: "files": "x" wrote a 30-line traceback to the log for each request.
    reply = httpx.post(f"{plain.url}/gradio_api/call/v2/upload", json={"files": "x"}, timeout=30)
    assert reply.status_code == 400, reply.text[:300]
    message = reply.json()["detail"]
    assert one_sentence(message) and "files must be files" in message, message
    time.sleep(0.5)
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.parametrize("route", ["process_recording", "component_server", "component_server/"])
def test_routes_of_components_the_chat_lacks_are_not_served(
    plain: Limited, capfd: pytest.CaptureFixture[str], route: str
) -> None:
    # Found in this pass: Gradio's screen-recording route takes any video a visitor posts
    # and runs ffmpeg on it where ffmpeg is installed (a crafted file keeps it busy), and its
    # component-function route answered an unknown component with a traceback in the log.
    # The chat has neither kind of component: both get 404 and one sentence.
    video = [("video", ("a.mp4", b"\x00\x00\x00\x18ftypmp42" * 100, "video/mp4"))]
    recorded = httpx.post(f"{plain.url}/gradio_api/{route}", files=video, timeout=30)
    called = httpx.post(
        f"{plain.url}/gradio_api/{route}",
        json={"session_hash": "x", "component_id": 99999, "fn_name": "x", "data": 1},
        timeout=30,
    )
    for reply in (recorded, called):
        assert reply.status_code == 404, reply.text[:300]
        assert one_sentence(reply.json()["detail"]), reply.text[:300]
    time.sleep(0.5)
    assert "Traceback" not in capfd.readouterr().err


def test_a_big_request_is_checked_off_the_event_loop(
    plain: Limited, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Found in this pass: the checks before Gradio parsed each request's JSON in the server's
    # event loop, where every other request waits: one client posting 6 MB conversations
    # from 8 connections made another visitor's request wait 3.4 s (now 1.8 s, on 2 busy
    # shared cores: the parse still holds Python's lock, but no longer the loop's turn).
    import asyncio

    import assistant.ui as ui

    in_loop: list[bool] = []
    original = ui.remote_file_path

    def recording(payload: Any, folder: Any = None) -> str | None:
        try:
            asyncio.get_running_loop()
            in_loop.append(True)
        except RuntimeError:
            in_loop.append(False)
        return original(payload, folder)

    monkeypatch.setattr(ui, "remote_file_path", recording)
    history = [{"role": "user", "content": "Tell me about chips."}] * 5_000  # about 250 KB
    with _client() as client:
        assert "Austin" in _call(client, plain.url, "ask", [QUESTION])
        assert "Austin" in _call(client, plain.url, "ask", [QUESTION, history])
    assert in_loop == [True, False]  # the small request in the loop, the big one beside it


def test_upload_progress_for_made_up_ids_is_not_kept(plain: Limited) -> None:
    # Found in this pass: Gradio kept an entry for every upload_id a client named, read or
    # not, for as long as the server ran (each request for a made-up id answered 404 after
    # 3 s and left its entry): 3,000 such requests with long ids grew the server by 25 MB.
    # Now an id is at most 64 characters, and its entry goes once its stream has ended.
    from gradio import routes

    signals = routes.file_upload_statuses._signals
    url = plain.url
    ids = [uuid.uuid4().hex for _ in range(3)]

    def read(upload_id: str) -> int:
        reply = httpx.get(
            f"{url}/gradio_api/upload_progress", params={"upload_id": upload_id}, timeout=30
        )
        return reply.status_code

    threads = [threading.Thread(target=read, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    deadline = time.monotonic() + 10  # dropped just after each answer is sent
    while set(ids) & set(signals):
        assert time.monotonic() < deadline, "made-up upload ids are still kept"
        time.sleep(0.05)
    long_id = httpx.get(
        f"{url}/gradio_api/upload_progress", params={"upload_id": "a" * 1000}, timeout=30
    )
    assert long_id.status_code == 400 and one_sentence(long_id.json()["detail"])
    # An upload the page follows still reports its progress, and leaves nothing behind.
    with _client() as client:
        sent = client.post(
            f"{url}/gradio_api/upload",
            params={"upload_id": "page-upload"},
            files=[("files", ("z.txt", b"Zebras graze at dawn.\n", "text/plain"))],
        )
        assert sent.status_code == 200, sent.text[:200]
        progress = client.get(
            f"{url}/gradio_api/upload_progress", params={"upload_id": "page-upload"}
        )
    assert '"done"' in progress.text, progress.text[:200]
    deadline = time.monotonic() + 10
    while "page-upload" in signals or "page-upload" in routes.file_upload_statuses._statuses:
        assert time.monotonic() < deadline, "a followed upload's progress is still kept"
        time.sleep(0.05)
