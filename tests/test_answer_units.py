"""Pure functions of the answer layer, with the worked examples from their docstrings and the
cases a person would notice going wrong. No model needed."""

from __future__ import annotations

import numpy as np
import pytest
from fakes import FakeEmbedder, ListRetriever

from assistant.answer.answerer import Answerer, final_answer, refusal_text
from assistant.answer.catalogue import (
    CatalogueQuestion,
    Part,
    SourceInfo,
    answer_catalogue,
    parse_catalogue_question,
    part_followup,
    part_spans,
    place_asked,
    summary_sentences,
)
from assistant.answer.evidence import Grounds, attach_continuations, coverage, passage_aliases
from assistant.answer.followup import is_followup, standalone_query
from assistant.schema import Answer, Chunk, Citation, Hit
from assistant.settings import Settings

HISTORY = [
    {"role": "user", "content": "Who has invested $8 billion in Anthropic?"},
    {"role": "assistant", "content": "Amazon has invested around $8 billion. [1]"},
]


def test_a_follow_up_carries_the_earlier_turn_into_the_query() -> None:
    query = standalone_query("Is that stake exclusive?", HISTORY)
    # The subject of the earlier turn resolves "that"; its figures would drown "exclusive".
    assert query == "Is that stake exclusive? (Amazon Anthropic)"


def test_a_standalone_question_is_left_alone_even_with_history() -> None:
    question = "Who owns part of Anthropic?"
    assert not is_followup(question)
    assert standalone_query(question, HISTORY) == question


@pytest.mark.parametrize(
    "question", ["What about Google?", "And why?", "Is it exclusive?", "How big are they?"]
)
def test_follow_up_cues_are_recognised(question: str) -> None:
    assert is_followup(question)


@pytest.mark.parametrize(
    ("question", "query"),
    [
        ("is amazon's stake exclusive or no?", "is amazon's stake exclusive?"),
        ("so, who owns Anthropic tho lol", "who owns Anthropic"),
        ("Is that right?", "Is that right?"),  # "right" is what is asked here
    ],
)
def test_chat_openers_and_tails_are_no_part_of_the_query(question: str, query: str) -> None:
    assert standalone_query(question, None) == query


def test_no_history_means_no_rewrite() -> None:
    assert standalone_query("Is that stake exclusive?", None) == "Is that stake exclusive?"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Which documents mention Alexa?", CatalogueQuestion("mention", "Alexa")),
        ("Do any of your files cover OpenAI? Which ones?", CatalogueQuestion("mention", "OpenAI")),
        ("What documents do you have?", CatalogueQuestion("list")),
        ("List the files", CatalogueQuestion("list")),
        ("How much has Amazon invested in Anthropic?", None),
        ("What does the document say about Alexa?", None),
        ("Summarize the article.", CatalogueQuestion("summary")),
        ("tl;dr", CatalogueQuestion("summary")),
        ("What is this document about?", CatalogueQuestion("summary")),
        ("what are these files about", CatalogueQuestion("summary")),
        ("Can you give me a quick overview?", CatalogueQuestion("summary")),
        ("What are the key points?", CatalogueQuestion("summary")),
        ("How would you sum up the article in one line?", CatalogueQuestion("summary")),
        ("How would you describe Amazon's strategy?", None),
        # Asked as people type it: every word asks for the gist.
        ("give me one line what this article says", CatalogueQuestion("summary")),
        ("in a nutshell?", CatalogueQuestion("summary")),
        ("whats the big picture here", CatalogueQuestion("summary")),
        ("What is the main message of this article?", CatalogueQuestion("summary")),
        ("explain the article briefly", CatalogueQuestion("summary")),
        # ... but not a word about anything else, nor a point that names no document.
        ("What's the bigger point of the article beyond this one deal?", None),
        ("What does the article say about Google?", None),
        ("what is the point of it?", None),
        ("Is that the main point?", None),
        ("Please summarise report.pdf", CatalogueQuestion("summary", "report.pdf")),
        ("Which companies are mentioned in the article?", CatalogueQuestion("names")),
        ("list the companies", CatalogueQuestion("names")),
        ("Who are the main companies?", CatalogueQuestion("names")),
        ("which companies are involved?", CatalogueQuestion("names")),
        ("who is involved?", CatalogueQuestion("names")),
        ("Who are the main investors in Anthropic?", None),
        ("Does the article mention Apple?", CatalogueQuestion("mention", "Apple")),
        ("Is Alexa mentioned anywhere?", CatalogueQuestion("mention", "Alexa")),
        # ... but "discuss" asks what the article says, and "it" is a follow-up's pointer.
        ("Does the document discuss risks?", None),
        ("Is it mentioned?", None),
        ("Which companies invest in Anthropic?", None),
        # ... nor a list question that asks for some of them.
        ("Which companies are named as vying for leadership in the race?", None),
        ("List the models that Amazon's own models lag behind.", None),
        ("hi", CatalogueQuestion("greeting")),
        ("Thanks, that's helpful!", CatalogueQuestion("thanks")),
        ("ok", CatalogueQuestion("ack")),
        ("What can you do?", CatalogueQuestion("help")),
        ("?", CatalogueQuestion("help")),
        ("Hi, how much has Amazon invested?", None),
        ("Is it OK to invest?", None),
        # A question about a summary in the documents is a question about their content.
        ("What is the summary of the study's findings?", None),
        ("What does the overview say about dosing?", None),
        # A part of a document asked for by its place.
        ("How does the article end?", CatalogueQuestion("part", "", Part(last=True))),
        ("What is the conclusion of the article?", CatalogueQuestion("part", "", Part(last=True))),
        ("What's the article's closing line?", CatalogueQuestion("part", "", Part(last=True))),
        ("What does the article conclude?", CatalogueQuestion("part", "", Part(last=True))),
        ("how does it open", CatalogueQuestion("part", "", Part())),
        ("What's the opening line?", CatalogueQuestion("part", "", Part())),
        ("What does the second paragraph say?", CatalogueQuestion("part", "", Part(paragraph=2))),
        ("Show me the last paragraph", CatalogueQuestion("part", "", Part(paragraph=-1))),
        (
            "What does the first paragraph of notes.txt say?",
            CatalogueQuestion("part", "notes.txt", Part(paragraph=1)),
        ),
        # ... but not an ending or an opening in the documents' own matter.
        ("What is the end of the deal?", None),
        ("How does Amazon end its deal?", None),
        ("What was the opening bid?", None),
    ],
)
def test_catalogue_questions_are_told_from_content_questions(
    question: str, expected: CatalogueQuestion | None
) -> None:
    assert parse_catalogue_question(question) == expected


