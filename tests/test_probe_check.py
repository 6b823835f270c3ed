"""The shared checkers of the question sets: evals/probe_check.py (the SQuAD-style sets'
validate.py) and evals/seed_blind_check.py (also run by seed_blind2_check.py). Fast, no model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

EVALS = Path(__file__).resolve().parent.parent / "evals"
# Imported by name, as the sets' scripts import them (their dataclasses need sys.modules).
sys.path.append(str(EVALS))  # last: no test module is shadowed
import probe_check as probe  # noqa: E402
import seed_blind_check as seed  # noqa: E402

ITEM = {
    "id": "a-01",
    "question": "When?",
    "answers": ["1872"],
    "doc": "a.txt",
    "answer_start": 0,
    "kind": "answerable",
}
SHORT = probe.Layout(per_doc=2, answerable_per_doc=1, max_answers=1, max_words=2, docs=1)


def test_check_item_finds_a_shifted_span_and_the_layouts_limits() -> None:
    docs = {"a.txt": "1872 was the year."}
    assert probe.check_item(ITEM, docs, probe.Layout()) == []
    assert probe.check_item({**ITEM, "answer_start": 1}, docs, probe.Layout()) == [
        "gold '1872' is not at offset 1"
    ]
    long = {**ITEM, "answers": ["1872", "was the year"]}
    assert probe.check_item(long, docs, probe.Layout()) == []
    assert probe.check_item(long, docs, SHORT) == [
        "2 gold answers: give at most 1",
        "gold 'was the year' is longer than 2 words",
    ]
    assert probe.check_item({**ITEM, "kind": "negation"}, docs, probe.Layout()) == [
        "an unanswerable (negation) question needs answers [] and answer_start 0"
    ]


def test_a_layout_gives_both_per_passage_counts_or_neither() -> None:
    with pytest.raises(ValueError):
        probe.Layout(per_doc=7)


def test_validate_reports_lines_and_the_set_as_a_whole(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("1872 was the year.", encoding="utf-8")
    (tmp_path / "docs" / "b.txt").write_text("Another passage.", encoding="utf-8")
    lines = [json.dumps(ITEM), json.dumps({**ITEM, "kind": "bogus", "answers": []}), "{"]
    (tmp_path / "questions.jsonl").write_text("\n".join(lines), encoding="utf-8")
    problems, kinds = probe.validate(tmp_path, SHORT)
    text = [str(p) for p in problems]
    assert text[0].startswith("questions.jsonl:2: unknown kind 'bogus'")
    assert text[1] == "questions.jsonl:2: duplicate id a-01"
    assert text[2].startswith("questions.jsonl:3: not JSON")
    assert text[3:] == [
        "questions.jsonl: docs/b.txt has no questions",
        "questions.jsonl: 2 documents in docs/ (want 1)",
    ]
    assert kinds == {"answerable": 1, "bogus": 1}
    # Without counts asked, only the lines are checked.
    assert len(probe.validate(tmp_path, probe.Layout())[0]) == 3


@pytest.mark.parametrize(
    "script",
    [
        "squadlike2/validate.py",
        "squadlike3/validate.py",
        "squadlike4/validate.py",
        "squadlike5/validate.py",
        "squadlike6/validate.py",
        "squadlike7/validate.py",
        "squadlike8/validate.py",
        "squadlike9/validate.py",
        "squadlike10/validate.py",
        "squadlike11/validate.py",
        "squadlike12/validate.py",
        "squadlike13/validate.py",
        "squadlike14/validate.py",
        "squadlike15/validate.py",
        "squadlike16/validate.py",
        "squadlike17/validate.py",
        "squadlike18/validate.py",
        "seed_blind_check.py",
        "seed_blind2_check.py",
        "seed_blind10_check.py",
        "seed_blind11_check.py",
        "seed_blind12_check.py",
        "seed_blind13_check.py",
        "seed_blind14_check.py",
        "seed_blind15_check.py",
        "seed_blind16_check.py",
        "seed_blind17_check.py",
        "seed_blind18_check.py",
        "seed_blind19_check.py",
        "seed_blind20_check.py",
    ],
)
def test_each_sets_command_line_passes_on_its_set(script: str) -> None:
    done = subprocess.run(
        [sys.executable, str(EVALS / script)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    last = done.stdout.splitlines()[-1]
    assert " questions: answerable " in last or last.endswith("problems: 0")


def test_seed_blind_rules_set_the_history_and_quote_checks() -> None:
    article = "Amazon invested $8 billion in Anthropic."
    item = {
        "id": "f",
        "category": "followup",
        "question": "And then?",
        "facts": [["$8 billion"]],
        "sources": [seed.ARTICLE],
        "history": [
            {"role": "user", "content": "How much?"},
            {"role": "assistant", "content": "The documents don't say. [1]"},
            {"role": "user", "content": "Sure?"},
        ],
    }
    data = {"questions": [item]}
    assert seed.check(data, article)[0] == ["f: assistant turn 1 does not quote the article"]
    strict = seed.Rules(held_out=True, strict_history=True, quote_parts=True)
    assert seed.check(data, article, strict)[0] == ["f: history should end on an assistant turn"]
    assert seed.quoted_parts("A b. [1] C d. [2]") == ["A b.", "C d."]
