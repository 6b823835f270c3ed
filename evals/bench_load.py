"""Load benchmark: many people at once against a real `assistant ui`, on a loopback port.

    python evals/bench_load.py                     # the full run (issue 13's mixes)
    python evals/bench_load.py --small             # a quick run: 4 x 3, 8 x 2, a 2 MB upload

It copies seeds/ to a temporary folder, starts `assistant ui` on it (127.0.0.1, a free port)
in its own process, and runs bounded clients against it, each mix in turn:

    users x questions          questions through /v1/chat/completions, all users at once
    ... + documents            the same while another client uploads and removes documents
                               through the web chat's /upload and /remove API
    hostile                    16 x 10 normal questions while hostile clients send huge
                               histories (40,000 words), huge questions (20,000 characters)
                               and upload a 20 MB text file

For each mix it prints the requests, errors (a normal question that did not get a 200 reply
with an answer; a huge question must get a clear 400), p50 / p95 / max seconds of the normal
questions, the server's peak resident memory (RSS) and apart from it the peak of its child
processes (an upload of 256 KB or more is indexed in one, assistant/indexchild.py). Every
client talks to 127.0.0.1 only, and every request and mix has a time limit.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # loopback only: this benchmark never talks to another machine
QUESTIONS = (
    "How much has Amazon invested in Anthropic?",
    "Is Amazon's stake in Anthropic exclusive?",
    "Which documents mention Alexa?",
    "What was Anthropic's revenue last year?",
    "Which cloud provider does Anthropic use?",
)
REQUEST_TIMEOUT = 120.0  # seconds, per request
MIX_TIMEOUT = 900.0  # seconds, per mix
SIDE_GRACE = 60.0  # seconds a big upload may go on after a mix's users are done


@dataclass
class Mix:
    name: str
    users: int
    questions: int
    documents: bool = False  # uploads and removes running meanwhile
    hostile: bool = False
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    side: list[str] = field(default_factory=list)  # what the other clients did
    peak_rss: int = 0
    peak_child_rss: int = 0  # the server's child processes (an upload being indexed)


# ---------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def server(docs: Path, index_dir: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ASSISTANT_SHOW_PROGRESS": "false"}
    env.pop("ASSISTANT_API_KEY", None)  # loopback: no key needed
    cmd = [sys.executable, "-m", "assistant", "ui", str(docs), "--index-dir", str(index_dir)]
    proc = subprocess.Popen(
        [*cmd, "--host", HOST, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(port, proc)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def wait_until_up(port: int, proc: subprocess.Popen[bytes], limit: float = 300.0) -> None:
    import httpx

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"assistant ui exited with status {proc.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://{HOST}:{port}/v1/models", timeout=2).status_code == 200:
                return
        time.sleep(0.5)
    raise SystemExit(f"assistant ui did not answer within {limit:.0f} s")


def children(pid: int) -> list[int]:
    """The process ids of pid's children (Linux: /proc/PID/task/*/children)."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError, ValueError):
                found += [int(c) for c in (task / "children").read_text().split()]
    return found


