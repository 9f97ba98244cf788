# Huquq: `make run` serves the app on SQLite; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run serve test test-fast lint bench bench-pages loadtest loginflood install install-dev messages clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Huquq needs Python 3.11 or newer (found: $$($(PYTHON) --version))." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

# Compiled message catalogues are built here, never committed.
CATALOGUES := $(patsubst %.po,%.mo,$(wildcard translations/*/LC_MESSAGES/messages.po))
translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BIN)/pybabel compile -d translations -l $*

install: $(VENV)/.installed $(CATALOGUES)
install-dev: $(VENV)/.installed-dev $(CATALOGUES)

## messages: extract the interface's strings and merge them into the catalogues
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ --sort-by-file --project Huquq --copyright-holder Huquq -w 100 -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete -w 100

## run: install, migrate the database (SQLite in instance/ unless DATABASE_URL says otherwise), serve
run: install
	$(FLASK) db upgrade
	$(FLASK) run --host $(HOST) --port $(PORT)

## serve: production serving with gunicorn, threaded workers (see README)
serve: install
	$(FLASK) db upgrade
	$(BIN)/gunicorn --config gunicorn.conf.py wsgi:app

# Tests run in parallel with pytest-xdist, WORKERS at once (each with its own databases, ports
# and instance folders); tests sharing a browser or a served instance stay on one worker
# (tests/parallel.py).
WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -n $(WORKERS)

## test: install, make sure a browser is there, run the whole suite (what CI runs)
test: install-dev
	scripts/ensure-chromium
	$(PYTEST) $(PYTEST_ARGS)

## test-fast: the inner loop: everything but the browser and the slow served tests
test-fast: install-dev
	$(PYTEST) -m "not browser and not slow" $(PYTEST_ARGS)

## bench: speed against baselines measured in the same run (CASES=…, BENCH_DATABASE_URL=…)
bench: install-dev
	$(BIN)/python bench/run.py $(CASES)

## bench-pages: requests a second of a coordinator's pages on gunicorn (20,000 cases) against /healthz (SECONDS a page, default 8)
bench-pages: install-dev
	$(BIN)/python bench/pages.py $(or $(SECONDS),8)

## loadtest: gunicorn, 8 people at once on SQLite for DURATION seconds (default 60); every write checked afterwards
loadtest: install-dev
	$(BIN)/python scripts/loadtest.py $(DURATION)

## loginflood: 24 connections flood the login of gunicorn (production argon2 costs) for SECONDS (20); pages, notes and memory quiet and flooded (BACKEND=sqlite|postgresql)
loginflood: install-dev
	$(BIN)/python bench/login_flood.py $(or $(SECONDS),20) 24 $(or $(BACKEND),sqlite)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache
