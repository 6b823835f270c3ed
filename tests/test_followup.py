"""Follow-up rewriting: what a person notices when a conversation goes on. No model needed."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from assistant.answer.followup import is_followup, said_asked_about, standalone_query

EIGHT_BILLION = [
    {"role": "user", "content": "Who has invested around 8 billion dollars in Anthropic?"},
    {
        "role": "assistant",
        "content": "Currently, Amazon has already invested around $8 billion in Anthropic, but "
        "unlike Microsoft’s exclusive deal with OpenAI, Amazon holds less leverage. [1]",
    },
]


def test_the_questions_own_words_keep_the_weight() -> None:
    query = standalone_query("Is that stake exclusive?", EIGHT_BILLION)
    # The pointer is resolved by the subject of the earlier turn only: no figures, no words
    # that would pull retrieval back to the "$8 billion" sentence, no names the answer only
    # mentioned in passing.
    assert query == "Is that stake exclusive? (Amazon Anthropic)"


@pytest.mark.parametrize(
    "question",
    [
        "Why is Amazon investing in Anthropic?",
        "Which Amazon product is getting Anthropic's AI built into it?",
        "Who owns part of Anthropic?",
        "What documents do you have?",
        # One content word and a narrowing word is a follow-up; two content words are not.
        "Which AI model is best overall?",
        "Which company specifically invested $8 billion in Anthropic?",
    ],
)
def test_a_question_that_stands_on_its_own_carries_nothing(question: str) -> None:
    assert not is_followup(question)
    assert standalone_query(question, EIGHT_BILLION) == question


def test_a_refused_turn_is_not_carried() -> None:
    history = [
        *EIGHT_BILLION,
        {"role": "user", "content": "What was Anthropic's revenue last year?"},
        {
            "role": "assistant",
            "content": "The documents don't say what Anthropic's revenue last year was.",
        },
    ]
    assert standalone_query("Why is Amazon investing in Anthropic?", history) == (
        "Why is Amazon investing in Anthropic?"
    )
    # A follow-up after a refusal points at the last turn that was answered.
    query = standalone_query("Is that stake exclusive?", history)
    assert query == "Is that stake exclusive? (Amazon Anthropic)"
    assert "revenue" not in query


def test_a_turn_marked_refused_is_skipped_whatever_its_text() -> None:
    history = [
        {"role": "user", "content": "What does Meta build in-house?"},
        {"role": "assistant", "content": "Sorry, nothing found.", "refused": "yes"},
    ]
    # Its text is no answer to carry from ("Sorry, nothing found." names nothing): with no
    # turn answered, only the name its question gave is carried, which "it" may point at,
    # not what was asked of it ("build", "in-house": what the documents lack).
    assert standalone_query("Is it costly?", history) == "Is it costly? (Meta)"
    # ... and a question that points nowhere carries nothing.
    assert standalone_query("What does Google build?", history) == "What does Google build?"


def test_after_a_refused_first_turn_it_is_what_that_question_named() -> None:
    history = [
        {"role": "user", "content": "When did Amazon first invest in Anthropic?"},
        {"role": "assistant", "content": "The documents don't say when Amazon first invested."},
    ]
    query = standalone_query("fine, how much has it invested in total then?", history)
    # "fine," acknowledges the refusal (session 18): no part of what is searched for.
    assert query == "how much has it invested in total then? (Amazon Anthropic)"


def test_a_new_subject_carries_the_earlier_topic_not_the_earlier_names() -> None:
    history = [
        {"role": "user", "content": "Which firms build AI in-house?"},
        {"role": "assistant", "content": "Meta builds AI models in-house. [1]"},
    ]
    query = standalone_query("What about Google?", history)
    assert query == "What about Google? (firms build in-house)"
    assert "Meta" not in query


@pytest.mark.parametrize(
    "question",
    [
        "What about Google?",
        "And why?",
        "Is it exclusive?",
        "How big are they?",
        # "that" after an auxiliary points back; a narrowing word picks out what was said;
        # "something similar" compares with it.
        "has that relationship been smooth?",
        "Which model in particular?",
        "Which ones specifically?",
        "Did Microsoft do something similar with OpenAI?",
        "Does Google do the same?",
    ],
)
def test_follow_up_cues_are_recognised(question: str) -> None:
    assert is_followup(question)


def test_carried_terms_are_few_and_never_repeat_the_question() -> None:
    history = [
        {"role": "user", "content": "How do Amazon, Google, Meta, Microsoft and OpenAI differ?"},
        {"role": "assistant", "content": "Amazon invests; Meta builds in-house. [1]"},
    ]
    query = standalone_query("How do they compare?", history, max_terms=3)
    assert query == "How do they compare? (Amazon Google Meta)"


def test_a_huge_history_costs_no_more_than_a_short_one() -> None:
    # The hardening issue found a 40,000-word history took 6 s: only the last messages, cut
    # to a bounded length, are read.
    filler = " ".join(f"Word{i} term{i}" for i in range(20_000))
    history = [{"role": "user", "content": filler}, {"role": "assistant", "content": filler}] * 5
    history += EIGHT_BILLION
    t = time.perf_counter()
    query = standalone_query("Is that stake exclusive?", history)
    assert time.perf_counter() - t < 0.05
    assert query == "Is that stake exclusive? (Amazon Anthropic)"


def test_an_old_turn_beyond_the_window_is_not_carried() -> None:
    history = list(EIGHT_BILLION)
    history += [{"role": "user", "content": "Tell me more."}] * 10
    assert standalone_query("Is that stake exclusive?", history) == "Is that stake exclusive?"


SEED = Path(__file__).resolve().parent.parent / "evals" / "seed.yaml"


def test_seed_follow_ups_carry_the_subject_and_keep_their_own_words() -> None:
    items = [q for q in yaml.safe_load(SEED.read_text())["questions"] if q.get("history")]
    assert len(items) >= 8
    for item in items:
        query = standalone_query(item["question"], item["history"])
        if not is_followup(item["question"]):
            assert query == item["question"], item["id"]  # it stands on its own
            continue
        assert query.startswith(item["question"]), item["id"]
        carried = query[len(item["question"]) :].strip(" ()").split()
        assert 1 <= len(carried) <= 4, (item["id"], query)
        assert not any(ch.isdigit() for ch in "".join(carried)), (item["id"], query)


def _turn(question: str, answer: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


def test_it_after_a_what_question_is_that_questions_subject() -> None:
    history = _turn(
        "What is the size of the bovine coronavirus genome?",
        "First Complete Genome Sequence of a French Bovine coronavirus Strain. [1]",
    )
    query = standalone_query("How many nucleotides does it contain?", history)
    carried = query.removeprefix("How many nucleotides does it contain?").strip(" ()").split()
    # The earlier question's subject comes first, before names the answer happened to open with.
    assert carried[:2] == ["bovine", "coronavirus"]


def test_that_standing_for_a_statement_carries_what_was_asked() -> None:
    history = _turn(
        "Which company builds its AI models in-house?",
        "Meta, for example, is heavily investing in building AI models in-house. [1]",
    )
    query = standalone_query("Is that expensive?", history)
    assert query.startswith("Is that expensive? (Meta")
    assert "in-house" in query
    assert "company" not in query  # the kind of thing asked for is not the topic
    # "that stake" points at a thing: names only, as before.
    assert standalone_query("Is that stake exclusive?", EIGHT_BILLION) == (
        "Is that stake exclusive? (Amazon Anthropic)"
    )


def test_a_new_subject_that_also_points_back_keeps_the_earlier_names() -> None:
    history = _turn("How is CHIKV maintained in Africa?", "In a sylvatic cycle. [1]")
    query = standalone_query("And in Asia, what is it vectored by?", history)
    assert "CHIKV" in query
    # Asia takes Africa's place: "it" is CHIKV alone.
    assert "Africa" not in query


def test_a_follow_up_to_a_follow_up_points_at_what_the_first_was_about() -> None:
    # "it" in the third question is Anthropic, what the second ("that stake") was about; the
    # second answer opens with its foil ("Unlike Microsoft's deal with OpenAI, ..."), which
    # used to be carried instead.
    history = [
        {"role": "user", "content": "How much has Amazon invested in Anthropic?"},
        {"role": "assistant", "content": "Amazon has already invested around $8 billion. [1]"},
        {"role": "user", "content": "Is that stake exclusive?"},
        {
            "role": "assistant",
            "content": "Unlike Microsoft's exclusive deal with OpenAI, Amazon's stake in "
            "Anthropic is non-exclusive. [1]",
        },
    ]
    query = standalone_query("Who else owns part of it?", history)
    assert "Anthropic" in query, query
    assert "Microsoft" not in query and "OpenAI" not in query, query


OWN_MODELS = _turn(
    "How do Amazon's own models perform?",
    "Amazon, on the other hand, is hedging its bets by investing in proven AI players like "
    "Anthropic while its own in-house AI models lag behind competitors such as GPT-4, Claude, "
    "and Gemini in performance benchmarks. [1]",
)


def test_an_elliptical_question_leans_on_the_last_turn() -> None:
    # "How much so far?" and "Compared to which models?" were searched as typed and refused.
    assert is_followup("How much so far?") and is_followup("What else?")
    assert standalone_query("How much so far?", EIGHT_BILLION).startswith(
        "How much so far? (Amazon Anthropic"
    )
    # "Compared" opens the question; it is not a name the question brings.
    assert standalone_query("Compared to which models?", OWN_MODELS) == (
        "Compared to which models? (Amazon perform)"
    )
    assert not is_followup("How far is the nearest data center from Seattle?")
    # A preposition before the question word continues the last answer's sentence.
    assert is_followup("In what kind of tests?") and is_followup("Since when?")
    assert not is_followup("In what year was Anthropic founded?")


def test_a_pointer_before_any_name_points_back() -> None:
    # "it" comes before Meta, so it cannot be Meta: it is what the last turn was about.
    assert is_followup("What does it build with Meta?")
    query = standalone_query("What does it build with Meta?", EIGHT_BILLION)
    assert query.startswith("What does it build with Meta? (Anthropic")
    # An "it" that points at nothing, and an existential "there", stand on their own.
    assert not is_followup("Is it true that Amazon invested $8 billion?")
    assert not is_followup("Are there other investors besides Amazon?")
    # After the name, a pointer may point at the question's own subject: unchanged.
    assert not is_followup("Which Amazon product is getting Anthropic's AI built into it?")


def test_a_bare_why_asks_about_what_the_last_answer_said() -> None:
    history = _turn(
        "What is Meta doing with AI?",
        "Meta, for example, is heavily investing in building AI models in-house, aiming to "
        "control the entire technology stack and intellectual property. [1]",
    )
    # "doing" is no topic; the answer's own words say what "Why?" asks about.
    query = standalone_query("Why?", history)
    assert query.startswith("Why? (Meta ") and "doing" not in query
    assert "intellectual" in query


@pytest.mark.parametrize(
    "question",
    ["Who else has a stake?", "What is the reason?", "Give an example of one.", "Which one?"],
)
def test_a_question_about_what_was_just_said_leans_on_it(question: str) -> None:
    """ "Else", a relation with nothing to relate to ("the reason", "an example") and "one"
    point at the last answer as "it" does; a request opening the question is no name."""
    assert is_followup(question)
    query = standalone_query(question, EIGHT_BILLION)
    assert "Anthropic" in query and query.startswith(question)


def test_a_relation_with_a_topic_of_its_own_stands_alone() -> None:
    assert not is_followup("What are the risks of building AI in-house?")
    assert not is_followup("Give an example of a coronavirus found in bats.")


def test_an_earlier_follow_ups_own_words_come_before_what_it_carried() -> None:
    history = [
        {"role": "user", "content": "Where did Microsoft integrate ChatGPT's growth?"},
        {"role": "assistant", "content": "Microsoft integrated it into its Azure platform. [1]"},
        {"role": "user", "content": "Has that relationship been smooth?"},
        {
            "role": "assistant",
            "content": "Even that relationship has faced complexities as OpenAI pursues "
            "independent commercialization. [1]",
        },
    ]
    # "smooth" is what "Why not?" asks about; "integrate" was only carried into the question
    # before it.
    query = standalone_query("Why not?", history)
    assert "smooth" in query and "relationship" in query


@pytest.mark.parametrize(
    "question",
    [
        "What are the circumstances that promote the spread of influenza virus?",
        "What is the conclusion of this report?",
        "How long did it take China to build the temporary hospital in Wuhan?",
        "Why is it hard to know the true incidence of infections?",
        "Is there a treatment?",
        "How many human cases were there of influenza A virus subtype H7N9?",
    ],
)
def test_words_that_point_nowhere_do_not_make_a_follow_up(question: str) -> None:
    """A relative "that", "this report" (the document), an "it" that points at nothing and an
    existential "there": a standalone question mid-conversation carries nothing."""
    assert not is_followup(question)
    assert standalone_query(question, EIGHT_BILLION) == question


@pytest.mark.parametrize(
    "question", ["What clade does it belong to?", "Why is that?", "What does that mean?"]
)
def test_real_pointers_still_lean_on_the_last_answer(question: str) -> None:
    assert is_followup(question)


def test_and_a_new_name_is_the_last_question_about_that_name() -> None:
    from assistant.answer.followup import about_another

    assert standalone_query("And Google?", EIGHT_BILLION) == (
        "Who has invested around 8 billion dollars in Google?"
    )
    assert about_another("What about for MERS-CoV?", "What is the R0 of SARS-CoV?") == (
        "What is the R0 of MERS-CoV?"
    )
    # Not a bare name: the question says more than "and X".
    assert about_another("And Google, how much?", "How much has Amazon invested?") is None
    # Nothing to put it in place of.
    assert about_another("And Google?", "Which partnerships have markets favored?") is None


def test_a_judgement_of_what_was_said_carries_what_the_answer_said() -> None:
    history = [
        {"role": "user", "content": "What is Meta doing about AI?"},
        {
            "role": "assistant",
            "content": "Meta, for example, is heavily investing in building AI models in-house, "
            "aiming to control the entire technology stack and intellectual property. [1]",
        },
    ]
    # "that" is what Meta does, which only the answer says: its words are carried, so the
    # sentence after it ("This approach is costly ...") is found.
    query = standalone_query("is that expensive?", history)
    assert query.startswith("is that expensive? (Meta ")
    assert "technology" in query or "intellectual" in query


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # A correction asks the last question again about the name meant, as typed.
        ("No, I meant Google.", "How much has Google invested in Anthropic?"),
        ("sorry i meant google", "How much has google invested in Anthropic?"),
        # ... and so does "What about X?" with a word after the name, or a chat opener.
        ("What about Meta though?", "How much has Meta invested in Anthropic?"),
        ("ok and Google?", "How much has Google invested in Anthropic?"),
    ],
)
def test_a_correction_or_another_name_asks_the_last_question_again(
    question: str, expected: str
) -> None:
    history = [
        {"role": "user", "content": "How much has Amazon invested in Anthropic?"},
        EIGHT_BILLION[1],
    ]
    assert standalone_query(question, history) == expected


def test_else_a_possessive_and_a_chat_opener_lean_on_the_last_turn() -> None:
    assert is_followup("What else is Amazon hoping for?")
    assert is_followup("Is that more than Google's?")
    # "Well" opening a question is no name of its own: the last turn's subject is carried.
    assert standalone_query("Well, why?", EIGHT_BILLION).startswith("why? (Amazon")
    assert not is_followup("Thanks!")


@pytest.mark.parametrize(
    ("question", "terms"),
    [
        ("Sorry, what do you mean by leverage here?", {"leverag"}),
        ("non-exclusive meaning what, in practice?", {"exclus"}),
        ("What does Amazon want?", set()),
    ],
)
def test_the_word_whose_meaning_is_asked_is_read(question: str, terms: set[str]) -> None:
    from assistant.answer.followup import meaning_asked

    assert meaning_asked(question) == terms


def test_a_request_for_an_example_is_told_apart() -> None:
    from assistant.answer.followup import asks_example

    assert asks_example("give me an example of the first kind")
    assert asks_example("name one of those other companies pls")
    assert asks_example("Which one is named?")
    assert not asks_example("How much did Amazon invest?")
    assert not asks_example("What is the company's name?")


def test_the_other_kind_or_the_second_one_is_read_from_an_earlier_answer() -> None:
    from assistant.answer.followup import listed_item

    history = [
        {"role": "user", "content": "Which two approaches does the article contrast?"},
        {
            "role": "assistant",
            "content": "Some companies build AI in-house and others invest in startups. [1]",
        },
        {"role": "user", "content": "Which company is building in-house?"},
        {"role": "assistant", "content": "Meta, for example, builds its models itself. [1]"},
    ]
    # Two turns back, and "the other one" is the kind the last question did not ask about.
    assert listed_item("What about the other one?", history) == (
        "Which company is invest in startups?"
    )
    assert listed_item("And an example of the second one?", history) == (
        "And an example of invest in startups?"
    )


def test_a_bare_why_is_told_apart_and_the_last_quotes_are_read() -> None:
    from assistant.answer.followup import asks_what_follows, last_quotes

    assert asks_what_follows("And why?") and asks_what_follows("how so?")
    assert not asks_what_follows("Why is Amazon investing in Anthropic?")
    assert last_quotes(EIGHT_BILLION) == {EIGHT_BILLION[1]["content"][:-4]}
    refused = [{"role": "assistant", "content": "The documents don't say why."}]
    assert last_quotes(refused) == set()


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("how come? it's their money", True),
        ("How come? Eight billion dollars and they still don't call the shots?", True),
        ("How so? Why less leverage?", False),  # a question of its own after the bare why
        ("Really? I thought they bought it.", False),  # a doubt, not a reason asked for
        ("Why is Amazon investing in Anthropic?", False),
    ],
)
def test_a_bare_why_with_a_remark_asks_the_reason_of_what_was_said(
    question: str, asks: bool
) -> None:
    from assistant.answer.followup import asks_what_follows, why_with_remark

    assert why_with_remark(question) is asks
    if asks:
        assert asks_what_follows(question)


@pytest.mark.parametrize(
    "question", ["Tell me more.", "can you elaborate?", "What do you mean?", "Give me an example"]
)
def test_a_bare_request_for_more_is_a_follow_up(question: str) -> None:
    from assistant.answer.followup import asks_for_more

    assert asks_for_more(question) and is_followup(question)


def test_a_request_about_something_named_is_a_question_of_its_own() -> None:
    from assistant.answer.followup import asks_for_more

    assert not asks_for_more("Tell me more about Google's chips.")


def test_a_one_word_question_and_a_lower_case_name_lean_on_the_last_turn() -> None:
    history = [
        {"role": "user", "content": "How much has Amazon invested in Anthropic?"},
        EIGHT_BILLION[1],
    ]
    assert is_followup("which models?")
    # "microsoft" is the conversation's "Microsoft": the last question asked of it.
    assert standalone_query("and microsoft", history) == (
        "How much has Microsoft invested in Anthropic?"
    )


@pytest.mark.parametrize(
    ("question", "place"),
    [
        ("Expand on the second point.", 2),
        ("tell me more about [3]", 3),
        ("What does the last one mean?", -1),
        ("more on point 2 pls", 2),
        ("Why the first one?", 1),
        ("Who is the second largest investor?", None),
        ("What was the first investment?", None),
        ("Tell me more about the second round of funding.", None),
    ],
)
def test_a_request_for_more_of_one_point_is_told_by_its_place(
    question: str, place: int | None
) -> None:
    from assistant.answer.followup import pointed_place

    assert pointed_place(question) == place


def test_the_point_asked_about_is_the_quote_at_that_place() -> None:
    from assistant.answer.followup import pointed_quote, quotes_asked_about

    history = [
        {"role": "user", "content": "How is Amazon placed?"},
        {
            "role": "assistant",
            "content": "Amazon holds less leverage. [1] Google owns part of it. [2]",
        },
    ]
    assert pointed_quote("expand on the second point", history) == "Google owns part of it."
    assert pointed_quote("expand on the third point", history) is None
    assert quotes_asked_about("expand on point 1", history) == {"Amazon holds less leverage."}
    assert quotes_asked_about("Tell me more.", history) == {
        "Amazon holds less leverage.",
        "Google owns part of it.",
    }
    assert standalone_query("expand on the second point", history) == (
        "expand on the second point (Google owns part)"
    )


@pytest.mark.parametrize(
    "question",
    [
        "sorry, I meant Amazon's own models, not Meta's",
        "no i meant Amazon, not Meta",
        "I meant Amazon rather than Meta.",
    ],
)
def test_a_correction_replaces_the_name_it_says_it_is_not(question: str) -> None:
    history = [
        {"role": "user", "content": "Which AI models do Meta's in-house models lag behind?"},
        {"role": "assistant", "content": "The documents don't say which models."},
    ]
    assert standalone_query(question, history) == (
        "Which AI models do Amazon's in-house models lag behind?"
    )


def test_who_else_asks_besides_the_last_answers_subject() -> None:
    from assistant.answer.followup import others_than

    history = [
        {"role": "user", "content": "How much has Amazon invested in Anthropic?"},
        EIGHT_BILLION[1],
    ]
    assert others_than("Who else has invested?", history) == "Amazon"
    assert others_than("What else?", history) is None
    query = standalone_query("Who else has invested?", history)
    assert "Amazon" not in query and "Anthropic" in query


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("Where does it say that?", True),
        ("which document says that?", True),
        ("source?", True),
        ("Are you sure?", True),
        ("cite it", True),
        ("Where does Amazon build chips?", False),
        ("Are you sure about Google?", False),
    ],
)
def test_where_does_it_say_that_asks_for_the_last_quotes_again(question: str, asks: bool) -> None:
    from assistant.answer.followup import asks_where_said

    assert asks_where_said(question) is asks
    if asks:
        history = [
            {"role": "user", "content": "How much has Amazon invested in Anthropic?"},
            EIGHT_BILLION[1],
        ]
        assert standalone_query(question, history).endswith(f"({EIGHT_BILLION[1]['content'][:-4]})")


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Back to Amazon - is its stake exclusive?", "is its stake exclusive? (Amazon)"),
        ("As for the chips, who makes them?", "who makes them? (the chips)"),
        (
            "Regarding Google: does it own part of Anthropic?",
            "does it own part of Anthropic? (Google)",
        ),
        # "about" that measures is no topic.
        ("About how much did Amazon invest?", "About how much did Amazon invest?"),
    ],
)
def test_a_topic_named_before_the_question_is_what_it_asks_about(
    question: str, expected: str
) -> None:
    assert standalone_query(question, None) == expected


@pytest.mark.parametrize("question", ["no wait, I meant Google", "actually I meant Google"])
def test_a_correction_may_open_as_people_type_it(question: str) -> None:
    history = [
        {"role": "user", "content": "How much has Amazon invested in Anthropic?"},
        EIGHT_BILLION[1],
    ]
    assert standalone_query(question, history) == "How much has Google invested in Anthropic?"


def test_a_pronoun_for_the_name_asked_about_carries_the_name_not_the_topic() -> None:
    history = [
        {"role": "user", "content": "What is Amazon's strategy, from an investor's point of view?"},
        {
            "role": "assistant",
            "content": "From an investor perspective, Amazon’s strategy is less about immediate "
            "capital gains and more about securing access to the best foundational AI models. [1]",
        },
    ]
    query = standalone_query("How do its own models compare with the competition?", history)
    assert query == "How do its own models compare with the competition? (Amazon)"


@pytest.mark.parametrize(
    ("message", "asked"),
    [
        (
            "I hold AMZN and I'm sizing this up. How much has Amazon sunk into Anthropic?",
            "How much has Amazon sunk into Anthropic?",
        ),
        ("For a class report: is Amazon's stake exclusive?", "is Amazon's stake exclusive?"),
        # What the asker is doing, opening with its -ing word and naming nothing.
        (
            "Prepping an episode. Apart from Amazon, which tech giant owns part of Anthropic?",
            "Apart from Amazon, which tech giant owns part of Anthropic?",
        ),
        (
            "Drafting a memo for the board: how much has Amazon invested?",
            "how much has Amazon invested?",
        ),
        # ... not a topic: "Speaking of", a comparison, a name.
        ("Speaking of chips. Who makes them?", None),
        ("Partnering vs building in-house: which has the market liked better?", None),
        ("Following Google closely. Does it own part of Anthropic?", None),
        # A request, or what the article says, is part of what is asked.
        ("Compare Amazon's deal with Microsoft's. What's the key difference?", None),
        ('The piece says Amazon is "hedging its bets". Hedging how?', None),
        ("How much has Amazon invested?", None),
        # A label that continues the conversation names what is asked about.
        ("And the next tranche: roughly what size is it?", None),
        # The question told before a bare "What does the article say?" is what is asked.
        (
            "My son wants to know which AI company Microsoft teamed up with. "
            "What does the article say?",
            "which AI company Microsoft teamed up with?",
        ),
        ("I'm curious who makes the chips. How would the piece put it?", "who makes the chips?"),
        # ... and without a question told before it, the whole message is asked.
        ("My boss asked me about Amazon. What does the article say?", None),
        # A question of its own after a question told: the question of its own.
        (
            "My son wants to know about chips. Who makes Amazon's chips?",
            "Who makes Amazon's chips?",
        ),
    ],
)
def test_what_the_person_says_of_themselves_is_no_part_of_the_question(
    message: str, asked: str | None
) -> None:
    from assistant.answer.followup import split_preamble

    assert split_preamble(message)[0] == (asked or message)
    assert standalone_query(message, None) == (asked or message)


def test_a_reason_or_more_asked_in_the_last_answers_words_reads_on_from_that_quote() -> None:
    history = [
        {"role": "user", "content": "How much has Amazon put in?"},
        {
            "role": "assistant",
            "content": "Amazon has invested $8 billion. [1] Amazon holds less leverage. [2]",
        },
    ]
    assert said_asked_about("why less leverage though?", history) == {"Amazon holds less leverage."}
    assert said_asked_about("Say more about the leverage.", history) == {
        "Amazon holds less leverage."
    }
    # A question of its own, a name the answer never gave, or no answer at all: not this.
    assert said_asked_about("Why is Amazon building data centers in Ohio?", history) == set()
    assert said_asked_about("Why less leverage than Microsoft?", history) == set()
    assert said_asked_about("How much leverage?", history) == set()
    # What a word of the answer means there: what its passage goes on to say.
    assert said_asked_about("Sorry, what do you mean by leverage here?", history) == {
        "Amazon holds less leverage."
    }
    assert said_asked_about("what does leverage mean here? over what?", history) == {
        "Amazon holds less leverage."
    }
    assert said_asked_about("What does Microsoft mean?", history) == set()
    refused = [{"role": "assistant", "content": "The documents don't say."}]
    assert said_asked_about("why less leverage though?", refused) == set()


def test_a_pointer_after_an_opening_preposition_or_before_the_last_word_leans_back() -> None:
    # "Between" opens the sentence: no name of its own before "those".
    assert is_followup("Between those two, which one have investors been keener on?")
    # "that" before the question's last word has no clause after it: it points back.
    assert is_followup("Is there a catch to going that route?")
    # A relative "that", with its clause, and a question naming its own subject: not so.
    assert not is_followup("Which cells carry the receptor that binds the virus?")
    assert not is_followup("Between 2019 and 2020, how much did Amazon invest in Anthropic?")


def test_spoken_fillers_are_no_part_of_the_query() -> None:
    assert (
        standalone_query("like, how much did Amazon invest?", []) == "how much did Amazon invest?"
    )
    assert standalone_query("so basically why is Amazon doing this deal", []) == (
        "why is Amazon doing this deal"
    )
    assert standalone_query("who else owns a piece of Anthropic you know", []) == (
        "who else owns a piece of Anthropic"
    )
    # ... but "like" that compares or asks, "I mean" that corrects, and "right?" stay.
    assert standalone_query("Like Amazon, does Google invest?", []) == (
        "Like Amazon, does Google invest?"
    )
    assert standalone_query("Is that right?", []) == "Is that right?"
    refused = [
        {"role": "user", "content": "How much has Google invested in Anthropic?"},
        {"role": "assistant", "content": "The documents don't say how much Google has invested."},
    ]
    assert (
        standalone_query("I mean Amazon.", refused) == "How much has Amazon invested in Anthropic?"
    )


def test_a_question_echoing_the_last_answers_words_asks_what_its_quote_says() -> None:
    from assistant.answer.followup import echoed_quotes

    quote = "its own models lag behind competitors such as GPT-4 in performance benchmarks."
    history = [
        {"role": "user", "content": "Whose models beat Amazon's?"},
        {"role": "assistant", "content": quote + " [1]"},
    ]
    assert echoed_quotes("behind on what, measured how?", history) == {quote}
    assert echoed_quotes("lag behind whom?", history) == {quote}
    # "..., exactly?", "..., in practice?" ask nothing more.
    assert echoed_quotes("lag behind whom, exactly?", history) == {quote}
    assert echoed_quotes("lag behind whom, in practice?", history) == {quote}
    # Words the quote does not use, or a question of its own, echo nothing.
    assert echoed_quotes("ahead on what?", history) == set()
    assert echoed_quotes("Which chips does Amazon build for Anthropic?", history) == set()


def test_a_topic_before_a_colon_is_part_of_the_question() -> None:
    from assistant.answer.followup import split_preamble

    asked = "Partnering vs building in-house: which has the market liked better?"
    assert split_preamble(asked) == (asked, "")
    # A longer label is the asker's occasion, unless it asks or points into a list itself.
    assert split_preamble("Need this for a 9am briefing, fast: whose models beat Amazon's?") == (
        "whose models beat Amazon's?",
        "Need this for a 9am briefing, fast:",
    )
    for asked in (
        "So far, which approach has the market rewarded more: partnering or building?",
        "The second one on that list: why does Amazon want it?",
    ):
        assert split_preamble(asked) == (asked, "")
    assert split_preamble("For a report: is the stake exclusive?") == (
        "is the stake exclusive?",
        "For a report:",
    )


def test_a_bare_how_so_before_a_why_of_the_last_answers_words_reads_on() -> None:
    from assistant.answer.followup import said_asked_about

    said = "Amazon, on the other hand, is hedging its bets by investing in proven AI players"
    history = [
        {"role": "user", "content": "What's Amazon's AI strategy?"},
        {"role": "assistant", "content": said + " [1]"},
    ]
    assert said_asked_about("How so? Why does it need to hedge at all?", history) == {said}
    assert said_asked_about("How so? Why is Meta building chips?", history) == set()


def test_an_elliptical_question_brings_one_name_in_any_case() -> None:
    from assistant.answer.followup import another_named

    assert another_named("and google?") == "google"
    assert another_named("What about Amazon's?") == "Amazon"
    assert another_named("And why?") is None
    assert another_named("And what did Google do?") is None


def test_a_request_for_the_answers_form_is_no_part_of_the_query() -> None:
    assert standalone_query("Is the stake exclusive? Yes or no.", []) == ("Is the stake exclusive?")
    assert standalone_query("Amazon's Anthropic tab so far? One line.", []) == (
        "Amazon's Anthropic tab so far?"
    )
    assert standalone_query("Who invested? In one word, please.", []) == "Who invested?"
    # ... only after the question: "yes or no" asked about is kept.
    assert standalone_query("Did the article say yes or no to a deal?", []) == (
        "Did the article say yes or no to a deal?"
    )


def test_a_correction_that_asks_a_whole_question_is_asked_as_that_follow_up() -> None:
    history = [
        {"role": "user", "content": "What's the latest on Amazon and Anthropic?"},
        {
            "role": "assistant",
            "content": "Amazon is considering a new investment in Anthropic. [1]",
        },
    ]
    # The meant question leans on the conversation ("they've" points back), and what it is
    # "not" is no part of it.
    assert (
        standalone_query("no, I meant how much they've already put in, not the new one", history)
        == "how much they've already put in (Amazon Anthropic latest)"
    )
    assert is_followup("how much they've already put in")


def test_where_the_answer_is_to_be_read_is_no_part_of_the_query() -> None:
    assert standalone_query("What are Meta's upsides, according to the piece?", None) == (
        "What are Meta's upsides?"
    )
    assert standalone_query("According to the article, who owns Anthropic?", None) == (
        "who owns Anthropic?"
    )
    # A question about what the article says keeps its words.
    asked = "What does the article say about Google?"
    assert standalone_query(asked, None) == asked


def test_its_after_a_question_naming_two_is_the_first_of_them() -> None:
    history = [
        {"role": "user", "content": "What is Meta doing differently from Amazon?"},
        {"role": "assistant", "content": "Meta is building AI models in-house. [1]"},
    ]
    query = standalone_query("What does its approach offer investors over time?", history)
    assert "Meta" in query and "Amazon" not in query, query
    # "their" may be either: both are carried.
    query = standalone_query("What does their approach offer investors over time?", history)
    assert "Meta" in query and "Amazon" in query, query


def test_who_says_it_inside_the_question_is_no_part_of_the_query() -> None:
    assert standalone_query("who does the author think ends up with the value?", None) == (
        "who ends up with the value?"
    )
    assert standalone_query("What does the article say is the downside of it all?", None) == (
        "What is the downside of it all?"
    )
    assert standalone_query("Which cloud does the article say absorbed the growth?", None) == (
        "Which cloud absorbed the growth?"
    )
    # ... after a label too; and what it says "about" something is asked whole.
    assert standalone_query("Last one: who does the writer think gains most?", None) == (
        "who gains most?"
    )
    for asked in ("What does the article say about Google?", "Why does the author think so?"):
        assert standalone_query(asked, None) == asked


def test_go_on_with_a_question_reads_on_from_the_last_answer() -> None:
    assert is_followup("Go on, anything beyond the hardware?")
    assert not is_followup("Does Amazon go online with Claude?")


def test_a_that_ending_the_question_points_back() -> None:
    history = [
        {"role": "user", "content": "Why does Amazon have less leverage than Microsoft?"},
        {"role": "assistant", "content": "Unlike Microsoft, Amazon holds less leverage. [1]"},
    ]
    # Nothing follows the "that": it is no relative "that" ("the virus that causes ...").
    assert is_followup("Would writing a bigger cheque fix that?")
    query = standalone_query("Would writing a bigger cheque fix that?", history)
    assert "leverage" in query and query.startswith("Would writing a bigger cheque fix that?")
    assert not is_followup("Is it the virus that causes the fever?")


def test_never_mind_before_a_question_asks_nothing() -> None:
    history = [
        {"role": "user", "content": "Does it say how many people use Claude?"},
        {"role": "assistant", "content": "The documents don't say how many people use Claude."},
    ]
    query = standalone_query("Never mind. Which side has the market favoured so far?", history)
    assert query.startswith("Which side has the market favoured so far?")


def test_a_pronoun_after_a_yes_or_no_question_is_the_name_it_was_asked_of() -> None:
    from assistant.answer.followup import named_doer

    history = [
        {"role": "user", "content": "Did Microsoft get an exclusive deal with OpenAI?"},
        {"role": "assistant", "content": "Microsoft's partnership with OpenAI secured it. [1]"},
    ]
    # The amount asked is Microsoft's: "$8 billion" told of Amazon does not answer it.
    assert named_doer("How much did they pay for it?", history) == (
        "How much did Microsoft pay for it?"
    )
    # A question naming its own subject keeps it.
    assert named_doer("How much did Amazon pay?", history) == "How much did Amazon pay?"
