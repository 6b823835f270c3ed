"""Answers a user reads, with the real packaged model over a copy of seeds/: facts found and
cited, quotes that are the documents' own text, refusals for what the documents don't say,
follow-ups, and questions about the collection itself.

When a refusal or answer assertion fails, its message carries the composer's evidence (the
refusal model's inputs) so calibration can be judged from the failure alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from assistant import Answer, Assistant, Settings
from assistant.ingest.chunking import split_sentences

pytestmark = pytest.mark.model

SEED_NAME = "amazon-anthropic-investment.txt"
SEED_QUESTION = "How much has Amazon invested in Anthropic?"
MARKER = re.compile(r"\[(\d+)\]")
# The last answer of several follow-up tests: Meta's way, quoted whole.
META_IN_HOUSE = (
    "Meta, for example, is heavily investing in building AI models in-house, aiming to "
    "control the entire technology stack and intellectual property. [1]"
)


@pytest.fixture(scope="module")
def bot(seed_bot: Assistant) -> Assistant:
    return seed_bot


def evidence_of(bot: Assistant, question: str, history: Sequence[dict[str, str]] = ()) -> str:
    """The composer's evidence and P(answerable) for a question, for failure messages."""
    try:
        from assistant.answer.followup import standalone_query

        query = standalone_query(question, list(history) or None)
        retriever = bot.retriever
        qv = retriever.embed_query(query)
        hits = retriever.retrieve(query, bot.settings.k, query_vector=qv)
        c = bot.answerer.gather(query, qv, hits, idf=retriever.lexical.idf, question=question)
        return f"query={query!r} evidence={c.evidence} probability={c.probability:.3f}"
    except Exception as exc:  # diagnostics only: never hide the real failure
        return f"(evidence unavailable: {exc!r})"


def source_text(docs: Path, source: str) -> str:
    return (docs / source).read_bytes().decode("utf-8")


def assert_cited_answer(answer: Answer, docs: Path) -> None:
    """The contract of every answer: quotes are the source's text at their offsets; markers
    and citations match one to one, numbered 1..N by first use; every sentence ends in [n]."""
    assert not answer.refused
    assert answer.citations, "an answer must cite its sources"
    for c in answer.citations:
        assert source_text(docs, c.source)[c.start : c.end] == c.quote, c
        assert c.quote.strip()
    numbers = [c.n for c in answer.citations]
    assert numbers == list(range(1, len(numbers) + 1))
    markers = [int(m) for m in MARKER.findall(answer.text)]
    assert list(dict.fromkeys(markers)) == numbers, answer.text
    assert set(markers) == set(numbers)
    sentences = [answer.text[s:e] for s, e in split_sentences(answer.text)]
    assert sentences
    for sentence in sentences:
        assert re.search(r"\[\d+\]$", sentence.strip()), f"uncited sentence: {sentence!r}"


# ---------------------------------------------------------------- facts


def test_seed_fact_is_found_and_cited(bot: Assistant, seed_docs: Path) -> None:
    answer = bot.ask(SEED_QUESTION)

    assert answer.refused is False, evidence_of(bot, SEED_QUESTION)
    assert "$8 billion" in answer.text
    assert any("$8 billion" in c.quote for c in answer.citations)
    assert all(c.source == SEED_NAME for c in answer.citations)
    assert_cited_answer(answer, seed_docs)
    # The sentence carrying the fact is cited with that fact's quote.
    fact = next(s for s in re.split(r"(?<=\])\s+", answer.text) if "$8 billion" in s)
    n = int(MARKER.findall(fact)[-1])
    assert "$8 billion" in answer.citations[n - 1].quote


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        ("Who has invested $8 billion in Anthropic?", "Amazon"),
        ("Who partially owns Anthropic?", "Google"),
        ("Which products is Amazon integrating Anthropic's AI into?", "Alexa"),
        ("What is the ultimate prize in the AI era?", "superintelligence"),
        # A "not" the article itself says is no reason to refuse.
        ("Why is Amazon's position not exclusive?", "multiple partnerships"),
        # The doer the question names does it in the article (agent_displaced stays 0).
        ("What custom chips is Amazon supplying to Anthropic?", "custom chips"),
        (
            "Why is Amazon investing in Anthropic rather than relying only on its own models?",
            "align itself",
        ),
    ],
)
def test_answers_cite_quotes_that_are_the_documents_own_text(
    bot: Assistant, seed_docs: Path, question: str, fact: str
) -> None:
    answer = bot.ask(question)

    assert answer.refused is False, evidence_of(bot, question)
    assert fact in answer.text
    assert any(fact in c.quote for c in answer.citations)
    assert_cited_answer(answer, seed_docs)


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "question",
    [
        "What is the capital of France?",
        "What was Anthropic's revenue last year?",
        "Who is Anthropic's CEO?",
        # The article names Google and an amount, but the amount is Amazon's (issue 10).
        "What is the exact dollar amount Google invested in Anthropic?",
        # It gives Amazon's investment in dollars, never a share of Anthropic.
        "What percentage of Anthropic does Amazon own?",
        # It says who invested, never who did not.
        "Which company did not invest in Anthropic?",
        # It says markets favoured early partnerships, nothing about late ones.
        "How have markets treated late AI partnerships so far?",
        # The stake it calls non-exclusive is Amazon's; Google is named elsewhere.
        "Is Google's stake in Anthropic exclusive?",
        # The chips and the reasons are Amazon's: the sentence that holds them opens with
        # Amazon as its doer, and Meta or Google is not in it (agent_displaced).
        "What custom chips is Meta supplying to Anthropic?",
        "Why is Google investing in Anthropic rather than relying only on its own models?",
        # "Amazon is reportedly considering ...": reported, but by whom it never says.
        "Which news outlet first reported Amazon's plan?",
        # It tells of money put in, never of Anthropic bought whole.
        "Why did Amazon purchase Anthropic outright?",
        # Its own models lag behind GPT-4, Claude and Gemini: none of those is Amazon's own.
        "What is the name of Amazon's own AI model?",
    ],
)
def test_unanswerable_questions_are_refused(bot: Assistant, question: str) -> None:
    answer = bot.ask(question)

    assert answer.refused is True, f"{answer.text!r}; {evidence_of(bot, question)}"
    assert answer.text.startswith("The documents don't"), answer.text
    assert answer.citations == ()
    assert not MARKER.search(answer.text)
    assert answer.related, "a refusal offers the closest passages as reading"
    assert all(h.chunk.source == SEED_NAME for h in answer.related)


