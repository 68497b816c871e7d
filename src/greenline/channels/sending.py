"""Sending single messages (inbox replies, API sends, opt-out confirmations) through a number's channel.

Messages are written `queued` inside the caller's transaction and a `channels.send_messages` job is
enqueued after commit. The job marks them `sending` and commits before calling the provider, so a
worker killed mid-send leaves `sending` rows that are never re-sent blindly. Campaign traffic has its
own paced dispatcher; this path is for one-off messages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from greenline.channels.base import MessageKind, OutboundMessage, SendError, SendResult
from greenline.channels.errors import Retry
from greenline.core.db import utcnow
from greenline.core.jobs import enqueue, registry
from greenline.core.runtime import Runtime, get_runtime
from greenline.models import Contact, Message, SenderNumber, SenderStatus
from greenline.models.enums import Direction, MessageStatus
from greenline.usage import service as usage

log = structlog.get_logger(__name__)

CONCURRENCY = 16
RETRY_DELAYS = (0.5, 2.0)  # in-job retries for transient errors before the message is marked failed


def default_sender(session: Session) -> SenderNumber | None:
    """The tenant's default number, else its first connected one."""
    senders = session.scalars(select(SenderNumber).order_by(SenderNumber.is_default.desc(), SenderNumber.id)).all()
    usable = [s for s in senders if s.status == SenderStatus.connected] or list(senders)
    return usable[0] if usable else None


def queue_message(
    session: Session,
    *,
    contact_id: int,
    text: str | None,
    conversation_id: int | None = None,
    sender_number_id: int | None = None,
    media_url: str | None = None,
    media_type: str | None = None,
    kind: str = "text",
    sent_by: int | None = None,
) -> Message:
    """Write an outbound message as `queued` and send it once the transaction commits."""
    message = Message(
        conversation_id=conversation_id,
        contact_id=contact_id,
        direction=Direction.outbound,
        kind=kind,
        body=text,
        media_url=media_url,
        media_type=media_type,
        status=MessageStatus.queued,
        queued_at=utcnow(),
        sender_number_id=sender_number_id,
        sent_by=sent_by,
    )
    session.add(message)
    session.flush()
    schedule_send(session, [message.id])
    return message


def queue_reply(
    session: Session, *, conversation_id: int | None, contact_id: int, sender_number_id: int | None, text: str
) -> Message:
    return queue_message(
        session, contact_id=contact_id, text=text, conversation_id=conversation_id, sender_number_id=sender_number_id
    )


def schedule_send(session: Session, message_ids: Sequence[int]) -> None:
    tenant_id = session.info.get("tenant_id")
    if tenant_id is None:
        raise RuntimeError("schedule_send needs a tenant-bound session")
    enqueue(session, "channels.send_messages", tenant_id=tenant_id, message_ids=list(message_ids))


@dataclass
class _Job:
    message_id: int
    sender: SenderNumber
    outbound: OutboundMessage


def _outbound(message: Message, phone: str) -> OutboundMessage:
    if message.media_url:
        kind = MessageKind(message.kind) if message.kind in MessageKind.__members__ else MessageKind.document
        return OutboundMessage(to=phone, kind=kind, media_url=message.media_url, caption=message.body,
                               client_ref=str(message.id))  # fmt: skip
    return OutboundMessage(to=phone, text=message.body or "", client_ref=str(message.id))


def _claim(runtime: Runtime, tenant_id: int, message_ids: Sequence[int]) -> list[_Job]:
    """Move queued messages to `sending` and commit, so nothing is sent twice."""
    with runtime.task_session(tenant_id) as session:
        rows = session.execute(
            select(Message, Contact.phone)
            .join(Contact, Contact.id == Message.contact_id)
            .where(Message.id.in_(message_ids), Message.status == MessageStatus.queued)
            .with_for_update(skip_locked=True, of=Message)
        ).all()
        fallback = default_sender(session)
        jobs: list[_Job] = []
        for message, phone in rows:
            sender = session.get(SenderNumber, message.sender_number_id) if message.sender_number_id else fallback
            if sender is None:
                message.status, message.error_code = MessageStatus.failed, "no_sender"
                message.error_message, message.failed_at = "the tenant has no WhatsApp number", utcnow()
                continue
            message.sender_number_id = sender.id
            message.status = MessageStatus.sending
            jobs.append(_Job(message.id, sender, _outbound(message, phone)))
        return jobs


async def _send_one(runtime: Runtime, job: _Job, gate: asyncio.Semaphore) -> SendResult | SendError:
    from greenline.channels.registry import channel_for

    async with gate:
        channel = channel_for(runtime, job.sender)
        for delay in (*RETRY_DELAYS, None):
            try:
                return await channel.send(job.outbound)
            except SendError as error:
                if error.info.retry != Retry.backoff or delay is None or error.maybe_sent:
                    return error
                await asyncio.sleep(delay)
    raise AssertionError("unreachable")


async def _send_all(runtime: Runtime, jobs: list[_Job]) -> list[SendResult | SendError]:
    gate = asyncio.Semaphore(CONCURRENCY)
    return await asyncio.gather(*(_send_one(runtime, job, gate) for job in jobs))


@registry.job("channels.send_messages", queue="dispatch")
def send_messages(tenant_id: int, message_ids: list[int]) -> int:
    """Send queued one-off messages; returns how many the provider accepted."""
    from greenline.inbound.statuses import reconcile_unmatched

    runtime = get_runtime()
    jobs = _claim(runtime, tenant_id, message_ids)
    if not jobs:
        return 0
    results = asyncio.run(_send_all(runtime, jobs))
    accepted = 0
    with runtime.task_session(tenant_id) as session:
        for job, result in zip(jobs, results, strict=True):
            if isinstance(result, SendResult):
                accepted += 1
                session.execute(
                    update(Message)
                    .where(Message.id == job.message_id)
                    .values(status=MessageStatus.sent, provider_message_id=result.provider_message_id,
                            sent_at=result.accepted_at)
                )  # fmt: skip
                continue
            values: dict[str, object]
            if result.maybe_sent:
                # Possibly delivered: a status webhook with our client reference may still settle it.
                values = {"status": MessageStatus.unknown, "error_code": str(result.code),
                          "error_message": result.message[:500]}  # fmt: skip
            else:
                values = {"status": MessageStatus.failed, "error_code": str(result.code),
                          "error_message": result.message[:500], "failed_at": utcnow()}  # fmt: skip
            session.execute(update(Message).where(Message.id == job.message_id).values(values))
            react_to_number_error(session, job.sender.id, result)
        reconcile_unmatched(session, tenant_id, [r.provider_message_id for r in results if isinstance(r, SendResult)])
    usage.record(runtime.meter, tenant_id, "messages_sent", accepted)
    log.info("channels.sent", tenant_id=tenant_id, accepted=accepted, failed=len(jobs) - accepted)
    return accepted


def react_to_number_error(session: Session, sender_id: int, error: SendError) -> None:
    """Errors about the number itself change its status, so sending stops and the dashboard shows why."""
    status = {Retry.stop_number: SenderStatus.restricted, Retry.reauth: SenderStatus.invalid_credentials}.get(
        error.info.retry
    )
    if status is None:
        return
    if error.code == 131031:  # account locked: the number can no longer send at all
        status = SenderStatus.banned
    session.execute(
        update(SenderNumber)
        .where(SenderNumber.id == sender_id)
        .values(status=status, status_reason=f"{error.code}: {error.info.title}")
    )
