"""Which sentences an extractive answer quotes, with the real packaged model over a small
document written for the purpose: the sentence that holds what was asked is in the answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Assistant, Settings
from assistant.embedding import Embedder

pytestmark = pytest.mark.model

SEALS = """Grey seals of the southern Baltic

Grey seals were hunted almost to extinction along the southern Baltic coast in the early \
twentieth century, and by 1970 fewer than a hundred animals remained in Swedish waters.

Surveys show that the colony at Falsterbo was founded around 1990 by a few animals that had \
swum over from Estonian breeding grounds, together with a smaller group from the Finnish \
archipelago. Since then, it has grown to about 2,000 seals and has spread to three nearby \
islands. Fishermen in the area report more damaged nets than before.

Seals feed mostly on herring and cod, and an adult eats around five kilograms of fish a day. \
Pups are born in late winter on the ice or on bare rock.
"""


UTO = """Utö and its lighthouses

Utö is a small island at the edge of the Archipelago Sea, and about forty people live there \
all year round. The lighthouse on Utö was first lit in 1753 and rebuilt in 1814 after a storm.

Utö now has three lighthouses, the oldest on its highest rock. A ferry calls every day in \
summer.

Birdwatchers come in autumn, when thousands of migrating birds rest on the island.
"""


RSV = """A common winter virus

Respiratory syncytial virus (RSV) is a common cause of colds in adults, and almost every \
child has been infected by the age of two. Vaccines for older adults were approved in 2023 \
after decades of failed attempts.

Respiratory syncytial virus spreads through droplets and on hands, and it survives for hours \
on hard surfaces such as door handles and toys.

In infants, RSV can reach the small airways of the lungs and cause bronchiolitis, the \
commonest reason for a hospital stay in the first year of life.
"""


def _bot(tmp_path: Path, embedder: Embedder, text: str = SEALS, **settings: object) -> Assistant:
    docs = tmp_path / "docs"
    docs.mkdir(exist_ok=True)
    (docs / "doc.txt").write_text(text, encoding="utf-8")
    index_dir = tmp_path / f"index-{len(list(tmp_path.iterdir()))}"
    chosen = Settings(index_dir=index_dir, show_progress=False, **settings)  # type: ignore[arg-type]
    return Assistant.from_folder(docs, index_dir=index_dir, settings=chosen, embedder=embedder)


def test_min_answer_sentences_brings_the_next_one_that_answers(
    tmp_path: Path, real_embedder: Embedder
) -> None:
    question = "How has the Falsterbo colony fared since it was founded?"
    # The rule is off by default (it pads answers): on, it reads on.
    answer = _bot(tmp_path, real_embedder, min_answer_sentences=2).ask(question)

    assert not answer.refused
    # The best sentence tells how the colony was founded; the one after it, how it fared.
    assert "grown to about 2,000 seals" in answer.text
    assert len(answer.citations) == 2
    # Without the rule (the default) the answer stops at the founding sentence.
    alone = _bot(tmp_path, real_embedder).ask(question)
    assert "2,000" not in alone.text


def test_how_many_opens_with_the_count_of_what_it_counts(
    tmp_path: Path, real_embedder: Embedder
) -> None:
    answer = _bot(tmp_path, real_embedder, UTO).ask("How many lighthouses does Utö have?")

    assert not answer.refused
    # The sentence with "1753" names the lighthouse and holds numbers too, but counts no
    # lighthouses: the one that says "three lighthouses" opens the answer.
    assert answer.citations[0].quote.startswith("Utö now has three lighthouses")


def test_a_sentence_naming_the_subject_by_its_acronym_covers_the_spelled_out_name(
    tmp_path: Path, real_embedder: Embedder
) -> None:
    question = "What can respiratory syncytial virus cause in infants?"
    answer = _bot(tmp_path, real_embedder, RSV).ask(question)

    assert not answer.refused
    # The article writes "Respiratory syncytial virus (RSV)" once, then "RSV": the sentence on
    # infants names the question's virus too.
    assert "bronchiolitis" in answer.text


CHEMIST = """Ilse Brandt

Ilse Brandt was a German chemist who studied salts at the University of Leipzig, where she \
received her doctorate in 1921 under the physicist Otto Mahler. Brandt later led the \
laboratory in Basel until she retired in 1958.

In 1949 she was awarded the Faraday Medal for her work on crystal growth.
"""


def test_a_year_the_question_dates_by_picks_the_sentence_that_gives_it(
    tmp_path: Path, real_embedder: Embedder
) -> None:
    from assistant.answer.features import dated_years

    assert dated_years("Which prize was Brandt given in 1949?") == {"1949"}
    assert dated_years("Who won the 1987 final?") == set()  # a year in a name dates nothing
    answer = _bot(tmp_path, real_embedder, CHEMIST).ask("Which prize was Brandt given in 1949?")

    assert not answer.refused
    # The sentences naming Brandt give other years; the one with 1949 names the prize.
    assert "Faraday Medal" in answer.citations[0].quote


def test_sentences_joined_into_one_unit_add_half_of_what_they_cover() -> None:
    from assistant.answer.evidence import joined_coverage

    weights = {"meta": 1.0, "approach": 1.0}
    assert (
        joined_coverage(weights, [{"googl", "meta"}, {"approach"}], {"googl", "meta", "approach"})
        == 0.75
    )
    # One sentence: its own coverage.
    assert joined_coverage(weights, [{"meta", "approach"}], {"meta", "approach"}) == 1.0


BRIDGE = """The Kelda swing bridge

The swing bridge over the Kelda was built by the harbour board to carry a railway to the \
docks. The railway was opened on 3 May 1894, after two years of work on the iron frame. \
Crowds lined both banks to watch the first train cross the bridge.

The bridge was last swung open for a ship in 1979 and is now fixed in place.
"""


def test_a_date_asked_for_is_brought_from_the_sentence_beside_the_best(
    tmp_path: Path, real_embedder: Embedder
) -> None:
    answer = _bot(tmp_path, real_embedder, BRIDGE).ask(
        "On what day did the first train cross the bridge?"
    )

    assert not answer.refused
    # The sentence closest to the question tells of the crowds, and gives no date; the one
    # before it in its paragraph does, and is read first.
    quotes = [c.quote for c in answer.citations]
    assert quotes[0].startswith("The railway was opened on 3 May 1894")
    assert quotes[1].startswith("Crowds lined both banks")
