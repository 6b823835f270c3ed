"""Score the answer verifier on evals/verify_set.jsonl: caught / kept per half and per kind.

"caught" is the share of unsupported sentences the verifier drops; "kept" the share of
supported sentences it keeps. The decision threshold is chosen on the tune half and reported on
the confirm half: for the rules alone, the coverage that best meets both targets (caught >=
0.95 and kept >= 0.90); for the learned checker, which is layered over the rules, the
cut-offs that catch the most while keeping at least what the rules alone keep on tune
(`choose_no_harm`; --margin uses the targets' criterion instead). --calibrate-with FILE adds
rows scored out of fold (evals/train_checker.py --cross-validate over the hand-written rows)
to tune and chooses by the targets' criterion on both: tune alone is nearly all caught by the
rules and cannot tell checkers apart. --tune-only scores no confirm row (to choose a protocol
before looking at confirm).

    PYTHONPATH=$PWD .venv/bin/python evals/score_verifier.py                # report
    PYTHONPATH=$PWD .venv/bin/python evals/score_verifier.py --calibrate    # + write threshold
    PYTHONPATH=$PWD .venv/bin/python evals/score_verifier.py --fixed        # shipped cut-offs
    PYTHONPATH=$PWD .venv/bin/python evals/score_verifier.py --rules-only   # ignore the checker
    PYTHONPATH=$PWD .venv/bin/python evals/score_verifier.py --show-errors  # tune's misses
    ... --calibrate --calibrate-with evals/runs/checker/oof.jsonl  # tune + out-of-fold rows
    ... --time-model assistant/answer/verifier/checker.json   # time a typical answer's check

The checker is the tree checker in assistant/answer/verifier/checker.json (--checker), else an
ONNX cross-encoder (model.int8.onnx) when one is installed. --calibrate writes its cut-offs
into calibration.json; with --rules-only it writes the rules' own coverage cut-off (the
"rules" entry, used by ASSISTANT_VERIFIER=rules). Without a checker only coverage is tuned.

Timing figures depend on the machine's load; say under what load they were taken.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

from assistant.answer.checker import CHECKER_FILE, TreeChecker
from assistant.answer.verifier_model import MODEL_DIR, OnnxSupportScorer, load_calibration
from assistant.answer.verify import SupportScorer, Verification, assess, verify_answer
from assistant.schema import Chunk

ROOT = Path(__file__).resolve().parent.parent
SET = ROOT / "evals" / "verify_set.jsonl"
SEED_DOC = "seeds/amazon-anthropic-investment.txt"
TARGET_CAUGHT, TARGET_KEPT = 0.95, 0.90

__all__ = [
    "answer_latency",
    "choose_no_harm",
    "choose_threshold",
    "covid_dir",
    "load_set",
    "rates",
    "row_passages",
    "row_score",
    "row_scores",
]


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
    """Each usable row with `tries`: per sentence, the (score, coverage) of every span that
    passes the rules; and the seconds each row took."""
    used, seconds = [], []
    for row in rows:
        passages = row_passages(row, covid)
        if passages is None:
            continue
        started = time.perf_counter()
        # The row's sentence cites its first passage, as a model citing [1] would.
        # Every span that passes the rules is scored, so that any coverage can be emulated.
        assessments = assess(row["sentence"] + " [1]", passages, scorer, checks=99)
        seconds.append(time.perf_counter() - started)
        tries = [
            [(a.score, a.coverage) for a in x.attempts if a.score is not None] for x in assessments
        ]
        used.append({**row, "tries": tries})
    return used, seconds


def row_score(
    tries: list[list[tuple[float, float]]], min_coverage: float = 0.0, checks: int = 2
) -> float:
    """A row's score as the verifier decides it: for each sentence the best score among its
    `checks` best-covered spans (covering at least min_coverage), then the worst sentence
    (-1.0 when a sentence has none: the rules drop it).

    Example: row_score([[(0.2, 0.9), (0.7, 0.8), (0.9, 0.5)]]) -> 0.7 (0.9 is never asked)
    """
    best = []
    for spans in tries:
        eligible = sorted((t for t in spans if t[1] >= min_coverage), key=lambda t: -t[1])
        best.append(max((score for score, _ in eligible[:checks]), default=-1.0))
    return min(best) if best else -1.0


def kept(row: dict, threshold: float, min_coverage: float = 0.0, checks: int = 2) -> bool:
    """Whether the verifier keeps the row: in every sentence, one of the `checks` spans with
    the most coverage (at least min_coverage) scores at least threshold, as verify_answer."""
    return row_score(row["tries"], min_coverage, checks) >= threshold


def rates(rows: Sequence[dict], threshold: float, min_coverage: float = 0.0) -> tuple[float, float]:
    """(caught, kept): share of unsupported rows dropped, share of supported rows kept."""
    bad = [r for r in rows if not r["supported"]]
    good = [r for r in rows if r["supported"]]
    caught = sum(not kept(r, threshold, min_coverage) for r in bad) / max(1, len(bad))
    kept_ = sum(kept(r, threshold, min_coverage) for r in good) / max(1, len(good))
    return caught, kept_


COVERAGES = (0.0, 0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7)


def choose_threshold(
    rows: Sequence[dict], coverages: Sequence[float] = COVERAGES
) -> tuple[float, float]:
    """(threshold, min_coverage) that best meet both targets on rows: maximise the worse of
    the two margins (caught - 0.95, kept - 0.90); ties go to the lowest coverage and the
    middle of the best run of thresholds.

    Example: supported rows scoring 0.9 and 0.8, unsupported 0.1 and 0.2 (all covering
             their spans) -> a threshold between 0.2 and 0.8, coverage 0.0.
    """
    values = sorted({s for r in rows for t in r["tries"] for s, _ in t} | {0.0, 1.0})
    cuts = [(a + b) / 2 for a, b in itertools.pairwise(values)]
    best: tuple[float, float, float] | None = None
    for c in coverages:
        margins = []
        for t in cuts:
            caught, kept_ = rates(rows, t, c)
            margins.append(min(caught - TARGET_CAUGHT, kept_ - TARGET_KEPT))
        top = max(margins)
        run = [t for t, m in zip(cuts, margins, strict=True) if m == top]
        if best is None or top > best[0]:
            best = (top, run[len(run) // 2], c)
    assert best is not None
    return best[1], best[2]


def choose_no_harm(
    rows: Sequence[dict], floor_kept: float, coverages: Sequence[float] = COVERAGES
) -> tuple[float, float]:
    """(threshold, min_coverage) for a checker layered over the rules: among the cut-offs
    that keep at least floor_kept of the supported rows (what the rules alone keep), the
    ones that catch the most; ties go to the lowest threshold, then the lowest coverage.

    Example: supported rows scoring 0.9 and 0.3, unsupported 0.1 and 0.2, floor 1.0 ->
             threshold 0.25 (the 0.3 row must stay), which catches both unsupported rows.
    """
    values = sorted({s for r in rows for t in r["tries"] for s, _ in t} | {0.0, 1.0})
    cuts = [0.0] + [(a + b) / 2 for a, b in itertools.pairwise(values)]
    best: tuple[float, float, float] | None = None
    for c in coverages:
        for t in cuts:
            caught, kept_ = rates(rows, t, c)
            if kept_ >= floor_kept and (best is None or caught > best[0]):
                best = (caught, t, c)
    if best is None:  # nothing keeps as much as the rules: the checker accepts everything
        return 0.0, max(coverages)
    return best[1], best[2]


ANSWER = (
    "Amazon has already invested about $8 billion in Anthropic [1]. Anthropic is "
    "partially owned by Google [1]. Amazon is considering a further multi-billion "
    "dollar investment [1]."
)


def answer_latency(
    scorer: SupportScorer | None,
    threshold: float,
    cover: float,
    covid: Path | None,
    runs: int = 15,
) -> tuple[float, int, Verification]:
    """Median milliseconds verify_answer takes for ANSWER over the seed article's five
    paragraphs after the first (a typical answer), the number of pairs the checker scored,
    and the verification."""
    article = (ROOT / "seeds" / "amazon-anthropic-investment.txt").read_text(encoding="utf-8")
    paragraphs = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", article)]
    row = {"passages": [{"doc": SEED_DOC, "start": a, "end": b} for a, b in paragraphs[1:6]]}
    passages = row_passages(row, covid) or []
    verify_answer(ANSWER, passages, scorer, threshold=threshold, min_coverage=cover)  # warm
    times = []
    for _ in range(runs):
        v = verify_answer(ANSWER, passages, scorer, threshold=threshold, min_coverage=cover)
        times.append(v.seconds * 1000)
    asked = assess(ANSWER, passages, scorer, min_coverage=cover)
    n_pairs = sum(a.score is not None for x in asked for a in x.attempts)
    return statistics.median(times), n_pairs, v


def _table(
    rows: Sequence[dict], threshold: float, cover: float, key: Callable[[dict], str]
) -> list[str]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[key(r)].append(r)
    lines = []
    for name, group in sorted(groups.items()):
        caught, kept = rates(group, threshold, cover)
        n_bad = sum(not r["supported"] for r in group)
        n_good = len(group) - n_bad
        parts = []
        if n_bad:
            parts.append(f"caught {caught:.2f} of {n_bad}")
        if n_good:
            parts.append(f"kept {kept:.2f} of {n_good}")
        lines.append(f"  {name:<22} " + ", ".join(parts))
    return lines


def _show_misses(rows: Sequence[dict], threshold: float, cover: float) -> None:
    for r in rows:
        if kept(r, threshold, cover) != r["supported"]:
            tries = "; ".join(",".join(f"{s:.2f}/{c:.2f}" for s, c in t) for t in r["tries"])
            print(f"  MISS {r['id']} {r['kind']} [{tries}]: {r['sentence']}")


def _report_dev(
    path: Path,
    scorer: SupportScorer | None,
    covid: Path | None,
    threshold: float,
    cover: float,
    show_errors: bool,
) -> None:
    """Score a development file at the given cut-offs: overall, per source and per kind."""
    dev, _ = row_scores(load_set(path), scorer, covid)
    caught, kept_share = rates(dev, threshold, cover)
    print(f"{path.name} ({len(dev)} rows): caught {caught:.3f}  kept {kept_share:.3f}")
    print("\n".join(_table(dev, threshold, cover, lambda r: r["source"])))
    print("\n".join(_table(dev, threshold, cover, lambda r: r["kind"])))
    if show_errors:
        _show_misses(dev, threshold, cover)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rules-only", action="store_true", help="ignore an installed checker")
    parser.add_argument("--calibrate", action="store_true", help="write the tuned threshold")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--show-errors", action="store_true", help="print the tune half's misses, row by row"
    )
    parser.add_argument(
        "--show-confirm-errors",
        action="store_true",
        help="print the confirm half's misses too (reading them spoils it as a held-out measure)",
    )
    parser.add_argument("--fixed", action="store_true", help="use the shipped calibration")
    parser.add_argument(
        "--checker", type=Path, default=CHECKER_FILE, help="the learned checker's weights"
    )
    parser.add_argument(
        "--margin",
        action="store_true",
        help="choose the checker's cut-offs by the worse margin to both targets, not no-harm",
    )
    parser.add_argument(
        "--calibrate-with",
        type=Path,
        metavar="FILE",
        help="also choose the checker's cut-offs on these rows scored out of fold "
        "(train_checker.py --cross-validate), by the targets' criterion",
    )
    parser.add_argument(
        "--tune-only",
        action="store_true",
        help="score the tune half only: cut-offs and tune figures, no confirm row is read",
    )
    parser.add_argument(
        "--calibrate-dev",
        type=Path,
        metavar="FILE",
        help="choose the checker's cut-offs on tune plus these labelled rows (a development "
        "file the checker was not trained on, such as evals/verify_dev_s9.jsonl), by the "
        "targets' criterion",
    )
    parser.add_argument(
        "--dev",
        type=Path,
        metavar="FILE",
        help="also score these rows (a development file such as evals/verify_dev_s9.jsonl) "
        "at the same cut-offs, per kind; with --show-errors their misses too",
    )
    parser.add_argument(
        "--time-model",
        type=Path,
        help="only time the check of a typical answer with the checker in this folder",
    )
    args = parser.parse_args()
    if args.time_model:
        timed: SupportScorer = (
            TreeChecker.load(args.time_model)
            if args.time_model.suffix == ".json"
            else OnnxSupportScorer(args.time_model, threads=args.threads)
        )
        cover = load_calibration().min_coverage
        ms_answer, n_pairs, _ = answer_latency(timed, 0.0, cover, covid_dir())
        rules_ms, _, _ = answer_latency(None, 0.5, cover, covid_dir())
        print(
            f"check of a three-sentence answer over five passages, 1 thread: rules alone "
            f"{rules_ms:.1f} ms; with the checker ({n_pairs} pairs in one run) "
            f"{ms_answer:.1f} ms (median of 15)"
        )
        return

    covid = covid_dir()
    rows = load_set()
    if args.tune_only:
        if args.calibrate:
            raise SystemExit("--calibrate records confirm figures: run it without --tune-only")
        rows = [r for r in rows if r["half"] == "tune"]
    extra = load_set(args.calibrate_with) if args.calibrate_with else []
    scorer: SupportScorer | None = None
    if args.rules_only:
        pass
    elif args.checker.is_file():
        scorer = TreeChecker.load(args.checker)
    elif (MODEL_DIR / "model.int8.onnx").is_file():
        scorer = OnnxSupportScorer(threads=args.threads)
    scored, _ = row_scores(rows, scorer, covid)
    if covid is None:
        print("covid-qa not found beside the checkout: scoring the seed rows only")
    tune = [r for r in scored if r["half"] == "tune"]
    confirm = [r for r in scored if r["half"] == "confirm"]
    if args.calibrate_with and (scorer is None or args.fixed):
        raise SystemExit("--calibrate-with chooses a checker's cut-offs: drop --fixed/--rules-only")
    if args.fixed:
        calibration = load_calibration(MODEL_DIR, "checker" if scorer is not None else "rules")
        threshold = 0.5  # without a checker every span scores 1.0: any cut-off below it
        if scorer is not None:
            if calibration.threshold is None:
                raise SystemExit("the shipped calibration has no checker threshold: --calibrate")
            threshold = calibration.threshold
        cover = calibration.min_coverage
    elif args.calibrate_dev and scorer is not None:
        # Tune alone is nearly all caught by the rules and cannot place a cut-off; the
        # development rows are hand-written like a model's sentences, and unseen in training.
        dev_rows, _ = row_scores(load_set(args.calibrate_dev), scorer, covid)
        threshold, cover = choose_threshold(tune + dev_rows)
        caught, kept_share = rates(dev_rows, threshold, cover)
        print(
            f"{args.calibrate_dev.name}: {len(dev_rows)} rows; at the chosen cut-offs "
            f"caught {caught:.3f}  kept {kept_share:.3f}"
        )
    elif extra:
        # Tune plus the out-of-fold rows, by the targets' criterion: the pooled rows hold
        # supported paraphrases and errors that the rules let through, which tune barely has.
        threshold, cover = choose_threshold(tune + extra)
        caught, kept_share = rates(extra, threshold, cover)
        print(
            f"{args.calibrate_with.name}: {len(extra)} rows scored out of fold; at the "
            f"chosen cut-offs caught {caught:.3f}  kept {kept_share:.3f}"
        )
        for pool, name in ((tune + extra, "tune + out-of-fold"), (extra, "out-of-fold")):
            rules_caught, rules_kept = rates(pool, 0.0, cover)  # the checker accepts all
            print(f"  rules alone there, {name}: caught {rules_caught:.3f}  kept {rules_kept:.3f}")
    elif scorer is not None and not args.margin:
        # The checker is layered over the rules: it must keep on tune at least what the rules
        # alone keep there (with their own calibrated coverage), and then catch the most.
        rules_rows, _ = row_scores([r for r in rows if r["half"] == "tune"], None, covid)
        floor = rates(rules_rows, 0.5, load_calibration(MODEL_DIR, "rules").min_coverage)[1]
        threshold, cover = choose_no_harm(tune, floor)
        print(f"rules alone keep {floor:.3f} of tune's supported rows: the checker's floor")
    else:
        # Without a checker every span that passes the rules scores 1.0: only coverage is tuned.
        threshold, cover = choose_threshold(tune)
    print(
        f"{len(scored)} rows ({len(tune)} tune, {len(confirm)} confirm); "
        f"threshold {threshold:.3f}, min coverage {cover:.2f}"
    )
    if args.dev:
        _report_dev(args.dev, scorer, covid, threshold, cover, args.show_errors)
    halves = (("tune", tune), ("confirm", confirm), ("all", scored))
    for name, half in halves[:1] if args.tune_only else halves:
        caught, kept_share = rates(half, threshold, cover)
        print(f"{name:<8} caught {caught:.3f}  kept {kept_share:.3f}")
        if name != "all":
            print("\n".join(_table(half, threshold, cover, lambda r: f"{r['source']}/{r['kind']}")))
    if args.tune_only:
        seed = [r for r in tune if r["source"] == "seed"]
        seed_caught, seed_kept = rates(seed, threshold, cover)
        print(f"tune's seed rows caught {seed_caught:.3f}  kept {seed_kept:.3f}")
        if args.show_errors:
            _show_misses(tune, threshold, cover)
        return
    print("per kind (both halves):")
    print("\n".join(_table(scored, threshold, cover, lambda r: r["kind"])))
    # Latency as the answer path runs it: verify_answer with the chosen cut-offs.
    ms = []
    for row in scored:
        passages = row_passages(row, covid) or []
        v = verify_answer(
            row["sentence"] + " [1]", passages, scorer, threshold=threshold, min_coverage=cover
        )
        ms.append(v.seconds * 1000)
    print(
        f"latency per sentence (rules + checker, 1 thread): median "
        f"{statistics.median(ms):.1f} ms, p90 {sorted(ms)[int(0.9 * len(ms))]:.1f} ms, "
        f"max {max(ms):.1f} ms"
    )
    ms_answer, n_pairs, v = answer_latency(scorer, threshold, cover, covid)
    print(
        f"check of a three-sentence answer over five passages ({n_pairs} span-sentence pairs "
        f"to the checker, 1 thread): median {ms_answer:.1f} ms; kept {len(v.citations)}, "
        f"dropped {[d.reason for d in v.dropped]}"
    )
    if args.show_errors or args.show_confirm_errors:
        # Features, data and cut-offs are to be chosen from the tune half's misses only.
        _show_misses(scored if args.show_confirm_errors else tune, threshold, cover)
    if args.calibrate:
        caught, kept_share = rates(confirm, threshold, cover)
        path = MODEL_DIR / "calibration.json"
        old = json.loads(path.read_text()) if path.is_file() else {}
        chosen_on = "tune half of evals/verify_set.jsonl"
        if args.calibrate_with:
            chosen_on += f" and out-of-fold scores of {args.calibrate_with.name} (targets)"
        elif args.calibrate_dev and scorer is not None:
            chosen_on += f" and {args.calibrate_dev.name} (targets)"
        entry = {
            "min_coverage": cover,
            "chosen_on": chosen_on,
            "confirm": {"caught": round(caught, 3), "kept": round(kept_share, 3)},
        }
        if scorer is None:  # the rules' own entry; the checker's cut-offs stay as they were
            data = {"threshold": None, **old, "rules": entry}
        else:
            checker = args.checker.name if isinstance(scorer, TreeChecker) else "model.int8.onnx"
            data = {
                "threshold": round(threshold, 4),
                **entry,
                "checker": checker,
                "rules": old.get("rules", {k: v for k, v in old.items() if k != "threshold"}),
            }
        path.write_text(json.dumps(data, indent=1) + "\n")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
