"""What a run writes and prints: the terminal table, report.md and the chart."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .run import EvalResult

__all__ = ["NO_CHART", "chart", "markdown_report", "terminal_report"]

NO_CHART = "No chart: matplotlib is not installed (pip install 'assistant[evals]')."

_FAILURES_SHOWN = 200  # report.md stays readable for a 1,000-question data set run


def _num(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds * 1000:.0f} ms"


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell; numbers read best right-aligned, so every
    column but the first is.

    Example: text_table(["metric", "value"], [["mrr", "0.9"]]) -> 'metric  value\\n...'
    """
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            str(c).ljust(w) if i == 0 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    align = "|" + "|".join([" --- "] + [" ---: "] * (len(headers) - 1)) + "|"
    return "\n".join([line(headers), align, *(line(r) for r in rows)])


def _metric_rows(result: EvalResult) -> list[list[str]]:
    thresholds = result.thresholds
    failed = {f.metric for f in result.gate_failures}
    rows = []
    for name, value in result.metrics.items():
        threshold = thresholds.get(name)
        gate = ""
        if threshold is not None:
            gate = "FAIL" if name in failed else "n/a" if value is None else "pass"
        rows.append([name, _num(value), _num(threshold) if threshold is not None else "", gate])
    return rows


def _category_table(result: EvalResult) -> tuple[list[str], list[list[str]]]:
    by_category = result.by_category
    columns = list(dict.fromkeys(key for scores in by_category.values() for key in scores))
    rows = [
        [
            category,
            *(
                _num(scores.get(c)) if c != "questions" else _num(int(scores[c] or 0))
                for c in columns
            ),
        ]
        for category, scores in by_category.items()
    ]
    return ["category", *columns], rows


def _latency_rows(result: EvalResult) -> list[list[str]]:
    return [
        [stage, _ms(v["p50"]), _ms(v["p95"]), _num(int(v["n"] or 0))]
        for stage, v in result.latency.items()
    ]


def _header_lines(result: EvalResult) -> list[tuple[str, str]]:
    m = result.meta
    return [
        ("set" if result.kind == "questions" else "data set", f"{m['set']} ({m['path']})"),
        ("mode", str(m["mode"])),
        ("k", str(m["k"])),
        (
            "questions",
            f"{m['questions']} of {m['questions_total']}"
            + (f" ({m['sample']})" if m.get("sample") else ""),
        ),
        ("machine", str(m["machine"])),
        ("date", str(m["date"])),
        ("index", f"{m['index_dir']} ({m['index_note']})"),
        (
            "time",
            f"{m['seconds']:.1f} s (index {m['index_seconds']:.1f} s, "
            f"questions {m['ask_seconds']:.1f} s)",
        ),
    ]


def terminal_report(result: EvalResult) -> str:
    """The run as the terminal shows it."""
    out = [f"== eval: {result.name}"]
    out += [f"{key:>10}: {value}" for key, value in _header_lines(result)]
    out += ["", text_table(["metric", "value", "threshold", "gate"], _metric_rows(result))]
    headers, rows = _category_table(result)
    out += ["", text_table(headers, rows)]
    out += ["", text_table(["latency", "p50", "p95", "n"], _latency_rows(result))]
    failing = [r for r in result.items if r.problems]
    out += ["", f"{len(failing)} of {len(result.items)} questions with problems (see report.md)"]
    if result.baseline is not None:
        out.append("")
        if result.regressions:
            out.append(f"worse than the baseline {result.baseline} ({len(result.regressions)}):")
            out += [f"  - {r}" for r in result.regressions]
        else:
            out.append(f"no question got worse than the baseline {result.baseline}")
    out.append("")
    if result.gate_failures:
        out.append("GATE FAILED:")
        out += [f"  - {f}" for f in result.gate_failures]
    elif result.thresholds:
        out.append(f"gate passed ({len(result.thresholds)} thresholds)")
    out.append(f"written to {result.run_dir}")
    return "\n".join(out)


def markdown_report(result: EvalResult, chart_name: str | None) -> str:
    """report.md: the tables, the gate, regressions and every question with a problem."""
    out = [f"# Eval: {result.name}", ""]
    if result.description:
        out += [result.description, ""]
    out += [f"- **{key}**: {value}" for key, value in _header_lines(result)]
    out += [
        "",
        "## Metrics",
        "",
        md_table(["metric", "value", "threshold", "gate"], _metric_rows(result)),
    ]
    if result.gate_failures:
        out += ["", "**Gate failed:**", ""] + [f"- {f}" for f in result.gate_failures]
    elif result.thresholds:
        out += ["", "Gate passed."]
    headers, rows = _category_table(result)
    out += ["", "## By category", "", md_table(headers, rows)]
    if chart_name:
        out += ["", f"![scores by category]({chart_name})"]
    else:
        out += ["", NO_CHART]
    out += ["", "## Latency", "", md_table(["stage", "p50", "p95", "n"], _latency_rows(result))]
    if result.baseline is not None:
        out += ["", f"## Compared with {result.baseline}", ""]
        if result.regressions:
            out += [f"- {r}" for r in result.regressions]
        else:
            out.append("No question got worse.")
    failing = [r for r in result.items if r.problems]
    out += ["", f"## Failures ({len(failing)} of {len(result.items)})", ""]
    if not failing:
        out.append("None.")
    for r in failing[:_FAILURES_SHOWN]:
        answer = " ".join(r.answer.split())
        if len(answer) > 400:
            answer = answer[:397] + "..."
        out.append(f"### `{r.item.id}` ({r.item.category})")
        out.append("")
        out.append(f"- question: {r.item.question}")
        if r.query != r.item.question:
            out.append(f"- searched for: {r.query}")
        if r.item.answers:
            out.append(f"- gold: {r.item.answers[0]}")
        out.append(f"- answer: {answer or '(none)'}")
        out += [f"- {p}" for p in r.problems]
        out.append("")
    if len(failing) > _FAILURES_SHOWN:
        out.append(f"... and {len(failing) - _FAILURES_SHOWN} more: see results.jsonl")
    return "\n".join(out).rstrip() + "\n"


def chart(by_category: Mapping[str, Mapping[str, float | None]], path: Path, title: str) -> bool:
    """A grouped bar chart of the 0..1 scores of each category, as a small PNG.

    Returns False, drawing nothing, when matplotlib (the `evals` extra) is not installed:
    the chart is the one part of a run the core install leaves out.
    """
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    # The object-oriented API with the Agg canvas: no pyplot, no global backend switch.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    categories = list(by_category)
    metrics = [
        m
        for m in dict.fromkeys(k for s in by_category.values() for k in s)
        if m != "questions" and any(s.get(m) is not None for s in by_category.values())
    ]
    fig = Figure(figsize=(max(6.0, 1.2 * len(categories) + 3.5), 3.6), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    width = 0.8 / max(1, len(metrics))
    for i, metric in enumerate(metrics):
        xs = [c + (i - (len(metrics) - 1) / 2) * width for c in range(len(categories))]
        ys = [by_category[c].get(metric) for c in categories]
        ax.bar(xs, [0.0 if y is None else y for y in ys], width, label=metric.replace("_", " "))
    ax.set_xticks(range(len(categories)))
    ax.set_xticklabels(
        [f"{c}\n(n={int(by_category[c].get('questions') or 0)})" for c in categories], fontsize=8
    )
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score")
    ax.set_title(title, fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    # Outside the axes, on the right: inside it would hide bars.
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    fig.tight_layout()
    fig.savefig(path)
    return True