def _chunk(source: str, text: str, start: int = 0) -> Chunk:
    return Chunk(
        id=f"{source}-{start}",
        source=source,
        text=text,
        start=start,
        end=start + len(text),
        ordinal=0,
        hash=str(hash(text)),
    )


def test_mention_answers_cite_the_first_mention_in_each_document() -> None:
    chunks = [
        _chunk("a.txt", "Nothing here. Alexa gets the AI."),
        _chunk("b.txt", "No match in this one."),
    ]
    sources = [SourceInfo("a.txt", "txt", 32, 1), SourceInfo("b.txt", "txt", 21, 1)]
    text, citations = answer_catalogue(CatalogueQuestion("mention", "alexa"), sources, chunks)
    assert text == "1 document mentions “alexa”: a.txt [1]."
    assert [(c.source, c.quote, c.start, c.end) for c in citations] == [
        ("a.txt", "Alexa gets the AI.", 14, 32)
    ]
    text, citations = answer_catalogue(CatalogueQuestion("mention", "Zanzibar"), sources, chunks)
    assert text.startswith("None of the 2 indexed documents mention") and not citations


def test_a_summary_opens_with_the_lead_then_says_something_else() -> None:
    sentences = [
        "Anthropic is an AI company based in the US.",
        "Amazon invested $8 billion in Anthropic last year.",
        "Amazon may invest more in Anthropic soon.",
        "Lunch was served.",
    ]
    assert summary_sentences(sentences, 2) == [0, 2]
    # A sentence that points back says nothing alone; a heading is too short to say much.
    sentences = [
        "Amazon and Anthropic",
        "Amazon invested $8 billion in Anthropic last year.",
        "This investment in Anthropic is large for Amazon.",
        "Anthropic also works with Google on chips.",
    ]
    assert summary_sentences(sentences, 2) == [1, 3]


def test_a_summary_quotes_each_document_in_its_own_words() -> None:
    chunks = [
        _chunk(
            "a.txt",
            "Amazon invested $8 billion in Anthropic. She was very tall and wore a hat. "
            "Amazon may invest more in the startup.",
        ),
        _chunk("b.txt", "The Colwyn was a barque built in 1874 at Port Elrick."),
    ]
    sources = [SourceInfo("a.txt", "txt", 114, 1), SourceInfo("b.txt", "txt", 54, 1)]
    text, citations = answer_catalogue(CatalogueQuestion("summary"), sources, chunks)
    assert text.startswith("a.txt: ") and "\n\nb.txt: The Colwyn was a barque" in text
    for c in citations:  # every quote is the document's own text at its offsets
        chunk = next(ch for ch in chunks if ch.source == c.source)
        assert chunk.text[c.start - chunk.start : c.end - chunk.start] == c.quote
    assert "She was" not in text
    text, citations = answer_catalogue(CatalogueQuestion("summary", "B.TXT"), sources, chunks)
    assert text == "The Colwyn was a barque built in 1874 at Port Elrick. [1]"
    text, citations = answer_catalogue(CatalogueQuestion("summary", "c.pdf"), sources, chunks)
    assert text == "No indexed document is called “c.pdf”; I have: a.txt, b.txt." and not citations


