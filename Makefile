# Bostad först – tasks. `make` alone lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PORT ?= 8000
export PIP_DISABLE_PIP_VERSION_CHECK := 1

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# The packages come from the hashed lock (requirements/, `make lock`), so a
# developer, CI and the image (runtime.lock) install the same files. pip's hash
# mode refuses any file or dependency the lock does not name. The project itself
# is not installed: it is no importable package (pyproject: packages = []).
# Nothing is fetched while the lock is older than .installed.
$(VENV)/.installed: requirements/dev.lock
	@command -v python3 >/dev/null || { echo "python3 (3.11 or later) is required"; exit 1; }
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade "pip>=25.3"
	$(PIP) install -q --require-hashes -r requirements/dev.lock
	touch $@

venv: $(VENV)/.installed ## Create .venv and install the locked packages (requirements/dev.lock)

# uv resolves for every platform (--universal, markers kept) from Python 3.11 up,
# whoever runs it; a pin already in the lock is kept unless LOCK_ARGS=--upgrade
# (or --upgrade-package NAME). runtime.lock (the image) is held to dev.lock's pins.
LOCK_ARGS ?=
LOCK := $(VENV)/bin/uv pip compile pyproject.toml --universal --python-version 3.11 \
	--generate-hashes --custom-compile-command "make lock" --quiet $(LOCK_ARGS)

lock: ## Resolve pyproject.toml into requirements/dev.lock and runtime.lock (LOCK_ARGS=--upgrade: newest)
	@test -x $(VENV)/bin/uv || $(MAKE) venv
	$(LOCK) --extra dev -o requirements/dev.lock
	$(LOCK) -c requirements/dev.lock -o requirements/runtime.lock

# PyPI's vulnerability data by default; .ci/run names the service that answers it.
PIP_AUDIT_ARGS ?=
audit: venv ## Check the locked packages for known vulnerabilities (pip-audit)
	$(VENV)/bin/pip-audit --strict --disable-pip --require-hashes -r requirements/dev.lock \
	  --progress-spinner off $(PIP_AUDIT_ARGS)

pango: ## Check that WeasyPrint's system libraries (Pango) are installed
	@ldconfig -p 2>/dev/null | grep -q 'libpango-1.0.so' && ldconfig -p | grep -q 'libpangoft2-1.0.so' || { \
	  echo "WeasyPrint needs Pango. Install it with:"; \
	  echo "  sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0"; exit 1; }

.env: ## Write a local .env with a generated SECRET_KEY and demo password (first run only)
	@umask 077; { \
	  echo "SECRET_KEY=$$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')"; \
	  echo "ALLOWED_HOSTS=127.0.0.1,localhost"; \
	  echo "DJANGO_DEBUG=true"; \
	  echo "DEMO_MODE=true"; \
	  echo "OTP_REQUIRED_FOR_PRIVILEGED=false"; \
	  echo "DEMO_PASSWORD=$$(python3 -c 'import secrets; print(secrets.token_urlsafe(12))')"; \
	} > .env; echo "Wrote .env (local settings, ignored by git)."

run: venv pango .env ## Set up (SQLite, in-process Celery, demo data) and serve on 127.0.0.1:$(PORT)
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py seed_demo  # prints the password it set (DEMO_PASSWORD: environment, else .env)
	@echo "Open http://127.0.0.1:$(PORT)/ and log in as enhetschef (or socialsekreterare, boendestodjare, admin)."
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

test: venv pango ## Run the whole test suite (SQLite; PostgreSQL with DATABASE_URL)
	$(VENV)/bin/pytest -n $${PYTEST_WORKERS:-2} -q

lint: venv ## Ruff lint and format check, migrations up to date
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	SECRET_KEY=lint ALLOWED_HOSTS=x $(PY) manage.py makemigrations --check --dry-run

messages: venv ## Update and compile the Swedish translation catalogs
	$(PY) manage.py makemessages -l sv --ignore=.venv --ignore=benchmarks --ignore=tests
	$(PY) manage.py compilemessages --ignore=.venv

worker: venv ## Run a Celery worker and beat (needs REDIS_URL)
	$(VENV)/bin/celery -A bostadforst worker -B -l info

benchmark: venv ## Run the retention benchmark (slow; see README, Performance)
	$(PY) benchmarks/retention.py

benchmark-pages: venv ## Page latency at N = 100 and 10,000 on PostgreSQL with gunicorn and wrk (slow; README, Performance)
	$(PY) benchmarks/pages.py

# Backups (README, "Drift"): PostgreSQL through DATABASE_URL, the media folder.
BACKUP_DIR ?= backups
MEDIA_ROOT ?= media

backup: ## Dump PostgreSQL (DATABASE_URL, pg_dump -Fc) and MEDIA_ROOT into BACKUP_DIR
	@[[ "$$DATABASE_URL" == postgres*://* ]] || { echo "Set DATABASE_URL to the PostgreSQL database."; exit 1; }
	@mkdir -p "$(BACKUP_DIR)" && chmod 700 "$(BACKUP_DIR)"
	@set -euo pipefail; umask 077; stamp=$$(date -u +%Y%m%dT%H%M%SZ); \
	  pg_dump --format=custom --dbname="$$DATABASE_URL" --file="$(BACKUP_DIR)/db-$$stamp.dump"; \
	  if [ -d "$(MEDIA_ROOT)" ]; then tar -czf "$(BACKUP_DIR)/media-$$stamp.tar.gz" -C "$(MEDIA_ROOT)" .; \
	  else tar -czf "$(BACKUP_DIR)/media-$$stamp.tar.gz" --files-from /dev/null; fi; \
	  echo "Backup $$stamp: $(BACKUP_DIR)/db-$$stamp.dump, $(BACKUP_DIR)/media-$$stamp.tar.gz"

restore: ## Restore backup STAMP from BACKUP_DIR over DATABASE_URL and MEDIA_ROOT (CONFIRM=yes)
	@[[ "$$DATABASE_URL" == postgres*://* ]] || { echo "Set DATABASE_URL to the PostgreSQL database."; exit 1; }
	@[ -n "$(STAMP)" ] && [ -f "$(BACKUP_DIR)/db-$(STAMP).dump" ] || { echo "Set STAMP to a backup in $(BACKUP_DIR): $$(ls $(BACKUP_DIR) 2>/dev/null | sed -n 's/^db-\(.*\)\.dump$$/\1/p' | tr '\n' ' ')"; exit 1; }
	@[ "$(CONFIRM)" = yes ] || { echo "This replaces the database and $(MEDIA_ROOT). Run again with CONFIRM=yes."; exit 1; }
	pg_restore --clean --if-exists --no-owner --no-privileges --exit-on-error --single-transaction \
	  --dbname="$$DATABASE_URL" "$(BACKUP_DIR)/db-$(STAMP).dump"
	@set -euo pipefail; if [ -d "$(MEDIA_ROOT)" ]; then mv "$(MEDIA_ROOT)" "$(MEDIA_ROOT).before-$(STAMP)"; \
	  echo "The media folder before the restore: $(MEDIA_ROOT).before-$(STAMP)"; fi; \
	  mkdir -p "$(MEDIA_ROOT)" && tar -xzf "$(BACKUP_DIR)/media-$(STAMP).tar.gz" -C "$(MEDIA_ROOT)"
	@echo "Restored $(STAMP). As the owner, run manage.py db_app_role again (the grants), then verify_access_log."

clean: ## Remove the virtual environment and local database
	rm -rf $(VENV) db.sqlite3 staticfiles

.PHONY: help venv lock audit pango run test lint messages worker benchmark benchmark-pages clean backup restore
