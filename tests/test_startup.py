"""How `assistant ui` starts: the address answers at once with a page that says what the server
is doing, the same lines go to the terminal, and the page becomes the chat when it is ready.

The ASGI front and the progress lines are tested directly (no Gradio, no model); the browser
test at the end starts the real `assistant ui` on a folder whose first index takes a while."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browsers import chromium, playwright_api
from fakes import fake_bot
from servers import free_port

from assistant.errors import InputError, StartingError
from assistant.startup import StartupProgress, serve_early, sync_line

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED_QUESTION = "How much has Amazon invested in Anthropic?"


# ---------------------------------------------------------------- the lines


def test_sync_stages_read_as_plain_lines() -> None:
    assert sync_line("scan", 1.0) == "Checking the documents for changes…"
    assert sync_line("chunk", 0.4) == "Reading and splitting the changed documents: 40%"
    assert sync_line("embed", 0.0) == "Embedding the new passages (the slow part)…"
    assert sync_line("write", 1.0) == "Writing the index…"


def test_the_terminal_gets_each_new_line_and_percentages_in_tens() -> None:
    said: list[str] = []
    progress = StartupProgress(said.append)
    for i in range(1, 31):
        progress.on_sync("chunk", i / 30)
    progress.on_sync("embed", 0.0)
    assert said[0] == "Reading and splitting the changed documents: 3%"
    assert said[1:4] == [f"Reading and splitting the changed documents: {p}%" for p in (10, 20, 30)]
    assert said[-1] == "Embedding the new passages (the slow part)…"
    assert len(said) == 12, said  # 3%, then one line per ten percent, then the embedding
    assert progress.line == "Embedding the new passages (the slow part)…"  # the page: exact


def test_a_failed_start_is_one_sentence_for_whoever_waits() -> None:
    said: list[str] = []
    progress = StartupProgress(said.append)
    assert not progress.wait(0.01)
    progress.fail(InputError("the index was built with another model: run `assistant index`"))
    assert progress.done and progress.bot is None
    with pytest.raises(StartingError, match=r"^the assistant could not start: the index was"):
        progress.assistant()
    assert progress.line.startswith("The assistant could not start: the index was built")
    assert progress.error is not None and "another model" in str(progress.error)
    assert not said, "the terminal gets the error once, from the CLI"


# ---------------------------------------------------------------- the front, before the chat


@pytest.fixture
def early() -> Iterator[tuple[Any, StartupProgress, str]]:
    progress = StartupProgress(lambda _line: None)
    port = free_port()
    server = serve_early(progress, host="127.0.0.1", port=port)
    try:
        yield server, progress, f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def test_the_starting_page_answers_only_requests_addressed_to_this_machine(
    early: tuple[Any, StartupProgress, str],
) -> None:
    # DNS rebinding: a page from another site made to resolve to 127.0.0.1 names its host.
    _server, _progress, url = early
    port = url.rsplit(":", 1)[1]
    for path in ("/", "/startup"):
        foreign = httpx.get(url + path, headers={"Host": "evil.example.com"})
        assert foreign.status_code == 403, path
        assert httpx.get(url + path, headers={"Host": f"localhost:{port}"}).status_code == 200


@pytest.mark.parametrize(
    ("trusted", "seen"),
    [("", "127.0.0.1"), ("127.0.0.1", "203.0.113.9"), (" 10.0.0.0/8 ,", "127.0.0.1")],
)
def test_the_client_address_comes_from_x_forwarded_for_only_behind_a_trusted_proxy(
    trusted: str, seen: str
) -> None:
    # The login throttle counts failures per client address. uvicorn's default believes the
    # header from 127.0.0.1, so any local program could name a new address with each guess.
    async def client_address(scope: Any, receive: Any, send: Any) -> None:
        body = str((scope.get("client") or ("?",))[0]).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    port = free_port()
    server = serve_early(
        StartupProgress(lambda _line: None), host="127.0.0.1", port=port, trusted_proxies=trusted
    )
    try:
        server.attach(client_address)
        answer = httpx.get(f"http://127.0.0.1:{port}/", headers={"X-Forwarded-For": "203.0.113.9"})
        assert answer.text == seen
    finally:
        server.stop()


def test_the_address_answers_at_once_with_the_progress_line(
    early: tuple[Any, StartupProgress, str],
) -> None:
    _server, progress, url = early
    progress.set_line("Reading and splitting the changed documents: 40%")
    page = httpx.get(url + "/")
    assert page.status_code == 200
    assert 'id="startup"' in page.text
    assert "Reading and splitting the changed documents: 40%" in page.text
    state = httpx.get(url + "/startup").json()
    assert state == {
        "line": "Reading and splitting the changed documents: 40%",
        "ready": False,
        "chat": False,
    }


def test_the_api_meanwhile_says_in_one_sentence_to_try_again(
    early: tuple[Any, StartupProgress, str],
) -> None:
    _server, progress, url = early
    progress.set_line("Checking the documents for changes…")
    reply = httpx.post(url + "/v1/chat/completions", json={"messages": []})
    assert reply.status_code == 503
    assert reply.headers["retry-after"] == "2"
    message = reply.json()["error"]["message"]
    assert message == (
        "The assistant is starting (Checking the documents for changes): try again in a moment."
    )


def test_once_attached_every_request_goes_to_the_chat(
    early: tuple[Any, StartupProgress, str],
) -> None:
    server, _progress, url = early
    events: list[str] = []

    async def chat(scope: Any, receive: Any, send: Any) -> None:
        body = f"chat {scope['path']}".encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan() -> Any:
        events.append("started")
        yield
        events.append("stopped")

    server.attach(chat, lifespan)
    assert events == ["started"], "the chat's startup ran before it was served"
    assert httpx.get(url + "/").text == "chat /"
    assert httpx.get(url + "/v1/models").text == "chat /v1/models"
    assert httpx.get(url + "/startup").json()["chat"] is True
    server.stop()
    assert events == ["started", "stopped"], "the chat's shutdown ran with the server's"


def test_a_taken_port_is_one_clear_sentence(early: tuple[Any, StartupProgress, str]) -> None:
    _server, _progress, url = early
    port = int(url.rsplit(":", 1)[1])
    with pytest.raises(InputError, match=rf"^cannot listen on 127\.0\.0\.1:{port} .*--port$"):
        serve_early(StartupProgress(lambda _line: None), host="127.0.0.1", port=port)


def test_the_chat_built_while_the_index_loads_has_the_same_api(tmp_path: Path) -> None:
    from assistant.ui import build_app

    bot = fake_bot(tmp_path, {"a.txt": "Amazon builds custom chips in Austin."})
    loading = StartupProgress(lambda _line: None)
    names = set(build_app(bot, startup=loading).get_api_info()["named_endpoints"])
    assert names == {"/upload", "/remove", "/ask", "/sources"}


# ---------------------------------------------------------------- in a real browser


def _slow_folder(docs: Path) -> None:
    """seeds/ and about 0.3 MB of generated notes: a first index that embeds ~320 passages
    and their ~1,800 sentences (about 30 s on 2 quiet cores), several times the CPU of
    Gradio's import, so the chat is up while the index still loads."""
    shutil.copytree(SEEDS, docs)
    rng = random.Random(11)
    places = ["Marlow", "Dunmore", "Keswick", "Tarbet", "Ashby", "Corran", "Rhyl", "Elgin"]
    goods = ["crates of pears", "bales of wool", "barrels of cider", "sacks of flour"]
    for n in range(12):
        lines = [
            f"Shipping ledger {n}, entry {i}: the depot at {rng.choice(places)} sent "
            f"{rng.randint(2, 900)} {rng.choice(goods)} to {rng.choice(places)} on day "
            f"{rng.randint(1, 365)}, and the clerk noted a delay of {rng.randint(1, 48)} hours."
            for i in range(150)
        ]
        (docs / f"ledger-{n:02d}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.model
@pytest.mark.browser
def test_the_page_shows_the_index_loading_then_the_chat_answers(tmp_path: Path) -> None:
    sync_api = playwright_api()
    expect = sync_api.expect
    docs = tmp_path / "docs"
    _slow_folder(docs)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    env.pop("ASSISTANT_API_KEY", None)
    terminal = tmp_path / "terminal.txt"
    command = ["ui", str(docs), "--index-dir", str(tmp_path / "index"), "--port", str(port)]
    with terminal.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant", *command],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        started = time.monotonic()
        while True:
            assert proc.poll() is None, terminal.read_text()
            try:
                with urllib.request.urlopen(url + "startup", timeout=2) as r:
                    state = json.loads(r.read())
                    break
            except (urllib.error.URLError, OSError):
                assert time.monotonic() - started < 60, "the address never answered"
                time.sleep(0.1)
        assert not state["ready"], "the first index of this folder cannot be done yet"

        with chromium(sync_api, ["--headless", "--no-sandbox"]) as browser:
            page = browser.new_page()
            page.goto(url)
            progress = re.compile(r"Loading|Checking|Reading|Embedding|Writing")
            expect(page.locator("#startup")).to_contain_text(progress, timeout=30_000)

            # The page becomes the chat by itself, and says that the index is still loading.
            question = page.locator("#question textarea")
            expect(question).to_be_editable(timeout=300_000)
            expect(page.locator("#startup")).to_contain_text(progress, timeout=30_000)

            # A question asked meanwhile: a plain line to wait, then the answer.
            question.fill(SEED_QUESTION)
            question.press("Enter")
            expect(page.locator("#chat .bot-row").last).to_contain_text(
                "One moment: the documents are still loading", timeout=30_000
            )
            expect(page.locator("#chat .bot-row").first).to_contain_text(
                "$8 billion", timeout=600_000
            )
            expect(page.locator("#chat")).not_to_contain_text("Error")
            expect(page.locator("#startup")).to_contain_text("Ready: ", timeout=30_000)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    said = terminal.read_text()
    assert "Embedding the new passages" in said, said
    assert "Ready: " in said and "Traceback" not in said, said
