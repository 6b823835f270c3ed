"""Build the refusal calibration sets, deterministically, from covid-qa and the seed article.

    python evals/make_refusal_sets.py [--data ../shared/datasets/covid-qa]

Writes evals/refusal/*.jsonl. covid-qa is an external corpus that must not be copied into the
project, so a covid-qa answerable item is only a reference ({"qid"}): its question is read
from the data set at run time. A generated question is stored as its string plus the
references it was made from (question id, article, the token replaced and its offset).

Kinds (label 1 = the documents answer it, 0 = they do not):
- answerable      covid-qa questions as written (label 1);
- seed_answerable questions about the seed article, from templates whose slot holds the
                  entity the article names (label 1);
- swap_entity     a covid-qa question whose name or acronym is replaced by one from another
                  article, or a seed template with another company in the slot (label 0);
- swap_number     a covid-qa question whose year or number is replaced by one its article
                  does not contain, or a seed question with a figure the article lacks (0);
- absent_attribute the question's entity kept, asked about something no paragraph of the
                  corpus says about it: a price, a founder, a headquarters (label 0);
- negation        a covid-qa question "What is X?" turned into "What is not X?" (SQuAD 2.0's
                  most common kind of unanswerable question after swaps and antonyms): the
                  article says what X is, not what it is not; not one that picks from a
                  ranking or a list ("the most common species"), whose other items the
                  article names (label 0);
- offtopic        general-knowledge questions, asked of both corpora (label 0).

Label checks for generated unanswerable questions: the new entity or number is absent from the
question's own article, and no paragraph anywhere in the corpus holds the new entity (or the
attribute's words with the kept entity) together with half the question's other content
terms; a negated question's article has no sentence that denies anything and holds half of
its content terms. The checks are per paragraph or sentence of the whole article, coarser
than the features they test, so the labels do not simply restate a feature.

Halves: covid-qa items and items made from them take their question id's parity (even =
tune, odd = confirm, as in the other benchmarks); the rest split by a hash of their id.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
from collections import defaultdict
from pathlib import Path

from assistant.retrieval.lexical import STOPWORDS, analyze

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "evals" / "refusal"
SEED_DOC = "amazon-anthropic-investment.txt"


def default_data() -> Path:
    """covid-qa beside the checkout (../shared), or beside the worktrees' parent."""
    for base in (ROOT.parent, ROOT.parent.parent):
        path = base / "shared" / "datasets" / "covid-qa"
        if path.is_dir():
            return path
    return ROOT.parent / "shared" / "datasets" / "covid-qa"


# The covid-qa articles used: those with the most questions per character, up to 300,000
# characters in all (19 articles, 582 questions, about 450 chunks). Every chunk and candidate
# sentence must be embedded, and on the shared 2-core machine that bounds the sample; the
# label checks and the index both see exactly these articles.
SUBSET_CHARS = 300_000


def subset_names(data: Path, budget: int) -> list[str]:
    """The densest articles (questions per byte) of a covid-qa folder whose sizes fit budget,
    in name order; budget 0 = all."""
    counts: dict[str, int] = defaultdict(int)
    for line in (data / "questions.jsonl").open():
        counts[json.loads(line)["doc"]] += 1
    files = sorted((data / "docs").glob("*.txt"), key=lambda p: p.name)
    if budget <= 0:
        return [p.name for p in files]
    files.sort(key=lambda p: (-counts[p.name] / p.stat().st_size, p.name))
    chosen, total = [], 0
    for p in files:
        if total + p.stat().st_size <= budget:
            chosen.append(p.name)
            total += p.stat().st_size
    return sorted(chosen)


def half_of(key: str) -> str:
    return "tune" if int(hashlib.sha1(key.encode()).hexdigest(), 16) % 2 == 0 else "confirm"


def qid_half(qid: str) -> str:
    return "tune" if int(qid) % 2 == 0 else "confirm"


# ---------------------------------------------------------------- covid-qa entities

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-]*[A-Za-z0-9]|[A-Za-z0-9]")
_NUMBER = re.compile(r"^(?:1[5-9]\d\d|20\d\d|\d+)$")
_FIRST_WORDS = {"what", "which", "who", "when", "where", "why", "how", "is", "are", "do", "does"}


