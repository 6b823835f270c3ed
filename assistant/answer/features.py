"""Evidence features for deciding whether retrieved text answers a question: pure, CPU, fast.

Each function takes what the evidence step has in hand (the question, the candidate
sentences with their cosine to the query, the retrieved passages and an IDF function) and
returns plain numbers, so the refusal model can be fitted offline (evals/calibrate_refusal.py)
and applied at answer time without a model of its own. phrase_overlap is for ranking
sentences only (the extractive answer's selection), not for the refusal.

The features and why:
- best_cosine: the best sentence's MiniLM cosine with the query (the old rule's one input).
- focus: the largest share of the question's key-term weight that ONE sentence holds. An
  adversarial question ("How much has Google invested?") finds Google in one sentence and an
  amount in another; a real answer holds them together.
- typed_focus: focus counting only sentences that hold what the question asks for (a number
  for "how many", a date for "when", a name for "which company"); focus when the question
  does not ask for a type. An amount, a count or a date counts only in a clause that also
  holds the question's names that the sentence mentions (attached_type).
- entity_missing: the share of the question's names, acronyms and numbers that appear in no
  retrieved passage (a swapped name or year usually appears nowhere near the topic), in any
  form a reader would take for the same name (`_mentioned`, `compound_mentioned`,
  `spelled_out`).
- pair_focus: typed_focus over a sentence and its neighbour together, the question's names
  standing in the one that holds the answer type ("A search was run. Its purpose was ...").
- type_detached: 1 when the question asks for an amount, a count or a date and no sentence
  holds one in a clause together with every name of the question that the passages hold:
  "What is the exact dollar amount Google invested?" where the only amount is Amazon's. A
  name the question spells out with its acronym, or the passages define so, counts in either
  form (with_aliases, also for focus); a date or a count need not name the documents' topic
  again (topic_names).
- cosine_pair: best_cosine * pair_focus. Fitted, its weight is negative: a sentence very
  close in meaning, or one holding the question's terms together, is evidence enough.
- name_context: for each name of the question, the most of its other key-term weight that
  one passage naming it holds; the least over the names (1 without names). A swapped name
  or an absent attribute sits in passages about something else.
- negation_unmatched: 1 when the question denies something ("What did Amazon not invest
  in?") that the sentences state only plainly ("Amazon invested $8 billion in Anthropic."):
  they say what did happen, not what did not (answer/negation.py). Not weighed: it vetoes
  (RefusalModel.answerable) whatever the other features say, because such a question shares
  nearly all its words with a passage that answers it without the "not".
- opposite_unmatched: 1 when a word of the question is in no sentence but its opposite is
  ("What is the smallest city?" over "Lagos is the largest city."): the passages answer the
  question turned around. It vetoes too.
- name_displaced: how much better the question's other terms are stated in a sentence
  without one of its names than in any sentence holding that name (or right after one):
  "Is Google's stake in Anthropic exclusive?" over "Amazon's stake in Anthropic is
  non-exclusive." and "Anthropic remains partially owned by Google." The passages state the
  attribute of someone else. Counted only when the best sentence holds two or more of those
  other terms (one generic word such as "structure" says little). It vetoes at
  RefusalModel.displaced_veto (Settings.refusal_displaced_veto).
- agent_displaced: 1 when the question names who does what it asks about ("What custom chips
  is Meta supplying?", "Is Meta's stake exclusive?"), that name is neither in the sentence
  the answer would lead with nor in the one before it, and that sentence's clause opens with
  another name as its doer ("Amazon is also supporting Anthropic through ... custom chips").
  It vetoes: the passages tell what someone else does. A doer written as a pronoun or a
  common noun ("She ...", "The virus ...") does not count, so coreference is never read as
  a swap.
- number_displaced: 1 when the question writes a number as part of a name ("the 1986
  Continental Cup Final", "the Building Act of 1731") that the passages write only with other
  numbers ("The 1987 Continental Cup Final"), and no sentence holds the number with the name.
  It vetoes: entity_missing cannot see it, as the number stands elsewhere in the passages.
A sentence that points back to its passage's subject ("The company was listed ... in 1986",
"In 2004 it acquired ...") holds the question's names that the passage's first sentence
gives (implied_names): for the coverage and answer-type features, for agent_displaced, and
for the selection score (answer/evidence.py), but not for name_displaced.
cosine_pair and name_context are computed for calibration but weigh nothing by default:
fitted, they scored well on the generated sets but answered "How much has Google invested
in Anthropic?" from the seed article (evals/refusal/README.md has the figures).
"""

from __future__ import annotations

import functools
import itertools
import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ..ingest.chunking import split_sentences
from ..retrieval.lexical import STOPWORDS, analyze
from .negation import (
    STOP,
    WORD,
    asks_yes_or_no,
    asserted_denied,
    denied_premise,
    opposite_of_names,
    turned_phrase,
    unexplained_denial,
    unmatched_negation,
    unmatched_opposite,
)

__all__ = [
    "FEATURE_NAMES",
    "EvidenceFeatures",
    "acronym_spellings",
    "agent_displacement",
    "anaphoric",
    "answer_probability",
    "answer_type",
    "attached_type",
    "attribute_terms",
    "clause_doer",
    "clauses",
    "counted_terms",
    "counts_counted",
    "dated_years",
    "evidence_features",
    "has_answer_type",
    "implied_names",
    "institution_untold",
    "key_term_weights",
    "measured_terms",
    "money_untold",
    "name_displacement",
    "name_runs",
    "number_displacement",
    "offered_options",
    "phrase_asked_about",
    "phrase_overlap",
    "purchase_untold",
    "question_agents",
    "reporter_untold",
    "selection_type",
    "specific_tokens",
    "topic_names",
    "unit_named",
    "value_swapped",
    "with_aliases",
    "year_displacement",
    "years_in",
]

# ---------------------------------------------------------------- answer types

_NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
    r"eighty|ninety|hundred|hundreds|thousand|thousands|million|millions|billion|billions|"
    r"dozen|dozens|half|single|double|twice|several|few|majority|minority|most|all|none"
)
# Month names as names (capitalised): "may" and "march" are also a verb, and "may" stood
# for a date in every sentence that hedges ("it may not ..."). "May" itself only next to a
# number ("May 2020", "5 May").
_MONTH = re.compile(
    r"\b(?:January|February|March|April|June|July|August|September|October|November|"
    r"December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\b|\bMay\b(?=,?\s+\d)|"
    r"(?<=\d\s)May\b|\b(?:JANUARY|FEBRUARY|MARCH|APRIL|MAY|JUNE|JULY|AUGUST|SEPTEMBER|"
    r"OCTOBER|NOVEMBER|DECEMBER)\b"
)
_COUNT = re.compile(rf"\d|\b(?:{_NUMBER_WORDS})\b", re.IGNORECASE)
_AMOUNT = re.compile(
    rf"\d|[$€£¥%]|\b(?:{_NUMBER_WORDS}|percent|per cent|dollars?|euros?|pounds?)\b",
    re.IGNORECASE,
)
# A year (also "210 BC"), a month, a weekday, a span of time ("within 14 days", "two decades
# ago") or a time of day; not words like "currently" or "after", which every narrative
# sentence has.
_DATE = re.compile(
    r"\b(?:1[5-9]\d\d|20\d\d)s?\b|\b\d{1,4}\s?(?:BC|BCE|AD|CE)\b|\bAD\s?\d{1,4}\b|"
    # An earlier year only after a word that dates ("in 1263"): "1200 soldiers" is a count.
    r"\b(?:in|by|since|from|until|till|before|after|around|about|c\.)\s+1[0-4]\d\d\b|"
    r"\b(?:century|centuries|decades?|ago|"
    r"yesterday|spring|summer|autumn|winter|days?|weeks?|months?|years?|hours?|"
    r"(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)days?)\b|"
    # A time of day answers "when" too ("at 22:00", "at nine o'clock", "every morning").
    r"\b\d{1,2}:\d\d\b|\bo[’']clock\b|\d\s?[ap]\.?m\b|\b(?:noon|midnight|morning|evening|"
    r"night|tonight|today|tomorrow|dawn|dusk)\b",
    re.IGNORECASE,
)
# A capitalised word after the first of its sentence, or an acronym: a name of some kind.
_NAME = re.compile(r"(?<=[\w,;:)] )[A-Z][\w\-]+|\b[A-Z]{2,}[\w\-]*")
_PERSONS = re.compile(
    r"\b(?:people|persons?|patients?|children|adults?|wom[ae]n|m[ae]n|workers?|researchers?|"
    r"scientists?|investigators?|authors?|doctors?|physicians?|nurses?|staff|team|group|"
    r"individuals?|volunteers?|participants?|clinicians?|officials?|government|company|"
    r"companies|organi[sz]ations?|institutes?|universit(?:y|ies)|\w+ers|\w+ists|"
    # One person by role or kin: "the king's half-brother", "the architect", "his widow".
    r"kings?|queens?|princes?|princess|emperors?|empress|popes?|bishops?|priests?|monks?|"
    r"sons?|daughters?|brothers?|sisters?|fathers?|mothers?|wife|wives|husbands?|widows?|"
    r"uncles?|aunts?|nephews?|nieces?|cousins?|architects?|engineers?|merchants?|chemists?|"
    r"writers?|poets?|painters?|composers?|soldiers?|generals?|captains?|officers?|mayors?|"
    r"governors?|ministers?|chancellors?|senators?|judges?|lawyers?|teachers?|farmers?|"
    r"founders?|owners?|leaders?|managers?|players?|coach(?:es)?|envoys?|cardinals?|dukes?|"
    r"earls?|lords?|knights?|barons?|\w+m[ae]n)\b",
    re.IGNORECASE,
)

# A share of a whole: a percentage or a fraction, not any number ("$8 billion" does not say
# what percentage of Anthropic Amazon owns).
_PERCENT = re.compile(
    r"%|\bper ?cent\w*|\b(?:half|halves|thirds?|quarters?|fifths?|tenths?|majority|minority|"
    r"fractions?|proportions?|ratios?)\b|\b0?\.\d+\b|\b\d+ (?:in|out of) \d+\b",
    re.IGNORECASE,
)

# Where a question's own question opens: at its start, after chat openers ("ok so how
# much ..."), or after a clause that sets it up ("what about the new deal, when is it
# supposed to close?").
_ASKS = r"(?:^|[,;:?!]\s+)\s*(?:(?:and|so|but|ok|okay|well|then|also|hmm|um)\W+)*"
_MONEY_UNITS = r"(?:[$€£¥]|dollars\b|euros\b|pounds\b|bucks\b|yen\b)"
_PLACE_ASKED = (
    # ... and "which states or countries", where the kind may come second.
    r"\b(?:what|which)\s+(?:[a-z]+\s+or\s+)?(?:city|cities|country|countries|town|towns|"
    r"province|region|continent|island|village|county|capital)\b|"
    # "Where is the laboratory located?" (not "Where is NTCP located in the body?"), "Where is
    # Anthropic's headquarters?"
    r"\bwhere\s+(?:is|are|was|were)\b.{0,80}?\b(?:headquartered|based|located|situated|"
    r"headquarters|head\s+office)\W*$"
)
# A question asking what something is called (the thing: its head word, before "of", "in",
# "used" ...): "What are the custom chips Amazon makes for Anthropic called?", "What was the
# name of the driver of the mail train?"
_CALLED_ASKED = re.compile(
    r"\b(?:what|which)\s+(?:is|are|was|were)\s+(?P<a>(?:[\w\-'’]+\s+){0,8}?[\w\-'’]+)\s+"
    r"(?:actually\s+|originally\s+|now\s+)?(?:called|named)\W*$|"
    r"\b(?:what|which)(?:['’]s|\s+is|\s+was|\s+are|\s+were)\s+the\s+names?\s+of\s+(?P<b>[^?,]+)|"
    # "What name did miners give to methane?", "What name was given to the lamp?"
    r"\bwhat\s+names?\s+(?:did|do|does|was|were|is|are)\s+(?:[\w\-'’]+\s+){0,4}?"
    r"(?:give|gave|given)\s+(?:to\s+)?(?P<c>[^?,]+)",
    re.IGNORECASE,
)
_THING_ENDS = frozenset(
    "of about in at on for from used that which who whom when where by with makes made".split()  # noqa: SIM905
)
# A name given in a text: after a naming verb, or a capitalised word or a quotation; an
# example's "like" right after the thing ("AI models like Claude").
_EXAMPLE = re.compile(r"\W*(?:[a-z\-]+\s+)?(?:like|such\s+as)\s+(?:[\"“‘]|[A-Z0-9])")
_NAMING = re.compile(
    r"\b(?:called|named|known\s+(?:to\s+\w+\s+)?as|dubbed|titled|nicknamed|renamed|termed|"
    r"referred\s+to\s+as)\s+(?!(?:after|for|on|off|up|into|by)\b)"
    # A name in lower case counts too: "a wooden template known as a strickle board".
    r"(?:(?:the|a|an)\s+)?(?:[\"“'‘]|\w)"
)
_GIVEN_NAME = re.compile(r"^(?:[A-Z0-9][\w\-]*|[\"“‘].+)$")
_KIND_ACRONYM = re.compile(r"^[A-Z]{2}$")
_OWN_STEMS = frozenset({"own", "in-ho", "inter", "homeg", "home-"})  # words cut to five letters


def _things_called(question: str) -> set[str]:
    """The stems of the words that may name the thing a question asks the name of: the
    lower-case words before "of", "in", "used" ... ("the severe form of leptospirosis" ->
    form, sever); empty when it asks no name.

    Example: _things_called("What was the name of the driver of the mail train?")
             -> {"drive"};
             _things_called("What are the custom chips Amazon makes called?")
             -> {"custo", "chips"}
    """
    m = _CALLED_ASKED.search(question)
    if m is None:
        return set()
    words: list[str] = []
    phrase = WORD.findall(m.group("a") or m.group("b") or m.group("c"))
    for i, word in enumerate(phrase):
        if word.lower() in _THING_ENDS:
            break
        # "the AI model Amazon wants to align with": a name after the thing opens a clause
        # about it (an acronym, "AI model", is a word of the thing).
        after_thing = bool(words) and words[-1].islower() and words[-1] not in STOP
        named = word[:1].isupper() and not word.isupper()
        if after_thing and named and phrase[i + 1 : i + 2] and phrase[i + 1].islower():
            break
        words.append(word)
    common = {w[:5] for w in words if w.islower() and w not in STOP}
    # "What was the University of Aldmoor originally called?": the name is the thing.
    return common or {w.lower()[:5] for w in words if w.lower() not in STOP}


def names_thing(question: str, text: str) -> bool:
    """Does text give a name to the thing the question asks the name of: a naming verb just
    after the thing's word ("a sound known as the 'indium cry'"), or a capitalised word or a
    quotation beside it ("a ballad, The Loss of the Colwyn"), other than the question's own?

    Example: names_thing("What are the chips called?", "It builds custom chips and data
             centers for Anthropic, and products like Alexa.") -> False;
             names_thing("What are the chips called?", "Its Trainium chips are built in
             Austin.") -> True
    """
    things = _things_called(question)
    # A thing of its maker's own ("Amazon's own model", "its in-house model") is no other
    # thing of its kind: the word must be there.
    required = things & _OWN_STEMS
    own = {w.lower() for w in WORD.findall(question)}
    words = list(re.finditer(r"[\w\-'’]+", text))
    for i, m in enumerate(words):
        stem = m.group().lower()[:5]
        if stem not in things:
            continue
        # The thing with at least half the words the question gives it: "top AI models,
        # Claude" names no "own in-house AI model", nor "its own capabilities" one.
        beside = {w.group().lower()[:5] for w in words[max(0, i - 4) : i + 5]}
        if 2 * len(things & beside) < len(things) or required - beside:
            continue
        if _NAMING.search(text[m.end() : m.end() + 40]) or _EXAMPLE.match(text, m.end()):
            return True  # "a severe form known as Weil's disease", "models like Claude"
        # ... or a name beside it ("a ballad, The Loss of the Colwyn"); the first word of
        # the text is capitalised whatever it is.
        before = re.findall(r"[\"“‘][^\"”’]+[\"”’]|[\w\-'’]+", text[: m.start()])
        after = re.findall(r"[\"“‘][^\"”’]+[\"”’]|[\w\-'’]+", text[m.end() :])
        # Before it, only the words of its own phrase ("Its Trainium chips", "the Castle
        # class engines"): not across "while its" ("players like Anthropic while its own
        # in-house models").
        near = []
        for token in reversed(before[1:][-2:]):
            if token.lower() in STOP:
                break
            near.append(token)
        # A two-letter acronym is a kind, not a name ("its own in-house AI models").
        if any(
            _GIVEN_NAME.match(t) and not _KIND_ACRONYM.match(t) and t.lower() not in own
            for t in [*near, *after[:4]]
        ):
            return True
    return False