def rss(pid: int) -> int:
    """Resident memory of a process in bytes (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@contextlib.contextmanager
def peak_memory(pid: int, mix: Mix) -> Iterator[None]:
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            mix.peak_rss = max(mix.peak_rss, rss(pid))
            mix.peak_child_rss = max(mix.peak_child_rss, sum(rss(c) for c in children(pid)))
            stop.wait(0.2)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    try:
        yield
    finally:
        stop.set()
        t.join()


# ---------------------------------------------------------------- the clients


def ask(
    client: httpx.Client, question: str, history: list[dict[str, str]] | None = None
) -> httpx.Response:
    messages = [*(history or []), {"role": "user", "content": question}]
    return client.post(
        "/v1/chat/completions",
        json={"model": "assistant", "messages": messages},
        timeout=REQUEST_TIMEOUT,
    )


def user(base: str, mix: Mix, seed: int, stop: threading.Event) -> None:
    import httpx

    rng = random.Random(seed)
    with httpx.Client(base_url=base) as client:
        for _ in range(mix.questions):
            if stop.is_set():
                return
            question = rng.choice(QUESTIONS)
            started = time.perf_counter()
            try:
                reply = ask(client, question)
                ok = reply.status_code == 200 and reply.json()["choices"][0]["message"]["content"]
                problem = "" if ok else f"status {reply.status_code}"
            except Exception as exc:  # a timeout or a dropped connection is an error too
                problem = exc.__class__.__name__
            mix.latencies.append(time.perf_counter() - started)
            if problem:
                mix.errors.append(problem)


def documents_client(client: object, mix: Mix, stop: threading.Event, work: Path) -> None:
    """Upload a small document, then remove it, until the users are done."""
    from gradio_client import handle_file

    n = 0
    while not stop.is_set():
        n += 1
        doc = work / f"load-note-{n}.txt"
        doc.write_text(
            f"Load note {n}. The depot at Marlow shipped {n * 7} crates on day {n}.\n" * 20,
            encoding="utf-8",
        )
        try:
            _f, status, _t, _c = client.predict(  # type: ignore[attr-defined]
                [handle_file(str(doc))], api_name="/upload"
            )
            if "added" not in status:
                mix.errors.append(f"upload: {status[:80]}")
            _s, _t, _c = client.predict(doc.name, api_name="/remove")  # type: ignore[attr-defined]
            mix.side.append("upload+remove")
        except Exception as exc:
            mix.errors.append(f"documents: {exc.__class__.__name__}")


def hostile_client(base: str, mix: Mix, stop: threading.Event, kind: str) -> None:
    import httpx

    words = " ".join(f"word{i}" for i in range(40_000))
    history = [{"role": "user", "content": words}, {"role": "assistant", "content": words}]
    with httpx.Client(base_url=base) as client:
        while not stop.is_set():
            try:
                if kind == "history":
                    reply = ask(client, "And how much was it?", history)
                    if reply.status_code != 200:
                        mix.errors.append(f"huge history: status {reply.status_code}")
                else:
                    reply = ask(client, "why " * 5000)
                    if reply.status_code != 400 or "characters long" not in reply.text:
                        mix.errors.append(f"huge question: status {reply.status_code}")
                mix.side.append(kind)
            except Exception as exc:
                mix.errors.append(f"{kind}: {exc.__class__.__name__}")


def big_upload(base: str, mix: Mix, work: Path, megabytes: float) -> None:
    from gradio_client import Client, handle_file

    rng = random.Random(7)
    vocabulary = [f"{w}{i}" for i, w in enumerate(("crate", "depot", "ledger", "harbour") * 500)]
    target = int(megabytes * 1_000_000)
    path = work / "big-upload.txt"
    with path.open("w", encoding="utf-8") as out:
        written = 0
        while written < target:
            line = " ".join(rng.choice(vocabulary) for _ in range(14)) + ".\n"
            written += out.write(line)
    started = time.perf_counter()
    try:
        _f, status, _t, _c = Client(base, verbose=False).predict(
            [handle_file(str(path))], api_name="/upload"
        )
        took = time.perf_counter() - started
        ok = "added" in status
        mix.side.append(f"{megabytes:g} MB upload {'indexed' if ok else 'FAILED'} in {took:.0f} s")
        if not ok:
            mix.errors.append(f"big upload: {status[:80]}")
    except Exception as exc:  # after the mix ended, the server going away is no error
        mix.errors.append(f"big upload: {exc.__class__.__name__}")


def run_mix(base: str, pid: int, mix: Mix, work: Path, upload_mb: float) -> None:
    stop = threading.Event()  # tells the side clients the users are done
    side: list[Callable[[], None]] = []
    if mix.documents:
        from gradio_client import Client

        docs_client = Client(base, verbose=False)  # made first: its start is not the mix's
        side.append(lambda: documents_client(docs_client, mix, stop, work))
    if mix.hostile:
        side += [
            lambda: hostile_client(base, mix, stop, "history"),
            lambda: hostile_client(base, mix, stop, "question"),
            lambda: big_upload(base, mix, work, upload_mb),
        ]
    pool = ThreadPoolExecutor(mix.users + len(side))
    with peak_memory(pid, mix):
        side_jobs = [pool.submit(fn) for fn in side]
        if side:
            time.sleep(2.0)  # let the other clients get going before the users start
        users = [pool.submit(user, base, mix, i, stop) for i in range(mix.users)]
        deadline = time.monotonic() + MIX_TIMEOUT
        try:
            for job in users:
                job.result(timeout=max(1.0, deadline - time.monotonic()))
        except TimeoutError:
            mix.errors.append(f"the users did not finish within {MIX_TIMEOUT:.0f} s")
        stop.set()
        # The side clients stop at once, except a big upload still being indexed: it gets a
        # short grace, then the mix ends without it (its users were measured meanwhile).
        grace = time.monotonic() + SIDE_GRACE
        try:
            for job in side_jobs:
                job.result(timeout=max(1.0, min(deadline, grace) - time.monotonic()))
        except TimeoutError:
            mix.side.append(f"big upload still indexing {SIDE_GRACE:.0f} s after the users")
    # A still-running upload ends with the server; nothing waits for it here.
    pool.shutdown(wait=False, cancel_futures=True)


def percentile(values: list[float], p: float) -> float:
    """Example: percentile([1, 2, 3, 4], 0.5) -> 2.5"""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(p * 100) - 1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", action="store_true", help="a quick run on a busy machine")
    parser.add_argument("--upload-mb", type=float, help="size of the hostile upload (MB)")
    args = parser.parse_args(argv)
    if args.small:
        mixes = [
            Mix("4 users x 3", 4, 3),
            Mix("8 users x 2", 8, 2),
            Mix("4 users x 3 + documents", 4, 3, documents=True),
            Mix("hostile + 4 users x 3", 4, 3, hostile=True),
        ]
        upload_mb = args.upload_mb or 2.0
    else:
        mixes = [
            Mix("16 users x 10", 16, 10),
            Mix("48 users x 5", 48, 5),
            Mix("16 users x 10 + documents", 16, 10, documents=True),
            Mix("48 users x 5 + documents", 48, 5, documents=True),
            Mix("hostile + 16 users x 10", 16, 10, hostile=True),
        ]
        upload_mb = args.upload_mb or 20.0

    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        work = Path(tmp)
        docs = work / "docs"
        shutil.copytree(ROOT / "seeds", docs)
        (work / "uploads").mkdir()
        port = free_port()
        print(f"assistant ui on http://{HOST}:{port}, {os.cpu_count()} CPUs")
        with server(docs, work / "index", port) as proc:
            base = f"http://{HOST}:{port}"
            warm = Mix("warm-up", 1, len(QUESTIONS))  # first answers load lazy parts: unmeasured
            user(base, warm, 0, threading.Event())
            print(
                f"{'mix':28} {'requests':>8} {'errors':>6} {'p50 s':>6} {'p95 s':>6} "
                f"{'max s':>6} {'peak RSS':>9} {'child RSS':>9}  other clients"
            )
            for mix in mixes:
                run_mix(base, proc.pid, mix, work / "uploads", upload_mb)
                lat = mix.latencies
                counted = ("upload+remove", "question", "history")
                others = ", ".join(f"{mix.side.count(k)} {k}" for k in counted if mix.side.count(k))
                others += "".join(f"; {s}" for s in mix.side if s not in counted)
                print(
                    f"{mix.name:28} {len(lat):8d} {len(mix.errors):6d} "
                    f"{percentile(lat, 0.5):6.2f} {percentile(lat, 0.95):6.2f} "
                    f"{max(lat, default=float('nan')):6.2f} {mix.peak_rss / 2**20:6.0f} MB "
                    f"{mix.peak_child_rss / 2**20:6.0f} MB  "
                    f"{others}"
                )
                for problem in sorted(set(mix.errors))[:5]:
                    print(f"    error: {problem} (x{mix.errors.count(problem)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
