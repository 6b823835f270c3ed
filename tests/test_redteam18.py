"""The eighteenth red-team pass: what a /v1 reply makes a client that renders Markdown load,
and documents of a vast number of sections. The /v1 tests run the endpoint over a fake bot
(the fake embedder), the section tests the sync over it, so these run in seconds.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from fakes import fake_bot
from fastapi.testclient import TestClient
from markdown_it import MarkdownIt

from assistant.api import build_api, conversation, inert_markdown
from assistant.errors import InputError

# ---------------------------------------------------------------- /v1 replies as Markdown

# A sentence of a hostile document: a Markdown image, an HTML image, a link, an autolink and
# an entity, each of which a client rendering Markdown turns into something live.
_HOSTILE = (
    "The zircon vault (&lt;b&gt; C:\\vault\\<b>) opens at nine in the morning "
    "![logo](http://attacker.example/p.png?leak=1) and <img src=http://attacker.example/q.png>"
    " at <http://attacker.example/a> [here](http://attacker.example/x)"
)
_QUESTION = "When does the zircon vault open?"


def _ask_v1(client: TestClient, *, stream: bool) -> tuple[str, list[dict[str, Any]]]:
    """The reply's content and citations, streamed or not."""
    question = {"role": "user", "content": _QUESTION}
    body = {"model": "assistant", "stream": stream, "messages": [question]}
    reply = client.post("/v1/chat/completions", json=body)
    assert reply.status_code == 200, reply.text
    if not stream:
        data = reply.json()
        return data["choices"][0]["message"]["content"], data["citations"]
    events = [json.loads(line[6:]) for line in reply.text.splitlines() if line[6:7] == "{"]
    content = "".join(e["choices"][0]["delta"].get("content", "") for e in events)
    return content, events[-1]["citations"]


@pytest.mark.parametrize("stream", [False, True])
def test_a_v1_reply_quoting_markup_loads_and_links_nothing_when_rendered(
    tmp_path: Path, stream: bool
) -> None:
    """A /v1 reply quotes the document's sentence, and most chat front-ends render a reply
    as Markdown: the quote's ![logo](http://attacker…) was an image fetched from outside as
    the reply was shown, its <img src=…> raw HTML, its [here](…) and <http://…> links. The
    reply's content is now escaped so that a CommonMark renderer shows the characters as
    written; the citations keep them exactly as the document has them."""
    text = _HOSTILE + ".\n"
    bot = fake_bot(tmp_path, {"vault.txt": text})
    content, citations = _ask_v1(TestClient(build_api(bot)), stream=stream)
    shown = MarkdownIt("commonmark").render(content)
    assert not re.search(r"<(img|a|script)\b", shown), shown
    assert citations and all(text[c["start"] : c["end"]] == c["quote"] for c in citations)
    quoted = citations[0]["quote"]  # the markup was quoted, as the document has it
    assert "&lt;b&gt; C:\\vault\\<b>) opens at nine in the morning ![logo](http://" in quoted
    # Rendered, the answer's text reads as the document's characters.
    written = html.unescape(re.sub(r"<[^>]+>", "", shown))
    assert all(c["quote"] in written for c in citations), written


def test_inert_markdown_escapes_a_stream_piece_by_piece_as_a_whole() -> None:
    """Each stream piece is escaped on its own, knowing the last character sent: the pieces
    together are the whole reply escaped at once, wherever the text is cut (a "](" or "]:"
    cut in two included), and a reply sent back in the history reads as written."""
    text = "a ![x](http://h/p.png) [r]: http://h/r <b> &amp; \\<i> ]\\(u) [1]"
    whole = inert_markdown(text)
    for cut in range(len(text) + 1):
        first = inert_markdown(text[:cut])
        assert first + inert_markdown(text[cut:], before=first) == whole, cut
    assert "<" not in MarkdownIt("commonmark").render(whole).replace("<p>", "").replace("</p>", "")
    _, history = conversation(
        [
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": whole},
            {"role": "user", "content": "And then?"},
        ]
    )
    assert history[1]["content"] == text


# ---------------------------------------------------------------- documents of many sections


def _headings(count: int, body: str = "") -> str:
    """A Markdown text of count headings, each section holding body, every one different."""
    return "".join(f"# {i}\n{body}" for i in range(count))


def test_a_document_of_a_vast_number_of_sections_is_refused_and_loses_nothing(
    tmp_path: Path,
) -> None:
    """Each section is chunked and embedded on its own: a 789 KB Markdown file of 100,000
    headings was 100,000 chunks and took 164 s to index with the real model (prose of that
    size: under 1,000 chunks), holding the indexer and every upload queued behind it. Such a
    file is now refused in one sentence before it is chunked; the other files are indexed,
    its indexed version stays, and an upload of one is refused."""
    bot = fake_bot(tmp_path, {"notes.md": "# Vault\nThe zircon vault opens at nine.\n"})
    docs = bot.docs_dir or Path()
    (docs / "notes.md").write_text(_headings(20_000), encoding="utf-8")
    (docs / "other.txt").write_text(
        "The copper vault opens at ten in the morning.\n", encoding="utf-8"
    )
    report = bot.sync()
    refused = {s.source: s.reason for s in report.skipped}
    assert "more than 10,000 sections" in refused["notes.md"], refused
    assert "\n" not in refused["notes.md"] and refused["notes.md"].endswith("several files")
    assert report.added == ("other.txt",) and report.updated == ()
    sources = {s.source: s.chunks for s in bot.sources()}
    assert sources == {"notes.md": 1, "other.txt": 1}  # the indexed version stays
    assert "ten" in bot.ask("When does the copper vault open?").text
    with pytest.raises(InputError, match="more than 10,000 sections"):  # an upload likewise
        bot.add_document("more.md", _headings(20_000).encode())
    assert not (docs / "more.md").exists()


def test_a_long_document_may_have_many_sections_of_some_length() -> None:
    """10,000 sections whatever the size, more when they hold 100 characters each on average
    (a long book's chapters, a workbook's sheets)."""
    from assistant.ingest.chunking import section_problem
    from assistant.schema import Document

    def doc(text: str) -> Document:
        return Document("notes.md", text, "md", "", len(text))

    assert section_problem(doc(_headings(10_000))) is None
    assert section_problem(doc(_headings(10_001))) is not None
    assert section_problem(doc(_headings(12_000, "x" * 100 + "\n"))) is None
    assert section_problem(doc(_headings(12_000, "x" * 80 + "\n"))) is not None
    assert section_problem(doc("One section.\n" * 50_000)) is None
