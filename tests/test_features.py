"""Evidence features for the refusal model: pure functions, no model needed."""

from __future__ import annotations

import dataclasses
import math
import time

import pytest

from assistant.answer.features import (
    FEATURE_NAMES,
    acronym_spellings,
    agent_displacement,
    anaphoric,
    answer_type,
    attached_type,
    clause_doer,
    clauses,
    compound_mentioned,
    counted_terms,
    counts_counted,
    evidence_features,
    has_answer_type,
    key_term_weights,
    measured_terms,
    name_displacement,
    name_runs,
    near_spelling,
    number_displacement,
    phrase_overlap,
    question_agents,
    role_swap,
    specific_tokens,
    topic_names,
    unit_named,
    with_aliases,
    year_displacement,
)
from assistant.retrieval.lexical import analyze

EIGHT_BILLION = "Currently, Amazon has already invested around $8 billion in Anthropic."
GOOGLE_OWNS = "Anthropic remains partially owned by Google and collaborates with Meta."
PASSAGE = f"{EIGHT_BILLION} {GOOGLE_OWNS}"


def flat(_: str) -> float:
    return 1.0


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How much has Google invested in Anthropic?", "amount"),
        ("How many people work at Anthropic?", "count"),
        ("What percentage of Anthropic does Amazon own?", "percent"),
        ("What share of the patients developed a fever?", "percent"),
        ("In what year was Anthropic founded?", "date"),
        ("When did Amazon first invest?", "date"),
        # A date asked for later in the question is still a date.
        ("Who first named the virus, and in which year?", "date"),
        ("On what date did Google announce its model?", "date"),
        ("On what day did the train first cross the bridge?", "date"),
        ("The ship sank on which day of the week?", "date"),
        ("Which company has an exclusive deal with OpenAI?", "name"),
        # A chief executive, a founder or a leader is a human being, not any organisation.
        ("Who is the CEO of Anthropic?", "human"),
        ("Who founded Anthropic?", "human"),
        ("who is Anthropic's ceo", "human"),
        # A share of someone's, a stake's size: not a share price.
        ("whats google's share?", "percent"),
        ("What is Amazon's share price?", "amount"),
        ("amazon anthropic stake size", "amount"),
        ("what is the total Amazon has put into Anthropic to date", "amount"),
        ("What is the total number of cases?", "count"),
        # A place by its kind: one the text locates, not the question's own name.
        ("Which city is Anthropic based in?", "place"),
        ("In which city was Giulia Montressa born?", "place"),
        ("Where is the laboratory located?", "place"),
        ("Where is Anthropic's headquarters?", "place"),
        ("Where is NTCP located in the body?", None),
        ("What is the size of Amazon's stake in Anthropic?", "amount"),
        ("Which Amazon executive negotiated the deal?", "human"),
        # Who owns or invests may be a company.
        ("Who owns part of Anthropic?", "person"),
        ("Why is Amazon investing in Anthropic?", None),
        ("Is Amazon's stake exclusive?", None),
    ],
)
def test_answer_type_of_a_question(question: str, kind: str | None) -> None:
    assert answer_type(question) == kind


def test_answer_type_checks_what_a_sentence_holds() -> None:
    assert has_answer_type("amount", EIGHT_BILLION)
    assert not has_answer_type("amount", GOOGLE_OWNS)
    assert has_answer_type("date", "The outbreak began in December 2019.")
    assert not has_answer_type("date", "The virus binds to the receptor.")
    # A time of day answers "when" ("When will the server be offline?").
    assert has_answer_type("date", "The mail server goes offline at 22:00 on Friday.")
    assert has_answer_type("date", "He lit the lamp at nine o'clock.")
    assert not has_answer_type("date", "I am told it costs 3.50 dollars.")
    # A year before the common era, an early year after a word that dates it, a weekday.
    assert has_answer_type("date", "The emperor died in 210 BC.")
    assert has_answer_type("date", "The abbey was founded in 1132 by monks from Rievaulx.")
    assert not has_answer_type("date", "An army of 1200 soldiers held the pass.")
    assert has_answer_type("date", "The fire broke out on a Sunday.")
    assert has_answer_type("name", "The deal went to Microsoft, not Amazon.")
    assert not has_answer_type("name", "the deal went to a rival.")
    assert has_answer_type(None, "anything at all")
    # A share of a whole is a percentage or a fraction, not any amount of money.
    assert not has_answer_type("percent", EIGHT_BILLION)
    assert has_answer_type("percent", "About 40% of the patients developed a fever.")
    assert has_answer_type("percent", "Half of the patients developed a fever.")
    assert has_answer_type("percent", "3 in 10 patients developed a fever.")


def test_specific_tokens_are_names_acronyms_and_numbers() -> None:
    assert specific_tokens("How much did Google invest in Anthropic in 2019?") == [
        "google",
        "anthropic",
        "2019",
    ]
    assert specific_tokens("What is the R0 of MERS-CoV?") == ["r0", "mers-cov"]
    assert specific_tokens("Why do bats carry viruses?") == []


def test_words_that_only_frame_the_question_weigh_nothing() -> None:
    weights = key_term_weights("What happened to the case who died?", flat)
    assert weights["happen"] == 0.0 and weights["die"] == 1.0
    died = "The case who died was hospitalised for 21 days."
    f = evidence_features("What happened to the case who died?", [(died, 0.6)], [died], flat)
    assert f.typed_focus == pytest.approx(1.0)
    example = "Structural challenges such as overcrowding limit quarantine."
    f = evidence_features(
        "What is an example of a structural challenge?", [(example, 0.4)], [example], flat
    )
    assert f.typed_focus == pytest.approx(1.0)
    cleavage = "Rupintrivir prevents cleavage of viral proteins required for replication."
    f = evidence_features(
        "What is the mechanism of rupintrivir?", [(cleavage, 0.6)], [cleavage], flat
    )
    assert f.typed_focus == pytest.approx(1.0)
    # The words that say what is asked about still count.
    f = evidence_features("What happened to the ship?", [(died, 0.6)], [died], flat)
    assert f.typed_focus == 0.0


def test_names_weigh_double_in_the_key_terms() -> None:
    idf = {"amazon": 0.5, "invest": 2.0}
    weights = key_term_weights("How much has Amazon invested?", lambda t: idf.get(t, 0.0))
    assert weights == {"amazon": 1.0, "invest": 2.0}


def test_focus_needs_the_entity_and_the_asked_for_amount_in_one_sentence() -> None:
    sentences = [(EIGHT_BILLION, 0.62), (GOOGLE_OWNS, 0.48)]
    adversarial = evidence_features(
        "How much has Google invested in Anthropic?", sentences, [PASSAGE], flat
    )
    answerable = evidence_features(
        "How much has Amazon invested in Anthropic?", sentences, [PASSAGE], flat
    )
    # Everything the adversarial question asks about is in the passage, but not together.
    assert adversarial.passage_coverage == answerable.passage_coverage == 1.0
    assert answerable.typed_focus == 1.0
    assert adversarial.typed_focus < 0.7
    assert adversarial.entity_missing == answerable.entity_missing == 0.0


def test_a_name_the_passages_lack_is_missing_evidence() -> None:
    f = evidence_features(
        "How much has Nvidia invested in Anthropic?", [(EIGHT_BILLION, 0.6)], [PASSAGE], flat
    )
    assert f.entity_missing == 0.5  # "nvidia" absent, "anthropic" present
    assert f.best_cosine == 0.6


def test_a_type_no_top_sentence_holds_is_flagged() -> None:
    f = evidence_features("When was Anthropic founded?", [(GOOGLE_OWNS, 0.5)], [GOOGLE_OWNS], flat)
    assert f.type_missing == 1.0
    g = evidence_features("Who owns part of Anthropic?", [(GOOGLE_OWNS, 0.5)], [GOOGLE_OWNS], flat)
    assert g.type_missing == 0.0


def test_carried_follow_up_terms_count_half() -> None:
    topic_only = "Amazon has invested around $8 billion in Anthropic."
    f = evidence_features(
        "Is that stake exclusive?",
        [(topic_only, 0.6)],
        [topic_only],
        flat,
        query="Is that stake exclusive? (Anthropic Amazon)",
    )
    # Own words stake + exclusive weigh 1 each, the carried names 0.5 each: a sentence with
    # only the carried topic holds a third of the weight, not half.
    assert f.focus == pytest.approx(1 / 3)
    assert len(f.as_vector()) == len(FEATURE_NAMES)


def test_no_evidence_gives_zero_features_not_an_error() -> None:
    f = evidence_features("How much has Amazon invested?", [], [], flat)
    assert f.best_cosine == f.focus == f.typed_focus == f.passage_coverage == 0.0
    assert f.entity_missing == 1.0


def test_features_take_milliseconds() -> None:
    sentences = [(f"{EIGHT_BILLION} Sentence {i} about chips.", 0.4) for i in range(60)]
    means = []
    # The least of three means, as timeit reports: another process on the machine only adds.
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(10):
            evidence_features(
                "How much has Google invested?", sentences, [PASSAGE] * 5, flat, top_dense=0.5
            )
        means.append((time.perf_counter() - t) / 10)
    assert min(means) < 0.02


def test_the_fitted_model_answers_the_real_question_and_refuses_its_adversarial_twin() -> None:
    from assistant.answer.features import answer_probability
    from assistant.settings import Settings

    shipped = Settings()
    weights, bias = shipped.refusal_weights, shipped.refusal_bias

    sentences = [(EIGHT_BILLION, 0.62), (GOOGLE_OWNS, 0.48)]
    real = evidence_features(
        "How much has Amazon invested in Anthropic?", sentences, [PASSAGE], flat
    )
    twin = evidence_features(
        "How much has Google invested in Anthropic?",
        [(EIGHT_BILLION, 0.55), (GOOGLE_OWNS, 0.5)],
        [PASSAGE],
        flat,
    )
    assert answer_probability(real, weights, bias) >= shipped.refusal_threshold
    assert answer_probability(twin, weights, bias) < shipped.refusal_threshold
    assert answer_probability(real, {"best_cosine": 0.0}, 0.0) == 0.5


@pytest.mark.parametrize(
    ("question", "passage"),
    [
        ("What happened after the restrictions of 5th February 2020?", "From 5 February 2020 on"),
        ("How does it compare with SARS-likeCoV?", "the SARS-like CoV genomes"),
        # As people type them: digits joined, the head of a hyphenated name, a misspelling.
        ("When was the second COVID19 case reported?", "the second COVID-19 case in the US"),
        ("How many COVID deaths were there?", "3,169 COVID-19 deaths by 11 March"),
        ("Does Zanamavir help with carrageenan?", "Zanamivir with carrageenan nasal spray"),
        ("How does Mannanose Binding Lectin work?", "mannose binding lectin (MBL) binds"),
        # A name spelled out with its acronym, where the passage uses one of the two forms.
        ("How does Mannose Binding Lectin (MBL) act?", "MBL binds the virus"),
        ("What did the European Union (EU) decide in 2019?", "In 2019 the EU decided"),
        # One or several of a thing: the passage speaks of "ARTIs", the question of "ARTI".
        ("Which viruses cause most ARTI in children?", "Viruses cause most ARTIs in children"),
        ("Which PIVs infect children?", "PIV infects children"),
        # Two words of the question written as one by the passage, or the other way round.
        ("What should the new Director General do?", "The next Director-General should act"),
        # A word shortened, told by the word that follows it in both.
        ("What is Staph aureus?", "Staphylococcus aureus (S. aureus), a Gram positive bacteria"),
        # A long name with digits misspelt by a letter, its digits the same.
        ("How many domains has CEAMCAM1?", "CEACAM1 consists of four extracellular domains"),
        # The acronym's initials: "C-C chemokine receptor type 5" is CCR5, "C-C" included.
        ("Does C-C chemokine receptor type 5 (CCR5) matter?", "Variants in CCR5 matter."),
    ],
)
def test_a_name_written_otherwise_in_the_passage_is_not_missing(
    question: str, passage: str
) -> None:
    f = evidence_features(question, [(passage, 0.5)], [passage], flat)
    assert f.entity_missing == 0.0


@pytest.mark.parametrize(
    ("question", "passage"),
    [
        ("What did Google invest?", "Amazon invested $8 billion; Goggles were sold."),
        ("What does Meta build?", "Metal chips are built in Austin."),  # short: exact only
        ("What did the 1918 pandemic cost?", "The 1919 pandemic cost millions."),
        ("When did MERS-CoV spread?", "SARS-CoV spread in 2003."),
        # An acronym swapped in beside a name it does not spell.
        ("What does complement 5a (WASH) do?", "Complement 5a (C5a) raises resilience."),
        # A changed digit or a letter of a short code is another strain or protein.
        ("How many domains has CEACAM5?", "CEACAM1 consists of four extracellular domains"),
        ("How does 2019-vCoV compare?", "The genome of 2019-nCoV is compared with SARS-CoV."),
        # A shortened word needs the same following word: "Staph" is not any "Staph...".
        ("What is Staph epidermidis?", "Staphylococcus aureus, a Gram positive bacteria"),
        # Joined only with the question's own neighbour: "General" alone is not "Surgeon-General".
        ("What did General Motors build?", "The Surgeon-General built a hospital."),
        # Too short for one or several: "RA" is not "RAS".
        ("What does RA do?", "RAS is a marker."),
    ],
)
def test_another_name_or_number_is_not_taken_for_a_misspelling(question: str, passage: str) -> None:
    f = evidence_features(question, [(passage, 0.5)], [passage], flat)
    assert f.entity_missing > 0.0


