"""Questions about the collection itself, answered from the index's catalogue of sources:
which documents there are, which mention a term, which names they use, and what a document
or the collection is about (a summary of the documents' own sentences, each cited); and the
few things people say to a chat that are not questions about the documents at all ("hi",
"thanks", "what can you do?"), answered as such rather than refused."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ..ingest.chunking import split_sentences
from ..schema import Chunk, Citation, SourceInfo
from ..text import analyze

__all__ = [
    "CONVERSATION_OPENINGS",
    "CatalogueQuestion",
    "Part",
    "SourceInfo",
    "answer_catalogue",
    "document_paragraphs",
    "parse_catalogue_question",
    "part_followup",
    "part_spans",
    "place_asked",
    "summary_sentences",
]

_NOUN = r"(?:documents?|docs?|files?|sources?|articles?|texts?|papers?)"
_MENTION = re.compile(
    rf"\b(?:(?:which|what)|(?:do|does|are there)\s+any|"
    # "Does the article mention Apple?"
    rf"(?P<one>^\W*(?:do|does|did)\s+(?:the|this|that|these|those|your|my)))\s+"
    rf"(?:of\s+(?:the|your)\s+)?{_NOUN}\s+"
    r"(?:mention|mentions|talk about|talks about|discuss|discusses|refer to|refers to|"
    r"contain|contains|cover|covers|say anything about|are about|is about|about)"
    r"\s+(?P<term>[^?!.]+)"
    # "Is Apple mentioned anywhere?", "Is Alexa mentioned in the article?"
    rf"|^\W*(?:is|are)\s+(?P<named>[^?!.]+?)\s+(?:mentioned|named|discussed)"
    rf"(?:\s+(?:anywhere|at\s+all|in\s+(?:the|this|any|your)\s+{_NOUN}))?\s*[?!.]*\s*$",
    re.IGNORECASE,
)
_NAMING = re.compile(r"\b(?:mentions?|refers?\s+to)\b", re.IGNORECASE)
_LIST = re.compile(
    rf"^(?:(?:which|what)\s+{_NOUN}\s+"
    r"(?:do you have|have you got|are (?:there|indexed|available|loaded)"
    rf"|can you (?:see|search|read)|do you know)|(?:list|show)(?: me)? (?:the |your |all )*{_NOUN}"
    rf"|what (?:is|are) in (?:the|your) (?:index|collection|library))\b",
    re.IGNORECASE,
)


# "Summarize the article.", "tl;dr", "Give me an overview of report.pdf", "What is this
# document about?", "What are the key points?": what a document, or the collection, is about.
_WHAT = r"(?:the|this|that|these|those|your|my|each|every|all(?:\s+the)?)"
_SUMMARY = re.compile(
    r"^\W*(?:(?:ok|okay|so|hi|hey|please)\W+)*(?:(?:can|could|would|will)\s+you\s+)?"
    r"(?:please\s+)?(?:"
    r"(?:summari[sz]e|sum\s+up|recap|give\s+(?:me\s+)?(?:an?\s+)?(?:short\s+|brief\s+|"
    r"quick\s+)?(?:summary|overview|rundown|gist|tl;?\s*dr)(?:\s+of)?|"
    r"(?:an?\s+)?(?:short\s+|brief\s+|quick\s+)?(?:summary|overview|gist|tl;?\s*dr)"
    r"(?:\s+of)?|what\s+are\s+the\s+(?:main|key)\s+(?:points|takeaways|ideas)(?:\s+of)?|"
    r"(?:the\s+)?(?:main|key)\s+(?:points|takeaways)(?:\s+of)?))"
    rf"(?:\s+{_WHAT})?(?:\s+(?:{_NOUN}|collection|index|library|it|everything))?"
    r"(?:\s+(?P<name>[\w./\\-]+\.\w{1,5}))?\s*(?:please)?\W*$"
    rf"|^\W*what(?:'s|’s|\s+is|\s+are)\s+{_WHAT}\s+{_NOUN}\s+(?:all\s+)?about\W*$"
    # "How would you sum up the article in one line?"
    rf"|^\W*how\s+(?:would|do|could|can)\s+you\s+(?:sum\s+up|summari[sz]e|describe)\s+"
    rf"{_WHAT}\s+{_NOUN}(?:\s+in\s+(?:one|a|two|a\s+few|few)\s+(?:line|lines|sentence|"
    rf"sentences|words))?\W*$"
    rf"|^\W*what(?:'s|’s|\s+is)\s+in\s+{_WHAT}\s+{_NOUN}\W*$"
    rf"|^\W*what\s+(?:do|does)\s+{_WHAT}\s+{_NOUN}\s+(?:say|cover|discuss)\W*$",
    re.IGNORECASE,
)
# "give me one line what this article says", "in a nutshell?", "the article's main point?":
# a question all of whose words ask for the gist (a word of _GIST_WORDS), one of them
# naming a summary (_GIST_CUES) or the document with what it says (_GIST_SAYS); any other
# word ("... about Google") makes it a question about the content.
_GIST_WORD_LIST = (
    "a an the this that these those it its your my me us please pls can could would will "
    "you give tell show explain describe what whats is are was does do in of on for to "
    "about so ok okay just quick quickly short brief briefly basically overall main key "
    "big bigger whole general one two three few couple line lines sentence sentences "
    "words word article articles document documents doc docs file files text texts paper "
    "papers piece story report say says saying said point points gist idea ideas takeaway "
    "takeaways message bottom essence nutshell picture summary summarize summarise sum up "
    "recap overview rundown tldr tl dr here"
)
_GIST_WORDS = frozenset(_GIST_WORD_LIST.split())
_GIST_CUE_LIST = (
    "summary summarize summarise recap overview rundown gist tldr nutshell takeaway takeaways "
    "essence"
)
_GIST_CUES = frozenset(_GIST_CUE_LIST.split())
_GIST_DOCUMENT = r"(?:article|document|doc|text|paper|piece|story|report)"
_GIST_SAYS = re.compile(
    rf"\b(?:say|says|saying|said|about|point|points|idea|ideas|message)\b.*\b{_GIST_DOCUMENT}s?\b|"
    rf"\b{_GIST_DOCUMENT}(?:s|['’]s)?\b.*\b(?:say|says|saying|said|point|points|idea|ideas|"
    rf"message)\b|\b(?:explain|describe)\b.*\b{_GIST_DOCUMENT}|"
    r"\b(?:one|a|two|few)\s+(?:line|sentence)s?\b|\bsum\s+(?:it\s+)?up\b|"
    r"\bbottom\s+line\b|\bbig\s+picture\b",
    re.IGNORECASE,
)


def _asks_gist(question: str) -> bool:
    """Whether every word of question asks for the gist of the documents, and one says so.

    Example: _asks_gist("give me one line what this article says") -> True;
             _asks_gist("in a nutshell?") -> True;
             _asks_gist("What does the article say about Google?") -> False;
             _asks_gist("What's the point?") -> False
    """
    words = [w.replace("’", "'") for w in re.findall(r"[a-z]+(?:['’][a-z]+)?", question.lower())]
    words = [w.removesuffix("'s") for w in words]
    if not words or not all(w in _GIST_WORDS for w in words):
        return False
    return not _GIST_CUES.isdisjoint(words) or _GIST_SAYS.search(question) is not None


# "Which companies are mentioned in the article?", "List the people named in the documents":
# the names the documents use, each where it is first named.
_KINDS = r"(?:companies|firms|organi[sz]ations|names|products|models|entities|players|brands)"
_WHERE = rf"(?:\s+(?:in|by|within|across)\s+(?:{_WHAT}\s+)?(?:{_NOUN}|collection|index))?"
_NAMES = re.compile(
    rf"^\W*(?:(?:which|what)\s+(?:\w+\s+)?{_KINDS}\s+(?:are|were|does|do|did|is)\s+"
    rf"(?:{_WHAT}\s+{_NOUN}\s+|it\s+|they\s+)?"
    rf"(?:mention|mentioned|name|named|discuss|discussed|cover|covered|list|listed|cite|cited|"
    rf"involved)"
    rf"|(?:can\s+you\s+|please\s+)?(?:list|name)\s+(?:all\s+)?(?:of\s+)?(?:the\s+)?"
    rf"{_KINDS}(?:\s+(?:mentioned|named|discussed))?"
    # "Who are the main players?", "What are the key companies in the article?"
    rf"|(?:who|what|which)\s+(?:are|were)\s+(?:the\s+)?(?:main|key|major|big|biggest)\s+"
    rf"{_KINDS}(?:\s+(?:mentioned|named|discussed|involved))?"
    rf"|who(?:['’]s|\s+is|\s+are)\s+involved){_WHERE}\W*$",
    re.IGNORECASE,
)
# A name inside a sentence: capitalised words after a small letter, a digit or a comma and a
# space ("... deal with OpenAI", "like Meta, maintaining"), one run of them ("Luigi Ferrante").
# Not spelling._INSIDE (one word of any case, counted to tell a name from a word, and after
# a bracket too) nor features._CAPITALISED_RUN (two words or more, a sentence's opening too):
# this one lists whole names, "of" within them ("Bank of England").
_NAME_RUN = re.compile(r"(?<=[a-z0-9,] )[A-Z][\w\-]*(?:\s+(?:of\s+)?[A-Z][\w\-]*)*")
# What people say to a chat that is no question about the documents.
_HELLO = r"(?:hi|hello|hey|hiya|howdy|greetings|good\s+(?:morning|afternoon|evening)|yo)"
_GREETING = re.compile(rf"^\W*{_HELLO}(?:\s+(?:there|assistant|bot|all))?\W*$", re.IGNORECASE)
_THANKS = re.compile(
    r"^\W*(?:(?:ok|okay|great|cool|perfect|nice|awesome|got\s+it)\W+)?"
    r"(?:thanks?(?:\s+(?:you|a\s+lot|so\s+much|very\s+much))*|thank\s+you(?:\s+(?:so|very)\s+much)?|"
    r"thx|ty|cheers|much\s+appreciated)(?:\W+(?:that'?s\s+)?(?:helpful|great|perfect))?\W*$",
    re.IGNORECASE,
)
_ACKNOWLEDGED = re.compile(
    r"^\W*(?:ok|okay|k|cool|great|perfect|nice|alright|all\s+right|got\s+it|i\s+see|understood|"
    r"makes\s+sense|good|fine)\W*$",
    re.IGNORECASE,
)
_HELP = re.compile(
    rf"^\W*(?:{_HELLO}\W+)?(?:help|who\s+are\s+you|what\s+are\s+you|"
    r"what\s+(?:can|do)\s+you\s+do|how\s+(?:do|does)\s+(?:this|it|you)\s+work|"
    r"how\s+(?:do|can)\s+i\s+use\s+(?:this|you|it)|what\s+should\s+i\s+ask(?:\s+you)?)\W*$",
    re.IGNORECASE,
)
_CONVERSATION = (
    (_GREETING, "greeting"),
    (_THANKS, "thanks"),
    (_HELP, "help"),
    (_ACKNOWLEDGED, "ack"),
)
_NOTHING_INDEXED = "No documents are indexed yet: add files to the documents folder"
_MAX_NAMES = 40
_NAME_SENTENCES = 5000
_SUMMARY_SENTENCES = 3  # for one document
# A sentence that names its subject by pointing back ("She was 68 metres long.", "This
# approach is costly ..."): read alone in a summary, it says nothing.
_POINTS_BACK = re.compile(
    r"^(?:\S+\s+){0,3}?(?i:it|its|he|his|she|her|they|their|this|these|those|such)\b"
    r"|^(?:The|This|These|That|Such)\s+[a-z]"
)
_SUMMARY_DOCUMENTS = 5  # the collection's summary names at most this many, two sentences each


_Sentence = tuple[Chunk, int, int, str]  # a document's sentence: chunk, start, end, text


@dataclass(frozen=True, slots=True)
class Part:
    """A part of a document asked for by its place: its nth paragraph (from 1; -1 the last),
    or with paragraph 0 its first sentence, or its last one when last is set."""

    paragraph: int = 0
    last: bool = False


@dataclass(frozen=True, slots=True)
class CatalogueQuestion:
    # "list", "mention", "summary", "names", "part"; or "greeting", "thanks", "ack", "help"
    kind: str
    term: str = ""  # the term asked about ("mention"), or the document named ("summary", "part")
    part: Part | None = None  # the part asked for ("part")


# "How does the article end?", "What's the conclusion?", "What does the second paragraph
# say?", "Show me the opening line of report.pdf": a part of a document asked by its place.
_DOC = r"(?:(?:the|this|that|your|my)\s+)?(?:article|piece|document|doc|text|story|report|paper)"
_FILE = r"(?:\s+(?P<name>[\w./\\-]+\.\w{1,5}))?"
_OF_DOC = rf"(?:\s+(?:of|in)(?:\s+(?:{_DOC}|it)\b)?{_FILE})?"
_PLACES = {
    "first": 1, "1st": 1, "opening": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3,
    "fourth": 4, "4th": 4, "fifth": 5, "5th": 5, "last": -1, "final": -1, "closing": -1,
    "concluding": -1,
}  # fmt: skip
_PLACE = r"(?P<place>" + "|".join(_PLACES) + r")"
_UNIT = r"(?P<unit>line|sentence|paragraph|words?|thought|remark)"
_ASKS_PART = r"^\W*(?:(?:ok|okay|so|and|hi|hey|please|now)\W+)*"
_END = r"\W*(?:please)?\W*$"
_PARTS = (
    # "How does the article end?", "how does it open"
    re.compile(
        rf"{_ASKS_PART}how\s+(?:does|do|did)\s+(?:{_DOC}|it){_FILE}\s+(?:(?P<ends>end|conclude|"
        rf"close|finish|wrap\s+up)|(?P<opens>open|begin|start|kick\s+off)){_END}",
        re.IGNORECASE,
    ),
    # "What is the conclusion of the article?", "What's the article's closing line?"
    re.compile(
        rf"{_ASKS_PART}what(?:['’]s|\s+is|\s+was)\s+(?:the\s+|{_DOC}['’]s\s+)?(?:"
        r"(?P<ends>conclusion|ending|end)|(?P<opens>opening|intro|introduction|beginning)|"
        rf"{_PLACE}\s+{_UNIT}){_OF_DOC}{_END}",
        re.IGNORECASE,
    ),
    # "What does the article conclude?"
    re.compile(
        rf"{_ASKS_PART}what\s+(?:does|did)\s+(?:{_DOC}|it){_FILE}\s+(?P<concludes>conclude)"
        rf"{_END}",
        re.IGNORECASE,
    ),
    # "What does the second paragraph say?", "Show me the last paragraph of notes.txt"
    re.compile(
        rf"{_ASKS_PART}what\s+(?:does|did)\s+the\s+{_PLACE}\s+{_UNIT}{_OF_DOC}\s+(?:say|"
        rf"tell\s+us|cover|discuss|talk\s+about){_END}",
        re.IGNORECASE,
    ),
    re.compile(
        rf"{_ASKS_PART}(?:show|give|read|quote)\s+(?:me\s+)?the\s+{_PLACE}\s+{_UNIT}{_OF_DOC}"
        rf"{_END}",
        re.IGNORECASE,
    ),
)


def _part_asked(question: str) -> CatalogueQuestion | None:
    """The part of a document a question asks for by its place, or None.

    Example: _part_asked("How does the article end?")
             -> CatalogueQuestion("part", "", Part(last=True));
             _part_asked("What does the second paragraph say?")
             -> CatalogueQuestion("part", "", Part(paragraph=2))
    """
    for pattern in _PARTS:
        m = pattern.match(question)
        if m is None:
            continue
        found = m.groupdict()
        return CatalogueQuestion("part", found.get("name") or "", _found_part(found))
    return None


def _found_part(found: dict[str, str | None], *, by_paragraph: bool = False) -> Part:
    """The part a match of the place patterns names (its groups: ends or concludes, opens,
    or a place with its unit); by_paragraph: a place without a unit is a paragraph.

    Example: {"ends": "end"} -> Part(last=True); {"place": "second", "unit": "paragraph"}
             -> Part(paragraph=2); {"place": "last", "unit": "line"} -> Part(last=True)
    """
    if found.get("ends") or found.get("concludes"):
        return Part(last=True)
    if found.get("opens"):
        return Part()
    place = _PLACES[str(found["place"]).lower()]
    if by_paragraph or (found.get("unit") or "").lower() == "paragraph":
        return Part(paragraph=place)
    return Part(last=place == -1)


# "How does the author sum up the bet in the closing line?", "What does the first paragraph
# say about Meta?", "... at the end of the article?": a question about the contents, told
# where in the document to look. A line or words only as a text's ("the first line" of a
# tramway, "the last words" of a king, "the last word" of a debate are no place in it).
_PLACED = (
    re.compile(
        rf"\b(?:the|{_DOC}['’]s)\s+{_PLACE}\s+(?P<unit>sentence|paragraph)s?\b", re.IGNORECASE
    ),
    re.compile(
        rf"\b(?:the|{_DOC}['’]s)\s+(?P<place>opening|closing|concluding|final)\s+"
        r"(?:line|remark|word)s?\b",
        re.IGNORECASE,
    ),
    re.compile(rf"\b{_PLACE}\s+(?:line|remark|word)s?\s+of\s+{_DOC}\b", re.IGNORECASE),
    re.compile(
        rf"\b(?:at|towards?|near)\s+the\s+(?:(?P<ends>end|close)|(?P<opens>start|beginning|"
        rf"opening))\s+of\s+(?:{_DOC}|it)\b",
        re.IGNORECASE,
    ),
)


def place_asked(question: str) -> Part | None:
    """Where in a document a question about its contents says to look, or None.

    Example: place_asked("How does the author sum up the bet in the closing line?")
             -> Part(last=True);
             place_asked("What does the second paragraph say about Meta?") -> Part(paragraph=2);
             place_asked("On what date did the first line open?") -> None
    """
    for pattern in _PLACED:
        m = pattern.search(question)
        if m is not None:
            return _found_part(m.groupdict())
    return None


def part_spans(part: Part, source: str, chunks: Sequence[Chunk]) -> list[tuple[int, int]]:
    """The (start, end) offsets of the sentences of source that make up part: a paragraph's
    sentences, or the first or last sentence ([] when the document has no such paragraph).

    Example: for a document "One. Two.\\nThree." -> Part(last=True): [(10, 16)];
             Part(paragraph=1): [(0, 4), (5, 9)]; Part(paragraph=3): []
    """
    paragraphs = document_paragraphs(_document_sentences(source, chunks))
    return [(start, end) for _, start, end, _ in _part_of(part, paragraphs)] if paragraphs else []


def _part_of(part: Part, paragraphs: list[list[_Sentence]]) -> list[_Sentence]:
    """The sentences of a document's (non-empty) paragraphs that make up part ([] when it
    has no such paragraph)."""
    if part.paragraph:
        index = part.paragraph - 1 if part.paragraph > 0 else len(paragraphs) - 1
        return paragraphs[index] if index < len(paragraphs) else []
    return [paragraphs[-1][-1] if part.last else paragraphs[0][0]]


# "And the beginning?", "What about the second paragraph?", "the opening one?" after a part
# was asked for: another part of the same document.
_ANOTHER_PART = re.compile(
    r"^\W*(?:(?:and|ok|okay|so|now)\W+)*(?:(?:what|how)\s+about\s+|and\s+)?(?:the\s+)?(?:"
    r"(?P<ends>end|ending|conclusion|close|closing)|(?P<opens>beginning|start|opening|intro)|"
    rf"{_PLACE}(?:\s+(?P<unit>paragraph|line|sentence|one))?)(?:\s+(?:one|part|bit))?"
    r"(?:\s+(?:then|too|please))?\W*$",
    re.IGNORECASE,
)


def part_followup(question: str, last_question: str) -> CatalogueQuestion | None:
    """Another part of the document, asked for right after a part was: "What about the
    beginning?" after "How does the article end?"; None otherwise.

    Example: part_followup("What about the beginning?", "How does the article end?")
             -> CatalogueQuestion("part", "", Part());
             part_followup("And the second one?", "What does the first paragraph say?")
             -> CatalogueQuestion("part", "", Part(paragraph=2));
             part_followup("What about Google?", "How does the article end?") -> None
    """
    before = _part_asked(" ".join(last_question.split()))
    m = _ANOTHER_PART.match(question)
    if before is None or m is None:
        return None
    found = m.groupdict()
    # "And the second one?" after a paragraph is the second paragraph.
    unitless = (found.get("unit") or "one").lower() == "one"
    paragraph = unitless and bool((before.part or Part()).paragraph)
    return CatalogueQuestion("part", before.term, _found_part(found, by_paragraph=paragraph))


def parse_catalogue_question(question: str) -> CatalogueQuestion | None:
    """Recognise questions about the collection rather than its contents.

    Example: parse_catalogue_question("Which documents mention Alexa?")
             -> CatalogueQuestion(kind="mention", term="Alexa")
             parse_catalogue_question("What documents do you have?") -> CatalogueQuestion("list")
    """
    q = " ".join(question.split())
    if not any(c.isalnum() for c in q):
        return CatalogueQuestion("help")
    for pattern, kind in _CONVERSATION:
        if pattern.match(q):
            return CatalogueQuestion(kind)
    m = _MENTION.search(q)
    # "Does the article discuss risks?" asks for what it says; "... mention Apple?" whether
    # it names it at all. A pointer ("Is it mentioned?") is a follow-up, not a term.
    asks_content = m is not None and m.group("one") and not _NAMING.search(m.group(0))
    if m and not asks_content:
        term = (m.group("term") or m.group("named")).strip(" \"'“”‘’")
        pointer = term.lower() in {"it", "this", "that", "they", "them", "these", "those"}
        return CatalogueQuestion("mention", term) if term and not pointer else None
    if _LIST.search(q):
        return CatalogueQuestion("list")
    if _NAMES.search(q):
        return CatalogueQuestion("names")
    part = _part_asked(q)
    if part is not None:
        return part
    m = _SUMMARY.search(q)
    if m:
        return CatalogueQuestion("summary", m.group("name") or "")
    if _asks_gist(q):
        return CatalogueQuestion("summary")
    return None


def answer_catalogue(
    question: CatalogueQuestion, sources: Sequence[SourceInfo], chunks: Sequence[Chunk]
) -> tuple[str, tuple[Citation, ...]]:
    """The answer text and its citations for a catalogue question."""
    if question.kind in ("greeting", "thanks", "ack", "help"):
        return _conversation(question.kind, sources), ()
    if question.kind == "summary":
        return _summary(question.term, sources, chunks)
    if question.kind == "names":
        return _named(sources, chunks)
    if question.kind == "part":
        return _part(question, sources, chunks)
    if question.kind == "list":
        if not sources:
            return f"{_NOTHING_INDEXED}.", ()
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
        if len(sources) == 1:
            return f"No indexed document mentions “{question.term}”.", ()
        return f"None of the {len(sources)} indexed documents mention “{question.term}”.", ()
    names = ", ".join(f"{c.source} [{c.n}]" for c in first.values())
    verb = "document mentions" if len(first) == 1 else "documents mention"
    return f"{len(first)} {verb} “{question.term}”: {names}.", tuple(first.values())


def summary_sentences(sentences: Sequence[str], n: int) -> list[int]:
    """The indices (in document order) of n sentences that say what a document is about,
    the first of them, then by SumBasic (Nenkova and Vanderwende, 2005): a sentence scores
    the mean frequency in the document of its words; after each pick its words count for
    their square, so the next pick says something else. Sentences of fewer than five words
    (headings, captions), of more than sixty, and those that point back ("This approach is
    costly ...": read alone, they say nothing) are left out unless nothing else is left.

    Example: summary_sentences(["Anthropic is an AI company based in the US.",
                                "Amazon invested $8 billion in Anthropic last year.",
                                "Amazon may invest more in Anthropic soon.",
                                "Lunch was served."], 2) -> [0, 2]
    """
    words = [analyze(s) for s in sentences]
    sized = [i for i, w in enumerate(words) if w and 5 <= len(sentences[i].split()) <= 60]
    # The first may open with "The Colwyn was ...": nothing comes before it to point back to.
    usable = sized[:1] + [i for i in sized[1:] if not _POINTS_BACK.search(sentences[i])]
    usable = usable or [i for i, w in enumerate(words) if w]
    counts = Counter(t for i in usable for t in words[i])
    total = sum(counts.values()) or 1
    weight = {t: c / total for t, c in counts.items()}
    # The opening sentence first: articles and reports say what they are about there (the
    # "lead" that news summaries are measured against).
    chosen: list[int] = usable[:1] if n else []
    for t in set(words[usable[0]] if chosen else ()):
        weight[t] = weight[t] ** 2
    while len(chosen) < min(n, len(usable)):
        best = max(
            (i for i in usable if i not in chosen),
            key=lambda i: (sum(weight[t] for t in words[i]) / len(words[i]), -i),
        )
        chosen.append(best)
        for t in set(words[best]):
            weight[t] = weight[t] ** 2
    return sorted(chosen)


def _summary(
    name: str, sources: Sequence[SourceInfo], chunks: Sequence[Chunk]
) -> tuple[str, tuple[Citation, ...]]:
    """A few of each document's own sentences that say what it is about, cited; the named
    document's alone when one is named."""
    chosen, refusal = _documents_asked(name, sources)
    if refusal:
        return refusal, ()
    each = _SUMMARY_SENTENCES if len(chosen) == 1 else 2
    parts: list[str] = []
    citations: list[Citation] = []
    for source in chosen:
        spans = _document_sentences(source, chunks)
        if not spans:
            continue
        picked = summary_sentences([text for _, _, _, text in spans], each)
        quoted = []
        for i in picked:
            chunk, start, end, _ = spans[i]
            citation = chunk.cite(len(citations) + 1, start, end)
            citations.append(citation)
            quoted.append(f"{citation.quote} [{citation.n}]")
        lead = "" if len(chosen) == 1 else f"{source}: "
        parts.append(lead + " ".join(quoted))
    if not parts:
        return "The indexed documents hold no sentences to summarise.", ()
    more = len(sources) - len(chosen)
    if more > 0 and not name:
        parts.append(f"({more} more documents: ask for a summary of one by its name.)")
    return "\n\n".join(parts), tuple(citations)


_PART_SENTENCES = 5  # of a paragraph asked for by its place


def _part(
    question: CatalogueQuestion, sources: Sequence[SourceInfo], chunks: Sequence[Chunk]
) -> tuple[str, tuple[Citation, ...]]:
    """The part of each document (the named one's alone) that the question asks for by its
    place, quoted and cited."""
    chosen, refusal = _documents_asked(question.term, sources)
    if refusal:
        return refusal, ()
    part = question.part or Part()
    parts: list[str] = []
    citations: list[Citation] = []
    for source in chosen:
        lead = "" if len(chosen) == 1 else f"{source}: "
        paragraphs = document_paragraphs(_document_sentences(source, chunks))
        if not paragraphs:
            continue
        spans = _part_of(part, paragraphs)
        if not spans:
            count = f"{len(paragraphs)} paragraph" + ("s" if len(paragraphs) > 1 else "")
            parts.append(f"{lead}{source} has only {count}.")
            continue
        quoted = []
        for chunk, start, end, _ in spans[:_PART_SENTENCES]:
            citation = chunk.cite(len(citations) + 1, start, end)
            citations.append(citation)
            quoted.append(f"{citation.quote} [{citation.n}]")
        rest = len(spans) - _PART_SENTENCES
        if rest > 0:
            quoted.append(f"(The paragraph goes on for {rest} more sentences.)")
        parts.append(lead + " ".join(quoted))
    if not parts:
        return "The indexed documents hold no sentences to quote.", ()
    more = len(sources) - len(chosen)
    if more > 0 and not question.term:
        parts.append(f"({more} more documents: ask for one by its name.)")
    return "\n\n".join(parts), tuple(citations)


def document_paragraphs(
    sentences: Sequence[tuple[Chunk, int, int, str]],
) -> list[list[tuple[Chunk, int, int, str]]]:
    """A document's sentences (as _document_sentences gives them) grouped into paragraphs:
    a new one begins where a line break comes between two sentences, or where the text
    between them is in no chunk.

    Example: for a chunk "One. Two.\\nThree." (sentences One., Two., Three.) ->
             [[One., Two.], [Three.]]
    """
    paragraphs: list[list[tuple[Chunk, int, int, str]]] = []
    for i, sentence in enumerate(sentences):
        chunk, start = sentence[0], sentence[1]
        end_before = sentences[i - 1][2] if i else None
        if end_before is None:
            paragraphs.append([sentence])
            continue
        # The text between the two sentences, from the chunk that holds both ends of it.
        holder = next(
            (c for c in (chunk, sentences[i - 1][0]) if c.start <= end_before and start <= c.end),
            None,
        )
        gap = holder.text[end_before - holder.start : start - holder.start] if holder else "\n"
        if "\n" in gap:
            paragraphs.append([sentence])
        else:
            paragraphs[-1].append(sentence)
    return paragraphs


def _documents_asked(name: str, sources: Sequence[SourceInfo]) -> tuple[list[str], str]:
    """The documents a summary or a part is asked of: the one named, else the first few;
    with a one-line reply instead when none is indexed or none has that name."""
    if not sources:
        return [], f"{_NOTHING_INDEXED}."
    named = [s.source for s in sources if name and _names(name, s.source)]
    if name and not named:
        listed = ", ".join(s.source for s in sources[:_SUMMARY_DOCUMENTS])
        return [], f"No indexed document is called “{name}”; I have: {listed}."
    return named or [s.source for s in sources][:_SUMMARY_DOCUMENTS], ""


_HELLO_TEXT = "Hello! Ask me a question about your documents and I answer by quoting them."
_AGAIN_TEXT = "Ask another question about your documents whenever you like."
_HELP_TEXT = (
    "I answer questions about your documents by quoting their own sentences, each with its "
    "source, and I say so plainly when they don't answer."
)
# How the replies to "hi", "thanks" and "help" open: a follow-up finds no topic in them.
CONVERSATION_OPENINGS = (_HELLO_TEXT, "You're welcome.", _AGAIN_TEXT, _HELP_TEXT)


def _conversation(kind: str, sources: Sequence[SourceInfo]) -> str:
    """What to say to "hi", "thanks" or "what can you do?": what this assistant does, with
    what it holds, so that the next message can be a question it answers."""
    if kind in ("thanks", "ack"):
        return f"You're welcome. {_AGAIN_TEXT}" if kind == "thanks" else _AGAIN_TEXT
    if not sources:
        held = f"{_NOTHING_INDEXED}, then ask."
    elif len(sources) == 1:
        held = f"I have one document: {sources[0].source}."
    else:
        some = ", ".join(s.source for s in sources[:3])
        held = f"I have {len(sources)} documents, among them {some}."
    if kind == "greeting":
        return f"{_HELLO_TEXT} {held}"
    return (
        f"{_HELP_TEXT} {held} Try “Summarize the documents”, “Which documents mention …?” "
        "or a question about what they say."
    )


def _named(
    sources: Sequence[SourceInfo], chunks: Sequence[Chunk]
) -> tuple[str, tuple[Citation, ...]]:
    """The names the documents use inside their sentences (companies, people, products and
    places alike: telling them apart needs a reader this assistant does not have), each cited
    where it is first named, in document order."""
    if not sources:
        return f"{_NOTHING_INDEXED}.", ()
    # The first few thousand sentences: the first forty names are found there, and a large
    # collection is not read whole for a list.
    every = (s for info in sources for s in _document_sentences(info.source, chunks))
    sentences = list(itertools.islice(every, _NAME_SENTENCES))
    # A name is what some sentence writes with capitals inside it; then it is a name wherever
    # it stands, a sentence's first word too. "AI" and "US" are words, not names, here.
    known = {n for _, _, _, text in sentences for n in _NAME_RUN.findall(text)}
    known = {n for n in known if not (n.isupper() and len(n) <= 2)}
    if not known:
        return "The documents name no one and nothing by a capitalised name.", ()
    finder = re.compile(
        r"(?<![\w-])(?:"
        + "|".join(map(re.escape, sorted(known, key=len, reverse=True)))
        + r")(?![\w-])"
    )
    first: dict[str, int] = {}  # name -> its citation's number
    citations: list[Citation] = []
    for chunk, start, end, text in sentences:
        if len(first) >= _MAX_NAMES:
            break
        fresh = [n for n in dict.fromkeys(finder.findall(text)) if n not in first]
        if not fresh:
            continue
        citations.append(chunk.cite(len(citations) + 1, start, end))
        for name in fresh[: _MAX_NAMES - len(first)]:
            first[name] = len(citations)
    listed = ", ".join(f"{name} [{n}]" for name, n in first.items())
    more = " (the first 40)" if len(first) >= _MAX_NAMES else ""
    return (
        f"The documents name these{more}: companies, people, products and places alike, "
        f"each cited where first named: {listed}.",
        tuple(citations),
    )


def _names(name: str, source: str) -> bool:
    """Does name name the document source (its path or its file name, any case)?"""
    name = name.replace("\\", "/").lower()
    source = source.lower()
    return name == source or name == source.rsplit("/", 1)[-1]


def _document_sentences(source: str, chunks: Sequence[Chunk]) -> list[tuple[Chunk, int, int, str]]:
    """Each sentence of the document once, in order: (the chunk it is quoted from, document
    start, document end, text). Chunks may overlap; a sentence is read from the first."""
    covered = 0  # the document offset read up to
    out = []
    for chunk in sorted((c for c in chunks if c.source == source), key=lambda c: c.start):
        for a, b in split_sentences(chunk.text):
            start, end = chunk.start + a, chunk.start + b
            if start < covered:
                continue  # read already, whole or in part, from an earlier chunk
            covered = end
            out.append((chunk, start, end, " ".join(chunk.text[a:b].split())))
    return out


def _describe(info: SourceInfo) -> str:
    pages = f", {info.pages} pages" if info.pages else ""
    return f"{info.source} ({_size(info.size)}{pages}, {info.chunks} chunks)"


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / (1024 * 1024):.1f} MB"
