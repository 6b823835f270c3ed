"""Indexing an upload in a child process, so that a big one shares neither the web chat's
interpreter lock nor its memory with the questions people are waiting on.

The server (ui._Indexer) runs one child at a time:

    python -m assistant.indexchild      # one JSON request line on stdin, JSON lines on stdout

The child lowers its own CPU priority, embeds on one core, saves the upload into the
documents folder and syncs the index exactly as `Collection.add_document` does in-process
(it calls it), committing through the store's own cross-process machinery: the sync lock
(FaissStore's flock on the index folder, PgStore's advisory lock) and the atomic commit.
The server keeps answering from the snapshot it has loaded and takes the child's commit
with `Assistant.follow()` (one stat of manifest.json, or one query), as it takes any other
process's commit.

What the child writes on stdout, one JSON object a line:

    {"progress": "embed", "fraction": 0.42}
    {"ok": true, "report": {"chunks_embedded": 3, "chunks_total": 9, "seconds": {...}}}
    {"ok": false, "message": "a.txt is empty: upload a file with text in it"}
    {"ok": false, "fallback": true, "message": "..."}   # cannot index for this server

A child that stops early (its stdin closed by the server, SIGTERM, Ctrl-C) puts the
documents folder back as it was unless its commit already happened; the index itself needs
nothing, since a commit is atomic. A child killed outright cannot, so the server does the
same from what the child left (`put_back`): the upload's sha256 and a copy of the file it
replaced.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .errors import AssistantError, InputError
from .schema import SyncReport

if TYPE_CHECKING:
    from .embedding import Embedder
    from .pipeline import Assistant
    from .settings import Settings
    from .store import Collection

__all__ = ["ChildOutcome", "ChildRunner", "can_index_in_child", "main", "put_back"]

log = logging.getLogger(__name__)

# Settings the child needs none of, and which must not travel through a pipe.
_SECRET_SETTINGS = {"llm_api_key", "api_key", "api_key_file"}
# How long a stopping child gets to put the folder back before it is killed.
_STOP_GRACE_S = 15.0
# Progress lines are sent at most this often (and on every change of stage).
_PROGRESS_EVERY_S = 0.25
# Texts per embedding batch in the child, which embeds on one thread: there, batches of 4
# cost the same CPU time as 16 (14.3 against 14.5 s for 96 chunks, measured under load),
# while 16 texts of 256 pieces left the process at 565 MB against 279 MB (onnxruntime's
# activations, freed to a heap that glibc does not give back).
_CHILD_BATCH = 4


@dataclass(frozen=True, slots=True)
class ChildOutcome:
    """How one upload indexed in a child process ended."""

    ok: bool
    message: str = ""  # one plain sentence when not ok
    report: SyncReport | None = None  # when ok
    fallback: bool = False  # the child cannot index for this server: index in-process


def can_index_in_child(bot: Assistant) -> bool:
    """Whether a child process can index uploads for bot: its store must be one several
    processes share (FaissStore's files, PgStore's database: the server then follows the
    child's commit), and its embedder one that settings rebuild in another process. An
    in-memory store (tests) lives only in this process, and an embedder handed in by code
    (a test's fake, a library user's own) cannot be rebuilt there: both index in-process."""
    from .embedding import OnnxEmbedder, SentenceTransformerEmbedder
    from .store import SharedStore

    return (
        not bot.settings.read_only
        and bot.docs_dir is not None
        and isinstance(bot.collection.store, SharedStore)
        and isinstance(bot.embedder, OnnxEmbedder | SentenceTransformerEmbedder)
    )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def put_back(target: Path, upload_sha: str, previous: Path | None, committed_sha: str) -> bool:
    """Undo an upload whose indexing stopped early: when target still holds the upload
    (sha256 upload_sha) and the index did not commit it (committed_sha, the sha256 the
    index records for target's name, "" when none, differs), put back the file it replaced
    (a copy at previous) or remove it. Returns whether the folder was changed.

    Example: a new "a.txt" written, its sync killed before the commit -> a.txt is removed;
             the same after the commit (committed_sha == upload_sha) -> a.txt stays
    """
    if committed_sha == upload_sha:
        return False
    try:
        if target.is_symlink() or not target.is_file() or sha256_of(target) != upload_sha:
            return False  # not the upload any more: someone changed it since
    except OSError:
        return False
    if previous is not None and previous.is_file():
        # Not built on target's name: a long one would pass the 255-byte limit.
        tmp = target.with_name(f".restore-{uuid.uuid4().hex}")
        shutil.copyfile(previous, tmp)
        os.replace(tmp, target)
    else:
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
    return True


# ---------------------------------------------------------------- the server's side


@dataclass(frozen=True, slots=True)
class _Request:
    name: str
    upload: Path  # the upload's bytes, in the server's spool folder
    backup: Path  # where the child keeps a copy of the file the upload replaces
    upload_sha: str


class ChildRunner:
    """Runs upload indexing in child processes, one at a time (the caller queues)."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._closed = False

    def index(
        self,
        bot: Assistant,
        name: str,
        upload: Path,
        *,
        on_progress: Callable[[str, float], None] | None = None,
    ) -> ChildOutcome:
        """Index the upload at `upload` (a file outside the documents folder) as `name` in a
        child process; returns once the child has ended and bot answers from its commit."""
        request = _Request(
            name, upload, upload.with_name(upload.name + ".previous"), sha256_of(upload)
        )
        payload = {
            "settings": _settings_for_child(bot.settings),
            "folder": str(bot.docs_dir),
            "location": str(bot.collection.store.location),
            "embedder": bot.embedder.name,
            "name": name,
            "upload": str(upload),
            "backup": str(request.backup),
        }
        stderr_path = upload.with_name(upload.name + ".log")
        with stderr_path.open("wb") as stderr:
            with self._lock:
                if self._closed:
                    return ChildOutcome(False, "the server is shutting down: upload it again")
                proc = self._proc = subprocess.Popen(
                    [sys.executable, "-m", "assistant.indexchild"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=stderr,
                    env=_child_env(),
                )
            try:
                outcome = self._talk(proc, payload, on_progress)
            finally:
                with self._lock:
                    self._proc = None
        try:
            if outcome is None:
                outcome = self._after_hard_stop(bot, proc, request, stderr_path)
            elif not outcome.ok and not outcome.fallback:
                log.info("indexing %s in a child process failed: %s", name, outcome.message)
        finally:
            with contextlib.suppress(OSError):
                stderr_path.unlink()
            with contextlib.suppress(OSError):
                request.backup.unlink()
        bot.follow()  # answer from the child's commit now, not at the next question
        return outcome

    def close(self) -> None:
        """Stop the running child, if any, and start no more. The child is stopped rather
        than left to finish: a big upload takes minutes and a closing server should close.
        Asked through its stdin, it stops within a moment (a batch of embedding), puts the
        folder back and exits; the index stays as it was, since the commit is atomic (or
        holds the upload, if the commit had already happened). A child that does not stop
        within a grace period is killed, and the indexing thread puts the folder back."""
        with self._lock:
            self._closed = True
            proc = self._proc
        if proc is None:
            return
        with contextlib.suppress(OSError, ValueError):
            if proc.stdin is not None:
                proc.stdin.close()
        try:
            proc.wait(_STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def _talk(
        self,
        proc: subprocess.Popen[bytes],
        payload: dict[str, Any],
        on_progress: Callable[[str, float], None] | None,
    ) -> ChildOutcome | None:
        """Send the request, relay progress; the child's last word, None if it had none.
        The child's stdin stays open: it is the child's lifeline (closed, the child stops)."""
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(json.dumps(payload).encode() + b"\n")
            proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            pass  # the child is already gone: its exit status tells
        outcome: ChildOutcome | None = None
        for raw in proc.stdout:
            try:
                message = json.loads(raw)
            except ValueError:
                continue  # not the protocol (a library printing): the log has stderr
            if not isinstance(message, dict):
                continue
            if "progress" in message:
                if on_progress is not None:
                    on_progress(str(message["progress"]), float(message.get("fraction", 0.0)))
            elif "ok" in message:
                outcome = _outcome(message)
        proc.wait()
        with contextlib.suppress(OSError, ValueError):
            proc.stdin.close()
        return outcome

    def _after_hard_stop(
        self, bot: Assistant, proc: subprocess.Popen[bytes], request: _Request, stderr: Path
    ) -> ChildOutcome:
        """The child ended without a word (killed, out of memory, a crash): put the folder
        back as it was, unless its commit happened, and say so in one sentence."""
        with contextlib.suppress(OSError):
            tail = stderr.read_bytes()[-2000:].decode("utf-8", "replace")
            log.warning(
                "indexing %s in a child process stopped (status %s): %s",
                request.name,
                proc.returncode,
                tail.strip() or "no output",
            )
        from .store import drop_set_aside, safe_filename

        folder = bot.docs_dir
        try:
            target = None if folder is None else folder / safe_filename(request.name)
        except InputError:
            target = None
        if folder is not None:
            # The document it replaced, set aside under a hidden name to put back, which
            # the child never got to delete: the backup below puts it back.
            drop_set_aside(folder, proc.pid)
        bot.follow()
        committed = _committed_sha(bot, target.name if target is not None else "")
        if committed and committed == request.upload_sha:
            return ChildOutcome(True)  # it ended after its commit: the upload is in
        if target is not None:
            previous = request.backup if request.backup.exists() else None
            with contextlib.suppress(OSError):
                put_back(target, request.upload_sha, previous, committed)
        return ChildOutcome(
            False,
            f"indexing stopped before it finished (the indexing process ended with status "
            f"{proc.returncode}); the documents are as they were: upload it again",
        )


def _committed_sha(bot: Assistant, source: str) -> str:
    for info in bot.sources():
        if info.source == source:
            return info.sha256
    return ""


def _outcome(message: dict[str, Any]) -> ChildOutcome:
    if message.get("ok"):
        r = message.get("report") or {}
        report = SyncReport(
            chunks_embedded=int(r.get("chunks_embedded", 0)),
            chunks_total=int(r.get("chunks_total", 0)),
            seconds={str(k): float(v) for k, v in dict(r.get("seconds", {})).items()},
        )
        return ChildOutcome(True, report=report)
    return ChildOutcome(
        False, str(message.get("message", "")), fallback=bool(message.get("fallback"))
    )


def _settings_for_child(settings: Settings) -> dict[str, Any]:
    data = settings.model_dump(mode="json", exclude=_SECRET_SETTINGS)
    data["show_progress"] = False  # no progress bars on a pipe nobody reads
    if settings.device == "cpu":  # a GPU wants its large batches
        data["embed_batch_size"] = min(settings.embed_batch_size, _CHILD_BATCH)
    return data


def _child_env() -> dict[str, str]:
    """The server's environment, with this package importable first (the child must run
    the same code) and one thread for the numeric libraries."""
    env = dict(os.environ)
    here = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH", "")) if p)
    env["OMP_NUM_THREADS"] = "1"
    env["TOKENIZERS_PARALLELISM"] = "false"
    return env


# ---------------------------------------------------------------- the child's side


class _Stop(Exception):
    """The server asked the child to stop (stdin closed, SIGTERM)."""


def main() -> int:
    """The child: read one request, index it, say how it went; see the module docstring."""
    out = sys.stdout
    line = sys.stdin.buffer.readline().decode("utf-8", "replace")
    if not line:
        return 2  # the server went away before asking anything
    with contextlib.suppress(OSError, AttributeError):
        os.nice(10)  # questions in the server come first

    def stop(*_: object) -> None:
        raise _Stop

    signal.signal(signal.SIGTERM, stop)
    # The server keeps the pipe open while it wants this upload: end of input means stop
    # (the server is closing, or it died and would otherwise leave this child orphaned).
    threading.Thread(target=_watch_stdin, daemon=True).start()
    try:
        request = json.loads(line)
        result = _index(request, _Progress(out))
    except (_Stop, KeyboardInterrupt):
        result = {"ok": False, "message": "indexing was stopped: upload it again"}
    except AssistantError as exc:
        result = {"ok": False, "message": str(exc)}
    except Exception as exc:  # a bug: one line for the page, the traceback on stderr
        logging.getLogger(__name__).exception("indexing the upload failed")
        result = {
            "ok": False,
            "message": f"indexing failed ({exc.__class__.__name__}); the server log has more",
        }
    _send(out, result)
    return 0 if result.get("ok") else 1


def _watch_stdin() -> None:
    with contextlib.suppress(OSError, ValueError):
        while sys.stdin.buffer.read(4096):
            pass
    import _thread

    # The SIGTERM handler's _Stop in the main thread, at its next step. Not SIGINT: a server
    # started in the background by a script has SIGINT ignored, its children inherit that,
    # and interrupt_main() with an ignored signal does nothing (the child went on indexing).
    _thread.interrupt_main(signal.SIGTERM)


def _send(out: IO[str], message: dict[str, Any]) -> None:
    with contextlib.suppress(OSError, ValueError):
        out.write(json.dumps(message) + "\n")
        out.flush()


class _Progress:
    """Progress lines for the server, at most every _PROGRESS_EVERY_S and on each stage."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.stage = ""
        self.sent = 0.0

    def __call__(self, stage: str, fraction: float) -> None:
        now = time.monotonic()
        if stage == self.stage and now - self.sent < _PROGRESS_EVERY_S and fraction < 1.0:
            return
        self.stage, self.sent = stage, now
        _send(self.out, {"progress": stage, "fraction": round(float(fraction), 4)})


def _index(request: dict[str, Any], progress: _Progress) -> dict[str, Any]:
    from .embedding import build_embedder, one_core
    from .settings import Settings

    settings = Settings(**request["settings"])
    embedder = build_embedder(settings, say=lambda line: print(line, file=sys.stderr))
    if embedder.name != request["embedder"]:
        return {
            "ok": False,
            "fallback": True,
            "message": f"the child process built {embedder.name!r}, the server uses "
            f"{request['embedder']!r}",
        }
    collection = _collection(request, settings, embedder)
    name = str(request["name"])
    upload, backup = Path(request["upload"]), Path(request["backup"])
    content = upload.read_bytes()
    upload_sha = hashlib.sha256(content).hexdigest()
    from .store import safe_filename

    target = collection.folder / safe_filename(name) if collection.folder else None
    previous = _keep_previous(target, backup)
    try:
        with one_core():  # one onnxruntime thread: the other core stays with questions
            report = collection.add_document(name, content, on_progress=progress)
    except BaseException:
        # Whatever stopped it (a stop request, a failed sync), the folder goes back to how
        # it was unless the commit happened.
        if target is not None:
            with contextlib.suppress(Exception):
                put_back(target, upload_sha, previous, _latest_sha(collection, target.name))
        raise
    return {
        "ok": True,
        "report": {
            "chunks_embedded": report.chunks_embedded,
            "chunks_total": report.chunks_total,
            "seconds": report.seconds,
        },
    }


def _collection(request: dict[str, Any], settings: Settings, embedder: Embedder) -> Collection:
    from .store import Collection, chunker_config, empty_store

    # An empty store, as Collection.from_folder starts: the sync loads the latest commit
    # (or rebuilds a damaged index, as the server would in-process).
    return Collection(
        empty_store(request["location"], ef_search=settings.hnsw_ef_search),
        embedder,
        chunker_config(settings, embedder),
        folder=request["folder"],
        max_upload_bytes=settings.max_upload_bytes,
        follow_links=settings.follow_symlinks,
        unpack_limits=settings.unpack_limits,
        ef_search=settings.hnsw_ef_search,
    )


def _keep_previous(target: Path | None, backup: Path) -> Path | None:
    """A copy of the regular file the upload will replace (for putting it back), or None."""
    if target is None or target.is_symlink() or not target.is_file():
        return None
    shutil.copyfile(target, backup)
    return backup


def _latest_sha(collection: Collection, source: str) -> str:
    try:
        manifest = collection.store.refresh().manifest
    except AssistantError:
        return ""
    info = None if manifest is None else manifest.sources.get(source)
    return info.sha256 if info is not None else ""


if __name__ == "__main__":
    raise SystemExit(main())