def test_the_name_whose_attribute_the_article_states_is_answered(bot: Assistant) -> None:
    """The counterpart of the swapped name above: Amazon's stake is the one described."""
    answer = bot.ask("Is Amazon's stake in Anthropic exclusive?")

    assert not answer.refused, evidence_of(bot, "Is Amazon's stake in Anthropic exclusive?")
    assert "non-exclusive" in answer.text


def test_a_sentence_like_a_chosen_one_that_says_more_is_quoted(bot: Assistant) -> None:
    """The summary's "aiming to secure access to advanced AI models like Claude" and the text's
    "aims to align itself with ... Claude, while continuing to develop its own capabilities"
    are alike (cosine over sentence_redundancy); only the second answers the question."""
    question = "Has Amazon given up on creating its own AI now that it backs Anthropic?"
    answer = bot.ask(question)

    assert not answer.refused, evidence_of(bot, question)
    assert "develop its own capabilities" in answer.text


# ---------------------------------------------------------------- follow-ups


def test_two_turn_follow_up_is_answered_in_context(bot: Assistant, seed_docs: Path) -> None:
    first_question = "Who has invested $8 billion in Anthropic?"
    first = bot.ask(first_question)
    assert first.refused is False, evidence_of(bot, first_question)
    history = [
        {"role": "user", "content": first_question},
        {"role": "assistant", "content": first.text},
    ]
    question = "Is that stake exclusive?"

    answer = bot.ask(question, history)

    assert answer.query != question
    assert "Anthropic" in answer.query
    assert answer.refused is False, evidence_of(bot, question, history)
    assert "non-exclusive" in answer.text or "less leverage" in answer.text, answer.text
    assert_cited_answer(answer, seed_docs)


def test_and_another_name_asks_the_last_question_of_it(bot: Assistant) -> None:
    """ "And Google?" after the amount question is the amount question about Google, which
    the article does not answer: refused, saying what is not said, not answered with the
    sentence that names Google."""
    first_question = "How much has Amazon invested in Anthropic?"
    first = bot.ask(first_question)
    assert "8 billion" in first.text
    history = [
        {"role": "user", "content": first_question},
        {"role": "assistant", "content": first.text},
    ]
    answer = bot.ask("And Google?", history)
    assert answer.query == "How much has Google invested in Anthropic?"
    assert answer.refused, answer.text
    assert answer.text == "The documents don't say how much Google has invested in Anthropic."
    # Back to the name the article gives the amount for: the refused turn is skipped, and
    # the amount is answered again.
    history += [
        {"role": "user", "content": "And Google?"},
        {"role": "assistant", "content": answer.text},
    ]
    again = bot.ask("And Amazon?", history)
    assert not again.refused and "8 billion" in again.text


def exchange(question: str, answer: str) -> list[dict[str, str]]:
    """One earlier turn: the question and the answer it got."""
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


def test_a_bare_why_is_answered_with_the_reason_told_next(bot: Assistant) -> None:
    """ "Why?" of "Amazon holds less leverage" is answered with the sentence after it
    (Google's part-ownership and Anthropic's independence), which had not been quoted."""
    history = exchange(
        "Does Amazon have much leverage over Anthropic?",
        "Currently, Amazon has already invested around $8 billion in Anthropic, but unlike "
        "Microsoft’s exclusive deal with OpenAI, Amazon holds less leverage. [1]",
    )
    answer = bot.ask("And why?", history)
    assert not answer.refused, answer.text
    assert "partially owned by Google" in answer.text, answer.text


def test_a_follow_up_asking_for_a_year_the_article_never_gives_is_refused(
    bot: Assistant,
) -> None:
    """The carried names make the Microsoft sentences look close, but "what year" names its
    unit and no sentence holds a year (features.unit_missing)."""
    history = exchange(
        "What did Microsoft get from its OpenAI partnership?",
        "This contrasts with Microsoft’s partnership with OpenAI, which secured exclusivity and "
        "integrated ChatGPT growth into its Azure cloud platform. [1]",
    )
    answer = bot.ask("what year did they sign that deal", history)
    assert answer.refused, answer.text + evidence_of(bot, "what year did they sign that deal")


