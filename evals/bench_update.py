"""Updating a large folder: one small document added, changed and removed, each timed until
it is answered (or, removed, no longer cited), with the process's memory.

    python evals/bench_update.py [--docs 500] [--sentences 40,70] [--repeats 3] [--fake]
    python evals/bench_update.py --unchanged [--docs 500] [--sentences 40,70] [--runs 4]
                                 [--workdir DIR] [--code CHECKOUT ...] [--cold]

Generates --docs synthetic plant reports (each --sentences sentences, picked at random in that
range, about 190 characters each) in a temporary folder, indexes them once with the real
packaged model (or, --fake, a stand-in embedder of the real tokenizer's shape: see
bench_memory.py), then --repeats times: adds a one-sentence document through
`Assistant.add_document` (the path of the web chat's small uploads and the Python API),
asks about it, changes it the same way, asks again, removes it (`remove_document`) and asks
once more (--fake: retrieves instead, as the stand-in's random vectors would make the
answer's checks refuse). Each phase is timed from the call to the answer; the sync's own
stages (its report), the rest of the call (the snapshot the sync starts from, and the new
snapshot's retriever) and the question are shown apart. RSS is sampled every 5 ms: the
peak of each phase and how far it rose above the RSS at its start.

--unchanged times `assistant index FOLDER --index-dir INDEX` instead, each run a new process
(`python -m assistant` with the code of each --code, the checkouts taking turns run by run;
by default this checkout), on a folder that has not changed since it was indexed: what a
new process pays before it can answer. The index is built once by the stand-in embedder
under the real model's name (the CLI takes it as its own; a sync of an unchanged folder
embeds nothing, so no vector is ever compared), and kept in --workdir when given, so that
checkouts are timed on the same folder and index. The first run of a checkout that keeps
the documents' digests beside the index writes them (digests.json); the medians leave it
out.
--cold drops the documents' pages from the page cache before each run (posix_fadvise
DONTNEED on each file: only these files, nothing else on the machine), as after a reboot
or on a disk the folder was not read from lately.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

PLACES = (
    "Harlow", "Tamsin", "Brevik", "Ostrava", "Calder", "Medina", "Quillon", "Rusk", "Vantaa",
    "Yorin", "Kessel", "Lund", "Arbroath", "Pelham", "Sorrel", "Umber",
)  # fmt: skip
THINGS = (
    "turbines", "pumps", "valves", "sensors", "cables", "bearings", "filters", "boilers",
    "rotors", "gears", "gaskets", "couplings", "manifolds", "impellers",
)  # fmt: skip
VERBS = ("shipped", "repaired", "inspected", "ordered", "replaced", "tested", "installed")
ROLES = ("foreman", "auditor", "engineer", "inspector", "buyer")
VERDICTS = ("ran hot", "held up", "failed early", "passed every check", "were sent back")
MONTHS = ("March", "April", "May", "June", "July", "August")

PROBE = "update-probe.txt"
QUESTION = "How many flywheels did the Zephyrine depot count?"


def report_text(i: int, sentences: int, rng: random.Random) -> str:
    """Plant report i: a title and `sentences` sentences of made-up facts (distinct numbers,
    so that few sentences repeat and each must be embedded).

    Example: report_text(3, 1, random.Random(1)) -> "Report 3\\n\\nIn May the Rusk plant
             repaired 64 cables for customer number 93, and the ... noted that ...\\n"
    """
    out = []
    for s in range(sentences):
        out.append(
            f"In {rng.choice(MONTHS)} the {rng.choice(PLACES)} plant {rng.choice(VERBS)} "
            f"{rng.randint(2, 900)} {rng.choice(THINGS)} for customer number {i * 97 + s}, "
            f"and the {rng.choice(ROLES)} noted that {rng.choice(THINGS)} from "
            f"{rng.choice(PLACES)} {rng.choice(VERDICTS)}."
        )
    return f"Report {i}\n\n" + " ".join(out) + "\n"


def make_folder(folder: Path, docs: int, low: int, high: int, seed: int = 7) -> int:
    """Write the synthetic reports into folder; returns their bytes in all."""
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    size = 0
    for i in range(docs):
        text = report_text(i, rng.randint(low, high), rng)
        (folder / f"report-{i:04d}.txt").write_text(text, encoding="utf-8")
        size += len(text.encode("utf-8"))
    return size


class RssSampler:
    """The process's resident memory, sampled every 5 ms in a thread; `phase` names the
    window each sample counts for."""

    def __init__(self) -> None:
        self.peaks: dict[str, float] = {}
        self.starts: dict[str, float] = {}
        self._phase = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @staticmethod
    def rss_mb() -> float:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            phase = self._phase
            if phase:
                self.peaks[phase] = max(self.peaks.get(phase, 0.0), self.rss_mb())

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        self.starts.setdefault(name, self.rss_mb())
        self._phase = name
        try:
            yield
        finally:
            self.peaks[name] = max(self.peaks.get(name, 0.0), self.rss_mb())
            self._phase = ""

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    t = time.perf_counter()
    out = call()
    return out, time.perf_counter() - t


def unchanged(args: argparse.Namespace, low: int, high: int) -> None:
    """Time `assistant index` in new processes on a folder indexed before and not changed."""
    from bench_memory import _HashEmbedder

    import assistant
    from assistant import Settings
    from assistant.embedding import build_embedder
    from assistant.store import chunker_config, sync_index

    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-unchanged-"))
    docs, index = work / "docs", work / "index"
    if not (index / "manifest.json").exists():
        if docs.exists():
            shutil.rmtree(docs)
        make_folder(docs, args.docs, low, high)
        settings = Settings(index_dir=index, show_progress=False)
        stand_in = _HashEmbedder()
        stand_in.name = build_embedder(settings).name  # the CLI's model: it takes the index
        report, build = timed(
            lambda: sync_index(docs, index, stand_in, chunker_config(settings, stand_in))
        )
        print(f"indexed once in {build:.1f} s (stand-in embedder): {report.summary()}")
    files = sorted(docs.iterdir())
    size = sum(f.stat().st_size for f in files)
    codes = [c.resolve() for c in args.code or [Path(assistant.__file__).resolve().parents[1]]]
    print(f"data: {len(files)} files, {size / 1e6:.1f} MB in {docs}")
    for code in codes:
        head = subprocess.run(
            ["git", "-C", str(code), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        print(f"code: {code} ({head or 'not a git checkout'})")
    command = [sys.executable, "-m", "assistant", "index", str(docs), "--index-dir", str(index)]
    # Run by run, each checkout in turn: the machine's other load falls on all alike.
    walls: dict[Path, list[float]] = {code: [] for code in codes}
    scans: dict[Path, list[float]] = {code: [] for code in codes}
    for run in range(args.runs):
        for code in codes:
            if args.cold:
                for f in files:
                    fd = os.open(f, os.O_RDONLY)
                    try:
                        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                    finally:
                        os.close(fd)
            env = {**os.environ, "PYTHONPATH": str(code)}
            done, wall = timed(
                partial(subprocess.run, command, cwd=code, env=env, capture_output=True, text=True)
            )
            if done.returncode:
                raise SystemExit(f"assistant index failed: {done.stderr[-2000:]}")
            summary = done.stdout.strip().splitlines()[-1]
            if not summary.startswith("added 0, updated 0, removed 0"):
                raise SystemExit(f"the folder was not found unchanged: {summary}")
            stages = dict(re.findall(r"(\w+) ([\d.]+)s", summary))
            shown = ", ".join(f"{k} {v} s" for k, v in stages.items())
            cold = " (cold)" if args.cold else ""
            load = os.getloadavg()[0]
            print(
                f"run {run + 1}{cold}, {code.name}: {wall:.2f} s wall, load average {load:.1f}; "
                f"{shown}"
            )
            walls[code].append(wall)
            scans[code].append(float(stages.get("scan", "nan")))
    if args.runs > 1:
        for code in codes:
            print(
                f"{code.name}, median of runs 2-{args.runs}: "
                f"{statistics.median(walls[code][1:]):.2f} s wall, "
                f"scan {statistics.median(scans[code][1:]):.2f} s"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=500)
    parser.add_argument("--sentences", default="40,70", help="LOW,HIGH sentences a document")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fake", action="store_true", help="a stand-in embedder, not the model")
    parser.add_argument(
        "--unchanged", action="store_true", help="time `assistant index` of an unchanged folder"
    )
    parser.add_argument("--runs", type=int, default=4, help="--unchanged: new processes timed")
    parser.add_argument("--workdir", type=Path, help="--unchanged: keep folder and index here")
    parser.add_argument(
        "--code", type=Path, action="append", help="--unchanged: a checkout to time (repeatable)"
    )
    parser.add_argument(
        "--cold", action="store_true", help="--unchanged: the documents out of the page cache"
    )
    args = parser.parse_args()
    low, high = (int(x) for x in args.sentences.split(","))
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f}"
    )
    if args.unchanged:
        unchanged(args, low, high)
        return

    from assistant import Assistant, Settings
    from assistant.embedding import build_embedder

    sampler = RssSampler()
    with tempfile.TemporaryDirectory() as tmp:
        docs = Path(tmp) / "docs"
        size = make_folder(docs, args.docs, low, high)
        settings = Settings(index_dir=Path(tmp) / "index", show_progress=False)
        if args.fake:
            # The real tokenizer and 384 dimensions, a seeded random vector a text.
            from bench_memory import _HashEmbedder

            embedder: Any = _HashEmbedder()
        else:
            embedder = build_embedder(settings)
        bot, build = timed(
            lambda: Assistant.from_folder(docs, settings=settings, embedder=embedder)
        )
        chunks = len(bot.collection.store.chunks())
        print(
            f"data: {args.docs} synthetic reports, {size / 1e6:.1f} MB, {chunks} chunks; "
            f"first index {build:.1f} s ({'stand-in embedder' if args.fake else 'real model'})"
        )
        bot.retrieve("Which plant shipped turbines in May?")  # the first question's one-off costs
        if not args.fake:
            bot.ask("Which plant shipped turbines in May?")

        rows: dict[str, list[dict[str, float]]] = {"add": [], "change": [], "remove": []}
        for r in range(args.repeats):
            count = 40 + r
            texts = {
                "add": f"The Zephyrine depot counted {count} flywheels in November.\n",
                "change": f"The Zephyrine depot counted {count + 500} flywheels in November.\n",
            }
            for phase in ("add", "change", "remove"):
                with sampler.phase(phase):
                    if phase == "remove":
                        report, call = timed(lambda: bot.remove_document(PROBE))
                    else:
                        body = texts[phase].encode("utf-8")
                        report, call = timed(partial(bot.add_document, PROBE, body))
                    if args.fake:  # random vectors: the answer's checks would refuse
                        hits, ask = timed(lambda: bot.retrieve(QUESTION, 5))
                        cited = any(h.chunk.source == PROBE for h in hits)
                        said = " ".join(h.chunk.text for h in hits if h.chunk.source == PROBE)
                    else:
                        answer, ask = timed(lambda: bot.ask(QUESTION))
                        cited = any(c.source == PROBE for c in answer.citations)
                        said = answer.text
                expected = phase != "remove"
                if cited != expected or (
                    expected and str(count + (500 if phase == "change" else 0)) not in said
                ):
                    raise SystemExit(f"{phase}: the answer is wrong: {said!r}")
                sync = report.seconds.get("total", 0.0)
                rows[phase].append(
                    {
                        "total": call + ask,
                        "scan": report.seconds.get("scan", 0.0),
                        "embed": report.seconds.get("chunk", 0.0)
                        + report.seconds.get("embed", 0.0),
                        "write": report.seconds.get("write", 0.0),
                        "sync": sync,
                        "rest": call - sync,
                        "ask": ask,
                    }
                )
        sampler.stop()
        print(
            f"median of {args.repeats}, seconds (sync = the sync's own total: scan + chunk and "
            "embed + write + the rest; rest = the call outside the sync: the snapshot it starts "
            "from and the new snapshot's retriever; ask = the question"
            + (", retrieved)" if args.fake else ")")
        )
        print(
            "| phase | until answered | scan | chunk + embed | write | sync | rest | ask "
            "| peak RSS (rise) |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for phase, runs in rows.items():
            med = {k: statistics.median(run[k] for run in runs) for k in runs[0]}
            rise = sampler.peaks[phase] - sampler.starts[phase]
            print(
                f"| {phase} | **{med['total']:.3f}** | {med['scan']:.3f} | {med['embed']:.3f} | "
                f"{med['write']:.3f} | {med['sync']:.3f} | {med['rest']:.3f} | {med['ask']:.3f} | "
                f"{sampler.peaks[phase]:.0f} MB (+{rise:.0f}) |"
            )


if __name__ == "__main__":
    main()
