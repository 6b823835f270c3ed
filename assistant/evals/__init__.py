"""The eval suite: ask a fixed question set through Assistant.ask, score, report, gate.

from assistant.evals import run_eval
result = run_eval("evals/seed.yaml", out_dir="evals/runs", mode="extractive")
print(result.metrics["fact_recall"], result.passed, result.run_dir)

run.py      run_eval (one set) and run_sets (what `assistant eval` calls)
sets.py     question sets and data set folders
runner.py   ask every question, score each answer (metric definitions in its docstring)
scoring.py  the scores, pure
report.py   summary.json, report.md, the chart and the terminal table
"""

from .run import DEFAULT_RUNS, DEFAULT_SET, EvalResult, run_eval, run_sets
from .runner import ItemResult
from .scoring import GateFailure, Regression
from .sets import EvalItem, QuestionSet, load_set

__all__ = [
    "DEFAULT_RUNS",
    "DEFAULT_SET",
    "EvalItem",
    "EvalResult",
    "GateFailure",
    "ItemResult",
    "QuestionSet",
    "Regression",
    "load_set",
    "run_eval",
    "run_sets",
]
