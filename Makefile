# Two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PORT ?= 5000
FLASK = $(VENV)/bin/flask --app app
AXE = tests/browser/node_modules/axe-core/axe.min.js

.PHONY: install demo test clean

$(VENV)/.installed: pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed

# axe-core (accessibility checks in the browser tests), pinned by package-lock.json.
$(AXE): tests/browser/package.json tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund --silent
	touch $@

demo: install
	$(FLASK) db upgrade
	$(FLASK) demo load --if-empty
	@echo "Lägesbild: http://127.0.0.1:$(PORT)/"
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

test: install $(AXE)
	$(VENV)/bin/ruff check --no-cache .
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) tests/browser/node_modules .pytest_cache test-artifacts build
