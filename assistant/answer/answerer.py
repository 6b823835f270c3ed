"""The Answerer: from a question to a cited answer or a plain refusal, whichever backend writes.

For each question it rewrites a follow-up into a standalone query, answers questions about the
collection from its catalogue, retrieves passages, gathers the evidence and decides whether
the documents answer the question (answer/evidence.py), and only then lets the chosen
backend write (answer/registry.py). `stream` yields the backend's pieces as they are written,
then the final Answer; `ask` drains it.

    answerer = Answerer(settings, embedder)
    for piece in answerer.stream(question, history, retriever=r, sources=s, chunks=c):
        ...  # str pieces, then one Answer
"""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np

from ..errors import AnswerBackendError, AssistantError
from ..schema import Answer, Chunk, Hit, SourceInfo
from ..store import SentenceStore
from .base import AnswerBackend, AnswerRequest, Composition, Message
from .catalogue import (
    Part,
    answer_catalogue,
    parse_catalogue_question,
    part_followup,
    part_spans,
    place_asked,
)
from .condense import QueryCondenser
from .evidence import Grounds, RefusalModel, SentenceVectors, gather_evidence
from .extractive import followers, lifted, question_parts, quoted_units
from .features import answer_type, phrase_asked_about
from .followup import (
    asks_for_more,
    echoed_quotes,
    is_followup,
    latest_question,
    named_doer,
    reads_on,
    said_asked_about,
    says_nothing_of_its_own,
    standalone_query,
    why_with_remark,
)
from .registry import check_backend, resolve_backend

if TYPE_CHECKING:
    from ..embedding import Embedder
    from ..settings import Settings

__all__ = ["Answerer", "Retriever", "final_answer", "refusal_text", "unshouted"]

_RELATED = 3  # passages offered as reading with a refusal
# The share of a type-only follow-up's carried words ("How much? (Amazon Anthropic stake)")
# that a top sentence holding the type must hold for it to be answered.
_TYPED_FOLLOWUP = 0.5
# How far above the best score a sentence in the part of the document a question names is
# raised: enough that the keep ratio leaves out what only matches its other words.
_PLACED_BONUS = 0.5


class _Lexical(Protocol):
    def idf(self, term: str) -> float: ...


class Retriever(Protocol):
    """What answering needs from retrieval (HybridRetriever is one)."""

    @property
    def lexical(self) -> _Lexical: ...

    def embed_query(self, query: str) -> np.ndarray: ...

    def respell(self, text: str) -> str: ...

    def retrieve(
        self, query: str, k: int, *, query_vector: np.ndarray | None = None
    ) -> list[Hit]: ...


