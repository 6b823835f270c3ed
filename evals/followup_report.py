"""Follow-up conversations scored end to end: the tuning set for answer/followup.py.

    python evals/followup_report.py [--set name=JSON] [--verbose]

Reads evals/refusal/followups.yaml (see its header), asks every earlier turn of each
conversation live (so the history holds the assistant's real answers), then the scored
question, and prints per conversation the query used and whether it succeeded: answered,
with the gold answer (covid-qa) or every fact (seed article) in the answer; a question marked
standalone must also be searched exactly as typed. The seed set's multi-turn cases
(`assistant eval evals/seed.yaml`) are the confirm set.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from assistant import Settings
from assistant.evals.scoring import contains_answer, fact_found, parse_fact

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "evals"))
from make_refusal_sets import default_data  # noqa: E402
from refusal_report import build_bots  # noqa: E402

SET = ROOT / "evals" / "refusal" / "followups.yaml"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(default_data()))
    ap.add_argument("--set", action="append", default=[], help="Settings override name=JSON")
    ap.add_argument("--verbose", action="store_true", help="print every answer")
    args = ap.parse_args()
    data = Path(args.data)
    overrides = {k: json.loads(v) for k, v in (s.split("=", 1) for s in args.set)}
    bots, vectors = build_bots(Settings(**overrides), data)
    covid = {int((q := json.loads(line))["id"]): q for line in (data / "questions.jsonl").open()}

    conversations: list[dict[str, Any]] = yaml.safe_load(SET.read_text())["conversations"]
    results: dict[str, list[bool]] = {"covid-qa": [], "seed": []}
    for conv in conversations:
        bot = bots[conv["corpus"]]
        history: list[dict[str, Any]] = []
        for turn in conv["turns"]:
            text = (
                turn["text"] if "text" in turn else " ".join(covid[turn["qid"]]["question"].split())
            )
            earlier = bot.ask(text, history=history or None)
            history += [
                {"role": "user", "content": text},
                {"role": "assistant", "content": earlier.text, "refused": earlier.refused},
            ]
        answer = bot.ask(conv["question"], history=history)
        if "gold" in conv:
            found = contains_answer(answer.text, covid[conv["gold"]]["answers"])
        else:
            found = all(fact_found(parse_fact(f), answer.text) for f in conv["facts"])
        ok = not answer.refused and found
        if conv.get("standalone"):
            ok = ok and answer.query == conv["question"]
        results[conv["corpus"]].append(ok)
        mark = "ok  " if ok else "FAIL"
        refused = " (refused)" if answer.refused else ""
        print(f"{mark} {conv['id']:32s} {answer.query}{refused}")
        if args.verbose or not ok:
            print(f"       {answer.text[:300]}")
    vectors.save()
    every = results["covid-qa"] + results["seed"]
    print(f"\nsettings {overrides}")
    for name, values in (*results.items(), ("all", every)):
        print(f"  {name:9s} {sum(values)}/{len(values)} = {sum(values) / len(values):.3f}")


if __name__ == "__main__":
    main()
