"""CI gate: the shipped verifier (rules, then the learned tree checker, each cut-off
calibrated on the tune half) on evals/verify_set.jsonl must catch and keep at least what it
did when it was calibrated; so must the rule check alone (ASSISTANT_VERIFIER=rules).

The floors are min(target, measured) rounded down; the targets are caught >= 0.95 and
kept >= 0.90 (evals/score_verifier.py prints the figures). Measured with the checker
(threshold 0.257, coverage 0.65, chosen on tune to keep at least what the rules keep there)
and the Session 8 rules (evals/VERIFIER.md): confirm caught 0.934, kept 0.948; whole set
caught 0.969, kept 0.965; seed rows caught 0.917, kept 0.909. With the rules alone
(coverage 0.70): confirm caught 0.934, kept 0.931; whole set 0.969, 0.956; seed rows 0.917,
0.879. Before Session 8: checker 0.902/0.948 on confirm, rules alone 0.787/0.931.
Session 9's rules (same checker and cut-offs): the checker's figures unchanged; the rules
alone keep more (confirm 0.934/0.948, whole set 0.969/0.973, seed rows 0.917/0.939). Its
development file, evals/verify_dev_s9.jsonl (200 sentences written like a model's, blind to
the verifier), is gated too: checker caught 0.748, kept 0.732 (at the session's start 0.689,
0.619); rules alone 0.718, 0.825 (0.680, 0.691).
Then "yet" or "failed" before "to" read as a denial (answer/negation.py): confirm caught 0.951,
kept 0.948; whole set 0.977, 0.965 (it catches seed-056, "have already received" against "have
yet to receive"; the rule came from a chat about that very sentence, see evals/VERIFIER.md).
Session 10's rules (same checker and cut-offs; written from the development file's misses, so
its figures are in-sample): confirm unchanged (0.951/0.948, rules alone 0.951/0.948); seed
rows 0.938/0.909 (rules alone 0.938/0.939); development file checker 0.942/0.763, rules alone
0.893/0.907.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pytest
from evalscripts import load_eval_script

from assistant.answer.verifier_model import (
    MODEL_DIR,
    check_answer,
    default_scorer,
    load_calibration,
)
from assistant.answer.verify import SupportScorer

ROOT = Path(__file__).resolve().parent.parent

GATE_CAUGHT = 0.95  # the whole set, measured 0.969: the target
GATE_KEPT = 0.90  # measured 0.965: the target
CONFIRM_GATE_CAUGHT = 0.95  # the confirm half, measured 0.951: the target ("yet to" rule)
CONFIRM_GATE_KEPT = 0.90  # measured 0.948: the target
SEED_GATE_CAUGHT = 0.93  # the seed rows alone, both halves: measured 0.938 (Session 10)
SEED_GATE_KEPT = 0.90  # measured 0.909: the target
RULES_GATE_CAUGHT = 0.95  # the rules alone, whole set: measured 0.969: the target
RULES_GATE_KEPT = 0.90  # measured 0.956
RULES_SEED_GATE_CAUGHT = 0.93  # seed rows: measured 0.938 (Session 10)
RULES_SEED_GATE_KEPT = 0.90  # measured 0.939 (0.879 before Session 9): the target
DEV_GATE_CAUGHT = 0.94  # evals/verify_dev_s9.jsonl, checker: measured 0.942 (Session 10)
DEV_GATE_KEPT = 0.76  # measured 0.763 (Session 9: 0.732)
DEV_RULES_GATE_CAUGHT = 0.89  # rules alone: measured 0.893 (Session 9: 0.718)
DEV_RULES_GATE_KEPT = 0.90  # measured 0.907 (Session 9: 0.825): the target


def _scorer_module() -> ModuleType:
    return load_eval_script("score_verifier")


@pytest.fixture(scope="module")
def scorer() -> SupportScorer | None:
    return default_scorer()


@pytest.fixture(scope="module")
def cutoffs(scorer: SupportScorer | None) -> tuple[float, float]:
    calibration = load_calibration()
    threshold = scorer.threshold if scorer is not None else 0.5
    return threshold, calibration.min_coverage


@pytest.fixture(scope="module")
def scored(scorer: SupportScorer | None) -> list[dict]:
    sv = _scorer_module()
    rows, _ = sv.row_scores(sv.load_set(), scorer, sv.covid_dir())
    return rows


def test_the_set_is_big_enough_and_holds_every_failure_kind() -> None:
    sv = _scorer_module()
    rows = sv.load_set()
    assert len(rows) >= 200
    kinds = {r["kind"] for r in rows if not r["supported"]}
    assert kinds >= {"number", "entity", "negation", "world", "joined", "hedge"}
    assert {r["half"] for r in rows} == {"tune", "confirm"}
    for r in rows:  # covid-qa passages are references, never copies of the corpus
        assert set(r["passages"][0]) == {"doc", "start", "end"}


def test_calibration_was_chosen_on_the_tune_half(scorer: SupportScorer | None) -> None:
    calibration = json.loads((MODEL_DIR / "calibration.json").read_text())
    assert 0.0 < calibration["min_coverage"] < 1.0
    assert calibration["chosen_on"].startswith("tune half")
    # A checker is only used with a threshold calibrated for it.
    assert (scorer is None) == (calibration["threshold"] is None)
    assert 0.0 < calibration["rules"]["min_coverage"] < 1.0  # the rules' own cut-off
    assert calibration["rules"]["chosen_on"].startswith("tune half")


def test_gate_on_the_whole_set(scored: list[dict], cutoffs: tuple[float, float]) -> None:
    sv = _scorer_module()
    if sv.covid_dir() is None:
        pytest.skip("covid-qa is not beside the checkout (../shared/datasets/covid-qa)")
    caught, kept = sv.rates(scored, *cutoffs)
    assert caught >= GATE_CAUGHT, f"unsupported caught {caught:.3f} < gate {GATE_CAUGHT}"
    assert kept >= GATE_KEPT, f"supported kept {kept:.3f} < gate {GATE_KEPT}"


def test_gate_on_the_confirm_half(scored: list[dict], cutoffs: tuple[float, float]) -> None:
    sv = _scorer_module()
    if sv.covid_dir() is None:
        pytest.skip("covid-qa is not beside the checkout (../shared/datasets/covid-qa)")
    caught, kept = sv.rates([r for r in scored if r["half"] == "confirm"], *cutoffs)
    assert caught >= CONFIRM_GATE_CAUGHT, f"confirm: caught {caught:.3f} < {CONFIRM_GATE_CAUGHT}"
    assert kept >= CONFIRM_GATE_KEPT, f"confirm: kept {kept:.3f} < {CONFIRM_GATE_KEPT}"


def test_the_shipped_verifier_is_the_learned_checker(scorer: object) -> None:
    from assistant.answer.checker import TreeChecker

    assert isinstance(scorer, TreeChecker)


def test_gate_on_the_rules_alone() -> None:
    sv = _scorer_module()
    rows, _ = sv.row_scores(sv.load_set(), None, sv.covid_dir())
    cover = load_calibration(MODEL_DIR, "rules").min_coverage
    caught, kept = sv.rates([r for r in rows if r["source"] == "seed"], 0.5, cover)
    assert caught >= RULES_SEED_GATE_CAUGHT and kept >= RULES_SEED_GATE_KEPT, (caught, kept)
    if sv.covid_dir() is None:
        return
    caught, kept = sv.rates(rows, 0.5, cover)
    assert caught >= RULES_GATE_CAUGHT, f"rules: caught {caught:.3f} < {RULES_GATE_CAUGHT}"
    assert kept >= RULES_GATE_KEPT, f"rules: kept {kept:.3f} < {RULES_GATE_KEPT}"


def test_gate_on_the_development_rows(cutoffs: tuple[float, float]) -> None:
    """The blind development file: hand-written sentences of the kinds a chat model writes,
    far harder than the set's templates; a floor so that its gains are not lost again."""
    sv = _scorer_module()
    if sv.covid_dir() is None:
        pytest.skip("covid-qa is not beside the checkout (../shared/datasets/covid-qa)")
    rows = sv.load_set(ROOT / "evals" / "verify_dev_s9.jsonl")
    assert len(rows) >= 150 and {r["half"] for r in rows} == {"dev"}
    scored, _ = sv.row_scores(rows, default_scorer(), sv.covid_dir())
    caught, kept = sv.rates(scored, *cutoffs)
    assert caught >= DEV_GATE_CAUGHT and kept >= DEV_GATE_KEPT, (caught, kept)
    by_rules, _ = sv.row_scores(rows, None, sv.covid_dir())
    caught, kept = sv.rates(by_rules, 0.5, load_calibration(MODEL_DIR, "rules").min_coverage)
    assert caught >= DEV_RULES_GATE_CAUGHT and kept >= DEV_RULES_GATE_KEPT, (caught, kept)


