"""Which ONNX graph recipe embeds fastest on this CPU while staying within MIN_COSINE of torch
(issue 11's index-time target): the float32 graph as exported, ORT's transformer optimizer
(fused Attention / SkipLayerNormalization / BiasGelu), and dynamic int8 variants of either.

    python evals/bench_graph.py --docs 40 --sentences 2000 --rounds 2

Every variant is built from the float32 graph in the encoder cache (run
`python -m assistant.embedding.export` first), checked against sentence-transformers on the
exporter's VERIFY_SENTENCES, then timed on a fixed set of real covid-qa sentences (the
index's `sentence_units` of the first DOCS articles, length-sorted batches as indexing
does) at 2 threads and at 1, taking turns variant by variant and round by round (A B C ..
A B C ..) so that other jobs on a shared machine load every variant alike. Prints one
Markdown table; the scratch graphs are written to a temporary folder and removed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
COVID = ROOT.parent / "shared" / "datasets" / "covid-qa"
if not COVID.is_dir():
    COVID = Path("/work/shared/datasets/covid-qa")


def _sentences(data: Path, docs: int, limit: int) -> list[str]:
    from assistant.ingest.chunking import sentence_units

    seen: dict[str, None] = {}
    for path in sorted((data / "docs").glob("*.txt"))[:docs]:
        text = path.read_text(encoding="utf-8")
        for s, e in sentence_units(text):
            seen.setdefault(text[s:e], None)
    return list(seen)[:limit]


def _quantise(src: Path, dst: Path, **kwargs: object) -> None:
    import logging

    import onnx
    from onnxruntime.quantization import quantize_dynamic

    logging.getLogger().setLevel(logging.ERROR)
    # The fused graph's com.microsoft ops defeat ONNX shape inference; their outputs are
    # float32, which is what DefaultTensorType says.
    extra = {"DefaultTensorType": onnx.TensorProto.FLOAT}
    quantize_dynamic(str(src), str(dst), extra_options=extra, **kwargs)


def _optimise(src: Path, dst: Path, heads: int, hidden: int) -> None:
    from onnxruntime.transformers.optimizer import optimize_model

    model = optimize_model(
        str(src), model_type="bert", num_heads=heads, hidden_size=hidden, opt_level=0
    )
    print(f"  fused ops: {model.get_fused_operator_statistics()}", file=sys.stderr)
    model.save_model_to_file(str(dst))


def _matmul_names(graph: Path) -> list[str]:
    import onnx

    model = onnx.load(str(graph), load_external_data=False)
    return [n.name for n in model.graph.node if n.op_type == "MatMul"]


def _last_layer(names: list[str]) -> int:
    """The highest N in names like /model/encoder/layer.N/...: 5 for MiniLM-L6."""
    import re

    found = (re.search(r"/layer\.(\d+)/", n) for n in names)
    return max((int(m.group(1)) for m in found if m), default=0)


def _recipes(fp32: Path, work: Path, heads: int, hidden: int) -> dict[str, Callable[[], Path]]:
    from onnxruntime.quantization import QuantType

    fused = work / "fused.onnx"

    def fuse() -> Path:
        if not fused.exists():
            _optimise(fp32, fused, heads, hidden)
        return fused

    def q(name: str, base: Callable[[], Path], **kw: object) -> Callable[[], Path]:
        def build() -> Path:
            out = work / f"{name}.onnx"
            _quantise(base(), out, **kw)
            return out

        return build

    def plain() -> Path:
        return fp32

    s8, u8 = QuantType.QInt8, QuantType.QUInt8
    matmuls = _matmul_names(fp32)
    ffn_out = [n for n in matmuls if "/output/dense/" in n and "attention" not in n]
    ffn_in = [n for n in matmuls if "/intermediate/" in n]
    ends = [n for n in matmuls if "/layer.0/" in n or f"/layer.{_last_layer(matmuls)}/" in n]
    return {
        "fp32 (today)": plain,
        "fp32 fused": fuse,
        "int8 s8 per-channel (v1 int8)": q("s8pc", plain, weight_type=s8, per_channel=True),
        "int8 u8 per-channel": q("u8pc", plain, weight_type=u8, per_channel=True),
        "int8 u8 per-tensor": q("u8pt", plain, weight_type=u8, per_channel=False),
        "int8 s8 per-channel reduce_range": q(
            "s8rr", plain, weight_type=s8, per_channel=True, reduce_range=True
        ),
        "int8 s8 per-channel MatMul only": q(
            "s8mm", plain, weight_type=s8, per_channel=True, op_types_to_quantize=["MatMul"]
        ),
        "int8 u8 per-channel MatMul only": q(
            "u8mm", plain, weight_type=u8, per_channel=True, op_types_to_quantize=["MatMul"]
        ),
        "int8 s8 per-channel; FFN output in fp32": q(
            "s8nfo", plain, weight_type=s8, per_channel=True, nodes_to_exclude=ffn_out
        ),
        "int8 s8 per-channel; FFN in fp32": q(
            "s8nf", plain, weight_type=s8, per_channel=True, nodes_to_exclude=ffn_out + ffn_in
        ),
        "int8 s8 per-channel; first and last layer in fp32": q(
            "s8ne", plain, weight_type=s8, per_channel=True, nodes_to_exclude=ends
        ),
        "int8 u8 reduce_range MatMul only; FFN output in fp32": q(
            "u8rrnfo",
            plain,
            weight_type=u8,
            per_channel=True,
            reduce_range=True,
            op_types_to_quantize=["MatMul"],
            nodes_to_exclude=ffn_out,
        ),
        "fused + int8 s8 per-channel": q("fs8pc", fuse, weight_type=s8, per_channel=True),
        "fused + int8 u8 per-channel": q("fu8pc", fuse, weight_type=u8, per_channel=True),
        "fused + int8 s8 pc reduce_range": q(
            "fs8rr", fuse, weight_type=s8, per_channel=True, reduce_range=True
        ),
        "fused + int8 u8 MatMul+Attention": q(
            "fu8ma",
            fuse,
            weight_type=u8,
            per_channel=True,
            op_types_to_quantize=["MatMul", "Attention"],
        ),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(COVID))
    ap.add_argument("--docs", type=int, default=40)
    ap.add_argument("--sentences", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--threads", default="2,1")
    ap.add_argument("--only", default="", help="comma-separated variant names to keep")
    ap.add_argument(
        "--also-batch", default="", help="further batch sizes to time the float32 graph with"
    )
    args = ap.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from assistant.embedding.base import read_shape, resolve_model_path
    from assistant.embedding.export import MIN_COSINE, VERIFY_SENTENCES, cached_encoder
    from assistant.embedding.onnx import OnnxSession, encoder_cache_dir
    from assistant.embedding.st import SentenceTransformerEmbedder
    from assistant.settings import Settings

    settings = Settings()
    model_path = resolve_model_path(settings.model)
    cached = cached_encoder(model_path, encoder_cache_dir(settings))
    if cached is None or cached.status != "ok":
        print("no exported graph: run python -m assistant.embedding.export", file=sys.stderr)
        return 1
    _, max_len = read_shape(model_path)
    texts = _sentences(Path(args.data), args.docs, args.sentences)
    print(f"{len(texts)} sentences from {args.docs} covid-qa articles", file=sys.stderr)
    reference = SentenceTransformerEmbedder(str(model_path), batch_size=8).embed(VERIFY_SENTENCES)
    threads = [int(t) for t in args.threads.split(",")]
    keep = {n.strip() for n in args.only.split(",") if n.strip()}
    with tempfile.TemporaryDirectory(prefix="bench-graph-") as tmp:
        # The fp32 graph is whichever graph the cache kept; find a float32 one to start from.
        fp32 = cached.model_path
        if cached.variant != "fp32":
            print("the cache holds an int8 graph: export --force with fp32 first", file=sys.stderr)
            return 1
        recipes = _recipes(fp32, Path(tmp), heads=12, hidden=384)
        sessions: dict[str, OnnxSession] = {}
        rows: dict[str, dict[str, object]] = {}
        truth: np.ndarray | None = None
        for name, build in recipes.items():
            if keep and name not in keep:
                continue
            t = time.perf_counter()
            try:
                graph = build()
            except Exception as exc:  # a recipe the quantiser or optimizer rejects
                print(f"{name}: could not build ({exc!r})", file=sys.stderr)
                continue
            session = OnnxSession(model_path, graph, cached.inputs, max_len)
            got = session.embed(VERIFY_SENTENCES, batch_size=4, threads=1)
            cos = (reference * got).sum(axis=1)
            rows[name] = {
                "mb": graph.stat().st_size / 1e6,
                "min_cos": float(cos.min()),
                "worst": VERIFY_SENTENCES[int(cos.argmin())][:24],
                "times": {n: [] for n in threads},
            }
            print(
                f"{name}: built in {time.perf_counter() - t:.1f} s, "
                f"lowest cosine {cos.min():.4f} ({rows[name]['worst']!r})",
                file=sys.stderr,
            )
            sessions[name] = session
        runs = [(name, session, args.batch_size) for name, session in sessions.items()]
        for size in (int(b) for b in args.also_batch.split(",") if b.strip()):
            if "fp32 (today)" in sessions:
                name = f"fp32 (today), batches of {size}"
                rows[name] = {**rows["fp32 (today)"], "times": {n: [] for n in threads}}
                runs.insert(1, (name, sessions["fp32 (today)"], size))
        for r in range(args.rounds):
            for name, session, size in runs:
                for n in threads:
                    t = time.perf_counter()
                    vectors = session.embed(texts, batch_size=size, threads=n)
                    dt = time.perf_counter() - t
                    times = rows[name]["times"]
                    assert isinstance(times, dict)
                    times[n].append(len(texts) / dt)
                    if truth is None:
                        truth = vectors  # the first variant's (float32) vectors
                    rows[name]["min_cos_sentences"] = float((truth * vectors).sum(axis=1).min())
                    print(
                        f"round {r + 1} {name} {n} thread(s): {len(texts) / dt:.1f} sentences/s "
                        f"(load {os.getloadavg()[0]:.1f})",
                        file=sys.stderr,
                    )
    head = " | ".join(f"{n} thread{'s' if n > 1 else ''}, sentences/s" for n in threads)
    print(
        f"| variant | MB | lowest cosine to torch, {len(VERIFY_SENTENCES)} check sentences "
        f"| lowest cosine to fp32, {len(texts)} sentences | {head} |"
    )
    print("| --- | ---: | ---: | ---: | " + " | ".join("---:" for _ in threads) + " |")
    for name, row in rows.items():
        times = row["times"]
        assert isinstance(times, dict)
        cells = " | ".join(
            f"{statistics.median(times[n]):.1f} ({', '.join(f'{x:.0f}' for x in times[n])})"
            if times[n]
            else ""
            for n in threads
        )
        ok = "" if float(row["min_cos"]) >= MIN_COSINE else " (under the bar)"  # type: ignore[arg-type]
        print(
            f"| {name} | {row['mb']:.0f} | {row['min_cos']:.4f}{ok} "
            f"| {row.get('min_cos_sentences', float('nan')):.4f} | {cells} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
