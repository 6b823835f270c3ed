"""The OpenAI-compatible endpoint: the assistant as a chat model any OpenAI client can call.

    POST /v1/chat/completions   the messages are the conversation; the answer is the checked
                                Answer, streamed as server-sent events when "stream": true
    GET  /v1/models             the collection, as the one model "assistant"

A thin view over `Assistant.ask` / `Assistant.stream`, like the CLI and the web chat. The last
user message is the question, earlier user and assistant messages are its history, and system
messages are ignored: nothing a client sends changes how answers are found or checked.

The reply's `content` is the answer text with its [n] markers, then a plain "Sources:" list, so
that any chat client shows something a person can check, escaped so that a client rendering
Markdown shows a quoted document's markup as written (`inert_markdown`); a top-level `citations`
field carries the same sources as data, quotes exactly as the documents have them (in the last
chunk when streaming):

    from openai import OpenAI
    client = OpenAI(base_url="http://127.0.0.1:8000/v1", api_key=KEY)
    reply = client.chat.completions.create(
        model="assistant", messages=[{"role": "user", "content": "How much has Amazon invested?"}]
    )
    print(reply.choices[0].message.content, reply.citations)  # [{n, source, start, end, ...}]

Authentication is a bearer key (`Settings.api_key`, i.e. ASSISTANT_API_KEY, or the file
ASSISTANT_API_KEY_FILE names). It is enforced whenever one is configured, and a server that
listens beyond loopback refuses to start without one unless told `--no-auth`.

fastapi, starlette and anyio are imported inside the functions that need them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import json
import logging
import math
import re
import threading
import time
import uuid
import weakref
from collections.abc import (
    AsyncIterator,
    Callable,
    Generator,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError

from .answer.injection import FLAG_NOTE
from .errors import AssistantError, InputError, require
from .schema import Answer
from .text import as_code_points

if TYPE_CHECKING:
    from fastapi import FastAPI
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute

    from .answer.base import Message
    from .pipeline import Assistant
    from .settings import Settings

__all__ = [
    "BUSY_NOTICE",
    "MAX_BODY_BYTES",
    "MODEL_ID",
    "ClientLoad",
    "CrossSiteWrites",
    "ForwardedAddress",
    "GenerationGate",
    "HttpMiddleware",
    "LoginThrottle",
    "LoopbackHosts",
    "NoStore",
    "OneBodyLength",
    "OneLineStreamErrors",
    "RequestsPerClient",
    "ThrottledLogins",
    "address_group",
    "api_routes",
    "build_api",
    "check_access",
    "client_address",
    "conversation",
    "format_content",
    "generation_gate",
    "header_deadline_protocol",
    "inert_markdown",
    "is_logout",
    "is_loopback",
    "load_api_key",
    "loopback_host_header",
    "proxy_options",
    "quiet_stream_errors",
    "release",
    "replaced_headers",
    "send_json",
    "serve",
    "trusted_list",
]

MODEL_ID = "assistant"
MAX_BODY_BYTES = 1024 * 1024  # a conversation is text; more than this is a mistake or an attack
_HISTORY_MESSAGES = 6  # as in the web chat: older turns rarely matter for a follow-up
_HISTORY_CHARS = 4000  # per earlier message: follow-up terms come from its first sentences
_CONCURRENCY = 4  # answers computed at once; more would only queue on a few CPU cores
_SOURCES = "\n\nSources:\n"
_NOTE = "\n\nNote: "
_END = object()  # what next() returns for an exhausted stream (StopIteration can't cross threads)
_INTERNAL = "The assistant failed on this request: the server log has the details."
_TOO_LARGE = f"The request body is over {MAX_BODY_BYTES // 1024} KB: send a shorter conversation."

BUSY_NOTICE = (
    "The language model is writing another answer right now, so this answer is copied from "
    "the documents instead; ask again in a minute for the model's answer."
)

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- one generation at a time


class GenerationGate:
    """One language-model answer at a time for a server's visitors, on this machine.

    A model that runs here (local, ollama, a registered plugin) takes the CPU for tens of
    seconds per answer and llama.cpp serves one answer at a time anyway, so every visitor
    waiting for it held a question slot: eight visitors choosing `local` made other people's
    extractive answers wait 90 s. While one answer is being written, another question for a
    model gets the extractive answer at once, with BUSY_NOTICE beside it. The extractive
    mode, and providers beyond this machine (`exempt`), are never held back.

    Example: gate.stream(bot, "Who?", [], mode="local") yields the model's pieces and Answer;
             a second call meanwhile yields the extractive ones, its Answer.notice BUSY_NOTICE
    """

    def __init__(self, exempt: frozenset[str] = frozenset({"extractive", "openai", "anthropic"})):
        self.exempt = exempt
        self._slot = threading.BoundedSemaphore(1)

    def stream(
        self,
        bot: Assistant,
        question: str,
        history: Sequence[Message] | None = None,
        *,
        k: int | None = None,
        mode: str | None = None,
    ) -> Generator[str | Answer, None, None]:
        """Assistant.stream, with the model's slot taken on the first piece and given back
        with the Answer, or when the stream fails or is closed (a visitor who leaves
        mid-answer)."""
        if (mode or bot.settings.answer_mode) in self.exempt:
            yield from bot.stream(question, history, k=k, mode=mode)
            return
        if not self._slot.acquire(blocking=False):
            for piece in bot.stream(question, history, k=k, mode="extractive"):
                if isinstance(piece, Answer):
                    notice = " ".join(filter(None, (BUSY_NOTICE, piece.notice)))
                    piece = replace(piece, notice=notice)
                yield piece
            return
        held = True
        try:
            for piece in bot.stream(question, history, k=k, mode=mode):
                if isinstance(piece, Answer):  # the last piece: the model has finished
                    held = False
                    self._slot.release()
                yield piece
        finally:
            if held:
                self._slot.release()


_gates: weakref.WeakKeyDictionary[Any, GenerationGate] = weakref.WeakKeyDictionary()
_gates_lock = threading.Lock()


def generation_gate(bot: Assistant) -> GenerationGate:
    """The one GenerationGate of bot, shared by the web chat, /ask and /v1 of a server."""
    with _gates_lock:
        gate = _gates.get(bot)
        if gate is None:
            gate = _gates[bot] = GenerationGate()
        return gate


# ---------------------------------------------------------------- authentication (pure)


class OneLineStreamErrors(logging.Filter):
    """Writes one line, not a traceback, for a request whose answer had already started to
    stream when Gradio found it could not serve it (a client reading an event stream that
    does not exist). Each such request wrote about 110 lines to the server's log, so any
    client could fill the disk with them.

    Example: logging.getLogger("uvicorn.error").addFilter(OneLineStreamErrors())
    """

    LINE = "A client asked for an event stream that does not exist; it got an error event."

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, RuntimeError) and "response already started" in str(error):
            record.msg, record.args = self.LINE, ()
            record.exc_info, record.exc_text = None, None
        return True


def quiet_stream_errors() -> None:
    """Install OneLineStreamErrors on uvicorn's error log, once."""
    log = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, OneLineStreamErrors) for f in log.filters):
        log.addFilter(OneLineStreamErrors())