def test_a_swapped_number_is_still_missing_even_inside_a_longer_one() -> None:
    passage = "The outbreak began in 2015 and spread in 20150 homes."
    f = evidence_features("What happened in 2019?", [(passage, 0.5)], [passage], flat)
    assert f.entity_missing == 1.0


def test_pair_focus_joins_a_sentence_and_its_neighbour() -> None:
    search = "A systematic search was carried out in three major databases."
    purpose = "Its purpose was to identify published studies on diagnosis."
    f = evidence_features(
        "What was the purpose of the search?", [(search, 0.4), (purpose, 0.4)], [search], flat
    )
    assert f.typed_focus == pytest.approx(0.5)  # "search" and "purpose" never together
    assert f.pair_focus == pytest.approx(1.0)


def test_pair_focus_never_moves_a_name_away_from_the_answer() -> None:
    # The amount is in one sentence, Google in the next: not an answer to "how much has
    # Google invested" (the issue's adversarial example).
    f = evidence_features(
        "How much has Google invested in Anthropic?",
        [(EIGHT_BILLION, 0.55), (GOOGLE_OWNS, 0.5)],
        [PASSAGE],
        flat,
    )
    assert f.pair_focus == f.typed_focus


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Why is Amazon investing in Anthropic?", "reason"),
        ("And why?", "reason"),
        ("What was the purpose of the search?", "reason"),
        ("How much has Amazon invested?", "amount"),
        ("Is Amazon's stake exclusive?", None),
        # What someone is after is told as a purpose ("aiming to secure access").
        ("What is Amazon hoping to get from its Anthropic investment?", "reason"),
        ("Is Amazon just in it for a quick profit?", "reason"),
        ("amazon anthropic investment motive", "reason"),
        # An end goal is a thing (AGI), and what follows "after" in time is no purpose.
        ("What's the big end goal everybody in AI is chasing?", None),
        ("What is Amazon doing after the deal?", None),
        # Whose, or someone by a role: mostly a person (but an office may answer "whose").
        ("Whose portrait appeared on the first stamps?", "person"),
        ("Which monarch opened the bridge?", "person"),
        ("Which member of the council proposed it?", "person"),
        ("Which model does Anthropic sell?", None),
    ],
)
def test_selection_type_adds_reasons_to_the_answer_types(question: str, kind: str | None) -> None:
    from assistant.answer.features import selection_type

    assert selection_type(question) == kind
    # The refusal features never see "reason": a why-question is not refused for lacking one.
    assert answer_type(question) != "reason"


def test_a_reason_is_recognised() -> None:
    assert has_answer_type("reason", "Amazon invests, aiming to secure access to AI models.")
    assert not has_answer_type("reason", "Amazon has invested around $8 billion.")


def test_cosine_pair_is_the_product_of_its_parts() -> None:
    f = evidence_features(
        "How much has Amazon invested in Anthropic?", [(EIGHT_BILLION, 0.6)], [PASSAGE], flat
    )
    assert f.cosine_pair == pytest.approx(f.best_cosine * f.pair_focus)


def test_name_context_sees_a_name_away_from_the_rest_of_the_question() -> None:
    # Google is in the passages, but only where nothing is said about investing.
    owners = "Anthropic remains partially owned by Google."
    money = "Amazon has invested around $8 billion in Anthropic."
    sentences = [(owners, 0.5), (money, 0.6)]
    swapped = evidence_features("How much has Google invested?", sentences, [owners, money], flat)
    real = evidence_features("How much has Amazon invested?", sentences, [owners, money], flat)
    assert swapped.name_context == 0.0
    assert real.name_context == 1.0
    assert swapped.entity_missing == real.entity_missing == 0.0  # the old feature sees no gap
    plain = evidence_features("What is invested?", sentences, [owners, money], flat)
    assert plain.name_context == 1.0  # no name, nothing to check


def test_an_exact_dollar_amount_is_an_amount_question() -> None:
    assert answer_type("What is the exact dollar amount Google invested in Anthropic?") == "amount"
    assert answer_type("What was the total amount of funding?") == "amount"


def test_the_modal_may_is_not_a_date_but_the_month_is() -> None:
    hedge = "Amazon's investment may not translate into tighter control."
    assert not has_answer_type("date", hedge)
    assert has_answer_type("date", "The trial ended in May 2020.")
    assert has_answer_type("date", "Cases fell after 5 May.")
    assert has_answer_type("date", "It opened in March.")
    assert not has_answer_type("date", "Troops march on.")


def test_a_sentence_is_cut_into_clauses_where_it_turns_to_another_subject() -> None:
    sentence = (
        "Currently, Amazon has invested around $8 billion in Anthropic, but unlike "
        "Microsoft's deal with OpenAI, Amazon holds less leverage."
    )
    assert [c.strip() for c in clauses(sentence)] == [
        "Currently, Amazon has invested around $8 billion in Anthropic",
        "Microsoft's deal with OpenAI, Amazon holds less leverage.",
    ]
    # Brackets and list commas are not breaks: they name the same thing or list items.
    assert len(clauses("For SARS (SARS-CoV), infectivity peaked at 10 days, 2 in Hong Kong.")) == 1
    # Nor are a record's colons and semicolons (a spreadsheet row): its fields are one subject.
    assert len(clauses("Station: Harbour Gate; Line: Blue; Opened: 1998; Notes: Rebuilt.")) == 1


def test_an_amount_belongs_to_the_names_of_its_own_clause() -> None:
    mixed = "Amazon invested $8 billion in Anthropic, while Google owns a stake."
    assert attached_type("amount", mixed, {"amazon"})
    assert not attached_type("amount", mixed, {"googl"})  # Google's clause has no amount
    assert attached_type("amount", mixed, set())  # no name to attach: any amount
    # Names and persons are answers themselves: the clause rule does not apply to them.
    assert attached_type("name", mixed, {"googl"})


def test_type_detached_flags_an_amount_that_belongs_to_another_subject() -> None:
    mixed = "Amazon invested $8 billion in Anthropic, while Google owns a stake."
    google = evidence_features(
        "What is the exact dollar amount Google invested in Anthropic?",
        [(mixed, 0.6)],
        [mixed],
        flat,
    )
    amazon = evidence_features(
        "What is the exact dollar amount Amazon invested in Anthropic?",
        [(mixed, 0.6)],
        [mixed],
        flat,
    )
    assert google.type_detached == 1.0
    assert amazon.type_detached == 0.0
    # A name the passages lack is entity_missing's business, not this feature's.
    nvidia = evidence_features("How much has Nvidia invested?", [(mixed, 0.6)], [mixed], flat)
    assert nvidia.type_detached == 0.0 and nvidia.entity_missing == 1.0


def test_the_fitted_model_refuses_the_exact_dollar_amount_google_invested() -> None:
    # The issue's example, with the seed article's two sentences: the amount is Amazon's.
    from assistant.answer.features import answer_probability
    from assistant.settings import Settings

    shipped = Settings()
    sentences = [(EIGHT_BILLION, 0.57), (GOOGLE_OWNS, 0.5)]
    google = evidence_features(
        "What is the exact dollar amount Google invested in Anthropic?", sentences, [PASSAGE], flat
    )
    amazon = evidence_features(
        "What is the exact dollar amount Amazon invested in Anthropic?", sentences, [PASSAGE], flat
    )
    p_google = answer_probability(google, shipped.refusal_weights, shipped.refusal_bias)
    p_amazon = answer_probability(amazon, shipped.refusal_weights, shipped.refusal_bias)
    assert p_google < shipped.refusal_threshold <= p_amazon


def test_phrase_overlap_counts_the_questions_phrases_kept_together() -> None:
    question = "What is the mean incubation period?"
    assert phrase_overlap(question, "The mean incubation period was 5 days.") == 1.0
    assert phrase_overlap(question, "The period of incubation has a mean of 5 days.") == 0.0
    assert phrase_overlap("Why?", "Anything.") == 0.0  # no pair to find


@pytest.mark.parametrize(
    ("question", "denied"),
    [
        ("What did Amazon not invest in?", {"inves"}),
        ("When was RT-PCR not the best method?", {"best", "metho"}),
        ("Which firm can't be sure of Anthropic?", {"sure"}),
        ("Which prize did the novel fail to win?", {"win"}),
        ("In which field is the law no longer used?", {"used"}),
        ("Which parts are no longer required by law?", {"requi", "law"}),
        # A why-question's reason is given in other words.
        ("Why is RT-PCR not the best method?", set()),
        # A yes/no question's opening, "or not", and words that name rather than deny.
        ("Doesn't it have its own models?", set()),
        ("Is the stake exclusive or not?", set()),
        ("What non-structural proteins are coded by Rotavirus?", set()),
        ("What is the consequence of the lack of deletions?", set()),
        ("What is no more than a rumour?", set()),
        # A denial in a leading condition is granted, not asked; one after it is asked.
        ("If Amazon isn't after a quick profit, what is it after?", set()),
        ("Given that the drug was not approved, which one was used?", set()),
        ("If the drug was approved, which one was not used?", {"used"}),
        # A statement asked as a question checks a claim; its denial is part of the claim.
        ("Google counts as in-house, not as a partner-investor?", set()),
        ("so amazon doesn't own the whole thing, then?", set()),
    ],
)
def test_what_a_question_denies(question: str, denied: set[str]) -> None:
    from assistant.answer.negation import question_negation

    assert question_negation(question) == denied


def test_a_question_denying_what_the_passage_states_is_refused_whatever_its_score() -> None:
    from assistant.answer.evidence import RefusalModel

    stated = "Amazon invested $8 billion in Anthropic."
    denied = evidence_features(
        "Which company did not invest in Anthropic?", [(stated, 0.9)], [stated], flat
    )
    plain = evidence_features(
        "Which company invested in Anthropic?", [(stated, 0.9)], [stated], flat
    )
    said = "Amazon did not invest in Meta."
    matched = evidence_features(
        "Which company did not invest in Meta?", [(said, 0.9)], [said], flat
    )
    unused = evidence_features("Which company did not sell chips?", [(stated, 0.9)], [stated], flat)
    assert denied.negation_unmatched == 1.0
    assert plain.negation_unmatched == matched.negation_unmatched == 0.0
    # No sentence uses "sell" and none denies anything: nothing says what did not happen.
    assert unused.negation_unmatched == 1.0
    # No sentence uses "sell" but one denies something: the other evidence decides.
    hedged = "Amazon did not buy chips, and invested $8 billion in Anthropic."
    elsewhere = evidence_features(
        "Which company did not sell chips?", [(hedged, 0.9)], [hedged], flat
    )
    assert elsewhere.negation_unmatched == 0.0
    always = RefusalModel({}, 10.0, 0.5)  # P(answerable) about 1 for anything
    assert always.answerable(plain) and always.answerable(matched)
    assert not always.answerable(denied)


@pytest.mark.parametrize(
    ("question", "sentences", "turned"),
    [
        ("What is the smallest city?", ["Lagos is the largest city."], "smallest"),
        ("Who came last in the race?", ["Ann came first in the race."], "last"),
        # The passage uses the word itself too, or the question names both sides.
        ("What is the smallest city?", ["Lagos is the largest city.", "Ife is smallest."], None),
        ("Is income high or low there?", ["Income is low there."], None),
        # A yes/no question is answered by the opposite: "no, costly".
        ("Is that a cheap way to do it?", ["This approach is costly."], None),
        # Words of change go both ways around one topic.
        ("What may reduce the effect?", ["Heat increased the effect."], None),
        # A part of a hyphenated word turned, or both.
        ("Which slow-burning fuse was used?", ["A fast-burning fuse was used."], "slow-burning"),
        ("How far north-east of the port is the reef?", ["It lies 9 km south-west."], "north-east"),
        ("Why were the clubs so short-lived?", ["The clubs were long-lived."], "short-lived"),
        ("Why were the clubs so short-lived?", ["The short-lived clubs folded."], None),
        # How a thing was received, its colour, what became of it.
        (
            "Which play was received enthusiastically?",
            ["The play was received coolly."],
            "enthusiastically",
        ),
        ("Why is the roof a darker colour?", ["The roof is a lighter colour."], "darker"),
    ],
)
def test_a_question_asking_the_opposite_of_what_the_passage_says(
    question: str, sentences: list[str], turned: str | None
) -> None:
    from assistant.answer.evidence import RefusalModel
    from assistant.answer.negation import unmatched_opposite

    assert unmatched_opposite(question, sentences) == turned
    f = evidence_features(question, [(t, 0.9) for t in sentences], sentences, flat)
    assert f.opposite_unmatched == float(turned is not None)
    assert RefusalModel({}, 10.0, 0.5).answerable(f) == (turned is None)


