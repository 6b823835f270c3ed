"""A child process for tests/test_postgres.py: one sync on a shared PostgreSQL index.
Run as `python tests/pg_worker.py MODE URL FOLDER`.

- sync: sync_index(FOLDER -> URL) with the fake embedder; prints the report as JSON.
- stall: like sync, but stops inside the commit's transaction, after the chunks are
  written: prints "in-transaction" and sleeps, to be killed with SIGKILL.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def sync(url: str, folder: str, *, stall: bool = False) -> None:
    from fakes import FakeEmbedder

    from assistant.store import ChunkerConfig, sync_index
    from assistant.store.postgres import PgStore

    if stall:
        copy = PgStore._copy_chunks

        def copy_then_stall(self: PgStore, conn: object, batch: object, g: int) -> None:
            copy(self, conn, batch, g)  # type: ignore[arg-type]
            print("in-transaction", flush=True)
            time.sleep(600)

        PgStore._copy_chunks = copy_then_stall  # type: ignore[method-assign]
    report = sync_index(
        Path(folder),
        url,
        FakeEmbedder(),
        ChunkerConfig(24, 6),
        on_wait=lambda: print("waiting", flush=True),
    )
    print(
        json.dumps({"added": list(report.added), "unchanged": list(report.unchanged)}),
        flush=True,
    )


if __name__ == "__main__":
    mode, url, folder = sys.argv[1:4]
    sync(url, folder, stall=mode == "stall")