HEADER_TIMEOUT_S = 20.0  # a browser sends a request's headers at once; this is generous
BODY_MIN_RATE = 500  # bytes a second a request body must keep up, past the first timeout
# Connections open at once from one peer address. A browser opens six per host; this leaves
# room for many people behind one address, and keeps one client from using up the server's
# file descriptors by opening connections faster than the deadlines close them.
CONNECTIONS_PER_PEER = 256
_CONNECTIONS_MESSAGE = (
    b"This address has too many connections open to the server: close some, then try again."
)
_TOO_MANY_CONNECTIONS = (
    b"HTTP/1.1 429 Too Many Requests\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"connection: close\r\ncontent-length: %d\r\n\r\n%s"
    % (len(_CONNECTIONS_MESSAGE), _CONNECTIONS_MESSAGE)
)


def _exempt_peers(trusted_proxies: str) -> Callable[[str], bool]:
    """Which peer addresses the per-peer connection cap leaves alone: the trusted proxies,
    which carry many visitors' connections (each visitor is then limited by the address the
    proxy names, RequestsPerClient).

    Example: _exempt_peers("10.0.0.0/8")("10.1.2.3") -> True;
             _exempt_peers("")("203.0.113.9") -> False; _exempt_peers("*")(anything) -> True
    """
    entries = [e.strip() for e in trusted_proxies.split(",") if e.strip()]
    if "*" in entries:
        return lambda _peer: True
    networks = []
    for entry in entries:
        with contextlib.suppress(ValueError):
            networks.append(ipaddress.ip_network(entry, strict=False))

    def exempt(peer: str) -> bool:
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return True  # a Unix socket or another transport: not a remote client
        return any(address in n for n in networks)

    return exempt


