"""The refusal sets in evals/refusal/ are what evals/make_refusal_sets.py makes of covid-qa
and the seed article: a change to the generator shows in the committed files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from evalscripts import load_eval_script

ROOT = Path(__file__).resolve().parents[1]
COVID = ROOT.parent / "shared" / "datasets" / "covid-qa"


@pytest.mark.skipif(not COVID.is_dir(), reason="the covid-qa data set is not on this machine")
def test_the_committed_covid_set_is_what_the_generator_makes() -> None:
    script = load_eval_script("make_refusal_sets")
    names = script.subset_names(COVID, script.SUBSET_CHARS)
    docs = {name: (COVID / "docs" / name).read_text(encoding="utf-8") for name in names}
    questions = [json.loads(line) for line in (COVID / "questions.jsonl").open()]
    made = script.make_covid([q for q in questions if q["doc"] in docs], script.Corpus(docs))
    committed = [json.loads(line) for line in (script.OUT / "covid-qa.jsonl").open()]
    assert made == committed


def test_a_negated_question_asks_what_the_thing_is_not() -> None:
    script = load_eval_script("make_refusal_sets")
    asked = "What is the incubation period of MERS?"
    copula = script._COPULA.match(asked)
    assert copula is not None
    assert f"{asked[: copula.end()]} not{asked[copula.end() :]}" == (
        "What is not the incubation period of MERS?"
    )
    # A question picking from a ranking is not turned: its other items would answer it.
    assert script._RANKED.search("What is the most common species of coronavirus?")
    # Nor a copula inside a relative clause ("cases who were aged 65").
    assert script._COPULA.match("What happened to three cases who were aged 65?") is None
