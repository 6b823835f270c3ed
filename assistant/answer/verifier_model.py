"""The learned support checker: a MiniLM cross-encoder, int8 ONNX, run with onnxruntime.

Trained by evals/train_verifier.py (synthetic hard negatives from covid-qa and the seed
article), calibrated by evals/score_verifier.py, shipped in assistant/answer/verifier/:
model.int8.onnx, tokenizer.json and calibration.json (the decision threshold). No torch on
this path: `tokenizers` encodes, onnxruntime scores.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from ..errors import ModelNotFoundError

__all__ = ["MODEL_DIR", "OnnxSupportScorer", "default_scorer"]

MODEL_DIR = Path(__file__).resolve().parent / "verifier"
MAX_LENGTH = 128  # tokens of span + sentence; the span is cut first (as in training)


class OnnxSupportScorer:
    """P(span supports sentence) from the shipped cross-encoder.

    Example: OnnxSupportScorer().scores([("Amazon has invested $8 billion.",
             "Amazon put $8 billion in.")]) -> [0.9...]
    """

    def __init__(self, model_dir: Path = MODEL_DIR, threads: int = 1) -> None:
        self.model_dir = Path(model_dir)
        model = self.model_dir / "model.int8.onnx"
        if not model.is_file() or not (self.model_dir / "tokenizer.json").is_file():
            raise ModelNotFoundError(
                f"The verifier model is missing from {self.model_dir}; reinstall the package "
                "or run evals/train_verifier.py to rebuild it."
            )
        calibration = self.model_dir / "calibration.json"
        self.threshold = (
            float(json.loads(calibration.read_text())["threshold"])
            if calibration.is_file()
            else 0.5
        )
        self.threads = threads
        self._session = None
        self._tokenizer = None
        self._lock = threading.Lock()

    def _load(self) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        tokenizer.enable_truncation(MAX_LENGTH, strategy="only_first")
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = ort.SessionOptions()
        # One thread: the answer path shares a small machine with the language model.
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            str(self.model_dir / "model.int8.onnx"), options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = tokenizer

    def scores(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        """Support probability of each (span, sentence) pair, in order."""
        import numpy as np

        if not pairs:
            return []
        with self._lock:
            if self._session is None:
                self._load()
        assert self._session is not None and self._tokenizer is not None
        out: list[float] = []
        for b in range(0, len(pairs), 16):
            batch = self._tokenizer.encode_batch([tuple(p) for p in pairs[b : b + 16]])
            feeds = {
                "input_ids": np.array([e.ids for e in batch], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in batch], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in batch], dtype=np.int64),
            }
            logits = self._session.run(None, feeds)[0][:, 0]
            out.extend((1.0 / (1.0 + np.exp(-logits))).tolist())
        return out


@cache
def default_scorer() -> OnnxSupportScorer:
    """The shipped scorer, loaded once per process (the model loads on first use)."""
    return OnnxSupportScorer()
