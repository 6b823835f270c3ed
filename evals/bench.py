"""The speed benchmark of issue 11: one table, today's encoder (torch) against the new one
(ONNX) and the LangChain tutorial pipeline, all in the same run on the same machine.

    python evals/bench.py            # the full run (covid-qa whole, 1x/2x/4x; tens of minutes)
    python evals/bench.py --quick    # a few covid-qa articles, 1x/2x, fewer repeats (minutes)
    python evals/bench.py --scales 1,2,4 --docs 30 --encoders onnx
    python evals/bench.py --serving-only --encoders new   # the web chat rows alone (a minute)

"today" is `ASSISTANT_ENCODER=torch` (sentence-transformers, the encoder before issue 11)
and "new" is `ASSISTANT_ENCODER=onnx`, both in this checkout. Every process-level figure is
a fresh `python -m assistant ...` process (imports and model load included); peak RSS comes
from the kernel (wait4) for processes that exit, and from /proc for the server. The peer is
LangChain's RAG tutorial pipeline (RecursiveCharacterTextSplitter 1000/200, MiniLM through
HuggingFaceEmbeddings, FAISS.from_documents) timed in this process with its model loaded
beforehand, as the issue measured it. Needs the `bench` extra (langchain-community).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
COVID = ROOT.parent / "shared" / "datasets" / "covid-qa"
SEED_QUESTION = "How much has Amazon invested in Anthropic?"
ENCODERS = {"today": "torch", "new": "onnx"}


# ---------------------------------------------------------------- processes


def _env(encoder: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
        "ASSISTANT_ENCODER": encoder,
        "ASSISTANT_SHOW_PROGRESS": "false",
    }


def run_measured(args: list[str], encoder: str) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, stdout) of one fresh `python -m assistant` process."""
    t = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", *args],
        env=_env(encoder),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = proc.communicate()
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"assistant {' '.join(args)} failed: {err.strip()[-500:]}")
    import resource

    # ru_maxrss of RUSAGE_CHILDREN is the largest child's peak so far (KB on Linux); run
    # through `measured`, this process has had exactly one child.
    return wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, out


def measured(args: list[str], encoder: str) -> tuple[float, float, str]:
    """Run `run_measured` inside a fresh Python, so RUSAGE_CHILDREN holds one child only."""
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); import bench; "
        "print(json.dumps(bench.run_measured(json.loads(sys.argv[2]), sys.argv[3])))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(Path(__file__).parent), json.dumps(args), encoder],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip()[-800:])
    wall, peak, stdout = json.loads(out.stdout.strip().splitlines()[-1])
    return float(wall), float(peak), str(stdout)


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, from /proc."""
    total = 0
    pids = [pid]
    while pids:
        p = pids.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            total += int(
                next(ln for ln in status.splitlines() if ln.startswith("VmRSS")).split()[1]
            )
            for task in Path(f"/proc/{p}/task").iterdir():
                pids += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, StopIteration, ValueError):
            continue
    return total / 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------- data


def make_corpus(source: Path, out: Path, docs: int | None, scale: int) -> Path:
    """`scale` distinct copies of the first `docs` covid-qa articles. Copy n > 1 marks every
    sentence with "(n)", so no chunk of it has another copy's text (vectors are reused by
    chunk content, and identical copies would cost nothing to index)."""
    out.mkdir(parents=True, exist_ok=True)
    files = sorted((source / "docs").glob("*.txt"))[:docs]
    for n in range(1, scale + 1):
        for f in files:
            text = f.read_text(encoding="utf-8")
            if n > 1:
                text = text.replace(". ", f". ({n}) ")
            (out / f"{f.stem}-{n}.txt" if n > 1 else out / f.name).write_text(
                text, encoding="utf-8"
            )
    return out


def questions(source: Path, docs_dir: Path, limit: int) -> list[dict]:
    names = {p.name for p in docs_dir.iterdir()}
    qs = [json.loads(line) for line in (source / "questions.jsonl").open(encoding="utf-8")]
    return [q for q in qs if q["doc"] in names][:limit]


# ---------------------------------------------------------------- measurements


def index_process(docs: Path, index_dir: Path, encoder: str) -> tuple[float, float, int]:
    """(wall s, peak RSS MB, chunks) of a whole `assistant index` from nothing."""
    shutil.rmtree(index_dir, ignore_errors=True)
    wall, peak, _ = measured(["index", str(docs), "--index-dir", str(index_dir)], encoder)
    manifest = json.loads((index_dir / "manifest.json").read_text())
    return wall, peak, int(manifest["counts"]["chunks"])


def ask_latencies(index_dir: Path, encoder: str, qs: list[dict]) -> tuple[list[float], float]:
    """ask() milliseconds per question (after one warm-up) and hit@5, in a fresh process."""
    code = f"""
