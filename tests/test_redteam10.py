"""The tenth red-team pass on a running web chat: a question of megabytes typed into the page,
what each page session keeps of the documents' list, and what the page's
Content-Security-Policy lets a browser run or reach; each sent over HTTP as a hostile client
would.

The servers here are served as `assistant ui` serves them (the chat mounted on the early
server) with the fake embedder, so these run in seconds.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
from test_redteam import one_sentence
from test_redteam4 import Limited, _page_event

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
