"""Chat-typed words read as the collection spells them: "amzn" as "amazon", "infra" as
"infrastructure", "artcle" as "article", "givin" as "giving".

A question is embedded and matched word by word against the documents, so a word the
documents never use finds nothing: "how much cash has amzn already sunk into anthropic" was
refused although "Amazon has already invested around $8 billion in Anthropic" is there. A
word is respelt only when the collection does not use it, it is no English word the encoder
knows whole (so "apple" never becomes "apply"), and one of the collection's words is an
evident spelling of it:

- a dropped final g ("thinkin" -> "thinking"), an added s ("generas" -> "genera", not
  "general": "amazons" -> "amazon");
- one letter added, dropped, changed or two swapped, in a word of five letters or more
  ("artcle" -> "article", "modles" -> "models");
- a shortening that keeps the word's start ("infra" -> "infrastructure", four letters or
  more, three or more cut: "Hendrik" is not "Hendriks") or its consonants in order with its
  first and last letter, four letters or more ("amzn" -> "amazon"; "pls" is no "players");
  among several, the one the collection uses most.

Question words typed as in a chat ("wat", "wen", "hw", a leading "y") are read as what they
stand for, and the words people call documents by ("article", "document", "report") are
known whatever the collection's words, so "does the artcle say" frames the question as "does
the article say" would.

A word typed with a capital letter in a question that has other capitals, and an acronym
("ARTI", not "Articles"), is taken as a name written on purpose (an unanswerable question may
name someone the documents never mention) and never respelt. In a question typed all in
lower case, a word the collection writes as a name gets the collection's capitals ("google"
-> "Google"); one that opens with a capital is typed with care, and its words are left as
typed ("statins" is no name, though a heading writes "Statins").
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..text import STOPWORDS

__all__ = ["Speller", "closest_word", "spelling_variants"]

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")  # a code such as "orf8" is one word
_VOWELS = frozenset("aeiou")
# A word inside a sentence: after a small letter, a digit, a comma or a bracket closed, and a
# space. A capital there says the word is a name; one opening a sentence says nothing.
# Not catalogue._NAME_RUN nor features._CAPITALISED_RUN, which take capitalised runs only:
# this one takes every word, lower case too, to count how often the collection capitalises it.
_INSIDE = re.compile(r"(?<=[a-z0-9,)] )[A-Za-z][A-Za-z0-9]*")
# Shorter words are too often another word with one letter changed ("cost"/"most"); a
# shortening keeps at least four letters and cuts at least three.
_DOCUMENT_WORDS = (
    "article", "articles", "document", "documents", "report", "paper", "author", "authors",
    "passage", "summary", "according", "mention", "mentioned", "mentions",
)  # fmt: skip
# Question words as they are typed in a chat ("wat does the article say ...", "y is it"):
# too short for the rules below, and what the question asks depends on them.
_QUESTION_WORDS = {"wat": "what", "wut": "what", "wht": "what", "wen": "when", "hw": "how"}
_QUESTION_WORD = re.compile(r"(?i)\b(?:wat|wut|wht|wen|hw)\b(?!['’])")
_WHY = re.compile(r"^(\W*)([yY])(?=\s+[a-z])")  # "y is amazon doing this"
_MIN_EDIT_LENGTH = 5
_MIN_PREFIX_LENGTH = 4
# Three consonants fit too many words: "pls" (please) is no shortening of "players", nor
# "thx" of anything; "amzn" and "msft" are.
_MIN_SKELETON_LENGTH = 4
# A collection's words are letters and digits (_WORD, lower-cased): what one changed or
# added letter may be.
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
# Collection words one text's shortenings may read (the words sharing a typed start, or its
# first and last letter): a typed word finds its one-letter readings by lookup, but a
# collection of a million made-up words (an 8 MB upload) shares a start or two ends with
# tens of thousands of them. Far above what any real collection's question reads.
_SCAN_BUDGET = 100_000


def _question_word(match: re.Match[str]) -> str:
    """The question word a chat spelling stands for, with its first letter's case."""
    typed = match.group(0)
    word = _QUESTION_WORDS[typed.lower()]
    return word.capitalize() if typed[0].isupper() else word