def test_a_part_asked_by_its_place_is_quoted_from_its_paragraphs() -> None:
    # Two chunks that overlap ("Three is here." is in both), paragraphs split by line breaks.
    chunks = [
        _chunk("a.txt", "Amazon invested early. Two.\nThree is here."),
        _chunk("a.txt", "Three is here. Four ends it.\nFive closes the piece.", 28),
    ]
    sources = [SourceInfo("a.txt", "txt", 80, 2)]

    def ask(part: Part, name: str = "") -> tuple[str, tuple[Citation, ...]]:
        return answer_catalogue(CatalogueQuestion("part", name, part), sources, chunks)

    assert ask(Part(last=True))[0] == "Five closes the piece. [1]"
    assert ask(Part())[0] == "Amazon invested early. [1]"
    text, citations = ask(Part(paragraph=2))
    assert text == "Three is here. [1] Four ends it. [2]"
    assert [c.start for c in citations] == [28, 43]  # the document's offsets
    assert ask(Part(paragraph=-1))[0] == "Five closes the piece. [1]"
    assert ask(Part(paragraph=4))[0] == "a.txt has only 3 paragraphs."
    assert ask(Part(), "b.pdf")[0] == "No indexed document is called “b.pdf”; I have: a.txt."


def test_a_question_about_the_contents_may_say_where_to_look() -> None:
    """ "... in the closing line?" names the last sentence; "the second paragraph" its
    sentences, found from the chunks as the part questions find them; "the last word" is an
    idiom, and "the first line" of a tramway no place in the text."""
    assert place_asked("What verdict does the final sentence give on the bet?") == Part(last=True)
    assert place_asked("What does the second paragraph say about Meta?") == Part(paragraph=2)
    assert place_asked("What is said at the start of the article about chips?") == Part()
    assert place_asked("Which company gets the last word?") is None
    assert place_asked("On what date did the first line open?") is None  # a tramway's
    assert place_asked("What is the last line of the article about?") == Part(last=True)
    assert place_asked("Who invested in Anthropic?") is None
    chunks = [_chunk("a.txt", "One is first. Two.\nThree ends it.")]
    assert part_spans(Part(last=True), "a.txt", chunks) == [(19, 33)]
    assert part_spans(Part(paragraph=1), "a.txt", chunks) == [(0, 13), (14, 18)]
    assert part_spans(Part(paragraph=3), "a.txt", chunks) == []
    assert part_spans(Part(), "b.txt", chunks) == []


def test_another_part_asked_right_after_a_part_is_a_part_of_the_same_document() -> None:
    ended = "How does the article end?"
    assert part_followup("What about the beginning?", ended) == CatalogueQuestion(
        "part", "", Part()
    )
    # The document named before is the one read again.
    named = "Show me the last paragraph of notes.txt"
    assert part_followup("And the first one?", named) == CatalogueQuestion(
        "part", "notes.txt", Part(paragraph=1)
    )
    first = "What does the first paragraph say?"
    assert part_followup("And the second one?", first) == CatalogueQuestion(
        "part", "", Part(paragraph=2)
    )
    assert part_followup("and the opening line?", "What's the closing line?") == (
        CatalogueQuestion("part", "", Part())
    )
    # A name, or after a question that asked for no part, is no part.
    assert part_followup("What about Google?", ended) is None
    assert part_followup("What about the end?", "Who invested in Anthropic?") is None


def test_hello_thanks_and_help_are_answered_as_such_with_what_is_held() -> None:
    sources = [SourceInfo("a.txt", "txt", 10, 1)]
    hello, cited = answer_catalogue(CatalogueQuestion("greeting"), sources, [])
    assert hello.startswith("Hello!") and "one document: a.txt" in hello and not cited
    assert answer_catalogue(CatalogueQuestion("thanks"), sources, [])[0].startswith("You're")
    helped = answer_catalogue(CatalogueQuestion("help"), [], [])[0]
    assert "No documents are indexed yet" in helped and "quoting their own sentences" in helped


