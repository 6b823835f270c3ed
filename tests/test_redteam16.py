"""The sixteenth red-team pass: what a cache in front may keep, the forwarded headers of the
server `launch()` starts, the progress streams one address may hold open, removing an
e-mail's attachment, and hostile text and paths aimed at what the page draws and at the
CLI and Python API. The HTTP tests run the web chat as `assistant ui` serves it (the chat
mounted on the early server) with the fake embedder, so these run in seconds.
"""

from __future__ import annotations

import collections
import os
import socket
import threading
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from fakes import FakeEmbedder, fake_bot
from servers import cli_env, free_port, run_cli
from test_redteam import one_sentence
from test_redteam4 import _served
from test_redteam11 import _add

from assistant import Assistant, Settings
from assistant.api import LoginThrottle
from assistant.errors import InputError
from assistant.ui import build_app, launch

# ---------------------------------------------------------------- what a cache may keep


def test_only_the_built_files_may_be_kept_by_a_cache(tmp_path: Path) -> None:
    """Gradio sent no Cache-Control: a shared cache in front (a company proxy, a CDN) was
    free to keep the page, /config (every document's name), an API answer or a visitor's
    uploaded file, and to hand it to the next visitor. Each now says no-store; only the
    built files, named by their content's hash, may be kept for good, and the other shared
    files may be kept if checked each time."""
    with _served(tmp_path) as chat:
        page = httpx.get(f"{chat.url}/", timeout=30)
        for path in ("/", "/config", "/gradio_api/info", "/gradio_api/queue/status", "/x"):
            said = httpx.get(f"{chat.url}{path}", timeout=30)
            assert said.headers.get("cache-control") == "no-store", (path, said.headers)
        sent = httpx.post(
            f"{chat.url}/gradio_api/upload",
            files=[("files", ("n.txt", b"The zircon vault opens at nine.\n", "text/plain"))],
            timeout=30,
        )
        assert sent.headers["cache-control"] == "no-store"
        kept = httpx.get(f"{chat.url}/gradio_api/file={sent.json()[0]}", timeout=30)
        assert kept.status_code == 200 and kept.headers["cache-control"] == "no-store"
        asset = page.text.split('src="./assets/', 1)[1].split('"', 1)[0]
        built = httpx.get(f"{chat.url}/assets/{asset}", timeout=30)
        assert built.status_code == 200
        assert built.headers["cache-control"] == "public, max-age=31536000, immutable"
        theme = httpx.get(f"{chat.url}/theme.css", timeout=30)
        assert theme.headers["cache-control"] == "no-cache"
        missing = httpx.get(f"{chat.url}/assets/nothing-here.js", timeout=30)
        assert missing.status_code == 404 and missing.headers["cache-control"] == "no-store"
    from assistant.ui import cache_control

    assert cache_control("/assets/../config") == b"no-store"