def test_a_question_naming_the_final_sentence_is_answered_from_it(bot: Assistant) -> None:
    """The place it names comes first: the verdict is the article's last sentence, though
    "Amazon's move" matches many others better."""
    answer = bot.ask("What verdict on Amazon's move does the final sentence give?")
    assert not answer.refused, evidence_of(bot, "What verdict on Amazon's move?")
    assert answer.text.startswith("The long-term value may ultimately belong"), answer.text
    assert "cautious but significant bet" in answer.citations[0].quote


def test_the_beginning_asked_after_the_end_quotes_the_opening(bot: Assistant) -> None:
    ended = bot.ask("How does the article end?")
    assert "cautious but significant bet" in ended.text
    history = exchange("How does the article end?", ended.text)
    answer = bot.ask("What about the beginning?", history)
    assert answer.text.startswith("Amazon is considering a multi-billion dollar investment")
    assert answer.citations and answer.citations[0].start == 0


def test_they_after_an_answered_which_company_is_that_company(bot: Assistant) -> None:
    """ "they" is Google, which the last answer named: Amazon's $8 billion is no answer to how
    much Google put in (the article gives no amount of Google's); asked after Amazon was
    named, the same question is answered."""
    history = exchange(
        "Which other big company owns a piece of Anthropic?",
        "Anthropic remains partially owned by Google and collaborates with other tech giants "
        "like Meta, maintaining its independence. [1]",
    )
    answer = bot.ask("How much did they put in?", history)
    assert answer.refused, answer.text + evidence_of(bot, "How much did Google put in?")
    # Asked of the one who did put money in, it is answered.
    history = exchange(
        "Who has invested around 8 billion dollars in Anthropic?",
        "Currently, Amazon has already invested around $8 billion in Anthropic, but unlike "
        "Microsoft’s exclusive deal with OpenAI, Amazon holds less leverage. [1]",
    )
    answer = bot.ask("How much have they put in so far?", history)
    assert not answer.refused and "$8 billion" in answer.text, answer.text


@pytest.mark.parametrize(
    "question",
    [
        "How much did Amazon invest in Anthropic in 2021?",  # the article dates nothing
        "On which benchmarks did Amazon's in-house models beat Gemini?",  # they lag behind
        # An amount by an attribute the article never names: $8 billion is no valuation.
        "At what valuation did Amazon invest its $8 billion in Anthropic?",
        # A city the article never names ("in Anthropic" is no place).
        "In which city does Anthropic have its headquarters?",
        # A request, read for what it asks about: Amazon's chips, told of Microsoft.
        "Tell me about the data centers Microsoft builds for OpenAI.",
    ],
)
def test_a_question_the_article_answers_of_another_time_or_the_other_way_is_refused(
    bot: Assistant, question: str
) -> None:
    answer = bot.ask(question)
    assert answer.refused, answer.text + evidence_of(bot, question)


def test_why_not_of_a_claim_is_answered_by_the_sentence_that_says_what_makes_it_so(
    bot: Assistant,
) -> None:
    """ "why not" of "the stake is non-exclusive": another sentence tells what makes it so
    ("Anthropic's multiple partnerships mean Amazon's position is not exclusive"), not the
    quote again."""
    history = exchange(
        "is amazons anthropic deal exclusive", "Amazon’s stake in Anthropic is non-exclusive [1]"
    )
    answer = bot.ask("why not", history)
    assert "multiple partnerships" in answer.text, answer.text


def test_why_of_a_partly_quoted_sentence_is_answered_with_the_next(bot: Assistant) -> None:
    """The answer quoted only the end of the $8 billion sentence; "why?" still reads on."""
    history = exchange(
        "How much leverage does Amazon have over Anthropic?", "Amazon holds less leverage. [1]"
    )
    answer = bot.ask("why?", history)
    assert "partially owned by Google" in answer.text, answer.text


def test_a_bare_question_after_a_refusal_asks_of_the_names_refused(bot: Assistant) -> None:
    history = exchange(
        "When did Amazon first invest in Anthropic?",
        "The documents don't say when Amazon first invested in Anthropic.",
    )
    answer = bot.ask("ok, how much then?", history)
    assert "$8 billion" in answer.text, answer.text


def test_tell_me_more_goes_on_from_the_last_answer(bot: Assistant) -> None:
    history = exchange(
        "What is Meta doing about AI?",
        META_IN_HOUSE,
    )
    answer = bot.ask("Tell me more.", history)
    assert not answer.refused, answer.text
    assert "costly and challenging" in answer.text  # the sentence told next
    # After a refusal there is nothing to go on from.
    refused = [
        {"role": "user", "content": "What does Amazon build in Austin?"},
        {"role": "assistant", "content": "The documents don't say what Amazon builds in Austin."},
    ]
    assert bot.ask("Tell me more.", refused).refused


def test_why_of_the_last_answers_words_is_answered_by_what_follows_not_the_same_quote(
    bot: Assistant,
) -> None:
    said = (
        "Currently, Amazon has already invested around $8 billion in Anthropic, but unlike "
        "Microsoft’s exclusive deal with OpenAI, Amazon holds less leverage."
    )
    answer = bot.ask(
        "why less leverage though?", exchange("How much has Amazon put in?", said + " [1]")
    )
    assert not answer.refused, answer.text
    assert "partially owned by Google" in answer.text  # the reason, told next
    assert said not in answer.text  # already read
    risk = (
        "However, Anthropic’s multiple partnerships mean Amazon’s position is not exclusive, "
        "adding an element of risk."
    )
    answer = bot.ask("say more about the risk", exchange("Is the stake exclusive?", risk + " [1]"))
    assert not answer.refused and risk not in answer.text, answer.text


