"""The `assistant` command as a user runs it: a subprocess, its exit status, stdout and stderr.

Errors a user can cause end in one `error: ...` line on stderr that says what to do, and
exit status 1; the indexing summary tells what changed; `ask --json` is machine-readable.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SEED_NAME = "amazon-anthropic-investment.txt"


def clean_env() -> dict[str, str]:
    """The environment a user's shell would give: no ASSISTANT_* settings, offline."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONIOENCODING="utf-8")
    return env


def run_python(
    *args: str | Path, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter with args, its output captured (default environment: clean_env)."""
    return subprocess.run(
        [sys.executable, *map(str, args)],
        cwd=cwd,
        env=env if env is not None else clean_env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
    )


def run_cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_python("-m", "assistant", *args, cwd=cwd)


def assert_one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:"), lines[0]
    assert "Traceback" not in result.stderr
    return lines[0]


# ---------------------------------------------------------------- no model needed


def test_help_exits_zero(tmp_path: Path) -> None:
    result = run_cli("--help", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    for command in ("index", "ask", "chat", "ui", "eval"):
        assert command in result.stdout
    assert result.stderr == ""


def test_ask_without_an_index_says_to_build_one(tmp_path: Path) -> None:
    missing = tmp_path / "no-index-here"

    result = run_cli("ask", "How much has Amazon invested?", "--index-dir", missing, cwd=tmp_path)

    line = assert_one_error_line(result)
    assert "assistant index" in line
    assert result.stdout == ""


def test_ask_with_a_corrupt_index_says_to_rebuild(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    (index_dir / "manifest.json").write_bytes(b"\x00\xff not json")

    result = run_cli("ask", "anything?", "--index-dir", index_dir, cwd=tmp_path)

    line = assert_one_error_line(result)
    assert "assistant index" in line


def test_index_of_a_missing_folder_is_one_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder"

    result = run_cli("index", missing, "--index-dir", tmp_path / "index", cwd=tmp_path)

    line = assert_one_error_line(result)
    assert str(missing) in line
    assert not (tmp_path / "index" / "manifest.json").exists()


# ---------------------------------------------------------------- with the real model


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    shutil.copytree(SEEDS, root / "docs")
    return root


@pytest.fixture(scope="module")
def first_index(workdir: Path) -> subprocess.CompletedProcess[str]:
    return run_cli("index", workdir / "docs", "--index-dir", workdir / "index", cwd=workdir)


@pytest.mark.model
def test_index_builds_and_summarises(
    workdir: Path, first_index: subprocess.CompletedProcess[str]
) -> None:
    assert first_index.returncode == 0, first_index.stderr
    summary = first_index.stdout.strip().splitlines()
    assert len(summary) == 1, first_index.stdout
    assert summary[0].startswith("added 1, updated 0, removed 0, unchanged 0 files"), summary
    assert "chunks embedded 0" not in summary[0]
    assert (workdir / "index" / "manifest.json").is_file()
    manifest = json.loads((workdir / "index" / "manifest.json").read_text(encoding="utf-8"))
    assert list(manifest["sources"]) == [SEED_NAME]


@pytest.mark.model
def test_second_index_run_embeds_nothing(
    workdir: Path, first_index: subprocess.CompletedProcess[str]
) -> None:
    assert first_index.returncode == 0, first_index.stderr

    second = run_cli("index", workdir / "docs", "--index-dir", workdir / "index", cwd=workdir)

    assert second.returncode == 0, second.stderr
    summary = second.stdout.strip().splitlines()
    assert len(summary) == 1, second.stdout
    assert summary[0].startswith("added 0, updated 0, removed 0, unchanged 1 files"), summary
    assert "chunks embedded 0" in summary[0]


@pytest.mark.model
def test_ask_json_is_a_cited_answer(
    workdir: Path, first_index: subprocess.CompletedProcess[str]
) -> None:
    assert first_index.returncode == 0, first_index.stderr

    result = run_cli(
        "ask",
        "How much has Amazon invested in Anthropic?",
        "--index-dir",
        workdir / "index",
        "--json",
        cwd=workdir,
    )

    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["refused"] is False
    assert "$8 billion" in answer["text"]
    assert answer["citations"]
    text = (workdir / "docs" / SEED_NAME).read_text(encoding="utf-8")
    for c in answer["citations"]:
        assert c["source"] == SEED_NAME
        assert text[c["start"] : c["end"]] == c["quote"]
        assert f"[{c['n']}]" in answer["text"]
    assert any("$8 billion" in c["quote"] for c in answer["citations"])


@pytest.mark.model
def test_a_documents_terminal_escapes_are_not_sent_to_the_terminal(tmp_path: Path) -> None:
    """A hostile .txt holding escape sequences (set the window title, clear the screen) is
    quoted with them shown as U+FFFD: the terminal printing the answer obeys none of them."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "quarry.txt").write_text(
        "The Tolvan quarry opened in 1904 and cuts grey granite.\x1b]0;pwned\x07 "
        "It employs forty workers.\x1b[2J\n",
        encoding="utf-8",
    )
    result = run_cli(
        "ask",
        "When did the Tolvan quarry open?",
        "--folder",
        docs,
        "--index-dir",
        tmp_path / "index",
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    assert "1904" in result.stdout
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "\ufffd" in result.stdout  # shown, not hidden: the quote stays checkable