def _one_edit(a: str, b: str) -> bool:
    """Whether b is a with one letter added, dropped or changed, or two neighbours swapped.

    Example: _one_edit("artcle", "article") -> True; _one_edit("modles", "models") -> True
    """
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long[i]:
        i += 1
    return short[i:] == long[i + 1 :]


def _shortens(short: str, word: str) -> bool:
    """Whether short is word cut after its start, or word's letters in order keeping its
    first and last letter and every consonant of short.

    Example: _shortens("infra", "infrastructure") -> True; _shortens("amzn", "amazon") -> True;
             _shortens("amzn", "amazing") -> False
    """
    if len(short) >= len(word) or short[0] != word[0]:
        return False
    if len(short) >= _MIN_PREFIX_LENGTH and len(word) - len(short) >= 3 and word.startswith(short):
        return True
    if (
        len(short) < _MIN_SKELETON_LENGTH
        or short[-1] != word[-1]
        or any(c in _VOWELS for c in short[1:])
    ):
        return False
    letters = iter(word)
    return all(c in letters for c in short)


def closest_word(word: str, known: Counter[str]) -> str | None:
    """The collection's word that `word` evidently spells (see the module), or None.

    known: the collection's lower-case words with how often each occurs.

    Example: closest_word("amzn", Counter({"amazon": 9, "amazing": 1})) -> "amazon"
             closest_word("givin", Counter({"giving": 2})) -> "giving"
             closest_word("generas", Counter({"general": 9, "genera": 1})) -> "genera"
             closest_word("cost", Counter({"most": 5})) -> None
    """
    if word.endswith("in") and known.get(word + "g"):
        return word + "g"
    if word.endswith("s") and known.get(word[:-1]):
        return word[:-1]  # a plural or possessive the collection has only in the singular
    found = [
        w
        for w in known
        if w[:1] == word[:1]
        and w not in STOPWORDS
        and ((len(word) >= _MIN_EDIT_LENGTH and _one_edit(word, w)) or _shortens(word, w))
    ]
    if not found:
        return None
    # An edit is a nearer reading than a shortening; then the word the collection uses most.
    return max(found, key=lambda w: (len(w) - len(word) <= 1, known[w], w))


# British and American spellings of one word: (British, American) endings and inner parts.
# A question typed in one over documents written in the other finds nothing word by word
# ("Which side has the market favoured?" over "Market reactions have so far favored ...").
_VARIANT_ENDINGS = (
    ("our", "or"), ("ours", "ors"), ("oured", "ored"), ("ouring", "oring"),
    ("ourable", "orable"), ("ourite", "orite"), ("ourites", "orites"),
    ("ise", "ize"), ("ises", "izes"), ("ised", "ized"), ("ising", "izing"),
    ("isation", "ization"), ("isations", "izations"), ("yse", "yze"), ("ysed", "yzed"),
    ("ysing", "yzing"), ("tre", "ter"), ("tres", "ters"), ("lled", "led"), ("lling", "ling"),
    ("ller", "ler"), ("llers", "lers"), ("ence", "ense"), ("ogue", "og"), ("ogues", "ogs"),
    ("amme", "am"), ("ammes", "ams"),
)  # fmt: skip
_VARIANT_INNER = (("ae", "e"), ("oe", "e"))  # "haemorrhage", "oesophagus", "foetus"
_MIN_VARIANT_LENGTH = 5  # "four" is no "for", nor "hour" an "hor"


def spelling_variants(word: str) -> list[str]:
    """The word's other national spellings, British for American and American for British
    (lower case; possibly not words at all: the collection decides which it uses).

    Example: spelling_variants("favoured") -> ["favored"];
             "haemorrhage" in spelling_variants("hemorrhage") -> True
    """
    if len(word) < _MIN_VARIANT_LENGTH:
        return []
    out: list[str] = []
    for british, american in _VARIANT_ENDINGS:
        for typed, other in ((british, american), (american, british)):
            stem = word[: -len(typed)]
            if word.endswith(typed) and len(stem) >= 3:
                out.append(stem + other)
    for british, american in _VARIANT_INNER:
        out.extend(word[:i] + american + word[i + 2 :] for i in _find_all(word, british) if i)
        # The American word's "e" may be the British "ae" or "oe": any "e" after the first
        # letter.
        out.extend(word[:i] + british + word[i + 1 :] for i in _find_all(word, "e") if i)
    return [w for w in dict.fromkeys(out) if w != word]


