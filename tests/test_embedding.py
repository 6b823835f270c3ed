"""The embedding model is found offline or refused with one clear sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.embedding import SentenceTransformerEmbedder, resolve_model_path
from assistant.errors import ModelNotFoundError


def test_the_packaged_model_resolves_to_a_folder_on_disk() -> None:
    path = resolve_model_path("all-MiniLM-L6-v2")
    assert (path / "model.safetensors").is_file()
    assert resolve_model_path("sentence-transformers/all-MiniLM-L6-v2") == path


def test_an_unknown_model_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="ASSISTANT_MODEL") as info:
        resolve_model_path(str(tmp_path / "nowhere"))
    assert "\n" not in str(info.value)


def test_a_folder_that_is_not_a_sentence_transformers_model_is_refused(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelNotFoundError, match="not a sentence-transformers model folder"):
        SentenceTransformerEmbedder(str(tmp_path))


def test_shape_and_tokens_come_without_loading_torch() -> None:
    # Checking an index against the model, and chunking, must not cost a model load.
    embedder = SentenceTransformerEmbedder()
    assert (embedder.dimension, embedder.max_seq_length) == (384, 256)
    spans = embedder.token_spans("Amazon invested $8 billion.")
    assert spans[0] == (0, 6)
    assert embedder._model is None


@pytest.mark.model
def test_embeddings_are_unit_length_and_similar_texts_are_close() -> None:
    embedder = SentenceTransformerEmbedder()
    v = embedder.embed(
        ["Amazon invested in Anthropic.", "Anthropic got money from Amazon.", "Bread recipe"]
    )
    norms = (v**2).sum(axis=1)
    assert all(abs(n - 1.0) < 1e-4 for n in norms)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2
