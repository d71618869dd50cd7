#!/usr/bin/env bash
# Starts PostgreSQL and Redis for the test suite when they are not already answering, without
# systemd, and makes the role the suite connects as. Safe to run again.
set -euo pipefail
PGUSER_NAME=accord
PGPASS=accord

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "PostgreSQL is not installed: run scripts/system-deps.sh test" >&2; exit 1
fi
version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h 2>/dev/null | awk '{print $1" "$2}' | grep -qx "$version main"; then
  pg_createcluster "$version" main >/dev/null
fi
if ! pg_ctlcluster "$version" main status >/dev/null 2>&1; then
  pg_ctlcluster "$version" main start
fi
for _ in $(seq 1 30); do
  runuser -u postgres -- pg_isready -q && break
  sleep 0.5
done
runuser -u postgres -- psql -qtAc "SELECT 1 FROM pg_roles WHERE rolname='$PGUSER_NAME'" | grep -q 1 \
  || runuser -u postgres -- psql -qc "CREATE ROLE $PGUSER_NAME LOGIN CREATEDB PASSWORD '$PGPASS'"
runuser -u postgres -- psql -qtAc "SELECT 1 FROM pg_database WHERE datname='accord'" | grep -q 1 \
  || runuser -u postgres -- createdb -O "$PGUSER_NAME" accord

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  mkdir -p /tmp/accord-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --pidfile /tmp/accord-redis/redis.pid --logfile /tmp/accord-redis/redis.log
  for _ in $(seq 1 20); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.25; done
fi
echo "PostgreSQL $version and Redis are running."
