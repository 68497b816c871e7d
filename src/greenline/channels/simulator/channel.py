"""The simulator as a `Channel`: one sender number on the shared `SimulatedNetwork`."""

from __future__ import annotations

import asyncio
from typing import Any

from greenline.channels.base import ConnectionState, OutboundMessage, SendResult
from greenline.channels.simulator.network import SimulatedNetwork
from greenline.models.channel import SenderNumber


class SimulatorChannel:
    """Sends through the simulated network; its webhooks reach the inbound pipeline through the network's emit."""

    def __init__(self, network: SimulatedNetwork, sender: SenderNumber | str) -> None:
        self.network = network
        if isinstance(sender, str):
            self.number_id = sender
            return
        self.number_id = sender.provider_id
        if not network.is_registered(self.number_id):
            overrides: dict[str, Any] = dict((sender.settings or {}).get("simulator") or {})
            network.register_number(
                sender.provider_id,
                sender.display_number,
                throughput_mps=sender.throughput_mps,
                messaging_limit=sender.messaging_limit,
                warmup_started_at=sender.warmup_started_at or sender.created_at,
                overrides=overrides,
            )

    async def send(self, message: OutboundMessage) -> SendResult:
        """Wait the simulated API latency, then let the network accept or refuse the message."""
        delay = self.network.accept_delay(self.number_id)
        if delay > 0:
            await asyncio.sleep(delay)
        return self.network.accept(self.number_id, message)

    async def check_number(self, phone: str) -> bool | None:
        """Whether the simulated phone is a WhatsApp user."""
        return self.network.is_on_whatsapp(self.number_id, phone)

    async def connection(self) -> ConnectionState:
        """The number's standing in the simulated network, with its quality rating and messaging limit."""
        state = self.network.status(self.number_id)
        detail = None
        if state.restricted_until is not None:
            detail = f"business-initiated messages restricted until {state.restricted_until.isoformat()}"
        elif state.status == "banned":
            detail = "banned for sustained low quality"
        return ConnectionState(
            status=state.status,
            detail=detail,
            quality_rating=state.quality_rating.lower(),
            messaging_limit=state.messaging_limit,
        )

    async def logout(self) -> None:
        """Disconnect the number; sends fail with 190 until it is registered again."""
        self.network.logout(self.number_id)
