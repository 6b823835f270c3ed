"""Turn a follow-up question into a standalone query, deterministically and offline.

Rules (issue 10, measured on the seed set's multi-turn cases):
- Only a question that leans on an earlier turn carries anything: one that points back
  ("that", "it", "they", "this", "those", ...), opens with "and", "what about", "so", ..., or
  has at most one content word and no name of its own. "Why is Amazon investing in
  Anthropic?" stands on its own.
- The question's own words keep the weight: at most a few terms are carried, no numbers, and
  the question's own words are never repeated. A question that names its own subject ("What
  about Google?") carries the earlier question's topic words, not the earlier names, which it
  replaces; otherwise the names of the earlier question and the subject of its answer.
- A refused turn carries nothing: the last answered turn is used instead.
- History is bounded (the last few messages, each cut to a few thousand characters) and terms
  are gathered in one linear pass, so a long conversation costs no more than a short one.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence

from ..retrieval.lexical import STOPWORDS, analyze
from .catalogue import CONVERSATION_OPENINGS
from .negation import FOIL_OPENERS

__all__ = [
    "MAX_HISTORY_CHARS",
    "MAX_HISTORY_MESSAGES",
    "about_another",
    "another_named",
    "answer_pointed",
    "asks_example",
    "asks_for_more",
    "asks_what_follows",
    "asks_where_said",
    "echoed_quotes",
    "is_followup",
    "last_quotes",
    "latest_question",
    "listed_item",
    "meaning_asked",
    "name_words",
    "named_doer",
    "others_than",
    "own_terms",
    "pointed_place",
    "pointed_quote",
    "quotes_asked_about",
    "reads_on",
    "recalled_terms",
    "said_asked_about",
    "says_nothing_of_its_own",
    "split_preamble",
    "standalone_query",
    "why_with_remark",
]

MAX_HISTORY_MESSAGES = 8  # the last four exchanges: a follow-up points at the latest ones
MAX_HISTORY_CHARS = 2000  # of each message: the subject of an answer is near its start

# Words that point back to something said earlier.
_ANAPHORA = frozenset(
    [
        "it",
        "its",
        "it's",
        "it’s",
        "they",
        # Contractions keep their pointer: "how much they've already put in".
        "they've",
        "they’ve",
        "they're",
        "they’re",
        "they'd",
        "they’d",
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
    ]
)
# Openers that continue the conversation. A bare "why" is not one: "Why is Amazon investing
# in Anthropic?" is a question of its own.
_OPENERS = (
    "and ",
    "but ",
    "also ",
    "what about",
    "how about",
    "as for ",
    "why is that",
    "why so",
    "how so",
    "so ",
    "then ",
    # A comparison with no first term ("Compared to which models?") compares with the last
    # answer.
    "compared to ",
    "compared with ",
    "in comparison",
    "as opposed to ",
    "versus ",
    # "Go on, anything beyond the hardware?": more of what the last answer spoke of.
    "go on,",
    "go on:",
    "go on -",
    "carry on,",
    "keep going,",
)
# A sentence of the asker's own after the question ("... in the long run? I'd wager it won't
# be ordinary folk.", "... exclusive? My boss thinks so."), ending the message.
_ASKERS_REMARK = re.compile(
    r"(?<=\?)\s+(?:i|i['’](?:d|m|ve)|my|we|we['’](?:d|re|ve)|our)\s[^?]*$", re.IGNORECASE
)
# Words a chat message may open with before the question itself ("ok and Google?").
_FILLER = re.compile(
    r"^\s*(?:(?:ok|okay|alright|right|well|hmm+|cool|thanks|great|so|hey|hi|yo|um+|uh+|er+m?|"
    r"btw|also|quick\s+question|just\s+wondering|i\s+wonder|basically|anyway|anyways|"
    r"honestly|you\s+know|i\s+mean(?=\s*,)|"
    # An acknowledgement of the last answer before the next question ("Fine. Is the new money
    # a done deal?", "Thank you. I should like to know ..."): it asks nothing.
    r"(?:fine|thank\s+you|got\s+it|i\s+see|understood|noted|cheers|gotcha|makes\s+sense|"
    r"never\s+mind|no\s+worries)"
    r"(?=\s*[.,!])|"
    # "like, how much ...", "like is Amazon ...", not "Like what?" nor "Like Amazon, does ...".
    r"like(?=\s*,|\s+(?:is|are|was|were|do|does|did|has|have|can|could|will|would|should|how|"
    r"why|when|where)\b))\b[\s,.!:-]*)+",
    re.I,
)
# "n what does amazon give them back", "& google?": "and" as typed in a chat.
_CHAT_AND = re.compile(
    r"^(\W*)(?:&|\+|(?-i:n|nd)(?=\s+(?:what|how|why|who|whom|where|when|which|is|are|was|were|"
    r"do|does|did|can|could|will|would|has|have)\b))\s+(?=\w)",
    re.IGNORECASE,
)


def _chat_and(question: str) -> str:
    """question with a chat spelling of an opening "and" written out.

    Example: _chat_and("n what does amazon give back?") -> "and what does amazon give back?"
    """
    return _CHAT_AND.sub(lambda m: f"{m.group(1)}and ", question, count=1)


# ... and at its end: "is the stake exclusive or no?", "are its models any good tho lol".
_TRAILING = re.compile(
    r"(?:[\s,]+(?:or\s+(?:not|no|nah|what)|tho|though|lol|lmao|haha|pls|plz|please|thanks|"
    r"thx|yeah|you\s+know|i\s+guess|or\s+something|basically)\b)+(?=\W*$)",
    re.I,
)
# ... and a request for the answer's form after the question: "Guaranteed? Yes or no.",
# "Amazon's tab so far? One line." It asks nothing about the documents.
_FORM_REQUEST = re.compile(
    r"(?<=\?)\s*(?:(?:just|please|pls)\s+)?(?:yes\s*(?:or|/)\s*no|one\s+(?:line|word|sentence)|"
    r"in\s+(?:one|a|a\s+few)\s+(?:lines?|words?|sentences?)|briefly|short\s+answer|"
    r"keep\s+it\s+short|tl;?dr)(?:\s*,?\s*(?:please|pls|thanks))?[\s.!?]*$",
    re.I,
)
# The document, or whoever wrote it, as a question names it.
_THE_DOCUMENT = r"(?:the|this)\s+(?:article|piece|text|document|story|report|author|writer)"
# ... and where the answer is to be read, said beside the question: "What are its upsides,
# according to the piece?", "According to the article, who owns Anthropic?". Every answer is
# read there; the words only blur what the question is about.
_WHERE_READ = re.compile(
    rf"^\W*(?:according\s+to|per)\s+{_THE_DOCUMENT}\s*,\s*|"
    rf",?\s+(?:according\s+to|per|as\s+per)\s+{_THE_DOCUMENT}(?=\W*$)",
    re.IGNORECASE,
)
# ... and who says it, put inside the question: "Who does the author think ends up with the
# value?" asks who ends up with it, "What end goal does the article say they race toward?"
# what end goal they race toward ("What does the article say about Google?" is left whole:
# what follows the verb is no clause of its own).
_SAID_BY = re.compile(
    r"^(?P<asks>\W*(?:who|whom|what|which|when|where|why|how)(?:\s+[\w’'-]+){0,4}?)\s+"
    rf"(?:do|does|did)\s+{_THE_DOCUMENT}\s+"
    r"(?:say|think|believe|suggest|claim|expect|reckon|argue)\s+"
    r"(?!(?:about|of|on|regarding|concerning|in|for|to|that|so|it|this)\b)(?=\w)",
    re.IGNORECASE,
)
_WORD = re.compile(r"[\w$%.,'’-]+")
_CITATION = re.compile(r"\s*\[\d+\]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# A turn that answered nothing from the documents: a refusal, or the reply to "hi", "thanks"
# or "what can you do?" (answer/catalogue.py), whose words are no topic to carry.
_REFUSAL = re.compile(
    r"^\s*(?:The documents don['’]t (?:say|answer)|"
    + "|".join(re.escape(opening) for opening in CONVERSATION_OPENINGS)
    + ")"
)
# Words that carry no topic of their own: the lexical stop words plus conversational ones.
_QUESTION_WORDS = STOPWORDS | {
    "but",
    "know",
    "please",
    "said",
    "say",
    "says",
    "tell",
    "not",
    "no",
    "yes",
    "doesn't",
    "don't",
    "isn't",
    "aren't",
    "what's",
    "who's",
}
# Words that narrow an elliptical question without saying what it is about: "How much so
# far?", "What else?", "Why exactly?" have no content of their own.
_ELLIPTICAL_WORDS = (
    "far else exactly again instead really actually now yet still total overall one ones "
    "particular specifically precisely"
)
_ELLIPTICAL = frozenset(_ELLIPTICAL_WORDS.split())
# Narrowing words: a question with one word of content and one of these ("Which model in
# particular?", "Which ones specifically?") picks out something the last answer spoke of.
_NARROWING = frozenset(["particular", "specifically", "precisely", "exactly"])
# A question that asks whether another name did the same ("Did Microsoft do something
# similar with OpenAI?", "Does Google do the same?") compares with what the last answer said.
_LIKEWISE = re.compile(
    r"\b(?:some|any)thing\s+(?:similar|like\s+(?:that|this|it)|comparable)\b|\bthe same\b|"
    r"\blikewise\b|\bsimilarly\b|\bas well\s*\?|\btoo\s*\?",
    re.IGNORECASE,
)
# Nouns that name a relation to something said rather than a topic: "What is the reason?",
# "What are the risks?", "Give an example." lean on the last answer as "Why?" does (a question
# with a topic of its own, "What are the risks of building AI in-house?", does not).
_RELATIONAL_WORDS = (
    "reason reasons cause causes purpose result results effect effects impact consequence "
    "consequences benefit benefits advantage advantages upside upsides downside downsides "
    "disadvantage disadvantages risk risks example examples difference alternative "
    "alternatives problem problems point evidence source details detail catch"
)
_RELATIONAL = frozenset(_RELATIONAL_WORDS.split())
# Requests that ask for something without saying what it is about ("Give an example of one.").
_REQUEST_VERBS = frozenset(
    "give name list show explain describe elaborate summarize summarise".split()  # noqa: SIM905
)
# "Who else ...?", "What else ...?": besides what the last answer named.
_ELSE = re.compile(
    r"\b(?:who|whom|what|where|which|how|anyone|anybody|anything|someone|somebody|something)"
    r"\s+else\b"
)
# "Who else?", "Anyone else?": someone other than whom the last answer named.
_OTHER_DOERS = re.compile(r"\b(?:who|whom|anyone|anybody|someone|somebody)\s+else\b", re.IGNORECASE)


def others_than(question: str, history: Sequence[Mapping[str, str]]) -> str | None:
    """The name a "Who else ...?" asks besides: the last answer's subject (None when the
    question asks no such thing or nothing was answered).

    Example: others_than("Who else has invested?", [{"role": "user", "content": "Who
             invested?"}, {"role": "assistant", "content": "Amazon invested in Anthropic. [1]"}])
             -> "Amazon"
    """
    if _OTHER_DOERS.search(question) is None:
        return None
    turn = _last_answered_turn(history)
    subject = _answer_subject(turn[1], limit=1) if turn else []
    return subject[0] if subject else None


# Verbs too general to be a topic: "What is Meta doing with AI?" is about Meta, and "Why?"
# after it asks about what the answer said Meta does.
_GENERIC_VERBS = frozenset(
    "doing happening going mean means meant think thinks say happen happened talking".split()  # noqa: SIM905
)
# Words that name no topic a follow-up leans on: "how much then?" names nothing of its own.
_VAGUE = _GENERIC_VERBS | _ELLIPTICAL | _RELATIONAL | _REQUEST_VERBS
# Capitalised only because they open a sentence: never names.
_DISCOURSE = frozenset(
    [
        "however",
        "overall",
        "unlike",
        "meanwhile",
        "moreover",
        "although",
        "while",
        "also",
        "currently",
        "according",
        "instead",
        "therefore",
        "thus",
        "still",
        "yet",
        "because",
        "since",
        "though",
        "furthermore",
        "finally",
        "first",
        "second",
        "third",
        "today",
        "recently",
        "now",
        "here",
        # openers of a question, not names: "Compared to which models?"
        "compared",
        "regarding",
        "given",
        "besides",
        "apart",
        "considering",
        "versus",
    ]
)


# Prepositions the stop words lack: one opening a sentence ("Between those two, which ...?")
# is no name.
_PREPOSITION_WORDS = (
    "above across after against along amid among around before behind below beneath beside "
    "besides between beyond despite during except inside near onto outside over past per "
    "regarding since through throughout toward towards under underneath unlike until upon "
    "via within without"
)
_PREPOSITIONS = frozenset(_PREPOSITION_WORDS.split())


def _is_name(word: str, sentence_start: bool) -> bool:
    """A capitalised word, acronym or mixed token; at a sentence start only if it is not a
    stop word, a discourse word or an -ly adverb."""
    if not word[:1].isupper() and sum(ch.isupper() for ch in word) < 2:
        return False
    low = word.lower()
    if low in _QUESTION_WORDS or low in _ANAPHORA:
        return False
    # "Give an example.", "Explain why.": a request opening a sentence is no name.
    vague_opener = (
        low in _DISCOURSE or low in _REQUEST_VERBS or low in _PREPOSITIONS or low.endswith("ly")
    )
    return not (sentence_start and vague_opener)


def _words(text: str) -> list[tuple[str, bool]]:
    """(word, opens a sentence) for each word of text, citation markers removed."""
    out: list[tuple[str, bool]] = []
    for sentence in _SENTENCE_END.split(_CITATION.sub("", text)):
        for i, raw in enumerate(_WORD.findall(sentence)):
            word = raw.strip(".,'’-")
            if word.endswith(("'s", "’s")):
                word = word[:-2]
            if word:
                out.append((word, i == 0))
    return out


def name_words(text: str) -> list[str]:
    """Names in text, in order, without repeats; numbers are not names here.

    Example: name_words("Amazon and Google back Anthropic.") -> ["Amazon", "Google", "Anthropic"]
    """
    seen: dict[str, None] = {}
    for word, start in _words(text):
        if _is_name(word, start) and not any(ch.isdigit() for ch in word):
            seen.setdefault(word, None)
    return list(seen)


def _content_words(text: str) -> list[str]:
    """Lower-case words that are not names, numbers, stop words or pointers, in order."""
    seen: dict[str, None] = {}
    for word, start in _words(text):
        low = word.lower()
        if (
            low in _QUESTION_WORDS
            or low in _ANAPHORA
            or any(ch.isdigit() for ch in word)
            or _is_name(word, start)
            or len(low) < 3
        ):
            continue
        seen.setdefault(low, None)
    return list(seen)


def own_terms(text: str) -> set[str]:
    """What a question says in its own words: its names, numbers and content words, each
    cut to five lower-case letters so that "invested" and "investing" are one term.

    Example: own_terms("How much has it put in so far?") -> {"put", "far"};
             own_terms("And for MERS in 2015?") -> {"mers", "2015"}
    """
    terms = {w.lower()[:5] for w, _ in _words(text) if any(ch.isdigit() for ch in w)}
    terms |= {n.lower()[:5] for n in name_words(text)}
    return terms | {w[:5] for w in _content_words(text)}


def _subjects(text: str) -> list[str]:
    """The names in text that can be a subject; two-letter acronyms ("AI", "US") are too
    generic to say what a question is about."""
    return [n for n in name_words(text) if len(n) > 2]


# Roles written as acronyms: capitalised, but no name of a subject.
_ROLE_TITLES = frozenset("ceo cfo cto coo cio cmo vp svp evp md chair".split())  # noqa: SIM905
# Words after which "it" points at nothing ("Is it true that ...", "What is it that ...").
_EXPLETIVE_WORDS = (
    "true possible likely known clear the that worth said reported hard easy difficult "
    "important necessary impossible unlikely unclear take takes took"
)
_EXPLETIVE = frozenset(_EXPLETIVE_WORDS.split())
# What "this"/"these" may point at besides the conversation: the document itself ("What is
# the conclusion of this report?").
_DOCUMENT_WORDS = (
    "report reports study studies paper article publication review document text passage "
    "analysis work manuscript letter chapter section survey trial"
)
_DOCUMENT = frozenset(_DOCUMENT_WORDS.split())
# Words after which "that" is a pointer ("Is that stake exclusive?", "What about that?");
# after any other word it opens a relative clause ("the circumstances that promote ...").
_BEFORE_POINTER_WORDS = (
    "is was are were be been do does did about of on in with for from to at by like than "
    "and but or what why how when where which who whom said say says mean means "
    "make makes made cause causes caused explain explains affect affects change changes "
    "after before despite beyond besides into onto over under "
    "has have had will would can could should may might must shall"
)
_BEFORE_POINTER = frozenset(_BEFORE_POINTER_WORDS.split())
# "Is there ...?", "How many were there?": "there" after a form of "be" says that something
# exists, it does not point anywhere.
_BE = frozenset(["is", "are", "was", "were", "be", "been"])


def _pointers(words: Sequence[str]) -> list[bool]:
    """For each word, whether it points back to the conversation: "it", "that", "they", ...
    but not an "it" that points at nothing ("How long did it take ...?"), a relative "that"
    ("the virus that causes ..."), nor "this"/"these" before a word naming the document
    ("this report").

    Example: _pointers(["is", "that", "stake", "exclusive"]) -> [False, True, False, False];
             _pointers(["the", "virus", "that", "causes", "it"]) -> [False, False, False,
             False, True]
    """
    out = []
    for i, word in enumerate(words):
        before = words[i - 1] if i else ""
        # "it statistically impossible to": the adverb aside, what follows "it" decides.
        rest = [w for w in words[i + 1 : i + 3] if not w.endswith("ly")] or [""]
        after = words[i + 1] if i + 1 < len(words) else ""
        out.append(
            word in _ANAPHORA
            and not (word == "it" and rest[0] in _EXPLETIVE)
            # ... but "that" before the last word ("going that route?") has no clause after it,
            # nor has a "that" that ends the question ("Would a bigger cheque fix that?").
            and not (
                word == "that" and before and before not in _BEFORE_POINTER and i + 2 < len(words)
            )
            and not (word in ("this", "these") and after in _DOCUMENT)
            and not (word == "there" and (before in _BE or after in _BE))
        )
    return out


# A statement with a tag asking to confirm it ("The money isn't committed yet, correct?",
# "So Amazon doesn't own all of it, then?", "..., is that right?") checks what was just said.
# Any case: standalone_query reads the question as typed ("... Is that right?").
_CHECK_TAG = re.compile(
    r"[,;]\s*(?:correct|right|yes|no|then|true|isn['’]t\s+it|aren['’]t\s+they|"
    r"(?:is\s+that|am\s+i)\s+(?:right|correct))\s*\?\s*$|"
    r"\b(?:is\s+that|am\s+i)\s+(?:right|correct)\s*\?\s*$",
    re.I,
)
# A question that opens with a preposition before its question word ("In what kind of tests?",
# "By how much?", "Since when?") continues the last answer's sentence, unless it names its own
# subject ("In what year was Anthropic founded?", decided before this is read).
_PREPOSED = re.compile(
    r"(?:in|for|by|since|from|with|to|at|on|under|after|before|until|over|against)\s+"
    r"(?:what|which|how|whom|who|when|where)\b"
)


# A statement about "the" thing put as a question ("So the deal has been signed already?",
# "The money is committed?"): it checks what was just said of a thing named before.
_DEFINITE_STATEMENT = re.compile(
    r"^\W*the\s+[a-z'’-]+(?:\s+[a-z'’-]+){0,3}?\s+(?:is|are|was|were|has|have|had|will|"
    r"can|could|would|did|does|do)\b[^?]*\?\W*$"
)


def is_followup(question: str) -> bool:
    """Does the question lean on an earlier turn? It does when it opens by continuing ("And
    ...", "What about ...", "Compared to ..."), when a pointer comes before any name of its
    own ("What does it build with Meta?"), or, naming no subject of its own, when it points
    back or has no content ("How much so far?").

    Example: is_followup("Is that stake exclusive?") -> True;
             is_followup("How much so far?") -> True;
             is_followup("Who else has a stake?") -> True;
             is_followup("What is the reason?") -> True;
             is_followup("What does it build with Meta?") -> True;
             is_followup("In what kind of tests?") -> True;
             is_followup("Which model in particular?") -> True;
             is_followup("Did Microsoft do something similar with OpenAI?") -> True;
             is_followup("Has that relationship been smooth?") -> True;
             is_followup("No, I meant Google.") -> True;
             is_followup("Is that more than Google's?") -> True;
             is_followup("What else is Amazon hoping for?") -> True;
             is_followup("So the money isn't committed yet, correct?") -> True;
             is_followup("Why is Amazon investing in Anthropic?") -> False;
             is_followup("Which Amazon product is getting Anthropic's AI built into it?") -> False
    """
    question = _chat_and(_FILLER.sub("", question))
    q = question.strip().lower()
    if not q:
        return False  # "Great!", "Thanks.": nothing is asked
    if (
        q.startswith(_OPENERS)
        or _LIKEWISE.search(q)
        or _MEANT.match(question)
        or _MEANT_NOT.match(question)
    ):
        return True
    if asks_what_follows(question) or asks_where_said(question):
        return True  # "Tell me more.", "What do you mean?"
    if _CHECK_TAG.search(q):
        return True  # "So the extra money hasn't been committed yet, correct?"
    # "What else is Amazon hoping for?": besides what the last answer said, whatever names
    # the question brings.
    if _ELSE.search(q):
        return True
    # Possessives as their names: "Google's" in "Is that more than Google's?" is Google.
    words = [re.sub(r"['’]s$", "", w) for w in re.findall(r"[a-z'’]+", q)]
    subjects = _subjects(question.strip())
    if subjects:
        # A pointer after a name may point at that name ("Which Amazon product is getting
        # Anthropic's AI built into it?"); one before every name can only point back.
        first = subjects[0].lower()
        before = words[: words.index(first)] if first in words else []
        if any(a == "it" and b in _EXPLETIVE for a, b in itertools.pairwise(before)):
            return False  # "Is it true that Amazon ...": an "it" that points at nothing
        return any(p and w != "there" for w, p in zip(before, _pointers(before), strict=True))
    if any(_pointers(words)) or _PREPOSED.match(q) or _DEFINITE_STATEMENT.match(q):
        return True
    vague = _QUESTION_WORDS | _ELLIPTICAL | _RELATIONAL | _REQUEST_VERBS
    content = [w for w in words if w not in vague]
    # One word of content and nothing else ("Which models?", "What amount?") narrows what
    # was said, as a narrowing word does ("Which model in particular?").
    short = len(content) == 1 and len(words) <= 3
    return not content or (len(content) == 1 and (short or not _NARROWING.isdisjoint(words)))


TOPIC_TERMS = 2  # words of the earlier question carried after its names


def _longest(words: list[str], n: int = TOPIC_TERMS) -> list[str]:
    """The n longest words (the rarest, as a rule), in their own order.

    Example: _longest(["firms", "build", "in-house"]) -> ["firms", "in-house"]
    """
    keep = sorted(words, key=len, reverse=True)[:n]
    return [w for w in words if w in keep]


_ENTITY_QUESTION = re.compile(
    r"^\s*(?:who|whom|whose)\b|^\s*(?:what|which)\s+(?:\w+\s+){0,2}(?:company|companies|firm|firms|"
    r"organi[sz]ations?|country|countries|person|people|product|platform|model|models|"
    r"startup|startups|giant|giants|competitor|competitors|partner|partners)\b",
    re.IGNORECASE,
)


def _asks_for_entity(question: str) -> bool:
    """Does the question ask which person or organisation? Then the answer's names are what
    a pointer in the next question points at.

    Example: _asks_for_entity("Which company owns part of Anthropic?") -> True;
             _asks_for_entity("What is the size of bovine coronavirus?") -> False
    """
    return _ENTITY_QUESTION.search(question) is not None


_STATEMENT_POINTER = re.compile(
    r"\b(?:does|do|did|would|will|can|could|should|might|may|is|was)\s+(?:that|this)\b"
    r"(?!\s+(?:\w+(?:ment|tion|ship|ness|ity|ance|ence|ing|al|er|or|ake|eal|plan|move|"
    r"approach|deal|stake|company|firm|product|model|bet|risk|way)s?)\b)|"
    r"\b(?:that|this)\s*(?:[?.!,]|$)|"
    # "What are the downsides of that for them?"
    r"\b(?:of|about|with|from|for|behind|by)\s+(?:that|this)\s+(?:for|to|on|with|in)\b",
    re.IGNORECASE,
)


def _points_at_a_statement(question: str) -> bool:
    """Does "that" or "this" stand alone for what was said ("Is that expensive?", "Why does
    that add risk?"), rather than point at a thing ("Is that stake exclusive?")?

    Example: _points_at_a_statement("Is that expensive?") -> True;
             _points_at_a_statement("Is that stake exclusive?") -> False
    """
    return _STATEMENT_POINTER.search(question) is not None


def _points_back(question: str) -> bool:
    """Does the question hold a word pointing back to an earlier turn ("it", "that", ...)?"""
    return any(w in _ANAPHORA for w in re.findall(r"[a-z'’]+", question.lower()))


_CLAUSE = re.compile(r",|;|:|\s[-–—]\s|\s(?:but|while|unlike|whereas|although)\s")
# A clause that names what the subject is compared with, not the subject: it opens with
# negation.py's foil words, or with "like" or "besides" ("Like Google, Amazon ...").
_FOIL = re.compile(rf"^\s*(?:{FOIL_OPENERS}|like|besides)\b", re.IGNORECASE)


def _answer_subject(answer: str, limit: int = 2) -> list[str]:
    """The names of the answer's first clause that has any: what the answer is about. Later
    names drift ("..., but unlike Microsoft's deal with OpenAI"), and an opening comparison
    names the foil ("Unlike Microsoft's deal with OpenAI, Amazon's stake ...").

    Example: _answer_subject("Currently, Amazon has invested in Anthropic, unlike Microsoft.")
             -> ["Amazon", "Anthropic"];
             _answer_subject("Unlike Microsoft's deal, Amazon's stake is non-exclusive.")
             -> ["Amazon"]
    """
    first = _first_sentence(answer)
    for clause in _CLAUSE.split(first):
        if _FOIL.match(clause):
            continue
        names = [n for n in name_words(clause) if len(n) > 2]
        if names:
            return names[:limit]
    return []


def _first_sentence(answer: str) -> str:
    """An answer's first sentence, its citation markers removed: what it is about.

    Example: _first_sentence("Meta builds models. [1] It is costly. [2]") -> "Meta builds models."
    """
    return _SENTENCE_END.split(_CITATION.sub("", answer).strip(), 1)[0]


def _last_answered_turn(
    history: Sequence[Mapping[str, str]],
) -> tuple[str, str, Sequence[Mapping[str, str]]] | None:
    """(user question, answer, the history before that question) of the latest exchange that
    was not refused."""
    recent = history[-MAX_HISTORY_MESSAGES:]
    answer: str | None = None
    for i in range(len(recent) - 1, -1, -1):
        m = recent[i]
        role, content = m.get("role"), str(m.get("content") or "")[:MAX_HISTORY_CHARS]
        if role == "assistant":
            refused = bool(m.get("refused")) or bool(_REFUSAL.match(content))
            answer = None if refused else content
        elif role == "user" and answer is not None:
            return content, answer, recent[:i]
    return None


# The one who does something, said by a pronoun: "how much did they put in", "has it
# invested", "she said". "it" only after a verb of doing ("Is it exclusive?" is the stake).
_DOER = re.compile(
    r"\b(?:they|he|she)\b(?!['’])|"
    r"\b(?:did|does|do|has|have|had|will|would|can|could)\s+(?P<it>it)\b",
    re.IGNORECASE,
)


# A yes-or-no question asked of a name: "Did Microsoft get ...?", "Is Google involved ...?"
_YES_NO_OF = re.compile(
    r"^\W*(?i:(?:(?:and|so|but|ok|okay)\W+)?(?:did|does|do|is|are|was|were|has|have|had|can|"
    r"will)\s+(?:the\s+)?)[A-Z]",
)


def named_doer(question: str, history: Sequence[Mapping[str, str]]) -> str:
    """The question with its doer's pronoun replaced by the name the last answer gave, when
    the last question asked which one ("Which company owns part of Anthropic?" - "Google
    ..."): what is asked is asked of that name, so an amount told of another is no answer.

    Example: named_doer("How much did they put in?", [
                 {"role": "user", "content": "Which company owns part of Anthropic?"},
                 {"role": "assistant", "content": "Anthropic is partly owned by Google. [1]"}])
             -> "How much did Google put in?"
    """
    turn = _last_answered_turn(history)
    if turn is None or _subjects(question):
        return question
    if _YES_NO_OF.match(turn[0]) and _subjects(turn[0]):
        # "Did Microsoft get an exclusive deal?" then "How much did they pay for it?": the
        # name the yes-or-no question was asked of does it.
        brought = _subjects(turn[0])[:1]
    elif _asks_for_entity(turn[0]):
        asked = {n.lower() for n in _subjects(turn[0])}
        brought = [n for n in _answer_subject(turn[1]) if n.lower() not in asked]
    else:
        return question
    doer = _DOER.search(question)
    if not brought or doer is None:
        return question
    start, end = doer.span("it") if doer.group("it") else doer.span()
    return f"{question[:start]}{brought[0]}{question[end:]}"


# A bare request for the reason of what was just said: "Why?", "And why?", "How so?", "Why
# is that?".
_WHY_AGAIN = re.compile(
    r"^\W*(?:(?:and|but|so|ok|okay)\W+)?(?:why|how come|how so)"
    r"(?:\s+(?:is|was)\s+(?:that|this|it)|\s+not|\s+so)?\W*$",
    re.IGNORECASE,
)
# A bare request for more of what was just said: "Tell me more.", "Can you elaborate?",
# "Explain that.", "Go on.", "What do you mean?", "Give me an example.", "Any details?"
_MORE = re.compile(
    r"^\W*(?:(?:and|ok|okay|so|please)\W+)?(?:(?:can|could|would)\s+you\s+|please\s+)?"
    r"(?:tell\s+me\s+more|say\s+more|more\s+please|elaborate|expand(?:\s+on\s+(?:that|this|it))?|"
    r"go\s+on|continue|explain(?:\s+(?:that|this|it|more))?|what\s+do\s+you\s+mean|"
    r"how\s+do\s+you\s+mean|give\s+(?:me\s+)?an?\s+example|for\s+example|like\s+what|"
    r"(?:any\s+)?(?:more\s+)?details?)(?:\s+please)?\W*$",
    re.IGNORECASE,
)


# "Expand on the second point", "tell me more about [2]", "what does the last one mean?": a
# request for more of one quote of the last answer, named by its place or its number.
_POINTED = re.compile(
    r"(?:\b(?:the|your|that)\s+)?(?:\b(?P<ord>first|second|third|fourth|fifth|last|1st|2nd|"
    r"3rd|4th|5th)\s+(?:point|one|sentence|part|bit|item|thing|quote|statement|fact|reason)s?"
    r"|\b(?:point|number|item|quote|sentence|no\.?)\s*(?P<num>[1-9])\b|\[(?P<cite>[1-9])\]|#(?P<hash>[1-9]))",
    re.IGNORECASE,
)
# What may stand around it: a request for more ("expand on", "tell me more about", "why"),
# or nothing ("The second point?").
_POINTED_REQUEST = re.compile(
    r"^\W*(?:(?:and|ok|okay|so|now|please|pls)\W+)*(?:(?:can|could|would)\s+you\s+|please\s+)?"
    r"(?:(?:tell\s+me|say|talk)\s+(?:a\s+bit\s+|some\s+)?more\s+(?:about|on)|tell\s+me\s+about|"
    r"more\s+(?:on|about)|expand\s+on|elaborate\s+on|explain|go\s+into|unpack|"
    r"what\s+(?:do\s+you\s+mean\s+by|about|does|is\s+meant\s+by)|why|how\s+so|details\s+(?:on|of))?"
    r"\W*(?:mean|means|say|please|pls|more|a\s+bit)?\W*$",
    re.IGNORECASE,
)
_ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3}
_ORDINALS |= {"fourth": 4, "4th": 4, "fifth": 5, "5th": 5, "last": -1}


def pointed_place(question: str) -> int | None:
    """The place (1 for the first, -1 for the last) of the quote a request for more points
    at, or None when the question is no such request.

    Example: pointed_place("Expand on the second point.") -> 2;
             pointed_place("tell me more about [3]") -> 3;
             pointed_place("What does the last one mean?") -> -1;
             pointed_place("Who is the second largest investor?") -> None
    """
    m = _POINTED.search(question)
    if m is None or len(question) > 120:
        return None
    if _POINTED_REQUEST.match(question[: m.start()] + " " + question[m.end() :]) is None:
        return None
    if m.group("ord"):
        return _ORDINALS[m.group("ord").lower()]
    return int(m.group("num") or m.group("cite") or m.group("hash"))


def pointed_quote(question: str, history: Sequence[Mapping[str, str]]) -> str | None:
    """The quote of the last answer that the question asks more of by its place ("the second
    point") or its number ("[2]"), whitespace collapsed; None when it points at none.

    Example: pointed_quote("expand on the second point", [{"role": "assistant", "content":
             "Amazon holds less leverage. [1] Google owns part of it. [2]"}])
             -> "Google owns part of it."
    """
    place = pointed_place(question)
    quotes = _answer_quotes(history)
    if place is None or not quotes or place > len(quotes):
        return None
    return quotes[place - 1] if place > 0 else quotes[-1]


def quotes_asked_about(question: str, history: Sequence[Mapping[str, str]]) -> set[str]:
    """The last answer's quotes a request for more reads on from: the one it points at
    ("expand on the second point"), or all of them ("Tell me more.").

    Example: quotes_asked_about("Why?", [{"role": "assistant", "content": "A. [1] B. [2]"}])
             -> {"A.", "B."}
    """
    pointed = pointed_quote(question, history)
    return {pointed} if pointed else last_quotes(history)


# "Where does it say that?", "Source?", "Are you sure?": the last answer's own text asked
# for again, with where it stands.
_WHERE_SAID = re.compile(
    r"^\W*(?:(?:and|ok|okay|so|but|hmm+)\W+)*(?:(?:where|which\s+(?:document|file|part|"
    r"passage|page|line))\s+(?:does\s+it|did\s+it|do\s+they|is\s+(?:that|this|it))\s+"
    r"(?:say|said|says|written|stated|come\s+from|from)(?:\s+(?:that|this|so))?|"
    r"(?:where|which\s+(?:document|file|part|passage|page|line))\s+(?:says|said|states|"
    r"mentions)\s+(?:that|this|so|it)|"
    r"(?:what(?:['’]s|\s+is)\s+(?:the|your)\s+)?(?:sources?|citations?|references?)|"
    r"(?:can\s+you\s+|please\s+)?(?:cite|quote)\s+(?:that|this|it|the\s+source)|"
    r"(?:are\s+you|r\s+u)\s+sure|really|says\s+who|how\s+do\s+you\s+know(?:\s+that)?)"
    r"\W*$",
    re.IGNORECASE,
)


def asks_where_said(question: str) -> bool:
    """Does the question ask where the last answer's text stands, or whether it is so?

    Example: asks_where_said("Where does it say that?") -> True;
             asks_where_said("source?") -> True;
             asks_where_said("Where does Amazon build chips?") -> False
    """
    return _WHERE_SAID.match(question) is not None


def asks_what_follows(question: str) -> bool:
    """Does the question ask only for what follows the last answer: its reason ("Why?") or
    more of it (asks_for_more)?

    Example: asks_what_follows("And why?") -> True; asks_what_follows("Tell me more.") -> True;
             asks_what_follows("Why is Amazon investing?") -> False
    """
    return (
        _WHY_AGAIN.match(question) is not None
        or asks_for_more(question)
        or why_with_remark(question)
    )


_REMARK_WORDS = 12  # a remark after "How come?" is short; a longer one says something new


def why_with_remark(question: str) -> bool:
    """Is the question a bare "Why?" ("How come?", "How so?") followed by a remark of the
    asker's rather than by a question of its own? The remark says why it puzzles them; the
    reason asked for is still that of what was just said.

    Example: why_with_remark("how come? it's their money") -> True;
             why_with_remark("How come? Eight billion dollars and they still don't call the
             shots?") -> True;
             why_with_remark("How so? Why less leverage?") -> False;
             why_with_remark("Really? I thought they bought it.") -> False;
             why_with_remark("Why is Amazon investing?") -> False
    """
    m = _BARE_WHY_FIRST.match(question)
    if m is None or "really" in m.group().lower():  # "Really? ..." doubts; it asks no reason
        return False
    rest = question[m.end() :]
    return _ASKING.match(rest) is None and len(rest.split()) <= _REMARK_WORDS


def asks_for_more(question: str) -> bool:
    """Is the question a bare request for more of what was just said?

    Example: asks_for_more("Can you elaborate?") -> True;
             asks_for_more("Expand on the second point.") -> True;
             asks_for_more("Tell me more about Google's chips.") -> False
    """
    return _MORE.match(question) is not None or pointed_place(question) is not None


# "Why less leverage, though?", "Say more about the risk.": the reason for, or more of,
# something the last answer said, named in its own words.
_OF_SAID = re.compile(
    r"^\W*(?:(?:and|ok|okay|so|but|please)\W+)?(?:(?:can|could|would)\s+you\s+|please\s+)?"
    r"(?:why|how\s+come|(?:tell\s+me|say|talk)\s+(?:a\s+bit\s+|some\s+)?more\s+(?:about|on)|"
    r"more\s+(?:on|about)|expand\s+on|elaborate\s+on|explain)\s+(?P<what>[^?.!]+)\W*$",
    re.IGNORECASE,
)
# "Sorry, what do you mean by leverage here?", "what does leverage mean here?": what a word
# of the last answer means there is what its passage goes on to say.
_MEANING_OF_SAID = re.compile(
    r"^\W*(?:(?:and|ok|okay|so|but|sorry|wait)\W+)*(?:what\s+do\s+you\s+mean\s+by|"
    r"what\s+is\s+meant\s+by|what\s+(?:does|do)(?=\s+\S+(?:\s+\S+){0,2}\s+means?\b))\s+"
    r"(?P<what>[^?.!]+?)(?:\s+means?)?(?:\s+(?:here|there|exactly|in\s+this\s+context))?"
    r"\s*\?",
    re.IGNORECASE,
)
# "non-exclusive meaning what, in practice?": the word first, then what it means.
_MEANING_WHAT = re.compile(
    r"^\W*(?:(?:and|ok|okay|so|but|sorry|wait)\W+)*(?P<what>[^?.!,]+?),?\s+"
    r"(?:meaning|means|as\s+in)\s+what\b[^?.!]*\?",
    re.IGNORECASE,
)
_OF_SAID_TERMS = 3  # words it may name: more, and it asks a question of its own
_MODAL_EMPHASIS = re.compile(r"\b(?:at\s+all|needs?\s+to|have\s+to|has\s+to)\b", re.IGNORECASE)
_BARE_WHY_FIRST = re.compile(
    r"^\W*(?:(?:and|but|so|ok|okay)\W+)?(?:why|how\s+come|how\s+so|really)\s*\?\s+(?=\w)",
    re.IGNORECASE,
)


def said_asked_about(question: str, history: Sequence[Mapping[str, str]]) -> set[str]:
    """The last answer's quotes that a request for their reason or for more of them names in
    their words (at most three words, half of them or more, and every name, in the quotes);
    empty when the question is no such request.

    Example: said_asked_about("why less leverage though?", [{"role": "assistant", "content":
             "Amazon holds less leverage. [1] Google owns part. [2]"}])
             -> {"Amazon holds less leverage."};
             said_asked_about("Why is Meta building chips?", the same history) -> set();
             said_asked_about("How so? Why less leverage?", the same history)
             -> {"Amazon holds less leverage."}
    """
    # "How so? Why does it need to hedge at all?": the bare request before it asks the same.
    question = _BARE_WHY_FIRST.sub("", question, count=1)
    m = _OF_SAID.match(question) or _meaning(question)
    quotes = last_quotes(history)
    if m is None or not quotes or len(question) > 120:
        return set()
    # "need to hedge at all": a modal and an emphasis, not what the quote says.
    what = _MODAL_EMPHASIS.sub(" ", m.group("what"))
    # "the risk" names what the quote says ("adding an element of risk"): a relation's noun
    # counts here, as it does not when it is all a question says ("What is the risk?").
    vague = _GENERIC_VERBS | _ELLIPTICAL | _REQUEST_VERBS | _DISCOURSE
    words = [w for w in _content_words(what) if w not in vague]
    terms = {t for w in words for t in analyze(w)}
    names = {n.lower() for n in name_words(what)}
    quote_terms = {q: set(analyze(q)) for q in quotes}
    told = set().union(*quote_terms.values())
    if (
        not terms
        or len(terms) > _OF_SAID_TERMS
        or 2 * len(terms & told) < len(terms)
        or not names <= {w.lower() for q in quotes for w in name_words(q)}
    ):
        return set()
    return {q for q, held in quote_terms.items() if terms & held}


def _meaning(question: str) -> re.Match[str] | None:
    return _MEANING_OF_SAID.match(question) or _MEANING_WHAT.match(question)


def meaning_asked(question: str) -> set[str]:
    """The analysed words whose meaning a follow-up asks, in the last answer's words or not
    ("what do you mean by leverage here?", "non-exclusive meaning what, in practice?");
    empty when it asks no meaning.

    Example: meaning_asked("Sorry, what do you mean by leverage here?") -> {"leverag"};
             meaning_asked("non-exclusive meaning what?") -> {"exclus"};
             meaning_asked("What does Amazon want?") -> set()
    """
    m = _meaning(question)
    if m is None or len(question) > 120:
        return set()
    vague = _GENERIC_VERBS | _ELLIPTICAL | _REQUEST_VERBS | _DISCOURSE
    words = [w for w in _content_words(m.group("what")) if w not in vague]
    return {t for w in words for t in analyze(w) if len(t) > 3}  # "non" of "non-exclusive"


def reads_on(question: str, history: Sequence[Mapping[str, str]]) -> set[str]:
    """The last answer's quotes a follow-up reads on from: quotes_asked_about for "Why?" and
    "Tell me more." (asks_what_follows), said_asked_about for "Why less leverage?"; empty
    for any other question.

    Example: reads_on("Why?", [{"role": "assistant", "content": "A b c. [1]"}]) -> {"A b c."}
    """
    if asks_what_follows(question):
        return quotes_asked_about(question, history)
    return said_asked_about(question, history)


def last_quotes(history: Sequence[Mapping[str, str]]) -> set[str]:
    """The sentences the latest answer quoted (whitespace collapsed; none when it was a
    refusal).

    Example: last_quotes([{"role": "assistant", "content": "Amazon holds less leverage. [1]"}])
             -> {"Amazon holds less leverage."}
    """
    return set(_answer_quotes(history))


def _answer_quotes(history: Sequence[Mapping[str, str]]) -> list[str]:
    """The latest answer's quotes in its order, whitespace collapsed ([] after a refusal)."""
    for m in reversed(history[-MAX_HISTORY_MESSAGES:]):
        if m.get("role") != "assistant":
            continue
        content = str(m.get("content") or "")[:MAX_HISTORY_CHARS]
        if m.get("refused") or _REFUSAL.match(content):
            return []
        return [" ".join(q.split()) for q in _CITATION.split(content) if q.strip()]
    return []


def latest_question(history: Sequence[Mapping[str, str]]) -> str:
    """The latest user message of the history (bounded as _last_answered_turn reads it)."""
    for m in reversed(history[-MAX_HISTORY_MESSAGES:]):
        if m.get("role") == "user":
            return str(m.get("content") or "")[:MAX_HISTORY_CHARS]
    return ""


# "And Google?", "What about for MERS-CoV?": the last question again, about another name.
_ANOTHER_OPENS = r"^\s*(?i:and|but|what about|how about|as for)\s+(?i:(?:for|in|with|the)\s+)*"
_ANOTHER_ENDS = r"(?:['’]s)?\s*,?\s*(?i:though|then|instead|too|now)?\s*[?.!]*\s*$"
_ABOUT_ANOTHER = re.compile(
    _ANOTHER_OPENS + r"(?P<name>[A-Z][\w\-]*(?:\s+[A-Z][\w\-]*)*)" + _ANOTHER_ENDS
)
# ... and as typed ("and google?"): one word, in any case.
_ANOTHER_NAMED = re.compile(_ANOTHER_OPENS + r"(?P<name>(?i:[a-z])[\w\-]*)" + _ANOTHER_ENDS)
# What a correction may open with: "no", "sorry", "no wait", "actually", "oops".
_CORRECTING = r"^\s*(?i:(?:no|sorry|oops|nope|wait|actually|ah|um|uh|hmm+|my\s+bad)\W+)*"
# "No, I meant Google.": the last question again, about the name the person meant (as typed:
# "no i meant google" names it all the same).
_MEANT = re.compile(
    _CORRECTING + r"(?i:i\s+meant?|i\s+was\s+asking\s+about)\s+"
    r"(?i:the\s+)?(?P<name>[\w\-]+(?:\s+[A-Z][\w\-]*)*)"
    # "I meant Meta's approach": the name, and what of it the last question asked.
    r"(?:['’]s(?:\s+[\w\-]+){0,3})?\s*[?.!]*\s*$"
)


# "Sorry, I meant Amazon's own models, not Meta's.": the name meant, and the one it replaces.
_MEANT_NOT = re.compile(
    _CORRECTING + r"(?i:i\s+meant?|i\s+was\s+asking\s+about)\s+"
    r"(?i:the\s+)?(?P<name>[\w\-]+)(?:['’]s)?(?:\s+[\w\-]+){0,3}?\s*,?\s*"
    r"(?i:not|rather\s+than|instead\s+of)\s+(?i:the\s+)?(?P<old>[\w\-]+)(?:['’]s)?\s*[?.!]*\s*$"
)


# "No, I meant how much they've already put in, not the new one.": a question meant instead.
_MEANT_CLAUSE = re.compile(
    _CORRECTING + r"(?i:i\s+meant?|i\s+was\s+asking)\W+"
    r"(?P<rest>(?i:how|what|who|whom|when|where|which|why|whether|if)\b.+?)"
    r"(?:\s*,?\s*(?i:not|rather\s+than|instead\s+of)\s+(?i:the|that|this|its|their)\b[^?]*)?"
    r"\s*[?.!]*\s*$"
)


def _as_spelt(question: str, said: str) -> str:
    """question with each lower-case word that said writes capitalised as a name written so.

    Example: _as_spelt("and microsoft", "unlike Microsoft's deal") -> "and Microsoft"
    """
    spelt = {name.lower(): name for name in name_words(said)}

    def spell(m: re.Match[str]) -> str:
        word = m.group(0)
        return spelt.get(word, word) if word.islower() and word not in _QUESTION_WORDS else word

    return re.sub(r"[A-Za-z][\w\-]*", spell, question)


def another_named(question: str) -> str | None:
    """The one-word name an elliptical follow-up brings ("And Amazon?", "what about google?");
    None for any other question, and for a question word ("And why?").

    Example: another_named("and google?") -> "google"; another_named("And why?") -> None
    """
    m = _ANOTHER_NAMED.match(question)
    if m is None or m.group("name").lower() in _QUESTION_WORDS | _ELLIPTICAL | _ANAPHORA:
        return None
    return m.group("name")


def about_another(question: str, last_question: str) -> str | None:
    """The last question asked again about the name an elliptical question brings ("And
    Google?"), put where the last question's first name stood; None when the question is
    not of that shape, or the last question names nothing (or already names it).

    Example: about_another("And Google?", "How much has Amazon invested in Anthropic?")
             -> "How much has Google invested in Anthropic?";
             about_another("And for MERS-CoV?", "What was the fatality rate of SARS-CoV?")
             -> "What was the fatality rate of MERS-CoV?";
             about_another("No, I meant Google.", "How much has Amazon invested?")
             -> "How much has Google invested?";
             about_another("Sorry, I meant Amazon's models, not Meta's.",
                           "Which models do Meta's models lag behind?")
             -> "Which models do Amazon's models lag behind?";
             about_another("And why?", "How much has Amazon invested?") -> None
    """
    meant = _MEANT_NOT.match(question)
    if meant is not None:
        # The name it is "not" is the one to replace, wherever it stands.
        name, old_name = meant.group("name"), meant.group("old")
        spot = re.search(rf"(?<![\w\-]){re.escape(old_name)}(?![\w\-])", last_question, re.I)
        if spot is not None and name.lower() not in last_question.lower():
            return last_question[: spot.start()] + name + last_question[spot.end() :]
    m = _ABOUT_ANOTHER.match(question) or _MEANT.match(question) or meant
    if m is None:
        return None
    name = m.group("name")
    subjects = _subjects(last_question)
    if not subjects or name.lower() in last_question.lower():
        return None
    old = re.search(rf"(?<![\w\-]){re.escape(subjects[0])}(?![\w\-])", last_question)
    if old is None:
        return None
    return last_question[: old.start()] + name + last_question[old.end() :]


# How a topic is named before the question ("Back to Amazon", "As for the chips").
_TOPIC_OPENER = (
    r"^\W*(?:(?:ok|okay|so|and|now|anyway|alright)\W+)*(?:(?:going\s+|getting\s+)?back\s+to|"
    r"regarding|re|as\s+for|as\s+to|speaking\s+of|on\s+the\s+subject\s+of|about|"
    # "I should like to know a little more about the chips you mention: are they ...?"
    r"(?:i(?:['’]d|\s+would|\s+should)\s+like\s+to\s+(?:know|hear)|i\s+want\s+to\s+know|"
    r"tell\s+me)\s+(?:a\s+(?:little|bit)\s+|some\s+)?more\s+about"
)
# A topic or a request opening a message: what comes before its question is then no label.
_LEAD_IN_WORDS = re.compile(
    _TOPIC_OPENER + r"|tell\s+me|explain|compare|describe|say|give|list|name|summari[sz]e)\b",
    re.IGNORECASE,
)
# A topic named before the question: "Back to Amazon - is its stake exclusive?", "As for
# the chips, who makes them?", "Regarding Google: does it own part of Anthropic?"
_LEAD_IN = re.compile(
    _TOPIC_OPENER + r")\s+"
    r"(?P<topic>[^,:;?!.\-–—]{1,60}?)\s*(?:[,:;–—]|\s-)\s*(?P<rest>\w.{2,})$",
    re.IGNORECASE,
)


# A pronoun that stands for someone, not for a statement or a thing just described.
_PERSONAL = re.compile(r"\b(?:its|their|they|them|he|she|his|her|him)\b", re.IGNORECASE)
_THEY = re.compile(r"\b(?:they|them|their|theirs)\b", re.IGNORECASE)
_SAYS_ENOUGH = 3  # a follow-up's own content words that say what it asks without the topic


_SENTENCE = re.compile(r"[^.?!:]+(?:[.?!:]+|$)")
_ASKING = re.compile(
    r"^\W*(?:who|whom|whose|what|which|when|where|why|how|is|are|was|were|do|does|did|can|"
    r"could|would|will|should|has|have|had)\b",
    re.IGNORECASE,
)


def split_preamble(message: str) -> tuple[str, str]:
    """(the question, what comes before it) of a message that says something before asking
    ("For a class report: is Amazon's stake exclusive?", "I hold AMZN. How much has Amazon
    invested?"); (message, "") when it opens with its question or asks nothing.

    Example: split_preamble("For a report: is the stake exclusive?")
             -> ("is the stake exclusive?", "For a report:")
    """
    parts = [m.group(0) for m in _SENTENCE.finditer(message) if m.group(0).strip()]
    for i, part in enumerate(parts):
        if part.rstrip().endswith("?") or _ASKING.match(part):
            asked = "".join(parts[i:]).strip()
            before = parts[:i]
            if before and _only_where_to_read(asked):
                # "My son wants to know which AI company Microsoft teamed up with. What does
                # the article say?": the question is the one told before, the rest is where
                # to read its answer.
                told = _INDIRECT.search(before[-1])
                if told is None:
                    return message, ""
                question = told.group("asked").strip().rstrip(".,;:!") + "?"
                return question, "".join(before[:-1]).strip()
            # Only what says who is asking ("I hold AMZN ...", "As a student, ...") or labels
            # the question ("For a class report:"): a request ("Compare X with Y.") or what
            # the article says ("The piece says ... 'hedging its bets'.") is part of it.
            if not before or len(asked.split()) < 3 or not all(map(_about_asking, before)):
                return message, ""
            return asked, "".join(before).strip()
    return message, ""


# A question told inside a sentence ("My son wants to know which company ...", "I wonder
# why ...").
_INDIRECT = re.compile(
    r"\b(?:know|knows|knew|ask|asks|asked|asking|wonder|wonders|wondered|wondering|"
    r"curious|find\s+out|learn|understand|unsure|sure|tell\s+(?:me|us|him|her|them))\s+"
    r"(?:(?:about|as\s+to|of)\s+)?(?P<asked>(?:who|whom|whose|what|which|when|where|why|how)"
    r"\b[^.?!]{3,})",
    re.IGNORECASE,
)
# Words that only ask where or how to read an answer ("What does the article say?", "How
# would the piece put it?"), naming nothing it is about.
_WHERE_TO_READ_WORDS = (
    "article piece text document story report paper author writer source say says said "
    "put phrase word words state states tell answer exactly"
)
_WHERE_TO_READ = frozenset(_WHERE_TO_READ_WORDS.split())


def _only_where_to_read(asked: str) -> bool:
    """Whether a question asks only where or how to read its answer ("What does the article
    say?") and nothing of its own.

    Example: _only_where_to_read("How would the article put it?") -> True;
             _only_where_to_read("What does the article say about Google?") -> False
    """
    own = [w for w in _content_words(asked) if w not in _WHERE_TO_READ]
    numbered = any(ch.isdigit() for ch in asked)
    return not own and not numbered and not _subjects(asked)


# A sentence about the person asking, or a label before the question.
_CONTINUING = re.compile(r"^\W*(?:and|but|plus|what\s+about|how\s+about)\b", re.IGNORECASE)
_ASKER = re.compile(r"^\W*(?:i|i'm|i’m|i've|i’ve|i'd|i’d|my|we|we're|we’re|our|as\s+an?)\b", re.I)
_LABEL_WORDS = 5
_DOING = re.compile(r"^\W*[A-Za-z]{3,}ing\b(?!\s+(?:of|about|to)\b)")
_VERSUS = re.compile(r"\b(?:vs\.?|versus)(?=\s)", re.IGNORECASE)
_ASKS_OR_POINTS = re.compile(
    r"\b(?:who|whom|whose|what|which|when|where|why|how|first|second|third|fourth|fifth|"
    r"last|latter|former)\b",
    re.IGNORECASE,
)


# A label that says the question is a new one ("New question, not about Anthropic:",
# "Changing the subject.", "Unrelated:"): it stands on its own, whatever the label names.
_NEW_TOPIC = re.compile(
    r"^\W*(?:(?:ok|okay|so|now|and|right|fine)\W+)*(?:(?:a|one|another|totally|completely|"
    r"entirely)\s+)?(?:new|different|separate|unrelated|other|fresh)\s+(?:question|topic|"
    r"subject|thing)\b|^\W*(?:(?:ok|okay|so|now)\W+)*(?:changing|switching)\s+(?:the\s+)?"
    r"(?:topics?|subjects?|gears)\b|^\W*unrelated\W*$",
    re.IGNORECASE,
)


def _about_asking(part: str) -> bool:
    """Whether a sentence before a question is about the person asking or a short label
    ("For a class report:"), not about what is asked."""
    text = part.strip()
    if _ASKER.match(text) or _NEW_TOPIC.match(text):
        return True
    if _CONTINUING.match(text):
        return False  # "And the next tranche: what size is it?" names what is asked about
    # "Prepping an episode.", "Drafting a memo for the board:": what the asker is doing, a
    # short phrase opening with its -ing word and naming nothing.
    named = [n for n in _subjects(text) if not text.startswith(n)]  # not its opening word
    # "Partnering vs building in-house:" names the topic, not the occasion.
    topical = bool(_LEAD_IN_WORDS.match(text) or named or _VERSUS.search(text))
    doing = _DOING.match(text) is not None and len(text.split()) <= _LABEL_WORDS + 1
    # "Need this for a 9am briefing, fast:" labels too, unless a longer one asks something or
    # points into a list ("So far, which approach has won:", "The second one on that list:").
    words = len(text.split())
    longer = words <= _LABEL_WORDS + 3 and _ASKS_OR_POINTS.search(text) is None
    label = text.endswith(":") and (words <= _LABEL_WORDS or longer)
    return (doing or label) and not topical


# "behind on what, measured how?", "less leverage over what?": words of the last answer with a
# question word, each part at most three words before it.
_ECHO_PART = re.compile(
    r"^\W*(?P<what>[\w’'-]+(?:\s+[\w’'-]+){0,2}?)\s+(?:(?:on|over|of|at|in|to|for|with|"
    r"against|by|from|than|behind)\s+)?(?:what|whom|which|how|where)\W*$",
    re.IGNORECASE,
)
_ECHO_VAGUE = frozenset({"measured", "exactly", "precisely", "just", "really", "meaning", "mean"})
_VAGUE_PART = _ECHO_VAGUE | {"in", "practice", "here", "then", "now", "please", "though"}


def echoed_quotes(question: str, history: Sequence[Mapping[str, str]]) -> set[str]:
    """The last answer's quotes a question echoes to ask what they say ("behind on what,
    measured how?" after "... models lag behind competitors such as GPT-4 ... in performance
    benchmarks"): each part of it a few of the quote's words and a question word. The quote
    holds the answer, which it may not have been read for. Empty for any other question.

    Example: echoed_quotes("behind on what?", [{"role": "assistant", "content": "Its models
             lag behind GPT-4 in benchmarks. [1]"}]) -> {"Its models lag behind GPT-4 in
             benchmarks."}; echoed_quotes("Why?", the same history) -> set()
    """
    # "..., exactly?", "..., in practice?": a part of vague words only asks nothing more.
    parts = [
        p
        for p in re.split(r"[,;?]+", question)
        if p.strip() and not set(re.findall(r"[\w’'-]+", p.lower())) <= _VAGUE_PART
    ]
    if not parts or len(question.split()) > 8:
        return set()
    words: list[str] = []
    for part in parts:
        m = _ECHO_PART.match(part)
        if m is None:
            return set()
        words += [w.lower() for w in re.findall(r"[\w’'-]+", m.group("what"))]
    asked = {w for w in words if w not in _QUESTION_WORDS | _ECHO_VAGUE}
    if not asked:
        return set()
    quotes = last_quotes(history)
    return {q for q in quotes if asked <= {w.lower() for w in re.findall(r"[\w’'-]+", q)}}


def recalled_terms(topic: str, history: Sequence[Mapping[str, str]]) -> list[str]:
    """What an earlier answer said of a topic the person returns to ("Going back to the
    chips: ..."): the names and longest words of the latest quote that holds one of the
    topic's words; [] when no answer spoke of it, or when the topic is a name ("Back to
    Amazon: ..." returns to Amazon, not to what an answer said next to its name).

    Example: recalled_terms("the chips", [{"role": "assistant", "content": "Amazon supports
             Anthropic with custom chips tailored to its needs. [1]"}, {"role": "assistant",
             "content": "Anthropic may not remain loyal. [1]"}])
             -> ["Amazon", "Anthropic", "supports", "tailored"]
    """
    recent = history[-MAX_HISTORY_MESSAGES:]
    # "back to amazon": a name typed in lower case is still the name the answers spelt.
    topic = _as_spelt(topic, " ".join(str(m.get("content") or "") for m in recent))
    wanted = {w[:5] for w in _content_words(topic) if w not in _VAGUE}
    if not wanted or name_words(topic):
        return []
    for m in reversed(recent):
        content = str(m.get("content") or "")[:MAX_HISTORY_CHARS]
        if m.get("role") != "assistant" or m.get("refused") or _REFUSAL.match(content):
            continue
        for quote in _CITATION.split(content):
            said = {w.lower()[:5] for w, _ in _words(quote)}
            if wanted & said:
                words = [w for w in _content_words(quote) if w[:5] not in wanted]
                return list(dict.fromkeys(_subjects(quote) + _longest(words)))
    return []


# "the second competitor you listed", "the first one you mentioned", "the last company it
# named": one item of a list the last answer gave, by its place.
_LISTED_ITEM = re.compile(
    r"\b(?:the|your)\s+(?P<ord>first|second|third|fourth|fifth|last|1st|2nd|3rd|4th|5th)\s+"
    r"(?:[\w\-]+\s+)?(?:(?:that\s+|which\s+)?(?:you|it|the\s+article|they)\s+(?:just\s+)?"
    r"(?:listed|mentioned|named|gave|cited|quoted)|(?:in|on|from)\s+(?:the|that|your)\s+list)\b",
    re.IGNORECASE,
)
# A list of names in an answer: "GPT-4, Claude, and Gemini", "Meta, Google or Microsoft".
_NAME_ITEM = r"[A-Z][\w\-]*(?:\s+[A-Z][\w\-]*)*"
_NAME_LIST = re.compile(
    rf"(?<![\w\-])({_NAME_ITEM}(?:\s*,\s*{_NAME_ITEM})*\s*,?\s+(?:and|or)\s+{_NAME_ITEM})"
)

# "the first kind", "the second camp", "the latter": one of two kinds an answer contrasted.
_KIND_ITEM = re.compile(
    r"\bthe\s+(?:(?P<ord>first|second|other)\s+(?:kind|type|sort|camp|group|approach|side|"
    r"category|one)|(?P<fl>former|latter))\b",
    re.IGNORECASE,
)
# Two kinds side by side: "some companies building AI internally and others opting to
# invest", "between companies building AI in-house and those investing in innovators".
_TWO_KINDS = re.compile(
    r"\b(?:some|between)\s+(?P<a>[^,;.]+?)\s+and\s+(?:others|those)\s+(?P<b>[^,;.]+)",
    re.IGNORECASE,
)
_LIST_SEPARATOR = re.compile(r"\s*,\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+")


# "Give me an example", "name one of those other companies", "which one is named?": a
# request for an instance of what was said, by its name.
_EXAMPLE = re.compile(
    r"\b(?:an?\s+)?examples?\b|\bfor\s+instance\b|\bname\s+(?:one|some|a\s+few|two|them)\b|"
    r"\bwhich\s+(?:one|ones)\s+(?:is|are)\s+named\b",
    re.IGNORECASE,
)


def asks_example(question: str) -> bool:
    """Does a follow-up ask for an example, by its name, of what was said?

    Example: asks_example("give me an example of the first kind") -> True;
             asks_example("name one of those other companies pls") -> True;
             asks_example("How much did Amazon invest?") -> False
    """
    return len(question) <= 160 and _EXAMPLE.search(question) is not None


def listed_item(question: str, history: Sequence[Mapping[str, str]]) -> str | None:
    """question with "the second X you listed" put as the name the last answer listed there,
    or "the first kind" ("the latter") as the first (second) of two kinds the last answer set
    side by side; None when it points at no such item.

    Example: listed_item("the second one you listed, isn't that Anthropic's model?",
             [{"role": "user", "content": "Are Amazon's models good?"}, {"role":
             "assistant", "content": "Its models lag behind competitors such as GPT-4,
             Claude, and Gemini. [1]"}]) -> "Claude, isn't that Anthropic's model?";
             listed_item("an example of the first kind?", [{"role": "user", "content": "And
             the industry?"}, {"role": "assistant", "content": "Some firms build AI in-house
             and others invest in startups. [1]"}]) -> "an example of firms build AI in-house?"
    """
    m = _LISTED_ITEM.search(question)
    kind = _KIND_ITEM.search(question)
    both = _two_kinds(history) if kind else None
    if kind is not None and both is not None:
        # "give me an example of the first kind" after "some companies build AI internally
        # and others invest in startups": the first of the two an answer set side by side.
        which = (kind.group("ord") or kind.group("fl")).lower()
        last = latest_question(history)
        if which == "other":
            # "the other one": not the kind the last question asked about.
            asked = set(_content_words(last))
            a, b = (set(_content_words(both.group(g))) for g in "ab")
            if len(asked & a) == len(asked & b):
                return None
            which = "second" if len(asked & a) > len(asked & b) else "first"
        chosen = both.group("a" if which in ("first", "former") else "b").strip()
        opener = _ASKED_OPENER.match(last)
        if opener and _BARE_ABOUT.match(question[: kind.start()] + question[kind.end() :]):
            # "What about the other one?" after "Which company is building internally?": the
            # last question, asked of the other kind.
            return f"{opener.group(1)} {chosen}?"
        return question[: kind.start()] + chosen + question[kind.end() :]
    turn = _last_answered_turn(history) if m else None
    if m is None or turn is None:
        return None
    said = _CITATION.sub("", turn[1])
    place = _ORDINALS[m.group("ord").lower()]
    for found in _NAME_LIST.finditer(said):
        items = [i.strip() for i in _LIST_SEPARATOR.split(found[1]) if i.strip()]
        if len(items) >= 2 and place <= len(items):
            item = items[place - 1] if place > 0 else items[-1]
            return question[: m.start()] + item + question[m.end() :]
    return None


# The asking part of a question, up to its verb: "Which company is", "Who does".
_ASKED_OPENER = re.compile(
    r"^\W*((?:who|what|which|where)\b(?:\s+\w+){0,2}?\s+(?:is|are|was|were|does|do|did))\b",
    re.IGNORECASE,
)
# Nothing but "what about" / "and" around the pointer: "What about the other one?"
_BARE_ABOUT = re.compile(r"^\W*(?:and|what\s+about|how\s+about)?\W*$", re.IGNORECASE)


def _two_kinds(history: Sequence[Mapping[str, str]]) -> re.Match[str] | None:
    """The two kinds the latest answer that set two side by side named ("some companies
    building AI internally and others ..."), within the history a follow-up reads."""
    for m in reversed(history[-MAX_HISTORY_MESSAGES:]):
        if m.get("role") == "assistant" and not m.get("refused"):
            content = str(m.get("content") or "")[:MAX_HISTORY_CHARS]
            both = _TWO_KINDS.search(_CITATION.sub("", content))
            if both is not None:
                return both
    return None


# "those two", "between them", "both of them": the two things of the last two exchanges,
# compared ("the two phases" names its own two things).
_BOTH = re.compile(
    r"\b(?:those|these)\s+two\b|\bthe\s+two\s+of\s+them\b|\bboth\s+of\s+(?:them|those|these)\b|"
    r"\bbetween\s+(?:them|those|these|the\s+two)\b|\beither\s+(?:one|of\s+them)\b",
    re.IGNORECASE,
)


def _compared_before(
    question: str, before: Sequence[Mapping[str, str]], max_terms: int
) -> list[str]:
    """For a question comparing "those two", the names of the answered exchange before the
    last one (its question read as its own standalone query): the other of the two; [] for
    any other question or when there is none.

    Example: _compared_before("Of those two, which is costly?", [{"role": "user", "content":
             "What's Meta's game plan in AI?"}, {"role": "assistant", "content": "Meta builds
             AI models in-house. [1]"}], 4) -> ["Meta"]
    """
    if _BOTH.search(question) is None:
        return []
    turn = _last_answered_turn(before)
    if turn is None:
        return []
    prior = standalone_query(turn[0], turn[2], max_terms=max_terms)
    return list(dict.fromkeys(_subjects(prior) + _answer_subject(turn[1])))


# "your first answer", "the first number", "your previous reply": an earlier answer named by
# its place in the conversation.
_EXCHANGE = re.compile(
    r"\b(?:your|the|that)\s+(?:very\s+)?(?P<ord>first|second|third|previous|earlier|original|last)"
    r"\s+"
    r"(?:answer|reply|response|number|figure|amount|thing\s+you\s+said)\b",
    re.IGNORECASE,
)


def answer_pointed(question: str, history: Sequence[Mapping[str, str]]) -> str | None:
    """The earlier answer a question names by its place ("from your first answer", "back to
    the first number"): the first, second or third answer of the conversation (as far back
    as it is read), or the one before the last; None when none is named or it was refused.

    Example: answer_pointed("the product part from your first answer: which product?",
             [{"role": "user", "content": "Why?"}, {"role": "assistant", "content": "A. [1]"},
             {"role": "user", "content": "And?"}, {"role": "assistant", "content": "B. [1]"}])
             -> "A. [1]"
    """
    m = _EXCHANGE.search(question)
    if m is None:
        return None
    answers = [
        str(t.get("content") or "")[:MAX_HISTORY_CHARS]
        for t in history[-MAX_HISTORY_MESSAGES:]
        if t.get("role") == "assistant"
    ]
    place = m.group("ord").lower()
    index = {"first": 0, "original": 0, "second": 1, "third": 2, "last": -1}.get(place, -2)
    if not answers or index >= len(answers) or -index > len(answers):
        return None
    chosen = answers[index]
    return None if _REFUSAL.match(chosen) else chosen


def _said_in(answer: str) -> list[str]:
    """An answer's names and longest words: what it said, to carry.

    Example: _said_in("Amazon has invested around $8 billion in Anthropic [1]")
             -> ["Amazon", "Anthropic", "invested", "billion"]
    """
    said = _CITATION.sub("", answer)
    return list(dict.fromkeys(_subjects(said) + _longest(_content_words(said))))


def says_nothing_of_its_own(question: str) -> bool:
    """Does the question name nothing of its own, only what kind of thing it asks for ("How
    much?", "ok, when then?", "Who?")?

    Example: says_nothing_of_its_own("ok, how much then?") -> True;
             says_nothing_of_its_own("How much did they pay?") -> False
    """
    return not _subjects(question) and not [w for w in _content_words(question) if w not in _VAGUE]


def standalone_query(
    question: str, history: Sequence[Mapping[str, str]] | None, *, max_terms: int = 4
) -> str:
    """The query to retrieve with: the question itself, or for a follow-up the question plus
    at most max_terms terms that say what its pointers point at.

    Example:
        standalone_query("Is that stake exclusive?", [
            {"role": "user", "content": "Who has invested $8 billion in Anthropic?"},
            {"role": "assistant", "content": "Amazon has invested around $8 billion. [1]"}])
        -> "Is that stake exclusive? (Amazon Anthropic)"
        standalone_query("What about Google?", [
            {"role": "user", "content": "Which firms build AI in-house?"},
            {"role": "assistant", "content": "Meta builds AI models in-house. [1]"}])
        -> "What about Google? (firms build in-house)"
        standalone_query("Back to Amazon - is its stake exclusive?", None)
        -> "is its stake exclusive? (Amazon)"
        standalone_query("Is the stake exclusive? Yes or no.", None)
        -> "Is the stake exclusive?"
    """
    # "Well, why?": the filler is no part of what is asked (nor a name).
    question = _FORM_REQUEST.sub("", question).strip() or question
    question = _WHERE_READ.sub("", question).strip() or question
    # "Who wins in the long run? I'd wager it won't be ordinary folk.": a remark of the
    # asker's own after the question asks nothing the documents should hold.
    question = _ASKERS_REMARK.sub("", question).strip() or question
    question = _TRAILING.sub("", _chat_and(_FILLER.sub("", question))).strip() or question.strip()
    meant = _MEANT_CLAUSE.match(question)
    if meant is not None and history:
        # "No, I meant how much they've already put in, not the new one": the question meant,
        # a follow-up of its own; what it is "not" is no part of it.
        question = meant.group("rest")
    lead_in = _LEAD_IN.match(question)
    own_question, preamble = split_preamble(question) if lead_in is None else (question, "")
    # "I hold AMZN and I'm sizing this up. How much has Amazon sunk into Anthropic?": the
    # question is what is asked; what the person says of themselves is no part of it,
    # unless the question points back into it ("... a divide. What are its two sides?").
    # Nor is who says it, put inside the question (_SAID_BY).
    question = _SAID_BY.sub(r"\g<asks> ", own_question)
    # "Go on: which approaches are being tried out?": the label says it reads on.
    continues = (preamble.strip().lower() + " ").startswith(_OPENERS)
    if _NEW_TOPIC.match(preamble):
        # "New question, not about Anthropic: ...": nothing earlier is carried into it.
        return question
    if preamble:
        told = [w for w in _content_words(preamble) if w not in _VAGUE]
        asks = [w for w in _content_words(question) if w not in _VAGUE]
        points_into = _points_back(question) and len(asks) < _SAYS_ENOUGH
        if points_into and (_subjects(preamble) or len(told) >= TOPIC_TERMS):
            lead = list(dict.fromkeys(_subjects(preamble) + _longest(told)))
            return f"{question} ({' '.join(lead[:max_terms])})"
    lead_in = lead_in or _LEAD_IN.match(question)
    if lead_in is not None:
        # "Back to Amazon - is its stake exclusive?": the question, about what it names first.
        topic, rest = lead_in.group("topic").strip(), lead_in.group("rest").strip()
        # "Going back to the chips: are they generic?": the earlier answer that spoke of them
        # says what they were ("custom chips ... tailored to Anthropic's needs").
        own = {w.lower() for w, _ in _words(rest + " " + topic)}
        recalled = recalled_terms(topic, history or ())
        earlier = None if recalled else answer_pointed(topic, history or ())
        if earlier is not None:
            # "Going back to the first number: ...": what that answer said.
            recalled = _said_in(earlier)
        recalled = [t for t in recalled if t.lower() not in own]
        return f"{rest} ({' '.join([topic, *recalled][: max_terms + 1])})"
    pointed_answer = answer_pointed(question, history) if history else None
    if pointed_answer is not None:
        # "the product integration part from your first answer: which product?": what that
        # answer said, not the last one.
        own = {w.lower() for w, _ in _words(question)}
        carried = [t for t in _said_in(pointed_answer) if t.lower() not in own][:max_terms]
        if carried:
            return f"{question} ({' '.join(carried)})"
    listed = listed_item(question, history) if history else None
    if listed is not None:
        # "the second competitor you listed, isn't that ...?": that item, by its name.
        return listed
    if not history or not (continues or is_followup(question)):
        return question
    said = sorted(last_quotes(history), key=len, reverse=True)
    if said and asks_where_said(question):
        # "Where does it say that?": what the last answer quoted, found again.
        return f"{question} ({said[0]})"
    pointed = pointed_quote(question, history)
    if pointed is not None:
        # "Expand on the second point": what that quote says is what is asked about.
        terms = list(dict.fromkeys(_subjects(pointed) + _longest(_content_words(pointed))))
        return f"{question} ({' '.join(terms[:max_terms])})"
    turn = _last_answered_turn(history)
    if turn is None:
        # Nothing was answered yet: "it" in "How much has it invested in total, then?" after
        # a refused "When did Amazon first invest in Anthropic?" is still what that question
        # named. Its other words are what the documents lack, and are not carried.
        asked_before = latest_question(history)
        # "No, I meant Amazon." asks the refused question again, of the name meant.
        again = about_another(question, asked_before)
        if again is not None:
            return again
        own = {w.lower() for w, _ in _words(question)}
        # A role's acronym ("Anthropic's CEO") is a word the documents lacked, not a name of
        # what the conversation is about.
        names = [
            n
            for n in _subjects(asked_before)
            if n.lower() not in own and n.lower() not in _ROLE_TITLES
        ]
        # ... as is what a bare "how much then?" asks about: it names nothing of its own.
        bare = says_nothing_of_its_own(question)
        if not names or not (_points_back(question) or bare):
            return question
        return f"{question} ({' '.join(names[:max_terms])})"
    last_user, last_answer, before = turn
    # An earlier follow-up stands for its own standalone query: "it" in "Who else owns part
    # of it?" after "Is that stake exclusive?" is what that question was about (Anthropic).
    # Its own words come first: "smooth" in "Has that relationship been smooth?" is what
    # "Why not?" asks about, more than a word it carried.
    said = _content_words(last_user)
    last_user = standalone_query(last_user, before, max_terms=max_terms)
    # "And Google?" after "How much has Amazon invested in Anthropic?" asks that question of
    # Google: asked whole, its amount must be Google's (the refusal reads it as typed).
    # "and microsoft": a name typed in lower case is the name the conversation spelt.
    again = about_another(_as_spelt(question, f"{last_user} {last_answer}"), last_user)
    if again is not None:
        return again
    own = {w.lower() for w, _ in _words(question)}
    asked = _subjects(last_user)
    topic = [w for w in said if w not in _VAGUE]
    carried = [w for w in _content_words(last_user) if w not in _VAGUE and w not in topic]
    if _subjects(question):
        # The question brings its own subject: carry what was asked, not who it was about,
        # unless it also points back ("And in Asia, what is it vectored by?"): then "it" is
        # the earlier subject.
        # Only the earlier first name is what "it" stands for: the question's own name takes
        # the place of the others ("And in Asia, what is it vectored by?" after "How is CHIKV
        # maintained in Africa?" is about CHIKV, not Africa).
        # "they" / "them" / "their" is the first of them the question does not name itself:
        # "them" in "Is it only money, or does Amazon help them some other way?" after "How
        # much has Amazon put in Anthropic?" is Anthropic, not Amazon. ("its" in "Is Amazon
        # dropping its own work?" is Amazon; "that" in "Will that make our Alexa record us?"
        # is what was said of the first name.)
        plural = _THEY.search(question) is not None
        other = [n for n in asked if n.lower() not in own][:1] if plural else asked[:1]
        terms = (other + topic + carried) if _points_back(question) else topic + carried
        if _CHECK_TAG.search(question):
            # "so amazon doesn't own the whole thing, then?" after "who owns Anthropic?": a
            # statement put back to be confirmed is about what the last question named too.
            terms = list(dict.fromkeys(asked + terms))
    else:
        # Names the answer brought: "Which company owns part of Anthropic?" - "Google ..."
        # makes Google what "its" in the next question points at. A question that asked
        # about its own subject ("What is the size of bovine coronavirus?") is what "it" in
        # the next one points at.
        brought = [n for n in _answer_subject(last_answer) if n not in asked]
        # The earlier question's longest topic words (the rarest, as a rule): "that" in "Is
        # that expensive?" is what was asked about (building AI in-house), not a company.
        # Not the kind of thing it asked for ("company" in "Which company ...").
        asked_for = _ENTITY_QUESTION.search(last_user)
        kind = set(asked_for.group().lower().split()) if asked_for else set()
        what = _longest([w for w in topic if w not in kind])
        what += _longest([w for w in carried if w not in kind], TOPIC_TERMS - len(what))
        # A bare "Why?" after "What is Meta doing with AI?": the earlier question has no
        # topic of its own, so what is asked about is what its answer said; so is "that" in
        # "Is that expensive?", one word judging what the answer said.
        own_words = set(_content_words(question)) - _RELATIONAL - _REQUEST_VERBS
        judged = _points_at_a_statement(question) and len(own_words) <= 1
        if not what and (judged or not own_words):
            what = _longest(_content_words(_first_sentence(last_answer)))
        if _asks_for_entity(last_user):
            terms = brought + asked + (what if _points_at_a_statement(question) else [])
        elif asked and len(own_words) >= _SAYS_ENOUGH and _PERSONAL.search(question):
            # "How do its own models compare with the competition?": "its" is the name asked
            # about; the question's own words say the rest, and the last question's topic
            # ("strategy", "investor") would drown them. "its" is one of them, the first.
            terms = (asked if _THEY.search(question) else asked[:1]) + brought
        else:
            terms = asked + what + brought
        terms = list(dict.fromkeys(terms))
    compared = _compared_before(question, before, max_terms)
    if compared and not _subjects(question):
        # "Between those two, which deal has the market rewarded?": the last two answered
        # exchanges are the two, each named (the last one's names alone would be one side).
        terms = list(dict.fromkeys([*asked[:2], *compared[:2], *terms]))
    besides = others_than(question, history)
    if besides is not None:
        # "Who else has invested?": not whom the last answer was about.
        terms = [t for t in terms if t.lower() != besides.lower()]
    terms = [t for t in terms if t.lower() not in own][:max_terms]
    if not terms and not _subjects(question):
        # Nothing named to carry ("Which companies build AI in-house?" asked for names the
        # answer did not give): what the answer said is what the question leans on.
        said = _longest(_content_words(_first_sentence(last_answer)))
        terms = [t for t in said if t.lower() not in own]
    if not terms:
        return question
    return f"{question} ({' '.join(terms)})"
