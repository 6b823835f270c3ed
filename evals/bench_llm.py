"""Speed of an LLM answer mode on the seed article: time to the first token, time to the
checked answer, and what the sentence check itself costs.

The issue's targets, on 2 cores with `local`: first token within 1.5 s, checked answer within
5 s, the check at most 50 ms. The first question also starts the model server: it is asked
once as a warm-up and reported apart. Then two kinds of figures:
- "distinct": the first --distinct one-turn questions of evals/seed.yaml, each asked once,
  so llama.cpp reads every prompt whole (what a person asking new questions waits for);
- "repeated": the same question --repeat times, so llama.cpp reuses its cached prompt (the
  time of the answer itself, with no prompt to read).
Each figure is labelled with the machine's load average, since on a shared machine the numbers
say as much about the neighbours as about us.

    python evals/bench_llm.py [--llm local] [--repeat 5] [--distinct 10] [--index-dir DIR]
                              [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

from assistant import Answer, Assistant, Settings
from assistant.answer.llm import ChatBackend

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "How much has Amazon invested in Anthropic?"


def ask_once(bot: Assistant, question: str = QUESTION) -> dict[str, float | str | int]:
    """One streamed answer: first token, checked answer, and the check timed on its draft."""
    t = time.perf_counter()
    first: float | None = None
    draft = ""
    answer: Answer | None = None
    for piece in bot.stream(question):
        if isinstance(piece, Answer):
            answer = piece
            break
        if first is None:
            first = time.perf_counter() - t
        draft += piece
    total = time.perf_counter() - t
    assert answer is not None
    backend = bot.answerer.backend()
    check_ms = float("nan")
    if isinstance(backend, ChatBackend) and draft:
        passages = [h.chunk for h in answer.hits[: backend.passages]]
        c = time.perf_counter()
        backend.verifier(draft, passages)
        check_ms = (time.perf_counter() - c) * 1000
    return {
        "first_token_s": first if first is not None else total,
        "checked_answer_s": total,
        "check_ms": check_ms,
        "kept_citations": len(answer.citations),
        "dropped": len(answer.dropped),
        "fell_back": int(bool(answer.notice)),
        "answer": answer.text,
    }


def seed_questions(count: int) -> list[str]:
    """The first `count` one-turn questions of the seed set (follow-ups need their history)."""
    from assistant.evals.sets import load_set

    items = load_set(ROOT / "evals/seed.yaml").items
    return [q.question for q in items if not q.history][:count]


def summary(runs: list[dict[str, float | str | int]]) -> dict[str, float | int]:
    """Medians and maxima of a list of ask_once results."""

    def values(key: str) -> list[float]:
        return [float(r[key]) for r in runs]

    return {
        "asked": len(runs),
        "first_token_s_median": round(statistics.median(values("first_token_s")), 3),
        "first_token_s_max": round(max(values("first_token_s")), 3),
        "checked_answer_s_median": round(statistics.median(values("checked_answer_s")), 3),
        "checked_answer_s_max": round(max(values("checked_answer_s")), 3),
        "check_ms_median": round(statistics.median(values("check_ms")), 1),
        "check_ms_max": round(max(values("check_ms")), 1),
        "fell_back": sum(int(r["fell_back"]) for r in runs),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--llm", default="local")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--distinct", type=int, default=10)
    ap.add_argument("--index-dir", default=str(ROOT / "evals/runs/.index/bench-llm"))
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args()

    settings = Settings(llm=args.llm, show_progress=False)
    bot = Assistant.from_folder(ROOT / "seeds", index_dir=args.index_dir, settings=settings)
    bot.warm_up()
    load_before = os.getloadavg()
    t = time.perf_counter()
    warm = ask_once(bot)  # starts the model server (local) and fills the caches
    warm_s = time.perf_counter() - t
    distinct = [ask_once(bot, q) for q in seed_questions(args.distinct)]
    runs = [ask_once(bot) for _ in range(args.repeat)]
    load_after = os.getloadavg()
    report = {
        "llm": str(settings.llm_spec(settings.answer_mode)),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "load_average_1m": [round(load_before[0], 2), round(load_after[0], 2)],
        "first_answer_with_server_start_s": round(warm_s, 2),
        "distinct": summary(distinct) if distinct else {},
        "repeated": {"question": QUESTION, **summary(runs)} if runs else {},
        "example_answer": runs[-1]["answer"] if runs else warm["answer"],
    }
    print(json.dumps(report, indent=2, ensure_ascii=False))
    if load_before[0] > (os.cpu_count() or 1):
        print(
            f"note: the machine was loaded (1-minute load {load_before[0]:.1f} on "
            f"{os.cpu_count()} CPUs): these times are slower than on an idle machine"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