def header_deadline_protocol(
    timeout: float = HEADER_TIMEOUT_S,
    body_rate: float = BODY_MIN_RATE,
    *,
    per_peer: int = CONNECTIONS_PER_PEER,
    trusted_proxies: str = "",
) -> type[Any]:
    """uvicorn's HTTP/1.1 protocol, closing a connection whose request headers have not all
    arrived `timeout` seconds after its first byte (or after the connection opened), or
    whose request body falls behind: it has `timeout` seconds from the end of the headers,
    plus one more second for each `body_rate` bytes that arrive (as Apache's
    mod_reqtimeout body=20,MinRate=500).

    uvicorn waits for headers and bodies forever: a client that opens thousands of
    connections and sends a few bytes on each now and then (slowloris) held them all open,
    until the server ran out of file descriptors and could answer nobody. A request whose
    body is in is not limited (an answer may stream for minutes), nor is a kept-alive
    connection with nothing sent (uvicorn closes it after timeout_keep_alive), and an
    upload at more than `body_rate` bytes a second is never cut.

    A peer address (other than the `trusted_proxies`) with `per_peer` connections open has
    its next one answered 429 in one sentence and closed at once (0: no cap).

    Example: uvicorn.Config(app, http=header_deadline_protocol(20.0)); a body sent at one
             byte a second is closed 20 s after its headers, a 20 MB upload at 1 MB/s is not
    """
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    exempt = _exempt_peers(trusted_proxies)
    open_by_peer: dict[str, int] = {}  # this server's connections by peer address

    class HeaderDeadline(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None
        _body_until: float | None = None  # loop time by which the body must be in
        _peer: str | None = None  # counted in open_by_peer

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            peer = (transport.get_extra_info("peername") or ("",))[0]
            if per_peer and isinstance(peer, str) and not exempt(peer):
                peer = address_group(peer)  # a /64 counts as one peer
                if open_by_peer.get(peer, 0) >= per_peer:
                    transport.write(_TOO_MANY_CONNECTIONS)
                    transport.close()
                    return
                open_by_peer[peer] = open_by_peer.get(peer, 0) + 1
                self._peer = peer
            self._deadline = self.loop.call_later(timeout, self._too_slow)

        def data_received(self, data: bytes) -> None:
            if self._deadline is None and self.conn.their_state is h11.IDLE:
                self._deadline = self.loop.call_later(timeout, self._too_slow)
            super().data_received(data)
            state = self.conn.their_state
            if state is h11.SEND_BODY:
                if self._body_until is None:  # the headers are in: the body's turn
                    self._body_until = self.loop.time() + timeout
                    self._cancel()
                    self._deadline = self.loop.call_later(timeout, self._too_slow)
                else:
                    self._body_until += len(data) / body_rate
            elif state is not h11.IDLE and self._deadline is not None:
                self._cancel()  # the request is in
                self._body_until = None

        def connection_lost(self, exc: Exception | None) -> None:
            self._release()
            super().connection_lost(exc)

        def handle_websocket_upgrade(self, event: Any) -> None:
            # uvicorn hands the connection to its WebSocket protocol, whose connection_lost
            # is called instead of this one's: each handshake (refused: the servers have no
            # WebSocket route) kept its address's count taken for good, and 256 of them,
            # which any web page may start, got that address 429 until a restart.
            self._release()
            super().handle_websocket_upgrade(event)

        def _release(self) -> None:
            self._cancel()
            if self._peer is not None:
                release(open_by_peer, self._peer)
                self._peer = None

        def _cancel(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _too_slow(self) -> None:
            self._deadline = None
            if self.transport.is_closing():
                return
            state = self.conn.their_state
            if state is h11.IDLE:
                self.transport.close()
            elif state is h11.SEND_BODY and self._body_until is not None:
                if self.flow.read_paused:  # the app is slow to read it, not the client
                    self._body_until = max(self._body_until, self.loop.time() + timeout)
                left = self._body_until - self.loop.time()
                if left <= 0:
                    self.transport.close()
                else:  # bytes arrived meanwhile: look again when their credit runs out
                    self._deadline = self.loop.call_later(left, self._too_slow)
            else:
                self._body_until = None

    return HeaderDeadline


def proxy_options(trusted_proxies: str) -> dict[str, Any]:
    """uvicorn's options for reading the client's address from X-Forwarded-For: only from
    the proxies named (Settings.trusted_proxies). uvicorn's own default trusts 127.0.0.1, so
    any program on this machine could send a new made-up address with each wrong key and
    never be throttled.

    Example: proxy_options("") -> {"proxy_headers": False};
             proxy_options("127.0.0.1") -> {"proxy_headers": True,
                                             "forwarded_allow_ips": "127.0.0.1"}
    """
    trusted = trusted_list(trusted_proxies)
    if not trusted:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": trusted}


def trusted_list(trusted_proxies: str) -> str:
    """The Settings.trusted_proxies value as uvicorn reads it: names comma-separated, without
    spaces or empty entries ("" when none).

    Example: trusted_list(" 10.0.0.1, ,::1 ") -> "10.0.0.1,::1"
    """
    return ",".join(part.strip() for part in trusted_proxies.split(",") if part.strip())


def is_loopback(host: str) -> bool:
    """Does a server bound to host listen on this machine only?

    Example: is_loopback("127.0.0.1") -> True; is_loopback("::1") -> True;
             is_loopback("localhost") -> True; is_loopback("0.0.0.0") -> False;
             is_loopback("192.168.1.5") -> False; is_loopback("myhost") -> False
    """
    host = host.strip().strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # another host name may resolve to any interface: assume it is exposed


def loopback_host_header(host: str) -> bool:
    """Does a request's Host header name this machine's loopback (any port)?

    A server on loopback is reachable by any web page the user opens: a page from
    evil.example.com whose name is then made to resolve to 127.0.0.1 (DNS rebinding) talks
    to it as its own origin. Its requests still carry Host: evil.example.com, so a loopback
    server answers only requests addressed to localhost, a *.localhost name or a loopback
    address. A missing header (HTTP/1.0 tools) is let through: browsers always send one.

    Example: loopback_host_header("127.0.0.1:7860") -> True;
             loopback_host_header("[::1]:7860") -> True; loopback_host_header("localhost") -> True;
             loopback_host_header("app.localhost:8000") -> True;
             loopback_host_header("evil.example.com") -> False;
             loopback_host_header("[::1].evil.example.com") -> False;
             loopback_host_header("192.168.1.5:7860") -> False
    """
    name = host.strip()
    if not name:
        return True
    if name.startswith("["):  # [::1]:port, and nothing else after the address
        end = name.find("]")
        if end < 0 or not re.fullmatch(r"(:\d*)?", name[end + 1 :]):
            return False
        name = name[1:end]
    elif name.count(":") == 1:
        name = name.rsplit(":", 1)[0]
    name = name.rstrip(".").lower()
    return name.endswith(".localhost") or is_loopback(name)


class HttpMiddleware:
    """An ASGI middleware over `app` that acts on HTTP requests only: every other scope (a
    websocket, the lifespan) passes to app as it came. A subclass says in `http` what it
    does with a request; the base passes it on unchanged.

    Example: NoStore(app) hands GET /v1/models to NoStore.http, and a websocket straight
             to app
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    async def http(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


_FOREIGN_HOST = (
    "This server answers only requests addressed to this machine: open it at "
    "http://127.0.0.1 or http://localhost with its port."
)


class LoopbackHosts:
    """ASGI middleware for a server bound to loopback: a request whose Host header names
    another machine (`loopback_host_header`) gets 403 and one sentence, whatever its path."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = dict(scope.get("headers") or ())
            host = headers.get(b"host", b"").decode("latin-1")
            if not loopback_host_header(host):
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                body = {
                    "error": {"message": _FOREIGN_HOST, "type": "forbidden"},
                    "detail": _FOREIGN_HOST,
                }
                await send_json(send, 403, body, [])
                return
        await self.app(scope, receive, send)


def check_access(*, exposed: bool, key: str | None, no_auth: bool) -> str | None:
    """Decide whether a server may start; returns a warning to print, or None.

    A server reachable beyond loopback (`exposed`) needs a key, or an explicit `no_auth`.
    Raises InputError when it has neither.

    Example: check_access(exposed=False, key=None, no_auth=False) -> None
             check_access(exposed=True, key="s3cret", no_auth=False) -> None
             check_access(exposed=True, key=None, no_auth=True) -> "warning: ..."
             check_access(exposed=True, key=None, no_auth=False) raises InputError
    """
    if not exposed or key:
        return None
    if no_auth:
        return (
            "warning: listening beyond loopback without authentication (--no-auth): anyone "
            "who can reach this machine can read your documents through the chat and /v1, "
            "and upload or remove documents unless --read-only is set"
        )
    raise InputError(
        "listening beyond loopback needs an access key (the web chat's password and the "
        "API's bearer key): set ASSISTANT_API_KEY (or ASSISTANT_API_KEY_FILE to a file "
        "holding it), or pass --no-auth to serve it open"
    )


def load_api_key(settings: Settings) -> str | None:
    """The configured bearer key: settings.api_key, else the first line of api_key_file.

    Raises InputError when the key file is missing, unreadable or empty.
    """
    if settings.api_key is not None and settings.api_key.get_secret_value().strip():
        return settings.api_key.get_secret_value().strip()
    path = settings.api_key_file
    if path is None:
        return None
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"the API key file {path} cannot be read ({exc.__class__.__name__}): "
            "point ASSISTANT_API_KEY_FILE at a readable text file holding the key"
        ) from exc
    key = lines[0].strip() if lines else ""
    if not key:
        raise InputError(f"the API key file {path} is empty: put the key on its first line")
    return key


def _authorized(header: str | None, key: str) -> bool:
    """Constant-time check of an `Authorization: Bearer KEY` header."""
    scheme, _, given = (header or "").partition(" ")
    if scheme.lower() != "bearer":
        given = ""
    return hmac.compare_digest(given.strip().encode("utf-8"), key.encode("utf-8"))


# ---------------------------------------------------------------- requests (pure)


class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str
    text: str | None = None


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[_Part] | None = None


# The values of OpenAI's chat completions request, read strictly (no "yes" for true, no
# "1" for 1, no NaN or infinity, each in the range OpenAI gives): pydantic's lax reading
# took "stream": "yes" as true, and the sampling options went unread, so a request with a
# temperature of NaN was answered as if it were valid.
_Flag = Annotated[bool, Strict()]
_Whole = Annotated[int, Strict()]

_Temperature = Annotated[float, Strict(), Field(ge=0.0, le=2.0, allow_inf_nan=False)]
_Fraction = Annotated[float, Strict(), Field(ge=0.0, le=1.0, allow_inf_nan=False)]
_Penalty = Annotated[float, Strict(), Field(ge=-2.0, le=2.0, allow_inf_nan=False)]
_Bias = Annotated[float, Strict(), Field(ge=-100.0, le=100.0, allow_inf_nan=False)]
_Count = Annotated[int, Strict(), Field(ge=1)]


class _StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")
    include_usage: _Flag | None = None


class _ChatRequest(BaseModel):
    # Sampling options (temperature, max_tokens, ...) are checked as OpenAI checks them and
    # then ignored: answers are copied from the documents, not sampled.
    model_config = ConfigDict(extra="ignore")
    model: Annotated[str, Strict()]
    messages: list[_Message] = Field(min_length=1)
    stream: _Flag | None = None
    stream_options: _StreamOptions | None = None
    n: _Whole | None = None
    temperature: _Temperature | None = None
    top_p: _Fraction | None = None
    presence_penalty: _Penalty | None = None
    frequency_penalty: _Penalty | None = None
    max_tokens: _Count | None = None
    max_completion_tokens: _Count | None = None
    logprobs: _Flag | None = None
    top_logprobs: Annotated[int, Strict(), Field(ge=0, le=20)] | None = None
    seed: _Whole | None = None
    logit_bias: dict[str, _Bias] | None = None
    parallel_tool_calls: _Flag | None = None
    store: _Flag | None = None
    user: Annotated[str, Strict()] | None = None
    stop: Annotated[str, Strict()] | list[Annotated[str, Strict()]] | None = None


def _not_json(constant: str) -> Any:
    """json.loads' reading of NaN, Infinity and -Infinity, which are not JSON: refused."""
    raise ValueError(f"{constant} is not a JSON value")


def _text(message: Mapping[str, Any]) -> str:
    content = message.get("content")
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    parts = []
    for part in content:
        if part.get("type") == "text" and not isinstance(part.get("text"), str):
            # Said as a part of type 'text' that is not text, which read as a contradiction.
            raise InputError(
                f"a {message['role']} message holds a text part without its text: write each "
                'part as {"type": "text", "text": "…"}'
            )
        if part.get("type") != "text":
            raise InputError(
                f"a {message['role']} message holds a part of type {part.get('type')!r}: "
                "only text is understood"
            )
        parts.append(part["text"])
    return "\n".join(parts)


def conversation(messages: Sequence[Mapping[str, Any]]) -> tuple[str, list[dict[str, str]]]:
    """Split chat messages into (question, history): the last message must be the user's
    question; earlier user and assistant messages are its history (the newest few, each cut
    to a bounded length, with the "Sources:" list of our own earlier replies left out).
    System, developer and tool messages are ignored.

    Example: [{"role": "system", "content": "Be brief"},
              {"role": "user", "content": "Who invested?"},
              {"role": "assistant", "content": "Amazon. [1]\\n\\nSources:\\n[1] a.txt ..."},
              {"role": "user", "content": [{"type": "text", "text": "How much?"}]}]
             -> ("How much?", [{"role": "user", "content": "Who invested?"},
                               {"role": "assistant", "content": "Amazon. [1]"}])
    """
    turns = [m for m in messages if m["role"] in ("user", "assistant")]
    if not turns or turns[-1]["role"] != "user":
        raise InputError("the conversation must end with a user message: put the question last")
    history = []
    for m in turns[:-1][-_HISTORY_MESSAGES:]:
        content = _text(m)
        if m["role"] == "assistant":
            content = _unescape_live(content.split(_SOURCES, 1)[0].split(_NOTE, 1)[0])
        history.append({"role": m["role"], "content": content[:_HISTORY_CHARS]})
    return _text(turns[-1]), history


# ---------------------------------------------------------------- replies (pure)

# What would make a reply's Markdown live in a client that renders it: "<" opens HTML (an
# <img> fetches its src) and autolinks (<https://…>), "](" a link or an image (![x](url) is
# fetched as the reply is shown), "]:" the definition a reference link or image needs, "&"
# an entity (the document's "&lt;" would show as "<"). A backslash before each makes it the
# character itself in any CommonMark renderer; a backslash of the document's own is doubled,
# so that it cannot cancel one. Each decision looks at the character before at most, so a
# stream escaped piece by piece reads as the whole reply escaped at once.
_LIVE_MARKDOWN = re.compile(r"[\\<&]|(?<=\])[(:]")
_ESCAPED_MARKDOWN = re.compile(r"\\([\\<&(:])")


def inert_markdown(text: str, before: str = "") -> str:
    r"""text for a client that renders Markdown and HTML: each character that would load or
    link something, or show other than as written, escaped with a backslash, so that it
    shows as itself (a plain-text client shows the backslashes). before: the text already
    sent ahead of it, of which only the last character counts (a stream's pieces).

    Example: inert_markdown("![x](http://h/p.png) <img src=y> [1]") ->
             "![x]\\(http://h/p.png) \\<img src=y> [1]"
             inert_markdown("(http://h)", before="![x]") -> "\\(http://h)"
    """
    last = before[-1:]  # read for context, then cut off with its own escape
    return _escape_live(last + text)[len(_escape_live(last)) :]


def _escape_live(text: str) -> str:
    return _LIVE_MARKDOWN.sub(r"\\\g<0>", text)


def _unescape_live(text: str) -> str:
    r"""inert_markdown undone: a reply of ours sent back in the history reads as written.

    Example: _unescape_live("![x]\\(u) \\<b>") -> "![x](u) <b>"
    """
    return _ESCAPED_MARKDOWN.sub(r"\1", text)


def format_content(answer: Answer) -> str:
    """The reply text: the answer with its [n] markers, then one line per source.

    Example: an answer "Amazon invested $8 billion. [1]" citing chars 120-170 of a.txt ->
        'Amazon invested $8 billion. [1]\\n\\nSources:\\n[1] a.txt, characters 120–170:
        “Amazon has invested $8 billion in Anthropic.”'
    A refusal is its one sentence, with no sources. Notes follow ("Note: ..."): older turns
    left out, or a source flagged as reading like an instruction to the assistant (its
    source line then ends in "⚠ reads as an instruction ..."). The whole is shown_reply:
    a quote's ![x](url) loads nothing in a client that renders Markdown, and its bidi marks
    reorder nothing.
    """
    notes = "".join(f"{_NOTE}{note}" for note in filter(None, (answer.notice, *answer.notes)))
    if not answer.citations:
        return shown_reply(answer.text + notes)
    lines = []
    for c in answer.citations:
        where = f"page {c.page}, " if c.page else ""
        quote = " ".join(c.quote.split())
        flag = f" ⚠ {FLAG_NOTE}" if c.flag else ""
        lines.append(f"[{c.n}] {c.source}, {where}characters {c.start}–{c.end}: “{quote}”{flag}")
    # Quotes and names are document text: escaped like the answer, which quotes it too (the
    # citations field keeps them exactly as the document has them).
    return shown_reply(answer.text + _SOURCES + "\n".join(lines) + notes)


def shown_reply(text: str, before: str = "") -> str:
    """text as a /v1 reply's content: each bidi or control character written as its code
    point, as the web chat shows it (a quote's "1\u200f2\u200f3" was drawn "132" by a client
    that showed the reply, a number the document does not hold), then inert_markdown. One
    character at a time, with before (the text already sent), so a stream's pieces give the
    whole reply's.

    Example: shown_reply("Code 1\u200f2 ![x](u)") -> "Code 1[U+200F]2 ![x]\\(u)"
    """
    return inert_markdown(as_code_points(text), before=before)


def _citations(answer: Answer) -> list[dict[str, Any]]:
    keys = ("n", "source", "start", "end", "quote", "page", "flag")
    return [{k: v for k, v in asdict(c).items() if k in keys} for c in answer.citations]


def _notes(answer: Answer) -> dict[str, Any]:
    # Only when there are some: a plain answer's extra fields stay citations and refused.
    return {"notes": list(answer.notes)} if answer.notes else {}


def _completion(answer: Answer, *, model: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": format_content(answer)},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "citations": _citations(answer),
        "refused": answer.refused,
        **_notes(answer),
    }


def _chunk(ident: str, created: int, model: str, delta: dict[str, Any], **extra: Any) -> bytes:
    body = {
        "id": ident,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "delta": delta,
                "finish_reason": extra.pop("finish_reason", None),
                "logprobs": None,
            }
        ],
        **extra,
    }
    return _event(body)


