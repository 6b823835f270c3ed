"""Follow-ups that return to an earlier point, pick an item of a list, or acknowledge the last
answer before asking (session 18). No model needed."""

from __future__ import annotations

from assistant.answer.followup import (
    answer_pointed,
    is_followup,
    listed_item,
    recalled_terms,
    standalone_query,
)

CHIPS_THEN_LOYALTY = [
    {"role": "user", "content": "How is Amazon backing Anthropic apart from cash?"},
    {
        "role": "assistant",
        "content": "Amazon is also supporting Anthropic through infrastructure investments, "
        "including custom chips [1]",
    },
    {"role": "user", "content": "And will Anthropic stay loyal to Amazon in return?"},
    {
        "role": "assistant",
        "content": "However, there is no guarantee that Anthropic will remain loyal to Amazon, "
        "as it continues to collaborate with other companies. [1]",
    },
]


def test_going_back_to_a_topic_carries_what_the_earlier_answer_said_of_it() -> None:
    """ "Going back to the chips: who are they built around?" after two exchanges: the chips
    were in the first answer (infrastructure investments for Anthropic), not the last one
    (loyalty), and that answer's words say what they were."""
    query = standalone_query(
        "Going back to the chips: what else comes with them, and who are they built around?",
        CHIPS_THEN_LOYALTY,
    )
    assert query == (
        "what else comes with them, and who are they built around? "
        "(the chips Amazon Anthropic infrastructure investments)"
    )
    assert recalled_terms("the chips", CHIPS_THEN_LOYALTY) == [
        "Amazon",
        "Anthropic",
        "infrastructure",
        "investments",
    ]


def test_going_back_to_a_name_returns_to_the_name_only() -> None:
    """ "back to amazon: ..." returns to Amazon; what an answer said next to its name (a
    Microsoft comparison) is not carried, typed in lower case or not."""
    history = [
        {"role": "user", "content": "how is microsoft's deal with openai different?"},
        {
            "role": "assistant",
            "content": "Unlike Microsoft’s exclusive deal with OpenAI, Amazon’s stake in "
            "Anthropic is non-exclusive [1]",
        },
    ]
    assert recalled_terms("amazon", history) == []
    assert recalled_terms("Amazon", history) == []
    query = standalone_query("back to Amazon: what hardware is it giving Anthropic?", history)
    assert query == "what hardware is it giving Anthropic? (Amazon)"


def test_a_topic_no_answer_spoke_of_is_carried_as_named() -> None:
    assert recalled_terms("the board", CHIPS_THEN_LOYALTY) == []
    assert standalone_query("Back to the board: who sits on it?", CHIPS_THEN_LOYALTY) == (
        "who sits on it? (the board)"
    )
    # Without a conversation the lead-in is read as before.
    assert standalone_query("Back to Amazon - is its stake exclusive?", None) == (
        "is its stake exclusive? (Amazon)"
    )


LISTED = [
    {"role": "user", "content": "does amazon make its own AI?"},
    {
        "role": "assistant",
        "content": "Amazon is hedging its bets while its own in-house AI models lag behind "
        "competitors such as GPT-4, Claude, and Gemini in performance benchmarks. [1]",
    },
    {"role": "user", "content": "what are performance benchmarks?"},
    # A refusal, known by its wording as by a "refused" flag.
    {"role": "assistant", "content": "The documents don't say how those benchmarks work."},
]


def test_the_nth_item_you_listed_is_that_item_by_name() -> None:
    """ "the second competitor you listed" is Claude, from the last answer that listed
    names (a refusal in between lists nothing)."""
    question = "ok. the second competitor you listed, isn't that the Anthropic model?"
    assert standalone_query(question, LISTED) == "Claude, isn't that the Anthropic model?"
    assert listed_item("What is the last one you mentioned?", LISTED) == "What is Gemini?"
    assert listed_item("the first company it named: is it American?", LISTED) == (
        "GPT-4: is it American?"
    )


def test_a_place_with_no_list_or_no_such_item_changes_nothing() -> None:
    assert listed_item("the fifth model you listed, who makes it?", LISTED) is None
    # Not a reference to a list: an ordinal of the documents' own.
    assert listed_item("Who is the second largest investor?", LISTED) is None
    no_list = [
        {"role": "user", "content": "How much has Amazon invested?"},
        {"role": "assistant", "content": "Amazon has invested around $8 billion. [1]"},
    ]
    assert listed_item("the second one you mentioned, is it new?", no_list) is None


