"""What an upload leaves on disk outside the documents folder: nothing once it is handled,
and nothing after the server is stopped the way a service manager stops it (SIGTERM).

Gradio keeps a temporary copy of every uploaded file, and the web chat spools its own until
the upload is indexed; a document removed from the collection must not live on in either.
"""

from __future__ import annotations

import signal
from pathlib import Path

from servers import cli_env, free_port, run_cli, wait_for_chat

from assistant.ui import _discard_upload


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_a_handled_upload_leaves_no_copy_and_a_stopped_server_no_spool(tmp_path: Path) -> None:
    from gradio_client import Client, handle_file

    docs, temp, cache = tmp_path / "docs", tmp_path / "tmp", tmp_path / "gradio"
    for folder in (docs, temp, cache):
        folder.mkdir()
    (docs / "a.txt").write_text("Amazon builds custom chips in Austin.\n", encoding="utf-8")
    note = tmp_path / "orchard-note.txt"
    note.write_text("The orchard in Lleida harvested 412 crates of pears.\n", encoding="utf-8")
    port = free_port()
    env = cli_env(TMPDIR=str(temp), GRADIO_TEMP_DIR=str(cache))
    log = tmp_path / "server.log"
    command = ["ui", str(docs), "--index-dir", str(tmp_path / "index"), "--port", str(port)]
    with run_cli(command, log, env) as proc:
        url = f"http://127.0.0.1:{port}"
        wait_for_chat(url, proc, log)
        client = Client(url, verbose=False)
        client.predict([handle_file(str(note))], api_name="/upload")
        assert (docs / "orchard-note.txt").read_bytes() == note.read_bytes()
        assert "orchard-note.txt" not in " ".join(_files(cache))  # Gradio's copy is gone
        assert [p.name for p in temp.glob("assistant-uploads-*")]  # the spool, emptied
        assert not [f for f in _files(temp) if "assistant-uploads-" in f]

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) in (0, 130), log.read_text()
    assert not list(temp.glob("assistant-uploads-*")), log.read_text()
    assert "orchard-note.txt" not in " ".join(_files(cache))
    assert sorted(p.name for p in docs.iterdir()) == ["a.txt", "orchard-note.txt"]


def test_only_a_regular_file_inside_the_upload_folder_is_discarded(tmp_path: Path) -> None:
    cache = tmp_path / "gradio"
    (cache / "ab12").mkdir(parents=True)
    upload = cache / "ab12" / "notes.txt"
    upload.write_text("x", encoding="utf-8")
    outside = tmp_path / "keep.txt"
    outside.write_text("mine", encoding="utf-8")
    link = cache / "link.txt"
    link.symlink_to(outside)

    _discard_upload(outside, cache)
    _discard_upload(link, cache)
    _discard_upload(cache / ".." / "keep.txt", cache)
    _discard_upload(cache / "missing.txt", cache)
    assert outside.read_text(encoding="utf-8") == "mine" and link.is_symlink()

    _discard_upload(upload, cache)
    assert not (cache / "ab12").exists() and cache.is_dir()
