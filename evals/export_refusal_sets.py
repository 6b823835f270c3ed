"""Write one half of the refusal sets as data set folders that `assistant eval` scores.

    python evals/export_refusal_sets.py --half confirm [--out evals/runs/refusal-sets]
    assistant eval evals/runs/refusal-sets/covid-qa-confirm evals/runs/refusal-sets/seed-confirm

This is how issue 10's figures are reported by `assistant eval` itself: each folder is in the
covid-qa layout (docs/ + questions.jsonl), and its unanswerable questions carry
"answers": [] (SQuAD 2.0's convention) and their kind, so the run prints answerable_refused,
unanswerable_refused, answer_containment, median_sentences and duplicated_quotes, and the
per-category table splits the refusals by kind (swap_entity, swap_number, absent_attribute,
negation, offtopic).

- covid-qa-HALF: the 19-article subset the sets were made from (make_refusal_sets.py), with
  every answerable question of the half (gold answers from covid-qa), every adversarial one
  and the off-topic ones.
- seed-HALF: the seed article, with the half's seed questions: the answerable ones get the
  short gold answers below (written for this export; each is the article's own text), the
  adversarial and off-topic ones none.

The articles are copied into OUT (a git-ignored run folder, like the index that holds their
text anyway): the index reads only real files in its documents folder, not links out of it.
Nothing here is committed; rerun it after make_refusal_sets.py changes the sets.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "evals"))
from calibrate_refusal import load_items  # noqa: E402
from make_refusal_sets import SEED_DOC, SUBSET_CHARS, default_data, subset_names  # noqa: E402

# Gold answers of the seed set's answerable questions (both halves), alternatives in order:
# the first is located in the article for its answer_start.
SEED_GOLD: dict[str, list[str]] = {
    "seed-t0-amazon": ["$8 billion"],
    "seed-t1-amazon": ["non-exclusive", "not exclusive"],
    "seed-t2-amazon": ["Alexa"],
    "seed-t3-amazon": ["custom chips"],
    "seed-t4-microsoft": ["Azure"],
    "seed-t5-microsoft": ["OpenAI"],
    "seed-t6": ["Meta"],
    "seed-t7": ["Amazon"],
    "seed-t8-amazon": ["lag behind competitors"],
    "seed-t9": ["Google"],
    "seed-t10-openai": ["independent commercialization"],
    "seed-t11-amazon": ["Anthropic"],
    "seed-t12-amazon": ["Claude"],
    "seed-t13-amazon": ["hedging its bets", "lag behind competitors"],
    "seed-q0": ["Google"],
    "seed-q1": ["the entire technology stack and intellectual property"],
    "seed-q2": ["costly and challenging"],
    "seed-q3": ["artificial general intelligence"],
    "seed-q4": ["favored early partnerships"],
    "seed-q5": ["those who own foundational AI technology"],
    "seed-q6": ["multiple funding sources", "collaborate with other companies"],
    "seed-q7": ["immediate capital gains"],
    "seed-q8": ["a cautious but significant bet"],
    "seed-q9": ["GPT-4, Claude, and Gemini"],
}


def unanswerable(item: dict) -> dict:
    """The questions.jsonl line of a question the documents do not answer."""
    line = {"id": item["id"], "question": item["question"], "answers": [], "kind": item["kind"]}
    if item.get("doc"):
        line["doc"] = item["doc"]
    return line


def gold_line(item: dict, answers: list[str], doc: str, text: str) -> dict:
    """The questions.jsonl line of an answerable question whose first answer is in text.

    Example: gold_line({"id": "s", "question": "Q?"}, ["chips"], "a.txt", "It builds chips.")
             -> {"id": "s", "question": "Q?", "answers": ["chips"], "doc": "a.txt",
                 "answer_start": 10, "kind": "answerable"}
    """
    start = text.find(answers[0])
    if start < 0:
        raise SystemExit(f"{item['id']}: its gold answer {answers[0]!r} is not in {doc}")
    return {
        "id": item["id"],
        "question": item["question"],
        "answers": answers,
        "doc": doc,
        "answer_start": start,
        "kind": "answerable",
    }


def write_folder(folder: Path, docs: dict[str, Path], lines: list[dict]) -> None:
    """folder/docs/ holding copies of docs (name -> file) and folder/questions.jsonl."""
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "docs").mkdir(parents=True)
    for name, path in docs.items():
        shutil.copyfile(path, folder / "docs" / name)
    with (folder / "questions.jsonl").open("w", encoding="utf-8") as out:
        out.writelines(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)


def export(half: str, data: Path, out: Path) -> tuple[Path, Path]:
    """Write out/covid-qa-HALF and out/seed-HALF; return both folders."""
    gold = {}
    with (data / "questions.jsonl").open(encoding="utf-8") as questions:
        for raw in questions:
            q = json.loads(raw)
            gold[q["id"]] = q
    items = [i for i in load_items(data, 10**6) if i["half"] == half]

    covid_lines = []
    for item in items:
        if item["corpus"] != "covid-qa":
            continue
        if item["kind"] == "answerable":
            q = gold[item["qid"]]
            covid_lines.append(
                {
                    "id": item["id"],
                    "question": item["question"],
                    "answers": q["answers"],
                    "doc": q["doc"],
                    "answer_start": q["answer_start"],
                    "kind": "answerable",
                }
            )
        else:
            covid_lines.append(unanswerable(item))
    names = subset_names(data, SUBSET_CHARS)
    covid = out / f"covid-qa-{half}"
    write_folder(covid, {n: data / "docs" / n for n in names}, covid_lines)

    article_path = ROOT / "seeds" / SEED_DOC
    article = article_path.read_text(encoding="utf-8")
    seed_lines = [
        gold_line(item, SEED_GOLD[item["id"]], SEED_DOC, article)
        if item["kind"] == "seed_answerable"
        else unanswerable(item)
        for item in items
        if item["corpus"] == "seed"
    ]
    seed = out / f"seed-{half}"
    write_folder(seed, {SEED_DOC: article_path}, seed_lines)
    return covid, seed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--half", choices=("tune", "confirm"), default="confirm")
    ap.add_argument("--data", default=str(default_data()), help="the covid-qa folder")
    ap.add_argument("--out", default=str(ROOT / "evals" / "runs" / "refusal-sets"))
    args = ap.parse_args()
    folders = export(args.half, Path(args.data), Path(args.out))
    for folder in folders:
        lines = (folder / "questions.jsonl").read_text(encoding="utf-8").splitlines()
        answerable = sum(bool(json.loads(line)["answers"]) for line in lines)
        print(f"{folder}: {answerable} answerable, {len(lines) - answerable} unanswerable")
    print(f"now: assistant eval {' '.join(map(str, folders))}")


if __name__ == "__main__":
    main()
