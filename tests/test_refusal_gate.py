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
Session 12's rules (a phrase turned around, "who" answered by someone, a year told of
something else, a name doing the question's deed, "fail to" and "no longer") are read from
the SQuAD-style probes and left both confirm halves exactly as they were: the same figures.
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
    "unanswerable_refused": 0.84,  # measured 0.846 (session 25; 0.819, 0.795 in 11)
    "answer_containment": 0.69,  # the target is 0.85
    "containment_when_answered": 0.72,
    "retrieval_hit_at_k": 0.88,
    "median_sentences": 2,
    "duplicated_quotes": 0,
}
SEED_GATES = {
    "answerable_refused": 0.0,
    "unanswerable_refused": 0.87,  # measured 0.876 (session 24; 0.865 in 11)
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
    # measured 0.810 (session 25: a role asked of "who" told; 0.773, 0.744 in 11); the target
    # is 0.60
    assert _refused(covid_run, ADVERSARIAL) >= 0.80
    assert _refused(seed_run, ADVERSARIAL) >= 0.80  # measured 0.807 (session 24; 0.789)
    # SQuAD 2.0's commonest unanswerable kind after swaps: "What is not X?"
    assert _refused(covid_run, ("negation",)) >= 0.89  # measured 0.891 (0.873 in 11)


PROBES = ROOT / "evals"
# The SQuAD-2.0-style probes, written blind to the code: evals/squadlike (session 11; 16
# passages, 80 answerable and 48 adversarial questions) and evals/squadlike2 (session 11; 20
# passages, 80 and 60). Both were held out until read, squadlike in session 11 and
# squadlike2 in session 12, so each holds what was reached, nothing more. Measured
# 2026-11-30, session 12 (session 11's figures in brackets): squadlike answerable refused
# 0.062 (0.075), unanswerable refused 0.729 (0.625), contains gold 0.900 (0.887; 0.960 of
# those answered); squadlike2 0.075 (0.087), 0.633 (0.450), 0.912 (0.900; 0.986); median 2.
# Session 14 raised the unanswerable gates to its figures: squadlike 0.750, squadlike2 0.650,
# squadlike4 0.642 (a year that dates something is no amount; everyday opposites beside the
# question's own word). Session 17 raised them again (a thing's name asked for, a count of
# something else, a comparison with the plan, a population): squadlike 0.771, squadlike2
# 0.667, squadlike4 0.675, and gated squadlike8. Session 18 (a deed the lead denies, money
# and an institution's kind told, trends and values turned, a name given beside its thing,
# everyday paraphrases) moved them to its figures and gated squadlike7 once read; session 19
# (the noun of an answer's kind and a measure said by a value, story adverbs, deeds and
# superlatives turned round) likewise, and gated squadlike9 once read. Session 20 gated
# squadlike10 once read, session 21 squadlike11. Session 24 chose to answer unsure questions
# that show no sign of a swap (Settings.refusal_floor): fewer answerable questions refused on
# every set, held-out squadlike12 to 14 included (0.150 / 0.169 / 0.200 -> 0.113 / 0.113 /
# 0.131), for a few adversarial ones answered (held out: 0.500 / 0.542 / 0.558 -> 0.492 /
# 0.542 / 0.550); its gates below are the new figures, the old ones in brackets. Answering
# more also lowers containment when answered while containment itself rises. Session 25
# (a role or deed asked of "who" told, a refusal or stop asked of "why" told, a weight, an
# age, a rate or a title told; a denial in a clause picking out some of a kind no veto)
# raised the unanswerable gates where they moved and gated squadlike12, 13 and 14, declared
# development sets at its start (new blind sets, squadlike15 and 16, are held out).
PROBE_GATES = {
    "squadlike": {
        # measured 0.050 (0.037 in session 19, 0.062 at session 18's start): session 20's
        # why-rule refuses "Why did Marsh found Greyhouse?", its reason told by "after a
        # dispute", no marker of a reason (evals/refusal/README.md, session 20)
        "answerable_refused": 0.03,  # measured 0.025 (session 24; 0.050)
        "unanswerable_refused": 0.75,  # measured 0.750 (session 24; 0.771)
        "answer_containment": 0.96,  # measured 0.963 (session 24; 0.938, 0.950 in 19, 0.925)
        "containment_when_answered": 0.98,  # measured 0.987
        "median_sentences": 2,
        "duplicated_quotes": 0,
    },
    "squadlike2": {
        "answerable_refused": 0.02,  # measured 0.013 (session 24; 0.050, 0.075 in 19)
        "unanswerable_refused": 0.70,  # measured 0.700 (session 25; 0.667, 0.683)
        "answer_containment": 0.97,  # measured 0.975 (session 24; 0.938, 0.912)
        "containment_when_answered": 0.98,  # measured 0.987
        "median_sentences": 2,
        "duplicated_quotes": 0,
    },
    # Written blind in session 13 as 8 articles of 5 paragraphs (siblings share names), read
    # as a development set from its first scoring (0.087 / 0.550 then).
    "squadlike4": {
        "answerable_refused": 0.04,  # measured 0.037 (session 24; 0.044, 0.069 in 18)
        "unanswerable_refused": 0.70,  # measured 0.700 (session 25; 0.683, 0.708, 0.575 in 14)
        "answer_containment": 0.91,  # measured 0.919 (0.912, 0.887)
        "containment_when_answered": 0.95,  # measured 0.955
        "median_sentences": 2,
        "duplicated_quotes": 0,
    },
    # Written blind in session 17 (6 articles of 4 paragraphs, 96 answerable and 24
    # adversarial questions) to find answerable questions wrongly refused; a development set
    # from the start (0.208 / 0.208 / 0.781 at the session-17 start code).
    "squadlike8": {
        # measured 0.083 (0.073 in session 19, 0.115 at session 18's start): session 20
        # refuses "What was the faint companion called?", which had been answered without
        # its gold from "Mei Tanaka found a faint companion" (no name of the companion's own
        # phrase); containment is unchanged, containment when answered up 0.978 -> 0.989
        "answerable_refused": 0.05,  # measured 0.042 (session 24; 0.083)
        "unanswerable_refused": 0.54,  # measured 0.542 (session 20; 0.500, 0.208)
        "answer_containment": 0.93,  # measured 0.938 (session 24; 0.906, 0.875)
        "containment_when_answered": 0.97,  # measured 0.978 (session 24; 0.989)
        "median_sentences": 2,
        "duplicated_quotes": 0,
    },
    # Written blind in session 17 (8 articles of 5 paragraphs, 160 answerable and 120
    # adversarial questions), held out until read at session 18's start (0.050 / 0.542 /
    # 0.938 then).
    "squadlike7": {
        "answerable_refused": 0.03,  # measured 0.025 (0.031 at session 19's start)
        "unanswerable_refused": 0.67,  # measured 0.675 (as in session 20; 0.667)
        "answer_containment": 0.96,  # measured 0.963 (0.956)
        "containment_when_answered": 0.98,  # measured 0.987
        "median_sentences": 1,
        "duplicated_quotes": 0,
    },
    # Written blind in session 18 (8 articles of 5 paragraphs, 160 answerable and 120
    # adversarial questions), held out until read at session 19's start (0.150 / 0.583 /
    # 0.806 then).
    "squadlike9": {
        "answerable_refused": 0.09,  # measured 0.081 (session 24; 0.106)
        "unanswerable_refused": 0.70,  # measured 0.700 (session 25; 0.683, 0.675, 0.667)
        "answer_containment": 0.87,  # measured 0.875 (session 24; 0.850)
        "containment_when_answered": 0.95,  # measured 0.952
        "median_sentences": 1,
        "duplicated_quotes": 0,
    },
    # Written blind in session 19 (8 articles of 5 paragraphs, 160 answerable and 120
    # adversarial questions), held out until read at session 20's start (scored three times,
    # 0.175 / 0.442 / 0.769 each time). Its answerables are paraphrased far from their
    # paragraphs: the refusal model's probability ranks its answerable and adversarial
    # questions no better than chance (evals/refusal/README.md, session 20).
    "squadlike10": {
        "answerable_refused": 0.08,  # measured 0.075 (session 25; 0.081, 0.175)
        "unanswerable_refused": 0.52,  # measured 0.525 (session 25; 0.483, 0.458)
        "answer_containment": 0.85,  # measured 0.856 (session 25; 0.850, 0.769)
        "containment_when_answered": 0.92,  # measured 0.925 (session 24; 0.932)
        # 2 since session 24: about half its answers are one sentence (99 of 197 before), a
        # median on the edge; the newly answered questions have 1 to 6 sentences
        "median_sentences": 2,
        "duplicated_quotes": 0,
    },
    # Scored a second time at session 21's start, then a development set: nothing of
    # session 21 moved any of its items (its paraphrases are the open part of issue 10).
    "squadlike11": {
        "answerable_refused": 0.08,  # measured 0.075 (session 25; 0.087, 0.181)
        "unanswerable_refused": 0.58,  # measured 0.583 (session 25; 0.533, 0.542)
        "answer_containment": 0.82,  # measured 0.825 (session 25; 0.812, 0.750)
        "containment_when_answered": 0.89,  # measured 0.890 (session 24; 0.916)
        "median_sentences": 2,
        "duplicated_quotes": 0,
    },
    # Written blind in sessions 21, 22 and 23 (8 articles of 5 paragraphs each), held out and
    # scored five or six times, then read from session 25's start (its figures then in
    # brackets: 3019e6d's rules with session 24's floor).
    "squadlike12": {
        "answerable_refused": 0.09,  # measured 0.087 (0.100)
        "unanswerable_refused": 0.57,  # measured 0.575 (0.508)
        "answer_containment": 0.87,  # measured 0.875 (0.863)
        "containment_when_answered": 0.95,  # measured 0.959
        "median_sentences": 1,
        "duplicated_quotes": 0,
    },
    "squadlike13": {
        "answerable_refused": 0.09,  # measured 0.081 (0.100)
        "unanswerable_refused": 0.63,  # measured 0.633 (0.550)
        "answer_containment": 0.84,  # measured 0.844 (0.825)
        "containment_when_answered": 0.91,  # measured 0.918
        "median_sentences": 2,
        "duplicated_quotes": 0,
    },
    "squadlike14": {
        "answerable_refused": 0.10,  # measured 0.100 (0.113)
        "unanswerable_refused": 0.63,  # measured 0.633 (0.550)
        "answer_containment": 0.76,  # measured 0.762 (0.756)
        "containment_when_answered": 0.84,  # measured 0.847
        "median_sentences": 2,  # measured 1.5
        "duplicated_quotes": 0,
    },
}


@pytest.mark.parametrize("probe", sorted(PROBE_GATES))
def test_squad_style_probe_meets_its_gates(probe: str, tmp_path: Path) -> None:
    result = run_eval(
        PROBES / probe,
        out_dir=tmp_path / "runs",
        index_dir=tmp_path / "index",
        thresholds=PROBE_GATES[probe],
        embedder=build_embedder(Settings(show_progress=False)),
        progress=False,
    )
    assert result.passed, f"{probe}: " + ", ".join(map(str, result.gate_failures))
    assert result.metrics["quote_accuracy"] == 1.0