def entity_shape(token: str, position: int) -> str | None:
    """'acronym' (two or more capitals or letters with digits), 'name' (a capitalised word
    inside the question), or None."""
    if _NUMBER.match(token):
        return None
    caps = sum(ch.isupper() for ch in token)
    if caps >= 2 or (any(ch.isdigit() for ch in token) and any(ch.isalpha() for ch in token)):
        return "acronym"
    if position > 0 and token[:1].isupper() and token.lower() not in STOPWORDS and len(token) > 3:
        return "name"
    return None


def question_entities(question: str) -> list[tuple[str, int, str]]:
    """(token, offset, shape) for each entity-like token of a question."""
    out = []
    for i, m in enumerate(_TOKEN.finditer(question)):
        shape = entity_shape(m.group(), i)
        if shape:
            out.append((m.group(), m.start(), shape))
    return out


def tokens_of(text: str) -> set[str]:
    return set(_TOKEN.findall(text))


def is_proper(token: str, texts: list[str]) -> bool:
    """A capitalised word that the articles mostly write capitalised (a name, not a word
    that opened a question), e.g. "Wuhan" but not "Interferon"."""
    lower = sum(len(re.findall(rf"\b{re.escape(token.lower())}\b", t)) for t in texts)
    upper = sum(len(re.findall(rf"\b{re.escape(token)}\b", t)) for t in texts)
    return upper > 0 and lower <= 0.2 * upper


class Corpus:
    """Paragraphs of every document with their analysed terms, for the label checks."""

    def __init__(self, docs: dict[str, str]) -> None:
        self.docs = docs
        self.tokens = {name: tokens_of(text) for name, text in docs.items()}
        # (document, analysed terms, surface tokens) of each paragraph
        self.paragraphs: list[tuple[str, set[str], set[str]]] = []
        for name, text in docs.items():
            for para in re.split(r"\n\s*\n|\n", text):
                if len(para) > 40:
                    self.paragraphs.append((name, set(analyze(para)), tokens_of(para)))

    def denies(self, doc: str, terms: set[str], share: float = 0.5) -> bool:
        """Does a sentence of doc hold a negation and at least share of terms?"""
        need = max(1, round(share * len(terms))) if terms else 0
        return any(
            _DENIAL.search(sentence) and len(terms & set(analyze(sentence))) >= need
            for sentence in re.split(r"(?<=[.!?])\s+", self.docs[doc])
        )

    def together(self, token: str, terms: set[str], share: float = 0.5) -> bool:
        """Does any paragraph hold token and at least share of terms?"""
        need = max(1, round(share * len(terms))) if terms else 0
        return any(
            token in ptokens and len(terms & pterms) >= need
            for _, pterms, ptokens in self.paragraphs
        )


# A question that asks what something is ("What is the incubation period of X?"), to turn
# into one that asks what it is not; and any denial already in a question or a sentence.
_COPULA = re.compile(
    r"^(?:what|which|who|where)(?:\s+(?!who\b|that\b|which\b)[\w\-]+){0,2}?\s+(?:is|are|was|were)\b",
    re.I,
)
# ... but not one that picks from a ranking or a list ("What is the most common species?"):
# turned around it asks for the others, which the article names.
_RANKED = re.compile(
    r"\b(?:most|least|\w+est|leading|main|major|common|first|last|primary|principal|top|"
    r"examples?|types?|kinds?|some|one|ones|any)\b",
    re.I,
)
_DENIAL = re.compile(r"\b(?:not|no|never|none|neither|nor|cannot|without|lack\w*)\b|n[’']t\b", re.I)


def content_terms(question: str, drop: str) -> set[str]:
    """The question's analysed terms other than those of the token being replaced."""
    dropped = set(analyze(drop))
    return {t for t in analyze(question) if t not in dropped and not t.isdigit()}


# Attributes the covid-qa articles do not state about the entities their questions ask about.
# (template, words that would have to appear with the entity for it to be answerable)
ATTRIBUTES = [
    ("Which company manufactures {e}, and at what price?", "company manufactur price"),
    ("Who first named {e}, and in which year?", "name nam first year"),
    ("How much did the research on {e} cost in US dollars?", "cost dollar fund"),
    ("Which university holds the patent on {e}?", "patent univers"),
    ("In which city is the laboratory that discovered {e} headquartered?", "headquart laboratori"),
    ("How many employees work on {e} at its largest manufacturer?", "employe manufactur"),
    ("Who won an award for the work on {e}?", "award prize"),
    ("What is the market value of {e}?", "market valu"),
]


