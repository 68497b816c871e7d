"""Sender numbers ("WhatsApp accounts") of a tenant and the one-off WhatsApp operations on them."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import secrets
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from greenline.channels import registry, sending
from greenline.channels.baileys import BaileysChannel
from greenline.channels.base import SendError
from greenline.channels.schemas import (
    BulkSendRequest,
    BulkSendResult,
    CheckContactOut,
    SenderCreate,
    SenderHealth,
    SenderOut,
    SenderUpdate,
    SendRequest,
    SentMessage,
    Skipped,
)
from greenline.channels.warmup import allowance_now, warmup_day
from greenline.core import clock
from greenline.core.db import session_tenant, utcnow
from greenline.core.errors import AppError, Conflict, InvalidInput, NotFound
from greenline.core.phones import PhoneError, normalize_phone
from greenline.core.principal import Principal
from greenline.core.runtime import Runtime
from greenline.inbound.incoming import ensure_contact
from greenline.models import ChannelType, Message, PhoneNumber, QualityRating, SenderNumber, SenderStatus, Tenant
from greenline.models.enums import Direction, MessageStatus
from greenline.optouts import service as optouts


def _country(session: Session) -> str:
    tenant = session.get(Tenant, session_tenant(session))
    return str((tenant.settings if tenant else {}).get("default_country") or "US")


def _phone(session: Session, raw: str, field: str) -> str:
    try:
        return normalize_phone(raw, _country(session))
    except PhoneError as exc:
        raise InvalidInput(field, f"{raw!r} is not a valid phone number: {exc}") from None


def health(session: Session, sender: SenderNumber) -> SenderHealth:
    since = utcnow() - dt.timedelta(hours=24)
    sent, failed = session.execute(
        select(
            func.count().filter(Message.status != MessageStatus.failed),
            func.count().filter(Message.status == MessageStatus.failed),
        ).where(
            Message.sender_number_id == sender.id,
            Message.direction == Direction.outbound,
            Message.created_at >= since,
        )
    ).one()
    total = sent + failed
    now = utcnow()
    return SenderHealth(
        sent_24h=sent,
        failed_24h=failed,
        error_rate_24h=round(failed / total, 4) if total else 0.0,
        warmup_day=warmup_day(sender.warmup_started_at, now) if sender.warmup_enabled else None,
        allowance_today=allowance_now(
            sender.warmup_started_at, now, enabled=sender.warmup_enabled, daily_cap=sender.daily_cap
        ),
    )


def out(session: Session, sender: SenderNumber, *, with_health: bool = True) -> SenderOut:
    data = {c: getattr(sender, c) for c in SenderOut.model_fields if c != "health"}
    return SenderOut(**data, health=health(session, sender) if with_health else None)


def get_sender(session: Session, number_id: int | None) -> SenderNumber:
    """A number of the acting tenant, or its default one when no id is given."""
    sender = session.get(SenderNumber, number_id) if number_id is not None else sending.default_sender(session)
    if sender is None:
        raise NotFound("WhatsApp number not found" if number_id else "the tenant has no WhatsApp number yet")
    return sender


def _apply_pacing(sender: SenderNumber, data: SenderCreate | SenderUpdate) -> None:
    values = data.model_dump(exclude_unset=True)
    for field in ("daily_cap", "hourly_cap", "throughput_mps", "messaging_limit", "warmup_enabled", "name"):
        if field in values and (values[field] is not None or field in ("daily_cap", "hourly_cap")):
            setattr(sender, field, values[field])
    if values.get("min_gap_seconds") is not None:
        sender.min_gap_seconds = float(values["min_gap_seconds"])
    if "quiet_hours" in values:
        sender.quiet_hours = values["quiet_hours"] or {}


def _make_default(session: Session, sender: SenderNumber) -> None:
    session.execute(update(SenderNumber).where(SenderNumber.id != sender.id).values(is_default=False))
    sender.is_default = True


def create_sender(session: Session, runtime: Runtime, data: SenderCreate) -> SenderOut:
    display = _phone(session, data.display_number, "display_number")
    if session.scalar(select(SenderNumber.id).where(SenderNumber.display_number == display)) is not None:
        raise Conflict(f"{display} is already connected", details=[{"field": "display_number", "problem": "taken"}])
    sender = SenderNumber(
        display_number=display, name=data.name, channel=data.channel, warmup_started_at=clock.now(runtime)
    )
    if data.channel == ChannelType.simulator:
        sender.provider_id = f"sim-{secrets.token_hex(8)}"
        sender.status, sender.quality_rating, sender.messaging_limit = (
            SenderStatus.connected, QualityRating.green, 2000)  # fmt: skip
        sender.settings = {"simulator": data.simulator or {}}
    elif data.channel == ChannelType.cloud:
        assert data.cloud is not None
        sender.provider_id = data.cloud.phone_number_id
        sender.credentials_encrypted = runtime.secrets.encrypt(json.dumps(data.cloud.model_dump(exclude_none=True)))
    else:
        sender.provider_id = f"gl{session_tenant(session)}-{secrets.token_hex(6)}"
    _apply_pacing(sender, data)
    session.add(sender)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict("this WhatsApp number is already connected to Greenline",
                       details=[{"field": "cloud.phone_number_id", "problem": "taken"}]) from None  # fmt: skip
    first = session.scalar(select(func.count()).select_from(SenderNumber)) == 1
    if data.is_default or first:
        _make_default(session, sender)
    return out(session, sender)


def update_sender(session: Session, runtime: Runtime, number_id: int, data: SenderUpdate) -> SenderOut:
    sender = get_sender(session, number_id)
    _apply_pacing(sender, data)
    if data.cloud is not None:
        if sender.channel != ChannelType.cloud:
            raise InvalidInput("cloud", "only Cloud API numbers have cloud credentials")
        if data.cloud.phone_number_id != sender.provider_id:
            raise InvalidInput("cloud.phone_number_id", "cannot change; connect a new number instead")
        sender.credentials_encrypted = runtime.secrets.encrypt(json.dumps(data.cloud.model_dump(exclude_none=True)))
        sender.status, sender.status_reason = SenderStatus.connecting, None
    if data.is_default:
        _make_default(session, sender)
    session.flush()
    return out(session, sender)


def delete_sender(session: Session, number_id: int) -> None:
    session.delete(get_sender(session, number_id))
    session.flush()


def run(coro: Any) -> Any:
    """Run a channel coroutine from a sync endpoint (FastAPI runs those on worker threads)."""
    return asyncio.run(coro)


def refresh_connection(session: Session, runtime: Runtime, sender: SenderNumber) -> dict[str, Any]:
    """Ask the provider for the number's state and store what it says."""
    try:
        state = run(registry.channel_for(runtime, sender).connection())
    except SendError as exc:
        if exc.info.retry.value == "reauth":
            sender.status, sender.status_reason = SenderStatus.invalid_credentials, exc.message[:300]
        return {"status": sender.status.value, "detail": exc.message, "qr": None}
    if state.status in SenderStatus.__members__:
        sender.status = SenderStatus(state.status)
    if state.quality_rating and state.quality_rating.lower() in QualityRating.__members__:
        sender.quality_rating = QualityRating(state.quality_rating.lower())
    if state.messaging_limit is not None:
        sender.messaging_limit = state.messaging_limit
    return {"status": state.status, "detail": state.detail, "qr": state.qr,
            "quality_rating": state.quality_rating, "messaging_limit": state.messaging_limit}  # fmt: skip


