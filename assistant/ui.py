"""The web chat: a thin Gradio view over `Assistant`.

Nothing here retrieves or composes: every answer comes from `Assistant.stream` / `ask`, every
document change from `add_document` / `remove_document`. This module only turns those values
into HTML a person can check (numbered sources, the quoted sentence highlighted inside its
passage) and turns `AssistantError` into a message on the page.

gradio is imported inside the functions that need it, so importing `assistant` stays fast.

    from assistant.ui import build_app, launch
    demo = build_app(bot)
    launch(demo, port=7860)                      # http://127.0.0.1:7860

The same app serves a JSON API (see `gradio_client`):

    Client(url).predict("How much has Amazon invested in Anthropic?", api_name="/ask")
    Client(url).predict([handle_file("a.txt")], api_name="/upload")  # returns once indexed

Uploads from the page are indexed in the background (`_Indexer`; one of 256 KB or more in a
child process, assistant/indexchild.py) while the page shows their progress; questions
meanwhile read the documents as they were. Messages are HTML built
here with every text escaped, never Markdown (see `_html`).
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import collections
import contextlib
import functools
import hashlib
import hmac
import html
import itertools
import json
import logging
import math
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
import unicodedata
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from .answer.injection import FLAG_NOTE
from .answer.registry import available_backends, backend_descriptions
from .api import (
    ClientLoad,
    CrossSiteWrites,
    ForwardedAddress,
    HttpMiddleware,
    LoginThrottle,
    LoopbackHosts,
    OneBodyLength,
    RequestsPerClient,
    ThrottledLogins,
    client_address,
    generation_gate,
    is_logout,
    is_loopback,
    quiet_stream_errors,
    release,
    replaced_headers,
    send_json,
    trusted_list,
)
from .embedding import one_core
from .errors import AnswerBackendError, AssistantError, InputError, StartingError, require
from .indexchild import ChildRunner, can_index_in_child
from .ingest.loaders import SUPPORTED_SUFFIXES
from .schema import Answer, Chunk, Citation, Hit, SyncReport
from .store import safe_filename
from .text import SHOWN_AS_CODE, as_code_points, drawn_alike

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    import gradio as gr
    from starlette.routing import BaseRoute

    from .pipeline import Assistant
    from .schema import SourceInfo
    from .settings import Settings
    from .startup import StartupProgress

__all__ = [
    "CSS",
    "EXAMPLES",
    "PAGE_POLICY",
    "UPLOAD_TYPES",
    "LoginThrottle",
    "UploadBudget",
    "build_app",
    "copy_text",
    "input_problem",
    "launch",
    "offered_modes",
    "page_policy",
    "remote_file_path",
    "render_answer",
    "render_documents",
    "render_refusal",
    "serve",
    "well_formed",
]

TITLE = "Ask your documents"
SUBTITLE = (
    "Answers are copied from your documents, and every sentence cites its source. Runs offline."
)
EXAMPLES = (
    "How much has Amazon invested in Anthropic?",
    "Is Amazon's stake in Anthropic exclusive?",
    "Which documents mention Alexa?",
    "What was Anthropic's revenue last year?",
)
UPLOAD_TYPES = sorted(SUPPORTED_SUFFIXES)  # what the loaders read, nothing else
_CONCURRENCY = 4  # questions answered at once; more would only queue on 2 CPU cores

# Light touches only: the default theme does the rest.
CSS = """
#header h1 { margin-bottom: 0.1rem; }
#header p { margin-top: 0; color: var(--body-text-color-subdued); }
.sources, .related { font-size: 0.92em; }
.sources-title { font-weight: 600; margin: 0 0 0.35rem 0; }
.searched { color: var(--body-text-color-subdued); margin-bottom: 0.4rem; }
details.citation { border: 1px solid var(--border-color-primary); border-radius: 6px;
  padding: 0.3rem 0.6rem; margin: 0.3rem 0; background: var(--background-fill-primary); }
details.citation summary { cursor: pointer; }
details.citation[open] summary { margin-bottom: 0.35rem; }
.cite-n { display: inline-block; min-width: 1.6em; font-weight: 600;
  color: var(--color-accent); }
.cite-file { font-weight: 600; }
.cite-loc { color: var(--body-text-color-subdued); }
.passage { white-space: normal; line-height: 1.5; }
.passage mark { background: #fde68a; color: #1f2937; padding: 0 0.1em; border-radius: 2px; }
details.dropped { margin-top: 0.4rem; color: var(--body-text-color-subdued); }
details.dropped summary { cursor: pointer; }
details.dropped del { text-decoration: line-through; }
.notice { color: var(--body-text-color-subdued); font-style: italic; margin-bottom: 0.4rem; }
.refusal { border-left: 4px solid #3b82f6; background: #eff6ff; color: #1e3a5f;
  padding: 0.5rem 0.75rem; border-radius: 4px; }
.docs-title { font-weight: 600; margin-bottom: 0.3rem; }
.docs-empty { color: var(--body-text-color-subdued); margin: 0; }
/* #documents: outrank the prose table styles of gr.HTML */
#documents table.docs { width: 100%; border-collapse: collapse; font-size: 0.9em;
  border: none; margin: 0; }
#documents table.docs tr { border: none; }
#documents table.docs th, #documents table.docs td { border: none; padding: 0.3rem 0.4rem;
  border-bottom: 1px solid var(--border-color-primary); }
#documents table.docs th { text-align: left; font-weight: 600;
  color: var(--body-text-color-subdued); }
#documents table.docs .num { text-align: right; white-space: nowrap; }
#documents table.docs .doc-name { word-break: break-all; }
#status .summary { color: var(--body-text-color-subdued); font-size: 0.85em; }
#status .job { margin: 0.2rem 0; }
#status progress { width: 8em; vertical-align: middle; }
.confirm-title { font-weight: 600; }
#startup .startup-line { border-left: 4px solid #3b82f6; background: #eff6ff; color: #1e3a5f;
  padding: 0.4rem 0.7rem; border-radius: 4px; }