def test_a_follow_up_after_hello_carries_nothing_from_the_greeting() -> None:
    sources = [SourceInfo("a.txt", "txt", 10, 1)]
    hello = answer_catalogue(CatalogueQuestion("greeting"), sources, [])[0]
    history = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": hello}]
    assert standalone_query("How much has it invested?", history) == "How much has it invested?"


def test_names_are_listed_each_cited_where_first_named() -> None:
    chunks = [
        _chunk(
            "a.txt",
            "Amazon invested in Anthropic with AI chips. Later, Google and Luigi Ferrante "
            "met Amazon staff in Rome.",
        )
    ]
    sources = [SourceInfo("a.txt", "txt", 96, 1)]
    text, citations = answer_catalogue(CatalogueQuestion("names"), sources, chunks)
    # "Amazon" opens the first sentence, but is a name inside the second: it counts there.
    assert text.endswith("Amazon [1], Anthropic [1], Google [2], Luigi Ferrante [2], Rome [2]."), (
        text
    )
    assert "AI [" not in text  # a two-letter acronym is a word here
    assert [c.quote for c in citations] == [
        "Amazon invested in Anthropic with AI chips.",
        "Later, Google and Luigi Ferrante met Amazon staff in Rome.",
    ]


def test_a_sentence_that_points_back_stays_with_its_antecedent() -> None:
    text = "Meta builds in-house. This approach is costly. Amazon invests."
    assert attach_continuations(text, [(0, 21), (22, 46), (47, 62)]) == [(0, 46), (47, 62)]
    # Not across a paragraph break.
    text = "Meta builds in-house.\n\nThis approach is costly."
    assert attach_continuations(text, [(0, 21), (23, 47)]) == [(0, 21), (23, 47)]


def test_coverage_weights_terms_by_idf() -> None:
    assert coverage({"amazon": 1.0, "invest": 3.0}, {"invest", "billion"}) == 0.75
    assert coverage({}, {"x"}) == 0.0


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What was Anthropic's revenue?", "The documents don't say what Anthropic's revenue was."),
        ("Who is the CEO of Anthropic?", "The documents don't say who the CEO of Anthropic is."),
        ("Did Amazon buy Google?", "The documents don't answer “Did Amazon buy Google”."),
        ("When was Anthropic founded?", "The documents don't say when Anthropic was founded."),
        (
            "Where was the first chip built?",
            "The documents don't say where the first chip was built.",
        ),
        ("Who is leading the round?", "The documents don't say who is leading the round."),
        ("What was the total funding?", "The documents don't say what the total funding was."),
        ("What is the speed?", "The documents don't say what the speed is."),
        (
            "Which company was founded in 2021?",
            "The documents don't say which company was founded in 2021.",
        ),
        # Follow-ups refused in the chat read "how big it be would" and "how investors
        # reacted to it have".
        ("How big would it be?", "The documents don't say how big it would be."),
        (
            "How have investors reacted to it?",
            "The documents don't say how investors have reacted to it.",
        ),
        (
            "What was the reported revenue?",
            "The documents don't say what the reported revenue was.",
        ),
        # A personal pronoun is the whole subject ("how much it put in so far has" before).
        (
            "How much has it put in so far?",
            "The documents don't say how much it has put in so far.",
        ),
        ("Why is it important?", "The documents don't say why it is important."),
        ("What are they doing?", "The documents don't say what they are doing."),
        # "been" is a participle too ("which company been has rewarded" before).
        (
            "Which company has been rewarded?",
            "The documents don't say which company has been rewarded.",
        ),
        # Where a modal's verb is cannot be told without a grammar: the question is quoted.
        ("Who has the most shares?", "The documents don't answer “Who has the most shares”."),
        ("What would the deal cost?", "The documents don't answer “What would the deal cost”."),
        # ... and where a why-question's subject ends ("why Amazon's stake in Anthropic
        # exclusive is" before).
        (
            "Why is Amazon's stake in Anthropic exclusive?",
            "The documents don't answer “Why is Amazon's stake in Anthropic exclusive”.",
        ),
        # Terms a rewritten follow-up carried are not shown.
        (
            "Which company has been rewarded? (stake exclusive)",
            "The documents don't say which company has been rewarded.",
        ),
        # "never" stands after the auxiliary, as "not" does ("Amazon never has invested").
        (
            "Why has Amazon never invested in Anthropic?",
            "The documents don't say why Amazon has never invested in Anthropic.",
        ),
        # Two clauses: quoted ("... gets named as have not getting ..." before).
        (
            "Which strategy have markets rewarded, and which firm is named as not getting it?",
            "The documents don't answer “Which strategy have markets rewarded, and which firm "
            "is named as not getting it”.",
        ),
    ],
)
def test_refusals_say_plainly_what_is_missing(question: str, expected: str) -> None:
    assert refusal_text(question) == expected


