"""Updating a collection costs what changed: after an upload, a change or a removal, the
new snapshot's BM25 index and speller are derived from the previous ones (only the changed
documents' chunks are read), and answer exactly as ones built from every chunk would.

Most tests use the FakeEmbedder (FaissStore and MemoryStore); the last one uses the real
packaged model through the pipeline, as the web chat's uploads do.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from fakes import FakeEmbedder

from assistant import Assistant, Settings
from assistant.retrieval import lexical as lexical_module
from assistant.retrieval.hybrid import HybridRetriever
from assistant.retrieval.lexical import LexicalIndex
from assistant.retrieval.spelling import Speller
from assistant.store import Collection, FaissStore, MemoryStore, carried_rows, chunker_config
from assistant.store import faiss as faiss_module
from assistant.store import sync as sync_module
from assistant.text import BM25_B, BM25_K1, analyze

if TYPE_CHECKING:
    from assistant.embedding import Embedder

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

QUERIES = (
    "How much has Amazon invested in Anthropic?",
    "turbines from Harlow failed early",
    "the plant plant shipped shipped shipped",
    "Zephyrine flywheels November",
    "customer number 4431 gaskets",
    "orchard harvest apples",
)
TYPED = (
    "how much has amzn invested",
    "wat did the artcle say about harlw",
    "did the zephyrin depot count flywheel",
    "which plnts shipped turbins",
    "harvst of aples",
)


def _report(i: int, rng: random.Random) -> str:
    places = ("Harlow", "Tamsin", "Brevik", "Ostrava", "Calder", "Medina")
    things = ("turbines", "pumps", "valves", "gaskets", "rotors", "bearings")
    lines = [
        f"In May the {rng.choice(places)} plant shipped {rng.randint(2, 900)} "
        f"{rng.choice(things)} for customer number {i * 97 + s}, and the engineer noted that "
        f"{rng.choice(things)} from {rng.choice(places)} failed early."
        for s in range(rng.randint(2, 6))
    ]
    return f"Report {i}\n\n" + " ".join(lines) + "\n"


def _folder(root: Path, count: int = 30) -> Path:
    rng = random.Random(5)
    docs = root / "docs"
    docs.mkdir(parents=True)
    for i in range(count):
        (docs / f"report-{i:03d}.txt").write_text(_report(i, rng), encoding="utf-8")
    return docs


def _assert_same_retrieval(incremental: HybridRetriever, rebuilt: HybridRetriever) -> None:
    """The two retrievers' BM25 scores, idf, speller and ranked hits are equal, exactly."""
    assert [c.id for c in incremental.store.chunks()] == [c.id for c in rebuilt.store.chunks()]
    a, b = incremental.lexical, rebuilt.lexical
    assert isinstance(a, LexicalIndex) and isinstance(b, LexicalIndex)
    for q in QUERIES:
        assert np.array_equal(a.scores(q), b.scores(q)), q
        for term in analyze(q):
            assert a.idf(term) == b.idf(term)
    s, t = incremental._speller, rebuilt._speller
    assert s.words == t.words and s.cased == t.cased and s.forms == t.forms
    assert s._ordered == t._ordered and s._by_ends == t._by_ends
    for q in TYPED:
        assert incremental.respell(q) == rebuilt.respell(q)
    for q in QUERIES:
        got, want = incremental.retrieve(q, 8), rebuilt.retrieve(q, 8)
        assert [(h.chunk.id, h.score, h.lexical_score) for h in got] == [
            (h.chunk.id, h.score, h.lexical_score) for h in want
        ]


# ---------------------------------------------------------------- BM25


def test_lexical_scores_are_bm25s_scores_bit_for_bit() -> None:
    # The index used bm25s (its scores were the ones measured and tuned): the same
    # arithmetic, so every ranking and the fusion's normalisation stay as they were.
    import bm25s

    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    texts = [t[i : i + 600] for t in texts for i in range(0, len(t), 400)]
    rng = random.Random(3)
    texts += [_report(i, rng) for i in range(40)] + [""]
    ours = LexicalIndex(texts)
    theirs = bm25s.BM25(k1=BM25_K1, b=BM25_B)
    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(w, len(vocab)) for w in analyze(t)] for t in texts]
    theirs.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), show_progress=False)
    for q in QUERIES:
        terms = [vocab[w] for w in analyze(q) if w in vocab]
        if not terms:  # bm25s cannot be asked; nothing scores
            assert not ours.scores(q).any()
            continue
        want = np.asarray(theirs.get_scores(terms), dtype=np.float32)
        assert np.array_equal(ours.scores(q), want), q


