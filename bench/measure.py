"""Query counts and in-process latency of pages through django.test.Client."""

from __future__ import annotations

import gc
import re
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext


@dataclass
class Capture:
    status: int
    queries: list[str]
    size: int

    @property
    def count(self) -> int:
        return len(self.queries)


@dataclass
class Timing:
    samples_ms: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def minimum(self) -> float:
        return min(self.samples_ms)

    @property
    def p90(self) -> float:
        return statistics.quantiles(self.samples_ms, n=10)[-1]


def _get(client: Client, url: str):
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}, not 200")
    return response


def capture(client: Client, url: str) -> Capture:
    """The queries one request runs (after a warm-up request, so caches are as in use)."""
    _get(client, url)
    with CaptureQueriesContext(connection) as ctx:
        response = _get(client, url)
    return Capture(
        response.status_code, [q["sql"] for q in ctx.captured_queries], len(response.content)
    )


_NUMBER = re.compile(r"\b\d+(?:\.\d+)?\b")
_STRING = re.compile(r"'(?:[^']|'')*'")


def shape(sql: str) -> str:
    """The query with its literal values taken out, so repeats of one query compare equal."""
    return _NUMBER.sub("?", _STRING.sub("?", sql))


def growing_shapes(small: list[str], large: list[str]) -> list[tuple[str, int, int]]:
    """Query shapes run more often on the large page than on the small: where an N+1 is."""
    at_small, at_large = Counter(map(shape, small)), Counter(map(shape, large))
    return [(s, at_small[s], n) for s, n in at_large.most_common() if n != at_small[s]] + [
        (s, n, 0) for s, n in at_small.items() if s not in at_large
    ]


def latencies(
    client: Client, urls: dict[str, str], requests: int, warmup: int
) -> dict[str, Timing]:
    """Median-ready samples for each URL, requests interleaved so drift hits all alike."""
    for _ in range(warmup):
        for url in urls.values():
            _get(client, url)
    gc.collect()
    timings = {label: Timing() for label in urls}
    order = list(urls.items())
    for i in range(requests):
        # Alternate the order too, so no page always runs straight after the same one.
        for label, url in order if i % 2 == 0 else reversed(order):
            start = time.perf_counter()
            _get(client, url)
            timings[label].samples_ms.append((time.perf_counter() - start) * 1000)
    return timings