class Answerer:
    """Answers questions with the backend named by settings.answer_mode (or a per-call mode).

    One Answerer serves every thread: backends are built once per mode, and the sentence
    vector cache is shared.
    """

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        """Raises AnswerBackendError when settings.answer_mode names no registered mode."""
        check_backend(settings.answer_mode)
        self.settings = settings
        self.refusal = RefusalModel.from_settings(settings)
        self.sentence_vectors = SentenceVectors(embedder.embed)
        self._backends: dict[tuple[str, object], AnswerBackend] = {}
        self._lock = threading.Lock()

    def backend(self, mode: str | None = None) -> AnswerBackend:
        """The backend for mode (default settings.answer_mode), built on first use."""
        name = mode or self.settings.answer_mode
        factory = resolve_backend(name)
        key = (name, factory)  # a re-registered name gets a new backend
        with self._lock:
            backend = self._backends.get(key)
            if backend is None:
                backend = self._backends[key] = _build(name, factory, self.settings)
        return backend

    def gather(
        self,
        query: str,
        query_vector: np.ndarray,
        hits: Sequence[Hit],
        *,
        idf: Callable[[str], float],
        question: str | None = None,
        refusal: RefusalModel | None = None,
        stored: SentenceStore | None = None,
        decide_on: int | None = None,
    ) -> Grounds:
        """The evidence for query in hits and the decision to answer, with these settings
        (refusal: another model, e.g. one that never refuses, for calibration; stored: the
        index the hits come from, when it keeps sentence vectors; decide_on: how many of the
        best hits the refusal reads, None for all)."""
        return gather_evidence(
            query,
            query_vector,
            hits,
            embed=self.sentence_vectors,
            idf=idf,
            refusal=refusal or self.refusal,
            lexical_weight=self.settings.sentence_lexical_weight,
            type_weight=self.settings.sentence_type_weight,
            phrase_weight=self.settings.sentence_phrase_weight,
            question=question,
            stored=stored,
            decide_on=decide_on,
        )

    def stream(
        self,
        question: str,
        history: Sequence[Message] | None = None,
        *,
        retriever: Retriever,
        sources: Sequence[SourceInfo],
        chunks: Sequence[Chunk],
        k: int | None = None,
        mode: str | None = None,
        stored: SentenceStore | None = None,
    ) -> Iterator[str | Answer]:
        """Text pieces of the answer as the backend writes them, then the final Answer.

        question must already be checked (non-empty, within the length limit). sources and
        chunks are the collection's catalogue, for questions about the collection itself;
        stored: the retriever's index, when it keeps sentence vectors (then only the
        question is embedded).
        """
        t_start = time.perf_counter()
        backend = self.backend(mode)  # an unknown mode fails before any work
        timings: dict[str, float] = {}

        t = time.perf_counter()
        # Chat-typed words ("amzn", "infra") read as the documents spell them: the question
        # is matched word by word, so a word they never use would find nothing.
        spelt = retriever.respell(unshouted(question))
        # The earlier questions too: their names are what a follow-up's "it" points at.
        read = [
            {**turn, "content": retriever.respell(unshouted(turn.get("content", "")))}
            if turn.get("role") == "user"
            else turn
            for turn in history or ()
        ]
        query = standalone_query(spelt, read)
        if history and isinstance(backend, QueryCondenser) and is_followup(spelt):
            # A language model backend may say better what the follow-up points at; its
            # rewrite is used only when it keeps the question's own words (condense.py).
            query = backend.condense(spelt, history) or query
        timings["rewrite"] = time.perf_counter() - t

        catalogue = parse_catalogue_question(question)
        if catalogue is None and history:
            # "What about the beginning?" right after "How does the article end?"
            catalogue = part_followup(question, latest_question(history))
        if catalogue is not None:
            t = time.perf_counter()
            text, citations = answer_catalogue(catalogue, sources, chunks)
            timings["catalogue"] = time.perf_counter() - t
            timings["total"] = time.perf_counter() - t_start
            yield text
            yield Answer(question, query, text, citations, refused=False, timings=timings)
            return

        t = time.perf_counter()
        qv = retriever.embed_query(query)
        timings["embed"] = time.perf_counter() - t
        t = time.perf_counter()
        k = k or self.settings.k
        pool = self._pool(retriever, query, qv, k)
        hits = pool[:k]
        timings["retrieve"] = time.perf_counter() - t

        # "compose" is the evidence plus the backend's own time, not the time a consumer
        # spends between pieces.
        t = time.perf_counter()
        asked = named_doer(_asked(spelt, query), read)
        grounds = self._ground(retriever, asked, query, qv, pool, k, stored)
        if (
            history
            and not grounds.answerable
            and answer_type(spelt) is not None
            and says_nothing_of_its_own(spelt)
            and grounds.evidence.typed_focus >= _TYPED_FOLLOWUP
            and not self.refusal.vetoed(grounds.evidence)
        ):
            # "How much?" after "Does Amazon already own a stake in Anthropic?": it asks only
            # for a kind of thing about what was just said; a top sentence holds one with half
            # the carried words. The probability read a query of carried words alone.
            grounds = dataclasses.replace(grounds, answerable=True)
        phrase = phrase_asked_about(spelt) if not grounds.answerable else None
        if phrase and not self.refusal.vetoed(grounds.evidence):
            # "What does 'hedging its bets' mean here?": the sentence that uses the phrase is
            # what the documents say of it, however little the rest of the question matches.
            wanted = _plain(phrase)
            if any(wanted in _plain(s.text) for s in grounds.sentences[: self.settings.k * 4]):
                grounds = dataclasses.replace(grounds, answerable=True)
        if (
            history
            and not grounds.answerable
            and (asks_for_more(spelt) or why_with_remark(spelt) or said_asked_about(spelt, history))
        ):
            said = reads_on(spelt, history)
            if followers(grounds, said):
                # "Tell me more." of an answer ("Say more about the risk.") is answered by what
                # its passage says next: nothing is asked that the documents could fail to
                # say. The extractive backend finds the followers again to raise them
                # (follow_on, "Why?" too): 0.3-13 ms, not worth a request field that one
                # backend alone would read.
                grounds = dataclasses.replace(grounds, answerable=True)
        if history and not grounds.answerable and not self.refusal.vetoed(grounds.evidence):
            echoed = echoed_quotes(spelt, history)
            if echoed and quoted_units(grounds, echoed):
                # "behind on what, measured how?": the quote it echoes says (its sentence is
                # among the candidates), whatever the few words of the question match.
                grounds = dataclasses.replace(grounds, answerable=True)
        if not grounds.answerable:
            # "Should shareholders expect a quick return? If not, what's the point of it?": a
            # message asking two things is answered when one of them is, each read as its own
            # question (one question's words had drowned the other's). A part that leans on
            # another ("what did they say?" after "Who is the CEO?") is not asked alone.
            for part in [p for p in question_parts(spelt) if not is_followup(p)]:
                part_query = standalone_query(part, read)
                part_qv = retriever.embed_query(part_query)
                part_pool = self._pool(retriever, part_query, part_qv, k)
                part_grounds = self._ground(
                    retriever, _asked(part, part_query), part_query, part_qv, part_pool, k, stored
                )
                if part_grounds.answerable:
                    query, pool, grounds = part_query, part_pool, part_grounds
                    hits = pool[:k]
                    break
        place = place_asked(spelt) if grounds.answerable else None
        if place is not None:
            # "How does the author sum up the bet in the closing line?": the sentences there
            # come first, whatever else matches its words.
            grounds = lifted(grounds, _placed_units(grounds, place, chunks), bonus=_PLACED_BONUS)
        compose_seconds = time.perf_counter() - t
        composition: Composition | None = None
        if grounds.answerable:
            request = AnswerRequest(question, query, tuple(hits), grounds, tuple(history or ()))
            pieces = _guarded(backend, request)
            while True:
                t = time.perf_counter()
                piece = next(pieces, None)
                compose_seconds += time.perf_counter() - t
                if piece is None:
                    break
                if isinstance(piece, Composition):
                    composition = piece
                    break
                if "first_piece" not in timings:
                    # Time to first token: what a person waits before text starts to appear.
                    timings["first_piece"] = time.perf_counter() - t_start
                yield piece
            if composition is None:
                raise AnswerBackendError(
                    f"the {backend.name!r} answer mode ended without an answer: "
                    "try again or pick another mode"
                )
        timings["compose"] = compose_seconds
        timings["total"] = time.perf_counter() - t_start

        if composition is None or composition.refused:
            text = refusal_text(asked)
            yield text
            yield Answer(
                question,
                query,
                text,
                refused=True,
                related=tuple(hits[:_RELATED]),
                hits=tuple(hits),
                timings=timings,
                dropped=composition.dropped if composition else (),
                notice=composition.notice if composition else "",
            )
            return
        yield Answer(
            question,
            query,
            composition.text,
            composition.citations,
            refused=False,
            hits=tuple(hits),
            timings=timings,
            dropped=composition.dropped,
            notice=composition.notice,
        )

    def _pool(self, retriever: Retriever, query: str, qv: np.ndarray, k: int) -> list[Hit]:
        """The passages an answer may quote from: more than the k it shows
        (settings.evidence_k), since the sentence that answers is sometimes in the sixth to
        eighth; whether to answer is decided on the k shown."""
        return retriever.retrieve(query, max(k, self.settings.evidence_k), query_vector=qv)

    def _ground(
        self,
        retriever: Retriever,
        asked: str,
        query: str,
        qv: np.ndarray,
        pool: Sequence[Hit],
        k: int,
        stored: SentenceStore | None,
    ) -> Grounds:
        """The evidence for query in pool, decided on the k passages shown; asked: _asked."""
        return self.gather(
            query, qv, pool, idf=retriever.lexical.idf, question=asked, stored=stored, decide_on=k
        )


