"""The answer-backend seam: the protocol as the extractive backend implements it, the Answerer
streaming a backend's real pieces, failures as one error, and the contract that a backend
registered once is offered everywhere: settings, the CLI's --mode, the web chat's mode
control and `assistant eval --mode`.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fakes import FakeEmbedder, ListRetriever

from assistant import Answer, AnswerBackendError, Assistant, Settings, cli
from assistant.answer.answerer import Answerer, final_answer, refusal_text
from assistant.answer.base import AnswerBackend, AnswerRequest, Composition
from assistant.answer.evidence import Grounds, RefusalModel, SentenceVectors, gather_evidence
from assistant.answer.extractive import ExtractiveBackend, select_sentences
from assistant.answer.registry import (
    available_backends,
    create_backend,
    register_backend,
    unregister_backend,
)
from assistant.schema import Chunk, Citation, Hit

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SEED_QUESTION = "How much has Amazon invested in Anthropic?"
TEXT = (
    "Amazon invested eight billion dollars in Anthropic. The weather was mild that year. "
    "Amazon also builds its own chips for training models."
)
ALWAYS: dict[str, Any] = {"refusal_weights": {}, "refusal_bias": 0.0, "refusal_threshold": 0.0}


def chunk(text: str = TEXT, start: int = 100) -> Chunk:
    return Chunk(
        id=f"a.txt-{start}",
        source="a.txt",
        text=text,
        start=start,
        end=start + len(text),
        ordinal=0,
        hash="h",
    )


def grounds_for(
    question: str, hits: tuple[Hit, ...], refusal: RefusalModel | None = None
) -> Grounds:
    """The evidence gathered for question from hits with the fake embedder, every term
    weighing the same, and a refusal model that refuses nothing (unless one is given)."""
    embedder = FakeEmbedder()
    return gather_evidence(
        question,
        embedder.embed([question])[0],
        hits,
        embed=embedder.embed,
        idf=lambda term: 1.0,
        refusal=refusal or RefusalModel({}, 0.0, 0.0),
    )


def request_for(question: str, *, refusal: RefusalModel | None = None) -> AnswerRequest:
    hits = (Hit(chunk=chunk(), score=1.0, dense_score=0.5),)
    return AnswerRequest(question, question, hits, grounds_for(question, hits, refusal))


class ParrotBackend:
    """A fake backend: repeats the best-scoring candidate sentence, cited, in two pieces."""

    name = "parrot"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def stream(self, request: AnswerRequest) -> Iterator[str | Composition]:
        grounds = request.grounds
        best = grounds.sentences[int(np.argmax(grounds.scores))]
        yield "Parrot: "
        yield f"{best.text} [1]"
        citation = Citation(1, best.chunk.source, best.start, best.end, best.text)
        yield Composition(f"Parrot: {best.text} [1]", (citation,), False)


@pytest.fixture
def parrot() -> Iterator[str]:
    register_backend("fake", ParrotBackend, description="Repeats the best sentence.")
    try:
        yield "fake"
    finally:
        unregister_backend("fake")


# ---------------------------------------------------------------- the protocol, extractive


def test_the_extractive_backend_streams_cited_sentences_then_its_composition() -> None:
    backend = create_backend("extractive", Settings())
    assert isinstance(backend, AnswerBackend) and backend.name == "extractive"

    items = list(backend.stream(request_for("How much did Amazon invest in Anthropic?")))

    *items_before, final = items
    assert isinstance(final, Composition) and not final.refused
    pieces = [p for p in items_before if isinstance(p, str)]
    assert pieces == items_before, "only text pieces before the composition"
    assert len(pieces) == len(final.citations) >= 1, "one piece per cited sentence"
    assert "".join(pieces) == final.text
    assert pieces[0] == "Amazon invested eight billion dollars in Anthropic. [1]"
    for c in final.citations:
        assert TEXT[c.start - 100 : c.end - 100] == c.quote


def test_the_extractive_backend_writes_nothing_when_the_evidence_says_refuse() -> None:
    never = RefusalModel({"best_cosine": 1.0}, -10.0, 0.5)
    request = request_for("How much did Amazon invest in Anthropic?", refusal=never)
    assert not request.grounds.answerable

    items = list(ExtractiveBackend(Settings()).stream(request))

    assert len(items) == 1 and isinstance(items[0], Composition)
    assert items[0].refused and items[0].text == "" and not items[0].citations


def test_select_sentences_keeps_the_best_and_those_close_to_it() -> None:
    grounds = request_for("How much did Amazon invest in Anthropic?").grounds
    object.__setattr__(grounds, "scores", np.array([0.5, 1.0, 0.9]))
    object.__setattr__(grounds, "vectors", np.eye(3, dtype=np.float32))
    assert select_sentences(grounds, keep_ratio=0.85) == [1, 2]
    assert select_sentences(grounds, keep_ratio=0.85, max_sentences=1) == [1]
    # Sentence 2 nearly repeats sentence 1: skipped, and 0 scores too low to take its place.
    object.__setattr__(grounds, "vectors", np.array([[1, 0], [0, 1], [0, 1]], np.float32))
    assert select_sentences(grounds, keep_ratio=0.85) == [1]


def test_an_answer_never_quotes_the_same_characters_twice() -> None:
    # Two overlapping chunks of one source: the same sentence comes from each chunk, once
    # alone and once joined to the sentence that points back to it.
    text = (
        "Amazon invested eight billion dollars in Anthropic. "
        "This stake is not exclusive to Amazon at all."
    )
    first, second = chunk(text, start=100), chunk(text[:51], start=100)
    second = Chunk(
        id="a.txt-b", source="a.txt", text=second.text, start=100, end=151, ordinal=1, hash="g"
    )
    question = "How much did Amazon invest in Anthropic?"
    hits = (Hit(chunk=second, score=1.0), Hit(chunk=first, score=0.9))
    grounds = grounds_for(question, hits)
    assert len(grounds.sentences) == 2  # (100, 151) alone and (100, end) with its follower
    object.__setattr__(grounds, "scores", np.array([1.0, 0.99]))
    object.__setattr__(grounds, "vectors", np.eye(2, dtype=np.float32))
    assert select_sentences(grounds, keep_ratio=0.5) == [0]
    items = list(
        ExtractiveBackend(Settings(sentence_keep_ratio=0.5)).stream(
            AnswerRequest(question, question, hits, grounds)
        )
    )
    final = items[-1]
    assert isinstance(final, Composition)
    spans = [(c.start, c.end) for c in final.citations]
    assert len(spans) == len(set(spans)) == 1


def test_a_sentence_pointing_back_comes_with_its_antecedent_or_not_at_all() -> None:
    # Chunks that cut between a sentence and the one that points back to it.
    a = "Meta builds its own models in-house. "
    b = "This approach is costly but gives control."
    c = "Amazon invests in Anthropic instead of building."
    one = Chunk(id="x-0", source="x.txt", text=a, start=0, end=len(a), ordinal=0, hash="a")
    two = Chunk(id="x-1", source="x.txt", text=b, start=len(a), end=len(a + b), ordinal=1, hash="b")
    three = Chunk(id="y-0", source="y.txt", text=c, start=0, end=len(c), ordinal=0, hash="c")
    question = "Is building in-house costly?"
    grounds = grounds_for(
        question,
        (Hit(chunk=two, score=1.0), Hit(chunk=three, score=0.9), Hit(chunk=one, score=0.8)),
    )
    texts = [s.text for s in grounds.sentences]
    assert texts == [b, c, a.strip()]
    object.__setattr__(grounds, "vectors", np.eye(3, dtype=np.float32))
    # Best: the pointing-back sentence; its antecedent comes first, with it.
    object.__setattr__(grounds, "scores", np.array([1.0, 0.9, 0.1]))
    assert select_sentences(grounds, keep_ratio=0.5) == [2, 0, 1]
    # Not the best, antecedent not chosen: left out as filler.
    object.__setattr__(grounds, "scores", np.array([0.95, 1.0, 0.1]))
    assert select_sentences(grounds, keep_ratio=0.5) == [1]


def test_sentence_vectors_are_embedded_once() -> None:
    embedder = FakeEmbedder()
    vectors = SentenceVectors(embedder.embed)
    first = vectors(["a b c", "d e f"])
    again = vectors(["d e f", "a b c", "a b c"])
    assert embedder.embedded == 2
    assert np.array_equal(again[1], first[0]) and np.array_equal(again[0], first[1])


# ---------------------------------------------------------------- the Answerer


def test_stream_hands_on_each_piece_as_the_backend_writes_it() -> None:
    log: list[str] = []

    class Slow:
        name = "slow"

        def __init__(self, settings: Settings) -> None:
            pass

        def stream(self, request: AnswerRequest) -> Iterator[str | Composition]:
            for word in ("one ", "two ", "three"):
                log.append(f"wrote {word.strip()}")
                yield word
            yield Composition("one two three", (), False)

    register_backend("slow", Slow)
    try:
        embedder = FakeEmbedder()
        retriever = ListRetriever([Hit(chunk=chunk(), score=1.0, dense_score=0.5)], embedder)
        answerer = Answerer(Settings(**ALWAYS), embedder)
        for item in answerer.stream(
            "Did Amazon invest?", retriever=retriever, sources=(), chunks=(), mode="slow"
        ):
            log.append(f"got {item.strip()}" if isinstance(item, str) else "answer")
    finally:
        unregister_backend("slow")
    # Each piece reaches the reader before the backend writes the next: real streaming.
    assert log == [
        "wrote one",
        "got one",
        "wrote two",
        "got two",
        "wrote three",
        "got three",
        "answer",
    ]


def test_the_refusal_decision_is_taken_before_any_backend_runs(parrot: str) -> None:
    embedder = FakeEmbedder()
    retriever = ListRetriever([Hit(chunk=chunk(), score=1.0, dense_score=0.5)], embedder)
    strict = Settings(
        refusal_weights={"best_cosine": 1.0}, refusal_bias=-10.0, refusal_threshold=0.5
    )
    question = "How much did Amazon invest in Anthropic?"
    for mode in ("extractive", parrot):
        answer = final_answer(
            Answerer(strict, embedder).stream(
                question, retriever=retriever, sources=(), chunks=(), mode=mode
            )
        )
        assert answer.refused and answer.text == refusal_text(question)
        assert answer.related and not answer.citations


def test_a_backend_that_fails_becomes_one_answer_backend_error() -> None:
    class Broken:
        name = "broken"

        def __init__(self, settings: Settings) -> None:
            pass

        def stream(self, request: AnswerRequest) -> Iterator[str | Composition]:
            yield "half an answer"
            raise ConnectionError("connection refused")

    class Silent(Broken):
        name = "silent"

        def stream(self, request: AnswerRequest) -> Iterator[str | Composition]:
            yield "no composition follows"

    register_backend("broken", Broken)
    register_backend("silent", Silent)
    try:
        embedder = FakeEmbedder()
        retriever = ListRetriever([Hit(chunk=chunk(), score=1.0, dense_score=0.5)], embedder)
        answerer = Answerer(Settings(**ALWAYS), embedder)
        kw: dict[str, Any] = {"retriever": retriever, "sources": (), "chunks": ()}
        with pytest.raises(AnswerBackendError, match="'broken' answer mode failed") as info:
            final_answer(answerer.stream("Did Amazon invest?", mode="broken", **kw))
        assert "connection refused" in str(info.value)
        assert isinstance(info.value.__cause__, ConnectionError)
        with pytest.raises(AnswerBackendError, match="ended without an answer"):
            final_answer(answerer.stream("Did Amazon invest?", mode="silent", **kw))
        with pytest.raises(AnswerBackendError, match="no answer mode named 'nope'"):
            final_answer(answerer.stream("Did Amazon invest?", mode="nope", **kw))
    finally:
        unregister_backend("broken")
        unregister_backend("silent")


def test_a_backend_whose_module_is_missing_says_what_to_install() -> None:
    register_backend("absent", "assistant_no_such_module:Backend")
    try:
        with pytest.raises(AnswerBackendError, match="needs assistant_no_such_module"):
            create_backend("absent", Settings())
    finally:
        unregister_backend("absent")


# ---------------------------------------------------------------- the registry


def test_the_registry_is_the_one_list_of_modes(parrot: str) -> None:
    assert available_backends()[0] == "extractive"
    assert parrot in available_backends()
    assert Settings(answer_mode=parrot).answer_mode == parrot
    with pytest.raises(ValueError, match="already registered"):
        register_backend(parrot, ParrotBackend)
    unregister_backend(parrot)
    assert parrot not in available_backends()
    # Settings read before a plugin registers its mode; the mode is checked where it is used.
    unknown = Settings(answer_mode="fake")
    with pytest.raises(AnswerBackendError, match="no answer mode named 'fake': use one of"):
        Answerer(unknown, FakeEmbedder())
    unregister_backend("extractive")  # a built-in stays
    assert "extractive" in available_backends()


# ---------------------------------------------------------------- the contract, everywhere


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    shutil.copytree(SEEDS, tmp_path / "docs")
    return tmp_path / "docs"


def test_a_registered_backend_is_offered_by_the_cli(
    parrot: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in ("ask", "chat", "eval"):
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        assert "fake" in capsys.readouterr().out, command
    parser = cli.build_parser()
    args = parser.parse_args(["ask", "a question", "--mode", parrot])
    assert args.mode == parrot
    unregister_backend(parrot)
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["ask", "a question", "--mode", parrot])
    assert "invalid choice: 'fake'" in capsys.readouterr().err


def test_an_unknown_mode_from_the_environment_is_one_line_from_the_cli(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ASSISTANT_ANSWER_MODE", "bogus")
    assert cli.main(["ask", "a question", "--index-dir", str(tmp_path / "index")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: there is no answer mode named 'bogus': use one of extractive")
    assert err.count("\n") == 1, "one line"
    assert not (tmp_path / "index").exists(), "it fails before touching the index"


def test_a_registered_backend_answers_in_the_web_chat(parrot: str, docs: Path) -> None:
    import gradio as gr

    from assistant.ui import build_app

    settings = Settings(index_dir=docs.parent / "index", show_progress=False, **ALWAYS)
    bot = Assistant.from_folder(
        docs, index_dir=settings.index_dir, settings=settings, embedder=FakeEmbedder()
    )
    demo = build_app(bot)
    (control,) = [b for b in demo.blocks.values() if getattr(b, "elem_id", "") == "answer-mode"]
    assert isinstance(control, gr.Radio), "a choice of modes, not a text field"
    # Every registered mode, less those that send documents off the machine (the server
    # was not started with one; tests/test_redteam.py covers that rule).
    offered = [m for m in available_backends() if m not in ("openai", "anthropic")]
    assert [value for _label, value in control.choices] == offered
    assert parrot in offered
    # The question box's handler reads the control: pick the fake mode and ask.
    (respond,) = {f.fn for f in demo.fns.values() if control in f.inputs and f.name == "respond"}
    assert respond is not None
    # The handler updates one chat list in place: note what each step shows.
    shown = [
        (chat[-1]["content"], chat, history)
        for _, chat, history, _saved in respond(SEED_QUESTION, [], [], 5, parrot)
    ]
    drafts = [text for text, _, _ in shown[:-1]]
    assert len(drafts) == 2, "one draft per piece the backend wrote"
    assert drafts[0] == "Parrot:  ▍" and drafts[1].startswith("Parrot: ")
    assert drafts[1].endswith("[1] ▍")
    _, chat, history = shown[-1]
    assert "Parrot:" in chat[1]["content"] and "[1]" in chat[1]["content"]
    assert history[-1]["content"].startswith("Parrot: ")
    (api,) = {f.fn for f in demo.fns.values() if f.name == "ask"}
    assert api is not None
    assert api(SEED_QUESTION, None, 5, parrot)["text"].startswith("Parrot: ")
    assert not api(SEED_QUESTION, None, 5, "extractive")["text"].startswith("Parrot: ")


@pytest.mark.model
def test_a_registered_backend_answers_through_the_cli_and_the_eval_runner(
    parrot: str, docs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index = tmp_path / "index"
    code = cli.main(
        ["ask", SEED_QUESTION, "--mode", parrot, "--folder", str(docs), "--index-dir", str(index)]
    )
    assert code == 0
    assert capsys.readouterr().out.startswith("Parrot: ")

    qset = tmp_path / "mini.yaml"
    qset.write_text(
        "name: mini\ndocuments: docs\nquestions:\n"
        f"  - {{id: a, category: fact, question: '{SEED_QUESTION}', facts: [[billion]]}}\n",
        encoding="utf-8",
    )
    out = tmp_path / "runs"
    assert cli.main(["eval", str(qset), "--mode", parrot, "--out", str(out)]) == 0
    (run,) = [p for p in out.iterdir() if not p.name.startswith(".")]
    assert json.loads((run / "summary.json").read_text())["mode"] == parrot
    rows = [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]
    assert [r["answer"].startswith("Parrot: ") for r in rows] == [True]
    assert rows[0]["citations"], "the fake's citation is scored like any other"


def test_assistant_ask_takes_a_mode_per_call(parrot: str, docs: Path) -> None:
    settings = Settings(index_dir=docs.parent / "index", show_progress=False, **ALWAYS)
    bot = Assistant.from_folder(
        docs, index_dir=settings.index_dir, settings=settings, embedder=FakeEmbedder()
    )
    fake = bot.ask(SEED_QUESTION, mode=parrot)
    assert isinstance(fake, Answer) and fake.text.startswith("Parrot: ")
    assert not bot.ask(SEED_QUESTION).text.startswith("Parrot: ")
    pieces = list(bot.stream(SEED_QUESTION, mode=parrot))
    assert pieces[0] == "Parrot: " and isinstance(pieces[-1], Answer)