def _find_all(word: str, part: str) -> list[int]:
    """Where part starts in word, each place."""
    return [i for i in range(len(word)) if word.startswith(part, i)]


def _edits(word: str) -> set[str]:
    """Every string one letter added, dropped or changed from word, or with two neighbours
    swapped, keeping its first letter (_one_edit's readings, made rather than searched for).

    Example: "article" in _edits("artcle") and "models" in _edits("modles") -> True
    """
    splits = [(word[:i], word[i:]) for i in range(1, len(word) + 1)]
    out = {a + b[1:] for a, b in splits if b}
    out |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    out |= {a + c + b[1:] for a, b in splits if b for c in _ALPHABET}
    out |= {a + c + b for a, b in splits for c in _ALPHABET}
    out.discard(word)
    return out


def _closest_indexed(
    word: str,
    known: Counter[str],
    ordered: list[str],
    by_ends: dict[tuple[str, str], list[str]],
    budget: list[int],
) -> str | None:
    """closest_word(word, known), found without reading every collection word: its
    one-letter readings by lookup, the words it starts by bisection of `ordered` (known's
    words sorted), its consonant skeletons among `by_ends` (known's words by first and last
    letter). Each collection word read for a shortening takes one from budget[0]; none left,
    no more are read (the readings found so far still count).

    Example: _closest_indexed("amzn", Counter({"amazon": 9}), ["amazon"],
             {("a", "n"): ["amazon"]}, [10]) -> "amazon"
    """
    if word.endswith("in") and known.get(word + "g"):
        return word + "g"
    if word.endswith("s") and known.get(word[:-1]):
        return word[:-1]
    found = {w for w in _edits(word) if w in known} if len(word) >= _MIN_EDIT_LENGTH else set()
    if len(word) >= _MIN_PREFIX_LENGTH:
        i = bisect.bisect_left(ordered, word)
        while i < len(ordered) and budget[0] > 0 and ordered[i].startswith(word):
            budget[0] -= 1
            if len(ordered[i]) - len(word) >= 3:
                found.add(ordered[i])
            i += 1
    if len(word) >= _MIN_SKELETON_LENGTH and not any(c in _VOWELS for c in word[1:]):
        for w in by_ends.get((word[0], word[-1]), ()):
            if budget[0] <= 0:
                break
            budget[0] -= 1
            if _shortens(word, w):
                found.add(w)
    found = {w for w in found if w not in STOPWORDS}
    if not found:
        return None
    return max(found, key=lambda w: (len(w) - len(word) <= 1, known[w], w))


def _tally(texts: Iterable[str]) -> tuple[Counter[str], dict[str, Counter[str]]]:
    """The lower-case words of texts with their counts, and how each word is written inside
    sentences (_INSIDE), by its lower case, with the count of each way.

    Example: _tally(["Ask Google; so google, then Google"]) ->
             (Counter({"google": 3, "ask": 1, "so": 1, "then": 1}),
              {"google": Counter({"Google": 2, "google": 1}), "then": Counter({"then": 1})})
             ("Ask" opens the text and "so" follows a semicolon: not inside a sentence)
    """
    words: Counter[str] = Counter()
    inside: Counter[str] = Counter()
    for text in texts:
        words.update(_WORD.findall(text.lower()))
        inside.update(_INSIDE.findall(text))
    forms: dict[str, Counter[str]] = {}
    for typed, count in inside.items():
        forms.setdefault(typed.lower(), Counter())[typed] = count
    return words, forms


