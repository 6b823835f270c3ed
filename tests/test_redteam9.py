"""The ninth red-team pass on a running web chat: Gradio's development and monitoring routes,
one visitor's upload shared with another's, file names that hide control characters, /v1
values of the wrong kind, and a small PDF that reads for a long time; sent over HTTP as a
hostile client would, or read as the indexer reads them.

The servers here are served as `assistant ui` serves them (the chat mounted on the early
server) with the fake embedder, so these run in seconds.
"""

from __future__ import annotations

import time

import httpx
import pytest
from test_redteam import one_sentence
from test_redteam4 import Limited

# ---------------------------------------------------------------- routes the product lacks


def test_the_development_reload_stream_is_not_served(
    plain: Limited, capfd: pytest.CaptureFixture[str]
) -> None:
    # Found in red team 8: Gradio's /gradio_api/dev/reload, the event stream its `gradio
    # app.py` development server tells the page to reload by, was served by the product too:
    # each connection woke the server every 50 ms for as long as it stayed open (the page
    # opens it only in development mode). It now gets 404 and one sentence, at once.
    began = time.monotonic()
    reply = httpx.get(f"{plain.url}/gradio_api/dev/reload", timeout=10)
    assert time.monotonic() - began < 5
    assert reply.status_code == 404, reply.text[:300]
    assert one_sentence(reply.json()["detail"]), reply.text[:300]
    time.sleep(0.3)
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.parametrize("path", ["monitoring", "monitoring/summary", "monitoring/abc123"])
def test_the_monitoring_pages_are_refused(plain: Limited, path: str) -> None:
    # Found in red team 8: /monitoring/summary answered with the server's traffic summary
    # (each event's count and timings) although monitoring was never turned on: Gradio
    # serves it unless told `enable_monitoring=False`, and a mounted app is not. Every
    # monitoring page now gets 404 and one sentence.
    reply = httpx.get(f"{plain.url}/{path}", timeout=10)
    assert reply.status_code == 404, reply.text[:300]
    assert one_sentence(reply.json()["detail"]), reply.text[:300]
