"""One settings object, read from ASSISTANT_* environment variables or passed explicitly.

It is created by the interfaces (CLI, UI, tests) and passed down; nothing reads it at import
time, so two assistants with different settings can live in one process.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from .llmspec import LLMSpec

__all__ = ["DEFAULT_MODEL", "DEFAULT_UNPACK_LIMITS", "Settings", "UnpackLimits"]

DEFAULT_MODEL = "all-MiniLM-L6-v2"


@dataclass(frozen=True)
class UnpackLimits:
    """How far a zip package (.docx, .pptx, .xlsx, .epub) may unpack before it is refused as
    a zip bomb: more than max_bytes in all, or more than max_ratio times its size on disk
    once it unpacks to over ratio_floor_bytes. A real package's XML packs about 10:1 and its
    images about 1:1; a bomb packs thousands to one. A PDF unpacks too, by OCR: one with
    more than ocr_pages pages without text is refused before any is read (a page takes
    seconds; a few hundred bytes make a thousand blank pages). The defaults are Settings'
    defaults (Settings.unpack_limits gives the configured ones).

    Example: UnpackLimits(max_bytes=10 << 20) refuses a .docx that unpacks to 11 MB.
    """

    max_bytes: int = 1 << 30  # no document needs more (nor is a file bigger than this read)
    max_ratio: float = 100.0
    ratio_floor_bytes: int = 32 << 20  # below this any ratio is harmless
    ocr_pages: int = 500  # a long scanned book; about 10 minutes of OCR on 2 cores
    # A PDF's page content is read far slower than XML (about 1.3-2.2 us a byte: 32 MB took
    # 40-70 s), so its floor is lower: 1 MB reads in 1-2 s. Real PDFs hold 2-3 times their
    # size in page content, so a file of 10 KB or more is held to the ratio alone.
    pdf_floor_bytes: int = 1 << 20
    # A scanned page is a picture of at least a few kilobytes (a 300 dpi page in JBIG2 or
    # CCITT G4 takes 10-100 KB), so a PDF may have one page read by OCR per this many bytes
    # of file (and at least ocr_floor_pages), where 80 bytes make a blank page that takes
    # 0.6-2 s of OCR: a 6 KB file of 75 of them held the indexer for 45 s.
    ocr_page_bytes: int = 2048
    ocr_floor_pages: int = 4  # a one-page scan of a few KB (an attachment has no floor)
    # Each of an e-mail's attachments is indexed as a document of its own, at least one
    # passage however small: an e-mail may have this many, or one per 100 bytes (as many as
    # a document may have sections: ingest.chunking.MAX_SECTIONS, SECTION_CHARS). A message
    # attached to another has no floor of its own, so nesting cannot multiply it.
    attachments_floor: int = 10_000

    def allowance(self, size: int) -> int:
        """The most bytes a file of `size` bytes may unpack to, by the rule above: at most
        max_bytes, and past ratio_floor_bytes at most max_ratio times its size. Loaders
        that unpack by other means than zip (a table's repeated strings) are held to it
        too; a PDF's pages to `pdf_allowance`.

        Example: UnpackLimits().allowance(6_000) == 32 << 20 (the floor);
                 UnpackLimits().allowance(20 << 20) == 1 << 30 (max_bytes)
        """
        return min(self.max_bytes, max(self.ratio_floor_bytes, int(self.max_ratio * size)))

    def pdf_allowance(self, size: int) -> int:
        """The most bytes of page content a PDF of `size` bytes may hold: as `allowance`,
        with pdf_floor_bytes for its floor (when that is the lower).

        Example: UnpackLimits().pdf_allowance(6_000) == 1 << 20 (the PDF floor);
                 UnpackLimits().pdf_allowance(100_000) == 10_000_000 (100 times its size)
        """
        floor = min(self.pdf_floor_bytes, self.ratio_floor_bytes)
        return min(self.max_bytes, max(floor, int(self.max_ratio * size)))

    def ocr_allowance(self, size: int) -> int:
        """The most pages of a PDF of `size` bytes that OCR reads: one per ocr_page_bytes of
        file, at least ocr_floor_pages, at most ocr_pages.

        Example: UnpackLimits().ocr_allowance(6_000) == 4;
                 UnpackLimits().ocr_allowance(400_000) == 195;
                 UnpackLimits().ocr_allowance(10 << 20) == 500 (ocr_pages)
        """
        by_size = size // max(self.ocr_page_bytes, 1)
        return min(self.ocr_pages, max(self.ocr_floor_pages, by_size))


DEFAULT_UNPACK_LIMITS = UnpackLimits()  # a frozen value: the default of every loader's limits


class Settings(BaseSettings):
    """Everything that can be tuned, with defaults chosen on data (see README)."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", frozen=True, extra="ignore")

    # Where documents come from and where the index lives.
    docs_dir: Path = Path("seeds")
    index_dir: Path = Path("index")
    # Where the index lives when it is not the index_dir folder: a postgresql:// URL (several
    # app servers on one database; see docs/scaling.md). Unset: the FAISS files in index_dir.
    store: str | None = None
    # pgvector HNSW search depth: its default of 40 lost recall@10 in evals/bench_pg.py.
    hnsw_ef_search: int = Field(default=100, ge=1, le=1000)

    # Embedding: the packaged MiniLM by default; or a local sentence-transformers folder.
    model: str = DEFAULT_MODEL
    # 16 embedded covid-qa chunks about 15% faster than 32 on 2 cores (measured).
    embed_batch_size: int = Field(default=16, ge=1)
    device: str = "cpu"  # "cuda" (or "cuda:N"): torch in float16 with large batches
    # "onnx": the model's int8 ONNX graph on onnxruntime (no torch when answering; exported
    # once, verified against torch); "torch": sentence-transformers.
    encoder: Literal["onnx", "torch"] = "onnx"
    # Where exported ONNX graphs are cached; None: $XDG_CACHE_HOME (or ~/.cache)/assistant.
    encoder_cache_dir: Path | None = None
    show_progress: bool = True

    # Chunking, in the embedding model's word pieces (the model's window is 256 with
    # [CLS]/[SEP]; chunk_tokens must stay below it or text would be silently truncated).
    # 254 (the whole window) raised covid-qa hit@5 from 0.762 to 0.776, but on the short
    # seed article it buried the "$8 billion" sentence in a larger chunk: 200 kept.
    chunk_tokens: int = Field(default=200, ge=16)
    chunk_overlap_tokens: int = Field(default=32, ge=0)
    # How each chunk's vector is made. "sentences": the normalised mean of the vectors of its
    # quotable sentences (which the index embeds anyway, for answers) and of any text between
    # them, so indexing reads each text once; "encode": the chunk's whole text embedded, a
    # second pass over the same words. On the whole covid-qa (1,380 questions) "sentences"
    # scored hit@5 0.762 hybrid and 0.546 dense against 0.760 and 0.522, and a fresh
    # `assistant index` took 0.47x the CPU time (README, Measured). The index records
    # which; changing it makes the next `assistant index` remake every chunk vector.
    chunk_vectors: Literal["sentences", "encode"] = "sentences"

    # Retrieval.
    k: int = Field(default=5, ge=1, le=50)
    # Passages an answer may quote from: the best max(k, evidence_k). Whether to answer is
    # decided on the best k, which are also the answer's passages. 8 found the gold in 3
    # more of 150 tune covid-qa answers than 5 (10: the same as 8; 6: +1); the refusal
    # features read over 8 refused more answerable questions (evals/refusal/README.md).
    evidence_k: int = Field(default=8, ge=1, le=50)
    # "score": convex combination of normalised BM25 and cosine; "rrf": reciprocal rank
    # fusion. Chosen on the tune half of covid-qa, confirmed on the other half (README).
    fusion: Literal["score", "rrf"] = "score"
    candidates: int = Field(default=100, ge=1)
    # 0.6 pairs with dense_sentence_share 1.0 (README, Retrieval); 0.7 with chunk cosines.
    lexical_weight: float = Field(default=0.7, ge=0.0)
    dense_weight: float = Field(default=1.0, ge=0.0)  # rrf only
    rrf_k: int = Field(default=60, ge=1)
    # Share of a chunk's best sentence cosine in its dense score, the rest its own cosine
    # (retrieval/hybrid.py; read from the stored sentence vectors, so a store without them,
    # PgStore, ranks by chunk cosines alone). 0: chunk cosines only. 1.0 with BM25 share 0.6
    # was best on covid-qa's tune half (hit@5 0.750 -> 0.767; confirm 0.773 -> 0.799), but
    # end to end it answered no more questions with the gold and refused fewer adversarial
    # ones (tune 0.605 -> 0.575, confirm 0.665 -> 0.650; answerable refused on confirm 0.049
    # -> 0.055, past the 0.05 target), so it stays off until the refusal model is refitted.
    dense_sentence_share: float = Field(default=0.0, ge=0.0, le=1.0)

    # Answers. answer_mode names a backend of answer/registry.py, the one list of modes; it is
    # checked where it is used (the Answerer, the CLI's --mode, the eval runner), since the
    # registry sits above settings and plugins may register modes after settings are read.
    answer_mode: str = "extractive"
    # Answer units kept: the best sentence, then those scoring at least sentence_keep_ratio of
    # it, at most max_answer_sentences. Chosen on the tune half of evals/refusal/ with the
    # seed set's fact recall as the floor (evals/refusal/README.md): 0.8 and 3 keep seed fact
    # recall at 0.82 where 0.85 and 4 lost two facts, with fewer sentences on average.
    max_answer_sentences: int = Field(default=3, ge=1, le=8)
    max_question_chars: int = Field(default=2000, ge=10)
    # History passed on for a follow-up: the newest messages, and at most this many
    # characters in all (follow-up terms come from the last turn or two; an unbounded
    # history only costs time), but four exchanges, so that "your first answer" is still
    # there three questions on. Every interface shows a note when some was left out.
    max_history_messages: int = Field(default=8, ge=0)
    max_history_chars: int = Field(default=4000, ge=0)
    sentence_keep_ratio: float = Field(default=0.8, gt=0.0, le=1.0)
    sentence_lexical_weight: float = Field(default=1.0, ge=0.0)
    # Added to the score of a sentence that holds what the question asks for (a number, a
    # date, a name): answer/evidence.py. 0.2 was chosen on the tune half (0.1 to 0.35 gave
    # the same; evals/refusal/README.md).
    sentence_type_weight: float = Field(default=0.2, ge=0.0)
    # Added times the share of the question's adjacent term pairs that a unit holds adjacent
    # (answer/features.py phrase_overlap). Tune half: answers holding the gold 0.743 -> 0.757
    # at 0.2, 0.3 and 0.5 alike (0.750 at 1.0); seed fact recall 0.862 at 0.2, 0.846 at 0.3.
    sentence_phrase_weight: float = Field(default=0.2, ge=0.0)
    sentence_redundancy: float = Field(default=0.8, gt=0.0, le=1.0)
    # A unit over sentence_redundancy alike a chosen one is quoted all the same, beyond
    # max_answer_sentences, when at least this share of its terms are not in that one: the
    # same thing said with more (an abstract's sentence and the text's fuller one). 0: never.
    # Tune half of evals/refusal/ (295 answerable): contains gold 214 -> 219 (0.1 and 0.2;
    # 218 at 0.3, 217 at 0.4), mean sentences 2.51 -> 2.62, median 2; seed fact recall 0.891
    # -> 0.906. Counted against the cap instead: 217, seed fact recall 0.859 (it crowds out
    # a different fact); only when it scores at least 0.95 of that unit: 219, seed 0.875.
    sentence_twin_novelty: float = Field(default=0.2, ge=0.0, le=1.0)
    # When at least this share of the best unit's terms are the question's (it restates the
    # question: "NDV has a number of appealing qualities."), the unit after it is added; 0:
    # never. On the tune half answers held the gold 0.713 -> 0.727 / 0.741 / 0.748 / 0.762
    # at 0.4 / 0.3 / 0.2 / always, mean sentences 2.21 -> 2.33 / 2.41 / 2.63 / 3.10: 0.3 is the
    # most that keeps the median at 2 (evals/refusal/README.md).
    sentence_restating: float = Field(default=0.3, ge=0.0, le=1.0)
    # A unit just before or after a chosen one is added when it scores at least this share of
    # the best (0: never): answers that run over two sentences. Off: at 0.7 answers held the
    # gold 0.759 -> 0.786 on tune but 0.690 -> 0.697 on confirm, and grew by 0.6 sentences
    # on average (1.3 on the seed set): evals/refusal/README.md, fourth pass.
    sentence_adjacent: float = Field(default=0.0, ge=0.0, le=1.0)
    # A question asking two things ("..., and how has each fared?"): for each part, the unit
    # holding the most of that part's terms is added when it holds at least this share of
    # them and more than any chosen unit does (0: off). 0.4 to 0.6 alike: seed synthesis fact
    # recall 0.646 -> 0.688; the refusal sets' tune half and the whole covid-qa unchanged.
    sentence_part_coverage: float = Field(default=0.5, ge=0.0, le=1.0)
    # Asked a bare "Why?" (or "How so?") of what the last answer quoted, the unit right after
    # each quoted sentence gains this share of the best score: the reason is most often told
    # next. Chosen on the follow-up sets (session 13): 0.5 and 0.3 (with the quoted ones
    # halved) alike, seed_blind follow-ups 0.867 -> 0.933, seed_blind2 0.714 -> 0.762,
    # evals/refusal/followups.yaml 37/40 and the seed set unchanged; any follow-up (not only
    # "why") lost 4 to 6 of followups.yaml's 40 (their answer is often the same sentence).
    sentence_why_follower: float = Field(default=0.5, ge=0.0, le=1.0)
    # The best unit naming a rarer name of the question leads the answer when the best unit
    # names none and it scores at least this share of it (1.01: never). Session 16: at 0.5
    # seed_blind2 fact recall 0.867 -> 0.911 and follow-ups 0.810 -> 0.905 ("And Google?"),
    # squadlike/2/4 and covid-qa tune golds unchanged, their quotes +3% (covid +0.3%); at 0.7 half
    # of the seed gain; lowering the units that name none instead lost 14 squadlike golds.
    sentence_named_lead: float = Field(default=0.5, ge=0.0, le=1.01)
    # An answer of fewer sentences than this gets the sentence after its best one in the same
    # paragraph, if the answer then holds no more than this (1: never). At 2 only one-sentence
    # answers grow, so a median of 2 stays 2. Tune half of evals/refusal/ (295
    # answerable): contains gold 210 -> 213, mean sentences 2.34 -> 2.52; across a paragraph
    # break too: 213, 2.57; with any next-best unit instead: 211; 3: 214 but median 3. Off
    # (1) by default: it pads an answer that holds its fact in one sentence, and on the
    # SQuAD-style probe (evals/squadlike) it raised mean sentences 1.88 -> 2.20 for one
    # question more holding its gold (session 11, the lead's decision).
    min_answer_sentences: int = Field(default=1, ge=1, le=8)
    # The refusal model: P(answerable) = sigmoid(bias + sum of weight * feature), the features
    # named as in answer/features.py (FEATURE_NAMES; one left out weighs 0). Fitted by
    # evals/calibrate_refusal.py on the tune half of evals/refusal/ (covid-qa answerable and
    # adversarial questions, seed-article adversarial questions, off-topic questions); the
    # threshold is chosen on the tune halves (below). Seven features
    # since type_detached (2026-11-29, third pass); top_dense, focus, cosine_pair and
    # name_context were tried and left out (evals/refusal/README.md gives the figures).
    refusal_weights: dict[str, float] = Field(
        default_factory=lambda: {
            "best_cosine": 11.298,
            "typed_focus": 4.312,
            "passage_coverage": -7.593,
            "entity_missing": -11.207,
            "type_missing": -1.265,
            "pair_focus": 5.588,
            "type_detached": -4.018,
        }
    )
    refusal_bias: float = -7.060
    # With the veto below, chosen together on the tune halves by a rule written before the
    # confirm halves were asked (session 9, evals/refusal_curve.py): the highest threshold at
    # which the whole covid-qa tune half refuses at most 3.5% of its answerable questions
    # (the target is 5%; its halves differed by 1.6 points at 0.13), the refusal sets' tune
    # half at most 5%, off-topic at least 95%, no seed answerable refused; then the veto
    # whose threshold refuses the most adversarial tune questions. 0.13 and 0.8 refused 4.5%
    # of the whole tune half and 6.1% of the sets' (adversarial 0.735); 0.07 and 0.7 refuse
    # 3.5% and 4.4% (adversarial 0.700: swapped names 0.65, absent attributes 0.73).
    # Confirm: the sets' answerable refused 0.059 -> 0.049, adversarial 0.716 -> 0.701.
    refusal_threshold: float = Field(default=0.07, ge=0.0, le=1.0)
    # Refuse whatever the probability when the question's attribute is stated better, by
    # this much of its term weight, without one of its names than with it (name_displaced:
    # "Is Google's stake exclusive?" over "Amazon's stake is non-exclusive"; 1.01 = off).
    # Chosen on the tune halves (session 8), refused without the veto / at 0.7 / 0.8 / 0.9:
    # the refusal sets' covid-qa swapped names 58 / 72 / 68 / 62 of 101, their answerable
    # 18 / 19 / 19 / 18 of 295, the seed's swapped names 3 / 4 / 4 / 4 of 29, the whole
    # covid-qa tune half's answerable 29 / 34 / 32 / 30 of 687 (evals/refusal/README.md).
    # Session 9 chose 0.7 with the threshold above (0.8: adversarial 0.680 at the same rule).
    refusal_displaced_veto: float = Field(default=0.7, ge=0.0, le=1.01)
    # Between this floor and the threshold a question is answered when nothing in its
    # evidence points to a swapped name or an attribute told of something else
    # (answer/evidence.py unswapped); 1.0 = off. Chosen on the tune halves (session 24:
    # the SQuAD-style development sets squadlike, 4, 8, 10 and half the seed questions):
    # answerable refused 0.095 -> 0.050, adversarial refused 0.609 -> 0.590, seed unchanged
    # (0.02: 0.056 and 0.593; 0.005 as 0.01 on tune).
    refusal_floor: float = Field(default=0.01, ge=0.0, le=1.0)

    # The language model of the LLM answer modes, as one string (llmspec.py):
    # "openai:gpt-4o-mini", "ollama:qwen2.5:7b", "anthropic:claude-sonnet-4-5", "local",
    # "local:/path/model.gguf". Setting it (ASSISTANT_LLM, --llm) also picks its answer mode,
    # unless answer_mode is given as well.
    llm: str | None = None
    # Where an OpenAI-compatible or Ollama server listens, and the key for the provider; when
    # unset, the provider's usual variables apply (OPENAI_BASE_URL, OPENAI_API_KEY,
    # OLLAMA_HOST, ANTHROPIC_API_KEY).
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    llm_max_tokens: int = Field(default=256, ge=16, le=8192)
    llm_timeout: float = Field(default=120.0, gt=0.0)  # seconds for one answer's request
    # local: threads of the llama.cpp server. One: measured (issue 9) 1 thread gave the first
    # token in about 0.4 s and ~50 tokens/s, 2 threads on a busy 2-core machine 1-14 tokens/s.
    llm_threads: int = Field(default=1, ge=1, le=64)
    # local: threads reading the prompt (llama.cpp's batch threads); None: two where there
    # are two cores (answer/localserver.py prompt_threads says why).
    llm_batch_threads: int | None = Field(default=None, ge=1, le=64)
    llm_context: int = Field(default=4096, ge=512)  # local: the server's context, in tokens
    # Retrieved passages put in the prompt, best first (and the only ones a sentence may be
    # checked against). None: all k for a served model; 2 for `local`, whose first token
    # waits for the whole prompt to be read on one thread (about 220 tokens a passage).
    llm_passages: int | None = Field(default=None, ge=1, le=50)
    # How the prompt is shaped (answer/prompt.py): "full" (the whole rules, whole passages)
    # or "compact" (short rules, one made-up worked turn, each passage cut to its
    # llm_excerpt_sentences best sentences, a stop at a blank line; `local` also caps the
    # answer at 96 tokens). Measured with `local` (README "The local LLM"): compact let the
    # 135M model's sentences pass the check 2-3 times as often, but seed fact recall fell
    # (0.78 -> 0.69) as its short answers replaced the copied fallback, so "full" stays the
    # default for every mode.
    llm_prompt: Literal["full", "compact"] = "full"
    llm_excerpt_sentences: int = Field(default=3, ge=1, le=20)
    # Whether an LLM answer mode also rewrites a follow-up into a standalone question for
    # retrieval (answer/condense.py), after the deterministic rewrite has found it to be one:
    # "auto" is on for served models (openai, ollama, anthropic) and off for `local`, whose
    # 135M model would add a second prompt's wait to every follow-up for a worse rewrite
    # (README, "Follow-ups rewritten by the model").
    llm_condense: Literal["auto", "on", "off"] = "auto"
    # How each sentence a language model writes is checked against its passage: "checker"
    # (the rules, then the learned checker, answer/checker.py) or "rules" (the rules and a
    # word-coverage cut-off alone). Both are calibrated on the tune half of
    # evals/verify_set.jsonl; on its confirm half the checker caught more unsupported
    # sentences at the same share kept (evals/VERIFIER.md).
    verifier: Literal["checker", "rules"] = "checker"

    # Uploads through the UI.
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, ge=1)
    # Zip bombs: a .docx, .pptx, .xlsx or .epub that would unpack to more than
    # unpack_max_bytes, or (past unpack_ratio_floor_bytes) to more than unpack_max_ratio times
    # its size on disk, is refused before anything is unpacked (UnpackLimits says why). A
    # file in the documents folder bigger than unpack_max_bytes is skipped unread.
    unpack_max_bytes: int = Field(default=UnpackLimits.max_bytes, ge=1)
    unpack_max_ratio: float = Field(default=UnpackLimits.max_ratio, gt=0.0)
    unpack_ratio_floor_bytes: int = Field(default=UnpackLimits.ratio_floor_bytes, ge=0)
    # A PDF with more scanned pages (pages without text) than this is refused, not read by OCR.
    ocr_max_pages: int = Field(default=UnpackLimits.ocr_pages, ge=0)
    # A PDF's page content may reach this much whatever its size (past it, max_ratio times
    # its size), and OCR reads at most one page per ocr_page_bytes of file (at least 4):
    # UnpackLimits says why.
    unpack_pdf_floor_bytes: int = Field(default=UnpackLimits.pdf_floor_bytes, ge=0)
    ocr_page_bytes: int = Field(default=UnpackLimits.ocr_page_bytes, ge=0)
    # Index a link in the documents folder whose target lies outside it. Off: a link to
    # /etc/os-release or someone's home folder must not end up quoted in answers.
    follow_symlinks: bool = False

    # Read-only: the web chat shows no upload or remove, and Assistant refuses both.
    read_only: bool = False

    # The OpenAI-compatible endpoint's bearer key: from ASSISTANT_API_KEY, or the first line
    # of the file ASSISTANT_API_KEY_FILE names. Never a command-line option: those show in
    # `ps` and shell history. Required whenever the server listens beyond loopback.
    # The same key is the web chat's password (for the user name ui_user) whenever it is
    # set: one secret protects the page, its /ask API and /v1.
    api_key: SecretStr | None = None
    api_key_file: Path | None = None
    ui_user: str = "assistant"
    # Failed logins (the web chat's /login, a wrong /v1 key) from one address: after
    # login_failures in a row the address is refused for login_lockout_seconds, doubled at
    # each further failure (at most an hour); failures older than login_window_seconds are
    # forgotten. Five guesses then a pause: guessing a key takes years, a typo costs 30 s.
    login_failures: int = Field(default=5, ge=1)
    login_lockout_seconds: float = Field(default=30.0, gt=0.0)
    login_window_seconds: float = Field(default=900.0, gt=0.0)
    # Proxies whose X-Forwarded-For header names the client (comma-separated addresses or
    # networks, e.g. "127.0.0.1" for a proxy on this machine; "*" trusts any). Empty: the
    # header is ignored and each connection's own address counts, so a client cannot dodge
    # the login throttle by naming a new address in every request.
    trusted_proxies: str = ""
    # One visitor's share of the server, by client address (read as the login throttle reads
    # it). Questions in flight (page, /ask and /v1 together): one more is refused at once
    # with 429, so a burst from one address cannot queue ahead of everyone else; 0: no limit.
    # Four: as many as the server answers at once (a burst beyond them only queues).
    questions_per_client: int = Field(default=4, ge=0)
    # Requests open at once from one address (Gradio's heartbeat and event streams stay open
    # for as long as a page is): one more gets 429 at once; 0: no limit. A browser holds a
    # few per tab; this leaves room for dozens of tabs, or people behind one address.
    requests_per_client: int = Field(default=128, ge=0)
    # Page events and API calls from one address waiting or running in the chat's queue at
    # once, questions included: one more gets 429 at once; 0: no limit. A page runs two or
    # three at once (loading, an upload, a question); removals and uploads take turns in one
    # slot for everyone, so an address queueing thousands of cheap ones held every visitor's.
    events_per_client: int = Field(default=32, ge=0)
    # Page sessions kept for one address (Gradio keeps up to 10,000 in all, under the names
    # their clients give): past this many, the address's oldest session is forgotten (a tab
    # a page loaded long ago; it starts afresh if used again); 0: no limit. A session that
    # listed the documents holds tens of KB, more with more documents.
    sessions_per_client: int = Field(default=100, ge=0)
    # Files sent to Gradio's upload route wait there, unsubmitted, for up to 15 minutes: in
    # all, and from one address, at most this many bytes (and 1,000 files an address)
    # before a further upload is refused with 413, before anything is written.
    upload_waiting_bytes: int = Field(default=1024 * 1024 * 1024, ge=1)
    upload_waiting_bytes_per_client: int = Field(default=256 * 1024 * 1024, ge=1)
    # An upload is not added when the disk of the documents folder (or of the index) would
    # be left with less than this free: uploads, each under every other limit, could
    # otherwise fill it, and the index's next write and every other program's with it.
    min_free_disk_bytes: int = Field(default=1024 * 1024 * 1024, ge=0)

    @property
    def unpack_limits(self) -> UnpackLimits:
        """The zip-bomb limits the loaders apply."""
        return UnpackLimits(
            self.unpack_max_bytes,
            self.unpack_max_ratio,
            self.unpack_ratio_floor_bytes,
            self.ocr_max_pages,
            self.unpack_pdf_floor_bytes,
            self.ocr_page_bytes,
        )

    @property
    def index_location(self) -> str | Path:
        """Where the index lives: the store URL when one is set, else index_dir."""
        return self.store if self.store else self.index_dir

    @model_validator(mode="before")
    @classmethod
    def _mode_from_llm(cls, data: Any) -> Any:
        # ASSISTANT_LLM=ollama:qwen2.5:7b alone is enough to answer with Ollama; an explicit
        # answer_mode (--mode extractive) still wins, keeping the model for when it is picked.
        if isinstance(data, dict) and data.get("llm") and not data.get("answer_mode"):
            from .llmspec import parse_llm

            try:
                provider = parse_llm(str(data["llm"])).provider
            except ValueError:
                return data  # the llm field's own validator words the error
            return {**data, "answer_mode": provider}
        return data

    @field_validator("llm")
    @classmethod
    def _known_llm(cls, value: str | None) -> str | None:
        from .llmspec import parse_llm

        if value is None or not value.strip():
            return None
        parse_llm(value)  # raises ValueError naming the accepted forms
        return value.strip()

    def llm_spec(self, provider: str) -> LLMSpec:
        """The model for an LLM answer mode: the one `llm` names when it is that provider's,
        else the provider's default.

        Example: Settings(llm="ollama:llama3.2").llm_spec("ollama") -> LLMSpec("ollama",
                 "llama3.2"); .llm_spec("openai") -> LLMSpec("openai", "gpt-4o-mini")
        """
        from .llmspec import parse_llm

        spec = parse_llm(self.llm) if self.llm else None
        return spec if spec is not None and spec.provider == provider else parse_llm(provider)
