"""Notes an app higher up puts on records of an app below it, without the one below knowing
it: a breach bringing an agreement's or a protocol's review forward, shown on the register
and the protocol's page.

An app registers a provider for a kind of record ("agreement", "protocol"): given record ids,
it answers {id: [note, ...]} in one query. Pages ask `notes(kind, ids)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

Provider = Callable[[list[int]], dict[int, list[str]]]
_providers: dict[str, list[Provider]] = {}


def register(kind: str, provider: Provider) -> None:
    _providers.setdefault(kind, []).append(provider)


def notes(kind: str, ids: Iterable[int]) -> dict[int, list[str]]:
    ids = [i for i in ids if i is not None]
    found: dict[int, list[str]] = {}
    if not ids:
        return found
    for provider in _providers.get(kind, []):
        for pk, texts in provider(ids).items():
            found.setdefault(pk, []).extend(texts)
    return found
