"""Chunking: sentence spans and chunks with exact offsets, bounded size, overlap, coverage."""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeEmbedder
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.embedding import Embedder
from assistant.ingest import chunk_document, split_sentences
from assistant.schema import Chunk, Document

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "seeds" / "amazon-anthropic-investment.txt"
COVID = ROOT.parent / "shared" / "datasets" / "covid-qa" / "docs"  # beside the checkout, as in CI

spans_of = FakeEmbedder().token_spans


def doc_of(text: str, kind: str = "txt", source: str = "doc.txt", **kw: Any) -> Document:
    data = text.encode("utf-8", "surrogatepass")
    return Document(
        source=source,
        text=text,
        kind=kind,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        **kw,
    )


def sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in split_sentences(text)]


def check_chunks(
    doc: Document,
    chunks: list[Chunk],
    max_tokens: int,
    token_spans: Callable[[str], list[tuple[int, int]]] = spans_of,
) -> None:
    """The invariants every chunking must keep."""
    covered = bytearray(len(doc.text))
    for ordinal, chunk in enumerate(chunks):
        assert doc.text[chunk.start : chunk.end] == chunk.text
        assert chunk.text and chunk.text == chunk.text.strip()
        assert len(token_spans(chunk.text)) <= max_tokens
        assert chunk.ordinal == ordinal
        assert chunk.source == doc.source
        assert chunk.hash == hashlib.sha256(chunk.text.encode("utf-8", "surrogatepass")).hexdigest()
        assert re.fullmatch(r"[0-9a-f]{16}", chunk.id)
        assert chunk.page == doc.page_at(chunk.start)
        covered[chunk.start : chunk.end] = b"\x01" * (chunk.end - chunk.start)
    missed = [i for i, ch in enumerate(doc.text) if not ch.isspace() and not covered[i]]
    assert not missed, f"characters not in any chunk at {missed[:10]}"
    assert len({c.id for c in chunks}) == len(chunks)
    starts = [c.start for c in chunks]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)


# --- split_sentences -----------------------------------------------------------------------