def test_the_endpoint_alone_says_no_store(tmp_path: Path) -> None:
    """`assistant serve` (the OpenAI-compatible endpoint alone) sent no Cache-Control
    either: its answers and refusals now say no-store too."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Amazon builds custom chips in Austin.\n", encoding="utf-8")
    port, log = free_port(), tmp_path / "server.log"
    command = ["serve", str(docs), "--index-dir", str(tmp_path / "index"), "--port", str(port)]
    with run_cli(command, log, cli_env()) as proc:
        url = f"http://127.0.0.1:{port}/v1"
        deadline = time.monotonic() + 240  # the model loads on a busy machine
        while True:
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            try:
                models = httpx.get(f"{url}/models", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.3)
        assert models.status_code == 200 and models.headers["cache-control"] == "no-store"
        wrong = httpx.post(f"{url}/chat/completions", json={"messages": []}, timeout=30)
        assert wrong.status_code == 400 and wrong.headers["cache-control"] == "no-store"


# ---------------------------------------------------------------- launch()'s forwarded headers


def test_launch_believes_no_forwarded_address_from_this_machine(tmp_path: Path) -> None:
    """launch() (`--share`, library callers) runs on Gradio's own uvicorn server, whose
    defaults believe X-Forwarded-For from 127.0.0.1: a program on this machine sending a
    new made-up address with each wrong password was never throttled (5 wrong logins, no
    429), and could spread its requests over as many addresses' budgets as it liked. It
    now believes no forwarded address unless trusted proxies are named."""
    bot = fake_bot(tmp_path, {"a.txt": "Amazon builds custom chips in Austin.\n"})
    demo = build_app(bot)
    url = launch(
        demo,
        port=free_port(),
        prevent_thread_lock=True,
        auth=("assistant", "s3cret"),
        throttle=LoginThrottle(failures=2, lockout=30, window=900),
    ).rstrip("/")
    try:
        codes = [
            httpx.post(
                f"{url}/login",
                data={"username": "assistant", "password": f"guess-{i}"},
                headers={"X-Forwarded-For": f"198.51.100.{i}", "X-Forwarded-Proto": "https"},
                timeout=30,
            ).status_code
            for i in range(3)
        ]
        assert codes == [400, 400, 429], codes
    finally:
        demo.close()


# ---------------------------------------------------------------- progress streams


@contextmanager
def _trickling_upload(url: str, upload_id: str) -> Iterator[None]:
    """An upload with this upload_id that keeps arriving, a few hundred bytes a second."""
    port = int(url.rsplit(":", 1)[1])
    head = (
        b'--B\r\nContent-Disposition: form-data; name="files"; filename="notes.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\n"
    )
    request = (
        f"POST /gradio_api/upload?upload_id={upload_id} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\nContent-Type: multipart/form-data; boundary=B\r\n"
        f"Content-Length: 2000000\r\n\r\n"
    ).encode()
    stop = threading.Event()
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(request + head + b"x" * 2_000)

        def trickle() -> None:
            while not stop.wait(0.5):
                conn.sendall(b"y" * 300)

        thread = threading.Thread(target=trickle, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()


def test_one_address_follows_a_few_uploads_at_once(tmp_path: Path) -> None:
    """A stream following an upload checks it every 50 ms for as long as the upload arrives,
    up to 11 hours for 20 MB at the slowest rate the body deadline allows: one address
    following one such upload from 120 streams kept 1.35 s of CPU busy every 10 s for all
    that time. An address now follows 8 uploads at once (the page opens one stream per
    upload); a ninth stream gets 429 and one sentence, and another address is not held."""
    with _served(tmp_path) as chat, _trickling_upload(chat.url, "k3v9trickle"):
        port = int(chat.url.rsplit(":", 1)[1])
        request = (
            "GET /gradio_api/upload_progress?upload_id=k3v9trickle HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\n\r\n"
        ).encode()
        streams = [socket.create_connection(("127.0.0.1", port)) for _ in range(12)]
        try:
            for conn in streams:
                conn.sendall(request)
            heads = []
            for conn in streams:
                conn.settimeout(10)
                heads.append(conn.recv(4096).decode("latin-1"))
            codes = collections.Counter(head[9:12] for head in heads)
            assert codes == {"200": 8, "429": 4}, codes
            refused = next(head for head in heads if head[9:12] == "429")
            sentence = refused.split("\r\n\r\n", 1)[1]
            assert "following the progress of 8 uploads" in sentence, sentence
            other = httpx.Client(
                transport=httpx.HTTPTransport(local_address="127.0.0.2"), timeout=10
            )
            with (
                other,
                other.stream(
                    "GET",
                    f"{chat.url}/gradio_api/upload_progress",
                    params={"upload_id": "k3v9trickle"},
                ) as stream,
            ):
                assert stream.status_code == 200
        finally:
            for conn in streams:
                conn.close()
        # Once the streams are closed, the address may follow uploads again.
        deadline = time.monotonic() + 10
        while True:
            with (
                httpx.Client(timeout=10) as again,
                again.stream(
                    "GET",
                    f"{chat.url}/gradio_api/upload_progress",
                    params={"upload_id": "k3v9trickle"},
                ) as stream,
            ):
                if stream.status_code == 200 or time.monotonic() > deadline:
                    break
            time.sleep(0.2)
        assert stream.status_code == 200


def test_an_upload_id_named_twice_is_refused(tmp_path: Path) -> None:
    """The length check of an upload_id read the first one a query names, Gradio the last:
    "upload_id=a&upload_id=" + 30,000 characters passed, and Gradio kept an entry under the
    long name for good (200 such requests: 6 MB of names kept, none dropped). A request
    naming upload_id twice now gets 400 and one sentence, and nothing is kept."""
    from gradio import routes

    tracker = routes.file_upload_statuses
    with _served(tmp_path) as chat:
        long_id = "k3v9" * 7_500
        for route, method in (("upload_progress", "GET"), ("upload", "POST")):
            said = httpx.request(
                method,
                f"{chat.url}/gradio_api/{route}?upload_id=k3v9&upload_id={long_id}",
                files=[("files", ("n.txt", b"The vault.\n", "text/plain"))]
                if method == "POST"
                else None,
                timeout=30,
            )
            assert said.status_code == 400, said.text[:200]
            assert said.json()["detail"] == (
                "A request names one upload_id, of at most 64 characters: send the one the "
                "page makes."
            )
        assert long_id not in tracker._signals and long_id not in tracker._statuses


# ---------------------------------------------------------------- an attachment's name


def _mail() -> str:
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = "Vault", "a@b.example", "c@d.example"
    message.set_content("The zircon vault opens at nine.\n")
    message.add_attachment(
        b"The report says the vault is safe.\n",
        maintype="text",
        subtype="plain",
        filename="report.txt",
    )
    return message.as_string()


def test_removing_an_attachment_names_its_e_mail(tmp_path: Path) -> None:
    """Citations name an e-mail's attachment "mail.eml#report.txt", but it is part of the
    e-mail's file: asked to remove it, the chat said there was no such document, "it may
    have just been removed", though it was there and cited. It now says it is an
    attachment of the e-mail and to remove the e-mail; nothing is removed."""
    bot = fake_bot(tmp_path, {"a.txt": "Amazon builds chips.\n", "mail.eml": _mail()})
    before = sorted(s.source for s in bot.sources())
    with pytest.raises(InputError) as refused:
        bot.remove_document("mail.eml#report.txt")
    said = str(refused.value)
    assert said == (
        "the e-mail 'mail.eml' holds 'mail.eml#report.txt' as an attachment, not as a file "
        "of its own: remove the e-mail to remove it with its attachments"
    )
    assert one_sentence(said[0].upper() + said[1:])
    assert sorted(s.source for s in bot.sources()) == before
    assert sorted(p.name for p in (tmp_path / "docs").iterdir()) == ["a.txt", "mail.eml"]
    hits = bot.retrieve("Is the vault safe?", k=5)
    assert any(hit.chunk.source == "mail.eml#report.txt" for hit in hits)
    # A name that merely holds a "#" is still "no such document".
    with pytest.raises(InputError, match=r"there is no document named 'notes#1\.txt'"):
        bot.remove_document("notes#1.txt")


# ---------------------------------------------------------------- one name, two Unicode forms

_COMPOSED = "caf\u00e9 menu.txt"
_APART = unicodedata.normalize("NFD", _COMPOSED)  # as a Mac names its files


def test_a_document_named_with_its_accents_apart_can_be_replaced_and_removed(
    tmp_path: Path,
) -> None:
    """A file copied into the folder keeps its name's Unicode form ("cafe\u0301 menu.txt",
    the accent written apart, as a Mac writes it), and an upload's name is composed: every
    upload of that document, in either form, was refused as looking like it, "upload it
    as 'café menu.txt' to replace that document", the very name sent, so it could never be
    replaced; and removing "café menu.txt" said there was no such document. Either form
    now names that document: an upload replaces it, the page and /upload ask first, and a
    removal removes it; nothing else is written."""
    bot = fake_bot(tmp_path, {_APART: "The cafe opens at nine.\n"})
    for sent in (_COMPOSED, _APART):
        report = bot.add_document(sent, f"The cafe opens at ten ({len(sent)}).\n".encode())
        assert report.updated == (_APART,), report
        assert [p.name for p in (tmp_path / "docs").iterdir()] == [_APART]
    bot.remove_document(_COMPOSED)
    assert list((tmp_path / "docs").iterdir()) == [] and bot.sources() == []


def test_the_page_asks_before_replacing_a_document_named_in_another_form(tmp_path: Path) -> None:
    with _served(tmp_path, documents={_APART: "The cafe opens at nine.\n"}) as chat:
        said = _add(chat.url, _COMPOSED, "The cafe opens at ten.\n")
        assert "was not added: it would replace" in said, said[-600:]
        assert "looks the same" not in said
        assert sorted(p.name for p in chat.docs.iterdir()) == sorted(["a.txt", _APART])
        assert "nine" in (chat.docs / _APART).read_text(encoding="utf-8")


# ---------------------------------------------------------------- hostile paths


@pytest.mark.parametrize("under", ["a file", "a pipe", "/proc"])
def test_an_index_folder_that_cannot_be_made_gets_one_sentence(tmp_path: Path, under: str) -> None:
    """An index folder that cannot be made (under a file, a pipe, /proc or /sys, or where
    the user may not write) stopped `assistant index`, the Python API and the web chat's
    start with FileNotFoundError's, NotADirectoryError's or PermissionError's traceback.
    It is now one sentence naming the folder, why, and what to do; nothing is written."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Amazon builds custom chips in Austin.\n", encoding="utf-8")
    os.mkfifo(tmp_path / "pipe")
    index = {
        "a file": docs / "a.txt" / "index",
        "a pipe": tmp_path / "pipe" / "index",
        "/proc": Path("/proc/self/assistant-index"),
    }[under]
    settings = Settings(index_dir=index, show_progress=False)
    with pytest.raises(InputError) as refused:
        Assistant.from_folder(docs, settings=settings, embedder=FakeEmbedder())
    said = str(refused.value)
    assert said.startswith(f"cannot make the index folder {index} ("), said
    assert said.endswith("choose another index folder (--index-dir or ASSISTANT_INDEX_DIR)")
    assert one_sentence(said[0].upper() + said[1:])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["docs", "pipe"]
    assert [p.name for p in docs.iterdir()] == ["a.txt"]


@pytest.mark.parametrize(
    ("kept", "sent", "shown"),
    [
        ("\u212a.txt", "K.txt", "'[U+212A].txt'"),  # the Kelvin sign, composed to a K
        ("annual  report.txt", "annual report.txt", "'annual [U+0020]report.txt'"),
    ],
)
def test_a_lookalike_of_a_name_no_upload_can_take_says_what_can_be_done(
    tmp_path: Path, kept: str, sent: str, shown: str
) -> None:
    """An upload drawn like a document put straight into the folder is refused, "upload it
    as 'K.txt' to replace that document": but that was the name sent, and no upload can
    take the document's own name (an upload's name is composed, its spaces one). The
    sentence now says to remove that document first, or rename the file; nothing written."""
    bot = fake_bot(tmp_path, {kept: "The kiln fires at dawn.\n"})
    with pytest.raises(InputError) as refused:
        bot.add_document(sent, b"The kiln fires at dusk.\n")
    said = str(refused.value)
    assert said == (
        f"The name '{sent}' looks the same as the document {shown}, whose name no upload can "
        "take: remove that document first to replace it, or rename the file"
    )
    assert one_sentence(said)
    assert [p.name for p in (tmp_path / "docs").iterdir()] == [kept]
