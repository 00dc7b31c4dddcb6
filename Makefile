# Two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PORT ?= 5000
OIDC_PORT ?= 5001
FLASK = $(VENV)/bin/flask --app app
AXE = tests/browser/node_modules/axe-core/axe.min.js

.PHONY: install demo test clean lock

# The exact versions of requirements.lock (with their hashes), then the app itself: a fresh
# install on another day gets what was tested. pyproject.toml keeps the ranges.
$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet --require-hashes -r requirements.lock
	$(VENV)/bin/python -m pip install --quiet --no-deps -e .
	touch $@

install: $(VENV)/.installed

# axe-core (accessibility checks in the browser tests), pinned by package-lock.json.
$(AXE): tests/browser/package.json tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund --silent
	touch $@

# The app, and beside it the demo's own OpenID Connect provider (app/demo/oidc_provider.py, on
# 127.0.0.1 only), which runs `flask run` with the LAGESBILD_OIDC_* settings for itself:
# Ctrl-C stops both.
demo: install
	$(FLASK) db upgrade
	$(FLASK) demo load --if-empty
	@echo "Lägesbild: http://127.0.0.1:$(PORT)/ (demo identity provider on port $(OIDC_PORT))"
	$(VENV)/bin/python -m app.demo.oidc_provider --port $(OIDC_PORT) -- \
	    $(FLASK) run --host 127.0.0.1 --port $(PORT)

test: install $(AXE)
	$(VENV)/bin/ruff check --no-cache .
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

# After changing a dependency in pyproject.toml: pin every package anew, with hashes.
lock:
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	test -x $(VENV)/bin/pip-compile || $(VENV)/bin/python -m pip install --quiet pip-tools
	$(VENV)/bin/pip-compile --quiet --generate-hashes --extra test --strip-extras --allow-unsafe \
	    -o requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) tests/browser/node_modules .pytest_cache test-artifacts build
