"""An amount asked for by its attribute (revenue, price, valuation, ...) is that attribute's
figure: the refusal feature type_detached holds the attribute to the amount's clause, and
evals/refusal_curve.py reads the threshold curve the operating point was chosen on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evalscripts import load_eval_script

from assistant.answer.features import attribute_terms, evidence_features

ROOT = Path(__file__).resolve().parents[1]
INVESTED = "Amazon has invested $8 billion in Anthropic."


def idf(_term: str) -> float:
    return 1.0


def test_attribute_terms_are_the_amount_attributes_a_question_names() -> None:
    assert attribute_terms("What was Anthropic's revenue last year?") == {"revenu"}
    assert attribute_terms("What is the price of a share?") == {"price"}
    assert attribute_terms("How much has Amazon invested in Anthropic?") == set()


def test_another_figure_of_the_subject_does_not_answer_its_revenue() -> None:
    asked = "What was Anthropic's revenue last year?"
    features = evidence_features(asked, [(INVESTED, 0.5)], [INVESTED], idf)

    assert features.type_detached == 1.0


def test_the_attributes_own_figure_answers_it() -> None:
    stated = "Anthropic's revenue reached $1 billion last year."
    features = evidence_features(
        "What was Anthropic's revenue last year?", [(stated, 0.7)], [stated], idf
    )

    assert features.type_detached == 0.0


def test_an_amount_asked_without_an_attribute_is_unchanged() -> None:
    features = evidence_features(
        "How much has Amazon invested in Anthropic?", [(INVESTED, 0.8)], [INVESTED], idf
    )

    assert features.type_detached == 0.0


def _curve_script() -> Any:
    return load_eval_script("refusal_curve")


def test_the_curve_refuses_below_the_threshold_and_counts_gold_only_when_answered() -> None:
    rows = [
        {"kind": "answerable", "answerable": True, "p": 0.10, "always_refused": False,
         "contains": True, "short_gold": True},
        {"kind": "answerable", "answerable": True, "p": 0.50, "always_refused": False,
         "contains": False, "short_gold": False},
        {"kind": "swap_entity", "answerable": False, "p": 0.08, "always_refused": False,
         "contains": False, "short_gold": False},
        {"kind": "swap_entity", "answerable": False, "p": 0.90, "always_refused": True,
         "contains": False, "short_gold": False},
    ]  # fmt: skip
    low, high = _curve_script().curve(rows, (0.05, 0.2))

    assert low["refused"] == {"answerable": 0.0, "swap_entity": 0.5}  # the veto still refuses
    assert low["contains"] == 0.5 and low["contains_short"] == 1.0
    assert high["refused"] == {"answerable": 0.5, "swap_entity": 1.0}
    assert high["contains"] == 0.0 and high["contains_answered"] == 0.0
