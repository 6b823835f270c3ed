"""The verifier's calibrated settings, and the learned support checker that is installed.

The shipped checker is answer/checker.py's TreeChecker: gradient-boosted trees over alignment
features, trained by evals/train_checker.py, stored as assistant/answer/verifier/checker.json
and run in pure Python. A MiniLM cross-encoder (evals/train_verifier.py, int8 ONNX run with
onnxruntime + `tokenizers`, `OnnxSupportScorer`) is still loaded when one is installed as
model.int8.onnx and no tree checker is; none ships: it did not learn within this machine's
budget and costs 800-1,000 ms an answer (evals/VERIFIER.md).

calibration.json there holds the cut-offs chosen on the tune half of evals/verify_set.jsonl by
evals/score_verifier.py: `threshold` and `min_coverage` for the installed checker, and under
"rules" the coverage cut-off of the rule check alone (ASSISTANT_VERIFIER=rules).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import ModelNotFoundError
from ..schema import Chunk
from .checker import CHECKER_FILE, TreeChecker
from .verify import SupportScorer, Verification, verify_answer

__all__ = [
    "MODEL_DIR",
    "Calibration",
    "OnnxSupportScorer",
    "check_answer",
    "default_scorer",
    "load_calibration",
]

MODEL_DIR = Path(__file__).resolve().parent / "verifier"
MAX_LENGTH = 112  # tokens of span + sentence, as trained; the longer one is cut first


@dataclass(frozen=True, slots=True)
class Calibration:
    """Cut-offs chosen on the tune half: checker score (None: no checker) and coverage."""

    min_coverage: float
    threshold: float | None = None


@cache
def load_calibration(model_dir: Path = MODEL_DIR, kind: str = "checker") -> Calibration:
    """The shipped calibration of the installed checker, or of the rules alone when kind is
    "rules" (coverage 0.0 and no threshold when the file or the entry is missing)."""
    path = Path(model_dir) / "calibration.json"
    data = json.loads(path.read_text()) if path.is_file() else {}
    if kind == "rules":
        data = {"min_coverage": data.get("rules", data).get("min_coverage", 0.0)}
    threshold = data.get("threshold")
    return Calibration(
        float(data.get("min_coverage", 0.0)), None if threshold is None else float(threshold)
    )


class OnnxSupportScorer:
    """P(span supports sentence) from a trained cross-encoder in model_dir.

    Example: OnnxSupportScorer(dir).scores([("Amazon has invested $8 billion.",
             "Amazon put $8 billion in.")]) -> [p] with 0 <= p <= 1
    """

    def __init__(self, model_dir: Path = MODEL_DIR, threads: int = 1) -> None:
        self.model_dir = Path(model_dir)
        model = self.model_dir / "model.int8.onnx"
        if not model.is_file() or not (self.model_dir / "tokenizer.json").is_file():
            raise ModelNotFoundError(
                f"No verifier model in {self.model_dir}; run evals/train_verifier.py to train "
                "one, or verify without it (default_scorer() returns None)."
            )
        calibration = load_calibration(self.model_dir)
        self.threshold = 0.5 if calibration.threshold is None else calibration.threshold
        self.min_coverage = calibration.min_coverage
        self.threads = threads
        self._session: Any = None  # onnxruntime.InferenceSession, loaded on first use
        self._tokenizer: Any = None  # tokenizers.Tokenizer
        self._lock = threading.Lock()

    def _load(self) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        tokenizer.enable_truncation(MAX_LENGTH, strategy="longest_first")
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
def default_scorer() -> SupportScorer | None:
    """The installed checker with its calibrated cut-offs, loaded once per process: the tree
    checker (checker.json), else an ONNX cross-encoder (model.int8.onnx); None when neither
    is installed."""
    if CHECKER_FILE.is_file():
        calibration = load_calibration()
        return TreeChecker.load(
            CHECKER_FILE,
            threshold=0.5 if calibration.threshold is None else calibration.threshold,
            min_coverage=calibration.min_coverage,
        )
    if not (MODEL_DIR / "model.int8.onnx").is_file():
        return None
    return OnnxSupportScorer()


def check_answer(
    answer: str,
    passages: Sequence[Chunk],
    scorer: SupportScorer | None = None,
    *,
    kind: str = "checker",
) -> Verification:
    """verify_answer with the shipped calibration and the installed checker (if any); with
    kind "rules", the rules and their own coverage cut-off only, no checker.

    This is the call for an answer backend: passages in prompt order ([n] = passages[n-1]).
    Example: check_answer("Amazon invested $8 billion [1].", [chunk]) -> Verification(...)
    """
    scorer = None if kind == "rules" else scorer if scorer is not None else default_scorer()
    if scorer is None:
        cut = load_calibration(MODEL_DIR, "rules").min_coverage
        return verify_answer(answer, passages, None, min_coverage=cut)
    cover = getattr(scorer, "min_coverage", load_calibration().min_coverage)
    return verify_answer(answer, passages, scorer, threshold=scorer.threshold, min_coverage=cover)
