from django.db import migrations

from accord.kernel.db import refuse_changes


class Migration(migrations.Migration):
    dependencies = [("documents", "0001_initial")]
    operations = [refuse_changes("documents_frozendocument")]