def test_split_sentences_docstring_example() -> None:
    text = "Dr. Smith paid $8.5 billion. Why? See Fig. 2."
    assert split_sentences(text) == [(0, 28), (29, 33), (34, 45)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Pi is 3.14 or so. It is irrational!", ["Pi is 3.14 or so.", "It is irrational!"]),
        (
            "Amazon invested $8 billion. It may add $2.5 billion more.",
            ["Amazon invested $8 billion.", "It may add $2.5 billion more."],
        ),
        (
            "Fruit, e.g. apples, i.e. food. Next one.",
            ["Fruit, e.g. apples, i.e. food.", "Next one."],
        ),
        (
            "Mr. and Mrs. Jones met Dr. Who. They left.",
            ["Mr. and Mrs. Jones met Dr. Who.", "They left."],
        ),
        ("The U.S. Senate voted. It passed.", ["The U.S. Senate voted.", "It passed."]),
        (
            "Smith et al. (2020) found it. Jones et al. Found more.",
            ["Smith et al. (2020) found it.", "Jones et al.", "Found more."],
        ),
        (
            "Apples vs. pears. Compare Fig. 3 and Eq. 2 on p. 4.",
            ["Apples vs. pears.", "Compare Fig. 3 and Eq. 2 on p. 4."],
        ),
        ("Apples, pears, etc. The end.", ["Apples, pears, etc.", "The end."]),
        ("Written by J. R. R. Tolkien. Read it.", ["Written by J. R. R. Tolkien.", "Read it."]),
        (
            'He asked "why?" twice. She said "No." Then left.',
            ['He asked "why?" twice.', 'She said "No."', "Then left."],
        ),
        ("Wait... what? Yes.", ["Wait... what?", "Yes."]),
        ("Rates rose to 45%. [1] [2] Then fell.", ["Rates rose to 45%. [1] [2]", "Then fell."]),
        ("It was 2020. A year.", ["It was 2020.", "A year."]),
        (
            "See www.example.com/a.b for v1.2.3 details.",
            ["See www.example.com/a.b for v1.2.3 details."],
        ),
    ],
)
def test_split_sentences_rules(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_split_sentences_line_breaks() -> None:
    text = (
        "Title Without Stop\n\nAuthors: Smith, J.; Doe, A.\nDate: 2018-02-02\n"
        "A line that wraps\nin the middle. And one that ends,\nAnother line.\n"
        "# Heading\n- item one\n- item two\n1. numbered\n\n\n  Last paragraph.  "
    )
    assert sentences(text) == [
        "Title Without Stop",
        "Authors: Smith, J.; Doe, A.",
        "Date: 2018-02-02",
        "A line that wraps\nin the middle.",
        "And one that ends,\nAnother line.",
        "# Heading",
        "- item one",
        "- item two",
        "1. numbered",
        "Last paragraph.",
    ]


def test_split_sentences_joins_wrapped_lines() -> None:
    # PDF text and hard-wrapped .txt break long lines anywhere, even before a capital.
    text = (
        "Amazon is considering a multi-billion dollar investment in\n"
        "Anthropic, its partner. Retrieved from the report online. Accessed\n"
        "March 11, 2020.\n"
        "Short Title\n"
        "The body starts here. See Dr.\n"
        "Smith for details."
    )
    assert sentences(text) == [
        "Amazon is considering a multi-billion dollar investment in\nAnthropic, its partner.",
        "Retrieved from the report online.",
        "Accessed\nMarch 11, 2020.",
        "Short Title",
        "The body starts here.",
        "See Dr.\nSmith for details.",
    ]


def test_split_sentences_keeps_notes_and_spaced_ellipses() -> None:
    text = 'He said "the problems. . .are deep." It was described previously. 9\n\nNext.'
    assert sentences(text) == [
        'He said "the problems. . .are deep."',
        "It was described previously. 9",
        "Next.",
    ]
    assert sentences("References\n8.\nWang D, Hu B, et al. Nature.") == [
        "References",
        "8.\nWang D, Hu B, et al.",
        "Nature.",
    ]


def test_split_sentences_unicode() -> None:
    text = "東京は日本の首都です。大阪も大きい。 Ça va? Très bien 😀. مرحبا بالعالم. שלום עולם!"
    assert sentences(text) == [
        "東京は日本の首都です。",
        "大阪も大きい。",
        "Ça va?",
        "Très bien 😀.",
        "مرحبا بالعالم.",
        "שלום עולם!",
    ]


def test_split_sentences_within_a_range() -> None:
    text = "Skip this. Keep one. Keep two. Skip too."
    start, end = text.index("Keep one"), text.index("Skip too")
    assert [text[a:b] for a, b in split_sentences(text, start, end)] == ["Keep one.", "Keep two."]


def test_split_sentences_of_nothing() -> None:
    assert split_sentences("") == []
    assert split_sentences(" \n\n\t ") == []


sentence_text = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "Dr.",
                "U.S.",
                "e.g.",
                "3.14",
                "$8.5",
                "etc.",
                "?",
                "!",
                "...",
                "。",
                "\n",
                "\n\n",
                "  ",
                " ",
                "[1]",
                '"',
                ")",
                "a",
                "The",
                "x.",
                "1.",
                "😀",
                "é",
                "\r\n",
                "\t",
            ]
        ),
        st.text(max_size=8),
    ),
    max_size=60,
).map("".join)


@given(sentence_text)
@settings(max_examples=300, deadline=None)
def test_split_sentences_partitions_the_visible_text(text: str) -> None:
    spans = split_sentences(text)
    covered = bytearray(len(text))
    previous_end = 0
    for a, b in spans:
        assert previous_end <= a < b <= len(text)
        assert not text[a].isspace() and not text[b - 1].isspace()
        covered[a:b] = b"\x01" * (b - a)
        previous_end = b
    assert all(covered[i] or ch.isspace() for i, ch in enumerate(text))


