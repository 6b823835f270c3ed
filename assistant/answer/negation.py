"""Negation in plain text: which words a "not", "no" or "non-" governs, and whether a word is
negated where it is used. Shared by the answer check (answer/verify.py: a sentence must not
flip the passage's negation) and the refusal (answer/features.py: a question that asks what
did *not* happen is not answered by a passage that says it did).

Pure and fast: regular expressions over words, no model.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from functools import cache, lru_cache
from pathlib import Path

__all__ = [
    "ASKED_OPPOSITE",
    "CLAIM_OPPOSITE",
    "FOIL_OPENERS",
    "NEGATION",
    "OPPOSITE",
    "STOP",
    "WORD",
    "asks_yes_or_no",
    "asserted_denied",
    "content_stems",
    "denied_premise",
    "near_negation",
    "negated_positions",
    "negation_scope",
    "opposite_of_names",
    "opposites",
    "question_negation",
    "stem",
    "turned_phrase",
    "unexplained_denial",
    "unmatched_negation",
    "unmatched_opposite",
    "wordnet_opposites",
]

STOP = frozenset(
    """
    a an the of to in on at by for with from and or but as is are was were be been being has
    have had do does did will would can could should may might must it its this that these
    those their there which who whom whose what when where while than then so such also just
    only very more most less least much many any some all both each either into onto over
    under about after before between through during against among per via up out off
    necessarily yet always ever really even still quite rather
    """.split()  # noqa: SIM905
)
NEGATION = re.compile(
    r"\b(?:not|no|never|none|nor|neither|cannot|without|nothing|nobody|lack(?:s|ed|ing)?|"
    r"fail(?:s|ed)?\s+to)\b|n[’']t\b|\bnon-|\bun(?=able\b|likely\b)",
    re.IGNORECASE,
)
WORD = re.compile(r"[A-Za-z][\w’'-]*")


def stem(word: str) -> str:
    """A crude stem: the first five letters, lower-cased ("invested" -> "inves")."""
    return word.lower().replace("’", "'")[:5]


@lru_cache(maxsize=4096)
def content_stems(text: str) -> tuple[tuple[int, str], ...]:
    """(token index, stem) of the content words of text."""
    return tuple(
        (i, stem(w))
        for i, w in enumerate(WORD.findall(text))
        if w.lower() not in STOP and len(w) > 2
    )


# Words that deny what follows when "to" comes next: "have yet to receive" is "have not
# received", "failed to protect" is "did not protect".
_BEFORE_TO = frozenset({
    "yet", "fail", "fails", "failed", "failing",
    # "refused to pay" is "did not pay"
    "refuse", "refuses", "refused", "refusing", "decline", "declines", "declined", "declining",
})  # fmt: skip
# Words that deny what follows when "of" comes next: "free of complications" is "without
# complications".
_BEFORE_OF = frozenset({"free", "devoid"})


@lru_cache(maxsize=4096)
def negated_positions(text: str) -> tuple[int, ...]:
    """Token indices of the negation cues of text ("non-x" and "un-x" words are cues too,
    "yet" or "failed" before "to", and "free" or "devoid" before "of").

    Example: negated_positions("Google has yet to receive similar enthusiasm.") -> (2,)
    """
    tokens = WORD.findall(text)
    return tuple(
        i
        for i, t in enumerate(tokens)
        if NEGATION.match(t)
        or re.search(r"n[’']t$", t)
        or (t.lower() in _BEFORE_TO and i + 1 < len(tokens) and tokens[i + 1].lower() == "to")
        or (t.lower() in _BEFORE_OF and i + 1 < len(tokens) and tokens[i + 1].lower() == "of")
    )


def negation_scope(text: str, cue_positions: Sequence[int], width: int = 2) -> set[str]:
    """Stems of the words a negation governs: the first `width` content words after each cue
    that are not names (a name is who, not what is denied), and the x of "non-x"."""
    tokens = WORD.findall(text)
    out: set[str] = set()
    for cue in cue_positions:
        if tokens[cue].lower().startswith("non-"):
            out.add(stem(tokens[cue][4:]))
            continue
        # The first `width` only, read lazily: a text full of cues costs no more per cue.
        after = (
            stem(t)
            for t in itertools.islice(tokens, cue + 1, None)
            if t.lower() not in STOP and len(t) > 2 and not t[0].isupper()
        )
        out.update(itertools.islice(after, width))
    return out


def near_negation(
    text: str, word: str, window: int = 8, *, bounded: bool = True, contrast: bool = False
) -> bool:
    """Whether some use of the word whose stem is `word` in text is negated (within `window`
    tokens after a cue, or as the x of "non-x"). bounded: "yet to" and "failed to" deny only
    the verb after "to"; unbounded, they reach as far as any cue does (unmatched_negation).
    contrast: "instead of" and "rather than" deny what follows them too ("use electric lamps
    instead of carbide lamps" answers "What lamps should cavers not use?"); a claim's check
    (verify.py) leaves them out.

    Example: near_negation("They went by barge rather than by road.", "road") -> False;
             with contrast=True -> True
    """
    tokens = WORD.findall(text)
    # "yet to receive" denies the verb after "to", not what follows it ("... similar investor
    # enthusiasm" is no denial that anyone invested).
    cues = [
        (c, 2 if bounded and tokens[c].lower() in _BEFORE_TO else window)
        for c in negated_positions(text)
    ]
    # "use electric lamps instead of carbide lamps" is "not use carbide lamps": the words
    # after the contrast, and the verb a few words before it, are denied.
    turns = []
    if contrast:
        lowered = [t.lower() for t in tokens]
        turns = [
            i
            for i in range(1, len(tokens))
            if (lowered[i - 1], lowered[i]) in (("instead", "of"), ("rather", "than"))
        ]
        cues += [(i, 3) for i in turns]
    for i, t in enumerate(tokens):
        if t.lower().startswith("non-") and stem(t[4:]) == word:
            return True
        if stem(t) == word and any(0 < i - c <= reach for c, reach in cues):
            return True
        if stem(t) == word and any(0 < c - 1 - i <= 3 for c in turns):
            return True
    return False


# Opposites that flip a claim without a negation word: (word, its opposite) both ways.
OPPOSITE_PAIRS = [
    ("more", "less"), ("more", "fewer"), ("higher", "lower"), ("high", "low"),
    ("increase", "decrease"), ("increased", "decreased"), ("increased", "reduced"),
    ("increases", "decreases"), ("rise", "fall"), ("rose", "fell"), ("larger", "smaller"),
    ("large", "small"), ("greater", "lesser"), ("rapid", "slow"), ("fast", "slow"),
    ("rapidly", "slowly"), ("early", "late"), ("earlier", "later"), ("cheap", "costly"),
    ("cheap", "expensive"), ("easy", "challenging"), ("easy", "difficult"),
    ("common", "rare"), ("positive", "negative"), ("effective", "ineffective"),
    ("present", "absent"), ("mild", "severe"), ("strong", "weak"), ("stronger", "weaker"),
    ("significant", "insignificant"), ("significant", "negligible"), ("safe", "unsafe"),
    ("exclusive", "non-exclusive"), ("inside", "outside"), ("maximum", "minimum"),
    ("best", "worst"), ("better", "worse"), ("win", "lose"), ("gain", "loss"),
    ("success", "failure"), ("successful", "unsuccessful"), ("able", "unable"),
    ("likely", "unlikely"), ("possible", "impossible"), ("all", "none"),
]  # fmt: skip
# More opposites for checking a written claim against its passage only (verify.py): verbs of
# change and effect, frequency and obligation, which a model flips in a paraphrase ("eased"
# for "worsened", "optional" for "mandatory"). Kept out of OPPOSITE, which also judges
# questions, where a passage uses such words both ways around one topic.
CLAIM_OPPOSITE_PAIRS = [
    ("grow", "decline"), ("growing", "declining"), ("growth", "decline"),
    ("increasing", "declining"), ("increasing", "decreasing"), ("increase", "decline"),
    ("increased", "declined"), ("rising", "falling"), ("rising", "declining"),
    ("reduce", "increase"), ("reduces", "increases"), ("expand", "shrink"),
    ("improve", "worsen"), ("improved", "worsened"), ("improves", "worsens"),
    ("ease", "worsen"), ("eased", "worsened"), ("eases", "worsens"),
    ("help", "hinder"), ("helps", "hinders"), ("helped", "hindered"),
    ("facilitate", "hinder"), ("facilitates", "hinders"), ("facilitated", "hindered"),
    ("promote", "inhibit"), ("promotes", "inhibits"), ("promoted", "inhibited"),
    ("enhance", "impair"), ("enhances", "impairs"), ("enhanced", "impaired"),
    ("strengthen", "weaken"), ("strengthens", "weakens"), ("strengthened", "weakened"),
    ("induce", "suppress"), ("induces", "suppresses"), ("induced", "suppressed"),
    ("upregulated", "downregulated"), ("up-regulated", "down-regulated"),
    ("encourage", "discourage"), ("encouraged", "discouraged"), ("encourages", "discourages"),
    ("allow", "prohibit"), ("allowed", "prohibited"), ("permitted", "prohibited"),
    ("allowed", "banned"), ("accept", "reject"), ("accepted", "rejected"),
    ("approve", "reject"), ("approved", "rejected"), ("support", "oppose"),
    ("supported", "opposed"), ("agree", "disagree"), ("confirmed", "refuted"),
    ("include", "exclude"), ("included", "excluded"), ("succeeded", "failed"),
    ("optional", "mandatory"), ("optional", "required"), ("optional", "compulsory"),
    ("voluntary", "mandatory"), ("voluntary", "compulsory"),
    ("often", "rarely"), ("frequently", "rarely"), ("commonly", "rarely"),
    ("usually", "rarely"), ("frequent", "rare"), ("widespread", "rare"),
    ("easier", "harder"), ("easy", "hard"),
    ("simple", "complex"), ("simple", "complicated"),
    ("superior", "inferior"), ("outperform", "lag"), ("outperforms", "lags"),
    ("outperformed", "lagged"), ("beat", "lag"), ("beats", "lags"), ("beaten", "lag"),
    ("surpass", "lag"), ("surpassed", "lagged"),
    ("ahead", "behind"), ("beneficial", "harmful"), ("benefit", "harm"),
    ("safe", "dangerous"), ("survived", "died"), ("alive", "dead"),
    ("sufficient", "insufficient"), ("adequate", "inadequate"),
    ("consistent", "inconsistent"), ("appropriate", "inappropriate"),
    ("active", "inactive"), ("stable", "unstable"), ("known", "unknown"),
    ("certain", "uncertain"), ("clear", "unclear"), ("directly", "indirectly"),
    ("dependent", "independent"), ("dependence", "independence"),
    ("resistant", "susceptible"), ("majority", "minority"), ("older", "younger"),
    ("longer", "shorter"), ("long", "short"), ("similar", "different"),
    ("similar", "distinct"), ("same", "different"), ("advantage", "disadvantage"),
    ("complete", "partial"), ("completely", "partially"), ("full", "partial"),
    ("fully", "partially"), ("reckless", "cautious"), ("reckless", "careful"),
    # How long something has been so: "used for decades" where the passage says "introduced
    # in recent years".
    ("decades", "recent"), ("decades", "recently"), ("centuries", "recent"),
    ("longstanding", "recent"), ("long-standing", "recent"), ("decades", "newly"),
]  # fmt: skip
# Opposites a question may be turned with ("What is the smallest city?" where the passage says
# largest): superlatives, ordinals, directions and the like, which claims rarely flip.
ASKED_OPPOSITE_PAIRS = [
    ("first", "last"), ("largest", "smallest"), ("biggest", "smallest"), ("highest", "lowest"),
    ("most", "least"), ("oldest", "youngest"), ("oldest", "newest"), ("earliest", "latest"),
    ("longest", "shortest"), ("strongest", "weakest"), ("fastest", "slowest"),
    ("richest", "poorest"), ("north", "south"), ("east", "west"), ("northern", "southern"),
    ("eastern", "western"), ("upper", "lower"), ("inner", "outer"), ("import", "export"),
    ("imports", "exports"), ("imported", "exported"), ("public", "private"), ("won", "lost"),
    ("wins", "losses"), ("minor", "major"), ("allowed", "banned"), ("accepted", "rejected"),
    ("tallest", "shortest"), ("heaviest", "lightest"), ("deepest", "shallowest"),
    ("widest", "narrowest"), ("warmest", "coldest"), ("hottest", "coldest"),
    ("wettest", "driest"), ("upstream", "downstream"),
    # How a thing was received, its colour and temper, what became of it or of someone.
    # Not "total" and "partial": "a partial explanation" over "the total number of deaths"
    # (covid-qa).
    ("enthusiastically", "coolly"), ("warmly", "coolly"), ("darker", "lighter"),
    ("dull", "bright"), ("nervous", "calm"), ("recovered", "died"), ("preserved", "demolished"),
    # Everyday opposites of nature, growth, brightness, state and strength (session 25).
    ("natural", "artificial"), ("expanding", "contracting"), ("expand", "contract"),
    ("brightest", "darkest"), ("introduced", "abolished"), ("introduce", "abolish"),
    ("opening", "closing"), ("extinct", "active"), ("faintly", "strongly"),
    ("faint", "strong"), ("interested", "uninterested"), ("joined", "separated"),
    ("joining", "separating"),
]  # fmt: skip
# Opposites too common in other senses to judge a question by the word alone ("after herd
# immunity" where a passage says "before"), for turned_phrase, which needs the same
# neighbouring words as well.
PHRASE_OPPOSITE_PAIRS = [
    ("tall", "short"), ("quickly", "slowly"), ("quick", "slow"), ("promoted", "relegated"),
    ("promotion", "relegation"), ("entered", "left"), ("opened", "closed"),
    ("born", "died"), ("victory", "defeat"), ("ally", "enemy"), ("allies", "enemies"),
    ("legal", "illegal"), ("well", "poorly"), ("well", "badly"), ("fed", "starved"),
    ("worthless", "precious"), ("worthless", "valuable"), ("top", "base"),
    ("give", "take"), ("gave", "took"), ("given", "taken"), ("gave", "take"),
    ("give", "took"), ("gives", "takes"),
]  # fmt: skip
# Words of change that a passage uses both ways around one topic ("What may reduce the
# effect?" over text on what increases it): measured on covid-qa, these turned answerable
# questions into refusals, so a question's change words are not checked.
_CHANGE_WORDS = frozenset(
    "increase increased increases decrease decreased decreases reduced rise fall rose fell".split()  # noqa: SIM905
)


# Comparisons told from either side mean the same: "Which models outperform Amazon's own?" is
# answered by "Amazon's own models lag behind GPT-4", "Which team lost?" by "A won against B".
_CONVERSE = frozenset([
    "before", "after", "ahead", "behind", "outperform", "outperforms", "outperformed",
    "lag", "lags", "lagged", "beat", "beats", "beaten", "surpass", "surpassed",
    "superior", "inferior", "win", "lose", "won", "lost", "wins", "losses", "gain", "loss",
    "more", "less", "fewer", "greater", "lesser", "better", "worse", "higher", "lower",
    "larger", "smaller", "older", "younger", "earlier", "later", "longer", "shorter",
    "stronger", "weaker", "easier", "harder", "import", "export", "imports", "exports",
    "imported", "exported",
])  # fmt: skip


def opposites(pairs: Sequence[tuple[str, str]]) -> dict[str, set[str]]:
    """Each word's opposites, both ways.

    Example: opposites([("more", "less")]) -> {"more": {"less"}, "less": {"more"}}
    """
    out: dict[str, set[str]] = {}
    for a, b in pairs:
        out.setdefault(a, set()).add(b)
        out.setdefault(b, set()).add(a)
    return out


OPPOSITE: dict[str, set[str]] = opposites(OPPOSITE_PAIRS)
CLAIM_OPPOSITE: dict[str, set[str]] = opposites([*OPPOSITE_PAIRS, *CLAIM_OPPOSITE_PAIRS])
ASKED_OPPOSITE = {
    word: others
    for word, others in opposites([*OPPOSITE_PAIRS, *ASKED_OPPOSITE_PAIRS]).items()
    if word not in _CHANGE_WORDS and word not in _CONVERSE
}


# A question opening with an auxiliary asks yes or no ("Is that a cheap way to do it?",
# "Doesn't it have its own?"): a passage saying the opposite answers it ("no, costly").
_YES_NO = re.compile(
    r"\s*[\"'“(]*(?:is|are|was|were|do|does|did|can|could|has|have|had|will|would|should|"
    r"must|may|might)(?:n[’']t)?\b",
    re.IGNORECASE,
)


# "Why is RT-PCR not always the best method?": the passage gives the reason, in words of its
# own, without repeating the denial (measured on covid-qa: such questions are answered).
_ASKS_WHY = re.compile(r"\s*[\"'“(]*(?:why|how come)\b", re.IGNORECASE)


def asks_yes_or_no(question: str) -> bool:
    """Does the question ask yes or no: open with an auxiliary, or state something and ask
    whether it is so ("Google counts as in-house, not as a partner?"), with no question word?

    Example: asks_yes_or_no("Is that a cheap way to do it?") -> True;
             asks_yes_or_no("so amazon doesn't own the whole thing, then?") -> True;
             asks_yes_or_no("Which company did not invest?") -> False
    """
    if _YES_NO.match(question):
        return True
    return question.rstrip().endswith("?") and _QUESTION_WORD.search(question) is None


_QUESTION_WORD = re.compile(r"\b(?:what|which|who|whom|whose|when|where|why|how)\b", re.I)


# A leading condition or concession up to its comma: "If it isn't X, ...", "Given that ...,".
_PREMISE = re.compile(
    r"\s*(?:if|since|given(?: that)?|as long as|even if|even though|although|though|"
    r"assuming|supposing)\b[^,?.;]*,",
    re.IGNORECASE,
)
# In a question only these deny something; "non-structural", "lack of", "no genes" name it.
# "fail to" and "no longer" deny too ("Which prize did it fail to win?").
_QUESTION_CUE = re.compile(
    r"not|never|cannot|\w+n[’']t|fail(?:s|ed)?|refus(?:e|es|ed)|declin(?:e|es|ed)", re.IGNORECASE
)


def question_negation(question: str) -> set[str]:
    """Stems of the words a question denies: "What did Amazon not invest in?" -> {"inves"}.
    None in a yes/no question (asks_yes_or_no: "Isn't the stake exclusive?" is answered by a
    passage saying it is) or a why-question (the reason is given in other words), not "...
    or not?", and not "non-x", "lack" or "no" (in a question those name a thing rather than
    deny one).

    Example: question_negation("When was RT-PCR not the best method?") -> {"best", "metho"};
             question_negation("Doesn't it have its own?") -> set();
             question_negation("What non-structural proteins are coded?") -> set();
             question_negation("If it isn't profit, what is Amazon after?") -> set()
    """
    if asks_yes_or_no(question) or _ASKS_WHY.match(question):
        return set()
    return negation_scope(question, _question_cues(question))


def _question_cues(question: str) -> list[int]:
    """Token positions of the cues by which a question denies (not "... or not?")."""
    tokens = WORD.findall(question)
    premise = _PREMISE.match(question)
    # A denial in a leading condition is granted, not asked: "If Amazon isn't after a quick
    # profit, what is it after?" asks what it is after.
    start = len(WORD.findall(premise.group())) if premise else 0
    cues = [
        i
        for i in negated_positions(question)
        if i >= start
        and _QUESTION_CUE.fullmatch(tokens[i])
        and not (i > 0 and tokens[i].lower() == "not" and tokens[i - 1].lower() == "or")
    ]
    # "no longer used": the cue is "longer", so that the scope starts at what is denied.
    longer = [
        i + 1
        for i, t in enumerate(tokens[:-1])
        if t.lower() == "no" and tokens[i + 1].lower() == "longer"
    ]
    return sorted(cues + longer)


# Words that set something apart, as a denial does: "all antibiotics except doxycycline".
_EXCEPTING = re.compile(
    r"\b(?:except|excepting|excluding|other than|apart from|besides|instead of|rather than)\b",
    re.IGNORECASE,
)


def unmatched_negation(question: str, sentences: Sequence[str]) -> bool:
    """Does the question deny something that the sentences state only plainly? True when a
    word the question negates appears in some sentence and is negated in none: "What did
    Amazon not invest in?" over "Amazon invested $8 billion in Anthropic." The passages then
    say what did happen, not what did not. False when the question negates nothing. When no
    sentence uses the word, True only when no sentence denies or excepts anything at all
    ("What does the red panda not eat?" over sentences on what it feeds on): a passage that
    answers such a question says "not", "except", "other than" somewhere.

    Example: unmatched_negation("What did Amazon not invest in?",
                                ["Amazon invested $8 billion in Anthropic."]) -> True;
             unmatched_negation("Which strains do not have deletions?",
                                ["Strain B does not have the deletion."]) -> False;
             unmatched_negation("Who has not won investor enthusiasm?", ["Google has yet to
                                receive similar investor enthusiasm."]) -> False;
             unmatched_negation("What does the panda not eat?", ["It feeds on bamboo."])
             -> True
    """
    denied = question_negation(question)
    if not denied:
        return False
    # The first word a question denies is its verb ("did not invest"): a sentence denies it
    # only where its own cue governs it. A later one is what the denial is about ("has not
    # won investor enthusiasm"): a sentence that denies another verb of it ("have yet to
    # receive similar investor enthusiasm") denies the same thing.
    verbs = negation_scope(question, _question_cues(question), width=1)
    used = False
    for text in sentences:
        words = {s for _, s in content_stems(text)}
        for word in denied & words:
            if near_negation(text, word, bounded=word in verbs, contrast=True):
                return False
            used = True
    return used or not any(NEGATION.search(t) or _EXCEPTING.search(t) for t in sentences)


# Words after a denial that make it one of degree ("Why is RT-PCR not always the best
# method?"): a plain statement does not contradict it.
_DEGREE_WORDS = (
    "always all every each necessarily only just entirely fully completely quite very much "
    "so as commonly usually generally"
)
_DEGREE = frozenset(_DEGREE_WORDS.split())


def _question_names(tokens: Sequence[str]) -> list[tuple[int, str]]:
    """(position, stem) of the question's names: its capitalised words but the first, which
    is capitalised as the question opens.

    Example: _question_names(["Why", "has", "Amazon", "never", "invested"]) -> [(2, "amazo")]
    """
    return [(i, stem(t)) for i, t in enumerate(tokens) if i and t[0].isupper()]


# What a question takes as refused, stopped or not done ("Why did the council refuse to buy
# the pump room?", "Why did the army stop using the tower?", "What subjects were not taught
# during the polar night?").
_ASKS_DENIED = re.compile(
    r"^\s*[\"'“(]*(?:why|how\s+come|who|whom|which|what)\b.*?\b(?:not|never|\w+n[’']t|"
    r"refus(?:e|es|ed|ing)|declin(?:e|es|ed|ing)|stop(?:s|ped|ping)?|fail(?:s|ed|ing)?|ceas(?:e|es|ed|ing)|"
    r"abandon(?:s|ed|ing)?|reject(?:s|ed|ing)?|no\s+longer)\b(?P<rest>.*)$",
    re.IGNORECASE,
)
# Words by which a passage tells that something was not done, or stopped, or why: its answer
# to such a question holds one of them ("the psalter survived", "too dangerous", "rather
# than", "only", "kept away").
_TELLS_NOT = re.compile(
    r"\b(?:not|never|no|none|nobody|nothing|neither|nor|cannot|yet|\w+n[’']t|without|refus\w*|"
    r"declin\w*|stop\w*|fail\w*|ceas\w*|abandon\w*|gave\s+up|give\s+up|given\s+up|"
    r"reject\w*|avoid\w*|prevent\w*|ban|bans|banned|forb\w*|unable|longer|halt\w*|instead|"
    r"rather|only|too|lack\w*|impossib\w*|unwilling\w*|against|oppos\w*|end|ended|ending|"
    r"clos\w*|lost|lose|loses|losing|dropp\w*|withdr\w*|abolish\w*|cancel\w*|suspend\w*|"
    r"refrain\w*|kept|keep|away|barely|hardly|little|few|block\w*|denied|deny|resist\w*|"
    r"protest\w*|object\w*|surviv\w*|spared|unless|until|because|since|so\s+that|"
    r"due\s+to|owing\s+to|in\s+order\s+to|afraid|fear\w*|risk\w*|danger\w*|costly|expensive|"
    r"although|though|however|whereas)\b",
    re.IGNORECASE,
)


# "Why is RT-PCR not the best method sometimes?": what a thing is not, in general, is told in
# many ways (a drawback, a limit); a deed not done is told as one.
_GENERAL_NOT = re.compile(
    r"^\s*[\"'“(]*why\s+(?:is|are|isn['’]t|aren['’]t|do|does|don['’]t|doesn['’]t|can|"
    r"can['’]t|cannot)\b(?!.*\b(?:refus|declin|stop|fail|ceas|abandon|reject|never)\w*)",
    re.IGNORECASE,
)


def unexplained_denial(question: str, sentences: Sequence[str]) -> bool:
    """Does a question ask the reason for, or the doer or object of, a refusal, a stop or a
    deed not done that none of the sentences an answer would quote tells in any way? A
    passage that answers "Why did the council refuse to buy the pump room?" says "refused",
    "would not", "too costly", ...; "In 1933 the town council bought the pump room" says none
    of it. A bare "Why not?" asks nothing of its own (a follow-up's business).

    Example: unexplained_denial("Why did the council refuse to buy the pump room?",
                                ["In 1933 the town council bought the pump room."]) -> True;
             unexplained_denial("Why did the council refuse to buy the pump room?",
                                ["The council refused, as the baths lost money."]) -> False
    """
    m = _ASKS_DENIED.match(question)
    if m is None or len(WORD.findall(m.group("rest"))) < 2 or _GENERAL_NOT.match(question):
        return False
    return not any(_TELLS_NOT.search(text) for text in sentences)


def denied_premise(question: str, sentences: Sequence[str]) -> bool:
    """Does a why-question ask the reason for a denial that a sentence contradicts? True when
    one sentence holds every name of the question and, undenied, the verb it denies: "Why
    has Amazon never invested in Anthropic?" over "Amazon has already invested $8 billion in
    Anthropic." (question_negation leaves why-questions alone: their reason is told in other
    words.) A question without a name is tied by its other words, all of them in the
    clause: "Why was the psalter not destroyed?" is not read over "a fire destroyed sixty
    manuscripts, but the psalter survived". A denial of degree ("not always") or of failure
    ("fail to") is not read.

    Example: denied_premise("Why has Amazon never invested in Anthropic?",
                            ["Amazon has already invested $8 billion in Anthropic."]) -> True;
             denied_premise("Why has Amazon never invested in Google?",
                            ["Amazon has already invested $8 billion in Anthropic."]) -> False;
             denied_premise("Why did Amazon not invest more?",
                            ["Amazon did not invest more, as it lacked leverage."]) -> False
    """
    if not _ASKS_WHY.match(question):
        return False
    tokens = WORD.findall(question)
    cues = [
        i
        for i in _question_cues(question)
        if not tokens[i].lower().startswith("fail")
        and not (i + 1 < len(tokens) and tokens[i + 1].lower() in _DEGREE)
    ]
    verbs = negation_scope(question, cues, width=1)
    names = {n for _, n in _question_names(tokens)}
    if not names:
        # Without a name, the question's other words tie the denial to its subject, all of
        # them in one clause: "Why did the city decide not to rebuild within the walls?" over
        # "The city decided to rebuild within the surviving outer walls".
        names = {
            stem(t)
            for i, t in enumerate(tokens)
            if t.lower() not in STOP and len(t) > 2 and i not in cues and t.lower() != "why"
        } - verbs
        if len(names) < 2:
            return False
    if not verbs:
        return False
    # Read clause by clause, a comparison's foil cut off: "unlike Microsoft's exclusive deal,
    # Amazon holds less leverage" does not say Amazon's position is exclusive.
    for text in sentences:
        for part in _CONTRAST.split(_FOIL.sub("", text)):
            held = {stem(t) for t in WORD.findall(part)}
            if names <= held and any(
                v in held and not near_negation(part, v, bounded=True) for v in verbs
            ):
                return True
    return False


# The denials that deny a deed outright, for asserted_denied: "not", "never", "no one",
# "declined to", "refused to". "no X" and "non-x" name a thing's absence ("no specific
# treatment"), and "fails to" a rate ("1 to 10% of the patients fail to clear it"): read
# there, they refused answerable covid-qa questions.
_DENIES = re.compile(r"not|never|nobody|cannot|\w+n[’']t", re.IGNORECASE)
_DENYING_VERB = re.compile(r"(?:declin|refus)\w*", re.IGNORECASE)
# Words between a denial and the deed it denies: "no one was killed", "has never been used".
_BEFORE_DEED = frozenset([
    "be", "been", "being", "was", "were", "is", "are", "has", "have", "had", "do", "does",
    "did", "one", "so", "very", "only", "yet", "ever", "actually", "really", "fully",
])  # fmt: skip


# A denial in a clause that picks out some of a kind ("any oarsman who had never rowed for
# money", "visitors who do not come to watch the racing") denies the deed of those only, not
# of the kind the question asks about; set off by a comma (", which had refused to pay") it
# tells of the thing named before it.
_PICKED_OUT = re.compile(
    r"(?<![,;:(–—])(?P<head>\s(?P<kind>[\w-]+)\s+(?:who|that|which|whom)\s+"
    r"(?:(?:had|has|have|do|does|did|is|are|was|were|could|would|will|can)\s+)?)"
    r"(?P<cue>not|never|\w+n[’']t|cannot)\b",
    re.IGNORECASE,
)


def _denied_deeds(tokens: Sequence[str]) -> set[int]:
    """Token indices of the words an outright denial denies (the first lower-case word after
    it, past auxiliaries).

    Example: _denied_deeds(WORD.findall("No one was killed in the fire.")) -> {3}
    """
    low = [t.lower() for t in tokens]
    cues = []
    for i, t in enumerate(low):
        following = low[i + 1] if i + 1 < len(low) else ""
        if _DENIES.fullmatch(t):
            cues.append(i)
        elif (t == "no" and following in ("one", "longer")) or (
            _DENYING_VERB.fullmatch(t) and following == "to"
        ):
            cues.append(i + 1)
    denied = set()
    for c in cues:
        j = c + 1
        while j < len(low) and low[j] in _BEFORE_DEED:
            j += 1
        if j < len(tokens) and tokens[j][:1].islower():
            denied.add(j)
    return denied


def asserted_denied(question: str, lead: str, others: Sequence[str] = ()) -> str | None:
    """A word the question takes as done that the sentence an answer would lead
    with denies wherever it uses it (others, the next candidates, when the lead does not use
    it): "What did the courts agree to enforce?" over "the courts declined to enforce the
    debts", "Why were many people killed in the fire?" over "no one was killed". The passages
    say it did not happen. None when the question itself denies anything, or asks yes or no
    (a denial answers "Was anyone killed?").

    Example: asserted_denied("What did the courts agree to enforce?",
                             "The courts declined to enforce the debts.") -> "enforce";
             asserted_denied("What did the courts enforce?", "The courts enforced them.")
             -> None
    """
    tokens = WORD.findall(question)
    # negated_positions holds every cue of _denied_deeds; "refuse" without "to" counts too.
    if asks_yes_or_no(question) or negated_positions(question):
        return None
    if any(_DENYING_VERB.fullmatch(t) for t in tokens):
        return None
    # The same word, not the same stem: "a hepatitis B infection" is no deed that "cells
    # which cannot be infected" deny.
    asked = {t for t in tokens if t[:1].islower() and len(t) > 2 and t not in STOP}
    named = {t.lower() for t in tokens}

    def uses(text: str) -> dict[str, list[bool]]:
        # Only a denial of the kind the question names counts ("the worn link that had not
        # been replaced" does deny "Why had the worn link been replaced?"); another's cue is
        # taken out, so that _denied_deeds does not read it.
        text = _PICKED_OUT.sub(
            lambda m: m.group(0) if m.group("kind").lower() in named else m.group("head") + "·",
            text,
        )
        words = WORD.findall(text)
        denied = _denied_deeds(words)
        out: dict[str, list[bool]] = {}
        for i, t in enumerate(words):
            out.setdefault(t.lower(), []).append(i in denied)
        return out

    first, rest = uses(lead), [uses(t) for t in others]
    for word in sorted(asked):
        found = first.get(word) or [d for u in rest for d in u.get(word, [])]
        if found and all(found):
            return word
    return None


# A compass word made from its direction: "western" is "west".
_DIRECTION = re.compile(r"^(north|south|east|west)(?:ern|erly|wards?)$")


def unmatched_opposite(question: str, sentences: Sequence[str]) -> str | None:
    """A word of the question that no sentence uses while some sentence uses its opposite
    (and the question does not): "What is the smallest city?" over "Lagos is the largest
    city." The passages answer the question turned around. None when there is none, and
    for a yes/no question ("Is that a cheap way?" is answered by "costly").

    Example: unmatched_opposite("What is the smallest city?", ["Lagos is the largest
             city."]) -> "smallest";
             unmatched_opposite("Which region has high or low income?", ["Income is low."])
             -> None (the question names both sides)
    """
    if asks_yes_or_no(question):
        return None
    asked = {w.lower() for w in WORD.findall(question)}
    used = {w.lower() for text in sentences for w in WORD.findall(text)}
    for word in sorted(asked - used - _measures(question)):
        if _DIRECTION.sub(r"\1", word) in used:
            continue  # "western" monarchs are those "from the west", not the eastern ones
        others = ASKED_OPPOSITE.get(word, set()) | _compound_opposites(word)
        if others & used and not others & asked:
            return word
    return None


def _compound_opposites(word: str) -> set[str]:
    """A hyphenated word with one part or more turned: "slow-beating" -> {"fast-beating",
    "rapid-beating"}, "north-east" -> {"south-east", "north-west", "south-west"},
    "long-lived" -> {"short-lived"}.

    Example: _compound_opposites("short-lived") -> {"long-lived"}
    """
    parts = word.split("-")
    if len(parts) < 2:
        return set()
    choices = [
        [
            part,
            *sorted((ASKED_OPPOSITE.get(part, set()) | CLAIM_OPPOSITE.get(part, set())) - {part}),
        ]
        for part in parts
    ]
    return {"-".join(combo) for combo in itertools.product(*choices)} - {word}


def _measures(question: str) -> set[str]:
    """The words a question measures by ("How big is Pellan?"): they ask for a size, not say
    that it is big, so "a small island" turns nothing around.

    Example: _measures("How big is Pellan in area?") -> {"big"}
    """
    tokens = [w.lower() for w in WORD.findall(question)]
    return {b for a, b in itertools.pairwise(tokens) if a == "how"}


# Everyday opposites too common in other senses to judge a question by the word alone ("an
# old friend"), read only where the question's own names stand with them (opposite_of_names).
NAMED_OPPOSITE_PAIRS = [
    ("old", "young"), ("old", "new"), ("wet", "dry"), ("cold", "warm"), ("cold", "hot"),
    ("warm", "cool"), ("poor", "rich"), ("poor", "wealthy"), ("ascending", "descending"),
    ("climbing", "descending"), ("ascend", "descend"), ("buy", "sell"), ("bought", "sold"),
    ("liked", "disliked"), ("admired", "disliked"), ("loved", "hated"), ("heavy", "light"),
    ("thick", "thin"), ("wide", "narrow"), ("broad", "narrow"), ("deep", "shallow"),
    ("near", "far"), ("ancient", "modern"), ("rural", "urban"), ("domestic", "foreign"),
    ("internal", "external"), ("permanent", "temporary"), ("visible", "invisible"),
    ("smooth", "rough"), ("soft", "hard"), ("sweet", "bitter"), ("sweet", "sour"),
    ("bright", "dim"), ("loud", "quiet"), ("dense", "sparse"), ("penalty", "bonus"),
    ("punished", "rewarded"), ("arrived", "departed"), ("top", "bottom"),
    ("success", "failure"), ("won", "lost"), ("male", "female"), ("big", "small"),
    ("full", "empty"), ("true", "false"), ("young", "veteran"), ("junior", "senior"),
    ("novice", "veteran"), ("amateur", "professional"), ("started", "ended"),
    ("tolerated", "persecuted"), ("praised", "criticised"), ("praised", "criticized"),
    ("raised", "lowered"), ("added", "removed"), ("hired", "fired"), ("awarded", "stripped"),
    ("granted", "revoked"), ("above", "below"), ("day", "night"), ("friend", "enemy"),
    ("entrance", "exit"), ("arrival", "departure"), ("married", "divorced"),
    ("appointed", "dismissed"), ("accepted", "refused"), ("agreed", "refused"),
    ("defended", "attacked"),
    # A noun or an adverb of "exclusive" against the adjective's reverse.
    ("exclusivity", "non-exclusive"), ("exclusively", "non-exclusive"),
]  # fmt: skip


_MORE_CHANGE_WORDS = frozenset([
    "reduce", "reduces", "reducing", "increasing", "decreasing", "decline", "declined",
    "declining", "grow", "growing", "growth", "rising", "falling", "expand", "shrink",
    "improve", "improved", "improves", "worsen", "worsened", "worsens", "ease", "eased",
    "eases",
])  # fmt: skip
# Every pair of opposites this module knows, for turned_phrase, where the neighbouring word
# must match too, so the everyday ones as well ("Which poor merchant paid?" over "a wealthy
# merchant paid"); but not words of change, which a passage uses both ways round one topic
# ("How has the incidence been reduced?" over "the incidence increased 1.9-fold", with the
# answer in another sentence: measured on covid-qa's tune half).
_STEADY_TURNABLE = {
    word: others
    for word, others in opposites(
        [
            *OPPOSITE_PAIRS,
            *CLAIM_OPPOSITE_PAIRS,
            *ASKED_OPPOSITE_PAIRS,
            *PHRASE_OPPOSITE_PAIRS,
            *NAMED_OPPOSITE_PAIRS,
        ]
    ).items()
    if word not in _CHANGE_WORDS and word not in _MORE_CHANGE_WORDS and word not in _CONVERSE
}
# ... except a trend and its reverse next to the same words: "Why did the population rise
# between 1820 and 1851?" over "The population fell from 600 in 1820". Not "reduce", which
# names what was done about a trend ("How has the incidence been reduced?" is answered
# beside "the incidence increased 1.9-fold": covid-qa's tune half).
# Each form of a trend against each of its reverse ("rise" is turned by "fell" too).
_TREND_FAMILIES = [
    ("rise rises rose risen rising", "fall falls fell fallen falling"),
    ("grow grows grew grown growing growth", "decline declines declined declining"),
    ("grow grows grew grown growing", "shrink shrinks shrank shrunk shrinking"),
    ("increase increases increased increasing", "decrease decreases decreased decreasing"),
    ("increase increases increased increasing", "decline declines declined declining"),
    ("raise raises raised raising", "lower lowers lowered lowering"),
    ("expand expands expanded expanding", "shrink shrinks shrank shrunk shrinking"),
    ("improve improves improved improving", "worsen worsens worsened worsening"),
]
# Deeds told from either side of one event (a sale is a purchase, a loan a borrowing): only
# told from the question's own side do they turn it (_sides_swapped).
_CONVERSE_FAMILIES = [
    ("buy buys bought buying", "sell sells sold selling"),
    ("lend lends lent lending", "borrow borrows borrowed borrowing"),
    ("send sends sent sending", "receive receives received receiving"),
    ("give gives gave given giving", "take takes took taken taking"),
]
_CONVERSE_DEEDS = frozenset(
    w for pair in _CONVERSE_FAMILIES for forms in pair for w in forms.split()
)
# Deeds and states and their reverse, every form of each ("Which enzyme repairs the ring?"
# over "an enzyme that breaks the ring", "To whom did the Trust sell the mill?" over "The
# Trust bought the mill"), read like the trends: beside the same words only.
_DEED_FAMILIES = [
    *_CONVERSE_FAMILIES,
    ("repair repairs repaired repairing", "break breaks broke broken breaking"),
    ("repair repairs repaired repairing", "damage damages damaged damaging"),
    ("simplify simplifies simplified simplifying", "complicate complicates complicated"),
    ("save saves saved saving", "lose loses lost losing loss"),
    ("preserve preserves preserved preserving", "demolish demolishes demolished demolishing"),
    ("preserve preserves preserved preserving", "destroy destroys destroyed destroying"),
    ("approve approves approved approving", "refuse refuses refused refusing"),
    ("approve approves approved approving", "reject rejects rejected rejecting"),
    ("accept accepts accepted accepting", "reject rejects rejected rejecting"),
    ("pass passes passed", "reject rejects rejected"),
    ("admit admits admitted admitting", "refuse refuses refused refusing"),
    ("admit admits admitted admitting", "exclude excludes excluded excluding"),
    ("add adds added adding", "remove removes removed removing"),
    ("add adds added adding", "withdraw withdraws withdrew withdrawn withdrawing"),
    ("allow allows allowed allowing", "ban bans banned banning"),
    ("allow allows allowed allowing", "forbid forbids forbade forbidden forbidding"),
    ("allow allows allowed allowing", "prohibit prohibits prohibited prohibiting"),
    ("include includes included including", "exclude excludes excluded excluding"),
    ("appear appears appeared appearing", "disappear disappears disappeared disappearing"),
    ("push pushes pushed pushing", "pull pulls pulled pulling"),
    ("attack attacks attacked attacking", "defend defends defended defending"),
    ("hire hires hired hiring", "fire fires fired firing"),
    ("hire hires hired hiring", "dismiss dismisses dismissed dismissing"),
    ("succeed succeeds succeeded", "fail fails failed"),
    ("strengthen strengthens strengthened", "weaken weakens weakened"),
    ("widen widens widened widening", "narrow narrows narrowed narrowing"),
    ("tighten tightens tightened", "loosen loosens loosened"),
    ("calm", "nervous anxious agitated restless"),
    ("alive living", "extinct"),
    ("recent", "older old"),
    ("tame", "wild fierce"),
    ("wealthy rich", "poor"),
    ("friendly", "hostile"),
    ("tough", "tender"),
    ("noisy loud", "quiet silent"),
    ("generous", "stingy"),
    ("honest", "dishonest"),
    ("fertile", "barren"),
    ("scarce", "plentiful abundant"),
    ("ordinary", "extraordinary unusual"),
]
_TREND_PAIRS = [
    (a, b)
    for up, down in [*_TREND_FAMILIES, *_DEED_FAMILIES]
    for a in up.split()
    for b in down.split()
]
_TRENDS = opposites(_TREND_PAIRS)
_TURNABLE = {
    word: _STEADY_TURNABLE.get(word, set()) | _TRENDS.get(word, set())
    for word in {*_STEADY_TURNABLE, *_TRENDS}
}


ANTONYMS_FILE = Path(__file__).resolve().parent / "antonyms.tsv"


@cache
def wordnet_opposites() -> dict[str, frozenset[str]]:
    """WordNet's direct antonyms and their inflections (antonyms.tsv, written by
    evals/make_antonyms.py), less words of change, comparisons and stop words, which the lists
    above leave out on purpose. Read once, on first use (about 10,000 words).

    Example: wordnet_opposites()["outdoor"] -> frozenset({"indoor"})
    """
    skip = _CHANGE_WORDS | _MORE_CHANGE_WORDS | _CONVERSE | STOP
    table: dict[str, frozenset[str]] = {}
    text = ANTONYMS_FILE.read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.startswith("#") or "\t" not in line:
            continue
        word, others = line.split("\t", 1)
        kept = frozenset(others.split()) - skip
        if word not in skip and kept:
            table[word] = kept
    return table


def _turned_form(word: str, opposite: str) -> bool:
    """word is opposite or an inflection of it ("falls" of "fall", "cheapest" of "cheap";
    not "lastly" of "last")."""
    return word == opposite or (
        len(opposite) >= 4
        and word[: len(opposite)] == opposite
        and (len(word) - len(opposite) <= 2 or word[len(opposite) :] == "est")
    )


# What a comparison measures against when it has no second side ("later than planned").
_EXPECTED = frozenset(
    """
    planned expected scheduled intended forecast predicted projected estimated anticipated
    budgeted hoped usual normal average
    """.split()  # noqa: SIM905
)


def turned_phrase(question: str, lead: Sequence[str], answering: Sequence[str]) -> str | None:
    """A word of the question that the sentence an answer would lead with (lead: it and the
    sentence before it) turns around next to the same word, while no answering sentence says
    the question's way: "Who was the last woman to hold such a post?" over "... the first
    woman to hold such a post". unmatched_opposite reads the word alone over all sentences,
    where some sentence of a long passage uses it in another sense ("at last"); here the
    neighbouring words (the content words nearest it, two each side) tie the opposite, or
    the word itself, to what is asked. None for a yes/no question, and when the question
    names both sides.

    Example: turned_phrase("In what regions is leptospirosis least common?",
                           ["The disease is most common in tropical regions."],
                           ["At least ten cases were seen."]) -> "least";
             turned_phrase("Where is it most common?", ["It is most common in the tropics."],
                           []) -> None;
             turned_phrase("How much earlier than planned did it open?",
                           ["It opened two years later than planned."], []) -> "earlier"
    """
    if asks_yes_or_no(question):
        return None
    tokens = [w.lower() for w in WORD.findall(question)]
    asked = set(tokens)
    told = [[w.lower() for w in WORD.findall(text)] for text in lead]
    said = [[w.lower() for w in WORD.findall(text)] for text in answering]
    measures = _measures(question)
    for i, word in enumerate(tokens):
        others = _TURNABLE.get(word, set()) if word not in measures else set()
        if (
            not others
            and tokens[i + 1 : i + 2] == ["than"]
            and tokens[i + 2 : i + 3] in ([w] for w in _EXPECTED)
        ):
            # A comparison with what was expected has one side only: "two years later than
            # planned" is turned by "earlier than planned", not told from another side.
            others = CLAIM_OPPOSITE.get(word, set())
        if not others and word in _COMPARATIVES and tokens[i + 1 : i + 2] != ["than"]:
            # A comparative before its noun is an attribute, not a comparison told from
            # either side: "crossing with smaller horses" over "crossing with larger horses".
            follows = tokens[i + 1 : i + 2]
            opposite = CLAIM_OPPOSITE.get(word, set())
            if (
                follows
                and follows[0] not in STOP
                and not opposite & asked
                and not any(word in words for words in told)
                and any(
                    w in opposite and words[j + 1 : j + 2] == follows
                    for words in told
                    for j, w in enumerate(words)
                )
            ):
                return word
            continue
        # WordNet's antonyms, beyond the lists, count only as written (its table holds their
        # inflections): read as a prefix, "stop" / "start" had turned "startup".
        exact = (
            wordnet_opposites().get(word, frozenset()) - others if word not in measures else set()
        )
        if not (others or exact) or (others | exact) & asked:
            continue
        near = _neighbours(tokens, i)
        if any(word in words for words in told) or any(
            w == word and _neighbours(words, j) & near
            for words in said
            for j, w in enumerate(words)
        ):
            continue  # the lead uses the word too, or another sentence says it the question's way
        if any(
            _neighbours(words, j) & near
            and (w in exact or any(_turned_form(w, o) for o in others))
            and not (word in _CONVERSE_DEEDS and _sides_swapped(tokens, i, words, j))
            for words in told
            for j, w in enumerate(words)
        ):
            return word
    return None


_AUXILIARIES = frozenset([
    "do", "does", "did", "is", "are", "was", "were", "has", "have", "had", "will", "would",
    "can", "could", "shall", "should", "may", "might",
])  # fmt: skip


def _sides_swapped(asked: Sequence[str], i: int, told: Sequence[str], j: int) -> bool:
    """Whether a word the question puts after its deed (asked[i]) stands before the reverse
    deed in the sentence (told[j]), or one it puts before stands after: the same event told
    from the other side ("Who bought the mill from the Trust?" over "The Trust sold the mill
    to the council"), not a deed turned round ("To whom did the Trust sell the mill?" over
    "The Trust bought the mill").

    Example: _sides_swapped(["who", "bought", "the", "mill", "from", "the", "trust"], 1,
                            ["the", "trust", "sold", "the", "mill"], 2) -> True
    """
    # A question's doer stands after its auxiliary; what is asked for comes first ("What
    # status did the act take away from Orrish?": "status" is no doer).
    start = max((k + 1 for k in range(i) if asked[k] in _AUXILIARIES), default=0)
    before = {stem(w) for w in asked[start:i] if w not in STOP}
    after = {stem(w) for w in asked[i + 1 :] if w not in STOP}
    ahead = {stem(w) for w in told[:j] if w not in STOP}
    behind = {stem(w) for w in told[j + 1 :] if w not in STOP}
    return bool((after - before) & (ahead - behind) or (before - after) & (behind - ahead))


# Opposites read against the question's names: those a question may be turned with, the
# comparisons and the everyday ones above, not words of change or effect, which a passage
# uses both ways round one topic ("What inhibits S-palmitoylation?" over text on what
# promotes it).
_NAMED_OPPOSITE = {
    word: others
    for word, others in opposites(
        [
            *OPPOSITE_PAIRS,
            *ASKED_OPPOSITE_PAIRS,
            *NAMED_OPPOSITE_PAIRS,
            *((a, b) for a, b in CLAIM_OPPOSITE_PAIRS if a in _CONVERSE or b in _CONVERSE),
        ]
    ).items()
    if word not in _CHANGE_WORDS and word not in _MORE_CHANGE_WORDS
}
# Comparatives: two-sided ("Which chips are faster than Nvidia's?") only before "than";
# otherwise an attribute ("rebuilt with smaller cylinders").
_COMPARATIVE_WORDS = (
    "more less fewer greater lesser better worse higher lower larger smaller older younger "
    "earlier later longer shorter stronger weaker easier harder"
)
_COMPARATIVES = frozenset(_COMPARATIVE_WORDS.split())
# The words that open a comparison's foil anywhere in a sentence ("unlike Microsoft's deal",
# "compared with GPT-4"). followup.py reads them at a clause's start, where "like" and
# "besides" open one too ("Like Google, Amazon ..."); inside a sentence "like" more often
# gives examples ("models like Claude").
FOIL_OPENERS = r"(?:unlike|as with|compared (?:with|to)|in contrast to|similar to)"
# A comparison's foil is not the subject ("Unlike Microsoft's exclusive deal with OpenAI,
# Amazon's stake is non-exclusive"), and a contrast or a new sentence turns to another one.
_FOIL = re.compile(rf"\b{FOIL_OPENERS}\b[^,.;]*,?", re.IGNORECASE)
_CONTRAST = re.compile(
    r";|(?<=[.!?])\s+|,\s*(?=(?:but|while|whereas|although|though|yet|however)\b)|"
    r"\s(?=(?:while|whereas)\s)",
    re.IGNORECASE,
)
_SENTENCES = re.compile(r"(?<=[.!?])\s+")


def opposite_of_names(question: str, sentences: Sequence[str]) -> str | None:
    """A word of the question whose opposite a sentence says of the question's own names,
    where the word alone is used elsewhere (unmatched_opposite's blind spot): "Why is
    Amazon's stake in Anthropic exclusive?" over "Unlike Microsoft's exclusive deal with
    OpenAI, Amazon's stake in Anthropic is non-exclusive". The opposite must stand in a
    clause (the foil of a comparison and a turn to a contrast cut off) holding every name of
    the question and a word next to the opposite that is next to the question's word, and no
    such clause may say the word itself. A comparison (_CONVERSE) is turned only when the
    names keep their sides of it: "Why are Amazon's models ahead of GPT-4?" over "Amazon's
    models lag behind GPT-4", not "Which chips outperform Nvidia's?" over "Nvidia's chips
    lag behind" (told from the other side). None for a yes/no question.

    Example: opposite_of_names("Why is Amazon's stake exclusive?",
                               ["Unlike Microsoft's exclusive deal, Amazon's stake is "
                                "non-exclusive."]) -> "exclusive";
             opposite_of_names("Which chips outperform Nvidia's?",
                               ["Nvidia's chips lag behind Amazon's."]) -> None
    """
    if asks_yes_or_no(question):
        return None
    tokens = WORD.findall(question)
    lowered = [t.lower() for t in tokens]
    names = _question_names(tokens)
    if not names:
        return None
    asked = set(lowered)
    named = {n for _, n in names}
    measures = _measures(question)
    for i, word in enumerate(lowered):
        others = _NAMED_OPPOSITE.get(word, set()) if word not in measures else set()
        if not others or others & asked:
            continue
        before = {n for j, n in names if j < i}
        after = {n for j, n in names if j > i}
        # A comparison is read from both its sides; an attribute like any other word.
        sided = word in _CONVERSE and not (
            word in _COMPARATIVES and lowered[i + 1 : i + 2] != ["than"]
        )
        # A comparison's sides may stand in two clauses ("Amazon ..., while its own models
        # lag behind GPT-4"): read whole.
        parts = [
            (words, {stem(w) for w in words})
            for text in sentences
            for part in (
                _SENTENCES.split(_FOIL.sub("", text))
                if sided
                else _CONTRAST.split(_FOIL.sub("", text))
            )
            for words in [WORD.findall(part)]
        ]
        # Some clause says it the question's way ("absent" or "absence") of its names, and
        # does not deny it ("is not exclusive" says the opposite).
        if any(
            named <= stems
            and stem(word) in stems
            and not near_negation(" ".join(words), stem(word))
            for words, stems in parts
        ):
            continue
        for words, stems in parts:
            low = [w.lower() for w in words]
            turned = [k for k, w in enumerate(low) if any(_turned_form(w, o) for o in others)]
            if turned:
                k = turned[0]
                if sided:
                    ahead = {stem(w) for w in words[:k]}
                    behind = {stem(w) for w in words[k + 1 :]}
                    if before and after and before <= ahead and after <= behind:
                        return word
                elif named <= stems and _neighbours(low, k) & _neighbours(lowered, i):
                    # ... said of the same thing: "rebuilt with larger cylinders" for "with
                    # smaller cylinders", not "a young physician" for "the old expedition".
                    return word
            elif (
                not sided
                and named <= stems
                and stem(word) in stems
                and near_negation(" ".join(words), stem(word))
                and not near_negation(question, stem(word))
            ):
                # ... or the word itself denied of them: "Amazon's position is not exclusive"
                # turns "Since Anthropic signed an exclusivity agreement with Amazon, ...".
                return word
    return None


def _neighbours(words: Sequence[str], i: int, reach: int = 4) -> set[str]:
    """Stems of the content words nearest words[i], at most two each side, within reach.

    Example: _neighbours(["was", "promoted", "to", "the", "third", "tier"], 1)
             -> {"third", "tier"}
    """
    before = [w for w in words[max(0, i - reach) : i] if w not in STOP][-2:]
    after = [w for w in words[i + 1 : i + 1 + reach] if w not in STOP][:2]
    return {stem(w) for w in (*before, *after)}
