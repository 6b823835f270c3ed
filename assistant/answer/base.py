"""The answer seam: what an answer backend is given, and what it gives back.

A backend writes the answer once the evidence says there is one to write. It receives an
`AnswerRequest` (the question, the standalone query searched for, the retrieved hits, the
gathered evidence and the conversation so far) and yields the answer's text pieces as it
writes them, then one final `Composition`. Whether to answer at all was decided before the
backend ran (answer/evidence.py), so it is the same for every backend; a backend may still
refuse (Composition.refused), and the Answerer then words the refusal.

Backends are registered by name in answer/registry.py; settings, the CLI, the web chat and the
eval runner all offer what is registered there.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ..schema import Citation, Dropped, Hit
from .evidence import Evidence, Grounds

__all__ = ["AnswerBackend", "AnswerRequest", "Composition", "Message"]

Message = Mapping[str, str]  # one turn of a conversation: {"role": "user" | "assistant", "content"}


@dataclass(frozen=True, slots=True)
class AnswerRequest:
    """Everything a backend may use to write one answer."""

    question: str  # what the person typed
    query: str  # the standalone query retrieval searched for (differs for follow-ups)
    hits: tuple[Hit, ...]  # retrieved passages, best first
    grounds: Grounds  # candidate sentences, their scores, the evidence and the decision
    history: tuple[Message, ...] = ()  # earlier turns, oldest first


@dataclass(frozen=True, slots=True)
class Composition:
    """A finished answer: text whose sentences end in [n] markers, and those citations.

    Citations are numbered 1..N by first use, and each quote is the source's exact text at its
    offsets. refused: the backend found no answer to write (text and citations are empty).
    evidence and probability repeat what the decision was based on, so a Composition alone
    says why it was written.
    """

    text: str
    citations: tuple[Citation, ...]
    refused: bool
    evidence: Evidence | None = None
    probability: float | None = None
    dropped: tuple[Dropped, ...] = ()  # sentences written but removed by the check, with why
    notice: str = ""  # a word for the reader, e.g. "nothing the model wrote passed the check"


@runtime_checkable
class AnswerBackend(Protocol):
    """Writes an answer from retrieved passages. Yields text pieces as they come, then the
    Composition. For a backend that copies, the pieces joined are the Composition's text; for
    one whose draft is checked afterwards (a language model) the pieces are the draft and
    the Composition's text is what survived the check: consumers show the Composition last.

    Failures a person can act on (a model server down, a missing key) are raised as
    AnswerBackendError, whose message says what to do.
    """

    name: str

    def stream(self, request: AnswerRequest) -> Iterator[str | Composition]: ...