def ask(answerer: Answerer, question: str, retriever: ListRetriever) -> Answer:
    return final_answer(answerer.stream(question, retriever=retriever, sources=(), chunks=()))


def test_answers_cite_exact_offsets_and_weak_evidence_is_refused() -> None:
    embedder = FakeEmbedder()
    text = "Amazon invested eight billion dollars in Anthropic. The weather was mild that year."
    chunk = _chunk("a.txt", text, start=100)
    retriever = ListRetriever([Hit(chunk=chunk, score=1.0, dense_score=0.5)], embedder)
    question = "How much did Amazon invest in Anthropic?"

    always = Settings(refusal_weights={}, refusal_bias=0.0, refusal_threshold=0.0)
    answer = ask(Answerer(always, embedder), question, retriever)
    assert not answer.refused
    first = answer.citations[0]
    assert answer.text.startswith("Amazon invested eight billion dollars in Anthropic. [1]")
    assert (first.start, first.end) == (
        100,
        100 + len("Amazon invested eight billion dollars in Anthropic."),
    )
    assert text[first.start - 100 : first.end - 100] == first.quote

    # No cosine can reach this model's threshold: the same evidence, refused.
    strict = Settings(
        refusal_weights={"best_cosine": 1.0}, refusal_bias=-10.0, refusal_threshold=0.5
    )
    refused = ask(Answerer(strict, embedder), question, retriever)
    assert refused.refused and not refused.citations
    assert refused.text == refusal_text(question)
    assert refused.related == tuple(retriever.hits)
    qv = retriever.embed_query(question)
    lenient = Answerer(always, embedder).gather(question, qv, retriever.hits, idf=retriever.idf)
    harsh = Answerer(strict, embedder).gather(question, qv, retriever.hits, idf=retriever.idf)
    assert lenient.answerable and not harsh.answerable
    assert np.isclose(lenient.evidence.best_cosine, harsh.evidence.best_cosine)


def test_refusal_weights_must_name_known_features() -> None:
    from assistant.answer.evidence import RefusalModel
    from assistant.errors import InputError

    with pytest.raises(InputError, match="unknown features"):
        Answerer(Settings(refusal_weights={"best_cosin": 9.0}), FakeEmbedder())
    model = RefusalModel.from_settings(Settings())
    assert set(model.weights) == set(Settings().refusal_weights)


def test_the_sentence_holding_the_asked_for_figure_is_ranked_first() -> None:
    embedder = FakeEmbedder()
    text = (
        "Much progress has been made in decreasing pneumonia deaths in children. "
        "Pneumonia deaths decreased from 1.8 million in 2000 to 900,000 in 2013."
    )
    retriever = ListRetriever([Hit(chunk=_chunk("a.txt", text), score=1.0)], embedder)
    question = "How much have childhood pneumonia deaths decreased?"
    qv = retriever.embed_query(question)
    # The type bonus alone (the phrase bonus would also lift the figure's sentence here).
    plain = Answerer(Settings(sentence_type_weight=0.0, sentence_phrase_weight=0.0), embedder)
    typed = Answerer(Settings(sentence_type_weight=0.5, sentence_phrase_weight=0.0), embedder)
    for answerer, first in ((plain, "Much progress"), (typed, "Pneumonia deaths decreased")):
        grounds = answerer.gather(question, qv, retriever.hits, idf=retriever.idf)
        best = grounds.sentences[int(np.argmax(grounds.scores))]
        assert best.text.startswith(first)


def test_units_that_continue_one_another_are_read_in_document_order() -> None:
    from assistant.answer.evidence import Grounds, Sentence
    from assistant.answer.extractive import in_reading_order
    from assistant.answer.features import EvidenceFeatures

    parts = ["Early pneumonia harms the lungs [6] .", "Severe cases scar them.", "Other words."]
    text = " ".join(parts)
    chunk = _chunk("a.txt", text)
    starts = [text.index(p) for p in parts]
    sentences = tuple(
        Sentence(chunk, 0, a, a + len(p), p) for a, p in zip(starts, parts, strict=True)
    )
    zeros = np.zeros(3)
    evidence = EvidenceFeatures(0.5, 0.5, 0.5, 0.5, 0.5, 0.0, 0.0)
    grounds = Grounds(sentences, np.zeros((3, 4)), zeros, zeros, zeros, evidence, 0.9, True)
    # Chosen best first: the second sentence scored highest, but the two read as one run.
    assert in_reading_order(grounds, [1, 2, 0]) == [0, 1, 2]
    assert in_reading_order(grounds, [2, 0]) == [2, 0]  # not adjacent: best first, as chosen


