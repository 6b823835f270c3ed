"""Turn a follow-up question into a standalone query, deterministically and offline."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from ..retrieval.lexical import STOPWORDS

__all__ = ["is_followup", "standalone_query"]

# Words that point back to something said earlier.
_ANAPHORA = frozenset(
    [
        "it",
        "its",
        "it's",
        "they",
        "them",
        "their",
        "theirs",
        "that",
        "this",
        "these",
        "those",
        "he",
        "him",
        "his",
        "she",
        "her",
        "hers",
        "there",
        "such",
        "same",
        "former",
        "latter",
        "one",
        "ones",
    ]
)
_OPENERS = (
    "and ",
    "but ",
    "also ",
    "what about",
    "how about",
    "and what",
    "why is that",
    "why",
    "how so",
    "so ",
    "then ",
)
_WORD = re.compile(r"[\w$%.,'’-]+")
_CITATION = re.compile(r"\s*\[\d+\]")
# Words that carry no topic of their own: the lexical stop words plus conversational ones.
_QUESTION_WORDS = STOPWORDS | {"but", "know", "please", "said", "say", "says", "tell"}


def is_followup(question: str) -> bool:
    """Does the question lean on an earlier turn?

    Example: is_followup("Is that stake exclusive?") -> True;
             is_followup("Who owns part of Anthropic?") -> False
    """
    q = question.strip().lower()
    words = re.findall(r"[a-z']+", q)
    if any(w in _ANAPHORA for w in words):
        return True
    if q.startswith(_OPENERS):
        return True
    content = [w for w in words if w not in _QUESTION_WORDS]
    return len(content) <= 1


def _key_terms(text: str) -> list[str]:
    """Names, numbers and content words of a turn, in order, without repeats."""
    text = _CITATION.sub("", text)
    terms: list[str] = []
    for raw in _WORD.findall(text):
        word = raw.strip(".,'’-")
        if not word or word.lower() in _QUESTION_WORDS or word.lower() in _ANAPHORA:
            continue
        if word not in terms:
            terms.append(word)
    return terms


def standalone_query(
    question: str, history: Sequence[Mapping[str, str]] | None, *, max_terms: int = 12
) -> str:
    """The query to retrieve with: the question itself, or for a follow-up the question plus
    the key terms of the last user turn and the names in the last answer.

    Example:
        standalone_query("Is that stake exclusive?", [
            {"role": "user", "content": "Who has invested $8 billion in Anthropic?"},
            {"role": "assistant", "content": "Amazon has invested around $8 billion. [1]"}])
        -> "Is that stake exclusive? (invested $8 billion Anthropic Amazon)"
    """
    question = question.strip()
    if not history or not is_followup(question):
        return question
    last_user = next((m["content"] for m in reversed(history) if m.get("role") == "user"), "")
    last_answer = next(
        (m["content"] for m in reversed(history) if m.get("role") == "assistant"), ""
    )
    terms = _key_terms(last_user)
    # From the answer only names and figures: its other words are often off the point.
    names = [
        term
        for term in _key_terms(last_answer)
        if (term[:1].isupper() or any(ch.isdigit() for ch in term)) and term not in terms
    ]
    terms += names[:3]  # the answer's first names are its subject; later ones drift
    own = {w.lower().strip("?.,!") for w in question.split()}
    terms = [t for t in terms if t.lower() not in own][:max_terms]
    if not terms:
        return question
    return f"{question} ({' '.join(terms)})"
