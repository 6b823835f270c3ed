"""Follow-ups told by a label or a statement (session 21): a new question announced as such,
a continuation after "Go on:", a statement about "the" thing put as a question, "your very
first answer", and what the refusal reads of a cleaned follow-up. No model needed."""

from __future__ import annotations

from assistant.answer.answerer import _asked
from assistant.answer.followup import answer_pointed, is_followup, named_doer, standalone_query

OWNERS = [
    {"role": "user", "content": "Who else owns Anthropic?"},
    {
        "role": "assistant",
        "content": "Anthropic remains partially owned by Google and collaborates with other "
        "tech giants like Meta, maintaining its independence. [1]",
    },
]


def test_a_new_question_announced_as_such_carries_nothing() -> None:
    """ "New question, not about Anthropic: ..." stands on its own: the label is no part of
    the query, and nothing earlier is carried into it."""
    asked = "on which cloud platform did Microsoft put the ChatGPT growth?"
    for label in ("New question, not about Anthropic:", "Different topic:", "Unrelated:"):
        assert standalone_query(f"{label} {asked}", OWNERS) == asked
    # A label that names what is asked about is still part of the question.
    query = standalone_query("Regarding Google: does it build in-house?", OWNERS)
    assert query.startswith("does it build in-house? (Google")


def test_go_on_before_a_colon_reads_on_from_the_conversation() -> None:
    industry = [
        {"role": "user", "content": "How does the article describe the AI industry overall?"},
        {
            "role": "assistant",
            "content": "Overall, the AI industry is currently witnessing a real-time "
            "experiment in strategic approaches [1]",
        },
    ]
    query = standalone_query("Go on: which approaches are being tried out?", industry)
    assert query.startswith("which approaches are being tried out? (")
    # Without a conversation there is nothing to read on from.
    assert standalone_query("Go on: which approaches are being tried out?", None) == (
        "which approaches are being tried out?"
    )


def test_a_statement_about_the_thing_put_as_a_question_checks_what_was_said() -> None:
    news = [
        {"role": "user", "content": "What's the news about Amazon and Anthropic?"},
        {
            "role": "assistant",
            "content": "Amazon is reportedly considering a new multi-billion dollar investment "
            "in the AI startup Anthropic. [1]",
        },
    ]
    assert is_followup("the deal has been signed already?")
    query = standalone_query("So the deal has been signed already?", news)
    assert query.startswith("the deal has been signed already? (Amazon Anthropic")
    # A question about "the" thing asked in question order is not a statement.
    assert not is_followup("Has the deal between Amazon and Anthropic been signed?")


def test_your_very_first_answer_is_the_first_one() -> None:
    history = [
        *OWNERS,
        {"role": "user", "content": "What is Meta doing?"},
        {"role": "assistant", "content": "Meta is heavily investing in building AI in-house. [1]"},
    ]
    assert (
        answer_pointed("The company in your very first answer: why?", history)
        == (OWNERS[1]["content"])
    )
    query = standalone_query(
        "The company in your very first answer: how do investors see it?", history
    )
    # The first answer's names and words, not the last one's ("heavily investing building").
    assert query.endswith("(Anthropic Google Meta collaborates)")


def test_the_refusal_reads_a_cleaned_follow_up_without_its_carried_terms() -> None:
    """ "Why is this a risk? I don't understand it." after "... Amazon's position is not
    exclusive ...": the query carries "exclusive", but the question does not claim that it
    is, so the denial in the sentence must not read as the question's opposite."""
    query = "Why is this a risk? (Amazon position exclusive Anthropic)"
    assert _asked("Why is this a risk? I don't understand it.", query) == "Why is this a risk?"
    assert _asked("Is it exclusive?", "Is it exclusive? (Amazon)") == "Is it exclusive?"
    # A follow-up asked again whole ("And Google?") is read as rewritten.
    whole = "How much has Google invested in Anthropic?"
    assert _asked("And Google?", whole) == whole


def test_a_doer_pointed_at_after_which_company_is_the_company_the_answer_named() -> None:
    """ "How much did they put in?" after "Which company ...?" - "... Google ..." asks it of
    Google; "it" only as a doer ("Is it exclusive?" is the stake, not Google)."""
    which = [
        {"role": "user", "content": "Which other big company owns a piece of Anthropic?"},
        OWNERS[1],
    ]
    assert named_doer("How much did they put in?", which) == "How much did Google put in?"
    assert named_doer("Has it invested too?", which) == "Has Google invested too?"
    assert named_doer("Is it exclusive?", which) == "Is it exclusive?"
    # A question that names its own doer, or after a question that asked no "which one".
    assert named_doer("How much did Amazon put in?", which) == "How much did Amazon put in?"
    why = [{"role": "user", "content": "Why does Anthropic stay independent?"}, OWNERS[1]]
    assert named_doer("How much did they put in?", why) == "How much did they put in?"