def _placed_units(grounds: Grounds, place: Part, chunks: Sequence[Chunk]) -> list[int]:
    """The candidate units that lie in the part of their document a question names.

    Example: a unit quoting the seed article's last sentence, place Part(last=True) -> [its
             index]
    """
    spans = {s: part_spans(place, s, chunks) for s in {u.chunk.source for u in grounds.sentences}}
    return [
        i
        for i, unit in enumerate(grounds.sentences)
        if any(a < unit.end and unit.start < b for a, b in spans[unit.chunk.source])
    ]


def _asked(typed: str, query: str) -> str:
    """What the person asks: the question as typed, or a follow-up rewritten whole ("And
    Google?" -> "How much has Google invested in Anthropic?"), whose type and names decide,
    not the fragment.

    Example: _asked("Is it exclusive?", "Is it exclusive? (Amazon)") -> "Is it exclusive?";
             _asked("Why? I don't get it.", "Why? (Amazon stake exclusive)") -> "Why?"
    """
    if query.startswith(typed):
        return typed
    # The question as typed less what was cleared from it ("Fine.", a remark of the asker's
    # own): a follow-up's carried terms are still no part of it ("exclusive" carried after
    # "... is not exclusive" is not a claim that it is).
    own, paren, carried = query.rpartition(" (")
    if paren and carried.endswith(")") and own.strip() and own.strip() in typed:
        return own.strip()
    return query


