"""Serve at once, load meanwhile: how `assistant ui` starts.

Importing Gradio takes seconds (5.5 s of CPU here) and a first index of a folder can take
minutes, so the web chat does not wait for either before it answers its address. `serve_early`
binds the port and serves a small page at once; the page shows what the server is doing
("Loading the index…", "Reading and splitting the changed documents: 40%") and turns into the
chat as soon as the chat is built. The index keeps loading behind the chat if it is not done
by then: the page shows the same line, and a question asked meanwhile waits for it.

    progress = StartupProgress(say=print)
    server = serve_early(progress, host="127.0.0.1", port=7860)  # answers at once
    ... load the index, calling progress.on_sync / progress.set_line, then progress.ready(bot)
    server.attach(chat_app, lifespan)                             # the page becomes the chat
    server.wait()                                                 # serves until Ctrl-C

Nothing here imports Gradio, the embedder or the index: only uvicorn and starlette, which
the page needs anyway.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import html
import json
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

from .errors import AssistantError, InputError, StartingError

if TYPE_CHECKING:
    from .pipeline import Assistant

__all__ = ["EarlyServer", "StartupProgress", "serve_early", "sync_line"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def sync_line(stage: str, fraction: float) -> str:
    """A sync's progress (a Collection's on_progress stage and fraction) as one line for a
    person.

    Example: sync_line("chunk", 0.4) -> "Reading and splitting the changed documents: 40%"
             sync_line("embed", 0.0) -> "Embedding the new passages (the slow part)…"
    """
    if stage == "scan":
        return "Checking the documents for changes…"
    if stage == "chunk":
        return f"Reading and splitting the changed documents: {round(fraction * 100)}%"
    if stage == "embed":
        return (
            "Embedding the new passages (the slow part)…"
            if fraction < 1.0
            else "Embedded the new passages; writing the index…"
        )
    if stage == "write":
        return "Writing the index…"
    return f"Updating the index ({stage})…"


class StartupProgress:
    """What a starting server is doing, as one line for the page and the terminal, and the
    Assistant once it is ready. Thread-safe: the loader sets it, requests read it.

    Every new line is printed to the terminal through `say`, except that a stage's
    percentage is printed in steps of 10 (the page shows every step).
    """

    def __init__(self, say: Callable[[str], None], hide: Mapping[str, str] | None = None) -> None:
        self._say = say
        # Server paths (the documents folder, the index) as the page says them: the line is
        # served to every visitor, before any login, and named both ("Loading the index in
        # /home/alice/... and checking /home/alice/... for changes"); the terminal keeps them.
        self._hide = sorted((hide or {}).items(), key=lambda kv: -len(kv[0]))
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._line = "Starting…"
        self._printed = ""
        self._bot: Assistant | None = None
        self._error: AssistantError | None = None
        self.started = time.monotonic()

    @property
    def line(self) -> str:
        with self._lock:
            return self._line

    @property
    def done(self) -> bool:
        """Ready, or failed."""
        return self._done.is_set()

    @property
    def bot(self) -> Assistant | None:
        """The Assistant, once ready."""
        return self._bot

    @property
    def error(self) -> AssistantError | None:
        """Why the assistant could not start, once that is known."""
        return self._error

    def _shown(self, line: str) -> str:
        """line as the page shows it: each path of `hide` in its words.

        Example: with hide={"/home/a/docs": "[the documents folder]"}, "Checking /home/a/docs"
                 -> "Checking [the documents folder]"
        """
        for path, words in self._hide:
            if path:
                line = line.replace(path, words)
        return line

    def set_line(self, line: str) -> None:
        with self._lock:
            self._line = self._shown(line)
            coarse = _coarse(line)
            if coarse == self._printed:
                return
            self._printed = coarse
        self._say(line)

    def on_sync(self, stage: str, fraction: float) -> None:
        """A Collection's on_progress callback."""
        self.set_line(sync_line(stage, fraction))

    def ready(self, bot: Assistant) -> None:
        self._bot = bot
        sources = bot.sources()
        passages = sum(s.chunks for s in sources)
        self.set_line(
            f"Ready: {passages:,} passage{'s' * (passages != 1)} from {len(sources):,} "
            f"document{'s' * (len(sources) != 1)}."
        )
        self._done.set()

    def fail(self, error: AssistantError) -> None:
        """The page says why; the terminal gets it from whoever raises `error` (the CLI's
        one "error: ..." line), so it is not printed here."""
        self._error = error
        with self._lock:
            self._line = self._shown(f"The assistant could not start: {error}")
        self._done.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until ready or failed (or timeout seconds); returns whether it is done."""
        return self._done.wait(timeout)

    def assistant(self) -> Assistant:
        """The Assistant, waiting for it if it is still loading; StartingError if it failed."""
        self._done.wait()
        if self._bot is None:
            raise StartingError(f"the assistant could not start: {self._error}")
        return self._bot


def _coarse(line: str) -> str:
    """The line with a trailing percentage rounded down to tens, for the terminal.

    Example: "Reading: 47%" -> "Reading: 40%"; "Ready." -> "Ready."
    """
    head, sep, tail = line.rpartition(": ")
    if sep and tail.endswith("%") and tail[:-1].isdigit():
        return f"{head}: {int(tail[:-1]) // 10 * 10}%"
    return line


# ---------------------------------------------------------------- the page before the chat

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ask your documents (starting)</title>
<noscript><meta http-equiv="refresh" content="2"></noscript>
<style>
body {{ font-family: ui-sans-serif, system-ui, sans-serif; margin: 3rem auto; max-width: 40rem;
  padding: 0 1rem; color: #1f2937; }}
h1 {{ font-size: 1.6rem; margin-bottom: 0.2rem; }}
.sub {{ color: #6b7280; margin-top: 0; }}
#startup {{ border-left: 4px solid #3b82f6; background: #eff6ff; color: #1e3a5f;
  padding: 0.6rem 0.8rem; border-radius: 4px; margin-top: 1.5rem; }}
</style></head>
<body>
<h1>Ask your documents</h1>
<p class="sub">The web chat is starting; this page opens it as soon as it is ready.</p>
<div id="startup" role="status" aria-live="polite">⏳ <span class="line">{line}</span></div>
<script>
(function poll() {{
  fetch('/startup', {{cache: 'no-store'}}).then((r) => r.json()).then((s) => {{
    if (s.chat) {{ location.reload(); return; }}
    document.querySelector('#startup .line').textContent = s.line;
    setTimeout(poll, 500);
  }}).catch(() => setTimeout(poll, 1000));
}})();
</script>
</body></html>
"""

