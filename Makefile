# Two entry points for a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export CZMAP_DATA_DIR ?= data

.PHONY: run test test-fast lint build vendor clean

$(BIN)/czmap: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(CZMAP_DATA_DIR)/layers/manifest.json: $(BIN)/czmap $(wildcard layers/*.toml) geodata/sources.toml
	$(BIN)/czmap geodata build

app/static/vendor/.stamp: app/static/vendor.txt scripts/vendor-assets.sh
	./scripts/vendor-assets.sh

vendor: app/static/vendor/.stamp

build: $(CZMAP_DATA_DIR)/layers/manifest.json

run: build vendor
	$(BIN)/czmap serve --host $(HOST) --port $(PORT)

test: $(BIN)/czmap vendor
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

test-fast: $(BIN)/czmap
	$(BIN)/python -m pytest -m "not layers and not postgis and not browser" $(PYTEST_ARGS)

lint: $(BIN)/czmap
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(CZMAP_DATA_DIR)
