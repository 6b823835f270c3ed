"""Embedders: the protocol the rest of the code needs, and the encoders behind it.

    build_embedder(settings)   the one way the interfaces make an embedder

Encoders, chosen by `settings.encoder` (ASSISTANT_ENCODER) in one small registry:
- "onnx" (default): the model's verified ONNX graph (int8, or float32 where int8 fails the
  check) on onnxruntime (onnx.py); torch is never imported on the index, ask or serve
  path. If the graph cannot be exported or fails its check against torch, a message says
  so and the torch encoder is used instead.
- "torch": sentence-transformers (st.py); also what `ASSISTANT_DEVICE=cuda` uses.

An embedder's `name` carries its encoder ("all-MiniLM-L6-v2+onnx-int8" or "+onnx-fp32"
against torch's "all-MiniLM-L6-v2"); the index manifest records it, so vectors of two
encoders never mix.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import EncoderError, InputError
from .base import Embedder, mean_directions, resolve_model_path
from .onnx import OnnxEmbedder, encoder_cache_dir, one_core
from .st import SentenceTransformerEmbedder, check_cuda

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = [
    "ENCODERS",
    "Embedder",
    "OnnxEmbedder",
    "SentenceTransformerEmbedder",
    "build_embedder",
    "encoder_cache_dir",
    "mean_directions",
    "one_core",
    "resolve_model_path",
]

Say = Callable[[str], None]


def _torch(settings: Settings, say: Say) -> Embedder:
    if settings.device.startswith("cuda"):
        check_cuda(settings.device)  # one clear sentence now, not at the first embed
    return SentenceTransformerEmbedder(
        settings.model,
        batch_size=settings.embed_batch_size,
        device=settings.device,
        show_progress=settings.show_progress,
    )


def _onnx(settings: Settings, say: Say) -> Embedder:
    if settings.device != "cpu":
        # The ONNX graph runs on the CPU; a GPU is reached through torch.
        return _torch(settings, say)
    try:
        return OnnxEmbedder(
            settings.model,
            cache_dir=encoder_cache_dir(settings),
            batch_size=settings.embed_batch_size,
            show_progress=settings.show_progress,
            say=say,
        )
    except EncoderError as exc:
        say(f"warning: {exc}; using the torch encoder instead")
        return _torch(settings, say)


ENCODERS: dict[str, Callable[[Settings, Say], Embedder]] = {"onnx": _onnx, "torch": _torch}


def build_embedder(settings: Settings, *, say: Say | None = None) -> Embedder:
    """The embedder `settings` ask for. `say` gets progress and fallback lines (one-time
    export, a refused graph); by default they go to stderr."""
    try:
        make = ENCODERS[settings.encoder]
    except KeyError:
        raise InputError(
            f"unknown encoder {settings.encoder!r}: set ASSISTANT_ENCODER to one of "
            f"{', '.join(ENCODERS)}"
        ) from None
    return make(settings, say or _stderr)


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
