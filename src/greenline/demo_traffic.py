"""Simulated customer traffic for the demo tenant, so the inbox and receipts move while `make run` runs.

Only active when `GREENLINE_DEMO_TRAFFIC` is on (`greenline demo` turns it on). Every tick a few demo
contacts write to the tenant's simulated number; their replies, receipts and the occasional STOP go
through the same inbound pipeline as Meta's webhooks.
"""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import func, select

from greenline.channels.registry import register_simulated, simulator_network
from greenline.core.db import unscoped
from greenline.core.jobs import registry
from greenline.core.runtime import get_runtime
from greenline.models import ChannelType, Contact, SenderNumber, Unsubscriber

LINES = [
    "Hi! Do you have this in size M?",
    "What time do you close today?",
    "Can I pay on delivery?",
    "Olá! Ainda tem desconto?",
    "¿Hacen envíos a Guadalajara?",
    "Thanks, got my order 🙏",
    "I'm interested, send me the catalogue",
    "STOP",
]


@registry.job("demo.traffic")
def demo_traffic(**_: Any) -> int:
    """A few demo contacts write to each simulated number; returns how many messages were simulated."""
    runtime = get_runtime()
    if not runtime.settings.demo_traffic:
        return 0
    rng = random.Random()  # noqa: S311 - demo traffic, not security
    sent = 0
    with runtime.db.session() as session, unscoped(session):
        senders = session.scalars(select(SenderNumber).where(SenderNumber.channel == ChannelType.simulator)).all()
        for sender in senders:
            phones = session.scalars(
                select(Contact.phone)
                .where(Contact.tenant_id == sender.tenant_id)
                .where(~select(Unsubscriber.id).where(Unsubscriber.tenant_id == sender.tenant_id,
                                                      Unsubscriber.phone == Contact.phone).exists())
                .order_by(func.random())
                .limit(rng.randint(1, 3))
            ).all()  # fmt: skip
            register_simulated(runtime, sender)
            network = simulator_network(runtime)
            for phone in phones:
                line = LINES[-1] if rng.random() < 0.05 else rng.choice(LINES[:-1])
                network.simulate_incoming(sender.provider_id, phone, line)
                sent += 1
    return sent


registry.every(20.0, "demo.traffic")
