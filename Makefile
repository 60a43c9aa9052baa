# The two commands of the quick start: `make run` and `make test` (see PRODUCT.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test lint bench soak screenshots clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Kinko needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: $(VENV)/.installed
	$(BIN)/python manage.py migrate --no-input -v 0
	$(BIN)/python manage.py bootstrap
	$(BIN)/python manage.py serve --port $(PORT)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Then again on a throwaway PostgreSQL cluster (tests/postgres.py): the domain and worker tests, and the protocol
# tests whose outcome the database decides (races, listing order, multipart, copy, SSE, objects, KMS, CAM).
PG_TESTS := tests/buckets tests/keys tests/core tests/gate tests/workers \
	tests/protocol/test_write_races.py tests/protocol/test_get_bucket.py tests/protocol/test_multipart.py \
	tests/protocol/test_copy.py tests/protocol/test_sse.py tests/protocol/test_objects.py \
	tests/protocol/test_kms.py tests/protocol/test_cam.py tests/protocol/test_nul_characters.py

test: $(VENV)/.installed-test lint
	KINKO_DATA_DIR=$$(mktemp -d) $(BIN)/python -m pytest $(PYTEST_ARGS)
	KINKO_TEST_DATABASE=postgres KINKO_DATA_DIR=$$(mktemp -d) $(BIN)/python -m pytest $(PG_TESTS) $(PYTEST_ARGS)

# Rewrites docs/screenshots/*.png from the browser tests; `make test` never writes them.
screenshots: $(VENV)/.installed-test
	KINKO_SCREENSHOTS=1 KINKO_DATA_DIR=$$(mktemp -d) $(BIN)/python -m pytest tests/browser -q $(PYTEST_ARGS)

bench: $(VENV)/.installed-test
	$(BIN)/python bench/objects.py
	$(BIN)/python bench/backends.py --large-mib 256
	$(BIN)/python bench/sse.py
	$(BIN)/python bench/kms.py
	$(BIN)/python bench/rotation.py
	$(BIN)/python bench/uploads.py

# A node under 16 clients, mixed operations in every SSE mode, 5 minutes (SOAK_SECONDS=60 for a short one).
soak: $(VENV)/.installed-test
	$(BIN)/python bench/soak.py --seconds $${SOAK_SECONDS:-300}

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
