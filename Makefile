# Every target bootstraps .venv first: on a fresh machine `make run` and `make test` are the whole set-up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export THIRDSPACE_ENVIRONMENT ?= development

.PHONY: run test test-postgres lint typecheck pytest browser vendor bench e2e screenshots clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(eval export THIRDSPACE_PUBLIC_URL ?= http://127.0.0.1:$(or $(PORT),8000))
	$(BIN)/thirdspace migrate
	$(BIN)/thirdspace demo
	$(BIN)/thirdspace serve --host $${HOST:-127.0.0.1} --port $${PORT:-8000}

lint: $(STAMP)
	$(BIN)/ruff check app tests bench migrations scripts
	$(BIN)/ruff format --check app tests bench migrations scripts

typecheck: $(STAMP)
	$(BIN)/mypy

browser:
	bash scripts/ensure-chromium.sh

pytest: $(STAMP) browser
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck pytest

# The same suite on PostgreSQL: each run makes its own database on 127.0.0.1:5432 and drops it.
test-postgres: $(STAMP) browser
	$(BIN)/pytest --database postgres $(PYTEST_ARGS)

e2e: $(STAMP) browser
	$(BIN)/pytest tests/e2e $(PYTEST_ARGS)

vendor:
	bash scripts/vendor.sh

screenshots: $(STAMP) browser
	$(BIN)/python scripts/screenshots.py

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
