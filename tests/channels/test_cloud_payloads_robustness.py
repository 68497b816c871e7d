"""Cloud API webhook parsing never raises: malformed, unknown and randomly damaged payloads."""

from __future__ import annotations

import copy
import datetime as dt
import random
from typing import Any

import pytest

from greenline.channels.cloud_payloads import (
    parse_cloud_webhook,
    parse_cloud_webhook_with_warnings,
    status_rank,
    to_e164,
)
from tests.channels.fake_graph import FIXTURES, PHONE_ID, USER, inbound, load_fixture, webhook, with_message


def _bad_status(**fields: Any) -> dict[str, Any]:
    status = {"id": "wamid.S", "status": "delivered", "timestamp": "1750030073", "recipient_id": "16505551234"}
    return webhook({"statuses": [status | fields]})


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        "text",
        {"object": "page", "entry": []},
        {"entry": "x"},
        {"entry": [1, {"changes": [None]}]},
        {"entry": [{"changes": [{"field": "messages", "value": []}]}]},
        {"entry": [{"changes": [{"field": "messages", "value": {"statuses": [{"id": "w", "status": "sent"}]}}]}]},
        webhook({"statuses": "nope", "messages": {"a": 1}, "errors": 5}),
        _bad_status(id=None),
        _bad_status(status="deleted"),
        _bad_status(id="wamid." + "A" * 200),
        webhook({"messages": [inbound("text", {"body": "hi"}, **{"from": ""})]}),
        webhook({"messages": [inbound("system", {"body": "changed number", "type": "user_changed_number"})]}),
        webhook({"user_preferences": [{"wa_id": "16505551234", "value": "maybe", "timestamp": 1}]}, "user_preferences"),
        webhook({"event": ""}, "phone_number_quality_update"),
    ],
)
def test_malformed_parts_are_skipped_with_warnings(payload: Any) -> None:
    events, warnings = parse_cloud_webhook_with_warnings(payload)

    assert events.number_ids() == set()
    assert warnings


def test_bad_timestamps_fall_back_to_receipt_time() -> None:
    before = dt.datetime.now(dt.UTC)
    events, warnings = parse_cloud_webhook_with_warnings(_bad_status(timestamp="yesterday"))

    [update] = events.statuses[PHONE_ID]
    assert update.status == "delivered"
    assert before <= update.occurred_at <= dt.datetime.now(dt.UTC)
    assert warnings == [
        "entry[0].changes[0].value.statuses[0]: missing or malformed timestamp; using the time of receipt"
    ]


def test_unknown_message_types_are_kept_with_a_warning() -> None:
    events, warnings = parse_cloud_webhook_with_warnings(with_message(inbound("order", {"catalog_id": "c"})))

    [message] = events.messages[PHONE_ID]
    assert (message.kind, message.text, message.media) == ("order", None, {"catalog_id": "c"})
    assert len(warnings) == 1


def _mutations(value: Any, rng: random.Random) -> Any:
    junk = [None, "", "x", 0, -1, 10**30, 1.5, float("nan"), True, [], {}, [None], {"id": None}]
    if isinstance(value, dict):
        return {k: (rng.choice(junk) if rng.random() < 0.15 else _mutations(v, rng)) for k, v in value.items()}
    if isinstance(value, list):
        return [rng.choice(junk) if rng.random() < 0.15 else _mutations(v, rng) for v in value]
    return value


def test_randomly_damaged_payloads_never_raise() -> None:
    rng = random.Random(20240601)
    names = [p.stem for p in FIXTURES.glob("webhook_*.json")]
    samples = [load_fixture(name) for name in names] + [
        with_message(load_fixture(n)) for n in ("message_image", "message_list_reply")
    ]
    for _ in range(400):
        damaged = _mutations(copy.deepcopy(rng.choice(samples)), rng)
        events, warnings = parse_cloud_webhook_with_warnings(damaged)
        assert not [w for w in warnings if "skipped after" in w]  # handled by checks, not by the last-resort guard
        assert parse_cloud_webhook(damaged).number_ids() == events.number_ids()
        for updates in events.statuses.values():
            assert all(u.occurred_at.tzinfo and u.recipient in (None, USER) for u in updates)


def test_status_rank_never_lets_a_message_move_down() -> None:
    assert status_rank("sent") < status_rank("failed") < status_rank("delivered") < status_rank("read")
    assert status_rank("played") == status_rank("read")
    assert status_rank("deleted") == 0


@pytest.mark.parametrize(
    ("raw", "e164"),
    [("16505551234", USER), ("+16505551234", USER), (16505551234, USER), ("", None), ("user.abc", None), (True, None)],
)
def test_to_e164(raw: Any, e164: str | None) -> None:
    assert to_e164(raw) == e164
