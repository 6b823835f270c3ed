"""Split documents into sentence-aware chunks that keep exact character offsets.

Everything here is a pure function of its arguments. Offsets always index the document's
text, so `doc.text[chunk.start:chunk.end] == chunk.text` for every chunk, and citations can
quote the source exactly.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import re
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from ..schema import Chunk, Document

__all__ = [
    "MAX_SECTIONS",
    "MIN_SENTENCE_WORDS",
    "SECTION_CHARS",
    "TokenSpans",
    "attach_continuations",
    "chunk_document",
    "iter_chunks",
    "points_back",
    "section_problem",
    "sentence_units",
    "split_sentences",
    "vector_pieces",
]

TokenSpans = Callable[[str], list[tuple[int, int]]]
"""Character span of each word piece of a text, in order (an Embedder's `token_spans`)."""


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# --- sentences -----------------------------------------------------------------------------

# Words before a "." that never end a sentence (compared lower-cased, without the dot).
_ABBREVIATIONS = _words(
    """
    mr mrs ms mx dr prof sr st mt rev hon gov sen rep gen col lt sgt capt cmdr adm pres
    supt fig figs eq eqs ref refs sec ch vol vols ed eds approx ca cf vs viz resp dept
    est univ jan feb mar apr jun jul aug sep sept oct nov dec e.g i.e
    """
)
# Abbreviations that often end a sentence too: a boundary only before a capital letter.
_ENDING_ABBREVIATIONS = _words("etc al inc ltd co corp jr bros plc llc")
# Abbreviations that are only abbreviations before a number ("p. 12", "No. 5").
_NUMBER_ABBREVIATIONS = _words("no nos p pp art para tab")

# A run of sentence-ending punctuation, its closing quotes/brackets, then whitespace. The run
# is matched only from its first character and never given back (possessive): otherwise each
# start inside a long run without a following space ("?!?!…") rescans it, which is quadratic.
_END = re.compile(r"(?<![.!?…‽؟।])(?:\.{3}|[.!?…‽؟।]++)[\"'”’»)\]]*+(?=\s)")
# CJK full-width punctuation ends a sentence without any following space.
_CJK_END = re.compile(r"[。！？]+[\"'”’」』）)]*")
# Reference markers that belong to the sentence before them: "... rate. [1] [2]".
_CITES = re.compile(r"(?:\s*\[\d+(?:\s*[,–-]\s*\d+)*\])+")
# A bare reference number closing a paragraph: "... described previously. 9".
_TRAILING_NOTE = re.compile(r"\d{1,3}(?:\s*[,–-]\s*\d{1,3})*\s*")
# Initialisms such as U.S., e.g., i.e., Ph.D (the word before the final dot).
_INITIALISM = re.compile(r"(?:[A-Za-z]{1,2}\.)+[A-Za-z]{1,2}")
_HEADING_LINE = re.compile(r"[ ]{0,3}#{1,6}(?:[ \t]|$)")
# Lines that start a new block in plain text or Markdown: headings, list items, quotes, tables.
_BLOCK_START = re.compile(r"[ \t]*(?:#{1,6}[ \t]|[-*+•][ \t]|\d{1,3}[.)](?:[ \t]|$)|>|\|)")
# "Date:" or "Key words:" opening a line: a field of its own, not a wrapped sentence.
_LABEL = re.compile(r"[A-Z][\w()/' -]{0,30}:(?:\s|$)")
_TERMINAL_AT_END = re.compile(r"[.!?…‽؟।。！？][\"'”’»)\]]*$")
_WRAP_WIDTH = 40  # characters; shorter lines without end punctuation stand alone
_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n\s*")


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans of text[start:end], as offsets into `text`, without surrounding space.

    Sentences end at . ! ? (with closing quotes), at blank lines, and at line breaks that
    are not soft wraps. Abbreviations (Dr., e.g., U.S., et al., Fig., vs.), initials and
    decimals ($8.5 billion) do not end a sentence; reference markers stay with the sentence
    they follow. When unsure, sentences are kept together rather than cut in the middle.

    Example: "Dr. Smith paid $8.5 billion. Why? See Fig. 2." ->
             [(0, 28), (29, 33), (34, 45)]
             i.e. "Dr. Smith paid $8.5 billion.", "Why?", "See Fig. 2."
    """
    stop = len(text) if end is None else min(end, len(text))
    start = max(start, 0)
    spans: list[tuple[int, int]] = []
    for block_start, block_end in _blocks(text, start, stop):
        cut = block_start
        for boundary in _boundaries(text, block_start, block_end):
            _append_trimmed(spans, text, cut, boundary)
            cut = boundary
        _append_trimmed(spans, text, cut, block_end)
    return spans


# Shorter "sentences" are headings or fragments, not answers: evidence never quotes them.
MIN_SENTENCE_WORDS = 4


def sentence_units(text: str) -> list[tuple[int, int]]:
    """The sentences an answer may quote from text (a chunk's), as offsets into it: each
    sentence that points back to the one before is joined to it, and units of fewer than
    MIN_SENTENCE_WORDS words are left out. The index embeds exactly these, so that answering
    finds their vectors stored instead of embedding them.

    Example: "Meta builds in-house. This approach is costly. Amazon invests." ->
             [(0, 46)]  ("Amazon invests." has two words)
    """
    return [
        (s, e)
        for s, e in attach_continuations(text, split_sentences(text))
        if len(text[s:e].split()) >= MIN_SENTENCE_WORDS
    ]


_LETTER = re.compile(r"[^\W\d_]")


def vector_pieces(
    text: str, units: Sequence[tuple[int, int]] | None = None
) -> list[tuple[int, int]]:
    """The pieces whose vectors make up a chunk's vector when chunk vectors are derived
    (`ChunkerConfig.vectors == "sentences"`), as offsets into text: its quotable sentences
    (units: `sentence_units(text)`, computed when not given) and, so that no text goes
    unrepresented, each stretch between them that holds a letter (a heading, a table, a
    list, a sentence too short to quote), trimmed of space. A stretch of only digits,
    punctuation and space (" - ", "12") is left out: no meaning a vector would catch. A
    text without any piece is one piece, the whole text.

    Example: "Results\n\nMeta builds models in-house. Amazon invests. Fever is the most
             common symptom." -> [(0, 7), (9, 37), (38, 53), (54, 87)]: the heading, a
             sentence, the too-short "Amazon invests." and the last sentence.
    """
    if units is None:
        units = sentence_units(text)
    pieces: list[tuple[int, int]] = []

    def gap(start: int, end: int) -> None:
        stretch: list[tuple[int, int]] = []
        _append_trimmed(stretch, text, start, end)
        pieces.extend((a, b) for a, b in stretch if _LETTER.search(text, a, b))

    cut = 0
    for start, end in units:
        gap(cut, start)
        pieces.append((start, end))
        cut = end
    gap(cut, len(text))
    return pieces or [(0, len(text))]


_POINTS_BACK = re.compile(
    r"(?:This|That|These|Those|Such|It|Its|They|Their|Both|Neither)\b(?!\s+(?:is|was)\s+(?:not\s+)?"
    r"(?:also\s+)?(?:possible|likely|important|clear|known|thought|believed)\b)"
)


def points_back(text: str) -> bool:
    """Whether a sentence opens by pointing back to the one before it.

    Example: points_back("This approach is costly.") -> True;
             points_back("It is possible that prices rise.") -> False
    """
    return _POINTS_BACK.match(text) is not None


def attach_continuations(text: str, spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join each sentence that points back to the one before it, within a paragraph.

    Example: text = "Meta builds in-house. This approach is costly. Amazon invests."
    spans [(0, 21), (22, 46), (47, 62)] -> [(0, 46), (47, 62)]
    """
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if (
            out
            and _POINTS_BACK.match(text, start)
            and "\n\n" not in text[out[-1][1] : start]
            and out[-1][1] - out[-1][0] < 600  # keep units short enough to read as one
        ):
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def _append_trimmed(spans: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    # str.strip, not a loop over characters: a chunk may hold megabytes of space (it has no
    # word pieces), which a question that retrieves it would walk through in Python.
    piece = text[start:end]
    kept = piece.lstrip()
    start += len(piece) - len(kept)
    end = start + len(kept.rstrip())
    if start < end:
        spans.append((start, end))


# A line break followed by one or more blank lines: one paragraph break, however many.
_BLANK_LINES = re.compile(r"\n(?:[^\S\n]*\n)+")


def _blocks(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Cut [start, end) at blank lines and at line breaks that end a line of their own.

    A run of blank lines is passed over at once: space has no word pieces, so a chunk may
    hold a megabyte of empty lines, and looking at each of them again for every question
    that retrieved it took 17 s per question for 1 MB.
    """
    blocks: list[tuple[int, int]] = []
    cut = start
    pos = text.find("\n", start, end)
    while pos != -1:
        blank = _BLANK_LINES.match(text, pos, end)
        if blank is not None:
            blocks.append((cut, pos))
            cut = blank.end()
            pos = text.find("\n", cut, end)
            continue
        newline = text.rfind("\n", cut, pos)
        line_start = cut if newline == -1 else newline + 1
        prev_line = text[line_start:pos].rstrip()
        next_end = text.find("\n", pos + 1, end)
        next_line = text[pos + 1 : end if next_end == -1 else next_end]
        if _hard_break(prev_line, next_line):
            blocks.append((cut, pos))
            cut = pos + 1
        pos = next_end
    blocks.append((cut, end))
    return blocks


def _hard_break(prev_line: str, next_line: str) -> bool:
    """Whether a single line break ends a sentence, or only wraps a long line."""
    following = next_line.lstrip()
    if not prev_line.strip() or not following:
        return True  # a blank line: paragraph break
    if _HEADING_LINE.match(prev_line) or _BLOCK_START.match(next_line):
        return True
    if following[0].islower():
        return False  # "...the\nrest of the sentence"
    last = prev_line[-1]
    if last in ",;([{&/–—" or (last == "-" and prev_line[-2:-1].isalpha()):
        return False  # a line ending in a comma, an open bracket or a hyphenated word
    if _LABEL.match(following):
        return True  # "Date: 2020-01-01" on a line of its own
    if _TERMINAL_AT_END.search(prev_line):
        return False  # the punctuation rules decide, abbreviations included
    # A long line that stops mid-sentence was wrapped (PDFs, hard-wrapped text); a short
    # one is a title, a label or a table row.
    return len(prev_line.strip()) < _WRAP_WIDTH


def _boundaries(text: str, start: int, end: int) -> list[int]:
    """Offsets inside [start, end) where a new sentence begins (not trimmed)."""
    found: list[int] = []
    for match in _CJK_END.finditer(text, start, end):
        if match.end() < end:
            found.append(match.end())
    for match in _END.finditer(text, start, end):
        stop = match.end()
        cites = _CITES.match(text, stop, end)
        if cites:
            stop = cites.end()
        nxt = _next_visible(text, stop, end)
        if nxt == end or _TRAILING_NOTE.fullmatch(text, nxt, end):
            continue  # the block ends here anyway, or with a bare note number ("... 9")
        if _ends_sentence(text, start, match.start(), match.group(), text[nxt]):
            found.append(stop)
    return sorted(set(found))


_SPACE = re.compile(r"\s*")  # \s is str.isspace's whitespace


def _next_visible(text: str, pos: int, end: int) -> int:
    found = _SPACE.match(text, pos, end) if pos < end else None
    return found.end() if found is not None else pos


def _ends_sentence(text: str, block_start: int, dot: int, punct: str, following: str) -> bool:
    if following.islower() or following in ",;:.":
        return False  # "e.g. the", '"Why?" she asked', "etc., and", ". . ."
    if not punct.startswith("."):
        return True  # ! ? … and the like
    if punct.startswith("..."):
        return True
    word_start = dot
    while word_start > block_start and not text[word_start - 1].isspace():
        word_start -= 1
    word = text[word_start:dot].lstrip("([{\"'“‘")
    lower = word.lower()
    if lower in _ABBREVIATIONS or _INITIALISM.fullmatch(word):
        return False
    if lower in _NUMBER_ABBREVIATIONS:
        return not following.isdigit()
    if lower in _ENDING_ABBREVIATIONS:
        return following.isupper()
    if len(word) == 1 and word.isupper():
        return False  # an initial: "J. Smith"
    if not word.isdigit():
        return True
    # "1. Introduction": a list number at the start of a line, not the end of a sentence.
    # (Looked up only for numbers: on a long line, rfind for every "." would be quadratic.)
    line_start = max(text.rfind("\n", block_start, word_start) + 1, block_start)
    return bool(text[line_start:word_start].strip())


# --- sections and paragraphs --------------------------------------------------------------

_ATX_HEADING = re.compile(r"[ ]{0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*")
_FENCE = re.compile(r"[ ]{0,3}(`{3,}|~{3,})")


@dataclass(frozen=True, slots=True)
class _Section:
    start: int
    end: int
    headings: tuple[str, ...]


def _sections(doc: Document) -> Iterator[_Section]:
    """Markdown: one section per ATX heading (outside code fences); other kinds: the
    sections their loader found (Word headings, sheets, slides, messages), else one. One at
    a time, so that counting them may stop early (section_problem)."""
    text = doc.text
    if doc.kind != "md":
        starts = [(s, h) for s, h in doc.sections if 0 < s < len(text)]
        first = next((h for s, h in doc.sections if s <= 0), ())
        bounds = [(0, first), *starts]
        ends = [s for s, _ in starts] + [len(text)]
        yield from (_Section(s, e, h) for (s, h), e in zip(bounds, ends, strict=True) if s < e)
        return
    path: list[tuple[int, str]] = []
    section_start = 0
    fence = ""
    offset = 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        fence_match = _FENCE.match(body)
        if fence_match:
            marker = fence_match.group(1)
            if not fence:
                fence = marker
            elif marker[0] == fence[0] and len(marker) >= len(fence):
                fence = ""
        elif not fence and (heading := _ATX_HEADING.fullmatch(body)):
            if offset > section_start:
                yield _Section(section_start, offset, tuple(t for _, t in path))
            level = len(heading.group(1))
            while path and path[-1][0] >= level:
                path.pop()
            path.append((level, (heading.group(2) or "").strip()))
            section_start = offset
        offset += len(line)
    yield _Section(section_start, len(text), tuple(t for _, t in path))


# Each section is chunked, and its chunks embedded, on its own: a 789 KB Markdown file of
# 100,000 headings was 100,000 chunks and took 164 s to index (prose of that size: under
# 1,000 chunks). A document may have this many sections, or more if they hold this many
# characters each on average, as a long book's chapters and a workbook's sheets do.
MAX_SECTIONS = 10_000
SECTION_CHARS = 100


def section_problem(doc: Document) -> str | None:
    """Why doc has too many sections to index, in one sentence (None when it may be
    indexed): more than MAX_SECTIONS, and more than one per SECTION_CHARS characters. Counts
    no further than that, so a hostile file costs little to refuse.

    Example: a Markdown document "notes.md" of 20,000 lines "# h" (80,000 characters) ->
             "notes.md has more than 10,000 sections in 80,000 characters (a heading, sheet,
             slide or chapter starts each), and a document may have 10,000 or one per 100
             characters: merge its short sections, or split it into several files"
    """
    allowed = max(MAX_SECTIONS, len(doc.text) // SECTION_CHARS)
    if sum(1 for _ in itertools.islice(_sections(doc), allowed + 1)) <= allowed:
        return None
    return (
        f"{doc.source} has more than {allowed:,} sections in {len(doc.text):,} characters "
        "(a heading, sheet, slide or chapter starts each), and a document may have "
        f"{MAX_SECTIONS:,} or one per {SECTION_CHARS} characters: merge its short sections, "
        "or split it into several files"
    )


def _paragraphs(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """The paragraphs of text[start:end] (trimmed spans), one at a time."""
    cut = start
    for match in _PARAGRAPH_BREAK.finditer(text, start, end):
        spans: list[tuple[int, int]] = []
        _append_trimmed(spans, text, cut, match.start())
        yield from spans
        cut = match.end()
    spans = []
    _append_trimmed(spans, text, cut, end)
    yield from spans


def _paragraph_groups(
    text: str, start: int, end: int, size: int = 0
) -> Iterator[list[tuple[int, int]]]:
    """The paragraphs of text[start:end] in runs of about `size` characters (_WINDOW when
    0), each run tokenised at once: few tokenizer calls, and never the whole section's word
    pieces in memory. A paragraph longer than size is a run of its own.

    Example: _paragraph_groups("Aa.\n\nBb.\n\nCc.", 0, 13, size=6)
             -> [[(0, 3), (5, 8)], [(10, 13)]]
    """
    size = size or _WINDOW
    group: list[tuple[int, int]] = []
    for paragraph in _paragraphs(text, start, end):
        if group and paragraph[1] - group[0][0] > size:
            yield group
            group = []
        group.append(paragraph)
    if group:
        yield group


# --- chunks --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Unit:
    """A sentence, or a piece of one too long for a chunk; the smallest thing packed."""

    start: int
    end: int
    paragraph: int
    tokens: int


_WINDOW = 65_536  # characters tokenised per call when counting a section's word pieces
# A word piece counts once per this many characters. A word-piece tokenizer reads a word of
# over 100 characters as one unknown piece, so a document of one unbroken 5 MB word was one
# 5 MB chunk, every question that found it quoted all of it (3.8 s a question, 5 MB an
# answer, and the page was sent it several times over).
_PIECE_CHARS = 100


class _Counter:
    """Counts word pieces in any character range of a section from one tokenisation
    (a piece belongs to the range its first character is in), so packing costs a few
    tokenizer calls per section rather than one per candidate chunk.

    The section is tokenised in windows of at most _WINDOW characters cut after whitespace:
    word-piece tokenizers split at whitespace first, so the pieces are the same as for the
    whole section, while one call on a 20 MB section took minutes and gigabytes (its cost
    grows faster than its length). Starts are kept as machine integers (8 bytes each). A
    piece longer than _PIECE_CHARS counts as one per _PIECE_CHARS characters, so that no
    chunk holds more than max_tokens * _PIECE_CHARS characters.
    """

    def __init__(self, text: str, start: int, end: int, token_spans: TokenSpans) -> None:
        self.starts = array("q")
        for a, b in _windows(text, start, end):
            for s, e in token_spans(text[a:b]):
                self.starts.extend(range(a + s, a + max(e, s + 1), _PIECE_CHARS))

    def count(self, start: int, end: int) -> int:
        return bisect.bisect_left(self.starts, end) - bisect.bisect_left(self.starts, start)


def _windows(text: str, start: int, end: int, size: int = _WINDOW) -> list[tuple[int, int]]:
    """[start, end) cut into consecutive windows of at most `size` characters, each ending
    just after a space or line break when one lies in its second half.

    Example: _windows("aaa bbb ccc", 0, 11, size=5) -> [(0, 4), (4, 8), (8, 11)]
    """
    windows: list[tuple[int, int]] = []
    a = start
    while end - a > size:
        b = a + size
        cut = max(text.rfind(" ", a + size // 2, b), text.rfind("\n", a + size // 2, b))
        b = cut + 1 if cut != -1 else b
        windows.append((a, b))
        a = b
    if a < end or not windows:
        windows.append((a, end))
    return windows


def chunk_document(
    doc: Document, token_spans: TokenSpans, *, max_tokens: int, overlap_tokens: int
) -> list[Chunk]:
    """Cut a document into chunks of whole sentences of at most `max_tokens` word pieces
    (`iter_chunks`, as a list).

    Example: with one word piece per word or mark, max_tokens=7, overlap_tokens=3,
             "One two three. Four five. Six seven eight." ->
             ["One two three. Four five.", "Four five. Six seven eight."]
    """
    return list(iter_chunks(doc, token_spans, max_tokens=max_tokens, overlap_tokens=overlap_tokens))


def iter_chunks(
    doc: Document, token_spans: TokenSpans, *, max_tokens: int, overlap_tokens: int
) -> Iterator[Chunk]:
    """The chunks of a document, one at a time: sentences of at most `max_tokens` word
    pieces each.

    Sections (Markdown headings) are never crossed; chunks prefer to end at a paragraph
    break; each chunk after the first in a section starts with the trailing sentences of the
    one before that fit in `overlap_tokens`. A sentence longer than `max_tokens` is cut
    between word pieces, at a space where possible. Every non-space character of the
    document lies in at least one chunk, and each chunk is re-tokenised once to verify its
    size.

    Lazy all the way down: a section is tokenised a few paragraphs (about _WINDOW
    characters) at a time and packing holds only the sentences of the chunk it is filling,
    so a 50 MB text never has a list of all its sentences, word pieces or chunks in memory
    (issue 13: indexing must stream). Bad arguments raise ValueError at the call.

    Example: with one word piece per word or mark, max_tokens=7, overlap_tokens=3,
             "One two three. Four five. Six seven eight." -> chunks "One two three.
             Four five." and "Four five. Six seven eight.", one after the other
    """
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
    if overlap_tokens < 0:
        raise ValueError(f"overlap_tokens must be 0 or more, got {overlap_tokens}")
    return _chunks(doc, token_spans, max_tokens, overlap_tokens)


def _chunks(
    doc: Document, token_spans: TokenSpans, max_tokens: int, overlap_tokens: int
) -> Iterator[Chunk]:
    ordinal = 0
    for section in _sections(doc):
        units = _units(doc.text, section, token_spans, max_tokens)
        for start, end in _pack(doc.text, units, token_spans, max_tokens, overlap_tokens):
            yield _make_chunk(doc, ordinal, start, end, section.headings)
            ordinal += 1


def _make_chunk(
    doc: Document, ordinal: int, start: int, end: int, headings: tuple[str, ...]
) -> Chunk:
    text = doc.text[start:end]
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    key = f"{doc.source}\x00{start}\x00{end}\x00{digest}".encode("utf-8", "surrogatepass")
    return Chunk(
        id=hashlib.sha256(key).hexdigest()[:16],
        source=doc.source,
        text=text,
        start=start,
        end=end,
        ordinal=ordinal,
        hash=digest,
        page=doc.page_at(start),
        headings=headings,
        locator=doc.locator_at(start),
        locators=doc.locators[
            bisect.bisect_right(doc.locators, start, key=_offset) : bisect.bisect_left(
                doc.locators, end, key=_offset
            )
        ],
    )


def _offset(locator: tuple[int, str]) -> int:
    return locator[0]


def _units(
    text: str, section: _Section, token_spans: TokenSpans, max_tokens: int
) -> Iterator[_Unit]:
    """The section's sentences, long ones cut into pieces of at most max_tokens, in order.

    Word pieces are counted from one tokenisation of each run of paragraphs
    (_paragraph_groups): tokenizers split at whitespace first, and runs begin and end at
    paragraph breaks, so the counts are those of the whole section.
    """
    p = 0
    for group in _paragraph_groups(text, section.start, section.end):
        counter = _Counter(text, group[0][0], group[-1][1], token_spans)
        for p_start, p_end in group:
            for s_start, s_end in split_sentences(text, p_start, p_end):
                n = counter.count(s_start, s_end)
                if n <= max_tokens:
                    yield _Unit(s_start, s_end, p, n)
                    continue
                for a, b in _cut_long(text, counter, s_start, s_end, max_tokens):
                    yield _Unit(a, b, p, counter.count(a, b))
            p += 1


def _cut_long(
    text: str, counter: _Counter, start: int, end: int, max_tokens: int
) -> list[tuple[int, int]]:
    """Cut [start, end) before word pieces so each piece has at most max_tokens of them.

    Cuts go before a piece that follows whitespace when one lies in the second half of the
    window, so words stay whole; pieces then span from cut to cut, which keeps every
    character (even ones the tokenizer drops) inside some piece.
    """
    first = bisect.bisect_left(counter.starts, start)
    last = bisect.bisect_left(counter.starts, end)
    cuts = [start]
    i = first
    while last - i > max_tokens:
        j = i + max_tokens
        for k in range(j, i + max(1, max_tokens // 2) - 1, -1):
            if counter.starts[k] > start and text[counter.starts[k] - 1].isspace():
                j = k
                break
        cuts.append(counter.starts[j])
        i = j
    cuts.append(end)
    pieces: list[tuple[int, int]] = []
    for a, b in itertools.pairwise(cuts):
        _append_trimmed(pieces, text, a, b)
    return pieces


def _pack(
    text: str,
    source: Iterable[_Unit],
    token_spans: TokenSpans,
    max_tokens: int,
    overlap_tokens: int,
) -> Iterator[tuple[int, int]]:
    """Greedy packing of units into chunk spans; yields (start, end) offsets.

    Sizes come from the section's one tokenisation; each finished chunk is re-tokenised once
    to verify it (a cut inside a word can tokenise differently) and shrunk if it is over.
    Units are read from source as packing needs them: the list holds the current chunk's
    (overlap included) and more than max_tokens word pieces beyond them, which is all any
    decision looks at, so the chunks are those of packing the whole list at once.
    """
    units: list[_Unit] = []
    pending = iter(source)
    ahead = 0  # word pieces in units[new:]
    exhausted = False
    first = 0  # the first unit of the current chunk, overlap included
    new = 0  # the first unit not yet in any chunk
    while True:
        while not exhausted and ahead <= max_tokens:
            unit = next(pending, None)
            if unit is None:
                exhausted = True
            else:
                units.append(unit)
                ahead += unit.tokens
        if new >= len(units):
            return
        # Take the overlap, and as many new units as fit (always at least one).
        first = _fit_overlap(units, first, new, max_tokens)
        last = new
        size = _span_tokens(units, first, last)
        while last + 1 < len(units) and size + units[last + 1].tokens <= max_tokens:
            last += 1
            size += units[last].tokens
        if last + 1 < len(units):
            last = _prefer_paragraph_end(units, first, new, last, max_tokens)
        while len(token_spans(text[units[first].start : units[last].end])) > max_tokens:
            if first < new:
                first += 1  # give up overlap before new text
            elif last > new:
                last -= 1
            else:
                pieces = _recut(text, units[new], token_spans, max_tokens)
                if len(pieces) == 1:
                    break  # cannot be cut finer: a single word piece
                units[new : new + 1] = pieces
        yield (units[first].start, units[last].end)
        new = last + 1
        first = _overlap_start(units, first, last, overlap_tokens)
        # What lies before the overlap is never looked at again.
        del units[:first]
        new -= first
        first = 0
        ahead = _span_tokens(units, new, len(units) - 1)


def _recut(text: str, unit: _Unit, token_spans: TokenSpans, max_tokens: int) -> list[_Unit]:
    """Cut one unit by its own tokenisation (used when the section's one disagreed)."""
    counter = _Counter(text, unit.start, unit.end, token_spans)
    pieces = _cut_long(text, counter, unit.start, unit.end, max_tokens)
    return [_Unit(a, b, unit.paragraph, counter.count(a, b)) for a, b in pieces]


def _span_tokens(units: Sequence[_Unit], first: int, last: int) -> int:
    return sum(u.tokens for u in units[first : last + 1])


def _fit_overlap(units: Sequence[_Unit], first: int, new: int, max_tokens: int) -> int:
    """Drop overlap units from the front until the overlap plus the next unit fits."""
    while first < new and _span_tokens(units, first, new) > max_tokens:
        first += 1
    return first


def _prefer_paragraph_end(
    units: Sequence[_Unit], first: int, new: int, last: int, max_tokens: int
) -> int:
    """End at the last paragraph break in the chunk if that keeps it at least half full."""
    for k in range(last, new - 1, -1):
        if units[k].paragraph != units[k + 1].paragraph:
            if 2 * _span_tokens(units, first, k) >= max_tokens:
                return k
            break
    return last


def _overlap_start(units: Sequence[_Unit], first: int, last: int, overlap_tokens: int) -> int:
    """First unit of the trailing sentences of [first, last] that fit in overlap_tokens."""
    start = last + 1
    size = 0
    while start - 1 > first and size + units[start - 1].tokens <= overlap_tokens:
        start -= 1
        size += units[start].tokens
    return start
