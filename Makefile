# Everything runs from the virtual environment in .venv/, created on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
ASL_VALIDATOR := asl-validator@4.0.0
# checkov has dependencies of its own that conflict with ours: it gets a venv of its own.
TOOLS := .venv-tools
CHECKOV := checkov==3.3.30
SAMPLE := samples/lease-agreement.pdf
export DOCPROC_HOME ?= .docproc

.PHONY: install run test lint unit integration e2e bench bench-quick clean

$(INSTALLED): pyproject.toml layers/docproc/requirements.txt layers/docproc/requirements-media.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(TOOLS)/.installed:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS)/bin/python -m pip install --quiet '$(CHECKOV)'
	touch $@

install: $(INSTALLED)

## The main job on the embedded defaults: ingest the bundled sample, then search it.
run: $(INSTALLED)
	$(BIN)/docproc ingest $(SAMPLE) --document-id lease-agreement
	$(BIN)/docproc search "when is the security deposit refunded" --top-k 1

## Lint, then the whole suite (unit, integration, e2e, benchmark harness smoke run).
test: lint
	$(BIN)/python -m pytest -q
	$(MAKE) bench-quick

lint: $(INSTALLED) $(TOOLS)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	for f in functions/*/app.py; do $(BIN)/mypy --strict --follow-imports=silent $$f || exit 1; done
	$(BIN)/cfn-lint template.yaml
	# IaC security scan; every skip is justified in template.yaml's Metadata. Offline, it only
	# warns that it cannot fetch guideline links.
	$(TOOLS)/bin/checkov --file template.yaml --framework cloudformation --quiet --compact 2>/dev/null
	$(TOOLS)/bin/checkov --file functions/Dockerfile --framework dockerfile --quiet --compact 2>/dev/null
	npx --yes $(ASL_VALIDATOR) --json-path statemachine/ingest.asl.json
	$(BIN)/python tools/check_substitutions.py

unit: $(INSTALLED)
	$(BIN)/python -m pytest -q tests/unit
integration: $(INSTALLED)
	$(BIN)/python -m pytest -q tests/integration
e2e: $(INSTALLED)
	$(BIN)/python -m pytest -q tests/e2e

## Benchmarks: `bench` is the full 1 GB run (local only), `bench-quick` the CI-sized one.
bench: $(INSTALLED)
	$(BIN)/python -m benchmarks.run --size full --write BENCHMARKS.md
bench-quick: $(INSTALLED)
	$(BIN)/python -m benchmarks.run --size quick

clean:
	rm -rf $(VENV) $(TOOLS) .docproc .pytest_cache .mypy_cache .ruff_cache .aws-sam