def _event(body: dict[str, Any] | str) -> bytes:
    data = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    return f"data: {data}\n\n".encode()


def _error_body(message: str, kind: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def _sentence(exc: Exception) -> str:
    """An error as one sentence: one line, first letter capitalised (a leading file name left
    as it is), ending in a full stop.

    Example: InputError("the question is empty: type a question") ->
             "The question is empty: type a question."
    """
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    first = text.split(" ", 1)[0]
    if first.isalpha() and first.islower():
        text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _validation_sentence(exc: ValidationError) -> str:
    """Example: messages[0].role 'robot' -> "Invalid request at messages[0].role: Input should
    be 'system', ... or 'function': send an OpenAI chat completions request." """
    err = exc.errors()[0]
    where = ""
    for part in err.get("loc", ()):
        if isinstance(part, int):
            where += f"[{part}]"
        elif part not in ("str", "bool", "int") and "[" not in part:  # union member tags
            where += f".{part}" if where else part
    where = where or "the body"
    problem = err.get("msg", "invalid value")
    return f"Invalid request at {where}: {problem}: send an OpenAI chat completions request."


# ---------------------------------------------------------------- the routes


class _Endpoint:
    """The request handlers over one shared bot (Assistant swaps its index atomically)."""

    def __init__(
        self,
        bot: Assistant,
        *,
        key: str | None,
        model: str,
        gate: GenerationGate | None,
        load: ClientLoad | None = None,
    ) -> None:
        self.bot = bot
        self.key = key
        self.model = model
        self.gate = gate
        self.load = load
        self._limiter: Any = None

    def _limit(self) -> Any:
        import anyio

        # Created on first use, inside the server's event loop.
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(_CONCURRENCY)
        return self._limiter

    async def _run(self, fn: Any, *args: Any) -> Any:
        import anyio

        return await anyio.to_thread.run_sync(fn, *args, limiter=self._limit())

    def _error(self, status: int, message: str, kind: str, code: str | None = None) -> Response:
        from starlette.responses import JSONResponse

        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse(_error_body(message, kind, code), status_code=status, headers=headers)

    def _deny(self, request: Request) -> Response | None:
        if self.key is None or _authorized(request.headers.get("authorization"), self.key):
            return None
        return self._error(
            401,
            "Missing or wrong API key: send it as 'Authorization: Bearer KEY'.",
            "invalid_request_error",
            "invalid_api_key",
        )

    async def models(self, request: Request) -> Response:
        from starlette.responses import JSONResponse

        if (denied := self._deny(request)) is not None:
            return denied
        entry = {"id": self.model, "object": "model", "created": 0, "owned_by": "assistant"}
        return JSONResponse({"object": "list", "data": [entry]})

    async def chat_completions(self, request: Request) -> Response:
        if (denied := self._deny(request)) is not None:
            return denied
        address = client_address(request.scope)
        if self.load is not None and not self.load.enter(address):
            from starlette.responses import JSONResponse

            body = _error_body(self.load.refusal, "rate_limit", "too_many_questions")
            return JSONResponse(body, status_code=429, headers={"Retry-After": "1"})
        done: list[bool] = []  # the stream, once returned, says when the question is over
        try:
            return await self._complete(request, done)
        finally:
            if self.load is not None and not done:
                self.load.leave(address)

    async def _complete(self, request: Request, done: list[bool]) -> Response:
        try:
            chat = await self._parse(request)
        except _Rejected as exc:
            return self._error(exc.status, exc.message, "invalid_request_error", exc.code)
        try:
            question, history = conversation(
                [m.model_dump(exclude_none=True) for m in chat.messages]
            )
            if chat.stream:
                response = await self._stream(question, history, client_address(request.scope))
                done.append(True)
                return response
            answer = await self._run(self._answer, question, history)
        except InputError as exc:
            return self._error(400, _sentence(exc), "invalid_request_error")
        except AssistantError as exc:
            return self._error(500, _sentence(exc), "server_error")
        except Exception:  # a bug: log it here, give the client one line, not a traceback
            log.exception("chat completion failed")
            return self._error(500, _INTERNAL, "server_error")
        from starlette.responses import JSONResponse

        return JSONResponse(_completion(answer, model=self.model))

    async def _parse(self, request: Request) -> _ChatRequest:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise _Rejected(413, _TOO_LARGE, "request_too_large")
        from starlette.requests import ClientDisconnect

        body = bytearray()
        try:
            async for part in request.stream():
                body += part
                if len(body) > MAX_BODY_BYTES:
                    raise _Rejected(413, _TOO_LARGE, "request_too_large")
        except ClientDisconnect as exc:
            # Nobody reads the answer; it only keeps a 73-line traceback out of the log,
            # which a client hanging up mid-body in a loop filled at megabytes a second.
            raise _Rejected(400, "The request body stopped before its end: send it again.") from exc
        try:
            data = json.loads(body, parse_constant=_not_json)
        except (ValueError, UnicodeDecodeError) as exc:
            # ValueError beyond JSONDecodeError: a number over 4,300 digits, which Python
            # refuses to read (a 5 KB body was a 500 and a traceback in the log), and NaN
            # or Infinity, which JSON does not have (Python's reader took them).
            raise _Rejected(
                400, "The request body is not valid JSON: send a chat completions request."
            ) from exc
        except RecursionError as exc:
            raise _Rejected(
                400,
                "The request body's JSON is nested too deeply: send a chat completions request.",
            ) from exc
        if not isinstance(data, dict):
            raise _Rejected(400, "The request body must be a JSON object with model and messages.")
        try:
            chat = _ChatRequest.model_validate(data)
        except ValidationError as exc:
            raise _Rejected(400, _validation_sentence(exc)) from exc
        if chat.model != self.model:
            raise _Rejected(
                404,
                # The name as sent, cut: a 500 KB one came back whole.
                f"The model {chat.model[:100]!r} is not served here: use {self.model!r}.",
                "model_not_found",
            )
        if chat.n not in (None, 1):
            raise _Rejected(400, "Only one choice per request is supported: leave n at 1.")
        return chat

    def _answer(self, question: str, history: list[dict[str, str]]) -> Answer:
        if self.gate is None:
            return self.bot.ask(question, history)
        pieces = self.gate.stream(self.bot, question, history)
        return next(p for p in pieces if isinstance(p, Answer))  # stream() ends with it

    def _pieces(self, question: str, history: list[dict[str, str]]) -> Iterator[str | Answer]:
        if self.gate is None:
            return self.bot.stream(question, history)
        return self.gate.stream(self.bot, question, history)

    async def _stream(self, question: str, history: list[dict[str, str]], address: str) -> Response:
        from starlette.responses import StreamingResponse

        pieces = self._pieces(question, history)
        # The first piece is read before any byte is sent, so that a bad question is a
        # plain 400 rather than an error inside a stream.
        first = await self._run(next, pieces, _END)
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        load = self.load

        class Counted(StreamingResponse):
            """Counts the question in flight for address until the stream ends, fails or
            loses its client (a generator never started would run no `finally`)."""

            async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
                try:
                    await super().__call__(scope, receive, send)
                finally:
                    if load is not None:
                        load.leave(address)

        return Counted(self._events(first, pieces), media_type="text/event-stream", headers=headers)

    async def _events(self, first: Any, pieces: Iterator[str | Answer]) -> AsyncIterator[bytes]:
        ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        yield _chunk(ident, created, self.model, {"role": "assistant", "content": ""})
        streamed = ""  # as sent: inert_markdown, piece by piece
        piece = first
        try:
            while isinstance(piece, str):
                piece = shown_reply(piece, before=streamed)
                streamed += piece
                yield _chunk(ident, created, self.model, {"content": piece})
                piece = await self._run(next, pieces, _END)
        except AssistantError as exc:
            yield _event(_error_body(_sentence(exc), "server_error"))
            yield _event("[DONE]")
            return
        except Exception:
            log.exception("streamed chat completion failed")
            yield _event(_error_body(_INTERNAL, "server_error"))
            yield _event("[DONE]")
            return
        if not isinstance(piece, Answer):  # stream() always ends with its Answer
            log.error("Assistant.stream ended without an Answer")
            yield _event(_error_body(_INTERNAL, "server_error"))
            yield _event("[DONE]")
            return
        content = format_content(piece)
        if content.startswith(streamed):
            rest = content[len(streamed) :]
        else:
            # The checked answer differs from what was streamed (a sentence failed its
            # check): say so and give the checked answer whole, so the last word is it.
            rest = "\n\n(Checked answer, replacing the text above:)\n\n" + content
        if rest:
            yield _chunk(ident, created, self.model, {"content": rest})
        yield _chunk(
            ident,
            created,
            self.model,
            {},
            finish_reason="stop",
            citations=_citations(piece),
            refused=piece.refused,
            **_notes(piece),
        )
        yield _event("[DONE]")


class _Rejected(Exception):
    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


def api_routes(
    bot: Assistant,
    *,
    key: str | None = None,
    model: str = MODEL_ID,
    gate: GenerationGate | None = None,
    load: ClientLoad | None = None,
) -> list[BaseRoute]:
    """The endpoint's routes, to serve alone (`build_api`) or beside the web chat.

    With a key, every request must carry `Authorization: Bearer KEY`. With a gate (a
    server's: `generation_gate(bot)`), a model on this machine writes one answer at a time.
    With a load (a server's, shared with the web chat), an address with that many questions
    in flight gets 429 for one more.
    """
    require("starlette", extra="serve", feature="the OpenAI-compatible endpoint")
    from starlette.routing import Route

    endpoint = _Endpoint(bot, key=key, model=model, gate=gate, load=load)
    return [
        Route("/v1/chat/completions", endpoint.chat_completions, methods=["POST"]),
        Route("/v1/models", endpoint.models, methods=["GET"]),
    ]


def build_api(
    bot: Assistant,
    *,
    key: str | None = None,
    gate: GenerationGate | None = None,
    load: ClientLoad | None = None,
) -> FastAPI:
    """A FastAPI app serving only the endpoint; unknown paths get OpenAI-style errors too."""
    require("fastapi", extra="serve", feature="the OpenAI-compatible endpoint")
    from fastapi import FastAPI
    from starlette.exceptions import HTTPException
    from starlette.responses import JSONResponse

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        message = {
            404: f"There is nothing at {request.url.path}: use /v1/chat/completions or /v1/models.",
            405: f"{request.method} is not allowed on {request.url.path}.",
        }.get(status, "The request failed.")
        return JSONResponse(
            _error_body(message, "invalid_request_error"),
            status_code=status,
            headers=getattr(exc, "headers", None),
        )

    return FastAPI(
        title="assistant",
        routes=api_routes(bot, key=key, gate=gate, load=load),
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        exception_handlers={HTTPException: http_error},
    )


# ---------------------------------------------------------------- failed logins

_MAX_LOCKOUT = 3600.0  # seconds: the longest an address waits, however many failures
_ADDRESSES = 10_000  # addresses remembered at once (the least recent go first): bounded memory


class LoginThrottle:
    """Failed logins by client address. After `failures` in a row the address is refused
    for `lockout` seconds, doubled at each further failure (at most an hour); a success
    clears it, and failures are forgotten `window` seconds after the last one's lockout ends.
    Thread-safe.

    Example: t = LoginThrottle(failures=2, lockout=30, window=900); t.failed("a", now=0);
             t.failed("a", now=1) -> t.wait("a", now=2) == 29.0 and t.wait("b", now=2) == 0.0;
             a third failure at 31 -> t.wait("a", now=31) == 60.0
    """

    def __init__(self, *, failures: int, lockout: float, window: float) -> None:
        self.failures = failures
        self.lockout = lockout
        self.window = window
        self._seen: dict[str, tuple[int, float]] = {}  # address -> (failures, last one's time)
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginThrottle:
        return cls(
            failures=settings.login_failures,
            lockout=settings.login_lockout_seconds,
            window=settings.login_window_seconds,
        )

    def _pause(self, count: int) -> float:
        if count < self.failures:
            return 0.0
        return min(_MAX_LOCKOUT, self.lockout * 2.0 ** min(count - self.failures, 32))

    def _count(self, address: str, now: float) -> tuple[int, float]:
        count, last = self._seen.get(address, (0, now))
        if now - last > self._pause(count) + self.window:
            return 0, now
        return count, last

    def wait(self, address: str, now: float | None = None) -> float:
        """Seconds before address may try again (0.0: now)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            count, last = self._count(address, now)
            return max(0.0, last + self._pause(count) - now)

    def failed(self, address: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            count, _last = self._count(address, now)
            self._seen.pop(address, None)  # re-inserted last: dicts keep insertion order
            self._seen[address] = (count + 1, now)
            while len(self._seen) > _ADDRESSES:
                del self._seen[next(iter(self._seen))]

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._seen.pop(address, None)


def client_address(scope: Any) -> str:
    """The client's address as the per-client limits count it (`address_group`): the
    connection's own, or the one a trusted proxy names (uvicorn rewrites scope["client"] per
    `proxy_options`).

    Example: client_address({"client": ("127.0.0.1", 50123)}) == "127.0.0.1";
             client_address({"client": ("2001:db8::7", 50123)}) == "2001:db8::/64";
             client_address({}) == "unknown"
    """
    return address_group(str((scope.get("client") or ("unknown",))[0]))


def address_group(address: str) -> str:
    """The key under which per-client limits count an address: an IPv6 address by its /64
    (a client is given a whole /64 and may send from any of its 2**64 addresses, which
    counted apart gave one attacker unlimited budgets), an IPv4-mapped IPv6 address as the
    IPv4 address it is, anything else as it is.

    Example: address_group("2001:db8:1:2:aaaa::1") -> "2001:db8:1:2::/64";
             address_group("::ffff:203.0.113.9") -> "203.0.113.9";
             address_group("203.0.113.9") -> "203.0.113.9"; address_group("unknown") -> "unknown"
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address  # a Unix socket, "unknown": as it is
    if isinstance(ip, ipaddress.IPv4Address):
        return str(ip)
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))


