"""Score the answer verifier on evals/verify_set.jsonl: caught / kept per half and per kind.

"caught" is the share of unsupported sentences the verifier drops; "kept" the share of
supported sentences it keeps. The decision threshold is chosen on the tune half (the one that
best meets both targets, caught >= 0.95 and kept >= 0.90) and reported on the confirm half.

    PYTHONPATH=$PWD .venv/bin/python evals/score_verifier.py                # report
    PYTHONPATH=$PWD .venv/bin/python evals/score_verifier.py --calibrate    # + write threshold
    PYTHONPATH=$PWD .venv/bin/python evals/score_verifier.py --rules-only   # no learned checker

Timing figures depend on the machine's load; say under what load they were taken.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

from assistant.answer.verify import SupportScorer, assess, verify_answer
from assistant.schema import Chunk

ROOT = Path(__file__).resolve().parent.parent
SET = ROOT / "evals" / "verify_set.jsonl"
TARGET_CAUGHT, TARGET_KEPT = 0.95, 0.90

__all__ = ["choose_threshold", "covid_dir", "load_set", "rates", "row_passages", "row_scores"]


def covid_dir() -> Path | None:
    """covid-qa beside the checkout (../shared), or beside the worktrees folder."""
    for base in (ROOT.parent, ROOT.parent.parent):
        path = base / "shared" / "datasets" / "covid-qa"
        if path.is_dir():
            return path
    return None


def load_set(path: Path = SET) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def row_passages(row: dict, covid: Path | None) -> list[Chunk] | None:
    """The row's passages as chunks of their source text (None when covid-qa is absent)."""
    chunks = []
    for i, p in enumerate(row["passages"]):
        if p["doc"].startswith("covid-qa:"):
            if covid is None:
                return None
            source = p["doc"].split(":", 1)[1]
            text = (covid / "docs" / source).read_text(encoding="utf-8")
        else:
            source = p["doc"]
            text = (ROOT / source).read_text(encoding="utf-8")
        body = text[p["start"] : p["end"]]
        digest = hashlib.sha256(body.encode()).hexdigest()
        chunks.append(
            Chunk(f"{source}:{p['start']}", source, body, p["start"], p["end"], i, digest)
        )
    return chunks


def row_scores(
    rows: Sequence[dict], scorer: SupportScorer | None, covid: Path | None
) -> tuple[list[dict], list[float]]:
    """Each usable row's best checker score among spans that pass the rules (-1 when none
    passes), and the seconds each sentence took."""
    used, best, seconds = [], [], []
    for row in rows:
        passages = row_passages(row, covid)
        if passages is None:
            continue
        started = time.perf_counter()
        # The row's sentence cites its first passage, as a model citing [1] would.
        assessments = assess(row["sentence"] + " [1]", passages, scorer)
        seconds.append(time.perf_counter() - started)
        # A row split into several sentences is kept only when every part is.
        best.append(min(a.best() for a in assessments) if assessments else -1.0)
        used.append({**row, "best": best[-1]})
    return used, seconds


def rates(rows: Sequence[dict], threshold: float) -> tuple[float, float]:
    """(caught, kept): share of unsupported rows dropped, share of supported rows kept."""
    bad = [r for r in rows if not r["supported"]]
    good = [r for r in rows if r["supported"]]
    caught = sum(r["best"] < threshold for r in bad) / max(1, len(bad))
    kept = sum(r["best"] >= threshold for r in good) / max(1, len(good))
    return caught, kept


