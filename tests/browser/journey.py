"""A journey: one person's way through the site in the browser, every page checked by axe.

Move between pages through the journey, never the bare page:

    journey.visit("/partnerships/")                               # open an address
    journey.click(page.get_by_role("link", name="People"))         # follow a link
    journey.click(page.get_by_role("button", name="Save"))         # submit a form
    journey.back()                                                # the Back button
    journey.check()                                               # after an in-page change

`visit` and `click` wait for the new page and run axe on it. Whatever else loads a page
(a bare `page.goto`, a click that navigates, a `history.pushState`) is recorded too, and the
test fails at teardown if any page was never checked: conftest.py watches every test that
uses `page`, with or without `journey`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.test import Client
from playwright.sync_api import Frame, Locator, Page

from .accessibility import assert_accessible

# htmx marks the element making a request, and content being swapped or settled.
_HTMX_IDLE = (
    "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
)


@dataclass
class _Visit:
    url: str
    document: bool  # a page load, not a URL change within the page (history.pushState)
    checked: bool = False


def _without_fragment(url: str) -> str:
    return url.split("#", 1)[0]


class Journey:
    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url.rstrip("/")
        self.visits: list[_Visit] = []
        page.on("framenavigated", self._navigated)
        page.on("domcontentloaded", self._loaded)

    # Page loads and URL changes, as Playwright reports them: a load gives "framenavigated"
    # then "domcontentloaded"; pushState only "framenavigated". A form shown again at the same
    # address with its errors is a new load, so a new visit; a jump to a #fragment is not.

    def _navigated(self, frame: Frame) -> None:
        if frame.parent_frame is not None or frame.url == "about:blank":
            return
        url = _without_fragment(frame.url)
        if not self.visits or self.visits[-1].url != url:
            self.visits.append(_Visit(url, document=False))

    def _loaded(self, page: Page) -> None:
        url = _without_fragment(page.url)
        if url == "about:blank":
            return
        last = self.visits[-1] if self.visits else None
        if last and last.url == url and not last.document and not last.checked:
            last.document = True
        else:
            self.visits.append(_Visit(url, document=True))

    def url(self, path: str) -> str:
        return path if "://" in path else f"{self.base_url}{path}"

    def visit(self, path: str) -> Page:
        """Open an address (a path on the live server, or a full URL) and check the page."""
        self.page.goto(self.url(path))
        self.check()
        return self.page

    def click(self, target: Locator) -> Page:
        """Follow a link or press a button that loads another page, then check that page."""
        with self.page.expect_navigation():
            target.click()
        self.check()
        return self.page

    def back(self) -> Page:
        """The browser's Back button, then check the page it returns to."""
        self.page.go_back()
        self.check()
        return self.page

    def check(self) -> None:
        """Run axe on the page as it is now (once it has loaded and htmx has settled)."""
        self.page.wait_for_load_state("load")
        self.page.wait_for_function(_HTMX_IDLE)
        current = self.visits[-1] if self.visits else None
        try:
            assert_accessible(self.page)
        finally:
            if current:
                current.checked = True

    @property
    def page_views(self) -> int:
        """Pages loaded so far (a form shown again with its errors counts; htmx swaps and
        jumps to a #fragment do not)."""
        return sum(1 for visit in self.visits if visit.document)

    @property
    def unchecked(self) -> list[str]:
        return [visit.url for visit in self.visits if not visit.checked]

    def sign_in_as(self, user) -> None:
        """Start signed in, without the sign-in pages (their own journey covers them)."""
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        self.page.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": self.base_url}]
        )
