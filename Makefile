# Two entry points: `make run` (the app on the seed corpus) and `make test` (the whole suite).
# Both create .venv and install everything on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
BROWSER_STAMP := $(VENV)/.browser
HOST ?= 127.0.0.1
PORT ?= 7860

.PHONY: run test install browser index bench clean

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# torch first, pinned: 2.13.0 is a local CPU wheel; an unpinned torch pulls CUDA packages.
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e ".[ui,eval,train,milvus,test]"
	touch $(STAMP)

install: $(STAMP)

# Debian's Chromium for the browser test (Playwright's own browser download cannot work here).
$(BROWSER_STAMP):
	@if [ ! -x /usr/bin/chromium ]; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "warning: could not install chromium; browser tests will be skipped"; \
	fi
	touch $(BROWSER_STAMP)

browser: $(BROWSER_STAMP)

index: install
	$(VENV)/bin/qa index

# qa serve builds the index when it is missing and updates it when the corpus changed.
run: install
	$(VENV)/bin/qa serve --host $(HOST) --port $(PORT)

test: install browser
	$(PY) -m pytest

bench: install
	$(VENV)/bin/qa bench

clean:
	rm -rf $(VENV) index .pytest_cache
