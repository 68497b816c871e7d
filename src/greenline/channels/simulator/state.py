"""One simulated business number: its limits, feedback, quality rating and account standing.

Not thread-safe on its own: `SimulatedNetwork` holds its lock around every call.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from greenline.channels.simulator import payloads
from greenline.channels.simulator.clock import to_datetime
from greenline.channels.simulator.limits import BurstMeter, FeedbackWindow, ReachWindow, TokenBucket
from greenline.channels.simulator.params import SimulatorParams


@dataclass(frozen=True)
class NumberStatus:
    """A snapshot of one simulated number, for the channel's `connection()` and for tests."""

    status: str  # connected / restricted / banned / logged_out
    quality_rating: str  # GREEN / YELLOW / RED
    messaging_limit: int | None
    throughput_mps: int
    reached_24h: int
    restricted_until: dt.datetime | None


class NumberState:
    """Everything the network remembers about one business number."""

    def __init__(
        self,
        number_id: str,
        display: str,
        params: SimulatorParams,
        now: float,
        *,
        waba_id: str,
        throughput_mps: int | None,
        messaging_limit: int | None,
        warmup_started_at: float | None,
    ) -> None:
        self.number_id = number_id
        self.display = display
        self.waba_id = waba_id
        self.params = params
        self.warmup_started_at = now if warmup_started_at is None else warmup_started_at
        self.throughput_mps = throughput_mps or params.throughput_mps
        self.messaging_limit = messaging_limit
        self.throughput = TokenBucket(self.throughput_mps, self.throughput_mps, now)
        self.pairs: dict[str, TokenBucket] = {}
        self.reach = ReachWindow()
        self.csw: dict[str, float] = {}  # recipient digits -> service window open until
        self.blocked: set[str] = set()
        self.opted_out: set[str] = set()  # stopped marketing with WhatsApp's own control (131050)
        self.feedback = FeedbackWindow(params.quality_window_s, params.quality_half_life_s)
        self.burst = BurstMeter()
        self.rating = "GREEN"
        self.red_since: float | None = None
        self.restricted_until: float | None = None
        self.restrictions = 0
        self.restricted_attempts = 0
        self.banned = False
        self.logged_out = False
        self.upgrade_at: float | None = None
        self.last_eval = now
        self.accepts = 0
        self.outbox: list[tuple[float, dict[str, Any]]] = []  # quality updates waiting for the scheduler

    # -- standing ---------------------------------------------------------------------------------

    @property
    def restricted(self) -> bool:
        return self.restricted_until is not None

    def account_status(self) -> str:
        """connected / restricted / banned / logged_out, as `ConnectionState.status` names them."""
        if self.banned:
            return "banned"
        if self.logged_out:
            return "logged_out"
        return "restricted" if self.restricted else "connected"

    def snapshot(self, now: float) -> NumberStatus:
        until = self.restricted_until
        return NumberStatus(
            status=self.account_status(),
            quality_rating=self.rating,
            messaging_limit=self.messaging_limit,
            throughput_mps=self.throughput_mps,
            reached_24h=self.reach.count(now),
            restricted_until=None if until is None else to_datetime(until),
        )

    def _signal(self, event: str, at: float) -> None:
        self.outbox.append((at, payloads.quality_update(self.display, event, self.messaging_limit, self.rating)))

    def refresh(self, now: float) -> None:
        """Apply what time alone changes: restriction end, a due limit upgrade, a periodic quality check."""
        if self.restricted_until is not None and now >= self.restricted_until and not self.banned:
            ended, self.restricted_until = self.restricted_until, None
            self.restricted_attempts = 0
            if self.rating == "RED":
                self.red_since = ended  # a fresh sustained period is needed before the next restriction
            self._signal("UNRESTRICTED", ended)
        if self.upgrade_at is not None and now >= self.upgrade_at:
            due, self.upgrade_at = self.upgrade_at, None
            if self.rating != "RED":
                self.messaging_limit = self.params.next_tier(self.messaging_limit)
                self._signal("UPGRADE", due)
        if now - self.last_eval >= self.params.quality_eval_interval_s:
            self.evaluate(now)

    def evaluate(self, now: float) -> None:
        """Recompute the quality rating and act on it (flag, restrict, ban, auto-scale)."""
        p = self.params
        self.last_eval = now
        rate = self.feedback.rate(now, p.quality_prior_messages, p.quality_prior_rate)
        rating = p.rating_for(rate)
        if rating != self.rating:
            was_red = self.rating == "RED"
            self.rating = rating
            if rating == "RED":
                self.red_since = now
                self._signal("FLAGGED", now)
            else:
                self.red_since = None
                self._signal("UNFLAGGED" if was_red else "QUALITY_CHANGED", now)
        if (
            p.enforce_quality
            and self.red_since is not None
            and not self.restricted
            and not self.banned
            and now - self.red_since >= p.restrict_after_red_s
        ):
            self.restrict(now)
        self._consider_upgrade(now)

    def _consider_upgrade(self, now: float) -> None:
        p = self.params
        limit = self.messaging_limit
        if not p.auto_scale or limit is None or limit < 2_000 or self.upgrade_at is not None or self.rating == "RED":
            return
        if self.reach.peak(now, p.auto_scale_lookback_s) >= limit * p.auto_scale_usage:
            self.upgrade_at = now + p.auto_scale_delay_s

    def restrict(self, now: float) -> None:
        """Restrict business-initiated sending for a while, or ban after repeated restrictions."""
        self.restrictions += 1
        if self.restrictions >= self.params.ban_after_restrictions:
            self.ban(now)
            return
        self.restricted_until = now + self.params.restriction_s
        self.restricted_attempts = 0
        self._signal("RESTRICTED", now)

    def ban(self, now: float) -> None:
        if not self.banned:
            self.banned = True
            self.restricted_until = None
            self._signal("BANNED", now)

    def attempt_while_restricted(self, now: float) -> None:
        """Count a business-initiated send refused for the restriction; ban the number that keeps trying."""
        self.restricted_attempts += 1
        if self.restricted_attempts >= self.params.ban_after_restricted_attempts:
            self.ban(now)

    # -- limits -----------------------------------------------------------------------------------

    def check_limits(self, to: str, now: float, *, in_window: bool) -> tuple[int, str, float] | None:
        """Take throughput and pair tokens and count the reach; (code, message, wait) when refused (§8.1)."""
        if not self.throughput.take(now):
            wait = self.throughput.wait(now)
            return 130429, "Rate limit hit: Cloud API message throughput has been reached", wait
        pair = self.pair_bucket(to, now)
        if not pair.take(now):
            return 131056, "Pair rate limit hit: too many messages to this recipient", pair.wait(now)
        if in_window:
            return None
        limit = self.messaging_limit
        if limit is not None and not self.reach.contains(to, now) and self.reach.count(now) >= limit:
            message = f"Messaging limit reached: at most {limit} unique users outside a service window in 24 hours"
            return self.params.messaging_limit_code, message, self.reach.next_free_at(now) - now
        self.reach.add(to, now)
        return None

    # -- housekeeping -----------------------------------------------------------------------------

    def pair_bucket(self, recipient: str, now: float) -> TokenBucket:
        bucket = self.pairs.get(recipient)
        if bucket is None:
            p = self.params
            bucket = self.pairs[recipient] = TokenBucket(p.pair_burst, 1.0 / p.pair_refill_s, now)
        return bucket

    def in_window(self, recipient: str, now: float) -> bool:
        return self.csw.get(recipient, 0.0) > now

    def open_window(self, recipient: str, at: float) -> None:
        """A user message opens (or resets) the 24 h customer service window (§3.5)."""
        until = at + self.params.csw_s
        if until > self.csw.get(recipient, 0.0):
            self.csw[recipient] = until

    def prune(self, now: float) -> None:
        """Forget full pair buckets and closed windows so memory follows activity, not history."""
        self.pairs = {user: bucket for user, bucket in self.pairs.items() if bucket.full_at() > now}
        self.csw = {user: until for user, until in self.csw.items() if until > now}

    def burst_multiplier(self, now: float) -> float:
        """How much more negative feedback a business-initiated send draws (warm-up POLICY in params)."""
        p = self.params
        count = self.burst.add(now)
        allowance = p.warmup_allowance(now - self.warmup_started_at)
        if allowance is not None and count > allowance * p.burst_tolerance:
            return p.burst_feedback_multiplier
        return 1.0
