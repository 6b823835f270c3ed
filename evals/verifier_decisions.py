"""Record every decision the verifier makes on the rows a rule change must not harm, and
compare two records: the check that Sessions 8-10 ran before keeping a rule.

The rows: the tune half of evals/verify_set.jsonl, the hand-written file
(evals/checker_handwritten.jsonl), the development file(s) given, and the synthetic draw
`train_verifier.build_pairs(99, 8)` (premise as the one passage, hypothesis as the sentence).
For each row, two decisions: kept by the shipped verifier (rules and checker at the shipped
cut-offs) and kept by the rules alone at their own coverage cut-off; with the first rule
reason of each sentence's best span. No confirm row is read.

    PYTHONPATH=$PWD .venv/bin/python evals/verifier_decisions.py --save /tmp/before.json
    ... edit the rules ...
    PYTHONPATH=$PWD .venv/bin/python evals/verifier_decisions.py --compare /tmp/before.json

--compare prints each changed decision, marked "worse" (a supported row dropped, an
unsupported one kept) or "better", and the counts per file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

from assistant.answer.checker import CHECKER_FILE, TreeChecker
from assistant.answer.verifier_model import MODEL_DIR, load_calibration
from assistant.answer.verify import assess
from assistant.schema import Chunk

sys.path.insert(0, str(Path(__file__).resolve().parent))
from score_verifier import covid_dir, kept, load_set, row_passages

ROOT = Path(__file__).resolve().parent.parent
HANDWRITTEN = ROOT / "evals" / "checker_handwritten.jsonl"
DEV = ROOT / "evals" / "verify_dev_s9.jsonl"

__all__ = ["decisions"]


def _synthetic_rows() -> list[dict]:
    from train_verifier import build_pairs

    rows = []
    for i, pair in enumerate(build_pairs(99, 8)):
        rows.append(
            {
                "id": f"syn-{i:04d}",
                "kind": pair["kind"],
                "sentence": pair["hypothesis"],
                "supported": bool(pair["label"]),
                "premise": pair["premise"],
            }
        )
    return rows


def _passages(row: dict, covid: Path | None) -> list[Chunk] | None:
    if "premise" in row:
        text = row["premise"]
        digest = hashlib.sha256(text.encode()).hexdigest()
        return [Chunk("premise:0", "premise", text, 0, len(text), 0, digest)]
    return row_passages(row, covid)


def decisions(files: list[Path], synthetic: bool = True) -> dict[str, dict[str, dict]]:
    """{file name: {row id: {"supported", "checker", "rules", "reason", "sentence"}}}."""
    covid = covid_dir()
    scorer = TreeChecker.load(CHECKER_FILE)
    shipped = load_calibration(MODEL_DIR, "checker")
    rules_cover = load_calibration(MODEL_DIR, "rules").min_coverage
    assert shipped.threshold is not None
    groups: dict[str, list[dict]] = {
        "tune": [r for r in load_set() if r["half"] == "tune"],
    }
    for path in files:
        groups[path.name] = load_set(path)
    if synthetic:
        groups["synthetic"] = _synthetic_rows()
    out: dict[str, dict[str, dict]] = {}
    for name, rows in groups.items():
        out[name] = {}
        for row in rows:
            passages = _passages(row, covid)
            if passages is None:
                continue
            assessed = assess(row["sentence"] + " [1]", passages, scorer, checks=99)
            tries = [
                [(a.score, a.coverage) for a in x.attempts if a.score is not None] for x in assessed
            ]
            reasons = [a.reason for x in assessed for a in x.attempts if a.reason]
            scored = {"tries": tries}
            out[name][row["id"]] = {
                "supported": row["supported"],
                "kind": row.get("kind", ""),
                "sentence": row["sentence"],
                "checker": kept(scored, shipped.threshold, shipped.min_coverage),
                "rules": kept(scored, 0.0, rules_cover),
                "reason": reasons[0] if reasons else "",
            }
    return out


def _summary(record: dict[str, dict[str, dict]]) -> None:
    for name, rows in record.items():
        bad = [r for r in rows.values() if not r["supported"]]
        good = [r for r in rows.values() if r["supported"]]
        parts = []
        for mode in ("checker", "rules"):
            caught = sum(not r[mode] for r in bad) / max(1, len(bad))
            kept_share = sum(r[mode] for r in good) / max(1, len(good))
            parts.append(f"{mode} {caught:.3f} / {kept_share:.3f}")
        print(f"{name:<28} {len(good)} supported, {len(bad)} not: " + "; ".join(parts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--save", type=Path, help="write the decisions here")
    parser.add_argument("--compare", type=Path, help="compare with decisions saved before")
    parser.add_argument(
        "--dev", type=Path, nargs="*", default=[DEV], help="development files to include"
    )
    parser.add_argument("--no-synthetic", action="store_true", help="leave out the draw")
    args = parser.parse_args()
    record = decisions([HANDWRITTEN, *args.dev], synthetic=not args.no_synthetic)
    _summary(record)
    if args.save:
        args.save.write_text(json.dumps(record), encoding="utf-8")
    if args.compare:
        before = json.loads(args.compare.read_text(encoding="utf-8"))
        counts: Counter[str] = Counter()
        for name, rows in record.items():
            for rid, now in rows.items():
                old = before.get(name, {}).get(rid)
                if old is None:
                    continue
                for mode in ("checker", "rules"):
                    if old[mode] == now[mode]:
                        continue
                    good = now[mode] == now["supported"]
                    counts[f"{name} {mode} {'better' if good else 'worse'}"] += 1
                    print(
                        f"  {'better' if good else 'WORSE '} {name} {mode} {rid} "
                        f"{now['kind']}: {now['sentence']} [{now['reason'] or old['reason']}]"
                    )
        for key, n in sorted(counts.items()):
            print(f"{key}: {n}")


if __name__ == "__main__":
    main()