def choose_threshold(rows: Sequence[dict]) -> float:
    """The threshold that best meets both targets on rows: maximise the worse of the two
    margins (caught - 0.95, kept - 0.90), ties to the middle of the best run.

    Example: supported rows scoring 0.9 and 0.8, unsupported 0.1 and 0.2 -> a threshold
             between 0.2 and 0.8.
    """
    values = sorted({r["best"] for r in rows} | {0.0, 1.0})
    cuts = [(a + b) / 2 for a, b in itertools.pairwise(values)]

    def margin(t: float) -> float:
        caught, kept = rates(rows, t)
        return min(caught - TARGET_CAUGHT, kept - TARGET_KEPT)

    best = max(margin(t) for t in cuts)
    run = [t for t in cuts if margin(t) == best]
    return run[len(run) // 2]


def _table(rows: Sequence[dict], threshold: float, key: Callable[[dict], str]) -> list[str]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[key(r)].append(r)
    lines = []
    for name, group in sorted(groups.items()):
        caught, kept = rates(group, threshold)
        n_bad = sum(not r["supported"] for r in group)
        n_good = len(group) - n_bad
        parts = []
        if n_bad:
            parts.append(f"caught {caught:.2f} of {n_bad}")
        if n_good:
            parts.append(f"kept {kept:.2f} of {n_good}")
        lines.append(f"  {name:<22} " + ", ".join(parts))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rules-only", action="store_true", help="no learned checker")
    parser.add_argument("--calibrate", action="store_true", help="write the tuned threshold")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--show-errors", action="store_true")
    args = parser.parse_args()

    covid = covid_dir()
    rows = load_set()
    scorer = None
    if not args.rules_only:
        from assistant.answer.verifier_model import MODEL_DIR, OnnxSupportScorer

        scorer = OnnxSupportScorer(threads=args.threads)
    scored, seconds = row_scores(rows, scorer, covid)
    if covid is None:
        print("covid-qa not found beside the checkout: scoring the seed rows only")
    tune = [r for r in scored if r["half"] == "tune"]
    confirm = [r for r in scored if r["half"] == "confirm"]
    threshold = 0.5 if args.rules_only else choose_threshold(tune)
    print(
        f"{len(scored)} rows ({len(tune)} tune, {len(confirm)} confirm); threshold {threshold:.3f}"
    )
    for name, half in (("tune", tune), ("confirm", confirm), ("all", scored)):
        caught, kept = rates(half, threshold)
        print(f"{name:<8} caught {caught:.3f}  kept {kept:.3f}")
        if name != "all":
            print("\n".join(_table(half, threshold, lambda r: f"{r['source']}/{r['kind']}")))
    print("per kind (both halves):")
    print("\n".join(_table(scored, threshold, lambda r: r["kind"])))
    ms = [s * 1000 for s in seconds]
    print(
        f"latency per sentence (rules + checker, 1 thread): median {statistics.median(ms):.1f} ms,"
        f" p90 {sorted(ms)[int(0.9 * len(ms))]:.1f} ms, max {max(ms):.1f} ms"
    )
    if scorer is not None:
        answer = (
            "Amazon has already invested about $8 billion in Anthropic [1]. Anthropic is "
            "partially owned by Google [1]. Amazon is considering a further multi-billion "
            "dollar investment [1]."
        )
        seed_row = next(r for r in rows if r["source"] == "seed" and r["passages"][0]["start"] > 0)
        passages = row_passages(seed_row, covid) or []
        verify_answer(answer, passages, scorer)  # warm
        runs = [verify_answer(answer, passages, scorer).seconds * 1000 for _ in range(10)]
        print(f"a three-sentence answer over one passage: median {statistics.median(runs):.1f} ms")
    if args.show_errors:
        for r in scored:
            wrong = (r["best"] >= threshold) != r["supported"]
            if wrong:
                print(f"  MISS {r['id']} {r['kind']} best={r['best']:.2f}: {r['sentence']}")
    if args.calibrate and scorer is not None:
        caught, kept = rates(confirm, threshold)
        (MODEL_DIR / "calibration.json").write_text(
            json.dumps(
                {
                    "threshold": round(threshold, 4),
                    "chosen_on": "tune half of evals/verify_set.jsonl",
                    "confirm": {"caught": round(caught, 3), "kept": round(kept, 3)},
                },
                indent=1,
            )
            + "\n"
        )
        print(f"wrote {MODEL_DIR / 'calibration.json'}")


if __name__ == "__main__":
    main()
