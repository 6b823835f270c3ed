"""A folder holding one file of each new kind, indexed by the real pipeline with the real
packaged model: a question about each is answered from the right file, with a quote that is
the loader's own text and the locator a person would use to find it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from format_files import (
    CSV_TEXT,
    docx_bytes,
    eml_bytes,
    epub_bytes,
    mbox_bytes,
    pptx_bytes,
    scanned_pdf_bytes,
    xlsx_bytes,
)

from assistant.ingest import load_document
from assistant.schema import Citation

if TYPE_CHECKING:
    from assistant import Assistant
    from assistant.embedding import SentenceTransformerEmbedder

pytestmark = pytest.mark.model

HAS_TESSERACT = shutil.which("tesseract") is not None


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("formats") / "docs"
    folder.mkdir()
    files = {
        "handbook.docx": docx_bytes(),
        "deck.pptx": pptx_bytes(),
        "sales.xlsx": xlsx_bytes(),
        "stations.csv": CSV_TEXT.encode("utf-8"),
        "mail/move.eml": eml_bytes(),
        "mail/team.mbox": mbox_bytes(),
        "keeper.epub": epub_bytes(),
        "scan.pdf": scanned_pdf_bytes(
            ["Invoice 2231 was paid by bank transfer on 5 June 2026.", "Thank you."]
        ),
    }
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


@pytest.fixture(scope="module")
def bot(
    docs: Path,
    tmp_path_factory: pytest.TempPathFactory,
    real_embedder: SentenceTransformerEmbedder,
) -> Iterator[Assistant]:
    from assistant import Assistant, Settings

    index_dir = tmp_path_factory.mktemp("formats-index") / "index"
    settings = Settings(index_dir=index_dir, show_progress=False)
    yield Assistant.from_folder(
        docs, index_dir=index_dir, settings=settings, embedder=real_embedder
    )


def locator_of(bot: Assistant, citation: Citation) -> str:
    """The citation's locator as stored with its passage in the index; when the answer layer
    fills Citation.locator, it must say the same."""
    chunk = bot.chunk(citation.chunk_id)
    assert chunk is not None, f"citation {citation.n} names an unknown passage"
    stored = chunk.locator_at(citation.start)
    if citation.locator:
        assert citation.locator == stored
    return stored


CASES = [
    (
        "How long are repairs under the warranty free?",
        "handbook.docx",
        "24 months",
        "section Warranty › Repairs",
    ),
    (
        "What is our booth number at the trade fair?",
        "deck.pptx",
        "417",
        "slide 3 (notes)",
    ),
    ("What is the Q3 total for Berlin?", "sales.xlsx", "1,250", "sheet Sales, row 5"),
    ("When did Harbour Gate station open?", "stations.csv", "1998", "row 2"),
    (
        "Where is the Bristol office moving to?",
        "mail/move.eml",
        "12 Quay Street",
        "e-mail “Office move” from Ann Lee, 2026-07-01",
    ),
    (
        "When will the mail server be offline for maintenance?",
        "mail/team.mbox",
        "22:00",
        "message 2: e-mail “Server maintenance” from Bo Chen, 2026-07-03",
    ),
    (
        "When did the lighthouse keeper light the lamp?",
        "keeper.epub",
        "nine o'clock",
        "part 2: The Lighthouse",
    ),
    pytest.param(
        "When was invoice 2231 paid?",
        "scan.pdf",
        "5 June 2026",
        "page 1 (OCR)",
        marks=pytest.mark.skipif(
            not HAS_TESSERACT,
            reason="tesseract is not installed (sudo apt-get install tesseract-ocr "
            "tesseract-ocr-eng)",
        ),
    ),
]


def test_every_file_of_the_folder_is_indexed(bot: Assistant, docs: Path) -> None:
    files = {p.relative_to(docs).as_posix() for p in docs.rglob("*") if p.is_file()}
    if not HAS_TESSERACT:
        files.discard("scan.pdf")  # without OCR a scan has no text: skipped, and says why
    assert {s.source for s in bot.sources()} == files


@pytest.mark.parametrize(("question", "source", "fact", "locator"), CASES)
def test_a_question_about_each_kind_cites_file_and_locator(
    bot: Assistant, docs: Path, question: str, source: str, fact: str, locator: str
) -> None:
    answer = bot.ask(question)
    assert not answer.refused, f"refused: {answer.text}"
    first = answer.citations[0]
    assert first.source == source, answer.text
    assert fact in first.quote, answer.text
    assert load_document(docs / source, docs).text[first.start : first.end] == first.quote
    assert locator_of(bot, first) == locator
