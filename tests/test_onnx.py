"""The ONNX encoder: it agrees with torch, is exported once and cached, survives a damaged
cache, refuses what it cannot export with one sentence, and keeps torch off the answer path."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from assistant import Settings
from assistant.embedding import (
    Embedder,
    OnnxEmbedder,
    SentenceTransformerEmbedder,
    build_embedder,
    encoder_cache_dir,
    one_core,
    resolve_model_path,
)
from assistant.embedding.export import (
    META_FILE,
    MODEL_FILE,
    cache_key,
    cached_encoder,
    export_encoder,
)
from assistant.errors import DeviceError, EncoderError, IndexMismatchError

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
MODEL = resolve_model_path("all-MiniLM-L6-v2")

# Not the export's own verification sample: sentences a user of the seeds would type or read.
SAMPLE = [
    "How much has Amazon invested in Anthropic?",
    "What did Amazon get in return for its investment?",
    "Which cloud provider does Anthropic use to train its models?",
    "Who is the CEO?",
    "tell me about the deal",
    *[p.strip() for p in (SEEDS / "amazon-anthropic-investment.txt").read_text().split("\n\n")][
        :12
    ],
]


def _cache_with_default_export(tmp_path: Path) -> Path:
    """A private copy of the user's cache entry (exported by the session's embedder), so a
    test can damage it without touching the real one."""
    source = encoder_cache_dir(Settings())
    key = cache_key(MODEL, source)
    assert (source / key / META_FILE).is_file(), "the session's embedder exports it first"
    cache = tmp_path / "cache"
    shutil.copytree(source / key, cache / key, ignore=shutil.ignore_patterns(".lock"))
    return cache


@pytest.mark.model
def test_the_default_encoder_is_onnx_and_agrees_with_torch(real_embedder: Embedder) -> None:
    assert isinstance(real_embedder, OnnxEmbedder)
    assert real_embedder.name in {"all-MiniLM-L6-v2+onnx-int8", "all-MiniLM-L6-v2+onnx-fp32"}
    onnx_vectors = real_embedder.embed(SAMPLE)
    torch_vectors = SentenceTransformerEmbedder().embed(SAMPLE)
    cosines = (onnx_vectors * torch_vectors).sum(axis=1)
    assert cosines.min() >= 0.99, cosines
    assert np.allclose((onnx_vectors**2).sum(axis=1), 1.0, atol=1e-4)
    # Rows come back in the caller's order although batches are sorted by length.
    single = np.stack([real_embedder.embed([t])[0] for t in SAMPLE[:6]])
    assert np.allclose(single, onnx_vectors[:6], atol=2e-2)


@pytest.mark.model
def test_a_cached_export_is_reused_not_exported_again(
    real_embedder: Embedder, tmp_path: Path
) -> None:
    cache = _cache_with_default_export(tmp_path)
    graph = cache / cache_key(MODEL, cache) / MODEL_FILE
    before = graph.stat().st_mtime_ns
    said: list[str] = []
    embedder = OnnxEmbedder(cache_dir=cache, say=said.append)
    assert said == []  # no "Exporting ..." line: nothing was exported
    assert embedder.graph == graph
    assert graph.stat().st_mtime_ns == before
    assert embedder.embed(["Amazon invested $8 billion."]).shape == (1, 384)


@pytest.mark.model
def test_a_truncated_cached_graph_is_detected_and_exported_again(
    real_embedder: Embedder, tmp_path: Path
) -> None:
    cache = _cache_with_default_export(tmp_path)
    entry = cache / cache_key(MODEL, cache)
    data = (entry / MODEL_FILE).read_bytes()
    (entry / MODEL_FILE).write_bytes(data[: len(data) // 2])  # a half-written file
    (entry / ".int8-deadbeef.tmp").write_bytes(b"left by a killed export")
    assert cached_encoder(MODEL, cache) is None

    said: list[str] = []
    embedder = OnnxEmbedder(cache_dir=cache, say=said.append)
    assert any(line.startswith("Exporting") for line in said), said
    assert (entry / MODEL_FILE).read_bytes() != data[: len(data) // 2]
    assert not list(entry.glob("*.tmp"))
    meta = json.loads((entry / META_FILE).read_text())
    assert meta["status"] == "ok" and meta["min_cosine"] >= 0.99
    vector = embedder.embed(["How much has Amazon invested in Anthropic?"])
    reference = real_embedder.embed(["How much has Amazon invested in Anthropic?"])
    assert float(vector[0] @ reference[0]) > 0.999


def test_an_altered_cached_graph_is_not_trusted(tmp_path: Path) -> None:
    # Same size, other bytes, written after the export: the recorded sha256 catches it.
    cache = tmp_path / "cache"
    entry = cache / cache_key(MODEL, cache)
    entry.mkdir(parents=True)
    (entry / MODEL_FILE).write_bytes(b"x" * 100)
    meta = {
        "export_version": 1,
        "variant": "int8",
        "status": "ok",
        "inputs": ["input_ids", "attention_mask"],
        "onnx_bytes": 100,
        "onnx_sha256": "0" * 64,
    }
    (entry / META_FILE).write_text(json.dumps(meta))
    assert cached_encoder(MODEL, cache) is None
    # Rewritten after export (another mtime) with the right bytes: still trusted.
    meta["onnx_sha256"] = hashlib.sha256(b"x" * 100).hexdigest()
    meta["onnx_mtime_ns"] = 1
    (entry / META_FILE).write_text(json.dumps(meta))
    assert cached_encoder(MODEL, cache) is not None


def test_a_refused_export_falls_back_to_torch_with_a_message_and_no_new_export(
    tmp_path: Path,
) -> None:
    cache = tmp_path / "cache"
    entry = cache / cache_key(MODEL, cache)
    entry.mkdir(parents=True)
    reason = "no ONNX graph reached a cosine of 0.99 to torch on every check sentence"
    meta = {"export_version": 1, "status": "refused", "reason": reason, "min_cosine": 0.97}
    (entry / META_FILE).write_text(json.dumps(meta))

    said: list[str] = []
    embedder = build_embedder(Settings(encoder_cache_dir=cache), say=said.append)
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert embedder.name == "all-MiniLM-L6-v2"  # the torch name: its index is not mixed
    assert len(said) == 1 and reason in said[0] and "torch encoder instead" in said[0], said
    assert not list(entry.glob("*.onnx"))


def _model_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(MODEL, folder)
    return folder


def test_a_model_with_layers_the_export_does_not_cover_is_refused_in_one_sentence(
    tmp_path: Path,
) -> None:
    folder = _model_copy(tmp_path)
    modules = json.loads((folder / "modules.json").read_text())
    modules.insert(2, {"idx": 2, "name": "2", "path": "2_Dense", "type": "x.models.Dense"})
    (folder / "modules.json").write_text(json.dumps(modules))
    with pytest.raises(EncoderError, match="ASSISTANT_ENCODER=torch") as info:
        export_encoder(folder, tmp_path / "cache")
    assert "\n" not in str(info.value)


@pytest.mark.model
def test_weights_that_cannot_be_exported_fall_back_to_torch_with_a_message(
    tmp_path: Path,
) -> None:
    folder = _model_copy(tmp_path)
    (folder / "model.safetensors").write_bytes(b"not a safetensors file")
    cache = tmp_path / "cache"
    with pytest.raises(EncoderError, match="could not load the weights") as info:
        export_encoder(folder, cache, say=lambda _line: None)
    assert "\n" not in str(info.value)
    assert not list((cache / cache_key(folder, cache)).glob("*.onnx"))

    said: list[str] = []
    settings = Settings(model=str(folder), encoder_cache_dir=cache)
    embedder = build_embedder(settings, say=said.append)
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert any("using the torch encoder instead" in line for line in said), said


def test_an_unwritable_cache_is_one_clear_sentence(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go")
    with pytest.raises(EncoderError, match="ASSISTANT_ENCODER_CACHE_DIR") as info:
        export_encoder(MODEL, blocker / "cache")
    assert "\n" not in str(info.value)


def test_cuda_without_a_gpu_is_one_clear_sentence() -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    with pytest.raises(DeviceError, match="ASSISTANT_DEVICE") as info:
        build_embedder(Settings(device="cuda"))
    assert "\n" not in str(info.value)


def test_an_unknown_encoder_is_refused_by_the_settings() -> None:
    with pytest.raises(ValueError, match="encoder"):
        Settings(encoder="tensorflow")  # type: ignore[arg-type]


@pytest.mark.model
def test_an_index_built_by_another_encoder_is_not_mixed(
    real_embedder: Embedder, tmp_path: Path
) -> None:
    from assistant import Assistant

    docs = tmp_path / "docs"
    shutil.copytree(SEEDS, docs)
    index_dir = tmp_path / "index"
    settings = Settings(index_dir=index_dir, show_progress=False, encoder="torch")
    torch_embedder = build_embedder(settings)
    assert torch_embedder.name == "all-MiniLM-L6-v2"
    Assistant.from_folder(docs, index_dir=index_dir, settings=settings, embedder=torch_embedder)

    with pytest.raises(IndexMismatchError, match="onnx"):
        Assistant.load(index_dir, embedder=real_embedder)
    # A sync with the ONNX encoder rebuilds it rather than mixing vectors.
    bot = Assistant.from_folder(docs, index_dir=index_dir, embedder=real_embedder)
    manifest = json.loads((index_dir / "manifest.json").read_text())
    assert manifest["model"] == real_embedder.name
    assert bot.ask("How much has Amazon invested in Anthropic?").citations


@pytest.mark.model
def test_indexing_answering_and_serving_never_import_torch(
    real_embedder: Embedder, tmp_path: Path
) -> None:
    # A fresh interpreter with the default settings (the user's export cache, warmed by the
    # session's embedder): build an index, ask, build the web chat, and look at what got
    # imported.
    docs = tmp_path / "docs"
    shutil.copytree(SEEDS, docs)
    script = textwrap.dedent(
        f"""
        import sys
        from assistant import Assistant, Settings
        settings = Settings(index_dir={str(tmp_path / "index")!r}, show_progress=False)
        bot = Assistant.from_folder({str(docs)!r}, settings=settings)
        answer = bot.ask("How much has Amazon invested in Anthropic?")
        assert answer.citations, answer.text
        from assistant.ui import build_app
        build_app(bot)  # the web chat's page and API, as `assistant ui` serves them
        heavy = [m for m in ("torch", "sentence_transformers", "transformers") if m in sys.modules]
        print("imported:", heavy)
        assert not heavy, heavy
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "imported: []" in done.stdout


@pytest.mark.model
def test_background_embedding_stays_on_one_core_with_the_same_vectors(
    real_embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server indexes uploads inside one_core(): one onnxruntime thread and no parallel
    tokenising, so the other cores answer questions meanwhile; the vectors do not change."""
    assert isinstance(real_embedder, OnnxEmbedder)
    texts = [f"Ledger entry {i}: the depot sent {i * 7 % 900} crates of pears." for i in range(300)]
    session = real_embedder._session
    asked: list[int] = []
    original = session.session

    def recording(threads: int) -> object:
        asked.append(threads)
        return original(threads)

    monkeypatch.setattr(session, "session", recording)
    with one_core():
        background = real_embedder.embed(texts)
    assert asked == [1]
    everywhere = real_embedder.embed(texts)  # outside: a batch this big uses every core
    assert asked[-1] == (os.cpu_count() or 1)
    assert np.allclose(background, everywhere, atol=1e-5)
