"""How often the `local` model's sentences pass the check, for prompt variants (issue 9).

    nice -n 10 python evals/llm_variants.py --n 40 \\
        --variant full:llm_prompt="full" --variant compact:llm_prompt="compact"

Asks n evenly spaced answerable covid-qa questions of the tune half of
evals/refusal/covid-qa.jsonl (never the seed set, which is the reported eval) end to end with
`--llm local`, on the 19-article covid-qa subset index that evals/refusal_report.py builds,
once per variant (a name and Settings overrides, "name:field=JSON,field=JSON";
example=false leaves out the compact prompt's made-up worked turn). Prints per variant:
- kept: the share of the model's sentences the check kept (a fallback keeps none);
- answers with one: answers with at least one kept model sentence (no extractive fallback);
- contains gold: a normalised gold answer occurs in the final answer (fallback included),
  and in the answers the model wrote;
- seconds per answer.
Each answer's draft, kept text and dropped sentences go to evals/runs/llm-variants/NAME.jsonl.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "evals"))
from calibrate_refusal import load_items  # noqa: E402
from make_refusal_sets import default_data  # noqa: E402
from refusal_report import build_bots, gold_answers, sample  # noqa: E402

from assistant import Settings  # noqa: E402
from assistant.answer import prompt  # noqa: E402
from assistant.answer.llm import FALLBACK_NOTICE  # noqa: E402
from assistant.evals.scoring import contains_answer  # noqa: E402
from assistant.schema import Answer  # noqa: E402

EXAMPLE = prompt.EXAMPLE_TURN


def parse_variant(text: str) -> tuple[str, dict[str, object]]:
    """("name", overrides) from "name:field=JSON,field=JSON".

    Example: parse_variant('c3:llm_prompt="compact",llm_excerpt_sentences=3')
             -> ("c3", {"llm_prompt": "compact", "llm_excerpt_sentences": 3})
    """
    name, _, rest = text.partition(":")
    pairs = (p.split("=", 1) for p in rest.split(",") if p)
    return name, {k: json.loads(v) for k, v in pairs}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=40, help="covid-qa tune questions asked")
    ap.add_argument("--variant", action="append", required=True, help="name:field=JSON,...")
    args = ap.parse_args()
    data = default_data()
    base = Settings(llm="local")
    bots, vectors = build_bots(base, data)
    bot = bots["covid-qa"]
    gold = gold_answers(data)
    items = [i for i in load_items(data, 10**6) if i["half"] == "tune"]
    asked = sample([i for i in items if i["corpus"] == "covid-qa"], ("answerable",), args.n)
    out = ROOT / "evals" / "runs" / "llm-variants"
    out.mkdir(parents=True, exist_ok=True)
    for spec in args.variant:
        name, overrides = parse_variant(spec)
        # "example": false leaves out the compact prompt's worked turn (a measurement only).
        prompt.EXAMPLE_TURN = EXAMPLE if overrides.pop("example", True) else ()
        bot.answerer.settings = base.model_copy(update=overrides)
        bot.answerer._backends.clear()  # built again from the variant's settings
        kept = drafted = with_model = answered = 0
        contains: list[bool] = []
        contains_model: list[bool] = []
        seconds: list[float] = []
        with (out / f"{name}.jsonl").open("w", encoding="utf-8") as log:
            for item in asked:
                t0 = time.perf_counter()
                draft, answer = "", None
                for piece in bot.stream(item["question"], mode="local"):
                    if isinstance(piece, Answer):
                        answer = piece
                    else:
                        draft += piece
                assert answer is not None
                seconds.append(time.perf_counter() - t0)
                hit = not answer.refused and contains_answer(answer.text, gold[item["qid"]])
                contains.append(hit)
                if not answer.refused:
                    answered += 1
                    own = 0 if answer.notice == FALLBACK_NOTICE else len(answer.citations)
                    kept += own
                    drafted += own + len(answer.dropped)
                    if own:
                        with_model += 1
                        contains_model.append(hit)
                log.write(
                    json.dumps(
                        {
                            "id": item["id"],
                            "question": item["question"],
                            "draft": draft,
                            "answer": answer.text,
                            "fallback": answer.notice == FALLBACK_NOTICE,
                            "dropped": [[d.sentence, d.reason] for d in answer.dropped],
                            "contains": hit,
                        }
                    )
                    + "\n"
                )
                log.flush()
        vectors.save()

        def rate(a: int, b: int) -> str:
            return f"{a / b:.3f} ({a}/{b})" if b else "-"

        print(f"\n{name} {overrides}: {len(asked)} questions, {answered} answered")
        print(f"  model sentences kept          {rate(kept, drafted)}")
        print(f"  answers with a kept sentence  {rate(with_model, answered)}")
        print(f"  contains gold (all)           {rate(sum(contains), len(contains))}")
        print(f"  contains gold (model wrote)   {rate(sum(contains_model), len(contains_model))}")
        print(f"  seconds per answer, median    {statistics.median(seconds):.1f}", flush=True)


if __name__ == "__main__":
    main()
