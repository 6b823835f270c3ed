"""The second red-team pass on a running web chat: one visitor's load on the others (a
language model held by one question, request bodies read whole, a burst of uploads), each
sent over HTTP as a hostile client would, against the server `assistant ui` serves.

The fixture (test_redteam.mounted) serves with the fake embedder, so these run in seconds;
what is under test is what one request can cost everyone else, not the answers.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fakes import fake_bot
from servers import page_call
from test_redteam import Mounted, call, mounted, one_sentence

__all__ = ["mounted"]  # the fixture, imported for pytest


# ---------------------------------------------------------------- a model held by one visitor


class _HeldModel:
    """An answer backend that stands for a language model busy for as long as the test
    says: it signals `started`, waits for `release`, then copies as the extractive mode."""

    name = "held-llm"

    def __init__(self, settings: Any, started: threading.Event, release: threading.Event):
        from assistant.answer.extractive import ExtractiveBackend

        self._copy = ExtractiveBackend(settings)
        self.started, self.release = started, release
        self.calls = 0

    def stream(self, request: Any) -> Iterator[Any]:
        self.calls += 1
        self.started.set()
        self.release.wait(120)
        yield from self._copy.stream(request)


@pytest.fixture
def held() -> Iterator[tuple[threading.Event, threading.Event, list[_HeldModel]]]:
    from assistant.answer.registry import register_backend, unregister_backend

    started, release = threading.Event(), threading.Event()
    built: list[_HeldModel] = []

    def factory(settings: Any) -> _HeldModel:
        built.append(_HeldModel(settings, started, release))
        return built[-1]

    register_backend("held-llm", factory, description="A model held by the test.", replace=True)
    try:
        yield started, release, built
    finally:
        release.set()
        unregister_backend("held-llm")


def test_a_visitor_holding_the_language_model_does_not_hold_everyone_else(
    held: tuple[threading.Event, threading.Event, list[_HeldModel]], mounted: Mounted
) -> None:  # `held` first: the page offers the modes registered when it is built
    # Found in this pass: a question for a model on this machine held a question slot for
    # as long as the model wrote (llama.cpp serves one answer at a time), so eight visitors
    # choosing `local` made another visitor's extractive answer wait 90 s. Now one model
    # answer is written at a time; a question for the model meanwhile gets the extractive
    # answer at once, saying why.
    from assistant.api import BUSY_NOTICE

    started, release, built = held
    first: list[tuple[str, Any]] = []
    question = "Where does Amazon build custom chips?"
    holder = threading.Thread(
        target=lambda: first.append(call(mounted.url, "ask", [question, None, None, "held-llm"]))
    )
    holder.start()
    try:
        assert started.wait(60), "the first question never reached the model"
        # Short client timeouts: without the gate these calls wait for `release`, forever.
        for mode in ("held-llm", "held-llm", None):
            kind, answer = call(mounted.url, "ask", [question, None, None, mode], within=45)
            assert kind == "complete", answer
            (result,) = answer
            assert "Austin" in result["text"] and not result["refused"], result
            assert result["notice"] == (BUSY_NOTICE if mode else ""), result
        # The page's own chat handler, through the queue as the page's script sends it.
        kind, outputs = _page_ask(mounted.url, question, "held-llm")
        assert kind == "complete", outputs
        shown = json.dumps(outputs[1][-2:], ensure_ascii=False)  # the answer and sources
        assert "Austin" in shown and BUSY_NOTICE in shown, shown
        # /v1 answers in the server's own mode here (extractive): never held back.
        reply = httpx.post(
            f"{mounted.url}/v1/chat/completions",
            json={"model": "assistant", "messages": [{"role": "user", "content": question}]},
            timeout=30,
        )
        assert reply.status_code == 200 and "Austin" in reply.text, reply.text
        assert sum(m.calls for m in built) == 1  # the busy questions never reached the model
    finally:
        release.set()
        holder.join(60)
    ((kind, answer),) = first
    assert kind == "complete" and answer[0]["notice"] == "", answer
    # The slot was given back: the next question for the model reaches it.
    kind, answer = call(mounted.url, "ask", [question, None, None, "held-llm"], within=45)
    assert kind == "complete" and answer[0]["notice"] == "", answer
    assert sum(m.calls for m in built) == 2


def _page_ask(url: str, question: str, mode: str, within: float = 45) -> tuple[str, Any]:
    """Ask through the chat's own handler (not in the API), by its place in the app's
    config, as the page's script does: ("complete", outputs) or ("error", message)."""
    config = httpx.get(f"{url}/config", timeout=30).json()
    ids = {c["id"]: c for c in config["components"]}
    index = next(
        i
        for i, d in enumerate(config["dependencies"])
        if d["inputs"] and ids[d["inputs"][0]]["props"].get("elem_id") == "question"
    )
    return page_call(url, index, [question, [], [], 4, mode], within)


