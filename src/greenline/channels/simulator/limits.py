"""The arithmetic behind WhatsApp's limits: token buckets, the moving 24 h reach and the feedback window."""

from __future__ import annotations

from collections import deque

from greenline.channels.simulator.params import DAY, HOUR


class TokenBucket:
    """`capacity` tokens refilled continuously at `rate` per second."""

    __slots__ = ("capacity", "rate", "tokens", "updated")

    def __init__(self, capacity: float, rate: float, now: float) -> None:
        self.capacity = capacity
        self.rate = rate
        self.tokens = capacity
        self.updated = now

    def _refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now

    def take(self, now: float) -> bool:
        """Take one token if there is one."""
        self._refill(now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def wait(self, now: float) -> float:
        """Seconds until the next token."""
        self._refill(now)
        return max(0.0, (1.0 - self.tokens) / self.rate) if self.rate > 0 else DAY

    def full_at(self) -> float:
        """When the bucket is full again (after which it can be forgotten)."""
        return self.updated + (self.capacity - self.tokens) / self.rate if self.rate > 0 else float("inf")


class ReachWindow:
    """Unique users messaged outside a service window in a moving window (the messaging limit's count)."""

    def __init__(self, window: float = DAY) -> None:
        self.window = window
        self._last: dict[str, float] = {}
        self._order: deque[tuple[float, str]] = deque()
        self._daily_peak: dict[int, int] = {}

    def _expire(self, now: float) -> None:
        horizon = now - self.window
        order, last = self._order, self._last
        while order and order[0][0] <= horizon:
            stamp, user = order.popleft()
            if last.get(user) == stamp:
                del last[user]

    def count(self, now: float) -> int:
        """Unique users in the window."""
        self._expire(now)
        return len(self._last)

    def contains(self, user: str, now: float) -> bool:
        self._expire(now)
        return user in self._last

    def add(self, user: str, now: float) -> None:
        """Record a message to `user` (a user already in the window stays counted once)."""
        self._expire(now)
        self._last[user] = now
        self._order.append((now, user))
        day = int(now // DAY)
        self._daily_peak[day] = max(self._daily_peak.get(day, 0), len(self._last))

    def next_free_at(self, now: float) -> float:
        """When the oldest counted user leaves the window."""
        self._expire(now)
        return self._order[0][0] + self.window if self._order else now

    def peak(self, now: float, lookback: float) -> int:
        """The highest unique count reached on any day within `lookback`."""
        first = int((now - lookback) // DAY)
        for day in [d for d in self._daily_peak if d < first]:
            del self._daily_peak[day]
        return max(self._daily_peak.values(), default=0)


class FeedbackWindow:
    """Delivered messages and negative feedback in hourly buckets, weighted by recency (§3.4)."""

    def __init__(self, window: float, half_life: float) -> None:
        self.window = window
        self.half_life = half_life
        self._buckets: dict[int, list[float]] = {}

    def _bucket(self, at: float) -> list[float]:
        hour = int(at // HOUR)
        bucket = self._buckets.get(hour)
        if bucket is None:
            bucket = self._buckets[hour] = [0.0, 0.0]
        return bucket

    def delivered(self, at: float) -> None:
        self._bucket(at)[0] += 1.0

    def negative(self, at: float, weight: float) -> None:
        self._bucket(at)[1] += weight

    def rate(self, now: float, prior_messages: float, prior_rate: float) -> float:
        """Recency-weighted negative feedback per delivered message, smoothed by a clean prior."""
        oldest = int((now - self.window) // HOUR)
        delivered = prior_messages
        negative = prior_messages * prior_rate
        for hour in list(self._buckets):
            if hour < oldest:
                del self._buckets[hour]
                continue
            sent, bad = self._buckets[hour]
            weight = 0.5 ** (max(0.0, now - hour * HOUR) / self.half_life)
            delivered += sent * weight
            negative += bad * weight
        return negative / delivered if delivered > 0 else 0.0


class BurstMeter:
    """Business-initiated sends in the last 24 h, to compare with the warm-up reference curve."""

    def __init__(self) -> None:
        self._stamps: deque[float] = deque()

    def add(self, now: float) -> int:
        """Record one send; returns the count in the last 24 h including it."""
        stamps = self._stamps
        stamps.append(now)
        horizon = now - DAY
        while stamps[0] <= horizon:
            stamps.popleft()
        return len(stamps)