def make_covid(questions: list[dict], corpus: Corpus) -> list[dict]:
    docs = corpus.docs
    # Entity pool: each entity-like token of any question, with the articles that contain it.
    pool: dict[str, list[str]] = {"acronym": [], "name": []}
    seen: set[str] = set()
    for q in questions:
        for token, _, shape in question_entities(q["question"]):
            if token not in seen:
                seen.add(token)
                pool[shape].append(token)
    where: dict[str, set[str]] = defaultdict(set)
    for shape in pool:
        for token in pool[shape]:
            for name, toks in corpus.tokens.items():
                if token in toks:
                    where[token].add(name)
    for shape in pool:
        # Only entities found in 1..10 articles: rarer ones are typos, commoner ones generic.
        pool[shape] = sorted(t for t in pool[shape] if 1 <= len(where[t]) <= 10)
    pool["name"] = [t for t in pool["name"] if is_proper(t, [docs[d] for d in where[t]])]
    allowed = set(pool["acronym"]) | set(pool["name"])

    items: list[dict] = []
    for q in questions:
        qid, text, doc = q["id"], " ".join(q["question"].split()), q["doc"]
        half = qid_half(qid)
        items.append(
            {
                "id": f"cq-{qid}",
                "kind": "answerable",
                "label": 1,
                "corpus": "covid-qa",
                "half": half,
                "qid": qid,
            }
        )
        rng = random.Random(f"refusal-{qid}")
        ents = [
            e for e in question_entities(text) if e[0] in corpus.tokens[doc] and e[0] in allowed
        ]
        # swap_entity
        if ents:
            token, offset, shape = rng.choice(ents)
            others = content_terms(text, token)
            candidates = [
                t for t in pool[shape] if doc not in where[t] and t.lower() != token.lower()
            ]
            rng.shuffle(candidates)
            for new in candidates[:30]:
                if not corpus.together(new, others):
                    items.append(
                        {
                            "id": f"cq-{qid}-swap-entity",
                            "kind": "swap_entity",
                            "label": 0,
                            "corpus": "covid-qa",
                            "half": half,
                            "qid": qid,
                            "doc": doc,
                            "replaced": token,
                            "offset": offset,
                            "by": new,
                            "question": text[:offset] + new + text[offset + len(token) :],
                        }
                    )
                    break
        # swap_number
        numbers = [
            (m.group(), m.start()) for m in _TOKEN.finditer(text) if _NUMBER.match(m.group())
        ]
        if numbers:
            token, offset = rng.choice(numbers)
            value = int(token)
            if 1500 <= value <= 2099:
                options = [value + d for d in (-9, -7, -5, 5, 7, 9) if value + d <= 2030]
            else:
                options = [value * 3 + 1, value * 7 + 2, value + 13]
            rng.shuffle(options)
            others = content_terms(text, token)
            for new in map(str, options):
                if new not in corpus.tokens[doc] and not corpus.together(new, others):
                    items.append(
                        {
                            "id": f"cq-{qid}-swap-number",
                            "kind": "swap_number",
                            "label": 0,
                            "corpus": "covid-qa",
                            "half": half,
                            "qid": qid,
                            "doc": doc,
                            "replaced": token,
                            "offset": offset,
                            "by": new,
                            "question": text[:offset] + new + text[offset + len(token) :],
                        }
                    )
                    break
        # absent_attribute: a question about one entity of this question
        if ents:
            token = rng.choice(ents)[0]
            template, words = rng.choice(ATTRIBUTES)
            if not corpus.together(token, set(words.split()), share=0.5):
                items.append(
                    {
                        "id": f"cq-{qid}-absent",
                        "kind": "absent_attribute",
                        "label": 0,
                        "corpus": "covid-qa",
                        "half": half,
                        "qid": qid,
                        "doc": doc,
                        "entity": token,
                        "question": template.format(e=token),
                    }
                )
        # negation
        copula = _COPULA.match(text)
        if (
            copula
            and not _DENIAL.search(text)
            and not _RANKED.search(text)
            and not corpus.denies(doc, content_terms(text, ""))
        ):
            items.append(
                {
                    "id": f"cq-{qid}-negation",
                    "kind": "negation",
                    "label": 0,
                    "corpus": "covid-qa",
                    "half": half,
                    "qid": qid,
                    "doc": doc,
                    "question": f"{text[: copula.end()]} not{text[copula.end() :]}",
                }
            )
    return items


# ---------------------------------------------------------------- the seed article