# ---------------------------------------------------------------- request bodies


@pytest.mark.parametrize("route", ["/gradio_api/call/ask", "/gradio_api/queue/join"])
@pytest.mark.parametrize("chunked", [False, True], ids=["sized", "chunked"])
def test_a_huge_request_body_is_refused_before_it_is_read(
    mounted: Mounted, route: str, chunked: bool
) -> None:
    # Found in this pass: Gradio reads any body whole, whatever its size: eight 50 MB
    # questions sent at once took the server from 0.9 to 2.0 GB. Now a body over 8 MB gets
    # 413 and one sentence, sized or chunked.
    head, tail = b'{"data": ["', b'", null, null, null], "fn_index": 0, "session_hash": "x"}'
    filler = b"a" * (1024 * 1024)
    body: Any = head + filler * 12 + tail
    if chunked:
        body = iter([head, *([filler] * 12), tail])  # no Content-Length: sent chunked
    reply = httpx.post(
        f"{mounted.url}{route}",
        content=body,
        headers={"content-type": "application/json"},
        timeout=60,
    )
    assert reply.status_code == 413, reply.text[:200]
    message = reply.json()["detail"]
    assert one_sentence(message) and "over 8 MB" in message, message
    # An ordinary request still goes through the same route.
    kind, answer = call(
        mounted.url, "ask", ["Where does Amazon build custom chips?", None, None, None], within=45
    )
    assert kind == "complete" and "Austin" in answer[0]["text"], answer


# ---------------------------------------------------------------- a burst of uploads


class _BlockedBot:
    """Stands for an Assistant whose indexing is stuck behind a long upload."""

    def __init__(self) -> None:
        from assistant import Settings

        self.release = threading.Event()
        self.added: list[str] = []
        self.settings, self.docs_dir = Settings(), None  # what the indexer reads of a bot

    def add_document(self, name: str, content: bytes, **_: Any) -> Any:
        self.release.wait(60)
        self.added.append(name)
        from assistant.schema import SyncReport

        return SyncReport()


def test_uploads_waiting_to_be_indexed_are_bounded_and_the_rest_are_told_so() -> None:
    # Found in this pass: the indexer's queue had no bound, and one request may carry 1,000
    # files, each kept as a copy on disk until its turn: a burst of tiny uploads grew it
    # without end. Now at most max_waiting wait; the next one is refused in one sentence.
    from assistant.errors import InputError
    from assistant.ui import _Indexer

    bot = _BlockedBot()
    # All three from one client, which may take them all here (one client's share of the
    # places is red team 10's test).
    indexer = _Indexer(bot, child_from=None, max_waiting=3, max_waiting_per_client=3)  # type: ignore[arg-type]
    try:
        ids = [indexer.submit(f"n{i}.txt", b"Zebras live in Kenya.") for i in range(3)]
        with pytest.raises(InputError, match="3 uploads are already waiting to be indexed"):
            indexer.submit("n3.txt", b"One too many.")
        bot.release.set()
        indexer.wait(ids)
        assert bot.added == ["n0.txt", "n1.txt", "n2.txt"]
        indexer.wait([indexer.submit("n4.txt", b"Room again.")])  # done ones no longer count
        assert bot.added[-1] == "n4.txt"
    finally:
        bot.release.set()
        indexer.close()


def test_a_burst_of_tiny_uploads_is_refused_past_the_bound_in_one_line_each(
    mounted: Mounted,
) -> None:
    from assistant.ui import _MAX_WAITING

    count = _MAX_WAITING + 60
    parts = [
        ("files", (f"tiny{i}.txt", f"Tiny note {i}.".encode(), "text/plain")) for i in range(count)
    ]
    uploaded = httpx.post(f"{mounted.url}/gradio_api/upload", files=parts, timeout=120)
    assert uploaded.status_code == 200, uploaded.text[:200]
    files = [{"path": p, "meta": {"_type": "gradio.FileData"}} for p in uploaded.json()]
    kind, outputs = call(mounted.url, "upload", [files])
    assert kind == "complete", outputs
    status = outputs[1]
    refused = status.count("uploads are already waiting to be indexed: upload it again")
    added = status.count("added: ask about it now")
    assert refused >= 1 and added + refused == count, (added, refused)
    assert len(list(mounted.docs.glob("tiny*.txt"))) == added <= _MAX_WAITING + 20
    assert "/tmp" not in status and "Traceback" not in status