def release(counts: dict[str, int], key: str, amount: int = 1) -> None:
    """Take amount off key's count, forgetting the key at zero, so that a table of counts
    by client address holds only the addresses with something in flight.

    Example: counts = {"a": 2}; release(counts, "a") -> {"a": 1}; release(counts, "a") -> {}
    """
    left = counts.get(key, amount) - amount
    if left > 0:
        counts[key] = left
    else:
        counts.pop(key, None)


class ClientLoad:
    """Questions in flight by client address, at most `limit` each (0: no limit), so that
    one visitor sending 60 questions at once cannot queue ahead of everyone else. `queued`
    counts an address's questions held elsewhere (the web chat's queue). Thread-safe.

    Example: load = ClientLoad(2); load.enter("a") and load.enter("a") -> True, True;
             load.enter("a") -> False (refused: say `load.refusal`); load.enter("b") -> True;
             load.leave("a"); load.enter("a") -> True
    """

    def __init__(self, limit: int, queued: Callable[[str], int] | None = None) -> None:
        self.limit = limit
        self.queued = queued
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(
        cls, settings: Settings, queued: Callable[[str], int] | None = None
    ) -> ClientLoad:
        return cls(settings.questions_per_client, queued)

    @property
    def refusal(self) -> str:
        """The one sentence a refused question gets."""
        plural = "s" if self.limit != 1 else ""
        return (
            f"Your address already has {self.limit} question{plural} being answered: wait "
            "for an answer, then ask again."
        )

    def enter(self, address: str) -> bool:
        """Count one more question for address, unless it has `limit` already; False:
        refuse it."""
        if not self.limit:
            return True
        elsewhere = self.queued(address) if self.queued is not None else 0
        with self._lock:
            count = self._counts.get(address, 0)
            if count + elsewhere >= self.limit:
                return False
            self._counts[address] = count + 1
            return True

    def leave(self, address: str) -> None:
        if not self.limit:
            return
        with self._lock:
            release(self._counts, address)  # bounded memory: only addresses in flight

    def count(self, address: str) -> int:
        """Questions in flight for address, wherever they are held."""
        elsewhere = self.queued(address) if self.queued is not None else 0
        with self._lock:
            return self._counts.get(address, 0) + elsewhere