# --- chunk_document ------------------------------------------------------------------------


def test_chunk_document_docstring_example() -> None:
    doc = doc_of("One two three. Four five. Six seven eight.")
    chunks = chunk_document(doc, spans_of, max_tokens=7, overlap_tokens=3)
    assert [c.text for c in chunks] == ["One two three. Four five.", "Four five. Six seven eight."]
    check_chunks(doc, chunks, 7)


def test_fake_embedder_is_an_embedder() -> None:
    fake = FakeEmbedder()
    assert isinstance(fake, Embedder)
    vectors = fake.embed(["Apple pie.", "apple PIE", "", "zebra"])
    assert vectors.shape == (4, 64) and str(vectors.dtype) == "float32"
    assert abs(float((vectors**2).sum(axis=1).min()) - 1.0) < 1e-5
    assert float(vectors[0] @ vectors[1]) == pytest.approx(1.0)
    assert (fake.calls, fake.embedded) == (1, 4)
    assert fake.token_spans("Hi, you!") == [(0, 2), (2, 3), (4, 7), (7, 8)]


def long_text(paragraphs: int = 6, sentences_per: int = 8) -> str:
    words = re.findall(r"\w+", "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu")
    out = []
    for p in range(paragraphs):
        sents = []
        for s in range(sentences_per):
            n = 4 + (p * 7 + s * 3) % 9
            body = " ".join(words[(p + s + i) % len(words)] for i in range(n))
            sents.append(f"{body.capitalize()} {p}-{s}.")
        out.append(" ".join(sents))
    return "\n\n".join(out)


def test_chunks_respect_size_and_cover_everything() -> None:
    doc = doc_of(long_text())
    chunks = chunk_document(doc, spans_of, max_tokens=40, overlap_tokens=10)
    assert len(chunks) > 5
    check_chunks(doc, chunks, 40)


def test_consecutive_chunks_overlap_by_whole_sentences() -> None:
    doc = doc_of(long_text())
    # Sentences here are 8 to 16 word pieces, so the last one always fits in the overlap.
    chunks = chunk_document(doc, spans_of, max_tokens=40, overlap_tokens=16)
    sentence_starts = {a for a, _ in split_sentences(doc.text)}
    sentence_ends = {b for _, b in split_sentences(doc.text)}
    overlaps = 0
    for before, after in itertools.pairwise(chunks):
        assert after.start < after.end and before.start < after.start
        if after.start < before.end:
            overlaps += 1
            assert after.start in sentence_starts and before.end in sentence_ends
            assert len(spans_of(doc.text[after.start : before.end])) <= 16
    assert len(chunks) > 5 and overlaps == len(chunks) - 1


def test_no_overlap_when_overlap_is_zero() -> None:
    doc = doc_of(long_text())
    chunks = chunk_document(doc, spans_of, max_tokens=40, overlap_tokens=0)
    assert all(b.start >= a.end for a, b in itertools.pairwise(chunks))
    check_chunks(doc, chunks, 40)


def test_chunks_prefer_to_end_at_a_paragraph() -> None:
    para1 = "One two three four five six. Seven eight nine ten eleven."  # 13 tokens
    para2 = "Alpha beta gamma. Delta epsilon zeta. Eta theta iota."  # 12 tokens
    doc = doc_of(f"{para1}\n\n{para2}")
    # 20 tokens would fit para1 plus a sentence of para2; the paragraph end wins.
    chunks = chunk_document(doc, spans_of, max_tokens=20, overlap_tokens=0)
    assert [c.text for c in chunks] == [para1, para2]