def test_the_best_unit_opens_the_answer_unless_it_leans_on_the_one_before() -> None:
    from assistant.answer.extractive import in_reading_order

    parts = [
        "Anthropic is partly owned by Google.",
        "Meta, for example, builds its models in-house.",
        "This approach is costly.",
    ]
    # Two paragraphs, one line each.
    grounds = _grounds_of(parts, [0.0, 0.0, 0.0], joints=["\n", " "])
    # The Meta sentence answers "How is Meta approaching AI?" and says so on its own: it
    # comes first, the paragraph that happens to precede it in the document after.
    assert in_reading_order(grounds, [1, 0]) == [1, 0]
    # Within one paragraph the document's order stands (an answer may run over two
    # sentences: "... not routinely performed. Indications for chest radiography include").
    assert in_reading_order(_grounds_of(parts, [0.0, 0.0, 0.0]), [1, 0]) == [0, 1]
    # "This approach ..." leans on the sentence before it: read after it.
    assert in_reading_order(grounds, [2, 1]) == [1, 2]
    # Quoting runs whole (the neighbour rule), the document's order.
    assert in_reading_order(grounds, [1, 0], whole_runs=True) == [0, 1]


def _grounds_of(parts: list[str], scores: list[float], joints: list[str] | None = None) -> Grounds:
    """Grounds over parts written one after another in one chunk, joined by a space (or by
    joints[i] between part i and part i + 1)."""
    from assistant.answer.evidence import Sentence
    from assistant.answer.features import EvidenceFeatures

    gaps = joints or [" "] * (len(parts) - 1)
    text = "".join(p + g for p, g in zip(parts, [*gaps, ""], strict=True))
    chunk = _chunk("a.txt", text)
    starts = [text.index(p) for p in parts]
    sentences = tuple(
        Sentence(chunk, 0, a, a + len(p), p) for a, p in zip(starts, parts, strict=True)
    )
    n = len(parts)
    evidence = EvidenceFeatures(0.5, 0.5, 0.5, 0.5, 0.5, 0.0, 0.0)
    vectors = np.eye(n, 8, dtype=np.float32)  # no two units alike
    return Grounds(
        sentences, vectors, np.zeros(n), np.zeros(n), np.array(scores), evidence, 0.9, True
    )


def test_a_best_unit_that_restates_the_question_brings_the_unit_after_it() -> None:
    from assistant.answer.extractive import select_sentences

    parts = [
        "NDV has a number of appealing qualities as a vaccine vector.",
        "There is no DNA phase in its lifecycle, so integration is not a concern.",
        "Other vectors were studied in mice.",
    ]
    grounds = _grounds_of(parts, [1.0, 0.3, 0.2])
    question = "What is the appealing quality of the NDV vector?"
    assert select_sentences(grounds, keep_ratio=0.8) == [0]
    assert select_sentences(grounds, keep_ratio=0.8, restating=0.3, question=question) == [0, 1]
    # A best unit that says something new of its own stands alone.
    other = "Which vaccine vector was studied in mice?"
    assert select_sentences(grounds, keep_ratio=0.8, restating=0.9, question=other) == [0]


def test_an_answer_that_runs_on_into_the_next_sentence_brings_it_when_asked_to() -> None:
    from assistant.answer.extractive import select_sentences

    parts = [
        "Empyema rose in Scotland until 2005.",
        "Conjugate vaccination has reversed the rise since 2010.",
        "Empyema decreased by 50% in young children.",
        "Other work studied adults.",
    ]
    grounds = _grounds_of(parts, [0.6, 1.0, 0.75, 0.74])
    # Off by default: the best unit alone (the third scores under keep_ratio).
    assert select_sentences(grounds, keep_ratio=0.8) == [1]
    # The unit after the chosen one scores 0.75 of it: it is added, in reading order, even
    # past the cap; the one before (0.6) is not, nor the one after that (it continues the
    # added unit, not a chosen one).
    assert select_sentences(grounds, keep_ratio=0.8, max_sentences=1, adjacent=0.7) == [1, 2]
    assert select_sentences(grounds, keep_ratio=0.8, adjacent=0.5) == [0, 1, 2]


