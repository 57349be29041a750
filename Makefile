# Two commands for a fresh machine (Python 3.11):
#   make demo   renders sketches/aurora.art to out/aurora.png (creates .venv first)
#   make test   runs the test suite
PYTHON ?= python3.11
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

CHROMIUM ?= /usr/bin/chromium

.PHONY: demo test install browser bench docs clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) (set PYTHON=...)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/artlang render sketches/aurora.art -o out/aurora.png
	@echo "wrote out/aurora.png"

test: $(STAMP) browser
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

# The preview's browser test drives Debian's chromium (Playwright's own browser download is not
# used). Installed here when missing and we are root; otherwise that one test is skipped (outside CI).
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium for the browser test (apt-get)"; \
	    apt-get update -qq >/dev/null && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	  else echo "no $(CHROMIUM): the preview's browser test will be skipped (apt-get install chromium)"; fi; \
	fi

# Peers the benchmarks compare with that are not in the dev extra: pyfastnoisesimd ships only its
# source and needs numpy's headers to build (about a minute), so it is built here, for `make bench`
# only, without build isolation.
BENCH_PEERS = $(VENV)/.bench-peers
$(BENCH_PEERS): $(STAMP)
	$(BIN)/python -m pip install --quiet --no-build-isolation pyfastnoisesimd==0.4.2
	touch $(BENCH_PEERS)

bench: $(BENCH_PEERS)
	$(BIN)/python benchmarks/noise.py
	$(BIN)/python benchmarks/filters.py
	$(BIN)/python benchmarks/cold_start.py
	$(BIN)/python benchmarks/first_render.py
	$(BIN)/python benchmarks/watch.py
	$(BIN)/python benchmarks/export.py
	$(BIN)/python benchmarks/large_image.py

docs: $(STAMP)
	$(BIN)/python tools/make_docs.py

clean:
	rm -rf $(VENV) out
