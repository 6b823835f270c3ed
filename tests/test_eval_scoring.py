"""The eval suite without the model: scoring functions with worked examples, question set
parsing, and the runner's plumbing (files, gate, baseline) driven by the fake embedder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeEmbedder

from assistant import cli
from assistant.errors import AnswerBackendError, InputError
from assistant.evals import load_set, run_eval
from assistant.evals.runner import SourceTexts, aggregate, score_item
from assistant.evals.scoring import (
    GateFailure,
    Regex,
    Regression,
    alternative_in,
    best_token_f1,
    check_thresholds,
    citation_support,
    contains_answer,
    diff_runs,
    fact_found,
    fact_label,
    fact_recall,
    fact_supported,
    first_relevant_rank,
    mean,
    normalise,
    parse_fact,
    percentile,
    quote_matches_source,
    quotes_overlap,
    reciprocal_rank,
    refusal_scores,
    spans_overlap,
    squad_normalise,
    strip_markers,
    token_f1,
)
from assistant.evals.sets import EvalItem, sample
from assistant.schema import Answer, Chunk, Citation, Hit

ROOT = Path(__file__).resolve().parents[1]
SEED_SET = ROOT / "evals" / "seed.yaml"
SEED_DOC = ROOT / "seeds" / "amazon-anthropic-investment.txt"


# ---------------------------------------------------------------- fact matching


def test_normalise_straightens_quotes_and_collapses_space() -> None:
    assert normalise("Amazon’s  “exclusive”\ndeal ") == 'Amazon\'s "exclusive" deal'
    assert normalise("‘a’ ‚b‛ „c‟") == "'a' 'b' \"c\""


def test_string_alternative_is_case_insensitive_substring() -> None:
    assert alternative_in("8 billion", "Amazon invested around $8 Billion.")
    assert alternative_in("multi-billion", "a new MULTI-BILLION dollar investment")
    assert not alternative_in("9 billion", "around $8 billion")


def test_curly_quotes_match_straight_ones_both_ways() -> None:
    # The document has curly apostrophes; the set file has straight ones, and vice versa.
    assert alternative_in("Anthropic's needs", "tailored to Anthropic’s needs")
    assert alternative_in("Anthropic’s needs", "tailored to Anthropic's needs")
    assert alternative_in('"real-time experiment"', "a “real-time experiment” in")


def test_matching_ignores_line_wraps() -> None:
    assert alternative_in("custom chips", "including custom\n   chips and data centers")


def test_regex_alternative_searches_normalised_text_ignoring_case() -> None:
    assert alternative_in(Regex(r"\$?8\s*billion"), "around $8 BILLION in")
    assert alternative_in(Regex(r"anthropic's"), "Anthropic’s stake")  # curly -> straight
    assert not alternative_in(Regex(r"^billion"), "8 billion")


def test_parse_fact_forms() -> None:
    assert parse_fact(["$8 billion", {"regex": "8 bn"}]) == ("$8 billion", Regex("8 bn"))
    assert parse_fact("Alexa") == ("Alexa",)
    assert parse_fact({"regex": "A.exa"}) == (Regex("A.exa"),)
    for bad in ([], [""], [3], [{"regex": "("}], [{"pattern": "x"}]):
        with pytest.raises(ValueError):
            parse_fact(bad)


def test_fact_label() -> None:
    assert fact_label(("$8 billion", Regex("8 bn"))) == "$8 billion | /8 bn/"


def test_fact_found_any_alternative() -> None:
    fact = ("non-exclusive", "not exclusive")
    assert fact_found(fact, "Amazon's stake is non-exclusive. [1]")
    assert fact_found(fact, "It is not exclusive.")
    assert not fact_found(fact, "It is exclusive.")


def test_fact_recall_worked_example() -> None:
    facts = [("custom chips",), ("data centers",), ("Alexa", "Echo")]
    # custom chips and Alexa found, data centers missing: 2 of 3.
    assert fact_recall(facts, "Custom chips power Alexa. [1]") == pytest.approx(2 / 3)
    assert fact_recall([], "anything") == 1.0


# ---------------------------------------------------------------- citation support


def test_fact_supported_needs_the_matched_alternative_inside_a_quote() -> None:
    answer = "Products like Alexa. [1]"
    assert fact_supported(("Alexa",), answer, ["integrating their AI into products like Alexa"])
    assert not fact_supported(("Alexa",), answer, ["custom chips and data centers"])
    # "Echo" is in the quote but not in the answer: the answer's own wording must be cited.
    assert not fact_supported(("Alexa", "Echo"), answer, ["Echo devices"])


def test_citation_support_worked_example() -> None:
    facts = [("custom chips",), ("Alexa",), ("Azure",)]
    answer = "It builds custom chips and puts AI into Alexa. [1]"
    quotes = ["including custom chips and data centers"]
    # Found: custom chips, Alexa (Azure missing: fact recall's business). Supported: chips.
    assert citation_support(facts, answer, quotes, quotes_verbatim=True) == 0.5
    # A quote that is not the source's text voids the support.
    assert citation_support(facts, answer, quotes, quotes_verbatim=False) == 0.0
    # No fact found: nothing to check.
    assert citation_support(facts, "No idea.", quotes, quotes_verbatim=True) is None


def test_quote_matches_source() -> None:
    text = "Amazon invested $8 billion."
    assert quote_matches_source("$8 billion", text, 16, 26)
    assert not quote_matches_source("$8 billion", text, 15, 25)
    assert not quote_matches_source("x", text, 30, 31)  # out of range
    assert not quote_matches_source("x", None, 0, 1)  # source missing
    # Exact text, not normalised: a curly apostrophe is not a straight one here.
    assert not quote_matches_source("Amazon's", "Amazon’s", 0, 8)


def test_strip_markers() -> None:
    assert strip_markers("A. [1] B, C. [2][3]") == "A. B, C."


# ---------------------------------------------------------------- retrieval


def test_rank_hit_and_reciprocal_rank() -> None:
    assert first_relevant_rank([False, False, True, True]) == 3
    assert first_relevant_rank([False]) is None
    assert reciprocal_rank(3) == pytest.approx(1 / 3)
    assert reciprocal_rank(None) == 0.0
    # MRR over three questions with first relevant ranks 1, 2 and none: (1 + 0.5 + 0) / 3.
    assert mean(reciprocal_rank(r) for r in (1, 2, None)) == pytest.approx(0.5)


def test_spans_overlap_is_half_open() -> None:
    assert spans_overlap(0, 10, 9, 20)
    assert spans_overlap(5, 6, 0, 100)
    assert not spans_overlap(0, 10, 10, 20)
    assert not spans_overlap(20, 30, 10, 20)


# ---------------------------------------------------------------- answers vs gold (SQuAD)


def test_squad_normalise() -> None:
    assert squad_normalise("The  Spike (S) protein! [1]") == "spike s protein"
    assert squad_normalise("An apple, a pear") == "apple pear"


def test_token_f1_worked_examples() -> None:
    # 2 common tokens; precision 2/4, recall 2/2 -> F1 = 2 * 0.5 * 1 / 1.5 = 0.667
    assert token_f1("the spike protein binds ACE2", "spike protein") == pytest.approx(2 / 3)
    # Multiplicity counts: "a a b" vs "a b b": common {a:1, b:1} = 2; P = R = 2/3.
    assert token_f1("x x y", "x y y") == pytest.approx(2 / 3)
    assert token_f1("nothing shared", "spike protein") == 0.0
    assert token_f1("", "") == 1.0
    assert token_f1("the", "spike") == 0.0  # only an article: no tokens left


def test_best_token_f1_takes_the_max_over_golds() -> None:
    assert best_token_f1("spike protein", ["ACE2", "the spike protein"]) == 1.0
    assert best_token_f1("anything", []) == 0.0


def test_contains_answer() -> None:
    assert contains_answer("It binds the ACE2 receptor. [1]", ["ACE2 receptor"])
    assert (
        contains_answer("Mother-to-child transmission (MTCT) is it.", ["mother to child"]) is False
    )
    assert contains_answer("Mother-to-child transmission is it.", ["Mother-to-child transmission"])
    assert not contains_answer("outer space", ["ace"])  # token boundaries
    assert not contains_answer("anything", [""])


# ---------------------------------------------------------------- refusal


def test_refusal_scores_worked_example() -> None:
    # (unanswerable, refused)
    pairs = [(True, True), (True, False), (False, True), (False, False), (False, False)]
    s = refusal_scores(pairs)
    assert (s.true_pos, s.false_pos, s.false_neg, s.true_neg) == (1, 1, 1, 2)
    assert s.precision == 0.5
    assert s.recall == 0.5


def test_refusal_scores_undefined_cases() -> None:
    assert refusal_scores([(False, False)]).precision is None  # nothing refused
    assert refusal_scores([(False, True)]).recall is None  # nothing unanswerable
    assert refusal_scores([(True, True), (True, True)]).precision == 1.0


# ---------------------------------------------------------------- aggregates and gates


def test_percentile_linear_interpolation() -> None:
    assert percentile([4, 1, 3, 2], 50) == 2.5
    assert percentile([1, 2, 3, 4], 95) == pytest.approx(3.85)
    assert percentile([7.0], 95) == 7.0
    assert percentile([1, 2, 3, 4, 5], 0) == 1 and percentile([1, 2, 3, 4, 5], 100) == 5
    assert percentile([], 50) is None


def test_mean_skips_none() -> None:
    assert mean([1.0, None, 0.0, True]) == pytest.approx(2 / 3)
    assert mean([None]) is None


def test_check_thresholds() -> None:
    metrics = {"fact_recall": 0.7, "citation_support": 0.95, "refusal_recall": None}
    thresholds = {"fact_recall": 0.8, "citation_support": 0.9, "refusal_recall": 0.75}
    assert check_thresholds(metrics, thresholds) == [
        GateFailure("fact_recall", 0.7, 0.8),
        GateFailure("refusal_recall", None, 0.75),
    ]
    assert check_thresholds(metrics, thresholds, unmeasured_fails=False) == [
        GateFailure("fact_recall", 0.7, 0.8)
    ]
    assert check_thresholds({"fact_recall": 0.8}, {"fact_recall": 0.8}) == []  # at = passes
    # answerable_refused is lower-is-better: its threshold is a maximum.
    assert check_thresholds({"answerable_refused": 0.2}, {"answerable_refused": 0.1}) == [
        GateFailure("answerable_refused", 0.2, 0.1)
    ]
    assert check_thresholds({"answerable_refused": 0.05}, {"answerable_refused": 0.1}) == []
    assert "0.700 < threshold 0.800" in str(GateFailure("fact_recall", 0.7, 0.8))


def test_diff_runs_lists_every_question_that_got_worse() -> None:
    def row(refused: bool, **scores: object) -> dict[str, object]:
        return {"refused": refused, "scores": scores}

    baseline = {
        "same": row(False, fact_recall=1.0, citation_support=1.0, refusal_correct=True),
        "recall-drop": row(False, fact_recall=1.0, citation_support=1.0, refusal_correct=True),
        "better": row(False, fact_recall=0.5, refusal_correct=True),
        "wrong-refusal": row(False, fact_recall=1.0, refusal_correct=True),
        "right-refusal": row(False, refusal_correct=False),  # answered an unanswerable
        "support-drop": row(False, fact_recall=1.0, citation_support=1.0, refusal_correct=True),
        "gone": row(False, fact_recall=1.0, refusal_correct=True),
    }
    current = {
        "same": row(False, fact_recall=1.0, citation_support=1.0, refusal_correct=True),
        "recall-drop": row(False, fact_recall=0.5, citation_support=1.0, refusal_correct=True),
        "better": row(False, fact_recall=1.0, refusal_correct=True),
        "wrong-refusal": row(True, fact_recall=0.0, refusal_correct=False),
        "right-refusal": row(True, refusal_correct=True),
        "support-drop": row(False, fact_recall=1.0, citation_support=0.0, refusal_correct=True),
        "new": row(False, fact_recall=0.0, refusal_correct=True),
    }
    assert diff_runs(baseline, current) == [
        Regression("recall-drop", "fact_recall", 1.0, 0.5),
        Regression("wrong-refusal", "fact_recall", 1.0, 0.0),
        Regression("wrong-refusal", "refusal", "answered", "refused"),
        Regression("support-drop", "citation_support", 1.0, 0.0),
    ]
    assert str(Regression("q", "refusal", "answered", "refused")) == (
        "q: refusal flipped wrongly (answered -> refused)"
    )


def test_diff_runs_data_set_scores() -> None:
    before = {"1": {"refused": False, "scores": {"answer_f1": 0.8, "retrieval_hit": True}}}
    after = {"1": {"refused": False, "scores": {"answer_f1": 0.4, "retrieval_hit": False}}}
    assert [r.metric for r in diff_runs(before, after)] == ["retrieval_hit", "answer_f1"]


# ---------------------------------------------------------------- scoring one answer


def _chunk(text: str, start: int = 0, source: str = "a.txt") -> Chunk:
    return Chunk(f"{source}:{start}", source, text, start, start + len(text), 0, "h")


def _item(**kw: Any) -> EvalItem:
    fields: dict[str, Any] = {"id": "q", "question": "Q?", "category": "fact"}
    fields.update(kw)
    return EvalItem(**fields)


SOURCE = "Amazon invested $8 billion. It builds custom chips. Alexa gets Claude."


def _text(source: str) -> str | None:
    return SOURCE if source == "a.txt" else None


def _citation(n: int, start: int, end: int) -> Citation:
    """[n] quoting SOURCE[start:end] of a.txt."""
    return Citation(n, "a.txt", start, end, SOURCE[start:end])


def test_score_item_fact_question() -> None:
    item = _item(facts=(("8 billion",), ("custom chips",), ("Azure",)), sources=("a.txt",))
    hits = (
        Hit(_chunk("Alexa gets Claude.", 52), 0.9),
        Hit(_chunk("It builds custom chips.", 28), 0.8),
    )
    answer = Answer(
        "Q?",
        "Q?",
        "Amazon invested $8 billion. [1] It builds custom chips. [2]",
        citations=(
            Citation(1, "a.txt", 0, 27, "Amazon invested $8 billion."),
            Citation(2, "a.txt", 28, 51, "It builds custom chips."),
        ),
        hits=hits,
        timings={"embed": 0.1, "total": 0.3},
    )
    r = score_item(item, answer, _text, k=5)
    assert r.scores["fact_recall"] == pytest.approx(2 / 3)
    assert r.scores["citation_support"] == 1.0
    assert r.scores["quotes_verbatim"] is True
    assert r.scores["retrieval_hit"] is True and r.scores["retrieval_rank"] == 2
    assert r.scores["reciprocal_rank"] == 0.5
    assert r.scores["source_hit"] is True
    assert r.scores["refusal_correct"] is True
    assert r.facts_found == ("8 billion", "custom chips") and r.facts_missing == ("Azure",)
    assert r.problems == ["missing facts: Azure"]
    row = r.to_row()
    assert row["facts_missing"] == ["Azure"] and row["citations"][1]["quote"].startswith("It")
    json.dumps(row)  # serialisable


def test_score_item_catches_a_quote_that_is_not_the_source_text() -> None:
    item = _item(facts=(("custom chips",),))
    answer = Answer(
        "Q?",
        "Q?",
        "It builds custom chips. [1]",
        citations=(Citation(1, "a.txt", 0, 23, "It builds custom chips."),),  # wrong offsets
    )
    r = score_item(item, answer, _text, k=5)
    assert r.bad_quotes == (1,)
    assert r.scores["citation_support"] == 0.0
    assert r.scores["retrieval_hit"] is False  # nothing retrieved
    assert any("quotes not matching" in p for p in r.problems)


def test_score_item_refusals() -> None:
    refusal = Answer("Q?", "Q?", "The documents don't say what custom chips are.", refused=True)
    answerable = score_item(_item(facts=(("custom chips",),)), refusal, _text, k=5)
    # The refusal echoes the question's words; that is not finding the fact.
    assert answerable.scores["fact_recall"] == 0.0
    assert answerable.scores["refusal_correct"] is False
    assert answerable.problems[0] == "refused an answerable question"
    unanswerable = score_item(_item(category="unanswerable"), refusal, _text, k=5)
    assert unanswerable.scores["refusal_correct"] is True
    assert "fact_recall" not in unanswerable.scores and unanswerable.problems == []


def test_score_item_followup_and_collection() -> None:
    answer = Answer("Q?", "custom chips", "It builds custom chips. [1]")
    followup = score_item(
        _item(category="followup", facts=(("custom chips",),)), answer, _text, k=5
    )
    assert followup.scores["followup_success"] is True
    listing = Answer("Q?", "Q?", "I have 1 document: a.txt (1 KB, 1 chunk).")
    collection = score_item(_item(category="collection", facts=(("a.txt",),)), listing, _text, k=5)
    assert collection.scores["fact_recall"] == 1.0
    # Answered from the catalogue: neither retrieval nor quote support applies.
    assert collection.scores["citation_support"] is None
    assert "retrieval_hit" not in collection.scores


def test_score_item_data_set_question() -> None:
    item = EvalItem(
        id="7",
        question="What does it bind?",
        category="dataset",
        answers=("the ACE2 receptor",),
        doc="a.txt",
        answer_start=100,
    )
    hits = (
        Hit(_chunk("x" * 50, 0, "b.txt"), 0.9),  # other document
        Hit(_chunk("y" * 50, 0, "a.txt"), 0.8),  # gold document, before the span
        Hit(_chunk("z" * 50, 90, "a.txt"), 0.7),  # overlaps [100, 117)
    )
    answer = Answer("Q", "Q", "It binds the ACE2 receptor on cells. [1]", hits=hits)
    r = score_item(item, answer, _text, k=5)
    assert r.scores["retrieval_rank"] == 3
    assert r.scores["reciprocal_rank"] == pytest.approx(1 / 3)
    assert r.scores["answer_contains"] is True
    # pred tokens: it binds ace2 receptor on cells (6); gold: ace2 receptor (2) -> F1 0.5
    assert r.scores["answer_f1"] == pytest.approx(0.5)
    assert r.to_row()["gold_answers"] == ["the ACE2 receptor"]


def test_source_texts_are_the_files_as_on_disk(tmp_path: Path) -> None:
    (tmp_path / "crlf.txt").write_bytes(b"\xef\xbb\xbfline one\r\nline two")
    (tmp_path / "page.html").write_text("<html><body><p>Hello <b>there</b></p></body></html>")
    (tmp_path / "old.txt").write_bytes("caf\u00e9".encode("cp1252"))
    texts = SourceTexts(tmp_path)
    # The BOM is not text; CRLF stays CRLF, as offsets into the file count it.
    assert texts.get("crlf.txt") == "line one\r\nline two"
    assert texts.get("page.html") == "Hello there"  # the loader's extracted text
    assert texts.get("old.txt") == "caf\u00e9"  # legacy encoding: the loader's fallback
    assert texts.get("missing.txt") is None
    assert texts.get("../crlf.txt") is None  # never outside the documents folder


def test_aggregate_metrics_and_categories() -> None:
    fact = _item(id="f", facts=(("custom chips",),))
    never = _item(id="u", category="unanswerable")
    good = Answer("Q", "Q", "It builds custom chips. [1]", timings={"embed": 0.2, "total": 1.0})
    refusal = Answer("Q", "Q", "No.", refused=True, timings={"embed": 0.4, "total": 3.0})
    results = [
        score_item(fact, good, _text, k=5),
        score_item(never, refusal, _text, k=5),
        score_item(_item(id="g", facts=(("Azure",),)), refusal, _text, k=5),
    ]
    agg = aggregate(results, "questions")
    assert agg.metrics["fact_recall"] == 0.5
    assert agg.metrics["refusal_precision"] == 0.5  # 1 of 2 refusals was right
    assert agg.metrics["refusal_recall"] == 1.0
    assert agg.metrics["followup_success"] is None
    assert agg.by_category["fact"]["questions"] == 2
    assert agg.by_category["unanswerable"]["refusal_correct"] == 1.0
    assert agg.latency["total"] == {"p50": 3.0, "p95": 3.0, "n": 3.0}
    assert list(agg.latency)[-1] == "total"
    assert agg.counts["refused"] == 2


def test_quotes_overlap_only_within_one_source() -> None:
    assert quotes_overlap([("a.txt", 0, 50), ("a.txt", 40, 90)])
    assert quotes_overlap([("a.txt", 10, 20), ("b.txt", 0, 5), ("a.txt", 10, 20)])
    # Touching spans, or the same offsets in two files, are two different quotes.
    assert not quotes_overlap([("a.txt", 0, 50), ("a.txt", 50, 60), ("b.txt", 0, 50)])
    assert not quotes_overlap([])


def test_tight_answers_are_measured() -> None:
    """median_sentences and duplicated_quotes: two citations of one span is one duplicate."""
    text = "It builds custom chips. [1] It builds custom chips. [2]"
    twice = Answer(
        "Q",
        "Q",
        text,
        citations=(_citation(1, 38, 50), _citation(2, 38, 50)),
    )
    once = Answer("Q", "Q", "It builds custom chips. [1]", citations=(_citation(1, 38, 50),))
    refusal = Answer("Q", "Q", "No.", refused=True)
    fact = (("custom chips",),)
    results = [
        score_item(_item(id="a", facts=fact), twice, _text, k=5),
        score_item(_item(id="b", facts=fact), once, _text, k=5),
        score_item(_item(id="c", facts=fact), once, _text, k=5),
        score_item(_item(id="d", facts=fact), refusal, _text, k=5),
    ]
    assert results[0].scores["duplicated_quote"] is True
    assert results[3].scores["sentences"] is None  # a refusal is not an answer
    metrics = aggregate(results, "questions").metrics
    assert metrics["duplicated_quotes"] == 1.0
    assert metrics["median_sentences"] == 1.0  # 2, 1, 1: the refusal does not count
    # Both are maxima when gated: fewer sentences and no duplicate are better.
    assert check_thresholds(metrics, {"duplicated_quotes": 0.0}) == [
        GateFailure("duplicated_quotes", 1.0, 0.0)
    ]


def test_data_set_with_unanswerable_questions(tmp_path: Path) -> None:
    """SQuAD 2.0's convention: no answers means the documents do not say; "kind" groups."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text(SOURCE)
    lines = [
        {"id": 1, "question": "Chips?", "answers": ["custom chips"], "doc": "a.txt",
         "answer_start": 38},
        {"id": 2, "question": "Google's chips?", "answers": [], "doc": "a.txt",
         "kind": "swap_entity"},
        {"id": 3, "question": "Capital of Peru?", "answers": [], "kind": "offtopic"},
        {"id": 4, "question": "Rockets?", "answers": ["rockets"], "is_impossible": True},
    ]  # fmt: skip
    (tmp_path / "questions.jsonl").write_text("".join(json.dumps(q) + "\n" for q in lines))
    qset = load_set(tmp_path)
    assert [i.answerable for i in qset.items] == [True, False, False, False]
    assert [i.group for i in qset.items] == ["dataset", "swap_entity", "offtopic", "unanswerable"]

    chips = Answer("Q", "Q", "It builds custom chips. [1]", citations=(_citation(1, 38, 50),))
    refusal = Answer("Q", "Q", "The documents do not say.", refused=True)
    results = [
        score_item(qset.items[0], refusal, _text, k=5),  # wrongly refused
        score_item(qset.items[1], chips, _text, k=5),  # wrongly answered
        score_item(qset.items[2], refusal, _text, k=5),
        score_item(qset.items[3], refusal, _text, k=5),
    ]
    agg = aggregate(results, "dataset")
    assert agg.metrics["answerable_refused"] == 1.0
    assert agg.metrics["unanswerable_refused"] == pytest.approx(2 / 3)
    assert agg.metrics["answer_containment"] == 0.0  # a refusal contains nothing
    assert agg.metrics["containment_when_answered"] is None  # nothing answerable answered
    assert agg.by_category["swap_entity"]["refusal_correct"] == 0.0
    assert agg.by_category["offtopic"]["refusal_correct"] == 1.0
    assert results[1].to_row()["kind"] == "swap_entity"
    (tmp_path / "questions.jsonl").write_text(json.dumps({**lines[0], "answers": [""]}) + "\n")
    with pytest.raises(InputError, match="empty gold answer"):
        load_set(tmp_path)