def test_updated_lexical_index_equals_one_built_from_its_texts() -> None:
    rng = random.Random(11)
    texts = [_report(i, rng) for i in range(60)]
    index = LexicalIndex(texts)
    for step in range(6):
        # Drop some rows, insert new texts at random places: as documents come and go.
        kept = sorted(rng.sample(range(len(texts)), len(texts) - rng.randint(0, 8)))
        take: list[int] = []
        new_texts: list[str] = []
        for row in kept:
            while rng.random() < 0.1:
                take.append(-1)
                new_texts.append(_report(1000 * step + len(new_texts), rng))
            take.append(row)
        take += [-1] * 2
        new_texts += [f"Zephyrine flywheels, step {step}.", ""]
        # Row order of the new list, with the new texts where take says -1.
        fresh = iter(new_texts)
        texts = [texts[t] if t >= 0 else next(fresh) for t in take]
        index = index.updated(np.array(take), new_texts)
        rebuilt = LexicalIndex(texts)
        assert index.size == rebuilt.size == len(texts)
        for q in QUERIES:
            assert np.array_equal(index.scores(q), rebuilt.scores(q))
            assert index.search(q, 5) == rebuilt.search(q, 5)
        for term in ("zephyrin", "harlow", "absent"):
            assert index.idf(term) == rebuilt.idf(term)


def test_a_lexical_index_forgets_terms_no_row_holds_any_more() -> None:
    index = LexicalIndex([f"word{i} common" for i in range(10)])
    smaller = index.updated(np.array([0]), [])
    assert len(smaller._vocab) == 2  # "word0" and "common", renumbered
    assert np.array_equal(
        smaller.scores("word0 common"), LexicalIndex(["word0 common"]).scores("word0 common")
    )


def test_updated_refuses_rows_out_of_order() -> None:
    index = LexicalIndex(["a b", "c d"])
    with pytest.raises(ValueError, match="order"):
        index.updated(np.array([1, 0]), [])
    with pytest.raises(ValueError, match="one text"):
        index.updated(np.array([0, -1]), [])


# ---------------------------------------------------------------- the speller


def test_updated_speller_equals_one_built_from_its_texts() -> None:
    def english(word: str) -> bool:
        return word in {"the", "plant", "shipped"}

    rng = random.Random(2)
    texts = [_report(i, rng) for i in range(20)]
    texts += ["Google and Amazon met. Then google, then Google again.", "The Article says."]
    speller = Speller.from_texts(texts, english)
    for step in range(5):
        gone = rng.sample(texts, 3)
        came = [_report(100 + step, rng), f"Zephyrine counted {step} flywheels at Google."]
        texts = [t for t in texts if t not in gone] + came
        speller = speller.updated(gone, came, english)
        rebuilt = Speller.from_texts(texts, english)
        assert speller.words == rebuilt.words and speller.cased == rebuilt.cased
        assert speller.forms == rebuilt.forms and speller.supplied == rebuilt.supplied
        assert speller._ordered == rebuilt._ordered and speller._by_ends == rebuilt._by_ends
        for q in TYPED:
            assert speller.respell(q) == rebuilt.respell(q)
    # Everything removed: the document words are still known ("article"), nothing else.
    empty = speller.updated(texts, [], english)
    assert empty.words == Speller.from_texts([], english).words


# ---------------------------------------------------------------- through the pipeline


def test_carried_rows_follow_the_documents_that_stay(tmp_path: Path) -> None:
    bot = _fake_bot(tmp_path, "faiss")
    before = bot.collection.store
    bot.add_document("report-005.txt", b"Report five, rewritten about Zephyrine flywheels.\n")
    after = bot.collection.store
    take = carried_rows(before.manifest, before.chunks(), after.manifest, after.chunks())
    assert take is not None
    new = after.chunks()
    for row, old in enumerate(take):
        if new[row].source == "report-005.txt":
            assert old == -1
        else:
            assert before.chunks()[old] == new[row]
    # Another chunker cuts other chunks from the same files: nothing is carried over.
    assert after.manifest is not None and before.manifest is not None
    other = type(after.manifest)(
        **{**_fields(after.manifest), "chunker": type(after.manifest.chunker)(10, 2)}
    )
    assert carried_rows(before.manifest, before.chunks(), other, new) is None