class RequestsPerClient(HttpMiddleware):
    """ASGI middleware: at most `limit` requests in flight from one client address (0: no
    limit); one more gets 429 and one sentence at once.

    Gradio's heartbeat and event streams stay open for as long as the client likes: one
    client opening 2,000 of them made another visitor's page take 11 s to load, and enough
    of them would use up the server's file descriptors. A browser holds a few at a time
    (six connections per host, a stream or two per tab).

    Example: RequestsPerClient(app, 128) serves 128 open requests from 127.0.0.1; the 129th
             gets 429 "This address has 128 requests open to the server…"
    """

    def __init__(self, app: Any, limit: int) -> None:
        super().__init__(app)
        self.limit = limit
        self._counts: dict[str, int] = {}

    async def http(self, scope: Any, receive: Any, send: Any) -> None:
        if not self.limit:
            await self.app(scope, receive, send)
            return
        address = client_address(scope)
        count = self._counts.get(address, 0)
        if count >= self.limit:
            message = (
                f"This address has {self.limit} requests open to the server already: close "
                "some pages or connections, then try again."
            )
            body = {
                "detail": message,
                "error": {"message": message, "type": "rate_limit", "code": "too_many_requests"},
            }
            await send_json(send, 429, body, [(b"retry-after", b"5"), (b"connection", b"close")])
            return
        self._counts[address] = count + 1  # one event loop: no lock needed
        try:
            await self.app(scope, receive, send)
        finally:
            release(self._counts, address)