def test_how_come_after_a_quote_cut_short_reads_on_in_its_sentence(bot: Assistant) -> None:
    history = exchange(
        "Is Amazon building its own AI or just buying its way in?",
        "Amazon, on the other hand, is hedging its bets by investing in proven AI players like "
        "Anthropic [1]",
    )
    answer = bot.ask("how come?", history)
    assert "lag behind competitors" in answer.text, answer.text  # the rest of that sentence
    # Cut short at its start, the sentence's opening is no reason: "why?" reads on after it.
    answer = bot.ask(
        "why?", exchange("Does Amazon have leverage?", "Amazon holds less leverage. [1]")
    )
    assert "partially owned by Google" in answer.text, answer.text


def test_how_come_with_a_remark_is_the_reason_of_what_was_just_said(bot: Assistant) -> None:
    history = exchange(
        "Does all that money give Amazon real leverage over Anthropic?",
        "Currently, Amazon has already invested around $8 billion in Anthropic, but unlike "
        "Microsoft’s exclusive deal with OpenAI, Amazon holds less leverage. [1]",
    )
    answer = bot.ask(
        "How come? Eight billion dollars and they still don't call the shots?", history
    )
    assert not answer.refused and "partially owned by Google" in answer.text, answer.text
    # A quote that opens as a consequence ("This means ...") follows from the sentence before.
    history = exchange(
        "If Amazon pours in even more money, does it get to call the shots?",
        "This means that while Amazon’s investment could increase in size, it may not "
        "necessarily translate into tighter control or exclusivity. [1]",
    )
    answer = bot.ask("how come? it's their money", history)
    assert "partially owned by Google" in answer.text, answer.text


def test_and_another_name_is_told_what_the_last_answer_told_of_the_first(bot: Assistant) -> None:
    # The sentence on Google that tells what the quote told of Meta (in-house development),
    # not the one where Google only owns part of Anthropic.
    history = exchange(
        "What is Meta doing about AI?",
        META_IN_HOUSE,
    )
    answer = bot.ask("and google?", history)
    assert answer.text.startswith("Market reactions"), answer.text
    history = exchange(
        "How is Amazon playing the AI race?",
        "Amazon, on the other hand, is hedging its bets by investing in proven AI players like "
        "Anthropic [1]",
    )
    answer = bot.ask("And Meta?", history)
    assert "building AI models in-house" in answer.text.split("[1]")[0], answer.text


def test_what_a_word_of_the_last_answer_means_is_what_the_article_says_it_means(
    bot: Assistant,
) -> None:
    history = exchange(
        "Does Amazon end up calling the shots, then?", "Amazon holds less leverage. [1]"
    )
    answer = bot.ask("Sorry, what do you mean by leverage here?", history)
    assert "tighter control or exclusivity" in answer.text, answer.text  # "This means ..."
    history = exchange(
        "Is there anything unusual about Amazon's stake?",
        "Unlike Microsoft’s exclusive deal with OpenAI, Amazon’s stake in Anthropic is "
        "non-exclusive, reflecting a broader industry divide between companies building AI "
        "in-house and those investing in external AI innovators. [1]",
    )
    answer = bot.ask("non-exclusive meaning what, in practice?", history)
    assert "multiple partnerships mean" in answer.text, answer.text


def test_an_example_asked_of_what_was_said_is_given_by_its_name(bot: Assistant) -> None:
    history = exchange(
        "How would you describe the AI industry right now?",
        "Overall, the AI industry is currently witnessing a real-time experiment in strategic "
        "approaches, with some companies building AI stacks internally and others opting to "
        "partner with or invest in startups. [1]",
    )
    answer = bot.ask("give me an example of the first kind", history)
    assert answer.text.startswith("Meta, for example,"), answer.text
    history = exchange(
        "does anthropic work only with amazon",
        "However, there is no guarantee that Anthropic will remain loyal to Amazon, as it "
        "continues to collaborate with other companies and has multiple funding sources. [1]",
    )
    answer = bot.ask("name one of those other companies pls", history)
    first = answer.text.split("[1]")[0]
    assert "Google" in first or "Meta" in first, answer.text


def test_what_amazon_is_after_is_answered_by_its_purpose(bot: Assistant) -> None:
    answer = bot.ask("Is Amazon just in it for a quick profit?")
    assert answer.text.startswith("From an investor perspective"), answer.text
    answer = bot.ask("What is Amazon hoping to get from its Anthropic investment?")
    assert "aiming to secure access" in answer.text.split("[1]")[0], answer.text


@pytest.mark.parametrize(
    "question",
    [
        "What's the drawback of a company building all of its AI itself?",
        "What is the upside of Meta's approach?",
    ],
)
def test_a_downside_or_an_upside_is_told_by_what_is_costly_or_a_benefit(
    bot: Assistant, question: str
) -> None:
    answer = bot.ask(question)
    assert not answer.refused and "costly and challenging" in answer.text, answer.text


