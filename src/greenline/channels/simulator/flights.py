"""What happens to one accepted message: planned once at accept time, replayed by the scheduler.

All random draws for a message happen when it is accepted, in accept order, from the network's seeded
generator; the scheduler then only replays the planned steps. So outcomes do not depend on when, or in how
many batches, the scheduler runs.
"""

from __future__ import annotations

import math
import random
from typing import Any

from greenline.channels.base import MessageKind, OutboundMessage
from greenline.channels.simulator import payloads
from greenline.channels.simulator.params import SimulatorParams, lognormal_sigma
from greenline.channels.simulator.recipients import reply_text, traits_for
from greenline.channels.simulator.state import NumberState

OPTOUT_DELAY_S = 5.0  # the built-in "stop marketing" tap follows the STOP reply within seconds


class Flight:
    """One message (outbound, or inbound from `simulate_incoming`) and its planned steps."""

    __slots__ = (
        "business",
        "callback",
        "index",
        "message_id",
        "number_id",
        "pricing",
        "pricing_on_read",
        "recipient",
        "reply",
        "steps",
        "text",
    )

    def __init__(self, number_id: str, message_id: str, recipient: str) -> None:
        self.number_id = number_id
        self.message_id = message_id
        self.recipient = recipient  # the user's digits
        self.steps: list[tuple[float, str, int]] = []  # (time, kind, error code or 0)
        self.index = 0
        self.business = False  # business-initiated (outside the window): counts for quality
        self.pricing: dict[str, Any] | None = None
        self.pricing_on_read = False
        self.callback: str | None = None
        self.reply: tuple[str, float, bool] | None = None  # (category, text pick, quotes our message)
        self.text: str | None = None  # body of an injected inbound message


def _lognormal(rng: random.Random, median: float, p99: float) -> float:
    return rng.lognormvariate(math.log(median), lognormal_sigma(median, p99))


def _reply_category(mix: tuple[tuple[str, float], ...], u: float) -> str:
    total = sum(weight for _, weight in mix)
    point = u * total
    for category, weight in mix:
        point -= weight
        if point < 0:
            return category
    return mix[-1][0]


def plan(
    rng: random.Random,
    state: NumberState,
    message: OutboundMessage,
    flight: Flight,
    now: float,
    *,
    in_window: bool,
    feedback_multiplier: float,
    capped_until: dict[str, float],
) -> None:
    """Draw the message's fate and fill `flight.steps` in time order."""
    p: SimulatorParams = state.params
    to = flight.recipient
    traits = traits_for(p.seed, to)
    flight.business = not in_window
    flight.callback = message.client_ref
    steps = flight.steps
    to_deliver = _lognormal(rng, p.delivered_median_s, p.delivered_p99_s)
    low, high = p.sent_fraction
    sent_at = now + to_deliver * (low + (high - low) * rng.random())

    if message.kind is MessageKind.reaction:
        steps.append((sent_at, "sent", 0))  # §1.7: reactions only get `sent`
        return
    if traits.on_whatsapp < p.not_on_whatsapp_share:
        steps.append((sent_at, "failed", 131026))
        return
    marketing_template = message.marketing and message.kind is MessageKind.template
    if marketing_template and to in state.opted_out:
        steps.append((sent_at, "failed", 131050))
        return
    if marketing_template and (capped_until.get(to, 0.0) > now or rng.random() < p.marketing_cap_share):
        capped_until[to] = now + p.marketing_cap_suppress_s
        steps.append((sent_at, "failed", 131049))
        return

    if message.kind is MessageKind.template:
        category = "marketing" if message.marketing else "utility"
        flight.pricing = payloads.pricing(category, free=in_window and not message.marketing)
    else:
        flight.pricing = payloads.pricing("service", free=True)
    steps.append((sent_at, "sent", 0))
    if to in state.blocked:
        return  # [T-33]: messages to a user who blocked the business stay at `sent`

    delivered_at = now + to_deliver
    if traits.offline < p.offline_share:
        late = _lognormal(rng, p.offline_median_s, p.offline_p99_s)
        delivered_at = now + min(p.delivery_ttl_s, max(to_deliver, late))
    read_at: float | None = None
    if rng.random() < traits.read_probability(p.read_share):
        if rng.random() < p.instant_read_share:
            flight.pricing_on_read = True
            read_at = delivered_at
        else:
            read_at = delivered_at + _lognormal(rng, p.read_median_s, p.read_p99_s)
    if not flight.pricing_on_read:
        steps.append((delivered_at, "delivered", 0))
    if read_at is not None:
        steps.append((read_at, "read", 0))

    feedback: str | None = None
    if flight.business:
        factor = traits.feedback_factor() * feedback_multiplier
        u = rng.random()
        if u < p.report_share * factor:
            feedback = "report"
        elif u < (p.report_share + p.block_share) * factor:
            feedback = "block"
        if feedback is not None:
            steps.append((delivered_at + _lognormal(rng, p.feedback_median_s, p.feedback_p99_s), feedback, 0))
    if read_at is not None and feedback is None and rng.random() < p.reply_share * traits.reply_factor():
        reply_at = read_at + _lognormal(rng, p.reply_median_s, p.reply_p99_s)
        category = _reply_category(p.reply_mix, rng.random())
        flight.reply = (category, rng.random(), rng.random() < p.reply_context_share)
        steps.append((reply_at, "reply", 0))
        if category == "stop" and rng.random() < p.builtin_stop_share:
            steps.append((reply_at + OPTOUT_DELAY_S, "optout", 0))
    steps.sort(key=lambda step: step[0])


def replay(state: NumberState, flight: Flight, at: float, out: payloads.PayloadBuilder) -> None:
    """Emit one planned step of a flight into the number's payloads and apply its effect on the number."""
    _, kind, code = flight.steps[flight.index]
    user = flight.recipient
    if kind in ("sent", "delivered", "failed") or (kind == "read" and flight.pricing_on_read):
        priced = kind != "failed"
        if kind in ("delivered", "read") and flight.business:
            state.feedback.delivered(at)
        out.statuses.append(
            payloads.status(
                flight.message_id,
                kind,
                at,
                user,
                pricing=flight.pricing if priced else None,
                error_code=code or None,
                callback_data=flight.callback,
            )
        )
    elif kind == "read":
        out.statuses.append(payloads.status(flight.message_id, "read", at, user, callback_data=flight.callback))
    elif kind in ("block", "report"):
        state.blocked.add(user)
        state.feedback.negative(at, state.params.report_weight if kind == "report" else 1.0)
        state.evaluate(at)
    elif kind in ("reply", "incoming"):
        _inbound(state, flight, at, out)
    elif kind == "optout":
        state.opted_out.add(user)
        out.preferences.append(payloads.user_preference(user, at))


def _inbound(state: NumberState, flight: Flight, at: float, out: payloads.PayloadBuilder) -> None:
    user = flight.recipient
    traits = traits_for(state.params.seed, user)
    context: str | None = None
    if flight.reply is not None:  # a simulated reply to one of our messages
        category, pick, quotes = flight.reply
        body = reply_text(traits.language, category, pick)
        message_id = payloads.reply_wamid(user, flight.message_id)
        context = flight.message_id if quotes else None
        state.open_window(user, at)
        state.throughput.take(at)
    else:
        body, message_id = flight.text or "", flight.message_id
    out.contacts.setdefault(user, payloads.contact(user, traits.profile_name()))
    item = payloads.text_message(user, message_id, at, body, context_id=context, business=state.display)
    out.messages.append(item)