COMPANIES = ["Amazon", "Google", "Meta", "Microsoft", "OpenAI", "Anthropic"]
# (template, the company the article names for the slot): the true filling is answerable,
# every other company unanswerable. Written from the article, in our own words.
SEED_TEMPLATES = [
    ("How much money has {c} already put into Anthropic?", "Amazon"),
    ("Is {c}'s stake in Anthropic exclusive?", "Amazon"),
    ("Which voice assistant is {c} building Anthropic's AI into?", "Amazon"),
    ("What hardware is {c} supplying to Anthropic?", "Amazon"),
    ("Which cloud platform did {c} use to profit from ChatGPT's growth?", "Microsoft"),
    ("Which company has {c} secured an exclusive partnership with?", "Microsoft"),
    ("Which firm is building its AI models entirely in-house to own the whole stack?", None),
    ("Whose in-house AI models trail GPT-4 and Gemini on benchmarks?", None),
    ("How are {c}'s homegrown AI models doing against GPT-4 and Gemini?", "Amazon"),
    ("Which company partially owns Anthropic besides its other backers?", None),
    ("What is {c} pursuing that complicates its relationship with Microsoft?", "OpenAI"),
    ("Which company is {c} hedging its bets with by investing?", "Amazon"),
    ("What top AI model does {c} want to align itself with through Anthropic?", "Amazon"),
    ("Why is {c} investing in Anthropic rather than relying only on its own models?", "Amazon"),
]
SEED_ABSENT = [
    "What was {c}'s revenue last quarter?",
    "Who is the chief executive of {c}?",
    "In which year was {c} founded?",
    "Where are {c}'s headquarters?",
    "How many people does {c} employ?",
    "What is {c}'s market capitalisation?",
    "How many dollars has {c} put into Anthropic in total?",
    "What share of Anthropic does {c} hold, in percent?",
    "On what date did {c} announce its latest AI model?",
]
SEED_NUMBERS = [
    "Who has invested around $3 billion in Anthropic?",
    "Which company put $12 billion into Anthropic?",
    "What did Amazon announce about Anthropic in 2019?",
    "What happened to Microsoft's OpenAI deal in 2021?",
    "Which company invested $500 million in Anthropic last year?",
    "How did markets react in 2015 to Google's in-house AI push?",
    "What did Meta spend $20 billion on?",
    "Which startup received a 40 percent stake from Amazon?",
]
SEED_ANSWERABLE = [
    "Which company still owns part of Anthropic?",
    "What does Meta aim to control by building AI itself?",
    "What is the downside of building AI in-house?",
    "What is seen as the ultimate prize of the AI era?",
    "How have markets treated early AI partnerships so far?",
    "Who may capture the long-term value of AI?",
    "Why is there no guarantee that Anthropic stays loyal to Amazon?",
    "What is Amazon's strategy less about, from an investor's perspective?",
    "What kind of bet does the article call Amazon's investment?",
    "Which AI models outperform Amazon's own on benchmarks?",
]


def make_seed(article: str) -> list[dict]:
    items: list[dict] = []

    def add(key: str, kind: str, label: int, question: str) -> None:
        items.append(
            {
                "id": f"seed-{key}",
                "kind": kind,
                "label": label,
                "corpus": "seed",
                "half": half_of(f"seed-{key}"),
                "question": question,
            }
        )

    for i, (template, true) in enumerate(SEED_TEMPLATES):
        if true is None:
            add(f"t{i}", "seed_answerable", 1, template)
            continue
        for c in COMPANIES:
            if c == true:
                add(f"t{i}-{c.lower()}", "seed_answerable", 1, template.format(c=c))
            elif c not in template:
                add(f"t{i}-{c.lower()}", "swap_entity", 0, template.format(c=c))
    for i, template in enumerate(SEED_ABSENT):
        for c in COMPANIES:
            question = template.format(c=c)
            if c == "Anthropic" and "Anthropic" in template:
                continue
            if c == "Amazon" and "put into Anthropic" in template:
                continue  # the article gives Amazon's figure: answerable
            add(f"a{i}-{c.lower()}", "absent_attribute", 0, question)
    for i, question in enumerate(SEED_NUMBERS):
        for n in re.findall(r"\d+", question):
            assert n not in article.replace(",", ""), f"{n} is in the article: pick another"
        add(f"n{i}", "swap_number", 0, question)
    for i, question in enumerate(SEED_ANSWERABLE):
        add(f"q{i}", "seed_answerable", 1, question)
    return items


# ---------------------------------------------------------------- off-topic

