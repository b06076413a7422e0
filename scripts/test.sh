#!/usr/bin/env bash
# The test suite on the real services: PostgreSQL, Redis, Celery workers, oxigraph servers, localstripe, Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services.sh
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/marketplace}"
export CELERY_BROKER_URL="${CELERY_BROKER_URL:-redis://127.0.0.1:6379/0}"
export SECRET_KEY="${SECRET_KEY:-tests-only-secret}"
VAR_DIR="$(mktemp -d /tmp/marketplace-tests.XXXXXX)"
export VAR_DIR
trap 'rm -rf "$VAR_DIR"' EXIT
.venv/bin/ruff check .
.venv/bin/python -m pytest -n 2 --dist loadfile "$@"
