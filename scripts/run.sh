#!/usr/bin/env bash
# Runs the whole product on embedded defaults: SQLite, a file-system Celery broker with a real worker,
# local file storage, demo data. Stop with Ctrl-C (the worker stops with it).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBUG="${DEBUG:-1}"
PY=.venv/bin/python
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"

$PY manage.py migrate --noinput -v0
$PY manage.py load_demo

mkdir -p var/log
# a thread pool cannot kill a task: the worker computes answers in a child process it can kill
MARKET_WORKER_EVALUATES_APART=1 setsid $PY -m celery -A config worker --beat --schedule "var/celerybeat-schedule" --loglevel=INFO --concurrency=2 --pool=threads >var/log/worker.log 2>&1 &
WORKER=$!
trap 'kill -TERM -- -$WORKER 2>/dev/null || kill $WORKER 2>/dev/null; wait $WORKER 2>/dev/null' EXIT INT TERM
echo "Worker started (log: var/log/worker.log). Web: http://$HOST:$PORT/"
$PY manage.py runserver "$HOST:$PORT" --noreload