# ... or names as one by its kind: "the growing city of Porth Ferris".
_PLACE_OF = re.compile(
    r"\b(?:city|town|village|port|county|province|region|state|island|district|borough|"
    r"capital|kingdom|republic)\s+of\s+(?:the\s+)?(?P<place>[A-Z][\w\-]+)"
)
# A place a text locates something in: a capitalised word after a locative preposition
# ("headquartered in Tromsø", "left England for Canada", "opened at Liverpool").
_PLACE = re.compile(
    r"\b(?:in|at|from|to|for|near|outside|inside|across|throughout|within|around)\s+"
    r"(?:the\s+)?(?P<place>[A-Z][\w\-]+)"
)
# "What is the population of Ornay?": a count of the people living there.
_POPULATION = (
    r"\bwhat(?:['’]s|\s+is|\s+was)\s+(?:the\s+|[\w\-]+['’]s\s+)?population\b"
    r"(?!\s+(?:density|growth|decline|increase|change)\b)"
)
_RESIDENTS = frozenset({"popul", "inhabit", "resid", "peopl"})
_TYPES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"\b(?:what|which) (?:percentage|proportion|fraction|share)\b|\bhow many percent\b|"
            r"\bpercentage\b|"
            # "whats google's share?", "What is Amazon's share of Anthropic?" (not a share price)
            r"\bwhat(?:['’]?s|\s+is|\s+was)\s+(?:the\s+)?[\w\-]+['’]s\s+share\b(?!\s+(?:price|"
            r"holders?|capital))",
            re.IGNORECASE,
        ),
        "percent",
    ),
    # "How many $ ...?", "how many dollars": money is an amount, not a count.
    (
        re.compile(
            _ASKS + r"how many(?!\s*" + _MONEY_UNITS + r")\b|\bnumber of\b|" + _POPULATION, re.I
        ),
        "count",
    ),
    # "How often does the journal appear?" is answered by "a quarterly journal", no figure.
    (re.compile(_ASKS + r"how often\b", re.IGNORECASE), "frequency"),
    (
        re.compile(
            _ASKS
            + r"how (?:much|big|large|long|old|high|tall|far)\b|"
            + _ASKS
            + r"how many\s*"
            + _MONEY_UNITS
            + r"|"
            r"\b(?:what|which) (?:percentage|proportion|share|fraction|amount|rate|price|"
            r"cost|size|sum|figure|ratio|scores?|ratings?)\b|"
            # "What is the total Amazon has put in?" (not "the total number of ...")
            r"\bwhat(?:['’]s|\s+is|\s+was)\s+the\s+total\b(?!\s+(?:number|count)\b)|"
            # "amazon anthropic stake size", "What is the size of Amazon's stake?"
            r"\b(?:stake|investment|deal|funding|round|check|cheque|bet)\s+size\b|"
            r"\bsize\s+of\s+(?:the\s+|its\s+|their\s+|[\w\-]+['’]s\s+)?(?:[\w\-]+\s+)?"
            r"(?:stake|investment|deal|funding|round|check|cheque|bet)\b|"
            # Attributes that are quantities wherever they stand in the question.
            r"\b(?:price|revenue|valuation|valued|worth|budget|salary|turnover|amount|"
            r"market cap\w*|how much)\b",
            re.IGNORECASE,
        ),
        "amount",
    ),
    (
        re.compile(
            r"^\s*(?:in )?(?:what|which) (?:year|date|month|day|decade|century)\b|"
            # ... not a "when" that opens a clause before the question ("When the piece sets
            # the two deals side by side, what is the key difference?").
            r"^\s*when\b(?=\W*(?:is|are|was|were|do|does|did|will|would|has|have|had|can|"
            r"could|should|might|may|exactly|precisely|roughly|approximately)\b)|"
            r"^\s*when\b(?![^?]*,\s*(?:what|which|who|whom|whose|how|why|where|is|are|does|"
            r"do|did|can|would)\b)|"
            # A later clause asks when only as a question ("..., when is it due?"): "...,
            # when Microsoft signed" is no question.
            + _ASKS
            + r"when\s+(?:is|are|was|were|do|does|did|will|would|has|have|had|can|could)\b|"
            # ... or later in the question: "Who first named it, and in which year?"
            r"\b(?:in|on|by|since) (?:what|which) (?:year|date|month|day|decade|century)\b|"
            r"\b(?:since|from) when\b",
            re.IGNORECASE,
        ),
        "date",
    ),
    # A thing's name: "What are those chips called?", "What was the name of her mother?"
    (_CALLED_ASKED, "called"),
    # A place by its kind: "Which city is Anthropic based in?" needs one the text locates.
    (re.compile(_PLACE_ASKED, re.IGNORECASE), "place"),
    (
        re.compile(
            r"\b(?:what|which) (?:company|companies|firm|firms|organi[sz]ations?|country|"
            r"countries|city|cities|university|universities|institutes?|agency|agencies|"
            r"platform|product|brand|state|nation)\b",
            re.IGNORECASE,
        ),
        "name",
    ),
    # Who leads, founded or runs something is a human being, not an organisation.
    (
        re.compile(
            r"^\s*who\s+(?:first\s+)?(?:founded|co-?founded|leads|led|heads|headed|runs|ran|"
            r"directs|directed|chairs|chaired|manages|managed|negotiated)\b|"
            # "Who is the CEO ...", "who is Anthropic's ceo".
            r"^\s*who\s+(?:is|was|are|were)\s+(?:the\s+|[\w\-]+['’]s\s+)?(?:current\s+)?"
            r"(?:ceo|founders?|"
            r"co-?founders?|president|chair\w*|director|chief\s+\w+|head)\b|"
            r"\b(?:which|what)\s+(?:[\w'’-]+\s+){0,2}?(?:executives?|ceos?|founders?|co-?founders?|persons?|"
            r"scientists?|researchers?|officials?|leaders?|directors?|presidents?|chairm[ae]n|"
            r"spokesperson|virologists?|doctors?|physicians?)\b",
            re.IGNORECASE,
        ),
        "human",
    ),
    (re.compile(r"^\s*(?:who|whom)\b", re.IGNORECASE), "person"),
)
# A human being named in a text: an honorific before a name, a role title, a first and last
# name (two capitalised words inside the sentence), or a name that founds or leads ("founded
# by Smith", "Luther led").
_LEADING_VERBS = (
    r"(?:co-?)?founded|led|headed|directed|chaired|ran|run|managed|started|created|established"
)
_HUMAN = re.compile(
    rf"\b(?:{_LEADING_VERBS})\s+by\s+[A-Z]|\b[A-Z][a-z]+\s+(?:{_LEADING_VERBS})\b|"
    r"\b(?:Dr|Mr|Mrs|Ms|Prof|Sir|Dame)\.?\s+[A-Z]|"
    r"\b(?:CEO|chief executive|founders?|co-?founders?|president|chairm[ae]n|chairwoman|"
    r"director|spokesperson|head of)\b|"
    r"(?<=[\w,;:)] )[A-Z][a-z]+\s+(?:[A-Z]\.\s+)?[A-Z][a-z]{2,}\b"
)
# How often something happens: "quarterly", "twice a year", "every four years", "each spring".
_FREQUENCY = re.compile(
    r"\b(?:hourly|daily|nightly|weekly|fortnightly|monthly|quarterly|yearly|annual(?:ly)?|"
    r"bi-?annual(?:ly)?|biennial(?:ly)?|once|twice|thrice|every|each|per|always|often|"
    r"seldom|rarely|occasionally|regularly|sometimes|usually|times)\b",
    re.IGNORECASE,
)
_CHECKS = {
    "frequency": _FREQUENCY,
    "place": _PLACE,
    "human": _HUMAN,
    "count": _COUNT,
    "amount": _AMOUNT,
    "percent": _PERCENT,
    "date": _DATE,
    "name": _NAME,
    "called": re.compile(_NAMING.pattern + r"|(?<=[\w,;:)] )[A-Z][\w\-]+|[\"“‘][^\"”’]+[\"”’]"),
}


# The attributes that make a question ask for an amount wherever they stand (see _TYPES):
# a figure answers it only when it is that attribute's.
_AMOUNT_ATTRIBUTE = re.compile(
    r"\b(?:prices?|revenues?|valuations?|budgets?|salar(?:y|ies)|turnover|market cap\w*)\b",
    re.IGNORECASE,
)


# The verbs of a sale, which tell a price without the word (analysed terms), and money.
_CURRENCY = re.compile(
    r"[$€£¥]|\b(?:dollars?|euros?|pounds?|pence|shillings?|guineas?|guilders?|florins?|"
    r"francs?|marks?|kroner|kronor|krone|crowns?|rupees?|lire|lira|pesetas?|pesos?|roubles?|"
    r"rubles?|yuan|yen|ducats?|thalers?)\b",
    re.IGNORECASE,
)
_PRICE_TOLD = [({verb}, {"price"}) for verb in ("pay", "sell", "buy", "purchas", "fetch", "cost")]
# A question asking a sum of money: "How much did the cathedral cost to build?", "What price
# did a cheese fetch?", "How much money ...?".
_MONEY_ASKED = re.compile(
    r"\bhow much\b[^?]*\b(?:costs?|pay|paid|spend|spent|charged?|earn(?:ed)?|raised?|worth|"
    r"sell|sold|buy|bought|fetch(?:ed)?)\b|\b(?:what|which) (?:price|cost|fee|fare|salary|sum)\b|"
    r"\bhow much (?:money|cash)\b|"
    # "What did Microsoft pay for that exclusivity?"
    r"^\W*(?:and\s+|so\s+)?what\s+(?:did|does|do|will|would)\s+(?:[\w'’-]+\s+){1,3}"
    r"(?:pay|spend|charge)\b",
    re.IGNORECASE,
)
# Money told, or its absence ("free of charge", "cost nothing"), beyond _CURRENCY's coins.
_MONEY_TOLD = re.compile(
    _CURRENCY.pattern + r"|[₹]|\b(?:penny|pennies|halfpenny|cents?|sterling|bucks|free|nothing|"
    r"rand|dinars?|dirhams?|riyals?|shekels?|reais)\b",
    re.IGNORECASE,
)


# Institutions whose names hold their kind ("the University of Glasgow", "St Thomas'
# Hospital", "the Hallé Orchestra"): "Which university employed Thomson?" needs the word.
# Not prizes or medals, which answer one another ("Which prize?" - "the Davy Medal").
_INSTITUTION_ASKED = re.compile(
    r"\b(?:which|what)\s+(?:[a-z]+\s+)?(universit(?:y|ies)|colleges?|schools?|hospitals?|"
    r"museums?|churche?s?|cathedrals?|abbeys?|orchestras?|regiments?|railways?|banks?)\b",
    re.IGNORECASE,
)


def institution_untold(question: str, answering: Sequence[str]) -> bool:
    """Does the question ask which institution of a kind whose names hold the kind's word,
    and none of the sentences an answer would lead with holds the word?

    Example: institution_untold("Which university employed William Thomson?",
                                ["The physicist William Thomson joined the enterprise."])
             -> True; with ["He taught at the University of Glasgow."] -> False
    """
    m = _INSTITUTION_ASKED.search(question)
    return m is not None and not any(m.group(1).lower()[:5] in text.lower() for text in answering)


# Who reported something: "Which outlet first reported Amazon's plan?", "Who broke the story?"
# (the verb right after who or which-and-its-noun: "the reported cases" reports nothing).
_REPORTER_ASKED = re.compile(
    _ASKS + r"(?:who|(?:which|what)(?:\s+[\w-]+){1,2})\s+(?:first\s+)?(?:reported|"
    r"revealed|leaked|broke\s+(?:the\s+)?(?:news|story))\b|"
    + _ASKS
    + r"(?:which|what)\s+(?:[\w-]+\s+)?(?:outlets?|newspapers?|papers?|publications?|"
    r"magazines?|journalists?|reporters?|news\s+(?:outlets?|agenc(?:y|ies)|sites?))\s+"
    r"(?:\w+\s+)?(?:covered|reported|revealed|broke)\b",
    re.IGNORECASE,
)
# A report with its reporter: "according to Reuters", "The Times reported", "told the Post".
# "reportedly" and "is said to" tell that it was reported, not by whom.
_REPORTER_TOLD = re.compile(
    r"\baccording\s+to\b|\b(?:reported|reports|reporting|revealed|leaked|wrote|told|"
    r"announced|published|broke)\b|\b(?:said|says)\b(?!\s+to\b)|"
    r"\b(?:newspaper|paper|journal|magazine|outlet|gazette|times|post|herald|press|news)\b",
    re.IGNORECASE,
)


def reporter_untold(question: str, answering: Sequence[str]) -> bool:
    """Does the question ask who reported something, and none of the sentences an answer
    would lead with names a reporter? "Amazon is reportedly considering ..." tells that it
    was reported, not by whom.

    Example: reporter_untold("Which outlet first reported the plan?",
                             ["Amazon is reportedly considering a new investment."]) -> True;
             with ["The plan was first reported by the Daily Post."] -> False
    """
    return _REPORTER_ASKED.search(question) is not None and not any(
        _REPORTER_TOLD.search(text) for text in answering
    )


# A purchase of a company whole taken as done, not asked about: "Why did Amazon buy Anthropic
# outright?", "Now that Amazon holds a majority of Anthropic, ...", "How did Meta's acquisition
# of Anthropic change ...?". Bought is a named thing (not money buying "Amazon more control",
# nor "buying AI"), or a majority of one (not of voters); "Which company acquired Nordavia?"
# asks who, however the passages put it ("was absorbed into").
_PURCHASE_TAKEN = re.compile(
    r"\b(?:buy|buys|buying|bought|acquire[sd]?|acquiring|purchase[sd]?|purchasing)\s+"
    r"(?-i:[A-Z][a-z][\w-]*)(?!\s+(?:more|a|an|some|any|control|say|influence|access|time)\b)|"
    r"\b(?:acquisition|purchase|takeover)\s+of\s+(?-i:[A-Z][a-z][\w-]*)|"
    r"\b(?:majority\s+(?:stake\s+in|of|owner\s+of)|controlling\s+(?:stake|interest)\s+in)\s+"
    r"(?-i:[A-Z][a-z][\w-]*)",
    re.IGNORECASE,
)
_PREMISE = re.compile(
    r"^\W*(?:\w+\W+){0,3}?(?:why|how)\b|\bnow\s+that\b|\bsince\b|\bafter\b|"
    r"\b(?:acquisition|purchase|takeover)\s+of\b",
    re.IGNORECASE,
)
_PURCHASE_TOLD = re.compile(
    r"\b(?:acquir|bought|buy|purchas|sold|sell|sale|auction|takeover|took\s+over|"
    r"taken\s+over|majority|outright|merg|paid|pay)",
    re.IGNORECASE,
)


def purchase_untold(question: str, answering: Sequence[str]) -> bool:
    """Does the question take a purchase of a company whole (or a majority of it) as done,
    outside what it asks, and none of the sentences an answer would lead with tell of one? An
    investment in a company is not its purchase.

    Example: purchase_untold("Why did Amazon buy Anthropic outright?",
                             ["Amazon has invested around $8 billion in Anthropic."]) -> True;
             with ["In 2005 Amazon bought Anthropic for $8 billion."] -> False;
             purchase_untold("Why did Google buy into Anthropic?", [...]) -> False;
             purchase_untold("Which company acquired Nordavia?", [...]) -> False
    """
    taken = _PURCHASE_TAKEN.search(question) is not None and _PREMISE.search(question)
    return bool(taken) and not any(_PURCHASE_TOLD.search(text) for text in answering)


def money_untold(question: str, answering: Sequence[str]) -> bool:
    """Does the question ask a sum of money that none of the sentences an answer would lead
    with tells, in a clause with every name of the question that its sentence holds? Any
    number is an amount to answer_type, so "How much did a call on TAT-1 cost?" looked
    answered by "TAT-1 began carrying calls in 1956", and "What did Microsoft pay?" by
    "Amazon has invested $8 billion, but unlike Microsoft's deal, ...".

    Example: money_untold("How much did a call cost?", ["Calls began in 1956."]) -> True;
             with ["A call cost £1 a minute."] -> False;
             money_untold("What did Microsoft pay for it?", ["Amazon paid $8 billion, "
                          "but unlike Microsoft it holds less."]) -> True
    """
    if not _MONEY_ASKED.search(question):
        return False
    names = set(_terms(" ".join(specific_tokens(question))))
    # The names its sentence holds: one it leaves implied ("In 2004 it acquired ...") is the
    # passage's subject.
    return not any(
        _MONEY_TOLD.search(part) and names & set(_terms(text)) <= set(_terms(part))
        for text in answering
        for part in clauses(text)
    )


# Roles and deeds a "Who ...?" question may ask the holder or doer of, each with the words
# a sentence that answers tells it by (the role itself, its deed, or a plain synonym).
_ROLES = {
    "captain": r"captain\w*|skipper|master|command\w*|in\s+charge",
    "curator": r"curator\w*|keeper|director|in\s+charge",
    "landlord": r"landlord|landlady|innkeeper|keeper|kept|ran|run|licensee|own\w*|proprietor",
    "editor": r"edit\w*",
    "commander": r"command\w*|led|leader|captain\w*|in\s+charge|headed",
    "designer": r"design\w*|architect\w*|drew|drawn|planned|plans",
    "architect": r"design\w*|architect\w*|drew|drawn|planned|plans",
    "winner": r"won|win\w*|victor\w*|champion\w*|first\s+place|beat",
    "owner": r"own\w*|bought|purchased|acquired|belong\w*|proprietor",
    "author": r"author\w*|wrote|writ\w*|penned|compos\w*",
    "founder": r"found\w*|establish\w*|set\s+up|started|launched|created|began|begun",
    "director": r"direct\w*|led|headed|in\s+charge|lead\w*",
    "manager": r"manag\w*|ran|run\w*|led|in\s+charge",
    "inventor": r"invent\w*|devised|created|developed|came\s+up",
    "composer": r"compos\w*|wrote|written",
    "painter": r"paint\w*",
    "sculptor": r"sculpt\w*|carv\w*",
}
_DEEDS = {
    "captained": "captain",
    "commanded": "commander",
    "designed": "designer",
    "won": "winner",
    "owned": "owner",
    "owns": "owner",
    "wrote": "author",
    "edits": "editor",
    "edited": "editor",
    "founded": "founder",
    "directed": "director",
    "managed": "manager",
    "invented": "inventor",
    "composed": "composer",
    "painted": "painter",
    "carved": "sculptor",
    "sculpted": "sculptor",
}
_ROLE_TOLD = {role: re.compile(rf"\b(?:{told})\b", re.IGNORECASE) for role, told in _ROLES.items()}
_ROLE_ASKED = re.compile(
    r"^\W*who\s+(?:was|is|were|are)\s+(?:the\s+)?(?:[\w'’-]+\s+){0,3}?"
    rf"(?P<role>{'|'.join(_ROLES)})s?\b|"
    rf"^\W*who\s+(?:first\s+)?(?P<deed>{'|'.join(_DEEDS)})\b",
    re.IGNORECASE,
)


_WEIGHT_UNIT = r"\b(?:(?:kilo)?grams?|kg|tonnes?|tons?|pounds?|lbs?|ounces?|stones?)\b"


# Attributes a question asks for by their own name, each with the words a sentence gives it
# by, and whether that sentence must hold a number too: an age ("aged 70", "a 70-year-old",
# "born in 1801"), a rate ("5 per cent a year"), a title ("entitled", "called"), a weight (its
# unit with a number: "21.5 kilograms"). Other measures are not checked: a depth or height is
# told in too many ways ("lies in 30 metres of water", "stands at 1,200 metres"); read by
# their own words, they refused answerable development questions.
_ATTRIBUTES = (
    (
        r"^\W*how\s+old\b|\bwhat\s+age\b|\bat\s+what\s+age\b",
        r"aged?|ages|years?\s+old|\w+-year-old|born|birth\w*|died\s+at|at\s+\d+|matur\w*|"
        rf"(?:\d[\d.,]*|{_NUMBER_WORDS})\s+(?:years?|months?|weeks?|days?)\b",
        False,
    ),
    (
        r"\b(?:rate\s+of\s+interest|interest\s+rate)\b",
        r"interest|per\s*cent|percent|%|rate",
        False,
    ),
    (
        r"\bwhat\s+(?:is|was)\s+the\s+(?:title|name)\s+of\b[^?]*\b(?:book|novel|poem|play|"
        r"film|album|song|paper|report|thesis|study|memoir|history|biography)\b",
        r"titled|entitled|called|named|title|[\"“‘'][A-Z]",
        False,
    ),
    (
        r"\bweigh(?:s|ed|t)?\b|\bhow\s+heavy\b",
        _WEIGHT_UNIT + r"|\b(?:kilogrammes?|grammes?|g|oz|milligrams?|mg|hundredweight|"
        r"weigh\w*|heav\w*)\b",
        True,
    ),
)
_ATTRIBUTE_RULES = tuple(
    (re.compile(asked, re.IGNORECASE), re.compile(rf"(?:\b|^)(?:{told})", re.IGNORECASE), numbered)
    for asked, told, numbered in _ATTRIBUTES
)


