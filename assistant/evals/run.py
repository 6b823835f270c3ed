"""The eval runner: ask a fixed question set through Assistant.ask, score, report, gate.

    from assistant.evals import run_eval
    result = run_eval("evals/seed.yaml", out_dir="evals/runs")
    print(result.metrics["fact_recall"], result.passed, result.run_dir)

`assistant eval [SET ...] [--mode MODE | --llm PROVIDER[:MODEL]] [--out DIR] [--baseline RUN]
[-k N] [--limit N]`
is the same from the terminal (cli.py parses it and calls run_sets); it exits 1 when a gated
metric misses its threshold. MODE is any answer mode of answer/registry.py.

A SET is a question set file (YAML like evals/seed.yaml, or JSONL) or a data set folder in
the covid-qa layout (docs/ + questions.jsonl with gold answer spans). Each run writes
results.jsonl, summary.json, report.md and scores_by_category.png to OUT/<timestamp>/
(OUT defaults to evals/runs; with several sets, one subfolder per set). The index for a
set's documents lives in OUT/.index/<set name>/ (or --index-dir) and is reused while the
documents are unchanged. The metric definitions are in runner.py's docstring.
"""

from __future__ import annotations

import json
import os
import platform
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import AssistantError, InputError
from .runner import ItemResult, aggregate, ask_all
from .scoring import GateFailure, Regression, check_thresholds, diff_runs
from .sets import QuestionSet, load_set, sample

if TYPE_CHECKING:
    from ..embedding import Embedder
    from ..settings import Settings

__all__ = ["DEFAULT_RUNS", "DEFAULT_SET", "EvalResult", "run_eval", "run_sets"]

DEFAULT_SET = Path("evals/seed.yaml")
DEFAULT_RUNS = Path("evals/runs")
CHART = "scores_by_category.png"


@dataclass(frozen=True, slots=True)
class EvalResult:
    """One set's run: its scores, the gate's verdict and where the files went."""

    name: str
    kind: str  # "questions" or "dataset"
    run_dir: Path
    metrics: dict[str, float | None]
    by_category: dict[str, dict[str, float | None]]
    latency: dict[str, dict[str, float | None]]  # stage -> p50, p95 (seconds), n
    counts: dict[str, int]
    thresholds: dict[str, float]
    gate_failures: tuple[GateFailure, ...]
    items: tuple[ItemResult, ...]
    meta: dict[str, Any]  # set, path, mode, k, machine, date, timings of the run
    description: str = ""
    baseline: Path | None = None
    regressions: tuple[Regression, ...] = field(default=())

    @property
    def passed(self) -> bool:
        """Whether every gated metric met its threshold."""
        return not self.gate_failures

    def summary(self) -> dict[str, Any]:
        """summary.json."""
        return {
            "set": self.name,
            "kind": self.kind,
            **self.meta,
            "metrics": self.metrics,
            "thresholds": self.thresholds,
            "gate": {
                "passed": self.passed,
                "failures": [
                    {"metric": f.metric, "value": f.value, "threshold": f.threshold}
                    for f in self.gate_failures
                ],
            },
            "by_category": self.by_category,
            "latency": self.latency,
            "counts": self.counts,
            "baseline": str(self.baseline) if self.baseline else None,
            "regressions": [
                {"id": r.id, "metric": r.metric, "before": r.before, "after": r.after}
                for r in self.regressions
            ],
        }


def run_eval(
    set_path: str | Path = DEFAULT_SET,
    *,
    out_dir: str | Path = DEFAULT_RUNS,
    index_dir: str | Path | None = None,
    k: int | None = None,
    limit: int | None = None,
    mode: str | None = None,
    baseline: str | Path | None = None,
    thresholds: Mapping[str, float] | None = None,
    settings: Settings | None = None,
    embedder: Embedder | None = None,
    progress: bool | None = None,
) -> EvalResult:
    """Run one question set or data set folder and write its report to out_dir/<timestamp>/.

    index_dir: where the set's index lives (default out_dir/.index/<set name>/).
    k: passages per question (default: the set's k, else settings.k).
    limit: score only N questions (the first N; for a data set N evenly spaced ones).
    mode: the answer mode (default settings.answer_mode; any of answer/registry.py).
    baseline: an earlier run folder; questions that got worse are listed.
    thresholds: extra or overriding gates, e.g. {"retrieval_hit_at_k": 0.6}.
    progress: a tqdm bar (None: only on a terminal).
    """
    qset = load_set(set_path)
    out = Path(out_dir)
    return _evaluate(
        qset,
        run_dir=_new_run_dir(out),
        index_dir=Path(index_dir) if index_dir else out / ".index" / _safe(qset.name),
        k=k,
        limit=limit,
        mode=mode,
        baseline=Path(baseline) if baseline else None,
        thresholds=thresholds,
        settings=settings,
        embedder=embedder,
        progress=progress,
    )


