# Container Manager developer loop. Every target installs what it needs from this repo's own files.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Lambda runs python3.13; the dev venv uses the same interpreter so tests see the same language.
PY313 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13) $(shell command -v python3.13 2>/dev/null))
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Never let a developer's real AWS identity reach a test or a local tool.
SCRUB := env -u AWS_PROFILE -u AWS_DEFAULT_PROFILE -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
	-u AWS_SESSION_TOKEN -u AWS_SECURITY_TOKEN -u AWS_ENDPOINT_URL -u AWS_CONTAINER_CREDENTIALS_FULL_URI \
	-u AWS_CONTAINER_CREDENTIALS_RELATIVE_URI -u AWS_WEB_IDENTITY_TOKEN_FILE -u AWS_ROLE_ARN \
	AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
	SAM_CLI_TELEMETRY=0 PATH="$(CURDIR)/$(BIN):$$PATH"
TEMPLATES := template.yaml $(wildcard infra/*.yaml)

.PHONY: help venv lint typecheck cfn-lint sam-validate sam-build checkov unit test demo bench aws-contract clean

help:
	@echo "make demo   - rehearse the whole on-demand lifecycle locally (moto, real templates and handlers; docs/demo.md)"
	@echo "make test   - install dev tools into .venv (first run) and run every gate and test"
	@echo "make bench  - print start-system cold-import and warm-latency figures"
	@echo "make aws-contract - ask AWS (your credentials, free APIs) whether our offline matchers agree (docs/verify.md)"
	@echo "make clean  - remove build output and virtualenvs"

$(STAMP): pyproject.toml
	@test -n "$(PY313)" || { echo "python3.13 not found: install it (pyenv install 3.13) - Lambda runs 3.13"; exit 1; }
	@test -x $(BIN)/python || $(PY313) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

venv: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

cfn-lint: $(STAMP)
	$(SCRUB) $(BIN)/cfn-lint $(TEMPLATES) -a cfn_lint_serverless.rules

# Template gates (issue 3). sam checks only the root template; cfn-lint above checks every file.
sam-validate: $(STAMP)
	$(SCRUB) $(BIN)/sam validate --lint --region us-east-1

# Re-runs only when a template or function source changed (stamp file).
SAM_BUILT := .aws-sam/.built
$(SAM_BUILT): $(STAMP) $(TEMPLATES) $(shell find functions -type f -not -path '*/__pycache__/*' 2>/dev/null)
	$(SCRUB) $(BIN)/sam build --region us-east-1
	@touch $@

sam-build: $(SAM_BUILT)

# checkov lives in its own virtualenv, installed from requirements-checkov.txt (pinned).
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
PY_CHECKOV ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.11*/bin/python3.11) $(shell command -v python3.11 2>/dev/null) $(shell command -v python3 2>/dev/null))

$(CHECKOV_STAMP): requirements-checkov.txt
	@test -x $(CHECKOV_VENV)/bin/python || $(PY_CHECKOV) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	@touch $@

checkov: $(CHECKOV_STAMP)
	$(SCRUB) $(CHECKOV_VENV)/bin/checkov --skip-download --quiet --compact --framework cloudformation \
		$(addprefix -f ,$(TEMPLATES))

unit: $(STAMP)
	$(SCRUB) $(BIN)/pytest

# The two virtualenvs install in parallel (2 cores); the gates then run in order, cheapest first.
test:
	@$(MAKE) --no-print-directory -j2 $(STAMP) $(CHECKOV_STAMP)
	@$(MAKE) --no-print-directory lint typecheck cfn-lint sam-validate sam-build checkov unit

# The local rehearsal (issue 5): no AWS account, no Docker, no network. Exits non-zero when a check fails.
demo: $(STAMP)
	$(SCRUB) $(BIN)/python -m container_manager.rehearsal

bench: $(STAMP)
	$(SCRUB) $(BIN)/python scripts/bench_start_system.py

# Opt-in, never part of `make test`: it needs YOUR credentials, so it runs without $(SCRUB) - and never in CI.
aws-contract: $(STAMP)
	@test "$$CI" != true || { echo "aws-contract: refusing to run under CI=true (it calls real AWS)"; exit 2; }
	$(BIN)/python -m container_manager.contract

clean:
	rm -rf .aws-sam $(VENV) .venv-checkov .pytest_cache .mypy_cache .ruff_cache
