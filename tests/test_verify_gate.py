"""CI gate: the shipped verifier (rules, calibrated coverage cut-off, and the learned checker
when one is installed) on evals/verify_set.jsonl must catch and keep at least what it did
when it was calibrated.

The floors are min(target, measured on the confirm half) rounded down; the targets are
caught >= 0.95 and kept >= 0.90 (evals/score_verifier.py prints the figures). Measured with
the rules and coverage 0.70 (no checker installed): confirm caught 0.787, kept 0.931; whole
set caught 0.875, kept 0.947; seed rows caught 0.812, kept 0.848.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from assistant.answer.verifier_model import (
    MODEL_DIR,
    OnnxSupportScorer,
    check_answer,
    default_scorer,
    load_calibration,
)

ROOT = Path(__file__).resolve().parent.parent

GATE_CAUGHT = 0.78  # measured 0.787 on confirm (target 0.95 not reached)
GATE_KEPT = 0.90  # measured 0.931 on confirm: the target
SEED_GATE_CAUGHT = 0.81  # the seed rows alone, both halves: measured 0.812
SEED_GATE_KEPT = 0.84  # measured 0.848


def _scorer_module():
    spec = importlib.util.spec_from_file_location(
        "score_verifier", ROOT / "evals" / "score_verifier.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def scorer() -> OnnxSupportScorer | None:
    return default_scorer()


@pytest.fixture(scope="module")
def cutoffs(scorer: OnnxSupportScorer | None) -> tuple[float, float]:
    calibration = load_calibration()
    threshold = scorer.threshold if scorer is not None else 0.5
    return threshold, calibration.min_coverage


@pytest.fixture(scope="module")
def scored(scorer: OnnxSupportScorer | None) -> list[dict]:
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


def test_calibration_was_chosen_on_the_tune_half(scorer: OnnxSupportScorer | None) -> None:
    calibration = json.loads((MODEL_DIR / "calibration.json").read_text())
    assert 0.0 < calibration["min_coverage"] < 1.0
    assert calibration["chosen_on"].startswith("tune half")
    # A checker is only used with a threshold calibrated for it.
    assert (scorer is None) == (calibration["threshold"] is None)


def test_gate_on_the_whole_set(scored: list[dict], cutoffs: tuple[float, float]) -> None:
    sv = _scorer_module()
    if sv.covid_dir() is None:
        pytest.skip("covid-qa is not beside the checkout (../shared/datasets/covid-qa)")
    caught, kept = sv.rates(scored, *cutoffs)
    assert caught >= GATE_CAUGHT, f"unsupported caught {caught:.3f} < gate {GATE_CAUGHT}"
    assert kept >= GATE_KEPT, f"supported kept {kept:.3f} < gate {GATE_KEPT}"


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
