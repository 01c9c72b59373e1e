# Billy's developer entry points: this Makefile is the repo's `script/` folder.
# `make demo` talks to Billy end to end; `make test` runs every test. Both set themselves up first.

VENV ?= .venv
PYTHON := $(VENV)/bin/python
BILLY := $(VENV)/bin/billy
QUESTION ?=

.PHONY: setup test test-python lint format demo bench clean

setup: $(VENV)/.setup-done

$(VENV)/.setup-done: app/pyproject.toml requirements-dev.txt scripts/install-system-packages.sh
	sh scripts/install-system-packages.sh
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -r requirements-dev.txt
	touch $@

test: test-python

test-python: setup
	$(PYTHON) -m pytest tests

lint: setup
	$(VENV)/bin/ruff check app tests
	$(VENV)/bin/ruff format --check app tests

format: setup
	$(VENV)/bin/ruff format app tests
	$(VENV)/bin/ruff check --fix app tests

demo: setup
	@echo "make demo: not yet - the conversation runtime lands with issue 3"

clean:
	rm -rf out .cache .pytest_cache