@pytest.mark.parametrize(
    ("question", "lead", "turned"),
    [
        # Another sentence of the passage uses "last" or "least" in another sense, so only the
        # word next to it ties the opposite to what is asked.
        (
            "Who was the last woman to hold such a post?",
            "Varga became director, the first woman to hold such a post.",
            "last",
        ),
        ("Where is the disease least common?", "It is most common in tropical regions.", "least"),
        ("What was the shortest building until 1989?", "It was the tallest building.", "shortest"),
        (
            "Which club was promoted to the third tier?",
            "Dunbridge was relegated to the third tier in 1987.",
            "promoted",
        ),
        # The lead says it the question's way too, or the opposite is next to another word.
        ("Where is the disease least common?", "It is least common where most common.", None),
        (
            "Who was the last woman to run?",
            "Ann Lee was the first to see the last woman run.",
            None,
        ),
        ("Who came last?", "The first prize went to Ann.", None),
        # Everyday opposites, next to the question's own word.
        ("Which poor merchant paid for the bridge?", "A wealthy merchant paid for it.", "poor"),
        ("Which poor families got grain?", "A wealthy merchant paid for the bridge.", None),
        # A comparison told from the other side says the same.
        ("Which team lost the final?", "Real Castela won the final against FC Nordhafen.", None),
        ("Which chips outperform Nvidia's?", "Nvidia's chips lag behind Google's TPUs.", None),
        # Words of change go both ways around one topic; yes/no questions are answered by "no".
        ("How has the incidence been reduced?", "The incidence increased 1.9-fold.", None),
        ("Is it the tallest building?", "It is the shortest building.", None),
    ],
)
def test_a_question_turning_around_the_phrase_its_answer_would_lead_with(
    question: str, lead: str, turned: str | None
) -> None:
    from assistant.answer.evidence import RefusalModel
    from assistant.answer.negation import turned_phrase

    # "last" and "least" in other senses elsewhere: the word alone says nothing.
    other = "At last the lab was built, at least in part."
    assert turned_phrase(question, [lead], [other]) == turned
    sentences = [(lead, 0.9), (other, 0.5)]
    f = evidence_features(question, sentences, [lead, other], flat, lead=0)
    assert f.opposite_unmatched == float(turned is not None)
    assert RefusalModel({}, 10.0, 0.5).answerable(f) == (turned is None)


@pytest.mark.parametrize(
    ("text", "someone"),
    [
        ("It was described in 1921 by Anna Ström.", True),
        ("Its record goalscorer is Hugh Baird, who scored 214 goals.", True),
        ("Founded in 1881 by workers at the ironworks, it joined the league.", True),
        # A name opening the sentence as a verb's doer; not a count or an adverb.
        ("Amazon builds custom chips in Austin.", True),
        ("Amazon is investing in Anthropic.", True),
        ("Hallam was a weaver.", True),
        ("In 1898 she discovered polonium.", True),
        ("The army was led by the king's half-brother.", True),  # a role, unnamed
        ("Ravoxin was developed in Denmark.", False),
        ("Three dams were built; the largest, the Gradina Dam, holds a reservoir.", False),
        ("Originally a hamlet, it grew around the Marrowgate Dye Works after 1834.", False),
        # Places: after "in", "at", "from"; listed after one; ending in "Market", "Dam" ...
        ("It was found at the Kels Hill mine in Cornwall, England, in 1921.", False),
        ("The district's centre is Marrowgate Market, a covered hall opened in 1889.", False),
        ("The largest, the Gradina Dam, created a reservoir 38 kilometres long.", False),
        ("A ferry links it with the village of Ornay since 1936.", False),
    ],
)
def test_who_is_answered_by_someone_not_by_a_place(text: str, someone: bool) -> None:
    assert has_answer_type("person", text) == someone


def test_who_is_refused_when_the_answer_would_name_no_one_but_the_question_s_names() -> None:
    from assistant.answer.evidence import RefusalModel

    always = RefusalModel({}, 10.0, 0.5)
    dam = "Three dams were built on the river; the largest, the Gradina Dam, holds a reservoir."
    built = "The dams were built by the engineer Ivo Maric between 1955 and 1971."
    asked = "Who built the Gradina Dam?"
    f = evidence_features(asked, [(dam, 0.9)], [dam], flat, lead=0)
    assert f.person_missing == 1.0 and not always.answerable(f)
    # The sentence the answer reads on into names the builder.
    both = evidence_features(
        asked, [(dam, 0.9), (built, 0.6)], [f"{dam} {built}"], flat, lead=0, before=[None, 0]
    )
    assert both.person_missing == 0.0 and always.answerable(both)
    # The question's own name is no answer to it.
    own = "Ravoxin was developed by Heller Pharma in 2017."
    f = evidence_features("Who founded Heller Pharma?", [(own, 0.9)], [own], flat, lead=0)
    assert f.person_missing == 1.0


def test_a_yes_or_no_question_denies_nothing_it_asks_about() -> None:
    from assistant.answer.negation import asks_yes_or_no, unmatched_negation

    assert asks_yes_or_no("Isn't the stake exclusive?") and asks_yes_or_no("Is it cheap?")
    assert not asks_yes_or_no("Which company did not invest?")
    assert not asks_yes_or_no("Island nations: which are rich?")
    # "Did Amazon not invest?" is answered by "Amazon invested ...": yes.
    assert not unmatched_negation("Did Amazon not invest?", ["Amazon invested $8 billion."])


def test_name_displacement_worked_example() -> None:
    weights = {"googl": 2.0, "stake": 1.0, "exclus": 1.0}
    stake = {"amazon", "stake", "exclus"}
    google = {"anthrop", "own", "googl"}
    assert name_displacement(weights, [[{"googl"}]], [stake, google]) == 1.0
    # Right after a sentence naming Google, "its stake" may well be Google's.
    assert name_displacement(weights, [[{"googl"}]], [google, stake]) == 0.0
    # One matching word is too little to say the attribute is someone else's.
    assert name_displacement(weights, [[{"googl"}]], [{"amazon", "stake"}, google]) == 0.0
    # A name no sentence holds is entity_missing's business, not this one's.
    assert name_displacement(weights, [[{"meta"}]], [stake, google]) == 0.0
    # Listed after the Google sentence but from another passage: the stake sentence does not
    # continue it, so its "stake" is not Google's.
    displaced = name_displacement(weights, [[{"googl"}]], [google, stake], previous=[None, None])
    assert displaced == 1.0
    assert name_displacement(weights, [[{"googl"}]], [google, stake], previous=[None, 0]) == 0.0


def test_a_name_of_several_words_is_held_by_a_sentence_holding_one_of_them() -> None:
    """ "South Korea" is the passage's "Republic of Korea": the R0 sentence is Korea's."""
    assert name_runs("What was R0 in South Korea and in Japan?") == [
        ["r0"],
        ["south", "korea"],
        ["japan"],
    ]
    weights = {"south": 2.0, "korea": 2.0, "r0": 2.0, "high": 1.0, "transmiss": 1.0}
    korea = {"high", "transmiss", "republ", "korea", "r0"}
    africa = {"south", "africa", "case"}
    runs = [[{"r0"}], [{"south"}, {"korea"}]]
    assert name_displacement(weights, runs, [africa, korea], previous=[None, None]) == 0.0
    # Written as two names, "South" would be displaced by the sentence that lacks it.
    split = [[{"r0"}], [{"south"}], [{"korea"}]]
    assert name_displacement(weights, split, [africa, korea], previous=[None, None]) > 0.5


def test_document_previous_follows_the_document_not_the_candidate_list() -> None:
    from assistant.answer.evidence import Sentence, document_previous
    from assistant.schema import Chunk

    a = Chunk("a0", "a.txt", "Google owns part. Its stake is small.", 0, 37, 0, "h1")
    b = Chunk("b0", "b.txt", "Amazon invested.", 0, 16, 0, "h2")
    units = [
        Sentence(a, 0, 0, 17, a.text[0:17]),
        Sentence(b, 1, 0, 16, b.text),
        Sentence(a, 0, 18, 37, a.text[18:37]),
    ]
    assert document_previous(units) == [None, None, 0]
    # Listed right after the Google sentence, yet from another document.
    assert document_previous([units[0], units[1]]) == [None, None]


def test_a_cardinal_right_before_the_counted_word_counts_it() -> None:
    genotypes = {"genotyp"}
    assert counts_counted("CHIKV has been isolated into three genotypes.", genotypes)
    assert counts_counted("The genome has 31,028 nucleotides.", {"nucleotid"})
    assert counts_counted("It has 12 large data centers.", {"data", "center"})
    # A number elsewhere in the sentence counts something else.
    assert not counts_counted("The Asian genotype emerged 50 to 310 years ago.", genotypes)
    # "several" and "most" count nothing exactly.
    assert not counts_counted("Several genotypes are known.", genotypes)


def test_a_count_answers_how_many_only_of_what_the_question_counts() -> None:
    assert counted_terms("How many data centers has Amazon built for Anthropic?") == {
        "data",
        "center",
    }
    assert counted_terms("How many times was it tested?") == set()
    assert counted_terms("How much has Amazon invested?") == set()
    dollars = "Amazon has already invested around $8 billion in Anthropic."
    centers = "Amazon has built 12 data centers for Anthropic."
    asked = "How many data centers has Amazon built for Anthropic?"
    # "$8 billion" is a number in a clause with Amazon and Anthropic, but it counts no centers.
    assert evidence_features(asked, [(dollars, 0.6)], [dollars], flat).type_detached == 1.0
    assert evidence_features(asked, [(centers, 0.6)], [centers], flat).type_detached == 0.0
    # One of the counted words will do: "47 cases" counts the "confirmed cases".
    cases = "By 21 February, 47 cases had been reported in the region."
    f = evidence_features("How many confirmed cases were reported?", [(cases, 0.6)], [cases], flat)
    assert f.type_detached == 0.0


@pytest.mark.parametrize(
    ("question", "refused"),
    [
        ("Is Google's stake in Anthropic exclusive?", True),
        ("Is Amazon's stake in Anthropic exclusive?", False),
        ("Does Google own part of Anthropic?", False),
    ],
)
def test_a_question_about_one_name_answered_by_what_another_did_is_refused(
    question: str, refused: bool
) -> None:
    """The passages state the attribute, but of someone else: an entity swapped within the
    document, which entity_missing cannot see (every name is there)."""
    from assistant.answer.evidence import RefusalModel

    sentences = [
        "Amazon's stake in Anthropic is non-exclusive.",
        "Meta builds its models in-house.",
        "Anthropic remains partially owned by Google.",
    ]
    f = evidence_features(question, [(t, 0.9) for t in sentences], sentences, flat)
    assert f.entity_missing == 0.0
    model = RefusalModel({}, 10.0, 0.5, displaced_veto=0.7)  # P(answerable) about 1
    assert model.answerable(f) != refused
    assert RefusalModel({}, 10.0, 0.5).answerable(f)  # the veto is off unless set


def test_an_unsure_answer_is_given_from_the_floor_only_when_nothing_points_to_a_swap() -> None:
    from assistant.answer.evidence import RefusalModel, unswapped
    from assistant.answer.features import EvidenceFeatures

    # P(answerable) 0.05 with no weights: under the threshold 0.07, over the floor 0.02.
    model = RefusalModel({}, math.log(0.05 / 0.95), 0.07, floor=0.02)
    clean = EvidenceFeatures(0.45, 0.4, 0.4, 0.4, 0.8, 0.0, 0.0)
    assert unswapped(clean) and model.answerable(clean)
    assert not RefusalModel({}, math.log(0.05 / 0.95), 0.07).answerable(clean)  # floor off
    # Each sign of a question written against the passages keeps it refused.
    for sign in (
        {"name_context": 0.4},  # a name sits in passages about something else
        {"name_displaced": 0.5},  # another name holds what it asks
        {"type_detached": 1.0},  # its amount or date stands apart from its names
        {"best_cosine": 0.2},  # no sentence is near it in meaning
        {"focus": 0.05},  # nor holds its terms
        {"asks_amount": 1.0},  # a figure of something the passages may not measure
        {"negation_unmatched": 1.0},  # a veto refuses whatever the probability
    ):
        assert not model.answerable(dataclasses.replace(clean, **sign)), sign
    # Under the floor it is refused however clean.
    below = RefusalModel({}, math.log(0.01 / 0.99), 0.07, floor=0.02)
    assert not below.answerable(clean)


def test_near_spelling_keeps_digits_and_short_codes_exact() -> None:
    assert near_spelling("ceamcam1", "ceacam1")  # a letter added to a long name
    assert not near_spelling("ceacam5", "ceacam1")  # another digit: another protein
    assert not near_spelling("2019-vcov", "2019-ncov")  # a short code's letter: another name
    assert not near_spelling("h1n2", "h1n1")
    assert near_spelling("zanamavir", "zanamivir")


def test_compound_mentioned_joins_a_name_with_its_neighbour_or_lengthens_it() -> None:
    tokens = {"director-general", "who"}
    assert compound_mentioned("general", "director", "of", tokens, "")
    assert compound_mentioned("director", "new", "general", {"directorgeneral"}, "")
    assert not compound_mentioned("general", "the", "assembly", tokens, "")
    text = "the immune response to staphylococcus aureus (s. aureus), a gram positive bacteria"
    assert compound_mentioned("staph", "is", "aureus", set(), text)
    assert not compound_mentioned("staph", "is", "epidermidis", set(), text)
    assert not compound_mentioned("sta", "is", "aureus", set(), text)  # under four letters