def test_an_acknowledgement_before_the_question_is_no_part_of_it() -> None:
    """ "Fine. Is the new money a done deal?" asks what follows "Fine."; "Thank you." and
    "Got it," likewise. A question that only opens with such a word keeps it ("Fine-tuning
    aside, ...")."""
    assert standalone_query("Fine. Is the new money a done deal?", []) == (
        "Is the new money a done deal?"
    )
    assert standalone_query("Thank you. Who else owns part of Anthropic?", []) == (
        "Who else owns part of Anthropic?"
    )
    assert standalone_query("Got it, and how much has Google put in?", []) == (
        "and how much has Google put in?"
    )
    assert standalone_query("Fine-tuning aside, who builds Claude?", []) == (
        "Fine-tuning aside, who builds Claude?"
    )
    assert not is_followup("Fine. Why is Amazon investing in Anthropic?")


MICROSOFT_THEN_AMAZON = [
    {"role": "user", "content": "How does Microsoft's OpenAI deal work, per this piece?"},
    {
        "role": "assistant",
        "content": "This contrasts with Microsoft’s partnership with OpenAI, which secured "
        "exclusivity [1]",
    },
    {"role": "user", "content": "And Amazon's deal with Anthropic?"},
    {"role": "assistant", "content": "Amazon’s stake in Anthropic is non-exclusive [1]"},
]


def test_those_two_are_the_subjects_of_the_last_two_exchanges() -> None:
    """ "Between those two, which deal has the market rewarded?" compares Amazon's deal
    (the last exchange) with Microsoft's (the one before): both are named."""
    query = standalone_query(
        "Between those two, which kind of deal has the market rewarded?", MICROSOFT_THEN_AMAZON
    )
    assert query == (
        "Between those two, which kind of deal has the market rewarded? "
        "(Amazon Anthropic Microsoft OpenAI)"
    )
    meta_then_amazon = [
        {"role": "user", "content": "What's Meta's game plan in AI?"},
        {"role": "assistant", "content": "Meta is building AI models in-house. [1]"},
        {"role": "user", "content": "And Amazon's?"},
        {"role": "assistant", "content": "Amazon is investing in proven AI players. [1]"},
    ]
    query = standalone_query("Of those two routes, which one is expensive?", meta_then_amazon)
    assert query == "Of those two routes, which one is expensive? (Amazon Meta game plan)"


def test_the_two_things_a_question_names_itself_are_no_comparison() -> None:
    # "the two phases" are the question's own; only the last exchange is carried.
    query = standalone_query("What happens in the two phases?", MICROSOFT_THEN_AMAZON)
    assert "Microsoft" not in query
    assert query == "What happens in the two phases?"


def test_a_statement_put_back_to_be_confirmed_checks_the_last_answer() -> None:
    """ "So the extra money hasn't been committed yet, correct?" names nothing, but checks
    what the last answer said (Amazon considering a new investment in Anthropic); "so amazon
    doesn't own the whole thing, then?" is about what the last question asked of (Anthropic)."""
    latest = [
        {"role": "user", "content": "What's the latest on Amazon and Anthropic?"},
        {"role": "assistant", "content": "Amazon is considering a new investment. [1]"},
    ]
    assert is_followup("So the extra money hasn't been committed yet, correct?")
    assert is_followup("the deal is not exclusive, is that right?")
    assert standalone_query("So the extra money hasn't been committed yet, correct?", latest) == (
        "the extra money hasn't been committed yet, correct? (Amazon Anthropic latest)"
    )
    owners = [
        {"role": "user", "content": "who owns this Anthropic company?"},
        {"role": "assistant", "content": "Anthropic remains partially owned by Google [1]"},
    ]
    assert standalone_query("so Amazon doesn't own the whole thing, then?", owners) == (
        "Amazon doesn't own the whole thing, then? (Anthropic owns company)"
    )
    # A question that only ends in "right" asks no confirmation.
    assert not is_followup("Which way is right?")


