"""Uploads indexed in a child process (assistant/indexchild.py) while the server answers: the
chat answers from the child's commit, uploads queue one child at a time, and a child that
fails, is killed or is stopped by a closing server leaves the index and the documents
folder as they were, with one plain line. The real packaged model, in a real child."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from assistant import Assistant, Settings
from assistant.indexchild import ChildOutcome, ChildRunner, put_back
from assistant.ui import _Indexer

if TYPE_CHECKING:
    from assistant.embedding import Embedder

LEDGER = "The ledger at Harwick records 31 barrels of cider sold in March.\n"
ORCHARD = (
    "# Orchard report\n\nThe walnut orchard at Bexley produced 12 tonnes of walnuts in 2023, "
    "twice the harvest of the year before.\n"
)


def long_text(n_paragraphs: int, seed: str) -> str:
    """Distinct sentences (so nothing is served from the embedding cache), enough that the
    child spends several seconds embedding them."""
    lines = []
    for i in range(n_paragraphs):
        h = hashlib.sha256(f"{seed}{i}".encode()).hexdigest()
        lines.append(
            f"Paragraph {i} of the {seed} notes mentions code {h[:10]}. The warehouse keeper "
            f"counted {i * 3 + 7} crates of {h[10:16]} apples. Shipment {h[16:24]} left the "
            f"quay on day {i % 28 + 1} with {i % 9 + 2} carts.\n\n"
        )
    return "".join(lines)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def bot(tmp_path: Path, real_embedder: Embedder) -> Assistant:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "ledger.txt").write_text(LEDGER, encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index", show_progress=False)
    return Assistant.from_folder(
        docs, index_dir=settings.index_dir, settings=settings, embedder=real_embedder
    )


def no_in_process(*_: Any, **__: Any) -> Any:
    raise AssertionError("the upload was indexed in the server's process")


@pytest.fixture
def indexer(bot: Assistant) -> Iterator[_Indexer]:
    """Every upload in a child process, however small; never in-process (which would make
    these tests pass for the wrong reason)."""

    bot.add_document = no_in_process  # type: ignore[method-assign]
    made = _Indexer(bot, child_from=0)
    yield made
    made.close()


def wait_for(check: Callable[[], bool], limit: float = 120.0) -> None:
    deadline = time.monotonic() + limit
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def folder_state(docs: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(docs.iterdir())}


def index_state(bot: Assistant) -> dict[str, str]:
    return {s.source: s.sha256 for s in bot.sources()}


pytestmark = pytest.mark.model


def test_an_upload_indexed_in_a_child_is_answered_by_the_running_chat(
    bot: Assistant, indexer: _Indexer
) -> None:
    assert "orchard-report.md" not in index_state(bot)
    stages: list[str] = []
    job_id = indexer.submit("orchard-report.md", ORCHARD.encode())
    job = indexer.jobs([job_id])[0]

    def seen_done() -> bool:
        stages.append(job.stage)
        return job.done

    wait_for(seen_done)
    line = job.line()
    assert "✓ <b>orchard-report.md</b> added: ask about it now." in line
    assert "Split into 1 passage" in line  # the child's report, in words
    assert "embed" in stages  # the child's progress reached the page's job

    answer = bot.ask("How many tonnes did the walnut orchard produce?")
    assert "12 tonnes" in answer.text
    assert {c.source for c in answer.citations} == {"orchard-report.md"}
    assert (bot.docs_dir or Path()).joinpath("orchard-report.md").read_text() == ORCHARD


def test_two_uploads_wait_in_turn_one_child_at_a_time(
    bot: Assistant, indexer: _Indexer, monkeypatch: pytest.MonkeyPatch
) -> None:
    running, most = 0, 0
    guard = threading.Lock()
    real = ChildRunner.index

    def counted(self: ChildRunner, *args: Any, **kwargs: Any) -> ChildOutcome:
        nonlocal running, most
        with guard:
            running += 1
            most = max(most, running)
        try:
            return real(self, *args, **kwargs)
        finally:
            with guard:
                running -= 1

    monkeypatch.setattr(ChildRunner, "index", counted)
    first = indexer.submit("notes-a.txt", long_text(30, "alpha").encode())
    second = indexer.submit("notes-b.txt", ORCHARD.encode())
    wait_for(lambda: indexer.jobs([first])[0].stage != "waiting")
    assert "waiting to be indexed" in indexer.jobs([second])[0].line()
    indexer.wait([first, second])

    assert most == 1
    assert all(j.ok for j in indexer.jobs([first, second])), [
        j.line() for j in indexer.jobs([first, second])
    ]
    assert {"notes-a.txt", "notes-b.txt", "ledger.txt"} <= set(index_state(bot))


def test_a_failing_child_says_one_plain_sentence_and_changes_nothing(
    bot: Assistant, indexer: _Indexer
) -> None:
    docs = bot.docs_dir or Path()
    before_index, before_folder = index_state(bot), folder_state(docs)
    job_id = indexer.submit("notes.txt", b"\x00\x01\x02\xff" * 200)
    indexer.wait([job_id])

    line = indexer.jobs([job_id])[0].line()
    assert "⚠ <b>notes.txt</b> was not added: " in line
    assert "remove it from the folder" not in line  # it never reached the folder
    assert "Traceback" not in line
    assert index_state(bot) == before_index
    assert folder_state(docs) == before_folder


def test_a_child_killed_midway_leaves_the_index_and_the_replaced_file_as_they_were(
    bot: Assistant, indexer: _Indexer
) -> None:
    docs = bot.docs_dir or Path()
    before_index, before_folder = index_state(bot), folder_state(docs)
    job_id = indexer.submit("ledger.txt", long_text(120, "kill").encode())  # a replacement
    job = indexer.jobs([job_id])[0]
    wait_for(lambda: job.stage == "embed" or job.done)
    assert not job.done, job.line()
    proc = indexer._children._proc
    assert proc is not None
    proc.kill()  # as the kernel's out-of-memory killer would: no chance to clean up
    indexer.wait([job_id])

    line = job.line()
    assert "⚠ <b>ledger.txt</b> was not added: Indexing stopped before it finished" in line
    assert "the documents are as they were: upload it again" in line
    assert folder_state(docs) == before_folder  # the old ledger.txt is back
    assert index_state(bot) == before_index
    assert "31 barrels" in bot.ask("How many barrels of cider were sold in March?").text


def test_closing_the_server_stops_the_child_and_removes_its_half_done_upload(
    bot: Assistant, indexer: _Indexer
) -> None:
    docs = bot.docs_dir or Path()
    before_index, before_folder = index_state(bot), folder_state(docs)
    job_id = indexer.submit("big-notes.txt", long_text(1200, "close").encode())
    job = indexer.jobs([job_id])[0]
    wait_for(lambda: job.stage == "embed" or job.done)
    assert not job.done, job.line()
    proc = indexer._children._proc
    assert proc is not None

    indexer.close()
    assert proc.returncode is not None  # no child is left running behind the server
    indexer.wait([job_id])
    assert "⚠ <b>big-notes.txt</b> was not added:" in job.line()
    assert folder_state(docs) == before_folder
    assert index_state(bot) == before_index


def test_put_back_undoes_only_an_upload_the_index_did_not_commit(tmp_path: Path) -> None:
    new = tmp_path / "new.txt"
    new.write_bytes(b"upload")
    assert put_back(new, sha(b"upload"), None, "")
    assert not new.exists()

    new.write_bytes(b"upload")
    assert not put_back(new, sha(b"upload"), None, sha(b"upload"))  # committed: kept
    assert new.read_bytes() == b"upload"

    old = tmp_path / "old.txt"
    old.write_bytes(b"upload")
    backup = tmp_path / "old.previous"
    backup.write_bytes(b"the first version")
    assert put_back(old, sha(b"upload"), backup, sha(b"the first version"))
    assert old.read_bytes() == b"the first version"

    old.write_bytes(b"someone else's edit")
    assert not put_back(old, sha(b"upload"), backup, "")  # not the upload any more
    assert old.read_bytes() == b"someone else's edit"


def test_an_upload_indexed_in_a_child_reaches_a_postgresql_index(
    tmp_path: Path, real_embedder: Embedder, pg_url: str
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "ledger.txt").write_text(LEDGER, encoding="utf-8")
    settings = Settings(store=pg_url, show_progress=False)
    pg_bot = Assistant.from_folder(
        docs, index_dir=pg_url, settings=settings, embedder=real_embedder
    )
    pg_bot.add_document = no_in_process  # type: ignore[method-assign]
    made = _Indexer(pg_bot, child_from=0)
    try:
        job_id = made.submit("orchard-report.md", ORCHARD.encode())
        made.wait([job_id])
        assert "✓ <b>orchard-report.md</b> added" in made.jobs([job_id])[0].line()
    finally:
        made.close()
    answer = pg_bot.ask("How many tonnes did the walnut orchard produce?")
    assert "12 tonnes" in answer.text
    assert {c.source for c in answer.citations} == {"orchard-report.md"}


def test_the_web_chat_indexes_a_big_upload_in_a_child_and_answers_from_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the page's API, as a person's upload arrives: with the size from which
    uploads go to a child lowered to this small file's, the server never indexes it."""
    from gradio_client import handle_file
    from servers import serve_copy

    import assistant.ui

    seeds = Path(__file__).resolve().parent.parent / "seeds"
    monkeypatch.setattr(assistant.ui, "_CHILD_FROM_BYTES", len(ORCHARD) - 1)
    with serve_copy(seeds, tmp_path) as served:
        served.bot.add_document = no_in_process  # type: ignore[method-assign]
        note = tmp_path / "orchard-report.md"
        note.write_text(ORCHARD, encoding="utf-8")
        _files, status, table, _choices = served.client.predict(
            [handle_file(str(note))], api_name="/upload"
        )
        assert "orchard-report.md</b> added" in status
        assert "orchard-report.md" in table
        answer = served.client.predict(
            "How many tonnes did the walnut orchard produce?", api_name="/ask"
        )
        assert "12 tonnes" in answer["text"]
        assert {c["source"] for c in answer["citations"]} == {"orchard-report.md"}


