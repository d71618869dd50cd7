from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client, TestCase

from accord.celery import app as celery_app
from tenancy.roles import Role

from .factories import PartnershipFactory, make_member


@pytest.fixture(autouse=True)
def _eager_celery(settings):
    """Tasks run inline in most tests; tests that need a real worker start one."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _test_settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Static files straight from static/ (production serves the collected, hashed copies).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_AUTOREFRESH = True
    settings.WHITENOISE_USE_FINDERS = True
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture
def outbox():
    return mail.outbox


class CommittingClient(Client):
    """A test client whose every request commits, as it would in production: the e-mails a
    request stores in the outbox are then delivered (to mail.outbox) before it returns."""

    def request(self, **request):
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().request(**request)


@pytest.fixture
def committing_client():
    return CommittingClient()


@pytest.fixture
def alpha(db):
    """Partnership A, with people in every role."""
    return PartnershipFactory(name="Alpha Partnership", slug="alpha")


@pytest.fixture
def beta(db):
    """Partnership B: nobody in A should ever see a trace of it."""
    return PartnershipFactory(name="Beta Partnership", slug="beta")


@pytest.fixture
def alice(alpha):
    """Administrator of Alpha."""
    return make_member(alpha, Role.ADMINISTRATOR).user


@pytest.fixture
def bob(alpha):
    """Viewer in Alpha."""
    return make_member(alpha, Role.VIEWER).user


@pytest.fixture
def charlie(beta):
    """Administrator of Beta only."""
    return make_member(beta, Role.ADMINISTRATOR).user


@pytest.fixture(scope="session")
def _seal_certificate(tmp_path_factory):
    """One self-signed development seal for the whole run (making an RSA key takes time)."""
    from documents.seal import ensure_development_certificate

    folder = tmp_path_factory.mktemp("seal")
    cert, key = folder / "cert.pem", folder / "key.pem"
    ensure_development_certificate(cert, key)
    return cert, key


@pytest.fixture
def pdf_storage(settings, tmp_path, _seal_certificate):
    """Stored files under tmp_path and the test seal: for tests that store or seal PDFs."""
    cert, key = _seal_certificate
    settings.SEAL_CERTIFICATE_FILE = str(cert)
    settings.SEAL_KEY_FILE = str(key)
    media = tmp_path / "media"
    settings.MEDIA_ROOT = str(media)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(media)},
        },
    }
    return media
