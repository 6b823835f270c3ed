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
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .answer.registry import available_backends, backend_descriptions
from .errors import AnswerBackendError, AssistantError, InputError
from .ingest.loaders import SUPPORTED_SUFFIXES
from .schema import Answer, Chunk, Citation, Hit

if TYPE_CHECKING:
    import gradio as gr
    from starlette.routing import BaseRoute

    from .pipeline import Assistant
    from .schema import SourceInfo
    from .settings import Settings

__all__ = [
    "CSS",
    "EXAMPLES",
    "UPLOAD_TYPES",
    "build_app",
    "launch",
    "render_answer",
    "render_documents",
    "render_refusal",
    "serve",
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
_HISTORY_TURNS = 6  # messages of history passed on for follow-ups; older ones rarely matter
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
.remove-row { align-items: flex-end; }
#status .summary { color: var(--body-text-color-subdued); font-size: 0.85em; }
"""


# ---------------------------------------------------------------- rendering (pure)

# Emphasis, code and escapes; an underscore inside a word (snake_case) is left alone.
_MD_SPECIAL = re.compile(r"([\\`*~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
_MD_LINE_START = re.compile(r"^(\s*)([#>+-]|\d+)([.)]?)(?=\s)", re.MULTILINE)


def _text(s: str) -> str:
    """Document text for a Markdown message: HTML escaped, Markdown emphasis neutralised.

    Example: _text("a <b> *c*") -> "a &lt;b&gt; \\\\*c\\\\*"
    """
    s = _MD_SPECIAL.sub(r"\\\1", html.escape(s, quote=False))
    # A line must not start a heading, quote or list: "- a" -> "\\- a", "1. a" -> "1\\. a".
    return _MD_LINE_START.sub(_unlist, s)


def _unlist(m: re.Match[str]) -> str:
    indent, mark, punct = m.groups()
    if mark.isdigit():
        return f"{indent}{mark}\\{punct}" if punct else m.group(0)
    return f"{indent}\\{mark}{punct}"


def _html(s: str) -> str:
    """Document text inside an HTML block: escaped, and without newlines, since a blank line
    would end the block and hand the rest back to the Markdown renderer."""
    return html.escape(s).replace("\r", "").replace("\n", "<br>")


def _location(source: str, start: int, end: int, page: int | None, locator: str = "") -> str:
    # A loader's locator ("slide 3", "sheet Sales, row 5") is what a person can find.
    where = locator or (f"page {page}" if page else f"characters {start:,}–{end:,}")
    return f'<span class="cite-file">{_html(source)}</span> <span class="cite-loc">· {where}</span>'


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


def render_answer(answer: Answer, chunk: Callable[[str], Chunk | None]) -> tuple[str, str]:
    """The answer as (message text, sources HTML) for the chat.

    The text stays plain (so the copy button copies the answer itself); the sources are one
    expandable entry per citation: number, file, page or characters, and the passage with the
    quoted sentence marked.
    """
    entries = []
    for c in answer.citations:
        passage = _passage(c, chunk(c.chunk_id) if c.chunk_id else None)
        entries.append(
            '<details class="citation">'
            f'<summary><span class="cite-n">[{c.n}]</span> '
            f"{_location(c.source, c.start, c.end, c.page, c.locator)}</summary>"
            f'<div class="passage">{passage}</div></details>'
        )
    sources = ""
    checked = _notice(answer) + _dropped(answer)
    if entries or _searched(answer) or checked:
        title = '<div class="sources-title">Sources</div>' if entries else ""
        sources = (
            f'<div class="sources">{_searched(answer)}{title}{"".join(entries)}{checked}</div>'
        )
    return _text(answer.text), sources


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
    box = f'<div class="refusal">ℹ {_html(answer.text)}</div>'
    extra = _searched(answer)
    if answer.related:
        extra += '<div class="sources-title">Related reading (not an answer)</div>' + _related(
            answer.related
        )
    return box, (f'<div class="related">{extra}</div>' if extra else "")


def render_documents(sources: Sequence[SourceInfo]) -> str:
    """The indexed documents as a small HTML table (name, type, size, passages, pages)."""
    if not sources:
        return (
            '<div class="docs-title">Documents</div>'
            '<p class="docs-empty">No documents yet: drop some files below.</p>'
        )
    rows = "".join(
        f'<tr><td class="doc-name">{_html(s.source)}</td><td>{_html(s.kind)}</td>'
        f'<td class="num">{_size(s.size)}</td><td class="num">{s.chunks}</td>'
        f'<td class="num">{s.pages or "–"}</td></tr>'
        for s in sources
    )
    return (
        f'<div class="docs-title">Documents ({len(sources)})</div>'
        '<table class="docs"><thead><tr><th>Name</th><th>Type</th><th class="num">Size</th>'
        f'<th class="num">Passages</th><th class="num">Pages</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def _message(exc: Exception) -> str:
    """An error message as one sentence for the page (a leading plain word capitalised, a
    leading file name left as it is).

    Example: "the question is empty: ..." -> "The question is empty: ..."
    """
    text = str(exc).strip() or exc.__class__.__name__
    first = text.split(" ", 1)[0]
    return text[0].upper() + text[1:] if first.isalpha() and first.islower() else text


def _toast(message: str) -> str:
    # Gradio renders toast and error messages as HTML; file names must stay text.
    return html.escape(message, quote=False)


def _size(n: int) -> str:
    """Example: _size(512) -> "512 bytes"; _size(3424) -> "3.3 KB" """
    if n < 1024:
        return f"{n} bytes"
    kb = n / 1024
    return f"{kb:.1f} KB" if kb < 1024 else f"{kb / 1024:.1f} MB"


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


# ---------------------------------------------------------------- the app


def build_app(bot: Assistant) -> gr.Blocks:
    """The chat page and its API (/ask, /sources, /upload, /remove) over one shared bot.

    `bot` is shared by every visitor: Assistant swaps its index atomically and serialises
    uploads, so the handlers need no locking of their own.
    """
    import gradio as gr

    def documents() -> str:
        return render_documents(bot.sources())

    def refresh() -> tuple[str, Any]:
        names = [s.source for s in bot.sources()]
        return documents(), gr.Dropdown(choices=names, value=None)

    # ------------------------------------------------------------ chat

    def respond(
        question: str,
        chat: list[dict[str, Any]],
        history: list[dict[str, str]],
        k: float,
        mode: str | None,
    ) -> Iterator[tuple[str, list[dict[str, Any]], list[dict[str, str]]]]:
        """Stream one answer into the chat, then replace it with the cited version."""
        chat = list(chat or [])
        history = list(history or [])
        recent = history[-_HISTORY_TURNS:]
        notice = ""
        try:
            pieces = bot.stream(question, recent, k=int(k), mode=mode or None)
            first = next(pieces)  # the question is checked here: an error leaves chat as it was
        except AnswerBackendError as exc:
            # A language model that is down or misconfigured must not stop the chat: the
            # extractive answer is given, with the reason beside it.
            if (mode or bot.settings.answer_mode) == "extractive":
                gr.Warning(_toast(_message(exc)))
                yield question, chat, history
                return
            notice = _fallback_notice(exc)
            gr.Warning(_toast(notice))
            pieces = bot.stream(question, recent, k=int(k), mode="extractive")
            first = next(pieces)  # the question passed its check above: this one cannot fail
        except AssistantError as exc:
            gr.Warning(_toast(_message(exc)))
            yield question, chat, history
            return
        chat.append({"role": "user", "content": _text(" ".join(question.split()))})
        chat.append({"role": "assistant", "content": ""})
        text = ""
        final: Answer | None = None
        try:
            for piece in _chain(first, pieces):
                if isinstance(piece, Answer):
                    final = piece
                    break
                text += piece
                chat[-1] = {"role": "assistant", "content": _text(text) + " ▍"}
                yield "", chat, history
        except AnswerBackendError as exc:  # the model failed mid-answer: copy instead
            notice = _fallback_notice(exc)
            gr.Warning(_toast(notice))
            try:
                final = _final(bot.stream(question, recent, k=int(k), mode="extractive"))
            except AssistantError as again:
                chat[-1] = {"role": "assistant", "content": f"⚠ {_text(_message(again))}"}
                yield "", chat, history
                return
        except AssistantError as exc:  # a failure mid-answer: say so where the answer was
            gr.Warning(_toast(_message(exc)))
            chat[-1] = {"role": "assistant", "content": f"⚠ {_text(_message(exc))}"}
            yield "", chat, history
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
        chat[-1] = {"role": "assistant", "content": body}
        if extra:
            chat.append({"role": "assistant", "content": extra})
        history += [
            {"role": "user", "content": final.question},
            {"role": "assistant", "content": final.text},
        ]
        yield "", chat, history

    def on_example(
        chat: list[dict[str, Any]],
        history: list[dict[str, str]],
        k: float,
        mode: str | None,
        evt: gr.SelectData,
    ) -> Iterator[tuple[str, list[dict[str, Any]], list[dict[str, str]]]]:
        value = evt.value if isinstance(evt.value, dict) else {"text": str(evt.value)}
        yield from respond(str(value.get("text", "")), chat, history, k, mode)

    # Gradio finds the event-data parameter by its annotation; with postponed annotations
    # that is a string naming a module-local import it cannot resolve, so give it the class.
    on_example.__annotations__["evt"] = gr.SelectData

    # ------------------------------------------------------------ documents

    track = gr.Progress()  # Gradio spots the progress parameter by this default

    def upload(files: list[str] | None, progress: gr.Progress = track) -> tuple[Any, ...]:
        """Add each uploaded file; a bad one is reported and changes nothing."""
        lines: list[str] = []
        for path in files or []:
            name = Path(path).name

            def on_progress(stage: str, fraction: float, name: str = name) -> None:
                progress(fraction, desc=f"{name}: {stage}")

            try:
                report = bot.add_document(name, Path(path).read_bytes(), on_progress=on_progress)
            except AssistantError as exc:
                gr.Warning(_toast(_message(exc)))
                lines.append(f"⚠ **{_text(name)}** was not added: {_text(_message(exc))}")
            except OSError as exc:  # the temp upload vanished: still one clear line
                lines.append(f"⚠ **{_text(name)}** could not be read: {_text(str(exc))}")
            else:
                lines.append(
                    f"✓ **{_text(name)}** added: ask about it now."
                    f'<br><span class="summary">{_text(report.summary())}</span>'
                )
        table, choices = refresh()
        return None, "\n\n".join(lines), table, choices

    def remove(source: str | None) -> tuple[Any, ...]:
        if not source:
            gr.Warning("Choose a document to remove first.")
            return ("", *refresh())
        try:
            report = bot.remove_document(source)
        except AssistantError as exc:
            gr.Warning(_toast(_message(exc)))
            return (f"⚠ {_text(_message(exc))}", *refresh())
        status = (
            f"✓ **{_text(source)}** removed."
            f'<br><span class="summary">{_text(report.summary())}</span>'
        )
        return (status, *refresh())

    # ------------------------------------------------------------ the API

    def ask(
        question: str,
        history: list[dict[str, str]] | str | None = None,
        k: int | None = None,
        mode: str | None = None,
    ) -> dict[str, Any]:
        """Answer a question from the documents. Returns the answer as JSON: text (every
        sentence ends in [n]), citations (n, source, start, end, quote, page), refused,
        query (the standalone question searched for), related, hits, timings. mode: an
        answer mode (default: the server's)."""
        try:
            return bot.ask(question, _history(history), k=k, mode=mode or None).to_dict()
        except AssistantError as exc:
            raise gr.Error(_toast(_message(exc)), print_exception=False) from exc

    def sources() -> list[dict[str, Any]]:
        """The indexed documents: source, kind, size (bytes), chunks, pages."""
        return [asdict(s) for s in bot.sources()]

    # ------------------------------------------------------------ layout

    settings = bot.settings
    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        history = gr.State([])
        gr.HTML(f"<h1>{TITLE}</h1><p>{SUBTITLE}</p>", elem_id="header")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=420):
                chat = gr.Chatbot(
                    label="Chat",
                    show_label=False,
                    elem_id="chat",
                    height="calc(100vh - 260px)",  # the chat takes the screen, scrolls inside
                    min_height=420,
                    layout="bubble",
                    buttons=["copy"],
                    feedback_options=None,
                    latex_delimiters=[],  # "$8 billion ... $2 billion" is money, not maths
                    group_consecutive_messages=False,  # copy an answer without its sources
                    placeholder="Ask a question below, or try one of these:",
                    examples=[{"text": q} for q in EXAMPLES],
                )
                with gr.Row():
                    question = gr.Textbox(
                        placeholder="Ask a question about your documents…",
                        show_label=False,
                        container=False,
                        scale=8,
                        max_length=settings.max_question_chars,
                        autofocus=True,
                        elem_id="question",
                    )
                    ask_btn = gr.Button("Ask", variant="primary", scale=0, min_width=90)
                    clear_btn = gr.Button("Clear chat", scale=0, min_width=140)
            with gr.Column(scale=2, min_width=300):
                table = gr.HTML(documents(), elem_id="documents", js_on_load=None)
                files = gr.File(
                    label=f"Add documents (drop {' '.join(UPLOAD_TYPES)} files here)",
                    file_count="multiple",
                    file_types=UPLOAD_TYPES,
                    type="filepath",
                    elem_id="upload",
                )
                status = gr.Markdown(elem_id="status")
                with gr.Row(equal_height=False, elem_classes="remove-row"):
                    to_remove = gr.Dropdown(
                        choices=[s.source for s in bot.sources()],
                        value=None,
                        label="Remove a document",
                        elem_id="remove-doc",
                        # The bot checks the name; the list may be older than the folder.
                        allow_custom_value=True,
                        scale=3,
                    )
                    remove_btn = gr.Button("Remove", scale=0, min_width=110)
                with gr.Accordion("Settings", open=True):
                    k = gr.Slider(
                        1,
                        10,
                        value=min(max(settings.k, 1), 10),
                        step=1,
                        label="Passages to read (k)",
                    )
                    modes = available_backends()  # the registry is the one list of modes
                    described = backend_descriptions()
                    mode = gr.Radio(
                        choices=list(modes),
                        value=settings.answer_mode,
                        label="Answer mode",
                        info=" ".join(f"{m}: {d}" for m, d in described.items() if d),
                        elem_id="answer-mode",
                    )

        chat_io: dict[str, Any] = {
            "outputs": [question, chat, history],
            "api_visibility": "private",  # /ask is the API; these drive the page
        }
        question.submit(respond, [question, chat, history, k, mode], **chat_io)
        ask_btn.click(respond, [question, chat, history, k, mode], **chat_io)
        chat.example_select(on_example, [chat, history, k, mode], **chat_io)
        clear_btn.click(
            lambda: ("", [], []), None, [question, chat, history], api_visibility="private"
        )
        chat.clear(lambda: [], None, [history], api_visibility="private")

        # One index change at a time (the bot's lock would serialise them anyway; this keeps
        # them from holding queue slots meant for questions).
        doc_io: dict[str, Any] = {"concurrency_limit": 1, "concurrency_id": "documents"}
        files.upload(
            upload, [files], [files, status, table, to_remove], api_name="upload", **doc_io
        )
        remove_btn.click(
            remove, [to_remove], [status, table, to_remove], api_name="remove", **doc_io
        )
        # Another visitor may have changed the documents: show the current list on load.
        demo.load(refresh, None, [table, to_remove], api_visibility="private")

        gr.api(ask, api_name="ask")
        gr.api(sources, api_name="sources")

    demo.queue(default_concurrency_limit=_CONCURRENCY)
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
) -> str:
    """Start the server (loopback unless told otherwise) and return its local URL.

    `routes` are served beside the chat (e.g. `api.api_routes(bot)`, the OpenAI-compatible
    endpoint); they go first, so Gradio's own paths cannot shadow them.
    """
    import gradio as gr

    # The default theme, but with Source Sans Pro's full bold face: the semi-bold file that
    # Gradio 6.31 bundles holds only a few glyphs, so headings and buttons rendered mixed.
    font = gr.themes.LocalFont("Source Sans Pro", weights=(400, 700))
    theme = gr.themes.Default(font=[font, "ui-sans-serif", "system-ui", "sans-serif"])
    _app, url, _share_url = demo.launch(
        server_name=host,
        server_port=port,
        share=share,
        css=CSS,
        theme=theme,
        max_file_size=max_file_size,
        prevent_thread_lock=prevent_thread_lock,
        footer_links=["api", "settings"],
        quiet=prevent_thread_lock,
        app_kwargs={"routes": list(routes)} if routes else None,
    )
    return str(url)


def serve(
    folder: str | Path,
    *,
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 7860,
    share: bool = False,
    api_key: str | None = None,
) -> None:
    """Index folder (only what changed) and serve the chat over it until interrupted, with
    the OpenAI-compatible endpoint at /v1 (which needs `api_key` as a bearer key if given)."""
    from .api import api_routes
    from .pipeline import Assistant

    bot = Assistant.from_folder(folder, index_dir=settings.index_dir, settings=settings)
    bot.warm_up()
    launch(
        build_app(bot),
        host=host,
        port=port,
        share=share,
        max_file_size=settings.max_upload_bytes,
        routes=api_routes(bot, key=api_key),
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