def test_an_ordinal_is_its_number_in_the_sentence_that_answers() -> None:
    # "11th" in the question, "March 11" in the sentence: the same day, so the count is
    # attached to the question's names and the key terms are all there.
    sentence = "As of March 11, 2020, there were 3,169 deaths on the Chinese mainland."
    f = evidence_features(
        "How many deaths were there on the Chinese mainland as of March 11th?",
        [(sentence, 0.7)],
        [sentence],
        flat,
    )
    assert f.typed_focus == pytest.approx(1.0)
    assert f.type_detached == 0.0 and f.entity_missing == 0.0
    other = evidence_features(
        "How many deaths were there on the Chinese mainland as of March 12th?",
        [(sentence, 0.7)],
        [sentence],
        flat,
    )
    assert other.entity_missing > 0.0 and other.typed_focus < 1.0


def test_a_sentence_naming_the_acronym_names_what_the_question_spells_out() -> None:
    sentence = "HCQ is a safe and successful anti-inflammatory agent."
    f = evidence_features(
        "Is Hydroxychloroquine (HCQ) anti-inflammatory?", [(sentence, 0.6)], [sentence], flat
    )
    assert f.typed_focus == pytest.approx(1.0)
    assert with_aliases({"hcq"}, [({"hcq"}, {"hydroxychloroquin"})]) == {
        "hcq",
        "hydroxychloroquin",
    }
    # The words that spell it name it too; a sentence with neither names neither.
    assert with_aliases(
        {"mannos", "bind", "lectin"}, [({"mbl"}, {"mannos", "bind", "lectin"})]
    ) >= {"mbl"}
    assert with_aliases({"safe"}, [({"hcq"}, {"hydroxychloroquin"})]) == {"safe"}


COVID_PASSAGES = [
    "COVID-19 was first reported in Wuhan.",
    "COVID-19 spread to Hubei and beyond.",
    "As of March 11, 2020, there were 3,169 deaths on the Chinese mainland. COVID-19 ...",
]


def test_a_date_or_count_of_the_documents_topic_need_not_name_it_again() -> None:
    deaths = "As of March 11, 2020, there were 3,169 deaths on the Chinese mainland."
    assert topic_names({"covid", "chines", "11"}, [set(analyze(p)) for p in COVID_PASSAGES]) == {
        "covid"
    }
    f = evidence_features(
        "How many COVID deaths were there on the Chinese mainland as of March 11?",
        [(deaths, 0.7)],
        COVID_PASSAGES,
        flat,
    )
    assert f.type_detached == 0.0 and f.typed_focus > 0.5
    # Not with two passages: a topic is what at least three passages share.
    two = evidence_features(
        "How many COVID deaths were there on the Chinese mainland as of March 11?",
        [(deaths, 0.7)],
        COVID_PASSAGES[1:],
        flat,
    )
    assert two.type_detached == 1.0
    # Not an amount: it belongs to its own subject.
    cost = evidence_features(
        "How much did the COVID research on the Chinese mainland cost?",
        [("The Chinese mainland spent $3,169 on masks.", 0.7)],
        [*COVID_PASSAGES[:2], "The Chinese mainland spent $3,169 on masks. COVID-19 ..."],
        flat,
    )
    assert cost.type_detached == 1.0
    # Nor when the topic is all the question names: the count must then be about it.
    only = evidence_features(
        "How many COVID patients were there?",
        [("There were 3,169 deaths on the Chinese mainland.", 0.7)],
        COVID_PASSAGES,
        flat,
    )
    assert only.type_detached == 1.0


def test_a_ligature_of_text_taken_from_a_pdf_reads_as_its_letters() -> None:
    # "ﬂ" (one character) in "inﬂuenza", as PDF extraction leaves it.
    sentence = "The 1918 inﬂuenza pandemic was caused by an H1N1 virus of avian origin."
    f = evidence_features(
        "What caused the 1918 Influenza pandemic?", [(sentence, 0.6)], [sentence], flat
    )
    assert f.entity_missing == 0.0 and f.typed_focus == pytest.approx(1.0)


def test_an_acronym_the_passages_define_names_what_the_question_writes_out() -> None:
    assert acronym_spellings("only hepatitis B virus (HBV) and hepatitis D virus (HDV) wait") == [
        ("hbv", ["hepatitis", "B", "virus"]),
        ("hdv", ["hepatitis", "D", "virus"]),
    ]
    defined = "Among the hepatitis viruses, only hepatitis B virus (HBV) lacks a culture system."
    domain = "The HBV envelope protein has one domain necessary for infection."
    question = "Which domain of the Hepatitis B envelope is necessary for infection?"
    f = evidence_features(question, [(domain, 0.6)], [f"{defined} {domain}"], flat)
    assert f.typed_focus == pytest.approx(1.0)
    # Without the definition, "HBV" is not taken for "Hepatitis B".
    f = evidence_features(question, [(domain, 0.6)], [domain], flat)
    assert f.typed_focus < 1.0


def test_yet_to_and_failed_to_deny_what_follows() -> None:
    from assistant.answer.negation import unmatched_negation

    # "have yet to receive" is "have not received": the question that asks who has not is
    # answered by it (it was refused as the question turned around).
    market = [
        "Companies focusing on in-house development, such as Google, have yet to receive "
        "similar investor enthusiasm."
    ]
    assert not unmatched_negation("Which company hasn't received the same enthusiasm?", market)
    # It denies the verb after "to", not every word after it: "investor" there does not say
    # that some company did not invest.
    assert unmatched_negation("Which company did not invest in Anthropic?", market)
    # ... but what the question denies beyond its verb, it denies in other words: not winning
    # investor enthusiasm is having yet to receive it.
    assert not unmatched_negation("Which company has not won investor enthusiasm?", market)
    failed = ["The first vaccine failed to protect the animals."]
    assert not unmatched_negation("Which vaccine did not protect the animals?", failed)
    # A plain statement still answers only the question that does not deny it.
    plain = ["The first vaccine protected the animals."]
    assert unmatched_negation("Which vaccine did not protect the animals?", plain)


def test_a_phrase_that_only_places_the_question_in_time_weighs_nothing() -> None:
    table = {"amazon": 0.5, "invest": 2.0, "far": 3.0, "date": 3.0}

    def idf(term: str) -> float:
        return table.get(term, 0.0)

    assert key_term_weights("How much has Amazon invested so far?", idf) == {
        "amazon": 1.0,
        "invest": 2.0,
    }
    assert "date" not in key_term_weights("How much has Amazon invested to date?", idf)
    # "How much so far?" after "Who is Amazon investing in?" is answered by the amount
    # sentence: "far" in the carried query no longer outweighs the names it carries.
    features = evidence_features(
        "How much so far?",
        [("Currently, Amazon has invested around $8 billion in Anthropic.", 0.5)],
        ["Currently, Amazon has invested around $8 billion in Anthropic."],
        idf=lambda t: 1.0,
        query="How much so far? (Anthropic Amazon)",
    )
    assert features.typed_focus == 1.0


def test_a_denial_is_matched_only_by_the_sentences_that_would_answer() -> None:
    """Among many candidates some sentence denies nearly any word; the question that denies
    what the best sentences state plainly is still asked the other way round."""
    plain = "The molecular structure of bovine coronavirus is a single-stranded RNA genome."
    near = "Its genome is linear and nonsegmented."
    far = "Replicons do not encode the structural proteins of the virus."
    asked = "What is not the molecular structure of bovine coronavirus?"
    sentences = [(plain, 0.8), (near, 0.5), ("Bovine coronavirus infects cattle.", 0.45)]
    f = evidence_features(asked, [*sentences, (far, 0.2)], [plain, near, far], flat)
    assert f.negation_unmatched == 1.0
    # When one of the best sentences denies it, the question is answered as before.
    denied = "Bovine coronavirus does not have the molecular structure of a DNA virus."
    f = evidence_features(asked, [(denied, 0.8), *sentences], [denied, plain], flat)
    assert f.negation_unmatched == 0.0


def test_a_phrase_that_only_points_at_the_document_weighs_nothing() -> None:
    """No passage says "article" of itself: "according to the article" must not make the
    question look unanswered."""
    table = {"costli": 2.0, "challeng": 2.0, "accord": 3.0, "articl": 3.0}
    weights = key_term_weights(
        "What is costly and challenging according to the article?", lambda t: table.get(t, 1.0)
    )
    assert "articl" not in weights and "accord" not in weights
    # ... nor what the author thinks: no passage says "think" of its own claims.
    weights = key_term_weights("Who does the author think gains?", lambda t: 1.0)
    assert "think" not in weights and "gain" in weights, weights
    # A question about the document itself keeps its words.
    assert "report" in key_term_weights("What is in the report?", lambda t: 1.0)


def test_a_reason_asked_of_a_name_is_told_in_a_clause_naming_it() -> None:
    owned = "Anthropic remains partially owned by Google."
    aims = "By investing in Anthropic, Amazon aims to align itself with Claude."
    sentences = [(owned, 0.7), (aims, 0.6)]
    f = evidence_features("Why did Google buy into Anthropic?", sentences, [owned, aims], flat)
    assert f.type_detached == 1.0  # the reason told is Amazon's
    f = evidence_features("Why is Amazon investing in Anthropic?", sentences, [owned, aims], flat)
    assert f.type_detached == 0.0
    # The documents' topic need not be named again, nor a number the question gives.
    passages = [
        "COVID-19 spreads fast.",
        "COVID-19 cases rose in March.",
        "COVID-19 is a respiratory disease.",
        "COVID-19 vaccines are in trials.",
        "Caring for 2019-nCoV patients is a high exposure risk for ICU staff because it spreads.",
    ]
    asked = "Why is the exposure risk of COVID-19 high for ICU staff?"
    f = evidence_features(asked, [(p, 0.5) for p in passages], passages, flat)
    assert f.type_detached == 0.0
    wide = "The locks were made 4.3 metres wide, large enough for the broad keels."
    f = evidence_features("Why were the locks made 4.3 metres wide?", [(wide, 0.7)], [wide], flat)
    assert f.type_detached == 0.0


def test_a_leader_asked_for_needs_a_human_being_in_the_passages() -> None:
    owned = "Anthropic remains partially owned by Google and collaborates with Meta."
    founded = "Anthropic was founded by Dario Amodei and Daniela Amodei in 2021."
    f = evidence_features("Who founded Anthropic?", [(owned, 0.6)], [owned], flat)
    assert f.type_detached == 1.0  # Google is a company, not a founder
    f = evidence_features("Who founded Anthropic?", [(founded, 0.6)], [founded], flat)
    assert f.type_detached == 0.0
    # An owner may be a company: "Who owns part of Anthropic?" is answered by Google.
    f = evidence_features("Who owns part of Anthropic?", [(owned, 0.6)], [owned], flat)
    assert f.type_detached == 0.0


# ---------------------------------------------------------------- agent_displaced


@pytest.mark.parametrize(
    ("question", "agents"),
    [
        ("What custom chips is Meta supplying to Anthropic?", [["meta"]]),
        ("How much money has Microsoft already put into Anthropic?", [["microsoft"]]),
        ("Is Meta's stake in Anthropic exclusive?", [["meta"]]),
        ("Why did South Korea close its schools?", [["south", "korea"]]),
        # A name naming the thing asked for owns it.
        ("Which Microsoft product is it built into?", [["microsoft"]]),
        ("Which product is built into Alexa?", []),
        # After a bare copula the name is what is asked about, not a doer.
        ("What was R0 in South Korea?", []),
        ("What is MERS?", []),
        # A number is never a doer.
        ("What happened in 2019?", []),
    ],
)
def test_question_agents_are_the_names_that_do_or_own(
    question: str, agents: list[list[str]]
) -> None:
    assert question_agents(question) == agents


def test_clause_doer_is_a_name_before_its_verb() -> None:
    passages = "Anthropic works with Amazon and with Meta."
    assert clause_doer("By investing in Anthropic, Amazon aims to align itself.", passages) == (
        "Amazon"
    )
    assert clause_doer("Amazon, on the other hand, is hedging its bets.", passages) == "Amazon"
    # A capitalised first word that the passages never write capitalised is no name.
    assert clause_doer("Patients were advised to rest.", "patients rested") is None
    assert clause_doer("As expected, orf8 belongs to the group.", passages) is None
    assert clause_doer("She released the album in 2003.", passages) is None


def test_agent_displacement_needs_another_doer_and_no_question_doer() -> None:
    passages = (
        "Anthropic works with Meta and Amazon. Amazon is supplying custom chips to Anthropic."
    )
    lead = "Amazon is supplying custom chips to Anthropic."
    held = set(analyze(lead))
    assert (
        agent_displacement(
            "What custom chips is Meta supplying to Anthropic?", lead, held, passages
        )
        == 1.0
    )
    # The question's own doer is in the sentence.
    assert (
        agent_displacement(
            "What custom chips is Amazon supplying to Anthropic?", lead, held, passages
        )
        == 0.0
    )
    # ... or in the sentence before it, which "it" may point back to.
    assert (
        agent_displacement(
            "What custom chips is Meta supplying to Anthropic?", lead, held | {"meta"}, passages
        )
        == 0.0
    )
    # A doer written as a pronoun is left to the other features.
    pronoun = "It is supplying custom chips to Anthropic."
    assert (
        agent_displacement(
            "What custom chips is Meta supplying to Anthropic?",
            pronoun,
            set(analyze(pronoun)),
            passages,
        )
        == 0.0
    )

    # Two words of one name the passages write together are one doer.
    teams = "The Denver Broncos beat the Carolina Panthers. Denver scored 24 points."
    scored = "Denver scored 24 points."
    assert (
        agent_displacement(
            "How many points did the Broncos score?", scored, set(analyze(scored)), teams
        )
        == 0.0
    )
    assert (
        agent_displacement(
            "How many points did the Panthers score?", scored, set(analyze(scored)), teams
        )
        == 1.0
    )