def attribute_untold(question: str, answering: Sequence[str]) -> bool:
    """Does the question ask an age, a rate of interest, a work's title or a weight that none
    of the sentences an answer would lead with gives? "How old was the Reverend Amos Pyle?"
    is not answered by "the Reverend Amos Pyle of Whinmouth, who sent her more than 2,000
    words", nor "How much does a migrating monarch weigh?" by "Its wings span about 9 to 10
    centimetres" (a weight needs its unit with a number).

    Example: attribute_untold("How old was Pyle?", ["Pyle sent 2,000 words."]) -> True;
             attribute_untold("How old was Pyle?", ["Pyle, aged 70, sent them."]) -> False;
             attribute_untold("How much did it weigh?", ["It weighed 2 tonnes."]) -> False
    """
    return any(
        asked.search(question)
        and not any(
            told.search(text) and (not numbered or _COUNT.search(text)) for text in answering
        )
        for asked, told, numbered in _ATTRIBUTE_RULES
    )


def role_untold(question: str, answering: Sequence[str]) -> bool:
    """Does a "Who ...?" question ask the holder of a role or the doer of a deed that none
    of the sentences an answer would lead with tells? "Who was the captain of the Margery
    Blythe?" is not answered by "the collier Margery Blythe ... struck the pier", nor "Who
    designed the museum?" by "A museum was built over Pit 1"; a sentence naming its
    captain, designer or architect, or telling who commanded, drew or planned it, may.

    Example: role_untold("Who designed the museum?", ["A museum was built in 1979."]) -> True;
             role_untold("Who designed the museum?", ["It was designed by Ito."]) -> False
    """
    m = _ROLE_ASKED.search(question)
    if m is None:
        return False
    role = m.group("role") or _DEEDS[m.group("deed").lower()]
    told = _ROLE_TOLD[role.lower()]
    return not any(told.search(text) for text in answering)


def attribute_terms(question: str) -> set[str]:
    """The analysed terms of the amount attributes the question names (price, revenue,
    valuation, budget, salary, turnover, market cap).

    Example: attribute_terms("What was Anthropic's revenue last year?") -> {"revenu"};
             attribute_terms("How much has Amazon invested?") -> set()
    """
    return set(_terms(" ".join(m.group(0) for m in _AMOUNT_ATTRIBUTE.finditer(question))))


# What a "how many" question counts: the words after "how many", up to the verb or a
# preposition ("How many data centers has Amazon built?" -> "data centers").
_HOW_MANY = re.compile(r"\bhow many\s+([A-Za-z][\w\-]*)(?:\s+([A-Za-z][\w\-]*))?", re.IGNORECASE)
_COUNTED_STOP = frozenset(
    {
        "has", "have", "had", "did", "does", "do", "is", "are", "was", "were", "will", "would",
        "can", "could", "should", "may", "might", "must", "of", "in", "on", "at", "for", "per",
        "from", "with", "by", "to", "that", "who", "which", "there", "times",
    }
)  # fmt: skip


# What a share is of: "What percentage of patients develop ...?" -> "patients".
_SHARE_OF = re.compile(
    r"\b(?:percentage|percent|proportion|share|fraction)\s+of\s+(?:the\s+|all\s+)?"
    r"([A-Za-z][\w\-]*)",
    re.IGNORECASE,
)


def measured_terms(question: str) -> set[str]:
    """The analysed first word of what a question's percentage is a share of (the word after
    it is as often a verb, "of rats develop", as a noun): a percentage answers it only in a
    clause that names it, as counted_terms has a count's ("10 percent of patients" is no
    share of rats).

    Example: measured_terms("What percentage of rats develop Weil's disease?") -> {"rat"};
             measured_terms("What proportion of the cases were fatal?") -> {"case"};
             measured_terms("How much has Amazon invested?") -> set()
    """
    m = _SHARE_OF.search(question)
    if m is None or m.group(1).lower() in _COUNTED_STOP:
        return set()
    return set(_terms(m.group(1)))


def counted_terms(question: str) -> set[str]:
    """The analysed terms of what a "how many" question counts: its first one or two words
    after "how many", before a verb or a preposition ("times" counts nothing). A count
    answers it only in a clause that names one of them: "$8 billion" counts no data centers.

    Example: counted_terms("How many data centers has Amazon built?") -> {"data", "center"};
             counted_terms("How many employees work there?") -> {"employe", "work"};
             counted_terms("What is the population of Ornay?") -> {"popul", "inhabit", ...};
             counted_terms("How much has Amazon invested?") -> set()
    """
    if re.search(_POPULATION, question, re.IGNORECASE):
        return set(_RESIDENTS)
    m = _HOW_MANY.search(question)
    if m is None:
        return set()
    words = []
    for word in m.groups():
        if word is None or word.lower() in _COUNTED_STOP:
            break
        words.append(word)
    return set(_terms(" ".join(words)))


# A cardinal: digits or a number word ("three", "31,028"; not "most" or "several", which
# count nothing exactly).
_CARDINAL = re.compile(
    r"^(?:\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|"
    r"fifty|sixty|seventy|eighty|ninety|hundreds?|thousands?|millions?|billions?|dozens?)$",
    re.IGNORECASE,
)


def counts_counted(text: str, counted: set[str], *, gap: int = 2) -> bool:
    """Does a cardinal stand right before what the question counts (counted_terms), at most
    gap words between? "How many genotypes?" is answered by "three genotypes", not by a
    sentence on one genotype that holds some other number.

    Example: counts_counted("CHIKV has been isolated into three genotypes.", {"genotyp"})
             -> True;
             counts_counted("The Asian genotype emerged 50 to 310 years ago.", {"genotyp"})
             -> False
    """
    words = _TOKEN.findall(text)
    return any(
        _CARDINAL.match(word) and set(_terms(" ".join(words[i + 1 : i + 2 + gap]))) & counted
        for i, word in enumerate(words)
    )


def answer_type(question: str) -> str | None:
    """What kind of thing the question asks for: percent, count, amount, date, name, person or
    None.

    Example: answer_type("How much has Google invested in Anthropic?") -> "amount";
             answer_type("What percentage of Anthropic does Amazon own?") -> "percent";
             answer_type("Why is Amazon investing?") -> None;
             answer_type("How much leverage does Amazon have?") -> None
    """
    if _DEGREE_ASKED.search(question):
        return None  # a degree is said in words: "less leverage", "tighter control"
    for pattern, kind in _TYPES:
        if pattern.search(question):
            return kind
    return None


# "How much leverage / control / say does Amazon have?" asks a degree, which the documents say
# in words ("Amazon holds less leverage"), not an amount: no figure is owed.
_DEGREE_ASKED = re.compile(
    r"\bhow\s+much\s+(?:real\s+|actual\s+)?(?:leverage|control|influence|say|sway|power|"
    r"freedom|independence|autonomy|trust|confidence|risk|pressure|competition|attention|"
    r"interest|enthusiasm|clout|weight|priority|importance|uncertainty|flexibility)\b",
    re.IGNORECASE,
)


# A question that names the unit of its answer: a bare "when" may be answered "after the
# war", "how long" "for decades"; "in which year" only by a year.
_UNIT_NAMED = re.compile(
    r"\b(?:what|which) (?:year|date|month|decade|century|percentage|proportion|fraction)\b|"
    + _PLACE_ASKED
    + r"|"
    + _CALLED_ASKED.pattern
    + r"|"
    r"\bpercent(?:age)?\b|"
    + _ASKS
    + r"how many\b|\bnumber of\b|\bhow much (?:money|cash)\b|"
    + _ASKS
    + r"how much\b(?! (?:longer|more|of|time)\b)",
    re.IGNORECASE,
)


# "What does 'hedging its bets' mean here?", "What is meant by the ultimate prize?", "Explain
# 'real-time experiment'": a question about what a phrase of the documents means.
_MEANING = re.compile(
    r"^\W*(?:what\s+(?:does|do|did)\s+(?:the\s+)?(?:\w+\s+)?means?\s+by\s+(?P<a>.+?)|what\s+(?:does|do|is|are)\s+(?P<b>.+?)\s+(?:mean|means|refer\s+to|"
    r"stand\s+for)(?:\s+(?:here|exactly|in\s+this\s+context|in\s+the\s+\w+))?|"
    r"what\s+is\s+meant\s+by\s+(?P<c>.+?)|(?:explain|define)\s+(?:the\s+(?:phrase|term|"
    r"expression|idea)\s+)?(?P<d>.+?))\W*$",
    re.IGNORECASE,
)


def phrase_asked_about(question: str) -> str | None:
    """The phrase (two words or more) a question asks the meaning of, quotes taken off; None
    when it asks no such thing.

    Example: phrase_asked_about('What does "hedging its bets" mean here?') -> "hedging its bets";
             phrase_asked_about("What does Amazon mean?") -> None
    """
    m = _MEANING.match(" ".join(question.split()))
    if m is None:
        return None
    phrase = next(g for g in m.groups() if g)
    phrase = re.sub(r"(?i)^(?:the\s+)?(?:term|phrase|word|expression|idea)\s+", "", phrase)
    phrase = phrase.strip(" \"'“”‘’")
    phrase = re.sub(r"^(?:the|a|an)\s+(?=\S+\s)", "", phrase, flags=re.IGNORECASE)
    asks_again = re.match(r"(?i)(?:why|how|what|who|when|where|which)\b", phrase)
    return phrase if len(phrase.split()) >= 2 and not asks_again else None


# The noun a question opens by naming its answer's kind with ("In what year ...?", "What
# colour was ...?"): a sentence holding a value of that kind says it without the noun
# ("methicillin, introduced in 1959", "a sixpence value in green"), so the noun is no term
# it lacks.
_KIND_NOUN = re.compile(
    r"^\W*(?:(?:in|on|at|of|by|to|from|for|during)\s+)?(?:what|which)\s+"
    r"(?P<noun>years?|dates?|months?|days?|decades?|century|centuries|"
    r"colou?rs?|sizes?|lengths?|heights?|widths?|depths?|weights?|prices?|costs?|sums?|"
    r"percentages?|proportions?|fractions?|ages?|distances?|speeds?)\b",
    re.IGNORECASE,
)
_COLOUR = re.compile(
    r"\b(?:red|blue|green|yellow|black|white|grey|gray|brown|orange|purple|pink|violet|"
    r"scarlet|crimson|golden|silver|dun|chestnut|cream|ivory|maroon|navy|turquoise|amber|"
    r"beige|[a-z]+-coloured|[a-z]+-colored)\b",
    re.IGNORECASE,
)
_HOW_MEASURE = re.compile(
    r"^\W*(?:(?:and|so|but)\s+)?how\s+(?P<measure>long|far|large|big|high|tall|old|deep|wide|"
    r"heavy|often)\b",
    re.IGNORECASE,
)
_DURATION_UNIT = re.compile(
    r"\b(?:seconds?|minutes?|hours?|days?|nights?|weeks?|fortnights?|months?|years?|decades?|"
    r"century|centuries|generations?|lifetimes?)\b",
    re.IGNORECASE,
)
_LENGTH_UNIT = (
    r"\b(?:(?:milli|centi|kilo)?met(?:re|er)s?|mm|cm|km|miles?|feet|foot|ft|inch(?:es)?|"
    r"yards?|leagues?|hands)\b"
)
_LENGTH = re.compile(_LENGTH_UNIT, re.IGNORECASE)
_SIZE = re.compile(
    _LENGTH_UNIT + "|" + _WEIGHT_UNIT + r"|\b(?:square|hectares?|acres?|litres?|gallons?)\b",
    re.IGNORECASE,
)
# The unit a measure is given in ("How far" in kilometres, "How old" in years of age);
# "often" has none beyond its frequency words.
_MEASURE_UNITS = {
    "far": _LENGTH,
    "high": _LENGTH,
    "tall": _LENGTH,
    "deep": _LENGTH,
    "wide": _LENGTH,
    "heavy": re.compile(_WEIGHT_UNIT, re.IGNORECASE),
    "large": _SIZE,
    "big": _SIZE,
    "old": re.compile(r"\baged\b|\byears?\s+old\b|\bage\s+of\b|-year-old\b", re.IGNORECASE),
}
_TIMED = re.compile(r"\b(?:take|takes|took|taken|last|lasts|lasted|spend|spent|wait)\b", re.I)
_DURATION_VERB = re.compile(r"(?<=\s)(?:last|lasts|lasted|take|takes|took|taken)\b(?!\s+\w)")
_NOUN_KINDS = {
    "year": "date", "date": "date", "month": "date", "day": "date", "decad": "date",
    "centuri": "date", "percentag": "percent", "proport": "percent", "fraction": "percent",
}  # fmt: skip


# A sentence's text and its analysed terms -> whether it says the asked words.
_Says = Callable[[str, set[str]], bool]


def kind_words(question: str, kind: str | None) -> list[tuple[set[str], _Says]]:
    """The analysed words by which the question names its answer's kind, each with the test
    a sentence passes when it says them by a value (read once per question; kind_nouns_told
    applies them to a sentence).

    Example: [(terms, says)] = kind_words("In what year did it open?", "date");
             terms == {"year"}, says("It opened in 1959.", {"open", "1959"}) is True
    """
    out: list[tuple[set[str], _Says]] = []
    # "How long did the course last?", "How far was it?": the measure and the verb of a
    # duration are said by the figure ("lectures for three years") in its own unit: "How
    # old was the cabin boy?" is not said by "two more", nor "How long do eggs take to
    # hatch?" by "depths of about 2,000 metres". "How long is the gestation period?" may ask
    # a length or a time: only a verb of duration ("last", "take") says which.
    measured = _HOW_MEASURE.match(question)
    if measured is not None and kind is not None:
        measure = measured.group("measure").lower()
        timed = measure == "long" and _TIMED.search(question) is not None
        if timed or measure != "long":
            unit = _DURATION_UNIT if timed else _MEASURE_UNITS.get(measure)
            words = set(_terms(" ".join([measure, *_DURATION_VERB.findall(question)])))
            out.append((words, functools.partial(_says_measure, kind, unit)))
    # The question's own opening only: "Who named it, and in which year?" asks who first.
    for m in _KIND_NOUN.finditer(question):
        for term in _terms(m.group("noun")):
            if term.startswith("colo"):
                if kind is None:
                    out.append(({term}, _says_colour))
                continue
            noun_kind = _NOUN_KINDS.get(term, "amount")
            if noun_kind != kind:
                continue
            # A share of what the question measures: "What percentage of rats develop it?"
            # is not said by "10 percent of patients develop it".
            shared = measured_terms(question) if noun_kind == "percent" else set()
            out.append(({term}, functools.partial(_says_value, noun_kind, shared)))
    return out


def _says_measure(kind: str, unit: re.Pattern[str] | None, text: str, terms: set[str]) -> bool:
    return has_answer_type(kind, text) and (unit is None or unit.search(text) is not None)


def _says_colour(text: str, terms: set[str]) -> bool:
    return _COLOUR.search(text) is not None


def _says_value(kind: str, of: set[str], text: str, terms: set[str]) -> bool:
    return has_answer_type(kind, text) and of <= terms


def kind_nouns_told(
    question: str,
    text: str,
    kind: str | None,
    asked: list[tuple[set[str], _Says]] | None = None,
    terms: set[str] | None = None,
) -> set[str]:
    """The analysed nouns by which the question names its answer's kind ("In what year",
    "What colour") for which text holds a value of that kind: a date for a year, a month or
    a day, a share for a percentage, a colour for a colour, a figure for a size, a price or
    the like; and the measure of "How long/far/large ...?" with the verb of a duration ("How
    long does a tour last?") for a figure in the measure's unit. Only a noun of the kind the
    question asks for (kind, answer_type's): "Who named it, and in which year?" asks for a
    person, and a year does not name them. asked: kind_words(question, kind), and terms:
    text's analysed terms, when read already.

    Example: kind_nouns_told("In what year did methicillin come into use?",
                             "methicillin, introduced in 1959, resisted it", "date")
             -> {"year"};
             kind_nouns_told("What colour was the sixpence?", "a sixpence in green", None)
             -> {"colour"};
             kind_nouns_told("In what year did it open?", "It opened late.", "date") -> set()
    """
    if asked is None:
        asked = kind_words(question, kind)
    if terms is None:
        terms = set(_terms(text))
    return {word for words, says in asked if says(text, terms) for word in words}


def unit_named(question: str) -> bool:
    """Whether the question names the unit its answer comes in, so that a passage without
    one does not answer it.

    Example: unit_named("In which year was Anthropic founded?") -> True;
             unit_named("When was Anthropic founded?") -> False
    """
    return answer_type(question) is not None and bool(_UNIT_NAMED.search(question))


_WHY = re.compile(
    r"^\s*(?:and\s+|so\s+|but\s+)?why\b|\bwhat (?:is|was|are|were) the (?:reasons?|purpose|"
    r"motivation|rationale)\b|\bfor what (?:reason|purpose)\b",
    re.IGNORECASE,
)
# Words that give a reason or a purpose.
_REASON = re.compile(
    r"\b(?:because|due to|owing to|thanks to|since|as a result|in order to|so that|"
    r"aim(?:s|ed|ing)? to|seek(?:s|ing)? to|intend(?:s|ed)? to|designed to|reasons?|purpose|"
    r"goal|motivat\w*|rationale|driven by|given that|hedg\w*|strategy|leads? to|led to|"
    r"results? in|resulted in|caus(?:e|es|ed|ing)|therefore|thus|hence)\b",
    re.IGNORECASE,
)


# A question asking what someone is after: its answer is told as a purpose ("aiming to
# secure access", "more about securing access") as a why-question's is. Not "goal" nor
# "aim": "the end goal everybody is chasing" is a thing (AGI), not a purpose.
_PURPOSE = re.compile(
    r"\b(?:motives?|motivations?|objectives?|intentions?)\b|"
    r"\b(?:hoping|hopes?|trying|aiming|wants?|wanting)\s+(?:to|for)\b|"
    r"\b(?:get|gain|gets|gains|getting)\s+out\s+of\b|\bin\s+it\s+for\b|"
    r"\bafter\s+(?:an?\s+(?:quick|fast)\b|\W*$)",
    re.IGNORECASE,
)


# A question asking whose something is, or for someone by a role ("Which monarch ...?",
# "Which member of the family ...?"): mostly answered by a person, but also by an office or a
# group ("Whose records ...? The General Register Office"), so for ranking only.
_SOMEONE_ASKED = re.compile(
    r"\bwhose\b|\b(?:which|what)\s+(?:[\w'’-]+\s+)?(?:monarchs?|kings?|queens?|emperors?|"
    r"empress|princes?|princess|popes?|bishops?|artists?|painters?|sculptors?|composers?|"
    r"writers?|authors?|poets?|novelists?|architects?|engineers?|inventors?|explorers?|"
    r"relatives?|members?|generals?|admirals?|captains?|pupils?|students?|teachers?|rulers?|"
    r"collectors?|merchants?|ministers?|priests?|monks?|nuns?)\b",
    re.IGNORECASE,
)


