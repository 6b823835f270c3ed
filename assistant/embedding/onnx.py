"""The default encoder: the model's verified ONNX graph (int8 where it holds up) run by
onnxruntime, tokenised by the
model's own fast tokenizer. No torch, sentence-transformers or transformers is imported here
(the one-time export in export.py uses torch; it runs only when the cache has no graph).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import EncoderError
from ..settings import DEFAULT_MODEL
from .base import TokenSpans, read_shape, resolve_model_path

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = ["ONNX_SUFFIX", "OnnxEmbedder", "OnnxSession", "encoder_cache_dir", "one_core"]

ONNX_SUFFIX = "+onnx-"  # + variant, in the name, so the manifest tells encoders apart
# Batches from this size on (indexing) use every core; smaller ones one thread. Answering
# embeds a question and its passages' sentences (tens): on one thread concurrent requests do
# not wait on each other, and a server never loads the second, all-cores session (a cold
# first answer spent 1.9 s loading it when the bar was 32).
ALL_CORES_FROM = 256
TOKENIZE_SLICE = 512  # texts tokenised per call (see OnnxSession._token_ids)

_local = threading.local()


@contextlib.contextmanager
def one_core() -> Iterator[None]:
    """Within this block, the calling thread embeds and tokenises on one core only: for
    work in the background of a server (an upload being indexed), so the other cores stay
    free for the questions people are waiting on, and no second, all-cores session is
    loaded. (In evals/bench_load.py's hostile mix this alone did not lower normal questions'
    p95, 1.24 -> 1.26 s: the upload's Python work holding the interpreter lock was the cost,
    see ui.serve's switch interval.)

    with one_core():
        embedder.embed(many_texts)   # one onnxruntime thread, no parallel tokenising
    """
    previous = getattr(_local, "one_core", False)
    _local.one_core = True
    try:
        yield
    finally:
        _local.one_core = previous


def _on_one_core() -> bool:
    return bool(getattr(_local, "one_core", False))


def encoder_cache_dir(settings: Settings) -> Path:
    """Where exported graphs are kept: ASSISTANT_ENCODER_CACHE_DIR, else the user's cache
    ($XDG_CACHE_HOME or ~/.cache)/assistant/encoders. Never inside a documents folder."""
    if settings.encoder_cache_dir is not None:
        return Path(settings.encoder_cache_dir).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "assistant" / "encoders"


class OnnxSession:
    """One ONNX sentence-embedding graph with its tokenizer; sessions are made on first use.

    Small batches (a question, an answer's sentences) run on one thread, big ones (indexing,
    ALL_CORES_FROM texts and up) on every core: onnxruntime's threads wait for each other,
    so when other requests or processes hold a core, a one-question call on two threads is
    slower than on one (18 ms against 38 ms measured here under load).
    A session is made per thread count, lazily, so a server that only answers questions
    never pays for the all-cores one.
    """

    def __init__(
        self, model_path: Path, graph: Path, inputs: tuple[str, ...], max_seq_length: int
    ) -> None:
        self._graph = graph
        self._inputs = inputs
        self._max_len = max_seq_length
        self._model_path = model_path
        self._tokenizer: Any = None
        self._pad_id = 0
        self._sessions: dict[int, Any] = {}
        self._lock = threading.Lock()

    def _load_tokenizer(self) -> Any:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self._model_path / "tokenizer.json"))
        tokenizer.no_padding()  # padded per batch below, to the batch's longest text
        # The window includes [CLS] and [SEP], as in sentence-transformers.
        tokenizer.enable_truncation(max_length=self._max_len)
        pad = tokenizer.token_to_id("[PAD]")
        if pad is None:
            pad = tokenizer.token_to_id("<pad>")
        self._pad_id = int(pad or 0)
        return tokenizer

    def session(self, threads: int) -> Any:
        with self._lock:
            if self._tokenizer is None:
                self._tokenizer = self._load_tokenizer()
            if threads not in self._sessions:
                import onnxruntime as ort

                options = ort.SessionOptions()
                options.intra_op_num_threads = threads
                options.inter_op_num_threads = 1
                options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                options.log_severity_level = 3
                # No arena and no memory pattern: with them onnxruntime kept the largest
                # activations it had ever needed (a batch of 16 texts of 256 pieces: about
                # 60 MB more per session, for the life of the server). The vectors are the
                # same bit for bit; only where the activations live changes.
                options.enable_cpu_mem_arena = False
                options.enable_mem_pattern = False
                if threads == 1:
                    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                try:
                    self._sessions[threads] = ort.InferenceSession(
                        str(self._graph), options, providers=["CPUExecutionProvider"]
                    )
                except Exception as exc:  # onnxruntime raises its own exception types
                    raise EncoderError(
                        f"onnxruntime could not load {self._graph} ({exc.__class__.__name__}): "
                        "run `python -m assistant.embedding.export --force` to export it again"
                    ) from exc
            return self._sessions[threads]

    def _token_ids(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every text's word-piece ids end to end as one int32 array, with each text's start
        in it and its length.

        Tokenised TOKENIZE_SLICE texts at a time, each slice kept as one array: a tokenizer
        Encoding also holds each piece's string, offsets and masks (about 16 KB for a
        256-piece text), so encoding a large upload's 32,000 chunks at once held 530 MB,
        and one small array per text kept the freed memory of the slices from going back.

        Example: ["a b", "c"] (pieces 101 1037 1038 102 / 101 1039 102) ->
                 ([101, 1037, 1038, 102, 101, 1039, 102], [0, 4], [4, 3])
        """
        blocks: list[np.ndarray] = []
        lengths: list[int] = []
        tokenizer = self._tokenizer
        # encode_batch tokenises on every core (its own thread pool); one at a time stays on
        # the calling thread.
        one = _on_one_core()
        for start in range(0, len(texts), TOKENIZE_SLICE):
            part = list(texts[start : start + TOKENIZE_SLICE])
            encodings = [tokenizer.encode(t) for t in part] if one else tokenizer.encode_batch(part)
            sizes = [len(e) for e in encodings]
            pieces = itertools.chain.from_iterable(e.ids for e in encodings)
            blocks.append(np.fromiter(pieces, dtype=np.int32, count=sum(sizes)))
            lengths += sizes
        flat = np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.int32)
        counts = np.array(lengths, dtype=np.int64)
        starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
        return flat, starts, counts

    def embed(
        self,
        texts: Sequence[str],
        *,
        batch_size: int,
        threads: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Unit-length float32 vectors in the order of `texts`.

        Texts are tokenised once, sorted by length and batched, so each batch pads only to
        its own longest text; rows go back to the caller's order.
        """
        if threads is None:
            small = len(texts) < ALL_CORES_FROM or _on_one_core()
            threads = 1 if small else os.cpu_count() or 1
        session = self.session(threads)
        flat, starts, lengths = self._token_ids(texts)
        order = np.argsort(lengths, kind="stable")
        out: np.ndarray | None = None
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            width = int(lengths[rows].max())
            ids = np.full((len(rows), width), self._pad_id, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                n = lengths[i]
                ids[r, :n] = flat[starts[i] : starts[i] + n]
                mask[r, :n] = 1
            arrays = {
                "input_ids": ids,
                "attention_mask": mask,
                "token_type_ids": np.zeros_like(ids),
            }
            (vectors,) = session.run(None, {name: arrays[name] for name in self._inputs})
            if out is None:
                out = np.empty((len(texts), vectors.shape[1]), dtype=np.float32)
            out[rows] = vectors
            if progress is not None:
                progress(len(rows))
        assert out is not None
        # The graph normalises; int8 rounding is undone here so every row is unit length.
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out


class OnnxEmbedder:
    """all-MiniLM-L6-v2 (or any sentence-transformers folder with Transformer, one Pooling and
    Normalize modules) as a verified ONNX graph (int8, or float32 where int8 fell short),
    exported on first use if the cache has none. Raises EncoderError if the graph cannot be
    exported or failed its verification.

    emb = OnnxEmbedder(cache_dir=Path("~/.cache/assistant/encoders").expanduser())
    emb.name  # "all-MiniLM-L6-v2+onnx-int8" (or "+onnx-fp32")
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        cache_dir: Path,
        batch_size: int = 16,
        show_progress: bool = False,
        say: Callable[[str], None] | None = None,
    ) -> None:
        from .export import cached_encoder, export_encoder

        self._path = resolve_model_path(model)
        self.dimension, self.max_seq_length = read_shape(self._path)
        self.token_spans = TokenSpans(self._path)
        self._batch_size = batch_size
        self._show_progress = show_progress
        cached = cached_encoder(self._path, cache_dir) or export_encoder(
            self._path, cache_dir, say=say
        )
        if cached.status != "ok":
            raise EncoderError(
                f"the ONNX export of {model} was refused: {cached.reason}; "
                "set ASSISTANT_ENCODER=torch to use torch for this model"
            )
        self.name = model + ONNX_SUFFIX + cached.variant
        self.graph = cached.model_path
        self._session = OnnxSession(self._path, self.graph, cached.inputs, self.max_seq_length)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if not (self._show_progress and len(texts) > 2 * self._batch_size):
            return self._session.embed(texts, batch_size=self._batch_size)
        from tqdm import tqdm

        with tqdm(total=len(texts), desc="Embedding", unit="chunk", file=sys.stderr) as bar:
            return self._session.embed(texts, batch_size=self._batch_size, progress=bar.update)