# ------------------------------------------------- a passage's subject, numbers in names


@pytest.mark.parametrize(
    ("sentence", "points_back"),
    [
        ("In 2004 it acquired the sensor maker Brandt for 90 million euros.", True),
        ("The company was listed on the Frankfurt exchange in 1986.", True),
        ("She moved to Vienna in 1921.", True),
        ("Marwick Optics was listed on the Frankfurt exchange in 1986.", False),
    ],
)
def test_anaphoric_sentences_point_back(sentence: str, points_back: bool) -> None:
    assert anaphoric(sentence) is points_back


def test_a_sentence_pointing_back_holds_its_passages_subject() -> None:
    # "The company" is Marwick Optics, which the passage's first sentence names: the year is
    # the company's, though the sentence does not repeat its name.
    first = "Marwick Optics is a German maker of microscopes founded in Jena."
    listed = "The company was listed on the Frankfurt exchange in 1986."
    question = "In what year was Marwick Optics listed on the Frankfurt exchange?"
    sentences = [(first, 0.4), (listed, 0.7)]
    with_topic = evidence_features(
        question, sentences, [f"{first} {listed}"], flat, topics=["", first]
    )
    without = evidence_features(question, sentences, [f"{first} {listed}"], flat)
    assert with_topic.type_detached == 0.0
    assert with_topic.typed_focus > without.typed_focus
    assert without.type_detached == 1.0
    # A sentence that names another subject does not take the passage's.
    other = "Zeiss was listed on the Frankfurt exchange in 1986."
    named = evidence_features(
        question, [(first, 0.4), (other, 0.7)], [f"{first} {other}"], flat, topics=["", first]
    )
    assert named.type_detached == 1.0


@pytest.mark.parametrize(
    ("question", "displaced"),
    [
        # The passages have the 1987 final and the 1986-87 cup, not a 1986 final.
        ("How many people attended the 1986 Harbour Cup Final?", 1.0),
        ("How many people attended the 1987 Harbour Cup Final?", 0.0),
        ("Who won the 1986–87 Harbour Cup?", 0.0),
        ("What did the Paving Act of 1741 require?", 1.0),
        ("What did the Paving Act of 1738 require?", 0.0),
        # A year the passages date the name with is the name's too.
        ("How many fell ill in the 2009 Marsh Fever outbreak?", 0.0),
        # A year that only dates what a name does is no part of the name.
        ("What did Lindell build in 2015?", 0.0),
        # A count the passages give of another thing, while they count this one otherwise.
        ("How far did the party travel in 41 days?", 1.0),
        ("How far did the party travel in 54 days?", 0.0),
    ],
)
def test_number_displacement_reads_numbers_that_are_part_of_a_name(
    question: str, displaced: float
) -> None:
    passages = [
        "The 1987 Harbour Cup Final was played in Brest. It closed the 1986–87 Harbour Cup.",
        "After the fire the council passed the Paving Act of 1738. The hall opened in 1741.",
        "In 2009 Marsh Fever spread along the coast, as the 1951 Marsh Fever outbreak had. In "
        "2012 Lindell built a bridge.",
        "In 54 days the party covered 640 kilometres and charted 41 islands.",
    ]
    assert number_displacement(question, passages) == displaced


def test_a_comparison_with_the_plan_is_turned_by_its_opposite() -> None:
    from assistant.answer.negation import turned_phrase

    lead = ["The canal opened in 1802, two years later than planned, at a cost of £212,000."]
    asked = "How many years earlier than planned did the canal open?"
    assert turned_phrase(asked, lead, lead) == "earlier"
    assert (
        turned_phrase("How many years later than planned did the canal open?", lead, lead) is None
    )
    # A comparison of two sides may be told from the other one.
    assert (
        turned_phrase(
            "Which canal is longer than the Ardle?", ["The Ardle is shorter than the Wey."], []
        )
        is None
    )


def test_a_price_is_told_by_a_sale_in_money() -> None:
    sold = "In 1996 the society sold the psalter to the British Library for 420 guineas."
    f = evidence_features(
        "What price did the British Library pay for the psalter?", [(sold, 0.6)], [sold], flat
    )
    assert f.type_detached == 0.0
    markets = "By the 1890s the cheese was made on 140 farms and sold at markets in Askby."
    f = evidence_features(
        "What price did the cheese fetch at Askby?", [(markets, 0.6)], [markets], flat
    )
    assert f.type_detached == 1.0


@pytest.mark.parametrize(
    ("question", "lead", "displaced"),
    [
        ("Which film won the Golden Reel in 1994?", "It won the Golden Reel in 1984.", 1.0),
        ("Which film won the Golden Reel in 1984?", "It won the Golden Reel in 1984.", 0.0),
        # Another preposition dates something else.
        ("Which film won the Golden Reel in 1994?", "It was shot from 1984 to 1985.", 0.0),
        ("Which film won the Golden Reel in 1994?", "It won the Golden Reel.", 0.0),
        # A month before the year is the same date.
        ("What happened in December 2019?", "On 31 December 2019, cases were reported.", 0.0),
    ],
)
def test_year_displacement_reads_the_lead_sentences_date(
    question: str, lead: str, displaced: float
) -> None:
    assert year_displacement(question, lead) == displaced


def test_a_year_the_passages_give_elsewhere_is_weighed_there_not_by_the_lead() -> None:
    # The lead is the airline's first sentence; the year asked is in a sentence of its own.
    lead = "Nordavia is a regional airline. It was founded in 1987 by Henrik Aas."
    passages = f"{lead} In 2005 the airline was bought by the Nordfjell Group."
    assert year_displacement("Which company acquired Nordavia in 2005?", lead) == 1.0
    assert year_displacement("Which company acquired Nordavia in 2005?", lead, passages) == 0.0


@pytest.mark.parametrize(
    ("question", "displaced"),
    [
        ("Which khanate fell to the Mongols in 1389?", 1.0),
        ("Which khanate fell to the Mongols in 1258?", 0.0),
        ("When was the capital of the eastern khanate sacked?", 0.0),  # no year asked
        # One term more in another year's clause is not enough: "She was awarded the medal in
        # 1947" answers a question whose words are not the passage's.
        ("Which prize was Varga given in 1947?", 0.0),
    ],
)
def test_year_elsewhere_compares_the_clauses_of_each_year(question: str, displaced: float) -> None:
    from assistant.answer.features import year_elsewhere

    passages = [
        "The western khanate fell to the Mongols in 1258, while the eastern khanate survived "
        "until its capital was sacked in 1389.",
        "Varga received her doctorate in 1915. She was awarded the Davy Medal in 1947.",
    ]
    assert year_elsewhere(question, passages) == displaced
    f = evidence_features(question, [(passages[0], 0.9)], passages, flat, lead=0)
    assert f.year_displaced == displaced
    # A year no passage has: the passages tell of other times, whatever the lead says.
    absent = "Which khanate fell to the Mongols in 1402?"
    assert year_elsewhere(absent, passages) == 1.0
    assert evidence_features(absent, [(passages[0], 0.9)], passages, flat, lead=0).year_displaced
    undated = ["Amazon has already invested around $8 billion in Anthropic."]
    assert year_elsewhere("How much did Amazon invest in Anthropic in 2021?", undated) == 1.0


@pytest.mark.parametrize(
    ("question", "lead", "swapped"),
    [
        ("In what year did John Pickering die?", "Hallam died in 1849; Pickering continued.", 1.0),
        ("In what year did Hallam die?", "Hallam died in 1849; Pickering continued.", 0.0),
        # The doer elsewhere in the sentence, in another role.
        (
            "Which fortress town did Ostmark return to Valdria?",
            "Under its terms, Valdria returned the town of Kell to Ostmark.",
            1.0,
        ),
        (
            "How many goals did Alec Rennie score?",
            "Its top scorer is Hugh Baird, who scored 214.",
            1.0,
        ),
        ("How long may the Assembly delay bills?", "The Senate may delay bills for a year.", 1.0),
        ("When did Jacques Thivolet take office?", "Hélène Marchetti took office in 2019.", 1.0),
        # A pronoun is the doer; a participle tells of the subject; a noun is no deed.
        (
            "What did Varga develop?",
            "She joined Anton Meier, with whom she developed a method.",
            0.0,
        ),
        (
            "Which body did the Senate replace?",
            "It was set up by the Constitution of 1921, replacing the Council of State.",
            0.0,
        ),
        ("How much did Google invest?", "Anthropic has received investment from Google.", 0.0),
        # The doer by its initials.
        ("When did the United States declare it?", "The US Department declared it in May.", 0.0),
        ("When did Asian genotype emerge?", "The West and East African genotypes diverged.", 0.0),
    ],
)
def test_a_lead_sentence_telling_what_another_name_did(
    question: str, lead: str, swapped: float
) -> None:
    from assistant.answer.features import role_swap

    assert role_swap(question, lead) == swapped
    # Another sentence that could answer tells the doer's own deed: the lead is not all.
    told = "In the end Pickering died in 1871, and Ostmark returned Lunmark to Valdria."
    if "Pickering" in question or "Ostmark" in question:
        assert role_swap(question, lead, [told]) == 0.0
    f = evidence_features(question, [(lead, 0.9)], [lead], flat, lead=0)
    assert f.agent_displaced >= swapped


def test_a_percentage_belongs_to_what_it_is_a_share_of() -> None:
    assert measured_terms("What percentage of rats develop Weil's disease?") == {"rat"}
    assert measured_terms("What proportion of the cases were fatal?") == {"case"}
    patients = "About 10 percent of patients develop a severe form known as Weil's disease."
    rats = evidence_features(
        "What percentage of rats develop Weil's disease?", [(patients, 0.6)], [patients], flat
    )
    people = evidence_features(
        "What percentage of patients develop Weil's disease?", [(patients, 0.6)], [patients], flat
    )
    assert rats.type_detached == 1.0
    assert people.type_detached == 0.0
    # A word the passage writes in two ("health care") is the question's one ("healthcare").
    staff = "Of the health care workers, 44.6% reported symptoms of anxiety."
    split = evidence_features(
        "What proportion of healthcare workers reported anxiety?", [(staff, 0.6)], [staff], flat
    )
    assert split.type_detached == 0.0


def test_numbers_in_names_are_read_in_linear_time_on_hostile_passages() -> None:
    # A passage of 40,000 characters of "1,1,1,..." took 38 s when a number could start at
    # each of its commas; a stalled answer is a denial of service.
    hostile = [",".join(["1"] * 20000), ".".join(["12"] * 15000), "–".join(["1"] * 20000)]
    start = time.perf_counter()
    for passage in hostile:
        number_displacement("Who won the 1986 Harbour Cup Final?", [passage])
        number_displacement("What did the Paving Act of 1741 require?", [passage])
    took = time.perf_counter() - start
    assert took < 2, f"took {took:.1f} s"


def test_a_range_of_years_is_named_by_its_two_ends() -> None:
    overhaul = "The trust carried out a major overhaul between 2011 and 2014 at a cost of £640,000."
    f = evidence_features(
        "What did the 2011-2014 overhaul cost?", [(overhaul, 0.6)], [overhaul], flat
    )
    assert f.entity_missing == 0.0
    g = evidence_features(
        "What did the 2011-2015 overhaul cost?", [(overhaul, 0.6)], [overhaul], flat
    )
    assert g.entity_missing == 1.0  # a changed year is another fact


def test_a_why_question_whose_denial_the_passage_contradicts_is_flagged() -> None:
    # "never invested" asks the reason for something that did not happen: the passage says it did.
    f = evidence_features(
        "Why has Amazon never invested in Anthropic?", [(EIGHT_BILLION, 0.8)], [PASSAGE], flat
    )
    assert f.negation_unmatched == 1.0
    # ... while a why-question whose denial the passage tells in other words is answered.
    psalter = (
        "A fire destroyed about sixty manuscripts, but the psalter survived because the "
        "librarian had taken it home."
    )
    g = evidence_features(
        "Why was the psalter not destroyed in the fire?", [(psalter, 0.7)], [psalter], flat
    )
    assert g.negation_unmatched == 0.0
    # ... and so is one of degree.
    pcr = "RT-PCR is the most sensitive method for SARS-CoV-2."
    h = evidence_features("Why is RT-PCR not always the best method?", [(pcr, 0.7)], [pcr], flat)
    assert h.negation_unmatched == 0.0


def test_an_opposite_told_of_the_questions_own_names_is_flagged() -> None:
    # "exclusive" is used of another deal in the same sentence; of Amazon's stake the passage
    # says the opposite.
    stake = (
        "Unlike Microsoft's exclusive deal with OpenAI, Amazon's stake in Anthropic is "
        "non-exclusive, reflecting a broader industry divide."
    )
    f = evidence_features(
        "Why is Amazon's stake in Anthropic exclusive?", [(stake, 0.8)], [stake], flat
    )
    assert f.opposite_unmatched == 1.0
    lag = "Amazon's own models lag behind competitors such as GPT-4 in performance benchmarks."
    g = evidence_features("Why are Amazon's models ahead of GPT-4?", [(lag, 0.8)], [lag], flat)
    assert g.opposite_unmatched == 1.0
    # A comparison asked from the other side is the same comparison, and a yes/no question is
    # answered by the opposite ("No: non-exclusive").
    h = evidence_features("Which models are ahead of Amazon's own?", [(lag, 0.7)], [lag], flat)
    assert h.opposite_unmatched == 0.0
    i = evidence_features(
        "Is Amazon's stake in Anthropic exclusive?", [(stake, 0.8)], [stake], flat
    )
    assert i.opposite_unmatched == 0.0