def test_which_ones_after_a_quote_cut_short_gives_the_rest_of_its_sentence(bot: Assistant) -> None:
    history = exchange(
        "Do Amazon's own AI models hold up against the competition?",
        "Amazon, on the other hand, is hedging its bets by investing in proven AI players like "
        "Anthropic while its own in-house AI models lag behind [1]",
    )
    answer = bot.ask("which ones?", history)
    assert "GPT-4, Claude, and Gemini" in answer.text, answer.text


def test_a_choice_among_options_is_answered_when_some_are_in_the_article(bot: Assistant) -> None:
    question = (
        "Which of these models do Amazon's in-house models lag behind: GPT-4, Llama or Gemini?"
    )
    answer = bot.ask(question)
    assert not answer.refused, answer.text + evidence_of(bot, question)
    assert "GPT-4, Claude, and Gemini" in answer.text


def test_someones_share_asks_for_a_share_the_article_never_gives(bot: Assistant) -> None:
    history = exchange(
        "who else owns part of anthropic",
        "Anthropic remains partially owned by Google and collaborates with other tech giants "
        "like Meta, maintaining its independence. [1]",
    )
    assert bot.ask("whats google's share?", history).refused


def test_after_a_correction_the_last_question_is_asked_of_the_name_meant(bot: Assistant) -> None:
    history = [
        {"role": "user", "content": "How much has Google invested in Anthropic?"},
        {
            "role": "assistant",
            "content": "The documents don't say how much Google has invested in Anthropic.",
        },
    ]
    answer = bot.ask("No, I meant Amazon.", history)
    assert answer.query == "How much has Amazon invested in Anthropic?"
    assert not answer.refused and "8 billion" in answer.text


def test_a_standalone_question_is_not_rewritten(bot: Assistant) -> None:
    history = [
        {"role": "user", "content": "Who has invested $8 billion in Anthropic?"},
        {"role": "assistant", "content": "Amazon has invested around $8 billion. [1]"},
    ]
    question = "Which companies partner with Microsoft on AI?"
    assert bot.ask(question, history).query == question


# ---------------------------------------------------------------- the collection


def test_which_documents_do_you_have_lists_the_seed(bot: Assistant) -> None:
    answer = bot.ask("Which documents do you have?")

    assert answer.refused is False
    assert SEED_NAME in answer.text


@pytest.mark.parametrize(
    "question", ["Summarize the article.", "What is this document about?", "tl;dr"]
)
def test_asked_what_the_article_is_about_it_answers_with_its_lead_in_its_own_words(
    bot: Assistant, seed_docs: Path, question: str
) -> None:
    answer = bot.ask(question)
    assert not answer.refused, answer.text
    assert len(answer.citations) == 3
    assert "multi-billion dollar investment" in answer.citations[0].quote
    text = (seed_docs / SEED_NAME).read_text(encoding="utf-8")
    for c in answer.citations:
        assert text[c.start : c.end] == c.quote


def test_which_companies_are_mentioned_lists_them_where_first_named(bot: Assistant) -> None:
    answer = bot.ask("Which companies are mentioned in the article?")
    assert not answer.refused, answer.text
    for name in ("Amazon", "Anthropic", "Microsoft", "OpenAI", "Google", "Meta"):
        n = int(re.search(rf"\b{name} \[(\d+)\]", answer.text).group(1))  # type: ignore[union-attr]
        assert name in answer.citations[n - 1].quote


def test_which_documents_mention_a_term_cites_where(bot: Assistant, seed_docs: Path) -> None:
    answer = bot.ask("Which documents mention Alexa?")

    assert answer.refused is False
    assert SEED_NAME in answer.text
    assert len(answer.citations) == 1
    citation = answer.citations[0]
    assert citation.source == SEED_NAME
    assert "Alexa" in citation.quote
    assert source_text(seed_docs, SEED_NAME)[citation.start : citation.end] == citation.quote
    assert "[1]" in answer.text


def test_which_documents_mention_an_absent_term_says_none(bot: Assistant) -> None:
    answer = bot.ask("Which documents mention Zanzibar?")

    assert answer.citations == ()
    assert re.search(r"\bnone\b|\bno (?:indexed )?documents?\b", answer.text, re.IGNORECASE)
    assert "Zanzibar" in answer.text
    assert SEED_NAME not in answer.text


# ---------------------------------------------------------------- short encyclopedia passages

MARWICK = (
    "Marwick Optics is a German maker of microscopes and survey instruments, based in Jena. "
    "It was founded in 1902 by the lens grinder Otto Marwick, who had trained in Munich. "
    "The company was listed on the Frankfurt Stock Exchange in 1986. In 2004 it acquired the "
    "Austrian camera maker Brandt for 90 million euros, its largest purchase to date.\n"
)
HARBOUR_CUP = (
    "The 1987 Harbour Cup Final was a football match played on 9 May 1987 in Brest between "
    "Stade Morlaix and Union Quimper. It closed the 1986–87 Harbour Cup. Morlaix won 2–1, and "
    "the attendance was 31,400.\n"
)


