"""Peak memory of `assistant index` on one big .txt, phase by phase.

    python evals/bench_memory.py --mb 20 [--mb 5] [--real]

Each run is a fresh process that makes a synthetic English text of the given size (unique
sentences from a fixed vocabulary, seeded: the same text every run) in a temporary folder
and runs the real `assistant index` command (`cli.main`) on it, while a thread samples the
process's RSS every 20 ms. It prints, in MB beside the file size: "start", the process's
RSS just before `assistant index` runs (Python, numpy, psutil and the assistant's modules
imported); the peak of each phase (model, scan, chunk+embed: loading, chunking and
embedding are one streamed pass; write: the store's commit); the whole run's peak; and
the peak minus start, also without what loading the model added (the model phase's
peak minus start: the stand-in's tokenizer, or the real model).

Without --real the embedder is a stand-in made here, in this script only (users cannot pick
it): the real model's tokenizer, so chunks and sentences are the real ones, and a vector per
text drawn from a generator seeded by the text's CRC-32, with the real model's 384
dimensions, so embedding 160,000 sentences takes seconds and every later phase runs. The
real model adds its own memory (about 224 MB here) and its embedding time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

_VOCABULARY = (
    "the a of to and in is was for on that with as by at from it this be are an have which "
    "patients study virus infection cells protein results data analysis response disease "
    "treatment cases clinical model time group samples human health risk higher lower "
    "increased reduced observed reported significant different population children hospital "
    "respiratory severe acute symptoms transmission vaccine immune antibody genome sequence "
    "strain host animal outbreak epidemic public control measures countries surveillance "
    "method approach system network structure function level rate number effect factor"
)
_WORDS = _VOCABULARY.split()


def synthetic_text(megabytes: float, seed: int = 13) -> str:
    """English-like text of about the given size: sentences of 8 to 30 words, paragraphs of
    3 to 8 sentences, each sentence numbered so that none repeats."""
    rng = random.Random(seed)
    target = int(megabytes * 1_000_000)
    parts: list[str] = []
    size = n = 0
    while size < target:
        para = []
        for _ in range(rng.randint(3, 8)):
            words = rng.choices(_WORDS, k=rng.randint(8, 30))
            n += 1
            para.append(f"{words[0].capitalize()} {' '.join(words[1:])} ({n}).")
        text = " ".join(para) + "\n\n"
        parts.append(text)
        size += len(text)
    return "".join(parts)


class _HashEmbedder:
    """The real model's tokenizer and shape, with a seeded random unit vector per text."""

    def __init__(self) -> None:
        from assistant.embedding.base import TokenSpans, read_shape, resolve_model_path

        path = resolve_model_path("sentence-transformers/all-MiniLM-L6-v2")
        self.dimension, self.max_seq_length = read_shape(path)
        self.token_spans = TokenSpans(path)
        self.name = "bench-hash"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            rng = np.random.default_rng(zlib.crc32(text.encode("utf-8", "surrogatepass")))
            out[i] = rng.standard_normal(self.dimension, dtype=np.float32)
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out


def _child(docs: Path, real: bool) -> None:
    import psutil

    import assistant.embedding as embedding
    import assistant.store.faiss as faiss_store
    import assistant.store.sync as sync
    from assistant import cli

    proc = psutil.Process()
    phase = ["start"]
    peaks: dict[str, float] = {}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            rss = proc.memory_info().rss / 1e6
            peaks[phase[0]] = max(peaks.get(phase[0], 0.0), rss)
            time.sleep(0.02)

    with tempfile.TemporaryDirectory() as tmp:
        file_mb = (docs / "big.txt").stat().st_size / 1e6
        # "start": this process before `assistant index` runs, its modules imported.
        start = proc.memory_info().rss / 1e6
        threading.Thread(target=sample, daemon=True).start()
        phase[0] = "model"
        if not real:

            def stand_in(settings: Any, say: Any = None) -> Any:
                return _HashEmbedder()

            embedding.build_embedder = stand_in
        real_apply_plan = sync.apply_plan
        real_store_apply = faiss_store.FaissStore.apply

        real_scan = sync.scan

        def scan(*args: Any, **kwargs: Any) -> Any:
            phase[0] = "scan"
            return real_scan(*args, **kwargs)

        def apply_plan(*args: Any, **kwargs: Any) -> Any:
            # Loading, chunking and embedding are one streamed pass, source by source.
            phase[0] = "chunk+embed"
            return real_apply_plan(*args, **kwargs)

        def store_apply(self: Any, batch: Any) -> Any:
            phase[0] = "write"
            return real_store_apply(self, batch)

        sync.scan = scan
        sync.apply_plan = apply_plan
        faiss_store.FaissStore.apply = store_apply  # type: ignore[method-assign]
        t = time.perf_counter()
        os.environ["HF_HUB_OFFLINE"] = "1"
        rc = cli.main(["index", str(docs), "--index-dir", str(Path(tmp) / "index")])
        seconds = time.perf_counter() - t
        phase[0] = "end"
        time.sleep(0.05)
        done.set()
    overall = max(peaks.values())
    print(
        json.dumps(
            {
                "file_mb": file_mb,
                "rc": rc,
                "seconds": seconds,
                "start": start,
                "model": peaks.get("model", start),
                "peaks": peaks,
                "peak": overall,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, action="append", help="file size; repeatable")
    parser.add_argument("--real", action="store_true", help="the real model, not the stand-in")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # the folder to index
    args = parser.parse_args()
    if args.child:
        _child(Path(args.child), args.real)
        return
    print(f"load average: {os.getloadavg()}")
    for mb in args.mb or [5.0]:
        with tempfile.TemporaryDirectory() as tmp:
            # Made here, so the child's memory holds only what indexing holds.
            (Path(tmp) / "big.txt").write_text(synthetic_text(mb), encoding="utf-8")
            cmd = [sys.executable, __file__, "--child", tmp] + (["--real"] * args.real)
            out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
        if out.returncode or not lines:
            raise SystemExit(f"the run for {mb} MB failed:\n{out.stdout}\n{out.stderr}")
        r = json.loads(lines[-1])
        phases = ", ".join(
            f"{k} {v:.0f}" for k, v in r["peaks"].items() if k not in ("start", "end")
        )
        above = r["peak"] - r["start"]
        beyond_model = r["peak"] - r["model"]
        print(
            f"{r['file_mb']:.1f} MB .txt ({'real model' if args.real else 'stand-in embedder'}): "
            f"start RSS {r['start']:.0f} MB, peak {r['peak']:.0f} MB, peak - start "
            f"{above:.0f} MB ({above / r['file_mb']:.1f}x the file); peak - (start + model "
            f"{r['model'] - r['start']:.0f}) {beyond_model:.0f} MB "
            f"({beyond_model / r['file_mb']:.1f}x); per phase: {phases}; {r['seconds']:.0f} s"
        )
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