def test_long_sentence_is_cut_between_words() -> None:
    # About 100k characters and no sentence end; each word is 3 word pieces ("w12", "-", "x"),
    # so cutting at exactly 50 pieces would split words: cuts go back to the last space.
    text = " ".join(f"w{i}-x" for i in range(15_000))
    assert len(text) > 100_000
    doc = doc_of(text)
    chunks = chunk_document(doc, spans_of, max_tokens=50, overlap_tokens=10)
    check_chunks(doc, chunks, 50)
    assert len(chunks) == 938  # 16 words (48 pieces) each
    for chunk in chunks:
        assert chunk.start == 0 or text[chunk.start - 1] == " "
        assert chunk.end == len(text) or text[chunk.end] == " "


def test_long_word_cut_inside_when_it_must_be() -> None:
    text = "x" + "-x" * 60  # 121 word pieces and no space at all
    doc = doc_of(text)
    chunks = chunk_document(doc, spans_of, max_tokens=16, overlap_tokens=4)
    check_chunks(doc, chunks, 16)


def test_markdown_heading_paths_and_sections() -> None:
    text = (
        "Intro line.\n\n# Guide\n\nWelcome text.\n\n## Install\nRun the thing.\n\n"
        "```\n# not a heading\n```\n\n### Deep ###\nDeep text.\n\n## Use\nUse it.\n\n"
        "#hashtag is text.\n\n# Appendix\nThe end."
    )
    doc = doc_of(text, kind="md", source="guide.md")
    chunks = chunk_document(doc, spans_of, max_tokens=200, overlap_tokens=20)
    check_chunks(doc, chunks, 200)
    assert [(c.headings, c.text.splitlines()[0]) for c in chunks] == [
        ((), "Intro line."),
        (("Guide",), "# Guide"),
        (("Guide", "Install"), "## Install"),
        (("Guide", "Install", "Deep"), "### Deep ###"),
        (("Guide", "Use"), "## Use"),
        (("Appendix",), "# Appendix"),
    ]
    assert "#hashtag is text." in chunks[4].text
    assert "# not a heading" in chunks[2].text


def test_headings_only_count_in_markdown() -> None:
    doc = doc_of("# Not a heading in txt\n\nBody.", kind="txt")
    chunks = chunk_document(doc, spans_of, max_tokens=100, overlap_tokens=0)
    assert [(c.text, c.headings) for c in chunks] == [(doc.text, ())]


def test_chunks_never_cross_sections_even_when_small() -> None:
    doc = doc_of("# A\nOne.\n# B\nTwo.", kind="md")
    chunks = chunk_document(doc, spans_of, max_tokens=100, overlap_tokens=50)
    assert [c.text for c in chunks] == ["# A\nOne.", "# B\nTwo."]


def test_pages_come_from_the_chunk_start() -> None:
    text = "Page one says this. " * 20 + "\n\n" + "Page two says that. " * 20
    doc = doc_of(text.strip(), kind="pdf", page_starts=(0, text.index("\n\n") + 2))
    chunks = chunk_document(doc, spans_of, max_tokens=30, overlap_tokens=0)
    check_chunks(doc, chunks, 30)
    assert {c.page for c in chunks} == {1, 2}
    assert all(("one" in c.text) == (c.page == 1) for c in chunks)


def test_unicode_offsets_round_trip() -> None:
    text = (
        "Café au lait, naïve façade. Emoji 😀👍🏽 here! 東京は日本の首都です。大阪も大きい。\n\n"
        "مرحبا بالعالم. هذا نص عربي. שלום עולם. Ünïcödé ends."
    ) * 5
    doc = doc_of(text)
    chunks = chunk_document(doc, spans_of, max_tokens=12, overlap_tokens=4)
    check_chunks(doc, chunks, 12)


def test_ids_are_stable_and_depend_on_source() -> None:
    doc = doc_of(long_text())
    first = chunk_document(doc, spans_of, max_tokens=40, overlap_tokens=8)
    again = chunk_document(doc, spans_of, max_tokens=40, overlap_tokens=8)
    other = chunk_document(
        doc_of(long_text(), source="other.txt"), spans_of, max_tokens=40, overlap_tokens=8
    )
    assert [c.id for c in first] == [c.id for c in again]
    assert [c.hash for c in first] == [c.hash for c in other]
    assert not {c.id for c in first} & {c.id for c in other}


