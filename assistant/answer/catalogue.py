"""Questions about the collection itself, answered from the index's catalogue of sources."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..ingest.chunking import split_sentences
from ..schema import Chunk, Citation, SourceInfo

__all__ = ["CatalogueQuestion", "SourceInfo", "answer_catalogue", "parse_catalogue_question"]

_NOUN = r"(?:documents?|docs?|files?|sources?|articles?|texts?|papers?)"
_MENTION = re.compile(
    rf"\b(?:(?:which|what)|(?:do|does|are there)\s+any)\s+(?:of\s+(?:the|your)\s+)?{_NOUN}\s+"
    r"(?:mention|mentions|talk about|talks about|discuss|discusses|refer to|refers to|"
    r"contain|contains|cover|covers|say anything about|are about|is about|about)"
    r"\s+(?P<term>[^?!.]+)",
    re.IGNORECASE,
)
_LIST = re.compile(
    rf"^(?:(?:which|what)\s+{_NOUN}\s+"
    r"(?:do you have|have you got|are (?:there|indexed|available|loaded)"
    rf"|can you (?:see|search|read)|do you know)|(?:list|show)(?: me)? (?:the |your |all )*{_NOUN}"
    rf"|what (?:is|are) in (?:the|your) (?:index|collection|library))\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class CatalogueQuestion:
    kind: str  # "list" or "mention"
    term: str = ""


def parse_catalogue_question(question: str) -> CatalogueQuestion | None:
    """Recognise questions about the collection rather than its contents.

    Example: parse_catalogue_question("Which documents mention Alexa?")
             -> CatalogueQuestion(kind="mention", term="Alexa")
             parse_catalogue_question("What documents do you have?") -> CatalogueQuestion("list")
    """
    q = " ".join(question.split())
    m = _MENTION.search(q)
    if m:
        term = m.group("term").strip(" \"'“”‘’")
        return CatalogueQuestion("mention", term) if term else None
    if _LIST.search(q):
        return CatalogueQuestion("list")
    return None


def answer_catalogue(
    question: CatalogueQuestion, sources: Sequence[SourceInfo], chunks: Sequence[Chunk]
) -> tuple[str, tuple[Citation, ...]]:
    """The answer text and its citations for a catalogue question."""
    if question.kind == "list":
        if not sources:
            return "No documents are indexed yet: add files to the documents folder.", ()
        listed = "; ".join(_describe(s) for s in sources)
        noun = "document" if len(sources) == 1 else "documents"
        return f"I have {len(sources)} {noun}: {listed}.", ()

    pattern = re.compile(r"\b" + re.escape(question.term) + r"\b", re.IGNORECASE)
    first: dict[str, Citation] = {}
    for chunk in chunks:
        if chunk.source in first or not pattern.search(chunk.text):
            continue
        for s, e in split_sentences(chunk.text):
            if pattern.search(chunk.text[s:e]):
                first[chunk.source] = chunk.cite(len(first) + 1, chunk.start + s, chunk.start + e)
                break
    if not first:
        return f"None of the {len(sources)} indexed documents mention “{question.term}”.", ()
    names = ", ".join(f"{c.source} [{c.n}]" for c in first.values())
    verb = "document mentions" if len(first) == 1 else "documents mention"
    return f"{len(first)} {verb} “{question.term}”: {names}.", tuple(first.values())


def _describe(info: SourceInfo) -> str:
    pages = f", {info.pages} pages" if info.pages else ""
    return f"{info.source} ({_size(info.size)}{pages}, {info.chunks} chunks)"


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / (1024 * 1024):.1f} MB"
