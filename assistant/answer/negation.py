"""Negation in plain text: which words a "not", "no" or "non-" governs, and whether a word is
negated where it is used. Shared by the answer check (answer/verify.py: a sentence must not
flip the passage's negation) and the refusal (answer/features.py: a question that asks what
did *not* happen is not answered by a passage that says it did).

Pure and fast: regular expressions over words, no model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

__all__ = [
    "NEGATION",
    "STOP",
    "WORD",
    "content_stems",
    "near_negation",
    "negated_positions",
    "negation_scope",
    "question_negation",
    "stem",
    "unmatched_negation",
]

STOP = frozenset(
    """
    a an the of to in on at by for with from and or but as is are was were be been being has
    have had do does did will would can could should may might must it its this that these
    those their there which who whom whose what when where while than then so such also just
    only very more most less least much many any some all both each either into onto over
    under about after before between through during against among per via up out off
    necessarily yet always ever really even still quite rather
    """.split()  # noqa: SIM905
)
NEGATION = re.compile(
    r"\b(?:not|no|never|none|nor|neither|cannot|without|nothing|nobody|lack(?:s|ed|ing)?|"
    r"fail(?:s|ed)?\s+to)\b|n[’']t\b|\bnon-|\bun(?=able\b|likely\b)",
    re.IGNORECASE,
)
WORD = re.compile(r"[A-Za-z][\w’'-]*")


def stem(word: str) -> str:
    """A crude stem: the first five letters, lower-cased ("invested" -> "inves")."""
    return word.lower().replace("’", "'")[:5]


@lru_cache(maxsize=4096)
def content_stems(text: str) -> tuple[tuple[int, str], ...]:
    """(token index, stem) of the content words of text."""
    return tuple(
        (i, stem(w))
        for i, w in enumerate(WORD.findall(text))
        if w.lower() not in STOP and len(w) > 2
    )


@lru_cache(maxsize=4096)
def negated_positions(text: str) -> tuple[int, ...]:
    """Token indices of the negation cues of text ("non-x" and "un-x" words are cues too)."""
    return tuple(
        i for i, t in enumerate(WORD.findall(text)) if NEGATION.match(t) or re.search(r"n[’']t$", t)
    )


def negation_scope(text: str, cue_positions: Sequence[int], width: int = 2) -> set[str]:
    """Stems of the words a negation governs: the first `width` content words after each cue
    that are not names (a name is who, not what is denied), and the x of "non-x"."""
    tokens = WORD.findall(text)
    out: set[str] = set()
    for cue in cue_positions:
        if tokens[cue].lower().startswith("non-"):
            out.add(stem(tokens[cue][4:]))
            continue
        after = [
            stem(t)
            for t in tokens[cue + 1 :]
            if t.lower() not in STOP and len(t) > 2 and not t[0].isupper()
        ]
        out.update(after[:width])
    return out


def near_negation(text: str, word: str, window: int = 8) -> bool:
    """Whether some use of the word whose stem is `word` in text is negated (within `window`
    tokens after a cue, or as the x of "non-x")."""
    tokens = WORD.findall(text)
    cues = negated_positions(text)
    for i, t in enumerate(tokens):
        if t.lower().startswith("non-") and stem(t[4:]) == word:
            return True
        if stem(t) == word and any(0 < i - c <= window for c in cues):
            return True
    return False


# A question opening with a negated auxiliary asks yes or no ("Doesn't it have its own?"):
# its negation is the form of the question, not what it asks about.
_NEGATED_AUXILIARY = re.compile(
    r"(?:is|are|was|were|do|does|did|can|could|has|have|had|will|would|should|must)n[’']t",
    re.IGNORECASE,
)
# In a question only these deny something; "non-structural", "lack of", "no genes" name it.
_QUESTION_CUE = re.compile(r"not|never|cannot|\w+n[’']t", re.IGNORECASE)


def question_negation(question: str) -> set[str]:
    """Stems of the words a question denies: "What did Amazon not invest in?" -> {"inves"}.
    Not the negated auxiliary a yes/no question opens with, not "... or not?", and not
    "non-x", "lack" or "no" (in a question those name a thing rather than deny one).

    Example: question_negation("Why is RT-PCR not the best method?") -> {"best", "metho"};
             question_negation("Doesn't it have its own?") -> set();
             question_negation("What non-structural proteins are coded?") -> set()
    """
    tokens = WORD.findall(question)
    cues = [
        i
        for i in negated_positions(question)
        if _QUESTION_CUE.fullmatch(tokens[i])
        and not (i == 0 and _NEGATED_AUXILIARY.fullmatch(tokens[i]))
        and not (i > 0 and tokens[i].lower() == "not" and tokens[i - 1].lower() == "or")
    ]
    return negation_scope(question, cues)


def unmatched_negation(question: str, sentences: Sequence[str]) -> bool:
    """Does the question deny something that the sentences state only plainly? True when a
    word the question negates appears in some sentence and is negated in none: "What did
    Amazon not invest in?" over "Amazon invested $8 billion in Anthropic." The passages then
    say what did happen, not what did not. False when the question negates nothing, or when
    no sentence uses the word (the other evidence decides then).

    Example: unmatched_negation("What did Amazon not invest in?",
                                ["Amazon invested $8 billion in Anthropic."]) -> True;
             unmatched_negation("Which strains do not have deletions?",
                                ["Strain B does not have the deletion."]) -> False
    """
    denied = question_negation(question)
    if not denied:
        return False
    used = False
    for text in sentences:
        words = {s for _, s in content_stems(text)}
        for word in denied & words:
            if near_negation(text, word):
                return False
            used = True
    return used
