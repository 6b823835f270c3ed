# ruff: noqa: E501  (the hand-written rows below read best one to a line)
"""Write evals/verify_set.jsonl: labelled (sentence, passages, supported?, kind) pairs.

Two sources, both kept apart from what the verifier was trained on:

- the seed article: sentences written by hand below, about one paragraph (the passage) or two
  (for facts joined from two places); their wording is ours, not a template's;
- covid-qa: only the articles that evals/train_verifier.py holds out (`held_out`), around the
  sentences that hold the experts' answers; the rewrites use templates and word lists that the
  training generator does not have (attribution wrappers, "per cent", number words above
  twelve, other synonyms, "never"/"no longer", other antonyms, "certainly" for hedges, other
  world-knowledge claims, other connectors for joined facts, names from other articles).

For covid-qa a passage is stored as article id and offsets, never as text (the corpus stays
outside the repository); for the seed article the offsets index seeds/.

Every row gets a half, "tune" or "confirm", from a hash of its id: the threshold is chosen on
tune and reported on confirm (evals/score_verifier.py).

    PYTHONPATH=$PWD .venv/bin/python evals/make_verify_set.py
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_verifier import COVID, SEED_ARTICLE, article_sentences, held_out

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "evals" / "verify_set.jsonl"
SEED_DOC = "seeds/amazon-anthropic-investment.txt"

# --- the seed article, by hand ---------------------------------------------------------------
# (paragraph numbers 1..6 of the article, sentence, supported, kind)
SEED_ROWS: list[tuple[tuple[int, ...], str, bool, str]] = [
    # supported paraphrases
    ((2,), "Amazon has already put about eight billion dollars into Anthropic.", True, "paraphrase"),
    ((2,), "So far Amazon's investment in Anthropic amounts to roughly $8 billion.", True, "paraphrase"),
    ((2,), "Google owns part of Anthropic.", True, "paraphrase"),
    ((2,), "Anthropic also works with Meta.", True, "paraphrase"),
    ((2,), "Anthropic keeps its independence: it is partly owned by Google and works with other large tech companies such as Meta.", True, "paraphrase"),
    ((2,), "Unlike Microsoft with its exclusive OpenAI deal, Amazon has less leverage over Anthropic.", True, "paraphrase"),
    ((2,), "Amazon is reportedly weighing another multi-billion dollar investment in Anthropic.", True, "paraphrase"),
    ((2,), "Even if Amazon invests more, that may not bring it tighter control or exclusivity.", True, "paraphrase"),
    ((2,), "Amazon's investment in Anthropic could grow in size.", True, "paraphrase"),
    ((1,), "Amazon's stake in Anthropic is not exclusive.", True, "paraphrase"),
    ((1,), "Microsoft has an exclusive deal with OpenAI.", True, "paraphrase"),
    ((1,), "With the investment, Amazon aims to secure access to advanced AI models such as Claude.", True, "paraphrase"),
    ((1,), "Amazon's stake reflects a wider industry split between building AI in-house and investing in outside AI innovators.", True, "paraphrase"),
    ((3,), "Meta is building its AI models in-house to control the whole technology stack and the intellectual property.", True, "paraphrase"),
    ((3,), "Building AI in-house is costly and challenging, but it offers the potential for greater control and long-term benefits.", True, "paraphrase"),
    ((3,), "Amazon's own AI models lag behind GPT-4, Claude and Gemini in performance benchmarks.", True, "paraphrase"),
    ((3,), "Amazon is hedging its bets by backing proven AI players such as Anthropic.", True, "paraphrase"),
    ((3,), "The situation highlights a broader strategic divide in how major tech companies approach AI development.", True, "paraphrase"),
    ((4,), "Amazon supports Anthropic with custom chips and data centers tailored to its needs.", True, "paraphrase"),
    ((4,), "Amazon is integrating Anthropic's AI into products like Alexa.", True, "paraphrase"),
    ((4,), "Nothing guarantees that Anthropic will stay loyal to Amazon.", True, "paraphrase"),
    ((4,), "Anthropic has multiple funding sources and continues to collaborate with other companies.", True, "paraphrase"),
    ((4,), "Microsoft's partnership with OpenAI secured exclusivity and integrated ChatGPT growth into its Azure cloud platform.", True, "paraphrase"),
    ((4,), "Even the relationship between Microsoft and OpenAI has faced complexities as OpenAI pursues independent commercialization.", True, "paraphrase"),
    ((5,), "For investors, Amazon's strategy is less about immediate capital gains than about securing access to the best foundational AI models.", True, "paraphrase"),
    ((5,), "Companies like Meta and Amazon are vying for leadership in the race to develop artificial general intelligence.", True, "paraphrase"),
    ((5,), "Because of Anthropic's multiple partnerships, Amazon's position is not exclusive, which adds an element of risk.", True, "paraphrase"),
    ((5,), "Amazon wants to align itself with Claude, one of the top AI models, while continuing to develop its own capabilities.", True, "paraphrase"),
    ((6,), "So far, market reactions have favored early partnerships such as Microsoft's with OpenAI.", True, "paraphrase"),
    ((6,), "Google, which focuses on in-house development, has yet to receive similar investor enthusiasm.", True, "paraphrase"),
    ((6,), "For now, Amazon's investment in Anthropic is a cautious but significant bet.", True, "paraphrase"),
    ((6,), "The long-term value may ultimately belong to whoever owns foundational AI technology.", True, "paraphrase"),
    ((6,), "Some companies build AI stacks internally while others partner with or invest in startups.", True, "paraphrase"),
    # swapped numbers and dates
    ((2,), "Amazon has already invested around $10 billion in Anthropic.", False, "number"),
    ((2,), "Amazon has already invested around $8 million in Anthropic.", False, "number"),
    ((2,), "So far Amazon has put roughly 80 billion dollars into Anthropic.", False, "number"),
    ((2,), "Amazon has so far invested about four billion dollars in Anthropic.", False, "number"),
    ((2,), "Amazon holds a 40% stake in Anthropic.", False, "number"),
    ((2,), "In 2021, Amazon had already invested around $8 billion in Anthropic.", False, "number"),
    ((3,), "Amazon's own AI models lag behind GPT-5, Claude and Gemini in benchmarks.", False, "number"),
    # swapped entities
    ((2,), "Anthropic remains partially owned by Microsoft.", False, "entity"),
    ((2,), "Anthropic collaborates with Apple, maintaining its independence.", False, "entity"),
    ((1,), "Unlike Google's exclusive deal with OpenAI, Amazon's stake in Anthropic is non-exclusive.", False, "entity"),
    ((3,), "Google is heavily investing in building AI models in-house to control the entire technology stack.", False, "entity"),
    ((4,), "Amazon is integrating Anthropic's AI into products like Siri.", False, "entity"),
    ((4,), "Microsoft's partnership with OpenAI integrated ChatGPT growth into its Google Cloud platform.", False, "entity"),
    ((5,), "By investing in Anthropic, Amazon aims to align itself with one of the top AI models, Gemini.", False, "entity"),
    ((6,), "Market reactions have so far favored early partnerships like Amazon's with Anthropic.", False, "entity"),
    ((3,), "Amazon is heavily investing in building AI models in-house, aiming to control the entire technology stack.", False, "entity"),
    ((2,), "Meta remains partially owned by Google.", False, "entity"),
    # negations
    ((1,), "Amazon's stake in Anthropic is exclusive.", False, "negation"),
    ((2,), "Anthropic is not partially owned by Google.", False, "negation"),
    ((4,), "Anthropic is guaranteed to remain loyal to Amazon.", False, "negation"),
    ((5,), "Anthropic's partnerships make Amazon's position exclusive.", False, "negation"),
    ((3,), "Building AI models in-house is cheap and easy.", False, "negation"),
    ((6,), "Companies focusing on in-house development, such as Google, have already received similar investor enthusiasm.", False, "negation"),
    ((2,), "A larger Amazon investment would translate into tighter control over Anthropic and exclusivity.", False, "negation"),
    ((4,), "Microsoft's partnership with OpenAI did not secure exclusivity.", False, "negation"),
    ((2,), "Amazon holds more leverage over Anthropic than Microsoft holds over OpenAI.", False, "negation"),
    # dropped hedges
    ((2,), "Amazon has made a new multi-billion dollar investment in Anthropic.", False, "hedge"),
    ((1,), "Amazon has completed a multi-billion dollar investment to deepen its partnership with Anthropic.", False, "hedge"),
    ((2,), "Amazon's investment will increase in size.", False, "hedge"),
    ((6,), "The long-term value will belong to those who own foundational AI technology.", False, "hedge"),
    ((2,), "Amazon has deepened its partnership with Anthropic through a new multi-billion dollar investment.", False, "hedge"),
    ((5,), "Artificial general intelligence is the ultimate prize of the AI era.", False, "hedge"),
    # claims from world knowledge
    ((2,), "Amazon has already invested around $8 billion in Anthropic, which was founded by former OpenAI employees.", False, "world"),
    ((1,), "Anthropic's Claude models are trained on Amazon's Trainium chips.", False, "world"),
    ((3,), "Meta releases its in-house AI models as open-source Llama models.", False, "world"),
    ((4,), "Alexa is used by hundreds of millions of people.", False, "world"),
    ((6,), "Microsoft's partnership with OpenAI made Microsoft the most valuable company in the world.", False, "world"),
    ((5,), "Amazon is the largest cloud provider in the world.", False, "world"),
    ((1,), "Anthropic is headquartered in San Francisco.", False, "world"),
    ((4,), "The data centers Amazon built for Anthropic run on renewable energy.", False, "world"),
    # two facts joined from different paragraphs
    ((2, 4), "Because Amazon has invested around $8 billion in Anthropic, Anthropic integrated its AI into Alexa.", False, "joined"),
    ((2, 3), "Anthropic is partially owned by Google, whose own AI models lag behind GPT-4 in benchmarks.", False, "joined"),
    ((4, 1), "Amazon's stake in Anthropic secured exclusivity and integrated Claude into Amazon's cloud platform.", False, "joined"),
    ((3, 5), "Meta builds its AI models in-house and is vying with Amazon for leadership in the race to AGI.", False, "joined"),
    ((2, 6), "Amazon has already invested around $8 billion in Anthropic, a cautious but significant bet.", False, "joined"),
    ((4, 5), "Amazon supplies Anthropic with custom chips and data centers to secure access to the best foundational AI models.", False, "joined"),
    ((1, 6), "Market reactions have favored Amazon's non-exclusive stake in Anthropic.", False, "joined"),
    ((2, 3), "Anthropic collaborates with Meta, which is building AI models in-house to control its intellectual property.", False, "joined"),
]  # fmt: skip


def seed_rows() -> list[dict]:
    text = SEED_ARTICLE.read_text(encoding="utf-8")
    paragraphs, pos = [], 0
    for line in text.split("\n"):
        if line.strip():
            paragraphs.append((pos, pos + len(line)))
        pos += len(line) + 1
    rows = []
    for i, (paras, sentence, supported, kind) in enumerate(SEED_ROWS, start=1):
        passages = [
            {"doc": SEED_DOC, "start": paragraphs[p - 1][0], "end": paragraphs[p - 1][1]}
            for p in paras
        ]
        rows.append(_row(f"seed-{i:03d}", "seed", sentence, passages, supported, kind))
    return rows


# --- covid-qa held-out articles, by templates unlike the training generator's -------------------

_OPENERS = re.compile(
    r"^(?:However|In addition|Moreover|Furthermore|Therefore|Thus|Importantly|Interestingly|"
    r"Notably|Overall|Finally|Briefly|Additionally|In summary|In conclusion|Hence|Consequently),\s+"
)
_EVAL_SYNONYMS = {
    "associated with": "linked to",
    "demonstrated": "showed",
    "detected": "found",
    "approximately": "roughly",
    "frequently": "often",
    "commonly": "often",
    "individuals": "people",
    "reported": "described",
    "revealed": "showed",
    "performed": "carried out",
    "obtained": "gathered",
    "caused by": "due to",
    "in order to": "to",
    "a number of": "several",
    "the majority of": "most",
    "prior to": "before",
    "utilized": "used",
    "consists of": "is made up of",
    "is responsible for": "accounts for",
}
_EVAL_ANTONYMS = [
    ("increased", "reduced"),
    ("common", "rare"),
    ("significant", "negligible"),
    ("higher", "lower"),
    ("rapid", "slow"),
    ("severe", "mild"),
    ("effective", "ineffective"),
    ("present", "absent"),
    ("large", "small"),
    ("most", "few"),
    ("susceptible", "resistant"),
]
_EVAL_HEDGES = [
    (r"\bmay\b", "certainly"),
    (r"\bmight\b", "certainly"),
    (r"\bcould\b", "certainly will"),
    (r"\blikely to\b", "certain to"),
    (r"\blikely\b", "certainly"),
    (r"\bpossible\b", "certain"),
    (r"\bpotential\b(?! to)", "proven"),
    (r"\bsuggest(s?)\b", r"demonstrate\1 conclusively"),
    (r"\bsuggested\b", "demonstrated conclusively"),
    (r"\bputative\b", "confirmed"),
    (r"\bpresumably\b", "definitely"),
]
_EVAL_WORLD = [
    "; this was later confirmed by the European Medicines Agency",
    ", a result that earned the team a Lasker Award",
    ", and the same holds for the 1918 influenza pandemic",
    ", which is why Sweden never imposed a lockdown",
    ", as shown in a 2022 meta-analysis of 40 trials",
    "; the Gates Foundation funded this work with $50 million",
    ", a finding that Moderna used to design its vaccine",
    ", which affects about 1 in 5 adults",
    "; the effect is twice as strong in smokers",
    ", which the WHO declared a pandemic on 11 March 2020",
]
_EVAL_CONNECTORS = ["; in addition, ", ", whereas ", ", which explains why ", ", so "]
_COUNTRIES = ["Italy", "Brazil", "Canada", "Kenya", "Japan", "Germany", "Mexico", "India"]
_NUMBER_WORDS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def _in_words(n: int) -> str:
    if n < 20:
        return _NUMBER_WORDS[n]
    tens, ones = divmod(n, 10)
    return _TENS[tens] + ("" if not ones else "-" + _NUMBER_WORDS[ones])


def _supported(s: str, rng: random.Random) -> tuple[str, str]:
    options = []
    if _OPENERS.match(s):
        rest = _OPENERS.sub("", s)
        options.append(rest[0].upper() + rest[1:])
    first = s.split()[0]
    if (
        first[0].isupper()
        and first[1:].islower()
        and first.lower()
        in {"the", "a", "an", "this", "these", "in", "we", "our", "most", "all", "both"}
    ):
        options.append("The authors report that " + s[0].lower() + s[1:])
    m = re.search(r"(\d+(?:\.\d+)?)\s?%", s)
    if m:
        options.append(s[: m.start()] + m.group(1) + " per cent" + s[m.end() :])
    m = re.search(r"(?<![\d.,-])\b([1-9]\d)\b(?![.,]\d|\s?%|-)", s)
    # Not inside brackets: "(12, 13)" are reference numbers, not quantities.
    if m and not re.search(r"[(\[][^()\[\]]*$", s[: m.start()]):
        options.append(s[: m.start()] + _in_words(int(m.group(1))) + s[m.end() :])
    for old, new in _EVAL_SYNONYMS.items():
        if re.search(rf"\b{old}\b", s):
            options.append(re.sub(rf"\b{old}\b", new, s, count=1))
            break
    m = re.search(r",\s+(?:with|including|such as|as well as)\s", s)
    if m and len(s[: m.start()].split()) >= 7:
        options.append(s[: m.start()] + ".")
    if not options or rng.random() < 0.15:
        return s, "verbatim"
    return rng.choice(options), "rewrite"


def _unsupported(
    s: str, rng: random.Random, names_elsewhere: list[str], far: str, kinds: list[str]
) -> tuple[str, str] | None:
    made: dict[str, str] = {}
    digits = list(re.finditer(r"(?<![\w.-])(\d+(?:\.\d+)?)(?![\w-])", s))
    if digits:
        m = rng.choice(digits)
        old = m.group(1)
        if len(old.replace(".", "")) >= 2 and old[::-1] != old and not old.endswith("0"):
            new = old[::-1].lstrip("0") or "1"
        else:
            new = str(int(float(old) * 4 + 3)) if "." not in old else f"{float(old) * 4:.1f}"
        if new != old:
            made["number"] = s[: m.start(1)] + new + s[m.end(1) :]
    caps = list(re.finditer(r"(?<=[a-z,] )[A-Z][A-Za-z]+(?:-[A-Za-z0-9]+)?\b", s))
    if caps:
        m = rng.choice(caps)
        pool = [n for n in names_elsewhere + _COUNTRIES if n.lower() not in s.lower()]
        made["entity"] = s[: m.start()] + rng.choice(pool) + s[m.end() :]
    if re.search(r"\bnot\b", s):
        made["negation"] = re.sub(r"\bnot\s+", "", s, count=1)
    else:
        for a, b in _EVAL_ANTONYMS:
            if re.search(rf"\b{a}\b", s):
                made["negation"] = re.sub(rf"\b{a}\b", b, s, count=1)
                break
        else:
            m = re.search(r"\b(was|were|is|are|has been|have been|can be)\b", s)
            if m:
                made["negation"] = (
                    s[: m.end()] + rng.choice([" never", " no longer"]) + s[m.end() :]
                )
    for pattern, repl in _EVAL_HEDGES:
        if re.search(pattern, s):
            made["hedge"] = re.sub(pattern, repl, s, count=1)
            break
    made["world"] = s.rstrip(".") + rng.choice(_EVAL_WORLD) + "."
    clause = far.rstrip(".")
    if len(clause.split()) >= 5 and not clause.split()[0].isupper():
        made["joined"] = (
            s.rstrip(".") + rng.choice(_EVAL_CONNECTORS) + clause[0].lower() + clause[1:] + "."
        )
    # Prefer the kinds seen least so far: the set should hold every kind in fair numbers.
    options = [k for k in made if made[k] != s]
    if not options:
        return None
    kind = min(options, key=lambda k: (kinds.count(k), rng.random()))
    return made[kind], kind


def covid_rows(seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    questions = [json.loads(line) for line in (COVID / "questions.jsonl").open(encoding="utf-8")]
    docs = sorted({q["doc"] for q in questions if held_out(q["doc"])})
    texts = {d: (COVID / "docs" / d).read_text(encoding="utf-8") for d in docs}
    # Names: capitalised inside sentences at least twice, and never written in lower case.
    names_by_doc = {}
    for d, t in texts.items():
        found = [m.group(0) for m in re.finditer(r"(?<=[a-z] )[A-Z][a-z]{3,}\b", t[:20000])]
        names_by_doc[d] = sorted(
            {n for n in found if found.count(n) >= 2 and not re.search(rf"\b{n.lower()}\b", t)}
        )
    rows: list[dict] = []
    kinds: list[str] = []
    for doc in docs:
        text = texts[doc]
        spans = article_sentences(text)
        starts = [q["answer_start"] for q in questions if q["doc"] == doc]
        chosen = []
        for a in starts:
            for i, (s, e) in enumerate(spans):
                if s <= a < e and i not in chosen:
                    chosen.append(i)
        rng.shuffle(chosen)
        for i in chosen[:4]:
            lo, hi = max(0, i - 1), min(len(spans) - 1, i + 1)
            passage = {"doc": f"covid-qa:{doc}", "start": spans[lo][0], "end": spans[hi][1]}
            sentence = text[spans[i][0] : spans[i][1]]
            # Supported: a rewrite (or the sentence as written) against its own passage.
            new, _how = _supported(sentence, rng)
            n = len(rows)
            rows.append(
                _row(f"covid-{doc[:-4]}-{n:03d}", "covid-qa", new, [passage], True, "paraphrase")
            )
            others = [n for d in docs if d != doc for n in names_by_doc[d]]
            j = (i + len(spans) // 2) % len(spans)
            far_passage = {
                "doc": f"covid-qa:{doc}",
                "start": spans[max(0, j - 1)][0],
                "end": spans[min(len(spans) - 1, j + 1)][1],
            }
            made = _unsupported(
                sentence,
                rng,
                rng.sample(others, min(30, len(others))),
                text[spans[j][0] : spans[j][1]],
                kinds,
            )
            if made is None:
                continue
            kinds.append(made[1])
            passages = [passage, far_passage] if made[1] == "joined" else [passage]
            rows.append(
                _row(f"covid-{doc[:-4]}-{n + 1:03d}", "covid-qa", made[0], passages, False, made[1])
            )
    return rows


def _row(
    id_: str, source: str, sentence: str, passages: list[dict], supported: bool, kind: str
) -> dict:
    half = "tune" if int(hashlib.sha256(id_.encode()).hexdigest(), 16) % 2 == 0 else "confirm"
    return {
        "id": id_,
        "half": half,
        "source": source,
        "sentence": sentence,
        "passages": passages,
        "supported": supported,
        "kind": kind,
    }


def main() -> None:
    rows = seed_rows() + covid_rows()
    with OUT.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    by = {}
    for r in rows:
        key = (r["source"], r["kind"], r["supported"])
        by[key] = by.get(key, 0) + 1
    print(f"{len(rows)} rows -> {OUT}")
    for key, n in sorted(by.items()):
        print(key, n)


if __name__ == "__main__":
    main()