def test_an_everyday_opposite_told_of_the_questions_names_is_flagged() -> None:
    rebuilt = "In 1924 Arthur Penrose rebuilt twelve of the class with larger cylinders."
    f = evidence_features(
        "How many engines did Penrose rebuild with smaller cylinders?",
        [(rebuilt, 0.8)],
        [rebuilt],
        flat,
    )
    assert f.opposite_unmatched == 1.0  # an attribute, not a comparison of two names
    doctor = "The expedition's doctor was Sverre Haug, a young physician from Trondheim."
    g = evidence_features(
        "Which old physician from Trondheim joined?", [(doctor, 0.8)], [doctor], flat
    )
    assert g.opposite_unmatched == 1.0
    # Asked the passage's way, nothing is turned.
    h = evidence_features(
        "Which young physician from Trondheim joined?", [(doctor, 0.8)], [doctor], flat
    )
    assert h.opposite_unmatched == 0.0


def test_the_past_of_an_irregular_verb_holds_the_verb_asked_about() -> None:
    inquiry = "A Board of Trade inquiry opened at Liverpool in April 1887 and sat for eleven days."
    f = evidence_features("For how long did the inquiry sit?", [(inquiry, 0.5)], [inquiry], flat)
    g = evidence_features("For how long did the inquiry meet?", [(inquiry, 0.5)], [inquiry], flat)
    assert f.focus > g.focus  # "sat" is the question's "sit", not its "meet"


def test_a_thing_the_lead_gives_as_another_persons_is_flagged() -> None:
    notebooks = (
        "Pieter Roos died in Alkmaar in 2011, and his design notebooks were given by his "
        "family to the city archive."
    )
    daughter = "The expansion was designed by Roos with his daughter, Femke Roos."
    passages = [f"{daughter} {notebooks}"]
    f = evidence_features(
        "To whom were Femke Roos's design notebooks given?",
        [(notebooks, 0.7), (daughter, 0.5)],
        passages,
        flat,
        lead=0,
    )
    assert f.agent_displaced == 1.0  # "his" is Pieter's, named before it
    g = evidence_features(
        "To whom were Pieter Roos's design notebooks given?",
        [(notebooks, 0.7), (daughter, 0.5)],
        passages,
        flat,
        lead=0,
    )
    assert g.agent_displaced == 0.0


def test_a_possessive_doer_is_the_doer() -> None:
    azure = (
        "This contrasts with Microsoft’s partnership with OpenAI, which secured exclusivity and "
        "integrated ChatGPT growth into its Azure cloud platform."
    )
    # "Microsoft’s partnership ..., which ... integrated": Microsoft's doing, not another's.
    assert (
        role_swap("Into which cloud platform did Microsoft integrate ChatGPT growth?", azure) == 0.0
    )


@pytest.mark.parametrize(
    ("question", "named"),
    [
        ("In which year was Anthropic founded?", True),
        ("What percentage of Anthropic does Amazon own?", True),
        ("How many employees does Anthropic have?", True),
        ("How much has Google invested?", True),
        ("When was Anthropic founded?", False),  # "after the war" may answer a bare "when"
        ("How long did the trial last?", False),  # ... and "for decades" a "how long"
        ("Why is Amazon investing?", False),
    ],
)
def test_a_question_that_names_its_unit_is_told_apart(question: str, named: bool) -> None:
    assert unit_named(question) is named


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("It was rehoused in a fireproof strongroom in 1906.", False),  # a date, no figure
        ("The first engine entered service in March 1911.", False),
        ("It was founded in the late 1890s.", False),
        ("In 1906 it cost 400 pounds.", True),
        ("Amazon invested $8 billion in 2023.", True),
        ("The society had 1906 members.", True),  # a count that looks like a year
    ],
)
def test_a_year_that_dates_something_is_no_amount(text: str, amount: bool) -> None:
    from assistant.answer.features import has_answer_type

    assert has_answer_type("amount", text) is amount
    assert has_answer_type("count", text) is amount


@pytest.mark.parametrize(
    ("question", "swapped"),
    [
        # A passive names its doer after "by": the name before the verb is what is done to.
        ("Does Google own part of Anthropic?", 0.0),
        ("Does Meta own part of Anthropic?", 1.0),
    ],
)
def test_a_passive_is_read_for_the_doer_after_by(question: str, swapped: float) -> None:
    from assistant.answer.features import role_swap

    lead = "Anthropic remains partially owned by Google and works with Meta."
    assert role_swap(question, lead, [lead]) == swapped


@pytest.mark.parametrize(
    ("question", "kind", "unit"),
    [
        # The question asked after a clause that sets it up, or after chat openers.
        ("what about the new deal, when is it supposed to close?", "date", False),
        ("ok so how much did amazon invest", "amount", True),
        ("so, how many people live there?", "count", True),
        # A clause that tells when something happened asks nothing.
        ("What did Amazon do, when Microsoft signed with OpenAI?", None, False),
    ],
)
def test_the_question_asked_after_a_lead_in_gives_the_answer_type(
    question: str, kind: str | None, unit: bool
) -> None:
    assert answer_type(question) == kind
    assert unit_named(question) is unit


@pytest.mark.parametrize(
    ("question", "phrase"),
    [
        ('What does "hedging its bets" mean here?', "hedging its bets"),
        ("What is meant by the ultimate prize?", "ultimate prize"),
        ('What does the term "phage display" refer to?', "phage display"),
        ("What does Amazon mean?", None),  # one word: a name, not a phrase
        ("Explain why Amazon invested", None),  # a question, not a phrase
    ],
)
def test_the_phrase_a_question_asks_the_meaning_of(question: str, phrase: str | None) -> None:
    from assistant.answer.features import phrase_asked_about

    assert phrase_asked_about(question) == phrase


def test_the_options_a_question_offers_are_no_names_the_passages_must_all_hold() -> None:
    from assistant.answer.features import offered_options

    question = "Which of these does Amazon's AI trail: GPT-4, Llama or Gemini?"
    assert offered_options(question) == (
        "Which of these does Amazon's AI trail?",
        ["gpt-4", "llama", "gemini"],
    )
    passage = "Amazon's own AI models lag behind competitors such as GPT-4 and Gemini."
    chosen = evidence_features(question, [(passage, 0.6)], [passage], idf=lambda t: 1.0)
    assert chosen.entity_missing == 0.0  # Llama is one option, not a name asked about
    none_there = "Which of these does Amazon's AI trail: Llama or Mistral?"
    assert (
        evidence_features(none_there, [(passage, 0.6)], [passage], idf=lambda t: 1.0).entity_missing
        == 1.0
    )


def test_a_place_asked_for_by_its_kind_must_be_one_the_passages_locate() -> None:
    question = "In which city does Nordavia have its headquarters?"
    there = "Nordavia is a regional airline headquartered in Tromsø, Norway."
    assert (
        evidence_features(question, [(there, 0.7)], [there], idf=lambda t: 1.0).unit_missing == 0.0
    )
    # "in Nordavia" locates nothing: the question's own name is no answer.
    absent = "Nordavia flies twelve routes, and its pilots train in Nordavia's own school."
    features = evidence_features(question, [(absent, 0.7)], [absent], idf=lambda t: 1.0)
    assert features.unit_missing == 1.0


def test_spoken_words_for_a_part_and_for_stress_frame_the_question() -> None:
    weights = key_term_weights("What does the infrastructure bit actually consist of?", flat)
    assert "bit" not in weights
    assert weights["infrastructur"] > 0 and weights["consist"] == weights["actual"] == 0.0
    # "bit" as a word of its own ("a 64-bit chip") still counts.
    assert key_term_weights("Which chip has a bit width of 64?", flat)["bit"] > 0


@pytest.mark.parametrize(
    ("question", "text", "named"),
    [
        (
            "What are the chips called?",
            "It builds custom chips and data centers tailored to Anthropic's needs, and puts "
            "its AI into products like Alexa.",
            False,
        ),
        ("What are the chips called?", "Its Trainium chips are built in Austin.", True),
        ("What is the name of the severe form?", "A severe form known as Weil's disease.", True),
        ("What is the ballad about the wreck called?", "A ballad, The Loss of the Colwyn.", True),
        ("What was the name of Varga's mother?", "Varga studied under Lajos Kertész.", False),
        ("What's the name of their AI?", "It wants access to AI models like Claude.", True),
        # A name in lower case after a naming verb; "named after" gives none.
        ("What was the name of the template?", "A template known as a strickle board.", True),
        ("What was the mineral called?", "It was named after the locality.", False),
        # The thing with the words the question gives it, and a name of its own phrase.
        ("What was the faint companion called?", "The companion was named Tanaka's Star.", True),
        (
            "What's the name of Amazon's own in-house AI model?",
            "Amazon aims to align itself with one of the top AI models, Claude.",
            False,
        ),
        (
            "What's the name of Amazon's own in-house AI model?",
            "It invests in AI players like Anthropic while its own in-house AI models lag.",
            False,
        ),
    ],
)
def test_a_name_asked_for_must_be_given_beside_the_thing(
    question: str, text: str, named: bool
) -> None:
    from assistant.answer.features import names_thing

    assert answer_type(question) == "called" and unit_named(question)
    assert names_thing(question, text) == named


def test_a_population_is_a_count_of_the_people_living_there() -> None:
    assert answer_type("What is the population of Ornay?") == "count"
    assert answer_type("What is the population density of Ornay?") is None
    ferry = "A ferry has linked Kalvesk with the village of Ornay since 1936."
    counted = "Ornay had a population of 1,240 at the 2011 census."
    asked = "What is the population of Ornay?"
    assert evidence_features(asked, [(ferry, 0.6)], [ferry], flat).type_detached == 1.0
    assert evidence_features(asked, [(counted, 0.6)], [counted], flat).type_detached == 0.0


def test_instead_of_and_rather_than_answer_a_question_that_denies() -> None:
    from assistant.answer.negation import unmatched_negation

    lamps = "Cavers are told to use electric lamps instead of carbide lamps."
    assert not unmatched_negation("What kind of lamps should cavers not use?", [lamps])
    barge = "The bells were shipped downstream by barge rather than carried by road."
    assert not unmatched_negation("How were the bells sent away, if not by road?", [barge])
    # ... but a plain statement still does not answer a denial.
    assert unmatched_negation("What did Amazon not invest in?", ["Amazon invested in Anthropic."])


def test_the_word_a_question_measures_by_is_no_claim() -> None:
    from assistant.answer.negation import opposite_of_names, unmatched_opposite

    small = ["Pellan is a small island that covers an area of 9.2 square kilometres."]
    assert unmatched_opposite("How big is Pellan in area?", small) is None
    assert opposite_of_names("How big is Pellan in area?", small) is None
    assert unmatched_opposite("What is the biggest island?", ["Pellan is the smallest island."])


def test_a_compass_word_is_the_direction_it_is_made_from() -> None:
    from assistant.answer.negation import unmatched_opposite

    # "western" monarchs are those "from the west": the eastern ones are not their opposite.
    west = ["Eastern ones winter in Mexico; those from the west gather in California."]
    assert unmatched_opposite("Where do most western monarchs spend the winter?", west) is None
    east = ["Eastern ones winter in Mexico."]
    assert unmatched_opposite("Where do most western monarchs spend the winter?", east)


def test_a_year_naming_an_event_dates_nothing_and_places_and_roles_read_as_such() -> None:
    from assistant.answer.features import _placed, _someone_by_role, dated_years

    assert dated_years("What company came out of the 1938 merger?") == set()
    assert dated_years("What happened in March 1911?") == {"1911"}
    assert _placed("Light from the growing city of Porth Ferris brightened the sky.", set())
    assert _someone_by_role("A brakeman rides in each car and controls the speed.")


@pytest.mark.parametrize(
    ("question", "lead", "others", "word"),
    [
        # The passage says it did not happen: the question's deed is denied where it stands.
        ("What did the court agree to enforce?", "It declined to enforce it.", [], "enforce"),
        ("Why was the pit filled in?", "The pit was not filled in: it was kept.", [], "filled"),
        (
            "Why were many people killed in the fire?",
            "A fire started in the scenery store.",
            ["The building was gutted, but no one was killed."],
            "killed",
        ),
        # Said plainly somewhere among the candidates: it happened.
        (
            "Why were many people killed in the fire?",
            "A fire started in the scenery store.",
            ["No one was killed.", "Six people were killed in the fire of 1911."],
            None,
        ),
        # A denial in a relative clause denies it of some, not the deed: the regatta is rowed.
        (
            "On which river is the regatta rowed?",
            "The regatta is held on the River Wennel.",
            ["It admitted any oarsman who had never rowed for money."],
            None,
        ),
        (
            "How often were the chains replaced?",
            "It blamed a link that had not been replaced; chains are renewed every eight years.",
            [],
            None,
        ),
        # ... but one of the kind the question names, or one set off by a comma, denies it.
        (
            "Why had the worn link been replaced?",
            "An inquiry blamed a worn link that had not been replaced.",
            [],
            "replaced",
        ),
        (
            "How much did the council pay for the line?",
            "It was built by traders rather than by the council, which had refused to pay for it.",
            [],
            "pay",
        ),
        # Another form of the word is no deed denied: "cells which cannot be infected".
        ("What is required for an infection?", "Some cells cannot be infected at all.", [], None),
        # The question denies or asks yes or no: other rules read it.
        ("Why did the courts not enforce it?", "The courts declined to enforce it.", [], None),
        ("Was anyone killed in the fire?", "No one was killed.", [], None),
    ],
)  # fmt: skip
def test_a_deed_the_question_takes_as_done_that_the_lead_denies(
    question: str, lead: str, others: list[str], word: str | None
) -> None:
    from assistant.answer.negation import asserted_denied

    assert asserted_denied(question, lead, others) == word


