"""The inbound pipeline: durable intake, then parse → route to the tenant → apply, for every channel.

Webhook handlers only store events (see store.py); `process_pending` turns stored events into state:
statuses (monotonic), incoming messages (contact, conversation, hooks) and number signals. It runs on a
background thread in embedded mode and as the `inbound.process` job in scale mode. Events are
claimed with SKIP LOCKED on PostgreSQL, so several workers never apply the same event twice.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import structlog
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from greenline.channels.baileys import parse_gateway_event
from greenline.channels.base import NumberSignal, ParsedEvents
from greenline.core.db import bind_tenant, unscoped, utcnow
from greenline.core.runtime import Runtime
from greenline.inbound import hooks as _hooks  # noqa: F401 - registers the message.received handlers
from greenline.inbound.incoming import apply_incoming
from greenline.inbound.statuses import apply_statuses
from greenline.inbound.store import EventStore
from greenline.models import ChannelType, InboundEvent, QualityRating, SenderNumber, SenderStatus
from greenline.optouts import service as optouts

log = structlog.get_logger(__name__)

MAX_ATTEMPTS = 5
GATHER_SECONDS = 0.2  # the processor thread's pause after a wake-up


class Throttled:
    """Runs `action` at most once per `interval`; calls inside an interval share one run at its end.

    Every call is followed by a run that starts no earlier than the call, so nothing waits for a sweep.
    """

    def __init__(self, action: Callable[[], None], interval: float) -> None:
        self.action = action
        self.interval = interval
        self._lock = threading.Lock()
        self._next = 0.0  # monotonic time before which calls are deferred
        self._deferred = False

    def __call__(self) -> None:
        with self._lock:
            now = time.monotonic()
            if now >= self._next:
                self._next = now + self.interval
            elif self._deferred:
                return  # the run already scheduled starts after this call
            else:
                self._deferred = True
                timer = threading.Timer(self._next - now, self._run_deferred)
                timer.daemon = True
                timer.start()
                return
        self.action()

    def _run_deferred(self) -> None:
        with self._lock:
            self._deferred = False
            self._next = time.monotonic() + self.interval
        self.action()


def event_store(runtime: Runtime) -> EventStore:
    store = runtime.services.get("inbound_store")
    if store is None:

        def wake() -> None:
            wake_processor(runtime)

        on_stored: Callable[[], None] | None = wake
        if runtime.settings.scale_mode:
            # One Celery message per GATHER_SECONDS, not one per committed batch (hundreds per second
            # under load): the job applies everything stored when it runs.
            on_stored = Throttled(wake, GATHER_SECONDS)
        elif runtime.settings.inbound_processor == "process":
            on_stored = None  # the processor process polls: there is nobody here to wake
        store = EventStore(runtime.db, on_stored=on_stored)
        runtime.services["inbound_store"] = store
    assert isinstance(store, EventStore)
    return store


def ingest_simulated(runtime: Runtime, payload: dict[str, Any]) -> None:
    """The simulator's events take the same path as Meta's webhooks (Cloud API payloads)."""
    event_store(runtime).ingest_sync(ChannelType.simulator, payload)


def _parse(channel: ChannelType, payload: Any) -> ParsedEvents:
    if channel == ChannelType.baileys:
        return parse_gateway_event(payload)
    from greenline.channels.cloud_payloads import parse_cloud_webhook

    return parse_cloud_webhook(payload)


def _merge(into: ParsedEvents, other: ParsedEvents) -> None:
    for number, statuses in other.statuses.items():
        into.statuses.setdefault(number, []).extend(statuses)
    for number, messages in other.messages.items():
        into.messages.setdefault(number, []).extend(messages)
    for number, signals in other.signals.items():
        into.signals.setdefault(number, []).extend(signals)


def _apply(session: Session, channel: ChannelType, parsed: ParsedEvents) -> None:
    """Route each business number's events to its tenant and apply them in a bound session."""
    ids = parsed.number_ids()
    if not ids:
        return
    # Quality updates name only the display number ("+1555..."), everything else the provider's id.
    displays = {i for i in ids if i.startswith("+")}
    with unscoped(session):
        senders = session.scalars(
            select(SenderNumber).where(
                SenderNumber.channel == channel,
                or_(SenderNumber.provider_id.in_(ids - displays), SenderNumber.display_number.in_(displays)),
            )
        ).all()
    known = {s.provider_id: s for s in senders if s.provider_id in ids}
    for display in displays:
        # A display number shared by several tenants' numbers cannot be routed safely: drop the signal.
        owners = [s for s in senders if s.display_number == display]
        if len(owners) == 1:
            known[display] = owners[0]
    for number_id in sorted(ids - set(known)):
        log.warning("inbound.unknown_number", channel=channel, number_id=number_id)
    for number_id, sender in known.items():
        bind_tenant(session, sender.tenant_id)
        statuses = parsed.statuses.get(number_id, [])
        if statuses:
            apply_statuses(session, sender.tenant_id, sender.id, statuses)
        messages = parsed.messages.get(number_id, [])
        if messages:
            apply_incoming(session, sender, messages)
        for signal in parsed.signals.get(number_id, []):
            apply_signal(session, sender, signal)
        sender.last_event_at = utcnow()
        session.flush()
    session.info.pop("tenant_id", None)


_SIGNAL_STATUS = {"restricted": SenderStatus.restricted, "banned": SenderStatus.banned}
_QUALITY_EVENTS = {"FLAGGED": QualityRating.red, "UNFLAGGED": QualityRating.green}


