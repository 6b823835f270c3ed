"""The `assistant` command: index, ask, chat, ui, serve, eval.

A thin view over Assistant. Library errors become one line on stderr and exit status 1;
heavy modules are imported only by the command that needs them, so --help is instant.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .answer.injection import FLAG_NOTE
from .errors import AssistantError, InputError

if TYPE_CHECKING:
    from .pipeline import Assistant
    from .schema import Answer
    from .settings import Settings

__all__ = ["main"]


def _settings(args: argparse.Namespace) -> Settings:
    from .settings import Settings

    overrides: dict[str, Any] = {}
    if getattr(args, "index_dir", None):
        overrides["index_dir"] = Path(args.index_dir)
    if getattr(args, "store", None):
        overrides["store"] = args.store
    if getattr(args, "k", None):
        overrides["k"] = args.k
    if getattr(args, "llm", None):
        from .llmspec import parse_llm

        try:
            spec = parse_llm(args.llm)
        except ValueError as exc:
            raise InputError(str(exc)) from exc
        overrides["llm"] = str(spec)
        overrides["answer_mode"] = spec.provider
    if getattr(args, "mode", None):
        overrides["answer_mode"] = args.mode
    if getattr(args, "read_only", False):
        overrides["read_only"] = True
    return Settings(**overrides)


def _progress_printer() -> Any:
    from tqdm import tqdm

    bars: dict[str, Any] = {}

    def on_progress(stage: str, fraction: float) -> None:
        # Only a long chunking phase gets a bar (its first step is a small share of the
        # work); the embedding phase shows its own batches bar.
        if stage != "chunk" or (stage not in bars and fraction > 0.05):
            return
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(
                total=100,
                desc="Chunking",
                leave=False,
                bar_format="{desc}: {percentage:3.0f}%|{bar}|",
            )
        bar.n = round(fraction * 100)
        bar.refresh()
        if fraction >= 1.0:
            bar.close()

    return on_progress


def cmd_index(args: argparse.Namespace) -> int:
    from .embedding import build_embedder
    from .store import chunker_config, sync_index

    settings = _settings(args)
    folder = Path(args.folder) if args.folder else settings.docs_dir
    embedder = build_embedder(settings)
    report = sync_index(
        folder,
        settings.index_location,
        embedder,
        chunker_config(settings, embedder),
        on_progress=_progress_printer(),
        rebuild=args.rebuild,
        follow_links=settings.follow_symlinks,
        unpack_limits=settings.unpack_limits,
        ef_search=settings.hnsw_ef_search,
        on_wait=lambda: print(
            "another sync of this index is running: waiting for it to finish", file=sys.stderr
        ),
    )
    for skipped in report.skipped:
        print(terminal_safe(f"skipped {skipped.source}: {skipped.reason}"), file=sys.stderr)
    for note in report.notes:
        print(terminal_safe(note), file=sys.stderr)
    print(report.summary())
    return 0


def _load(args: argparse.Namespace) -> Assistant:
    from .answer.registry import check_backend
    from .pipeline import Assistant

    settings = _settings(args)
    check_backend(settings.answer_mode)  # e.g. ASSISTANT_ANSWER_MODE: fail before any sync
    if getattr(args, "folder", None):
        return Assistant.from_folder(args.folder, settings=settings)
    return Assistant.load(settings=settings)


# Control characters but newline and tab: a document's text (or a model's) holding terminal
# escape sequences ("\x1b]0;title\x07", "\x1b[2J") must not drive the terminal it is shown in.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_safe(text: str) -> str:
    """text with every control character but newline and tab shown as U+FFFD.

    Example: terminal_safe("Hi\x1b[2J there\n") -> "Hi\ufffd[2J there\n"
    """
    return _CONTROL.sub("\ufffd", text)


def format_answer(answer: Answer) -> str:
    """The answer, then its numbered sources (or, for a refusal, the related passages), made
    safe to print to a terminal (terminal_safe)."""
    lines = [answer.text]
    if answer.query != answer.question:
        lines.insert(0, f"(searched for: {answer.query})")
    if answer.citations:
        lines.append("")
        lines.append("Sources:")
        for c in answer.citations:
            where = f"{c.locator}, " if c.locator else f"page {c.page}, " if c.page else ""
            quote = " ".join(c.quote.split())
            lines.append(f"  [{c.n}] {c.source} ({where}chars {c.start}-{c.end}): “{quote}”")
            if c.flag:
                lines.append(f"      ⚠ {FLAG_NOTE} ({c.flag})")
    if answer.dropped:
        lines.append("")
        lines.append("Removed by the check (not supported by the passages):")
        for d in answer.dropped:
            lines.append(f"  - “{d.sentence}” ({d.reason})")
    if answer.notice:
        lines.append("")
        lines.append(f"Note: {answer.notice}")
    if answer.refused and answer.related:
        lines.append("")
        lines.append("Related passages (they do not answer the question):")
        for h in answer.related:
            text = " ".join(h.chunk.text.split())
            short = text if len(text) <= 160 else text[:157] + "..."
            lines.append(f"  - {h.chunk.source} (chars {h.chunk.start}-{h.chunk.end}): {short}")
    lines += [f"Note: {note}" for note in answer.notes]
    return terminal_safe("\n".join(lines))


def _streamed(pieces: Iterator[str | Answer]) -> Answer:
    """Print a language model's draft as it is written, then return the final Answer, which
    the caller prints under "Checked answer:"."""
    from .answer.answerer import final_answer

    draft = ""
    for piece in pieces:
        if not isinstance(piece, str):
            if draft:
                print(flush=True)
                print("\nChecked answer:", flush=True)
            return piece
        draft += piece
        print(terminal_safe(piece), end="", flush=True)
    return final_answer(())


def cmd_ask(args: argparse.Namespace) -> int:
    bot = _load(args)
    if args.json:
        print(json.dumps(bot.ask(args.question, k=args.k).to_dict(), ensure_ascii=False, indent=2))
        return 0
    if bot.settings.answer_mode == "extractive":
        print(format_answer(bot.ask(args.question, k=args.k)))
        return 0
    # A language model writes: its draft streams, then the checked answer replaces it.
    print(format_answer(_streamed(bot.stream(args.question, k=args.k))))
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    bot = _load(args)
    bot.warm_up()
    history: list[dict[str, str]] = []
    print("Ask about your documents; an empty line or Ctrl-D ends the chat.")
    while True:
        try:
            question = input("\nyou> ").strip()
        except EOFError:
            print()
            return 0
        if not question:
            return 0
        try:
            if bot.settings.answer_mode == "extractive":
                answer = bot.ask(question, history, k=args.k)
            else:  # a language model's draft streams, then the checked answer
                answer = _streamed(bot.stream(question, history, k=args.k))
        except AssistantError as exc:
            print(terminal_safe(f"error: {exc}"))
            continue
        print(format_answer(answer))
        history += [
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer.text},
        ]


def _api_key(args: argparse.Namespace, settings: Settings, *, exposed: bool) -> str | None:
    """The one access key (the web chat's password and /v1's bearer key); refuses
    (InputError) to serve beyond loopback without one unless --no-auth, which prints a
    warning. Checked before anything slow is loaded."""
    from .api import check_access, load_api_key

    key = load_api_key(settings)
    warning = check_access(exposed=exposed, key=key, no_auth=args.no_auth)
    if warning:
        print(warning, file=sys.stderr)
    return key


def cmd_ui(args: argparse.Namespace) -> int:
    from .api import is_loopback
    from .ui import serve

    settings = _settings(args)
    key = _api_key(args, settings, exposed=args.share or not is_loopback(args.host))
    folder = Path(args.folder) if args.folder else settings.docs_dir
    if key:
        print(
            f"The web chat asks for a login: user {settings.ui_user!r} (ASSISTANT_UI_USER), "
            "password: the access key (ASSISTANT_API_KEY).",
            file=sys.stderr,
        )
    serve(folder, settings=settings, host=args.host, port=args.port, share=args.share, api_key=key)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from .api import is_loopback, serve

    settings = _settings(args)
    key = _api_key(args, settings, exposed=not is_loopback(args.host))
    folder = Path(args.folder) if args.folder else settings.docs_dir
    serve(folder, settings=settings, host=args.host, port=args.port, key=key)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from .evals.run import run_sets

    return run_sets(
        args.sets,
        out_dir=args.out,
        index_dir=args.index_dir,
        k=args.k,
        limit=args.limit,
        mode=_settings(args).answer_mode if args.llm else args.mode,
        llm=args.llm,
        baseline=args.baseline,
        thresholds=_thresholds(args.threshold),
    )


def _thresholds(values: Sequence[str] | None) -> dict[str, float]:
    """--threshold NAME=VALUE flags as {name: value}.

    Example: ["fact_recall=0.8"] -> {"fact_recall": 0.8}
    """
    thresholds: dict[str, float] = {}
    for value in values or ():
        name, sep, number = value.partition("=")
        try:
            thresholds[name.strip()] = float(number)
        except ValueError:
            sep = ""
        if not sep:
            raise InputError(
                f"--threshold {value!r} is not NAME=VALUE, e.g. retrieval_hit_at_k=0.6"
            )
    return thresholds


def _mode(p: argparse.ArgumentParser) -> None:
    """--mode, offering every answer backend registered when the parser is built."""
    from .answer.registry import available_backends, backend_descriptions

    modes = available_backends()
    described = "; ".join(f"{m}: {d}" if d else m for m, d in backend_descriptions().items())
    p.add_argument(
        "--mode",
        choices=modes,
        help=f"how answers are written (default: the answer_mode setting): {described}",
    )


def _llm(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--llm",
        metavar="PROVIDER[:MODEL]",
        help="let a language model write, every sentence checked: openai:gpt-4o-mini, "
        "ollama:qwen2.5:7b, anthropic:claude-sonnet-4-5, local (offline), "
        "local:/path/model.gguf (default: the ASSISTANT_LLM setting)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assistant",
        description="Ask questions about a folder of documents; every answer sentence cites "
        "its source. Runs fully offline.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def index_dir(p: argparse.ArgumentParser) -> None:
        p.add_argument("--index-dir", help="where the index lives (default: index/)")
        p.add_argument(
            "--store",
            metavar="URL",
            help="keep the index in PostgreSQL instead (postgresql://...; several app "
            "servers can share it); default: ASSISTANT_STORE, else --index-dir",
        )

    def no_auth(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--no-auth",
            action="store_true",
            help="allow serving beyond loopback without an access key (ASSISTANT_API_KEY or "
            "ASSISTANT_API_KEY_FILE; never given on the command line): prints a warning",
        )

    def read_only(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--read-only",
            action="store_true",
            help="no uploads or removals: hidden in the page and refused by the server",
        )

    p = sub.add_parser("index", help="build or update the index from a folder of documents")
    p.add_argument("folder", nargs="?", help="documents folder (default: seeds/)")
    index_dir(p)
    p.add_argument(
        "--rebuild",
        action="store_true",
        help="rebuild the whole index from the documents, whatever state it is in "
        "(deletes a folder standing where the index's manifest.json belongs)",
    )
    p.set_defaults(func=cmd_index)

    def answering(p: argparse.ArgumentParser) -> None:
        """The options of the commands that answer questions (ask, chat)."""
        p.add_argument("-k", type=int, help="passages to retrieve (default 5)")
        _mode(p)
        _llm(p)
        p.add_argument("--folder", help="sync this documents folder first")
        index_dir(p)

    p = sub.add_parser("ask", help="answer one question from the indexed documents")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
    answering(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", help="a conversation in the terminal that keeps its history")
    answering(p)
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("ui", help="serve the web chat")
    p.add_argument("folder", nargs="?", help="documents folder (default: seeds/)")
    index_dir(p)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--share", action="store_true", help="ask Gradio for a public link")
    no_auth(p)
    read_only(p)
    p.set_defaults(func=cmd_ui)

    p = sub.add_parser(
        "serve", help="serve the OpenAI-compatible endpoint (/v1/chat/completions) alone"
    )
    p.add_argument("folder", nargs="?", help="documents folder (default: seeds/)")
    index_dir(p)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    p.add_argument("--port", type=int, default=8000)
    no_auth(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("eval", help="run evaluation question sets and score the answers")
    p.add_argument(
        "sets", nargs="*", help="question set files or dataset folders (default: evals/seed.yaml)"
    )
    _mode(p)
    _llm(p)
    p.add_argument("--out", help="runs folder (default: evals/runs/)")
    p.add_argument("--baseline", help="an earlier run folder to compare with")
    p.add_argument("-k", type=int, help="passages to retrieve (default: the set's k)")
    p.add_argument("--limit", type=int, help="score only the first N questions of each set")
    p.add_argument(
        "--threshold",
        action="append",
        metavar="NAME=VALUE",
        help="gate a metric, e.g. retrieval_hit_at_k=0.6 (repeatable)",
    )
    index_dir(p)
    p.set_defaults(func=cmd_eval)
    return parser


def _stop_like_ctrl_c(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # A service manager's stop (SIGTERM) ends the run as Ctrl-C does, so its clean-up runs:
    # the web chat stops an upload's child process and deletes its temporary copies.
    on_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _stop_like_ctrl_c) if on_main else None
    try:
        return int(args.func(args))
    except AssistantError as exc:
        print(terminal_safe(f"error: {exc}"), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        if on_main:  # as it was: main() may run inside another program (the tests)
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    raise SystemExit(main())
