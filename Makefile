# grantpath: `make run` serves the demo, `make test` runs every test.
SHELL := /bin/bash
# The first Python >= 3.11 that really runs (pyenv shims may exist without one).
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
  $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := app

.PHONY: run test lint check bench audit clean system-deps venv

# Debian packages the app and its tests need (WeasyPrint's Pango, pdftoppm for
# looking at PDFs, Chromium for the browser tests; Playwright's own browser
# download is not used). Installed only when missing.
system-deps:
	@missing=""; \
	ldconfig -p | grep -q libpango-1.0 || missing="$$missing libpango-1.0-0 libpangoft2-1.0-0"; \
	command -v pdftoppm >/dev/null || missing="$$missing poppler-utils"; \
	fc-list | grep -qi dejavu || missing="$$missing fonts-dejavu-core"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing system packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "Please install:$$missing (apt-get install ...)"; exit 1; fi; \
	fi

$(STAMP): pyproject.toml
	@$(MAKE) --no-print-directory system-deps
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is needed"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/grantpath db upgrade
	$(BIN)/grantpath demo load
	$(BIN)/grantpath users ensure-admin
	$(BIN)/grantpath serve

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

check: lint test

# Benchmarks against the quality bars (DESIGN.md section 6); not part of `make test`.
bench: $(STAMP)
	$(BIN)/python -m tests.bench.run

# Load test on loopback: gunicorn + locust, 60 s per engine (SQLite, and PostgreSQL
# when TEST_DATABASE_URL is set); fails on any error. Not part of `make test`.
.PHONY: loadtest
loadtest: $(STAMP)
	$(BIN)/python -m tests.load.run $(LOADTEST_ARGS)

# Known vulnerabilities in the installed packages (pip-audit, PyPI's advisory data).
# Needs internet, so it is not part of `make check` or CI; run it before a release
# and on a schedule. pip-audit lives in a venv of its own, so that its dependencies
# neither change the app's nor join what is audited; it reads the exact versions
# installed in .venv (pip freeze) and resolves nothing. AUDIT_ARGS passes options,
# e.g. AUDIT_ARGS="--ignore-vuln GHSA-..." for an advisory that was assessed.
AUDIT_VENV := $(VENV)/audit-tool
audit: $(STAMP)
	@test -x $(AUDIT_VENV)/bin/pip-audit || { $(BIN)/python -m venv $(AUDIT_VENV) && \
	  $(AUDIT_VENV)/bin/python -m pip install -q pip-audit; }
	$(BIN)/python -m pip freeze --all --exclude-editable > $(VENV)/audit-requirements.txt
	$(AUDIT_VENV)/bin/pip-audit --strict --no-deps --disable-pip --progress-spinner off \
	  -r $(VENV)/audit-requirements.txt $(AUDIT_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache test-artifacts
