"""Create and drop the benchmark's own database, beside the one DATABASE_URL names."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import environ
import psycopg2
from psycopg2 import sql

BENCH_DB_NAME = "accord_bench"


def bench_url(database_url: str, name: str = BENCH_DB_NAME) -> str:
    """DATABASE_URL with its database name replaced."""
    parts = urlsplit(database_url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql", "psql"}:
        raise SystemExit(f"The benchmark needs PostgreSQL; DATABASE_URL is {parts.scheme}://")
    return urlunsplit(parts._replace(path=f"/{name}"))


def _admin_connection(database_url: str):
    """A connection to the server (to the URL's own database, else `postgres`), autocommit."""
    config = environ.Env.db_url_config(database_url)
    params = {
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
    }
    last_error: Exception | None = None
    for dbname in (config.get("NAME"), "postgres"):
        if not dbname:
            continue
        try:
            conn = psycopg2.connect(dbname=dbname, **params)
        except psycopg2.OperationalError as exc:
            last_error = exc
            continue
        conn.autocommit = True
        return conn
    raise SystemExit(f"Cannot connect to PostgreSQL at DATABASE_URL: {last_error}")


def drop(database_url: str, name: str = BENCH_DB_NAME) -> None:
    conn = _admin_connection(database_url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
    finally:
        conn.close()


def create(database_url: str, name: str = BENCH_DB_NAME) -> None:
    """A fresh, empty database (any leftover from an interrupted run is dropped first)."""
    drop(database_url, name)
    conn = _admin_connection(database_url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        conn.close()
