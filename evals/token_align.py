"""Session 12 experiment: a BERTScore-style alignment of MiniLM's contextual token embeddings
as the verifier's meaning-level check, in place of the coverage cut-off and the tree checker.

For a (span, sentence) pair that passed the rules, `precision` is the mean, over the
sentence's word pieces, of each piece's best cosine with a piece of the span (last hidden
state of the packaged all-MiniLM-L6-v2, [CLS] and [SEP] left out; the sentence and the span
are each encoded alone). `AlignScorer` serves it as a SupportScorer, so the verifier's own
`assess` (rules first, then the two best-covered spans) decides with it exactly as it does
with the tree checker; `score_verifier.choose_threshold` picks the cut-offs (precision and
min_coverage) by the targets' criterion on the development files.

    # cut-offs on the development files, each file scored with them, and leave-one-file-out
    PYTHONPATH=$PWD nice -n 5 .venv/bin/python evals/token_align.py --loo
    # score a held-out file once at cut-offs chosen on all development files
    PYTHONPATH=$PWD nice -n 5 .venv/bin/python evals/token_align.py --held-out FILE
    # the same protocol for the shipped tree checker (cut-offs re-chosen on the same files),
    # and for the checker retrained with the precision as a feature (token_align_trees.py)
    ... evals/token_align.py --scorer checker --loo
    ... evals/token_align.py --scorer trees --trees /tmp/s12ctx/checker_align.json --loo
    # time the check of a typical answer (score_verifier.ANSWER, five passages, one thread)
    PYTHONPATH=$PWD nice -n 5 .venv/bin/python evals/token_align.py --time

Not shipped (evals/VERIFIER.md, "Session 12"): the figures and the decision are there. The
embeddings of each text are kept in memory and, between runs, in /tmp/s12ctx (--cache).
torch and transformers are imported only when a text has to be encoded.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from score_verifier import (
    answer_latency,
    choose_threshold,
    covid_dir,
    load_set,
    rates,
    row_scores,
)

from assistant.answer.checker import TreeChecker
from assistant.answer.verifier_model import load_calibration
from assistant.answer.verify import SupportScorer

__all__ = ["AlignScorer", "TokenAligner", "precision"]

ROOT = Path(__file__).resolve().parent.parent
DEV = {
    "tune": ROOT / "evals" / "verify_set.jsonl",  # its tune half only
    "s9": ROOT / "evals" / "verify_dev_s9.jsonl",
    "s10": ROOT / "evals" / "verify_dev_s10.jsonl",
    "hw": ROOT / "evals" / "checker_handwritten.jsonl",
    "s11": ROOT / "evals" / "verify_blind_s11.jsonl",
}
COVERAGES = (0.0, 0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7)


def precision(sentence: np.ndarray, span: np.ndarray) -> float:
    """Mean over the rows of `sentence` (unit vectors, one a word piece) of the best cosine
    with a row of `span`: BERTScore's precision, without idf (idf weighting and content words
    only were measured and did worse, evals/VERIFIER.md "Session 12").

    Example: precision(np.eye(2), np.eye(3)[:2, :2]) -> 1.0 (each piece has its twin);
             precision(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[1.0, 0.0]])) -> 0.5
    """
    if len(sentence) == 0 or len(span) == 0:
        return 0.0
    return float((sentence @ span.T).max(axis=1).mean())


class TokenAligner:
    """MiniLM's last hidden state of a text, unit rows, [CLS]/[SEP] left out; cached."""

    def __init__(self, cache: Path | None = None) -> None:
        self._cache_path = cache
        self._vectors: dict[str, np.ndarray] = {}
        if cache is not None and cache.is_file():
            self._vectors = pickle.loads(cache.read_bytes())
        self._model: Any = None
        self._tokenizer: Any = None
        self.encoded = 0  # texts encoded by this process (not found in the cache)

    def _load(self) -> None:
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        import torch
        from transformers import AutoModel, AutoTokenizer

        from assistant.embedding.base import resolve_model_path

        torch.set_num_threads(1)  # as the answer path runs: one thread per request
        path = str(resolve_model_path("all-MiniLM-L6-v2"))
        self._tokenizer = AutoTokenizer.from_pretrained(path)
        self._model = AutoModel.from_pretrained(path).eval()

    def vectors(self, texts: Sequence[str]) -> list[np.ndarray]:
        todo = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if todo:
            if self._model is None:
                self._load()
            import torch

            with torch.inference_mode():
                for text in todo:  # one by one: no padding, as fast as a batch here
                    enc = self._tokenizer(
                        [text], truncation=True, max_length=256, return_tensors="pt"
                    )
                    hidden = self._model(**enc).last_hidden_state[0, 1:-1].numpy()
                    norms = np.linalg.norm(hidden, axis=1, keepdims=True)
                    self._vectors[text] = (hidden / np.maximum(norms, 1e-12)).astype(np.float32)
            self.encoded += len(todo)
        return [self._vectors[t] for t in texts]

    def save(self) -> None:
        if self._cache_path is not None and self.encoded:
            self._cache_path.parent.mkdir(parents=True, exist_ok=True)
            self._cache_path.write_bytes(pickle.dumps(self._vectors))


