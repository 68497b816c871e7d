"""HTTP side of webhook delivery: POST claimed deliveries, signed, with bounded concurrency and one deadline."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from greenline.webhooks.signing import SIGNATURE_HEADER, sign

CONCURRENCY = 10
TIMEOUT_SECONDS = 10.0
EXCERPT_CHARS = 500
_EXCERPT_BYTES = 4 * EXCERPT_CHARS
USER_AGENT = "Greenline-Webhooks/1"

Clock = Callable[[], dt.datetime]


@dataclass(frozen=True)
class Claimed:
    """A delivery this worker holds until `lease_until`, with everything needed to send it."""

    delivery_id: int
    tenant_id: int
    url: str
    secret: str | None
    event_type: str
    body: bytes
    attempts: int
    lease_until: dt.datetime


@dataclass(frozen=True)
class Outcome:
    claimed: Claimed
    attempted_at: dt.datetime
    status_code: int | None
    duration_ms: int
    error: str | None
    excerpt: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def _read_excerpt(response: httpx.Response) -> str:
    # Read only the start of the body: a receiver cannot make us buffer a huge response.
    data = b""
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) >= _EXCERPT_BYTES:
            break
    return data.decode("utf-8", errors="replace")[:EXCERPT_CHARS]


async def _send_one(client: httpx.AsyncClient, item: Claimed, clock: Clock) -> Outcome:
    attempted_at = clock()
    if item.secret is None:
        return Outcome(
            item, attempted_at, None, 0, "the signing secret cannot be decrypted with the configured keys", None
        )
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Greenline-Event": item.event_type,
        "X-Greenline-Delivery": str(item.delivery_id),
        SIGNATURE_HEADER: sign(item.secret, item.body, int(attempted_at.timestamp())),
    }
    started = time.perf_counter()
    status_code: int | None = None
    excerpt: str | None = None
    try:
        # One deadline for the whole exchange: httpx's timeouts are per operation, so a receiver
        # trickling bytes could otherwise hold a worker far past its lease.
        async with (
            asyncio.timeout(TIMEOUT_SECONDS),
            client.stream("POST", item.url, content=item.body, headers=headers) as response,
        ):
            status_code = response.status_code
            excerpt = await _read_excerpt(response)
        error = None if 200 <= status_code < 300 else f"HTTP {status_code}"
    except (TimeoutError, httpx.TimeoutException):
        error = f"timed out after {TIMEOUT_SECONDS:g} s"
    except Exception as exc:  # noqa: BLE001 - whatever one receiver does is that receiver's failed attempt
        error = f"{type(exc).__name__}: {exc}"
    duration_ms = int((time.perf_counter() - started) * 1000)
    return Outcome(item, attempted_at, status_code, duration_ms, error[:500] if error else None, excerpt or None)


async def send_all(items: list[Claimed], clock: Clock) -> list[Outcome]:
    """POST every claimed delivery, at most CONCURRENCY at a time."""
    limit = asyncio.Semaphore(CONCURRENCY)

    async def bounded(client: httpx.AsyncClient, item: Claimed) -> Outcome:
        async with limit:
            return await _send_one(client, item, clock)

    async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client:
        return list(await asyncio.gather(*(bounded(client, item) for item in items)))
