"""Ingestion benchmark: index a folder from scratch, then again unchanged, then with one file
changed, each through the real `assistant index` command in a fresh process.

    python evals/bench_ingest.py [FOLDER]   (default: ../shared/datasets/covid-qa/docs)

Prints each run's summary line and wall-clock seconds (process start and model load
included), and chunks per second of the first run's embedding phase.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def index(folder: Path, index_dir: Path) -> tuple[str, float]:
    t = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "assistant", "index", str(folder), "--index-dir", str(index_dir)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    return out.stdout.strip().splitlines()[-1], time.perf_counter() - t


def _figure(pattern: str, summary: str) -> str:
    """The number pattern's group captures in the index summary, e.g.
    _figure(r"embed ([\\d.]+)s", "... embed 3.2s") -> "3.2"."""
    found = re.search(pattern, summary)
    if found is None:
        raise SystemExit(f"the index summary has no {pattern!r}: {summary}")
    return found.group(1)


def main() -> None:
    source = (
        Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared/datasets/covid-qa/docs"
    )
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "docs"
        shutil.copytree(source, folder)
        index_dir = Path(tmp) / "index"
        files = sorted(folder.rglob("*.*"))
        size = sum(f.stat().st_size for f in files)
        print(f"data: {source} ({len(files)} files, {size / 1e6:.1f} MB)")

        summary, wall = index(folder, index_dir)
        print(f"first index  ({wall:6.1f}s wall): {summary}")
        embedded = int(_figure(r"chunks embedded (\d+)", summary))
        embed_s = float(_figure(r"embed ([\d.]+)s", summary))
        print(f"embedding: {embedded / embed_s:.1f} chunks/s")

        summary, wall = index(folder, index_dir)
        print(f"re-index     ({wall:6.1f}s wall): {summary}")

        changed = files[0]
        changed.write_text(
            changed.read_text(encoding="utf-8") + "\n\nAn added closing line.\n", encoding="utf-8"
        )
        summary, wall = index(folder, index_dir)
        print(f"one changed  ({wall:6.1f}s wall): {summary}")


if __name__ == "__main__":
    main()