def _add_document_words(words: Counter[str]) -> frozenset[str]:
    """Count once each word people call the documents by that words lacks (what people
    call the documents, which the documents seldom call themselves: "does the artcle say" is
    about the article, whatever the collection's words); returns the words added.

    Example: _add_document_words(Counter({"report": 2})) adds "article": 1 (not "report")
    """
    supplied = frozenset(w for w in _DOCUMENT_WORDS if w not in words)
    words.update(supplied)
    return supplied


def _cased_form(word: str, seen: Counter[str]) -> str | None:
    """The form a word is written in as a name (with a capital in at least two thirds of
    its places inside a sentence), or None when it is no name.

    Example: _cased_form("google", Counter({"Google": 5, "google": 1})) -> "Google";
             _cased_form("statins", Counter({"Statins": 1, "statins": 4})) -> None
    """
    form, count = seen.most_common(1)[0]
    named = 3 * count >= 2 * sum(seen.values())
    if named and form != word and len(word) >= 3 and word not in STOPWORDS:
        return form
    return None


@dataclass(frozen=True)
class Speller:
    """Respells a question's chat-typed words as the collection writes them.

    words: the collection's lower-case words and their counts; is_word: whether the encoder
    knows a lower-case word whole (one word piece), i.e. it is English as written; cased: the
    form the collection writes a name in ("google" -> "Google"), given to the words of a
    question typed all in lower case, so that it is read for its names as the same question
    typed with capitals would be ("how much has google invested" names Google); forms: how
    often each word is written each way inside a sentence, which `cased` is read from (kept
    so that `updated` can add and take away texts).

    Example: Speller(Counter({"amazon": 3}), lambda w: False, {"amazon": "Amazon"})
             .respell("did amzn invest") -> "did Amazon invest"
    """

    words: Counter[str]
    is_word: Callable[[str], bool]
    cased: dict[str, str] = field(default_factory=dict)
    forms: dict[str, Counter[str]] = field(default_factory=dict, repr=False, compare=False)
    # The document words (_DOCUMENT_WORDS) counted once because the collection lacks them.
    supplied: frozenset[str] = field(default=frozenset(), repr=False, compare=False)
    _ordered: list[str] = field(init=False, repr=False, compare=False)
    _by_ends: dict[tuple[str, str], list[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Read by _closest_indexed: closest_word read every collection word of the typed
        # word's initial for each unknown word, so one question of 270 made-up words took
        # 1.8 s over 200,000 collection words and 9.6 s over a million (an upload of made-up
        # words makes them), holding an answer slot meanwhile. Each list is sorted, so the
        # words a scan budget reaches do not depend on the order the texts were read in (a
        # speller updated text by text reads as one built at once).
        by_ends: dict[tuple[str, str], list[str]] = {}
        ordered = sorted(self.words)
        for word in ordered:
            if word:
                by_ends.setdefault((word[0], word[-1]), []).append(word)
        object.__setattr__(self, "_ordered", ordered)
        object.__setattr__(self, "_by_ends", by_ends)

    @classmethod
    def from_texts(cls, texts: Iterable[str], is_word: Callable[[str], bool]) -> Speller:
        """The speller of a collection: its words, and the names among them (a word written
        with a capital in at least two thirds of its places inside a sentence). Regular
        expressions do the reading: a collection is read once per snapshot, with its BM25
        index (retrieval/hybrid.py), and after a change only the texts that changed
        (`updated`)."""
        words, forms = _tally(texts)
        supplied = _add_document_words(words)
        cased = {}
        for word, seen in forms.items():
            form = _cased_form(word, seen)
            if form is not None:
                cased[word] = form
        return cls(words, is_word, cased, forms, supplied)

    def updated(
        self, removed: Iterable[str], added: Iterable[str], is_word: Callable[[str], bool]
    ) -> Speller:
        """The speller of this collection less the texts removed and with the texts added,
        equal to `from_texts` of the collection after the change (reading only the texts
        that changed); removed must be texts this speller was built from. is_word: the new
        snapshot's (an old retriever's method would keep that retriever alive). self is
        unchanged.

        Example: Speller.from_texts(["Google and Amazon"], f).updated(["Google and Amazon"],
                 ["Amazon paid"], f) == Speller.from_texts(["Amazon paid"], f)
        """
        gone_words, gone_forms = _tally(removed)
        new_words, new_forms = _tally(added)
        words = Counter(self.words)
        for w in self.supplied:  # the collection's own counts, without the words supplied
            del words[w]
        words.update(new_words)
        words.subtract(gone_words)
        for w in gone_words:
            if words[w] <= 0:
                del words[w]
        supplied = _add_document_words(words)
        forms = dict(self.forms)
        cased = dict(self.cased)
        for word in set(gone_forms) | set(new_forms):
            seen = forms.get(word, Counter()) + new_forms.get(word, Counter())
            seen.subtract(gone_forms.get(word, Counter()))
            seen = +seen  # only the forms still written somewhere
            if seen:
                forms[word] = seen
            else:
                forms.pop(word, None)
            form = _cased_form(word, seen) if seen else None
            if form is None:
                cased.pop(word, None)
            else:
                cased[word] = form
        speller = object.__new__(Speller)
        fields = {"words": words, "is_word": is_word, "cased": cased, "forms": forms}
        for name, value in (*fields.items(), ("supplied", supplied)):
            object.__setattr__(speller, name, value)
        # The sorted words and their lists by first and last letter, changed only where a
        # word came or went (rebuilding them is a sort of every collection word).
        gone = {w for w in gone_words if w not in words}
        came = sorted(w for w in new_words if w not in self.words)
        ordered, by_ends = self._ordered, self._by_ends
        if gone or came:
            ordered = [w for w in ordered if w not in gone] if gone else ordered
            ordered = sorted(ordered + came) if came else ordered
            by_ends = dict(by_ends)  # the lists of self stay as they are
            for ends in {(w[0], w[-1]) for w in (*gone, *came) if w}:
                kept = [w for w in by_ends.get(ends, ()) if w not in gone]
                kept = sorted(kept + [w for w in came if w and (w[0], w[-1]) == ends])
                if kept:
                    by_ends[ends] = kept
                else:
                    by_ends.pop(ends, None)
        object.__setattr__(speller, "_ordered", ordered)
        object.__setattr__(speller, "_by_ends", by_ends)
        return speller

    def respell(self, text: str) -> str:
        """text with each evidently misspelt word replaced, and in a question typed all in
        lower case, the collection's names written as it writes them (see the module)."""
        if not self.words:
            return text
        text = _WHY.sub(lambda m: m.group(1) + ("Why" if m.group(2) == "Y" else "why"), text)
        text = _QUESTION_WORD.sub(_question_word, text)
        names_typed = any(c.isupper() for c in text[1:])
        chat_typed = not any(c.isupper() for c in text)
        budget = [_SCAN_BUDGET]  # shared by the text's words: see _SCAN_BUDGET

        def fix(match: re.Match[str]) -> str:
            typed = match.group(0)
            word = typed.lower()
            if len(word) < 3 or word in STOPWORDS:
                return typed
            coded = any(c.isdigit() for c in word)  # a code is never respelt, only cased
            capital = typed[0].isupper()
            # A name typed with capitals among others, or an acronym ("ARTI"), is written
            # on purpose: an unanswerable question may name what the documents never do.
            deliberate = (names_typed and capital and match.start() > 0) or typed.isupper()
            if not self.words.get(word) and not coded and not deliberate:
                # Another nation's spelling of a word the collection uses ("favoured" over
                # "favored"), however English it is.
                other = next((v for v in spelling_variants(word) if self.words.get(v)), None)
                if other is not None:
                    typed = word = other.capitalize() if capital else other
            unknown = not self.words.get(word) and not self.is_word(word)
            if unknown and not coded and not deliberate:
                found = _closest_indexed(word, self.words, self._ordered, self._by_ends, budget)
                if found is not None:
                    typed = word = found.capitalize() if capital else found
            # Typed all in lower case, the question's names are lower case too. One that
            # opens with a capital is typed with care: "statins" there is no name, though a
            # heading writes "Statins".
            if chat_typed and word in self.cased:
                return self.cased[word]
            return typed

        return _WORD.sub(fix, text)
