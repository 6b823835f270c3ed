"""The sixth red-team pass on a running web chat: Gradio's own routes reached past the
chat's handlers (its file route, which fetched web addresses for a visitor, its run history,
its start-up route), /v1 bodies Python will not read, uploaded files' modes, the check of a
model's answer against hostile passages, and pages of other local addresses that wrote to
and read from the chat; each sent as a hostile client (or a real browser) would.

The servers here are served as `assistant ui` serves them (the chat mounted on the early
server) with the fake embedder, so these run in seconds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browsers import chromium, playwright_api
from fakes import fake_bot
from servers import Outside, free_port, thread_uvicorn
from test_redteam import one_sentence
from test_redteam4 import Limited, _client
from test_redteam5 import _call, _upload_files

# ---------------------------------------------------------------- what the server fetches


@pytest.fixture
def outside(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Outside, int]]:
    """Another site, on a loopback port, that Gradio's address check takes for a public one
    (as it would take any site on the internet; the tests must not reach the internet)."""
    import safehttpx

    async def public(_host: str) -> str:
        return "127.0.0.1"

    monkeypatch.setattr(safehttpx, "async_validate_url", public)
    site = Outside()
    with thread_uvicorn(site, lifespan="off") as port:
        yield site, port


@pytest.mark.parametrize("route", ["file=", "file/"])
def test_the_file_route_does_not_fetch_web_addresses(
    plain: Limited, outside: tuple[Outside, int], route: str
) -> None:
    # Found in this pass: Gradio's file route, given a web address instead of a file
    # (GET /gradio_api/file=http://site/x), fetched it from the server and streamed it back:
    # any visitor, or any web page the user opened (an <img> pointing at the chat), could
    # make the server fetch any public address, the server's own address shown to that
    # site. The chat never serves a file by address: it gets 403 and one sentence, and the
    # other site sees no request.
    site, port = outside
    for target in (f"http://site.test:{port}/x.png", f"https://site.test:{port}/y"):
        reply = httpx.get(f"{plain.url}/gradio_api/{route}{target}", timeout=30)
        assert reply.status_code == 403, reply.text[:300]
        assert one_sentence(reply.json()["detail"]), reply.text[:300]
    assert site.seen == []


def test_the_file_route_still_serves_an_uploaded_file(plain: Limited) -> None:
    with _client() as client:
        sent = client.post(
            f"{plain.url}/gradio_api/upload",
            files=[("files", ("a.txt", b"Zebras graze at dawn.\n", "text/plain"))],
        )
        assert sent.status_code == 200, sent.text[:300]
        (path,) = sent.json()
        served = client.get(f"{plain.url}/gradio_api/file={path}")
    assert served.status_code == 200 and served.content == b"Zebras graze at dawn.\n"


# ---------------------------------------------------------------- Gradio's run history


def test_no_run_history_sends_answers_or_documents_to_a_hugging_face_bucket(
    plain: Limited, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Found in this pass: Gradio 6 keeps a "run history". A call to a public endpoint that
    # named a bucket in a header (x-gradio-history-bucket) was written, question, answer
    # and quoted passages (an upload's file too), to that Hugging Face bucket with the
    # token saved on the server (`huggingface-cli login`), for any request that reached it
    # from loopback addressed to a loopback name: a local program, or every visitor behind
    # a reverse proxy on the machine that passes its own Host. Its pages listed the owner's
    # buckets, made new ones and read their records. The chat keeps no run history: the
    # documents never leave the machine, and those routes are gone.
    import huggingface_hub

    written: list[Any] = []

    def record(_api: Any, *args: Any, **kwargs: Any) -> None:
        written.append((args, kwargs))

    # What would have gone to the Hugging Face Hub is kept here instead.
    for call in ("create_bucket", "batch_bucket_files"):
        monkeypatch.setattr(huggingface_hub.HfApi, call, record, raising=False)
    monkeypatch.setenv("HF_TOKEN", "hf_the_owners_saved_token")
    url = plain.url
    with _client() as client:
        started = client.post(
            f"{url}/gradio_api/call/ask",
            json={"data": ["Where does Amazon build custom chips?"]},
            headers={"x-gradio-history-bucket": "visitor/loot"},
        )
        assert started.status_code == 200, started.text[:300]
        event = started.json()["event_id"]
        answer = client.get(f"{url}/gradio_api/call/ask/{event}").text
        assert "Austin" in answer, answer[:300]
        for method, path in (
            ("GET", "/gradio_api/runs"),
            ("GET", "/gradio_api/run-history/buckets"),
            ("GET", "/gradio_api/run-history/records?bucket=owner/private"),
            ("POST", "/gradio_api/run-history/connect"),
        ):
            reply = client.request(method, f"{url}{path}", json={"bucket_id": "visitor/new"})
            assert reply.status_code == 404, (path, reply.status_code, reply.text[:200])
    time.sleep(1)  # the history was written after the answer, off the request
    assert written == []


# ---------------------------------------------------------------- Gradio's start-up route


def test_a_visitor_cannot_start_gradios_queue_a_second_time(plain: Limited) -> None:
    # Found in this pass: served as `assistant ui` serves it (mounted on the early server),
    # the chat's start-up ran Gradio's start-up events without marking them run, so the
    # first visitor to ask for /gradio_api/startup-events ran them again: a second dispatch
    # loop for the queue, and its list of running jobs replaced by an empty one, so the
    # answers running then could no longer be stopped when their visitor left, nor show
    # their warnings, and the cap on jobs at once counted from zero again.
    queue = plain.demo._queue
    running = queue.active_jobs
    reply = httpx.get(f"{plain.url}/gradio_api/startup-events", timeout=30)
    assert reply.status_code == 200 and reply.json() is False, reply.text[:200]
    assert queue.active_jobs is running


# ---------------------------------------------------------------- /v1


def test_v1_with_a_number_too_long_to_read_is_one_sentence_and_no_traceback(
    plain: Limited, capfd: pytest.CaptureFixture[str]
) -> None:
    # Found in this pass: a number of more than 4,300 digits anywhere in a /v1 body is one
    # Python will not read (a guard against slow conversion), and the error it raises was
    # not caught: 500 "Internal Server Error" and a 30-line traceback in the log for each
    # request of 5 KB. Now 400 and one sentence, like any other body that is not JSON.
    question = [{"role": "user", "content": "Where does Amazon build custom chips?"}]
    body = json.dumps({"model": "assistant", "messages": question, "n": 1})
    body = body.replace('"n": 1', '"n": ' + "9" * 5000)
    reply = httpx.post(
        f"{plain.url}/v1/chat/completions",
        content=body,
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert reply.status_code == 400, reply.text[:300]
    assert one_sentence(reply.json()["error"]["message"]), reply.text[:300]
    time.sleep(0.5)
    assert "Traceback" not in capfd.readouterr().err


def test_v1_does_not_echo_a_huge_model_name(plain: Limited) -> None:
    # The refusal named the model as sent: a 500 KB name came back whole, in one "sentence".
    question = [{"role": "user", "content": "Where does Amazon build custom chips?"}]
    reply = httpx.post(
        f"{plain.url}/v1/chat/completions",
        json={"model": "x" * 500_000, "messages": question},
        timeout=30,
    )
    assert reply.status_code == 404, reply.text[:300]
    message = reply.json()["error"]["message"]
    assert len(message) < 300 and one_sentence(message), message[:300]


# ---------------------------------------------------------------- uploaded files


def test_an_uploaded_document_is_not_made_executable(plain: Limited) -> None:
    # Found in this pass: every uploaded document was written with mode 0o777 less the
    # umask (rwxr-xr-x), so a visitor could leave executable files (a shell script called
    # notes.txt) in the documents folder. Documents are now written as any program writes
    # a file: 0o666 less the umask.
    url = plain.url
    script = "#!/bin/sh\necho Zebras graze at dawn near the river.\n"
    with _client() as client:
        files = _upload_files(client, url, "notes.txt", script)
        assert "added" in _call(client, url, "upload", [files])
    mode = (plain.docs / "notes.txt").stat().st_mode
    assert mode & 0o111 == 0, oct(mode)


# ---------------------------------------------------------------- the check of a model's answer


@pytest.mark.parametrize(
    "filler",
    [
        "1" * 40_000,  # one long number
        " " * 40_000,  # a run of spaces: no word pieces, so a passage may hold any number
        "1 " * 20_000,  # many small numbers
        "(a)" * 27_000,  # brackets one after another
    ],
    ids=["digits", "spaces", "numbers", "brackets"],
)
def test_checking_a_models_answer_against_a_hostile_passage_takes_linear_time(
    filler: str,
) -> None:
    # Found in this pass: when a language model answers (local, ollama, a cloud provider),
    # the check of its answer tried the rules' patterns from each character of a long run
    # in the cited passage, which is document text: a sentence of 40,000 digits took 332 s
    # to check, 40,000 spaces 36 s, 20,000 small numbers 7 s (each number's neighbours were
    # looked up in a list of the whole sentence), brackets one after another left a run of
    # spaces. Each question citing such an upload held an answer slot that long. Now each
    # takes well under a second.
    from fakes import FakeEmbedder, ListRetriever
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from assistant import Settings
    from assistant.answer.answerer import Answerer
    from assistant.answer.checking import default_verifier
    from assistant.answer.llm import ChatBackend
    from assistant.answer.registry import register_backend, unregister_backend
    from assistant.schema import Chunk, Hit

    # The run in the sentence after the answer's: the check also tries the two as one span.
    text = f"Zebras graze for 8 hours at dawn near the river. The herd counted {filler} zebras."
    chunk = Chunk(id="c1", source="a.txt", text=text, start=0, end=len(text), ordinal=0, hash="h")
    model = FakeListChatModel(responses=["Zebras graze at dawn for 8 hours. [1]"])
    register_backend(
        "fake-checked",
        lambda s: ChatBackend("fake-checked", s, model=model, verifier=default_verifier()),
        replace=True,
    )
    embedder = FakeEmbedder()
    try:
        started = time.monotonic()
        answer = list(
            Answerer(Settings(show_progress=False), embedder).stream(
                "How long do zebras graze at dawn?",
                None,
                retriever=ListRetriever([Hit(chunk=chunk, score=1.0, dense_score=0.5)], embedder),
                sources=(),
                chunks=(),
                mode="fake-checked",
            )
        )[-1]
        took = time.monotonic() - started
    finally:
        unregister_backend("fake-checked")
    assert not isinstance(answer, str), "the stream ends with the Answer"
    assert "8 hours" in answer.text, answer.text[:200]
    assert took < 5, f"the check took {took:.1f} s"


# ---------------------------------------------------------------- pages of other local addresses


# A page's script that asks the chat (on port CHAT) to remove a.txt and shows the reply in
# the page's title.
_REMOVE = """
  const chat = 'http://localhost:CHAT/gradio_api/call/remove';
  const started = await fetch(chat, {
    method: 'POST', credentials: 'include',
    headers: {'content-type': 'application/json'},
    body: JSON.stringify({data: ['a.txt']}),
  });
  const sent = await started.json();
  const result = await fetch(chat + '/' + sent.event_id, {credentials: 'include'});
  document.title = 'read: ' + (await result.text()).slice(0, 200);
