"""The database refuses to change audit entries (and, on PostgreSQL, to delete them)."""

from django.db import migrations

from accord.kernel.db import refuse_changes


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0001_initial")]
    operations = [refuse_changes("tenancy_auditentry")]
