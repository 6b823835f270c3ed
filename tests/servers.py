"""What the tests that start a live web server share: a free port, and the web chat served
over a writable copy of seeds/ (the `served` fixture in conftest.py uses it)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant import Assistant

__all__ = [
    "ROOT",
    "Outside",
    "Served",
    "cli_env",
    "free_port",
    "page_call",
    "run_cli",
    "serve_copy",
    "wait_for_chat",
]


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


ROOT = Path(__file__).resolve().parents[1]


def cli_env(**settings: str) -> dict[str, str]:
    """The environment for `python -m assistant` run from this checkout, offline and quiet,
    with no access key or store inherited from the caller; `settings` are added on top
    (ASSISTANT_API_KEY="...", TMPDIR="...")."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
        "ASSISTANT_SHOW_PROGRESS": "false",
    }
    for name in ("ASSISTANT_API_KEY", "ASSISTANT_API_KEY_FILE", "ASSISTANT_STORE"):
        env.pop(name, None)
    return {**env, **settings}


@contextmanager
def run_cli(
    command: list[str], log: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m assistant COMMAND...` in the background, its output going to log; stopped
    (SIGTERM, then SIGKILL after 20 s) on exit unless it has already ended."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant", *command],
            env=env or cli_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def wait_for_chat(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until a `python -m assistant ui` started as proc serves its chat over a loaded
    index; fail with its log if it exits or does not come up."""
    import httpx
    import pytest

    deadline = time.monotonic() + 300  # the model and the index load on a busy machine
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"assistant ui exited with {proc.returncode}:\n{log.read_text()}")
        try:
            state = httpx.get(f"{url}/startup", timeout=2).json()
            if state.get("chat") and state.get("ready"):
                return
        except (httpx.TransportError, ValueError):
            pass
        time.sleep(0.5)
    pytest.fail(f"assistant ui did not come up:\n{log.read_text()}")


@dataclass
class Served:
    """A running web chat: its assistant, its URL and its documents folder."""

    bot: Assistant
    url: str
    docs: Path
    _client: Any = field(default=None, repr=False)

    @property
    def client(self) -> Any:
        """A gradio_client.Client of the app's API, made on first use."""
        if self._client is None:
            from gradio_client import Client

            self._client = Client(self.url, verbose=False)
        return self._client


@contextmanager
def serve_copy(seeds: Path, root: Path) -> Iterator[Served]:
    """Serve the web chat over a writable copy of seeds (uploads go there) until exit."""
    from assistant import Assistant, Settings
    from assistant.ui import build_app, launch

    docs = root / "docs"
    docs.mkdir()
    for f in seeds.iterdir():
        if f.is_file():
            (docs / f.name).write_bytes(f.read_bytes())
    settings = Settings(index_dir=root / "index", show_progress=False)
    bot = Assistant.from_folder(docs, index_dir=settings.index_dir, settings=settings)
    demo = build_app(bot)
    url = launch(demo, host="127.0.0.1", port=free_port(), prevent_thread_lock=True)
    try:
        yield Served(bot, url, docs)
    finally:
        demo.close()


def page_call(url: str, index: int, data: list[Any], within: float = 60) -> tuple[str, Any]:
    """Call one of the page's own handlers (most are not in the API) through Gradio's queue,
    as the page's script does, by its place `index` in the app's config: ("complete",
    outputs) or ("error", message); fails the test once `within` seconds pass (Gradio's
    heartbeats keep a held call's stream alive, so a read timeout alone would wait)."""
    import json
    import uuid

    import httpx
    import pytest

    deadline = time.monotonic() + within
    session = uuid.uuid4().hex
    with httpx.Client(timeout=30) as client:
        joined = client.post(
            f"{url}/gradio_api/queue/join",
            json={"data": data, "fn_index": index, "session_hash": session},
        )
        joined.raise_for_status()
        with client.stream(
            "GET", f"{url}/gradio_api/queue/data", params={"session_hash": session}
        ) as events:
            for line in events.iter_lines():
                if time.monotonic() > deadline:
                    pytest.fail(f"the call took over {within:.0f} s: it waited for another")
                if not line.startswith("data: "):
                    continue
                event = json.loads(line.removeprefix("data: "))
                if event.get("msg") == "process_completed":
                    if event.get("success"):
                        return "complete", event["output"].get("data")
                    return "error", event["output"].get("error")
    return "", None


class Outside:
    """Another site: an ASGI app (for thread_uvicorn) that records the path of each request
    it is sent in `seen` and answers every one with status 200, headers and body."""

    def __init__(
        self,
        body: bytes = b"fetched from outside",
        headers: Sequence[tuple[bytes, bytes]] = (),
    ) -> None:
        self.seen: list[str] = []
        self.body = body
        self.headers = list(headers)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        self.seen.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body})


@contextmanager
def thread_uvicorn(app: Any, **config: Any) -> Iterator[int]:
    """A real uvicorn server for app on a free loopback port, run in a thread; yields the
    port. config: more uvicorn.Config options (e.g. http=, lifespan=)."""
    import uvicorn

    port = free_port()
    options = {"host": "127.0.0.1", "port": port, "log_level": "error", **config}
    server = uvicorn.Server(uvicorn.Config(app, **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)