OFFTOPIC = (
    [
        f"What is the capital of {c}?"
        for c in [
            "Peru",
            "Norway",
            "Kenya",
            "Canada",
            "Vietnam",
            "Portugal",
            "Chile",
            "Egypt",
            "Poland",
        ]
    ]
    + [
        f"Who wrote {b}?"
        for b in [
            "Pride and Prejudice",
            "War and Peace",
            "The Old Man and the Sea",
            "Hamlet",
            "One Hundred Years of Solitude",
            "The Great Gatsby",
            "Don Quixote",
        ]
    ]
    + [
        f"How do I {t}?"
        for t in [
            "change a flat bicycle tyre",
            "tie a bowline knot",
            "repot an orchid",
            "make a paper aeroplane",
            "tune a guitar",
            "descale a kettle",
            "fold a fitted sheet",
            "set up a new email account",
            "iron a dress shirt",
            "plant tulip bulbs",
        ]
    ]
    + [
        f"When did {e}?"
        for e in [
            "the Berlin Wall fall",
            "the Titanic sink",
            "humans first land on the Moon",
            "the French Revolution begin",
            "the Roman Empire fall in the west",
            "the first modern Olympic Games take place",
        ]
    ]
    + [
        f"Who won {s}?"
        for s in [
            "the 2014 FIFA World Cup",
            "Wimbledon in 2008",
            "the 2016 NBA Finals",
            "the Tour de France in 1998",
            "the Eurovision Song Contest in 1974",
        ]
    ]
    + [
        f"How tall is {m}?"
        for m in [
            "the Eiffel Tower",
            "Mount Kilimanjaro",
            "the Burj Khalifa",
            "Big Ben",
            "the Statue of Liberty",
        ]
    ]
    + [
        f"What is a good recipe for {d}?"
        for d in ["lasagne", "pancakes", "guacamole", "ratatouille", "apple crumble"]
    ]
    + [
        f"How do you say '{p}' in {lang}?"
        for p, lang in [
            ("good morning", "Japanese"),
            ("thank you", "Finnish"),
            ("where is the station", "Italian"),
        ]
    ]
    + [
        "What is the square root of 144?",
        "How many legs does a spider have?",
        "What is the speed of light in a vacuum?",
        "Which planet is closest to the Sun?",
        "What is the chemical symbol for gold?",
        "How many strings does a violin have?",
        "What is the longest river in South America?",
        "Who painted the ceiling of the Sistine Chapel?",
        "What is the offside rule in football?",
        "How many players are on a rugby union team?",
        "What is the plural of cactus?",
        "Which ocean is the deepest?",
        "What does a barometer measure?",
        "How long is a marathon?",
        "What language is spoken in Brazil?",
        "What is the best way to learn to touch-type?",
        "Which instrument did Miles Davis play?",
        "How many time zones does Russia span?",
        "What is the national animal of Scotland?",
        "Who composed The Four Seasons?",
    ]
)


def make_offtopic() -> list[dict]:
    return [
        {
            "id": f"off-{i}",
            "kind": "offtopic",
            "label": 0,
            "corpus": "both",
            "half": half_of(f"off-{i}"),
            "question": q,
        }
        for i, q in enumerate(OFFTOPIC)
    ]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(default_data()))
    ap.add_argument(
        "--chars",
        type=int,
        default=SUBSET_CHARS,
        help="covid-qa articles to use, by question density, up to this size (0 = all)",
    )
    args = ap.parse_args()
    data = Path(args.data)
    names = subset_names(data, args.chars)
    docs = {name: (data / "docs" / name).read_text(encoding="utf-8") for name in names}
    questions = [json.loads(line) for line in (data / "questions.jsonl").open()]
    questions = [q for q in questions if q["doc"] in docs]
    article = (ROOT / "seeds" / SEED_DOC).read_text(encoding="utf-8")
    sets = {
        "covid-qa": make_covid(questions, Corpus(docs)),
        "seed": make_seed(article),
        "offtopic": make_offtopic(),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    for name, items in sets.items():
        path = OUT / f"{name}.jsonl"
        with path.open("w", encoding="utf-8") as f:
            for item in items:
                f.write(json.dumps(item, ensure_ascii=False) + "\n")
        counts: dict[tuple[str, str], int] = defaultdict(int)
        for item in items:
            counts[(item["kind"], item["half"])] += 1
        print(path.relative_to(ROOT), dict(sorted(counts.items())))


if __name__ == "__main__":
    main()
