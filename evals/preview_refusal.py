"""Preview the fitted refusal model end to end, before it is wired into the answer layer.

    python evals/preview_refusal.py [assistant eval arguments, e.g. evals/seed.yaml]

Runs `assistant eval` in this process with the composer's refusal decision replaced by the
model of assistant/answer/features.py (FITTED_WEIGHTS, FITTED_THRESHOLD): the composer still
selects and cites the sentences, and the features are computed from the same candidate
sentences, cosines and passages it uses. Nothing else changes, so the difference from a plain
`assistant eval` run is the refusal model alone. Delete this script once evidence.py uses the
features (the plain eval then measures the same thing).
"""

from __future__ import annotations

import sys

import numpy as np

import assistant.pipeline as pipeline
from assistant.answer import extractive
from assistant.answer.features import FITTED_THRESHOLD, answer_probability, evidence_features
from assistant.cli import main as cli_main

_NEVER_REFUSE = extractive.RefusalModel((0.0, 0.0, 0.0, 0.0), 30.0, 0.0)


def compose_with_features(query, query_vector, hits, *, embed, idf, refusal, **kw):  # type: ignore[no-untyped-def]
    """extractive.compose, refusing when the fitted feature model says so."""
    question = kw.get("question") or query
    comp = extractive.compose(
        query, query_vector, hits, embed=embed, idf=idf, refusal=_NEVER_REFUSE, **kw
    )
    sentences = extractive.candidate_sentences(hits)
    cosines = embed([s.text for s in sentences]) @ query_vector if sentences else np.zeros(0)
    features = evidence_features(
        question,
        [(s.text, float(c)) for s, c in zip(sentences, cosines, strict=True)],
        [h.chunk.text for h in hits],
        idf,
        top_dense=max((h.dense_score or 0.0 for h in hits), default=0.0),
        query=query,
    )
    p = answer_probability(features)
    if p < FITTED_THRESHOLD:
        return extractive.Composition("", (), True, comp.evidence, p)
    return extractive.Composition(comp.text, comp.citations, False, comp.evidence, p)


if __name__ == "__main__":
    pipeline.compose = compose_with_features  # type: ignore[assignment]
    sys.exit(cli_main(["eval", *sys.argv[1:]]))