def pairing_code(session: Session, runtime: Runtime, sender: SenderNumber, raw_phone: str) -> str:
    """Ask the gateway for a pairing code: linking by phone number instead of scanning the QR."""
    if sender.channel != ChannelType.baileys:
        raise Conflict("only linked-device numbers log in with a pairing code")
    phone = _phone(session, raw_phone, "phone")
    channel = registry.channel_for(runtime, sender)
    assert isinstance(channel, BaileysChannel)
    try:
        code: str = run(channel.pairing_code(phone))
    except SendError as exc:
        raise AppError(
            f"the gateway refused the pairing code: {exc.message}", status=409, code="pairing_refused"
        ) from None
    return code


def logout(session: Session, runtime: Runtime, sender: SenderNumber) -> None:
    try:
        run(registry.channel_for(runtime, sender).logout())
    except SendError as exc:
        raise AppError(f"the provider refused the logout: {exc.message}", status=502, code="provider_error") from None
    sender.status, sender.status_reason = SenderStatus.logged_out, "logged out from Greenline"


def send_one(session: Session, principal: Principal, data: SendRequest) -> SentMessage:
    sender = get_sender(session, data.number_id)
    phone = _phone(session, data.to, "to")
    contact = ensure_contact(session, phone, None)
    from greenline.conversations.messages import get_or_open_conversation

    conversation = get_or_open_conversation(session, contact.id)
    conversation.sender_number_id = conversation.sender_number_id or sender.id
    kind = "text"
    if data.media_url:
        kind = (data.media_type or "document/").split("/")[0]
        kind = kind if kind in ("image", "audio", "video") else "document"
    message = sending.queue_message(
        session, contact_id=contact.id, text=data.text, conversation_id=conversation.id,
        sender_number_id=conversation.sender_number_id, media_url=data.media_url, media_type=data.media_type,
        kind=kind, sent_by=principal.user_id,
    )  # fmt: skip
    return SentMessage(message_id=message.id, contact_id=contact.id, to=phone, status=message.status.value)


