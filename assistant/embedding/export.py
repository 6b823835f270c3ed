"""Export a sentence-transformers folder to a verified ONNX graph (int8 where it holds up),
and cache it.

    python -m assistant.embedding.export            # the configured model (ASSISTANT_MODEL)
    python -m assistant.embedding.export --force    # export again even if cached

The graph is exported once from the installed safetensors with torch (the only use of torch
on the ONNX path), its weights are quantised to int8 (onnxruntime's dynamic quantisation),
and it is checked against sentence-transformers on a fixed sample of sentences: every
cosine must reach MIN_COSINE. If int8 falls short the float32 graph is checked and kept
instead; if that fails too the entry is "refused" and the assistant uses torch. The result
is cached under a key made of the model's content hash and EXPORT_VERSION:

    <cache>/<hash[:32]>-v<EXPORT_VERSION>/
        model.onnx          the graph: token ids in, unit-length sentence vectors out
        meta.json           written last, the commit point: status ("ok" or "refused"),
                            variant ("int8" or "fp32"), the graph's sha256 and size, its
                            inputs, the verification figures of each variant tried

Every file is written to a temporary name and renamed into place, so an export killed at
any point leaves no file that a later run would take for a finished one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import EncoderError, ModelNotFoundError
from .base import model_content_hash, model_files, read_shape, resolve_model_path

__all__ = [
    "EXPORT_VERSION",
    "MIN_COSINE",
    "VERIFY_SENTENCES",
    "CachedEncoder",
    "cached_encoder",
    "export_encoder",
    "main",
]

# Bump when the graph, its quantisation or its verification change: old caches are ignored.
EXPORT_VERSION = 1
MIN_COSINE = 0.99  # each verification sentence, ONNX graph against float32 torch
OPSET = 17  # LayerNormalization is a single op from 17; onnxruntime 1.31 runs up to 23
MODEL_FILE = "model.onnx"
# Tried in order; the first whose every check sentence reaches MIN_COSINE is kept. int8 is
# smaller and faster; on CPUs without VNNI (AVX2 only) onnxruntime's int8 kernels lose more
# precision and short texts fall under the bar (0.964 on "ok" here), so the float32 graph,
# exact and still free of torch, is the fallback before torch itself.
VARIANTS = ("int8", "fp32")
_QUANTISATION = {
    "int8": "dynamic int8, per-channel weights (onnxruntime.quantization.quantize_dynamic)",
    "fp32": "none",
}
META_FILE = "meta.json"

# A fixed sample: short and long, questions and statements, digits, punctuation, accents,
# and one text longer than the model's window (truncation must match torch's).
VERIFY_SENTENCES: tuple[str, ...] = (
    "How much has Amazon invested in Anthropic?",
    "Amazon has invested $8 billion in Anthropic, the maker of Claude.",
    "What is the incubation period of COVID-19?",
    "The median incubation period was estimated to be 5.1 days (95% CI, 4.5 to 5.8 days).",
    "Bread needs flour, water, salt and yeast.",
    "Le café est prêt à 8 h, déjà servi à la terrasse.",
    "ok",
    "Is it safe?",
    "Coronaviruses are enveloped, positive-sense single-stranded RNA viruses.",
    "The quarterly report, released on 2024-03-31, lists revenue of €1.2M and a 3.4% margin.",
    "SARS-CoV-2 binds the ACE2 receptor through the receptor-binding domain of its spike.",
    "Who founded the company, and when did it first turn a profit?",
    " ".join(
        f"Sentence {i} of a long passage about vaccines, trials and public health measures."
        for i in range(40)
    ),
)


@dataclass(frozen=True, slots=True)
class CachedEncoder:
    """A finished export in the cache: usable ("ok") or refused by its verification."""

    directory: Path
    status: str  # "ok" | "refused"
    reason: str  # why it was refused; "" when ok
    inputs: tuple[str, ...]  # the graph's input names, e.g. input_ids, attention_mask
    min_cosine: float
    variant: str  # "int8" or "fp32": part of the embedder's name

    @property
    def model_path(self) -> Path:
        return self.directory / MODEL_FILE


def cache_key(model_path: Path, cache_dir: Path) -> str:
    """`<content hash[:32]>-v<EXPORT_VERSION>`, the hash memoised by the files' size and
    mtime so a cold start does not read 90 MB of weights to find its cached graph."""
    stat = hashlib.sha256()
    for file in model_files(model_path):
        st = file.stat()
        stat.update(f"{file.resolve()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    memo = cache_dir / "fingerprints" / stat.hexdigest()[:32]
    try:
        content = memo.read_text(encoding="ascii").strip()
    except OSError:
        content = ""
    if len(content) != 64:
        content = model_content_hash(model_path)
        with contextlib.suppress(OSError):
            _atomic_write(memo, content.encode("ascii"))
    return f"{content[:32]}-v{EXPORT_VERSION}"


def cached_encoder(model_path: Path, cache_dir: Path) -> CachedEncoder | None:
    """The finished export for this model, or None if there is none or it is damaged
    (a missing, truncated or altered graph file fails its recorded size, or mtime and
    sha256)."""
    directory = cache_dir / cache_key(model_path, cache_dir)
    try:
        meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        if meta.get("export_version") != EXPORT_VERSION:
            return None
        cached = CachedEncoder(
            directory=directory,
            status=str(meta["status"]),
            reason=str(meta.get("reason", "")),
            inputs=tuple(meta.get("inputs", ())),
            min_cosine=float(meta.get("min_cosine", 0.0)),
            variant=str(meta.get("variant", "")),
        )
        if cached.status == "ok":
            # A partial file has the wrong size. Reading 20-90 MB for its sha256 on every
            # start would cost a cold question a good share of its time budget, so the
            # hash is checked only when the file's mtime is not the one recorded at export.
            st = (directory / MODEL_FILE).stat()
            if st.st_size != int(meta["onnx_bytes"]):
                return None
            if st.st_mtime_ns != meta.get("onnx_mtime_ns") and _sha256(
                directory / MODEL_FILE
            ) != str(meta["onnx_sha256"]):
                return None
        return cached
    except (OSError, ValueError, KeyError, TypeError):
        return None


def export_encoder(
    model_path: Path,
    cache_dir: Path,
    *,
    say: Callable[[str], None] | None = None,
) -> CachedEncoder:
    """Export, quantise, verify and cache the encoder for `model_path`; return the cache entry.

    A graph that fails verification is cached as "refused" (with the figures), so the next
    run falls back to torch at once instead of exporting again. Raises EncoderError, with
    one sentence, if the folder cannot be exported at all.
    """
    say = say or _stderr
    read_shape(model_path)  # a folder that is not a sentence-transformers model: clear error
    pooling = _pooling_mode(model_path)
    directory = cache_dir / cache_key(model_path, cache_dir)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / ".lock").touch()
    except OSError as exc:
        raise EncoderError(
            f"cannot write the encoder cache at {cache_dir} ({exc.strerror or exc}): set "
            "ASSISTANT_ENCODER_CACHE_DIR to a writable folder"
        ) from exc
    with _exclusive(directory / ".lock"):
        done = cached_encoder(model_path, cache_dir)
        if done is not None:  # another process finished it while we waited
            return done
        for stale in directory.glob(".*.tmp"):
            stale.unlink(missing_ok=True)
        t0 = time.perf_counter()
        say(f"Exporting the embedding model to ONNX (once, into {directory}) ...")
        fp32 = directory / f".fp32-{uuid.uuid4().hex[:8]}.tmp"
        int8 = directory / f".int8-{uuid.uuid4().hex[:8]}.tmp"
        tried: dict[str, float] = {}
        chosen: tuple[str, Path, list[float]] | None = None
        try:
            inputs = _export_fp32(model_path, fp32, pooling)
            reference = _reference_vectors(model_path)
            for variant in VARIANTS:
                if variant == "int8":
                    say("Quantising it to int8 ...")
                    _quantise(fp32, int8)
                    candidate = int8
                else:
                    candidate = fp32
                say(f"Checking the {variant} graph against torch on {len(reference)} sentences ...")
                cosines = _verify(model_path, candidate, inputs, reference)
                tried[variant] = round(min(cosines), 6)
                if min(cosines) >= MIN_COSINE:
                    chosen = (variant, candidate, cosines)
                    break
                say(
                    f"The {variant} graph's lowest cosine to torch was {min(cosines):.4f}, "
                    f"under {MIN_COSINE}: not used."
                )
            meta: dict[str, Any] = {
                "export_version": EXPORT_VERSION,
                "model_content_hash": model_content_hash(model_path),
                "source": str(model_path),
                "inputs": list(inputs),
                "pooling": pooling,
                "opset": OPSET,
                "min_cosine_by_variant": tried,
                "verify_sentences": len(VERIFY_SENTENCES),
                "versions": _versions(),
                "exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "seconds": round(time.perf_counter() - t0, 1),
            }
            if chosen is not None:
                variant, candidate, cosines = chosen
                graph = directory / MODEL_FILE
                os.replace(candidate, graph)
                meta.update(
                    status="ok",
                    variant=variant,
                    quantisation=_QUANTISATION[variant],
                    min_cosine=round(min(cosines), 6),
                    mean_cosine=round(float(np.mean(cosines)), 6),
                    onnx_bytes=graph.stat().st_size,
                    onnx_mtime_ns=graph.stat().st_mtime_ns,
                    onnx_sha256=_sha256(graph),
                )
                say(
                    f"ONNX encoder ({variant}) ready in {meta['seconds']} s (lowest cosine to "
                    f"torch {min(cosines):.4f} over {len(cosines)} sentences)."
                )
            else:
                meta.update(
                    status="refused",
                    min_cosine=max(tried.values()),
                    reason="no ONNX graph reached a cosine of "
                    f"{MIN_COSINE} to torch on every check sentence ({tried})",
                )
        finally:
            fp32.unlink(missing_ok=True)
            int8.unlink(missing_ok=True)
        _atomic_write(directory / META_FILE, (json.dumps(meta, indent=2) + "\n").encode("utf-8"))
    result = cached_encoder(model_path, cache_dir)
    if result is None:
        raise EncoderError(
            f"the ONNX export in {directory} could not be read back: check that the cache "
            "folder (ASSISTANT_ENCODER_CACHE_DIR) is writable"
        )
    return result


# ---------------------------------------------------------------- the steps


def _pooling_mode(model_path: Path) -> str:
    """ "mean", "cls", "max" or "mean_sqrt_len" from the folder's modules, or EncoderError for
    a pipeline the graph does not reproduce (a Dense layer, concatenated poolings...)."""
    try:
        modules = json.loads((model_path / "modules.json").read_text(encoding="utf-8"))
        kinds = [str(m["type"]).rsplit(".", 1)[-1] for m in modules]
        pooling_dir = next(m["path"] for m in modules if str(m["type"]).endswith("Pooling"))
        config = json.loads((model_path / pooling_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError, StopIteration) as exc:
        raise EncoderError(
            f"{model_path} has no readable modules.json with a Pooling module "
            f"({exc.__class__.__name__}): use ASSISTANT_ENCODER=torch for this model"
        ) from exc
    extra = [k for k in kinds if k not in {"Transformer", "Pooling", "Normalize"}]
    if kinds[:2] != ["Transformer", "Pooling"] or extra:
        raise EncoderError(
            f"{model_path} has modules {kinds}, the ONNX export covers Transformer, Pooling "
            "and Normalize only: use ASSISTANT_ENCODER=torch for this model"
        )
    modes = [
        mode
        for mode in ("mean", "cls", "max", "mean_sqrt_len")
        if config.get(f"pooling_mode_{mode}_tokens" if mode != "cls" else "pooling_mode_cls_token")
    ]
    if len(modes) != 1:
        raise EncoderError(
            f"{model_path} pools with {modes or 'no mode'}, the ONNX export covers exactly one "
            "of mean, cls, max or mean_sqrt_len: use ASSISTANT_ENCODER=torch for this model"
        )
    return modes[0]


def _export_fp32(model_path: Path, out: Path, pooling: str) -> tuple[str, ...]:
    """Trace transformer + pooling + normalisation into one float32 ONNX graph."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    import inspect
    import warnings

    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        # Eager attention traces to plain MatMul/Softmax, which quantise and run everywhere.
        model = AutoModel.from_pretrained(
            str(model_path), local_files_only=True, attn_implementation="eager"
        )
    except Exception as exc:  # safetensors, transformers and torch each raise their own
        raise EncoderError(
            f"could not load the weights in {model_path} to export them "
            f"({exc.__class__.__name__}): check the folder, or use ASSISTANT_ENCODER=torch"
        ) from exc
    model.eval()
    takes_types = "token_type_ids" in inspect.signature(model.forward).parameters
    inputs: tuple[str, ...] = ("input_ids", "attention_mask") + (
        ("token_type_ids",) if takes_types else ()
    )

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *args: torch.Tensor) -> torch.Tensor:
            feeds = dict(zip(inputs, args, strict=True))
            tokens = self.model(**feeds)[0]
            mask = feeds["attention_mask"].unsqueeze(-1).to(tokens.dtype)
            if pooling == "cls":
                vector = tokens[:, 0]
            elif pooling == "max":
                vector = tokens.masked_fill(mask == 0, -1e9).max(dim=1).values
            else:
                summed = (tokens * mask).sum(dim=1)
                count = mask.sum(dim=1).clamp(min=1e-9)
                vector = summed / (count.sqrt() if pooling == "mean_sqrt_len" else count)
            return torch.nn.functional.normalize(vector, p=2.0, dim=1)

    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
    tokenizer.enable_padding()
    sample = tokenizer.encode_batch(list(VERIFY_SENTENCES[:2]))
    arrays = {
        "input_ids": [e.ids for e in sample],
        "attention_mask": [e.attention_mask for e in sample],
        "token_type_ids": [e.type_ids for e in sample],
    }
    args = tuple(torch.tensor(arrays[name], dtype=torch.long) for name in inputs)
    axes = {name: {0: "batch", 1: "sequence"} for name in inputs}
    try:
        with warnings.catch_warnings(), torch.inference_mode():
            # The TorchScript exporter: it needs only the `onnx` package and works offline;
            # the dynamo exporter (torch's default since 2.9) would add onnxscript.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Pooled(),
                args,
                str(out),
                input_names=list(inputs),
                output_names=["sentence_embedding"],
                dynamic_axes={**axes, "sentence_embedding": {0: "batch"}},
                opset_version=OPSET,
                do_constant_folding=True,
                dynamo=False,
            )
    except Exception as exc:  # the exporter raises many kinds; all mean "cannot export"
        raise EncoderError(
            f"torch could not export {model_path} to ONNX ({exc.__class__.__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}): use ASSISTANT_ENCODER=torch"
        ) from exc
    return inputs