# ---------------------------------------------------------------- text no encoder takes


_ODD_QUESTION = '"How much has Amazon invested in Anthropic? \\ud800"'
_ODD_HISTORY = (
    '[{"role": "user", "content": "Who invested \\udfff?"}, {"role": "assistant", "content": "x"}]'
)


@pytest.mark.parametrize("stream", [False, True])
def test_a_lone_surrogate_in_a_question_to_v1_is_answered_not_a_server_error(
    seed_bot: Any, stream: bool
) -> None:
    # Found in this pass: JSON's "\ud800" escape gives a lone surrogate, which the model's
    # tokenizer does not take: /v1 answered 500 "the assistant failed on this request".
    # Now it reads as U+FFFD and the question is answered. (The real model: the fake
    # embedder takes any text.)
    from fastapi.testclient import TestClient

    from assistant.api import build_api

    body = (
        f'{{"model": "assistant", "stream": {json.dumps(stream)}, '
        f'"messages": {_ODD_HISTORY[:-1]}, {{"role": "user", "content": {_ODD_QUESTION}}}]}}'
    ).encode()
    reply = TestClient(build_api(seed_bot)).post(
        "/v1/chat/completions", content=body, headers={"content-type": "application/json"}
    )
    assert reply.status_code == 200, reply.text
    assert "billion" in reply.text and "server_error" not in reply.text, reply.text


def test_a_lone_surrogate_in_a_question_to_ask_is_answered(served: Any) -> None:
    url = served.url.rstrip("/")
    with httpx.Client(timeout=120) as client:  # the raw JSON, as a page script may send it
        started = client.post(
            f"{url}/gradio_api/call/ask",
            content=f'{{"data": [{_ODD_QUESTION}, {_ODD_HISTORY}, null, null]}}'.encode(),
            headers={"content-type": "application/json"},
        )
        assert started.status_code == 200, started.text
        events = client.get(f"{url}/gradio_api/call/ask/{started.json()['event_id']}")
    assert "event: complete" in events.text and "billion" in events.text, events.text


# ---------------------------------------------------------------- names that look the same


def test_a_decomposed_name_is_saved_composed_and_meets_its_twin(mounted: Mounted) -> None:
    # Found in this pass: "café.txt" as a Mac sends it (e + U+0301) was saved as
    # "cafe_.txt", beside the composed "café.txt" another visitor uploaded: two documents
    # under one name to a person, and a mangled name. Now names are composed first, so the
    # second upload is the first one's name, and is held back rather than added beside it.
    import unicodedata

    composed, decomposed = (unicodedata.normalize(f, "café menu.txt") for f in ("NFC", "NFD"))
    parts = [
        ("files", (composed, b"The first menu prices espresso at 3 euros.", "text/plain")),
        ("files", (decomposed, b"The second menu prices espresso at 9 euros.", "text/plain")),
    ]
    uploaded = httpx.post(f"{mounted.url}/gradio_api/upload", files=parts, timeout=60)
    assert uploaded.status_code == 200, uploaded.text
    files = [
        {"path": path, "orig_name": name, "meta": {"_type": "gradio.FileData"}}
        for path, name in zip(uploaded.json(), (composed, decomposed), strict=True)
    ]
    kind, outputs = call(mounted.url, "upload", [files])
    assert kind == "complete", outputs
    assert sorted(p.name for p in mounted.docs.iterdir()) == ["a.txt", composed]
    assert "would replace" in outputs[1] and outputs[1].count("added: ask about it now") == 1
    text = (mounted.docs / composed).read_text(encoding="utf-8")
    assert "3 euros" in text


