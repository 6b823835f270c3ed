"""Shared fixtures for the tests that use the real packaged model: it is loaded once per
session, and one read-only assistant over a copy of seeds/ serves every question. `served`
is the live web chat for the UI and browser tests (one per test module); `held_answers`
keeps questions in flight for the red-team tests of per-client limits."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from pg import PgServer, start_server
from servers import Served, serve_copy

if TYPE_CHECKING:
    from assistant import Assistant
    from assistant.embedding import Embedder

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture(scope="session")
def real_embedder() -> Embedder:
    """The packaged all-MiniLM-L6-v2 with the default encoder (its int8 ONNX graph, exported
    into the user's cache on first use), loaded offline."""
    from assistant import Settings
    from assistant.embedding import build_embedder

    return build_embedder(Settings(show_progress=False))


@pytest.fixture(scope="session")
def seed_docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of seeds/: tests never touch the repository's documents."""
    docs = tmp_path_factory.mktemp("seed-docs") / "docs"
    shutil.copytree(SEEDS, docs)
    return docs


@pytest.fixture(scope="session")
def seed_bot(
    tmp_path_factory: pytest.TempPathFactory,
    seed_docs: Path,
    real_embedder: Embedder,
) -> Iterator[Assistant]:
    """An assistant over the seed copy. Read-only: tests that add or remove documents make
    their own."""
    from assistant import Assistant, Settings

    index_dir = tmp_path_factory.mktemp("seed-index") / "index"
    settings = Settings(index_dir=index_dir, show_progress=False)
    yield Assistant.from_folder(
        seed_docs, index_dir=index_dir, settings=settings, embedder=real_embedder
    )


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The web chat over a writable copy of seeds/, served on a free loopback port."""
    with serve_copy(SEEDS, tmp_path_factory.mktemp("served")) as server:
        yield server


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """The bundled PostgreSQL + pgvector, started once per session in a folder of its own
    under the system's temporary folder (never under a home directory, and not under
    pytest's 0700 folders, which the server's own user could not enter: see tests/pg.py);
    stopped and removed when the session ends."""
    root = Path(tempfile.mkdtemp(prefix="assistant-pg-"))
    server = start_server(root)
    try:
        yield server
    finally:
        server.handle.cleanup()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """A fresh, empty database on the test server, by URL."""
    return pg_server.new_database()


@pytest.fixture
def held_answers(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Every answer waits until the test sets the event it yields (as if the machine were
    busy), so questions stay in flight (the red-team tests of per-client limits)."""
    from assistant import Assistant as Bot

    release = threading.Event()
    original = Bot.stream

    def held(self: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        release.wait(60)
        yield from original(self, *args, **kwargs)

    monkeypatch.setattr(Bot, "stream", held)
    try:
        yield release
    finally:
        release.set()


@pytest.fixture
def plain(tmp_path: Path) -> Iterator[Any]:
    """A web chat served as `assistant ui` serves it, with the fake embedder and the
    default limits (test_redteam4._served; the red-team passes share it)."""
    from test_redteam4 import _served

    with _served(tmp_path) as served:
        yield served


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The sources each scan of assistant.store.sync reads to hash, in order."""
    from assistant.store import sync as sync_module

    seen: list[str] = []
    original = sync_module._file_digest

    def counting(path: Path, source: str, max_bytes: int) -> Any:
        seen.append(source)
        return original(path, source, max_bytes)

    monkeypatch.setattr(sync_module, "_file_digest", counting)
    return seen
