"""Database-level protection for records that must never change once written."""

from django.db import migrations

_PG_UP = """
CREATE OR REPLACE FUNCTION accord_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'Rows of % cannot be changed or deleted', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION accord_refuse_change();
"""
_PG_DOWN = "DROP TRIGGER IF EXISTS {table}_no_change ON {table};"
# SQLite's test flush deletes rows table by table, so there only updates are refused;
# PostgreSQL's flush truncates, which row triggers do not see.
_SQLITE_UP = """
CREATE TRIGGER {table}_no_change BEFORE UPDATE ON {table}
BEGIN SELECT RAISE(ABORT, 'Rows of {table} cannot be changed'); END;
"""
_SQLITE_DOWN = "DROP TRIGGER IF EXISTS {table}_no_change;"


def refuse_changes(table: str) -> migrations.RunPython:
    """A migration operation making the database refuse UPDATE (and DELETE) on `table`."""

    def up(apps, schema_editor):
        sql = {"postgresql": _PG_UP, "sqlite": _SQLITE_UP}.get(schema_editor.connection.vendor)
        if sql:
            schema_editor.execute(sql.format(table=table), params=None)

    def down(apps, schema_editor):
        sql = {"postgresql": _PG_DOWN, "sqlite": _SQLITE_DOWN}.get(schema_editor.connection.vendor)
        if sql:
            schema_editor.execute(sql.format(table=table), params=None)

    return migrations.RunPython(up, down)