def _plain(text: str) -> str:
    """text in lower case with its words only, for finding a phrase in a sentence."""
    return " ".join(re.findall(r"[\w\-]+", text.lower()))


def unshouted(text: str) -> str:
    """text in lower case when it is typed all in capitals (three words or more): read as
    typed, each of its words would be a name or an acronym.

    Example: unshouted("HOW MUCH DID AMAZON INVEST?") -> "how much did amazon invest?";
             unshouted("Is NASA involved?") -> "Is NASA involved?"
    """
    letters = [c for c in text if c.isalpha()]
    if len(text.split()) >= 3 and letters and all(c.isupper() for c in letters):
        return text.lower()
    return text


def final_answer(items: Iterable[str | Answer]) -> Answer:
    """The Answer that ends a stream, its text pieces left unread (ask() is stream() drained).

    Example: final_answer(answerer.stream(question, retriever=r, sources=s, chunks=c))
    """
    for item in items:
        if isinstance(item, Answer):
            return item
    raise AnswerBackendError("the answer stream ended without an answer: ask again")


def _build(
    name: str, factory: Callable[[Settings], AnswerBackend], settings: Settings
) -> AnswerBackend:
    try:
        return factory(settings)
    except AssistantError:
        raise
    except Exception as exc:
        raise AnswerBackendError(
            f"the {name!r} answer mode could not start ({exc}): check its settings or pick "
            "another mode"
        ) from exc


def _guarded(backend: AnswerBackend, request: AnswerRequest) -> Iterator[str | Composition]:
    """The backend's stream, any failure in it an AnswerBackendError (the original chained)."""
    try:
        yield from backend.stream(request)
    except AssistantError:
        raise
    except Exception as exc:
        raise AnswerBackendError(
            f"the {backend.name!r} answer mode failed ({type(exc).__name__}: {exc}): "
            "try again or pick another mode"
        ) from exc


_WH = re.compile(
    r"^(what|who|whom|whose|when|where|why|which(?: \w+)?|how(?: much| many| long| old| big)?)\s+"
    r"(is|are|was|were|has|have|had|will|can|could|would|should)\s+(.+?)[?.!\s]*$",
    re.IGNORECASE,
)


_CARRIED = re.compile(r"(?<=[?.!])\s*\([^()]*\)$")


def refusal_text(question: str) -> str:
    """One plain sentence saying the documents don't answer the question.

    Example: refusal_text("What was Anthropic's revenue?")
             -> "The documents don't say what Anthropic's revenue was."
             refusal_text("What does that mean for Anthropic? (stake exclusive)")
             -> "The documents don't answer “What does that mean for Anthropic”."
    """
    q = " ".join(question.split()).rstrip()
    # Terms a rewritten follow-up carried ("... for Anthropic? (stake exclusive)") are for
    # the search, not for the person.
    q = _CARRIED.sub("", q) or q
    m = _WH.match(q)
    statement = (
        _statement(m.group(2).lower(), m.group(3), why=m.group(1).lower() == "why") if m else None
    )
    if m and statement:
        return f"The documents don't say {m.group(1).lower()} {statement}."
    return f"The documents don't answer “{q.rstrip('?.! ')}”."


