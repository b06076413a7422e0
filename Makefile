# The README's two commands: `make run` (the whole product on embedded defaults) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test setup lint bench-ingest

$(VENV)/.installed: requirements.txt requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed

run: setup
	scripts/run.sh

test: setup
	scripts/test.sh

lint: setup
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

bench-ingest: setup
	$(PY) bench/ingest/run.py