def test_a_capitalised_check_tag_carries_the_names_as_a_lower_case_one_does() -> None:
    """ "Google owns part of it. Is that right?" checks what was said as "..., is that
    right?" does: the tag is read in any case, so the names the last question asked about
    (Amazon and Anthropic) go with it, not only the one "it" points at."""
    latest = [
        {"role": "user", "content": "What's the latest on Amazon and Anthropic?"},
        {"role": "assistant", "content": "Amazon is considering a new investment. [1]"},
    ]
    for question in (
        "Google owns part of it. Is that right?",
        "Google owns part of it. is that right?",
        "Google owns part of it, Correct?",
    ):
        assert standalone_query(question, latest) == f"{question} (Amazon Anthropic latest)"
    owners = [
        {"role": "user", "content": "who owns this Anthropic company?"},
        {"role": "assistant", "content": "Anthropic remains partially owned by Google [1]"},
    ]
    assert standalone_query("Google owns a part. Am I right?", owners) == (
        "Google owns a part. Am I right? (Anthropic company)"
    )


def test_wanting_to_know_more_about_something_names_the_topic() -> None:
    """ "I should like to know a little more about the chips you mention: are they general
    purpose?" is about the chips, as "Back to the chips: ..." is: the sentence about the
    asker names the topic, and the answer that spoke of the chips says what they were."""
    helping = [
        {"role": "user", "content": "In what ways, other than money, is Amazon helping?"},
        {
            "role": "assistant",
            "content": "Amazon is also supporting Anthropic through infrastructure investments, "
            "including custom chips and data centers [1]",
        },
    ]
    query = standalone_query(
        "Thank you. I should like to know a little more about the chips you mention: "
        "are they general purpose?",
        helping,
    )
    assert query == (
        "are they general purpose? "
        "(the chips you mention Amazon Anthropic infrastructure investments)"
    )
    assert standalone_query("Tell me more about Google: does it own part of Anthropic?", []) == (
        "does it own part of Anthropic? (Google)"
    )
    # A sentence about the asker that names no topic is still set aside.
    assert standalone_query("I hold AMZN. How much has Amazon invested?", []) == (
        "How much has Amazon invested?"
    )


def test_a_remark_of_the_askers_own_after_the_question_is_no_part_of_it() -> None:
    """ "And who ends up the winner in the long run? I'd wager it won't be ordinary folk.":
    the guess after the question asks nothing; the question is searched for, with what it
    carries."""
    summed = [
        {"role": "user", "content": "How does the article sum up Amazon's move?"},
        {"role": "assistant", "content": "Amazon's investment in Anthropic is a bet. [1]"},
    ]
    query = standalone_query(
        "And who ends up the winner in the long run? I'd wager it won't be ordinary folk.", summed
    )
    assert query.startswith("And who ends up the winner in the long run? (")
    assert "wager" not in query
    assert standalone_query("Is the stake exclusive? My boss thinks so.", None) == (
        "Is the stake exclusive?"
    )
    # A second question is kept, and so is a remark before the question.
    assert standalone_query("Is it exclusive? I mean, really exclusive?", None) == (
        "Is it exclusive? I mean, really exclusive?"
    )


def test_after_a_refusal_a_roles_acronym_is_not_carried() -> None:
    """ "What did Anthropic's CEO say about the deal?" was refused: the documents lack the
    CEO. "then what is Amazon hoping to get from it?" is about Anthropic's deal, not its CEO;
    "CEO" is a role, capitalised but no name."""
    refused = [
        {"role": "user", "content": "What did Anthropic's CEO say about the deal?"},
        {"role": "assistant", "content": "The documents don't say what Anthropic's CEO said."},
    ]
    assert standalone_query("ok, then what is Amazon hoping to get from it?", refused) == (
        "then what is Amazon hoping to get from it? (Anthropic)"
    )


def test_the_first_kind_is_the_first_of_two_kinds_the_answer_contrasted() -> None:
    """ "give me an example of the first kind" after "some companies building AI stacks
    internally and others opting to invest in startups" asks for companies building AI
    internally; "the latter" is the others."""
    industry = [
        {"role": "user", "content": "How would you describe the AI industry right now?"},
        {
            "role": "assistant",
            "content": "The AI industry is witnessing a real-time experiment, with some "
            "companies building AI stacks internally and others opting to invest in "
            "startups. [1]",
        },
    ]
    assert standalone_query("give me an example of the first kind", industry) == (
        "give me an example of companies building AI stacks internally"
    )
    assert listed_item("Who does the latter?", industry) == (
        "Who does opting to invest in startups?"
    )
    divide = [
        {"role": "user", "content": "What divide does the article talk about?"},
        {
            "role": "assistant",
            "content": "A broader industry divide between companies building AI in-house and "
            "those investing in external AI innovators. [1]",
        },
    ]
    assert listed_item("what's the upside of the second approach?", divide) == (
        "what's the upside of investing in external AI innovators?"
    )
    # An answer that sets no two kinds side by side leaves the question as it is.
    assert listed_item("give me an example of the first kind", LISTED) is None


