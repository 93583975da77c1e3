# Two commands for people (see README): `make run` and `make test`. Everything else supports them.
SHELL := /bin/bash
# The default python3, unless this user cannot run it (here it lives under /root, mode 700):
# then Debian's, which any user can run.
PYTHON ?= $(shell python3 -c '' 2>/dev/null && echo python3 || echo /usr/bin/python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run worker test test-rootless setup setup-dev browser-deps node-deps service-deps db lint \
	bench bench-check translations messages

## Create or refresh .venv from the pinned runtime requirements, migrate, import content, serve.
## As root, the web processes run as the unprivileged `mlquiz` and only the grader service keeps
## root; as anyone else, grading runs rootless in the web process (see scripts/run.sh, README).
run: setup translations
	HOST=$(HOST) PORT=$(PORT) VENV=$(VENV) scripts/run.sh

## A grader worker for the scaled-out setup (README "Scaling out"): reads DATABASE_URL and
## GRADER_BROKER_URL; one Celery thread per sandbox slot (GRADER_SLOTS, default: the CPU count).
worker: setup
	$(BIN)/celery -A quiz.worker worker --pool threads --concurrency $${GRADER_SLOTS:-$$(nproc)} \
		--prefetch-multiplier 1 --queues grading --without-gossip --without-mingle --loglevel info

## Create or refresh .venv with test tools, install the browser, lint, type-check, run the whole suite on
## SQLite, then again on a private PostgreSQL cluster (with Redis for the distributed tests;
## tests/services.py starts both in a temporary folder and stops them however pytest ends),
## then the sandbox suite once more in rootless mode (as `nobody`, with Debian's python3).
test: setup-dev browser-deps node-deps service-deps translations
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest
	$(BIN)/python -m tests.services -- $(BIN)/pytest
	scripts/test-rootless.sh

test-rootless:
	scripts/test-rootless.sh

$(BIN)/python:
	@# Debian's python3 needs python3-venv for `-m venv`; install it when missing.
	$(PYTHON) -m venv $(VENV) 2>/dev/null || { rm -rf $(VENV); \
		apt-get update -qq && apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.installed

## Both also compile the project's bytecode: the web user may not write __pycache__ into the
## checkout, and a cold `python -m engine grade` would otherwise compile what it imports each time.
setup: $(VENV)/.installed
	$(BIN)/python -m compileall -q app.py quiz engine
setup-dev: $(VENV)/.installed-dev
	$(BIN)/python -m compileall -q app.py quiz engine

## Debian chromium and a CJK font for the Playwright tests (skipped when present).
browser-deps:
	@if [ ! -x /usr/bin/chromium ] || [ ! -d /usr/share/fonts/truetype/wqy ] || [ ! -e /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei fonts-noto-color-emoji; \
	fi

## Debian's nodejs, which runs the vendored KaTeX over every formula in tests/quiz/test_math_renders.py.
node-deps:
	@if [ ! -x /usr/bin/node ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs; \
	fi

## Compile the gettext catalogues (quiz/translations/*/LC_MESSAGES/*.po -> .mo; .mo is not committed).
translations: setup
	$(BIN)/python -m quiz.i18n

## Refresh the catalogue after wrapping new strings, then translate the new msgids in en/.../messages.po.
POT := quiz/translations/messages.pot
messages: setup-dev
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ --no-location --sort-output -o $(POT).new .
	@# Keep the template when nothing but its creation date changed: no churn in git.
	@if diff -q -I '^"POT-Creation-Date:' $(POT) $(POT).new >/dev/null 2>&1; \
		then rm $(POT).new; else mv $(POT).new $(POT); fi
	@# `update` takes no --no-location (the template has no locations, so neither has the .po);
	@# width 100 is the width the hand-written translations are wrapped at.
	$(BIN)/pybabel update -i $(POT) -d quiz/translations --width 100 --ignore-pot-creation-date

## Debian PostgreSQL and Redis for the second test pass (skipped when present; started by tests).
service-deps:
	@if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || ! command -v redis-server >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql redis-server; \
	fi

db: setup
	$(FLASK) db upgrade
	$(FLASK) content sync

lint: setup-dev
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
	$(BIN)/mypy

bench: setup-dev
	$(BIN)/python bench/grading.py
	$(BIN)/python bench/srs_simulation.py
	$(BIN)/python bench/review_throughput.py
	$(BIN)/python bench/progress.py
	$(BIN)/python bench/diagnosis.py
	$(BIN)/python bench/interview.py
	$(BIN)/python bench/hot_paths.py
	$(BIN)/python bench/scaling.py

## Quick runs of the benchmarks that exit non-zero when a target is missed (see bench/README.md).
## Not part of `make test` (CI): timings need a quiet machine, and this takes a few minutes.
BENCH_CHECKS := "-m doctest bench/stats.py" "bench/srs_simulation.py --quick --check-queue" \
	"bench/review_throughput.py --quick" "bench/progress.py --quick" "bench/diagnosis.py --quick" \
	"bench/interview.py" "bench/hot_paths.py --quick"
bench-check: setup-dev
	@status=0; for check in $(BENCH_CHECKS); do \
		echo "== python $$check"; $(BIN)/python $$check || { status=1; echo "== FAILED: $$check"; }; \
	done; exit $$status