# ---------------------------------------------------------------- question sets


def test_seed_set_parses() -> None:
    qset = load_set(SEED_SET)
    assert qset.name == "seed" and qset.kind == "questions" and qset.k == 5
    assert qset.documents == (ROOT / "seeds").resolve()
    assert set(qset.thresholds) <= set(qset.metrics)
    assert {i.category for i in qset.items} == {
        "fact",
        "paraphrase",
        "synthesis",
        "followup",
        "unanswerable",
        "collection",
    }
    assert all(i.history for i in qset.items if i.category == "followup")


def test_every_seed_fact_is_in_the_seed_document() -> None:
    # A fact the documents never state could not be found by any answer.
    text = SEED_DOC.read_text(encoding="utf-8")
    qset = load_set(SEED_SET)
    missing = [
        (i.id, fact_label(f))
        for i in qset.items
        if i.category != "collection"
        for f in i.facts
        if not fact_found(f, text)
    ]
    assert missing == []


def _write_set(tmp_path: Path, body: str, name: str = "set.yaml") -> Path:
    (tmp_path / "docs").mkdir(exist_ok=True)
    (tmp_path / "docs" / "a.txt").write_text(SOURCE, encoding="utf-8")
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def test_jsonl_set_with_header_line(tmp_path: Path) -> None:
    lines = [
        {"name": "mini", "documents": "docs", "k": 3, "thresholds": {"fact_recall": 0.5}},
        {"id": 1, "question": "Chips?", "category": "fact", "facts": [["custom chips"]]},
        {"id": "2", "question": "Revenue?", "category": "unanswerable"},
    ]
    path = _write_set(tmp_path, "\n".join(json.dumps(x) for x in lines) + "\n", "set.jsonl")
    qset = load_set(path)
    assert (qset.name, qset.k, dict(qset.thresholds)) == ("mini", 3, {"fact_recall": 0.5})
    assert [i.id for i in qset.items] == ["1", "2"]
    assert qset.items[0].facts == (("custom chips",),)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("questions: []\n", "documents"),
        ("documents: nowhere\nquestions: [{id: a, question: q, category: fact}]\n", "nowhere"),
        ("documents: docs\nquestions: [{id: a, question: q, category: trivia}]\n", "category"),
        ("documents: docs\nquestions: [{id: a, question: q, category: fact}]\n", "no facts"),
        (
            "documents: docs\nquestions: [{id: a, question: q, category: unanswerable, "
            "facts: [[x]]}]\n",
            "remove them",
        ),
        (
            "documents: docs\nquestions: [{id: a, question: q, category: followup,"
            " facts: [[x]]}]\n",
            "history",
        ),
        (
            "documents: docs\nquestions: [{id: a, question: q, category: fact, facts: [[x]]},"
            " {id: a, question: r, category: fact, facts: [[y]]}]\n",
            "twice",
        ),
        (
            "documents: docs\nthresholds: {fact_recal: 0.8}\n"
            "questions: [{id: a, question: q, category: fact, facts: [[x]]}]\n",
            "unknown metric",
        ),
        (
            "documents: docs\nquestions: [{id: a, question: q, category: fact,"
            " facts: [[{regex: '('}]]}]\n",
            "regex",
        ),
        ("documents: docs\nquestions: {a: 1}\n", "questions"),
        ("documents: docs\nquestions: [a: b: c\n", "YAML"),
    ],
)
def test_malformed_sets_say_what_to_fix(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_set(_write_set(tmp_path, body))


def test_missing_set_and_wrong_type(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no question set"):
        load_set(tmp_path / "none.yaml")
    (tmp_path / "x.csv").write_text("a,b\n")
    with pytest.raises(InputError, match="not a question set"):
        load_set(tmp_path / "x.csv")
    with pytest.raises(InputError, match="not a data set folder"):
        load_set(tmp_path)


def test_data_set_folder(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text(SOURCE)
    q = {"id": 5, "question": "Chips?", "answers": ["custom chips"], "doc": "a.txt"}
    (tmp_path / "questions.jsonl").write_text(json.dumps({**q, "answer_start": 38}) + "\n")
    qset = load_set(tmp_path)
    assert qset.kind == "dataset" and qset.thresholds == {}
    assert qset.items[0].gold_span == (38, 50)
    assert SOURCE[38:50] == "custom chips"
    (tmp_path / "questions.jsonl").write_text(json.dumps(q) + "\n")  # no answer_start
    with pytest.raises(InputError, match="answer_start"):
        load_set(tmp_path)


def test_sample_first_or_evenly_spaced() -> None:
    items = [_item(id=str(i)) for i in range(10)]
    assert [i.id for i in sample(items, 4, spread=False)] == ["0", "1", "2", "3"]
    assert [i.id for i in sample(items, 4, spread=True)] == ["0", "2", "5", "7"]
    assert sample(items, None, spread=True) == items
    assert sample(items, 50, spread=False) == items
    with pytest.raises(InputError):
        sample(items, 0, spread=False)


# ---------------------------------------------------------------- the runner, fake model


def test_run_writes_every_file_and_gates(tmp_path: Path) -> None:
    body = """
name: mini
documents: docs
k: 3
thresholds: {fact_recall: 0.0, citation_support: 0.0, refusal_recall: 0.0}
questions:
  - id: chips
    category: fact
    question: What custom chips does Amazon build?
    facts: [[custom chips]]
  - {id: list, category: collection, question: "What documents do you have?", facts: [[a.txt]]}
  - {id: never, category: unanswerable, question: "Who won the 2018 World Cup?"}
"""
    path = _write_set(tmp_path, body)
    result = run_eval(path, out_dir=tmp_path / "runs", embedder=FakeEmbedder(), progress=False)
    run = result.run_dir
    assert run.parent == tmp_path / "runs"
    for name in ("results.jsonl", "summary.json", "report.md", "scores_by_category.png"):
        assert (run / name).is_file(), name
    assert (run / "scores_by_category.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "runs" / ".index" / "mini" / "manifest.json").is_file()
    rows = [json.loads(x) for x in (run / "results.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["chips", "list", "never"]
    assert {
        "answer",
        "refused",
        "citations",
        "facts_found",
        "facts_missing",
        "scores",
        "timings",
    } <= set(rows[0])
    summary = json.loads((run / "summary.json").read_text())
    assert set(summary["metrics"]) == set(load_set(path).metrics)
    assert summary["k"] == 3 and summary["questions"] == 3 and summary["machine"]
    assert "total" in summary["latency"]
    assert result.passed and summary["gate"]["passed"]
    assert result.metrics["fact_recall"] is not None
    assert "## Failures" in (run / "report.md").read_text()

    # The index is reused on the next run; an impossible threshold fails the gate.
    again = run_eval(
        path,
        out_dir=tmp_path / "runs",
        embedder=FakeEmbedder(),
        progress=False,
        thresholds={"fact_recall": 1.01},
        baseline=run,
    )
    assert again.meta["index_note"].startswith("reused")
    assert again.run_dir != run
    assert not again.passed and again.gate_failures[0].metric == "fact_recall"
    assert again.regressions == ()  # same fake model, same answers
    assert "Compared with" in (again.run_dir / "report.md").read_text()


def test_baseline_regressions_are_listed(tmp_path: Path) -> None:
    body = """
documents: docs
questions:
  - id: chips
    category: fact
    question: What custom chips does Amazon build?
    facts: [[custom chips]]
"""
    path = _write_set(tmp_path, body)
    base = run_eval(path, out_dir=tmp_path / "runs", embedder=FakeEmbedder(), progress=False)
    # Doctor the baseline so that this run looks worse than it.
    rows = [json.loads(x) for x in (base.run_dir / "results.jsonl").read_text().splitlines()]
    rows[0]["scores"]["fact_recall"] = 2.0
    (base.run_dir / "results.jsonl").write_text(json.dumps(rows[0]) + "\n")
    result = run_eval(
        path,
        out_dir=tmp_path / "runs",
        embedder=FakeEmbedder(),
        progress=False,
        baseline=base.run_dir,
    )
    assert [(r.id, r.metric) for r in result.regressions] == [("chips", "fact_recall")]
    assert "chips: fact_recall dropped" in (result.run_dir / "report.md").read_text()


def test_main_exit_status_and_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import assistant.evals.run as evals

    # The CLI path builds the real embedder; swap in the fake one.
    real = evals._settings_and_embedder
    monkeypatch.setattr(
        evals,
        "_settings_and_embedder",
        lambda settings, embedder, mode: real(settings, embedder or FakeEmbedder(), mode),
    )
    passing = _write_set(
        tmp_path,
        "documents: docs\nthresholds: {fact_recall: 0.0}\nquestions:\n"
        "  - {id: a, category: fact, question: 'custom chips?', facts: [[custom chips]]}\n",
        "pass.yaml",
    )
    failing = _write_set(
        tmp_path,
        "documents: docs\nthresholds: {fact_recall: 1.01}\nquestions:\n"
        "  - {id: a, category: fact, question: 'custom chips?', facts: [[custom chips]]}\n",
        "fail.yaml",
    )
    out = tmp_path / "runs"
    assert cli.main(["eval", str(passing), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "fact_recall" in printed and "gate passed" in printed and "machine" in printed
    assert cli.main(["eval", str(passing), str(failing), "--out", str(out)]) == 1
    printed = capsys.readouterr().out
    assert "GATE FAILED" in printed and "fact_recall: " in printed
    # Two sets: one subfolder (and one index) per set.
    latest = sorted(p for p in out.iterdir() if not p.name.startswith("."))[-1]
    assert sorted(p.name for p in latest.iterdir()) == ["fail", "pass"]
    assert sorted(p.name for p in (out / ".index").iterdir()) == ["fail", "pass"]
    with pytest.raises(AnswerBackendError, match="no answer mode named 'llm'"):
        evals._settings_and_embedder(None, FakeEmbedder(), "llm")