def apply_signal(session: Session, sender: SenderNumber, signal: NumberSignal) -> None:
    """Connection, quality and restriction signals update the number; user preferences update consent."""
    data = signal.data
    if signal.kind in _SIGNAL_STATUS:
        sender.status = _SIGNAL_STATUS[signal.kind]
        sender.status_reason = str(data.get("reason") or data.get("event") or signal.kind)[:300]
    elif signal.kind == "connection":
        status = str(data.get("status", ""))
        if status in SenderStatus.__members__:
            sender.status = SenderStatus(status)
            sender.status_reason = str(data.get("reason") or "")[:300] or None
    elif signal.kind == "quality":
        rating = str(data.get("quality_rating") or data.get("rating") or "").lower()
        if rating in QualityRating.__members__:
            sender.quality_rating = QualityRating(rating)
        elif str(data.get("event", "")).upper() in _QUALITY_EVENTS:
            sender.quality_rating = _QUALITY_EVENTS[str(data["event"]).upper()]
        limit = data.get("messaging_limit")
        if isinstance(limit, int):
            sender.messaging_limit = limit
    elif signal.kind == "user_preference" and data.get("phone"):
        if data.get("value") == "stop":
            optouts.opt_out(session, str(data["phone"]), reason="Stopped marketing in WhatsApp", source="whatsapp")
        elif data.get("value") == "resume":
            optouts.opt_in(session, str(data["phone"]), source="whatsapp:resume", note=None, actor_user_id=None)


def _claim(session: Session, limit: int) -> list[tuple[int, ChannelType, Any]]:
    """Lock up to `limit` unprocessed events, oldest first (plain rows: no ORM objects on the hot path)."""
    stmt = (
        select(InboundEvent.id, InboundEvent.channel, InboundEvent.payload)
        .where(InboundEvent.processed_at.is_(None), InboundEvent.attempts < MAX_ATTEMPTS)
        .order_by(InboundEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [(row.id, row.channel, row.payload) for row in session.execute(stmt)]


def process_pending(runtime: Runtime, limit: int | None = None) -> int:
    """Apply up to `limit` stored events in one transaction; returns how many were processed."""
    limit = limit or runtime.settings.inbound_batch_size
    with runtime.session() as session:
        events = _claim(session, limit)
        if not events:
            return 0
        ids = [event_id for event_id, _, _ in events]
        try:
            by_channel: dict[ChannelType, ParsedEvents] = defaultdict(ParsedEvents)
            for _, channel, payload in events:
                _merge(by_channel[channel], _parse(channel, payload))
            for channel, parsed in by_channel.items():
                _apply(session, channel, parsed)
            session.execute(update(InboundEvent).where(InboundEvent.id.in_(ids)).values(processed_at=utcnow()))
            session.commit()
            return len(events)
        except Exception:
            session.rollback()
            log.exception("inbound.batch_failed", events=len(events))
    return _process_one_by_one(runtime, ids)


def _process_one_by_one(runtime: Runtime, ids: list[int]) -> int:
    done = 0
    for event_id in ids:
        with runtime.session() as session:
            event = session.get(InboundEvent, event_id, with_for_update={"skip_locked": True})
            if event is None or event.processed_at is not None:
                continue
            try:
                _apply(session, event.channel, _parse(event.channel, event.payload))
                event.processed_at = utcnow()
                session.commit()
                done += 1
            except Exception as exc:  # noqa: BLE001 - recorded on the event, retried, then parked
                session.rollback()
                session.execute(
                    update(InboundEvent)
                    .where(InboundEvent.id == event_id)
                    .values(attempts=InboundEvent.attempts + 1, error=f"{type(exc).__name__}: {exc}"[:2000])
                )
                session.commit()
                log.warning("inbound.event_failed", event_id=event_id, error=type(exc).__name__)
    return done


# --- embedded-mode processor thread ----------------------------------------------


class Processor:
    """Applies stored events on a background thread: woken by each committed intake batch, or polling.

    In a web process it is woken by the event store and looks anyway every `idle_wait` seconds; in the
    processor process (standalone.py) nothing wakes it, so it polls every GATHER_SECONDS.
    """

    def __init__(self, runtime: Runtime, idle_wait: float = 1.0) -> None:
        self.runtime = runtime
        self.idle_wait = idle_wait
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.run, name="greenline-inbound", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def run(self) -> None:
        limit = self.runtime.settings.inbound_batch_size
        while not self._stop.is_set():
            self._wake.wait(timeout=self.idle_wait)
            self._wake.clear()
            try:
                done = limit
                while not self._stop.is_set() and done > 0:
                    if done < limit:
                        # Not a backlog: let more events gather. One batch of many costs far less than
                        # many small ones, and the CPU saved goes to acknowledging webhooks.
                        self._stop.wait(GATHER_SECONDS)
                    done = process_pending(self.runtime)
            except Exception:
                log.exception("inbound.processor_error")


def wake_processor(runtime: Runtime) -> None:
    if runtime.settings.scale_mode:
        runtime.runner.submit("inbound.process", {})
        return
    if runtime.settings.inbound_processor == "process":
        return  # the processor process (standalone.py) polls; this process only stores events
    processor = runtime.services.get("inbound_processor")
    if processor is None:
        processor = Processor(runtime)
        runtime.services["inbound_processor"] = processor
        processor.start()
    processor.wake()
