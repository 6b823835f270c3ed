"""Failed logins are throttled: guessing the access key through the web chat's login form or
/v1 gets an address refused for a while, with one sentence saying so.

The server is a real `python -m assistant ui` on loopback with a key from the environment;
other client addresses are 127.0.0.2 and 127.0.0.3 (the whole 127/8 is loopback on Linux).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from browsers import chromium, playwright_api, refused_by_policy
from servers import cli_env, free_port, run_cli, wait_for_chat

from assistant.ui import LoginThrottle

KEY = "correct-horse-battery-staple"
FAILURES = 3
LOCKOUT = 3.0  # seconds: short, so the test sees it end


@dataclass(frozen=True)
class Server:
    url: str
    log: Path


def _client(address: str = "127.0.0.1") -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(transport=transport, timeout=60)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("login")
    docs = root / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Amazon builds custom chips in Austin.\n", encoding="utf-8")
    port = free_port()
    env = cli_env(
        ASSISTANT_API_KEY=KEY,
        ASSISTANT_LOGIN_FAILURES=str(FAILURES),
        ASSISTANT_LOGIN_LOCKOUT_SECONDS=str(LOCKOUT),
    )
    log = root / "server.log"
    command = ["ui", str(docs), "--index-dir", str(root / "index"), "--port", str(port)]
    with run_cli(command, log, env) as proc:
        url = f"http://127.0.0.1:{port}"
        wait_for_chat(url, proc, log)
        yield Server(url, log)


def _login(client: httpx.Client, url: str, password: str) -> httpx.Response:
    return client.post(f"{url}/login", data={"username": "assistant", "password": password})


def _one_sentence(message: str) -> None:
    assert message and message[0].isupper() and message.endswith("."), message
    assert "\n" not in message and "Traceback" not in message and len(message) < 200


def test_repeated_wrong_passwords_lock_the_address_out_for_a_while(server: Server) -> None:
    with _client() as client:
        for _ in range(FAILURES):
            assert _login(client, server.url, "guess").status_code == 400

        # Locked: even the right key is refused, without being compared.
        refused = _login(client, server.url, KEY)
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= LOCKOUT
        detail = refused.json()["detail"]
        _one_sentence(detail)
        assert "Too many failed logins" in detail and "wait" in detail
        # /v1 shares the lockout: the same key, the same guesser.
        v1 = client.get(f"{server.url}/v1/models", headers={"Authorization": f"Bearer {KEY}"})
        assert v1.status_code == 429
        _one_sentence(v1.json()["error"]["message"])

        # Another address is not held up by this one.
        with _client("127.0.0.2") as other:
            assert _login(other, server.url, KEY).status_code == 200

        time.sleep(LOCKOUT + 0.5)
        ok = _login(client, server.url, KEY)
        assert ok.status_code == 200, ok.text
        assert any(name.startswith("access-token") for name in ok.cookies)
        # A success clears the count: one more typo is an ordinary failure again.
        assert _login(client, server.url, "typo").status_code == 400
        assert _login(client, server.url, KEY).status_code == 200


def test_a_burst_of_guesses_sent_at_once_is_stopped_at_the_limit(server: Server) -> None:
    with _client("127.0.0.3") as client, ThreadPoolExecutor(8) as pool:
        codes = list(
            pool.map(lambda i: _login(client, server.url, f"guess{i}").status_code, range(16))
        )
    assert sorted(set(codes)) == [400, 429], codes
    assert codes.count(400) <= FAILURES, codes


def test_wrong_bearer_keys_on_v1_are_throttled(server: Server) -> None:
    with _client("127.0.0.4") as client:
        wrong = {"Authorization": "Bearer nope"}
        for _ in range(FAILURES):
            assert client.get(f"{server.url}/v1/models", headers=wrong).status_code == 401
        refused = client.get(f"{server.url}/v1/models", headers=wrong)
        assert refused.status_code == 429
        assert refused.json()["error"]["type"] == "rate_limit"
    log = server.log.read_text()
    assert "Traceback" not in log, log


def test_the_lockout_doubles_and_is_forgotten_after_the_window() -> None:
    t = LoginThrottle(failures=2, lockout=30, window=900)
    t.failed("a", now=0)
    assert t.wait("a", now=0.5) == 0.0  # one failure: no pause yet
    t.failed("a", now=1)
    assert t.wait("a", now=2) == 29.0 and t.wait("b", now=2) == 0.0
    t.failed("a", now=31)
    assert t.wait("a", now=31) == 60.0
    for _ in range(100):  # capped at an hour, however many failures
        t.failed("a", now=100)
    assert t.wait("a", now=100) == 3600.0
    assert t.wait("a", now=100 + 3600 + 901) == 0.0  # forgotten after the window
    t.failed("a", now=5000)
    assert t.wait("a", now=5000) == 0.0  # counting starts again
    t.failed("c", now=0)
    t.failed("c", now=0)
    t.succeeded("c")
    assert t.wait("c", now=1) == 0.0


@pytest.mark.browser
def test_the_login_page_says_that_logins_pause_and_a_pause_holds(server: Server) -> None:
    # Gradio's form says "Incorrect credentials" for a 400 and nothing for a 429, and runs
    # none of the page's scripts before login: its one line announces the pause.
    sync_api = playwright_api()
    expect = sync_api.expect
    with chromium(sync_api) as browser:
        page = browser.new_page()
        page.set_default_timeout(60_000)
        # The login form, too, needs nothing its policy forbids.
        refused = refused_by_policy(page)
        page.goto(server.url)  # from 127.0.0.1, left cleared by the first test's last login
        rule = f"After {FAILURES} wrong tries in a row, logins from your address pause"
        expect(page.get_by_text(rule)).to_be_visible()

        def log_in(password: str) -> None:
            page.get_by_label("username").fill("assistant")
            page.get_by_label("password").fill(password)
            with page.expect_response(lambda r: r.url.endswith("/login")) as answered:
                page.get_by_role("button", name="Login").click()
            statuses.append(answered.value.status)

        statuses: list[int] = []
        for password in ["one", "two", "three", KEY]:
            log_in(password)
        assert statuses == [400, 400, 400, 429], statuses
        expect(page.get_by_role("button", name="Login")).to_be_visible()  # still out
        page.wait_for_timeout(LOCKOUT * 1000 + 500)
        log_in(KEY)
        assert statuses[-1] == 200
        expect(page.locator("#question textarea")).to_be_editable()
        assert refused == [], refused