def test_a_one_sentence_answer_reads_on_into_the_next_sentence_of_its_paragraph() -> None:
    from assistant.answer.extractive import select_sentences

    parts = [
        "Cherian et al. estimate that the Asian genotype emerged 50 to 310 years ago.",
        "Since then, it has gained several mutations and caused epidemics in many regions.",
        "Other genotypes spread in Africa.",
    ]
    grounds = _grounds_of(parts, [1.0, 0.3, 0.2])
    assert select_sentences(grounds, keep_ratio=0.8) == [0]
    # The lone best sentence brings the one after it, whatever that one scores ...
    assert select_sentences(grounds, keep_ratio=0.8, min_sentences=2) == [0, 1]
    # ... but not across a paragraph break, where the text turns to something else.
    apart = _grounds_of(parts, [1.0, 0.3, 0.2], joints=["\n\n", " "])
    assert select_sentences(apart, keep_ratio=0.8, min_sentences=2) == [0]
    # An answer of two sentences already is left as it is.
    two = _grounds_of(parts, [0.9, 0.3, 1.0])
    assert select_sentences(two, keep_ratio=0.8, min_sentences=2) == [2, 0]


def test_acronyms_the_passages_define_are_aliases_of_their_spelling() -> None:
    passages = ["Only hepatitis B virus (HBV) still waits for a culture system."]
    assert passage_aliases("What does Hepatitis B need?", passages) == [
        ({"hbv"}, {"hepat", "b", "virus"})
    ]
    # The question's own bracketed acronym counts too.
    assert passage_aliases("How does Mannose Binding Lectin (MBL) act?", []) == [
        ({"mbl"}, {"mannos", "bind", "lectin"})
    ]


def test_a_twin_sentence_that_says_more_is_quoted_beyond_the_cap() -> None:
    from dataclasses import replace

    from assistant.answer.extractive import select_sentences

    parts = [
        "Cohort studies centered on ribavirin with lopinavir or ribavirin only.",
        "Other cohort studies centered on ribavirin, interferon and convalescent plasma.",
        "Cohort studies centered on ribavirin with lopinavir.",
        "Trials of vaccines are under way.",
    ]
    grounds = _grounds_of(parts, [1.0, 0.95, 0.9, 0.85])
    # The first three are alike (cosine 0.9 > redundancy 0.8); the fourth is not.
    axes = np.eye(8, dtype=np.float32)
    vectors = np.stack(
        [axes[0], 0.9 * axes[0] + 0.436 * axes[5], 0.9 * axes[0] + 0.436 * axes[6], axes[3]]
    )
    grounds = replace(grounds, vectors=vectors)
    # By default (0) every sentence alike a chosen one is skipped.
    assert select_sentences(grounds, keep_ratio=0.8, max_sentences=2) == [0, 3]
    # The second says what the first does not (interferon, plasma): it is quoted, and does
    # not take the place of the fourth; the third adds nothing to the first and is skipped.
    chosen = select_sentences(grounds, keep_ratio=0.8, max_sentences=2, twin_novelty=0.2)
    assert sorted(chosen) == [0, 1, 3]


def test_an_answer_may_quote_a_passage_past_k_but_decides_on_the_first_k() -> None:
    embedder = FakeEmbedder()
    off = [
        _chunk(f"{n}.txt", f"Unrelated note {n} about the weather and gardens.") for n in range(2)
    ]
    gold = _chunk("gold.txt", "Amazon invested eight billion dollars in Anthropic.")
    hits = [Hit(chunk=c, score=1.0) for c in (*off, gold)]
    retriever = ListRetriever(hits, embedder)
    question = "How much did Amazon invest in Anthropic?"
    always = Settings(refusal_weights={}, refusal_bias=0.0, refusal_threshold=0.0)
    pooled = ask(
        Answerer(always.model_copy(update={"k": 2, "evidence_k": 3}), embedder), question, retriever
    )
    assert pooled.citations[0].source == "gold.txt"
    assert [h.chunk.source for h in pooled.hits] == ["0.txt", "1.txt"]  # the k shown
    # The refusal reads the k shown: the same question refused when they hold nothing.
    strict = Settings(
        refusal_weights={"best_cosine": 1.0, "entity_missing": -20.0},
        refusal_bias=0.0,
        refusal_threshold=0.5,
        k=2,
        evidence_k=3,
    )
    assert ask(Answerer(strict, embedder), question, retriever).refused
    assert not ask(
        Answerer(strict.model_copy(update={"k": 3}), embedder), question, retriever
    ).refused


def test_a_unit_holding_the_questions_phrases_scores_above_one_with_its_words_scattered() -> None:
    embedder = FakeEmbedder()
    scattered = "The period was long; incubation in wards had a mean of days."
    phrased = "The mean incubation period was studied."
    retriever = ListRetriever(
        [Hit(chunk=_chunk("a.txt", f"{scattered} {phrased}"), score=1.0)], embedder
    )
    question = "What was the mean incubation period?"
    qv = retriever.embed_query(question)
    off, on = (
        Answerer(Settings(sentence_phrase_weight=w), embedder).gather(
            question, qv, retriever.hits, idf=retriever.idf
        )
        for w in (0.0, 1.0)
    )
    texts = [s.text for s in on.sentences]
    assert texts == [scattered, phrased]
    # Both hold every word of the question; only the second keeps its phrases together.
    assert np.allclose(on.coverages, off.coverages)
    assert np.allclose(on.scores - off.scores, [0.0, 1.0])


