"""The WhatsApp network simulator: limits and their codes, payload shapes, the channel, determinism."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from greenline.channels.base import MessageKind, OutboundMessage, SendError
from greenline.channels.errors import Retry
from greenline.channels.simulator import ManualClock, SimClock, SimulatedNetwork, SimulatorChannel, SimulatorParams
from greenline.channels.simulator.params import DAY
from greenline.channels.simulator.recipients import STOP_WORDS, traits_for
from greenline.models.channel import ChannelType, SenderNumber

NUMBER = "100200300"
DISPLAY = "+15550001111"


class Sim:
    """A network on a manual clock whose emitted payloads land in a list."""

    def __init__(self, params: SimulatorParams | None = None, **number: Any) -> None:
        self.clock = ManualClock()
        self.payloads: list[dict[str, Any]] = []
        self.net = SimulatedNetwork(params or SimulatorParams(seed=11), emit=self.payloads.append, clock=self.clock)
        self.net.register_number(NUMBER, DISPLAY, **number)

    def send(self, to: str, kind: MessageKind = MessageKind.template, **fields: Any) -> str:
        return self.net.accept(NUMBER, OutboundMessage(to=to, kind=kind, **fields)).provider_message_id

    def refused(self, to: str, kind: MessageKind = MessageKind.template, **fields: Any) -> SendError:
        with pytest.raises(SendError) as caught:
            self.send(to, kind, **fields)
        return caught.value

    def changes(self, field: str = "messages") -> list[dict[str, Any]]:
        return [c["value"] for p in self.payloads for e in p["entry"] for c in e["changes"] if c["field"] == field]

    def statuses(self) -> list[dict[str, Any]]:
        return [s for v in self.changes() for s in v.get("statuses", [])]

    def messages(self) -> list[dict[str, Any]]:
        return [m for v in self.changes() for m in v.get("messages", [])]


def user(i: int) -> str:
    return f"+5511987{i:06d}"


def test_throughput_refuses_the_81st_message_in_one_second_with_130429() -> None:
    sim = Sim()
    for i in range(80):
        sim.send(user(i))
    error = sim.refused(user(80))
    assert error.code == 130429
    assert error.info.retry is Retry.backoff
    assert error.retry_after is not None
    assert 0 < error.retry_after <= 1
    sim.net.advance(1)
    sim.send(user(80))


def test_a_number_configured_slower_gets_130429_sooner() -> None:
    sim = Sim(throughput_mps=20)
    for i in range(20):
        sim.send(user(i))
    assert sim.refused(user(20)).code == 130429


def test_pair_rate_allows_a_burst_of_45_then_one_message_per_six_seconds() -> None:
    sim = Sim()
    for _ in range(45):
        sim.send(user(1))
    error = sim.refused(user(1))
    assert error.code == 131056
    assert error.retry_after == pytest.approx(6.0)
    sim.send(user(2))  # other recipients are not affected
    sim.net.advance(6)
    sim.send(user(1))
    assert sim.refused(user(1)).code == 131056
    sim.net.advance(3)
    assert sim.refused(user(1)).code == 131056
    sim.net.advance(3)
    sim.send(user(1))


def test_free_form_text_needs_an_open_customer_service_window() -> None:
    sim = Sim()
    error = sim.refused(user(1), MessageKind.text, text="Hi!")
    assert error.code == 131047
    assert error.info.retry is Retry.never
    sim.send(user(1), MessageKind.template)  # templates may open a conversation
    sim.net.simulate_incoming(NUMBER, user(1), "Hello, do you ship to Recife?")
    sim.send(user(1), MessageKind.text, text="Yes we do!")
    sim.send(user(1), MessageKind.image, media_url="https://example.com/a.png")
    sim.net.advance(DAY - 1)
    sim.send(user(1), MessageKind.text, text="Still inside the window")
    sim.net.advance(2)
    assert sim.refused(user(1), MessageKind.text, text="Too late").code == 131047


def test_messaging_limit_refuses_new_unique_users_only() -> None:
    sim = Sim(messaging_limit=3)
    for i in range(3):
        sim.send(user(i))
    error = sim.refused(user(3))
    assert error.code == 131064
    assert error.info.retry is Retry.after_24h
    assert error.retry_after == pytest.approx(DAY)
    sim.send(user(0))  # already reached in this 24 h window
    sim.net.simulate_incoming(NUMBER, user(9), "Hi")
    sim.send(user(9), MessageKind.text, text="Hello!")  # inside the user's window: not business-initiated
    assert sim.net.status(NUMBER).reached_24h == 3
    sim.net.advance(DAY + 1)
    sim.send(user(3))


def test_messaging_limit_scales_up_one_level_after_half_of_it_was_used() -> None:
    sim = Sim(messaging_limit=2_000, warmup_started_at=0.0)
    for i in range(1_000):
        sim.send(user(i))
        if i % 50 == 49:
            sim.net.advance(1)
    sim.net.advance(10 * 60)
    assert sim.net.status(NUMBER).messaging_limit == 2_000
    sim.net.advance(6 * 3600)
    assert sim.net.status(NUMBER).messaging_limit == 10_000
    upgrades = [v for v in sim.changes("phone_number_quality_update") if v["event"] == "UPGRADE"]
    assert [v["max_daily_conversations_per_business"] for v in upgrades] == ["TIER_10K"]


def test_unknown_and_logged_out_numbers_are_refused() -> None:
    sim = Sim()
    with pytest.raises(SendError) as caught:
        sim.net.accept("nope", OutboundMessage(to=user(1), kind=MessageKind.template))
    assert caught.value.code == 133010
    sim.net.logout(NUMBER)
    assert sim.refused(user(1)).code == 190
    sim.net.register_number(NUMBER, DISPLAY)
    sim.send(user(1))


def test_status_and_message_payloads_have_the_cloud_api_shape() -> None:
    sim = Sim(SimulatorParams(seed=3, reply_share=1.0, read_share=1.0, reply_context_share=1.0), messaging_limit=None)
    sent_ids = []
    for i in range(300):
        sent_ids.append(sim.send(user(i), marketing=True, client_ref=f"m{i}"))
        if i % 50 == 49:
            sim.net.advance(1)
    sim.net.advance(3 * DAY)
    payload = sim.payloads[0]
    assert set(payload) == {"object", "entry"}
    assert payload["object"] == "whatsapp_business_account"
    entry = payload["entry"][0]
    assert set(entry) == {"id", "changes"}
    change = entry["changes"][0]
    assert set(change) == {"value", "field"}
    assert set(change["value"]) == {"messaging_product", "metadata", "statuses"}
    assert change["value"]["metadata"] == {"display_phone_number": "15550001111", "phone_number_id": NUMBER}

    statuses = sim.statuses()
    sent = next(s for s in statuses if s["status"] == "sent")
    assert set(sent) == {"id", "status", "timestamp", "recipient_id", "pricing", "biz_opaque_callback_data"}
    assert sent["id"] in sent_ids
    assert sent["id"].startswith("wamid.")
    assert sent["timestamp"].isdigit()
    assert sent["recipient_id"].isdigit()
    assert sent["pricing"] == {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "marketing"}
    failed = next(s for s in statuses if s["status"] == "failed")
    assert set(failed) == {"id", "status", "timestamp", "recipient_id", "errors", "biz_opaque_callback_data"}
    (error,) = failed["errors"]
    assert set(error) == {"code", "title", "message", "error_data", "href"}
    assert set(error["error_data"]) == {"details"}
    assert error["code"] in {131026, 131049}
    read = next(s for s in statuses if s["status"] == "read" and "pricing" not in s)
    assert set(read) == {"id", "status", "timestamp", "recipient_id", "biz_opaque_callback_data"}
    # pricing is on `sent` and on exactly one of `delivered` / `read` (§2.5)
    priced: dict[str, list[str]] = {}
    for s in statuses:
        if "pricing" in s:
            priced.setdefault(s["id"], []).append(s["status"])
    assert all(kinds[0] == "sent" and len(kinds) == 2 for kinds in priced.values() if len(kinds) > 1)
    assert any(kinds == ["sent", "read"] for kinds in priced.values())  # read on delivery: no `delivered`

    value = next(v for v in sim.changes() if "messages" in v)
    assert set(value) == {"messaging_product", "metadata", "contacts", "messages"}
    message = value["messages"][0]
    assert set(message) == {"from", "id", "timestamp", "type", "text", "context"}
    assert message["type"] == "text"
    assert message["text"]["body"]
    assert message["context"] == {"from": "15550001111", "id": message["context"]["id"]}
    assert message["context"]["id"] in sent_ids
    contact = next(c for c in value["contacts"] if c["wa_id"] == message["from"])
    assert set(contact) == {"profile", "wa_id"}
    assert contact["profile"]["name"]


def test_replies_open_the_window_and_speak_the_recipients_language() -> None:
    params = SimulatorParams(seed=5, reply_share=1.0, read_share=1.0, not_on_whatsapp_share=0.0)
    sim = Sim(params, messaging_limit=None)
    phones = {"+5511987000001": "pt", "+34612000001": "es", "+4915112000001": "de", "+905321000001": "tr"}
    for phone in phones:
        for _ in range(10):
            sim.send(phone)
    sim.net.advance(3600)
    replier = "+" + sim.messages()[0]["from"]
    sim.send(replier, MessageKind.text, text="Thanks for your reply!")  # the reply opened the window
    sim.net.advance(3 * DAY)
    replies = sim.messages()
    assert {m["from"] for m in replies} == {p[1:] for p in phones}
    for m in replies:
        assert traits_for(5, m["from"]).language == phones["+" + m["from"]]


def test_stop_replies_and_builtin_opt_out_lead_to_131050() -> None:
    mix = (("stop", 1.0),)
    params = SimulatorParams(seed=8, reply_share=1.0, read_share=1.0, reply_mix=mix, builtin_stop_share=1.0)
    sim = Sim(params, messaging_limit=None)
    for i in range(40):
        sim.send(user(i), marketing=True)
    sim.net.advance(3 * DAY)
    bodies = [m["text"]["body"] for m in sim.messages()]
    assert bodies
    assert all(body.casefold() in STOP_WORDS for body in bodies)
    prefs = [p for v in sim.changes("user_preferences") for p in v["user_preferences"]]
    assert {p["value"] for p in prefs} == {"stop"}
    stopped = "+" + prefs[0]["wa_id"]
    mid = sim.send(stopped, marketing=True)
    sim.send(stopped, marketing=False)  # utility messages still go out
    sim.net.advance(60)
    (failure,) = [s for s in sim.statuses() if s["id"] == mid]
    assert failure["status"] == "failed"
    assert failure["errors"][0]["code"] == 131050


def test_same_seed_same_story_whatever_the_scheduler_cadence() -> None:
    def run(seed: int, step: float, *, scheduler_while_sending: bool = True) -> tuple[Any, ...]:
        sim = Sim(SimulatorParams(seed=seed, reply_share=0.5), messaging_limit=None, warmup_started_at=0.0)
        ids = []
        for i in range(400):
            ids.append(sim.send(user(i % 250), marketing=i % 2 == 0))
            if i % 40 == 39 and scheduler_while_sending:
                sim.net.advance(60)
            elif i % 40 == 39:  # time passes without the scheduler running
                sim.clock.advance(60)
        sim.net.simulate_incoming(NUMBER, user(7), "STOP")
        elapsed = 0.0
        while elapsed < 2 * DAY:
            sim.net.advance(step)
            elapsed += step
        events = sorted((s["id"], s["status"], s["timestamp"]) for s in sim.statuses())
        texts = json.dumps(sorted((m["id"], m["text"]["body"]) for m in sim.messages()), ensure_ascii=False)
        return ids, events, texts

    first = run(21, 2 * DAY)
    assert run(21, 2 * DAY) == first
    assert run(21, 600) == first  # batching does not change ids or outcomes
    assert run(21, 2 * DAY, scheduler_while_sending=False) == first
    assert run(22, 2 * DAY)[0] != first[0]


def test_failed_emit_is_offered_again_on_the_next_run() -> None:
    sim = Sim()
    calls = {"n": 0}

    def flaky(payload: dict[str, Any]) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database down")
        sim.payloads.append(payload)

    sim.net.emit = flaky
    sim.send(user(1))
    assert sim.net.advance(1) == 0
    assert sim.net.advance(0) >= 1
    assert sim.statuses()[0]["status"] == "sent"


def test_uncapped_params_accept_anything_at_once() -> None:
    sim = Sim(SimulatorParams.uncapped(seed=1))
    for _ in range(2_000):
        sim.send(user(1), MessageKind.text, text="bench")
    assert sim.net.accept_delay(NUMBER) == 0.0
    assert sim.net.pending() == 2_000


def test_overrides_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown"):
        SimulatorParams().with_overrides({"reply_rate": 0.5})
    with pytest.raises(ValueError, match="wrong type"):
        SimulatorParams().with_overrides({"read_share": "high"})
    params = SimulatorParams().with_overrides({"reply_mix": [["stop", 1]], "messaging_limit": None})
    assert params.reply_mix == (("stop", 1),)
    assert params.messaging_limit is None


def test_channel_sends_checks_numbers_and_reports_its_connection() -> None:
    clock = ManualClock()
    net = SimulatedNetwork(SimulatorParams(seed=4, accept_latency_s=0.001), clock=clock)
    sender = SenderNumber(
        display_number="+15550009999",
        name="Demo",
        channel=ChannelType.simulator,
        provider_id="sim-1",
        throughput_mps=80,
        messaging_limit=250,
        settings={"simulator": {"not_on_whatsapp_share": 0.5}},
    )
    channel = SimulatorChannel(net, sender)

    async def scenario() -> None:
        result = await channel.send(OutboundMessage(to="+5511987000001", kind=MessageKind.template))
        assert result.provider_message_id.startswith("wamid.")
        with pytest.raises(SendError) as caught:
            await channel.send(OutboundMessage(to="+5511987000001", text="hi"))
        assert caught.value.code == 131047
        answers = [await channel.check_number(f"+5511987{i:06d}") for i in range(200)]
        assert 60 < answers.count(False) < 140  # the per-number override of the not-on-WhatsApp share
        state = await channel.connection()
        assert (state.status, state.quality_rating, state.messaging_limit) == ("connected", "green", 250)
        await channel.logout()
        assert (await channel.connection()).status == "logged_out"

    asyncio.run(scenario())


def test_background_thread_emits_and_stops_cleanly() -> None:
    payloads: list[dict[str, Any]] = []
    net = SimulatedNetwork(SimulatorParams(seed=2), emit=payloads.append, clock=SimClock(speed=1_000))
    net.register_number(NUMBER, DISPLAY)
    net.start(interval=0.01)
    thread = net._thread
    assert thread is not None
    assert thread.daemon
    net.accept(NUMBER, OutboundMessage(to=user(1), kind=MessageKind.template))
    deadline = time.monotonic() + 5
    while not payloads and time.monotonic() < deadline:
        time.sleep(0.01)
    net.stop()
    assert not thread.is_alive()
    assert payloads[0]["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] in {"sent", "failed"}


def test_every_payload_parses_cleanly_as_a_cloud_api_webhook() -> None:
    from greenline.channels.cloud_payloads import parse_cloud_webhook_with_warnings

    params = SimulatorParams(seed=9, reply_share=0.5, builtin_stop_share=1.0, block_share=0.2, report_share=0.05)
    sim = Sim(params, messaging_limit=None)
    for i in range(200):
        sim.send(user(i), marketing=True, client_ref=f"c{i}")
        if i % 50 == 49:
            sim.net.advance(1)
    sim.net.simulate_incoming(NUMBER, user(500), "STOP")
    sim.net.advance(2 * DAY)
    statuses = messages = signals = 0
    for payload in sim.payloads:
        events, warnings = parse_cloud_webhook_with_warnings(json.loads(json.dumps(payload)))
        assert warnings == []
        statuses += sum(len(v) for v in events.statuses.values())
        messages += sum(len(v) for v in events.messages.values())
        signals += sum(len(v) for v in events.signals.values())
    assert statuses == len(sim.statuses())
    assert messages == len(sim.messages()) > 0
    kinds = {v["event"] for v in sim.changes("phone_number_quality_update")}
    assert "FLAGGED" in kinds
    assert signals == len(sim.changes("phone_number_quality_update")) + sum(
        len(v["user_preferences"]) for v in sim.changes("user_preferences")
    )
