"""Comparing two versions of a protocol section by section, word by word."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .models import ProtocolVersion, Section

# Beyond this many words a section is compared line by line: word-level matching is
# quadratic and a long section would hold the page up.
WORD_LIMIT = 20_000
_TOKENS = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True)
class SectionChange:
    kind: str  # "added", "removed", "changed" or "unchanged"
    title: str
    old_title: str
    html: SafeString  # the text with <del>/<ins> marks (escaped)

    @property
    def label(self) -> str:
        return {
            "added": "Added",
            "removed": "Removed",
            "changed": "Changed",
            "unchanged": "Unchanged",
        }[self.kind]


def _mark(tag: str, css: str, hidden: str, text: str) -> str:
    if not text:
        return ""
    return (
        f'<{tag} class="{css}"><span class="govuk-visually-hidden">{hidden} </span>'
        f'{escape(text)}<span class="govuk-visually-hidden"> end of {hidden}</span></{tag}>'
    )


def word_diff(before: str, after: str) -> SafeString:
    """`after` with removed words in <del> and added words in <ins>, all text escaped."""
    old, new = _TOKENS.findall(before), _TOKENS.findall(after)
    if len(old) + len(new) > WORD_LIMIT:
        old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    out: list[str] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out.append(escape("".join(old[i1:i2])))
            continue
        out.append(_mark("del", "accord-diff-before", "removed:", "".join(old[i1:i2])))
        out.append(_mark("ins", "accord-diff-after", "added:", "".join(new[j1:j2])))
    return mark_safe("".join(out))  # noqa: S308  (every piece of text escaped above)


def _key(section: Section) -> str:
    return " ".join(section.title.lower().split())


def compare(old: ProtocolVersion, new: ProtocolVersion) -> list[SectionChange]:
    """The sections of `new` in order, each marked against the section of `old` with the same
    title; sections only `old` has are shown as removed where they used to be."""
    old_sections = list(Section.objects.filter(version=old).order_by("position", "id"))
    new_sections = list(Section.objects.filter(version=new).order_by("position", "id"))
    waiting: dict[str, list[Section]] = {}
    for section in old_sections:
        waiting.setdefault(_key(section), []).append(section)
    matches: dict[int, Section | None] = {}
    for section in new_sections:
        queue = waiting.get(_key(section))
        matches[section.pk] = queue.pop(0) if queue else None
    matched = {m.pk for m in matches.values() if m is not None}
    old_index = {s.pk: i for i, s in enumerate(old_sections)}
    removed = [s for s in old_sections if s.pk not in matched]

    changes: list[SectionChange] = []

    def flush_removed(before: int) -> None:
        while removed and old_index[removed[0].pk] < before:
            gone = removed.pop(0)
            changes.append(
                SectionChange("removed", gone.title, gone.title, word_diff(gone.body, ""))
            )

    for section in new_sections:
        match = matches[section.pk]
        if match is None:
            changes.append(SectionChange("added", section.title, "", word_diff("", section.body)))
            continue
        flush_removed(old_index[match.pk])
        if match.title == section.title and match.body == section.body:
            kind, text = "unchanged", mark_safe(escape(section.body))  # noqa: S308
        else:
            kind, text = "changed", word_diff(match.body, section.body)
        changes.append(SectionChange(kind, section.title, match.title, text))
    flush_removed(len(old_sections))
    return changes
