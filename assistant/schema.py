"""Small frozen domain values passed between the layers."""

from __future__ import annotations

import bisect
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "Answer",
    "Chunk",
    "Citation",
    "Document",
    "Dropped",
    "Hit",
    "Locator",
    "Section",
    "SkippedFile",
    "SourceInfo",
    "SyncReport",
]

Locator = tuple[int, str]
"""(offset where a region of a text starts, label a person can find it by), e.g.
(0, "page 1"), (812, "page 3 (OCR)"), (40, "slide 2"), (95, "sheet Sales, row 4")."""

Section = tuple[int, tuple[str, ...]]
"""(offset where a section starts, its heading path, outermost first); chunks never cross
a section boundary."""


def _label_at(locators: tuple[Locator, ...], offset: int, default: str = "") -> str:
    """The label of the last region starting at or before `offset`.

    Example: ((0, "slide 1"), (30, "slide 2")) -> offset 29: "slide 1", offset 30: "slide 2"
    """
    i = bisect.bisect_right(locators, offset, key=lambda loc: loc[0])
    return locators[i - 1][1] if i else default


@dataclass(frozen=True, slots=True)
class Document:
    """One loaded source file (or one attachment of an e-mail). `text` is what offsets refer
    to: for .txt/.md it is the file's decoded text unchanged; for the other kinds it is the
    text the loader extracted (rows of a sheet as records, slides in order, ...)."""

    source: str  # path relative to the documents folder, with forward slashes
    # ("mail.eml#report.pdf" for an attachment: see ingest.source_file)
    text: str
    kind: str  # "txt", "md", "pdf", "html", "docx", "pptx", "xlsx", "csv", "eml", ...
    sha256: str  # of the file's bytes
    size: int  # bytes on disk
    page_starts: tuple[int, ...] = ()  # PDF: offset in `text` where page i+1 begins (slides)
    locators: tuple[Locator, ...] = ()  # sorted by offset; where each findable region starts
    sections: tuple[Section, ...] = ()  # structure the loader knows (not used for Markdown)

    def page_at(self, offset: int) -> int | None:
        """The 1-based page holding character `offset`, or None when the source has no pages.

        Example: page_starts=(0, 100) -> page_at(5) == 1, page_at(100) == 2
        """
        if not self.page_starts:
            return None
        return bisect.bisect_right(self.page_starts, offset)

    def locator_at(self, offset: int) -> str:
        """Where character `offset` is, in words a person can use ("" when unknown).

        Example: locators=((0, "page 1"), (100, "page 2 (OCR)")) -> locator_at(150) ==
                 "page 2 (OCR)"
        """
        return _label_at(self.locators, offset)


