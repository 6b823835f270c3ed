"""The eval suite end to end with the real packaged model.

test_seed_set_meets_its_gates IS the CI gate: it runs evals/seed.yaml and fails when a
metric falls below its threshold in that file. The covid-qa test checks retrieval on a real,
external data set (a fixed subset of its documents, so the index builds in seconds).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from assistant import Settings
from assistant.embedding import Embedder, build_embedder
from assistant.evals import load_set, run_eval

pytestmark = pytest.mark.model

ROOT = Path(__file__).resolve().parents[1]
SEED_SET = ROOT / "evals" / "seed.yaml"
COVID = ROOT.parent / "shared" / "datasets" / "covid-qa"  # beside the checkout, as in CI
OUTPUTS = ("results.jsonl", "summary.json", "report.md", "scores_by_category.png")

# Every 15th article of covid-qa (7 of 98, about 140 KB, 72 questions) and 40 of their
# questions, evenly spaced: the full corpus (2.3 MB) takes minutes to embed on 2 cores.
COVID_DOC_STEP = 15
COVID_LIMIT = 40


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    # One model load for both runs, with the default encoder.
    return build_embedder(Settings(show_progress=False))


def test_seed_set_meets_its_gates(tmp_path: Path, embedder: Embedder) -> None:
    result = run_eval(SEED_SET, out_dir=tmp_path / "runs", embedder=embedder, progress=False)
    for name in OUTPUTS:
        assert (result.run_dir / name).is_file(), name
    summary = json.loads((result.run_dir / "summary.json").read_text(encoding="utf-8"))
    qset = load_set(SEED_SET)
    # Every metric is measured on the full seed set (it has every category).
    assert set(summary["metrics"]) == set(qset.metrics)
    assert all(v is not None for v in summary["metrics"].values()), summary["metrics"]
    assert set(summary["by_category"]) == {i.category for i in qset.items}
    assert {"embed", "compose", "total"} <= set(summary["latency"])
    rows = (result.run_dir / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(rows) == len(qset.items)
    # Every quote the assistant gives is the document's own text at its offsets.
    assert summary["metrics"]["quote_accuracy"] == 1.0

    failing = "\n".join(
        f"  {r.item.id}: {'; '.join(r.problems)}" for r in result.items if r.problems
    )
    assert result.passed, (
        "seed set below its thresholds: "
        + ", ".join(str(f) for f in result.gate_failures)
        + f"\nquestions with problems:\n{failing}"
    )


@pytest.mark.parametrize(
    "name",
    [
        "seed_blind.yaml",
        "seed_blind2.yaml",
        "seed_blind3.yaml",
        "seed_blind4.yaml",
        "seed_blind5.yaml",
        "seed_blind6.yaml",
        "seed_blind7.yaml",
        "seed_blind8.yaml",
        "seed_blind9.yaml",
        "seed_blind10.yaml",
        "seed_blind11.yaml",
        "seed_blind12.yaml",
        "seed_blind13.yaml",
        "seed_blind16.yaml",
    ],
)
def test_blind_seed_set_meets_its_gates(name: str, tmp_path: Path, embedder: Embedder) -> None:
    # Seed-article questions written blind by someone who never saw the code or seed.yaml
    # (evals/seed_blind.md, seed_blind2.md to seed_blind13.md and seed_blind16.md;
    # seed_blind14, 15, 17 and 18 are held out): paraphrases, syntheses, follow-ups and
    # questions the article does not answer, gated at the figures reached once read.
    result = run_eval(
        ROOT / "evals" / name,
        out_dir=tmp_path / "runs",
        embedder=embedder,
        progress=False,
    )
    failing = "\n".join(
        f"  {r.item.id}: {'; '.join(r.problems)}" for r in result.items if r.problems
    )
    assert result.passed, (
        ", ".join(str(f) for f in result.gate_failures) + f"\nquestions with problems:\n{failing}"
    )
    assert result.metrics["quote_accuracy"] == 1.0


@pytest.mark.skipif(not COVID.is_dir(), reason="the covid-qa data set is not on this machine")
def test_covid_qa_sample_retrieval(tmp_path: Path, embedder: Embedder) -> None:
    data = tmp_path / "covid-qa"
    (data / "docs").mkdir(parents=True)
    docs = sorted(p.name for p in (COVID / "docs").iterdir())[::COVID_DOC_STEP]
    for name in docs:
        shutil.copy(COVID / "docs" / name, data / "docs" / name)
    lines = (COVID / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if line.strip() and json.loads(line)["doc"] in docs]
    (data / "questions.jsonl").write_text("\n".join(kept) + "\n", encoding="utf-8")

    result = run_eval(
        data,
        out_dir=tmp_path / "runs",
        index_dir=tmp_path / "index",
        limit=COVID_LIMIT,
        embedder=embedder,
        progress=False,
    )
    for name in OUTPUTS:
        assert (result.run_dir / name).is_file(), name
    assert result.kind == "dataset" and len(result.items) == COVID_LIMIT
    assert result.meta["questions_total"] == len(kept)
    m = result.metrics
    assert set(m) >= {"retrieval_hit_at_k", "retrieval_mrr", "answer_f1", "answer_containment"}
    # covid-qa has no unanswerable question: that one metric is not measured, the rest are.
    assert m["unanswerable_refused"] is None
    assert all(v is not None for k, v in m.items() if k != "unanswerable_refused"), m
    hit, mrr = m["retrieval_hit_at_k"], m["retrieval_mrr"]
    assert hit is not None and mrr is not None
    assert hit > 0.5, m
    assert 0.0 < mrr <= hit
    assert result.passed  # no thresholds unless asked for