class _Rounded:
    """A scorer's scores to three decimals (choose_threshold sweeps every distinct score)."""

    def __init__(self, scorer: SupportScorer) -> None:
        self.scorer = scorer
        self.threshold = scorer.threshold

    def scores(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        return [round(x, 3) for x in self.scorer.scores(pairs)]


class AlignScorer:
    """SupportScorer: the alignment precision of each (span, sentence) pair."""

    def __init__(
        self, aligner: TokenAligner, threshold: float = 0.750, min_coverage: float = 0.60
    ) -> None:
        self.aligner = aligner
        self.threshold = threshold  # the cut-offs chosen on the development files
        self.min_coverage = min_coverage

    def scores(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        spans = self.aligner.vectors([p[0] for p in pairs])
        sentences = self.aligner.vectors([p[1] for p in pairs])
        # Three decimals: finer does not change a decision and slows choose_threshold's sweep.
        return [round(precision(s, p), 3) for s, p in zip(sentences, spans, strict=True)]


class _Cold(AlignScorer):
    """AlignScorer that forgets every text before each call: a fresh answer's cost."""

    def scores(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        self.aligner._vectors.clear()
        return super().scores(pairs)


def _rows(name: str, path: Path, scorer: SupportScorer | None) -> list[dict]:
    rows = load_set(path)
    if name == "tune":
        rows = [r for r in rows if r["half"] == "tune"]
    scored, _ = row_scores(rows, scorer, covid_dir())
    return scored


def _line(name: str, rows: list[dict], threshold: float, cover: float) -> str:
    caught, kept = rates(rows, threshold, cover)
    line = f"  {name:<5} ({len(rows)} rows): caught {caught:.3f}  kept {kept:.3f}"
    for source in sorted({r["source"] for r in rows}):
        part = [r for r in rows if r["source"] == source]
        line += f"; {source} %.2f / %.2f" % rates(part, threshold, cover)
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--loo", action="store_true", help="leave one development file out")
    parser.add_argument("--held-out", type=Path, metavar="FILE", help="score once, at the end")
    parser.add_argument("--time", action="store_true", help="time a typical answer's check")
    parser.add_argument(
        "--end-to-end",
        nargs=argparse.REMAINDER,
        metavar="EVAL_ARGS",
        help="run `assistant eval EVAL_ARGS` with the alignment as the installed checker "
        "(precision 0.750, coverage 0.60: the cut-offs chosen on the development files)",
    )
    parser.add_argument("--cache", type=Path, default=Path("/tmp/s12ctx/aligner.pkl"))
    parser.add_argument("--scorer", choices=("align", "checker", "trees"), default="align")
    parser.add_argument(
        "--trees", type=Path, help="token_align_trees.py's checker (--scorer trees)"
    )
    args = parser.parse_args()
    aligner = TokenAligner(args.cache)
    scorer: SupportScorer = AlignScorer(aligner)
    if args.scorer == "checker":
        scorer = _Rounded(TreeChecker.load())
    elif args.scorer == "trees":
        from token_align_trees import with_alignment

        with_alignment(aligner)
        scorer = _Rounded(TreeChecker.load(args.trees))
    if args.end_to_end is not None:
        from assistant import cli
        from assistant.answer import verifier_model

        verifier_model.default_scorer = lambda: scorer  # type: ignore[assignment]
        raise SystemExit(cli.main(["eval", *args.end_to_end]))
    if args.time:
        cold = _Cold(aligner)
        cold.scores([("warm", "up")])
        ms, pairs, v = answer_latency(cold, cold.threshold, 0.0, covid_dir())
        rules_ms, _, _ = answer_latency(None, 0.5, 0.0, covid_dir())
        checker_ms, _, _ = answer_latency(TreeChecker.load(), 0.2571, 0.65, covid_dir())
        print(
            f"check of a three-sentence answer over five passages, 1 thread, median of 15: "
            f"rules alone {rules_ms:.1f} ms; rules + tree checker {checker_ms:.1f} ms; rules + "
            f"alignment ({pairs} pairs, every text encoded afresh) {ms:.1f} ms; kept "
            f"{len(v.citations)}; load {os.getloadavg()[0]:.1f}"
        )
        return
    started = time.perf_counter()
    dev = {name: _rows(name, path, scorer) for name, path in DEV.items()}
    aligner.save()
    print(f"development files scored in {time.perf_counter() - started:.0f} s")
    threshold, cover = choose_threshold([r for rows in dev.values() for r in rows], COVERAGES)
    print(f"cut-offs on all development files: precision {threshold:.3f}, coverage {cover:.2f}")
    for name, rows in dev.items():
        print(_line(name, rows, threshold, cover))
    if args.loo:
        print("leave one file out (cut-offs on the others, by the targets' criterion):")
        for held in list(DEV)[1:]:
            fit = [r for name, rows in dev.items() if name != held for r in rows]
            t, c = choose_threshold(fit, COVERAGES)
            print(_line(held, dev[held], t, c) + f"   (precision {t:.3f}, coverage {c:.2f})")
    if args.held_out:
        rows = _rows("held", args.held_out, scorer)
        print(f"{args.held_out.name}, scored once at the cut-offs above:")
        print(_line("held", rows, threshold, cover))
        if args.scorer == "trees":  # the shipped checker reads other features: scored apart
            aligner.save()
            return
        shipped = load_calibration()
        base, _ = row_scores(load_set(args.held_out), TreeChecker.load(), covid_dir())
        rules_cover = load_calibration(kind="rules").min_coverage
        print(_line("ship", base, shipped.threshold or 0.0, shipped.min_coverage) + " (checker)")
        print(_line("rules", base, 0.0, rules_cover) + f" (rules alone, coverage {rules_cover})")
    aligner.save()


if __name__ == "__main__":
    main()
