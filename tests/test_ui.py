"""The web chat's server and API, driven the way a script would drive it: gradio_client over
HTTP against a real server on a loopback port, answering from a copy of seeds/ with the real
packaged model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from servers import Served

from assistant import Answer, Chunk, Citation, Hit
from assistant.ui import render_answer, render_refusal

pytestmark = pytest.mark.model

SEED_QUESTION = "How much has Amazon invested in Anthropic?"


def folder_state(docs: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(docs.iterdir())}


def assert_quotes_are_in_sources(answer: dict[str, Any], docs: Path) -> None:
    assert answer["citations"], "an answer must cite its sources"
    for c in answer["citations"]:
        text = (docs / c["source"]).read_text(encoding="utf-8")
        assert text[c["start"] : c["end"]] == c["quote"]
        assert f"[{c['n']}]" in answer["text"]


# ---------------------------------------------------------------- /ask


def test_ask_returns_a_cited_answer(served: Served) -> None:
    answer = served.client.predict(SEED_QUESTION, api_name="/ask")

    assert answer["refused"] is False
    assert "$8 billion" in answer["text"]
    assert_quotes_are_in_sources(answer, served.docs)
    assert any("$8 billion" in c["quote"] for c in answer["citations"])


def test_ask_takes_history_for_a_follow_up(served: Served) -> None:
    history = [
        {"role": "user", "content": "Is Amazon's stake in Anthropic exclusive?"},
        {"role": "assistant", "content": "Amazon's stake in Anthropic is non-exclusive. [1]"},
    ]
    alone = served.client.predict("And how much has it invested?", api_name="/ask")
    assert alone["query"] == alone["question"]
    # History as a list and as a JSON string (what a shell script would send).
    for value in (history, json.dumps(history)):
        answer = served.client.predict("And how much has it invested?", value, api_name="/ask")
        assert answer["query"] != answer["question"]
        assert "Anthropic" in answer["query"]  # "it" resolved from the history
        assert answer["refused"] is False
        assert_quotes_are_in_sources(answer, served.docs)


def test_ask_refuses_plainly_and_offers_related_reading(served: Served) -> None:
    answer = served.client.predict("What was Anthropic's revenue last year?", api_name="/ask")

    assert answer["refused"] is True
    assert answer["citations"] == []
    assert answer["related"], "a refusal offers the closest passages to read"


def test_bad_questions_get_one_clear_message_and_the_server_keeps_serving(
    served: Served,
) -> None:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="question is empty"):
        served.client.predict("   ", api_name="/ask")
    with pytest.raises(AppError, match="characters long, over the"):
        served.client.predict("why " * 1000, api_name="/ask")
    with pytest.raises(AppError, match=r"(?i)history"):
        served.client.predict(SEED_QUESTION, "not json", api_name="/ask")

    assert "$8 billion" in served.client.predict(SEED_QUESTION, api_name="/ask")["text"]


def test_several_people_can_ask_at_once(served: Served) -> None:
    questions = [SEED_QUESTION, "Is Amazon's stake in Anthropic exclusive?"] * 2
    jobs = [served.client.submit(q, api_name="/ask") for q in questions]
    answers = [job.result(timeout=120) for job in jobs]

    assert [a["question"] for a in answers] == questions
    assert "$8 billion" in answers[0]["text"] and "$8 billion" in answers[2]["text"]
    assert "non-exclusive" in answers[1]["text"] and "non-exclusive" in answers[3]["text"]


# ---------------------------------------------------------------- documents


def sources(served: Served) -> list[str]:
    return [s["source"] for s in served.client.predict(api_name="/sources")]


def test_upload_is_answerable_right_away_then_removable(served: Served, tmp_path: Path) -> None:
    from gradio_client import handle_file

    note = tmp_path / "orchard-report.md"
    note.write_text(
        "# Orchard report\n\nThe walnut orchard at Bexley produced 12 tonnes of walnuts "
        "in 2023, twice the harvest of the year before.\n",
        encoding="utf-8",
    )
    _files, status, table, _choices = served.client.predict(
        [handle_file(str(note))], api_name="/upload"
    )

    assert "orchard-report.md</b> added" in status
    assert "orchard-report.md" in table  # the documents table shows it
    assert "orchard-report.md" in sources(served)
    assert (served.docs / "orchard-report.md").read_bytes() == note.read_bytes()

    answer = served.client.predict(
        "How many tonnes did the walnut orchard produce?", api_name="/ask"
    )
    assert answer["refused"] is False
    assert "12 tonnes" in answer["text"]
    assert {c["source"] for c in answer["citations"]} == {"orchard-report.md"}
    assert_quotes_are_in_sources(answer, served.docs)

    status, table, _choices = served.client.predict("orchard-report.md", api_name="/remove")
    assert "orchard-report.md</b> removed" in status
    assert "orchard-report.md" not in sources(served)
    assert not (served.docs / "orchard-report.md").exists()
    answer = served.client.predict(
        "How many tonnes did the walnut orchard produce?", api_name="/ask"
    )
    assert "12 tonnes" not in answer["text"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", b"", "empty.txt is empty: upload a file with text in it"),
        ("scan.pdf", b"%PDF-1.4 this is not really a pdf", "scan.pdf"),
        ("notes.txt", b"\x00\x01\x02\xff" * 200, "notes.txt"),
    ],
)
def test_a_bad_upload_is_explained_and_changes_nothing(
    served: Served, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    from gradio_client import handle_file

    before_sources, before_folder = sources(served), folder_state(served.docs)
    bad = tmp_path / name
    bad.write_bytes(content)

    _files, status, _table, _choices = served.client.predict(
        [handle_file(str(bad))], api_name="/upload"
    )

    assert f"⚠ <b>{name}</b> was not added:" in status
    assert "remove it from the folder" not in status  # it never reached the folder
    assert message in status
    assert sources(served) == before_sources
    assert folder_state(served.docs) == before_folder


def test_an_unsupported_type_is_refused_before_it_reaches_the_folder(
    served: Served, tmp_path: Path
) -> None:
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    before_sources, before_folder = sources(served), folder_state(served.docs)
    exe = tmp_path / "setup.exe"
    exe.write_bytes(b"MZ\x90\x00" * 64)

    with pytest.raises(AppError, match=r"Invalid file type.*\.txt"):
        served.client.predict([handle_file(str(exe))], api_name="/upload")

    assert sources(served) == before_sources
    assert folder_state(served.docs) == before_folder


def test_removing_a_missing_document_is_explained(served: Served) -> None:
    before = sources(served)
    status, _table, _choices = served.client.predict("no-such-file.txt", api_name="/remove")
    assert "no document named 'no-such-file.txt'" in status
    assert sources(served) == before


# ---------------------------------------------------------------- rendering


def test_sources_mark_the_quote_inside_its_passage(served: Served) -> None:
    answer = served.bot.ask(SEED_QUESTION)
    text, html = render_answer(answer, served.bot.chunk)

    assert "$8 billion" in text
    assert html.count('<details class="citation">') == len(answer.citations)
    for c in answer.citations:
        assert f"<mark>{c.quote.replace('&', '&amp;')}</mark>" in html
        assert f'<span class="cite-n">[{c.n}]</span>' in html
    assert "\n\n" not in html  # a blank line would end the HTML block mid-way


def test_document_text_is_escaped_everywhere() -> None:
    text = "Intro. The <script>alert(1)</script> fund & *co* raised $5 million.\n\nEnd."
    quote = "The <script>alert(1)</script> fund & *co* raised $5 million."
    start = text.index(quote)
    chunk = Chunk("c1", "x<y>.md", text, 0, len(text), 0, "h")
    citation = Citation(1, "x<y>.md", start, start + len(quote), quote, None, "c1")
    answer = Answer("q?", "q?", f"{quote} [1]", (citation,))

    body, html = render_answer(answer, {"c1": chunk}.get)

    assert "<script>" not in body and "<script>" not in html
    # Shown as text: no Markdown, so "*co*" is what the document says, not emphasis.
    assert "&lt;script&gt;" in body and "*co*" in body and "<em>" not in body
    assert "<mark>The &lt;script&gt;alert(1)&lt;/script&gt; fund &amp; *co* raised" in html
    assert "x&lt;y&gt;.md" in html

    refusal = Answer("q?", "q? (fund)", "No <b>.", refused=True, related=(Hit(chunk, 0.5),))
    box, related = render_refusal(refusal)
    assert 'class="refusal"' in box and "No &lt;b&gt;." in box
    assert "Related reading (not an answer)" in related
    assert "Searched for: “q? (fund)”" in related
    assert "<script>" not in related
