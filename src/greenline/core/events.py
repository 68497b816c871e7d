"""In-process domain events: how one domain reacts to another without importing its router.

The inbound pipeline reads as a list of steps because each reaction (opt-out keywords, tenant
webhooks, later classification and lead scoring) is a handler registered here for an event name.
Handlers run inside the emitter's unit of work, in registration order; they must not commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from sqlalchemy.orm import Session

log = structlog.get_logger(__name__)

Handler = Callable[[Session, dict[str, Any]], None]

_handlers: dict[str, list[Handler]] = {}


def on(event: str) -> Callable[[Handler], Handler]:
    """Register a handler for an event name (e.g. "message.received")."""

    def register(handler: Handler) -> Handler:
        if handler not in _handlers.setdefault(event, []):
            _handlers[event].append(handler)
        return handler

    return register


def emit(session: Session, event: str, data: dict[str, Any]) -> None:
    """Run every handler of `event` in the caller's transaction."""
    for handler in _handlers.get(event, []):
        handler(session, data)


def handlers(event: str) -> list[Handler]:
    return list(_handlers.get(event, []))
