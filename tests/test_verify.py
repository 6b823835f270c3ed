"""The answer verifier's rules, its span finding and its citations (fake checker, no model)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pytest
from fakes import SEED_TEXT, seed_paragraphs

from assistant.answer.verify import (
    Verification,
    candidate_spans,
    causal_reason,
    certainty_reason,
    claim_coverage,
    clause_reason,
    comparison_reason,
    coverage,
    denied_name_reason,
    framing_hedge,
    generalisation_reason,
    hedge_reason,
    names_missing,
    negation_reason,
    number_swap_reason,
    opposite_reason,
    overstatement_reason,
    quantities,
    quantities_missing,
    resolution_reason,
    respectively_reason,
    role_reason,
    rule_reason,
    sentence_names,
    split_answer,
    stance_reason,
    time_unit_reason,
    verify_answer,
    year_swap_reason,
)


class FakeScorer:
    """Accepts every pair except those whose sentence holds a planted word."""

    threshold = 0.5

    def __init__(self, reject: Sequence[str] = ()) -> None:
        self.reject = [w.lower() for w in reject]
        self.calls: list[tuple[str, str]] = []

    def scores(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        self.calls.extend(pairs)
        return [0.1 if any(w in s.lower() for w in self.reject) else 0.9 for _, s in pairs]


# --- numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sentence",
    [
        "Amazon has invested $8 billion.",
        "Amazon has invested 8 billion dollars.",
        "Amazon has invested eight billion dollars.",
        "Amazon has invested US$8bn.",
        "Amazon has invested 8,000,000,000 dollars.",
    ],
)
def test_amounts_written_any_way_match(sentence: str) -> None:
    assert quantities_missing(sentence, "Amazon has already invested around $8 billion.") == []


@pytest.mark.parametrize(
    ("sentence", "span"),
    [
        ("The dose was 0.04 mg/kg.", "Mice got 40 micrograms/kg."),
        ("The dose was 40 µg/kg.", "Mice got 0.04 mg/kg."),
        ("Cases fell by 45 per cent.", "Cases fell by 45%."),
        ("Cases fell by 45 percent.", "Cases fell by 45%."),
        ("It took twenty-five days.", "It took 25 days."),
        ("It took 1,200 days.", "It took 1200 days."),
    ],
)
def test_number_and_unit_formats_match(sentence: str, span: str) -> None:
    assert quantities_missing(sentence, span) == []


@pytest.mark.parametrize(
    ("sentence", "missing"),
    [
        ("Amazon has invested $10 billion.", "$10 billion"),
        ("Amazon has invested $8 million.", "$8 million"),
        ("Amazon has invested four billion dollars.", "four billion dollars"),
        ("The dose was 0.4 mg/kg.", "0.4 mg/kg"),
        ("In 2021 Amazon invested $8 billion.", "2021"),
    ],
)
def test_changed_numbers_are_found(sentence: str, missing: str) -> None:
    span = "In 2023 Amazon invested $8 billion; the dose was 40 micrograms/kg."
    assert [q.text for q in quantities_missing(sentence, span)] == [missing]


def test_names_with_digits_are_not_numbers_and_lone_one_is_not() -> None:
    assert quantities("COVID-19, GPT-4 and 2019-nCoV are one of many names") == ()
    assert [q.value for q in quantities("a 14-day quarantine, 5-10 days")] == [14, 5, 10]


def test_percent_does_not_match_an_amount_of_another_kind() -> None:
    assert [q.text for q in quantities_missing("It holds 8%.", "It invested $8 billion.")] == ["8%"]


# --- names --------------------------------------------------------------------------------


def test_swapped_name_is_found_and_possessives_are_ignored() -> None:
    names = frozenset({"google", "amazon", "anthropic"})
    span = "Anthropic remains partially owned by Google."
    assert names_missing("Anthropic remains partially owned by Microsoft.", span, names) == [
        "Microsoft"
    ]
    assert names_missing("Google's stake in Anthropic remains.", span, names) == []
    # An opening word is a name when the passages use it as one.
    assert names_missing("Amazon owns part of Anthropic.", span, names) == ["Amazon"]
    assert names_missing("Researchers say Google owns part.", span, names) == []


def test_codes_are_names() -> None:
    assert "GPT-5" in sentence_names("Amazon's models lag behind GPT-5.")
    assert names_missing("Models lag behind GPT-5.", "Models lag behind GPT-4.") == ["GPT-5"]


# --- negation and hedges ------------------------------------------------------------------


def test_negation_flips_are_found_both_ways() -> None:
    span = "Amazon’s stake in Anthropic is non-exclusive, and there is no guarantee of loyalty."
    assert negation_reason("Amazon's stake in Anthropic is exclusive.", span) is not None
    assert negation_reason("Anthropic's loyalty is guaranteed.", span) is not None
    assert negation_reason("Amazon's stake in Anthropic is not exclusive.", span) is None
    assert negation_reason("Nothing guarantees Anthropic's loyalty.", span) is None
    plain = "Anthropic remains partially owned by Google."
    assert negation_reason("Anthropic is not partially owned by Google.", plain) is not None
    assert negation_reason("Google partially owns Anthropic.", plain) is None


def test_dropped_hedge_is_found_and_a_kept_hedge_passes() -> None:
    span = "Amazon is reportedly considering a new multi-billion dollar investment in Anthropic."
    assert hedge_reason("Amazon has made a new multi-billion dollar investment in Anthropic.", span)
    assert hedge_reason("Amazon may make a new multi-billion dollar investment.", span) is None
    assert hedge_reason("Amazon is weighing a new multi-billion dollar investment.", span) is None
    # A hedge elsewhere in the span does not govern what the sentence says.
    assert hedge_reason("Amazon is an investor in Anthropic.", span + " Amazon backs it.") is None


def test_opposites_flip_a_claim_without_a_negation_word() -> None:
    span = "Amazon holds less leverage, and building in-house is costly and challenging."
    assert opposite_reason("Amazon holds more leverage.", span) == (
        "says 'more' where the passage says 'less'"
    )
    assert opposite_reason("Building in-house is cheap.", span) is not None
    # A word the span itself uses is not flipped, even if its opposite is there too.
    assert opposite_reason("Amazon holds less leverage than before.", span) is None


def test_a_hedge_over_one_word_still_counts_and_should_be_considered_is_no_hedge() -> None:
    span = "The transmissibility may be higher than that of MERS."
    assert hedge_reason("The transmissibility is certainly higher than that of MERS.", span)
    assert hedge_reason("It occurred in January and should be considered.", span) is None
    assert hedge_reason(
        "Under-reporting was certain to have occurred early and should be considered.",
        "Under-reporting was likely to have occurred early and should be considered.",
    )


def test_rule_reason_is_one_short_phrase_naming_what_is_wrong() -> None:
    span = "Currently, Amazon has already invested around $8 billion in Anthropic."
    assert (
        rule_reason("Amazon has invested around $10 billion in Anthropic.", span)
        == "amount $10 billion not in the passage"
    )
    assert rule_reason("Amazon has invested around 8 billion dollars in Anthropic.", span) is None
    assert rule_reason("A quotation is never flipped: " + span, span) is not None  # names differ


# --- Session 8 rules: slots, number neighbours, certainty, clauses, framing ----------------

META = (
    "This situation highlights a broader strategic divide. Meta, for example, is heavily "
    "investing in building AI models in-house, aiming to control the entire technology stack."
)
OWNED = (
    "Anthropic remains partially owned by Google and collaborates with other tech giants like "
    "Meta, maintaining its independence."
)


def test_a_name_moved_into_another_names_slot_is_found() -> None:
    # Every word is in the span; the subject of "is heavily investing" is Meta there.
    assert role_reason("Amazon is heavily investing in building AI models.", META) == (
        "puts Amazon where the passage has Meta"
    )
    # An opening word the passages never use mid-sentence is a name when it is a subject.
    assert role_reason("Google is heavily investing in building AI models.", META) == (
        "puts Google where the passage has Meta"
    )
    # The object of "owned by" is Google; Meta further on is another company.
    assert role_reason("Anthropic remains partially owned by Meta.", OWNED) == (
        "puts Meta where the passage has Google"
    )
    assert rule_reason("Anthropic remains partially owned by Meta.", OWNED) == (
        "puts Meta where the passage has Google in the passage"
    )


def test_names_in_their_own_slots_and_reworded_sentences_pass_the_slot_rule() -> None:
    assert role_reason("Meta is heavily investing in building AI models.", META) is None
    assert role_reason("Anthropic is partly owned by Google.", OWNED) is None
    assert role_reason("Google owns part of Anthropic.", OWNED) is None  # no slot shared
    # Coordinated verbs share the clause's subject: Anthropic collaborates, not Google.
    assert role_reason("Anthropic collaborates with other tech giants like Meta.", OWNED) is None
    assert role_reason("Anthropic collaborates with other tech giants like Google.", OWNED)
    # Two names of a list each fill the slot: "owned by Google and Meta".
    assert role_reason("Anthropic is owned by Meta.", "It is owned by Google and Meta.") is None
    # A common word opening the sentence is no name ("Large" against "Large-scale").
    span = "Large-scale infectious disease outbreaks are continuing in many regions."
    assert role_reason("Large infectious disease outbreaks are continuing.", span) is None
    # An aside in brackets is no slot filler.
    span = "RNA was treated with DNase (Ambion, Canada) to avoid amplification of DNA."
    assert role_reason("RNA was treated with DNase to avoid amplification of DNA.", span) is None


def test_a_name_opening_a_relative_clause_after_the_slot_keeps_its_role() -> None:
    # SmolLM2-135M's answer to "Name the other tech giants Anthropic is tied to." (the seed
    # eval with --llm local): "Anthropic is tied to" says what the span's "Anthropic ...
    # collaborates with other tech giants" says; Anthropic is not the giant Meta is.
    sentence = "The other tech giants Anthropic is tied to is Google."
    assert role_reason(sentence, OWNED) is None
    assert rule_reason(sentence, OWNED) is None
    v = check(sentence)  # the seed article's paragraphs, a checker that accepts it
    assert v.dropped == ()
    assert "other tech giants like Meta" in v.citations[0].quote
    assert SEED_TEXT[v.citations[0].start : v.citations[0].end] == v.citations[0].quote
    # A name the span's clause does not hold is still put in Meta's place.
    assert role_reason("The other tech giants Amazon is tied to is Google.", OWNED) == (
        "puts Amazon where the passage has Meta"
    )
    # Without a verb of its own the name fills the slot: a swapped role is still found.
    assert role_reason("Google is partially owned by Anthropic.", OWNED) == (
        "puts Anthropic where the passage has Google"
    )


def test_numbers_moved_to_another_numbers_noun_are_found() -> None:
    span = "Its symptoms include fever (98%), cough (76%), and diarrhea (3%)."
    assert number_swap_reason("Patients had fever in 3% and cough in 76%.", span) == (
        "puts 3 next to 'fever', which the passage puts next to 98"
    )
    assert number_swap_reason("Patients had fever in 98% and diarrhea in 3%.", span) is None
    counts = "The incidence is 830 cases. Additionally, twenty-six deaths have been linked."
    assert number_swap_reason("There had been 830 deaths.", counts) == (
        "puts 830 next to 'deaths', which the passage puts next to 26"
    )
    # A noun the span puts next to no number is a rewording, not a swap.
    assert number_swap_reason("There had been 830 infections.", counts) is None
    # Years say when: "January 2020" is no count of "cumulative" anything.
    assert (
        number_swap_reason(
            "By 24 January 2020 China had 830 cumulative cases.",
            "As of 24 January 2020, the cumulative incidence in China is 830 cases.",
        )
        is None
    )


def test_certainty_the_span_does_not_state_is_found() -> None:
    span = "Transmission through the eye may be possible but is not established."
    assert certainty_reason("Transmission through the eye has been proved.", span) == (
        "adds 'proved', which the passage does not say"
    )
    assert certainty_reason("Virus shedding always lasts more than 3 weeks.", "It lasts 3 weeks.")
    assert certainty_reason("Case ascertainment was certainly better.", "It may be better.")
    # Negated certainty claims less; the span's own word passes; "certain X" means "some X".
    no_guarantee = "There is no guarantee that Anthropic will remain loyal."
    assert certainty_reason("Nothing guarantees that Anthropic stays loyal.", no_guarantee) is None
    assert certainty_reason("Its loyalty is not guaranteed.", no_guarantee) is None
    assert (
        certainty_reason("Investors prefer proven players.", "It invests in proven players.")
        is None
    )
    assert (
        certainty_reason("It is closest to certain bat viruses.", "closest to bat viruses") is None
    )


def test_a_joined_clause_the_span_does_not_hold_is_found() -> None:
    span = "Currently, Amazon has already invested around $8 billion in Anthropic."
    assert clause_reason(
        "Amazon has invested $8 billion in Anthropic, which was founded by former OpenAI "
        "employees.",
        span,
    ) == ("adds 'which was founded by former OpenAI employees', which the passage does not state")
    # One sentence, no joint; or a short aside: nothing to judge alone.
    assert clause_reason("Amazon invested $8 billion in Anthropic so far.", span) is None
    assert clause_reason("Amazon has invested $8 billion, so far, in Anthropic.", span) is None
    # A clause the span holds (reworded in part) passes.
    assert (
        clause_reason(
            "Amazon has invested $8 billion, and Anthropic received the investment already.",
            span,
        )
        is None
    )


def test_a_hedge_leading_into_a_quotation_is_not_dropped_with_it() -> None:
    span = (
        "Some people have alleged that the human SARS-CoV-2 was leaked directly from a "
        "laboratory in Wuhan."
    )
    assert rule_reason("SARS-CoV-2 was leaked directly from a laboratory in Wuhan.", span) == (
        "drops the hedge 'alleged' in the passage"
    )
    assert framing_hedge("Although it may be costly, ") is None  # another clause's hedge
    assert (
        rule_reason(
            "Meta is investing heavily.", "Although it may be costly, Meta is investing heavily."
        )
        is None
    )
    # A reporting verb is a hedge outside quotations too.
    assert (
        hedge_reason(
            "The virus was engineered in a laboratory.",
            "Critics claimed the virus was engineered in a laboratory.",
        )
        == "drops the hedge 'claimed'"
    )


def test_claim_opposites_cover_verbs_of_change_and_obligation() -> None:
    span = "Noncommunicable diseases are growing in prevalence; such a plan is mandatory."
    assert opposite_reason("Noncommunicable diseases are declining.", span) == (
        "says 'declining' where the passage says 'growing'"
    )
    assert opposite_reason("Such a plan is optional.", span) == (
        "says 'optional' where the passage says 'mandatory'"
    )


def test_qualifiers_of_numbers_and_time_do_not_count_against_coverage() -> None:
    sentence = "So far Amazon's investment amounts to roughly $8 billion."
    span = "Currently, Amazon has already invested around $8 billion in Anthropic."
    assert coverage(sentence, span) == pytest.approx(2 / 5)  # far, amount, roughly missing
    assert claim_coverage(sentence, span) == pytest.approx(2 / 3)  # amount missing
    # The verifier's cut-off reads claim_coverage: at 0.65 the sentence is judged, not dropped.
    kept = verify_answer(sentence + " [1]", seed_paragraphs()[1:2], None, min_coverage=0.65)
    assert kept.dropped == () and "$8 billion" in kept.citations[0].quote


# --- sentences and spans ------------------------------------------------------------------


# --- Session 9: rewrites a careful reader accepts, errors a careful reader catches ----------


@pytest.mark.parametrize(
    ("sentence", "span"),
    [
        ("The children's hospital ED had 36,700 presentations a year.", "(ED D; 36 700 annual)"),
        ("It may have cost 12 to 18 billion US dollars.", "losses of between USD $12-18 billion"),
        ("It cost $12 billion to $18 billion.", "losses of between USD $12-18 billion"),
        ("The correlation was very high, about 0.998.", "is very high r = 0.997966487046645."),
        ("Both groups had about seven tests each.", "(mean, 7.2 tests) and (mean, 7.1 tests)"),
    ],
)
def test_grouped_ranged_and_rounded_numbers_match(sentence: str, span: str) -> None:
    assert quantities_missing(sentence, span) == []


def test_a_rounding_needs_two_digits_or_a_word_that_says_so() -> None:
    assert [q.text for q in quantities_missing("It took 7 h.", "It took 7.4 h.")] == ["7"]
    assert [q.text for q in quantities_missing("It was 46%.", "It was 45.3%.")] == ["46%"]
    assert quantities_missing("It was 45%.", "It was 45.3%.") == []


def test_currency_country_acronym_plurals_and_covid_spellings_are_not_new_names() -> None:
    span = "EDs in Sydney lost USD $3 billion; no current risk of COVID-2019."
    assert names_missing("Each ED lost 3 billion US dollars.", span) == []
    assert names_missing("There is no current risk of COVID-19.", span) == []
    assert names_missing("The US lost 3 billion.", "The UK lost 3 billion.") == ["US"]


def test_a_negation_written_as_a_prefix_keeps_the_negation() -> None:
    span = "Since we did not know the values of Qj, we supposed that Vj = Wj."
    assert negation_reason("Because the values of Qj were unknown, Vj = Wj.", span) is None
    assert negation_reason("Because the values of Qj were known, Vj = Wj.", span) is not None
    negated = "Anthropic's partnerships mean Amazon's position is not exclusive."
    assert opposite_reason("Amazon's position is non-exclusive.", negated) is None


def test_a_hedge_written_another_way_is_kept_but_not_one_in_another_clause() -> None:
    span = "Amazon is considering a multi-billion dollar investment to deepen its partnership."
    assert hedge_reason("Amazon is thinking about a multi-billion dollar investment.", span) is None
    assert (
        hedge_reason(
            "Rapid tests were hoped to allow timely treatment.",
            ("Rapid tests were expected to facilitate timely treatment."),
        )
        is None
    )
    # "aiming" is the span's own word, after the claim: it hedges nothing the span hedges.
    done = "Amazon has completed a multi-billion dollar investment, aiming to secure access."
    assert hedge_reason(done, span + " It is aiming to secure access.") == (
        "drops the hedge 'considering'"
    )


def test_an_opposite_before_the_same_word_is_found_where_the_span_has_both_words() -> None:
    span = "Rapid PCR was associated with fewer hospital admissions and more patients tested."
    assert opposite_reason("Rapid PCR was associated with more hospital admissions.", span) == (
        "says 'more hospital' where the passage says 'fewer hospital'"
    )
    assert opposite_reason("Rapid PCR meant more patients tested.", span) is None


def test_all_where_the_span_says_some_or_the_majority_is_found() -> None:
    assert (
        generalisation_reason(
            "All of the deaths reported so far were in China.",
            "The majority of the deaths reported so far have been in China only.",
        )
        == "says 'all' where the passage says 'majority'"
    )
    assert (
        generalisation_reason(
            "It cut the ordering of all common microbiology tests.",
            "It cut the ordering of some common microbiology tests.",
        )
        == "says 'all' where the passage says 'some'"
    )
    # "all" that the span's words allow, and "not all", pass.
    assert (
        generalisation_reason(
            "A single provider served all four hospitals.",
            "The four hospitals were served by a single provider.",
        )
        is None
    )
    assert (
        generalisation_reason(
            "Not all companies build AI internally.", "Some companies build AI internally."
        )
        is None
    )


def test_a_duration_in_another_unit_is_found() -> None:
    span = "Prednisolone was tapered over 6 weeks after IVMP for 5 days."
    assert time_unit_reason("Prednisolone was tapered over six months.", span) == (
        "says 6 months where the passage says 6 weeks"
    )
    assert time_unit_reason("Prednisolone was tapered over six weeks.", span) is None
    assert time_unit_reason("IVMP was given for five days.", span) is None


def test_a_slot_written_in_another_order_or_form_still_holds_its_name() -> None:
    span = "Meta, for example, is heavily investing in building AI models in-house."
    assert role_reason("Amazon is investing heavily in building its AI models.", span) == (
        "puts Amazon where the passage has Meta"
    )
    assert role_reason("Meta is investing heavily in building its AI models.", span) is None


def test_synonyms_count_as_covered_for_the_cut_off_only() -> None:
    span = "There is no guarantee that Anthropic will remain loyal to Amazon."
    sentence = "Nothing guarantees that Anthropic will stay loyal to Amazon."
    assert claim_coverage(sentence, span) > coverage(sentence, span)
    assert claim_coverage("Anthropic will stay loyal.", "Anthropic will remain loyal.") == 1.0
    # An antonym is no synonym.
    assert claim_coverage("Anthropic will leave.", "Anthropic will remain.") < 1.0


def test_a_negation_ends_with_its_clause_and_a_condition_may_become_a_restriction() -> None:
    span = "There would be 669 000 hospitalizations without any interventions in these scenarios."
    assert negation_reason("Without interventions, the scenarios estimated 669,000.", span) is None
    assert negation_reason("The scenarios estimated no hospitalizations.", span) is not None
    alert = "If a respondent does not have an immediate risk, then an alert will be sent."
    assert hedge_reason("Respondents without an immediate risk are sent an alert.", alert) is None
    assert hedge_reason("Respondents are sent an alert about an immediate risk.", alert) == (
        "drops the hedge 'If'"
    )


def test_split_answer_keeps_markers_with_their_sentence() -> None:
    got = split_answer("Amazon invested $8.5 billion [1]. Google owns part. [2, 3] Meta builds.")
    assert [(s.text, s.cited) for s in got] == [
        ("Amazon invested $8.5 billion.", (1,)),
        ("Google owns part.", (2, 3)),
        ("Meta builds.", ()),
    ]
    bullets = split_answer("- Amazon backs Anthropic [2]\n- Google owns part [1]")
    assert [(s.text, s.cited) for s in bullets] == [
        ("Amazon backs Anthropic", (2,)),
        ("Google owns part", (1,)),
    ]


def test_candidate_spans_have_exact_offsets() -> None:
    for span in candidate_spans(seed_paragraphs()):
        assert SEED_TEXT[span.start : span.end] == span.text


# --- the whole check ----------------------------------------------------------------------


def check(answer: str, scorer: FakeScorer | None = None) -> Verification:
    return verify_answer(answer, seed_paragraphs(), scorer or FakeScorer())


def test_supported_sentences_keep_exact_citations() -> None:
    v = check(
        "Amazon has already invested about eight billion dollars in Anthropic [2]. "
        "Anthropic is partially owned by Google [2]."
    )
    assert v.dropped == ()
    assert v.text == (
        "Amazon has already invested about eight billion dollars in Anthropic. [1] "
        "Anthropic is partially owned by Google. [2]"
    )
    for c in v.citations:
        assert SEED_TEXT[c.start : c.end] == c.quote
    assert "around $8 billion" in v.citations[0].quote
    assert "partially owned by Google" in v.citations[1].quote


def test_a_checked_sentence_cites_the_page_it_stands_on() -> None:
    # A model's answer over a paged document shows where its quote is, as an extractive one does.
    paged = [
        dataclasses.replace(p, locator="page 3", locators=((p.start + 10, "page 4"),))
        for p in seed_paragraphs()
    ]
    v = verify_answer(
        "Amazon has already invested about eight billion dollars in Anthropic [2].",
        paged,
        FakeScorer(),
    )
    assert v.dropped == ()
    assert v.citations[0].locator == "page 4"


def test_uncited_and_wrongly_cited_sentences_find_their_span() -> None:
    v = check("Amazon supports Anthropic with custom chips and data centers. Meta builds AI [1].")
    assert v.dropped == ()
    assert "custom chips and data centers" in v.citations[0].quote
    assert "Meta, for example" in v.citations[1].quote  # cited [1], found in paragraph 3


def test_planted_errors_are_dropped_with_reasons() -> None:
    v = check(
        "Amazon has already invested around $10 billion in Anthropic [2]. "
        "Anthropic remains partially owned by Apple [2]. "
        "Amazon's stake in Anthropic is exclusive [1]. "
        "Amazon has made a new multi-billion dollar investment in Anthropic [2]. "
        "Anthropic integrates its AI into Alexa [4]."
    )
    reasons = [d.reason for d in v.dropped]
    assert reasons[0] == "amount $10 billion not in passage [2]"
    assert reasons[1] == "name Apple not in passage [2]"
    assert reasons[2] == "drops the negation of 'exclusive' in passage [1]"
    assert reasons[3] == "drops the hedge 'reportedly' in passage [2]"
    assert [d.cited for d in v.dropped] == [(2,), (2,), (1,), (2,)]
    assert v.text == "Anthropic integrates its AI into Alexa. [1]"


def test_the_checker_decides_what_the_rules_let_through() -> None:
    scorer = FakeScorer(reject=["renewable"])
    v = check(
        "Amazon builds data centers for Anthropic that run on renewable energy [4]. "
        "Amazon builds data centers tailored to Anthropic's needs [4].",
        scorer,
    )
    assert [d.sentence for d in v.dropped] == [
        "Amazon builds data centers for Anthropic that run on renewable energy."
    ]
    assert "not supported by passage [4] (checker score" in v.dropped[0].reason
    assert v.scores == (0.9,)
    assert len(scorer.calls) >= 2  # only spans that pass the rules reach the checker


def test_a_span_used_twice_keeps_one_number_and_nothing_kept_is_empty() -> None:
    v = check("Google partially owns Anthropic [2]. Anthropic is partly owned by Google [2].")
    assert [c.n for c in v.citations] == [1]
    assert v.text.endswith("[1]") and v.text.count("[1]") == 2
    none = check("Anthropic is headquartered in San Francisco.")
    assert none.empty and none.text == ""
    assert none.dropped[0].reason.startswith("name San not in passage")


def test_no_two_citations_share_characters() -> None:
    """A two-sentence span and one of its sentences would quote the same text twice: the
    earlier citation grows to cover both and both sentences cite it (issue 10)."""
    from assistant.answer.verify import Span, cite_without_overlap
    from assistant.schema import Chunk, Citation

    text = "Alpha is one. Beta is two. Gamma is three."
    chunk = Chunk("c", "a.txt", text, 100, 100 + len(text), 0, "h")

    def span(start: int, end: int) -> Span:
        return Span(1, chunk, 100 + start, 100 + end, text[start:end])

    citations: dict[tuple[str, int, int], Citation] = {}
    assert cite_without_overlap(citations, span(0, 26)) == 1  # "Alpha ... Beta is two."
    assert cite_without_overlap(citations, span(14, 26)) == 1  # inside [1]: the same number
    assert cite_without_overlap(citations, span(14, 42)) == 1  # runs past it: [1] grows
    assert cite_without_overlap(citations, span(0, 13)) == 1
    assert [(c.n, c.start, c.end, c.quote) for c in citations.values()] == [(1, 100, 142, text)]
    other = Chunk("d", "b.txt", text, 0, len(text), 0, "h")
    assert cite_without_overlap(citations, Span(2, other, 0, 13, text[:13])) == 2  # other file


# --- Session 10: rules from the development file's remaining misses -----------------------


def test_a_comparison_turned_around_is_dropped_and_one_stated_both_ways_round_is_kept() -> None:
    span = (
        "The mean number of microbiology tests per patient was significantly lower for the "
        "rapid PCR group (1.5 tests; SD, 1.8) than for the standard PCR group (2.0 tests)."
    )
    assert comparison_reason(
        "Patients in the rapid PCR group had more microbiology tests than those in the "
        "standard PCR group.",
        span,
    ) == ("turns the comparison around: 'more' where the passage has 'lower'")
    # The sides swapped as well as the direction: the same comparison.
    assert (
        comparison_reason(
            "Patients in the standard PCR group had more microbiology tests than those in "
            "the rapid PCR group.",
            span,
        )
        is None
    )
    assert (
        comparison_reason(
            "The rapid PCR group had fewer microbiology tests per patient than the standard "
            "PCR group.",
            span,
        )
        is None
    )


def test_a_comparison_verb_stated_from_the_other_side_passes_the_opposite_rule() -> None:
    span = (
        "Amazon is hedging its bets while its own in-house AI models lag behind competitors "
        "such as GPT-4, Claude, and Gemini in performance benchmarks."
    )
    faithful = (
        "On performance benchmarks, GPT-4, Claude and Gemini are ahead of Amazon's own models."
    )
    assert rule_reason(faithful, span) is None
    turned = "On performance benchmarks, Amazon's own models are ahead of GPT-4, Claude and Gemini."
    assert rule_reason(turned, span) == (
        "turns the comparison around: 'ahead' where the passage has 'lag' in the passage"
    )


def test_a_comparison_with_someone_the_comparing_sentence_does_not_name_is_dropped() -> None:
    span = (
        "Unlike Microsoft’s exclusive deal with OpenAI, Amazon holds less leverage. "
        "Anthropic remains partially owned by Google."
    )
    assert comparison_reason("Amazon has less leverage over Anthropic than Google does.", span) == (
        "compares with google, which the passage does not"
    )
    assert comparison_reason("Amazon has less leverage than Microsoft.", span) is None


def test_no_guarantee_is_a_doubt_not_a_denial() -> None:
    span = (
        "However, there is no guarantee that Anthropic will remain loyal to Amazon, as it "
        "continues to collaborate with other companies."
    )
    assert hedge_reason("Anthropic will not stay loyal to Amazon.", span) == (
        "drops the hedge 'guarantee'"
    )
    assert hedge_reason("Anthropic will remain loyal to Amazon.", span) == (
        "drops the hedge 'guarantee'"
    )
    assert (
        hedge_reason("Nothing guarantees that Anthropic will stay loyal to Amazon.", span) is None
    )
    assert hedge_reason("Anthropic may not stay loyal to Amazon.", span) is None


def test_an_open_question_hedges_its_whole_clause() -> None:
    span = (
        "Though it is too early to quantify or project its impacts on the global economy, "
        "there are fears that it may take the precedent of other outbreaks."
    )
    assert hedge_reason("The epidemic will hurt the global economy.", span) == (
        "drops the hedge 'early'"
    )
    assert hedge_reason("It is too soon to say how it will hurt the global economy.", span) is None


def test_an_end_point_claimed_where_the_span_gives_a_degree_is_dropped() -> None:
    span = "High-risk cases can be quarantined earlier, thus decreasing the chance of spread."
    assert overstatement_reason(
        "Quarantining high-risk cases eliminates the chance of spread.", span
    ) == ("says 'eliminates' where the passage says 'decreasing'")
    assert (
        overstatement_reason("Quarantining high-risk cases lowers the chance of spread.", span)
        is None
    )
    # "does not eliminate" claims no end point; an end point over another object is no claim
    # about this one.
    assert overstatement_reason("Quarantine does not eliminate the chance of spread.", span) is None
    assert overstatement_reason("Vaccines eliminate measles.", span) is None


def test_opposite_synonym_groups_and_their_inflections() -> None:
    span = "The race to develop AGI has companies like Meta and Amazon vying for leadership."
    assert opposite_reason("Meta and Amazon are cooperating in the race toward AGI.", span) == (
        "says 'cooperating' where the passage says 'vying'"
    )
    assert opposite_reason("Meta and Amazon are competing in the race toward AGI.", span) is None
    # "competing" meets "vying" for the coverage cut-off, as a synonym.
    assert claim_coverage("Meta and Amazon are competing for leadership.", span) == 1.0


def test_opposites_before_the_same_word_degree_sharing_and_place() -> None:
    span = (
        "Amazon’s strategy is less about immediate capital gains and more about securing "
        "access. The four hospitals were served by a single pathology laboratory provider. "
        "The majority of the deaths have been in China."
    )
    assert opposite_reason("Amazon's strategy is mainly about immediate capital gains.", span)
    assert opposite_reason("Each hospital had its own pathology laboratory provider.", span)
    assert opposite_reason("Most of the deaths were outside China.", span)
    assert opposite_reason("Amazon's strategy is mainly about securing access.", span) is None
    assert (
        opposite_reason("All four hospitals shared one pathology laboratory provider.", span)
        is None
    )
    assert opposite_reason("Most of the deaths were in China.", span) is None


def test_alike_where_the_span_says_they_differed_in_that_word() -> None:
    span = (
        "Baseline characteristics for the two groups were similar in terms of sex and triage "
        "category, but differed significantly for age and mode of arrival."
    )
    assert stance_reason("The two groups were similar in age.", span) == (
        "says 'similar' of 'age' where the passage says 'differed'"
    )
    assert stance_reason("The groups differed significantly in sex.", span) is not None
    assert (
        stance_reason("The groups differed significantly in age and mode of arrival.", span) is None
    )
    assert stance_reason("The two groups were similar in sex.", span) is None


def test_free_of_denies_what_follows() -> None:
    span = "Even that relationship has faced complications as OpenAI pursues independence."
    assert negation_reason("The relationship has been free of complications.", span) == (
        "negates 'complications', which the passage states"
    )
    assert negation_reason("The relationship has faced complications.", span) is None


def test_a_decision_or_a_result_where_the_span_has_it_still_open() -> None:
    span = "Amazon is reportedly considering a new multi-billion dollar investment in Anthropic."
    assert resolution_reason(
        "Amazon has reportedly decided on a new multi-billion dollar investment in Anthropic.", span
    ) == ("says 'decided' where the passage says 'considering'")
    assert (
        resolution_reason(
            "Amazon is reportedly weighing a new multi-billion dollar investment.", span
        )
        is None
    )
    race = "The race to develop artificial general intelligence is seen as the ultimate prize."
    assert resolution_reason("Amazon has reached artificial general intelligence.", race)
    assert resolution_reason("Firms race to develop artificial general intelligence.", race) is None


def test_a_cause_where_the_span_states_only_an_association() -> None:
    span = "Rapid PCR testing was associated with significantly fewer admissions to hospital."
    assert causal_reason("Rapid PCR testing led to fewer admissions to hospital.", span) == (
        "says 'led to' where the passage says only 'associated'"
    )
    assert causal_reason("Rapid PCR testing was linked with fewer admissions.", span) is None
    caused = "Rapid PCR testing led to fewer admissions to hospital."
    assert causal_reason("Rapid PCR testing resulted in fewer admissions.", caused) is None


def test_respectively_lists_pair_each_number_with_its_item() -> None:
    span = (
        "three general hospitals (EDs A, B and C; 76 228, 54 443 and 50 025 annual ED "
        "presentations respectively) and one children's hospital (ED D; 36 700)"
    )
    assert respectively_reason("ED A had 76,228 annual presentations.", span) is None
    assert respectively_reason("ED B had 76,228 annual presentations.", span) == (
        "gives 76228 to B, which the passage gives 54443"
    )
    assert respectively_reason("The children's hospital ED had 54,443 presentations.", span) == (
        "gives 54443 without B, whose number it is in the passage"
    )
    assert respectively_reason("ED A had the most annual presentations.", span) is None
    assert respectively_reason("ED A had the fewest annual presentations.", span) == (
        "says 'fewest' of A, which is not the least of the list"
    )


def test_years_swapped_between_what_they_date() -> None:
    span = (
        "We compared data for patients tested immediately after rapid PCR diagnosis was "
        "introduced (July-December 2017) with data for patients tested with a standard "
        "multiplex PCR system during July-December 2016."
    )
    assert year_swap_reason(
        "The study compared rapid PCR data from July-December 2016 with standard PCR data "
        "from July-December 2017.",
        span,
    )
    assert (
        year_swap_reason(
            "The study compared patients tested with rapid PCR in July-December 2017 with "
            "patients tested by standard multiplex PCR in July-December 2016.",
            span,
        )
        is None
    )
    # The two ends of a range date the same thing.
    pandemic = "About 21 million died in the 1918-1919 pandemic, and 1 million in 1968."
    assert year_swap_reason("About 21 million died in the 1918-1919 pandemic.", pandemic) is None


@pytest.mark.parametrize(
    ("sentence", "span"),
    [
        # "non-x" is found by x (the negation rule checks that the span negates it too).
        (
            "Anthropic's many partnerships leave Amazon's position non-exclusive, which adds risk.",
            "Anthropic’s multiple partnerships mean Amazon’s position is not exclusive, adding "
            "an element of risk.",
        ),
        # The parts of a span's hyphenated words.
        (
            "An AI framework could sort people into no, minimal, moderate and high risk.",
            "An AI framework can stratify people into no-risk, minimal-risk, moderate-risk, "
            "and high-risk groups.",
        ),
    ],
)
def test_coverage_finds_inflections_non_words_and_hyphen_parts(sentence: str, span: str) -> None:
    assert claim_coverage(sentence, span) >= 0.75
    assert rule_reason(sentence, span) is None


def test_day_numbers_written_short_and_name_variants_in_slots() -> None:
    assert (
        quantities_missing(
            "By discharge on day 71 she could talk.", "At discharge (D71), she could talk."
        )
        == []
    )
    assert [
        q.text for q in quantities_missing("By day 72 she could talk.", "At discharge (D71).")
    ] == ["72"]
    span = "The health alert notifies them that there is no current risk of COVID-2019."
    assert (
        role_reason("The alert notifies them that there is no current risk of COVID-19.", span)
        is None
    )


def test_a_name_and_its_letter_fill_a_slot_before_them() -> None:
    span = (
        "Hospitals A, B and D have onsite laboratories that perform rapid PCR testing; "
        "Hospital C sends samples to the nearby Hospital A."
    )
    assert role_reason("Hospital C sends its samples to Hospital B.", span) == (
        "puts Hospital B where the passage has Hospital A"
    )
    assert role_reason("Hospital C sends its samples to Hospital A.", span) is None
    # A code's number written as a word is the same code.
    assert (
        role_reason("LPS activates MKP-one in monocytes.", "LPS activates MKP-1 in monocytes.")
        is None
    )


def test_a_discourse_marker_between_commas_is_no_part_of_a_slot() -> None:
    span = (
        "Amazon, on the other hand, is hedging its bets by investing in proven AI players "
        "like Anthropic."
    )
    names = frozenset({"meta", "amazon", "anthropic"})
    assert role_reason("Meta hedges its bets by investing in proven AI players.", span, names) == (
        "puts Meta where the passage has Amazon"
    )
    assert (
        role_reason("Amazon hedges its bets by investing in proven AI players.", span, names)
        is None
    )


def test_an_acronym_is_found_where_the_span_writes_it_out() -> None:
    span = "The United States study assumed a catchment population of 11.1 million."
    assert names_missing("The US study assumed a catchment of 11.1 million.", span) == []
    assert names_missing("The UK study assumed a catchment of 11.1 million.", span) == ["UK"]
    assert names_missing("Severe ARDS needs ECMO.", "acute respiratory distress syndrome") == [
        "ECMO"
    ]


def test_a_name_the_sentence_sets_aside_must_be_set_aside_in_the_span() -> None:
    span = (
        "Unlike Microsoft’s exclusive deal with OpenAI, Amazon holds less leverage. Anthropic "
        "remains partially owned by Google and collaborates with other tech giants like Meta."
    )
    assert denied_name_reason("Anthropic works with Google, not Microsoft.", span) == (
        "denies Microsoft, which the passage does not"
    )
    assert (
        denied_name_reason("Anthropic is not owned by Amazon.", "Anthropic is not owned by Amazon.")
        is None
    )
    assert denied_name_reason("Anthropic works with Google and Meta.", span) is None


def test_a_possessive_name_at_a_sentences_end_is_the_name() -> None:
    from assistant.answer.verify import names_missing

    span = "Companies focusing on in-house development, such as Google, have yet to receive it."
    assert names_missing("Markets favored partnerships over efforts such as Google's.", span) == []


def test_a_code_printed_with_a_space_before_its_digits_is_the_code() -> None:
    from assistant.answer.verify import names_missing

    span = "The 50% maximal effective concentration (EC 50 ) for CQ was lower than for HCQ."
    assert names_missing("CQ had a lower EC50 than HCQ.", span) == []
    # Another code stays another code.
    assert names_missing("CQ had a lower EC90 than HCQ.", span) == ["EC90"]


def test_a_doubt_or_a_suggestion_kept_in_other_words_is_kept() -> None:
    from assistant.answer.verify import hedge_reason

    span = "However, there is no guarantee that Anthropic will remain loyal to Amazon."
    assert (
        hedge_reason("There is no assurance that Anthropic will stay loyal to Amazon.", span)
        is None
    )
    assert hedge_reason("Anthropic will stay loyal to Amazon.", span) is not None
    suggested = "This suggested that both CQ and HCQ blocked the transport of the virus."
    assert hedge_reason("This points to both CQ and HCQ blocking the transport.", suggested) is None
    assert (
        hedge_reason("Both CQ and HCQ blocked the transport of the virus.", suggested) is not None
    )