def test_only_a_shared_store_and_a_rebuildable_embedder_index_in_a_child(
    bot: Assistant, tmp_path: Path
) -> None:
    from fakes import FakeEmbedder

    from assistant.indexchild import can_index_in_child

    assert can_index_in_child(bot)
    docs = tmp_path / "fake-docs"
    docs.mkdir()
    (docs / "a.txt").write_text(LEDGER, encoding="utf-8")
    fake = Assistant.from_folder(
        docs,
        index_dir=tmp_path / "fake-index",
        settings=Settings(index_dir=tmp_path / "fake-index", show_progress=False),
        embedder=FakeEmbedder(),
    )
    assert not can_index_in_child(fake)  # a child could not rebuild a fake embedder
    read_only = Assistant(bot.collection, settings=Settings(read_only=True))
    assert not can_index_in_child(read_only)  # refused in-process, with its own sentence


SERVER_SCRIPT = """
import sys, time
from pathlib import Path
from assistant import Assistant, Settings
from assistant.ui import _Indexer

root = Path(sys.argv[1])
settings = Settings(index_dir=root / "index", show_progress=False)
bot = Assistant.from_folder(root / "docs", index_dir=settings.index_dir, settings=settings)
indexer = _Indexer(bot, child_from=0)
job_id = indexer.submit("big-notes.txt", Path(sys.argv[2]))
job = indexer.jobs([job_id])[0]
while job.stage != "embed" and not job.done:
    time.sleep(0.05)
print(indexer._children._proc.pid if not job.done else -1, flush=True)
time.sleep(600)
"""