import json, sys, time
sys.path.insert(0, {str(ROOT)!r})
from assistant import Assistant, Settings
bot = Assistant.load({str(index_dir)!r}, settings=Settings(show_progress=False))
bot.warm_up()
qs = json.loads(sys.stdin.read())
times, hits = [], 0
for q in qs:
    t = time.perf_counter()
    answer = bot.ask(q["question"])
    times.append((time.perf_counter() - t) * 1000)
    for h in answer.hits[:5]:
        c = h.chunk
        end = q["answer_start"] + len(q["answers"][0])
        if c.source == q["doc"] and c.start < end and q["answer_start"] < c.end:
            hits += 1
            break
print(json.dumps([times, hits / max(len(qs), 1)]))
"""
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(qs),
        env=_env(encoder),
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip()[-800:])
    times, hit = json.loads(out.stdout.strip().splitlines()[-1])
    return times, hit


def cold_ask(seed_index: Path, encoder: str, repeats: int) -> tuple[float, float]:
    """Median wall s and largest peak RSS MB of `assistant ask` on the seed index."""
    runs = [
        measured(["ask", SEED_QUESTION, "--index-dir", str(seed_index)], encoder)
        for _ in range(repeats)
    ]
    return statistics.median(r[0] for r in runs), max(r[1] for r in runs)


def serving(
    docs: Path, index_dir: Path, encoder: str, users: int, per_user: int
) -> tuple[float, float, float, float]:
    """(seconds from `assistant ui` to an HTTP 200 on its page, seconds until the chat is up
    with its index loaded, idle RSS MB 2 s after that, peak RSS MB while `users` clients
    each ask `per_user` questions at once through the /ask API).

    The page answers before the chat is built (it shows the index's progress meanwhile), so
    the chat's readiness is timed too, and the idle memory is read once the chat is up."""
    from gradio_client import Client

    port = free_port()
    t = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "assistant",
            "ui",
            str(docs),
            "--index-dir",
            str(index_dir),
            "--port",
            str(port),
        ],
        env=_env(encoder),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"

    def get(path: str) -> bytes | None:
        if proc.poll() is not None:
            raise RuntimeError("assistant ui exited before serving")
        try:
            with urllib.request.urlopen(url + path, timeout=1) as r:
                return bytes(r.read()) if r.status == 200 else None
        except OSError:
            time.sleep(0.05)
            return None

    try:
        while get("") is None:
            pass
        page = time.perf_counter() - t
        while True:
            state = json.loads(get("startup") or b"{}")
            if state.get("chat") and state.get("ready"):
                break
            time.sleep(0.05)
        chat = time.perf_counter() - t
        time.sleep(2.0)
        idle = rss_mb(proc.pid)
        peak = idle
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not stop.is_set():
                peak = max(peak, rss_mb(proc.pid))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()

        def user(i: int) -> None:
            client = Client(url, verbose=False)
            for j in range(per_user):
                client.predict(f"{SEED_QUESTION} ({i}.{j})", api_name="/ask")

        with ThreadPoolExecutor(users) as pool:
            list(pool.map(user, range(users)))
        stop.set()
        sampler.join()
        return page, chat, idle, peak
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def peer_build(docs: Path) -> tuple[float, float, int]:
    """LangChain's tutorial pipeline over `docs`: (split + embed + FAISS seconds, model load
    seconds, chunks). Its model is loaded before the clock starts, as the issue measured."""
    import warnings

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from langchain_community.embeddings import HuggingFaceEmbeddings
    from langchain_community.vectorstores import FAISS
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from assistant.embedding import resolve_model_path

    t = time.perf_counter()
    embeddings = HuggingFaceEmbeddings(
        model_name=str(resolve_model_path("all-MiniLM-L6-v2")),
        model_kwargs={"device": "cpu", "local_files_only": True},
    )
    embeddings.embed_query("warm up")
    load = time.perf_counter() - t

    t = time.perf_counter()
    raw = [
        Document(page_content=p.read_text(encoding="utf-8"), metadata={"source": p.name})
        for p in sorted(docs.glob("*.txt"))
    ]
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=1000, chunk_overlap=200, add_start_index=True
    )
    splits = splitter.split_documents(raw)
    FAISS.from_documents(splits, embeddings)
    return time.perf_counter() - t, load, len(splits)