def run_sets(
    sets: Sequence[str | Path] = (),
    *,
    out_dir: str | Path | None = None,
    index_dir: str | Path | None = None,
    k: int | None = None,
    limit: int | None = None,
    mode: str | None = None,
    baseline: str | Path | None = None,
    thresholds: Mapping[str, float] | None = None,
    llm: str | None = None,
) -> int:
    """`assistant eval`: run each set, print its table; 1 when a gate fails, else 0.

    sets: question set files or data set folders (default evals/seed.yaml). thresholds gate
    the sets that have that metric. Each set gets its own subfolder of the run (and of
    index_dir) when there are several.
    """
    paths = [Path(p) for p in sets] or [DEFAULT_SET]
    if not sets and not DEFAULT_SET.is_file():
        raise InputError(
            f"no question set given and {DEFAULT_SET} is not here: run from the project "
            "folder or name a set, e.g. `assistant eval evals/seed.yaml`"
        )
    extra = dict(thresholds or {})
    qsets = [load_set(p) for p in paths]  # every set is checked before the model loads
    known = {m for q in qsets for m in q.metrics}
    unknown = sorted(set(extra) - known)
    if unknown:
        raise InputError(
            f"--threshold names no metric of these sets: {', '.join(unknown)}; "
            f"use one of {', '.join(sorted(known))}"
        )
    out = Path(out_dir) if out_dir else DEFAULT_RUNS
    run_root = _new_run_dir(out)
    names = _unique([_safe(q.name) for q in qsets])
    settings, embedder = _settings_and_embedder(None, None, mode)
    if llm:  # --llm: the model for its mode (the CLI passes the mode too)
        settings = settings.model_copy(update={"llm": llm})
    failed = False
    for qset, name in zip(qsets, names, strict=True):
        one = len(qsets) == 1
        set_index = Path(index_dir) if index_dir else out / ".index" / name
        if index_dir and not one:
            set_index = set_index / name  # several sets must not share (and flip) one index
        set_baseline = Path(baseline) if baseline else None
        if set_baseline is not None and not one and (set_baseline / name).is_dir():
            set_baseline = set_baseline / name
        result = _evaluate(
            qset,
            run_dir=run_root if one else run_root / name,
            index_dir=set_index,
            k=k,
            limit=limit,
            mode=mode,
            baseline=set_baseline,
            # A flag's threshold gates the sets that have that metric.
            thresholds={m: v for m, v in extra.items() if m in qset.metrics},
            settings=settings,
            embedder=embedder,
            progress=None,
        )
        from .report import terminal_report

        print(terminal_report(result), flush=True)
        print()
        failed = failed or not result.passed
    return 1 if failed else 0


# ---------------------------------------------------------------- the run