def _quantise(fp32: Path, int8: Path) -> None:
    """Dynamic int8: weights stored as int8 per output channel, activations quantised per
    call. No calibration data is needed; whether it is close enough is checked next.
    (Per-channel raised the lowest check cosine from 0.872 to 0.964 on an AVX2 CPU.)"""
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    # It advises pre-processing through the root logger; the check that follows is what
    # decides whether the graph is good enough.
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
    finally:
        root.setLevel(level)


def _reference_vectors(model_path: Path) -> np.ndarray:
    """VERIFY_SENTENCES through sentence-transformers in float32: the truth to match."""
    from .st import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(str(model_path), batch_size=8).embed(VERIFY_SENTENCES)


def _verify(
    model_path: Path, graph: Path, inputs: Sequence[str], reference: np.ndarray
) -> list[float]:
    """Cosine of each VERIFY_SENTENCES vector, ONNX graph against the reference."""
    from .onnx import OnnxSession

    _, max_len = read_shape(model_path)
    candidate = OnnxSession(model_path, graph, tuple(inputs), max_len).embed(
        VERIFY_SENTENCES, batch_size=4
    )
    return [float(c) for c in (reference * candidate).sum(axis=1)]


# ---------------------------------------------------------------- helpers


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Any:
    """One exporter per cache entry at a time (two processes starting cold, say)."""
    import fcntl

    with lock_path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("torch", "transformers", "onnx", "onnxruntime"):
        with contextlib.suppress(PackageNotFoundError):
            found[name] = version(name)
    return found


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m assistant.embedding.export [--force]`: export the configured model now."""
    import argparse

    from ..errors import AssistantError
    from ..settings import Settings
    from .onnx import encoder_cache_dir

    parser = argparse.ArgumentParser(
        prog="python -m assistant.embedding.export",
        description="Export the embedding model (ASSISTANT_MODEL) to a verified ONNX "
        "graph in the encoder cache, so the first question does not pay for it.",
    )
    parser.add_argument("--force", action="store_true", help="export again even if cached")
    args = parser.parse_args(argv)
    settings = Settings()
    try:
        model_path = resolve_model_path(settings.model)
        cache_dir = encoder_cache_dir(settings)
        if args.force:  # without its meta.json an entry is unfinished: it is exported anew
            (cache_dir / cache_key(model_path, cache_dir) / META_FILE).unlink(missing_ok=True)
        result = cached_encoder(model_path, cache_dir) or export_encoder(model_path, cache_dir)
    except (AssistantError, ModelNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if result.status != "ok":
        print(
            f"the ONNX encoder for {settings.model} was refused ({result.reason}): "
            "the assistant will use torch for it",
            file=sys.stderr,
        )
        return 0
    print(f"ONNX encoder for {settings.model}: {result.model_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
