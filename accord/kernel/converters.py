"""What an address may carry: record ids and text that the database can look up.

Every URLconf captures ids with `<id:...>` and free text (tokens, record keys) with
`<text:...>`, never Django's `int`, `str` or `path`: `int` takes any number of digits, and a
number past the 64-bit range makes SQLite raise OverflowError; `str` and `path` take a NUL
character, which PostgreSQL refuses in any text. With these converters such an address matches
no page (404) instead of reaching a query the database cannot run.

`parse_id` is the same rule for ids that come in forms and posted values (accord.kernel.forms uses
it for every choice of a record). The converters are registered once, when the `accord`
package is imported, before any URLconf is read.
"""

from __future__ import annotations

import re
from typing import Any

from django.urls import register_converter
from django.urls.converters import get_converters

# The largest id PostgreSQL's bigint and SQLite's INTEGER hold (2**63 - 1).
MAX_ID = 9_223_372_036_854_775_807
_ID = re.compile(r"[0-9]{1,19}")


def parse_id(value: Any) -> int | None:
    """`value` as a record id when it is one the database can compare: ASCII digits only
    (not "²", not Arabic-Indic "١٢", no sign, no spaces), at most MAX_ID. None otherwise.
    Integers (not booleans) in that range are ids too."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= MAX_ID else None
    if not isinstance(value, str) or not _ID.fullmatch(value):
        return None
    number = int(value)
    return number if number <= MAX_ID else None


class IdConverter:
    """`<id:name>`: a record id in ASCII digits, at most MAX_ID; anything else is no match."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise ValueError(f"{value!r} is not a record id.")  # no match: 404
        return number

    def to_url(self, value: Any) -> str:
        number = parse_id(value)
        if number is None:
            raise ValueError(f"{value!r} is not a record id.")
        return str(number)


class TextConverter:
    """`<text:name>`: one path segment (no "/") without a NUL character."""

    regex = r"[^/\x00]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: Any) -> str:
        text = str(value)
        if not text or "/" in text or "\x00" in text:
            raise ValueError(f"{text!r} cannot be one segment of an address.")
        return text


CONVERTERS = {"id": IdConverter, "text": TextConverter}

for _name, _converter in CONVERTERS.items():
    if _name not in get_converters():
        register_converter(_converter, _name)