@pytest.mark.parametrize(
    ("question", "sentences", "untold"),
    [
        # Any number is an amount, but a cost is told in money.
        ("How much did a call on TAT-1 cost?", ["TAT-1 began carrying calls in 1956."], True),
        ("How much did the cathedral cost to build?", ["It was built from 1675 to 1710."], True),
        ("What price did a cheese fetch at the market?", ["It was made on about 140 farms."], True),
        ("How much did a call cost?", ["A call cost £1 a minute."], False),
        ("How much did it cost to ride down?", ["The fare was a halfpenny down."], False),
        ("How much did the firm pay for it?", ["Sold to them for 14 million guilders."], False),
        ("How much did entry cost?", ["Entry was free."], False),
        # ... in a clause with the question's names that the sentences hold.
        (
            "What did Microsoft pay for that exclusivity?",
            ["Amazon has invested around $8 billion, but unlike Microsoft's deal it is open."],
            True,
        ),
        ("What did Meridian pay for the firm?", ["Meridian paid 14 million guilders."], False),
        # Not a sum of money: any amount will do.
        ("How much water did the tender hold?", ["It carried 4,000 gallons."], False),
    ],
)
def test_a_sum_of_money_asked_must_be_told_in_money(
    question: str, sentences: list[str], untold: bool
) -> None:
    from assistant.answer.features import money_untold

    assert money_untold(question, sentences) is untold


def test_a_trend_asked_the_other_way_round_is_turned_next_to_the_same_words() -> None:
    from assistant.answer.negation import turned_phrase

    fell = ["The population fell from about 600 in 1820 to fewer than 350 by 1851."]
    assert turned_phrase("Why did the population rise between 1820 and 1851?", fell, fell)
    assert turned_phrase("Why did the population fall between 1820 and 1851?", fell, fell) is None
    # "reduced" names what was done about a trend, not the trend turned round.
    rose = ["The incidence of empyema increased 1.9-fold between 1996 and 2008."]
    assert turned_phrase("How has the incidence of empyema been reduced?", rose, rose) is None


@pytest.mark.parametrize(
    ("question", "lead", "turned"),
    [
        (
            "Which enzyme made by Staphylococcus aureus repairs the beta-lactam ring?",
            "strains that produce penicillinase, an enzyme that breaks the beta-lactam ring",
            "repairs",
        ),
        ("To whom did the Trust sell the mill in 1976?", "The Trust bought the mill in 1976.",
         "sell"),
        ("How many of the warships were saved on the Isles of Scilly?",
         "After the loss of four warships on the Isles of Scilly, Parliament acted.", "saved"),
        ("How much did the dodo weigh according to older estimates?",
         "according to recent estimates, it weighed 10 kilograms", "older"),
        # A comparative before its noun is an attribute of that noun.
        ("By the 1930s, crossing with which smaller horses threatened the breed?",
         "the breed was threatened by crossing with larger horses", "smaller"),
        # Said the question's way, or the reverse beside other words only.
        ("To whom did the Trust sell the mill?", "The Trust sold the mill to the county.", None),
        ("Which larger horses were crossed with it?", "crossing with larger horses", None),
        ("Who bought the painting?", "She sold her house and bought the painting.", None),
        # The same event told from the other side: a sale is a purchase.
        ("Who bought the mill from the Trust?", "The Trust sold the mill to the council.", None),
        ("What did the council buy from the Trust?", "The Trust sold the mill to the council.",
         None),
        # ... but what is asked for comes first: "status" is no doer.
        ("What status did the act of 2009 take away from Orrish?",
         "An act passed in 2009 gave Orrish official status.", "take"),
    ],
)  # fmt: skip
def test_a_deed_or_state_asked_the_other_way_round_is_turned(
    question: str, lead: str, turned: str | None
) -> None:
    from assistant.answer.negation import turned_phrase

    assert turned_phrase(question, [lead], [lead]) == turned


@pytest.mark.parametrize(
    ("question", "lead", "swapped"),
    [
        (
            "What did the fire destroy on Thursday?",
            "On Tuesday the fire destroyed St Paul's.",
            True,
        ),
        (
            "How long did a bell of three tonnes take to cool?",
            "A bell of one tonne took days.",
            True,
        ),
        (
            "What did a twentieth-century collector record?",
            "A nineteenth-century collector ...",
            True,
        ),
        ("How many plates did she expose over four winters?", "400 plates over nine winters", True),
        # A superlative is a value too; one that says the same is the question's.
        (
            "Which was the smallest windmill in the county?",
            "At its completion it was the tallest windmill in the county.",
            True,
        ),
        ("What are the biggest swarms called?", "The largest swarms are called plagues.", False),
        # The question's own value is there, or no word ties the other value to it.
        (
            "How long did a bell of three tonnes take to cool?",
            "Three tonnes took five days.",
            False,
        ),
        ("How long did a bell of three tonnes take to cool?", "It took two days to cool.", False),
        # "first" is often left implied; a letter beside a digit makes a name, not a value.
        ("How did Soto score his first goal?", "Paiva added a third goal later.", False),
        ("What is the fatality rate of H7N9?", "The A/H1N1 virus is fatal.", False),
    ],
)
def test_a_value_the_question_gives_that_the_lead_gives_otherwise(
    question: str, lead: str, swapped: bool
) -> None:
    from assistant.answer.features import value_swapped

    assert value_swapped(question, lead) is swapped


def test_refusing_and_declining_to_do_deny_the_deed() -> None:
    from assistant.answer.negation import near_negation, question_negation

    assert near_negation("The council had refused to pay for it.", "pay")
    assert "consu" in question_negation("Who did Field refuse to consult about the sea floor?")


@pytest.mark.parametrize(
    ("question", "lead", "word"),
    [
        ("What status did the 2009 act take from Orrish?", "A 2009 act gave Orrish it.", "take"),
        ("What did the most expensive seats cost?", "The cheapest seats cost 1p.", "expensive"),
        ("Why did the spelling suit the language well?", "It suited the language poorly.", "well"),
        ("What did the most expensive seats cost?", "The most expensive seats cost a pound.", None),
    ],
)  # fmt: skip
def test_everyday_opposites_turn_a_question_next_to_the_same_words(
    question: str, lead: str, word: str | None
) -> None:
    from assistant.answer.negation import turned_phrase

    assert turned_phrase(question, [lead], [lead]) == word


def test_a_name_given_beside_its_thing_answers_whatever_the_probability() -> None:
    from assistant.answer.evidence import RefusalModel
    from assistant.answer.features import EvidenceFeatures

    model = RefusalModel({"best_cosine": 10.0}, -5.0, 0.5)
    unsure = EvidenceFeatures(0.3, 0.3, 0.5, 0.5, 1.0, 0.0, 0.0)
    assert not model.answerable(unsure)
    named = EvidenceFeatures(0.3, 0.3, 0.5, 0.5, 1.0, 0.0, 0.0, name_given=1.0)
    assert model.answerable(named)
    # ... but a veto still refuses.
    turned = EvidenceFeatures(0.3, 0.3, 0.5, 0.5, 1.0, 0.0, 0.0, name_given=1.0, year_displaced=1.0)
    assert not model.answerable(turned)


def test_the_name_given_to_a_thing_is_a_name_asked_for() -> None:
    from assistant.answer.features import answer_type, evidence_features

    question = "What was the name of the first shaft?"
    lead = "The brothers sank the first shaft, the King's Shaft, in 1783."
    other = "The mine lies beneath the market town of Hesketh."
    ev = evidence_features(
        question, [(lead, 0.4), (other, 0.3)], [f"{other} {lead}"], lambda t: 1.0, lead=0
    )
    assert answer_type(question) == "called" and ev.name_given == 1.0
    ev = evidence_features(
        question, [(lead, 0.4), (other, 0.3)], [f"{other} {lead}"], lambda t: 1.0, lead=1
    )
    assert ev.name_given == 0.0
    assert answer_type("What name did miners give to methane?") == "called"


def test_a_why_question_without_a_name_is_tied_to_its_clause_by_its_other_words() -> None:
    from assistant.answer.negation import denied_premise

    rebuilt = ["The city decided to rebuild within the surviving outer walls."]
    assert denied_premise("Why did the city decide not to rebuild within the walls?", rebuilt)
    # Another subject's deed denies nothing the question asks.
    psalter = ["A fire destroyed sixty manuscripts, but the psalter survived."]
    assert not denied_premise("Why was the psalter not destroyed?", psalter)
    # The passage gives the denial with its reason.
    kept = ["The city decided not to rebuild within the walls, as money was short."]
    assert not denied_premise("Why did the city decide not to rebuild within the walls?", kept)


def test_an_institution_asked_for_by_its_kind_must_be_named_with_it() -> None:
    from assistant.answer.features import institution_untold

    joined = ["The physicist William Thomson joined the enterprise in 1858."]
    assert institution_untold("Which university employed William Thomson?", joined)
    taught = ["He taught at the University of Glasgow for fifty years."]
    assert not institution_untold("Which university employed William Thomson?", taught)
    # Prizes and medals answer one another: no word is needed.
    medal = ["She was awarded the Davy Medal in 1947."]
    assert not institution_untold("Which prize was Varga given in 1947?", medal)


def test_a_thing_of_its_makers_own_is_named_only_as_such() -> None:
    from assistant.answer.features import names_thing

    lagging = "Its own in-house AI models lag behind competitors such as GPT-4, Claude, and Gemini."
    assert not names_thing("What is Amazon's in-house model called?", lagging)
    aligning = "Amazon aims to align itself with one of the top AI models, Claude."
    assert not names_thing("What is Amazon's own model called?", aligning)
    assert names_thing("What is Acme's own engine called?", "Acme built its own engine, Vortex.")
    # Without "own", a model beside its name is named.
    assert names_thing("What is the model called?", aligning)


def test_a_purchase_taken_as_done_needs_one_told() -> None:
    from assistant.answer.features import purchase_untold

    invested = ["Currently, Amazon has already invested around $8 billion in Anthropic."]
    assert purchase_untold("Why did Amazon buy Anthropic outright?", invested)
    assert purchase_untold("Now that Amazon owns a majority of Anthropic, who runs it?", invested)
    # A majority of voters, and a purchase asked about, are no purchase taken as done.
    assert not purchase_untold("How large a majority did the party win?", invested)
    assert not purchase_untold("Which company acquired Nordavia in 2005?", invested)
    assert purchase_untold("How did Meta's acquisition of Anthropic change things?", invested)
    # Money put into a company is not its purchase, and a purchase told is told.
    assert not purchase_untold("Why did Google buy into Anthropic?", invested)
    assert not purchase_untold("Did Amazon buy a stake in Anthropic?", invested)
    sold = ["In 1868 the mill was sold to the Hartley family for £900."]
    assert not purchase_untold("Who bought the mill in 1868?", sold)


def test_who_reported_needs_a_reporter_not_reportedly() -> None:
    from assistant.answer.features import reporter_untold

    rumour = ["Amazon is reportedly considering a new multi-billion dollar investment."]
    assert reporter_untold("Which outlet first reported Amazon's plan?", rumour)
    assert reporter_untold("And who broke the news?", rumour)
    named = ["The plan was first reported by the Carbridge Gazette on 3 May."]
    assert not reporter_untold("Which outlet first reported Amazon's plan?", named)
    # A publication where a work appeared is not a report's source.
    printed = ["The first rules appeared in a school bulletin in 1892."]
    assert not reporter_untold("In which publication did the first rules appear?", printed)
    # "reported" as a word of the thing asked about asks for no reporter.
    assert not reporter_untold("What precedes most of the reported cases?", rumour)
    # A company reporting its own figures tells who reported them.
    results = ["Acme reported a loss of $2 million for the year."]
    assert not reporter_untold("Which company reported a loss?", results)


@pytest.mark.parametrize(
    ("question", "text", "kind", "told"),
    [
        ("In what year did methicillin come into use?", "methicillin, introduced in 1959", "date",
         {"year"}),
        ("What colour was the new sixpence?", "added a sixpence value in green", None, {"colour"}),
        ("At what height did the object burst?", "a burst five to ten kilometres up", "amount",
         {"height"}),
        # No value of the kind, or the noun names what a later part of the question asks.
        ("In what year did it open?", "It opened late.", "date", set()),
        ("Who first named CHIKV, and in which year?", "In 2007 CHIKV was reported.", "date",
         set()),
        ("What percentage of rats develop the disease?", "10 percent of patients develop it",
         "percent", set()),
    ],
)  # fmt: skip
def test_the_noun_naming_the_answers_kind_is_said_by_a_value_of_that_kind(
    question: str, text: str, kind: str | None, told: set[str]
) -> None:
    """ "In what year did methicillin come into use?" is answered by "introduced in 1959"
    though no sentence says "year": the noun is no term the sentence lacks."""
    from assistant.answer.features import kind_nouns_told

    assert kind_nouns_told(question, text, kind) == told