.waiting { color: var(--body-text-color-subdued); font-style: italic; }
.cite-ref { color: var(--color-accent); cursor: pointer; font-weight: 600; }
.cite-ref:hover { text-decoration: underline; }
.cite-ref.flagged, .flag-mark, .flag { color: #b45309; }
.flag { font-size: 0.92em; margin-bottom: 0.3rem; }
.note { color: var(--body-text-color-subdued); font-size: 0.85em; margin-top: 0.3rem; }
.copy-row { margin-top: 0.3rem; }
/* The chat's own styles show <pre> blocks even when marked hidden: the text the copy button
   copies is for the clipboard only. */
#chat .copy-text { display: none !important; }
.copy-answer { font-size: 0.8em; padding: 0.05rem 0.5rem; border-radius: 4px;
  border: 1px solid var(--border-color-primary); background: var(--background-fill-primary);
  color: var(--body-text-color-subdued); cursor: pointer; }
details.citation.opened-by-marker { outline: 2px solid var(--color-accent); }
"""


# ---------------------------------------------------------------- rendering (pure)

# The chat renders messages as HTML, never as Markdown (Chatbot(render_markdown=False)): a
# document's "![logo](http://...)" or "[text](https://...)" must stay the text it is, since a
# live image would make the browser fetch it (data leaving the machine) and the shown sentence
# would no longer equal its quote. So every piece of text goes through _html.


# Bidi controls and marks, and control characters, are shown as code points (text.py's
# SHOWN_AS_CODE) and the text reads as it is stored. In a file name, invisible characters also
# make one name look like another ("al\u200bexa.txt"): see _shown_name.
_SHOWN = SHOWN_AS_CODE
# Letters drawn as nothing (Hangul fillers, the braille blank, the grapheme joiner), beside
# the kinds of character _hidden_in_name names.
_BLANK_LETTERS = frozenset("\u034f\u115f\u1160\u2800\u3164\uffa0")


def _visible(s: str, hidden: frozenset[str] = _SHOWN) -> str:
    """Example: _visible("\u202egpj.exe.txt") -> "[U+202E]gpj.exe.txt";
    _visible("a\x07b") -> "a[U+0007]b" """
    return as_code_points(s, hidden)


def _html(s: str) -> str:
    """Text as HTML: escaped, line breaks kept, bidi and control characters shown rather than
    obeyed.

    Example: _html("a <b> ![x](http://h/p.png)\nc") -> "a &lt;b&gt; ![x](http://h/p.png)<br>c"
    """
    return html.escape(_visible(s), quote=False).replace("\r", "").replace("\n", "<br>")


def _hidden_in_name(c: str) -> bool:
    """Is c a character a file name may hold that the page would not show as itself: a
    control or format character (a bell, a zero-width space, a bidi control), a line break,
    a space other than the plain one, a private or unassigned code point, a blank letter?

    Example: _hidden_in_name("\x07") -> True; _hidden_in_name("\u00a0") -> True;
             _hidden_in_name("é") -> False; _hidden_in_name(" ") -> False
    """
    kind = unicodedata.category(c)
    return (
        kind in ("Cc", "Cf", "Co", "Cn", "Zl", "Zp")
        or (kind == "Zs" and c != " ")
        or c in _BLANK_LETTERS
    )


def _drawn_as_latin(source: str) -> frozenset[int]:
    """The places in source of letters drawn like Latin ones (a Cyrillic а, a ligature ﬁ)
    in a word that also holds Latin letters, and of full-width Latin letters anywhere:
    "\u0430nnual" and "ａｎｎｕａｌ" pass for "annual", while a word all in Cyrillic
    ("отчет") is a name in its own script.

    Example: _drawn_as_latin("\u0430nnual.txt") -> frozenset({0});
             _drawn_as_latin("ａb.txt") -> frozenset({0});
             _drawn_as_latin("отчет.txt") -> frozenset()
    """
    at = {i for i, c in enumerate(source) if "\uff21" <= c <= "\uff5a"}
    for word in _LETTERS.finditer(source):
        if any(c.isascii() for c in word.group()):
            at.update(
                word.start() + i
                for i, c in enumerate(word.group())
                if not c.isascii() and drawn_alike(c).isascii()
            )
    return frozenset(at)


_LETTERS = re.compile(r"[^\W\d_]+")


def _undrawn_spaces(source: str) -> frozenset[int]:
    """The places in source of the spaces a page collapses: a space that leads or ends it,
    or follows another space ("annual  report.txt" is drawn as "annual report.txt", another
    document's name).

    Example: _undrawn_spaces("a  b.txt") -> frozenset({2}); _undrawn_spaces(" a.txt") ->
             frozenset({0}); _undrawn_spaces("a b.txt") -> frozenset()
    """
    return frozenset(
        i
        for i, c in enumerate(source)
        if c == " " and (i == 0 or i == len(source) - 1 or source[i - 1] == " ")
    )


def _shown_name(source: str) -> str:
    """A file name as plain text with every character the page would not show as itself
    written as its code point, and so is every letter drawn like a Latin one in a word of
    Latin letters, and every space the page would not draw (one that leads or ends the
    name, or follows another), so that no name can pass for another.

    Example: _shown_name("al\u200bexa.txt") -> "al[U+200B]exa.txt";
             _shown_name("notes\x07.txt") -> "notes[U+0007].txt";
             _shown_name("\u0430nnual.txt") -> "[U+0430]nnual.txt";
             _shown_name("annual  report.txt") -> "annual [U+0020]report.txt"
    """
    alike = _drawn_as_latin(source) | _undrawn_spaces(source)
    if not alike and not any(map(_hidden_in_name, source)):
        return source
    return "".join(
        f"[U+{ord(c):04X}]" if i in alike or _hidden_in_name(c) else c for i, c in enumerate(source)
    )


def _name(source: str) -> str:
    """A file name as HTML, every invisible character shown (`_shown_name`).

    Example: _name("al\u200bexa.txt") -> "al[U+200B]exa.txt"; _name("<b>.txt") ->
             "&lt;b&gt;.txt" """
    return html.escape(_shown_name(source), quote=False)


_text = _html  # a message's text: the same escaping (kept as a name the handlers read well)
_MARKER = re.compile(r"\[(\d+)\]")


def _location(source: str, start: int, end: int, page: int | None, locator: str = "") -> str:
    # A loader's locator ("slide 3", "sheet Sales, row 5") is what a person can find. It
    # holds document text (a heading, a sheet's name), so it is escaped like the rest.
    where = locator or (f"page {page}" if page else f"characters {start:,}–{end:,}")
    return (
        f'<span class="cite-file">{_name(source)}</span> '
        f'<span class="cite-loc">· {_html(where)}</span>'
    )


def _passage(citation: Citation, chunk: Chunk | None) -> str:
    """The citation's passage with the quoted span marked; just the quote if it is gone."""
    quote = f"<mark>{_html(citation.quote)}</mark>"
    if chunk is None or chunk.source != citation.source:
        return quote
    a, b = citation.start - chunk.start, citation.end - chunk.start
    if not (0 <= a <= b <= len(chunk.text)) or chunk.text[a:b] != citation.quote:
        # Offsets should always agree; if not, find the quote rather than mark the wrong text.
        a = chunk.text.find(citation.quote)
        if a < 0:
            return quote
        b = a + len(citation.quote)
    before = ("…" if chunk.start > 0 else "") + chunk.text[:a]
    return f"{_html(before)}{quote}{_html(chunk.text[b:])}"


def _searched(answer: Answer) -> str:
    if answer.query == answer.question:
        return ""
    return f'<div class="searched">Searched for: “{_html(answer.query)}”</div>'


def _notes(answer: Answer) -> str:
    return "".join(f'<div class="note">ℹ {_html(n)}</div>' for n in answer.notes)


def _with_markers(text: str, citations: Sequence[Citation]) -> str:
    """Answer text as HTML, each [n] of a citation a clickable marker that opens source n (a
    flagged one marked ⚠).

    A "[2]" inside a quoted sentence is the document's own text, not a marker: a document
    writing "The vault is certified safe [2]." must not show its claim as cited to
    source 2 (another document), so it stays plain text.

    Example: "Amazon invested $8 billion. [1]" -> 'Amazon invested $8 billion. <span
             class="cite-ref" title="Show source 1">[1]</span>';
             "Safe [2]. [1]", quoting "Safe [2].", -> 'Safe [2]. <span class="cite-ref"
             title="Show source 1">[1]</span>'
    """
    flags = {c.n: c.flag for c in citations}
    quoted = _quoted_spans(text, citations)
    out, at = [], 0
    for m in _MARKER.finditer(text):
        n = int(m.group(1))
        if n not in flags or any(a <= m.start() < b for a, b in quoted):
            continue
        out.append(_html(text[at : m.start()]))
        if flags[n]:
            tip = html.escape(f"Show source {n}: it {FLAG_NOTE}")  # an attribute: quotes too
            out.append(f'<span class="cite-ref flagged" title="{tip}">[{n}] ⚠</span>')
        else:
            out.append(f'<span class="cite-ref" title="Show source {n}">[{n}]</span>')
        at = m.end()
    out.append(_html(text[at:]))
    return "".join(out)


def _quoted_spans(text: str, citations: Sequence[Citation]) -> list[tuple[int, int]]:
    """Where text repeats a citation's quote (start, end): the document's own words.

    Example: _quoted_spans("Safe [2]. [1]", [Citation(n=1, quote="Safe [2].", ...)]) -> [(0, 9)]
    """
    spans = []
    for quote in {c.quote for c in citations if _MARKER.search(c.quote)}:
        at = text.find(quote)
        while at >= 0:
            spans.append((at, at + len(quote)))
            at = text.find(quote, at + len(quote))
    return spans


def copy_text(answer: Answer) -> str:
    """What the copy button copies: the answer as plain text, then its numbered sources,
    with bidi and control characters written as the page shows them: a document's
    "\x1b[201~" (the end of a terminal's bracketed paste) pasted into a shell would run
    what follows it, and the clipboard must hold what the page showed.

    Example: "Amazon invested $8 billion. [1]\n\nSources:\n[1] a.txt, characters 120–170:
             “Amazon has invested $8 billion in Anthropic.”";
             a quote "Run \x1b[201~ls" -> "… “Run [U+001B][201~ls”"
    """
    lines = [answer.text]
    if answer.citations:
        lines += ["", "Sources:"]
        for c in answer.citations:
            where = c.locator or (f"page {c.page}" if c.page else f"characters {c.start}–{c.end}")
            flag = f" (⚠ {FLAG_NOTE})" if c.flag else ""
            quote = " ".join(c.quote.split())
            lines.append(f"[{c.n}] {_shown_name(c.source)}, {where}: “{quote}”{flag}")
    lines += ["", *(f"Note: {n}" for n in answer.notes)] if answer.notes else []
    return _visible("\n".join(lines))


def _copy_button(text: str) -> str:
    # The copied text rides along hidden; newlines as entities so it stays one HTML block.
    hidden = html.escape(text, quote=False).replace("\r", "").replace("\n", "&#10;")
    return (
        '<div class="copy-row"><button class="copy-answer" type="button" '
        'title="Copy the answer and its sources as plain text">Copy</button>'
        f'<pre class="copy-text" hidden>{hidden}</pre></div>'
    )


def render_answer(answer: Answer, chunk: Callable[[str], Chunk | None]) -> tuple[str, str]:
    """The answer as (message HTML, sources HTML) for the chat.

    The message is the answer text (escaped, never Markdown) with clickable [n] markers, any
    notes, and a copy button that copies plain text; the sources are one expandable entry per
    citation: number, file, page or characters, and the passage with the quoted sentence
    marked, plus a warning when the quote reads as an instruction to the assistant.
    """
    entries = []
    for c in answer.citations:
        passage = _passage(c, chunk(c.chunk_id) if c.chunk_id else None)
        warn, flag = "", ""
        if c.flag:
            warn = ' <span class="flag-mark" title="reads as an instruction">⚠</span>'
            flag = f'<div class="flag">⚠ This passage {_html(FLAG_NOTE)} ({_html(c.flag)}).</div>'
        entries.append(
            '<details class="citation">'
            f'<summary><span class="cite-n">[{c.n}]</span> '
            f"{_location(c.source, c.start, c.end, c.page, c.locator)}{warn}</summary>"
            f'{flag}<div class="passage">{passage}</div></details>'
        )
    sources = ""
    checked = _notice(answer) + _dropped(answer)
    if entries or _searched(answer) or checked:
        title = '<div class="sources-title">Sources</div>' if entries else ""
        sources = (
            f'<div class="sources">{_searched(answer)}{title}{"".join(entries)}{checked}</div>'
        )
    body = (
        f'<div class="answer">{_with_markers(answer.text, answer.citations)}</div>'
        f"{_notes(answer)}{_copy_button(copy_text(answer))}"
    )
    return body, sources


def _notice(answer: Answer) -> str:
    return f'<div class="notice">{_html(answer.notice)}</div>' if answer.notice else ""


def _dropped(answer: Answer) -> str:
    """The sentences the check removed, struck through with their reasons, folded away until
    asked for."""
    if not answer.dropped:
        return ""
    items = "".join(
        f"<li><del>{_html(d.sentence)}</del> <span>({_html(d.reason)})</span></li>"
        for d in answer.dropped
    )
    n = len(answer.dropped)
    return (
        f'<details class="dropped"><summary>Removed by the check: {n} sentence'
        f"{'s' if n != 1 else ''} the documents do not support</summary><ul>{items}</ul>"
        "</details>"
    )


def _related(hits: Sequence[Hit]) -> str:
    entries = []
    for h in hits:
        c = h.chunk
        entries.append(
            '<details class="citation">'
            f"<summary>{_location(c.source, c.start, c.end, c.page, c.locator)}</summary>"
            f'<div class="passage">{_html(c.text)}</div></details>'
        )
    return "".join(entries)


def render_refusal(answer: Answer) -> tuple[str, str]:
    """A refusal as (info box HTML, related reading HTML): visibly not an answer."""
    box = (
        f'<div class="refusal">ℹ {_html(answer.text)}</div>{_notes(answer)}'
        f"{_copy_button(copy_text(answer))}"
    )
    extra = _searched(answer)
    if answer.related:
        extra += '<div class="sources-title">Related reading (not an answer)</div>' + _related(
            answer.related
        )
    return box, (f'<div class="related">{extra}</div>' if extra else "")


# Documents the page lists (the table and the remove list; the count is always whole): a
# folder of 100,000 small files sent 17.8 MB to every page load (13.6 MB of table rows, 4.2
# MB of remove choices), and the browser took 87 s and 600,000 elements to show them.
_DOCUMENTS_LISTED = 1000


def render_documents(sources: Sequence[SourceInfo], limit: int = _DOCUMENTS_LISTED) -> str:
    """The indexed documents as a small HTML table (name, type, size, passages, pages): the
    first `limit` (by name), and a line for the rest.

    Example: 1,500 sources -> "Documents (1500)", 1,000 rows, "… and 500 more, not listed
             here (the first 1,000 by name are): ask about them, or type a name to remove it."
    """
    if not sources:
        return (
            '<div class="docs-title">Documents</div>'
            '<p class="docs-empty">No documents yet: drop some files below.</p>'
        )
    rows = "".join(
        f'<tr><td class="doc-name">{_name(s.source)}</td><td>{_html(s.kind)}</td>'
        f'<td class="num">{_size(s.size)}</td><td class="num">{s.chunks}</td>'
        f'<td class="num">{s.pages or "–"}</td></tr>'
        for s in sources[:limit]
    )
    more = (
        f'<p class="docs-empty">… and {len(sources) - limit:,} more, not listed here (the '
        f"first {limit:,} by name are): ask about them, or type a name to remove it.</p>"
        if len(sources) > limit
        else ""
    )
    return (
        f'<div class="docs-title">Documents ({len(sources)})</div>'
        '<table class="docs"><thead><tr><th>Name</th><th>Type</th><th class="num">Size</th>'
        f'<th class="num">Passages</th><th class="num">Pages</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>{more}"
    )


def _remove_choices(
    sources: Sequence[SourceInfo], limit: int = _DOCUMENTS_LISTED
) -> list[tuple[str, str]]:
    """The remove list's (label, name) pairs, each label with its invisible characters shown:
    the first `limit` documents (the list takes any name typed in, and the bot checks it).

    Example: [SourceInfo("al\u200bexa.txt", ...)] -> [("al[U+200B]exa.txt", "al\u200bexa.txt")]
    """
    return [(_shown_name(s.source), s.source) for s in sources[:limit]]


def _message(exc: Exception) -> str:
    """An error message as one sentence for the page (a leading plain word capitalised, a
    leading file name left as it is).

    Example: "the question is empty: ..." -> "The question is empty: ..."
    """
    return _plain(str(exc).strip() or exc.__class__.__name__)


def _plain(text: str) -> str:
    """A message as one sentence for the page: a leading plain word capitalised.

    Example: "a.txt is empty" -> "a.txt is empty"; "indexing stopped" -> "Indexing stopped"
    """
    first = text.split(" ", 1)[0]
    return text[0].upper() + text[1:] if first.isalpha() and first.islower() else text


def _toast(message: str) -> str:
    # Gradio renders toast and error messages as HTML; file names must stay text, their
    # control characters shown.
    return html.escape(_visible(message), quote=False)


def _size(n: int) -> str:
    """Example: _size(512) -> "512 bytes"; _size(3424) -> "3.3 KB" """
    if n < 1024:
        return f"{n} bytes"
    kb = n / 1024
    return f"{kb:.1f} KB" if kb < 1024 else f"{kb / 1024:.1f} MB"


_MAX_K = 50  # passages one /ask may read; the page's slider stops at 10


# Answer modes that send the question and passages to a provider beyond this machine. The
# web chat offers one only when the server was started with it (--llm, ASSISTANT_LLM or
# --mode): a provider key in the environment (OPENAI_API_KEY, set for other tools) must not
# let any visitor of the page send the documents to that provider, on the owner's account.
_OFF_MACHINE_MODES = frozenset({"openai", "anthropic"})


def offered_modes(settings: Settings) -> tuple[str, ...]:
    """The answer modes the web chat offers: every registered one, except those that send
    the documents off the machine unless the server's own mode is that one.

    Example: Settings() -> ("extractive", "ollama", "local");
             Settings(llm="openai:gpt-4o-mini") -> ("extractive", "openai", "ollama", "local")
    """
    return tuple(
        m for m in available_backends() if m not in _OFF_MACHINE_MODES or m == settings.answer_mode
    )


def _check_mode(mode: str | None, settings: Settings) -> None:
    """InputError (one sentence) for an off-machine mode the server was not started with."""
    if mode and mode in _OFF_MACHINE_MODES and mode != settings.answer_mode:
        raise InputError(
            f"the {mode!r} answer mode would send your documents to a provider outside this "
            f"machine, and this server was not started with it: ask without a mode, or start "
            f"the server with --llm {mode}"
        )


def _ask_args(question: Any, k: Any, mode: Any) -> tuple[str, int | None, str | None]:
    """/ask's arguments as the bot takes them; InputError (one sentence) for a kind of value
    the page never sends, rather than a TypeError from deep inside.

    Example: _ask_args("Who?", 3.0, "") -> ("Who?", 3, None); _ask_args(None, None, None) ->
             ("", None, None) (the bot then says the question is empty)
    """
    if question is None:
        question = ""
    if not isinstance(question, str):
        raise InputError("the question must be text: send it as a string")
    if isinstance(k, float) and k.is_integer():
        k = int(k)
    if k is not None and (isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= _MAX_K):
        raise InputError(f"the number of passages (k) must be a whole number from 1 to {_MAX_K}")
    if mode is not None and not isinstance(mode, str):
        raise InputError("the answer mode must be text: leave it empty for the server's mode")
    return question, k, mode or None


def _history(value: Any) -> list[dict[str, str]]:
    """Chat history from an API caller: a list of {role, content} messages (or [user,
    assistant] pairs), or the same as a JSON string; None or "" for none."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise InputError(f"history is not valid JSON: {exc.msg}") from exc
        except RecursionError as exc:
            raise InputError(
                "history is nested too deeply: send a list of {role, content} messages"
            ) from exc
    if not isinstance(value, list):
        raise InputError("history must be a list of {role, content} messages")
    messages: list[dict[str, str]] = []
    for item in value:
        if isinstance(item, dict) and item.get("role") in ("user", "assistant"):
            messages.append({"role": str(item["role"]), "content": str(item.get("content", ""))})
        elif isinstance(item, list | tuple) and len(item) == 2:
            messages += [
                {"role": "user", "content": str(item[0] or "")},
                {"role": "assistant", "content": str(item[1] or "")},
            ]
        else:
            raise InputError("history must be a list of {role, content} messages")
    return messages


# ---------------------------------------------------------------- uploads in the background


@dataclass
class _Job:
    """One upload on its way into the index (mutated only by the indexer's thread)."""

    id: int
    name: str  # as uploaded
    target: str = ""  # the document it becomes (safe_filename(name))
    client: str = ""  # the address it came from, as the per-client limits count it
    size: int = 0  # bytes, as spooled while it waits
    stage: str = "waiting"  # "waiting", "chunk", "embed", ... as the collection reports
    fraction: float = 0.0
    done: bool = False
    ok: bool = False
    message: str = ""  # one plain sentence once done
    details: str = ""  # what a curious person may open
    finished: threading.Event = field(default_factory=threading.Event, repr=False)

    def line(self) -> str:
        """The job as one line of status HTML a person reads at a glance."""
        name = f"<b>{_name(self.name)}</b>"
        if not self.done:
            if self.stage == "waiting":
                return f'<div class="job">⏳ {name}: waiting to be indexed…</div>'
            pct = round(self.fraction * 100)
            return (
                f'<div class="job">⏳ {name}: indexing, {pct}% '
                f'<progress max="100" value="{pct}"></progress> '
                '<span class="summary">(questions still use the documents as they were)</span>'
                "</div>"
            )
        if not self.ok:
            return f'<div class="job failed">⚠ {name} was not added: {_html(self.message)}</div>'
        saved = self.target or safe_filename(self.name)  # saved, so its name is valid
        same = unicodedata.normalize("NFC", saved) == unicodedata.normalize("NFC", self.name)
        added = "added" if same else f"added as “{_name(saved)}”"
        return (
            f'<div class="job">✓ {name} {added}: ask about it now.'
            f'<details class="summary"><summary>Details</summary>{_html(self.details)}'
            "</details></div>"
        )


def _plain_report(report: SyncReport) -> str:
    """A sync report in words, for the Details of an upload.

    Example: 2 passages embedded, 6 in the index, 1.24 s in all -> "Split into 2 passages;
             the documents now hold 6 passages. Took 1.2 seconds."
    """
    seconds = sum(report.seconds.values())
    return (
        f"Split into {report.chunks_embedded} passage{'s' * (report.chunks_embedded != 1)}; "
        f"the documents now hold {report.chunks_total} passages. Took {seconds:.1f} seconds."
    )


# Uploads at least this big are indexed in a child process (indexchild.py); smaller ones
# in-process, where they take a fraction of a second: a child first spends a few seconds
# importing and loading the model, which a small note should not wait for.
_CHILD_FROM_BYTES = 256 * 1024
# Uploads waiting for their turn, from every visitor: a burst of thousands of tiny files
# (1,000 per request) would otherwise queue without end, each a copy on disk.
_MAX_WAITING = 100
# The longest a removal waits for the upload being indexed (a small one takes a second).
_REMOVAL_WAIT = 5.0


class _Indexer:
    """Indexes uploads one at a time in the background, so a large upload never holds a
    request open or a question slot: questions meanwhile read the Assistant's previous
    snapshot, swapped whole when the upload is indexed.

    An upload of `child_from` bytes or more is indexed in a child process at a lower
    priority (indexchild.py), which shares neither the server's interpreter lock nor its
    memory; the server takes the child's commit as it takes any other process's. Smaller
    uploads, and every upload where a child cannot index for this bot (an in-memory store,
    an embedder handed in by code: indexchild.can_index_in_child), are indexed on this
    object's thread. Uploads wait in one queue either way, so two never index at once.

    The queue takes each client's uploads in turn (its own in the order sent), and one
    client may have at most `max_waiting_per_client` of the `max_waiting` that may wait: a
    client sending a hundred slow files (a scanned PDF may take minutes of OCR) made every
    other visitor's upload wait for all of them, or be refused while they waited.
    """

    _KEEP = 500  # finished jobs remembered for their pages; older ones are forgotten

    def __init__(
        self,
        bot: Assistant,
        *,
        child_from: int | None = _CHILD_FROM_BYTES,
        max_waiting: int = _MAX_WAITING,
        max_waiting_per_client: int | None = None,
    ) -> None:
        self.bot = bot
        self.child_from = child_from  # None: never a child process
        self.max_waiting = max_waiting
        # Three quarters by default: a folder of files dropped at once still goes in whole,
        # and others' uploads always find room.
        self.max_waiting_per_client = max_waiting_per_client or max(1, max_waiting * 3 // 4)
        self._jobs: dict[int, _Job] = {}
        # Waiting uploads by client, and the turn at which each was last served.
        self._waiting: dict[str, collections.deque[tuple[_Job, Path]]] = {}
        self._served: dict[str, int] = {}
        self._turns = itertools.count()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._queued = threading.Condition(self._lock)  # an upload joined the queue
        self._removed = threading.Condition(self._lock)  # a removal has finished
        self._removing: set[str] = set()  # documents being removed right now
        self._current: _Job | None = None  # the upload being indexed, if any
        self._idle = threading.Condition(self._lock)  # the indexer finished an upload
        self._thread: threading.Thread | None = None
        self._spool: Path | None = None
        self._children = ChildRunner()

    def submit(
        self, name: str, content: bytes | Path, client: str = "", *, fresh: bool = False
    ) -> int:
        """Queue an upload (its bytes, or a file holding them, copied now: a temporary
        upload may go away before its turn) from `client` (an address). Raises OSError when
        that file cannot be read, InputError when `max_waiting` uploads already wait (each
        waits as a copy on disk), or `max_waiting_per_client` of this client's.

        `fresh`: the upload was not asked to replace anything, so InputError also when an
        upload that becomes the same document waits or is being indexed, or that document's
        file is in the folder, checked as it joins the queue: two visitors' uploads of one
        name sent at once were both queued, the second silently replacing the first.
        """
        with self._lock:
            waiting = sum(not j.done for j in self._jobs.values())
            theirs = sum(not j.done and j.client == client for j in self._jobs.values())
        if waiting >= self.max_waiting:
            raise InputError(
                f"{waiting} uploads are already waiting to be indexed: upload it again once "
                "they are done"
            )
        if theirs >= self.max_waiting_per_client:
            raise InputError(
                f"{theirs} of your uploads are already waiting to be indexed: upload it again "
                "once they are done"
            )
        size = content.stat().st_size if isinstance(content, Path) else len(content)
        job = _Job(next(self._ids), name, safe_filename(name), client=client, size=size)
        spool = self._spool_dir()
        with self._lock:  # checked and counted at once: two uploads never both pass
            problem = (fresh and self._clash(job.target)) or self._over(client, size, spool)
            if not problem:
                self._jobs[job.id] = job
        if problem:
            raise InputError(problem)
        spooled = spool / f"upload-{job.id}"
        try:
            if isinstance(content, Path):
                shutil.copyfile(content, spooled)
            else:
                spooled.write_bytes(content)
        except OSError:
            with contextlib.suppress(OSError):
                spooled.unlink()
            with self._lock:
                del self._jobs[job.id]
            raise
        with self._lock:
            finished = [i for i, j in self._jobs.items() if j.done]
            for old in finished[: max(0, len(self._jobs) - self._KEEP)]:
                del self._jobs[old]
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="indexer", daemon=True)
                self._thread.start()
            self._waiting.setdefault(client, collections.deque()).append((job, spooled))
            self._queued.notify()
        return job.id

    def pending(self, target: str) -> bool:
        """Does an upload that becomes the document `target` wait or is it being indexed?"""
        with self._lock:
            return self._uploading(target)

    def _uploading(self, target: str) -> bool:
        # Called holding the lock: pending(), for a caller that checks more at once.
        return any(not j.done and j.target == target for j in self._jobs.values())

    def _clash(self, target: str) -> str:
        # Called holding the lock. A job's file is written before it is marked done (under
        # the lock), so no upload of `target` can slip between these two checks.
        shown = _shown_name(target)
        if self._uploading(target):
            return (
                f"another upload of {shown} is being added right now: upload it again once "
                "it is done, to replace it"
            )
        # Indexed since the page's check. A file of the folder the index does not list is
        # refused by the upload itself (Collection.add_document); the snapshot in hand is
        # read, not followed: follow() may wait for the collection's lock, and this holds
        # the indexer's.
        if any(s.source == target for s in self.bot.collection.sources()):
            return f"{shown} was added meanwhile by another upload: upload it again to replace it"
        return ""

    def _over(self, client: str, size: int, spool: Path) -> str:
        # Called holding the lock. Waiting uploads are copies in the spool, which the upload
        # route's budget no longer counts (Gradio's copy is deleted once queued): they are
        # held to the same figures, and to the free-disk floor of the spool's disk.
        settings = self.bot.settings
        waiting = [j for j in self._jobs.values() if not j.done]
        theirs = sum(j.size for j in waiting if j.client == client)
        if theirs + size > settings.upload_waiting_bytes_per_client:
            return (
                f"your uploads waiting to be indexed come to {_size(theirs)} (at most "
                f"{_size(settings.upload_waiting_bytes_per_client)}): upload it again once "
                "they are done"
            )
        if sum(j.size for j in waiting) + size > settings.upload_waiting_bytes:
            return (
                "the uploads waiting to be indexed take all the room kept for them "
                f"({_size(settings.upload_waiting_bytes)}): upload it again once they are done"
            )
        return _disk_refusal(spool, size, settings.min_free_disk_bytes)

    def _next(self) -> tuple[_Job, Path]:
        """The next upload to index: the first waiting one of the client served longest ago
        (one not served since its uploads began to wait first, in the order they came);
        waits for one."""
        with self._lock:
            while not self._waiting:
                self._queued.wait()
            client = min(self._waiting, key=lambda c: self._served.get(c, -1))
            uploads = self._waiting[client]
            taken = uploads.popleft()
            if not uploads:
                del self._waiting[client]
            # Remembered while it is served or has uploads waiting; others are forgotten.
            self._served = {c: turn for c, turn in self._served.items() if c in self._waiting} | {
                client: next(self._turns)
            }
            return taken

    def remove(self, source: str, wait: float = _REMOVAL_WAIT) -> SyncReport:
        """bot.remove_document(source), unless an upload of that name waits or is being
        indexed: InputError then. An upload of that name queued meanwhile waits for it.

        A big upload is indexed in a child process, which the bot's own lock does not hold
        back: a removal of its name meanwhile deleted the file the child had just written
        (the page then said "added" for a document that was gone), or was undone when the
        child, failing, put the file it replaced back.

        Nor does a removal wait behind an upload of another name: it waits `wait` seconds at
        most for the upload being indexed, else it is refused in one sentence. It waited for
        the whole upload (the child holds the folder's lock; an in-process one the bot's), so
        a 2.3 MB upload held a removal for 153 s, and with it the page's one slot for
        document changes: every visitor's uploads and removals queued behind it. No upload
        starts while a removal runs.
        """
        with self._lock:
            if self._uploading(source):
                raise InputError(
                    f"{source} is being uploaded right now: remove it once its upload is done"
                )
            self._removing.add(source)  # the indexer starts nothing new meanwhile
            busy = self._current
            if busy is not None and not self._idle.wait_for(
                lambda: self._current is None, timeout=wait
            ):
                self._removing.discard(source)
                self._removed.notify_all()
                pct = round(busy.fraction * 100)
                raise InputError(
                    f"an upload ({_shown_name(busy.name)}, {pct}% indexed) is being indexed "
                    f"right now: remove {_shown_name(source)} once it is done"
                )
        try:
            return self.bot.remove_document(source)
        finally:
            with self._lock:
                self._removing.discard(source)
                self._removed.notify_all()

    def jobs(self, ids: Sequence[int]) -> list[_Job]:
        with self._lock:
            return [self._jobs[i] for i in ids if i in self._jobs]

    def wait(self, ids: Sequence[int]) -> None:
        """Block until these jobs are done (for API callers, who have no page to poll)."""
        for job in self.jobs(ids):
            job.finished.wait()

    def close(self) -> None:
        """Stop a running child (ChildRunner.close says what that leaves) and remove the
        spooled uploads; called when the server closes."""
        self._children.close()
        with self._lock:
            spool, self._spool = self._spool, None
        if spool is not None:
            shutil.rmtree(spool, ignore_errors=True)

    def _spool_dir(self) -> Path:
        # Uploads wait here, outside the documents folder (as Gradio's own temporary copies
        # do), readable by this user only (mkdtemp makes it 0700).
        with self._lock:
            if self._spool is None or not self._spool.is_dir():
                self._spool = Path(tempfile.mkdtemp(prefix="assistant-uploads-"))
                atexit.register(shutil.rmtree, self._spool, True)
            return self._spool

    def _work(self) -> None:
        # Linux nices one thread (and the threads it starts): questions come first. On top,
        # uploads embed on one core (one_core), so a big one leaves the others to questions.
        with contextlib.suppress(AttributeError, OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        with one_core():
            self._serve_queue()

    def _in_child(self, size: int) -> bool:
        if self.child_from is None or size < self.child_from:
            return False
        try:
            return can_index_in_child(self.bot)
        except AssistantError:  # the index has not loaded (it failed): in-process says why
            return False

    def _serve_queue(self) -> None:
        while True:
            job, spooled = self._next()

            def on_progress(stage: str, fraction: float, job: _Job = job) -> None:
                job.stage, job.fraction = stage, max(0.0, min(1.0, fraction))

            with self._lock:  # a removal, begun before this upload's turn, goes first
                while self._removing:
                    self._removed.wait()
                self._current = job
                job.stage = "indexing"
            try:
                self._index(job, spooled, on_progress)
            except AssistantError as exc:
                job.message = _message(exc)
            except Exception as exc:  # a bug: the page still gets one line; the log the rest
                log.exception("indexing %s failed", job.name)
                job.message = f"indexing failed ({exc.__class__.__name__}); the server log has more"
            finally:
                with contextlib.suppress(OSError):
                    spooled.unlink()
                with self._lock:
                    self._current = None
                    job.done = True
                    self._idle.notify_all()
                job.finished.set()

    def _index(self, job: _Job, spooled: Path, on_progress: Callable[[str, float], None]) -> None:
        _check_room(self.bot, spooled.stat().st_size)
        if self._in_child(spooled.stat().st_size):
            outcome = self._children.index(self.bot, job.name, spooled, on_progress=on_progress)
            if not outcome.fallback:
                job.ok, job.message = outcome.ok, _plain(outcome.message)
                if outcome.report is not None:
                    job.details = _plain_report(outcome.report)
                elif outcome.ok:  # the child ended between its commit and its report
                    job.details = "Its indexing process ended before it reported the details."
                return
            log.warning("indexing uploads in-process from now on: %s", outcome.message)
            self.child_from = None
        report = self.bot.add_document(job.name, spooled.read_bytes(), on_progress=on_progress)
        job.ok, job.details = True, _plain_report(report)


def _check_room(bot: Assistant, size: int) -> None:
    """InputError when saving an upload of `size` bytes would leave the disk of the
    documents folder, or of the index, with less than settings.min_free_disk_bytes free.
    Checked as each upload's turn comes, when the uploads before it are on disk: one visitor
    sending file after file, each under every other limit, could fill the disk.

    Example: with 700 MB free and the default 1 GB kept free -> InputError("the server's
             disk has 700 MB free, and 1,024 MB of it is kept free: ...")
    """
    keep = bot.settings.min_free_disk_bytes
    places = [bot.docs_dir, bot.settings.index_location]
    for place in places:
        if not isinstance(place, Path):
            continue  # no folder, or an index in a database
        problem = _disk_refusal(place, size, keep)
        if problem:
            raise InputError(problem)


def _disk_refusal(place: Path, size: int, keep: int) -> str:
    """The sentence refusing to write `size` bytes at `place` when that would leave its disk
    with less than `keep` bytes free, else "".

    Example: 700 MB free, keep 1 GB -> "the server's disk has 700 MB free, and 1,024 MB ..."
    """
    try:
        free = shutil.disk_usage(place if place.exists() else place.parent).free
    except OSError:
        return ""  # gone meanwhile: the upload says so itself
    if free - size < keep:
        return (
            f"the server's disk has {free >> 20:,} MB free, and {keep >> 20:,} MB of it is "
            "kept free: remove documents, or ask the server's owner to make room"
        )
    return ""


# The page's scripts: [n] markers open their source, and the copy button copies plain text.
# One listener on the document, so it holds for messages rendered later.
_HEAD = """<script>
document.addEventListener('click', (event) => {
  const ref = event.target.closest && event.target.closest('#chat .cite-ref');
  if (ref) {
    const n = (ref.textContent.match(/\\d+/) || [''])[0];
    const all = [...document.querySelectorAll('#chat details.citation')];
    const after = all.filter(
      (d) => ref.compareDocumentPosition(d) & Node.DOCUMENT_POSITION_FOLLOWING);
    const target = after.find((d) => {
      const label = d.querySelector('.cite-n');
      return label && label.textContent.trim() === '[' + n + ']';
    });
    if (target) {
      target.open = true;
      target.scrollIntoView({block: 'nearest', behavior: 'smooth'});
      target.classList.add('opened-by-marker');
      setTimeout(() => target.classList.remove('opened-by-marker'), 1500);
    }
    return;
  }
  const button = event.target.closest && event.target.closest('#chat .copy-answer');
  if (!button) return;
  const source = button.parentElement.querySelector('.copy-text');
  const text = source ? source.textContent : '';
  const done = () => {
    button.textContent = 'Copied';
    setTimeout(() => { button.textContent = 'Copy'; }, 1500);
  };
  const fallback = () => {  // no clipboard API over plain http beyond loopback
    const area = document.createElement('textarea');
    area.value = text; document.body.appendChild(area); area.select();
    try { document.execCommand('copy'); done(); } finally { area.remove(); }
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, fallback);
  } else { fallback(); }
});
</script>"""

_SAVED_MESSAGES = 60  # chat messages kept in the browser (an answer is two or three)


# ---------------------------------------------------------------- the app

_SEAL_FILE = "chat-seal.key"  # in the index folder, beside manifest.json; never sent


def _seal_key(location: str | Path) -> bytes:
    """The key that seals the conversation saved in the browser, known to the server only
    (the page gets _browser_secret, which decrypts it, so anyone who can run a script on
    the chat's address, such as another app served there before, could write a
    conversation of their own): kept in the index folder so that a reload after a restart
    still restores the conversation; for a database whose URL holds a password, derived
    from it; else new in each process.

    Example: _seal_key(Path("index")) -> 32 bytes, the same on every call and every run
    """
    if isinstance(location, Path):
        path = location.expanduser() / _SEAL_FILE
        if (location / "manifest.json").is_file():
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            except OSError:
                return secrets.token_bytes(32)  # a read-only index: sealed for this run
            else:
                with os.fdopen(fd, "w") as fh:
                    fh.write(secrets.token_hex(32) + "\n")
            try:
                key = bytes.fromhex(path.read_text(encoding="ascii").strip())
            except (OSError, ValueError):
                key = b""
            if len(key) == 32:
                return key
        return secrets.token_bytes(32)
    if re.search(r"//[^/@]*:[^/@]+@", location):  # a password: the page never sees it
        return hashlib.sha256(f"assistant-chat-seal\0{location}".encode()).digest()
    return secrets.token_bytes(32)


def _seal(key: bytes, chat: Any, history: Any) -> str:
    """The seal of a saved conversation: an HMAC of its JSON, keys sorted (the browser
    gives back the same values, not the same text).

    Example: _seal(b"k" * 32, [], []) == _seal(b"k" * 32, [], []) != _seal(b"k" * 32, [], [{}])
    """
    data = json.dumps([chat, history], ensure_ascii=True, sort_keys=True, separators=(",", ":"))
    return hmac.new(key, data.encode("ascii"), hashlib.sha256).hexdigest()


def _signed(key: bytes, role: str, text: str) -> str:
    """A chat message's HTML with a hidden mark that says this server wrote it, as role.

    The page sends its whole chat with each question, and the server saved (sealed) what it
    was sent: a client that sent a made-up answer with a question got it back sealed, and a
    script on the chat's address could then plant it in a browser, restored as the
    assistant's. Only messages that carry their mark are saved now (_server_wrote).

    Example: _signed(b"k" * 32, "user", "Hi") -> 'Hi<s hidden class="mark">…32 hex…</s>'
    """
    return f"{text}{_MARK_OPEN}{_mark(key, role, text)}{_MARK_CLOSE}"


def _mark(key: bytes, role: str, text: str) -> str:
    message = f"chat-message\0{role}\0{text}".encode("utf-8", "surrogatepass")
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


_MARK_OPEN, _MARK_CLOSE = '<s hidden class="mark">', "</s>"


def _server_wrote(key: bytes, message: Any) -> bool:
    """Does a chat message, as the page sends it back (its content text, or one text part),
    carry the mark _signed gave it for its role?

    Example: _server_wrote(k, {"role": "user", "content": _signed(k, "user", "Hi")}) -> True;
             the same as "assistant", or with other text, or without the mark -> False
    """
    if not isinstance(message, dict):
        return False
    content = message.get("content")
    if isinstance(content, list) and len(content) == 1 and isinstance(content[0], dict):
        content = content[0].get("text") if content[0].get("type") == "text" else None
    role = message.get("role")
    if not isinstance(content, str) or not isinstance(role, str):
        return False
    at = content.rfind(_MARK_OPEN)
    if at < 0 or not content.endswith(_MARK_CLOSE):
        return False
    mark = content[at + len(_MARK_OPEN) : -len(_MARK_CLOSE)]
    return hmac.compare_digest(
        mark.encode("utf-8", "replace"), _mark(key, role, content[:at]).encode()
    )


def _browser_secret(location: str | Path) -> str:
    """The key the saved conversation is encrypted with in the browser: the same after a
    server restart (gradio's default is new in every process, so a reload after a restart
    found the conversation unreadable and empty), different for another index. The page
    receives it to decrypt, so it hides nothing from the browser's owner; it only keeps one
    index's conversations out of another's page on the same address.

    Example: _browser_secret(Path("index")) -> 64 hex digits, stable across runs
    """
    if isinstance(location, Path):
        where = str(location.expanduser().resolve())
    else:  # a database URL: its password stays out of what the page receives
        where = re.sub(r"//[^/@]*@", "//", location)
    return hashlib.sha256(f"assistant-chat\0{where}".encode()).hexdigest()


def _discard_upload(path: str | Path, upload_folder: str | Path) -> None:
    """Delete Gradio's temporary copy of an uploaded file once it is handled (queued, refused
    or declined), so a document removed from the collection leaves no copy behind in the
    temporary folder. Only a regular file inside `upload_folder` is touched, with the folder
    Gradio made for it when that is left empty; anything else is left alone.

    Example: _discard_upload("/tmp/gradio/ab12/notes.txt", "/tmp/gradio") removes the file
             and /tmp/gradio/ab12; _discard_upload("/etc/hosts", "/tmp/gradio") does nothing
    """
    root = Path(upload_folder).resolve()
    file = Path(path)
    try:
        if file.is_symlink() or not file.is_file():
            return
        file = file.resolve()
        if root not in file.parents:
            return
        file.unlink()
        parent = file.parent
        if parent != root and not any(parent.iterdir()):
            parent.rmdir()
    except OSError:
        pass  # already gone, or not ours to remove: the cache clean-up gets it later


def _untraced(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A file component's check of one file, its gr.Error ("Invalid file type…", which the
    caller still gets) raised without the 31-line traceback Gradio writes to the log for
    each: a visitor sending files of other types in a loop filled the disk."""
    import gradio as gr

    def checked(value: Any) -> Any:
        try:
            return check(value)
        except gr.Error as exc:
            exc.print_exception = False
            raise

    return checked


def build_app(bot: Assistant, *, startup: StartupProgress | None = None) -> gr.Blocks:
    """The chat page and its API (/ask, /sources, /upload, /remove) over one shared bot.

    `bot` is shared by every visitor: Assistant swaps its index atomically and serialises
    uploads, so the handlers need no locking of their own. With `bot.settings.read_only`
    the page has no upload or remove (and neither has the API; the bot refuses them too).

    `startup`: the index is still loading (`serve` builds the chat before it is ready). The
    page then shows the loading progress in one line, and a question asked meanwhile shows
    a plain "one moment" line and is answered once the index is ready.
    """
    require("gradio", extra="ui", feature="the web chat")
    import gradio as gr

    from .pipeline import checked_question

    settings = bot.settings
    writable = not settings.read_only
    indexer = _Indexer(bot, child_from=_CHILD_FROM_BYTES)
    # Closing the server stops an upload's child process (ChildRunner.close says why).
    atexit.register(indexer.close)
    keep_history = 2 * max(settings.max_history_messages, 1)  # the bot bounds it again
    seal = _seal_key(settings.index_location)
    # One language-model answer at a time for every visitor (page, /ask and /v1 alike).
    gate = generation_gate(bot)

    def documents() -> str:
        return render_documents(bot.sources())

    def refresh() -> tuple[str, Any]:
        return documents(), gr.Dropdown(choices=_remove_choices(bot.sources()), value=None)

    # ------------------------------------------------------------ chat

    # What a refused question sends back: nothing. The question stays in the page's box (a
    # long one can be shortened, not retyped) without the server echoing it: a 7 MB question
    # came back twice, 14 MB, as the box's new value and again as the call's result.
    unchanged = (gr.skip(), gr.skip(), gr.skip(), gr.skip())

    def respond(
        question: str,
        chat: list[dict[str, Any]],
        history: list[dict[str, str]],
        k: float,
        mode: str | None,
    ) -> Iterator[tuple[Any, ...]]:
        """Stream one answer into the chat, then replace it with the cited version; the last
        yield also saves the conversation in the browser."""
        try:  # before anything else: the refusal is one toast, whatever the question's size
            checked_question(question, settings.max_question_chars)
        except InputError as exc:
            gr.Warning(_toast(_message(exc)))
            yield unchanged
            return
        chat = list(chat or [])
        history = list(history or [])[-keep_history:]
        if startup is not None and not startup.done:
            # Still loading: say so where the answer will be, and answer once it is ready.
            shown = " ".join(question.split())
            waiting = [*chat, {"role": "user", "content": _html(shown)}, {}]
            while not startup.done:
                waiting[-1] = {"role": "assistant", "content": _waiting_line(startup.line)}
                yield "", waiting, history, gr.skip()
                startup.wait(0.5)
        recent = history
        notice = ""
        try:
            _check_mode(mode, bot.settings)
            pieces: Iterator[str | Answer] = gate.stream(
                bot, question, recent, k=int(k), mode=mode or None
            )
            first = next(pieces)  # the question is checked here: an error leaves chat as it was
        except AnswerBackendError as exc:
            # A language model that is down or misconfigured must not stop the chat: the
            # extractive answer is given, with the reason beside it.
            if (mode or bot.settings.answer_mode) == "extractive":
                gr.Warning(_toast(_message(exc)))
                yield unchanged
                return
            notice = _fallback_notice(exc)
            gr.Warning(_toast(notice))
            pieces = bot.stream(question, recent, k=int(k), mode="extractive")
            first = next(pieces)  # the question passed its check above: this one cannot fail
        except AssistantError as exc:
            gr.Warning(_toast(_message(exc)))
            yield unchanged
            return
        asked = _signed(seal, "user", _html(" ".join(question.split())))
        chat.append({"role": "user", "content": asked})
        chat.append({"role": "assistant", "content": ""})
        text = ""
        final: Answer | None = None
        try:
            for piece in _chain(first, pieces):
                if isinstance(piece, Answer):
                    final = piece
                    break
                text += piece
                chat[-1] = {"role": "assistant", "content": _html(text) + " ▍"}
                yield "", chat, history, gr.skip()
        except AnswerBackendError as exc:  # the model failed mid-answer: copy instead
            notice = _fallback_notice(exc)
            gr.Warning(_toast(notice))
            try:
                final = _final(bot.stream(question, recent, k=int(k), mode="extractive"))
            except AssistantError as again:
                chat[-1] = {"role": "assistant", "content": f"⚠ {_html(_message(again))}"}
                yield "", chat, history, gr.skip()
                return
        except AssistantError as exc:  # a failure mid-answer: say so where the answer was
            gr.Warning(_toast(_message(exc)))
            chat[-1] = {"role": "assistant", "content": f"⚠ {_html(_message(exc))}"}
            yield "", chat, history, gr.skip()
            return
        if final is None:  # stream() always ends with the Answer; be safe if it did not
            return
        if notice:
            final = replace(final, notice=" ".join(filter(None, (notice, final.notice))))
        if final.refused:
            body, extra = render_refusal(final)
            extra = _notice(final) + extra
        else:
            body, extra = render_answer(final, bot.chunk)
        chat[-1] = {"role": "assistant", "content": _signed(seal, "assistant", body)}
        if extra:
            chat.append({"role": "assistant", "content": _signed(seal, "assistant", extra)})
        history += [
            {"role": "user", "content": final.question},
            {"role": "assistant", "content": final.text},
        ]
        history = history[-keep_history:]
        # Only the messages this server wrote: the chat came from the client.
        kept = [m for m in chat if _server_wrote(seal, m)][-_SAVED_MESSAGES:]
        yield (
            "",
            chat,
            history,
            {"chat": kept, "history": history, "seal": _seal(seal, kept, history)},
        )

    def on_example(
        chat: list[dict[str, Any]],
        history: list[dict[str, str]],
        k: float,
        mode: str | None,
        evt: gr.SelectData,
    ) -> Iterator[tuple[Any, ...]]:
        value = evt.value if isinstance(evt.value, dict) else {"text": str(evt.value)}
        yield from respond(str(value.get("text", "")), chat, history, k, mode)

    # Gradio finds the event-data parameter by its annotation; with postponed annotations
    # that is a string naming a module-local import it cannot resolve, so give it the class.
    on_example.__annotations__["evt"] = gr.SelectData

    def restore(saved: Any) -> tuple[Any, Any]:
        """The conversation saved in this browser, if any (a damaged one is dropped).

        With nothing to restore the chat is left alone: a question asked while the page was
        still loading may have been answered before this runs, and must not be wiped."""
        nothing = (gr.skip(), gr.skip())
        if not isinstance(saved, dict):
            return nothing
        chat, history = saved.get("chat"), saved.get("history")
        if not isinstance(chat, list) or not isinstance(history, list) or not chat:
            return nothing
        # Only a conversation this server saved: the chat shows its messages as HTML, so a
        # forged one could pose as a cited answer (with a link to another site as its
        # marker), and one of the wrong shape was an error on every load.
        if not hmac.compare_digest(str(saved.get("seal", "")), _seal(seal, chat, history)):
            return nothing
        try:
            # Kept on the server for the session: no message longer than the bot reads of
            # a whole history (a saved one of 12 messages of 300,000 characters held 3.6 MB).
            return chat, [
                {**m, "content": m["content"][: settings.max_history_chars]}
                for m in _history(history)[-keep_history:]
            ]
        except InputError:
            return nothing

    # ------------------------------------------------------------ documents

    def _target(name: str) -> str:
        return bot.document_name(name)

    def _indexed() -> frozenset[str]:
        # Read once per upload, not per file: 1,000 files beside 20,000 documents read
        # 20 million names.
        return frozenset(s.source for s in bot.sources())

    def _taken(target: str, indexed: frozenset[str]) -> bool:
        # An upload of that name still waiting or indexing counts: it becomes the document.
        # A file of the folder the index does not list is no document to replace: its
        # upload is refused in one sentence (Collection.add_document), not asked about.
        return target in indexed or indexer.pending(target)

    def _submit(
        items: Sequence[tuple[str, str]],
        ids: list[int],
        request: gr.Request | None,
        fresh: bool = True,
    ) -> list[str]:
        """Queue (name, temp path) uploads from request's client; returns lines for those
        that could not be read. fresh: none was asked to replace a document (Indexer.submit)."""
        lines = []
        # The address as the per-client limits count it (a trusted proxy's visitor's).
        client = client_address(getattr(getattr(request, "request", None), "scope", None) or {})
        for name, path in items:
            try:
                ids.append(indexer.submit(name, Path(path), client, fresh=fresh))
            except InputError as exc:  # too many uploads waiting: say so, add nothing
                lines.append(
                    f'<div class="job failed">⚠ <b>{_name(name)}</b> was not added: '
                    f"{_html(_message(exc))}.</div>"
                )
            except OSError as exc:  # the temp upload vanished: still one clear line
                lines.append(
                    f'<div class="job failed">⚠ <b>{_name(name)}</b> could not be read '
                    f"({_html(exc.strerror or exc.__class__.__name__)}): upload it again.</div>"
                )
        return lines

    def _status(ids: Sequence[int], extra: Sequence[str] = ()) -> str:
        return "".join([*extra, *(j.line() for j in indexer.jobs(ids))])

    def _plan(
        files: Sequence[str] | None,
    ) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[str], dict[str, str]]:
        """Split uploaded temp files into (ready, held back, error lines, target -> first
        name): a file held back would replace a document or another file of the upload."""
        ready: list[tuple[str, str]] = []
        held: list[tuple[str, str]] = []
        lines: list[str] = []
        seen: dict[str, str] = {}
        indexed = _indexed()
        for path in files or []:
            name = Path(path).name
            try:
                target = _target(name)
            except AssistantError as exc:
                gr.Warning(_toast(_message(exc)))
                lines.append(
                    f'<div class="job failed">⚠ <b>{_name(name)}</b> was not added: '
                    f"{_html(_message(exc))}</div>"
                )
                continue
            if target in seen or _taken(target, indexed):
                held.append((name, path))
            else:
                ready.append((name, path))
            seen.setdefault(target, name)
        return ready, held, lines, seen

    def _discard(paths: Iterable[str]) -> None:
        # The indexer spooled its own copy: Gradio's goes now, not when the server stops.
        for path in paths:
            _discard_upload(path, demo.GRADIO_CACHE)
            # Gradio remembers every uploaded path until its sweep deletes the file itself,
            # and one already gone stays remembered (and looked up at every sweep) for as
            # long as the server runs: a slow leak that each upload grew.
            if not os.path.exists(path):
                demo.upload_file_set.discard(str(path))

    def upload_page(
        files: list[str] | None, ids: list[int] | None, request: gr.Request
    ) -> tuple[Any, ...]:
        """Queue each uploaded file for indexing in the background; a file whose name would
        replace a document (or another file of the same upload) waits for a yes."""
        ids = [i for i in (ids or []) if not all(j.done for j in indexer.jobs([i]))]
        ready, held, lines, seen = _plan(files)
        lines += _submit(ready, ids, request)
        waiting = {path for _name, path in held}
        _discard(path for path in files or [] if path not in waiting)
        question = _confirm_text(held, seen)
        return (
            None,
            _status(ids, lines),
            gr.Timer(active=bool(ids)),
            ids,
            held,
            gr.Group(visible=bool(held)),
            question,
        )

    def _queue_api_files(files: list[str] | None, ids: list[int], request: gr.Request) -> list[str]:
        ready, held, lines, _seen = _plan(files)
        lines += _submit(ready, ids, request)
        _discard(files or [])
        return lines + [
            f'<div class="job failed">⚠ <b>{_name(name)}</b> was not added: it would replace '
            f"“{_html(_target(name))}”; remove that document first, or rename the file.</div>"
            for name, _path in held
        ]

    async def upload_api(files: list[str] | None, request: gr.Request) -> tuple[Any, ...]:
        """API: add the files and return when they are indexed. A file that would replace a
        document (or another file of the upload) is not added: the status says so.

        It waits without a thread or a place of its own: two calls could run at once, and a
        client holding both with big files made every other /upload wait for all of them,
        though the indexer takes each address's uploads in turn."""
        ids: list[int] = []
        lines = await asyncio.to_thread(_queue_api_files, files, ids, request)
        while not all(j.done for j in indexer.jobs(ids)):
            await asyncio.sleep(0.25)
        return (None, _status(ids, lines), *await asyncio.to_thread(refresh))

    def _confirm_text(held: Sequence[tuple[str, str]], seen: dict[str, str]) -> str:
        items = []
        indexed = _indexed()
        for name, _path in held:
            target = _target(name)
            other = seen.get(target, target)
            why = (
                f"“{_name(other)}” in this upload"
                if other != name and not _taken(target, indexed)
                else f"the document “{_name(target)}”"
                + " (still being added)" * indexer.pending(target)
            )
            items.append(
                f"<li><b>{_name(name)}</b> would be saved as “{_name(target)}” and "
                f"replace {why}.</li>"
            )
        if not items:
            return ""
        return (
            f'<div class="confirm-title">Replace existing documents?</div><ul>{"".join(items)}</ul>'
        )

    def replace_held(
        held: list[list[str]] | None, ids: list[int] | None, request: gr.Request
    ) -> tuple[Any, ...]:
        ids = list(ids or [])
        lines = _submit([(str(n), str(p)) for n, p in held or []], ids, request, fresh=False)
        _discard(str(p) for _n, p in held or [])
        return _status(ids, lines), gr.Timer(active=bool(ids)), ids, [], gr.Group(visible=False)

    # Gradio hands a handler its request by the parameter's annotation (see on_example).
    for handler in (upload_page, upload_api, replace_held):
        handler.__annotations__["request"] = gr.Request

    def keep_held(held: list[list[str]] | None, ids: list[int] | None) -> tuple[Any, ...]:
        lines = [
            f'<div class="job">✗ <b>{_name(str(n))}</b> was not added: '
            "the existing document was kept.</div>"
            for n, _p in held or []
        ]
        _discard(str(p) for _n, p in held or [])
        return _status(ids or [], lines), [], gr.Group(visible=False)

    def poll(ids: list[int] | None, warned: list[int] | None) -> tuple[Any, ...]:
        """The progress of this page's uploads; stops the timer when they are all done."""
        jobs = indexer.jobs(ids or [])
        warned = list(warned or [])
        for j in jobs:
            if j.done and not j.ok and j.id not in warned:
                gr.Warning(_toast(f"{_shown_name(j.name)} was not added: {j.message}"))
                warned.append(j.id)
        busy = any(not j.done for j in jobs)
        status = "".join(j.line() for j in jobs) if jobs else gr.skip()
        if busy:
            return status, gr.skip(), gr.skip(), gr.Timer(active=True), warned
        return (status, *refresh(), gr.Timer(active=False), warned)

    def confirm_remove(source: str | None) -> tuple[Any, ...]:
        if not isinstance(source, str) and source is not None:
            gr.Warning(_NOT_A_NAME)
            return gr.Group(visible=False), ""
        if not source:
            gr.Warning("Choose a document to remove first.")
            return gr.Group(visible=False), ""
        question = (
            f'<div class="confirm-title">Delete “{_name(source)}”?</div>'
            "<p>The file is deleted from the documents folder on the server: it leaves the "
            "disk for good, and answers stop citing it.</p>"
        )
        return gr.Group(visible=True), question

    def remove(source: str | None) -> tuple[Any, ...]:
        """Delete a document from the folder and the index (the page asks first)."""
        if not isinstance(source, str) and source is not None:  # only an API call sends these
            gr.Warning(_NOT_A_NAME)
            return (f"⚠ {_NOT_A_NAME}", *refresh(), gr.Group(visible=False))
        if not source:
            gr.Warning("Choose a document to remove first.")
            return ("", *refresh(), gr.Group(visible=False))
        try:
            indexer.remove(source)
        except AssistantError as exc:
            gr.Warning(_toast(_message(exc)))
            return (f"⚠ {_html(_message(exc))}", *refresh(), gr.Group(visible=False))
        status = f'<div class="job">✓ <b>{_name(source)}</b> removed: the file was deleted.</div>'
        return (status, *refresh(), gr.Group(visible=False))

    # ------------------------------------------------------------ the API

    def ask(
        question: str,
        history: list[dict[str, str]] | str | None = None,
        k: int | None = None,
        mode: str | None = None,
    ) -> dict[str, Any]:
        """Answer a question from the documents. Returns the answer as JSON: text (every
        sentence ends in [n]), citations (n, source, start, end, quote, page, flag: why a
        quote reads as an instruction to the assistant), refused, query (the standalone
        question searched for), related, hits, timings, notes (e.g. that older history was
        left out). mode: an answer mode (default: the server's)."""
        try:
            text, passages, answer_mode = _ask_args(question, k, mode)
            _check_mode(answer_mode, bot.settings)
            pieces = gate.stream(bot, text, _history(history), k=passages, mode=answer_mode)
            answer = _final(pieces)
            if answer is None:  # stream() always ends with the Answer
                raise AssistantError("the answer ended early: ask again")
            return answer.to_dict()
        except AssistantError as exc:
            raise gr.Error(_toast(_message(exc)), print_exception=False) from exc

    def sources() -> list[dict[str, Any]]:
        """The indexed documents: source, kind, size (bytes), chunks, pages."""
        return [asdict(s) for s in bot.sources()]

    # ------------------------------------------------------------ layout

    def startup_line() -> str:
        if startup is None or (startup.done and startup.bot is not None):
            return ""
        return f'<div class="startup-line">⏳ {_html(startup.line)}</div>'

    def startup_tick() -> tuple[Any, ...]:
        """The loading line while the index loads; once ready, the documents it holds."""
        if startup is None or not startup.done:
            return startup_line(), gr.Timer(active=True), gr.skip(), gr.skip()
        mark = "✓" if startup.bot is not None else "⚠"
        line = f'<div class="startup-line">{mark} {_html(startup.line)}</div>'
        return (line, gr.Timer(active=False), *refresh())

    # A safety net for temporary copies no handler saw (a page closed while asking to replace
    # a document, files sent to Gradio's upload route and never submitted): checked every 5
    # minutes, they go after 15 (a later "replace" then asks to upload again), and all of
    # them when the server stops.
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(300, 900)) as demo:
        history = gr.State([])
        saved = gr.BrowserState(
            {"chat": [], "history": []},
            storage_key="assistant-chat",
            secret=_browser_secret(bot.settings.index_location),
        )
        gr.HTML(f"<h1>{TITLE}</h1><p>{SUBTITLE}</p>", elem_id="header")
        if startup is not None:  # the index's progress, while it loads (see demo.load below)
            loading = gr.HTML(startup_line(), elem_id="startup")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=420):
                chat = gr.Chatbot(
                    label="Chat",
                    show_label=False,
                    elem_id="chat",
                    height="calc(100vh - 260px)",  # the chat takes the screen, scrolls inside
                    min_height=420,
                    layout="bubble",
                    buttons=[],  # each answer has its own Copy, which copies plain text
                    feedback_options=None,
                    # Messages are HTML built here, every text escaped; Markdown would turn a
                    # document's ![..](url) into an image the browser fetches.
                    render_markdown=False,
                    latex_delimiters=[],  # "$8 billion ... $2 billion" is money, not maths
                    group_consecutive_messages=False,  # an answer apart from its sources
                    placeholder="Ask a question below, or try one of these:",
                    examples=[{"text": q} for q in EXAMPLES],
                )
                with gr.Row():
                    # No max_length: the browser would cut a long question silently; the
                    # bot says it is too long instead, and the question stays to shorten.
                    question = gr.Textbox(
                        placeholder="Ask a question about your documents…",
                        show_label=False,
                        container=False,
                        scale=8,
                        autofocus=True,
                        elem_id="question",
                    )
                    ask_btn = gr.Button("Ask", variant="primary", scale=0, min_width=90)
                    clear_btn = gr.Button("New chat", scale=0, min_width=140)
            with gr.Column(scale=2, min_width=300):
                table = gr.HTML(documents(), elem_id="documents", js_on_load=None)
                if writable:
                    # What the /upload API receives; in the page but never shown ("hidden":
                    # an invisible component would drop the endpoint from the API).
                    api_files = gr.File(
                        file_count="multiple", file_types=UPLOAD_TYPES, visible="hidden"
                    )
                    api_upload = gr.Button(visible="hidden")
                    api_files._process_single_file = _untraced(  # type: ignore[method-assign,assignment]
                        api_files._process_single_file
                    )
                    files = gr.File(
                        label=f"Add documents (drop {' '.join(UPLOAD_TYPES)} files here)",
                        file_count="multiple",
                        file_types=UPLOAD_TYPES,
                        type="filepath",
                        elem_id="upload",
                    )
                    files._process_single_file = _untraced(  # type: ignore[method-assign,assignment]
                        files._process_single_file
                    )
                    with gr.Group(visible=False) as upload_box:
                        upload_question = gr.HTML(elem_id="confirm-upload")
                        with gr.Row():
                            replace_btn = gr.Button("Replace", variant="stop", scale=0)
                            keep_btn = gr.Button("Keep the existing document", scale=0)
                status = gr.HTML(elem_id="status")
                to_remove = gr.Dropdown(
                    choices=_remove_choices(bot.sources()),
                    value=None,
                    label="Remove a document",
                    elem_id="remove-doc",
                    # The bot checks the name; the list may be older than the folder.
                    allow_custom_value=True,
                    visible=writable,
                )
                if writable:
                    remove_btn = gr.Button("Remove…", min_width=110, elem_id="remove-btn")
                    with gr.Group(visible=False) as remove_box:
                        remove_question = gr.HTML(elem_id="confirm-remove")
                        with gr.Row():
                            delete_btn = gr.Button("Delete file", variant="stop", scale=0)
                            cancel_btn = gr.Button("Cancel", scale=0)
                else:
                    gr.HTML('<p class="docs-empty">Read-only: documents can’t be changed here.</p>')
                with gr.Accordion("Settings", open=True):
                    k = gr.Slider(
                        1,
                        10,
                        value=min(max(settings.k, 1), 10),
                        step=1,
                        label="Passages to read (k)",
                    )
                    modes = offered_modes(settings)  # the registry's, less off-machine ones
                    described = backend_descriptions()
                    mode = gr.Radio(
                        choices=list(modes),
                        value=settings.answer_mode,
                        label="Answer mode",
                        info=" ".join(
                            f"{m}: {d}" for m, d in described.items() if d and m in modes
                        ),
                        elem_id="answer-mode",
                    )

        chat_io: dict[str, Any] = {
            "outputs": [question, chat, history, saved],
            "api_visibility": "private",  # /ask is the API; these drive the page
        }
        question.submit(respond, [question, chat, history, k, mode], **chat_io)
        ask_btn.click(respond, [question, chat, history, k, mode], **chat_io)
        chat.example_select(on_example, [chat, history, k, mode], **chat_io)
        clear_btn.click(
            lambda: ("", [], [], {"chat": [], "history": []}),
            None,
            [question, chat, history, saved],
            api_visibility="private",
        )
        chat.clear(
            lambda: ([], {"chat": [], "history": []}),
            None,
            [history, saved],
            api_visibility="private",
        )

        if writable:
            jobs = gr.State([])
            warned = gr.State([])
            held = gr.State([])
            timer = gr.Timer(1.0, active=False)
            # Saving an upload is quick; indexing happens on the indexer's thread, and the
            # timer shows its progress. One document change at a time from the page.
            doc_io: dict[str, Any] = {"concurrency_limit": 1, "concurrency_id": "documents"}
            files.upload(
                upload_page,
                [files, jobs],
                [files, status, timer, jobs, held, upload_box, upload_question],
                api_visibility="private",
                **doc_io,
            )
            api_upload.click(
                upload_api,
                [api_files],
                [api_files, status, table, to_remove],
                api_name="upload",
                # It waits for indexing asynchronously, holding no thread: no limit of its
                # own (the queue of uploads and each address's open requests bound it), and
                # off the question slots.
                concurrency_limit=None,
            )
            replace_btn.click(
                replace_held,
                [held, jobs],
                [status, timer, jobs, held, upload_box],
                api_visibility="private",
            )
            keep_btn.click(
                keep_held, [held, jobs], [status, held, upload_box], api_visibility="private"
            )
            timer.tick(
                poll,
                [jobs, warned],
                [status, table, to_remove, timer, warned],
                api_visibility="private",
                concurrency_limit=None,  # cheap: never waits behind questions
                show_progress="hidden",
            )
            remove_btn.click(
                confirm_remove,
                [to_remove],
                [remove_box, remove_question],
                api_visibility="private",
            )
            delete_btn.click(
                remove,
                [to_remove],
                [status, table, to_remove, remove_box],
                api_name="remove",
                **doc_io,
            )
            cancel_btn.click(
                lambda: gr.Group(visible=False), None, [remove_box], api_visibility="private"
            )
        # Another visitor may have changed the documents: show the current list on load,
        # and the conversation this browser saved.
        demo.load(refresh, None, [table, to_remove], api_visibility="private")
        demo.load(restore, [saved], [chat, history], api_visibility="private")
        if startup is not None:
            loading_timer = gr.Timer(0.5, active=False)
            startup_io: dict[str, Any] = {
                "outputs": [loading, loading_timer, table, to_remove],
                "api_visibility": "private",
                "show_progress": "hidden",
            }
            demo.load(
                lambda: (startup_line(), gr.Timer(active=not startup.done), gr.skip(), gr.skip()),
                None,
                **startup_io,
            )
            loading_timer.tick(startup_tick, None, concurrency_limit=None, **startup_io)

        gr.api(ask, api_name="ask")
        gr.api(sources, api_name="sources")

    # api_open=False: Gradio's /run and /api routes, which call a handler at once, skipping
    # the queue, are refused; they went past every concurrency limit (one document change at
    # a time, four answers at once), and took a page event's fn_index over their own name.
    demo.queue(default_concurrency_limit=_CONCURRENCY, api_open=False)
    return demo


def launch(
    demo: gr.Blocks,
    *,
    host: str = "127.0.0.1",
    port: int | None = 7860,
    share: bool = False,
    max_file_size: int | None = None,
    prevent_thread_lock: bool = False,
    routes: Sequence[BaseRoute] = (),
    auth: tuple[str, str] | None = None,
    throttle: LoginThrottle | None = None,
    load: ClientLoad | None = None,
    uploads: UploadBudget | None = None,
    requests_per_client: int | None = None,
    sessions_per_client: int | None = None,
    events_per_client: int | None = None,
    trusted_proxies: str = "",
) -> str:
    """Start the server (loopback unless told otherwise) and return its local URL.

    `routes` are served beside the chat (e.g. `api.api_routes(bot)`, the OpenAI-compatible
    endpoint); they go first, so Gradio's own paths cannot shadow them. `auth` is the one
    (user, password) the page and its Gradio API then ask for; `throttle` refuses an
    address that failed to log in too often, `load` one with too many questions in flight
    (pass the one `routes` count with), `uploads` an upload past what may wait unsubmitted,
    `requests_per_client` a request past that many open from its address, and
    `sessions_per_client` the page sessions kept for one address (defaults: as Settings'
    defaults say). `trusted_proxies` (Settings.trusted_proxies) are the only peers whose
    X-Forwarded-For and X-Forwarded-Proto are believed; with `share`, the relay's local
    connection is one of them, as it names each visitor.
    """
    require("gradio", extra="ui", feature="the web chat")
    from starlette.middleware import Middleware

    from .settings import Settings

    # Settings' defaults, not the environment: the caller passes its settings' limits.
    defaults = Settings.model_construct()
    throttle = throttle or LoginThrottle.from_settings(defaults)
    load = load or ClientLoad.from_settings(defaults, functools.partial(_queued_questions, demo))
    uploads = uploads or UploadBudget.from_settings(defaults)
    if requests_per_client is None:
        requests_per_client = defaults.requests_per_client
    if sessions_per_client is None:
        sessions_per_client = defaults.sessions_per_client
    if events_per_client is None:
        events_per_client = defaults.events_per_client
    app_kwargs: dict[str, Any] = {
        "middleware": [
            # Outermost first. --share relays the page under Gradio's own host name.
            *([] if share else [Middleware(ForwardedAddress, trusted_proxies=trusted_proxies)]),
            Middleware(_PageHeaders),
            Middleware(OneBodyLength),
            *([Middleware(LoopbackHosts)] if is_loopback(host) and not share else []),
            Middleware(RequestsPerClient, limit=requests_per_client),
            Middleware(CrossSiteWrites),
            Middleware(_BodyLimit),
            Middleware(_UploadProgress),
            Middleware(_UploadLimit, budget=uploads),
            Middleware(
                _CheckedCalls,
                blocks=demo,
                load=load,
                sessions=sessions_per_client,
                events=events_per_client,
            ),
            Middleware(ThrottledLogins, throttle=throttle),
            Middleware(_OneLogout),
            Middleware(_InvalidRequests),
        ]
    }
    if routes:
        app_kwargs["routes"] = list(routes)

    quiet_stream_errors()  # Gradio's own server logs to the same uvicorn log
    _tidy_uploads()
    # The share relay reaches the server from this machine and appends each visitor's
    # address to X-Forwarded-For (the right-most untrusted one is taken).
    trusted = ",".join(filter(None, [trusted_proxies, "127.0.0.1,::1" if share else ""]))
    with _forwarded_trust(trusted):
        app, url, _share_url = demo.launch(
            server_name=host,
            server_port=port,
            share=share,
            css=CSS,
            head=_HEAD,
            theme=_theme(),
            max_file_size=max_file_size,
            prevent_thread_lock=True,  # blocked below, once the app is set up
            footer_links=["api", "settings"],
            run_history=False,  # see _mounted
            enable_monitoring=False,  # see _mounted
            quiet=prevent_thread_lock,
            app_kwargs=app_kwargs,
            auth=[auth] if auth else None,
            auth_message=_auth_message(throttle) if auth else None,
        )
    _keep_no_page_values(app)
    if not prevent_thread_lock:
        demo.block_thread()
    return str(url)


@contextlib.contextmanager
def _forwarded_trust(trusted_proxies: str) -> Iterator[None]:
    """While inside, a uvicorn server being set up believes X-Forwarded-For and
    X-Forwarded-Proto from `trusted_proxies` only (comma-separated; "" none), as
    api.proxy_options sets for the chat's own server.

    Gradio's launch() makes its uvicorn server with uvicorn's defaults, which believe those
    headers from 127.0.0.1 and ::1, and reads them before any of the chat's middleware: any
    program on this machine (or a reverse proxy on it that passes the header on) could name
    a new made-up address with each wrong password and never be throttled, and spread its
    requests, questions and uploads over as many addresses' budgets as it liked. Gradio
    names no option for it; uvicorn reads this variable when the server is set up.

    Example: with _forwarded_trust(""): demo.launch(...) -> a login sent with
             "X-Forwarded-For: 198.51.100.7" counts against the sender's own address
    """
    name = "FORWARDED_ALLOW_IPS"
    before = os.environ.get(name)
    # uvicorn reads "" as one name no peer has: nobody is trusted.
    os.environ[name] = trusted_list(trusted_proxies)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def _keep_no_page_values(app: Any) -> None:
    """Make Gradio's app (gradio.routes.App) keep no copy of the values a page session's
    components were sent or shown; its gr.State values (the bot's history) are kept as before.

    Gradio kept them for each session, to save as a "deep link" (which the chat does not
    offer), and keeps up to 10,000 sessions: a client asking once from each of many new
    sessions, each question sent with a 3 MB chat (every page question carries its chat, so
    the server needs no copy), grew the server by 5.6 MB a session, on the way to 56 GB. Nor
    does a session keep the page's whole configuration for such a link: 71 KB a session with
    300 documents (their names are in it), growing with the documents, so a client naming
    10,000 new sessions, one page event each, grew the server by over a gigabyte.
    """
    import gradio as gr
    from gradio.state_holder import SessionState, StateHolder

    class Unkept(dict[Any, Any]):
        """A session's configuration for deep links: nothing is kept."""

        def __setitem__(self, key: Any, value: Any) -> None:
            pass

    class Session(SessionState):
        def __init__(self, blocks: Any) -> None:
            super().__init__(blocks)
            self.config_values = Unkept()
            self.shared = blocks.default_config.blocks

        def _update_value_in_config(self, key: int, value: Any) -> None:
            # The one place Gradio stores a component's value in a session's config; it
            # calls it once an update of the component has been sent. A list that takes any
            # value (the remove list) needs no copy of its own after that: its choices check
            # nothing, and the session's copy, remade with every update, held the documents'
            # names (50 KB a session with 300 documents, for each of 10,000 sessions).
            kept = self.blocks_config.blocks.get(key)
            if isinstance(kept, gr.Dropdown) and kept.allow_custom_value and key in self.shared:
                self.blocks_config.blocks[key] = self.shared[key]

    class Sessions(StateHolder):
        def __getitem__(self, session_id: str) -> SessionState:
            if session_id not in self.session_data:
                self.session_data[session_id] = Session(self.blocks)
            return super().__getitem__(session_id)

    sessions = Sessions()
    sessions.set_blocks(app.get_blocks())  # also the blocks' own reference to it
    app.state_holder = sessions


def serve(
    folder: str | Path,
    *,
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 7860,
    share: bool = False,
    api_key: str | None = None,
) -> None:
    """Serve the chat over folder until interrupted, with the OpenAI-compatible endpoint at
    /v1, indexing what changed in folder meanwhile. With `api_key` (the one access key), the
    page asks for a login (user settings.ui_user, the key as password) and /v1 for the
    bearer key.

    The address answers at once: a small page shows what the server is doing (the same
    lines go to the terminal) until the chat is built, and the chat then shows the index's
    progress until it is ready; questions asked meanwhile wait for it. Raises the loader's
    AssistantError (an index built with other settings, ...) if the index cannot be loaded.
    With `share` (a Gradio share link) the index is loaded first, then the chat served.
    """
    # Installed? Checked before anything is indexed; imported later, while the page loads.
    require("gradio", extra="ui", feature="the web chat", load=False)
    import sys

    from .startup import StartupProgress, serve_early

    t0 = time.perf_counter()

    def say(line: str) -> None:
        print(f"[{time.perf_counter() - t0:4.1f}s] {line}", file=sys.stderr, flush=True)

    progress = StartupProgress(say, hide=_server_paths(folder, settings))
    # Python hands its lock between threads every 5 ms by default, so a question waits that
    # long at each step where a busy background thread (an upload being split into chunks)
    # holds it. A shorter interval keeps questions quick during big uploads.
    sys.setswitchinterval(_SWITCH_INTERVAL)
    if share:
        _load(folder, settings, progress)
        bot = progress.assistant()
        say("Starting the web server ...")
        _launch_chat(build_app(bot), bot, settings, host, port, share, api_key)
        return
    server = serve_early(
        progress,
        host=host,
        port=port,
        private=bool(api_key),
        trusted_proxies=settings.trusted_proxies,
    )
    where = f"[{host}]" if ":" in host else host
    say(f"Serving http://{where}:{port}/ (the page shows the progress until the chat is ready)")
    loader = threading.Thread(
        target=_load, args=(folder, settings, progress), name="index-loader", daemon=True
    )
    loader.start()
    try:
        late = _LateBot(progress, settings, Path(folder))
        # The chat is built over a stand-in that waits for the index: it is served while
        # the index still loads. The cast: _LateBot answers every Assistant attribute.
        chat = cast("Assistant", late)
        app, lifespan = _mounted(
            build_app(chat, startup=progress), chat, settings, host, port, api_key
        )
        if not progress.done or progress.bot is not None:
            server.attach(app, lifespan)
            say("The web chat is up" + ("." if progress.done else "; the index is still loading."))
        while not progress.wait(0.5):
            pass
        if progress.error is not None:
            raise progress.error  # one sentence in the terminal; the server stops below
        server.wait()
    finally:
        server.stop()


def _server_paths(folder: str | Path, settings: Settings) -> dict[str, str]:
    """The documents folder and the index (a folder, or a database URL, as given and as
    its messages write it), with the words the starting page says instead
    (StartupProgress's `hide`).

    Example: _server_paths("docs", Settings(index_dir=Path("/srv/idx"))) ->
             {"docs": "[the documents folder]", "/home/me/docs": "[the documents folder]",
              "/srv/idx": "[the index folder]"};
             a store "postgresql://me:pw@db/x" -> it and "postgresql://me:***@db/x" are
             "[the database URL]"
    """
    from .store.postgres import redact

    hide: dict[str, str] = {}
    location = settings.index_location
    if isinstance(location, str):
        hide[location] = hide[redact(location)] = "[the database URL]"
        places = [(folder, "[the documents folder]")]
    else:
        places = [(folder, "[the documents folder]"), (location, "[the index folder]")]
    for place, words in places:
        for spelled in (str(place), str(Path(place).expanduser().resolve())):
            if spelled not in ("", ".", "/"):
                hide[spelled] = words
    return hide


def _load(folder: str | Path, settings: Settings, progress: StartupProgress) -> None:
    """Load the embedder and the index (syncing it with folder), reporting to progress; a
    failure is reported there too, as one AssistantError."""
    from .embedding import build_embedder
    from .pipeline import Assistant
    from .store.postgres import redact

    try:
        progress.set_line(f"Loading the embedding model ({settings.model}, {settings.encoder})…")
        embedder = build_embedder(settings, say=progress.set_line)
        location = settings.index_location
        where = location if isinstance(location, Path) else redact(location)  # its password
        progress.set_line(f"Loading the index in {where} and checking {folder} for changes…")
        bot = Assistant.from_folder(
            folder,
            index_dir=settings.index_location,
            settings=settings,
            embedder=embedder,
            on_progress=progress.on_sync,
        )
        progress.set_line("Loading the embedding model for questions…")
        bot.warm_up()
    except AssistantError as exc:
        progress.fail(exc)
    except Exception as exc:  # a bug: one line on the page and in the terminal, the log the rest
        log.exception("loading the index failed")
        progress.fail(
            StartingError(
                f"loading the index failed ({exc.__class__.__name__}): the server's log has "
                "the details"
            )
        )
    else:
        progress.ready(bot)


class _LateBot:
    """Stands in for the Assistant while the server starts: its settings and documents
    folder at once, an empty document list until the index is loaded, and everything else
    from the Assistant, waiting for it (or raising StartingError if it failed to load)."""

    def __init__(self, progress: StartupProgress, settings: Settings, folder: Path) -> None:
        self._progress = progress
        self.settings = settings
        self._folder = folder

    @property
    def docs_dir(self) -> Path | None:
        bot = self._progress.bot
        return bot.docs_dir if bot is not None else self._folder

    def sources(self) -> list[SourceInfo]:
        bot = self._progress.bot
        return bot.sources() if bot is not None else []

    def document_name(self, name: str) -> str:
        bot = self._progress.bot
        return bot.document_name(name) if bot is not None else safe_filename(name)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._progress.assistant(), name)


def _theme() -> Any:
    import gradio as gr

    # The default theme, but with Source Sans Pro's full bold face: the semi-bold file that
    # Gradio 6.31 bundles holds only a few glyphs, so headings and buttons rendered mixed.
    font = gr.themes.LocalFont("Source Sans Pro", weights=(400, 700))
    return gr.themes.Default(font=[font, "ui-sans-serif", "system-ui", "sans-serif"])


_SWITCH_INTERVAL = 0.0005  # seconds; see serve()

_NOT_A_NAME = "The document name must be text: pick one from the list."

_AUTH_MESSAGE = "Log in with the user name and access key the server was given."


def _auth_message(throttle: LoginThrottle) -> str:
    """The login page's line. Gradio's form says nothing when a login is refused with 429
    (and runs none of the page's scripts before login), so the pause is announced here.

    Example: the default throttle -> "Log in with the user name and access key the server was given.
             After 5 wrong tries in a row, logins from your address pause for 30 s or more."
    """
    return (
        f"{_AUTH_MESSAGE} After {throttle.failures} wrong tries in a row, logins from "
        f"your address pause for {throttle.lockout:g} s or more."
    )


# A question, its history and the chat shown on the page come to far less; Gradio itself
# reads any body whole (eight 50 MB bodies sent at once took the server from 0.9 to 2.0 GB).
_MAX_BODY_BYTES = 8 * 1024 * 1024
_DRAIN_BYTES = 8 * _MAX_BODY_BYTES  # read past the limit to answer it; beyond, just close
_TOO_LARGE = (
    f"The request is over {_MAX_BODY_BYTES // (1024 * 1024)} MB: send a shorter question "
    "and history, or upload files through the upload route."
)


class _BodyLimit(HttpMiddleware):
    """ASGI middleware: refuses a request body over `limit` bytes with 413 and one sentence,
    before the app reads it. Gradio's file upload route is bounded by max_file_size and
    streams to disk, and /v1 answers its own limit in OpenAI's shape: both pass."""

    def __init__(self, app: Any, limit: int = _MAX_BODY_BYTES) -> None:
        super().__init__(app)
        self.limit = limit

    async def http(self, scope: Any, receive: Any, send: Any) -> None:
        path = str(scope.get("path", ""))
        if not path or path.endswith("/gradio_api/upload") or path.startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or ())
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > self.limit:
                await _refuse(receive, send, more=True)
                return
            await self.app(scope, receive, send)
            return
        if b"transfer-encoding" not in headers:
            await self.app(scope, receive, send)
            return
        # A chunked body declares no length: read it here, up to the limit, then replay it.
        messages, size = [], 0
        while True:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if size > self.limit:
                await _refuse(receive, send, more=bool(message.get("more_body")))
                return
            if message["type"] != "http.request" or not message.get("more_body"):
                break

        async def replay() -> Any:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


