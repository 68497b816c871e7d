"""Build the channel object for a sender number (credentials decrypted only here)."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx

from greenline.channels.baileys import BaileysChannel
from greenline.channels.base import Channel
from greenline.core.errors import AppError
from greenline.core.runtime import Runtime
from greenline.models import ChannelType, SenderNumber

_lock = threading.Lock()


def credentials(runtime: Runtime, sender: SenderNumber) -> dict[str, Any]:
    if not sender.credentials_encrypted:
        return {}
    data: dict[str, Any] = json.loads(runtime.secrets.decrypt(sender.credentials_encrypted))
    return data


def simulator_network(runtime: Runtime) -> Any:
    """The process's simulated WhatsApp network (created on first use, wired to the inbound pipeline)."""
    with _lock:
        network = runtime.services.get("simulator")
        if network is None:
            from greenline.channels.simulator.clock import SimClock
            from greenline.channels.simulator.network import SimulatedNetwork
            from greenline.channels.simulator.params import SimulatorParams
            from greenline.core.clock import clock_of, use_clock
            from greenline.inbound.service import ingest_simulated

            params = SimulatorParams(seed=runtime.settings.simulator_seed, speed=runtime.settings.simulator_speed)
            clock = clock_of(runtime)
            if clock is None and params.speed != 1.0:
                # An accelerated simulator shares its clock with the campaign engine (delays, warm-up days).
                clock = SimClock(params.speed)
                use_clock(runtime, clock)
            network = SimulatedNetwork(params, emit=lambda payload: ingest_simulated(runtime, payload), clock=clock)
            network.start()
            runtime.services["simulator"] = network
        return network


def register_simulated(runtime: Runtime, sender: SenderNumber) -> None:
    """Tell the simulator about a number once; later it keeps its own state (raised limits, logout)."""
    network = simulator_network(runtime)
    if network.is_registered(sender.provider_id):
        return
    network.register_number(
        sender.provider_id,
        sender.display_number,
        throughput_mps=sender.throughput_mps,
        messaging_limit=sender.messaging_limit,
        warmup_started_at=sender.warmup_started_at or sender.created_at,
        overrides=dict(sender.settings.get("simulator", {})),
    )


def channel_for(runtime: Runtime, sender: SenderNumber, client: httpx.AsyncClient | None = None) -> Channel:
    """The number's channel; `client` pools Cloud API connections across many sends (campaign batches)."""
    settings = runtime.settings
    if sender.channel == ChannelType.simulator:
        from greenline.channels.simulator.channel import SimulatorChannel

        register_simulated(runtime, sender)
        channel: Channel = SimulatorChannel(simulator_network(runtime), sender.provider_id)
        return channel
    if sender.channel == ChannelType.cloud:
        from greenline.channels.cloud import CloudApiChannel

        creds = credentials(runtime, sender)
        return CloudApiChannel(
            base_url=creds.get("base_url") or settings.cloud_api_base_url,
            api_version=creds.get("api_version") or settings.cloud_api_version,
            phone_number_id=sender.provider_id,
            access_token=str(creds.get("access_token", "")),
            client=client,
        )
    if not settings.gateway_secret:
        raise AppError("the Baileys gateway is not configured (GREENLINE_GATEWAY_SECRET)", status=503, code="gateway")
    return BaileysChannel(settings.gateway_url, settings.gateway_secret, sender.provider_id)