@dataclass(frozen=True, slots=True)
class Chunk:
    """A retrievable span of a document: document.text[start:end] == text."""

    id: str  # stable: derived from source, offsets and content
    source: str
    text: str
    start: int
    end: int
    ordinal: int  # position of the chunk within its document
    hash: str  # sha256 of text; the embedding cache key (with the model)
    page: int | None = None
    headings: tuple[str, ...] = ()  # heading path (Markdown, Word, sheet name), outermost first
    locator: str = ""  # where the chunk starts: "page 3 (OCR)", "slide 2", "sheet S, row 4"
    locators: tuple[Locator, ...] = ()  # regions that begin inside the chunk (document offsets)

    def locator_at(self, offset: int) -> str:
        """The locator of document offset `offset` inside this chunk (for a citation's quote).

        Example: locator="sheet S, row 2", locators=((140, "sheet S, row 3"),) ->
                 locator_at(139) == "sheet S, row 2", locator_at(140) == "sheet S, row 3"
        """
        return _label_at(self.locators, offset, self.locator)

    def cite(self, n: int, start: int, end: int) -> Citation:
        """Citation [n] of the document offsets start:end inside this chunk, quoting them exactly
        (`source_text[start:end] == quote`), with the page and locator where they are.

        Example: Chunk("c", "a.txt", "Hi. Amazon paid.", 100, 116, 0, "h").cite(1, 104, 116)
                 -> Citation(n=1, source="a.txt", start=104, end=116, quote="Amazon paid.",
                             chunk_id="c")
        """
        return Citation(
            n=n,
            source=self.source,
            start=start,
            end=end,
            quote=self.text[start - self.start : end - self.start],
            page=self.page,
            chunk_id=self.id,
            locator=self.locator_at(start),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Chunk:
        # Indexes written before locators existed lack both fields: the defaults apply.
        return cls(
            **{
                **data,
                "headings": tuple(data.get("headings", ())),
                "locators": tuple((int(o), str(label)) for o, label in data.get("locators", ())),
            }
        )


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """One indexed document: what the index records of it and the catalogue lists."""

    source: str  # path relative to the documents folder, with forward slashes
    kind: str  # "txt", "md", "pdf" or "html"
    size: int  # bytes on disk
    chunks: int  # how many chunks it was split into
    pages: int | None = None  # PDF page count
    sha256: str = ""  # of the file's bytes: how a sync tells whether it changed


@dataclass(frozen=True, slots=True)
class Hit:
    """A retrieved chunk with its fused score (higher is better) and per-retriever evidence."""

    chunk: Chunk
    score: float
    dense_score: float | None = None  # cosine similarity to the query
    lexical_score: float | None = None  # BM25 score


@dataclass(frozen=True, slots=True)
class Citation:
    n: int  # the [n] marker in the answer text
    source: str  # path relative to the documents folder
    start: int  # character offsets of the quoted span in that source
    end: int
    quote: str  # the exact supporting text
    page: int | None = None
    chunk_id: str = ""  # the passage the quote was taken from, for showing context
    locator: str = ""  # where the quote is, for a person: "page 3 (OCR)", "sheet S, row 4"
    # Why the quote reads as an instruction to the assistant ("" when it does not): shown
    # beside it, since a hostile document is quoted faithfully but never obeyed.
    flag: str = ""


@dataclass(frozen=True, slots=True)
class Dropped:
    """A sentence a language model wrote that the check removed, and why (one short phrase,
    e.g. "amount $9 billion not in passage [1]")."""

    sentence: str
    reason: str


@dataclass(frozen=True, slots=True)
class Answer:
    question: str
    query: str  # the standalone query used for retrieval (differs for follow-ups)
    text: str  # sentences ending in [n] markers, or a refusal
    citations: tuple[Citation, ...] = ()
    refused: bool = False
    related: tuple[Hit, ...] = ()  # closest passages, offered as reading when refused
    hits: tuple[Hit, ...] = ()  # what retrieval returned
    timings: dict[str, float] = field(default_factory=dict)
    # Notes a person should see beside the answer, e.g. that older turns of a long
    # conversation were left out, or that a quoted sentence reads as an instruction.
    notes: tuple[str, ...] = ()
    dropped: tuple[Dropped, ...] = ()  # sentences the check removed (LLM answers only)
    notice: str = ""  # said beside the answer, e.g. why another mode wrote it

    def to_dict(self) -> dict[str, Any]:
        def hit(h: Hit) -> dict[str, Any]:
            return {
                "score": h.score,
                "dense_score": h.dense_score,
                "lexical_score": h.lexical_score,
                "chunk": h.chunk.to_dict(),
            }

        return {
            "question": self.question,
            "query": self.query,
            "text": self.text,
            "refused": self.refused,
            "citations": [asdict(c) for c in self.citations],
            "related": [hit(h) for h in self.related],
            "hits": [hit(h) for h in self.hits],
            "timings": dict(self.timings),
            "notes": list(self.notes),
            "dropped": [asdict(d) for d in self.dropped],
            "notice": self.notice,
        }


@dataclass(frozen=True, slots=True)
class SkippedFile:
    source: str
    reason: str  # one sentence a person can act on


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What one `assistant index` did."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    skipped: tuple[SkippedFile, ...] = ()
    chunks_embedded: int = 0
    chunks_total: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    # Texts embedded besides whole chunks: the quotable sentences the index stores (new text)
    # and, when chunk vectors are made from them, the other pieces of the chunks too.
    sentences_embedded: int = 0
    notes: tuple[str, ...] = ()  # things a person should know, one sentence each

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        phases = ", ".join(f"{k} {v:.2f}s" for k, v in self.seconds.items())
        return (
            f"added {len(self.added)}, updated {len(self.updated)}, removed {len(self.removed)}, "
            f"unchanged {len(self.unchanged)} files; skipped {len(self.skipped)}; "
            f"chunks embedded {self.chunks_embedded} (index holds {self.chunks_total}), "
            f"sentences embedded {self.sentences_embedded}; {phases}"
        )