def send_bulk(session: Session, principal: Principal, data: BulkSendRequest) -> BulkSendResult:
    """Queue up to 1,000 messages; opted-out numbers and invalid ones are skipped with the reason."""
    sender = get_sender(session, data.number_id)
    country = _country(session)
    queued: list[SentMessage] = []
    skipped: list[Skipped] = []
    ids: list[int] = []
    seen: set[str] = set()
    for item in data.messages:
        try:
            phone = normalize_phone(item.to, country)
        except PhoneError as exc:
            skipped.append(Skipped(to=item.to, reason=f"invalid number: {exc}"))
            continue
        if phone in seen:
            skipped.append(Skipped(to=item.to, reason="duplicate in this request"))
            continue
        seen.add(phone)
        if data.marketing and optouts.is_opted_out_e164(session, phone):
            skipped.append(Skipped(to=phone, reason="opted out"))
            continue
        contact = ensure_contact(session, phone, None)
        message = Message(contact_id=contact.id, direction=Direction.outbound, kind="text", body=item.text,
                          status=MessageStatus.queued, queued_at=utcnow(), sender_number_id=sender.id,
                          sent_by=principal.user_id)  # fmt: skip
        session.add(message)
        session.flush()
        ids.append(message.id)
        queued.append(SentMessage(message_id=message.id, contact_id=contact.id, to=phone, status="queued"))
    if ids:
        sending.schedule_send(session, ids)
    return BulkSendResult(queued=queued, skipped=skipped)


def check_contact(session: Session, runtime: Runtime, raw: str, number_id: int | None) -> CheckContactOut:
    phone = _phone(session, raw, "phone")
    cached = session.scalar(select(PhoneNumber).where(PhoneNumber.phone == phone))
    now = utcnow()
    if cached is not None and cached.checked_at and now - cached.checked_at < dt.timedelta(days=7):
        return CheckContactOut(
            phone=phone, on_whatsapp=cached.is_whatsapp, checked_at=cached.checked_at, source="cache"
        )
    sender = get_sender(session, number_id)
    try:
        exists = run(registry.channel_for(runtime, sender).check_number(phone))
    except SendError as exc:
        raise AppError(f"the provider could not check the number: {exc.message}", status=502,
                       code="provider_error") from None  # fmt: skip
    if cached is None:
        cached = PhoneNumber(phone=phone, tags=[])
        session.add(cached)
    cached.is_whatsapp, cached.checked_at = exists, now
    cached.status = "valid" if exists else ("not_on_whatsapp" if exists is False else "unknown")
    session.flush()
    return CheckContactOut(phone=phone, on_whatsapp=exists, checked_at=now, source="channel")