# ---------------------------------------------------------------- the table


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a few articles, 1x/2x, few repeats")
    ap.add_argument("--data", default=str(COVID), help="a covid-qa style data set folder")
    ap.add_argument("--docs", type=int, help="first N articles only (default: all)")
    ap.add_argument("--scales", help="corpus multiples for the growth rows (default 1,2,4)")
    ap.add_argument("--questions", type=int, help="covid-qa questions for ask() latency")
    ap.add_argument("--repeats", type=int, help="cold `assistant ask` runs (median)")
    ap.add_argument("--users", type=int, default=16, help="concurrent web chat users")
    ap.add_argument("--encoders", default="today,new", help="columns: today, new or both")
    ap.add_argument(
        "--serving-only",
        action="store_true",
        help="only the web chat's rows (to serving, to the chat, RSS idle / users)",
    )
    args = ap.parse_args(argv)
    if args.quick:
        args.docs = args.docs or 8
        args.scales = args.scales or "1,2"
        args.questions = args.questions or 40
        args.repeats = args.repeats or 1
    scales = [int(s) for s in (args.scales or "1,2,4").split(",")]
    n_questions = args.questions or 400
    repeats = args.repeats or 3
    columns = [c for c in args.encoders.split(",") if c in ENCODERS]
    data = Path(args.data)
    if not (data / "questions.jsonl").is_file() or not list((data / "docs").glob("*.txt")):
        raise SystemExit(f"no covid-qa data set at {data}: pass --data DIR")
    say: Callable[[str], None] = lambda line: print(f"  ... {line}", file=sys.stderr, flush=True)  # noqa: E731

    rows: dict[str, dict[str, str]] = {}

    def put(row: str, column: str, value: str) -> None:
        rows.setdefault(row, {})[column] = value

    with tempfile.TemporaryDirectory(prefix="assistant-bench-") as tmp_name:
        tmp = Path(tmp_name)
        # Export the ONNX graph first so no timed run pays for it (it is a one-time set-up).
        subprocess.run(
            [sys.executable, "-m", "assistant.embedding.export"], env=_env("onnx"), check=True
        )
        seeds = tmp / "seeds"
        shutil.copytree(ROOT / "seeds", seeds)
        corpora = {s: make_corpus(data, tmp / f"covid-{s}x", args.docs, s) for s in scales}
        base = corpora[scales[0]]
        label = f"covid-qa {'all' if args.docs is None else args.docs} articles"

        peer_s, peer_load = float("nan"), float("nan")
        if not args.serving_only:
            say("peer: LangChain tutorial build")
            peer_s, peer_load, peer_chunks = peer_build(base)
            put(f"index {label} (s)", "peer", f"{peer_s:.1f} ({peer_chunks} chunks)")

        for column in columns:
            encoder = ENCODERS[column]
            for s in [] if args.serving_only else scales:
                say(f"{column}: index {s}x")
                wall, peak, chunks = index_process(corpora[s], tmp / f"idx-{encoder}-{s}", encoder)
                qs = questions(data, corpora[s], n_questions)
                say(f"{column}: ask() latency at {s}x over {len(qs)} questions")
                times, hit = ask_latencies(tmp / f"idx-{encoder}-{s}", encoder, qs)
                if s == scales[0]:
                    put(f"index {label} (s)", column, f"{wall:.1f} ({chunks} chunks)")
                    put("ratio to the peer's build", column, f"{wall / peer_s:.2f}")
                    put(f"hit@5, {len(qs)} questions", column, f"{hit:.3f}")
                    put(
                        "covid-qa ask() p50 / p95 (ms)",
                        column,
                        f"{pct(times, 50):.0f} / {pct(times, 95):.0f}",
                    )
                put(
                    f"{s}x: index s, peak MB, ask p50 ms",
                    column,
                    f"{wall:.1f} s, {peak:.0f} MB, {pct(times, 50):.0f} ms ({chunks} chunks)",
                )
            seed_index = tmp / f"seed-{encoder}"
            measured(["index", str(seeds), "--index-dir", str(seed_index)], encoder)
            if not args.serving_only:
                say(f"{column}: cold ask x{repeats}")
                wall, peak = cold_ask(seed_index, encoder, repeats)
                put(
                    "cold `assistant ask` on seeds (s, peak MB)",
                    column,
                    f"{wall:.2f} s, {peak:.0f} MB",
                )
            say(f"{column}: web chat, {args.users} users")
            page, chat, idle, peak = serving(
                seeds, seed_index, encoder, args.users, 2 if args.quick else 5
            )
            put("`assistant ui` to serving, existing index (s)", column, f"{page:.1f}")
            put("`assistant ui` to the chat, index loaded (s)", column, f"{chat:.1f}")
            put(f"serving RSS idle / {args.users} users (MB)", column, f"{idle:.0f} / {peak:.0f}")

    targets = {
        f"index {label} (s)": "",
        "ratio to the peer's build": "<= 0.35",
        "covid-qa ask() p50 / p95 (ms)": "<= 30 / 100",
        "cold `assistant ask` on seeds (s, peak MB)": "<= 2 s",
        "`assistant ui` to serving, existing index (s)": "<= 3",
        "`assistant ui` to the chat, index loaded (s)": "",
        f"serving RSS idle / {args.users} users (MB)": "<= 350 / 500",
    }
    print()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; peer model load {peer_load:.1f} s (not in its time)"
    )
    header = [
        "what",
        "LangChain tutorial peer",
        *(f"{c} ({ENCODERS[c]})" for c in columns),
        "target",
    ]
    print("| " + " | ".join(header) + " |")
    print("|" + " --- |" * len(header))
    for row, values in rows.items():
        cells = [row, values.get("peer", ""), *(values.get(c, "") for c in columns)]
        print("| " + " | ".join([*cells, targets.get(row, "")]) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
