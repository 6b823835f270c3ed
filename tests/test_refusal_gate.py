"""CI gate: issue 10's figures on the confirm half of the refusal sets, as `assistant eval`
reports them (evals/export_refusal_sets.py writes the half as two data set folders).

The floors and ceilings are the figures measured when the gate was last set (2026-11-30,
session 10: a count counts what the question counts, a leader is a human being, a swapped
name read in document order, a denial checked against the sentences that would answer, and
the refusal sets' new negation kind), rounded against the change:

covid-qa-confirm (19 articles, 287 answerable, 211 adversarial, 55 negated, 32 off-topic
questions): answerable refused 0.049, unanswerable refused 0.782 (adversarial 0.735,
negated 0.836, off-topic 1.000), answer contains gold 0.693 (0.729 of those answered),
retrieval hit@5 0.892, median 2 sentences, no duplicated quote.
seed-confirm (the seed article, 14 answerable, 57 adversarial, 32 off-topic): answerable
refused 0, unanswerable refused 0.798 (adversarial 0.684), contains gold 1.000, median 2.

Session 9 traded adversarial refusals for answerable ones on purpose (evals/refusal/README.md,
"Session 9"); session 10 took the adversarial floors back up (0.70 -> 0.73, 0.59 -> 0.68)
with no answerable question more refused. Session 11 (a doer the question names told of
another, a sentence pointing back to its passage's subject, numbers in names and years,
denials no sentence matches, a percentage of what): covid-qa-confirm answerable refused
0.045, adversarial 0.744 (swap_entity 0.692, swap_number 0.769, absent 0.798), negated
0.873, contains gold 0.697 (0.730); seed-confirm adversarial 0.789 (swap_entity 0.474).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from evalscripts import load_eval_script

from assistant import Settings
from assistant.embedding import build_embedder
from assistant.evals import EvalResult, run_eval

pytestmark = pytest.mark.model

ROOT = Path(__file__).resolve().parents[1]
COVID = ROOT.parent / "shared" / "datasets" / "covid-qa"  # beside the checkout, as in CI

ADVERSARIAL = ("swap_entity", "swap_number", "absent_attribute")

COVID_GATES = {
    "answerable_refused": 0.05,  # a ceiling; the target is 0.05
    "unanswerable_refused": 0.79,  # measured 0.795 (session 11)
    "answer_containment": 0.69,  # the target is 0.85
    "containment_when_answered": 0.72,
    "retrieval_hit_at_k": 0.88,
    "median_sentences": 2,
    "duplicated_quotes": 0,
}
SEED_GATES = {
    "answerable_refused": 0.0,
    "unanswerable_refused": 0.86,  # measured 0.865 (session 11)
    "answer_containment": 0.99,
    "median_sentences": 2,
    "duplicated_quotes": 0,
}


def _export_script() -> Any:
    return load_eval_script("export_refusal_sets")


def _refused(result: EvalResult, kinds: tuple[str, ...]) -> float:
    """Share of the questions of these kinds refused (each kind's rows are unanswerable)."""
    rows = [r for r in result.items if r.item.kind in kinds]
    return sum(r.refused for r in rows) / len(rows)


@pytest.mark.skipif(not COVID.is_dir(), reason="the covid-qa data set is not on this machine")
def test_confirm_half_meets_issue_10_gates(tmp_path: Path) -> None:
    covid, seed = _export_script().export("confirm", COVID, tmp_path / "sets")
    embedder = build_embedder(Settings(show_progress=False))
    results = {}
    for folder, gates in ((covid, COVID_GATES), (seed, SEED_GATES)):
        result = run_eval(
            folder,
            out_dir=tmp_path / "runs",
            index_dir=tmp_path / "index" / folder.name,
            thresholds=gates,
            embedder=embedder,
            progress=False,
        )
        assert result.passed, f"{folder.name}: " + ", ".join(map(str, result.gate_failures))
        assert result.metrics["quote_accuracy"] == 1.0
        results[folder.name] = result
    covid_run, seed_run = results[covid.name], results[seed.name]
    # The issue's targets for the two kinds of unanswerable question, each on its own.
    assert _refused(covid_run, ("offtopic",)) >= 0.95
    assert _refused(seed_run, ("offtopic",)) >= 0.95
    assert _refused(covid_run, ADVERSARIAL) >= 0.74  # measured 0.744; the target is 0.60
    assert _refused(seed_run, ADVERSARIAL) >= 0.78  # measured 0.789
    # SQuAD 2.0's commonest unanswerable kind after swaps: "What is not X?"
    assert _refused(covid_run, ("negation",)) >= 0.87  # measured 0.873


PROBE = ROOT / "evals" / "squadlike"
# The SQuAD-2.0-style probe (evals/squadlike: 16 short passages written blind to the code in
# session 11, 80 answerable and 48 adversarial questions). Measured 2026-11-30, session 11:
# answerable refused 0.075 (main before the session: 0.113), unanswerable refused 0.625
# (0.521), contains gold 0.887 (0.812; 0.959 of those answered), median 2 sentences. Both of
# its halves have been read (its README), so this holds what was reached, nothing more.
PROBE_GATES = {
    "answerable_refused": 0.08,  # a ceiling; the target is 0.05
    "unanswerable_refused": 0.62,
    "answer_containment": 0.88,  # the target is 0.85
    "containment_when_answered": 0.95,
    "median_sentences": 2,
    "duplicated_quotes": 0,
}


def test_squad_style_probe_meets_its_gates(tmp_path: Path) -> None:
    result = run_eval(
        PROBE,
        out_dir=tmp_path / "runs",
        index_dir=tmp_path / "index",
        thresholds=PROBE_GATES,
        embedder=build_embedder(Settings(show_progress=False)),
        progress=False,
    )
    assert result.passed, "squadlike: " + ", ".join(map(str, result.gate_failures))
    assert result.metrics["quote_accuracy"] == 1.0
