"""The table of the database cache, where the sign-in and two-factor throttles keep their counts
(see CACHES in accord/settings.py): made by migrate, so that no deployment can forget it."""

from django.core.cache import caches
from django.core.cache.backends.db import BaseDatabaseCache
from django.core.management import call_command
from django.db import migrations


def _cache_tables() -> list[str]:
    return [
        cache._table
        for cache in (caches[alias] for alias in caches)
        if isinstance(cache, BaseDatabaseCache)
    ]


def create_cache_tables(apps, schema_editor) -> None:
    # Skips a table that exists already.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


def drop_cache_tables(apps, schema_editor) -> None:
    existing = set(schema_editor.connection.introspection.table_names())
    for table in _cache_tables():
        if table in existing:
            schema_editor.execute(f"DROP TABLE {schema_editor.quote_name(table)}")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(create_cache_tables, drop_cache_tables, elidable=False)]