@pytest.fixture(scope="module")
def encyclopedia(tmp_path_factory: pytest.TempPathFactory, real_embedder: Any) -> Assistant:
    docs = tmp_path_factory.mktemp("encyclopedia")
    (docs / "marwick-optics.txt").write_text(MARWICK, encoding="utf-8")
    (docs / "harbour-cup-1987.txt").write_text(HARBOUR_CUP, encoding="utf-8")
    index_dir = tmp_path_factory.mktemp("encyclopedia-index") / "index"
    settings = Settings(index_dir=index_dir, show_progress=False)
    return Assistant.from_folder(
        docs, index_dir=index_dir, settings=settings, embedder=real_embedder
    )


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        # The sentences say "The company" and "it": the passage's first sentence names it.
        ("In what year was Marwick Optics listed on the Frankfurt Stock Exchange?", "1986"),
        ("How much did Marwick Optics pay for Brandt?", "90 million euros"),
    ],
)
def test_a_passage_that_refers_back_to_its_subject_answers(
    encyclopedia: Assistant, question: str, fact: str
) -> None:
    answer = encyclopedia.ask(question)

    assert answer.refused is False, evidence_of(encyclopedia, question)
    assert fact in answer.text


@pytest.mark.parametrize(
    "question",
    [
        # The passages have the 1987 final (and the 1986-87 cup), no 1986 final.
        "How many people attended the 1986 Harbour Cup Final?",
        "Who won the 1986 Harbour Cup Final?",
    ],
)
def test_a_passage_does_not_answer_what_it_tells_of_something_else(
    encyclopedia: Assistant, question: str
) -> None:
    answer = encyclopedia.ask(question)

    assert answer.refused is True, f"{answer.text!r}; {evidence_of(encyclopedia, question)}"


@pytest.mark.parametrize("question", ["expand on the second point", "tell me more about [2]"])
def test_a_request_for_more_of_one_point_reads_on_from_that_point(
    bot: Assistant, question: str
) -> None:
    """The second quote was cut short: "more" of it is the rest of its sentence, not more of
    the first point."""
    history = exchange(
        "Give me two quick points about how Amazon and Anthropic are connected.",
        "Amazon’s stake in Anthropic is non-exclusive [1] Amazon is also supporting Anthropic "
        "through infrastructure investments [2]",
    )
    answer = bot.ask(question, history)
    assert not answer.refused, answer.text
    assert "custom chips and data centers" in answer.text, answer.text


def test_a_correction_naming_what_it_replaces_asks_the_refused_question_again(
    bot: Assistant,
) -> None:
    history = exchange(
        "Which AI models do Meta's in-house models lag behind?",
        "The documents don't say which AI models Meta's in-house models lag behind.",
    )
    answer = bot.ask("sorry, I meant Amazon's own models, not Meta's", history)
    assert answer.query == "Which AI models do Amazon's in-house models lag behind?"
    assert "GPT-4, Claude, and Gemini" in answer.text, answer.text


def test_a_politeness_word_is_not_read_as_a_word_of_the_documents(bot: Assistant) -> None:
    # "pls" had been respelt "players" (its consonants are in that word), and the question
    # refused.
    answer = bot.ask("is there any risk for amazon in this deal? pls explain")
    assert "players" not in answer.query
    assert not answer.refused and "element of risk" in answer.text, answer.text


def test_who_else_does_not_repeat_what_was_just_quoted(bot: Assistant) -> None:
    said = (
        "Currently, Amazon has already invested around $8 billion in Anthropic, but unlike "
        "Microsoft’s exclusive deal with OpenAI, Amazon holds less leverage."
    )
    history = exchange("Who has invested in Anthropic?", f"{said} [1]")
    answer = bot.ask("who else?", history)
    assert not answer.refused, answer.text
    assert said not in answer.text and "Google" in answer.text, answer.text


def test_a_follow_up_is_not_answered_with_the_sentence_just_quoted_whole(bot: Assistant) -> None:
    said = (
        "By investing in Anthropic, Amazon aims to align itself with one of the top AI models, "
        "Claude, while continuing to develop its own capabilities."
    )
    history = exchange("What is Claude?", f"{said} [1]")
    answer = bot.ask("Is it ahead of the models Amazon builds itself?", history)
    assert not answer.refused, answer.text
    assert not answer.text.startswith(said) and "lag behind" in answer.text, answer.text


def test_a_when_asked_after_a_lead_in_is_refused_when_nothing_is_dated(bot: Assistant) -> None:
    history = exchange(
        "When did Amazon first invest in Anthropic?",
        "The documents don't say when Amazon first invested in Anthropic.",
    )
    question = "what about the new deal, when is it supposed to close?"
    answer = bot.ask(question, history)
    assert answer.refused, answer.text + evidence_of(bot, question)


@pytest.mark.parametrize("question", ["Where does it say that?", "source?", "are you sure?"])
def test_where_does_it_say_that_quotes_the_last_answer_again_with_its_citation(
    bot: Assistant, question: str
) -> None:
    said = "Anthropic remains partially owned by Google and collaborates with other tech giants"
    history = exchange("Who else owns part of Anthropic?", f"{said} like Meta. [1]")
    answer = bot.ask(question, history)
    assert not answer.refused, answer.text
    assert answer.text.startswith(said), answer.text
    assert said in answer.citations[0].quote


def test_a_refused_follow_up_does_not_show_the_terms_it_carried(bot: Assistant) -> None:
    history = exchange(
        "Is Amazon's stake exclusive?",
        "Unlike Microsoft’s exclusive deal with OpenAI, Amazon’s stake in Anthropic is "
        "non-exclusive, reflecting a broader industry divide. [1]",
    )
    history += exchange(
        "what does that mean for amazon?",
        "However, Anthropic’s multiple partnerships mean Amazon’s position is not exclusive, "
        "adding an element of risk. [1]",
    )
    answer = bot.ask("and for anthropic?", history)
    assert "(" not in answer.text, answer.text