def _fields(value: Any) -> dict[str, Any]:
    return {name: getattr(value, name) for name in value.__dataclass_fields__}


def _fake_bot(root: Path, kind: str, docs: Path | None = None) -> Assistant:
    docs = docs or _folder(root)
    embedder = FakeEmbedder()
    settings = Settings(index_dir=root / "index", show_progress=False)
    if kind == "faiss":
        return Assistant.from_folder(docs, settings=settings, embedder=embedder)
    collection = Collection(
        MemoryStore(), embedder, chunker_config(settings, embedder), folder=docs
    )
    collection.sync()
    return Assistant(collection, settings=settings)


@pytest.fixture
def analysed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The texts BM25 analyses (questions included), in order."""
    seen: list[str] = []
    original = lexical_module.analyze

    def counting(text: str) -> list[str]:
        seen.append(text)
        return original(text)

    monkeypatch.setattr(lexical_module, "analyze", counting)
    yield seen


@pytest.mark.parametrize("kind", ["faiss", "memory"])
def test_add_change_remove_equal_a_rebuild_and_read_only_what_changed(
    tmp_path: Path, kind: str, analysed: list[str]
) -> None:
    bot = _fake_bot(tmp_path / "live", kind)
    docs = bot.docs_dir
    assert docs is not None
    steps: list[tuple[str, Any]] = [
        ("add", ("zephyr.txt", b"The Zephyrine depot counted 77 flywheels in November.\n")),
        ("add", ("aardvark.txt", b"An aardvark report: Harlow turbines failed early.\n")),
        ("change", ("report-007.txt", b"Report seven now says Google bought 12 rotors.\n")),
        ("remove", "report-003.txt"),
        ("change", ("zephyr.txt", b"The Zephyrine depot counted 91 flywheels in November.\n")),
        ("remove", "aardvark.txt"),
        ("folder", None),  # files changed behind the assistant's back, then one sync
    ]
    for what, arg in steps:
        analysed.clear()
        before = {c.id for c in bot.collection.store.chunks()}
        if what in ("add", "change"):
            bot.add_document(*arg)
        elif what == "remove":
            bot.remove_document(arg)
        else:
            (docs / "report-010.txt").unlink()
            (docs / "report-011.txt").write_text("Brevik valves, rewritten.\n", encoding="utf-8")
            (docs / "sub").mkdir()
            (docs / "sub" / "new.txt").write_text("Calder pumps held up.\n", encoding="utf-8")
            bot.sync()
        store = bot.collection.store
        new_texts = {c.text for c in store.chunks() if c.id not in before}
        # Only the new chunks were analysed, not the collection's.
        assert set(analysed) == new_texts and len(analysed) <= len(new_texts) + 1
        _assert_same_retrieval(
            bot.retriever, HybridRetriever(store, bot.embedder, bot.retriever.config)
        )
        _assert_sentence_places_hold(store)

    # And equal to an index built from scratch of the same final folder.
    copy = tmp_path / "rebuilt"
    shutil.copytree(docs, copy / "docs")
    rebuilt = _fake_bot(copy, kind, copy / "docs")
    _assert_same_retrieval(bot.retriever, rebuilt.retriever)
    assert "91" in bot.ask("How many flywheels did the Zephyrine depot count?").text
    assert not any(c.source == "report-003.txt" for c in bot.ask("customer number 300").citations)


def _assert_sentence_places_hold(store: Any) -> None:
    """The store's sentence places (text -> chunk id, place), carried from sync to sync,
    name where each text is, and every sentence of the store is found by its text."""
    places = store._sentence_place
    assert places is not None  # made by the first sync's lookup, then carried
    texts = set()
    for c in store.chunks():
        spans, _ = store.chunk_sentences(c.id)
        texts |= {c.text[a:b] for a, b in spans.tolist()}
    for text, (chunk_id, k) in places.items():
        chunk = store.chunk(chunk_id)
        a, b = store.chunk_sentences(chunk_id)[0][k]
        assert chunk.text[a:b] == text
    assert set(places) == texts  # the reports repeat no sentence across documents
    looked_up = store.sentence_vectors(sorted(texts))
    assert set(looked_up) == texts


def test_a_retriever_of_another_chunker_is_built_afresh(tmp_path: Path) -> None:
    bot = _fake_bot(tmp_path, "memory")
    old = bot.retriever
    collection = bot.collection
    collection.chunker = type(collection.chunker)(12, 3)
    bot.sync()  # every file chunked again: no row carries over
    assert bot.retriever is not old
    _assert_same_retrieval(
        bot.retriever, HybridRetriever(bot.collection.store, bot.embedder, old.config)
    )


# ---------------------------------------------------------------- the real model


@pytest.fixture
def seed_copy(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    shutil.copytree(SEEDS, docs)
    return docs


def test_an_upload_is_answered_and_its_removal_is_not_as_after_a_rebuild(
    tmp_path: Path, seed_copy: Path, real_embedder: Embedder
) -> None:
    settings = Settings(index_dir=tmp_path / "index", show_progress=False)
    bot = Assistant.from_folder(seed_copy, settings=settings, embedder=real_embedder)
    question = "How many flywheels did the Zephyrine depot count in November?"
    assert not any(c.source == "depot.txt" for c in bot.ask(question).citations)

    bot.add_document("depot.txt", b"The Zephyrine depot counted 77 flywheels in November.\n")
    answer = bot.ask(question)
    assert "77" in answer.text and any(c.source == "depot.txt" for c in answer.citations)
    _assert_same_retrieval(
        bot.retriever, HybridRetriever(bot.collection.store, real_embedder, bot.retriever.config)
    )

    bot.add_document("depot.txt", b"The Zephyrine depot counted 91 flywheels in November.\n")
    answer = bot.ask(question)
    assert "91" in answer.text and "77" not in answer.text

    bot.remove_document("depot.txt")
    answer = bot.ask(question)
    assert not any(c.source == "depot.txt" for c in answer.citations)
    assert "91" not in answer.text

    # The same answers as an index built from scratch of the folder as it is now.
    copy = tmp_path / "rebuilt"
    shutil.copytree(seed_copy, copy / "docs")
    fresh = Assistant.from_folder(
        copy / "docs",
        settings=Settings(index_dir=copy / "index", show_progress=False),
        embedder=real_embedder,
    )
    for q in (question, "How much has Amazon invested in Anthropic?", "hw much did amzn invest"):
        assert bot.ask(q).text == fresh.ask(q).text
        assert bot.retriever.respell(q) == fresh.retriever.respell(q)
        got, want = bot.retrieve(q), fresh.retrieve(q)
        assert [h.chunk.id for h in got] == [h.chunk.id for h in want]
        assert [h.lexical_score for h in got] == [h.lexical_score for h in want]


# ---------------------------------------------------------------- the chunks file


def _encoded(chunks: Any) -> bytes:
    return "".join(json.dumps(c.to_dict(), ensure_ascii=False) + "\n" for c in chunks).encode()


def _chunks_file(index_dir: Path) -> Path:
    (path,) = index_dir.glob("chunks-*.jsonl")
    return path


def test_the_chunks_file_copies_unchanged_documents_lines_as_encoding_them_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = _fake_bot(tmp_path, "faiss")
    index_dir = tmp_path / "index"
    copied: list[tuple[str, int]] = []  # (the file written, bytes copied into it)
    copy = faiss_module._copy_range

    def counting(source: int, out: int, offset: int, count: int) -> None:
        copied.append((Path(os.readlink(f"/proc/self/fd/{out}")).name, count))
        copy(source, out, offset, count)

    monkeypatch.setattr(faiss_module, "_copy_range", counting)
    bot.add_document("report-000b.txt", "Café Zephyrine — “quoted” text.\n".encode())
    bot.add_document("report-005.txt", b"Report five, rewritten.\n")
    bot.remove_document("report-009.txt")
    written = _chunks_file(index_dir).read_bytes()
    assert written == _encoded(bot.collection.store.chunks())
    lines = [n for name, n in copied if name.startswith("chunks-")]
    assert len(lines) == 6 and sum(lines[-2:]) == len(written)  # two runs a sync
    # The vectors of the documents that stay are copied file to file too.
    assert {name.split("-")[0] for name, _ in copied} == {"chunks", "vectors", "sentences"}
    reloaded = FaissStore.load(index_dir)
    assert reloaded.chunks() == bot.collection.store.chunks()


def test_a_chunks_file_changed_after_loading_is_not_copied(tmp_path: Path) -> None:
    bot = _fake_bot(tmp_path, "faiss")
    path = _chunks_file(tmp_path / "index")
    # Edited behind the index's back (same length): its lines must not reach the next
    # generation; the snapshot in memory is what is written.
    damaged = path.read_bytes().replace(b"Harlow", b"Xarlow")
    path.write_bytes(damaged)
    bot.add_document("zephyr.txt", b"The Zephyrine depot counted 77 flywheels.\n")
    written = _chunks_file(tmp_path / "index").read_bytes()
    assert b"Xarlow" not in written
    assert written == _encoded(bot.collection.store.chunks())


# ---------------------------------------------------------------- the scan


# `hashed` (tests/conftest.py): the sources each scan reads to hash, in order.


def test_a_sync_after_an_upload_reads_the_upload_not_the_folder(
    tmp_path: Path, hashed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The folder's files were written a moment ago; as if minutes ago (see the next test).
    monkeypatch.setattr(sync_module, "_STABLE_NS", 0)
    bot = _fake_bot(tmp_path, "faiss")
    assert len(hashed) == 30
    hashed.clear()
    bot.add_document("zephyr.txt", b"The Zephyrine depot counted 77 flywheels.\n")
    assert hashed == ["zephyr.txt"]
    hashed.clear()
    bot.remove_document("report-004.txt")
    assert hashed == []


def test_a_file_changed_with_its_size_and_mtime_kept_is_read_again(
    tmp_path: Path, hashed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync_module, "_STABLE_NS", 0)
    bot = _fake_bot(tmp_path, "faiss")
    path = tmp_path / "docs" / "report-002.txt"
    before = path.stat()
    text = path.read_text(encoding="utf-8")
    changed = text.replace("Report 2", "Report Z")
    assert len(changed) == len(text)
    path.write_text(changed, encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # as `cp -p` would leave it
    assert path.stat().st_mtime_ns == before.st_mtime_ns
    hashed.clear()
    report = bot.sync()
    assert hashed == ["report-002.txt"]  # its ctime moved: the kernel sets it, always
    assert report.updated == ("report-002.txt",)
    assert any("Report Z" in c.text for c in bot.collection.store.chunks())


def test_a_file_changed_a_moment_before_it_was_read_is_read_again(
    tmp_path: Path, hashed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A change in the same clock tick as the one a digest records could leave the stat as
    # recorded: a file changed less than _STABLE_NS before it was read is not trusted (here
    # the margin is a day, so that every file of the fixture is that young).
    monkeypatch.setattr(sync_module, "_STABLE_NS", 86_400 * 10**9)
    bot = _fake_bot(tmp_path, "faiss")
    assert bot.collection._digests == {}
    hashed.clear()
    bot.sync()
    assert len(hashed) == 30


def test_vector_files_copied_file_to_file_equal_ones_written_row_by_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def run(root: Path) -> dict[str, bytes]:
        bot = _fake_bot(root, "faiss")
        bot.add_document("report-000b.txt", b"Zephyrine flywheels, new.\n")
        bot.add_document("report-005.txt", b"Report five, rewritten.\n")
        bot.remove_document("report-009.txt")
        bot.remove_document("report-029.txt")
        files = sorted((root / "index").glob("*-*.*"))
        return {p.name.split("-")[0] + p.suffix: p.read_bytes() for p in files}

    copied = run(tmp_path / "copied")
    with monkeypatch.context() as patch:
        patch.setattr(faiss_module, "_COPY_ROWS", 10**9)  # every row read and written
        written = run(tmp_path / "written")
    assert copied.keys() == written.keys() and len(copied) == 4
    for name in copied:
        assert copied[name] == written[name], name
    reloaded = FaissStore.load(tmp_path / "copied" / "index")
    assert reloaded.has_sentences and reloaded.manifest is not None
    assert "report-009.txt" not in reloaded.manifest.sources