def test_a_question_asking_two_things_gets_a_unit_for_each_part() -> None:
    from assistant.answer.extractive import question_parts, select_sentences

    question = "Why might Amazon lack control of Anthropic, and why can't it be sure of loyalty?"
    assert question_parts(question) == [
        "Why might Amazon lack control of Anthropic",
        "why can't it be sure of loyalty?",
    ]
    assert question_parts("How much has Amazon invested in Anthropic?") == []
    parts = [
        "Amazon holds less control of Anthropic than Microsoft holds of OpenAI.",
        "Markets favoured early partnerships.",
        "There is no guarantee of loyalty, as Anthropic works with others.",
    ]
    grounds = _grounds_of(parts, [1.0, 0.5, 0.4])
    assert select_sentences(grounds, keep_ratio=0.8, question=question) == [0]
    chosen = select_sentences(grounds, keep_ratio=0.8, question=question, part_coverage=0.5)
    assert chosen == [0, 2]
    # A part no unit covers well enough adds nothing.
    assert select_sentences(
        grounds,
        keep_ratio=0.8,
        question="What is Amazon's control, and why do rivals sell chips?",
        part_coverage=0.5,
    ) == [0]


def test_a_question_typed_in_capitals_is_read_as_typed_in_lower_case() -> None:
    from assistant.answer.answerer import unshouted

    assert unshouted("HOW MUCH DID AMAZON INVEST?") == "how much did amazon invest?"
    assert unshouted("Is NASA involved?") == "Is NASA involved?"
    assert unshouted("NASA, ESA?") == "NASA, ESA?"  # two words may be two acronyms


def test_the_unit_naming_the_rarer_name_asked_about_leads_the_answer() -> None:
    from assistant.answer.extractive import _named_first

    parts = ["Amazon's strategy is to invest.", "Google builds in-house.", "Amazon builds chips."]
    grounds = _grounds_of(parts, [1.0, 0.7, 0.2])
    raised = _named_first(grounds, "What is Google's strategy?", 0.5).scores
    assert raised[1] > raised[0] and list(raised[[0, 2]]) == [1.0, 0.2]
    # Not when it scores under half the best, nor for a name most units hold (the topic),
    # nor when the best unit names it already.
    assert _named_first(grounds, "What is Google's strategy?", 0.75) is grounds
    assert _named_first(grounds, "What is Amazon's strategy?", 0.5) is grounds
    named = _grounds_of(parts, [0.7, 1.0, 0.2])
    assert _named_first(named, "What is Google's strategy?", 0.5) is named


def test_what_follows_a_quote_stays_in_its_paragraph() -> None:
    from assistant.answer.extractive import followers

    parts = [
        "Amazon's position is not exclusive, adding an element of risk.",
        "Overall, the AI industry is witnessing a real-time experiment.",
        "Its tone is cautious.",
    ]
    said = {parts[0]}
    # The next paragraph turns to another point: "say more about the risk" does not read on
    # into it.
    assert followers(_grounds_of(parts, [0.0, 0.0, 0.0], joints=["\n", " "]), said) == []
    assert followers(_grounds_of(parts, [0.0, 0.0, 0.0]), said) == [1]


def test_reasons_told_are_the_units_saying_what_brings_a_claimed_word_about() -> None:
    from assistant.answer.extractive import reasons_told

    parts = [
        "Amazon's stake is non-exclusive.",
        "Its partnerships mean the position is not exclusive.",
        "Amazon is also investing in chips because it wants speed.",
    ]
    # The quote itself is no reason, nor a cause told of something else.
    assert reasons_told(_grounds_of(parts, [1.0, 0.5, 0.4]), {parts[0]}) == [1]


@pytest.mark.parametrize(
    ("question", "settled"),
    [
        ("Is it a done deal?", True),
        ("So the deal has been signed already?", True),
        ("Is the stake exclusive?", False),
        ("Why is it final?", False),
    ],
)
def test_a_question_whether_it_is_settled_is_answered_by_what_is_only_planned(
    question: str, settled: bool
) -> None:
    from assistant.answer.extractive import asks_if_settled, hedged

    assert asks_if_settled(question) is settled
    parts = ["Amazon invested $8 billion.", "Amazon is reportedly considering more."]
    assert hedged(_grounds_of(parts, [1.0, 0.5])) == [1]