def selection_type(question: str) -> str | None:
    """What a sentence answering the question should hold, for ranking sentences: the answer
    type, "reason" for a why-question (a reason is too loosely marked to decide refusals
    on, so answer_type leaves it out), or "person" for whose or for a role.

    Example: selection_type("Why is Amazon investing in Anthropic?") -> "reason";
             selection_type("What is Amazon hoping to get out of it?") -> "reason";
             selection_type("When was SARS-CoV first identified?") -> "date";
             selection_type("Which monarch commissioned the ship?") -> "person"
    """
    kind = answer_type(question)
    if kind is None and (_WHY.search(question) or _PURPOSE.search(question)):
        return "reason"
    if kind is None and _SOMEONE_ASKED.search(question):
        return "person"
    return kind


# Before a name of a place: "in Cornwall", "at the Kels Hill mine", "the village of Ornay".
_PLACE_BEFORE = re.compile(
    r"\b(?:in|at|from|near|into|across|throughout|towards?|outside|inside|off|via|"
    r"(?:village|town|city|borough|county|province|region|state|island|district|port) of)"
    r"\s+(?:the\s+)?$",
    re.IGNORECASE,
)


# The last word of a place's or a structure's name: "Marrowgate Market", "the Gradina Dam".
_PLACE_WORDS = frozenset([
    "market", "dam", "bridge", "road", "street", "lane", "avenue", "river", "lake", "sea",
    "ocean", "bay", "mountain", "mountains", "mount", "hill", "hills", "valley", "island",
    "islands", "mine", "works", "hall", "station", "park", "square", "church", "cathedral",
    "castle", "tower", "palace", "library", "museum", "airport", "harbour", "harbor", "canal",
    "reservoir", "forest", "desert", "peninsula", "province", "county", "district", "region",
    "coast", "strait",
])  # fmt: skip


# A sentence opening with a name as the doer of a verb ("Amazon builds", "Hallam died",
# "Hugh Baird scored"): _NAME skips a sentence's first word, which is capitalised anyway.
# Not a passive's subject: "Ravoxin was developed by ..." names what was done, not who.
_OPENING_DOER = re.compile(
    r"\s*([A-Z][\w\-]*(?:\s+[A-Z][\w\-]*)*)\s+"
    r"(?!(?:is|was|are|were)\s+(?:\w+ly\s+)?(?:\w+ed|\w+en|made|built|held|led|sold|bought)\b)"
    r"(?:is|was|are|were|has|had|have|will|would|can|could|[a-z]+ed|[a-z]+s)\b"
)
_HE_OR_SHE = re.compile(r"\b(?:he|she)\b", re.IGNORECASE)
_NOT_A_NAME = STOP | {"he", "she", "they", "we", "you", "his", "her", "our", "your", "one"}


def _someone_by_role(text: str, besides: frozenset[str] = frozenset()) -> bool:
    """Does text tell of someone by a word for people or a role (_PERSONS) other than the
    question's own? "the judge ruled" does not say who "the judge who heard the case" was.
    besides: lower-cased words of the question (parts of "vice-chancellor" count alone).

    Example: _someone_by_role("The judge ruled for Monarch.", frozenset({"judge"})) -> False;
             _someone_by_role("It was designed by the engineer Walter Brigham.") -> True
    """
    own = {part[:5] for word in besides for part in word.split("-") if part}
    return any(m.group().lower()[:5] not in own for m in _PERSONS.finditer(text))


def _names_someone(text: str, besides: frozenset[str] = frozenset()) -> bool:
    """Does text name someone who could answer "who": "he" or "she", a name opening it as a
    verb's doer, or a name (a run of words _NAME finds, one space apart) that is not a
    place's? A name after "in", "at", "from" ... is a place, as is one listed after a place
    ("in Cornwall, England") and one ending in a word such as "Market", "Dam" or "River".
    besides: lower-cased words of names that do not count (the question's own: "Who founded
    Heller Pharma?" is not answered by "Heller Pharma").

    Example: _names_someone("It was first described in 1921 from specimens collected at the
             Kels Hill mine in Cornwall, England.") -> False;
             _names_someone("It was described in 1921 by Anna Ström.") -> True
    """
    if _HE_OR_SHE.search(text):
        return True  # "She discovered polonium in 1898.": the passage's person
    first = _OPENING_DOER.match(text)
    if first:
        words = first.group(1).split()
        named = {w.lower() for w in words}
        opener = words[0].lower()
        counted = re.fullmatch(_NUMBER_WORDS, opener) is not None  # "Three dams were built"
        if (
            opener not in _NOT_A_NAME
            and not counted
            and words[-1].lower() not in _PLACE_WORDS
            and not named <= besides
        ):
            return True  # "Amazon builds custom chips in Austin."
    runs: list[list[re.Match[str]]] = []
    for m in _NAME.finditer(text):
        if runs and text[runs[-1][-1].end() : m.start()] == " ":
            runs[-1].append(m)
        else:
            runs.append([m])
    place = False
    end = -1
    for run in runs:
        listed = place and end >= 0 and text[end : run[0].start()] in {", ", " and "}
        place = (
            listed
            or bool(_PLACE_BEFORE.search(text[max(0, run[0].start() - 40) : run[0].start()]))
            or run[-1].group(0).lower() in _PLACE_WORDS
        )
        if not place and not {m.group(0).lower() for m in run} <= besides:
            return True
        end = run[-1].end()
    return False


_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
# A year written as a date: after a word of time ("in 1906", "since 2005", "the late 1890s",
# "1986-87"), in brackets, or after a month ("March 1911", "3 December 1928").
_DATED = re.compile(
    r"\b(?:in|of|since|by|until|till|from|to|between|and|during|before|after|early|late|mid)"
    r"[\s-]+(?:the\s+)?(?:(?:early|late|mid)[\s-]+)?(?:1[0-9]|20)\d\d(?:s\b|[–-]\d{2,4})?\b"
    rf"|\((?:1[0-9]|20)\d\d\)|\b(?:\d{{1,2}}\s+)?(?:{_MONTHS})\s+(?:1[0-9]|20)\d\d\b",
    re.IGNORECASE,
)


# Countries and continents, which a sentence may name as its subject ("China is the largest
# producer") rather than after a preposition.
_COUNTRY = re.compile(
    r"\b(?:Afghanistan|Albania|Algeria|Andorra|Angola|Argentina|Armenia|Australia|Austria|"
    r"Azerbaijan|Bahamas|Bahrain|Bangladesh|Barbados|Belarus|Belgium|Belize|Benin|Bhutan|"
    r"Bolivia|Bosnia|Botswana|Brazil|Brunei|Bulgaria|Burkina Faso|Burundi|Cambodia|Cameroon|"
    r"Canada|Chad|Chile|China|Colombia|Comoros|Congo|Costa Rica|Croatia|Cuba|Cyprus|Czechia|"
    r"Czech Republic|Denmark|Djibouti|Dominica|Ecuador|Egypt|El Salvador|England|Eritrea|"
    r"Estonia|Eswatini|Ethiopia|Fiji|Finland|France|Gabon|Gambia|Georgia|Germany|Ghana|"
    r"Greece|Grenada|Guatemala|Guinea|Guyana|Haiti|Honduras|Hungary|Iceland|India|Indonesia|"
    r"Iran|Iraq|Ireland|Israel|Italy|Jamaica|Japan|Jordan|Kazakhstan|Kenya|Kiribati|Korea|"
    r"Kosovo|Kuwait|Kyrgyzstan|Laos|Latvia|Lebanon|Lesotho|Liberia|Libya|Liechtenstein|"
    r"Lithuania|Luxembourg|Madagascar|Malawi|Malaysia|Maldives|Mali|Malta|Mauritania|"
    r"Mauritius|Mexico|Moldova|Monaco|Mongolia|Montenegro|Morocco|Mozambique|Myanmar|Namibia|"
    r"Nauru|Nepal|Netherlands|New Zealand|Nicaragua|Niger|Nigeria|Norway|Oman|Pakistan|Palau|"
    r"Panama|Papua New Guinea|Paraguay|Peru|Philippines|Poland|Portugal|Qatar|Romania|Russia|"
    r"Rwanda|Samoa|San Marino|Saudi Arabia|Scotland|Senegal|Serbia|Seychelles|Sierra Leone|"
    r"Singapore|Slovakia|Slovenia|Somalia|South Africa|Spain|Sri Lanka|Sudan|Suriname|Sweden|"
    r"Switzerland|Syria|Taiwan|Tajikistan|Tanzania|Thailand|Togo|Tonga|Tunisia|Turkey|"
    r"Turkmenistan|Tuvalu|Uganda|Ukraine|United Arab Emirates|United Kingdom|United States|"
    r"Uruguay|Uzbekistan|Vanuatu|Venezuela|Vietnam|Wales|Yemen|Zambia|Zimbabwe|Africa|"
    r"Antarctica|Asia|Europe|North America|South America|Oceania)\b"
)


def _placed(text: str, names: set[str]) -> bool:
    """Whether text locates something in a place other than the question's names (analysed),
    or names a country or a continent other than theirs.

    Example: _placed("It is headquartered in Tromsø.", {"nordavia"}) -> True;
             _placed("Light from the city of Porth Ferris grew.", set()) -> True;
             _placed("China is the largest producer.", set()) -> True;
             _placed("Amazon invested $8 billion in Anthropic.", {"anthrop"}) -> False
    """
    found = [*_PLACE.finditer(text), *_PLACE_OF.finditer(text)]
    if any(not set(_terms(m.group("place"))) <= names for m in found):
        return True
    return any(not set(_terms(m.group())) <= names for m in _COUNTRY.finditer(text))


def has_answer_type(kind: str | None, text: str) -> bool:
    """Does text hold something of that kind (True when kind is None)?

    Example: has_answer_type("amount", "Amazon has invested around $8 billion.") -> True;
             has_answer_type("amount", "Anthropic is partly owned by Google.") -> False;
             has_answer_type("amount", "It was rehoused in a strongroom in 1906.") -> False
    """
    if kind is None:
        return True
    if kind == "person":
        return bool(_PERSONS.search(text)) or _names_someone(text)
    if kind == "reason":
        return bool(_REASON.search(text))
    if kind == "date" and _MONTH.search(text):
        return True
    if kind in ("amount", "count"):
        # A date's year counts nothing: "rehoused in a strongroom in 1906" gives no cost.
        text = _DATED.sub(" ", text)
    return bool(_CHECKS[kind].search(text))


# Where a sentence turns to another subject: "Amazon has invested $8 billion, but unlike
# Microsoft, ...", "..., while Google ...", a spaced dash. Commas are not breaks: they also
# separate the items of one list ("2.1 in Hong Kong, 2.7 in Singapore"); nor are brackets,
# which mostly name the same thing again ("severe acute respiratory syndrome (SARS-CoV)"),
# nor colons and semicolons, which join the fields of one record ("Station: Harbour Gate;
# Opened: 1998", how a spreadsheet row reads).
_CLAUSE_BREAK = re.compile(
    r"\s[–—-]\s|,?\s+\b(?:but|while|whereas|although|though|unlike|however|yet|whilst)\b",
    re.IGNORECASE,
)
_ATTACHED_KINDS = frozenset({"amount", "percent", "count", "date", "human"})


def clauses(text: str) -> list[str]:
    """text cut where it turns to another subject (see _CLAUSE_BREAK).

    Example: clauses("Amazon has invested $8 billion, but Google owns part of it.")
             -> ["Amazon has invested $8 billion", " Google owns part of it."]
    """
    out, start = [], 0
    for m in _CLAUSE_BREAK.finditer(text):
        out.append(text[start : m.start()])
        start = m.end()
    out.append(text[start:])
    return [c for c in out if c.strip()]


def attached_type(
    kind: str | None,
    text: str,
    names: set[str],
    *,
    aliases: Sequence[tuple[set[str], set[str]]] = (),
) -> bool:
    """Does text hold something of that kind in a clause that also names every one of names
    (analysed terms of the question's names; a name the question writes two ways, aliases as
    with_aliases takes them, in either form)? An amount, a count or a date belongs to what its
    own clause is about: "How much has Google invested?" is not answered by "Amazon invested
    $8 billion, while Google owns a stake." Other kinds (and no names) are has_answer_type.

    Example: attached_type("amount", "Amazon invested $8 billion, while Google owns a stake.",
                           {"googl"}) -> False; with {"amazon"} -> True
    """
    if kind not in _ATTACHED_KINDS or not names:
        return has_answer_type(kind, text)
    return any(
        has_answer_type(kind, clause) and names <= with_aliases(set(_terms(clause)), aliases)
        for clause in clauses(text)
    )


# ---------------------------------------------------------------- ranking sentences


def phrase_overlap(question: str, text: str) -> float:
    """The share of the question's adjacent term pairs (analysed, stopwords out) that text
    holds adjacent too: a sentence that says what the question asks about uses its phrases
    ("incubation period", "conjugate vaccination"), not only its words.

    Example: phrase_overlap("What is the mean incubation period?",
                            "The mean incubation period was 5 days.") -> 1.0;
             phrase_overlap("What is the mean incubation period?",
                            "The period of incubation has a mean of 5 days.") -> 0.0
    """
    asked = set(itertools.pairwise(analyze(question)))
    if not asked:
        return 0.0
    return len(asked & set(itertools.pairwise(analyze(text)))) / len(asked)


# ---------------------------------------------------------------- key terms

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-]*[A-Za-z0-9]|[A-Za-z0-9]")
_QUESTION_OPENERS = frozenset(
    [
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "is",
        "are",
        "was",
        "were",
        "do",
        "does",
        "did",
        "can",
        "could",
        "would",
        "should",
        "will",
        "has",
        "have",
        "had",
        "in",
        "on",
        "at",
        "for",
        "from",
        "by",
        "of",
        "to",
        "tell",
        "give",
        "list",
        "name",
        "explain",
        "describe",
        "compare",
    ]
)


def _terms(text: str) -> tuple[str, ...]:
    """The analysed terms of text as the features compare them: as retrieval analyses text
    (lexical.analyze), an ordinal read as its number ("11th" as the passages' "March 11"),
    and the past of an irregular verb as the verb ("sat for eleven days" answers "How long
    did the inquiry sit?").

    Example: _terms("the economy on 11th March") -> ("economi", "11", "march");
             _terms("the inquiry sat") -> ("inquiri", "sit")
    """
    text = _ORDINALS.sub(r"\1", text)
    # Most texts hold no irregular past, and the long alternation costs 0.1 ms a sentence:
    # a set lookup of the words first (evidence_features 21 -> 12 ms on 60 sentences).
    if not _BASE_FORMS.keys() & _LETTERS.findall(text.lower()):
        return _analysed(text)
    return _analysed(_IRREGULAR_FORM.sub(_base_form, text))


def _base_form(m: re.Match[str]) -> str:
    return _BASE_FORMS[m.group().lower()]


# The same sentences and clauses are analysed for several features; a stemmer call per word
# is most of their time.
@functools.lru_cache(maxsize=8192)
def _analysed(text: str) -> tuple[str, ...]:
    return tuple(analyze(text))


# Words a question puts for the passages' own (analysed terms, each side read as the other,
# as with_aliases reads a name's two forms): "How many people lived on Pellan?" is answered
# by "The population fell from about 600", "How much did it cost to ride?" by "The fare
# was a halfpenny", "When was the foundry set up?" by "It was founded in 1742".
_PARAPHRASES = [
    ({"popul"}, {"peopl", "live"}), ({"popul"}, {"inhabit"}), ({"popul"}, {"resid"}),
    ({"fare"}, {"cost"}), ({"fee"}, {"cost"}), ({"price"}, {"cost"}),
    ({"found"}, {"set", "up"}), ({"found"}, {"establish"}), ({"establish"}, {"set", "up"}),
    ({"blame"}, {"respons"}), ({"run"}, {"manag"}), ({"run"}, {"oper"}),
    ({"die"}, {"death"}), ({"born"}, {"birth"}), ({"author"}, {"write"}),
    ({"begin"}, {"start"}), ({"end"}, {"finish"}), ({"occur"}, {"take", "place"}),
    ({"happen"}, {"occur"}), ({"happen"}, {"take", "place"}), ({"replac"}, {"take", "place"}),
    ({"today"}, {"now"}), ({"base"}, {"home"}),
    # ... and the business press's: "shareholders" for "investors", "wager" for "bet",
    # "homegrown" for "in-house", "headaches" for "complexities" ...
    ({"sharehold"}, {"investor"}), ({"stockhold"}, {"investor"}), ({"wager"}, {"bet"}),
    ({"gambl"}, {"bet"}), ({"jackpot"}, {"prize"}), ({"reward"}, {"prize"}),
    ({"piec"}, {"part"}), ({"portion"}, {"part"}), ({"piec"}, {"partial"}),
    ({"part"}, {"partial"}), ({"internal"}, {"hous"}), ({"homegrown"}, {"hous"}),
    ({"home", "grow"}, {"hous"}), ({"outscor"}, {"outperform"}), ({"trail"}, {"lag"}),
    ({"headach"}, {"complex"}), ({"troubl"}, {"complex"}), ({"problem"}, {"complex"}),
    ({"semiconductor"}, {"chip"}), ({"processor"}, {"chip"}), ({"firm"}, {"compani"}),
    ({"busi"}, {"compani"}), ({"cash"}, {"money"}), ({"capit"}, {"money"}),
    ({"fund"}, {"money"}), ({"rival"}, {"competitor"}), ({"giant"}, {"major"}),
    ({"big"}, {"major"}), ({"larg"}, {"major"}), ({"tech"}, {"technolog"}),
    # ... and everyday words for a cost or a difficulty: "expensive" for "costly".
    ({"expens"}, {"cost"}), ({"pricey"}, {"cost"}), ({"hard"}, {"difficult"}),
    ({"hard"}, {"challeng"}), ({"difficult"}, {"challeng"}),
    # ... and the words for a way's cost and gain: a "downside" is told as what is costly,
    # challenging or a risk, an "upside" as a benefit or an advantage.
    ({"downsid"}, {"cost"}), ({"downsid"}, {"challeng"}), ({"downsid"}, {"risk"}),
    ({"drawback"}, {"cost"}), ({"drawback"}, {"challeng"}), ({"drawback"}, {"risk"}),
    ({"disadvantag"}, {"cost"}), ({"disadvantag"}, {"challeng"}), ({"disadvantag"}, {"risk"}),
    ({"upsid"}, {"benefit"}), ({"upsid"}, {"advantag"}), ({"advantag"}, {"benefit"}),
    # ... and money put into a company ("How much has it put in?", "poured into", "sunk
    # into"), the market by its street, a quick profit as an immediate gain, a thing tried
    # out as an experiment, a trophy as a prize.
    ({"put"}, {"invest"}), ({"pour"}, {"invest"}), ({"sink"}, {"invest"}),
    ({"sunk"}, {"invest"}), ({"wall", "street"}, {"market"}), ({"quick"}, {"immedi"}),
    ({"profit"}, {"gain"}), ({"tri", "out"}, {"experi"}), ({"trophi"}, {"prize"}),
]  # fmt: skip
_ORDINALS = re.compile(r"\b(\d+)(?:st|nd|rd|th)\b")
# Common irregular verbs: (verb, past, participle).
_IRREGULAR_VERBS = [
    ("take", "took", "taken"), ("win", "won", "won"), ("make", "made", "made"),
    ("give", "gave", "given"), ("become", "became", "become"), ("begin", "began", "begun"),
    ("lead", "led", "led"), ("hold", "held", "held"), ("build", "built", "built"),
    ("buy", "bought", "bought"), ("sell", "sold", "sold"), ("write", "wrote", "written"),
    ("find", "found", "found"), ("leave", "left", "left"), ("run", "ran", "run"),
    ("go", "went", "gone"), ("come", "came", "come"), ("see", "saw", "seen"),
    ("say", "said", "said"), ("tell", "told", "told"), ("get", "got", "got"),
    ("know", "knew", "known"), ("bring", "brought", "brought"), ("teach", "taught", "taught"),
    ("pay", "paid", "paid"), ("meet", "met", "met"), ("lose", "lost", "lost"),
    ("fall", "fell", "fallen"), ("rise", "rose", "risen"), ("grow", "grew", "grown"),
    ("draw", "drew", "drawn"), ("fight", "fought", "fought"), ("send", "sent", "sent"),
    ("spend", "spent", "spent"), ("break", "broke", "broken"), ("choose", "chose", "chosen"),
    ("speak", "spoke", "spoken"), ("stand", "stood", "stood"), ("keep", "kept", "kept"),
    ("sing", "sang", "sung"), ("drive", "drove", "driven"), ("fly", "flew", "flown"),
    ("throw", "threw", "thrown"), ("wear", "wore", "worn"), ("steal", "stole", "stolen"),
    ("bear", "bore", "borne"), ("sit", "sat", "sat"), ("seek", "sought", "sought"),
    ("think", "thought", "thought"), ("strike", "struck", "struck"), ("swim", "swam", "swum"),
    ("ride", "rode", "ridden"), ("shake", "shook", "shaken"), ("hide", "hid", "hidden"),
    ("eat", "ate", "eaten"), ("sink", "sank", "sunk"), ("freeze", "froze", "frozen"),
    ("forgive", "forgave", "forgiven"), ("undertake", "undertook", "undertaken"),
    ("withdraw", "withdrew", "withdrawn"), ("overtake", "overtook", "overtaken"),
    ("arise", "arose", "arisen"),
]  # fmt: skip
# Their pasts and participles, read as the verb; not those that are also other words ("found"
# a company, "left", "saw", "rose", "fell", "lay", "bore", "lost", "met", "said", "got").
_OTHER_SENSES = frozenset("found left saw rose fell lay bore borne lost met said got".split())  # noqa: SIM905
_BASE_FORMS = {
    form: verb
    for verb, past, participle in _IRREGULAR_VERBS
    for form in (past, participle)
    if form != verb and form not in _OTHER_SENSES
}
_IRREGULAR_FORM = re.compile(r"\b(?:" + "|".join(_BASE_FORMS) + r")\b", re.IGNORECASE)
_LETTERS = re.compile(r"[a-z]+")


def specific_tokens(question: str) -> list[str]:
    """The question's names, acronyms and numbers (lower-cased), in order, without repeats.

    Example: specific_tokens("How much did Google invest in Anthropic in 2019?")
             -> ["google", "anthropic", "2019"]
    """
    out: list[str] = []
    for run in name_runs(question):
        out.extend(low for low in run if low not in out)
    return out


def name_runs(question: str) -> list[list[str]]:
    """The question's names, acronyms and numbers (lower-cased), grouped into the runs they
    stand in next to one another: one run is one name written in several words.

    Example: name_runs("What was R0 in South Korea and in Japan?")
             -> [["r0"], ["south", "korea"], ["japan"]]
    """
    runs: list[list[str]] = []
    end = -1
    for i, m in enumerate(_TOKEN.finditer(question)):
        word = m.group()
        low = word.lower()
        caps = sum(ch.isupper() for ch in word)
        specific = (
            any(ch.isdigit() for ch in word)
            or caps >= 2
            or (word[:1].isupper() and i > 0 and low not in _QUESTION_OPENERS)
        )
        if not specific or low in STOPWORDS:
            continue
        if runs and not question[end : m.start()].strip():
            runs[-1].append(low)
        else:
            runs.append([low])
        end = m.end()
    return runs


# Words that frame a question rather than say what it is about (analysed): "What happened to
# the case who died?" is answered by "The case who died was hospitalised for 21 days", "Is it
# possible to get infected with two viruses?" by a sentence on coinfection, "What is an
# example of a structural challenge?" by "challenges such as overcrowding", "What is the
# mechanism of rupintrivir?" by what it does; "What does the infrastructure actually consist
# of?" by "infrastructure investments, including custom chips". The answer seldom repeats them.
_FRAME_TERMS = frozenset(
    {"happen", "exampl", "get", "possibl", "kind", "sort", "mechan", "consist", "compris"}
    | {"actual", "realli"}
)
# Phrases that only place the question in time ("How much has it put in so far?"): a passage
# that gives the amount need not say "so far".
# Phrases that only say where the answer is to be read ("according to the article", "in this
# text", "does the author say"): no passage says "article" of itself.
_DOCUMENT_FRAME = re.compile(
    r"\b(?:according to|in|from|by|does|did|do)\s+(?:the|this|these)\s+"
    r"(?:article|text|document|passage|report|paper|authors?|writer|piece|story|reporter|"
    r"journalist|columnist|commentator)s?\b"
    r"(?:\s+(?:say|says|said|state|states|claim|claims|suggest|suggests|think|thinks|"
    r"believe|believes|argue|argues|expect|expects|give|gives|reckon|reckons|see|sees|"
    r"describe|describes|call|calls|characteri[sz]e|characteri[sz]es|portray|portrays))?",
    re.IGNORECASE,
)
_TIME_QUALIFIER = re.compile(
    r"\b(?:so|thus)\s+far\b|\bto\s+date\b|\buntil\s+now\b|\bas\s+of\s+(?:now|today)\b",
    re.IGNORECASE,
)

# Adverbs that place a deed in its story ("Which publisher finally accepted the novel?" over
# "rejected by four publishers before being accepted by Gollancz"), and the words that ask a
# meaning ("What is the meaning of walghvogel?" over "the walghvogel, or 'wretched bird'"):
# the sentence that answers need not say them.
_SEQUENCE_ADVERB = re.compile(
    r"\b(?:finally|eventually|ultimately|initially|originally|subsequently)\b", re.IGNORECASE
)
_MEANING_FRAME = re.compile(
    r"\b(?:the\s+)?(?:meaning|translation)\s+of\b|\bmean\s*(?=\?|$)", re.IGNORECASE
)

# A request's own words ("Tell me about the chips Microsoft builds"): what it asks about follows.
_REQUEST_FRAME = re.compile(
    r"^\W*(?:(?:can|could|would)\s+you\s+|please\s+)?(?:tell|give|show)\s+(?:me|us)\b"
    r"(?:\s+(?:more\s+)?about\b)?",
    re.IGNORECASE,
)


# A spoken word for "the part about": "the infrastructure bit", "the money thing".
_SPOKEN_PART = re.compile(r"\b((?:the|that|this)\s+[\w-]+)\s+(?:bit|thing|stuff)\b", re.I)


def _unframed(question: str) -> str:
    """The question without the phrases that only frame it in time, in its story ("finally")
    or in the document, as a request ("Tell me about ...") or as asking a meaning.

    A question about the document itself ("What is in the report?") keeps its words: with
    no term left, the document phrase is what it asks about.

    Example: _unframed("What is costly according to the article?") -> "What is costly  ?";
             _unframed("What is the money thing about?") -> "What is the money about?";
             _unframed("What is the meaning of walghvogel?") -> "What is   walghvogel?"
    """
    question = _SPOKEN_PART.sub(r"\1", question)
    timeless = _TIME_QUALIFIER.sub(" ", _REQUEST_FRAME.sub(" ", question))
    timeless = _SEQUENCE_ADVERB.sub(" ", _MEANING_FRAME.sub(" ", timeless))
    unframed = _DOCUMENT_FRAME.sub(" ", timeless)
    return unframed if _terms(unframed) else timeless


def key_term_weights(
    question: str, idf: Callable[[str], float], *, name_boost: float = 2.0
) -> dict[str, float]:
    """Weight of each analysed question term: its IDF, doubled for names and numbers, which a
    right answer must mention; nothing for the words that only frame the question
    ("happened", "example", "possible", "mechanism": _FRAME_TERMS), and none for a phrase
    that only places it in time ("so far", "to date": _TIME_QUALIFIER) or in the document
    ("according to the article": _DOCUMENT_FRAME).

    Example: with idf = {"amazon": 0.5, "invest": 2.0, "happen": 3.0}.get,
             key_term_weights("How much has Amazon invested?", idf)
             -> {"amazon": 1.0, "invest": 2.0};
             key_term_weights("What happened to Amazon?", idf) -> {"happen": 0.0, "amazon": 1.0}
             key_term_weights("How much has Amazon invested so far?", idf)
             -> {"amazon": 1.0, "invest": 2.0}
    """
    question = _unframed(question)
    names = set(_terms(" ".join(specific_tokens(question))))
    weights: dict[str, float] = {}
    for term in dict.fromkeys(_terms(question)):
        w = max(idf(term) or 0.0, 0.0)
        if term in _FRAME_TERMS and term not in names:
            w = 0.0
        weights[term] = w * (name_boost if term in names else 1.0)
    return weights


def _coverage(weights: dict[str, float], terms: set[str]) -> float:
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    return sum(w for t, w in weights.items() if t in terms) / total


def _tokens(text: str) -> set[str]:
    return {m.group().lower() for m in _TOKEN.finditer(text)}


_ORDINAL = re.compile(r"^(\d+)(?:st|nd|rd|th)$")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_DIGITS = re.compile(r"\D+")
_HAS_DIGIT = re.compile(r"\d")
_NUMBER_RANGE = re.compile(r"^\d+(?:-\d+)+$")


# An acronym in brackets, and the (at most eight) words just before a bracket.
_BRACKETED = re.compile(r"\(\s*([A-Za-z][\w-]{1,11})\s*\)")
_WORDS_BEFORE = re.compile(r"((?:[A-Za-z0-9][\w-]*\s+){0,7}[A-Za-z0-9][\w-]*)\s*$")


def spelled_out(question: str) -> list[tuple[str, set[str]]]:
    """Each acronym the question spells out in brackets, with the name words before it that
    spell it (lower-cased, as specific_tokens gives them): one name written two ways. The
    words spell it when they start with its first letter and hold its letters in order;
    "complement 5a (WASH)" does not ("WASH" came from elsewhere).

    Example: spelled_out("How does Mannose Binding Lectin (MBL) act?")
             -> [("mbl", {"mannose", "binding", "lectin"})];
             spelled_out("What is the role of complement 5a (WASH)?") -> []
    """
    return [
        (acronym, set(specific_tokens(" ".join(["The", *words]))))
        for acronym, words in acronym_spellings(question)
    ]


def acronym_spellings(text: str) -> list[tuple[str, list[str]]]:
    """Each acronym text spells out in brackets (lower-cased), with the words before it that
    spell it, as written (see spelled_out).

    Example: acronym_spellings("only hepatitis B virus (HBV) and hepatitis D virus (HDV)")
             -> [("hbv", ["hepatitis", "B", "virus"]), ("hdv", ["hepatitis", "D", "virus"])]
    """
    out = []
    # Each bracket first, then the words before it: one pattern for both tries every start
    # in a long passage.
    for m in _BRACKETED.finditer(text):
        if sum(ch.isupper() for ch in m.group(1)) < 2:
            continue  # "(see below)", "(children)": not an acronym
        acronym = _NON_ALNUM.sub("", m.group(1).lower())
        before = _WORDS_BEFORE.search(text, max(0, m.start() - 400), m.start())
        if before is None:
            continue
        words = before.group(1).split()
        # The fewest words that spell it, at most one more than it has letters, from a word
        # that is not a stop word; fewer words if their initials spell it too, more if only
        # more words' initials do ("C-C chemokine receptor type 5 (CCR5)", not "chemokine
        # receptor type 5", which spells it letter by letter).
        spelling = [
            start
            for start in range(len(words) - 1, max(-1, len(words) - len(acronym) - 2), -1)
            if _spells(acronym, words[start:])
        ]
        if spelling:
            start = next((s for s in spelling if _spells(acronym, words[s:], initials=True)), None)
            out.append((acronym, words[spelling[0] if start is None else start :]))
    return out


def _spells(acronym: str, words: list[str], *, initials: bool = False) -> bool:
    """Do words spell acronym: the first word not a stop word, starting with its first letter,
    and the words holding its letters in order (with initials, the initials of the words and
    of their hyphenated parts hold them)?

    Example: _spells("ccr5", ["chemokine", "receptor", "type", "5"]) -> True;
             _spells("ccr5", ["chemokine", "receptor", "type", "5"], initials=True) -> False;
             _spells("ccr5", ["C-C", "chemokine", "receptor", "type", "5"], initials=True)
             -> True
    """
    first = words[0].lower()
    if first in STOPWORDS or first in _QUESTION_OPENERS:
        return False
    if initials:
        letters = "".join(part[0] for part in _NON_ALNUM.split(" ".join(words).lower()) if part)
    else:
        letters = _NON_ALNUM.sub("", " ".join(words).lower())
    return letters[:1] == acronym[:1] and _in_order(acronym, letters)


def _in_order(letters: str, text: str) -> bool:
    """Does text hold letters in this order (not necessarily together)?

    Example: _in_order("mbl", "mannosebindinglectin") -> True; _in_order("bl", "lab") -> False
    """
    rest = iter(text)
    return all(ch in rest for ch in letters)


def _mentioned(token: str, tokens: set[str], squashed: str) -> bool:
    """Is the question's name or number token in the passages, written as they write it or
    as a person may type it? An ordinal is its number ("5th" in "5 February"); a name with
    a separator or with digits may be spaced or joined otherwise ("SARS-likeCoV" in
    "SARS-like CoV", "COVID19" in "COVID-19"); a name may be the head of a hyphenated one
    ("COVID" in "COVID-19"); a name of three letters or more may be one where the passage
    has several, or the other way round ("ARTI" in "ARTIs"); a long word may be misspelt by
    one letter, two from eight letters on ("Zanamavir" for "zanamivir"), a long name with
    digits by one letter, its digits the same ("CEAMCAM1" for "CEACAM1": `near_spelling`).
    Numbers must match exactly: a changed year or count is another fact. A range of numbers
    is mentioned when each of its ends is ("2011-2014" in "between 2011 and 2014").

    Example: _mentioned("5th", {"5", "february"}, "5february") -> True;
             _mentioned("2019", {"2015"}, "2015") -> False;
             _mentioned("covid", {"covid-19"}, "covid19") -> True;
             _mentioned("2011-2014", {"2011", "and", "2014"}, "2011and2014") -> True
    """
    if token in tokens:
        return True
    if _NUMBER_RANGE.match(token):
        return all(end in tokens for end in token.split("-"))
    ordinal = _ORDINAL.match(token)
    if ordinal:
        return ordinal.group(1) in tokens
    joined = _NON_ALNUM.sub("", token)
    if joined.isdigit():
        return False
    # Only names with letters and a separator or a digit: a bare number inside a longer one
    # is another.
    if ("-" in token or any(c.isdigit() for c in token)) and len(joined) >= 5:
        return joined in squashed or any(near_spelling(token, t) for t in tokens)
    if not token.isalpha():
        return False
    if len(token) >= 3 and any(t.startswith(token + "-") for t in tokens):
        return True
    if len(token) >= 3 and (token + "s" in tokens or (token[-1] == "s" and token[:-1] in tokens)):
        return True  # one or several: "ARTI" where the passage speaks of "ARTIs"
    if _demonym_of(token, tokens):
        return True  # "Londoners" where the passage speaks of "people in London"
    return len(token) >= 6 and any(near_spelling(token, t) for t in tokens)


_DEMONYM_ENDS = ("ers", "er", "ians", "ian", "ans", "an", "ites", "ite", "ese")


def _demonym_of(token: str, tokens: set[str]) -> bool:
    """Is token (lower-case letters) a word for the people of a place among tokens: its
    ending taken off, at least four letters left, which the place's name starts with, at
    most two letters more ("londoners" for "london", "parisians" for "paris", "canadian"
    for "canada")?

    Example: _demonym_of("londoners", {"people", "in", "london"}) -> True;
             _demonym_of("londoners", {"lonely"}) -> False
    """
    for end in _DEMONYM_ENDS:
        base = token[: -len(end)]
        if not token.endswith(end) or len(base) < 4:
            continue
        if any(t.startswith(base) and len(t) - len(base) <= 2 and t.isalpha() for t in tokens):
            return True
    return False


def _with_neighbours(question: str) -> list[tuple[str, str, str]]:
    """Each word of the question (lower-cased, as specific_tokens gives them) with the word
    just before and just after it ("" when there is none, or when more than a space or a
    hyphen stands between them).

    Example: _with_neighbours("Is Staph aureus?") -> [("is", "", "staph"),
             ("staph", "is", "aureus"), ("aureus", "staph", "")]
    """
    found = list(_TOKEN.finditer(question))
    out = []
    for i, m in enumerate(found):
        before = after = ""
        if i > 0 and not question[found[i - 1].end() : m.start()].strip(" -"):
            before = found[i - 1].group().lower()
        if i + 1 < len(found) and not question[m.end() : found[i + 1].start()].strip(" -"):
            after = found[i + 1].group().lower()
        out.append((m.group().lower(), before, after))
    return out


def compound_mentioned(token: str, before: str, after: str, tokens: set[str], text: str) -> bool:
    """Is the question's name token in the passages as part of one word with its neighbour
    in the question (before or after it), or shortened, its following word there too?
    "Director General" is the passages' "Director-General" or "DirectorGeneral"; "Staph
    aureus" is their "Staphylococcus aureus" (a shortened word is told by the word that
    follows it, at least four letters kept). tokens: the passages' words (lower-cased,
    hyphens kept); text: the passages, lower-cased.

    Example: compound_mentioned("general", "director", "of", {"director-general"}, "")
             -> True;
             compound_mentioned("staph", "what", "aureus", set(),
                                "response to staphylococcus aureus (s. aureus)") -> True;
             compound_mentioned("staph", "what", "epidermidis", set(),
                                "response to staphylococcus aureus") -> False
    """
    for first, second in ((before, token), (token, after)):
        if first and second and (f"{first}-{second}" in tokens or first + second in tokens):
            return True
    if len(token) < 4 or not token.isalpha() or not after:
        return False
    shortened = rf"\b{re.escape(token)}[a-z]{{2,}}\.?\s+{re.escape(after)}\b"
    return re.search(shortened, text) is not None


