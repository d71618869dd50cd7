"""The database refuses to change audit entries, and on PostgreSQL to delete them too.

(SQLite's test flush deletes rows one table at a time, so there only updates are refused;
PostgreSQL's flush truncates, which row triggers do not see.)
"""

from django.db import migrations

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION tenancy_auditentry_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'Audit entries cannot be changed or deleted';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER tenancy_auditentry_no_update BEFORE UPDATE OR DELETE ON tenancy_auditentry
    FOR EACH ROW EXECUTE FUNCTION tenancy_auditentry_immutable();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS tenancy_auditentry_no_update ON tenancy_auditentry;
DROP FUNCTION IF EXISTS tenancy_auditentry_immutable();
"""
SQLITE_UP = """
CREATE TRIGGER tenancy_auditentry_no_update BEFORE UPDATE ON tenancy_auditentry
BEGIN SELECT RAISE(ABORT, 'Audit entries cannot be changed'); END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS tenancy_auditentry_no_update;"


def up(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_UP)


def down(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_DOWN)


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0001_initial")]
    operations = [migrations.RunPython(up, down)]
