# Offbrand's commands. `make run` and `make test` are the two that matter:
# each installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1:8000

.PHONY: run test install install-dev lint check clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "Offbrand needs Python 3.12 or newer (Django 6); found " + sys.version.split()[0] + ". With pyenv, the .python-version file selects 3.13.")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt

install-dev: $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt

# Install, migrate, seed the roles and serve the site on the embedded default.
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_roles
	$(BIN)/python manage.py runserver $(HOST)

# Install the test tools and run the whole suite (browser tests need Chromium:
# apt-get install -y chromium; without it they are skipped with that message).
test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/bandit -q -r accounts offbrand -x accounts/migrations -ll

check: install-dev
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py check

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles
