"""Every knob of the WhatsApp network simulator, with the published figure each one comes from.

Section numbers (§) refer to the team's "WhatsApp Business Platform (Cloud API): facts" document
(whatsapp-cloud-api-facts.md; sources [M-x] = Meta, [T-x] = third parties). Where Meta leaves a behaviour
unspecified, the policy chosen here is stated as POLICY.

Accept path (synchronous `SendError`s, checked in the order of §8.1):
1. Account state: a banned number answers 131031 (account locked), a restricted one 368 (temporarily blocked)
   for business-initiated sends; replies inside an open customer service window still go out, as in the legacy
   "Restricted" status [T-12][T-13] (§3.3). A logged-out number answers 190 and an unknown one 133010.
2. Customer service window (§3.5): any non-template kind outside the 24 h window answers 131047. The window opens
   and is reset by each message from the user (simulated replies and `simulate_incoming`); business messages
   never extend it.
3. Throughput (§3.1): a token bucket of `throughput_mps` tokens refilled at `throughput_mps`/s per number
   (80 by default) answers 130429 when empty. Inbound messages take tokens too ("inbound + outbound").
4. Pair rate (§3.2): a bucket per (number, recipient) of 45 tokens refilled one per 6 s answers 131056.
5. Messaging limit (§3.3): unique users reached outside a service window in a moving 24 h, at most the
   number's `messaging_limit` (250 → 2,000 → 10,000 → 100,000 → unlimited). POLICY: Meta documents no code
   for reaching it [T-35], so a business-initiated send to a NEW unique user beyond the limit answers
   `messaging_limit_code` (131064, "messaging limit reached", whose retry-after-24h semantics fit), while
   users already reached in the window, and users inside their window, can still be messaged. Automatic
   scaling (§3.3, [M-6]): when ≥50 % of the limit was used in the last 7 days and quality is not RED, the
   limit rises one level 6 h later. It applies from 2,000 up; 250 → 2,000 needs verification (a setting).

Async path (webhooks, §2.5 and §8.2): `sent` (with pricing), then `delivered` (with pricing), then `read`;
when the user reads at the moment of delivery, `delivered` is skipped and pricing moves to `read` (§2.5).
Reactions get `sent` only (§1.7). Messages to a user who blocked the number stay at `sent` [T-33].
Failures are `failed` statuses with `errors[]`: 131026 for numbers not on WhatsApp (§4, async, no `sent`),
131049 for the per-user marketing cap (§3.7, then suppressed for 24 h), 131050 after the user stopped marketing
messages with WhatsApp's built-in control (§6, announced by a `user_preferences` webhook, §2.6).

Recipients (§5): traits are a stable hash of (seed, phone), so the same phone always behaves the same way:
on WhatsApp or not, usually online or not, read/reply/block propensities spread around the shares below, and
a language from the country calling code. Replies are canned texts per language in four categories
(interested, question, not interested, stop words such as STOP, baja, PARAR, Stopp, berhenti, band karo, DUR);
their mix is a POLICY (no published split). A reply opens the 24 h window like any user message.
Quality (§3.4, §5): a rolling 7-day, recency-weighted rate of negative feedback (blocks, reports weighted more)
over delivered business-initiated messages, smoothed by a prior, mapped to GREEN/YELLOW/RED with PostEngage's
block-rate bands [T-9]. POLICY for "bursts from new numbers": a number younger than the warm-up period that
sends more business-initiated messages in 24 h than `burst_tolerance` times the warm-up reference curve
(20/day on day 1 rising linearly to 1,000/day on day 14, the seed inventory's warm-up) draws
`burst_feedback_multiplier` times more blocks and reports, since recipients do not know the number; the linear
curve is the most lenient common warm-up shape, so any sane ramp stays under it. POLICY for enforcement
("rate limit businesses if quality is low for a sustained period", [M-32]): RED for `restrict_after_red_s`
restricts the number for `restriction_s`; `ban_after_restricted_attempts` business-initiated attempts while
restricted, or a `ban_after_restrictions`-th restriction, ban it for good.

Emission: due steps become Cloud API webhook payloads (payloads.py), several updates of one number per body.
Not modelled: template approval and pacing (132001/132015/132016, a templates concern), spam rate limiting
(131048), the portfolio sharing one messaging limit across numbers (the simulator applies each number's
own `messaging_limit`), downgrades after a Flagged period (legacy, §3.4), the US +1 marketing block, and
webhook duplicates, reordering and signatures (the simulator hands payloads over in-process).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

DAY = 86_400.0
HOUR = 3_600.0
Z99 = 2.3263478740408408  # standard normal 99th percentile: turns (median, p99) into a lognormal sigma


@dataclass(frozen=True)
class SimulatorParams:
    """The simulator's model of WhatsApp; override per run, or per number with `with_overrides`."""

    seed: int = 0
    speed: float = 1.0  # simulated seconds per real second (86,400 lets a day pass in one second)

    # Switches. `uncapped()` turns all three off for throughput benchmarks.
    enforce_limits: bool = True  # throughput, pair rate and messaging limit
    enforce_window: bool = True  # 24 h customer service window for non-template kinds
    enforce_quality: bool = True  # burst detection, restriction and ban
    # Plan and emit the async status webhooks (sent, delivered, read, replies, failures) of accepted sends.
    # Off only for benchmarks that measure queued → accepted, where replaying them would cost CPU in the sender.
    emit_events: bool = True

    # Accept path.
    accept_latency_s: float = 0.12  # POLICY: one Graph API round trip; Meta publishes no figure
    throughput_mps: int = 80  # §0, §3.1 [M-3]: default per registered number; numbers may override
    pair_burst: int = 45  # §3.2 [M-4]: "up to 45 messages in a 6-second burst"
    pair_refill_s: float = 6.0  # §3.2 [M-4]: "1 message every 6 seconds to the same WhatsApp user"
    messaging_limit: int | None = 250  # §3.3 [M-6]: a new portfolio starts at 250; None = unlimited
    messaging_limit_tiers: tuple[int, ...] = (250, 2_000, 10_000, 100_000)  # §0 [M-6][M-18], then unlimited
    messaging_limit_code: int = 131064  # POLICY (§3.3, §8.4): Meta publishes no code for the limit
    auto_scale: bool = True  # §3.3 [M-6]: automatic scaling one level at a time
    auto_scale_usage: float = 0.5  # §3.3: "utilized at least half of your current messaging limit"
    auto_scale_lookback_s: float = 7 * DAY  # §3.3: "in the last 7 days"
    auto_scale_delay_s: float = 6 * HOUR  # §3.3: "rises one level within 6 hours"
    csw_s: float = DAY  # §3.5 [M-5]: 24 h from the user's last message

    # Async path: timings.
    sent_fraction: tuple[float, float] = (0.2, 0.6)  # `sent` lands this share of the way to delivery (§5 ~0.2-2 s)
    delivered_median_s: float = 1.5  # §5 DERIVED: lognormal, median ~1-2 s for online users
    delivered_p99_s: float = 5.0  # §0, §5 [M-19]: Cloud API p99 of 5 s from API call to `delivered`, user online
    offline_share: float = 0.10  # §5 DERIVED: ~5-15 % of users offline
    offline_median_s: float = 30 * 60  # §5: offline users delivered "minutes to hours" later
    offline_p99_s: float = 12 * HOUR
    delivery_ttl_s: float = 30 * DAY  # §0 [M-15]: template TTL 30 days; later deliveries are dropped at the TTL
    read_share: float = 0.65  # §5 [T-1][T-2]: 63-68 % read rate of delivered broadcasts
    instant_read_share: float = 0.05  # POLICY: chat open on delivery, so `delivered` is skipped (§2.5)
    read_median_s: float = 10 * 60  # §5 DERIVED: ~50 % read within 5-15 min; [T-6] 80 % within 5 min (generic)
    read_p99_s: float = DAY  # heavy tail
    reply_share: float = 0.10  # §5 [T-3]: 12-15 % marketing reply rate, 8-10 % e-commerce (share of reads)
    reply_median_s: float = 2 * 60  # POLICY: replies come soon after reading
    reply_p99_s: float = 6 * HOUR
    reply_context_share: float = 0.4  # POLICY: share of replies quoting the message (`context.id`, §2.4)
    reply_mix: tuple[tuple[str, float], ...] = (  # POLICY: no published split; STOP share among replies
        ("interested", 0.35),
        ("question", 0.30),
        ("not_interested", 0.20),
        ("stop", 0.15),
    )
    builtin_stop_share: float = 0.3  # POLICY: STOP repliers who also use WhatsApp's stop control (§6, 131050)

    # Async path: failures and feedback.
    not_on_whatsapp_share: float = 0.03  # §5 DERIVED: 131026 for ~1-5 % depending on list hygiene
    marketing_cap_share: float = 0.02  # §5 DERIVED: 131049 for ~1-10 % of marketing, depending on market
    marketing_cap_suppress_s: float = DAY  # §3.7 [M-2]: "wait at least 24 hours before resending"
    block_share: float = 0.0015  # §5 [T-9]: a healthy number stays under the 0.5 % green band
    report_share: float = 0.0003  # reports are rarer than blocks and weigh more (§3.4 signals)
    feedback_median_s: float = 10 * 60  # POLICY: blocks come a few minutes after delivery
    feedback_p99_s: float = 6 * HOUR

    # Quality rating (§3.4 [M-5]: "past seven days ... weighted by recency").
    report_weight: float = 2.0
    quality_window_s: float = 7 * DAY
    quality_half_life_s: float = 2 * DAY  # POLICY: recency weight halves every 2 days
    quality_prior_messages: float = 1_000.0  # POLICY: a new number starts as if 1,000 messages had a clean record
    quality_prior_rate: float = 0.001
    quality_yellow_rate: float = 0.005  # §5 [T-9]: block rate 0.5-2 % → Yellow
    quality_red_rate: float = 0.02  # §5 [T-9]: over 2 % → Red
    quality_eval_interval_s: float = 5 * 60

    # Warm-up reference and enforcement (POLICY, see the module docstring).
    warmup_days: int = 14  # seed inventory: "gradual volume increase over 14 days"
    warmup_start_per_day: float = 20.0  # seed inventory: "20 → 1000 messages/day progression"
    warmup_end_per_day: float = 1_000.0
    burst_tolerance: float = 2.0  # room for a front-loaded day on top of the previous one in a moving 24 h
    burst_feedback_multiplier: float = 25.0
    restrict_after_red_s: float = 6 * HOUR  # [M-32] "low for a sustained period of time"
    restriction_s: float = DAY  # [T-12]: restricted until the 24 h window frees up
    ban_after_restricted_attempts: int = 100
    ban_after_restrictions: int = 3

    @classmethod
    def uncapped(cls, **changes: Any) -> SimulatorParams:
        """Zero latency and no caps, windows or enforcement: for benchmarks of Greenline's own throughput."""
        values: dict[str, Any] = {
            "accept_latency_s": 0.0,
            "enforce_limits": False,
            "enforce_window": False,
            "enforce_quality": False,
        }
        values.update(changes)
        return cls(**values)

    def with_overrides(self, overrides: dict[str, Any] | None) -> SimulatorParams:
        """A copy with some fields changed; unknown names or wrong types raise ValueError."""
        if not overrides:
            return self
        names = {f.name for f in dataclasses.fields(self)}
        values: dict[str, Any] = {}
        for name, value in overrides.items():
            if name not in names:
                raise ValueError(f"unknown simulator parameter: {name}")
            values[name] = _checked(name, getattr(self, name), value)
        return dataclasses.replace(self, **values)

    def warmup_allowance(self, age_s: float) -> float | None:
        """Business-initiated messages per day the warm-up reference allows at this age; None once warmed up."""
        day = int(age_s // DAY)
        if day >= self.warmup_days or day < 0:
            return None
        span = self.warmup_end_per_day - self.warmup_start_per_day
        return self.warmup_start_per_day + span * day / max(1, self.warmup_days - 1)

    def rating_for(self, rate: float) -> str:
        """GREEN / YELLOW / RED for a negative-feedback rate (§5 block-rate bands)."""
        if rate > self.quality_red_rate:
            return "RED"
        if rate >= self.quality_yellow_rate:
            return "YELLOW"
        return "GREEN"

    def next_tier(self, limit: int | None) -> int | None:
        """The messaging limit one level up (None = unlimited)."""
        if limit is None:
            return None
        for tier in self.messaging_limit_tiers:
            if tier > limit:
                return tier
        return None


def _checked(name: str, current: object, value: object) -> object:
    """The override converted to the field's type (JSON gives lists for tuples), or ValueError."""
    if isinstance(current, tuple) and isinstance(value, list):
        value = tuple(tuple(item) if isinstance(item, list) else item for item in value)
    if isinstance(current, bool) or isinstance(value, bool):
        ok = isinstance(current, bool) and isinstance(value, bool)
    elif isinstance(current, int | float) and name.endswith(("_s", "_share", "_rate", "_weight", "speed")):
        # Durations and shares are floats even when their default is written as an int (10 * 60).
        ok = isinstance(value, int | float)
        value = float(value) if ok else value  # type: ignore[arg-type]
    elif isinstance(current, float):
        ok = isinstance(value, int | float)
    elif name == "messaging_limit":
        ok = value is None or isinstance(value, int)
    else:
        ok = isinstance(value, type(current))
    if not ok:
        raise ValueError(f"simulator parameter {name} has the wrong type")
    return value


@lru_cache(maxsize=64)
def lognormal_sigma(median: float, p99: float) -> float:
    """Sigma of a lognormal with this median and 99th percentile."""
    return math.log(max(p99, median * 1.0001) / median) / Z99