def test_v1_on_a_server_whose_own_mode_is_a_model_gives_the_busy_answer_meanwhile(
    held: tuple[threading.Event, threading.Event, list[_HeldModel]], tmp_path: Any
) -> None:
    # The same gate for /v1 when the server itself answers with a model on this machine:
    # the second question meanwhile, plain or streamed, is the extractive answer and a note.
    from fastapi.testclient import TestClient

    from assistant.api import BUSY_NOTICE, build_api, generation_gate

    started, release, built = held
    bot = fake_bot(
        tmp_path, {"a.txt": "Amazon builds custom chips in Austin.\n"}, answer_mode="held-llm"
    )
    app = build_api(bot, gate=generation_gate(bot))
    body = {"model": "assistant", "messages": [{"role": "user", "content": "Who builds chips?"}]}
    first: list[Any] = []
    holder = threading.Thread(
        target=lambda: first.append(TestClient(app).post("/v1/chat/completions", json=body))
    )
    holder.start()
    try:
        assert started.wait(60), "the first question never reached the model"
        for stream in (False, True):
            reply = TestClient(app).post("/v1/chat/completions", json={**body, "stream": stream})
            assert reply.status_code == 200 and "Austin" in reply.text, reply.text
            assert f"Note: {BUSY_NOTICE}" in reply.text, reply.text
        assert sum(m.calls for m in built) == 1
    finally:
        release.set()
        holder.join(60)
    assert first[0].status_code == 200 and "Note:" not in first[0].text, first[0].text


class _Recording:
    """Stands for an Assistant: records the mode of each stream, writes two pieces."""

    def __init__(self) -> None:
        from types import SimpleNamespace

        self.settings = SimpleNamespace(answer_mode="extractive")
        self.modes: list[str | None] = []

    def stream(self, question: str, history: Any = None, **options: Any) -> Iterator[str]:
        self.modes.append(options.get("mode"))
        yield "first "
        yield "second"


def test_a_visitor_who_leaves_mid_answer_gives_the_model_back() -> None:
    from assistant.api import GenerationGate

    gate, bot = GenerationGate(), _Recording()
    left = gate.stream(bot, "q", mode="local")  # type: ignore[arg-type]
    assert next(left) == "first "  # the model is writing for this visitor
    assert list(gate.stream(bot, "q", mode="local")) == ["first ", "second"]  # type: ignore[arg-type]
    assert bot.modes == ["local", "extractive"]  # meanwhile: copied instead
    left.close()  # the visitor closed the page
    list(gate.stream(bot, "q", mode="local"))  # type: ignore[arg-type]
    list(gate.stream(bot, "q", mode="openai"))  # type: ignore[arg-type]
    assert bot.modes[2:] == ["local", "openai"]  # the model again; a cloud one never held


# ---------------------------------------------------------------- DNS rebinding


@pytest.mark.parametrize("host", ["evil.example.com", "evil.example.com:7860", "10.0.0.5"])
def test_a_page_from_another_site_cannot_reach_the_loopback_chat(
    mounted: Mounted, host: str
) -> None:
    # A web page whose name is made to resolve to 127.0.0.1 (DNS rebinding) talks to the
    # chat as its own origin; its requests still name its own host.
    headers = {"Host": host, "Origin": f"http://{host}"}
    for method, path, body in (
        ("GET", "/", None),
        ("GET", "/config", None),
        ("POST", "/gradio_api/call/remove", {"data": ["a.txt"]}),
    ):
        refused = httpx.request(method, f"{mounted.url}{path}", json=body, headers=headers)
        assert refused.status_code == 403, (path, refused.text[:200])
        assert one_sentence(refused.json()["detail"])
    assert (mounted.docs / "a.txt").exists()
    # Addressed to this machine, it is served as before.
    for own in ("localhost", "127.0.0.1", "chat.localhost"):
        port = mounted.url.rsplit(":", 1)[1]
        page = httpx.get(f"{mounted.url}/config", headers={"Host": f"{own}:{port}"})
        assert page.status_code == 200, own


def test_loopback_host_header() -> None:
    from assistant.api import loopback_host_header

    assert loopback_host_header("127.0.0.1:7860") and loopback_host_header("[::1]:7860")
    assert loopback_host_header("localhost") and loopback_host_header("LOCALHOST.:80")
    assert loopback_host_header("127.1.2.3") and loopback_host_header("a.localhost:1")
    assert not loopback_host_header("evil.example.com")
    assert not loopback_host_header("localhost.evil.example.com")
    assert not loopback_host_header("192.168.1.5:7860") and not loopback_host_header("[::]:80")
