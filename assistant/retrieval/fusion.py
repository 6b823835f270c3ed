"""Pure ranking functions: reciprocal rank fusion and overlap-aware deduplication."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = ["dedupe_spans", "normalized_score_fusion", "reciprocal_rank_fusion"]


def reciprocal_rank_fusion(
    rankings: Iterable[Sequence[str]],
    *,
    k: int = 60,
    weights: Sequence[float] | None = None,
) -> list[tuple[str, float]]:
    """Fuse ranked id lists; ids ranked high in several lists win.

    Each list adds weight / (k + rank) to an id's score (rank counts from 1). Ties keep the
    order of first appearance, so the result is deterministic.

    Example: [["a", "b"], ["b", "c"]] -> [("b", 0.0325), ("a", 0.0164), ("c", 0.0161)]
    (scores rounded here; b gets 1/62 + 1/61, a gets 1/61, c gets 1/62)
    """
    rankings = list(rankings)
    if weights is None:
        weights = [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda pair: -pair[1])


def dedupe_spans(
    spans: Sequence[tuple[str, str, int, int]], *, max_overlap: float = 0.5
) -> list[int]:
    """Indices of the spans to keep, best first, dropping repeats of better ones.

    Each span is (content_hash, source, start, end), given best first. A span is dropped when
    its content hash was already kept (the same text in another file or place), or when it
    overlaps a kept span of the same source by more than max_overlap of the shorter one.

    Example: [("h1", "a", 0, 100), ("h2", "a", 20, 110), ("h1", "b", 0, 100), ("h3", "a", 90, 200)]
    -> [0, 3]   (1 overlaps 0 by 80%; 2 repeats 0's text; 3 overlaps 0 by only 10 chars)
    """
    kept: list[int] = []
    seen_hashes: set[str] = set()
    for i, (content_hash, source, start, end) in enumerate(spans):
        if content_hash in seen_hashes:
            continue
        duplicate = False
        for j in kept:
            _, other_source, other_start, other_end = spans[j]
            if other_source != source:
                continue
            overlap = min(end, other_end) - max(start, other_start)
            shorter = min(end - start, other_end - other_start)
            if shorter > 0 and overlap / shorter > max_overlap:
                duplicate = True
                break
        if not duplicate:
            kept.append(i)
            seen_hashes.add(content_hash)
    return kept


def normalized_score_fusion(
    dense: Sequence[tuple[str, float]],
    lexical: Sequence[tuple[str, float]],
    *,
    lexical_weight: float = 0.7,
) -> list[tuple[str, float]]:
    """Fuse two scored candidate lists by a convex combination of normalised scores.

    BM25 scores are divided by the best one (BM25 is 0 for a text without query terms, so
    0 is its natural floor); cosines are scaled between the lowest and highest dense
    candidate. Candidates are chunk ids; one missing from a list scores 0 there.

    Example: dense [("a", 0.9), ("b", 0.5)], lexical [("b", 8.0), ("c", 4.0)],
    lexical_weight 0.5 -> [("a", 0.5), ("b", 0.5), ("c", 0.25)]
    (a: 0.5*1.0 + 0.5*0; b: 0.5*0.0 + 0.5*1.0; c: 0.5*0.5; ties keep dense order)
    """
    fused: dict[str, float] = {}
    if dense:
        hi = max(s for _, s in dense)
        lo = min(s for _, s in dense)
        span = hi - lo
        for cid, s in dense:
            fused[cid] = (1 - lexical_weight) * ((s - lo) / span if span > 0 else 1.0)
    if lexical:
        top = max(s for _, s in lexical)
        for cid, s in lexical:
            if top > 0:
                fused[cid] = fused.get(cid, 0.0) + lexical_weight * s / top
    return sorted(fused.items(), key=lambda pair: -pair[1])
