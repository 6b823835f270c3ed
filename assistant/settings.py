"""One settings object, read from ASSISTANT_* environment variables or passed explicitly.

It is created by the interfaces (CLI, UI, tests) and passed down; nothing reads it at import
time, so two assistants with different settings can live in one process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_MODEL", "Settings"]

DEFAULT_MODEL = "all-MiniLM-L6-v2"


class Settings(BaseSettings):
    """Everything that can be tuned, with defaults chosen on data (see README)."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", frozen=True, extra="ignore")

    # Where documents come from and where the index lives.
    docs_dir: Path = Path("seeds")
    index_dir: Path = Path("index")

    # Embedding: the packaged MiniLM by default; or a local sentence-transformers folder.
    model: str = DEFAULT_MODEL
    # 16 embedded covid-qa chunks about 15% faster than 32 on 2 cores (measured).
    embed_batch_size: int = Field(default=16, ge=1)
    device: str = "cpu"  # "cuda" (or "cuda:N"): torch in float16 with large batches
    # "onnx": the model's int8 ONNX graph on onnxruntime (no torch when answering; exported
    # once, verified against torch); "torch": sentence-transformers.
    encoder: Literal["onnx", "torch"] = "onnx"
    # Where exported ONNX graphs are cached; None: $XDG_CACHE_HOME (or ~/.cache)/assistant.
    encoder_cache_dir: Path | None = None
    show_progress: bool = True

    # Chunking, in the embedding model's word pieces (the model's window is 256 with
    # [CLS]/[SEP]; chunk_tokens must stay below it or text would be silently truncated).
    # 254 (the whole window) raised covid-qa hit@5 from 0.762 to 0.776, but on the short
    # seed article it buried the "$8 billion" sentence in a larger chunk: 200 kept.
    chunk_tokens: int = Field(default=200, ge=16)
    chunk_overlap_tokens: int = Field(default=32, ge=0)

    # Retrieval.
    k: int = Field(default=5, ge=1, le=50)
    # "score": convex combination of normalised BM25 and cosine; "rrf": reciprocal rank
    # fusion. Chosen on the tune half of covid-qa, confirmed on the other half (README).
    fusion: Literal["score", "rrf"] = "score"
    candidates: int = Field(default=100, ge=1)
    lexical_weight: float = Field(default=0.7, ge=0.0)
    dense_weight: float = Field(default=1.0, ge=0.0)  # rrf only
    rrf_k: int = Field(default=60, ge=1)

    # Answers. answer_mode names a backend of answer/registry.py, the one list of modes.
    answer_mode: str = "extractive"
    # Answer units kept: the best sentence, then those scoring at least sentence_keep_ratio of
    # it, at most max_answer_sentences. Chosen on the tune half of evals/refusal/ with the
    # seed set's fact recall as the floor (evals/refusal/README.md): 0.8 and 3 keep seed fact
    # recall at 0.82 where 0.85 and 4 lost two facts, with fewer sentences on average.
    max_answer_sentences: int = Field(default=3, ge=1, le=8)
    max_question_chars: int = Field(default=2000, ge=10)
    sentence_keep_ratio: float = Field(default=0.8, gt=0.0, le=1.0)
    sentence_lexical_weight: float = Field(default=1.0, ge=0.0)
    sentence_redundancy: float = Field(default=0.8, gt=0.0, le=1.0)
    # The refusal model: P(answerable) = sigmoid(bias + sum of weight * feature), the features
    # named as in answer/features.py (FEATURE_NAMES; one left out weighs 0). Fitted by
    # evals/calibrate_refusal.py on the tune half of evals/refusal/ (covid-qa answerable and
    # adversarial questions, seed-article adversarial questions, off-topic questions); the
    # threshold refuses at most 4% of the tune half's answerable questions. top_dense and
    # focus were tried and dropped (evals/refusal/README.md gives the figures).
    refusal_weights: dict[str, float] = Field(
        default_factory=lambda: {
            "best_cosine": 11.382,
            "typed_focus": 8.732,
            "passage_coverage": -6.286,
            "entity_missing": -11.003,
            "type_missing": -3.644,
        }
    )
    refusal_bias: float = -7.246
    refusal_threshold: float = Field(default=0.14, ge=0.0, le=1.0)

    # Uploads through the UI.
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, ge=1)

    # The OpenAI-compatible endpoint's bearer key: from ASSISTANT_API_KEY, or the first line
    # of the file ASSISTANT_API_KEY_FILE names. Never a command-line option: those show in
    # `ps` and shell history. Required whenever the server listens beyond loopback.
    api_key: SecretStr | None = None
    api_key_file: Path | None = None

    @field_validator("answer_mode")
    @classmethod
    def _known_mode(cls, mode: str) -> str:
        # The registry is a small module that imports no backend, so this stays cheap.
        from .answer.registry import available_backends

        modes = available_backends()
        if mode not in modes:
            raise ValueError(f"unknown answer mode {mode!r}: use one of {', '.join(modes)}")
        return mode
