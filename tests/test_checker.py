"""The learned support checker (answer/checker.py): its features on worked examples, the
tree runtime on a hand-built model, and the shipped weights on answers a user would see."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from evalscripts import load_eval_script
from fakes import SEED_TEXT, seed_paragraphs

from assistant import Settings
from assistant.answer.checker import (
    CHECKER_FILE,
    FEATURE_NAMES,
    TreeChecker,
    features,
    hedge_lost,
    longest_uncovered_run,
    min_half_coverage,
    number_context,
    subject_agrees,
)
from assistant.answer.checking import default_verifier
from assistant.answer.llm import ChatBackend
from assistant.answer.verifier_model import check_answer, default_scorer
from assistant.answer.verify import assess
from assistant.errors import ModelNotFoundError

# --- features, worked examples --------------------------------------------------------------


def test_a_clause_from_elsewhere_leaves_a_run_of_uncovered_words() -> None:
    span = "Amazon invested in Anthropic."
    assert longest_uncovered_run("Amazon put money in Anthropic.", span) == 2  # put, money
    joined = "Amazon invested in Anthropic, which later bought a football club."
    assert longest_uncovered_run(joined, span) == 4  # later bought football club
    assert min_half_coverage("Amazon invested in Anthropic and Google bought Fitbit", span) == 0
    assert min_half_coverage("Amazon invested in Anthropic", span) == 1.0


def test_numbers_of_the_span_swapped_lose_their_neighbours() -> None:
    span = "Of 120 patients, 45 were admitted and 12 died."
    assert number_context("45 patients were admitted and 12 died.", span) == 0.5  # 45 moved
    assert number_context("45 were admitted and 12 died.", span) == 1.0
    assert number_context("12 patients and 45 controls", "45 patients and 12 controls") == 0.0
    assert number_context("No numbers here.", span) == 1.0
    # Written as words: compared by the rules, not by neighbours here.
    assert number_context("On January twenty-four, 2020.", "On January 24, 2020.") == 1.0


def test_a_name_of_the_span_in_another_names_place_is_seen() -> None:
    span = "Meta is investing in building AI models. Amazon backs Anthropic."
    assert subject_agrees("Amazon is investing in building AI models.", span) == 0.0
    assert subject_agrees("Meta is investing in building AI models.", span) == 1.0
    assert subject_agrees("Google is investing in AI models.", "Meta is investing.") == 0.5
    # A capitalised common word is no name; nor are openers like "Unlike" or "Nothing".
    assert subject_agrees("Building AI models is costly.", "Meta is building AI models.") == 1.0
    assert subject_agrees("Nothing guarantees loyalty.", "There is no guarantee.") == 1.0


def test_a_hedge_dropped_under_another_hedge_is_seen() -> None:
    span = "Vaccines may prevent infections in children."
    assert hedge_lost("Vaccines will certainly prevent potential infections.", span) == 1.0
    assert hedge_lost("Vaccines may prevent infections.", span) == 0.0
    assert hedge_lost("Children often get sick.", span) == 0.0  # one word under the hedge


def test_features_are_named_and_describe_the_pair() -> None:
    f = dict(
        zip(
            FEATURE_NAMES,
            features(
                "Amazon is considering investing more in Anthropic.",
                "Amazon invested more in Anthropic.",
            ),
            strict=True,
        )
    )
    assert len(f) == len(FEATURE_NAMES)
    assert f["coverage"] == 1.0 and f["hedge_dropped"] == 1.0 and f["copy"] == 0.0
    pair = features("A b c. Amazon backs Anthropic.", "Amazon backs Anthropic.")
    copy = dict(zip(FEATURE_NAMES, pair, strict=True))
    assert copy["copy"] == 1.0 and copy["longest_uncovered_run"] == 0.0


# --- the tree runtime -----------------------------------------------------------------------


def _stump(threshold: float = 0.5) -> dict:
    """One tree: coverage <= 0.5 -> -2.0, else +2.0; bias 0.5."""
    n = len(FEATURE_NAMES)
    assert n > 1
    return {
        "kind": "gradient-boosted trees",
        "features": list(FEATURE_NAMES),
        "bias": 0.5,
        "rate": 1.0,
        "trees": [
            {
                "feature": [FEATURE_NAMES.index("coverage"), -1, -1],
                "threshold": [threshold, 0.0, 0.0],
                "left": [1, -1, -1],
                "right": [2, -1, -1],
                "value": [0.0, -2.0, 2.0],
            }
        ],
    }


def test_trees_add_up_to_a_probability(tmp_path: Path) -> None:
    import math

    path = tmp_path / "checker.json"
    path.write_text(json.dumps(_stump()))
    checker = TreeChecker.load(path, threshold=0.4, min_coverage=0.3)
    assert (checker.threshold, checker.min_coverage) == (0.4, 0.3)
    span = "Amazon has invested around $8 billion in Anthropic."
    high, low = checker.scores(
        [(span, "Amazon invested in Anthropic."), (span, "Google bought cars.")]
    )
    assert high == pytest.approx(1 / (1 + math.exp(-2.5)))
    assert low == pytest.approx(1 / (1 + math.exp(1.5)))
    assert checker.scores([]) == []


def test_weights_for_other_features_or_no_weights_say_what_to_do(tmp_path: Path) -> None:
    data = _stump()
    data["features"] = data["features"][:-1]
    with pytest.raises(ModelNotFoundError, match=r"train_checker\.py"):
        TreeChecker.from_dict(data)
    with pytest.raises(ModelNotFoundError, match="ASSISTANT_VERIFIER=rules"):
        TreeChecker.load(tmp_path / "missing.json")


# --- the shipped checker --------------------------------------------------------------------


def test_the_shipped_checker_is_installed_and_calibrated() -> None:
    assert CHECKER_FILE.is_file()
    scorer = default_scorer()
    assert isinstance(scorer, TreeChecker)
    assert 0.0 < scorer.threshold < 1.0 and 0.0 < scorer.min_coverage < 1.0


def test_the_shipped_checker_keeps_rewrites_and_drops_names_moved_inside_the_passage() -> None:
    passage = seed_paragraphs()[1:2]  # "... Anthropic remains partially owned by Google and
    # collaborates with other tech giants like Meta ..."
    answer = (
        "Amazon has already put about eight billion dollars into Anthropic [1]. "
        "Anthropic remains partially owned by Google [1]. "
        "Meta remains partially owned by Google [1]. "  # every name is in the passage
        "Anthropic remains partially owned by Meta [1]."
    )
    checked = check_answer(answer, passage)
    rules = check_answer(answer, passage, kind="rules")
    assert len(checked.citations) == 2 and "$8 billion" in checked.citations[0].quote
    assert "owned by Google" in checked.citations[1].quote
    assert all(SEED_TEXT[c.start : c.end] == c.quote for c in checked.citations)
    assert [d.sentence.split()[0] for d in checked.dropped] == ["Meta", "Anthropic"]
    # Every name and word of both is in the passage; the rules see the moved name in its slot
    # ("Meta remains" where the passage has "Anthropic remains", "owned by Meta" where it has
    # "owned by Google"), so the rules alone drop them too, with the same reason.
    assert [d.reason for d in checked.dropped] == [
        "puts Meta where the passage has Anthropic in passage [1]",
        "puts Meta where the passage has Google in passage [1]",
    ]
    assert rules.dropped == checked.dropped and rules.text.count("[") == 2


def test_settings_choose_the_check_of_every_llm_backend() -> None:
    assert Settings().verifier == "checker"
    passage = seed_paragraphs()[1:2]
    # Roles swapped in words of the passage's own, with no slot of it: the checker's catch.
    swapped = "Meta partially owns Anthropic, while Google collaborates with it [1]."
    by_checker = ChatBackend("x", Settings()).verifier(swapped, passage)
    by_rules = ChatBackend("x", Settings(verifier="rules")).verifier(swapped, passage)
    assert by_checker.citations == () and len(by_rules.citations) == 1
    with pytest.raises(ValueError, match="checker"):
        default_verifier("neural")


# --- hand-written training rows (evals/checker_handwritten.jsonl) -----------------------------


def _evals_module(name: str) -> ModuleType:
    return load_eval_script(name)


def test_the_hand_written_training_rows_are_references_off_the_evaluation_articles() -> None:
    root = Path(__file__).resolve().parent.parent
    rows = [json.loads(line) for line in (root / "evals" / "checker_handwritten.jsonl").open()]
    evaluated = {
        p["doc"]
        for line in (root / "evals" / "verify_set.jsonl").open()
        for p in json.loads(line)["passages"]
    }
    held_out = _evals_module("train_verifier").held_out
    assert len(rows) >= 250
    assert 0.4 <= sum(r["supported"] for r in rows) / len(rows) <= 0.6
    assert len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        assert r["half"] == "train" and r["sentence"].strip()
        for p in r["passages"]:  # offsets into a source, never its text
            assert set(p) == {"doc", "start", "end"} and 0 <= p["start"] < p["end"]
            if p["doc"].startswith("covid-qa:"):
                assert p["doc"] not in evaluated, p["doc"]
                assert not held_out(p["doc"].split(":", 1)[1]), p["doc"]
            else:
                text = (root / p["doc"]).read_text(encoding="utf-8")
                assert p["end"] <= len(text)


def test_hand_written_rows_become_rule_passing_pairs() -> None:
    train = _evals_module("train_checker")  # seed rows only: runs without covid-qa
    paragraph = [{"doc": "seeds/amazon-anthropic-investment.txt", "start": 455, "end": 1019}]
    rows: list[dict[str, Any]] = [
        {
            "id": "t-1",
            "sentence": "So far Amazon has put roughly eight billion dollars into Anthropic.",
            "supported": True,
            "kind": "paraphrase",
            "passages": paragraph,
        },
        {  # the amount is not in the passage: the rules drop it, so the checker never sees it
            "id": "t-2",
            "sentence": "Amazon has already invested around $9 billion in Anthropic.",
            "supported": False,
            "kind": "number",
            "passages": paragraph,
        },
        {  # every word and name is in the passage; only who owns and who collaborates is
            # changed, and no slot of the passage holds the sentence's: the rules pass it
            "id": "t-3",
            "sentence": "Meta partially owns Anthropic, while Google collaborates with it.",
            "supported": False,
            "kind": "role",
            "passages": paragraph,
        },
    ]
    pairs = train.labelled_pairs(rows, "hw-")
    assert {(p["label"], p["kind"]) for p in pairs} == {(1, "hw-paraphrase"), (0, "hw-role")}
    # Supported or not, a row gives the pairs the verifier asks the checker about at answer
    # time: the two best-covered spans that pass the rules (fewer when fewer pass), so the
    # choice of spans says nothing about the label.
    supported = [p for p in pairs if p["label"] == 1]
    assert len(supported) == 2
    assert all("around $8 billion" in p["premise"] for p in supported)
    roles = [p for p in pairs if p["label"] == 0]  # the two spans that hold "owned by Google"
    assert len(roles) == 2
    assert all("Anthropic remains partially owned by Google" in p["premise"] for p in roles)
    sv = _evals_module("score_verifier")
    for row in rows:
        (asked,) = assess(row["sentence"] + " [1]", sv.row_passages(row, None), None)
        premises = [p["premise"] for p in pairs if p["hypothesis"] == row["sentence"]]
        assert premises == [a.span.text for a in asked.attempts if a.score is not None]


def test_cross_validation_folds_and_row_scores_follow_the_verifier() -> None:
    train = _evals_module("train_checker")
    at = {"doc": "covid-qa:776.txt", "start": 1203, "end": 1400}
    folds = {
        train.handwritten_fold({"passages": [at, {"doc": d, "start": 0, "end": 9}]})
        for d in ("a", "b", "c")
    }
    assert len(folds) == 1  # by the first passage: a passage never sits in both folds
    # The best of the two best-covered spans; 0.9 covers least and is never asked.
    score = _evals_module("score_verifier")
    assert score.row_score([[(0.2, 0.9), (0.7, 0.8), (0.9, 0.5)]]) == 0.7
    assert score.row_score([[(0.8, 1.0)], []]) == -1.0  # a sentence the rules drop
    # kept() decides by the same score.
    assert score.kept({"tries": [[(0.2, 0.9), (0.7, 0.8)]]}, 0.7)
    assert not score.kept({"tries": [[(0.2, 0.9), (0.7, 0.8)]]}, 0.71)
    rows = [
        {"supported": True, "tries": [[(0.9, 1.0)]]},
        {"supported": True, "tries": [[(0.4, 1.0)]]},
        {"supported": False, "tries": [[(0.5, 1.0)]]},
        {"supported": False, "tries": [[]]},  # dropped by the rules: not ranked
    ]
    assert train.auc(rows) == 0.5
