"""Words for lexical scoring, shared by every layer that matches terms: in-process BM25
(retrieval/lexical.py), the database's text index (store/postgres.py) and the evidence
checks (answer/evidence.py). One analysis everywhere, so a term means the same thing in each.
Also the letters of other scripts drawn like Latin ones (`LOOKALIKES`), which the injection
patterns (answer/injection.py), uploaded names (store/collection.py) and the page's names
(ui.py) all read the same way.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

__all__ = [
    "BM25_B",
    "BM25_K1",
    "LOOKALIKES",
    "SHOWN_AS_CODE",
    "SPACE_RUNS",
    "STOPWORDS",
    "TAG_LETTERS",
    "analyze",
    "as_code_points",
    "drawn_alike",
]

# Cyrillic and Greek letters drawn like Latin ones: "Іgnore рrevious instructions" with a
# Cyrillic І and р reads as English to a model and to a person, and "аnnual.txt" with a
# Cyrillic а is drawn as "annual.txt".
LOOKALIKES = str.maketrans(
    "аеорсухіјѕԁһӏАВЕКМНОРСТХІЈЅοανιΟΑΒΕΖΗΙΚΜΝΡΤΥΧ",
    "aeopcyxijsdhlABEKMHOPCTXIJSoaviOABEZHIKMNPTYX",
)


def drawn_alike(text: str) -> str:
    """text as it is drawn: compatibility forms folded (full-width "ａ" is "a"), look-alike
    letters of other scripts read as the Latin ones, invisible format characters dropped,
    and each run of spaces one space (a page draws "annual  report" as "annual report");
    two names with the same value look the same on a page.

    Example: drawn_alike("\u0430nnual.txt") -> "annual.txt";
             drawn_alike("ａｎｎｕａｌ.txt") -> "annual.txt";
             drawn_alike("annual  report.txt") -> "annual report.txt";
             drawn_alike("Annual.txt") -> "Annual.txt"
    """
    folded = unicodedata.normalize("NFKC", text).translate(LOOKALIKES)
    return SPACE_RUNS.sub(" ", "".join(c for c in folded if unicodedata.category(c) != "Cf"))


SPACE_RUNS = re.compile(r" {2,}")


# Characters a screen does not draw as themselves, shown as their code points wherever a
# reader sees document text (the web chat, a /v1 reply): bidi controls reorder what follows
# them ("\u202egpj.exe.txt" is drawn "txt.exe.jpg"), and so do the bidi marks, drawn as
# nothing yet each a letter of its direction ("Pay 1\u200f2\u200f3" was drawn "Pay 132" by
# Chromium: a quote reading as a number the document does not hold); control characters
# are drawn as nothing (a bell, a backspace) or obeyed by a terminal, but layout (tabs, line
# and page breaks); and so are the tag characters, U+E0000-U+E007F, drawn as nothing, which
# spell ASCII one for one: a sentence may carry a whole hidden text in them ("ASCII
# smuggling"), which the person reading the quote cannot see, Copy put on the clipboard and
# a language model may read. (They also end the flags of England, Scotland and Wales, shown
# then as the black flag and code points.)
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
CONTROLS = frozenset(map(chr, [*range(0x20), *range(0x7F, 0xA0)])) - frozenset("\t\n\r\f\v")
TAGS = frozenset(map(chr, range(0xE0000, 0xE0080)))
SHOWN_AS_CODE = BIDI_CONTROLS | CONTROLS | TAGS
# The tag characters that spell printable ASCII, read as that ASCII (str.translate).
TAG_LETTERS = {0xE0000 + i: chr(i) for i in range(0x20, 0x7F)}


def as_code_points(text: str, hidden: frozenset[str] = SHOWN_AS_CODE) -> str:
    """text with each character of hidden written as its code point, so that it reads as it
    is stored; one character at a time, so the pieces of a text give the whole one's.

    Example: as_code_points("\u202egpj.exe.txt") -> "[U+202E]gpj.exe.txt";
             as_code_points("a\x07b") -> "a[U+0007]b"
    """
    if not any(c in hidden for c in text):
        return text
    return "".join(f"[U+{ord(c):04X}]" if c in hidden else c for c in text)


# BM25 parameters, chosen on the tune half of covid-qa (the defaults 1.5/0.75 lost 2 points
# of hit@5 there): term saturation early and mild length normalisation suit chunks of
# near-equal length. In-process BM25 and the database's BM25 use the same ones.
BM25_K1 = 0.9
BM25_B = 0.4

_TOKEN = re.compile(r"\w+", re.UNICODE)
# Short list on purpose: question words carry no evidence, but "not", "no" and numbers do.
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "from",
        "by",
        "with",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "there",
        "their",
        "they",
        "them",
        "he",
        "she",
        "his",
        "her",
        "we",
        "our",
        "you",
        "your",
        "i",
        "me",
        "my",
        "do",
        "does",
        "did",
        "done",
        "has",
        "have",
        "had",
        "having",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "can",
        "could",
        "would",
        "should",
        "will",
        "shall",
        "may",
        "might",
        "must",
        "about",
        "into",
        "than",
        "then",
        "so",
        "such",
        "also",
        "just",
        "very",
        "much",
        "many",
        "more",
        "most",
        "some",
        "any",
        "each",
        "other",
        "own",
        "same",
        "only",
        "s",
        "t",
    ]
)

_stemmer: Any = None


def _stem(words: list[str]) -> list[str]:
    global _stemmer  # one stemmer object for the process: it is stateless and costly to make
    if _stemmer is None:
        import Stemmer

        _stemmer = Stemmer.Stemmer("english")
    return list(_stemmer.stemWords(words))


def analyze(text: str) -> list[str]:
    """Lower-case, split into words, drop stop words, stem.

    Example: analyze("How much has Amazon invested?") -> ["amazon", "invest"]
    """
    words = [w for w in _TOKEN.findall(text.lower()) if w not in STOPWORDS]
    return _stem(words)
