from django.core.management.base import BaseCommand

from documents.seal import ensure_development_certificate, seal_files


class Command(BaseCommand):
    help = "Create a self-signed certificate for sealing PDFs in development, where missing."
    # It makes the very files the documents.W001 check looks for.
    requires_system_checks: list[str] = []

    def handle(self, *args, **options) -> None:
        cert_path, key_path = seal_files()
        existed = cert_path.exists() and key_path.exists()
        ensure_development_certificate()
        verb = "Already present" if existed else "Created"
        self.stdout.write(f"{verb}: certificate {cert_path}, key {key_path}")