def _script_hash(script: str | bytes) -> str:
    """The CSP source that lets one inline script run: its text's SHA-256, base64.

    Example: _script_hash("") == "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
    """
    data = script.encode() if isinstance(script, str) else script
    return f"'sha256-{base64.b64encode(hashlib.sha256(data).digest()).decode()}'"


# The chat's own script (_HEAD): Gradio adds it to the page as an inline script.
_HEAD_SCRIPT = _HEAD.removeprefix("<script>").removesuffix("</script>")

# What the page may load and who may show it: everything from this server only (scripts,
# styles, fonts, images, media, and what its scripts fetch or connect to), no plugins, no
# other base address or form target, and no other site's page may frame the chat. Of inline
# scripts only the page's own run (by hash: _PageHeaders adds those of each page it serves),
# so markup that slipped into the page could neither run a script nor send anything away.
# 'unsafe-eval': Gradio 6's gr.HTML renders each value through Function() (a template of
# the value, never the value as code); inline styles: Svelte and gr.HTML set them.
PAGE_POLICY = (
    "default-src 'self'; "
    f"script-src 'self' 'unsafe-eval' {_script_hash(_HEAD_SCRIPT)}; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "media-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
_PAGE_HEADERS = [
    (b"content-security-policy", PAGE_POLICY.encode()),
    (b"x-frame-options", b"DENY"),  # frame-ancestors, for browsers that predate it
    (b"x-content-type-options", b"nosniff"),  # a file is only what its type says
]
# The headers _PageHeaders sets itself, dropped from what the app sent.
_OWN_HEADERS = frozenset({name for name, _value in _PAGE_HEADERS} | {b"cache-control", b"pragma"})

_INLINE_SCRIPT = re.compile(rb"<script\b(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)
# How long a cache may keep each response. Gradio sent no Cache-Control at all, so a shared
# cache in front (a company proxy, a CDN) was free to keep the page, /config (every
# document's name, the login's state), an answer or a visitor's uploaded file, and hand it
# to the next visitor. Only Gradio's built files may be kept: those under /assets/ are named
# by their content's hash, so a new version comes under a new name; the other shared files
# (its own static folder, the theme, the icons) may be kept but are checked each time.
_KEPT_FOR_GOOD = ("/assets/",)
_KEPT_CHECKED = (
    "/static/",
    "/svelte/",
    "/theme.css",
    "/favicon.ico",
    "/manifest.json",
    "/pwa_icon",
    "/robots.txt",
)


def cache_control(path: str) -> bytes:
    """The Cache-Control header of a response to a request for path: the chat's built files
    may be kept, everything else (pages, configuration, API answers, uploaded files, event
    streams) is the asking visitor's alone and is never stored.

    Example: cache_control("/assets/index-DphvyggB.js") ->
             b"public, max-age=31536000, immutable"; cache_control("/theme.css") ->
             b"no-cache"; cache_control("/config") -> b"no-store"
    """
    if ".." in path or "%" in path:
        return b"no-store"  # not a built file's plain name
    if path.startswith(_KEPT_FOR_GOOD):
        return b"public, max-age=31536000, immutable"
    if path.startswith(_KEPT_CHECKED):
        return b"no-cache"
    return b"no-store"


_PAGE_PATHS = frozenset({"/", ""})  # Gradio's page (and its login form): the one HTML it makes


def page_policy(page: bytes) -> str:
    """PAGE_POLICY, with each inline script of `page` (Gradio's index.html: its
    configuration, its start-up lines) allowed to run by its hash.

    Example: page_policy(b"<script>a()</script><script src=x.js></script>") is PAGE_POLICY
             with "'sha256-...'" (the hash of "a()") added to its script-src
    """
    hashes = dict.fromkeys(_script_hash(m.group(1)) for m in _INLINE_SCRIPT.finditer(page))
    return PAGE_POLICY.replace("'unsafe-eval'", " ".join(["'unsafe-eval'", *hashes]), 1)


# Gradio lets a page of every localhost origin (any port of this machine) read its answers
# (CORS, with credentials): another local web app, a notebook's output or a downloaded page
# opened through `python -m http.server` read /config, which names every document. The
# chat's own page is the same origin and needs none of it.
_CORS = b"access-control-allow-"


class _PageHeaders(HttpMiddleware):
    """ASGI middleware: every response carries PAGE_POLICY (Content-Security-Policy) and
    says no other site may frame it, and no response lets a page of another origin read it
    (Gradio's CORS headers are dropped), and says how long a cache may keep it
    (cache_control: only the built files; never a refusal). The page itself is held until
    its end, so that its policy can name its inline scripts (page_policy).

    Without them another site's page could show the chat in a frame: the chat's own
    requests from inside it are same-origin, so a page laid over it (clickjacking) could
    lead a visitor into pressing "Delete file" on the server.

    Example: GET / -> "content-security-policy: default-src 'self'; script-src 'self'
             'unsafe-eval' 'sha256-...'; ...; frame-ancestors 'none'" and
             "x-frame-options: DENY"
    """

    async def http(self, scope: Any, receive: Any, send: Any) -> None:
        page = scope["path"] in _PAGE_PATHS
        kept_for = cache_control(str(scope.get("path", "")))
        start: dict[str, Any] | None = None
        body: list[bytes] = []

        async def with_headers(message: Any) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                # A refusal is never kept, whatever was asked for.
                caching = kept_for if message.get("status", 200) < 400 else b"no-store"
                headers = replaced_headers(
                    message.get("headers", []),
                    _not_passed_on,
                    [*_PAGE_HEADERS, (b"cache-control", caching)],
                )
                message = {**message, "headers": headers}
                if page and _is_html(headers):
                    start = message  # sent with the body, once its scripts are known
                    return
            elif start is not None and message["type"] == "http.response.body":
                body.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                policy = page_policy(b"".join(body)).encode()
                headers = [
                    (k, policy if k == b"content-security-policy" else v)
                    for k, v in start["headers"]
                ]
                await send({**start, "headers": headers})
                message = {**message, "body": b"".join(body)}
                start = None
            await send(message)

        await self.app(scope, receive, with_headers)


def _not_passed_on(name: bytes) -> bool:
    """Whether _PageHeaders drops a header of this (lower-case) name that the app sent: one
    it sets itself, or one of Gradio's CORS headers.

    Example: _not_passed_on(b"access-control-allow-origin") -> True;
             _not_passed_on(b"content-type") -> False
    """
    return name in _OWN_HEADERS or name.startswith(_CORS)


def _is_html(headers: Sequence[tuple[bytes, bytes]]) -> bool:
    """Whether a response's headers say it is an HTML page, not compressed."""
    named = {k.lower(): v.lower() for k, v in headers}
    return named.get(b"content-type", b"").startswith(b"text/html") and not named.get(
        b"content-encoding"
    )


_UPLOAD_ID_CHARS = 64  # the page names each upload with a dozen random characters
_FORGET_AFTER_S = 60.0  # an upload's progress, unread this long after it ended, is dropped
_BAD_UPLOAD_ID = (
    "A request names one upload_id, of at most 64 characters: send the one the page makes."
)
# Progress streams one address may have open at once. The page opens one per upload it is
# sending (all the files of one drop are one upload), so a visitor needs one or two.
_PROGRESS_STREAMS = 8
_TOO_MANY_STREAMS = (
    "This address is already following the progress of 8 uploads: wait for one of them to "
    "finish, then follow the next."
)


class _OneLogout(HttpMiddleware):
    """ASGI middleware: Gradio's GET /logout ends this browser's login only.

    The chat has one user name, so every visitor's login is that user's, and Gradio's logout
    ends all of a user's logins by default: one visitor opening /logout (a link would do)
    logged every other visitor out, again whenever they liked. The request is passed on
    asking for this session only (`all_session=false`), and where the browser holds only the
    login cookie sent over plain http (Gradio reads the other one), that one is named too, so
    its login ends on the server as well as in the browser.

    Example: GET /logout?all_session=true, Cookie: access-token-unsecure-ab=T ->
             GET /logout?all_session=false, Cookie: access-token-unsecure-ab=T;
             access-token-ab=T
    """

    async def http(self, scope: Any, receive: Any, send: Any) -> None:
        if is_logout(scope):
            scope = {
                **scope,
                "query_string": b"all_session=false",
                "headers": _logout_headers(scope),
            }
        await self.app(scope, receive, send)


def _logout_headers(scope: Any) -> list[tuple[bytes, bytes]]:
    """scope's headers, its cookies in one header (the one Gradio reads), with the plain-http
    login cookie also named as the secure one where that one is missing, which Gradio's
    logout of one session reads.

    Example: [(b"cookie", b"access-token-unsecure-ab=T")] ->
             [(b"cookie", b"access-token-unsecure-ab=T; access-token-ab=T")]
    """
    from http.cookies import CookieError, SimpleCookie

    headers = [(k, v) for k, v in scope.get("headers") or () if k != b"cookie"]
    sent = [v.decode("latin-1") for k, v in scope.get("headers") or () if k == b"cookie"]
    jar: SimpleCookie = SimpleCookie()
    for value in sent:
        with contextlib.suppress(CookieError):
            jar.load(value)
    sent += [
        f"access-token-{key.removeprefix(_PLAIN_LOGIN)}={morsel.value}"
        for key, morsel in jar.items()
        if key.startswith(_PLAIN_LOGIN)
        and f"access-token-{key.removeprefix(_PLAIN_LOGIN)}" not in jar
    ]
    if sent:
        headers.append((b"cookie", "; ".join(sent).encode("latin-1")))
    return headers


_PLAIN_LOGIN = "access-token-unsecure-"


class _UploadProgress(HttpMiddleware):
    """ASGI middleware over Gradio's upload progress (`upload?upload_id=X` and the event
    stream `upload_progress?upload_id=X`): an upload_id over _UPLOAD_ID_CHARS gets 400 and
    one sentence, and what Gradio keeps about an upload_id is dropped once its stream has
    ended, or _FORGET_AFTER_S after its upload when nobody reads it. An upload that ends
    without Gradio marking it done (cut off, or refused half-way) is marked done as its
    request ends, so that the streams reading its progress end too (`_ended_upload`).

    Gradio kept an entry for every upload_id a client named, read or not, for as long as
    the server ran: 3,000 requests for made-up ids (404 each) grew the server by 25 MB.

    An address may follow _PROGRESS_STREAMS uploads at once; one more stream gets 429 and
    one sentence. A stream checks its upload every 50 ms for as long as the upload arrives,
    and an upload trickling at the slowest rate the body deadline allows lasts 11 hours for
    20 MB: one address following one such upload from 120 streams kept 11% of a core busy
    for all that time.
    """

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self.streams = ClientLoad(_PROGRESS_STREAMS)

    async def http(self, scope: Any, receive: Any, send: Any) -> None:
        path = str(scope.get("path", "")).rstrip("/")
        progress = path.endswith("/gradio_api/upload_progress")
        upload = path.endswith("/gradio_api/upload") and scope.get("method") == "POST"
        if not (progress or upload):
            await self.app(scope, receive, send)
            return
        query = urllib.parse.parse_qs(
            scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True
        )
        named = query.get("upload_id") or [""]
        # Gradio reads the last upload_id a query names, and this the first: a short one
        # first and a 30,000-character one after passed the length check, and Gradio kept
        # an entry under the long one for good (200 requests: 6 MB of names kept).
        upload_id = named[-1]
        if len(named) > 1 or len(upload_id) > _UPLOAD_ID_CHARS:
            await _drain(receive)
            await send_json(send, 400, {"detail": _BAD_UPLOAD_ID, "error": _BAD_UPLOAD_ID}, [])
            return
        address = client_address(scope) if progress else ""
        if progress and not self.streams.enter(address):
            await _drain(receive)
            body = {"detail": _TOO_MANY_STREAMS, "error": _TOO_MANY_STREAMS}
            await send_json(send, 429, body, [(b"retry-after", b"5")])
            return
        try:
            await self.app(scope, receive, send)
        finally:
            if progress:
                self.streams.leave(address)
            if upload_id and progress:
                _forget_upload(upload_id)
            elif upload_id:
                _ended_upload(upload_id)
                asyncio.get_running_loop().call_later(
                    _FORGET_AFTER_S, _forget_upload, upload_id, True
                )


def _ended_upload(upload_id: str) -> None:
    """Mark Gradio's progress for upload_id done once its upload request has ended, if
    Gradio did not (it marks only an upload read to its end).

    A stream reading an upload's progress ends when the upload is done, and until then
    checks it every 50 ms, with a heartbeat every 15 s that no deadline cuts: an upload cut
    off half-way was never done, so each stream reading it polled for as long as the server
    ran (120 such streams from one address kept 11% of a core busy, for good), and its
    entry was never dropped. Done, the stream says so and ends, and the entry is dropped
    _FORGET_AFTER_S later like any other; the upload's own answer says what went wrong.

    Example: an upload with upload_id "k3v9" whose client hangs up half-way -> a stream
             reading upload_progress?upload_id=k3v9 gets {"msg": "done"} and ends
    """
    from gradio import routes

    tracker = routes.file_upload_statuses
    statuses = getattr(tracker, "_statuses", None)
    if isinstance(statuses, dict) and upload_id in statuses:
        with contextlib.suppress(Exception):  # another Gradio: its own bookkeeping stands
            tracker.set_done(upload_id)


def _forget_upload(upload_id: str, finished: bool = False) -> None:
    """Drop Gradio's progress entry for upload_id: its wake-up signal, which Gradio never
    drops, and (`finished`: the upload ended a while ago) its status, unless a stream is
    still reading it or the upload is still arriving."""
    from gradio import routes

    tracker = routes.file_upload_statuses
    statuses = getattr(tracker, "_statuses", None)
    signals = getattr(tracker, "_signals", None)
    if not isinstance(statuses, dict) or not isinstance(signals, dict):
        return  # another Gradio: nothing known to drop
    status = statuses.get(upload_id)
    if status is not None:
        if not finished or not getattr(status, "is_done", False):
            return  # still arriving, or being read
        del statuses[upload_id]
    signals.pop(upload_id, None)


_WAITING_FILES = 1000  # files one address may leave waiting in Gradio's upload folder
_WAITING_FILES_IN_ALL = 10_000  # and all addresses together (empty files take no bytes)


class UploadBudget:
    """What files sent to Gradio's upload route, and not yet submitted to the chat, may take
    on disk: `total` bytes (and 10,000 files) in all, `per_client` bytes and `files` files
    from one address.

    Gradio keeps each uploaded file until it is submitted or swept (after 15 minutes), with
    no cap of its own: one visitor could send file after file of up to max_file_size and
    never submit them, filling the disk. An upload is checked against the budget by its
    declared Content-Length before anything is written; the files it wrote count until they
    leave the disk (added, refused, declined or swept). Used from the event loop only.

    Example: b = UploadBudget(total=100, per_client=60); b.refusal("a", 50) is None;
             b.reserve("a", 50); b.settle("a", 50, ["/tmp/gradio/x/a.txt"]) (a 50-byte file);
             b.refusal("a", 20) -> "Files uploaded from your address and not yet added…";
             b.refusal("b", 20) is None; once a.txt is deleted, b.refusal("a", 20) is None
    """

    def __init__(self, *, total: int, per_client: int, files: int = _WAITING_FILES) -> None:
        self.total, self.per_client, self.files = total, per_client, files
        self._waiting: dict[str, dict[str, int]] = {}  # address -> {path: size}
        self._reserved: dict[str, int] = {}  # address -> bytes of uploads being written

    @classmethod
    def from_settings(cls, settings: Settings) -> UploadBudget:
        return cls(
            total=settings.upload_waiting_bytes,
            per_client=settings.upload_waiting_bytes_per_client,
        )

    def _held(self, address: str) -> int:
        return sum(self._waiting.get(address, {}).values()) + self._reserved.get(address, 0)

    def _all(self) -> int:
        waiting = sum(sum(files.values()) for files in self._waiting.values())
        return waiting + sum(self._reserved.values())

    def _prune(self, addresses: Iterable[str]) -> None:
        """Forget the files of addresses that have left the disk."""
        for address in list(addresses):
            files = self._waiting.get(address, {})
            for path in [p for p in files if not os.path.isfile(p)]:
                del files[path]
            if not files:
                self._waiting.pop(address, None)

    def refusal(self, address: str, size: int) -> str | None:
        """The one sentence refusing an upload of size bytes from address, or None."""

        def over() -> str | None:
            held = self._waiting.get(address, {})
            if self._held(address) + size > self.per_client or len(held) >= self.files:
                return (
                    "Files uploaded from your address and not yet added to the documents "
                    f"come to {_size(self._held(address))} (at most {_size(self.per_client)} "
                    f"or {self.files} files): add or discard them first, or upload again in "
                    "15 minutes, when unused ones are cleared."
                )
            files = sum(len(waiting) for waiting in self._waiting.values())
            if self._all() + size > self.total or files >= _WAITING_FILES_IN_ALL:
                return (
                    "The server holds too many uploaded files waiting to be added "
                    f"({_size(self.total)} at most): upload again in a few minutes."
                )
            return None

        # Sizes only go down as files are added or swept: check the disk only when over.
        if over() is None:
            return None
        self._prune([address] if size > self.per_client else list(self._waiting))
        return over()

    def reserve(self, address: str, size: int) -> None:
        self._reserved[address] = self._reserved.get(address, 0) + size

    def settle(self, address: str, size: int, paths: Iterable[str]) -> None:
        """The upload of size bytes from address is written: count its files instead."""
        release(self._reserved, address, size)
        files = self._waiting.setdefault(address, {})
        for path in paths:
            with contextlib.suppress(OSError):
                files[path] = os.stat(path).st_size
        if not files:
            self._waiting.pop(address, None)


_UPLOAD_NEEDS_LENGTH = (
    "An upload must say its size (a Content-Length header): send the files as one "
    "multipart form, as the page does."
)


class _UploadLimit(HttpMiddleware):
    """ASGI middleware over Gradio's upload route: refuses an upload that would take its
    address, or the server, over the UploadBudget with 413 and one sentence before a byte
    is written (and one that declares no size with 411), and counts what it wrote."""

    def __init__(self, app: Any, budget: UploadBudget) -> None:
        super().__init__(app)
        self.budget = budget

    async def http(self, scope: Any, receive: Any, send: Any) -> None:
        path = str(scope.get("path", ""))
        if scope.get("method") != "POST" or not path.rstrip("/").endswith("/gradio_api/upload"):
            await self.app(scope, receive, send)
            return
        # Refusals are plain text, as Gradio's own "too large" is: the page shows the text
        # of a failed upload as it is ("HTTP 413: Files uploaded from your address...").
        declared = dict(scope.get("headers") or ()).get(b"content-length", b"")
        if not declared.isdigit():
            await _send_text(send, 411, _UPLOAD_NEEDS_LENGTH)
            return
        size, address = int(declared), client_address(scope)
        problem = self.budget.refusal(address, size)
        if problem is not None:
            await _drain(receive)
            await _send_text(send, 413, problem)
            return
        self.budget.reserve(address, size)
        status, chunks = 0, []

        async def watch(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                if status in (400, 413):
                    return  # Gradio's refusal: said again in one sentence below
            elif message["type"] == "http.response.body" and status in (200, 400, 413):
                chunks.append(message.get("body", b""))
                if status != 200:
                    if not message.get("more_body", False):
                        said = upload_refusal_sentence(b"".join(chunks).decode("utf-8", "replace"))
                        await _send_text(send, status, said)
                    return
            await send(message)

        paths: list[str] = []
        try:
            await self.app(scope, receive, watch)
        finally:
            # Gradio answers with the list of the files' paths (moved into its cache by
            # a background task that has run by now).
            with contextlib.suppress(ValueError, TypeError):
                listed = json.loads(b"".join(chunks)) if chunks and status == 200 else []
                paths = [p for p in listed if isinstance(p, str)]
            self.budget.settle(address, size, paths)


_UPLOAD_FORM = (
    "An upload is a multipart/form-data form of files, each a part named 'files' with its "
    "file name: send the files as the page does."
)
_TOO_MANY_FILES = re.compile(r"Too many files\. Maximum number of files is (\d+)")
_FILE_TOO_BIG = re.compile(r"File size exceeded maximum allowed size of (\d+) bytes")
# Gradio's and Starlette's refusals of a form they cannot read, each a fragment of parser
# state ("Could not parse multipart request: Expected boundary character 45, got 120 at
# index 2") or of its own API ("Invalid content type."), none saying what to send.
_FORM_PROBLEMS = (
    "Invalid content type",
    "Missing boundary",
    "Invalid multipart",
    "Could not parse multipart",
    "Too many fields",
    "Field exceeded",
    "Part exceeded",
    'The Content-Disposition header field "name"',
)


def upload_refusal_sentence(text: str) -> str:
    """One sentence, saying what to send, for Gradio's refusal of an upload (its text, plain
    or a JSON "detail"); the chat's own refusals pass as they are.

    Example: "Could not parse multipart request: Expected boundary character 45, got 120 at
             index 2" -> "An upload is a multipart/form-data form of files, each a part
             named 'files' with its file name: send the files as the page does.";
             "Too many files. Maximum number of files is 1000." -> "An upload holds at most
             1,000 files: send the others in another upload."
    """
    with contextlib.suppress(ValueError, TypeError, KeyError):
        text = str(json.loads(text)["detail"])
    if many := _TOO_MANY_FILES.search(text):
        most = int(many.group(1))
        return f"An upload holds at most {most:,} files: send the others in another upload."
    if big := _FILE_TOO_BIG.search(text):
        limit = int(big.group(1)) / (1024 * 1024)
        return f"A file of the upload is over the {limit:,.0f} MB upload limit: split it first."
    if text.startswith("Headers exceeded"):
        return (
            "A part of the upload has headers too long to read (a file name that long): "
            "rename the file and upload it again."
        )
    if text.startswith(_FORM_PROBLEMS):
        return _UPLOAD_FORM
    return text


_UPLOAD_PARTS = (
    "An upload is a form of files, each a part named 'files' with a file name other than "
    "'..': send the files as the page does."
)
_UPLOAD_CUT = "The upload stopped before its end: send it again."


def _tidy_uploads() -> None:
    """Make Gradio's upload route refuse a form it would fail on half-way, and delete the
    files of an upload its client cut off; once per process (Gradio reads its upload
    form with one parser class, route_utils.GradioMultiPartParser, for every app).

    Each file is kept in a folder of its own (Gradio's, named by its content, was shared by
    every visitor who sent the same file). Gradio's upload route wrote each file of a form to
    disk as it arrived, then failed on a plain field named "files" (a 500 and a 100-line
    traceback), skipped a file part under another name, refused a file named "..", or lost
    the client mid-body (another traceback), keeping every file written so far where nothing
    deletes it (its sweep knows only the files it answered with) and no budget counts it: up
    to 256 MB a request. Such a part is now refused (400, one sentence) as its head arrives,
    when Gradio deletes what it wrote, and an upload cut off is deleted too.
    """
    from gradio import route_utils
    from gradio.exceptions import InvalidPathError
    from gradio.utils import DeveloperPath, UserProvidedPath, safe_join
    from gradio_client.utils import strip_invalid_filename_characters
    from starlette.formparsers import MultiPartException

    parser: Any = route_utils.GradioMultiPartParser
    if getattr(parser, "tidy", False):
        return

    class TidyUploads(parser):
        tidy = True

        def on_headers_finished(self) -> None:
            super().on_headers_finished()
            part = self._current_part
            if part.field_name != "files" or part.file is None:
                raise MultiPartException(_UPLOAD_PARTS)
            # Gradio names the folder a file is kept in by the hash of its content, so two
            # visitors sending one file shared one copy (the chat deletes it once either's
            # upload is handled, and the other's was gone), and a path told whether someone
            # had sent that file before: a random salt gives each upload a folder of its own.
            part.file.sha.update(secrets.token_bytes(16))
            if part.file.filename:  # as route_utils.upload_fn names the file it keeps
                name = strip_invalid_filename_characters(Path(part.file.filename).name)
                try:
                    safe_join(DeveloperPath(str(self.upload_dir)), UserProvidedPath(name))
                except InvalidPathError as exc:
                    raise MultiPartException(_UPLOAD_PARTS) from exc

        async def parse(self) -> Any:
            try:
                return await super().parse()
            except MultiPartException:
                raise  # Gradio has deleted the files
            except BaseException as exc:
                for file in self._files_to_close_on_error:
                    with contextlib.suppress(OSError):
                        file.close()
                        os.unlink(file.name)
                if isinstance(exc, Exception):  # the client hung up: one sentence, no trace
                    raise MultiPartException(_UPLOAD_CUT) from exc
                raise

    setattr(route_utils, "GradioMultiPartParser", TidyUploads)  # noqa: B010 (mypy: a type)
    route_utils.delete_files_created_by_app = _sweeping_folders(
        route_utils.delete_files_created_by_app
    )


def _sweeping_folders(sweep: Callable[[Any, int | None], None]) -> Callable[..., None]:
    """Gradio's sweep of old uploads (route_utils.delete_files_created_by_app), also removing
    each folder it leaves empty inside the upload folder.

    Gradio deleted an unsubmitted upload's file after 15 minutes but kept its folder, one for
    each upload (each has a folder of its own): a client sending 1,000 small files a request,
    never submitted, left 1,000 empty folders in the temporary folder every 15 minutes, for
    as long as the server ran (the disk's inodes, and a folder to list that grew for good).

    Example: after the sweep deletes /tmp/gradio/ab12/notes.txt, /tmp/gradio/ab12 goes too.
    """

    def swept(blocks: Any, age: int | None) -> None:
        folders = {
            os.path.dirname(str(file))
            for files in getattr(blocks, "temp_file_sets", [])
            for file in list(files)
        }
        sweep(blocks, age)
        root = os.path.realpath(str(getattr(blocks, "GRADIO_CACHE", "") or ""))
        for folder in folders:
            if root and os.path.dirname(os.path.realpath(folder)) == root:
                with contextlib.suppress(OSError):
                    os.rmdir(folder)  # only when empty: a file still waiting keeps it

    swept.__wrapped__ = sweep  # type: ignore[attr-defined]
    return swept


def remote_file_path(payload: Any, upload_folder: str | Path | None = None) -> str | None:
    """The first file in a request's JSON that the server would have to fetch or look up
    by itself: a `path` that is a URL or a relative path, or (given Gradio's
    `upload_folder`) an absolute path outside it. None when every file is named by an
    absolute path (inside the folder, when given).

    Gradio downloads a file whose path is an http(s) URL before any handler runs: a visitor
    could have the server fetch any public address (its own check refuses private ones)
    and index what came back. A relative path made its refusal name the server's working
    folder, and a path elsewhere on the server ("/etc/passwd") wrote a 25-line traceback to
    the log for each request. Only what the page's upload button sends is needed: an
    absolute path in Gradio's upload folder. Walked without recursion, so deep nesting
    costs no stack.

    Example: remote_file_path({"data": [[{"path": "https://example.com/a.txt"}]]})
             == "https://example.com/a.txt";
             remote_file_path({"data": [{"path": "/tmp/gradio/ab/a.txt"}]}) is None;
             remote_file_path({"data": [{"path": "notes.txt"}]}) == "notes.txt";
             remote_file_path({"data": [{"path": "/etc/passwd"}]}, "/tmp/gradio")
             == "/etc/passwd"
    """
    root = os.path.realpath(upload_folder) if upload_folder is not None else None
    stack = [payload]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            path = item.get("path")
            if isinstance(path, str) and ("://" in path or not os.path.isabs(path)):
                return path
            if isinstance(path, str) and root is not None and not _inside(path, root):
                return path
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def _inside(path: str, root: str) -> bool:
    """Is the absolute path inside the folder root (a real path), once resolved?"""
    try:
        real = os.path.realpath(path)
    except (OSError, ValueError):  # a NUL byte, a loop of links
        return False
    return real != root and os.path.commonpath([real, root]) == root


_NO_DEFAULT = object()


@dataclass(frozen=True)
class CallShape:
    """What one Gradio endpoint takes: its parameter names, and the default of each
    (`_NO_DEFAULT` for one a caller must send)."""

    endpoint: str  # "The /ask endpoint", or "The page's event 3" without an API name
    names: tuple[str, ...]
    defaults: tuple[Any, ...]
    inputs: tuple[Any, ...] = ()  # the input components, whose values `input_problem` checks
    selects: bool = False  # its handler reads what was selected (a gr.SelectData)

    @classmethod
    def of(cls, fn: Any) -> CallShape:
        """From a Gradio BlockFunction: names and defaults from its Python signature when that
        matches its inputs one to one (gr.api endpoints), else every input required."""
        import inspect

        import gradio as gr

        count = len(fn.inputs)
        endpoint = f"The /{fn.api_name} endpoint" if fn.api_name else f"The page's event {fn._id}"
        try:
            params = list(inspect.signature(fn.fn).parameters.values())
        except (TypeError, ValueError):
            params = []
        # A gr.Request parameter is Gradio's to fill, never a value a call sends.
        params = [
            p
            for p in params
            if not (isinstance(p.annotation, type) and issubclass(p.annotation, gr.Request))
        ]
        selects = any(
            isinstance(p.annotation, type) and issubclass(p.annotation, gr.SelectData)
            for p in params
        )
        if len(params) == count and all(p.kind is p.POSITIONAL_OR_KEYWORD for p in params):
            return cls(
                endpoint,
                tuple(p.name for p in params),
                tuple(_NO_DEFAULT if p.default is p.empty else p.default for p in params),
                tuple(fn.inputs),
                selects,
            )
        names = tuple(f"value {i + 1}" for i in range(count))
        return cls(endpoint, names, (_NO_DEFAULT,) * count, tuple(fn.inputs), selects)


def input_problem(component: Any, value: Any) -> str | None:
    """What is wrong with a value sent for one of the page's input components, in words
    ("must be a number from 1 to 10"), or None when Gradio can take it.

    Gradio answers a value of the wrong kind (text for the slider, a number for the question)
    with a many-line error, and writes a 45-line traceback to the server's log for each: a
    visitor sending them in a loop filled the disk. Only the kinds the chat's components
    take are checked; any other component's value passes.

    Example: input_problem(gr.Slider(1, 10), "abc") == "must be a number from 1 to 10";
             input_problem(gr.Slider(1, 10), 4) is None;
             input_problem(gr.Textbox(), None) == "must be text"
    """
    import gradio as gr

    if isinstance(component, gr.Slider | gr.Number):
        low, high = getattr(component, "minimum", None), getattr(component, "maximum", None)
        span = f" from {low:g} to {high:g}" if low is not None and high is not None else ""
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not math.isfinite(value):
            return f"must be a number{span}"
        if (low is not None and value < low) or (high is not None and value > high):
            return f"must be a number{span}"
        return None
    if isinstance(component, gr.Textbox):
        return None if isinstance(value, str) else "must be text"
    if isinstance(component, gr.Radio):
        allowed = [
            choice[1] if isinstance(choice, tuple) else choice for choice in component.choices
        ]
        if value is None or (isinstance(value, str) and value in allowed):
            return None
        return f"must be one of {', '.join(map(str, allowed))}"
    if isinstance(component, gr.Chatbot | gr.File):
        model = component.data_model
        if value is None or model is None:
            return None
        try:  # what Gradio's preprocessing reads it with, so the same messages pass
            model.model_validate(value)
        except Exception:
            kind = "a list of chat messages" if isinstance(component, gr.Chatbot) else "files"
            return f"must be {kind}"
        return None
    return None


def complete_call(data: Any, shape: CallShape, *, extra_allowed: bool = False) -> list[Any]:
    """A request's `data` list, with the defaults of the parameters it leaves out; InputError
    (one sentence naming what to send) when it is not a list, leaves out one that has no
    default, or sends more values than the endpoint takes (`extra_allowed`: Gradio's own
    page route, which ignores them).

    Gradio itself answers a short list with a many-line message listing its internal objects.

    Example: with shape = CallShape("The /ask endpoint", ("question", "history", "k",
             "mode"), (_NO_DEFAULT, None, None, None)):
             complete_call(["Who?"], shape) == ["Who?", None, None, None];
             complete_call([], shape) raises InputError("The /ask endpoint takes up to 4
             values (question, history, k, mode) and needs at least question: this request
             sent 0; send them as a JSON list in \"data\".")
    """
    names, defaults = shape.names, shape.defaults
    required = max((i + 1 for i, d in enumerate(defaults) if d is _NO_DEFAULT), default=0)
    how = 'send them as a JSON list in "data"'
    if not names:
        wanted, how = f"{shape.endpoint} takes no values", 'send "data": []'
    elif required < len(names):
        wanted = f"{shape.endpoint} takes up to {len(names)} values ({', '.join(names)})"
    else:
        plural = "s" if len(names) != 1 else ""
        wanted = f"{shape.endpoint} takes {len(names)} value{plural} ({', '.join(names)})"
    if not isinstance(data, list):
        raise InputError(f"{wanted}: {how}.")
    if 0 < required < len(names) and len(data) < required:
        raise InputError(
            f"{wanted} and needs at least {', '.join(names[:required])}: "
            f"this request sent {len(data)}; {how}."
        )
    if len(data) < required or (len(data) > len(names) and not extra_allowed):
        raise InputError(f"{wanted}, and this request sent {len(data)}: {how}.")
    return [*data, *defaults[len(data) :]]


def check_named_call(body: Any, shape: CallShape) -> None:
    """InputError (one sentence) for a call by parameter name (Gradio's /call/v2 route) that
    is not a JSON object, leaves out a parameter without a default, or names one the endpoint
    does not take; Gradio itself answers those with a bare "Internal Server Error".

    Example: with shape = CallShape("The /ask endpoint", ("question", "k"), (_NO_DEFAULT,
             None)): check_named_call({"question": "Who?"}, shape) returns None;
             check_named_call({"k": 3}, shape) raises InputError("The /ask endpoint takes
             question, k by name and needs question: send them as a JSON object.")
    """
    how = "send them as a JSON object"
    wanted = f"{shape.endpoint} takes {', '.join(shape.names) or 'no values'} by name"
    if not isinstance(body, dict):
        raise InputError(f"{wanted}: {how}.")
    missing = [n for n, d in zip(shape.names, shape.defaults, strict=True) if d is _NO_DEFAULT]
    if any(n not in body for n in missing):
        raise InputError(f"{wanted} and needs {', '.join(missing)}: {how}.")
    unknown = [str(n) for n in body if n not in shape.names and n != "oauth_token"]
    if unknown:
        raise InputError(f"{wanted}, not {', '.join(unknown)[:200]}: {how}.")


# Gradio's routes that take a `data` list for one endpoint, named in the path or, for the
# page's own route, by fn_index in the body; and its route that takes values by name.
_NAMED_CALL = re.compile(r"/gradio_api/(?:call|run|api)/([^/]+)/?$")
_BY_NAME_CALL = re.compile(r"/gradio_api/call/v2/([^/]+)/?$")
_PAGE_CALL = re.compile(r"/gradio_api/queue/join/?$")


def call_target(path: str, payload: Any) -> tuple[str | int | None, str]:
    """Which endpoint a POST to Gradio's API calls, and how: (its API name, "by name") for
    /call/v2/NAME, (its API name, "data") for /call, /run or /api/NAME, (the page event's
    index, "page") for /queue/join; (None, "") for anything else.

    Example: call_target("/gradio_api/call/ask", {"data": []}) == ("ask", "data");
             call_target("/gradio_api/queue/join", {"fn_index": 3}) == (3, "page");
             call_target("/gradio_api/upload", {}) == (None, "")
    """
    if by_name := _BY_NAME_CALL.search(path):
        return by_name.group(1), "by name"
    if named := _NAMED_CALL.search(path):
        return named.group(1), "data"
    if _PAGE_CALL.search(path) and isinstance(payload, dict):
        index = payload.get("fn_index")
        if isinstance(index, int) and not isinstance(index, bool):
            return index, "page"
    return None, ""


# Gradio's routes for components the chat does not have: its screen recorder's, which runs
# ffmpeg (where installed) on any video a visitor posts, and the component functions' route,
# which answered an unknown component with a traceback in the log.
_UNUSED_ROUTE = re.compile(r"/gradio_api/(?:process_recording|component_server)/?$")
_NOT_OFFERED = "The chat has no recordings or component functions: nothing is served here."

# Gradio's development server's reload stream (the page opens it only in development mode),
# which woke the server every 50 ms for each connection held open, and its monitoring pages
# (a traffic summary, a dashboard), which a mounted app served unless told not to.
_DEV_ROUTE = re.compile(r"/gradio_api/dev/")
_NOT_DEVELOPMENT = (
    "The chat is not a development server: it has no reload events, so reload the page yourself."
)
# Gradio's deep links, which the chat does not offer: each request wrote the session's
# components to a file of the upload folder, for any visitor naming a session.
_DEEP_LINK = re.compile(r"/gradio_api/deep_link/?$")
_NO_DEEP_LINKS = "The chat has no links to a conversation: nothing is saved here."
_MONITORING = re.compile(r"^/monitoring(?:/|$)")
_NO_MONITORING = "Monitoring is off on this server: nothing is served here."
# Gradio's routes for streaming inputs and outputs (a live microphone or camera, audio or
# video made as it plays), which the chat does not have: POST /stream/{event_id} replaced
# the values of a call waiting in the queue with whatever it was sent, past every check
# made as the call joined; and its custom components' files route, which wrote each
# request's names, newlines and all, to the server's log.
_MEDIA_ROUTE = re.compile(r"/gradio_api/(?:stream|custom_component)/")
_NO_MEDIA = (
    "The chat has no streaming media or custom components: nothing is served here, so send "
    "values through /gradio_api/call or the page."
)

# Gradio's file route, given a web address in place of a file (/gradio_api/file=https://…,
# or its older spelling /gradio_api/file/…), fetched it from the server and streamed it back.
_FILE_BY_ADDRESS = re.compile(r"/gradio_api/file[=/][A-Za-z][A-Za-z0-9+.\-]*:")
_NO_FETCHING = (
    "The chat serves only files uploaded to it: it never fetches a web address for a visitor."
)

_FILE_ROUTE = re.compile(r"/gradio_api/file[=/]")
_ONE_RANGE = re.compile(rb"\s*bytes=\d*-\d*\s*")


def _one_range(scope: Any) -> Any:
    """scope without its Range header unless that names one range ("bytes=0-99"): HTTP lets
    a server ignore a Range and send the whole file, and Gradio's file route read any other
    (several ranges, as HTTP allows) as a 500 and a 113-line traceback in the log.

    Example: a request with "Range: bytes=0-1,4-5" -> the same request without it
    """
    headers = scope.get("headers") or []
    kept = [(k, v) for k, v in headers if k.lower() != b"range" or _ONE_RANGE.fullmatch(v)]
    return scope if len(kept) == len(headers) else {**scope, "headers": kept}


_LOCAL_FILES_ONLY = (
    "Files reach the chat only through its upload button: a request that names a web address "
    "or a path on the server instead of an uploaded file is refused."
)


_WHOLE_INDEX = "A page event's fn_index must be a whole number: reload the page."

# A body Python's JSON reader cannot decode (not UTF-8, -16 or -32: a gzip file, Latin-1
# text): FastAPI answered "There was an error parsing the body", which says not what to send.
_NOT_TEXT = (
    "The request body is not JSON text in UTF-8: send a JSON object, as the page and "
    "gradio_client do."
)


def _loose_index(payload: Any) -> bool:
    """Does a request name its page event by something other than a whole number?

    Gradio reads "fn_index" leniently ("0", 0.0 and true all call event 0), while the checks
    here key on the number: such a request skipped every check (its values, its history's
    length, the client's questions in flight) and wrote a traceback to the log.

    Example: _loose_index({"fn_index": "0"}) -> True; _loose_index({"fn_index": 0}) -> False;
             _loose_index({"data": []}) -> False
    """
    index = payload.get("fn_index") if isinstance(payload, dict) else None
    return index is not None and (isinstance(index, bool) or not isinstance(index, int))


def _selection(payload: Any) -> bool:
    """Does a request carry the event data a gr.SelectData is made from (an object with the
    selection's index and value)? Gradio read it unchecked: a click on an example sent
    without it wrote a 20-line traceback to the log (TypeError, KeyError).

    Example: _selection({"event_data": {"index": 0, "value": {"text": "Who?"}}}) -> True;
             _selection({"event_data": None}) -> False; _selection({}) -> False
    """
    data = payload.get("event_data") if isinstance(payload, dict) else None
    return isinstance(data, dict) and "index" in data and "value" in data


_SESSION_CHARS = 64  # the page names its sessions with a dozen characters, gradio_client 32
_LONG_SESSION = (
    f"A session_hash is at most {_SESSION_CHARS} characters of text: reload the page, or send "
    "the one the page makes."
)


def _long_session(payload: Any) -> bool:
    """Does a request name its page session by something other than a short text?

    Gradio keeps up to 10,000 sessions under the names their clients give them, at any
    length: 50 questions each naming a new session of 1 MB grew the server by 58 MB for
    good, on the way to 70 GB with names just under the body limit.

    Example: _long_session({"session_hash": "x" * 65}) -> True;
             _long_session({"session_hash": "k3v9q2m1p0z"}) -> False; _long_session([]) -> False
    """
    session = payload.get("session_hash") if isinstance(payload, dict) else None
    return session is not None and (not isinstance(session, str) or len(session) > _SESSION_CHARS)


class _CheckedCalls:
    """ASGI middleware over Gradio's API, run before Gradio sees a request:
    - a request whose JSON names a file by URL, by a relative path or outside Gradio's
      upload folder (`remote_file_path`) gets 400 and one sentence;
    - a call that sends too few or too many values (`complete_call`, `check_named_call`),
      or a value of the wrong kind (`checked_values`), gets 400 and one sentence, one that
      leaves out parameters with defaults gets them filled in (so `/ask` takes a question
      alone), and its conversations are cut (`bound_call`), whichever route it came by;
    - a call to an endpoint or page event that does not exist gets 404 and one sentence,
      and so does a request to a route of components the chat does not have (recordings,
      streaming media, custom components), to Gradio's development reload stream or
      (unless monitoring is on) to its monitoring pages;
    - a request for a file by web address (`/gradio_api/file=https://…`), which Gradio
      fetched from the server, gets 403 and one sentence;
    - a request naming its page session by more than _SESSION_CHARS characters (or not by
      text) gets 400 and one sentence (`_long_session`).
    Runs inside _BodyLimit, so a body read here is at most its limit. `blocks`: the chat's
    gr.Blocks, whose endpoints' shapes are read on first use."""

    def __init__(
        self,
        app: Any,
        blocks: Any = None,
        load: ClientLoad | None = None,
        sessions: int = 0,
        events: int = 0,
    ) -> None:
        self.app, self.blocks, self.load = app, blocks, load
        self._shapes: dict[str | int, CallShape] | None = None
        self._questions: frozenset[str | int] | None = None
        self.sessions = sessions  # page sessions kept per address; 0: no limit
        self._sessions: dict[str, collections.OrderedDict[str, None]] = {}
        # Events per address in Gradio's queue (waiting or running) and joining it; 0: none.
        self.events = ClientLoad(events, functools.partial(_queued_events, blocks))

    def _keep_session(self, address: str, session: str) -> None:
        """Note the page session a call names as address's newest, and forget (with its
        state) the address's oldest once it has more than `sessions`.

        Gradio keeps up to 10,000 sessions under the names their clients give, each with
        the components its events changed (the documents' list, tens of KB with hundreds of
        documents): one client naming a new session for each cheap page event could hold
        them all, gigabytes with a large folder, and push every visitor's session out."""
        holder = getattr(self.blocks, "state_holder", None)
        if not self.sessions or holder is None:
            return
        kept = self._sessions.setdefault(address, collections.OrderedDict())
        kept[session] = None
        kept.move_to_end(session)
        while len(kept) > self.sessions:
            oldest, _ = kept.popitem(last=False)
            with holder.lock:  # Gradio's own eviction takes it
                holder.session_data.pop(oldest, None)
                holder.time_last_used.pop(oldest, None)
        if len(self._sessions) > _SESSION_ADDRESSES:
            # Gradio forgets sessions too (past 10,000): so do these notes, by address.
            live = holder.session_data
            for where in list(self._sessions):
                names = self._sessions[where]
                for name in [n for n in names if n not in live and n != session]:
                    del names[name]
                if not names:
                    del self._sessions[where]

    def asks(self, key: str | int) -> bool:
        """Does a call to key (an API name or a page event's index) ask a question?"""
        if self.blocks is None:
            return False
        if self._questions is None:
            keys: set[str | int] = set()
            for fn in self.blocks.fns.values():
                if getattr(fn.fn, "__name__", "") in _QUESTION_HANDLERS:
                    keys.update(k for k in (fn._id, fn.api_name) if k is not None)
            self._questions = frozenset(keys)
        return key in self._questions

    def shape(self, key: str | int) -> CallShape | None:
        if self.blocks is None:
            return None
        if self._shapes is None:
            shapes: dict[str | int, CallShape] = {}
            for fn in self.blocks.fns.values():
                shapes[fn._id] = CallShape.of(fn)
                if fn.api_name:
                    shapes[fn.api_name] = shapes[fn._id]
            self._shapes = shapes
        return self._shapes.get(key)

    def unknown(self, key: str | int) -> str:
        """One sentence for a call to an endpoint or page event that does not exist."""
        if isinstance(key, int):
            return f"The page has no event {key}: reload the page."
        public = sorted(
            f"/{fn.api_name}"
            for fn in self.blocks.fns.values()
            if fn.api_name and getattr(fn, "api_visibility", "public") == "public"
        )
        return f"There is no /{key[:100]} endpoint: the chat's API has {', '.join(public)}."

    def _inspect(
        self, path: str, raw: bytes
    ) -> tuple[int, str | None, str | int | None, bytes | None, str | None]:
        """A POST's (status, problem: the one sentence refusing it or None, the endpoint or
        page event it calls, its body rewritten or None when it stands as sent, the page
        session it names or None)."""
        try:
            payload = json.loads(raw)
        except UnicodeDecodeError:
            return 400, _NOT_TEXT, None, None, None
        except (ValueError, RecursionError):
            payload = None  # not JSON: Gradio answers it as before
        given = payload
        if _SURROGATE.search(raw):
            payload = well_formed(payload)
        folder = getattr(self.blocks, "GRADIO_CACHE", None)
        remote = remote_file_path(payload, folder) is not None
        status, problem = 400, _LOCAL_FILES_ONLY if remote else None
        if problem is None and _loose_index(payload):
            problem = _WHOLE_INDEX
        if problem is None and _long_session(payload):
            problem = _LONG_SESSION
        key, route = call_target(path, payload)
        shape = self.shape(key) if key is not None else None
        body = None
        if problem is None and self.blocks is not None and key is not None:
            if shape is None:
                # Gradio answers an unknown name or event with a bare Internal Server Error.
                status, problem = 404, self.unknown(key)
            elif shape.selects and not _selection(payload):
                problem = (
                    f"{shape.endpoint} needs what was selected (its index and value): "
                    "reload the page."
                )
            elif route == "by name":
                try:
                    check_named_call(payload, shape)
                    named = [payload.get(name, _NO_DEFAULT) for name in shape.names]
                    values = checked_values(shape, named)
                except InputError as exc:
                    problem = str(exc)
                else:
                    if values is not named:
                        given = zip(shape.names, values, strict=True)
                        cut = {n: v for n, v in given if v is not _NO_DEFAULT}
                        body = json.dumps({**payload, **cut}).encode()
            elif isinstance(payload, dict) and "data" in payload:
                try:
                    sent = complete_call(payload["data"], shape, extra_allowed=route == "page")
                    data = checked_values(shape, sent)
                except InputError as exc:
                    problem = str(exc)
                else:
                    if len(data) != len(payload["data"]) or data is not sent:
                        body = json.dumps({**payload, "data": data}).encode()
        if body is None and payload is not given:
            body = json.dumps(payload).encode()
        session = payload.get("session_hash") if isinstance(payload, dict) else None
        return status, problem, key, body, session if isinstance(session, str) else None

    def _noting_events(self, send: Any) -> Any:
        """send, noting the event a call to the queue started (its 200 answer names it), so
        that its answer is dropped if nobody reads it (`_forget_unread`)."""
        started, chunks = [0], []

        async def noting(message: Any) -> None:
            if message["type"] == "http.response.start":
                started[0] = message["status"]
            elif message["type"] == "http.response.body" and started[0] == 200:
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    with contextlib.suppress(ValueError, AttributeError):
                        self._forget_unread(str(json.loads(b"".join(chunks))["event_id"]))
            await send(message)

        return noting

    def _forget_unread(
        self, event_id: str, session: str | None = None, ready: bool = False
    ) -> None:
        """Drop the answer to event_id from Gradio's queue if nobody has read it
        _UNREAD_AFTER_S after it was ready (a reader gets it within moments); checked every
        _UNREAD_AFTER_S from the call on.

        Gradio answers a question whether or not its client ever reads the answer, and keeps
        the answer (with the chat the question carried) until it is read, for up to 2,000
        sessions and any number of questions each: 40 questions with a 3 MB chat, never
        read, grew the server by 100 MB."""
        queue = getattr(self.blocks, "_queue", None)
        if queue is None:
            return
        event = queue.event_ids_to_events.get(event_id)
        if session is None:
            session = event.session_hash if event is not None else event_id
        later = asyncio.get_running_loop().call_later
        if event is not None:  # waiting or being answered
            later(_UNREAD_AFTER_S, self._forget_unread, event_id, session)
            return
        ids = queue.pending_event_ids_session.get(session)
        if not ids or event_id not in ids:
            return  # read
        if not ready:
            later(_UNREAD_AFTER_S, self._forget_unread, event_id, session, True)
            return
        ids.discard(event_id)
        unread = queue.pending_messages_per_session.get(session)
        if not ids:
            del queue.pending_event_ids_session[session]
            queue.pending_messages_per_session.pop(session, None)
        elif isinstance(getattr(unread, "_queue", None), collections.deque):
            # Other events of the session may still be read: drop this one's messages only.
            kept = [m for m in unread._queue if getattr(m, "event_id", None) != event_id]
            unread._queue.clear()
            unread._queue.extend(kept)

    def _unserved(self, path: str) -> str | None:
        """The one sentence refusing a route of Gradio's that the product does not serve
        (its development reload stream, its streaming media and custom components' routes,
        its deep links; its monitoring pages unless the chat's Blocks turned monitoring on),
        or None."""
        if _DEV_ROUTE.search(path):
            return _NOT_DEVELOPMENT
        if _MEDIA_ROUTE.search(path):
            return _NO_MEDIA
        if _DEEP_LINK.search(path):
            return _NO_DEEP_LINKS
        if _MONITORING.search(path) and getattr(self.blocks, "enable_monitoring", None) is not True:
            return _NO_MONITORING
        return None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = str(scope.get("path", "")) if scope["type"] == "http" else ""
        refusal = self._unserved(path)
        if refusal is not None:
            await _drain(receive)
            await send_json(send, 404, {"detail": refusal, "error": refusal}, [])
            return
        if _FILE_BY_ADDRESS.search(path):
            await _drain(receive)
            await send_json(send, 403, {"detail": _NO_FETCHING, "error": _NO_FETCHING}, [])
            return
        if _FILE_ROUTE.search(path):
            scope = _one_range(scope)
        if (
            scope.get("method") != "POST"
            or "/gradio_api/" not in path
            or path.endswith("/gradio_api/upload")
        ):
            await self.app(scope, receive, send)
            return
        if _UNUSED_ROUTE.search(path):
            await _drain(receive)
            await send_json(send, 404, {"detail": _NOT_OFFERED, "error": _NOT_OFFERED}, [])
            return
        messages, chunks = [], []
        while True:
            message = await receive()
            messages.append(message)
            chunks.append(message.get("body", b""))
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        raw = b"".join(chunks)
        if len(raw) < _INLINE_BYTES:
            status, problem, key, body, session = self._inspect(path, raw)
        else:  # parsing megabytes here would hold every other request meanwhile
            import anyio

            status, problem, key, body, session = await anyio.to_thread.run_sync(
                self._inspect, path, raw
            )
        if body is not None:
            messages = [{"type": "http.request", "body": body, "more_body": False}]
            scope = _with_length(scope, len(body))
        if problem is not None:
            await send_json(send, status, {"detail": problem, "error": problem}, [])
            return

        async def replay() -> Any:
            return messages.pop(0) if messages else await receive()

        if key is not None:
            send = self._noting_events(send)
            if session is not None:
                self._keep_session(client_address(scope), session)
            # Every call joins Gradio's queue and returns at once, so nothing else bounds
            # how many one address queues: counted while it joins, then while queued.
            address = client_address(scope)
            if not self.events.enter(address):
                refusal = _too_many_events(self.events.limit)
                headers = [(b"retry-after", b"1")]
                await send_json(send, 429, {"detail": refusal, "error": refusal}, headers)
                return
            try:
                await self._call(scope, replay, send, key)
            finally:
                self.events.leave(address)
            return
        await self.app(scope, replay, send)

    async def _call(self, scope: Any, replay: Any, send: Any, key: str | int) -> None:
        """Pass on a call to an endpoint or page event, a question only while its address has
        fewer than ClientLoad's limit in flight."""
        if self.load is None or not self.asks(key):
            await self.app(scope, replay, send)
            return
        # A question joins Gradio's queue and is answered later: it counts while this
        # request puts it there, then while the queue holds it.
        address = client_address(scope)
        if not self.load.enter(address):
            refusal = self.load.refusal
            headers = [(b"retry-after", b"1")]
            await send_json(send, 429, {"detail": refusal, "error": refusal}, headers)
            return
        try:
            await self.app(scope, replay, send)
        finally:
            self.load.leave(address)


# Half of a UTF-16 pair escaped in JSON ("\\ud800"), or written as UTF-8 would write it were
# it allowed (ED A0-BF, then a byte; Python's JSON reader decodes bytes with surrogatepass):
# either is read as a lone surrogate, and a 422 answer echoing one failed to encode (a 500,
# and a traceback in the log).
_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}|\xed[\xa0-\xbf]")


def well_formed(value: Any) -> Any:
    """A JSON value with each lone surrogate in its text (keys included) read as U+FFFD, and
    each pair escaped in halves as its character; value itself when it holds none.

    JSON may escape half of a pair, and Python reads it as a lone surrogate, which Gradio's
    JSON writer refuses: a question holding one was echoed into the chat, and the answer's
    event stream broke off with a 120-line traceback in the log.

    Example: well_formed({"data": ["Who?\\ud800", 4]}) == {"data": ["Who?\\ufffd", 4]};
             well_formed(["\\ud83d\\ude00"]) == ["\\U0001f600"]
    """
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
        return value
    if isinstance(value, list):
        items = [well_formed(item) for item in value]
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    if isinstance(value, dict):
        pairs = {well_formed(k): well_formed(v) for k, v in value.items()}
        changed = any(
            a is not b or c is not d
            for (a, c), (b, d) in zip(pairs.items(), value.items(), strict=True)
        )
        return pairs if changed or len(pairs) != len(value) else value
    return value


# An answer that nobody has read this long after it was ready is dropped (a client reading
# its answer gets it within moments of it being ready).
_UNREAD_AFTER_S = 60.0

# Addresses whose page sessions _CheckedCalls notes before it forgets those Gradio no longer
# keeps.
_SESSION_ADDRESSES = 10_000

# A request body this small is checked in the event loop; a bigger one in a worker thread:
# one client posting 6 MB conversations from 8 connections made another visitor's request
# wait 3.4 s while each was parsed.
_INLINE_BYTES = 64 * 1024

# History messages an /ask call hands on: the bot keeps far fewer (max_history_messages),
# and says when it left older ones out, which it still can with this many.
_HISTORY_SENT = 100


def _recent_history(shape: CallShape, data: list[Any]) -> list[Any]:
    """data, with an /ask call's history list cut to its last _HISTORY_SENT messages (data
    itself when there is nothing to cut).

    A 7 MB history of 250,000 empty messages took 9.5 s of the server's time (Gradio reads
    and copies it several times before the bot keeps its last few); cut here, it costs what
    reading the request costs.

    Example: with the /ask shape, ["Who?", [m1, ..., m300]] -> ["Who?", [m201, ..., m300]]
    """
    if "history" not in shape.names or shape.endpoint != "The /ask endpoint":
        return data
    at = shape.names.index("history")
    history = data[at] if at < len(data) else None
    if not isinstance(history, list) or len(history) <= _HISTORY_SENT:
        return data
    return [*data[:at], history[-_HISTORY_SENT:], *data[at + 1 :]]


def checked_values(shape: CallShape, data: list[Any]) -> list[Any]:
    """A call's values (one per parameter of shape, in order; `_NO_DEFAULT` for one a call
    by name leaves out), bounded (`bound_call`) and then checked (`input_problem`), the same
    whichever route the call came by; InputError (one sentence) for a value of the wrong
    kind. data itself when nothing was cut.

    Example: with the page's respond shape, ["Who?", "x", None, 4, None] raises
             InputError("The /respond endpoint's chat must be a list of chat messages: …")
    """
    bounded = bound_call(shape, data)  # first: a huge chat is not checked whole
    for i, (component, value) in enumerate(zip(shape.inputs, bounded, strict=False)):
        if value is _NO_DEFAULT:
            continue
        if (wrong := input_problem(component, value)) is not None:
            raise InputError(
                f"{shape.endpoint}'s {shape.names[i]} {wrong}: reload the page, or send the "
                "values the page sends."
            )
    return bounded


# Messages of the page's chat a call hands on (an answer is two or three): the page shows
# what comes back, so this is what a long session keeps on screen.
_CHAT_SENT = 300


def bound_call(shape: CallShape, data: list[Any]) -> list[Any]:
    """data (one value per parameter of shape, in order), with every conversation it carries
    cut to its newest messages, whichever route the call came by: an /ask history to
    _HISTORY_SENT (`_recent_history`), the page's chat to _CHAT_SENT, the conversation the
    browser saved to what the page saves (_SAVED_MESSAGES). data itself when nothing is cut.

    The page's chat is sent whole with each question, and Gradio reads it, copies it and
    sends it back: a chat of 100,000 messages (4 MB) took 26 s of the server's time, and the
    same as the saved conversation 11 s.

    Example: with the page's respond shape, ["Who?", [m1, ..., m400], None, 4, None] ->
             ["Who?", [m101, ..., m400], None, 4, None]
    """
    import gradio as gr

    bounded = _recent_history(shape, data)
    for i, component in enumerate(shape.inputs[: len(bounded)]):
        value = bounded[i]
        if isinstance(component, gr.Chatbot) and isinstance(value, list):
            cut: Any = value[-_CHAT_SENT:]
        elif isinstance(component, gr.BrowserState) and isinstance(value, dict):
            keep = {"chat": _SAVED_MESSAGES, "history": _HISTORY_SENT}
            cut = {
                key: part[-keep[key] :] if key in keep and isinstance(part, list) else part
                for key, part in value.items()
            }
        else:
            continue
        if cut != value:
            bounded = [*bounded[:i], cut, *bounded[i + 1 :]]
    return bounded


# The handlers in build_app that answer a question: a client's calls to them are limited.
_QUESTION_HANDLERS = frozenset({"respond", "on_example", "ask"})


def _queued_events(blocks: Any, address: str) -> int:
    """The page events and API calls Gradio's queue holds (waiting or running) for address."""
    queue = getattr(blocks, "_queue", None)
    events = list(getattr(queue, "event_ids_to_events", {}).values())
    return sum(
        1 for event in events if client_address(getattr(event.request, "scope", {})) == address
    )


def _too_many_events(limit: int) -> str:
    """The one sentence a call past an address's events_per_client gets.

    Example: _too_many_events(32) -> "Your address already has 32 requests waiting in the
             chat's queue: wait for them to finish, then try again."
    """
    return (
        f"Your address already has {limit} requests waiting in the chat's queue: wait for them "
        "to finish, then try again."
    )


def _queued_questions(blocks: Any, address: str) -> int:
    """The questions Gradio's queue holds (waiting or being answered) for address."""
    queue = getattr(blocks, "_queue", None)
    events = list(getattr(queue, "event_ids_to_events", {}).values())
    return sum(
        1
        for event in events
        if getattr(event.fn.fn, "__name__", "") in _QUESTION_HANDLERS
        and client_address(getattr(event.request, "scope", {})) == address
    )


def _with_length(scope: Any, length: int) -> Any:
    """scope with its content-length header set to length (a rewritten body)."""
    headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"content-length"]
    return {**scope, "headers": [*headers, (b"content-length", str(length).encode())]}


async def _refuse(receive: Any, send: Any, *, more: bool) -> None:
    """Answer 413 once the body is read (`_drain`)."""
    if more:
        await _drain(receive)
    await _too_large(send)


_WHERE = {"body": "body", "query": "query string", "path": "address", "header": "headers"}


def invalid_request_sentence(errors: Any) -> str:
    """One sentence for what FastAPI found wrong with a request to one of Gradio's routes
    (the `detail` list of its 422 answer): the first problem, and what to send.

    Gradio's routes answered a body that is not JSON, a missing field or a value of the wrong
    kind with FastAPI's list of pydantic errors (types, locations, inputs echoed back).

    Example: [{"type": "missing", "loc": ["query", "session_hash"], "msg": "Field required"}]
             -> "The request lacks session_hash in its query string: send it as the page and
             gradio_client do.";
             [{"type": "json_invalid", "loc": ["body", 1], "msg": "JSON decode error"}]
             -> "The request body is not valid JSON: send a JSON object, as the page and
             gradio_client do."
    """
    first = errors[0] if isinstance(errors, list) and errors else {}
    first = first if isinstance(first, dict) else {}
    kind = str(first.get("type", ""))
    loc = [str(part) for part in first.get("loc", []) if not isinstance(part, int)]
    where = _WHERE.get(loc[0], "request") if loc else "request"
    # Names a client chose may appear in loc: shown cut and without control characters.
    name = _visible(".".join(loc[1:])[:100]) if len(loc) > 1 else ""
    if kind == "json_invalid":
        return (
            "The request body is not valid JSON: send a JSON object, as the page and "
            "gradio_client do."
        )
    if not name:
        return (
            f"The request {where} is not what this route reads: send a JSON object, as the "
            "page and gradio_client do."
        )
    if kind == "missing":
        return f"The request lacks {name} in its {where}: send it as the page and gradio_client do."
    said = _visible(" ".join(str(first.get("msg", "")).split())[:200]).rstrip(".")
    said = said[:1].lower() + said[1:]
    return (
        f"The request's {name} in its {where} is not valid ({said}): send it as the page and "
        "gradio_client do."
    )


class _InvalidRequests(HttpMiddleware):
    """ASGI middleware: a 422 answer listing FastAPI's validation errors (a request to one of
    Gradio's routes with a body that is not JSON, a field missing or of the wrong kind)
    becomes one sentence (`invalid_request_sentence`), in "detail" and "error" as the chat's
    other refusals; every other answer passes as it is.

    Example: GET /gradio_api/queue/data (no session_hash) -> 422 {"detail": "The request
             lacks session_hash in its query string: send it as the page and gradio_client
             do.", "error": "…"}
    """

    async def http(self, scope: Any, receive: Any, send: Any) -> None:
        held: dict[str, Any] | None = None
        body: list[bytes] = []

        async def rewriting(message: Any) -> None:
            nonlocal held
            if message["type"] == "http.response.start" and message.get("status") == 422:
                held = message  # FastAPI's answer is one small JSON body
                return
            if held is None or message["type"] != "http.response.body":
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            try:
                errors = json.loads(b"".join(body))["detail"]
            except (ValueError, KeyError, TypeError):
                errors = None
            if not isinstance(errors, list):  # not a list of validation errors: as it was
                await send(held)
                await send({**message, "body": b"".join(body)})
                return
            said = invalid_request_sentence(errors)
            await send_json(send, 422, {"detail": said, "error": said}, [])

        await self.app(scope, receive, rewriting)


async def _drain(receive: Any) -> None:
    """Read a request's body, kept nowhere, up to _DRAIN_BYTES: a client such as httpx reads
    the answer only after it has sent the whole body, and a server that closes the
    connection with some of it unread resets it, the answer lost."""
    drained, more = 0, True
    while more and drained <= _DRAIN_BYTES:
        part = await receive()
        drained += len(part.get("body", b""))
        more = part["type"] == "http.request" and bool(part.get("more_body"))


async def _too_large(send: Any) -> None:
    body = {"detail": _TOO_LARGE, "error": _TOO_LARGE}
    await send_json(send, 413, body, [(b"connection", b"close")])


async def _send_text(send: Any, status: int, message: str) -> None:
    payload = message.encode()
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(payload)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def _mounted(
    demo: gr.Blocks,
    bot: Assistant,
    settings: Settings,
    host: str,
    port: int,
    api_key: str | None,
) -> tuple[Any, Callable[[], contextlib.AbstractAsyncContextManager[Any]]]:
    """The chat and /v1 as one ASGI app for a server already listening (the way
    `gr.mount_gradio_app` serves Gradio inside another app), and its lifespan, which starts
    Gradio's queue."""
    import gradio as gr
    from fastapi import FastAPI

    from .api import api_routes

    throttle = LoginThrottle.from_settings(settings)
    # The page, /ask and /v1 count together, with the questions Gradio's queue holds.
    load = ClientLoad.from_settings(settings, functools.partial(_queued_questions, demo))
    # /v1 first, so Gradio's own paths cannot shadow it; no FastAPI docs pages of our own.
    app = FastAPI(
        routes=list(api_routes(bot, key=api_key, gate=generation_gate(bot), load=load)),
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    gr.mount_gradio_app(
        app,
        demo,
        path="/",
        server_name=host,
        server_port=port,
        footer_links=["api", "settings"],
        # No run history: with it, a call naming a bucket in a header had its question,
        # answer and passages written to Hugging Face with the token saved on this machine
        # (for any loopback request, so every visitor behind a local reverse proxy), and its
        # pages listed, made and read the owner's buckets.
        run_history=False,
        enable_monitoring=False,  # Gradio's traffic pages: none in the product
        auth=(settings.ui_user, api_key) if api_key else None,
        auth_message=_auth_message(throttle) if api_key else None,
        max_file_size=settings.max_upload_bytes,
        theme=_theme(),
        css=CSS,
        head=_HEAD,
    )
    # Gradio accepts a file path in a request only if it was uploaded here, but checks that
    # only once launch() has run; mounted, a request naming "/home/me/notes.md" would be
    # copied into the documents and answered. The flag turns its check on (it gates nothing
    # else in Gradio 6).
    demo.has_launched = True
    # The lifespan below runs Gradio's start-up events without marking them run (launch()
    # marks them), so the first visitor to GET /gradio_api/startup-events ran them again: a
    # second dispatch loop, and the queue's list of running jobs emptied, so the answers
    # running then could no longer be stopped, nor show their warnings.
    from gradio.routes import App

    for route in app.routes:
        if isinstance(getattr(route, "app", None), App):
            route.app.startup_events_triggered = True  # type: ignore[attr-defined]
            _keep_no_page_values(route.app)  # type: ignore[attr-defined]
    _tidy_uploads()
    # The early server this is attached to checks the Host header itself (startup.py).
    checked = _CheckedCalls(
        ThrottledLogins(_OneLogout(_InvalidRequests(app)), throttle),
        blocks=demo,
        load=load,
        sessions=settings.sessions_per_client,
        events=settings.events_per_client,
    )
    guarded = _BodyLimit(
        _UploadProgress(_UploadLimit(checked, UploadBudget.from_settings(settings)))
    )
    limited = RequestsPerClient(CrossSiteWrites(guarded), settings.requests_per_client)
    served = ForwardedAddress(_PageHeaders(OneBodyLength(limited)), settings.trusted_proxies)
    return served, lambda: app.router.lifespan_context(app)


def _launch_chat(
    demo: gr.Blocks,
    bot: Assistant,
    settings: Settings,
    host: str,
    port: int,
    share: bool,
    api_key: str | None,
) -> None:
    from .api import api_routes

    load = ClientLoad.from_settings(settings, functools.partial(_queued_questions, demo))
    launch(
        demo,
        host=host,
        port=port,
        share=share,
        max_file_size=settings.max_upload_bytes,
        routes=api_routes(bot, key=api_key, gate=generation_gate(bot), load=load),
        auth=(settings.ui_user, api_key) if api_key else None,
        throttle=LoginThrottle.from_settings(settings),
        load=load,
        uploads=UploadBudget.from_settings(settings),
        requests_per_client=settings.requests_per_client,
        sessions_per_client=settings.sessions_per_client,
        events_per_client=settings.events_per_client,
        trusted_proxies=settings.trusted_proxies,
    )


def _waiting_line(line: str) -> str:
    """The chat's plain line for a question asked while the index loads.

    Example: "Writing the index…" -> '<div class="waiting">⏳ One moment: the documents are
             still loading (Writing the index…). The answer follows when they are ready.</div>'
    """
    return (
        f'<div class="waiting">⏳ One moment: the documents are still loading '
        f"({_html(line)}). The answer follows when they are ready.</div>"
    )


def _fallback_notice(exc: Exception) -> str:
    """Example: "cannot reach the ollama server: start it" -> "Cannot reach the ollama server:
    start it. This answer is copied from the documents instead." """
    return f"{_message(exc).rstrip('.')}. This answer is copied from the documents instead."


def _final(pieces: Iterator[str | Answer]) -> Answer | None:
    return next((p for p in pieces if isinstance(p, Answer)), None)


def _chain(first: str | Answer, rest: Iterator[str | Answer]) -> Iterator[str | Answer]:
    yield first
    yield from rest