def _evaluate(
    qset: QuestionSet,
    *,
    run_dir: Path,
    index_dir: Path,
    k: int | None,
    limit: int | None,
    mode: str | None,
    baseline: Path | None,
    thresholds: Mapping[str, float] | None,
    settings: Settings | None,
    embedder: Embedder | None,
    progress: bool | None,
) -> EvalResult:
    from ..pipeline import Assistant

    t_start = time.perf_counter()
    started = datetime.now().astimezone()
    gates = {**qset.thresholds, **(thresholds or {})}
    unknown = sorted(set(gates) - set(qset.metrics))
    if unknown:
        raise InputError(
            f"no metric named {', '.join(unknown)} for {qset.name}: use one of "
            + ", ".join(qset.metrics)
        )
    baseline_rows = _read_baseline(baseline) if baseline is not None else None
    settings, embedder = _settings_and_embedder(settings, embedder, mode)
    k = k if k is not None else (qset.k or settings.k)
    if k < 1:
        raise InputError(f"k must be at least 1, not {k}")
    items = sample(qset.items, limit, spread=qset.kind == "dataset")

    before = _generation(index_dir)
    t = time.perf_counter()
    bot = Assistant.from_folder(
        qset.documents, index_dir=index_dir, settings=settings, embedder=embedder
    )
    index_seconds = time.perf_counter() - t
    after = _generation(index_dir)
    note = "reused" if before == after else ("built" if before is None else "updated")

    t = time.perf_counter()
    results = ask_all(bot, qset, items, k=k, progress=progress)
    ask_seconds = time.perf_counter() - t
    agg = aggregate(results, qset.kind)
    sampled = limit is not None and limit < len(qset.items)
    # A sample may hold no question of a kind: only the full set must measure every gate.
    failures = tuple(check_thresholds(agg.metrics, gates, unmeasured_fails=not sampled))
    regressions: tuple[Regression, ...] = ()
    if baseline_rows is not None:
        current = {r.item.id: r.to_row() for r in results}
        regressions = tuple(diff_runs(baseline_rows, current))

    meta = {
        "path": str(qset.path),
        "documents": str(qset.documents),
        "mode": settings.answer_mode,
        "llm": _llm_name(settings),
        "k": k,
        "model": settings.model,
        "questions": len(items),
        "questions_total": len(qset.items),
        "sample": (("evenly spaced" if qset.kind == "dataset" else "first N") if sampled else ""),
        "machine": _machine(),
        "date": started.isoformat(timespec="seconds"),  # when the run began
        "index_dir": str(index_dir),
        "index_note": f"{note}, {len(bot.sources())} documents",
        "index_seconds": round(index_seconds, 3),
        "ask_seconds": round(ask_seconds, 3),
        "seconds": round(time.perf_counter() - t_start, 3),
        "set": qset.name,
    }
    result = EvalResult(
        name=qset.name,
        kind=qset.kind,
        run_dir=run_dir,
        metrics=agg.metrics,
        by_category=agg.by_category,
        latency=agg.latency,
        counts=agg.counts,
        thresholds=dict(gates),
        gate_failures=failures,
        items=tuple(results),
        meta=meta,
        description=qset.description,
        baseline=baseline,
        regressions=regressions,
    )
    _write(result)
    return result


def _write(result: EvalResult) -> None:
    from .report import chart, markdown_report

    run_dir = result.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    with (run_dir / "results.jsonl").open("w", encoding="utf-8") as f:
        for item in result.items:
            f.write(json.dumps(item.to_row(), ensure_ascii=False) + "\n")
    (run_dir / "summary.json").write_text(
        json.dumps(result.summary(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    drawn = chart(result.by_category, run_dir / CHART, f"{result.name}: scores by category")
    report = markdown_report(result, CHART if drawn else None)
    (run_dir / "report.md").write_text(report, encoding="utf-8")


def _llm_name(settings: Settings) -> str | None:
    """The language model that wrote the answers ("local", "openai:gpt-4o-mini"), or None."""
    from ..llmspec import LLM_PROVIDERS

    mode = settings.answer_mode
    return str(settings.llm_spec(mode)) if mode in LLM_PROVIDERS else None


def _settings_and_embedder(
    settings: Settings | None, embedder: Embedder | None, mode: str | None
) -> tuple[Settings, Embedder]:
    from ..answer.registry import resolve_backend
    from ..settings import Settings

    settings = settings or Settings()
    mode = mode or settings.answer_mode
    resolve_backend(mode)  # an unknown or uninstalled mode fails before the model loads
    # The runner draws its own progress bar; the embedder's would interleave with it.
    settings = settings.model_copy(update={"show_progress": False, "answer_mode": mode})
    if embedder is None:
        from ..embedding import build_embedder

        embedder = build_embedder(settings)
    return settings, embedder


def _generation(index_dir: Path) -> str | None:
    """The index's build id, to tell a reused index from a rebuilt one."""
    from ..store import read_manifest

    try:
        return read_manifest(index_dir).generation
    except (AssistantError, OSError, ValueError):
        return None


def _read_baseline(baseline: Path) -> dict[str, dict[str, Any]]:
    path = baseline / "results.jsonl" if baseline.is_dir() else baseline
    if not path.is_file():
        raise InputError(
            f"no results.jsonl in {baseline}: pass a run folder written by `assistant eval`"
        )
    rows: dict[str, dict[str, Any]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                row = json.loads(line)
                rows[str(row["id"])] = row
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise InputError(
                    f"{path}:{number} is not a results.jsonl row ({exc}): pass a run folder "
                    "written by `assistant eval`"
                ) from None
    return rows


def _new_run_dir(out: Path) -> Path:
    """out/<local timestamp>/, with a suffix when a run already started in that second."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate, n = out / stamp, 1
    while candidate.exists():
        n += 1
        candidate = out / f"{stamp}-{n}"
    return candidate


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )


_UNSAFE = re.compile(r"[^\w.-]+")


def _safe(name: str) -> str:
    return _UNSAFE.sub("_", name).strip("._") or "set"


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}-{seen[name]}")
    return out