def test_a_name_the_article_never_uses_is_answered_as_not_mentioned(bot: Assistant) -> None:
    answer = bot.ask("Does the article mention Apple?")
    assert answer.text == "No indexed document mentions “Apple”.", answer.text
    assert "Alexa" in bot.ask("Is Alexa mentioned anywhere?").text


def test_a_question_typed_in_capitals_is_answered_as_typed_in_lower_case(bot: Assistant) -> None:
    answer = bot.ask("HOW MUCH DID AMAZON INVEST IN ANTHROPIC")
    assert not answer.refused and "$8 billion" in answer.text, answer.text
    assert answer.query == "how much did Amazon invest in Anthropic"


@pytest.mark.parametrize(
    ("question", "earlier"),
    [
        ("since when?", "How much has Amazon invested in Anthropic?"),
        ("When is it expected to close?", "Is Amazon planning a new investment in Anthropic?"),
    ],
)
def test_a_follow_up_asking_when_is_refused_when_nothing_near_is_dated(
    bot: Assistant, question: str, earlier: str
) -> None:
    """The carried names make the last answer's sentences look close; the follow-up itself
    asks for a date, and none of them gives one."""
    history = exchange(
        earlier,
        "Currently, Amazon has already invested around $8 billion in Anthropic, but unlike "
        "Microsoft’s exclusive deal with OpenAI, Amazon holds less leverage. [1]",
    )
    answer = bot.ask(question, history)
    assert answer.refused, answer.text


def test_a_partner_is_stated_by_a_partnership(bot: Assistant) -> None:
    """ "Microsoft's partnership with OpenAI" states Microsoft's partner: the question is not
    read as asking about someone else's (name_displaced had vetoed it)."""
    history = exchange(
        "Which company is Amazon's AI partner?",
        "Amazon is reportedly considering a new multi-billion dollar investment in the AI "
        "startup Anthropic, signaling a potential deepening of their partnership. [1]",
    )
    answer = bot.ask("no, I meant Microsoft", history)
    assert answer.query == "Which company is Microsoft's AI partner?"
    assert not answer.refused, answer.text


def test_a_bare_how_much_after_an_answer_asks_it_of_what_was_said(bot: Assistant) -> None:
    history = exchange(
        "Does Amazon already own a stake in Anthropic?",
        "Unlike Microsoft’s exclusive deal with OpenAI, Amazon’s stake in Anthropic is "
        "non-exclusive, reflecting a broader industry divide. [1]",
    )
    answer = bot.ask("how much?", history)
    assert not answer.refused and "$8 billion" in answer.text, answer.text
    # ... but not of a name no amount is given for.
    history = exchange(
        "Does Google own part of Anthropic?",
        "Anthropic remains partially owned by Google and collaborates with other tech giants "
        "like Meta, maintaining its independence. [1]",
    )
    assert bot.ask("how much?", history).refused


def test_tell_me_more_of_a_quote_cut_short_gives_the_rest_of_its_sentence(bot: Assistant) -> None:
    history = exchange(
        "How is Amazon supporting Anthropic apart from money?",
        "Amazon is also supporting Anthropic through infrastructure investments, including "
        "custom chips and data centers tailored to Anthropic’s needs [1]",
    )
    answer = bot.ask("tell me more", history)
    assert "products like Alexa" in answer.text, answer.text


@pytest.mark.parametrize(
    ("question", "earlier", "said", "query"),
    [
        (
            "no sorry, I meant Meta's approach",
            "What is Amazon's approach to building AI?",
            "Amazon, on the other hand, is hedging its bets. [1]",
            "What is Meta's approach to building AI?",
        ),
        (
            "what about amazon's?",
            "Who is Anthropic's CEO?",
            "The documents don't say who Anthropic's CEO is.",
            "Who is Amazon's CEO?",
        ),
    ],
)
def test_a_name_with_its_possessive_asks_the_last_question_of_it(
    bot: Assistant, question: str, earlier: str, said: str, query: str
) -> None:
    assert bot.ask(question, exchange(earlier, said)).query == query


def test_a_phrase_the_article_uses_is_explained_by_the_sentence_using_it(bot: Assistant) -> None:
    answer = bot.ask("What does “hedging its bets” mean here?")
    assert not answer.refused and "hedging its bets by investing" in answer.text, answer.text
    assert bot.ask("What does the article mean by quantum entanglement?").refused


def test_a_message_asking_two_things_is_answered_when_one_of_them_is(bot: Assistant) -> None:
    question = (
        "Should shareholders expect Amazon to make a quick return on this stake? "
        "If not, what's the point of it?"
    )
    answer = bot.ask(question)
    assert not answer.refused, answer.text
    assert "immediate capital gains" in answer.text, answer.text
    # A part that leans on the other is not asked alone: "they" is the CEO, never named.
    assert bot.ask("Who is Anthropic's CEO, and what did they say about the Amazon talks?").refused


def test_a_denial_said_in_other_words_by_the_leading_sentence_is_matched(bot: Assistant) -> None:
    # "has not yet won investors over" is the lead sentence's "have yet to receive similar
    # investor enthusiasm", though that sentence is not among the closest by cosine.
    question = (
        "Which firm that develops its AI internally has not yet won investors over the way "
        "the early tie-ups did?"
    )
    answer = bot.ask(question)
    assert not answer.refused, answer.text + evidence_of(bot, question)
    assert "such as Google, have yet to receive" in answer.text, answer.text


