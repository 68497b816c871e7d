"""The simulator's behaviour in aggregate: published distributions, and quality, restriction and ban over days."""

from __future__ import annotations

from typing import Any

import pytest

from greenline.channels.base import MessageKind, OutboundMessage, SendError
from greenline.channels.simulator import ManualClock, SimulatedNetwork, SimulatorParams
from greenline.channels.simulator.params import DAY, HOUR
from greenline.channels.simulator.recipients import traits_for

SEED = 2024


def values(payloads: list[dict[str, Any]], field: str) -> list[dict[str, Any]]:
    return [c["value"] for p in payloads for e in p["entry"] for c in e["changes"] if c["field"] == field]


def quality_events(payloads: list[dict[str, Any]], display: str) -> list[str]:
    updates = values(payloads, "phone_number_quality_update")
    return [v["event"] for v in updates if v["display_phone_number"] == display]


@pytest.fixture(scope="module")
def campaign() -> dict[str, Any]:
    """5,000 marketing templates from an established number, followed for three simulated days."""
    clock = ManualClock()
    payloads: list[dict[str, Any]] = []
    net = SimulatedNetwork(SimulatorParams(seed=SEED), emit=payloads.append, clock=clock)
    net.register_number("pn", "+15550001111", messaging_limit=10_000, warmup_started_at=clock.time() - 60 * DAY)
    accepted: dict[str, tuple[float, str]] = {}
    for i in range(5_000):
        to = f"+{('5511987', '34612', '91981', '4915112')[i % 4]}{i:06d}"
        result = net.accept("pn", OutboundMessage(to=to, kind=MessageKind.template, marketing=True))
        accepted[result.provider_message_id] = (clock.time(), to[1:])
        if i % 50 == 49:
            net.advance(1)
    net.advance(3 * DAY)
    statuses = [s for v in values(payloads, "messages") for s in v.get("statuses", [])]
    messages = [m for v in values(payloads, "messages") for m in v.get("messages", [])]
    return {"accepted": accepted, "statuses": statuses, "messages": messages, "net": net}


