"""The core install (no pip extras) is the library, the CLI and the evals. A feature whose
extra is missing says so in one line naming the extra, before any slow work starts, and the
rest keeps working: the eval runner writes everything but its chart.

A missing package is simulated by a None entry in sys.modules, which makes `import x` fail
exactly as it does when x is not installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from fakes import FakeEmbedder
from test_cli import clean_env, run_python

from assistant.errors import MissingDependencyError, require
from assistant.evals import run_eval
from assistant.evals.report import NO_CHART

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
# What the extras provide: ui (gradio), serve (fastapi, uvicorn), evals (matplotlib), bench.
EXTRA_MODULES = (
    "gradio",
    "gradio_client",
    "fastapi",
    "uvicorn",
    "starlette",
    "matplotlib",
    "langchain_text_splitters",
    "langchain_openai",
)


def run_core(code: str, *args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run code in a fresh interpreter where none of the extras' packages can be imported."""
    block = f"import sys\nfor _m in {EXTRA_MODULES!r}:\n    sys.modules[_m] = None\n"
    env = clean_env()
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "tests")])
    return run_python("-c", block + textwrap.dedent(code), *args, cwd=cwd, env=env)


def test_require_names_the_feature_and_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gradio", None)
    with pytest.raises(MissingDependencyError) as info:
        require("gradio", extra="ui", feature="the web chat")
    assert str(info.value) == (
        "the web chat needs gradio, which is not installed: pip install 'assistant[ui]'"
    )
    require("json", extra="ui", feature="nothing")  # an installed module passes


def test_the_library_answers_without_any_extra(tmp_path: Path) -> None:
    code = """
        from fakes import FakeEmbedder
        from assistant import Assistant, Settings
        settings = Settings(index_dir="index", show_progress=False)
        bot = Assistant.from_folder(sys.argv[1], settings=settings, embedder=FakeEmbedder())
        answer = bot.ask("How much has Amazon invested in Anthropic?")
        print(answer.text)
        print(bot.retrieve("Amazon Anthropic", k=1)[0].chunk.source)
        """
    result = run_core(code, SEEDS, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text, source = result.stdout.splitlines()[-2:]
    assert text, "an answer (or a plain refusal) was written"
    assert source == "amazon-anthropic-investment.txt"


@pytest.mark.parametrize(
    ("command", "line"),
    [
        ("ui", "the web chat needs gradio, which is not installed: pip install 'assistant[ui]'"),
        (
            "serve",
            "the OpenAI-compatible endpoint needs fastapi, which is not installed: "
            "pip install 'assistant[serve]'",
        ),
    ],
)
def test_a_server_without_its_extra_is_one_line_before_any_indexing(
    command: str, line: str, tmp_path: Path
) -> None:
    code = """
        from assistant.cli import main
        raise SystemExit(main(sys.argv[1:]))
        """
    index = tmp_path / "index"
    result = run_core(code, command, SEEDS, "--index-dir", index, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stderr == f"error: {line}\n"
    assert not index.exists(), "nothing was indexed"


def test_an_eval_run_without_matplotlib_writes_all_but_the_chart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("Amazon builds custom chips.", encoding="utf-8")
    qset = tmp_path / "mini.yaml"
    qset.write_text(
        "name: mini\ndocuments: docs\nquestions:\n"
        "  - {id: a, category: fact, question: 'What does Amazon build?', facts: [[chips]]}\n",
        encoding="utf-8",
    )
    monkeypatch.setitem(sys.modules, "matplotlib", None)

    result = run_eval(qset, out_dir=tmp_path / "runs", embedder=FakeEmbedder(), progress=False)

    files = sorted(p.name for p in result.run_dir.iterdir())
    assert files == ["report.md", "results.jsonl", "summary.json"]
    report = (result.run_dir / "report.md").read_text(encoding="utf-8")
    assert NO_CHART in report and "![scores by category]" not in report
    assert NO_CHART == "No chart: matplotlib is not installed (pip install 'assistant[evals]')."
