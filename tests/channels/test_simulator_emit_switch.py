"""The simulator's `emit_events` switch: off, sends are accepted but no status webhook ever follows."""

from __future__ import annotations

from typing import Any

from greenline.channels.base import OutboundMessage
from greenline.channels.simulator import ManualClock, SimulatedNetwork, SimulatorParams

NUMBER = "100200300"


def _run(params: SimulatorParams, overrides: dict[str, Any] | None = None) -> tuple[list[str], list[dict[str, Any]]]:
    emitted: list[dict[str, Any]] = []
    network = SimulatedNetwork(params, emit=emitted.append, clock=ManualClock())
    network.register_number(NUMBER, "+15550001111", overrides=overrides)
    ids = [network.accept(NUMBER, OutboundMessage(to=f"+5511987{i:06d}", text="hi")).provider_message_id
           for i in range(20)]  # fmt: skip
    network.advance(86_400)  # a day: every planned sent/delivered/read/reply would be out by now
    return ids, emitted


def test_with_events_off_sends_are_accepted_and_nothing_is_emitted() -> None:
    ids, emitted = _run(SimulatorParams.uncapped(seed=3, emit_events=False))
    assert len(set(ids)) == 20
    assert all(i.startswith("wamid.") for i in ids)
    assert emitted == []


def test_events_are_on_by_default_and_can_be_turned_off_per_number() -> None:
    _, emitted = _run(SimulatorParams.uncapped(seed=3))
    assert emitted  # the statuses of the 20 messages
    _, per_number = _run(SimulatorParams.uncapped(seed=3), overrides={"emit_events": False})
    assert per_number == []