def test_they_beside_a_name_of_the_question_is_the_other_earlier_name() -> None:
    """ "It is only money, or Amazon help them also some other way?" names Amazon itself:
    "them" is the other name the last question asked about (Anthropic)."""
    put_in = [
        {"role": "user", "content": "How much Amazon already put in Anthropic?"},
        {"role": "assistant", "content": "Amazon has already invested around $8 billion. [1]"},
    ]
    query = standalone_query("It is only money, or Amazon help them also some other way?", put_in)
    assert query.startswith("It is only money, or Amazon help them also some other way? (")
    assert "Anthropic" in query
    # "that" is no person: the earlier first name (here the question's own) is all that
    # could be carried, as before; "them" is the other one.
    alexa = [
        {"role": "user", "content": "Does Alexa use Anthropic's AI?"},
        {"role": "assistant", "content": "Amazon is integrating their AI into Alexa. [1]"},
    ]
    assert "Anthropic" not in standalone_query("Will that make our Alexa record us?", alexa)
    assert "Anthropic" in standalone_query("Will their models run all of Alexa?", alexa)


TWO_AMOUNTS = [
    {"role": "user", "content": "How much has Amazon invested in Anthropic so far?"},
    {
        "role": "assistant",
        "content": "Currently, Amazon has already invested around $8 billion in Anthropic [1]",
    },
    {"role": "user", "content": "And the new investment?"},
    {"role": "assistant", "content": "Amazon is reportedly considering a new investment [1]"},
]


def test_an_earlier_answer_named_by_its_place_is_what_is_carried() -> None:
    """ "Going back to the first number: is that $8 billion exact?" and "... from your first
    answer: which product?" name the first answer, not the last: its words are carried."""
    query = standalone_query(
        "Going back to the first number: is that $8 billion exact?", TWO_AMOUNTS
    )
    assert query == (
        "is that $8 billion exact? (the first number Amazon Anthropic currently invested)"
    )
    query = standalone_query("the product part from your first answer: which product?", TWO_AMOUNTS)
    assert query == (
        "the product part from your first answer: which product? "
        "(Amazon Anthropic currently invested)"
    )
    assert (
        answer_pointed("what was your previous answer?", TWO_AMOUNTS) == TWO_AMOUNTS[1]["content"]
    )
    assert answer_pointed("the third answer?", TWO_AMOUNTS) is None
    # A refused answer carries nothing.
    refused = [*TWO_AMOUNTS[:2], {"role": "assistant", "content": "The documents don't say."}]
    assert answer_pointed("your last answer: why?", refused) is None
    # No place named: not this rule.
    assert answer_pointed("What was the first investment?", TWO_AMOUNTS) is None


def test_and_typed_as_in_a_chat_opens_a_follow_up() -> None:
    """ "ok n what does amazon give them back besides cash" opens with "and" as a chat types
    it ("n", "nd", "&"): a follow-up, carrying what "them" is. A capital "N" ("N protein
    ...") or the article "an" is no "and"."""
    wants = [
        {"role": "user", "content": "whats Amazon tryna get outta Anthropic"},
        {"role": "assistant", "content": "Amazon aims to secure access to models like Claude [1]"},
    ]
    assert is_followup("n what does Amazon give back besides cash")
    query = standalone_query("ok n what does Amazon give them back besides cash", wants)
    assert query.startswith("and what does Amazon give them back besides cash (Anthropic")
    eight = [
        {"role": "user", "content": "How much has Amazon invested in Anthropic?"},
        {"role": "assistant", "content": "Amazon has invested $8 billion. [1]"},
    ]
    assert standalone_query("& Google?", eight) == "How much has Google invested in Anthropic?"
    assert not is_followup("N protein is made by which gene of SARS-CoV?")
    assert standalone_query("An example of a firm building AI in-house?", None) == (
        "An example of a firm building AI in-house?"
    )