def test_online_users_get_delivered_within_meta_s_p99_of_5_seconds(campaign: dict[str, Any]) -> None:
    accepted, statuses = campaign["accepted"], campaign["statuses"]
    first: dict[str, int] = {}
    for s in statuses:
        if s["status"] in ("delivered", "read"):
            first.setdefault(s["id"], int(s["timestamp"]))
    online = sorted(
        at - accepted[mid][0] for mid, at in first.items() if traits_for(SEED, accepted[mid][1]).offline >= 0.10
    )
    p50, p99 = online[len(online) // 2], online[int(len(online) * 0.99)]
    assert 0 <= p50 <= 2
    assert 3.5 <= p99 <= 6.0  # webhook timestamps are whole seconds
    late = [at - accepted[mid][0] for mid, at in first.items() if traits_for(SEED, accepted[mid][1]).offline < 0.10]
    assert len(late) > 100
    assert sorted(late)[len(late) // 2] > 10 * 60  # offline users are delivered minutes to hours later


def test_read_reply_and_failure_shares_match_published_ranges(campaign: dict[str, Any]) -> None:
    statuses, messages = campaign["statuses"], campaign["messages"]
    by_state: dict[str, set[str]] = {}
    for s in statuses:
        by_state.setdefault(s["status"], set()).add(s["id"])
    delivered = by_state["delivered"] | by_state["read"]
    assert 0.60 <= len(by_state["read"]) / len(delivered) <= 0.70
    assert 0.07 <= len(messages) / len(by_state["read"]) <= 0.13
    codes = [s["errors"][0]["code"] for s in statuses if s["status"] == "failed"]
    total = len(campaign["accepted"])
    assert 0.02 <= codes.count(131026) / total <= 0.04
    assert 0.01 <= codes.count(131049) / total <= 0.03
    for s in statuses:
        if s["status"] == "failed" and s["errors"][0]["code"] == 131026:
            assert traits_for(SEED, s["recipient_id"]).on_whatsapp < 0.03
            assert s["id"] not in delivered
    languages = {traits_for(SEED, m["from"]).language for m in messages}
    assert languages == {"pt", "es", "hi", "de"}


def test_an_established_number_with_a_clean_list_stays_green(campaign: dict[str, Any]) -> None:
    state = campaign["net"].status("pn")
    assert (state.status, state.quality_rating) == ("connected", "GREEN")


def _send(net: SimulatedNetwork, number_id: str, to: str) -> int | None:
    """Send one marketing template; the error code when refused."""
    try:
        net.accept(number_id, OutboundMessage(to=to, kind=MessageKind.template, marketing=True))
    except SendError as error:
        return error.code
    return None


def test_blasting_from_a_new_number_degrades_to_red_then_restriction_then_ban() -> None:
    clock = ManualClock()
    payloads: list[dict[str, Any]] = []
    net = SimulatedNetwork(SimulatorParams(seed=SEED), emit=payloads.append, clock=clock)
    net.register_number("blast", "+15550002222", messaging_limit=100_000, warmup_started_at=clock.time())
    sent = 0
    codes: list[int] = []
    ratings: list[str] = []
    for _ in range(48):  # one hour per round, pacing ignored: 3,000 messages on day one, then 300 an hour
        for i in range(3_000 if sent == 0 else 300):
            code = _send(net, "blast", f"+5511987{sent:06d}")
            sent += 1
            if code is not None:
                codes.append(code)
            if i % 60 == 59:
                net.advance(1)
        net.advance(HOUR - 60)
        ratings.append(net.status("blast").quality_rating)
        if net.status("blast").status == "banned":
            break
    assert ratings[0] in {"YELLOW", "RED"}
    assert "RED" in ratings[:3]
    assert 368 in codes
    assert codes[-1] == 131031
    assert codes.index(368) < codes.index(131031)
    assert set(codes) <= {368, 131031}  # never a throughput or pair error: only the account standing
    assert net.status("blast").status == "banned"
    events = quality_events(payloads, "15550002222")
    assert events.index("FLAGGED") < events.index("RESTRICTED") < events.index("BANNED")
    net.simulate_incoming("blast", "+5511999000001", "hello?")
    with pytest.raises(SendError) as caught:
        net.accept("blast", OutboundMessage(to="+5511999000001", text="Sorry, we are banned"))
    assert caught.value.code == 131031


def test_a_restricted_number_can_still_answer_users_who_wrote() -> None:
    clock = ManualClock()
    net = SimulatedNetwork(SimulatorParams(seed=SEED, ban_after_restricted_attempts=10**6), clock=clock)
    net.register_number("r", "+15550004444", messaging_limit=100_000, warmup_started_at=clock.time())
    for hour in range(12):
        for i in range(300):
            _send(net, "r", f"+5511987{hour:02d}{i:04d}")
            if i % 60 == 59:
                net.advance(1)
        net.advance(HOUR)
    assert net.status("r").status == "restricted"
    assert _send(net, "r", "+5511999000002") == 368
    net.simulate_incoming("r", "+5511999000002", "Is my order shipped?")
    net.accept("r", OutboundMessage(to="+5511999000002", text="Yes, it left today."))


@pytest.mark.parametrize("shape", ["reference_curve_spread_evenly", "geometric_ramp_sent_at_dawn"])
def test_a_number_paced_along_the_warmup_curve_stays_green_for_two_weeks(shape: str) -> None:
    clock = ManualClock()
    payloads: list[dict[str, Any]] = []
    params = SimulatorParams(seed=SEED)
    net = SimulatedNetwork(params, emit=payloads.append, clock=clock)
    net.register_number("paced", "+15550003333", messaging_limit=2_000, warmup_started_at=clock.time())
    sent = 0
    for day in range(14):
        allowance = params.warmup_allowance(day * DAY)
        assert allowance is not None
        per_day = int(allowance) if shape == "reference_curve_spread_evenly" else round(20 * 50 ** (day / 13))
        for hour in range(24):
            if shape == "reference_curve_spread_evenly":
                count = per_day * (hour + 1) // 24 - per_day * hour // 24
            else:  # the whole day's allowance in its first hour, right after the previous day's
                count = per_day if hour == 0 else 0
            for i in range(count):
                assert _send(net, "paced", f"+5511987{sent:06d}") is None
                sent += 1
                if i % 60 == 59:
                    net.advance(1)
            net.advance(HOUR)
        state = net.status("paced")
        assert (state.status, state.quality_rating) == ("connected", "GREEN"), f"day {day + 1}"
    assert sent > 3_500
    events = quality_events(payloads, "15550003333")
    assert not {"FLAGGED", "RESTRICTED", "BANNED"} & set(events)
