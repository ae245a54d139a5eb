# Two commands for a newcomer: `make run` and `make test`. Both set up what is missing first.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: setup run test lint bench central clean i18n

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/setup-system.sh
	bash scripts/setup-system.sh
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: setup
	$(BIN)/kiosk run

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

bench: setup
	$(BIN)/python -m bench

central: setup
	$(BIN)/kiosk central

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache var/

# After changing UI text in kiosk/views.py: refresh the catalogues, then translate the new entries.
i18n: setup
	$(BIN)/pybabel extract --no-location --omit-header -k N_ -k _ -o kiosk/locale/kiosk.pot kiosk/views.py kiosk/views_apply.py kiosk/view_parts.py kiosk/capture_prompts.py kiosk/flows/ kiosk/views_maintenance.py kiosk/maintenance/ kiosk/diag/selftest.py kiosk/diag/checks.py
	$(BIN)/pybabel update --omit-header --no-fuzzy-matching -D kiosk -i kiosk/locale/kiosk.pot -d kiosk/locale
