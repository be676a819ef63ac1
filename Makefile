# The front door: `make run` serves the course, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= $(shell for p in python3.13 python3.12 python3 python; do command -v $$p >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test test-system test-cluster cluster serve bench check-python migrations-check clean

check-python:
	@$(PYTHON) -c 'import sys; v = sys.version_info; sys.exit(0 if v >= (3, 12) else "Hormones & Bone needs Python 3.12 or newer, but $(PYTHON) is %d.%d.%d. Install 3.12+ or run: make PYTHON=/path/to/python3.12 ..." % v[:3])'

$(BIN)/.installed: requirements.txt | check-python
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

# Test tools (Playwright, axe, textstat) only for the targets that need them.
$(BIN)/.installed-dev: $(BIN)/.installed requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

run: $(BIN)/.installed
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py import_content
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

migrations-check: $(BIN)/.installed
	$(BIN)/python manage.py makemigrations --check --dry-run

# Unit, page and browser tests, on as many processes as there are cores.
test: $(BIN)/.installed-dev migrations-check
	$(BIN)/python -m pytest -n auto $(PYTEST_ARGS)

# The tests that start real commands and servers: make serve, gunicorn under load.
test-system: $(BIN)/.installed-dev
	$(BIN)/python -m pytest --system $(PYTEST_ARGS)

# The cross-server tests (tests/test_cluster.py) against a throwaway cluster.
test-cluster: $(BIN)/.installed-dev
	$(BIN)/python -m pytest --cluster $(PYTEST_ARGS)

# nginx (TLS) -> two gunicorn app servers -> PostgreSQL + Redis on loopback, until Ctrl-C.
cluster: $(BIN)/.installed
	$(BIN)/python deploy/cluster.py

# Production settings on http://127.0.0.1:$(PORT) (needs DJANGO_SECRET_KEY). DJANGO_HTTPS=0:
# plain http on loopback, no SSL redirect or Secure cookies; behind a proxy leave it unset.
SERVE_ENV := DJANGO_DEBUG=0 DJANGO_HTTPS=0 PORT=$(PORT)
serve: $(BIN)/.installed
	$(SERVE_ENV) $(BIN)/python manage.py collectstatic --no-input -v0
	$(SERVE_ENV) $(BIN)/python manage.py migrate --no-input
	$(SERVE_ENV) $(BIN)/python manage.py import_content
	$(SERVE_ENV) $(BIN)/python -m gunicorn -c deploy/gunicorn.conf.py hormonebone.wsgi -b 127.0.0.1:$(PORT)

bench: $(BIN)/.installed-dev
	$(BIN)/python -m tests.bench
	@echo "Soak: 8 learners answering for $${SOAK_SECONDS:-30} s under gunicorn (fails on any 5xx or lost answer)"
	SOAK_SECONDS=$${SOAK_SECONDS:-30} $(BIN)/python -m pytest -q -s -p no:cacheprovider --system tests/test_load.py -k soak

clean:
	rm -rf $(VENV) staticfiles staticfiles-manifest var .pytest_cache