def near_spelling(typed: str, word: str) -> bool:
    """Is typed a misspelling of word: the same first letter, and one edit apart (an added,
    dropped or changed letter, or two swapped), two from eight letters on? Both lower-case.
    A name with digits must have the same digits, in the same order, and at least five
    letters, one edit apart: a changed digit, or a letter of a short code, is another strain
    or another protein.

    Example: near_spelling("influenze", "influenza") -> True;
             near_spelling("mannanose", "mannose") -> True;
             near_spelling("anthropic", "amazon") -> False;
             near_spelling("ceamcam1", "ceacam1") -> True;
             near_spelling("ceacam5", "ceacam1") -> False;
             near_spelling("2019-vcov", "2019-ncov") -> False
    """
    if typed[:1] != word[:1] or _DIGITS.sub("", typed) != _DIGITS.sub("", word):
        return False
    if not word.isalpha() and (
        sum(ch.isalpha() for ch in typed) < 5 or not _HAS_DIGIT.search(word)
    ):
        return False  # a short code with digits ("2019-vCoV", "HKU1") is exact or another
    limit = 2 if len(typed) >= 8 and typed.isalpha() else 1
    if abs(len(typed) - len(word)) > limit:
        return False
    return _edits(typed, word, limit) <= limit


def _edits(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein distance of a and b (adjacent swaps count once), or limit + 1
    once it must exceed limit.

    Example: _edits("recieve", "receive", 2) -> 1; _edits("abcdef", "uvwxyz", 2) -> 3
    """
    before: list[int] | None = None
    row = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + cost)
            swapped = i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]
            if before is not None and swapped:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        before, row = row, current
    return min(row[-1], limit + 1)


def _base(term: str) -> str:
    """An analysed term without "-ship", which only makes a noun of the state of being one
    (partnership, ownership, leadership; four letters left at least, and not "hardship").

    Example: _base("partnership") -> "partner"; _base("worship") -> "worship"
    """
    if term.endswith("ship") and len(term) >= 8 and term != "hardship":
        return term[:-4]
    return term


def _based(weights: Mapping[str, float]) -> dict[str, float]:
    """weights with each term read as its _base (weights of one base added)."""
    out: dict[str, float] = {}
    for term, weight in weights.items():
        out[_base(term)] = out.get(_base(term), 0.0) + weight
    return out


def name_displacement(
    weights: Mapping[str, float],
    names: Sequence[Sequence[set[str]]],
    sentence_terms: Sequence[set[str]],
    *,
    min_terms: int = 2,
    previous: Sequence[int | None] | None = None,
) -> float:
    """How much more of the question's non-name term weight the best sentence holds than
    any sentence holding one of its names (or following a sentence that does); the most
    over the names the sentences hold. 0 when the best sentence holds fewer than min_terms
    of those terms. Names no sentence holds are entity_missing's business.

    weights: the question's key-term weights; names: each name as the analysed terms of its
    words (a sentence holds a name of several words when it holds one of them: "South Korea"
    is the passage's "Republic of Korea");
    sentence_terms: each candidate sentence's analysed terms; previous: for each, the index
    of the sentence just before it in its document (None: not among them). Without
    previous, each sentence follows the one listed before it. Candidates come passage by
    passage in retrieval order, so the one listed before may be the last sentence of another
    passage: only the sentence before it in the document can be what its "it" points to.

    Example: weights {"googl": 2, "stake": 1, "exclus": 1}, names [[{"googl"}]], sentences
             [{"amazon", "stake", "exclus"}, {"anthrop", "own", "googl"}]
             -> 1.0 (stake and exclusive are Amazon's; the Google sentence holds neither);
             with the Google sentence first, the stake sentence follows it -> 0.0
    """
    named = {term for name in names for word in name for term in word}
    rest = {t: w for t, w in weights.items() if t not in named and w > 0}
    if not rest or not sentence_terms:
        return 0.0
    cover = [_coverage(rest, terms) for terms in sentence_terms]
    best = max(cover)
    held = (len(rest.keys() & t) for c, t in zip(cover, sentence_terms, strict=True) if c == best)
    if max(held) < min_terms:
        return 0.0

    before = list(previous) if previous is not None else [None, *range(len(cover) - 1)]
    gap = 0.0
    for name in names:
        words = [word for word in name if word]

        def holds(terms: set[str], words: list[set[str]] = words) -> bool:
            return any(word <= terms for word in words)

        if not words or not any(holds(terms) for terms in sentence_terms):
            continue
        with_name = max(
            (
                c
                for c, terms, j in zip(cover, sentence_terms, before, strict=True)
                if holds(terms) or (j is not None and holds(sentence_terms[j]))
            ),
            default=0.0,
        )
        gap = max(gap, best - with_name)
    return gap


# The auxiliaries after which a question names who does what it asks about: "What chips is
# Meta supplying?", "Why did Google invest?". After a bare copula the name is what is asked
# about ("What was R0 in Korea?"), unless a participle follows ("What is Amazon pursuing?").
_AUXILIARY = r"is|are|was|were|has|have|had|does|do|did|will|would|can|could|should|might|may|must"
_COPULA = frozenset({"is", "are", "was", "were"})
_NAME_WORD = r"[A-Za-z0-9][\w\-]*"
# A sentence's clause opens with its doer: a name (one or more capitalised words) right
# before a finite verb, an aside between commas allowed ("Amazon, on the other hand, is
# hedging"), at the start or after a comma or semicolon ("By investing in it, Amazon aims").
_CLAUSE_DOER = re.compile(
    r"(?:^|[,;]\s+)((?:[A-Z][\w\-]*)(?:\s+[A-Z][\w\-]*)*)(?:,[^,]{1,40},)?\s+"
    r"(?:(?:also|already|now|still|then|later|recently|currently)\s+)?"
    r"(?:is|are|was|were|has|have|had|will|would|can|could|may|might|should|does|did|"
    r"[a-z]+s|[a-z]+ed)\b"
)


def implied_names(names: set[str], sentence: str, topic: str) -> set[str]:
    """The names (analysed terms) that sentence holds without writing them: those of names
    that its passage's first sentence (topic) gives, when sentence points back (anaphoric).

    Example: implied_names({"marwick", "optic"}, "The company was listed in 1986.",
                           "Marwick Optics is a German maker of microscopes.")
             -> {"marwick", "optic"}; with "Marwick was listed in 1986." -> set()
    """
    if not topic or not anaphoric(sentence):
        return set()
    return set(_terms(topic)) & names


# A number that is part of a name: "the 1986 Continental Cup Final", "the Building Act of
# 1731", "Apollo 11".
# "1986", "1986–87", "1,200". Possessive, and never starting inside another number ("1,1,1"
# read from each of its commas made a passage of 40,000 such characters take 38 s).
_NUMBER = r"(?<![\w–-])(?<!\d[,.])\d++(?:[,.]\d++)*+(?:[–-]\d++)?+(?![\w–-])"
_CAPS = r"[A-Z][\w\-]*(?:\s+[A-Z][\w\-]*)*"
_NUMBER_BEFORE_NAME = re.compile(rf"({_NUMBER})\s+({_CAPS})")
_NAME_BEFORE_NUMBER = re.compile(rf"({_CAPS})\s+(?:of\s+)?({_NUMBER})")


# "In 2004 Halvorsen acquired ..." dates what a name does: that number is not part of the name.
_DATING = frozenset({"in", "on", "by", "since", "from", "until", "after", "before", "during"})


def _named_numbers(text: str, pattern: str | None = None) -> list[tuple[str, str]]:
    """(number, name) for each number written right before a name, not after a preposition.

    Example: _named_numbers("the 1987 Cup Final; in 2004 Halvorsen") -> [("1987", "Cup Final")]
    """
    regex = re.compile(pattern) if pattern else _NUMBER_BEFORE_NAME
    out = []
    for m in regex.finditer(text):
        before = text[: m.start()].split()
        if before and before[-1].lower().strip("(,") in _DATING:
            continue
        out.append((m.group(1), m.group(2)))
    return out


_COUNTED = re.compile(rf"({_NUMBER})\s+([a-z][\w-]*)(?:\s+([a-z][\w-]*))?")


def _counted_elsewhere(question: str, text: str) -> bool:
    """Does the question count a thing by a number ("in 41 days") that the text gives only
    with other things ("41 islands"), while it counts that thing only by other numbers ("In
    54 days")? Years are not counts.

    Example: _counted_elsewhere("How far did they go in 41 days?",
                                "In 54 days they covered 640 km, charting 41 islands.") -> True;
             with "in 54 days" asked -> False
    """
    # What a number counts is one of the two words after it ("41 islands", "28 sledge dogs").
    told = [
        (m.group(1), {w[:5] for w in m.group(2, 3) if w and w not in STOP})
        for m in _COUNTED.finditer(text)
    ]
    for m in _COUNTED.finditer(question):
        number, noun = m.group(1), m.group(2)
        if re.fullmatch(r"1\d\d\d|20\d\d", number) or noun in STOP:
            continue
        thing = noun[:5]
        by_number = set().union(*(t for n, t in told if n == number))
        numbers = {n for n, t in told if thing in t}
        if by_number and numbers and thing not in by_number and number not in numbers:
            return True
    return False


# Values of one kind that a question may swap for another ("on Thursday" for "on Tuesday",
# "a twentieth-century collector" for "a nineteenth-century one", "three tonnes" for "one
# tonne"). Not "first" or "last", which a sentence often leaves implied ("How did Soto score
# his first goal?" over "Soto converted a penalty"), nor years (year_displacement's).
_VALUE_KINDS = tuple(
    frozenset(kind.split())
    for kind in (
        "monday tuesday wednesday thursday friday saturday sunday",
        # Not "may", a verb in every sentence that hedges.
        "january february march april june july august september october november december",
        "second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
        "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth",
        "spring summer autumn winter",
        # Superlatives of size, age, time, speed, worth: "the smallest windmill in the county"
        # is not "the tallest windmill in the county".
        "largest biggest smallest tallest shortest longest highest lowest oldest youngest "
        "newest earliest latest fastest slowest strongest weakest richest poorest heaviest "
        "lightest deepest shallowest widest narrowest hottest coldest warmest coolest "
        "wettest driest best worst greatest cheapest busiest quietest finest",
    )
)
_SUPERLATIVE_KIND = next(k for k, kind in enumerate(_VALUE_KINDS) if "tallest" in kind)
# Superlatives that say the same ("the biggest swarms" are "the largest swarms").
_SAME_SUPERLATIVE = {"biggest": "largest", "greatest": "largest", "tallest": "highest"}
_NUMBER_VALUE = re.compile(
    r"\d[\d,.]*|(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
    r"fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|"
    r"seventy|eighty|ninety|hundred)"
)
# A letter and a digit in one word make a name ("H7N9", "K4"), not a value.
_MIXED = re.compile(r"\b(?=\w*[A-Za-z])(?=\w*\d)[\w.]+")
_VALUE_TOKEN = re.compile(r"[A-Za-z]+|\d[\d,.]*\d|\d|#")
_NOT_CONTEXT = frozenset(["the", "a", "an", "of", "and", "in", "on", "at", "to", "by", "about"])
# The kinds of _VALUE_KINDS that date (a day, a month, a season): their preposition ties them.
_DATING_KINDS = frozenset({0, 1, 3})


def _value_tokens(text: str) -> list[str]:
    """text's words and numbers, lower case, a name with digits as "#", a plural as its
    singular ("tonnes" -> "tonne"), thousands unseparated.

    Example: _value_tokens("A bell of 1,200 tonnes, Lathe K4") -> ["a", "bell", "of", "1200",
             "tonne", "lathe", "#"]
    """
    out = []
    for word in _VALUE_TOKEN.findall(_MIXED.sub(" # ", text)):
        w = word.lower().replace(",", "")
        w = _SAME_SUPERLATIVE.get(w, w)
        if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
            out.append(w[:-1])
        else:
            out.append(w)
    return out


def _value_kind(word: str) -> int | None:
    if _NUMBER_VALUE.fullmatch(word):
        return None if _YEAR.fullmatch(word) else len(_VALUE_KINDS)
    return next((k for k, kind in enumerate(_VALUE_KINDS) if word in kind), None)


def value_swapped(question: str, lead: str) -> bool:
    """Does the sentence an answer would lead with give, next to the same word, another value
    of the kind the question gives (a weekday, a month, an ordinal, a season, a superlative,
    a number) and never the question's? "What did the fire destroy on Thursday?" over "On
    Tuesday the fire destroyed St Paul's": the passages tell of another day.

    Example: value_swapped("How long did a bell of three tonnes take to cool?",
                           "A bell of one tonne took two days to cool.") -> True;
             with "A bell of three tonnes took five days." -> False
    """
    asked, told = _value_tokens(question), _value_tokens(lead)
    held = set(told)
    # "Is it the tallest building?" is answered by "It is the shortest building": no.
    checked = asks_yes_or_no(question)
    for i, word in enumerate(asked):
        kind = _value_kind(word)
        if kind is None or word in held or (checked and kind == _SUPERLATIVE_KIND):
            continue
        # A day, a month or a season is tied by its preposition ("on Thursday"); a number or
        # an ordinal by what it counts or orders.
        near = {w for w in _beside(asked, i) if kind in _DATING_KINDS or w not in _NOT_CONTEXT}
        if any(
            other != word and _value_kind(other) == kind and near & set(_beside(told, j))
            for j, other in enumerate(told)
        ):
            return True
    return False


def _beside(words: Sequence[str], i: int) -> list[str]:
    """The words just before and just after words[i]."""
    return [words[k] for k in (i - 1, i + 1) if 0 <= k < len(words)]


def number_displacement(question: str, passages: Sequence[str]) -> float:
    """1 when the question writes a number as part of a name ("the 1986 Continental Cup
    Final", "the Building Act of 1731") that the passages write only with other numbers ("The
    1987 Continental Cup Final", "the Building Act of 1724"): the question asks about an event
    or a thing the passages do not have. The number elsewhere in the passages (another year)
    does not make it theirs.

    Example: number_displacement("Who won the 1986 Continental Cup Final?",
                                 ["The 1987 Continental Cup Final was played in Porto."])
             -> 1.0; with "Who won the 1987 Continental Cup Final?" -> 0.0
    """
    text = " ".join(passages)
    # A sentence holding both the number and the name's words makes the name the passages'
    # ("In 2009 H1N1 spread" for "the 2009 H1N1 pandemic").
    sentences = re.split(r"(?<=[.!?])\s+", text)

    def together(number: str, words: list[str]) -> bool:
        alone = re.compile(rf"(?<![\w–-]){re.escape(number)}(?![\w–-])")
        return any(alone.search(s) and all(w in s for w in words) for s in sentences)

    for number, name in _named_numbers(question):
        words = name.split()[:2]
        head = r"\s+".join(re.escape(w) for w in words)
        found = [n for n, _ in _named_numbers(text, rf"({_NUMBER})\s+({head})\b")]
        if found and number not in found and not together(number, words):
            return 1.0
    if _counted_elsewhere(question, text):
        return 1.0
    for name, number in _NAME_BEFORE_NUMBER.findall(question):
        words = name.split()[-2:]
        if words[0].lower() in _QUESTION_OPENERS:
            words = words[1:]
        if not words:
            continue
        tail = r"\s+".join(re.escape(w) for w in words)
        found = re.findall(rf"\b{tail}\s+(?:of\s+)?({_NUMBER})", text)
        if found and number not in found and not together(number, words):
            return 1.0
    return 0.0


_DATED_YEAR = re.compile(
    # A month's name only ("in March 1911"), in capitals even where the rest ignores case:
    # "out of the 1938 merger" names the merger by its year, it does not date the question.
    r"\b(in|on|since|by|during|from|until|before|after|of)\s+(?-i:[A-Z][a-z]+\s+)?"
    r"((?:1[0-9]|20)\d\d)\b",
    re.I,
)


_YEAR = re.compile(r"\b(?:1[0-9]|20)\d\d\b")


def years_in(text: str) -> set[str]:
    """The years text writes, as four digits.

    Example: years_in("She was awarded the Davy Medal in 1947, and retired in 1956.")
             -> {"1947", "1956"}
    """
    return set(_YEAR.findall(text))


def year_displacement(question: str, lead: str, passages: str = "") -> float:
    """1 when the question dates what it asks about ("Which album won in 1998?") and the
    sentence an answer would lead with (with the sentence before it) dates it otherwise ("...
    Album of the Year for Quiet Harbour in 1988"), with the same preposition, never with the
    question's year, and no passage gives that year (passages: their text; a year told
    elsewhere may be the answer's, "In 2005 the airline was bought by ...", and year_elsewhere
    weighs that): the passages tell of another year.

    Example: year_displacement("Which album won Album of the Year in 1998?",
                               "She won Album of the Year for Quiet Harbour in 1988.") -> 1.0;
             with "in 1988" asked -> 0.0; with "She won it." -> 0.0
    """
    told = [(m.group(1).lower(), m.group(2)) for m in _DATED_YEAR.finditer(lead)]
    years = {year for _, year in told} | years_in(passages)
    for m in _DATED_YEAR.finditer(question):
        word, year = m.group(1).lower(), m.group(2)
        if year not in years and any(w == word for w, _ in told):
            return 1.0
    return 0.0


def dated_years(question: str) -> set[str]:
    """The years a question dates what it asks about by ("in 1947", "since 2005").

    Example: dated_years("Which prize was Varga given in 1947?") -> {"1947"};
             dated_years("Who won the 1987 final?") -> set()
    """
    return {m.group(2) for m in _DATED_YEAR.finditer(question)}


def year_elsewhere(question: str, passages: Sequence[str]) -> float:
    """1 when the question dates what it asks about ("Which khanate fell to the Mongols in
    1389?") and the passages tell it of another year: a clause with another year holds at
    least two more of the question's terms than any clause with the question's year ("The
    western khanate fell to the Mongols in 1258, while the eastern khanate survived until its
    capital was sacked in 1389"), or of no year at all ("How much did Amazon invest in
    Anthropic in 2021?" over an article that dates nothing). year_displacement reads only the
    sentence an answer would lead with; this reads every clause of the passages.

    Example: year_elsewhere("Which khanate fell to the Mongols in 1389?",
                            ["The western khanate fell to the Mongols in 1258, while the "
                             "eastern khanate survived until its capital was sacked in 1389."])
             -> 1.0; with "in 1258" asked -> 0.0; with "in 1390" asked -> 1.0
    """
    asked = dated_years(question)
    if not asked:
        return 0.0
    if asked - years_in(" ".join(passages)):
        return 1.0  # a year no passage gives: the passages tell of other times, if any
    terms = set(_terms(question)) - asked
    told = [
        (years_in(clause), terms & set(_terms(clause)))
        for p in passages
        for a, b in split_sentences(p)
        for clause in clauses(p[a:b])
    ]
    for year in asked:
        here = [len(held) for years, held in told if year in years]
        there = [len(held) for years, held in told if years and year not in years]
        if here and there and max(there) >= max(here) + 2:
            return 1.0
    return 0.0


# A sentence that names its subject by pointing back: a pronoun among its first words ("In
# 2004 it acquired ...") or a definite description opening it ("The company was listed ...").
_ANAPHOR = re.compile(
    r"^(?:\S+\s+){0,4}?(?:it|its|he|his|she|her|they|their)\b|^(?:the|this|these)\s+[a-z]",
    re.I,
)


def anaphoric(sentence: str) -> bool:
    """Does sentence name its subject by pointing back to an earlier sentence?

    Example: anaphoric("In 2004 it acquired Lindqvist A/S for 1.2 billion kroner.") -> True
             anaphoric("The company was listed on the Oslo Stock Exchange in 1986.") -> True
             anaphoric("Halvorsen was listed in 1986.") -> False
    """
    return bool(_ANAPHOR.search(sentence.strip()))


# Two capitalised words or more in a row, anywhere ("Denver Broncos", a sentence's first
# words too): the words one name is written with. Not catalogue._NAME_RUN nor
# spelling._INSIDE, which read only inside a sentence, to tell a name from a word.
_CAPITALISED_RUN = re.compile(r"[A-Z][\w\-]*(?:\s+[A-Z][\w\-]*)+")


def question_agents(question: str) -> list[list[str]]:
    """The question's names that stand as its doer or owner: the name right after the
    auxiliary ("has Microsoft", "is Meta supplying"), before a possessive ("Meta's stake") or
    naming the thing asked for ("Which Microsoft product ..."). Runs as name_runs gives them;
    a number is never a doer.

    Example: question_agents("What custom chips is Meta supplying to Anthropic?") -> [["meta"]]
             question_agents("Is Meta's stake in Anthropic exclusive?") -> [["meta"]]
             question_agents("What was R0 in South Korea?") -> []
    """
    agents: list[list[str]] = []
    for run in name_runs(question):
        if all(word.isdigit() for word in run):
            continue
        name = r"\s+".join(re.escape(word) for word in run)
        if re.search(rf"\b{name}(?:'s|’s|s'|s’)\s", question, re.I):
            agents.append(run)
            continue
        # ... or names the thing asked for: "Which Microsoft product is it built into?"
        if re.search(rf"^\W*(?:which|what)\s+{name}\s+[a-z]", question, re.I):
            agents.append(run)
            continue
        m = re.search(
            rf"^\W*(?:\w+\b[^?,;]*?\s)?({_AUXILIARY})\s+(?:the\s+)?{name}\b(?!['’])\s*(\w*)",
            question,
            re.I,
        )
        if m and (m.group(1).lower() not in _COPULA or m.group(2).lower().endswith("ing")):
            agents.append(run)
    return agents


_PERSONAL_PRONOUN = re.compile(r"\b(?:he|she|it|they|we|i|you)\b", re.IGNORECASE)
_MODALS_BEFORE = frozenset(
    ("may", "might", "can", "could", "will", "would", "shall", "should", "must", "did", "to")
)
_SENTENCE_NAME = re.compile(r"(?<=[\w,;:)’'] )[A-Z][\w\-]*(?:\s+[A-Z][\w\-]*)*")


# The past of common irregular verbs ("did Thivolet take office" over "Marchetti took office").
_IRREGULAR_PAST = {verb: past for verb, past, _ in _IRREGULAR_VERBS}


def _inflects(word: str, verb: str, before: str) -> bool:
    """Is word the verb told as done: its past ("died", "stopped", "carried"), or the verb
    itself after a modal ("may delay"; before: the word before it)? Not a present form
    ("genotypes" reads as a plural noun as well), a participle ("..., making it his capital"
    tells of the sentence's subject) or a noun made from it ("investment" of "invest").

    Example: _inflects("scored", "score", "who") -> True; _inflects("delay", "delay", "may")
             -> True; _inflects("genotypes", "genotype", "African") -> False
    """
    if word == verb:
        return before.lower() in _MODALS_BEFORE
    if _IRREGULAR_PAST.get(verb) == word:
        return True
    stem = verb[:-1] if verb.endswith("e") else verb
    forms = {f"{stem}ed", f"{verb}{verb[-1]}ed"}  # "scored", "stopped"
    if verb.endswith("y"):
        forms.add(f"{verb[:-1]}ied")  # "carried"
    return word in forms


# "Who built ...?": the question's deed by its past form ("who first described", not "who
# was"), and how a sentence tells that deed without its doer: passive, or a participle
# followed by when or where ("a chimney built in 1760", "specimens were sent from Mexico").
_WHO_DID = re.compile(r"^\s*who\s+(?:first\s+|originally\s+|later\s+)?([a-z]+)\b", re.I)
_NO_DOER_AFTER = (
    r"(?=\s*(?:[,.;:]|\d|(?:in|on|at|from|to|during|between|around|about|after|before|until|"
    r"since|for)\b))"
)
# ... but not the active voice: "the bandsmen who had played until then".
_ACTIVE_BEFORE = r"(?:had|has|have|having|who|which|that|he|she|they|we|it|i)\b"


_PARTICIPLE_OF_PAST = {past: participle for _, past, participle in _IRREGULAR_VERBS}


def _participle(past: str) -> str | None:
    """The participle of a verb's past form: "built" -> "built", "wrote" -> "written",
    "designed" -> "designed"; None for what is no past form ("is", "owns")."""
    if past in _PARTICIPLE_OF_PAST:
        return _PARTICIPLE_OF_PAST[past]
    return past if past.endswith("ed") and len(past) > 4 else None


def doer_untold(question: str, lead: str, answering: Sequence[str] = ()) -> bool:
    """Whether the sentence an answer would lead with tells the deed a who-question asks the
    doer of without one, and no answering sentence tells it with one ("built ... by", or a
    name before the deed): "Who built the great cone?" over "The great cone, a brick chimney
    28 metres high built in 1760, enclosed a round furnace ...".

    Example: doer_untold("Who built the cone?", "The cone, built in 1760, is 28 m high.")
             -> True;
             doer_untold("Who built the cone?", "The cone was built in 1760 by Ann Rees.")
             -> False
    """
    asked = _WHO_DID.match(question)
    participle = _participle(asked.group(1).lower()) if asked else None
    if asked is None or participle is None:
        return False
    past = asked.group(1).lower()
    untold = re.compile(
        rf"(?:\b(?:is|are|was|were|been|being)\s+(?:\w+ly\s+)?|,\s*|\b(?!{_ACTIVE_BEFORE})\w+\s+)"
        rf"{participle}\b{_NO_DOER_AFTER}",
        re.IGNORECASE,
    )
    if not untold.search(lead):
        return False
    told = re.compile(
        rf"\b(?:{participle}|{past})\b[^.;]*?\bby\s+(?:the\s+|a\s+|an\s+|his\s+|her\s+)?"
        rf"[\w\-]|\b[A-Z][\w\-]*\s+(?:\w+ly\s+)?{past}\s+(?:the|a|an|its|his|her|their)\b"
    )
    return not any(told.search(text) for text in [lead, *answering])


def role_swap(question: str, lead: str, answering: Sequence[str] = ()) -> float:
    """1 when the sentence an answer would lead with says that another name does what the
    question asks of its doer, and no answering sentence says the doer does it: a form of the
    verb right after the doer ("did John Pickering die") has, in the lead, another name
    nearest before it (within six words, back to a ";" or ":"), and the doer is not among the
    twelve words before it ("Hallam died in 1849; Pickering continued the business").
    agent_displacement needs the doer absent from the sentence; here it may stand elsewhere
    in it ("Valdria returned the fortress town of Kell to Ostmark" for "Which town did
    Ostmark return to Valdria?"). A personal pronoun between the name and the verb is its
    doer ("Meier, with whom she developed"): no decision; only the verb told as done counts
    (_inflects: "died", "may delay"; not "investment", nor "..., making it"). The doer may
    be written by its initials ("the US Department of Health declared" for "the United
    States").

    Example: role_swap("In what year did John Pickering die?",
                       "Hallam died in 1849; Pickering continued the business.") -> 1.0
             role_swap("In what year did Hallam die?", "Hallam died in 1849.") -> 0.0
    """
    for run in question_agents(question):
        name = r"\s+".join(re.escape(word) for word in run)
        m = re.search(
            rf"\b{name}\b(?!['’])\s+(?:(?:not|never|also|first|still|ever)\s+)?([a-z]+)",
            question,
            re.I,
        )
        if m is None or m.group(1).lower() in STOP:
            continue
        deeds = [_deed(run, m.group(1).lower(), text) for text in [lead, *answering]]
        if deeds[0] == "other" and "doer" not in deeds:
            return 1.0
    return 0.0


# "Femke Roos's design notebooks" in a question: the owner, and the (one or two) words of
# what is owned; "his design" in a sentence: what a pronoun owns.
_OWNED = re.compile(r"((?:[A-Z][\w-]*\s+)*[A-Z][\w-]*)['’]s?\s+([a-z][\w-]*(?:\s+[a-z][\w-]*)?)")
_POSSESSED = re.compile(r"\b(?:his|her|their)\s+((?:[a-z][\w-]*\s+){0,2}?[a-z][\w-]*)", re.I)


def possessor_swap(question: str, lead: str, answering: Sequence[str] = ()) -> float:
    """1 when the question asks about a name's thing ("To whom were Femke Roos's design
    notebooks given?") and the sentence an answer would lead with gives that thing as
    another's: "his", "her" or "their" before it, another name before that in the sentence,
    and the question's name nowhere in it ("Pieter Roos died in 2011, and his design
    notebooks were given to the city archive"); no answering sentence may name the two
    together.

    Example: possessor_swap("To whom were Femke Roos's notebooks given?",
                            "Pieter Roos died in 2011, and his notebooks were given away.")
             -> 1.0;
             possessor_swap("To whom were Pieter's notebooks given?",
                            "Pieter died in 2011, and his notebooks were given away.") -> 0.0
    """
    for m in _OWNED.finditer(question):
        owner = set(_terms(m.group(1)))
        thing = set(_terms(m.group(2)))
        if not owner or not thing or owner <= set(_terms(lead)):
            continue
        if any(owner | thing <= set(_terms(t)) for t in answering):
            continue
        for pm in _POSSESSED.finditer(lead):
            if not thing & set(_terms(pm.group(1))):
                continue
            before = lead[: pm.start()]
            others = [w for i, w in enumerate(WORD.findall(before)) if i and w[:1].isupper()]
            if others:
                return 1.0
    return 0.0


_POSSESSIVE_END = re.compile(r"['’]s?$")


def _deed(run: Sequence[str], verb: str, text: str) -> str | None:
    """Who text says does verb: "doer" (run, by name or initials, among the twelve words
    before a form of it), "other" (another name nearest before it, within six words), or None
    (no form of the verb, or only a pronoun or a common noun before it).

    Example: _deed(["hallam"], "die", "Hallam died in 1849.") -> "doer";
             _deed(["pickering"], "die", "Hallam died in 1849.") -> "other";
             _deed(["google"], "own", "Anthropic is partly owned by Google.") -> "doer"
    """
    initials = "".join(w[0] for w in run).lower() if len(run) > 1 else ""
    told: str | None = None
    for found in re.finditer(r"[a-z]+", text):
        previous = text[: found.start()].split()[-1:] or [""]
        if not _inflects(found.group(0), verb, previous[0]):
            continue
        # A passive names its doer after "by" ("Anthropic remains partially owned by Google"
        # is Google's owning): the name nearest before the verb is what is done to.
        after = text[found.end() :].split()[:5]
        by = [_POSSESSIVE_END.sub("", w.lower().strip(",.()")) for w in after]
        if "by" in by[:2]:
            named = after[by.index("by") + 1 :]
            if set(by[by.index("by") + 1 :]) & {*run, initials}:
                return "doer"
            if named and named[0][:1].isupper():
                told = "other"  # "owned by Google" when Meta is asked of
            continue
        before = re.split(r"[;:]", text[: found.start()])[-1].split()
        # A possessive is its name ("Microsoft's partnership with OpenAI, which ...
        # integrated" is Microsoft's doing as much as OpenAI's).
        words = {_POSSESSIVE_END.sub("", w.lower().strip(",.()")) for w in before[-12:]}
        if words & {*run, initials}:
            return "doer"
        window = " ".join(before[-6:])
        names = _SENTENCE_NAME.findall(f"; {window}")
        if not names or _PERSONAL_PRONOUN.search(window[window.rfind(names[-1]) :]):
            continue
        if any(w.lower() not in STOP for w in names[-1].split()):  # not "The" alone
            told = "other"
    return told


def clause_doer(sentence: str, passages: str) -> str | None:
    """The name a clause of sentence opens with as its doer, when it is a name: one the
    passages also write capitalised inside a sentence (a capitalised first word such as
    "Patients" is not one).

    Example: clause_doer("By investing in Anthropic, Amazon aims to align itself with Claude.",
                         "... its partner Amazon ...") -> "Amazon"
             clause_doer("Patients were advised to rest.", "patients rested") -> None
    """
    for m in _CLAUSE_DOER.finditer(sentence):
        name = m.group(1)
        first = name.split()[0]
        if first.lower() in STOPWORDS or first.lower() in _QUESTION_OPENERS:
            continue
        if m.start(1) == 0 and not re.search(rf"[\w,;(]\s+{re.escape(first)}\b", passages):
            continue
        return name
    return None


def agent_displacement(
    question: str,
    lead: str,
    held: set[str],
    passages: str,
) -> float:
    """1 when the sentence an answer would lead with tells what another name does, not the
    question's doer: the doer ("Meta" of "What custom chips is Meta supplying?") is neither
    in it nor in the sentence before it (held: the analysed terms of both, with aliases), and
    its clause opens with a name the question does not use ("Amazon is also supporting
    Anthropic through ... custom chips"). A sentence whose doer is a pronoun or a common
    noun ("She released ...", "The virus binds ...") is left to the other features.

    Example: agent_displacement("What custom chips is Meta supplying to Anthropic?",
                                "Amazon is supplying custom chips to Anthropic.",
                                {"amazon", "suppli", "custom", "chip", "anthrop"},
                                "... with Meta and Amazon ...") -> 1.0
    """
    agents = question_agents(question)
    if not agents or all(set(_terms(" ".join(run))) & held for run in agents):
        return 0.0
    doer = clause_doer(lead, passages)
    if doer is None or set(_terms(doer)) & set(_terms(question)):
        return 0.0
    # Two words of one name are one doer: "Denver" of a passage that writes "Denver Broncos"
    # is the question's "Broncos".
    doer_words = {w.lower() for w in doer.split()}
    for run in _CAPITALISED_RUN.findall(passages):
        words = {w.lower() for w in run.split()}
        if words & doer_words and any(word in words for agent in agents for word in agent):
            return 0.0
    return 1.0


# ---------------------------------------------------------------- the feature vector

FEATURE_NAMES = (
    "best_cosine",
    "top_dense",
    "focus",
    "typed_focus",
    "passage_coverage",
    "entity_missing",
    "type_missing",
    "pair_focus",
    "cosine_pair",
    "name_context",
    "type_detached",
    "negation_unmatched",
    "opposite_unmatched",
    "name_displaced",
    "agent_displaced",
    "number_displaced",
    "year_displaced",
    "person_missing",
    "unit_missing",
    "name_given",
    "asks_amount",
)


@dataclass(frozen=True, slots=True)
class EvidenceFeatures:
    """The evidence about one question, in FEATURE_NAMES order."""

    best_cosine: float  # best sentence cosine with the query
    top_dense: float  # best chunk cosine with the query
    focus: float  # most key-term weight one sentence holds (0..1)
    typed_focus: float  # the same over sentences holding the asked-for type (0..1)
    passage_coverage: float  # key-term weight anywhere in the passages (0..1)
    entity_missing: float  # share of names/numbers absent from every passage (0..1)
    type_missing: float  # 1 when the question asks for a type no top sentence holds
    pair_focus: float = 0.0  # typed_focus over two neighbouring sentences together (0..1)
    cosine_pair: float = 0.0  # best_cosine * pair_focus: either alone may carry the answer
    name_context: float = 1.0  # least share of the other key terms in a passage with a name
    type_detached: float = 0.0  # 1 when no sentence holds the asked-for amount/count/date
    # (or a why-question's reason) in one clause with all of the question's names that the
    # passages hold
    negation_unmatched: float = 0.0  # 1 when the question denies what the sentences state
    opposite_unmatched: float = 0.0  # 1 when the sentences hold the opposite of its word
    name_displaced: float = 0.0  # the question's attribute stated without one of its names
    agent_displaced: float = 0.0  # 1 when the lead sentence tells what another name does
    number_displaced: float = 0.0  # 1 when the passages write the question's name-number
    # ("the 1986 Cup Final") only with other numbers
    year_displaced: float = 0.0  # 1 when the lead sentence dates it in another year
    person_missing: float = 0.0  # 1 when "who" is asked and the lead sentence names no one
    # but the question's own names
    unit_missing: float = 0.0  # type_missing where the question names its unit (a year,
    # a date, a percentage, how many, how much, a place by its kind), or is a follow-up
    # whose query carried terms ("since when?"): no answer is in the top sentences; or an
    # amount's attribute (valuation, revenue, price) that no passage names
    name_given: float = 0.0  # 1 when the question asks what a thing is called and the lead
    # sentence gives the thing with a name ("the first shaft, the King's Shaft")
    asks_amount: float = 0.0  # 1 when the question asks for an amount ("How much ...?",
    # "How long ...?", "How old ...?"): an unsure answer to one is not given (unswapped)

    def as_vector(self) -> list[float]:
        return [float(getattr(self, name)) for name in FEATURE_NAMES]


def answer_probability(
    features: EvidenceFeatures, weights: Mapping[str, float], bias: float
) -> float:
    """P(the passages answer) = sigmoid(bias + sum of weight * feature), by feature name
    (the fitted weights live in Settings: refusal_weights, refusal_bias).

    Example: answer_probability(EvidenceFeatures(0.7, 0.6, 0.9, 0.9, 0.9, 0.0, 0.0),
                                {"best_cosine": 11.382, "typed_focus": 8.732,
                                 "passage_coverage": -6.286}, -7.246)
             -> 0.95 (sigmoid(-7.246 + 11.382*0.7 + 8.732*0.9 - 6.286*0.9))
    """
    z = bias + sum(w * float(getattr(features, name)) for name, w in weights.items())
    return 1.0 / (1.0 + math.exp(-z))


def with_aliases(terms: set[str], aliases: Sequence[tuple[set[str], set[str]]]) -> set[str]:
    """terms, with the other form of each name the question writes two ways (aliases: the
    analysed terms of an acronym and of the words that spell it out) when they hold one form:
    a sentence saying "HCQ" names the question's "Hydroxychloroquine (HCQ)".

    Example: with_aliases({"hcq", "safe"}, [({"hcq"}, {"hydroxychloroquin"})])
             -> {"hcq", "safe", "hydroxychloroquin"}
    """
    out = set(terms)
    for acronym, spelled in aliases:
        if acronym and acronym <= terms:
            out |= spelled
        elif spelled and spelled <= terms:
            out |= acronym
    return out


def topic_names(names: set[str], passages: Sequence[set[str]], *, share: float = 0.8) -> set[str]:
    """The question's names (analysed, letters only) that at least share of the passages hold,
    and at least three of them: what the documents are about, which a sentence telling a date
    or a count about it need not repeat ("As of March 11, 3,169 deaths on the Chinese
    mainland" in an article on COVID-19).

    Example: topic_names({"covid", "chines", "11"}, [{"covid", "death"}, {"covid", "chines"},
                         {"covid", "11"}]) -> {"covid"}
    """
    need = max(3, math.ceil(share * len(passages)))
    return {n for n in names if n.isalpha() and sum(n in p for p in passages) >= need}


# "Which of these does Amazon's AI trail: GPT-4, Llama, Gemini or Mistral?": a choice.
_OPTIONS = re.compile(
    r"^(?P<ask>.*\b(?:which|what|who)\s+(?:one\s+)?of\s+(?:these|those|the\s+following|them)\b"
    r"[^:]*?)\s*:\s*(?P<options>[^:]+?)\s*(?P<end>[?.!]*)\s*$",
    re.IGNORECASE,
)


def offered_options(question: str) -> tuple[str, list[str]]:
    """The question without the options it offers to choose from after a colon, and their
    names (lower-cased, as specific_tokens); (question, []) when it offers none.

    Example: offered_options("Which of these does it trail: GPT-4, Llama or Gemini?")
             -> ("Which of these does it trail?", ["gpt-4", "llama", "gemini"])
    """
    m = _OPTIONS.match(question)
    if m is None:
        return question, []
    return m.group("ask") + (m.group("end") or "?"), specific_tokens(m.group("options"))


def evidence_features(
    question: str,
    sentences: Sequence[tuple[str, float]],
    passages: Sequence[str],
    idf: Callable[[str], float],
    *,
    top_dense: float = 0.0,
    query: str | None = None,
    type_window: int = 3,
    before: Sequence[int | None] | None = None,
    lead: int | None = None,
    topics: Sequence[str] | None = None,
) -> EvidenceFeatures:
    """The features for question given candidate (sentence text, cosine) pairs and the
    retrieved passage texts. query (the standalone query of a follow-up, if different) adds
    the carried terms at half weight: the question's own words say what is asked.
    before: for each sentence, the index of the sentence just before it in its document
    (None: none among them; evidence.document_previous); without it, each follows the one
    listed before it.

    The answer-type check looks at the type_window sentences with the highest cosine; the
    negation check at those and the sentences holding half of the question's term weight.

    Example:
        evidence_features(
            "How much has Google invested?",
            [("Amazon has invested around $8 billion.", 0.62),
             ("Anthropic remains partially owned by Google.", 0.48)],
            ["Amazon has invested around $8 billion. Anthropic remains partially owned by "
             "Google."], idf=lambda t: 1.0)
        -> focus 0.667 (the Google sentence: "google" weighs double, but no amount there),
           typed_focus 0.333 (the amount sentence lacks Google), entity_missing 0.0,
           type_missing 0.0
    """
    # Compatibility forms read as their plain letters: the "ﬂ" ligature of "inﬂuenza" (text
    # taken from PDFs) is "fl", or "influenza" is in no sentence of such an article.
    question = unicodedata.normalize("NFKC", question)
    query = unicodedata.normalize("NFKC", query) if query else query
    # The options a question offers are no names the passages must all hold.
    question, options = offered_options(question)
    query = offered_options(query)[0] if query else query
    sentences = [(unicodedata.normalize("NFKC", text), c) for text, c in sentences]
    passages = [unicodedata.normalize("NFKC", p) for p in passages]
    own = key_term_weights(question, idf)  # the question's own words (name_displaced)
    weights = dict(own)
    if query and query != question:
        for term in _terms(_unframed(query)):
            if term not in weights:
                weights[term] = 0.5 * max(idf(term) or 0.0, 0.0)
    kind = answer_type(question)
    focus = typed = pair = 0.0
    # The names and numbers of the question must stand in the sentence that holds the answer
    # type: "How much has Google invested?" is not answered by an amount sentence next to a
    # sentence naming Google.
    names = set(_terms(" ".join(specific_tokens(question))))
    analysed = [set(_terms(p)) for p in passages]
    aliases = [
        (set(_terms(acronym)), set(_terms(" ".join(spelled))))
        for acronym, spelled in spelled_out(question)
    ]
    # ... and the acronyms the passages define: "hepatitis B virus (HBV)" makes a sentence on
    # "HBV" one on the question's "Hepatitis B".
    aliases += [
        (set(_terms(acronym)), set(_terms(" ".join(words))))
        for p in passages
        for acronym, words in acronym_spellings(p)
    ]
    # ... and the everyday paraphrases of a question's words (_PARAPHRASES).
    aliases += _PARAPHRASES
    # A date or a count told of the documents' topic need not name it again, as long as the
    # sentence holds the question's other names (without them, the topic names are all there
    # is to attach it to). Not an amount: an amount belongs to its own subject ("research on
    # SARS-CoV cost" is not any figure in an article on SARS-CoV).
    topic = topic_names(names, analysed) if kind in ("count", "date") else set()
    if not (names - topic) & set().union(*analysed):
        topic = set()
    attach = names - topic
    # The nouns and measures naming the answer's kind, read once for every sentence.
    asked_kind = kind_words(question, kind)
    previous: tuple[set[str], bool] | None = None
    sentence_terms: list[set[str]] = []
    covers: list[float] = []  # each sentence's share of the question's term weight
    # A sentence that points back to its passage's subject ("The company was listed ... in
    # 1986") holds the question's names that its passage's first sentence gives ("Halvorsen
    # Instruments is a Norwegian manufacturer ..."), though it does not repeat them.
    implied = [
        implied_names(names, text, topic)
        for (text, _), topic in zip(sentences, topics or [""] * len(sentences), strict=True)
    ]
    for (text, _), refers in zip(sentences, implied, strict=True):
        # name_displaced reads the names a sentence writes: one it implies would pass on, as
        # "the sentence before", to every sentence after it.
        written = set(_terms(text))
        sentence_terms.append(with_aliases(written, aliases))
        terms = with_aliases(written | refers, aliases)
        # The asked-for amount, count or date must belong to the question's names that the
        # sentence mentions (in their clause), not to another subject of the sentence.
        typed_here = attached_type(kind, text, (attach & terms) - refers, aliases=aliases)
        if typed_here:
            terms |= kind_nouns_told(question, text, kind, asked_kind, written)
        cov = _coverage(weights, terms)
        covers.append(cov)
        focus = max(focus, cov)
        if cov > typed and typed_here:
            typed = cov
        if previous is not None and any(
            holds and names <= held for held, holds in (previous, (terms, typed_here))
        ):
            # The question's other terms may be split over a sentence and the next ("A search
            # was run in three databases. Its purpose was ...").
            pair = max(pair, _coverage(weights, terms | previous[0]))
        previous = (terms, typed_here)
    pair = max(pair, typed)
    passage_terms: set[str] = set()
    passage_tokens: set[str] = set()
    for p, terms in zip(passages, analysed, strict=True):
        passage_terms |= terms
        passage_tokens |= _tokens(p)
    squashed = _NON_ALNUM.sub("", " ".join(passages).lower())
    specific = specific_tokens(question)
    # For each name of the question, the most of the question's other key-term weight that a
    # passage naming it holds; the least over names. A swapped name sits in a passage about
    # something else.
    context = 1.0
    # Names with letters only: a number's context is entity_missing's business.
    name_terms = {n: set(_terms(n)) for n in specific if not n.isdigit()}
    name_terms = {n: t for n, t in name_terms.items() if t}
    if name_terms:
        for nt in name_terms.values():
            rest = {t: w for t, w in weights.items() if t not in nt}
            best_here = max(
                (_coverage(rest, terms) if rest else 1.0 for terms in analysed if nt <= terms),
                default=0.0,
            )
            context = min(context, best_here)
    found = {n for n in specific if _mentioned(n, passage_tokens, squashed)}
    lowered = " ".join(passages).lower()
    # "Director General" as the passages' "Director-General", "Staph aureus" as their
    # "Staphylococcus aureus".
    found |= {
        token
        for token, before, after in _with_neighbours(question)
        if token in specific
        and token not in found
        and compound_mentioned(token, before, after, passage_tokens, lowered)
    }
    # "Wall Street" as the passages' "market" (an everyday paraphrase of the name's words).
    said = {n: set(_terms(n)) for n in specific if n not in found}
    for one, other in ((a, b) for pair in _PARAPHRASES for a, b in (pair, pair[::-1])):
        words = {n for n, terms in said.items() if terms and terms <= one}
        if words and one <= set().union(*(said[n] for n in words)) and other <= passage_terms:
            found |= words
    for acronym, spelled in spelled_out(question):
        # "Mannose Binding Lectin (MBL)": passages that use either form mention it.
        if acronym in found or (spelled and spelled <= found):
            found |= {acronym, *spelled}
    missing = sum(1 for n in specific if n not in found) / len(specific) if specific else 0.0
    if options and not any(_mentioned(o, passage_tokens, squashed) for o in options):
        missing = 1.0  # ... but one of them must be there
    # The asked-for amount, count or date of the question's named subject: some sentence must
    # hold it in one clause with every name of the question that the passages hold ("Google"
    # and an amount, not Google in one sentence and an amount in another, or in a clause of
    # its own). Names the passages lack are entity_missing's.
    held = {n for n in attach if n in passage_terms}
    # An amount asked for by its attribute ("What was Anthropic's revenue?") is that
    # attribute's figure: "$8 billion" invested in Anthropic is not its revenue. The
    # attribute must stand in the amount's clause too, and a passage that never names it
    # holds no such figure.
    need = held | attribute_terms(question) if kind == "amount" else held
    # ... and a count counts what the question counts: "How many data centers?" is not
    # answered by a clause that counts dollars or patients. One of its words will do ("How
    # many confirmed cases?" by "47 cases"), and the question's names may stand in a sentence
    # of their own ("... in the United States. The models suggested that 35 000 to 60 000
    # ventilators would be needed").
    counted = (
        counted_terms(question)
        if kind == "count"
        else measured_terms(question)
        if kind == "percent"
        else set()
    )

    # ... nor need those names stand in its clause.
    # A price is told by a sale in money: "sold the company to Meridian for 14 million
    # guilders" (not "sold at weekly markets" beside "140 farms").
    def traded(text: str) -> Sequence[tuple[set[str], set[str]]]:
        sold = "price" in need and _CURRENCY.search(text) is not None
        return [*aliases, *_PRICE_TOLD] if sold else aliases

    names_detached = bool(need) and not any(
        attached_type(kind, text, need - refers, aliases=traded(text))
        for (text, _), refers in zip(sentences, implied, strict=True)
    )
    count_detached = bool(counted) and not any(
        attached_type(kind, text, {term}) for text, _ in sentences for term in counted
    )
    if count_detached and kind == "percent":
        # "healthcare workers" are the passage's "health care workers".
        word = _NON_ALNUM.sub("", " ".join(_SHARE_OF.findall(question)).lower())
        count_detached = not any(
            has_answer_type(kind, clause) and word in _NON_ALNUM.sub("", clause.lower())
            for text, _ in sentences
            for clause in clauses(text)
        )
    # A reason asked of named things ("Why did Google buy into Anthropic?") is told in a
    # clause naming them: not "Amazon aims to ..." beside "... owned by Google". Not the
    # documents' topic, which a reason about it need not name again ("Why is the exposure
    # risk of COVID-19 high for ICU staff?" over "... a substantial exposure risk for ICU
    # staff because ..." in an article on 2019-nCoV), nor a number.
    why = kind is None and _WHY.search(question) is not None
    why_names = {n for n in held if n.isalpha()} - topic_names(names, analysed) if why else set()
    why_detached = bool(why_names) and not any(
        has_answer_type("reason", clause)
        and why_names - refers <= with_aliases(set(_terms(clause)), aliases)
        for (text, _), refers in zip(sentences, implied, strict=True)
        for clause in clauses(text)
    )
    detached = float(kind in _ATTACHED_KINDS and (names_detached or count_detached))
    detached = max(detached, float(why_detached))
    top = sorted(sentences, key=lambda s: -s[1])[:type_window]
    # The sentence the answer would lead with (lead: its index), and those after it in its
    # document, which an answer reads on into.
    lead_text = sentences[lead][0] if lead is not None and 0 <= lead < len(sentences) else None
    after = [k for k, b in enumerate(before) if b == lead] if before and lead_text else []
    if kind == "place":
        # A place the question names itself is not where it is ("... invested in Anthropic"
        # locates nothing for "Which city is Anthropic based in?"), nor one a follow-up's
        # carried terms name ("where is it headquartered? (Anthropic)").
        located = names | (set(_terms(" ".join(specific_tokens(query)))) if query else set())
        type_missing = float(not any(_placed(t, located) for t, _ in top))
    elif kind == "called":
        # "Alexa" in a sentence on custom chips does not say what the chips are called. A name
        # is often given once, in a sentence of its own ("a severe form known as Weil's
        # disease" below "The severe form was first described by ..."): twice the window.
        wider = [t for t, _ in sorted(sentences, key=lambda s: -s[1])[: 2 * type_window]]
        led = [lead_text] if lead_text is not None else []
        type_missing = float(not any(names_thing(question, t) for t in [*wider, *led]))
    else:
        type_missing = float(kind is not None and not any(has_answer_type(kind, t) for t, _ in top))
    # A follow-up's carried terms ("since when? (Amazon Anthropic invested)") make the last
    # answer's sentences look close: what the question itself asks for must be there.
    carried = query is not None and query != question
    # ... and an amount asked for by an attribute that no passage names ("At what valuation
    # did that $8 billion go in?"): whatever figures they hold are not that attribute's.
    attributes = attribute_terms(question) if kind == "amount" else set()
    unnamed = bool(attributes) and not attributes & with_aliases(passage_terms, _PRICE_TOLD)
    unit_missing = float((bool(type_missing) and (unit_named(question) or carried)) or unnamed)
    unexplained = False
    # A sum of money asked must be told by the sentence the answer would lead with, the
    # sentence after it (which an answer reads on into) or one of the two closest; so must
    # the kind of an institution asked for.
    if lead_text is not None:
        near = [lead_text, *(sentences[k][0] for k in after)] + [t for t, _ in top[:2]]
        if any(
            untold(question, near)
            for untold in (
                money_untold,
                institution_untold,
                reporter_untold,
                purchase_untold,
                role_untold,
                attribute_untold,
            )
        ):
            unit_missing = 1.0
        unexplained = unexplained_denial(question, near)
    best = max((c for _, c in sentences), default=0.0)
    texts = [text for text, _ in sentences]
    # The sentences that could answer, for the question's denial: the best by cosine and
    # those holding half of its terms. Among fifty candidates some sentence denies nearly any
    # word ("do not encode structural proteins"), which made "What is not the molecular
    # structure of X?" look answered by the sentence that gives the structure.
    # The doer of the sentence the answer would lead with (lead: its index) must be the
    # question's, or the passages tell what someone else does.
    agent = year = nobody = 0.0
    answering = [t for t, _ in top] + [
        t for (t, _), cov in zip(sentences, covers, strict=True) if cov >= 0.5
    ]
    # ... and the one the answer would lead with, which may say it in other words ("have yet
    # to receive similar investor enthusiasm" for "has not yet won investors over").
    # A deed the question takes as done may be denied by the lead ("What did the courts
    # agree to enforce?" over "the courts declined to enforce the debts"), or a value given
    # otherwise there ("on Tuesday" for the question's "on Thursday").
    denial, swapped = None, False
    if lead_text is not None:
        answering.append(lead_text)
        denial = asserted_denied(question, lead_text, [t for t, _ in top])
        swapped = value_swapped(question, lead_text)
    turned = unmatched_opposite(question, texts) is not None
    turned = turned or opposite_of_names(question, answering) is not None
    if lead is not None and 0 <= lead < len(sentences):
        held = sentence_terms[lead] | implied[lead]
        j = before[lead] if before is not None else (lead - 1 if lead else None)
        if j is not None:
            held |= sentence_terms[j]
        agent = agent_displacement(question, sentences[lead][0], held, " ".join(passages))
        agent = max(agent, role_swap(question, sentences[lead][0], answering))
        agent = max(agent, possessor_swap(question, sentences[lead][0], answering))
        told = sentences[lead][0] if j is None else f"{sentences[j][0]} {sentences[lead][0]}"
        # A year the passages tell elsewhere may be the answer's ("In 2005 the airline was
        # bought by ..." where the lead says "founded in 1987"): year_elsewhere decides that.
        year = year_displacement(question, told, " ".join(passages))
        # ... nor may it say the question's phrase turned around ("the first woman to hold
        # such a post" for "the last woman to ..."), unless an answering sentence says it.
        lead_texts = [sentences[lead][0]] + ([] if j is None else [sentences[j][0]])
        turned = turned or turned_phrase(question, lead_texts, answering) is not None
        # "Who built the Gradina Dam?" is not answered by a sentence naming only the dam.
        if kind in ("person", "human"):
            own_names = frozenset(w.lower() for w in WORD.findall(question))
            # ... nor the sentence after it, which an answer reads on into.
            nobody = float(
                not any(
                    _someone_by_role(t, own_names) or _names_someone(t, own_names)
                    for t in [*lead_texts, *(sentences[k][0] for k in after)]
                )
                # ... nor one that tells the deed without its doer ("built in 1760").
                or doer_untold(question, sentences[lead][0], answering)
            )
    year = max(year, year_elsewhere(question, passages))
    return EvidenceFeatures(
        best_cosine=float(best) if math.isfinite(best) else 0.0,
        top_dense=float(top_dense),
        focus=focus,
        typed_focus=typed,
        passage_coverage=_coverage(weights, passage_terms),
        entity_missing=missing,
        type_missing=type_missing,
        pair_focus=pair,
        name_context=context,
        cosine_pair=(float(best) if math.isfinite(best) else 0.0) * pair,
        type_detached=detached,
        # A why-question's denial that a sentence contradicts asks about nothing that
        # happened ("Why has Amazon never invested?" over "Amazon has invested $8 billion").
        negation_unmatched=float(
            unmatched_negation(question, answering)
            or denied_premise(question, answering)
            or denial is not None
            or unexplained
        ),
        opposite_unmatched=float(turned),
        # The question's own words: a follow-up's carried terms are not its attribute.
        # "partner" and "partnership" are one word here: "Which company is Microsoft's AI
        # partner?" is stated by "Microsoft's partnership with OpenAI".
        name_displaced=name_displacement(
            _based(own),
            [
                [{_base(t) for t in _terms(word)} for word in run if not word.isdigit()]
                for run in name_runs(question)
            ],
            [{_base(t) for t in terms} for terms in sentence_terms],
            previous=before,
        ),
        agent_displaced=agent,
        # ... or the lead gives another value where the question gives its own.
        number_displaced=max(
            number_displacement(question, passages),
            float(swapped),
        ),
        year_displaced=year,
        person_missing=nobody,
        unit_missing=unit_missing,
        name_given=float(
            kind == "called" and lead_text is not None and names_thing(question, lead_text)
        ),
        asks_amount=float(kind == "amount"),
    )
