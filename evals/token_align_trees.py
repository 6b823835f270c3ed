"""Session 12 experiment, part (b): the tree checker retrained with the alignment precision of
evals/token_align.py as a 30th feature (monotone: more alignment can only raise the score),
on train_checker.py's own data recipe (same draws, seeds, trees and rounds).

train_checker's `features` and `FEATURE_NAMES` (and answer/checker.py's, which TreeChecker
reads) are extended in this process only; nothing in the package changes.

    PYTHONPATH=$PWD nice -n 5 .venv/bin/python evals/token_align_trees.py \
        --out /tmp/s12ctx/checker_align.json                       # train (about 15 min)
    PYTHONPATH=$PWD nice -n 5 .venv/bin/python evals/token_align.py --scorer trees --loo

Not shipped (evals/VERIFIER.md, "Session 12").
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_checker
from token_align import TokenAligner, precision

import assistant.answer.checker as checker_module

__all__ = ["ALIGN_FEATURE", "with_alignment"]

ALIGN_FEATURE = "align_precision"
_PLAIN: Callable[[str, str], tuple[float, ...]] = checker_module.features
_PLAIN_NAMES = checker_module.FEATURE_NAMES


def with_alignment(aligner: TokenAligner) -> None:
    """Make the checker's features (here and in train_checker) the plain ones plus the
    alignment precision of the pair, for this process."""

    def features(span: str, sentence: str) -> tuple[float, ...]:
        s, p = aligner.vectors([" ".join(sentence.split()), " ".join(span.split())])
        return (*_PLAIN(span, sentence), round(precision(s, p), 3))

    names = (*_PLAIN_NAMES, ALIGN_FEATURE)
    checker_module.features = features  # type: ignore[assignment]
    checker_module.FEATURE_NAMES = names
    train_checker.features = features  # type: ignore[assignment]
    train_checker.FEATURE_NAMES = names
    train_checker.MONOTONE[ALIGN_FEATURE] = 1


if __name__ == "__main__":
    aligner = TokenAligner(Path("/tmp/s12ctx/aligner_train.pkl"))
    with_alignment(aligner)
    try:
        train_checker.main()
    finally:
        aligner.save()
