# Accord: `make run` to try it, `make test` to run the whole suite. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# Development defaults for `make run` (override in the environment or in .env).
RUN_ENV := DEBUG=1
# What the suite runs against: real PostgreSQL and Redis, started by scripts/test-services.sh.
TEST_DATABASE_URL ?= postgres://accord:accord@127.0.0.1:5432/accord
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
TEST_ENV := SECRET_KEY=test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz \
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL)
PROD_CHECK_ENV := DEBUG=0 SECRET_KEY=$$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=') \
	ALLOWED_HOSTS=accord.example.org SITE_URL=https://accord.example.org

.PHONY: run test install system-deps services lint check bench vendor clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

run: $(STAMP)
	@bash scripts/system-deps.sh run
	@mkdir -p var
	$(RUN_ENV) $(PY) manage.py migrate --noinput -v0
	$(RUN_ENV) $(PY) manage.py seed_demo
	@$(RUN_ENV) bash scripts/run.sh

system-deps:
	@bash scripts/system-deps.sh test

services: system-deps
	@bash scripts/test-services.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

check: $(STAMP) services
	$(TEST_ENV) $(PY) manage.py makemigrations --check --dry-run
	@# A throwaway seal, so the check of the seal's files (documents.W001) has files to find.
	seal=$$(mktemp -d) && trap 'rm -rf "$$seal"' EXIT && \
	export SEAL_CERTIFICATE_FILE="$$seal/cert.pem" SEAL_KEY_FILE="$$seal/key.pem" && \
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(PROD_CHECK_ENV) \
		$(PY) manage.py make_seal_certificate && \
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(PROD_CHECK_ENV) \
		$(PY) manage.py check --deploy --fail-level WARNING
	$(PY) -c "import yaml,sys; d=yaml.safe_load(open('docker-compose.yml')); assert {'web','worker','beat','db','redis'} <= set(d['services']), d['services'].keys(); print('docker-compose.yml parses')"

test: $(STAMP) services node_modules/.package-lock.json lint check
	@echo "== Smoke run on the embedded default (SQLite, no broker)"
	SECRET_KEY=smoke-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz \
		$(PY) -m pytest -q -m "smoke or sqlite"
	@echo "== The whole suite on PostgreSQL and Redis"
	$(TEST_ENV) $(PY) -m pytest -q

bench: $(STAMP) services
	$(TEST_ENV) $(PY) -m bench

vendor: node_modules/.package-lock.json
	npx sass --no-source-map --style=compressed --load-path=node_modules --quiet-deps \
		--silence-deprecation=import,global-builtin static/scss/accord.scss static/css/accord.css
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js static/vendor/
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/

clean:
	rm -rf var/celery var/accord.sqlite3