def test_how_often_asks_a_frequency_that_words_give_without_a_figure() -> None:
    from assistant.answer.features import answer_type, has_answer_type

    assert answer_type("How often does the Study Circle's journal appear?") == "frequency"
    assert has_answer_type("frequency", "The Circle publishes a quarterly journal.")
    assert has_answer_type("frequency", "It meets twice a year.")
    assert not has_answer_type("frequency", "The Circle was founded in 1958.")


def test_a_word_for_a_places_people_is_that_place_named() -> None:
    """ "What were Londoners able to do?" asks about the passages' "people in London"."""
    from assistant.answer.features import evidence_features

    sentence = "The skies glowed so brightly that people in London could read outdoors."
    asked = evidence_features(
        "What were Londoners able to do outside at midnight?",
        [(sentence, 0.6)],
        [sentence],
        idf=lambda t: 1.0,
    )
    assert asked.entity_missing == 0.0
    other = evidence_features(
        "What were Berliners able to do outside at midnight?",
        [(sentence, 0.6)],
        [sentence],
        idf=lambda t: 1.0,
    )
    assert other.entity_missing == 1.0


def test_a_premise_of_exclusivity_is_turned_by_a_non_exclusive_stake() -> None:
    from assistant.answer.negation import opposite_of_names

    told = ["Unlike Microsoft's exclusive deal, Amazon's stake in Anthropic is non-exclusive."]
    asked = "Since Anthropic signed an exclusivity deal with Amazon, whom can it not work with?"
    assert opposite_of_names(asked, told) == "exclusivity"
    assert opposite_of_names("What did Microsoft's exclusivity give it?", told) is None


def test_a_country_named_as_the_subject_answers_which_country() -> None:
    """ "Which country is the biggest producer?" is answered by "China is the largest
    producer", though no preposition places anything in China."""
    from assistant.answer.features import evidence_features

    told = "China is the largest producer, accounting for more than half of world output."
    asked = "Which country is the biggest producer of indium?"
    found = evidence_features(asked, [(told, 0.7)], [told], idf=lambda t: 1.0)
    assert found.type_missing == 0.0 and found.unit_missing == 0.0
    other = "Most indium is recovered as a by-product of zinc refining."
    missing = evidence_features(asked, [(other, 0.7)], [other], idf=lambda t: 1.0)
    assert missing.unit_missing == 1.0


@pytest.mark.parametrize(
    ("question", "text", "told"),
    [
        ("How long does a guided tour last?", "Guided tours take about ninety minutes.",
         {"long", "last"}),
        ("How far from the centre was Vanavara?", "Vanavara, about 65 kilometres south", {"far"}),
        ("How large were the coupled wheels?", "The wheels were 6 feet 6 inches across.",
         {"larg"}),
        # No figure, no measure said.
        ("How long does a guided tour last?", "Guided tours include the chapel.", set()),
    ],
)  # fmt: skip
def test_the_measure_a_question_asks_by_is_said_by_a_figure(
    question: str, text: str, told: set[str]
) -> None:
    from assistant.answer.features import answer_type, kind_nouns_told

    assert kind_nouns_told(question, text, answer_type(question)) == told


def test_story_adverbs_and_asking_a_meaning_are_no_terms_the_answer_must_hold() -> None:
    from assistant.answer.features import key_term_weights

    def flat(term: str) -> float:
        return 1.0

    assert set(key_term_weights("Which publisher finally accepted the novel?", flat)) == {
        "publish", "accept", "novel"
    }  # fmt: skip
    assert set(key_term_weights("What is the meaning of walghvogel?", flat)) == {"walghvogel"}
    assert "mean" in key_term_weights("What did the word mean to sailors?", flat)


@pytest.mark.parametrize(
    ("question", "text"),
    [
        ("How old was the cabin boy who survived the wreck?", "two more, a mate and a cabin boy"),
        ("How long do krill eggs take to hatch?", "eggs sink to depths of 2,000 metres"),
        ("How long is the panda's gestation?", "Females give birth to one to four cubs."),
    ],
)
def test_a_figure_in_another_unit_does_not_say_the_measure_asked(question: str, text: str) -> None:
    from assistant.answer.features import answer_type, kind_nouns_told

    assert kind_nouns_told(question, text, answer_type(question)) == set()


def test_a_name_a_follow_up_carries_is_no_place_for_where_it_is() -> None:
    """ "ok then where is it headquartered?" after a question on Anthropic: "stake in
    Anthropic" locates nothing."""
    from assistant.answer.features import evidence_features

    told = "Amazon's stake in Anthropic is non-exclusive."
    asked = "ok then where is it headquartered?"
    carried = evidence_features(
        asked, [(told, 0.5)], [told], idf=lambda t: 1.0, query=asked + " (Anthropic)"
    )
    assert carried.type_missing == 1.0 and carried.unit_missing == 1.0
    based = "Anthropic is headquartered in San Francisco."
    found = evidence_features(
        asked, [(based, 0.5)], [based], idf=lambda t: 1.0, query=asked + " (Anthropic)"
    )
    assert found.type_missing == 0.0


def test_a_word_the_passage_denies_of_the_questions_names_turns_it() -> None:
    from assistant.answer.negation import opposite_of_names

    told = ["Anthropic's partnerships mean Amazon's position is not exclusive."]
    asked = "Since Anthropic signed an exclusivity agreement with Amazon, whom can it drop?"
    assert opposite_of_names(asked, told) == "exclusivity"
    # The question denies it too, or asks yes or no: the passage answers it.
    assert opposite_of_names("Why is Amazon's stake in Anthropic not exclusive?", told) is None
    assert opposite_of_names("Is Amazon's stake in Anthropic exclusive?", told) is None


def test_a_deed_told_without_its_doer_does_not_answer_who_did_it() -> None:
    from assistant.answer.features import doer_untold

    # The lead tells the deed in the passive, or by a participle and when: not by whom.
    assert doer_untold(
        "Who built the mill?", "The mill, a tower 20 metres high built in 1802, still turns."
    )
    assert doer_untold("Who wrote the charter?", "The charter was written in 1284 at Lund.")
    assert doer_untold(
        "Who first described the mineral?", "It was first described in 1921 from Kels."
    )
    # Told with its doer, in the lead or in another answering sentence, or in the active voice.
    assert not doer_untold("Who built the mill?", "The mill was built in 1802 by Tom Reed.")
    assert not doer_untold(
        "Who built the mill?", "The mill was built in 1802.", ["It was built by the Reed family."]
    )
    assert not doer_untold("Who founded the club?", "Ann Lee founded the club in 1901.")
    assert not doer_untold(
        "Who played before the orchestra?", "It replaced the bandsmen who had played until then."
    )
    # Not a deed: "Who was ...?", "Who owns ...?"
    assert not doer_untold("Who was the architect?", "The hall was finished in 1890.")
    assert not doer_untold("Who owns the mill?", "The mill was owned in 1802 by a bank.")


@pytest.mark.parametrize(
    "question",
    ["How much leverage does Amazon have?", "How much control will Amazon get over Anthropic?"],
)
def test_how_much_of_a_degree_asks_no_amount(question: str) -> None:
    from assistant.answer.features import answer_type, unit_named

    # "Amazon holds less leverage" answers it: a degree is said in words, not figures.
    assert answer_type(question) is None
    assert not unit_named(question)
    assert answer_type("How much money does Amazon have?") == "amount"


@pytest.mark.parametrize(
    ("question", "sentences", "unexplained"),
    [
        # A refusal, a stop or a deed not done that the passage never tells in any way.
        (
            "Why did the council refuse to buy the pump room?",
            ["In 1933 the town council bought the pump room."],
            True,
        ),
        ("Why did the army stop using the tower?", ["The army began to use the tower."], True),
        (
            "What subjects were not taught to the party?",
            ["They were taught Latin and maths."],
            True,
        ),
        ("Which firm has not yet won investors over?", ["Google has yet to win them."], False),
        # Told: a refusal, a reason, a deed kept from happening.
        (
            "Why did the council refuse to buy the pump room?",
            ["The council refused, as the baths lost money."],
            False,
        ),
        ("Why was the psalter not destroyed?", ["The psalter survived the fire."], False),
        # What a thing is not, in general, is told in many ways; a bare "Why not?" asks nothing.
        ("Why is RT-PCR not the best method?", ["PCR inhibition may hinder it."], False),
        ("Why not?", ["Amazon's stake is non-exclusive."], False),
    ],
)
def test_a_why_question_about_a_deed_not_done_needs_a_passage_that_tells_it(
    question: str, sentences: list[str], unexplained: bool
) -> None:
    from assistant.answer.negation import unexplained_denial

    assert unexplained_denial(question, sentences) is unexplained


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("When did Amazon invest?", "date"),
        ("When, exactly, did it open?", "date"),
        ("When was it founded, and by whom?", "date"),
        # A "when" that opens a clause before the question asks no date.
        ("When the piece sets the two deals side by side, what is the key difference?", None),
        ("When Amazon invested, did Google object?", None),
    ],
)
def test_a_when_clause_before_the_question_asks_no_date(question: str, kind: str | None) -> None:
    from assistant.answer.features import answer_type

    assert answer_type(question) == kind


def test_a_weight_asked_needs_a_sentence_that_weighs_something() -> None:
    from assistant.answer.features import attribute_untold

    # "How much" of a weight is not told by a length, however many numbers a sentence holds.
    spans = ["Its wings span about 9 to 10 centimetres."]
    assert attribute_untold("How much does a migrating monarch weigh?", spans)
    assert not attribute_untold("How much does it weigh?", ["A figure weighs about 150 kg."])
    assert not attribute_untold("How long are its wings?", spans)  # only weights are read


@pytest.mark.parametrize(
    ("question", "sentences", "untold"),
    [
        ("Who designed the museum?", ["A museum was built over Pit 1 in 1979."], True),
        ("Who was the captain of the Margery Blythe?", ["The Margery Blythe struck it."], True),
        ("Who won the first climb?", ["Cyclists race up the hairpins each July."], True),
        # Told by the role, its deed or a plain synonym.
        ("Who designed the museum?", ["It was designed by Ito."], False),
        ("Who founded the Prognosticator?", ["It was started in 1769 by Thomas Gedge."], False),
        ("Who directed the excavation?", ["Archaeologists led by Yuan began it."], False),
        # Not a role: other rules read it.
        ("Who reached the summit?", ["Nobody is named."], False),
    ],
)
def test_a_role_or_deed_asked_of_who_needs_a_sentence_that_tells_it(
    question: str, sentences: list[str], untold: bool
) -> None:
    from assistant.answer.features import role_untold

    assert role_untold(question, sentences) is untold


@pytest.mark.parametrize(
    ("question", "sentences", "untold"),
    [
        ("How old was Nesta when her father drowned?", ["Her father drowned in 1881."], True),
        ("At what rate of interest did Fust lend?", ["Fust lent him 800 guilders."], True),
        ("What is the title of Lind's book?", ["Lind found the notebook in 1962."], True),
        # An age told as one, or as a span of life; a title told as such.
        ("How old are axolotls when they breed?", ["They mature at eighteen months."], False),
        ("How old was Crane?", ["Crane, aged 70, resigned."], False),
        ("What is the title of Lind's book?", ["Her book, entitled Ciphers, appeared."], False),
    ],
)
def test_an_age_a_rate_or_a_title_asked_needs_a_sentence_that_gives_one(
    question: str, sentences: list[str], untold: bool
) -> None:
    from assistant.answer.features import attribute_untold

    assert attribute_untold(question, sentences) is untold


def test_everyday_opposites_of_growth_state_and_strength_turn_a_question() -> None:
    from assistant.answer.negation import unmatched_opposite

    expanding = ["Hubble showed in the 1920s that the universe is expanding."]
    assert unmatched_opposite("Who showed that the universe is contracting?", expanding)
    assert unmatched_opposite("When did Vesuvius become extinct?", ["Vesuvius is active."])
    # Both sides named, or the question's own word used: no turn.
    assert unmatched_opposite("Is it expanding or contracting?", expanding) is None
    assert unmatched_opposite("Who showed that the universe is expanding?", expanding) is None


def test_wordnet_antonyms_turn_a_phrase_the_lists_do_not_hold() -> None:
    from assistant.answer.negation import ASKED_OPPOSITE, turned_phrase, wordnet_opposites

    lead = ["The guild met in an indoor market beside the river each Friday."]
    asked = "Which outdoor market beside the river did the guild use?"
    assert "outdoor" not in ASKED_OPPOSITE and "indoor" in wordnet_opposites()["outdoor"]
    assert turned_phrase(asked, lead, lead) == "outdoor"
    assert turned_phrase("Which indoor market beside the river did it use?", lead, lead) is None
    # Only as written: "stop" is not turned by "startup", which begins with "start".
    startup = ["Amazon is investing in the AI startup Anthropic."]
    assert turned_phrase("What would stop Anthropic from leaving?", startup, startup) is None
    # Words of change and comparisons stay out, as in the lists.
    assert "rose" not in wordnet_opposites() and "better" not in wordnet_opposites()