# Past participles that do not end in -ed, common in questions ("When was it built?").
_IRREGULAR_PARTICIPLES = frozenset(
    {
        *("made", "built", "paid", "sold", "bought", "given", "taken", "done", "known", "led"),
        *("held", "won", "written", "chosen", "shown", "seen", "grown", "begun", "spent"),
        *("lent", "sent", "told", "found", "kept", "brought", "put", "been", "become", "gone"),
    }
)


def _participle(word: str) -> bool:
    """Whether word reads as a past participle ("founded", "built"; not "speed", "seed")."""
    w = word.lower()
    return w in _IRREGULAR_PARTICIPLES or (
        len(w) > 4 and w.endswith("ed") and not w.endswith("eed")
    )


# A subject a modal's verb follows at once ("How big would it be?"), and words after which a
# participle is an adjective ("What was the reported revenue?", "What was Anthropic's
# reported revenue?").
_PRONOUNS = frozenset("it they he she we you i this that these those there".split())  # noqa: SIM905
# A personal pronoun is a whole subject, so the auxiliary goes right after it.
_PERSONAL = frozenset("it they he she we you i".split())  # noqa: SIM905
_DETERMINERS = frozenset("the a an its their his her our my your this that these those".split())  # noqa: SIM905
_MODALS = frozenset({"will", "can", "could", "would", "should"})


def _statement(aux: str, rest: str, *, why: bool = False) -> str | None:
    """The question's words put back in statement order, the auxiliary where it belongs; None
    when that place cannot be told without a grammar (the caller then quotes the question).

    Example: _statement("was", "Anthropic's revenue") -> "Anthropic's revenue was"
             _statement("was", "Anthropic founded") -> "Anthropic was founded"
             _statement("is", "leading the round") -> "is leading the round"
             _statement("have", "investors reacted to it") -> "investors have reacted to it"
             _statement("would", "it be") -> "it would be"
             _statement("is", "it not the best method") -> "it is not the best method"
             _statement("has", "it put in so far") -> "it has put in so far"
             _statement("is", "it important") -> "it is important"
             _statement("has", "Amazon never invested") -> "Amazon has never invested"
             _statement("would", "the deal cost") -> None
             _statement("has", "the most shares") -> None
             _statement("is", "Amazon's stake exclusive", why=True) -> None
             _statement("have", "markets rewarded, and which firm is not") -> None
    """
    if "," in rest:
        # "Which strategy have markets rewarded, and which company ...": where the auxiliary
        # goes in each clause is not known (it went into the second one).
        return None
    words = rest.split()
    if words[0].lower().endswith("ing") or _participle(words[0]):
        return f"{aux} {rest}"  # the wh-word is the subject: "who is leading the round"
    if words[0].lower() in _PERSONAL and len(words) > 1:
        return " ".join([words[0], aux, *words[1:]])  # "why is it important" -> "why it is ..."
    denial = next((i for i, w in enumerate(words) if i and w.lower() in ("not", "never")), None)
    if denial is not None:
        # "why is it not the best" -> "why it is not the best"; "why has Amazon never
        # invested" -> "why Amazon has never invested".
        return " ".join([*words[:denial], aux, *words[denial:]])
    if aux in _MODALS:
        # "would it be" -> "it would be"; after a longer subject the verb is not known.
        return " ".join([words[0], aux, *words[1:]]) if words[0].lower() in _PRONOUNS else None
    for i in range(1, len(words)):
        before = words[i - 1].lower()
        adjective = before in _DETERMINERS or before.endswith(("'s", "’s"))
        if _participle(words[i]) and not adjective:
            return " ".join([*words[:i], aux, *words[i:]])  # "when Anthropic was founded"
    if aux in {"has", "have", "had"}:
        # "who has the most shares": the wh-word may be the subject and "has" the verb, or a
        # participle this list lacks follows the subject; either way the place is not known.
        return None
    if why:
        # "Why is Amazon's stake exclusive?": the subject ends somewhere before what is said
        # of it ("why Amazon's stake is exclusive"), which only a grammar can tell; "what"
        # and "how much" ask for the complement, so the auxiliary closes the statement.
        return None
    # A last word in -ing is as often a noun ("the total funding") as a verb: left in place.
    return f"{rest} {aux}"