"""
# One that reads the page's settings, which name every document.
_READ = """
  const config = await fetch('http://localhost:CHAT/config', {credentials: 'include'});
  document.title = 'read: ' + (await config.text()).slice(0, 100000);
"""


def _page_at_another_port(chat_url: str, script: str) -> str:
    """The title a page served from another port of this machine ends with, once script
    (with CHAT its chat's port) has run in Chromium; "refused: ..." if the browser refused."""
    sync_api = playwright_api()
    code = script.replace("CHAT", chat_url.rsplit(":", 1)[1])
    page_html = (
        "<!doctype html><html><body><script>(async () => { try {"
        f"{code}"
        "} catch (e) { document.title = 'refused: ' + e; } })();</script></body></html>"
    ).encode()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        headers = [(b"content-type", b"text/html")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": page_html})

    with (
        thread_uvicorn(app, lifespan="off") as port,
        chromium(sync_api, ["--headless", "--no-sandbox"]) as browser,
    ):
        page = browser.new_page()
        page.goto(f"http://localhost:{port}/")
        page.wait_for_function("document.title !== ''", timeout=30_000)
        return str(page.title())


def test_a_page_of_another_local_address_cannot_send_requests_to_the_chat(
    plain: Limited,
) -> None:
    # Found in this pass: a page served from another port of this machine (another local
    # web app, a notebook's output, a downloaded page opened through `python -m http.server`)
    # is another origin but the same site, so browsers mark its requests
    # "Sec-Fetch-Site: same-site" and the cross-site check let them through; and Gradio
    # allows every localhost origin to read its answers (CORS with credentials). Such a
    # page deleted a document and read the reply. Now a browser's request that would change
    # or compute something must come from the chat's own page.
    title = _page_at_another_port(plain.url, _REMOVE)
    assert (plain.docs / "a.txt").exists(), title
    assert "removed" not in title, title


@pytest.fixture
def launched(tmp_path: Path) -> Iterator[Limited]:
    """The chat served by `launch` (as `assistant ui --share` serves it), where Gradio's own
    middleware wraps ours."""
    from assistant.ui import build_app, launch

    bot = fake_bot(tmp_path, {"a.txt": "Amazon builds custom chips in Austin.\n"})
    docs = tmp_path / "docs"
    demo = build_app(bot)
    url = launch(demo, host="127.0.0.1", port=free_port(), prevent_thread_lock=True)
    try:
        yield Limited(url.rstrip("/"), docs, demo)
    finally:
        demo.close()


@pytest.mark.parametrize("serving", ["plain", "launched"])
def test_a_page_of_another_local_address_cannot_read_the_chat(
    request: pytest.FixtureRequest, serving: str
) -> None:
    # Found in this pass: Gradio lets every localhost origin read its responses (CORS with
    # credentials; any origin at all when the chat is served beyond loopback), so such a
    # page read /config, which names every document. The chat's own page needs no CORS: a
    # script of another origin reading gets 403, and the CORS headers are dropped.
    served: Limited = request.getfixturevalue(serving)
    title = _page_at_another_port(served.url, _READ)
    assert "a.txt" not in title, title[:300]
    # The browser refuses the read; served by launch, Gradio's CORS layer wraps the chat's,
    # and the page reads the refusal instead.
    assert title.startswith("refused") or "cannot send requests" in title, title[:300]


def test_a_same_site_write_is_refused_and_the_chats_own_page_passes(plain: Limited) -> None:
    other = {"Origin": "http://localhost:8000", "Sec-Fetch-Site": "same-site"}
    refused = httpx.post(
        f"{plain.url}/gradio_api/call/remove", json={"data": ["a.txt"]}, headers=other
    )
    assert refused.status_code == 403, refused.text[:300]
    assert one_sentence(refused.json()["detail"]), refused.text[:300]
    own = {"Origin": plain.url, "Sec-Fetch-Site": "same-origin"}
    asked = httpx.post(f"{plain.url}/gradio_api/call/sources", json={"data": []}, headers=own)
    assert asked.status_code == 200, asked.text[:300]
    assert (plain.docs / "a.txt").exists()
