"""Chat-typed words read as the documents spell them (retrieval/spelling.py): the pure rules
with a fixed vocabulary, then what a user of the seed article sees with the real model."""

from __future__ import annotations

from collections import Counter

import pytest

from assistant import Assistant
from assistant.retrieval.spelling import Speller, closest_word, spelling_variants

WORDS = Counter(
    {
        "amazon": 12,
        "amazing": 1,
        "infrastructure": 3,
        "article": 2,
        "models": 4,
        "giving": 1,
        "apply": 2,
        "most": 7,
        "anthropic": 9,
    }
)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("amzn", "amazon"),  # consonants in order, first and last letter kept
        ("infra", "infrastructure"),  # the start of the word
        ("artcle", "article"),  # a dropped letter
        ("modles", "models"),  # two letters swapped
        ("givin", "giving"),  # a dropped final g
        ("amazons", "amazon"),  # a plural or possessive s
    ],
)
def test_an_evident_spelling_of_a_collection_word_is_read_as_it(typed: str, meant: str) -> None:
    assert closest_word(typed, WORDS) == meant


def test_an_added_s_is_read_before_a_changed_letter() -> None:
    # "general" is one letter from "generas" too, and far more common.
    assert closest_word("generas", Counter({"general": 9, "genera": 1})) == "genera"


@pytest.mark.parametrize("typed", ["cost", "azmn", "xyzzy", "inf", "pls"])
def test_a_word_no_collection_word_evidently_spells_is_left(typed: str) -> None:
    # "cost"/"most": one letter apart, but four-letter words are too often other words;
    # "azmn" has Amazon's letters out of order; three consonants ("pls") fit too many words.
    assert closest_word(typed, WORDS + Counter({"players": 3})) is None


def test_english_words_and_the_collection_own_words_are_never_respelt() -> None:
    english = {"apple", "did", "invest", "how", "much"}
    speller = Speller(WORDS, lambda w: w in english)
    # "apple" is one letter from "apply", but it is a word of its own: a question about a
    # company the documents never name must stay about that company.
    assert speller.respell("how much did apple invest") == "how much did apple invest"
    assert speller.respell("did amzn invest") == "did amazon invest"


def test_a_capitalised_name_among_capitals_is_taken_as_typed() -> None:
    speller = Speller(Counter({"hendriks": 3, "amazon": 2}), lambda w: False)
    # An unanswerable question may name someone the documents never mention, one letter
    # from someone they do: only shortenings of such a name are read.
    assert speller.respell("What did Anna Hendrik paint?") == "What did Anna Hendrik paint?"
    assert speller.respell("what did anna hendrik paint") == "what did anna hendriks paint"
    assert speller.respell("Did Amzn and Anna invest?") == "Did Amzn and Anna invest?"
    assert speller.respell("Amzn invested how much?") == "Amazon invested how much?"


def test_an_acronym_is_never_respelt() -> None:
    speller = Speller(Counter({"articles": 5, "amazon": 2}), lambda w: False)
    # "ARTI" starts "articles", but an acronym is the asker's own name for something.
    assert speller.respell("what causes ARTI in children") == "what causes ARTI in children"


def test_a_question_in_lower_case_gets_the_collection_capitals_for_its_names() -> None:
    speller = Speller.from_texts(
        ["The Court of Inquiry met. Later the Court blamed Google and ORF8 for it."],
        lambda w: w in {"court", "google", "blame", "who", "did", "what", "do"},
    )
    assert speller.respell("who did google blame") == "who did Google blame"
    # A question opening with a capital is typed with care: its lower-case words are words.
    assert speller.respell("Who did the court blame?") == "Who did the court blame?"
    assert speller.respell("What did orf8 do?") == "What did orf8 do?"
    # Names typed with capitals are the asker's own spelling.
    assert speller.respell("Did Google blame orf8?") == "Did Google blame orf8?"


@pytest.mark.model
@pytest.mark.parametrize(
    ("question", "quoted"),
    [
        ("how much cash has amzn already sunk into anthropic", "$8 billion"),
        ("what kinda infra is amzn givin anthropic", "custom chips and data centers"),
    ],
)
def test_a_chat_typed_question_is_answered_and_shows_what_was_searched(
    seed_bot: Assistant, question: str, quoted: str
) -> None:
    answer = seed_bot.ask(question)
    assert not answer.refused, answer.text
    assert quoted in answer.text
    assert "Amazon" in answer.query and "amzn" not in answer.query


@pytest.mark.model
@pytest.mark.parametrize(
    "question",
    ["how much has google invested in anthropic", "what chips is meta supplying to anthropic"],
)
def test_a_question_typed_in_lower_case_is_read_for_its_names(
    seed_bot: Assistant, question: str
) -> None:
    # Typed with capitals, each is refused: the article gives no Google amount and names
    # Amazon, not Meta, as the one supplying chips. Typed in lower case it must be too.
    answer = seed_bot.ask(question)
    assert answer.refused, answer.text


@pytest.mark.model
def test_a_company_the_article_never_names_is_still_refused(seed_bot: Assistant) -> None:
    answer = seed_bot.ask("How much has Apple invested in Anthropic?")
    assert answer.refused, answer.text
    assert "Apple" in answer.text


def test_chat_question_words_and_document_words_are_read_as_meant() -> None:
    speller = Speller.from_texts(["Amazon has invested in Anthropic."], lambda w: False)
    assert speller.respell("wat does the artcle say") == "what does the article say"
    assert speller.respell("y is amzn investing") == "why is amazon investing"
    assert speller.respell("Y Combinator") == "Y Combinator"
    assert speller.respell("hw much, and wen?") == "how much, and when?"


@pytest.mark.parametrize(
    ("typed", "collection", "meant"),
    [
        ("which side has the market favoured", "favored", "which side has the market favored"),
        ("what did the organization say", "organisation", "what did the organisation say"),
        ("what did the centre analyse", "center", "what did the center analyse"),
        ("is haemorrhage common", "hemorrhage", "is hemorrhage common"),
        ("is the fetus at risk", "foetus", "is the foetus at risk"),
    ],
)
def test_another_nations_spelling_is_read_as_the_collection_writes_it(
    typed: str, collection: str, meant: str
) -> None:
    english = set(typed.split()) | {collection}
    speller = Speller(Counter({collection: 2, "market": 1}), lambda w: w in english)
    # Known English words all, but the collection writes the word its own way, and a word
    # it never uses finds nothing.
    assert speller.respell(typed) == meant


def test_a_spelling_the_collection_uses_is_kept_and_short_words_have_no_variants() -> None:
    speller = Speller(Counter({"favoured": 1, "favored": 3}), lambda w: True)
    assert speller.respell("was it favoured") == "was it favoured"
    assert spelling_variants("four") == []  # not "for"
    assert "colour" in spelling_variants("color") and "color" in spelling_variants("colour")