_CROSS_SITE = (
    "A page from another site or address cannot send requests to this server: open the chat "
    "at its own address."
)


# How browsers mark a request from a page of another origin (Sec-Fetch-Site). A page on
# another port of the same machine is "same-site" (a site is a host, whatever its port), and
# Gradio lets every localhost origin read its answers (CORS with credentials): such a page
# (another local web app, a notebook's output, a downloaded page opened through
# `python -m http.server`) deleted a document and read the reply.
_OTHER_PAGES = frozenset({b"cross-site", b"same-site"})


def _foreign_origin(origin: bytes | None, host: bytes) -> bool:
    """Does a request's Origin header name a page of another address than the one the
    request was sent to (its Host header)? No Origin (a program, not a browser) is not.

    Example: _foreign_origin(b"http://evil.example", b"127.0.0.1:7860") -> True;
             _foreign_origin(b"http://127.0.0.1:9999", b"127.0.0.1:7860") -> True;
             _foreign_origin(b"null", b"127.0.0.1:7860") -> True (a sandboxed page, a file);
             _foreign_origin(b"http://127.0.0.1:7860", b"127.0.0.1:7860") -> False;
             _foreign_origin(None, b"127.0.0.1:7860") -> False
    """
    if origin is None:
        return False
    # A browser writes an origin as scheme://host[:port], the port only when it is not the
    # scheme's default, as it writes the Host header: the two are equal for the page's own.
    _scheme, sep, address = origin.strip().lower().partition(b"://")
    return not sep or address != host.strip().lower()


def is_logout(scope: Any) -> bool:
    """Whether a request is for Gradio's logout (a GET that ends a login): CrossSiteWrites
    refuses it from another site's page, and ui._OneLogout ends this browser's login only.

    Example: is_logout({"path": "/logout/"}) -> True; is_logout({"path": "/login"}) -> False
    """
    return str(scope.get("path", "")).rstrip("/") == "/logout"


class CrossSiteWrites(HttpMiddleware):
    """ASGI middleware: a request that would change or compute something (any method but
    GET, HEAD and OPTIONS, and a logout) sent by a browser from a page of another site, or
    of another address of the same site (another port of this machine), gets 403 and one
    sentence.
    Browsers say so in Sec-Fetch-Site ("cross-site", "same-site"); programs (curl, the
    OpenAI client, gradio_client) send no such header and pass, and so does the chat's own
    page, behind a proxy or not ("same-origin").

    A web page the user opens could otherwise make the browser post files to the chat's
    upload route (a form post needs no permission), filling the upload folder up to the
    user's own cap and blocking their uploads, or post questions to /v1 as plain text; and a
    page on another port of this machine could remove documents and read the answers. A
    script of such a page reading from the chat (Sec-Fetch-Mode "cors") is refused too.

    A browser that sends no Sec-Fetch-Site (Safari before 16.4, older Chrome and Firefox)
    names the sending page in Origin: a request that would change something from a page of
    another address, or from an opaque one (Origin "null"), gets the same 403.

    Example: POST /gradio_api/upload with "Sec-Fetch-Site: cross-site" (or "same-site")
             -> 403; the same with "same-origin", or without the header -> passed on;
             without it but with "Origin: http://evil.example" -> 403
    """

    async def http(self, scope: Any, receive: Any, send: Any) -> None:
        headers = dict(scope.get("headers") or ())
        other = headers.get(b"sec-fetch-site", b"").strip().lower() in _OTHER_PAGES
        # A script of another origin reading (mode "cors"): Gradio's own CORS answer let
        # any localhost page, and any page at all when the chat is served beyond
        # loopback, read what the user's browser may (/config names every document).
        # Links to the chat and images are "navigate" and "no-cors", and pass.
        reads = headers.get(b"sec-fetch-mode", b"").strip().lower() == b"cors"
        # Gradio's GET /logout ends a login: a link or an image of another site's page
        # logged the user out (and with them every visitor: see ui._OneLogout).
        writes = scope.get("method") not in ("GET", "HEAD", "OPTIONS") or is_logout(scope)
        if b"sec-fetch-site" not in headers and writes:
            # A browser without Sec-Fetch headers (Safari before 16.4, older others)
            # still names the page that sent a POST in Origin.
            other = _foreign_origin(headers.get(b"origin"), headers.get(b"host", b""))
        if other and (writes or reads):
            body = {
                "detail": _CROSS_SITE,
                "error": {"message": _CROSS_SITE, "type": "forbidden"},
            }
            await send_json(send, 403, body, [])
            return
        await self.app(scope, receive, send)


# The headers by which a proxy names the address its visitors reach the server at. Gradio
# builds the page's own address from them, for any client: the root its script sends every
# call to, the address of each file it serves, the examples of its API page and where a
# login or logout sends the browser. X-Gradio-Server is set by Gradio's page-rendering Node
# server, which the chat does not run.
_ADDRESS_HEADERS = frozenset({b"x-forwarded-host", b"x-forwarded-proto", b"x-gradio-server"})