def test_a_denial_in_a_leading_condition_is_not_what_is_asked(bot: Assistant) -> None:
    answer = bot.ask("If Amazon isn't after a quick profit, what on earth is it after?")
    assert not answer.refused, answer.text


def test_a_claim_checked_with_a_question_mark_is_answered_by_what_bears_on_it(
    bot: Assistant,
) -> None:
    answer = bot.ask("Just to confirm: Google counts as in-house, not as a partner-investor?")
    assert not answer.refused, answer.text
    assert "such as Google, have yet to receive" in answer.text, answer.text


def test_and_another_name_after_a_quote_reads_where_the_text_turns_to_it(bot: Assistant) -> None:
    history = exchange(
        "Is Meta building its own models or buying in?",
        META_IN_HOUSE,
    )
    answer = bot.ask("and amazon?", history)
    assert answer.text.startswith("Amazon, on the other hand, is hedging its bets"), answer.text


def test_what_a_thing_is_called_is_refused_when_no_name_is_given(bot: Assistant) -> None:
    assert bot.ask("What are the custom chips Amazon makes for Anthropic called?").refused
    answer = bot.ask("What's the name of the AI model Amazon wants access to?")
    assert not answer.refused and "Claude" in answer.text, answer.text


def test_a_question_that_denies_is_answered_by_the_sentence_that_denies_too(
    bot: Assistant,
) -> None:
    answer = bot.ask(
        "Which company does NOT have an exclusive arrangement with the AI startup it backs?"
    )
    assert "stake in Anthropic is non-exclusive" in answer.text, answer.text


@pytest.mark.parametrize(
    ("asked", "said", "follow_up", "expected"),
    [
        # A question echoing the last answer's words asks what its sentence says.
        (
            "Which competitors' models beat Amazon's in-house ones?",
            "its own in-house AI models lag behind competitors such as GPT-4, Claude, and "
            "Gemini in performance benchmarks. [1]",
            "behind on what, measured how?",
            "in performance benchmarks",
        ),
        # "its" is the name answered; "according to the piece" says nothing to look for.
        (
            "What is Meta doing differently from Amazon?",
            META_IN_HOUSE,
            "What are the upsides of its approach, according to the piece?",
            "greater control",
        ),
        # "Go on, ..." asks more of what the last answer spoke of.
        (
            "How is Amazon supporting Anthropic besides cash?",
            "Amazon is also supporting Anthropic through infrastructure investments, including "
            "custom chips and data centers tailored to Anthropic’s needs [1]",
            "Go on, anything beyond the hardware?",
            "Alexa",
        ),
    ],
)
def test_a_follow_up_is_answered_by_the_sentence_it_leans_on(
    bot: Assistant, asked: str, said: str, follow_up: str, expected: str
) -> None:
    answer = bot.ask(follow_up, exchange(asked, said))
    assert not answer.refused and expected in answer.text, answer.text


def test_a_question_told_before_what_does_the_article_say_is_answered(bot: Assistant) -> None:
    answer = bot.ask(
        "My son wants to know which AI company Microsoft teamed up with. What does the article say?"
    )
    assert not answer.refused and "OpenAI" in answer.text, answer.text
    # Without a question told before it, "What does the article say?" names nothing to look for.
    assert bot.ask("My neighbour mentioned Apple. What does the article say?").refused


def test_what_the_author_thinks_is_asked_as_the_question_inside_it(bot: Assistant) -> None:
    answer = bot.ask("who does the author think ends up with the value in the long run?")
    assert not answer.refused and "foundational AI technology" in answer.text, answer.text


def test_a_name_given_to_other_models_is_not_the_name_of_amazons_own(bot: Assistant) -> None:
    # "one of the top AI models, Claude" and "like Anthropic while its own in-house AI
    # models lag" name no model of Amazon's own.
    assert bot.ask("What's the name of Amazon's own in-house AI model?").refused
    answer = bot.ask("What is the name of the AI model Amazon wants to align itself with?")
    assert not answer.refused and "Claude" in answer.text, answer.text


def test_a_thing_asked_of_one_name_is_not_answered_by_anothers(bot: Assistant) -> None:
    # Alexa is an Amazon product: the article names no Microsoft or Meta product with it.
    assert bot.ask("Which Microsoft product is Anthropic's AI being built into?").refused
    assert bot.ask("Which Meta products have Anthropic's AI built into them?").refused
    answer = bot.ask("Which Amazon product is Anthropic's AI being built into?")
    assert not answer.refused and "Alexa" in answer.text, answer.text


def test_a_reason_told_of_another_name_does_not_answer_why_one_did_it(bot: Assistant) -> None:
    # The article says Google partly owns Anthropic, and why Amazon invests, not why Google did.
    assert bot.ask("Why did Google decide to buy into Anthropic in the first place?").refused
    answer = bot.ask("Why is Amazon investing in Anthropic?")
    assert not answer.refused, answer.text


def test_an_everyday_word_for_the_articles_own_is_answered(bot: Assistant) -> None:
    # "expensive" is the article's "costly".
    answer = bot.ask("Which approach is expensive?")
    assert not answer.refused and "costly" in answer.text, answer.text
