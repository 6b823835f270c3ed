"""Retrieval: the pure fusion functions (their docstring examples hold), BM25 with stemming,
and the hybrid retriever end to end over a small corpus with the FakeEmbedder (no model)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fakes import FakeEmbedder

from assistant.retrieval.fusion import (
    dedupe_spans,
    normalized_score_fusion,
    reciprocal_rank_fusion,
)
from assistant.retrieval.hybrid import HybridRetriever, RetrievalConfig, blend_best_sentence
from assistant.retrieval.lexical import LexicalIndex, analyze
from assistant.store import (
    ChunkerConfig,
    MemoryStore,
    SentenceStore,
    Store,
    open_store,
    sync_index,
    sync_store,
)

# ---------------------------------------------------------------- reciprocal rank fusion


def test_rrf_worked_example() -> None:
    fused = reciprocal_rank_fusion([["a", "b"], ["b", "c"]])

    assert [item for item, _ in fused] == ["b", "a", "c"]
    scores = dict(fused)
    assert scores["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert scores["a"] == pytest.approx(1 / 61)
    assert scores["c"] == pytest.approx(1 / 62)
    assert round(scores["b"], 4) == 0.0325
    assert round(scores["a"], 4) == 0.0164
    assert round(scores["c"], 4) == 0.0161


def test_rrf_k_changes_the_scores() -> None:
    fused = dict(reciprocal_rank_fusion([["a", "b"]], k=1))
    assert fused == pytest.approx({"a": 1 / 2, "b": 1 / 3})


def test_rrf_weights_favour_the_heavier_ranking() -> None:
    # Unweighted, the two top items tie; a heavier second list makes its top item win.
    assert [i for i, _ in reciprocal_rank_fusion([["a"], ["b"]])] == ["a", "b"]
    fused = reciprocal_rank_fusion([["a"], ["b"]], weights=[1.0, 2.0])
    assert [i for i, _ in fused] == ["b", "a"]
    assert dict(fused) == pytest.approx({"a": 1 / 61, "b": 2 / 61})
    # A zero weight silences a ranking entirely.
    silenced = dict(reciprocal_rank_fusion([["a", "b"], ["b", "a"]], weights=[0.0, 1.0]))
    assert silenced == pytest.approx({"a": 1 / 62, "b": 1 / 61})


def test_rrf_needs_one_weight_per_ranking() -> None:
    with pytest.raises(ValueError, match="one weight per ranking"):
        reciprocal_rank_fusion([["a"], ["b"]], weights=[1.0])


@pytest.mark.parametrize(
    ("rankings", "expected"),
    [
        ([["x"], ["y"]], ["x", "y"]),
        ([["y"], ["x"]], ["y", "x"]),
        ([["a", "b"], ["b", "a"]], ["a", "b"]),
        ([["b", "a"], ["a", "b"]], ["b", "a"]),
    ],
)
def test_rrf_ties_keep_order_of_first_appearance(
    rankings: list[list[str]], expected: list[str]
) -> None:
    fused = reciprocal_rank_fusion(rankings)
    assert fused[0][1] == pytest.approx(fused[1][1])
    assert [i for i, _ in fused] == expected
    # The same input always gives the same output.
    assert reciprocal_rank_fusion(rankings) == fused


def test_rrf_accepts_a_generator_and_empty_input() -> None:
    assert reciprocal_rank_fusion(r for r in [["a"], ["a"]]) == [("a", pytest.approx(2 / 61))]
    assert reciprocal_rank_fusion([]) == []


# ---------------------------------------------------------------- score fusion and dedupe


def test_normalized_score_fusion_docstring_example() -> None:
    fused = normalized_score_fusion(
        [("a", 0.9), ("b", 0.5)], [("b", 8.0), ("c", 4.0)], lexical_weight=0.5
    )
    assert [cid for cid, _ in fused] == ["a", "b", "c"]
    assert [s for _, s in fused] == pytest.approx([0.5, 0.5, 0.25])


def test_normalized_score_fusion_lexical_weight_decides() -> None:
    dense, lexical = [("a", 0.9), ("b", 0.5)], [("b", 8.0), ("c", 4.0)]
    lexical_heavy = normalized_score_fusion(dense, lexical, lexical_weight=0.9)
    assert lexical_heavy[0][0] == "b"
    dense_heavy = normalized_score_fusion(dense, lexical, lexical_weight=0.1)
    assert dense_heavy[0][0] == "a"
    # A chunk found by both retrievers beats chunks found by only one when weights are equal.
    both = normalized_score_fusion(
        [("a", 0.9), ("b", 0.8)], [("a", 3.0), ("c", 3.0)], lexical_weight=0.5
    )
    assert both[0] == ("a", pytest.approx(1.0))


def test_dedupe_spans_docstring_example() -> None:
    spans = [("h1", "a", 0, 100), ("h2", "a", 20, 110), ("h1", "b", 0, 100), ("h3", "a", 90, 200)]
    assert dedupe_spans(spans) == [0, 3]


def test_dedupe_spans_drops_the_same_text_in_another_file() -> None:
    spans = [("same", "one.txt", 0, 50), ("other", "two.txt", 0, 40), ("same", "two.txt", 900, 950)]
    assert dedupe_spans(spans) == [0, 1]


def test_dedupe_spans_keeps_overlapping_spans_of_different_sources() -> None:
    spans = [("h1", "a.txt", 0, 100), ("h2", "b.txt", 0, 100)]
    assert dedupe_spans(spans) == [0, 1]


def test_dedupe_spans_overlap_threshold() -> None:
    spans = [("h1", "a", 0, 100), ("h2", "a", 40, 140)]  # 60% of the shorter overlaps
    assert dedupe_spans(spans) == [0]
    assert dedupe_spans(spans, max_overlap=0.7) == [0, 1]


# ---------------------------------------------------------------- lexical


def test_analyze_stems_and_drops_stop_words() -> None:
    assert analyze("invested") == analyze("investment") == analyze("investing")
    assert analyze("How much has Amazon invested?") == ["amazon", "invest"]
    assert analyze("The") == []


def test_analyze_keeps_negations_and_numbers() -> None:
    terms = analyze("not 8 billion")
    assert "not" in terms
    assert "8" in terms


TEXTS = [
    "Cats sleep most of the day and hunt at night.",
    "The zebra has black and white stripes.",
    "Dogs and cats can live together peacefully.",
    "Cats are curious animals; cats climb trees.",
]


def test_bm25_ranks_the_exact_term_text_first() -> None:
    lexical = LexicalIndex(TEXTS)
    assert lexical.search("zebra stripes", 3)[0][0] == 1
    assert lexical.search("Which animals live together?", 3)[0][0] == 2
    # Stemming: "invested" finds "investment".
    invest = LexicalIndex(["A big investment was made.", "Nothing about money here."])
    assert [row for row, _ in invest.search("invested", 2)] == [0]


def test_bm25_scores_zero_without_query_terms() -> None:
    lexical = LexicalIndex(TEXTS)
    assert lexical.search("volcano eruption", 4) == []
    assert not lexical.scores("volcano eruption").any()
    assert lexical.scores("zebra").shape == (len(TEXTS),)


def test_idf_is_higher_for_rarer_terms_and_highest_for_absent_ones() -> None:
    lexical = LexicalIndex(TEXTS)
    common, rare, absent = lexical.idf("cat"), lexical.idf("zebra"), lexical.idf("volcano")
    assert common < rare < absent
    assert common > 0


def test_idf_docstring_example() -> None:
    lexical = LexicalIndex(["apple pie", "banana bread", "cherry tart"])
    assert lexical.idf("appl") == pytest.approx(0.98, abs=0.005)


def test_empty_lexical_index() -> None:
    lexical = LexicalIndex([])
    assert lexical.search("anything", 5) == []
    assert lexical.scores("anything").shape == (0,)


# ---------------------------------------------------------------- hybrid retrieval

CORPUS = {
    "volcanoes.txt": (
        "Volcanoes erupt when magma rises through the crust. Lava flows can reach great "
        "distances.\n\n"
        "Ash clouds from an eruption disrupt air travel for days. Pilots avoid volcanic ash "
        "because it damages engines.\n\n"
        "Some volcanoes sleep for centuries before they erupt again.\n"
    ),
    "oceans.txt": (
        "Oceans cover most of the planet. Tides rise and fall twice a day.\n\n"
        "Coral reefs grow in warm shallow water. Reef fish shelter among the corals.\n\n"
        "Deep ocean trenches are the darkest places on Earth.\n"
    ),
    "bread.md": (
        "# Baking bread\n\n"
        "Flour, water, salt and yeast make a simple bread. Knead the dough for ten minutes.\n\n"
        "## Proofing\n\n"
        "Let the dough rise until it doubles. Bake the loaf in a hot oven.\n"
    ),
    # The same text as volcanoes.txt under another name: it must not come back twice.
    "copy-of-volcanoes.txt": None,
}


@pytest.fixture(scope="module", params=["faiss", "memory"])
def corpus_index(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> tuple[Store, FakeEmbedder]:
    """The corpus indexed into each kind of store: retrieval must not care which."""
    root = tmp_path_factory.mktemp("retrieval")
    docs = root / "docs"
    docs.mkdir()
    for name, text in CORPUS.items():
        (docs / name).write_text(text or CORPUS["volcanoes.txt"] or "", encoding="utf-8")
    embedder = FakeEmbedder()
    chunker = ChunkerConfig(max_tokens=20, overlap_tokens=8)
    if request.param == "memory":
        return sync_store(docs, MemoryStore(), embedder, chunker)[1], embedder
    sync_index(docs, root / "index", embedder, chunker)
    return open_store(root / "index", embedder), embedder


def overlap_fraction(a: tuple[int, int], b: tuple[int, int]) -> float:
    shorter = min(a[1] - a[0], b[1] - b[0])
    return max(0, min(a[1], b[1]) - max(a[0], b[0])) / shorter


@pytest.mark.parametrize(
    "config", [RetrievalConfig(fusion="score"), RetrievalConfig(fusion="rrf")], ids=["score", "rrf"]
)
def test_hybrid_returns_k_distinct_hits_best_first(
    corpus_index: tuple[Store, FakeEmbedder], config: RetrievalConfig
) -> None:
    index, embedder = corpus_index
    assert len(index.chunks()) > 8  # a corpus big enough for overlapping chunks
    retriever = HybridRetriever(index, embedder, config)

    hits = retriever.retrieve("Why do pilots avoid volcanic ash?", k=4)

    assert len(hits) == 4
    assert "Pilots avoid volcanic ash" in hits[0].chunk.text
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert len({h.chunk.id for h in hits}) == 4
    assert len({h.chunk.hash for h in hits}) == 4  # the copied file's twin is not repeated
    for i, a in enumerate(hits):
        for b in hits[i + 1 :]:
            if a.chunk.source == b.chunk.source:
                span_a, span_b = (a.chunk.start, a.chunk.end), (b.chunk.start, b.chunk.end)
                assert overlap_fraction(span_a, span_b) <= 0.5, (a.chunk, b.chunk)
    for h in hits:
        assert h.dense_score is not None and -1.0001 <= h.dense_score <= 1.0001
        assert h.lexical_score is not None and h.lexical_score >= 0


def test_hybrid_finds_each_topic_in_its_own_document(
    corpus_index: tuple[Store, FakeEmbedder],
) -> None:
    index, embedder = corpus_index
    retriever = HybridRetriever(index, embedder, RetrievalConfig())
    assert retriever.retrieve("coral reef fish", k=1)[0].chunk.source == "oceans.txt"
    assert retriever.retrieve("knead the dough", k=1)[0].chunk.source == "bread.md"


def test_hybrid_k_larger_than_the_corpus(corpus_index: tuple[Store, FakeEmbedder]) -> None:
    index, embedder = corpus_index
    retriever = HybridRetriever(index, embedder, RetrievalConfig())
    hits = retriever.retrieve("volcano", k=500)
    assert 0 < len(hits) < len(index.chunks())  # duplicates and overlaps were dropped
    assert len({h.chunk.id for h in hits}) == len(hits)


def test_hybrid_over_an_empty_index(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    embedder = FakeEmbedder()
    sync_index(tmp_path / "docs", tmp_path / "index", embedder, ChunkerConfig(20, 8))
    retriever = HybridRetriever(
        open_store(tmp_path / "index", embedder), embedder, RetrievalConfig()
    )
    assert retriever.retrieve("anything", k=3) == []


# ---------------------------------------------------------------- best-sentence dense score


def test_blend_best_sentence_worked_example() -> None:
    scores = blend_best_sentence(np.array([0.5, 0.6, 0.4]), np.array([0.9, 0.6, np.nan]), 0.5)
    assert scores == pytest.approx([0.7, 0.6, 0.4])


# One sentence of focused.txt says what the question asks; its other three are about
# something else, so the chunk's mean vector is diluted. Both sentences of spread.txt share
# some of the question's words, so its mean matches the question better than focused.txt's.
SENTENCE_CORPUS = {
    "focused.txt": "Alpha beta gamma delta. Zulu yankee xray whiskey. Victor uniform tango "
    "sierra. Romeo quebec papa oscar.",
    "spread.txt": "Alpha beta one four five. Gamma two three six seven.",
}


@pytest.mark.parametrize("kind", ["faiss", "memory"])
def test_a_chunk_whose_one_sentence_matches_outranks_a_better_average(
    tmp_path: Path, kind: str
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in SENTENCE_CORPUS.items():
        (docs / name).write_text(text, encoding="utf-8")
    embedder = FakeEmbedder(dimension=256)
    chunker = ChunkerConfig(max_tokens=60, overlap_tokens=8, vectors="sentences")
    if kind == "memory":
        store = sync_store(docs, MemoryStore(), embedder, chunker)[1]
    else:
        sync_index(docs, tmp_path / "index", embedder, chunker)
        store = open_store(tmp_path / "index", embedder)
    assert len(store.chunks()) == 2  # one chunk a document
    question = "alpha beta gamma"
    # The store's one-gather best sentence is the best of the chunk's stored sentences.
    q = embedder.embed([question])[0]
    ids = [c.id for c in store.chunks()] + ["no-such-chunk"]
    assert isinstance(store, SentenceStore)
    best = store.best_sentence_cosines(q, ids)
    for chunk_id, value in zip(ids[:2], best, strict=False):
        found = store.chunk_sentences(chunk_id)
        assert found is not None and value == pytest.approx(float(np.max(found[1] @ q)))
    assert np.isnan(best[2])

    def first(share: float) -> str:
        config = RetrievalConfig(lexical_weight=0.0, sentence_share=share)
        hits = HybridRetriever(store, embedder, config).retrieve(question, k=2)
        return hits[0].chunk.source

    # By chunk vectors alone the spread-out chunk wins; by its best sentence the focused one.
    assert first(0.0) == "spread.txt"
    assert first(1.0) == "focused.txt"
    # A store without sentence vectors (PgStore) ranks by chunk cosines whatever the share.
    chunks = store.chunks()
    by_hash = store.vectors_by_hash(c.hash for c in chunks)
    bare = MemoryStore(store.manifest, chunks, np.stack([by_hash[c.hash] for c in chunks]))
    assert not bare.has_sentences
    config = RetrievalConfig(lexical_weight=0.0, sentence_share=1.0)
    assert HybridRetriever(bare, embedder, config).retrieve(question, k=1)[0].chunk.source == (
        "spread.txt"
    )
    # The hit's dense_score stays the chunk's own cosine (the refusal model reads it).
    hits = HybridRetriever(store, embedder, RetrievalConfig(sentence_share=1.0)).retrieve(
        question, k=2
    )
    cosines = store.cosines(embedder.embed([question])[0], [h.chunk.id for h in hits])
    assert [h.dense_score for h in hits] == pytest.approx(list(cosines))
