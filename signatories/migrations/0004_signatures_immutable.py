from django.db import migrations

from accord.kernel.db import refuse_changes


class Migration(migrations.Migration):
    dependencies = [("signatories", "0003_authorisedsignatory_signaturerequest_signature_and_more")]
    operations = [refuse_changes("signatories_signature")]