def test_a_server_killed_outright_leaves_no_child_behind(tmp_path: Path) -> None:
    """kill -9 of the server: its child notices (its stdin closes), stops, and puts the
    folder back; it is not left indexing for a server that is gone."""
    import os
    import signal
    import subprocess
    import sys

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "ledger.txt").write_text(LEDGER, encoding="utf-8")
    upload = tmp_path / "big-notes.txt"
    upload.write_text(long_text(1200, "orphan"), encoding="utf-8")
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root), "HF_HUB_OFFLINE": "1"}
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER_SCRIPT, str(tmp_path), str(upload)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert server.stdout is not None
        child = int(server.stdout.readline())
        assert child > 0, "the upload finished before the server could be killed"
        assert (docs / "big-notes.txt").exists()  # the child has saved the upload
        server.send_signal(signal.SIGKILL)
        server.wait()
        deadline = time.monotonic() + 60
        while Path(f"/proc/{child}").exists() and time.monotonic() < deadline:
            status = Path(f"/proc/{child}/status").read_text(errors="replace")
            if "State:\tZ" in status:
                break  # exited; a zombie until init reaps it
            time.sleep(0.1)
        alive = Path(f"/proc/{child}/status").exists() and "State:\tZ" not in Path(
            f"/proc/{child}/status"
        ).read_text(errors="replace")
        assert not alive, "the child kept running after its server was killed"
        assert sorted(p.name for p in docs.iterdir()) == ["ledger.txt"]  # put back
    finally:
        if server.poll() is None:
            server.kill()
