#!/usr/bin/env bash
# The web server on 127.0.0.1:8000 and, beside it, a Celery worker with the periodic
# scheduler embedded. Without REDIS_URL they talk through var/celery (nothing to install).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
mkdir -p var/celery
.venv/bin/celery -A accord worker --beat --pool=solo --concurrency=1 --without-gossip \
  --without-mingle --without-heartbeat --loglevel=INFO \
  --schedule=var/celery/beat-schedule >var/celery/worker.log 2>&1 &
worker=$!
trap 'kill $worker 2>/dev/null || true; wait $worker 2>/dev/null || true' EXIT INT TERM
echo "Celery worker and scheduler running (pid $worker, log: var/celery/worker.log)."
echo "Accord: http://127.0.0.1:8000  (stop with Ctrl+C)"
$PY manage.py runserver 127.0.0.1:8000
