# Two commands for a fresh machine (only Python, pip and gcc needed):
#   make demo   set up a local virtual environment and run the demo on the embedded database
#   make test   set up the same environment and run the tests (embedded PostgreSQL by default;
#               set IUCUT_TEST_DSN to run the database tests against another server)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast test-citus lint typecheck bench clean

# setup.py and the C sources too: pip builds the compiled cutter core (and iucut._stat)
# into the checkout.
$(STAMP): pyproject.toml setup.py $(wildcard src/iucut/cut/ccore/*) $(wildcard src/iucut/statcore/*)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/iucut demo

test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

# The tests on a local Citus cluster (coordinator + 2 workers, tests/citus): Citus is
# built into the system PostgreSQL 15 first (about 10 minutes once, then a no-op).
test-citus: $(STAMP)
	bash ../shared/vendor/citus/build.sh
	$(BIN)/python -m pytest -q -m citus tests/citus $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python bench/cut_bench.py
	$(BIN)/python bench/apply_bench.py
	$(BIN)/python bench/sync_bench.py

clean:
	rm -rf $(VENV) .venv-3.* build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
	rm -f src/iucut/cut/_core.*.so src/iucut/_stat.*.so

# Regenerate the README tour's console blocks from a real run (tests/cli/test_readme_tour.py)
# after an intended change of the output; review `git diff README.md` afterwards.
# Regenerate src/iucut/sql/schema.sql, the current definitions, from a fresh migration
# (tests/db/test_schema_file.py); review `git diff src/iucut/sql/schema.sql` afterwards.
.PHONY: schema
schema: $(STAMP)
	-IUCUT_SCHEMA_REGEN=1 $(BIN)/python -m pytest -q tests/db/test_schema_file.py
	$(BIN)/python -m pytest -q tests/db/test_schema_file.py

.PHONY: readme
readme: $(STAMP)
	-IUCUT_README_REGEN=1 $(BIN)/python -m pytest -q tests/cli/test_readme_tour.py
	$(BIN)/python -m pytest -q tests/cli/test_readme_tour.py
