"""The extractive backend: pick the retrieved sentences that answer the question, cite each.

It can only copy sentences out of retrieved passages, so it cannot state anything the
documents don't. Whether to answer at all was decided before it runs (answer/evidence.py);
this module only chooses which of the scored candidate sentences to copy.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from ..ingest.chunking import split_sentences
from ..retrieval.lexical import STOPWORDS, analyze
from ..schema import Citation
from .base import AnswerRequest, Composition
from .evidence import Grounds, Sentence, points_back
from .features import has_answer_type, selection_type, specific_tokens
from .followup import (
    another_named,
    asks_example,
    asks_for_more,
    asks_what_follows,
    echoed_quotes,
    last_quotes,
    meaning_asked,
    name_words,
    others_than,
    reads_on,
    says_nothing_of_its_own,
)

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = [
    "ExtractiveBackend",
    "follow_on",
    "followers",
    "in_reading_order",
    "lifted",
    "question_parts",
    "quoted_units",
    "select_sentences",
]

# Where a question asks two things: a second question, or a second clause that opens with its
# own question word ("How does X compare with Y, and how has each fared?").
_PART_BREAK = re.compile(
    r"\?\s+(?=\S)|;\s*|,?\s+and\s+(?=(?:how|why|what|which|who|when|where|whether)\b)|"
    r",?\s+and\s+as\s+",
    re.IGNORECASE,
)


def question_parts(question: str) -> list[str]:
    """The parts of a question that asks two or more things, each with at least two terms of
    its own; [] for a question that asks one thing.

    Example: question_parts("Why might Amazon fail to gain control, and why can't it be sure "
             "Anthropic stays loyal?") -> ["Why might Amazon fail to gain control",
             "why can't it be sure Anthropic stays loyal?"];
             question_parts("How much has Amazon invested?") -> []
    """
    parts = [p.strip(" ,") for p in _PART_BREAK.split(question) if p and p.strip(" ,?")]
    parts = [p for p in parts if len(analyze(p)) >= 2]
    return parts if len(parts) >= 2 else []


def select_sentences(
    grounds: Grounds,
    *,
    max_sentences: int = 4,
    keep_ratio: float = 0.85,
    redundancy: float = 0.8,
    restating: float = 0.0,
    adjacent: float = 0.0,
    question: str = "",
    part_coverage: float = 0.0,
    min_sentences: int = 1,
    twin_novelty: float = 0.0,
) -> list[int]:
    """Indices into grounds.sentences of the sentences to copy, best first (units that
    continue one another kept together in reading order: in_reading_order).

    The best-scoring sentence is kept, then others scoring at least keep_ratio of it, up to
    max_sentences, skipping:
    - one that shares characters with a chosen one (overlapping chunks cut the same text into
      different units): the answer never quotes the same span twice;
    - one whose cosine with a chosen one exceeds redundancy (it mostly repeats it), unless
      at least twin_novelty of its terms are not in that one (0: never): it says the same
      thing with something more ("... centered on usage of ribavirin with lopinavir/ritonavir
      or ribavirin only" and "Likewise, ... ribavirin, interferon, and convalescent plasma"),
      and is quoted beyond max_sentences, since the cap is for different things said;
    - one that opens by pointing back ("This means...") to a sentence that is not chosen:
      alone it reads as filler. When it is the best sentence, its antecedent (the candidate
      just before it in the same source) is placed before it.
    When at least `restating` of the best unit's terms are the question's (it mostly repeats
    the question: "NDV has a number of appealing qualities."), the unit right after it in its
    document is added too, beyond max_sentences (restating 0 or no question: never).
    Then a unit that continues a chosen one in its document (the one just before or after
    it) is added, beyond max_sentences and whatever its redundancy, when it scores at least
    `adjacent` of the best (0: never): an answer that runs over two sentences is quoted
    whole, where another sentence from elsewhere would be read on its own. For a question
    that asks two things (question_parts), the unit holding the most of each part's terms is
    added when it holds at least `part_coverage` of them and more than any chosen unit does
    (0: never). Last, an answer of fewer than min_sentences sentences gets the unit that
    follows its best unit in the same paragraph, as long as the answer then holds at most
    min_sentences (1: never): what a lone sentence leads up to is often said next ("Cherian
    et al. estimate that the Asian genotype emerged ..." then "Since then, CHIKV has come a
    long way, ..."), and answers already that long are left as they are.

    Example: scores [0.5, 1.0, 0.9, 0.2], no two sentences alike or overlapping,
    keep_ratio 0.85 -> [1, 2]
    """
    scores, vectors, sentences = grounds.scores, grounds.vectors, grounds.sentences
    if len(scores) == 0:
        return []
    parts = question_parts(question) if part_coverage and question else []
    order = list(np.argsort(-scores, kind="stable"))
    best = order[0]
    chosen: list[int] = []

    def overlaps(i: int) -> bool:
        return _overlaps(grounds, i, chosen)

    def adds(i: int, j: int) -> bool:  # does unit i say enough that unit j does not?
        terms = set(analyze(sentences[i].text))
        new = terms - set(analyze(sentences[j].text))
        return bool(twin_novelty) and len(new) >= twin_novelty * len(terms) > 0

    twins = 0  # units alike a chosen one that add to it: not counted against the cap
    for i in order:
        # The cap counts answer units: a sentence, or a sentence with the continuation that
        # points back to it (measured: counting the continuation separately lost seed facts).
        if len(chosen) - twins >= max_sentences or scores[i] < keep_ratio * scores[best]:
            break
        if overlaps(i):
            continue
        # Skip what mostly repeats a chosen sentence: it makes the answer longer, not better.
        alike = [j for j in chosen if float(vectors[i] @ vectors[j]) > redundancy]
        if not all(adds(int(i), j) for j in alike):
            continue
        twins += bool(alike)
        if points_back(sentences[i].text):
            before = _antecedent(grounds, int(i))
            if i != best and (before is None or before not in chosen):
                continue
            if i == best and before is not None and not overlaps(before):
                chosen.append(before)
        chosen.append(int(i))
    if restating and question and chosen:
        # The best unit mostly repeats the question ("NDV has a number of appealing qualities
        # as a vaccine vector."): what it announces is in the unit after it.
        terms = set(analyze(sentences[best].text))
        asked = set(analyze(question))
        if terms and len(terms & asked) / len(terms) >= restating:
            after = _follower(grounds, int(best))
            if after is not None and after not in chosen and not overlaps(after):
                chosen.append(after)
    if parts and chosen:
        # A question asking two things gets the best unit for each part that no chosen unit
        # covers as well: "both in cash and otherwise" needs the chips sentence as well as
        # the $8 billion one.
        unit_terms = [set(analyze(s.text)) for s in sentences]
        for part in parts:
            terms = set(analyze(part))
            held = [len(terms & unit) / len(terms) for unit in unit_terms]
            pick = max(range(len(sentences)), key=lambda i: (held[i], scores[i]))
            better = held[pick] >= part_coverage and held[pick] > max(held[j] for j in chosen)
            if better and pick not in chosen and not overlaps(pick):
                chosen.append(pick)
    if adjacent:
        floor = adjacent * scores[best]
        for i in list(chosen):
            for j in (_follower(grounds, i), _antecedent(grounds, i)):
                if j is not None and j not in chosen and scores[j] >= floor and not overlaps(j):
                    chosen.append(j)
    if chosen and _sentence_count(grounds, chosen) < min_sentences:
        # A lone sentence reads on into the next one of its paragraph; a new paragraph turns
        # to something else (measured: the same gain, fewer sentences added).
        after = _follower(grounds, int(best))
        if (
            after is not None
            and not overlaps(after)
            and not _line_break(sentences[best], sentences[after])
            and _sentence_count(grounds, [*chosen, after]) <= min_sentences
        ):
            chosen.append(after)
    return in_reading_order(grounds, chosen, whole_runs=bool(adjacent))


def follow_on(
    grounds: Grounds, said: set[str], bonus: float, *, more: bool = False, why: bool = False
) -> Grounds:
    """grounds with each unit that follows a sentence the last answer quoted (said) raised by
    bonus times the best score: asked "Why?" of what was just quoted, the reason is most
    often told next ("Amazon holds less leverage." then "Anthropic remains partially owned
    by Google ..., maintaining its independence."). A unit whose quote was cut short before
    the end of its sentence is raised too: what follows in it is the first "more", and the
    first reason ("... hedging its bets ... while its own models lag behind"). With more
    (asked "Tell me more."), one cut short at its start as well; with why (asked "Why not?",
    not "How so?"), the sentences that tell what brings a word of the quote about too.

    Example: with units A (quoted, score 1.0) and B right after it (0.4), bonus 0.5:
             B scores 1.0 (0.4 + 0.5, and at least the best).
    """
    after = followers(grounds, said) + _cut_short(grounds, said, ahead=not more)
    if not more:
        after += reasons_before(grounds, said)
    if why:
        after += reasons_told(grounds, said)
    if bonus <= 0:
        return grounds
    # The quoted units keep their scores: halved, the seed set lost a follow-up whose answer
    # repeats the quote with its continuation.
    return lifted(grounds, after, bonus)


# A sentence that opens as the consequence of the one before it: its reason was told there.
_CONSEQUENCE = re.compile(
    r"^\W*(?:this|that|which)\s+(?:means|meant|is\s+why|explains\s+why)\b|"
    r"^\W*(?:therefore|thus|hence|consequently|as\s+a\s+result|so)\b",
    re.IGNORECASE,
)


_ASKS_WHY = re.compile(r"^\W*(?:(?:and|but|so|ok|okay)\W+)?(?:why|how\s+come)\b", re.IGNORECASE)
# A sentence telling what brings something about: "multiple partnerships mean Amazon's
# position is not exclusive", "... because ...".
_CAUSING = re.compile(
    r"\b(?:means?|meant|because|since|due\s+to|owing\s+to|as\s+a\s+result\s+of|leads?\s+to|"
    r"led\s+to|results?\s+in|resulted\s+in|caus(?:e|es|ed))\b",
    re.IGNORECASE,
)
_CLAIM_WORD = re.compile(r"\b[a-z][a-z-]{4,}\b")  # lower case: a claim's words, not its names


def reasons_told(grounds: Grounds, said: set[str]) -> list[int]:
    """The units, other than the quotes, that tell what brings about a word of a quoted claim:
    asked "Why not?" of "Amazon's stake in Anthropic is non-exclusive", the reason is where
    another sentence says what makes it so ("Anthropic's multiple partnerships mean Amazon's
    position is not exclusive"), wherever it stands.

    Example: units A ("Amazon's stake is non-exclusive.") and B ("Its partnerships mean the
             position is not exclusive."), said {A's text} -> [index of B]
    """
    claimed = {
        part
        for quote in said
        for word in _CLAIM_WORD.findall(quote)
        for part in word.split("-")
        if len(part) > 4 and part not in STOPWORDS
    }
    if not claimed:
        return []
    out = []
    for i, unit in enumerate(grounds.sentences):
        if _repeats(unit.text, said) or not _CAUSING.search(unit.text):
            continue
        words = {p for w in _CLAIM_WORD.findall(unit.text) for p in w.split("-")}
        if claimed & words:
            out.append(i)
    return out


# A yes-or-no question whether something is settled, and the words a passage says it is not
# settled yet with.
_SETTLED = re.compile(
    r"^(?![^?]*\b(?:who|whom|whose|what|which|when|where|why|how)\b)[^?]*?\b(?:is|are|was|were|"
    r"has|have|had|did|does)\b[^?]*\b(?:done\s+deal|final|finali[sz]ed|"
    r"confirmed|official|signed|settled|sealed|closed|definite|certain|"
    r"set\s+in\s+stone|a\s+sure\s+thing|for\s+sure|happening)\b",
    re.IGNORECASE,
)
_HEDGED = re.compile(
    r"\b(?:reportedly|considering|considered|consider|potential|possible|possibly|may|might|"
    r"could|plans?|planned|planning|talks|negotiat\w+|proposed|expected|rumou?red|"
    r"under\s+consideration|yet\s+to)\b",
    re.IGNORECASE,
)


def asks_if_settled(question: str) -> bool:
    """Whether a yes-or-no question asks if something is settled or confirmed.

    Example: asks_if_settled("Is it a done deal?") -> True;
             asks_if_settled("Is the stake exclusive?") -> False
    """
    return _SETTLED.search(question) is not None


def hedged(grounds: Grounds) -> list[int]:
    """The units that tell something as only planned, reported or possible.

    Example: units A ("Amazon invested $8 billion.") and B ("Amazon is reportedly considering
             more.") -> [index of B]
    """
    return [i for i, u in enumerate(grounds.sentences) if _HEDGED.search(u.text)]


def reasons_before(grounds: Grounds, said: set[str]) -> list[int]:
    """The units holding what a quoted sentence that opens as its consequence ("This means
    ...", "As a result, ...") follows from: asked why of it, the reason is the sentence
    before it, in its own unit (a sentence joined to the one it points back to) or in the
    unit right before.

    Example: units A ("Google owns part of Anthropic.") and B right after it ("This means
             Amazon's money may not buy control."), said {B's text} -> [index of A]
    """
    out: set[int] = set()
    for i, lines in enumerate(_unit_lines(grounds)):
        consequences = [
            k for k, line in enumerate(lines) if line in said and _CONSEQUENCE.search(line)
        ]
        if any(k > 0 for k in consequences):
            out.add(i)
        elif consequences and (j := _antecedent(grounds, i)) is not None:
            out.add(j)
    return sorted(out)


# A sentence that says what the one before it, or a word of it, comes to.
_EXPLAINS = re.compile(
    r"^\W*(?:this|that)\s+means\b|^\W*(?:in\s+other\s+words|that\s+is|in\s+practice)\b",
    re.IGNORECASE,
)
_MEANS = re.compile(r"\b(?:means?|meant|meaning)\b", re.IGNORECASE)
# How far after a quote, in characters of its paragraph, a sentence saying what it means lies.
_EXPLAINS_REACH = 400


def explaining(grounds: Grounds, said: set[str], terms: set[str]) -> list[int]:
    """The units that say what a quote (said), or a word of it (terms, analysed), means: a
    sentence opening "This means ..." or "In other words ..." shortly after the quote in its
    paragraph, or any sentence where the word stands beside "means" ("multiple partnerships
    mean Amazon's position is not exclusive").

    Example: units "Amazon holds less leverage." (quoted), "Google owns part of it." and
             "This means more money may not buy control.", terms {"leverag"} -> [the third's
             index]
    """
    quoted = quoted_units(grounds, said)
    out: set[int] = set()
    for i, unit in enumerate(grounds.sentences):
        if i in quoted:
            continue
        for a, b in split_sentences(unit.text):
            line = unit.text[a:b]
            if _MEANS.search(line) and terms & set(analyze(line)):
                out.add(i)
            if _EXPLAINS.search(line) and any(
                _shortly_after(grounds.sentences[q], unit, unit.start + a) for q in quoted
            ):
                out.add(i)
    return sorted(out)


def _shortly_after(quote: Sentence, unit: Sentence, start: int) -> bool:
    """Whether position start of unit's source lies a little after quote, in its paragraph."""
    if unit.chunk.source != quote.chunk.source or not 0 <= start - quote.end <= _EXPLAINS_REACH:
        return False
    # The gap may lie across the two chunks (they overlap): each shows the part it holds.
    held: list[tuple[int, int]] = []
    for chunk in (unit.chunk, quote.chunk):
        lo, hi = max(quote.end, chunk.start), min(start, chunk.end)
        if lo <= hi:
            if "\n" in chunk.text[lo - chunk.start : hi - chunk.start]:
                return False
            held.append((lo, hi))
    held.sort()
    return (
        bool(held)
        and held[0][0] == quote.end
        and max(hi for _, hi in held) == start
        and all(b[0] <= a[1] for a, b in itertools.pairwise(held))
    )


# A name given as an instance of a kind: "Meta, for example,", "such as Google", "like Meta".
_INSTANCE = re.compile(
    r"\b[A-Z][\w\-]*,?\s+for\s+(?:example|instance)\b|"
    r"\b(?:such\s+as|like|including|e\.g\.,?)\s+[A-Z][\w\-]*",
)


_EXAMPLE_REQUEST = frozenset(analyze("name one give example instance please pls"))


def examples(grounds: Grounds, said: set[str], query: str) -> list[int]:
    """The units not quoted in said that give an instance by its name ("Meta, for example,",
    "such as Google") sharing the most words, names aside, with what the query asks an
    example of; [] when none shares a word with it.

    Example: units "Meta, for example, builds AI in-house." and "Markets like Wall Street
             cheered.", query "an example of companies that build AI internally" -> [the
             first's index]
    """
    asked = _plain_words(query) - _EXAMPLE_REQUEST
    quoted = set(quoted_units(grounds, said))
    shared: dict[int, int] = {}
    for i, lines in enumerate(_unit_lines(grounds)):
        giving = [line for line in lines if _INSTANCE.search(line)]
        if i not in quoted and giving:
            shared[i] = max(len(_plain_words(line) & asked) for line in giving)
    most = max(shared.values(), default=0)
    return sorted(i for i, n in shared.items() if n == most) if most else []


# Words that link a sentence's parts ("like Anthropic", "on the other hand"), not what it tells.
_LINKING = frozenset(analyze("like such hand example also even while way"))


def _plain_words(text: str) -> set[str]:
    """The analysed words of text, names and linking words aside (what it tells, not who)."""
    names = {t for n in name_words(text) for t in analyze(n)}
    return set(analyze(text)) - names - _LINKING


def lifted(grounds: Grounds, units: list[int], bonus: float = 0.0) -> Grounds:
    """grounds with the units raised by bonus times the best score, and at least to it: what
    a follow-up reads on to is never ranked below the quote it follows (a quote matching
    every carried word had kept its follower out of the answer to "Why?").

    Example: units A (score 1.0) and B (0.4), units [B's index], bonus 0.5 -> B scores 1.0.
    """
    if not units:
        return grounds
    scores = np.array(grounds.scores, dtype=float)
    top = float(scores.max())
    scores[units] = np.maximum(scores[units] + bonus * top, top)
    return dataclasses.replace(grounds, scores=scores)


def _without(grounds: Grounds, said: set[str], besides: str, query: str) -> Grounds:
    """grounds with the units the last answer quoted (said) ranked below every other, and
    the units naming whom a "Who else?" asks besides and nobody the query does not name.

    Example: units A (quoted, score 1.0) and B (0.6), said {A's text} -> A scores below B.
    """
    quoted = set(quoted_units(grounds, said))
    asked = set(re.findall(r"[\w\-]+", query.lower())) | {besides.lower()}
    for i, unit in enumerate(grounds.sentences):
        names = {n.lower() for n in name_words(unit.text) if len(n) > 2}
        if besides.lower() in names and names <= asked:
            quoted.add(i)
    return _below(grounds, sorted(quoted))


_OTHER_SIDE_REACH = 400  # characters after a quote in which its paragraph may go on to another
_OTHER_SIDE_WORDS = 4  # the name must be among the first words of that sentence


def _other_side(grounds: Grounds, said: set[str], name: str) -> list[int]:
    """The nearest unit after a quote of said, in the same paragraph of its source, that
    opens by naming name: where a text turns from one party to the next.

    Example: units "Meta builds AI in-house." (quoted), "This is costly." and "Amazon, on
             the other hand, invests in Anthropic." in one paragraph, name "amazon" ->
             [the third's index]
    """
    low = name.lower()
    best: tuple[int, int] | None = None
    for q in quoted_units(grounds, said):
        s = grounds.sentences[q]
        for j, unit in enumerate(grounds.sentences):
            gap = unit.start - s.end
            if j == q or unit.chunk.id != s.chunk.id or not 0 <= gap <= _OTHER_SIDE_REACH:
                continue
            opening = [w.lower() for w in re.findall(r"[\w\-]+", unit.text)[:_OTHER_SIDE_WORDS]]
            if low in opening and "\n" not in _between(s, unit) and (best is None or gap < best[0]):
                best = (gap, j)
    return [] if best is None else [best[1]]


def parallel_unit(grounds: Grounds, said: set[str], name: str) -> list[int]:
    """The unit naming name that shares the most words, names aside, with the last answer's
    quotes (said): "And Google?" after Meta's way ("Meta ... is building AI models in-house")
    is asked of the sentence that tells the same of Google ("companies focusing on in-house
    development, such as Google"), not of any sentence that names Google ("Anthropic remains
    partially owned by Google and collaborates with ... Meta": the names say who, not what).
    [] when the best-scoring unit naming it shares a word with them already, when none does,
    or when a quote names it.

    Example: said {"Meta builds its AI in-house."}, units "Google owns part of Anthropic."
             and "Google also builds AI models.", name "google" -> [the second's index]
    """
    low = name.lower()

    def names_it(line: str) -> bool:
        return low in {w.lower() for w in re.findall(r"[\w\-]+", line)}

    if not said or any(names_it(q) for q in said):
        return []  # the quote names it too ("depression 50.4%, anxiety 44.6%"): it answers
    told = set().union(*(_plain_words(q) for q in said))
    quoted = set(quoted_units(grounds, said))
    shared: dict[int, int] = {}
    for i, lines in enumerate(_unit_lines(grounds)):
        naming = [line for line in lines if names_it(line)]
        if i not in quoted and naming:
            # The sentence naming it, not the ones a unit joins to it ("This situation ...").
            shared[i] = max(len(_plain_words(line) & told) for line in naming)
    if not shared or shared[max(shared, key=lambda i: float(grounds.scores[i]))]:
        return []  # the best unit naming it already tells something the quote told
    best = max(shared, key=lambda i: shared[i])
    return [best] if shared[best] else []


def _below(grounds: Grounds, units: list[int]) -> Grounds:
    """grounds with the units ranked below every other (unless they are all there is).

    Example: units A (score 1.0) and B (0.6), units [A's index] -> A scores -0.4.
    """
    if not units or len(set(units)) == len(grounds.sentences):
        return grounds
    scores = np.array(grounds.scores, dtype=float)
    scores[units] = float(scores.min()) - 1.0
    return dataclasses.replace(grounds, scores=scores)


_CUT_WORDS = 3  # words of a sentence an answer left out for its quote to read as cut short


def _cut_short(grounds: Grounds, said: set[str], *, ahead: bool = False) -> list[int]:
    """The units holding a quote of said (three words or more) that leaves out three words or
    more of its sentence: what the last answer cut short is read on in the sentence itself first
    ("Amazon is also supporting Anthropic through infrastructure investments" of "...,
    including custom chips and data centers ..."). ahead: only three words or more after it.

    Example: a unit "Amazon supports Anthropic with chips and data centers.", said
             {"Amazon supports Anthropic"} -> [its index]
    """
    parts = [q for q in said if len(q.split()) >= 3]

    def left_out(line: str, q: str) -> int:
        rest = line[line.index(q) + len(q) :] if ahead else line.replace(q, " ", 1)
        return len(rest.split())

    return [
        i
        for i, lines in enumerate(_unit_lines(grounds))
        if any(q in line and left_out(line, q) >= _CUT_WORDS for line in lines for q in parts)
    ]


def _repeats(text: str, said: set[str]) -> bool:
    """Whether every sentence of text is one of said, or part of one (whitespace collapsed):
    text tells nothing that was not said.

    Example: _repeats("Amazon holds less leverage.", {"Amazon holds less leverage."}) -> True;
             _repeats("Amazon, unlike Microsoft, holds less leverage.",
                      {"Amazon holds less leverage."}) -> False
    """
    lines = [_one_line(text[a:b]) for a, b in split_sentences(text)]
    return bool(lines) and all(any(line in q for q in said) for line in lines)


def _unit_lines(grounds: Grounds) -> list[list[str]]:
    """Each unit's sentences, whitespace collapsed as the answer writes them."""
    return [
        [_one_line(unit.text[a:b]) for a, b in split_sentences(unit.text)]
        for unit in grounds.sentences
    ]


def followers(grounds: Grounds, said: set[str]) -> list[int]:
    """The units right after a sentence of said (the last answer's quotes, whitespace
    collapsed; a sentence holding a quote of three words or more counts) that are not quoted
    themselves.

    Example: units A ("Amazon holds less leverage.") and B right after it in its source,
             said {"Amazon holds less leverage."} -> [index of B]
    """
    quoted = quoted_units(grounds, said)
    after = (_follower(grounds, i) for i in quoted)
    return sorted({j for j in after if j is not None and j not in quoted})


def quoted_units(grounds: Grounds, said: set[str]) -> list[int]:
    """The units holding a sentence of said (or a quote of three words or more of it)."""
    if not said:
        return []
    # An answer may have quoted part of a sentence ("Amazon holds less leverage." of "...,
    # but unlike Microsoft's exclusive deal with OpenAI, Amazon holds less leverage."): a
    # sentence holding a quote of three words or more was said.
    parts = [q for q in said if len(q.split()) >= 3]
    return [
        i
        for i, lines in enumerate(_unit_lines(grounds))
        if any(line in said or any(q in line for q in parts) for line in lines)
    ]


def _sentence_count(grounds: Grounds, chosen: list[int]) -> int:
    """How many sentences the chosen units hold (a unit may be a sentence with the
    continuation that points back to it)."""
    return sum(len(split_sentences(grounds.sentences[i].text)) for i in chosen)


def _follower(grounds: Grounds, i: int) -> int | None:
    """The candidate that starts where unit i ends (only whitespace between, no paragraph
    break: a new paragraph turns to another point), if any."""
    s = grounds.sentences[i]
    for j, other in enumerate(grounds.sentences):
        if j != i and other.chunk.source == s.chunk.source and 0 <= other.start - s.end <= 3:
            return None if "\n" in _between(s, other) else j
    return None


def _between(first: Sentence, then: Sentence) -> str:
    """The source text between two sentences of one source ("" when no chunk holds it)."""
    for chunk in (first.chunk, then.chunk):
        if chunk.start <= first.end and then.start <= chunk.end:
            return chunk.text[first.end - chunk.start : then.start - chunk.start]
    return ""


# A word by which a sentence leans on the one before it ("Severe cases scar them.").
# A possessive or a connective only at the start: "Meta builds its models" is about Meta;
# "In addition, ..." goes on from the sentence before.
_LEANS_BACK = re.compile(
    r"^\W*(?:its|their|in addition|additionally|also|moreover|furthermore|however|but|and|so|"
    r"thus|therefore|hence|then|instead|still|yet|likewise|similarly|nevertheless|nonetheless|"
    r"in contrast|by contrast|as a result|consequently)\b|"
    r"\b(?:it|they|them|these|those|such|this)\b",
    re.I,
)


def _leans_back(unit: str) -> bool:
    """Whether the first sentence of a unit leans on the sentence before it."""
    spans = split_sentences(unit)
    first = unit[spans[0][0] : spans[0][1]] if spans else unit
    return _LEANS_BACK.search(first) is not None


def in_reading_order(grounds: Grounds, chosen: list[int], *, whole_runs: bool = False) -> list[int]:
    """chosen (best first), with units that continue one another's text (the same source,
    only whitespace between) placed together in the document's order: an answer that runs
    over two sentences reads as the document wrote it. Across a line break (a new paragraph)
    a unit goes after the one before it only when it leans on it ("it", "this", "In
    addition, ...") or with whole_runs (the neighbour rule quotes a run whole): otherwise
    the best unit still opens the answer ("Meta, for example, is investing in-house ..." is
    not put after the paragraph on Google that precedes it).

    Example: units at characters [(50, 90), (0, 48), (200, 240)] of one source, one
    paragraph, chosen in that order -> [1, 0, 2]: (0, 48) and (50, 90) are one run, read
    first to last.
    """
    sentences = grounds.sentences

    def joins(a: int, b: int) -> bool:  # b starts where a ends
        sa, sb = sentences[a], sentences[b]
        return sa.chunk.source == sb.chunk.source and 0 <= sb.start - sa.end <= 3

    def reads_after(a: int, b: int) -> bool:  # b is read after a, wherever b ranks
        return (
            whole_runs
            or not _line_break(sentences[a], sentences[b])
            or _leans_back(sentences[b].text)
        )

    out: list[int] = []
    for i in chosen:
        if i in out:
            continue
        run = [i]
        while (
            before := next(
                (
                    j
                    for j in chosen
                    if j not in out and j not in run and joins(j, run[0]) and reads_after(j, run[0])
                ),
                None,
            )
        ) is not None:
            run.insert(0, before)
        while (
            after := next(
                (j for j in chosen if j not in out and j not in run and joins(run[-1], j)), None
            )
        ) is not None:
            run.append(after)
        out.extend(run)
    return out


def _line_break(a: Sentence, b: Sentence) -> bool:
    """Whether a line break stands between a and the unit b that starts just after it."""
    for chunk in (a.chunk, b.chunk):
        if chunk.start <= a.end and b.start <= chunk.end:
            return "\n" in chunk.text[a.end - chunk.start : b.start - chunk.start]
    return True  # the gap lies in neither chunk: read as a break


def _antecedent(grounds: Grounds, i: int) -> int | None:
    """The candidate that ends where sentence i starts (only whitespace between), if any."""
    s = grounds.sentences[i]
    for j, other in enumerate(grounds.sentences):
        if (
            j != i
            and other.chunk.source == s.chunk.source
            and other.end <= s.start
            and s.start - other.end <= 3
        ):
            return j
    return None


class ExtractiveBackend:
    """Answers with sentences copied from the documents, each followed by its [n] citation.

    Its settings: max_answer_sentences, sentence_keep_ratio, sentence_redundancy,
    sentence_restating, sentence_adjacent, sentence_part_coverage, min_answer_sentences,
    sentence_twin_novelty. It yields
    one piece per cited sentence as it writes it.
    """

    name = "extractive"

    def __init__(self, settings: Settings) -> None:
        self.max_sentences = settings.max_answer_sentences
        self.keep_ratio = settings.sentence_keep_ratio
        self.redundancy = settings.sentence_redundancy
        self.restating = settings.sentence_restating
        self.adjacent = settings.sentence_adjacent
        self.part_coverage = settings.sentence_part_coverage
        self.min_sentences = settings.min_answer_sentences
        self.twin_novelty = settings.sentence_twin_novelty
        self.why_follower = settings.sentence_why_follower
        self.named_lead = settings.sentence_named_lead

    def stream(self, request: AnswerRequest) -> Iterator[str | Composition]:
        grounds = request.grounds
        if not grounds.answerable:
            yield Composition("", (), True, grounds.evidence, grounds.probability)
            return
        said = reads_on(request.question, request.history) if request.history else set()
        if said:
            named = not asks_what_follows(request.question)
            # "Why?", "Tell me more.", or named in its words ("Why less leverage, though?"):
            # what follows the quote, in its sentence when the answer cut it short, then next.
            grounds = follow_on(
                grounds,
                said,
                self.why_follower,
                more=asks_for_more(request.question),
                why=_ASKS_WHY.match(request.question) is not None,
            )
            meant = meaning_asked(request.question)
            if meant:
                # "What do you mean by leverage here?": what the documents say it means.
                grounds = lifted(grounds, explaining(grounds, said, meant), self.why_follower)
            if named:
                # ... and the quote itself, already read, is not what it asks for.
                grounds = _below(
                    grounds, [i for i, u in enumerate(grounds.sentences) if _repeats(u.text, said)]
                )
        elif request.history and says_nothing_of_its_own(request.question):
            # "Which ones?" after "... its own models lag behind [cut]": what the quote left
            # out after it is what it names ("competitors such as GPT-4, Claude, and Gemini").
            grounds = lifted(grounds, _cut_short(grounds, last_quotes(request.history), ahead=True))
        echoed = echoed_quotes(request.question, request.history) if request.history else set()
        if echoed and not said:
            # "behind on what?": the sentence of the quote it echoes says it, even said again.
            grounds = lifted(grounds, quoted_units(grounds, echoed), bonus=0.5)
        if request.history and not said and not echoed:
            # Nor with what the last answer quoted whole: the asker has just read it ("It is
            # better than the models Amazon makes itself?" after the sentence on Claude). A
            # sentence it quoted in part may hold the rest, which is asked for; and one holding
            # the amount or date asked for answers it again ("How much have they put in?"
            # after the $8 billion sentence).
            last = last_quotes(request.history)
            kind = selection_type(request.question)
            grounds = _below(
                grounds,
                [
                    i
                    for i, u in enumerate(grounds.sentences)
                    if _repeats(u.text, last) and not (kind and has_answer_type(kind, u.text))
                ],
            )
        besides = others_than(request.question, request.history) if request.history else None
        if besides is not None:
            # "Who else?": not what was just quoted, nor whom it named. ("What else?" may be
            # answered by the rest of a sentence already quoted.)
            grounds = _without(grounds, last_quotes(request.history), besides, request.query)
        grounds = _named_first(grounds, request.query, self.named_lead)
        if asks_if_settled(request.question):
            # "Is it a done deal?": a sentence saying it is only planned answers it ("Amazon
            # is reportedly considering a new multi-billion dollar investment").
            grounds = lifted(grounds, hedged(grounds), self.why_follower)
        other = another_named(request.question) if request.history else None
        if other is not None:
            # "And Amazon?" after Meta's way: the sentence that goes on to Amazon right after
            # the quote ("Amazon, on the other hand, ...") is the other side of what was said.
            said = last_quotes(request.history)
            units = _other_side(grounds, said, other) or parallel_unit(grounds, said, other)
            grounds = lifted(grounds, units, bonus=0.5)
        if request.history and asks_example(request.question):
            # "Give me an example of the first kind": a sentence that gives one by its name
            # ("Meta, for example, ..."), not the quote that told of the kind.
            grounds = lifted(
                grounds, examples(grounds, last_quotes(request.history), request.query), 1.0
            )
        chosen = select_sentences(
            grounds,
            max_sentences=self.max_sentences,
            keep_ratio=self.keep_ratio,
            redundancy=self.redundancy,
            restating=self.restating,
            adjacent=self.adjacent,
            question=request.question,
            part_coverage=self.part_coverage,
            min_sentences=self.min_sentences,
            twin_novelty=self.twin_novelty,
        )
        beside = typed_neighbour(grounds, selection_type(request.question), chosen)
        if beside is not None:
            chosen = in_reading_order(grounds, [*chosen, beside], whole_runs=bool(self.adjacent))
        parts: list[str] = []
        citations: list[Citation] = []
        for i in chosen:
            unit = grounds.sentences[i]
            # A unit may be a sentence and its continuation: each sentence gets its own citation.
            for a, b in split_sentences(unit.text):
                n = len(citations) + 1
                quote = unit.text[a:b]
                part = f"{_one_line(quote)} [{n}]"
                yield f" {part}" if parts else part
                parts.append(part)
                citations.append(unit.chunk.cite(n, unit.start + a, unit.start + b))
        yield Composition(
            " ".join(parts), tuple(citations), False, grounds.evidence, grounds.probability
        )


# The kinds of answer a sentence can be seen to hold by its form. Not an amount: "a quarter
# of the price" is one that has_answer_type does not see, and the neighbour it brought was
# another figure ("An amending act of 1896 ...").
_FORMED_KINDS = frozenset({"date", "count"})


def typed_neighbour(grounds: Grounds, kind: str | None, chosen: list[int]) -> int | None:
    """The unit just before or just after the best chosen one, in its paragraph, that holds
    what the question asks for (a date, a count) when the best one does not: "On what day
    did the hull come back to the surface?" is led by "Thousands of people watched the hull
    break the surface.", and the date is in the sentence before it ("Vasa was raised on 24
    April 1961, ..."). None when the kind is none of these, the best unit holds one, or
    neither neighbour does.
    """
    if kind not in _FORMED_KINDS or not chosen:
        return None
    units = grounds.sentences
    best = max(chosen, key=lambda i: float(grounds.scores[i]))
    if has_answer_type(kind, units[best].text):
        return None
    before = _antecedent(grounds, best)
    if before is not None and _line_break(units[before], units[best]):
        before = None
    for j in (before, _follower(grounds, best)):
        if (
            j is not None
            and has_answer_type(kind, units[j].text)
            and not _overlaps(grounds, j, chosen)
        ):
            return j
    return None


def _overlaps(grounds: Grounds, i: int, chosen: list[int]) -> bool:
    """Whether unit i shares characters with a chosen unit (itself included): overlapping
    chunks cut the same text into different units, and an answer never quotes a span twice."""
    a = grounds.sentences[i]
    return any(
        (b := grounds.sentences[j]).chunk.source == a.chunk.source
        and a.start < b.end
        and b.start < a.end
        for j in chosen
    )


def _named_first(grounds: Grounds, query: str, ratio: float) -> Grounds:
    """grounds with the best unit naming one of the query's rarer names (named in some units,
    fewer than half) raised just above the best unit, when the best names none of them and
    it scores at least ratio of the best: "And Google?" after Meta's strategy is answered
    from the sentence on Google, not from one on strategy that never names it. Names most
    units hold (the documents' topic) say nothing of which unit answers.

    Example: units "Amazon's strategy is to invest." (1.0), "Google builds in-house." (0.7)
             and "Amazon builds chips." (0.2), query "What is Google's strategy?", ratio
             0.5 -> the second scores 1.0 and a hair more.
    """
    names = [set(analyze(n)) for n in specific_tokens(query) if not n.isdigit()]
    units = [set(analyze(u.text)) for u in grounds.sentences]
    rare = [n for n in names if n and 0 < sum(n <= u for u in units) < len(units) / 2]
    if not rare:
        return grounds
    scores = np.array(grounds.scores, dtype=float)
    top = float(scores.max())
    naming = [i for i, u in enumerate(units) if any(n <= u for n in rare)]
    best = max(naming, key=lambda i: float(scores[i]))
    if scores[best] >= top or scores[best] < ratio * top:
        return grounds
    scores[best] = top + 1e-6
    return dataclasses.replace(grounds, scores=scores)


def _one_line(text: str) -> str:
    return " ".join(text.split())