def test_gate_on_the_seed_rows(scored: list[dict], cutoffs: tuple[float, float]) -> None:
    sv = _scorer_module()
    caught, kept = sv.rates([r for r in scored if r["source"] == "seed"], *cutoffs)
    assert caught >= SEED_GATE_CAUGHT, f"seed: caught {caught:.3f} < {SEED_GATE_CAUGHT}"
    assert kept >= SEED_GATE_KEPT, f"seed: kept {kept:.3f} < {SEED_GATE_KEPT}"


def test_shipped_check_keeps_a_faithful_answer_and_drops_planted_errors() -> None:
    sv = _scorer_module()
    text = (ROOT / "seeds" / "amazon-anthropic-investment.txt").read_text(encoding="utf-8")
    bounds = [(0, i) for i in [text.index("\n")]] + [(text.index("\n") + 1, len(text))]
    row = {
        "passages": [
            {"doc": "seeds/amazon-anthropic-investment.txt", "start": a, "end": b}
            for a, b in bounds
        ]
    }
    passages = sv.row_passages(row, None)
    v = check_answer(
        "Amazon has already invested about $8 billion in Anthropic [2]. "
        "Anthropic is partially owned by Google. "
        "Amazon is supporting Anthropic with custom chips and data centers [2]. "
        "Amazon has invested $12 billion in Anthropic [2]. "
        "Amazon's stake in Anthropic is exclusive [1]. "
        "Anthropic, founded by former OpenAI researchers in 2021, runs on renewable energy.",
        passages,
    )
    assert [d.sentence.split()[-1] for d in v.dropped] == ["Anthropic.", "exclusive.", "energy."]
    assert len(v.citations) == 3
    for c in v.citations:
        assert text[c.start : c.end] == c.quote


def test_the_checker_is_calibrated_to_keep_what_the_rules_keep() -> None:
    sv = _scorer_module()

    def row(score: float, supported: bool) -> dict:
        return {"supported": supported, "tries": [[(score, 1.0)]]}

    rows = [row(0.9, True), row(0.3, True), row(0.1, False), row(0.2, False)]
    assert sv.choose_no_harm(rows, 1.0, coverages=(0.0,)) == (0.25, 0.0)
    # A floor no cut-off reaches (the row covers too little): the checker accepts everything.
    thin = {"supported": True, "tries": [[(0.9, 0.2)]]}
    assert sv.choose_no_harm([thin], 1.0, coverages=(0.5,)) == (0.0, 0.5)