# What the starting page may do, as the chat's page (ui.PAGE_POLICY): run its own script
# (by hash), ask this server for the progress, and be framed by no other site's page.
_SCRIPT = _PAGE.format(line="").split("<script>", 1)[1].split("</script>", 1)[0]
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()
_PAGE_POLICY = (
    f"default-src 'none'; script-src 'sha256-{_SCRIPT_HASH}'; connect-src 'self'; "
    "style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)

_HIDDEN_LINE = "The assistant is starting."  # with an access key set: no counts before login


class _Front:
    """The ASGI app bound to the port from the start: the starting page, /startup (the
    progress as JSON) and a 503 for everything else until the chat is attached; then every
    request goes to the chat app."""

    def __init__(self, progress: StartupProgress, *, private: bool) -> None:
        self.progress = progress
        self.private = private
        self.app: ASGIApp | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.started = threading.Event()
        self._closing: asyncio.Event | None = None
        self._held: asyncio.Task[None] | None = None

    async def hold(
        self, lifespan: Callable[[], AbstractAsyncContextManager[Any]], entered: threading.Event
    ) -> None:
        """Keep the attached app's lifespan open (its startup has run) until shutdown."""
        self._closing = asyncio.Event()
        self._held = asyncio.current_task()
        async with lifespan():
            entered.set()
            await self._closing.wait()

    def _line(self) -> str:
        return _HIDDEN_LINE if self.private else self.progress.line

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] == "http" and scope["path"] == "/startup":
            state = {"line": self._line(), "ready": self.progress.done, "chat": bool(self.app)}
            await _respond(send, 200, json.dumps(state), "application/json")
            return
        app = self.app
        if app is not None:
            await app(scope, receive, send)
            return
        if scope["type"] != "http":  # a websocket before the chat exists: try again later
            await send({"type": "websocket.close", "code": 1013})
            return
        if scope["path"] == "/" and scope["method"] in ("GET", "HEAD"):
            page = _PAGE.format(line=html.escape(self._line(), quote=False))
            await _respond(send, 200, page, "text/html; charset=utf-8")
            return
        line = self._line().rstrip(".…")
        message = f"The assistant is starting ({line}): try again in a moment."
        error = {"error": {"message": message, "type": "starting", "code": None}}
        await _respond(send, 503, json.dumps(error), "application/json", retry_after=True)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.loop = asyncio.get_running_loop()
                self.started.set()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._closing is not None and self._held is not None:
                    self._closing.set()  # the attached app shuts down first
                    with contextlib.suppress(Exception):
                        await self._held
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _respond(
    send: Send, status: int, body: str, content_type: str, *, retry_after: bool = False
) -> None:
    data = body.encode()
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(data)).encode()),
        (b"cache-control", b"no-store"),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
    ]
    if content_type.startswith("text/html"):
        headers.append((b"content-security-policy", _PAGE_POLICY.encode()))
    if retry_after:
        headers.append((b"retry-after", b"2"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


class EarlyServer:
    """A uvicorn server on an already bound socket, serving `_Front`."""

    def __init__(
        self,
        front: _Front,
        sock: socket.socket,
        *,
        loopback: bool = False,
        trusted_proxies: str = "",
        header_timeout: float = 20.0,
    ) -> None:
        import uvicorn

        from .api import (
            LoopbackHosts,
            header_deadline_protocol,
            proxy_options,
            quiet_stream_errors,
        )

        self.front = front
        self.sock = sock
        # On loopback, only requests addressed to this machine (no DNS rebinding), from the
        # starting page on, whatever is attached later.
        app: Any = LoopbackHosts(front) if loopback else front
        quiet_stream_errors()
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan="on",
            timeout_keep_alive=5,
            http=header_deadline_protocol(header_timeout, trusted_proxies=trusted_proxies),
            **proxy_options(trusted_proxies),
        )
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="web-server", daemon=True)
        self._failed: BaseException | None = None

    def _run(self) -> None:
        try:
            self.server.run(sockets=[self.sock])
        except BaseException as exc:
            self._failed = exc
            self.front.started.set()

    def start(self) -> None:
        self._thread.start()
        self.front.started.wait()
        if self._failed is not None:
            raise InputError(f"the web server could not start: {self._failed}")

    def attach(
        self, app: ASGIApp, lifespan: Callable[[], AbstractAsyncContextManager[Any]] | None = None
    ) -> None:
        """Serve `app` from now on. Its `lifespan` context (startup, and at shutdown its
        shutdown) runs on the server's event loop; attach waits for its startup."""
        loop = self.front.loop
        if lifespan is not None and loop is not None:
            entered = threading.Event()
            held = asyncio.run_coroutine_threadsafe(self.front.hold(lifespan, entered), loop)
            while not entered.wait(0.05):
                if held.done():
                    held.result()  # raises what the startup raised
                    break
        self.front.app = app

    def wait(self) -> None:
        """Serve until interrupted (Ctrl-C) or stopped."""
        try:
            while self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.stop()

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(10)


def serve_early(
    progress: StartupProgress,
    *,
    host: str,
    port: int,
    private: bool = False,
    trusted_proxies: str = "",
) -> EarlyServer:
    """Bind host:port and serve the starting page there at once (InputError, one sentence, if
    the port is taken). `private`: an access key is set, so the page shows no counts.
    `trusted_proxies`: Settings.trusted_proxies (whose X-Forwarded-For names the client)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise InputError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}): stop what uses it, "
            "or pass another --port"
        ) from exc
    sock.listen(128)
    from .api import is_loopback

    server = EarlyServer(
        _Front(progress, private=private),
        sock,
        loopback=is_loopback(host),
        trusted_proxies=trusted_proxies,
    )
    server.start()
    return server
