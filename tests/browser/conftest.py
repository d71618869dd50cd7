"""Browser tests: Playwright drives the system Chromium against Django's live server.

Never run `playwright install`: the browser is Debian's /usr/bin/chromium.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.test import override_settings
from playwright.sync_api import expect

from .journey import Journey

# The ORM is called from tests while Playwright's event loop runs in the same thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# Two busy cores in CI: give assertions longer than Playwright's 5 s before they fail.
expect.set_options(timeout=10_000)

HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.browser_call_passed = report.passed
    return report


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": CHROMIUM_FLAGS,
    }


@pytest.fixture(scope="session")
def _live_server_settings():
    """Settings the live server's middleware reads once, when the server starts (before the
    per-test `settings` fixture of tests/conftest.py applies): plain HTTP, and static files
    from the finders rather than a collected var/static."""
    override = override_settings(
        SECURE_SSL_REDIRECT=False, WHITENOISE_AUTOREFRESH=True, WHITENOISE_USE_FINDERS=True
    )
    override.enable()
    yield
    override.disable()


@pytest.fixture(scope="session")
def live_server(_live_server_settings, live_server):
    return live_server


@pytest.fixture(scope="session")
def base_url(live_server):
    return live_server.url


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-GB", "timezone_id": "Europe/London"}


# Every page reports what its Content-Security-Policy blocked as a console message too.
_WATCH_CSP = """document.addEventListener("securitypolicyviolation", (e) => console.error(
  `Content Security Policy violation: ${e.effectiveDirective} blocked ${e.blockedURI}`
  + ` at ${e.sourceFile}:${e.lineNumber}`));"""


@pytest.fixture
def journey(page, base_url, request):
    """The browser session of one person; see journey.py. Fails the test if it reached a page
    that axe never checked, or if the Content-Security-Policy blocked anything on a page."""
    blocked: list[str] = []
    page.add_init_script(_WATCH_CSP)
    page.on(
        "console",
        lambda message: (
            blocked.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    journey = Journey(page, base_url)
    yield journey
    if blocked:
        pytest.fail(
            "The Content-Security-Policy blocked something:\n"
            + "\n".join(f"- {line}" for line in dict.fromkeys(blocked)),
            pytrace=False,
        )
    missed = journey.unchecked
    if missed and getattr(request.node, "browser_call_passed", False):
        pytest.fail(
            "These pages were reached without an accessibility check (go through "
            "journey.visit / journey.click, or call journey.check() after the change):\n"
            + "\n".join(f"- {url}" for url in missed),
            pytrace=False,
        )


@pytest.fixture(autouse=True)
def _page_is_watched(request):
    """A test that drives the bare `page` still gets the journey's check for unchecked pages."""
    if "page" in request.fixturenames:
        request.getfixturevalue("journey")
