"""Reading pages in tests: what a person reads on a page, the errors a form shows, the messages
a page confirms with, and the rows of a summary list in a browser.

The functions take the response of django.test.Client and return strings, so that a test can
assert what the person sees; `summary` takes a Playwright page and returns a locator.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.http import HttpResponse
    from playwright.sync_api import Locator, Page

# Not read as the page's wording: scripts, styles, and what a text box holds (the form's
# content, like an <input>'s value, which goes with its tag).
_NOT_READ = re.compile(r"<(script|style|textarea)\b.*?</\1>", flags=re.S)
_TAG = re.compile(r"<[^>]+>")


def _read(markup: str) -> str:
    """The text of a piece of HTML: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(_TAG.sub(" ", markup)).split())


def page_text(response: HttpResponse) -> str:
    """What a person reads on the page: tags dropped, entities decoded, spaces collapsed.

    Scripts and styles are left out, and so is what the form's fields hold (the value of an
    <input> and the text in a <textarea>): read those with the form's values instead."""
    return _read(_NOT_READ.sub(" ", response.content.decode()))


def page_html(response: HttpResponse) -> str:
    """The page's HTML with its entities decoded, to look for wording and markup alike."""
    return html.unescape(response.content.decode())


def field_error(response: HttpResponse, field: str) -> str:
    """The error message shown by one field of the form ('' if none).

    The GOV.UK error message of a field has the id "id_<field>-error" ("item-<field>-error" on
    a data item form); a group of fields the
    template lays out itself (checkboxes, a fieldset) may use "<field>-error"."""
    match = re.search(
        rf'<p class="govuk-error-message" id="(?:id_|item-)?{field}-error">(.*?)</p>',
        response.content.decode(),
        flags=re.S,
    )
    return _read(match.group(1)) if match else ""


def form_errors(response: HttpResponse, field: str) -> list[str]:
    """The errors the page's form (the view's `form`) has for one field ([] if none)."""
    return response.context["form"].errors.get(field, [])


def messages_of(response: HttpResponse) -> list[str]:
    """The messages (django.contrib.messages) the page shows, in order ([] if none)."""
    return [str(m) for m in response.context["messages"]] if response.context else []


def summary(within: Page | Locator, key: str) -> Locator:
    """The value in the summary list row with this key, on a page or within a part of it."""
    page = getattr(within, "page", within)  # `has` locators are made from the page
    key_cell = page.locator("dt", has_text=re.compile(rf"^\s*{re.escape(key)}\s*$"))
    return within.locator(".govuk-summary-list__row").filter(has=key_cell).locator("dd").first
