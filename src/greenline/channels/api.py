"""The seed's WhatsApp endpoints and CRUD for a tenant's sender numbers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from greenline.auth.dependencies import require
from greenline.channels import service
from greenline.channels.schemas import (
    BulkSendRequest,
    BulkSendResult,
    CheckContactOut,
    ConnectionOut,
    PairingOut,
    PairingRequest,
    QrOut,
    SenderCreate,
    SenderOut,
    SenderUpdate,
    SendRequest,
    SentMessage,
)
from greenline.core.deps import RuntimeDep, SessionDep
from greenline.core.errors import Conflict, responses
from greenline.core.permissions import Permission
from greenline.core.principal import Principal
from greenline.core.types import MAX_ID, IdPath
from greenline.models import ChannelType, SenderNumber

router = APIRouter(prefix="/whatsapp", tags=["whatsapp"])

CanRead = Annotated[Principal, Depends(require(Permission.whatsapp_read))]
CanSend = Annotated[Principal, Depends(require(Permission.whatsapp_send))]
CanManage = Annotated[Principal, Depends(require(Permission.whatsapp_manage))]
NumberQuery = Annotated[int | None, Query(ge=1, le=MAX_ID, description="Sender number id; default number if omitted")]


@router.post("/numbers", response_model=SenderOut, status_code=201, responses=responses(401, 403, 409, 422))
def create_number(session: SessionDep, runtime: RuntimeDep, _: CanManage, body: SenderCreate) -> SenderOut:
    """Connect a WhatsApp number: simulated, Cloud API (credentials stored encrypted) or linked device."""
    created = service.create_sender(session, runtime, body)
    if created.channel == ChannelType.baileys:
        sender = service.get_sender(session, created.id)
        service.refresh_connection(session, runtime, sender)
    return created


@router.get("/numbers", response_model=list[SenderOut], responses=responses(401, 403))
def list_numbers(session: SessionDep, _: CanRead) -> list[SenderOut]:
    """The tenant's numbers with status, quality, tier, warm-up and 24-hour health."""
    return [service.out(session, s) for s in session.scalars(select(SenderNumber).order_by(SenderNumber.id))]


@router.get("/numbers/{number_id}", response_model=SenderOut, responses=responses(401, 403, 404))
def get_number(session: SessionDep, _: CanRead, number_id: IdPath) -> SenderOut:
    """One number with its health."""
    return service.out(session, service.get_sender(session, number_id))


@router.put("/numbers/{number_id}", response_model=SenderOut, responses=responses(401, 403, 404, 422))
def update_number(
    session: SessionDep, runtime: RuntimeDep, _: CanManage, number_id: IdPath, body: SenderUpdate
) -> SenderOut:
    """Change a number's name, caps, quiet hours, warm-up, default flag or Cloud API credentials."""
    return service.update_sender(session, runtime, number_id, body)


@router.delete("/numbers/{number_id}", status_code=204, responses=responses(401, 403, 404))
def delete_number(session: SessionDep, _: CanManage, number_id: IdPath) -> None:
    """Disconnect and forget a number (its messages stay)."""
    service.delete_sender(session, number_id)


@router.get("/status", response_model=ConnectionOut, responses=responses(401, 403, 404))
def get_status(session: SessionDep, runtime: RuntimeDep, _: CanRead, number_id: NumberQuery = None) -> ConnectionOut:
    """Connection status of a number, asked from its provider."""
    sender = service.get_sender(session, number_id)
    state = service.refresh_connection(session, runtime, sender)
    return ConnectionOut(
        number_id=sender.id,
        status=str(state["status"]),
        detail=state.get("detail"),
        quality_rating=state.get("quality_rating"),
        messaging_limit=state.get("messaging_limit"),
    )


@router.get("/qr", response_model=QrOut, responses=responses(401, 403, 404, 409))
def get_qr(session: SessionDep, runtime: RuntimeDep, _: CanManage, number_id: NumberQuery = None) -> QrOut:
    """The QR code to link a linked-device (Baileys) number, while it waits for a scan."""
    sender = service.get_sender(session, number_id)
    if sender.channel != ChannelType.baileys:
        raise Conflict("only linked-device numbers log in with a QR code")
    state = service.refresh_connection(session, runtime, sender)
    return QrOut(number_id=sender.id, status=str(state["status"]), qr=state.get("qr"))


@router.post("/pairing-code", response_model=PairingOut, responses=responses(401, 403, 404, 409, 422))
def request_pairing_code(session: SessionDep, runtime: RuntimeDep, _: CanManage, body: PairingRequest) -> PairingOut:
    """A code to link a linked-device number by typing it on the phone instead of scanning the QR."""
    sender = service.get_sender(session, body.number_id)
    return PairingOut(number_id=sender.id, code=service.pairing_code(session, runtime, sender, body.phone))


@router.post("/logout", response_model=ConnectionOut, responses=responses(401, 403, 404, 502))
def logout(session: SessionDep, runtime: RuntimeDep, _: CanManage, number_id: NumberQuery = None) -> ConnectionOut:
    """Log a number out; a linked device must be scanned again to reconnect."""
    sender = service.get_sender(session, number_id)
    service.logout(session, runtime, sender)
    return ConnectionOut(number_id=sender.id, status=sender.status.value, detail=sender.status_reason)


@router.post("/send", response_model=SentMessage, status_code=202, responses=responses(401, 403, 404, 422))
def send_message(session: SessionDep, principal: CanSend, body: SendRequest) -> SentMessage:
    """Send one message now (queued, then handed to the number's channel)."""
    return service.send_one(session, principal, body)


@router.post("/send-bulk", response_model=BulkSendResult, status_code=202, responses=responses(401, 403, 404, 422))
def send_bulk(session: SessionDep, principal: CanSend, body: BulkSendRequest) -> BulkSendResult:
    """Send up to 1,000 messages; opted-out and invalid numbers are skipped and reported."""
    return service.send_bulk(session, principal, body)


@router.get("/check-contact/{phone}", response_model=CheckContactOut, responses=responses(401, 403, 404, 422, 502))
def check_contact(
    session: SessionDep, runtime: RuntimeDep, _: CanRead, phone: str, number_id: NumberQuery = None
) -> CheckContactOut:
    """Whether a number is on WhatsApp (cached for 7 days in phone_numbers)."""
    return service.check_contact(session, runtime, phone[:40], number_id)


@router.get("/health", response_model=list[SenderOut], responses=responses(401, 403))
def whatsapp_health(session: SessionDep, _: CanRead) -> list[SenderOut]:
    """Health of every number: status, quality, tier, sends and errors in the last 24 hours, warm-up."""
    return list_numbers(session, _)
