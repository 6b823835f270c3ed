"""The sixth red-team pass on a running web chat: Gradio's own routes reached over HTTP past
the chat's handlers (its file route, which fetched web addresses for a visitor, and its run
history pages), each sent as a hostile client would.

The servers here are served as `assistant ui` serves them (the chat mounted on the early
server) with the fake embedder, so these run in seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from servers import thread_uvicorn
from test_redteam import one_sentence
from test_redteam4 import Limited, _client, _served


@pytest.fixture
def plain(tmp_path: Path) -> Iterator[Limited]:
    with _served(tmp_path) as served:
        yield served


# ---------------------------------------------------------------- what the server fetches


class _Outside:
    """A stand-in for another site: an ASGI app that records every request it is sent."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        self.seen.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"fetched from outside"})


@pytest.fixture
def outside(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[_Outside, int]]:
    """Another site, on a loopback port, that Gradio's address check takes for a public one
    (as it would take any site on the internet; the tests must not reach the internet)."""
    import safehttpx

    async def public(_host: str) -> str:
        return "127.0.0.1"

    monkeypatch.setattr(safehttpx, "async_validate_url", public)
    site = _Outside()
    with thread_uvicorn(site, lifespan="off") as port:
        yield site, port


@pytest.mark.parametrize("route", ["file=", "file/"])
def test_the_file_route_does_not_fetch_web_addresses(
    plain: Limited, outside: tuple[_Outside, int], route: str
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