def test_empty_and_whitespace_documents_have_no_chunks() -> None:
    assert chunk_document(doc_of(""), spans_of, max_tokens=10, overlap_tokens=2) == []
    assert chunk_document(doc_of(" \n\n \t"), spans_of, max_tokens=10, overlap_tokens=2) == []


def test_bad_sizes_are_rejected() -> None:
    with pytest.raises(ValueError, match="max_tokens"):
        chunk_document(doc_of("Hi."), spans_of, max_tokens=0, overlap_tokens=0)
    with pytest.raises(ValueError, match="overlap_tokens"):
        chunk_document(doc_of("Hi."), spans_of, max_tokens=5, overlap_tokens=-1)


def test_tokenizer_is_called_linearly_not_quadratically() -> None:
    calls = 0

    def counting(text: str) -> list[tuple[int, int]]:
        nonlocal calls
        calls += 1
        return spans_of(text)

    doc = doc_of(long_text(paragraphs=40, sentences_per=10))
    chunks = chunk_document(doc, counting, max_tokens=60, overlap_tokens=10)
    # One tokenisation of the (single) section plus one check of each chunk.
    assert calls == 1 + len(chunks)


def test_disagreeing_tokenizer_still_keeps_the_limit() -> None:
    # Long texts tokenise into words, short ones into 2-letter pieces: the section's counts
    # underestimate each chunk, so the per-chunk check must shrink and re-cut.
    def context_dependent(text: str) -> list[tuple[int, int]]:
        pattern = r"\w+|[^\w\s]" if len(text) > 300 else r"\w{1,2}|[^\w\s]"
        return [m.span() for m in re.finditer(pattern, text)]

    doc = doc_of(long_text(paragraphs=3) + "\n\n" + "verylongwordwithoutbreaks" * 8)
    chunks = chunk_document(doc, context_dependent, max_tokens=20, overlap_tokens=5)
    check_chunks(doc, chunks, 20, context_dependent)


chunk_text = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "The cat sat.",
                "Dr. Who?",
                " ",
                "  ",
                "\n",
                "\n\n",
                "# Head\n",
                "## Sub\n",
                "3.14",
                "word",
                "naïve",
                "😀",
                "東京。",
                "مرحبا.",
                "\t",
                "!",
                "x" * 30,
                "- item\n",
            ]
        ),
        st.text(max_size=12),
    ),
    max_size=80,
).map("".join)


@given(chunk_text, st.integers(1, 30), st.integers(0, 15), st.sampled_from(["txt", "md"]))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_chunk_invariants_on_random_text(
    text: str, max_tokens: int, overlap: int, kind: str
) -> None:
    doc = doc_of(text, kind=kind)
    check_chunks(
        doc,
        chunk_document(doc, spans_of, max_tokens=max_tokens, overlap_tokens=overlap),
        max_tokens,
    )


# --- the real tokenizer --------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_embedder() -> Embedder:
    from assistant.embedding import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@pytest.mark.model
@pytest.mark.parametrize(("max_tokens", "overlap"), [(200, 32), (254, 0), (64, 16)])
def test_real_tokenizer_limit_on_seed_and_covid_docs(
    real_embedder: Embedder, max_tokens: int, overlap: int
) -> None:
    paths = [SEED, *sorted(COVID.glob("*.txt"))[:4]] if COVID.is_dir() else [SEED]
    for path in paths:
        doc = doc_of(path.read_text(encoding="utf-8"), source=path.name)
        chunks = chunk_document(
            doc, real_embedder.token_spans, max_tokens=max_tokens, overlap_tokens=overlap
        )
        assert chunks
        check_chunks(doc, chunks, max_tokens, real_embedder.token_spans)
        assert max_tokens <= real_embedder.max_seq_length - 2