class ForwardedAddress:
    """ASGI middleware: the headers naming the server's public address (X-Forwarded-Host,
    X-Forwarded-Proto, X-Gradio-Server) are dropped from every request unless trusted
    proxies are named (Settings.trusted_proxies); then X-Forwarded-Host is kept, as the
    proxy sets it, and X-Forwarded-Proto says what uvicorn read from a trusted proxy (the
    request's scheme), whoever sent the header.

    Gradio believed them from any client: a request with "X-Forwarded-Host: evil.example"
    was sent a page whose script calls http://evil.example/gradio_api/… (its policy kept
    the browser from following), and its logout redirected there. Behind a proxy that
    passes the header on and a cache that keeps pages, every visitor would get that page,
    the chat dead for all of them.

    Example: GET /config with "X-Forwarded-Host: evil.example" -> root "http://127.0.0.1:7860";
             the same through a trusted proxy -> root "http://evil.example" (the proxy's word)
    """

    def __init__(self, app: Any, trusted_proxies: str = "") -> None:
        self.app = app
        self.behind_proxy = bool(trusted_list(trusted_proxies))

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = scope.get("headers") or []
            if any(name.lower() in _ADDRESS_HEADERS for name, _value in headers):
                kept = [
                    (name, value)
                    for name, value in headers
                    if name.lower() not in _ADDRESS_HEADERS
                    or (self.behind_proxy and name.lower() == b"x-forwarded-host")
                ]
                if self.behind_proxy and scope.get("scheme") in ("https", "wss"):
                    kept.append((b"x-forwarded-proto", b"https"))
                scope = {**scope, "headers": kept}
        await self.app(scope, receive, send)


class NoStore(HttpMiddleware):
    """ASGI middleware: every response says `Cache-Control: no-store`, so that no cache in
    front keeps an answer (or the model list) for another client; the web chat's own
    server says so through its page headers (ui.cache_control).

    Example: GET /v1/models -> "cache-control: no-store"
    """

    async def http(self, scope: Any, receive: Any, send: Any) -> None:
        async def no_store(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = replaced_headers(
                    message.get("headers", []),
                    lambda name: name == b"cache-control",
                    [(b"cache-control", b"no-store")],
                )
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, no_store)


def replaced_headers(
    headers: Iterable[tuple[bytes, bytes]],
    dropped: Callable[[bytes], bool],
    ours: Iterable[tuple[bytes, bytes]],
) -> list[tuple[bytes, bytes]]:
    """A response's headers less those whose name (in lower case) is dropped, with ours
    after them: a middleware's headers take the place of the app's of the same name, so a
    cache in front never reads two that disagree.

    Example: replaced_headers([(b"Cache-Control", b"max-age=60"), (b"etag", b"x")],
             {b"cache-control"}.__contains__, [(b"cache-control", b"no-store")])
             -> [(b"etag", b"x"), (b"cache-control", b"no-store")]
    """
    return [(k, v) for k, v in headers if not dropped(k.lower())] + list(ours)


_TWO_LENGTHS = (
    "The request gives its body's length twice, as Content-Length and as Transfer-Encoding: "
    "send one of them."
)


class OneBodyLength(HttpMiddleware):
    """ASGI middleware: a request that declares both a Content-Length and a
    Transfer-Encoding gets 400 and one sentence before anything reads its body, and its
    connection is closed.

    The server reads such a body by its Transfer-Encoding (chunked), while the checks of a
    body's size read its Content-Length: a 300 MB chunked body sent with "Content-Length:
    10" passed the chat's 8 MB limit and was held in memory whole (the server grew from 0.4
    to 1.6 GB, for good), and an upload's past its address's budget. A proxy in front that
    reads the other header would also see another request than the server (request
    smuggling). HTTP lets a server refuse such a request; no client sends one.

    Example: POST /gradio_api/queue/join with "Content-Length: 10" and "Transfer-Encoding:
             chunked" -> 400 "The request gives its body's length twice…", connection closed
    """

    async def http(self, scope: Any, receive: Any, send: Any) -> None:
        names = {name.lower() for name, _value in scope.get("headers") or ()}
        if b"content-length" in names and b"transfer-encoding" in names:
            body = {
                "detail": _TWO_LENGTHS,
                "error": {"message": _TWO_LENGTHS, "type": "invalid_request_error"},
            }
            await send_json(send, 400, body, [(b"connection", b"close")])
            return
        await self.app(scope, receive, send)


def _login_route(scope: Any) -> int:
    """The status that means a wrong secret for this request: 400 for the chat's login form
    (Gradio's POST /login), 401 for /v1's bearer key; 0 for every other request."""
    path = str(scope.get("path", "")).rstrip("/")
    if path == "/login" and scope.get("method") == "POST":
        return 400
    if path == "/v1" or path.startswith("/v1/"):
        return 401
    return 0


class ThrottledLogins(HttpMiddleware):
    """ASGI middleware: refuses logins (and /v1 requests) from an address that failed too
    often (LoginThrottle) with 429, one sentence and Retry-After, before the secret is even
    compared. A login attempt counts as failed until it succeeds, so a burst of guesses
    sent at once is stopped at the limit as well; /v1 counts its 401s (many questions
    from one address run at once there)."""

    def __init__(self, app: Any, throttle: LoginThrottle) -> None:
        super().__init__(app)
        self.throttle = throttle

    async def http(self, scope: Any, receive: Any, send: Any) -> None:
        wrong = _login_route(scope)
        if not wrong:
            await self.app(scope, receive, send)
            return
        address = client_address(scope)
        wait = self.throttle.wait(address)
        if wait > 0:
            await _too_many(send, wait, openai=wrong == 401)
            return
        if wrong == 400:
            self.throttle.failed(address)  # until it succeeds: see the class's note
        status = 0

        async def watch(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        await self.app(scope, receive, watch)
        if 200 <= status < 300:
            self.throttle.succeeded(address)
        elif status == wrong == 401:
            self.throttle.failed(address)


async def _too_many(send: Any, wait: float, *, openai: bool) -> None:
    seconds = max(1, math.ceil(wait))
    message = (
        f"Too many failed logins from this address: wait {seconds} s, then try again "
        "with the right access key."
    )
    body = (
        {"error": {"message": message, "type": "rate_limit", "code": "too_many_logins"}}
        if openai
        else {"detail": message}
    )
    await send_json(send, 429, body, [(b"retry-after", str(seconds).encode())])


async def send_json(
    send: Any, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]]
) -> None:
    """One JSON response straight from a middleware, with extra headers."""
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def serve(
    folder: str | Path,
    *,
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8000,
    key: str | None = None,
) -> None:
    """Index folder (only what changed) and serve the endpoint until interrupted."""
    for module in ("fastapi", "uvicorn"):  # before the documents are indexed
        require(module, extra="serve", feature="the OpenAI-compatible endpoint")
    import uvicorn

    from .pipeline import Assistant

    bot = Assistant.from_folder(folder, index_dir=settings.index_location, settings=settings)
    bot.warm_up()
    where = f"[{host}]" if ":" in host else host
    print(f"OpenAI-compatible endpoint: http://{where}:{port}/v1 (model {MODEL_ID!r})")
    gate = generation_gate(bot)
    app = build_api(bot, key=key, gate=gate, load=ClientLoad.from_settings(settings))
    # Wrong keys are throttled here as in the web chat: a guessed key gets a few tries only.
    guarded: Any = ThrottledLogins(app, LoginThrottle.from_settings(settings)) if key else app
    guarded = RequestsPerClient(CrossSiteWrites(guarded), settings.requests_per_client)
    if is_loopback(host):
        guarded = LoopbackHosts(guarded)
    guarded = NoStore(OneBodyLength(guarded))
    quiet_stream_errors()
    uvicorn.run(
        guarded,
        host=host,
        port=port,
        log_level="warning",
        http=header_deadline_protocol(trusted_proxies=settings.trusted_proxies),
        **proxy_options(settings.trusted_proxies),
    )
