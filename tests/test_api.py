"""The Python API contract, pinned: what `from assistant import ...` gives, how an Assistant
is built and loaded, the shape of Hits and Answers, streaming, input errors, and adding and
removing documents. Uses the real packaged model over a private copy of seeds/."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import assistant
from assistant import Answer, Assistant, AssistantError, Citation, Settings
from assistant.embedding import Embedder
from assistant.errors import InputError
from assistant.schema import Chunk, Hit

pytestmark = pytest.mark.model

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SEED_NAME = "amazon-anthropic-investment.txt"
SEED_QUESTION = "How much has Amazon invested in Anthropic?"
NOTES = b"# Notes\n\nThe zorblax launch is planned for March 2031.\n"
ZORBLAX = "When is the zorblax launch planned?"


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("api") / "docs"
    shutil.copytree(SEEDS, folder)
    return folder


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("api-index") / "index"


@pytest.fixture(scope="module")
def bot(docs: Path, index_dir: Path, real_embedder: Embedder) -> Iterator[Assistant]:
    settings = Settings(index_dir=index_dir, show_progress=False)
    yield Assistant.from_folder(
        docs, index_dir=index_dir, settings=settings, embedder=real_embedder
    )


def folder_state(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def assert_one_sentence(message: str) -> None:
    assert message.strip()
    assert "\n" not in message
    assert not re.search(r"[.!?]\s+[A-Z]", message), message
    assert len(message) < 300, message


# ---------------------------------------------------------------- the public names


def test_public_names() -> None:
    for name in ("Assistant", "Answer", "Citation", "Settings", "AssistantError", "InputError"):
        assert name in assistant.__all__, name
    assert issubclass(InputError, AssistantError)
    assert assistant.Assistant is Assistant


def test_from_folder_and_load_see_the_same_index(
    bot: Assistant, index_dir: Path, real_embedder: Embedder
) -> None:
    assert [s.source for s in bot.sources()] == [SEED_NAME]

    loaded = Assistant.load(index_dir)  # the plain form: settings and model by default
    assert [s.source for s in loaded.sources()] == [SEED_NAME]
    assert loaded.sources() == bot.sources()

    loaded = Assistant.load(index_dir, embedder=real_embedder)
    answer = loaded.ask(SEED_QUESTION)
    assert "$8 billion" in answer.text


# ---------------------------------------------------------------- retrieve


def test_retrieve_returns_hits_best_first(bot: Assistant) -> None:
    hits = bot.retrieve(SEED_QUESTION, k=5)

    assert 1 <= len(hits) <= 5
    assert all(isinstance(h, Hit) for h in hits)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert "$8 billion" in hits[0].chunk.text
    for h in hits:
        chunk = h.chunk
        assert isinstance(chunk, Chunk)
        assert chunk.source == SEED_NAME
        assert 0 <= chunk.start < chunk.end
        assert chunk.page is None  # a .txt file has no pages
        assert chunk.text.strip()
    assert len({h.chunk.id for h in hits}) == len(hits)


def test_retrieve_respects_k(bot: Assistant) -> None:
    assert len(bot.retrieve(SEED_QUESTION, k=1)) == 1
    assert len(bot.retrieve(SEED_QUESTION, k=2)) == 2


# ---------------------------------------------------------------- ask


def test_answer_shape(bot: Assistant, docs: Path) -> None:
    answer = bot.ask(SEED_QUESTION)

    assert isinstance(answer, Answer)
    assert answer.refused is False
    assert answer.question == SEED_QUESTION
    assert answer.query == SEED_QUESTION  # no history: no rewrite
    assert "$8 billion" in answer.text
    assert answer.citations
    text = (docs / SEED_NAME).read_bytes().decode("utf-8")
    for c in answer.citations:
        assert isinstance(c, Citation)
        assert isinstance(c.n, int) and f"[{c.n}]" in answer.text
        assert c.source == SEED_NAME
        assert text[c.start : c.end] == c.quote
        assert c.page is None
    assert isinstance(answer.timings, dict)
    assert "total" in answer.timings
    assert all(isinstance(v, float) and v >= 0 for v in answer.timings.values())
    assert answer.timings["total"] >= max(v for k, v in answer.timings.items() if k != "total")


def test_answer_to_dict_is_json(bot: Assistant) -> None:
    answer = bot.ask(SEED_QUESTION)

    data = json.loads(json.dumps(answer.to_dict()))

    assert data["text"] == answer.text
    assert data["refused"] is False
    assert data["query"] == answer.query
    assert [c["quote"] for c in data["citations"]] == [c.quote for c in answer.citations]
    assert set(data["citations"][0]) >= {"n", "source", "start", "end", "quote", "page"}
    assert "total" in data["timings"]


def test_refusal_to_dict_is_json(bot: Assistant) -> None:
    answer = bot.ask("What is the capital of France?")

    data = json.loads(json.dumps(answer.to_dict()))

    assert data["refused"] is True
    assert data["citations"] == []
    assert data["related"]


@pytest.mark.parametrize("question", [SEED_QUESTION, "What is the capital of France?"])
def test_stream_yields_text_pieces_then_the_answer(bot: Assistant, question: str) -> None:
    items = list(bot.stream(question))

    *head, final = items
    assert isinstance(final, Answer)
    pieces = [p for p in head if isinstance(p, str)]
    assert pieces, "the text comes in pieces before the answer"
    assert len(pieces) == len(head), "only the last item is an Answer"
    assert "".join(pieces).strip() == final.text
    assert final.refused is (question != SEED_QUESTION)


# ---------------------------------------------------------------- input errors


@pytest.mark.parametrize(
    "question",
    [
        pytest.param("", id="empty"),
        pytest.param("   \n\t ", id="blank"),
        pytest.param("why " * 25_000, id="100k-chars"),
    ],
)
def test_unusable_questions_raise_input_error(bot: Assistant, question: str) -> None:
    with pytest.raises(InputError) as info:
        bot.ask(question)
    assert_one_sentence(str(info.value))
    with pytest.raises(InputError):
        bot.retrieve(question)
    with pytest.raises(InputError):
        list(bot.stream(question))


@pytest.mark.parametrize(
    ("name", "content"),
    [
        pytest.param("setup.exe", b"MZ\x90\x00 not a document", id="exe"),
        pytest.param("empty.txt", b"", id="empty"),
        pytest.param("blob.txt", b"\x00\x01\x02\x03 binary \x00" * 20, id="binary-txt"),
    ],
)
def test_bad_uploads_raise_input_error_and_change_nothing(
    bot: Assistant, docs: Path, name: str, content: bytes
) -> None:
    sources, files = bot.sources(), folder_state(docs)

    with pytest.raises(InputError) as info:
        bot.add_document(name, content)

    assert_one_sentence(str(info.value))
    assert bot.sources() == sources
    assert folder_state(docs) == files
    assert "$8 billion" in bot.retrieve(SEED_QUESTION, k=1)[0].chunk.text


def test_remove_unknown_document_raises_input_error(bot: Assistant) -> None:
    sources = bot.sources()
    with pytest.raises(InputError) as info:
        bot.remove_document("no-such-file.txt")
    assert_one_sentence(str(info.value))
    with pytest.raises(InputError):
        bot.remove_document("../../etc/passwd")
    # A name of a megabyte is not echoed back whole.
    with pytest.raises(InputError) as huge:
        bot.remove_document("x" * 1_000_000 + ".txt")
    assert len(str(huge.value)) < 400
    assert bot.sources() == sources


# ---------------------------------------------------------------- adding and removing


def test_added_document_is_answered_from_then_removed(bot: Assistant, docs: Path) -> None:
    report = bot.add_document("notes.md", NOTES)

    assert report.added == ("notes.md",)
    assert {s.source for s in bot.sources()} == {SEED_NAME, "notes.md"}
    assert (docs / "notes.md").read_bytes() == NOTES

    answer = bot.ask(ZORBLAX)
    assert answer.refused is False, answer.text
    assert "March 2031" in answer.text
    cited = [c for c in answer.citations if c.source == "notes.md"]
    assert cited
    for c in cited:
        assert NOTES.decode("utf-8")[c.start : c.end] == c.quote
    assert any("March 2031" in c.quote for c in cited)

    bot.remove_document("notes.md")

    assert [s.source for s in bot.sources()] == [SEED_NAME]
    assert not (docs / "notes.md").exists()
    after = bot.ask(ZORBLAX)
    assert after.refused or all(c.source != "notes.md" for c in after.citations)
    assert "March 2031" not in after.text
    assert all(h.chunk.source != "notes.md" for h in bot.retrieve(ZORBLAX, k=5))


def test_add_document_keeps_uploads_inside_the_folder(bot: Assistant, docs: Path) -> None:
    outside = docs.parent / "escaped.md"
    report = bot.add_document("../escaped.md", NOTES)
    try:
        assert report.added == ("escaped.md",)
        assert (docs / "escaped.md").is_file()
        assert not outside.exists()
    finally:
        bot.remove_document("escaped.md")
    assert [s.source for s in bot.sources()] == [SEED_NAME]


def test_safe_filename() -> None:
    from assistant.pipeline import safe_filename

    assert safe_filename("../../etc/passwd.txt") == "passwd.txt"
    assert safe_filename("C:\\Users\\me\\notes.md") == "notes.md"
    with pytest.raises(InputError):
        safe_filename("../..")
