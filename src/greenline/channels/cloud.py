"""WhatsApp Cloud API channel: Meta's Graph API over HTTPS, one instance per business phone number id.

Requests follow Meta's documented bodies exactly. Failures become `SendError` keyed on Meta's `error.code`
(never on the HTTP status, which Meta says not to rely on); `errors.classify` decides what a code means
for retrying. Network failures say in their message whether the request may have reached Meta, because a
read timeout can hide an accepted message that a blind retry would duplicate.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import httpx

from greenline.channels.base import ConnectionState, OutboundMessage, SendError, SendResult
from greenline.channels.cloud_payloads import tier_limit
from greenline.channels.cloud_requests import build_message_body
from greenline.channels.errors import Retry

DEFAULT_BASE_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v21.0"
CONNECTION_FIELDS = "quality_rating,whatsapp_business_manager_messaging_limit,throughput,status"
NOT_REACHED = 2  # "API service unavailable": the request never reached Meta, a retry cannot duplicate
NO_ANSWER = 131000  # "Something went wrong": Meta may have accepted the request
_ID = re.compile(r"[0-9A-Za-z_.-]{1,64}")
_VERSION = re.compile(r"v[0-9]{1,3}\.[0-9]{1,2}")
# Only used when an error answer carries no Graph API error object (e.g. a proxy's HTML page).
_HTTP_FALLBACK = {401: 0, 429: 130429, 502: NOT_REACHED, 503: NOT_REACHED, 504: NOT_REACHED}
_STATUSES = {
    "CONNECTED": "connected",
    "FLAGGED": "connected",  # low quality, still sending; the rating says so
    "RESTRICTED": "restricted",
    "RATE_LIMITED": "restricted",
    "PAUSED": "restricted",
    "BANNED": "banned",
    "OFFLINE": "logged_out",  # not registered with Cloud API: needs /register again
    "DISCONNECTED": "logged_out",
    "DELETED": "logged_out",
    "PENDING": "connecting",
    "UNVERIFIED": "connecting",
    "MIGRATED": "connecting",
}
_MESSAGE_LIMIT = 500

__all__ = ["CloudApiChannel", "build_message_body", "connection_from_fields", "error_from_response"]


class CloudApiChannel:
    """One Cloud API business number.

    Pass a long-lived `httpx.AsyncClient` to pool connections across sends and numbers; without one, each
    request uses a short-lived client that is closed at once, so channels built per send leak nothing.
    """

    def __init__(
        self,
        *,
        phone_number_id: str,
        access_token: str,
        base_url: str = DEFAULT_BASE_URL,
        api_version: str = DEFAULT_API_VERSION,
        client: httpx.AsyncClient | None = None,
        timeout: float | httpx.Timeout = 15.0,
    ) -> None:
        if not _ID.fullmatch(phone_number_id):
            raise ValueError("phone_number_id must be a Graph API id")
        if not _VERSION.fullmatch(api_version):
            raise ValueError("api_version must look like v21.0")
        if not base_url.startswith(("https://", "http://")):
            raise ValueError("base_url must be an http(s) URL")
        self.phone_number_id = phone_number_id
        self._root = f"{base_url.rstrip('/')}/{api_version}/{phone_number_id}"
        self._headers = {"Authorization": f"Bearer {access_token}"}
        self._timeout = timeout
        self._client = client

    async def send(self, message: OutboundMessage) -> SendResult:
        """POST the message to `/<version>/<phone_number_id>/messages`; SendError with Meta's code on refusal."""
        response = await self._request("POST", "/messages", json=build_message_body(message))
        if response.is_error:
            raise error_from_response(response)
        first = _first_message(_json(response))
        wamid = first.get("id")
        if not isinstance(wamid, str) or not wamid:
            raise SendError(
                NO_ANSWER,
                f"answer without messages[0].id; may have been accepted: {_excerpt(response)}",
                maybe_sent=True,
            )
        status = first.get("message_status")
        return SendResult(wamid, dt.datetime.now(dt.UTC), status if isinstance(status, str) and status else "accepted")

    async def check_number(self, phone: str) -> bool | None:
        """Cloud API cannot tell in advance: a send to a non-WhatsApp number fails later with 131026."""
        return None

    async def connection(self) -> ConnectionState:
        """The number's status, quality rating and messaging limit as Graph API reports them."""
        try:
            response = await self._request("GET", "", params={"fields": CONNECTION_FIELDS})
        except SendError as exc:
            return ConnectionState("connecting", detail=exc.message)
        if response.is_error:
            return _failed_connection(error_from_response(response))
        return connection_from_fields(_json(response))

    async def logout(self) -> None:
        """Nothing to disconnect: a Cloud API number stays registered with Meta; we just stop sending from it."""

    async def upload_media(self, data: bytes, mime_type: str, filename: str = "upload") -> str:
        """Upload a file to `/<version>/<phone_number_id>/media` and return its media id for sends by id."""
        form = {"messaging_product": "whatsapp", "type": mime_type}
        response = await self._request("POST", "/media", data=form, files={"file": (filename, data, mime_type)})
        if response.is_error:
            raise error_from_response(response)
        media_id = _json(response).get("id")
        if not isinstance(media_id, str) or not media_id:
            raise SendError(131053, f"media upload answer without an id: {_excerpt(response)}")
        return media_id

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        client = self._client or httpx.AsyncClient()
        try:
            return await client.request(
                method, self._root + path, headers=self._headers, timeout=self._timeout, **kwargs
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise SendError(NOT_REACHED, f"Graph API not reached, nothing was sent ({_describe(exc)})") from exc
        except httpx.TransportError as exc:
            raise SendError(
                NO_ANSWER, f"no answer from Graph API; may have been accepted ({_describe(exc)})", maybe_sent=True
            ) from exc
        finally:
            if self._client is None:
                await client.aclose()


def error_from_response(response: httpx.Response) -> SendError:
    """The SendError for a Graph API error answer, keyed on `error.code` (the HTTP status only without one)."""
    retry_after = _retry_after(response.headers.get("Retry-After"))
    error = _json(response).get("error")
    if isinstance(error, dict) and isinstance(error.get("code"), int | str):
        return SendError(error["code"], _error_text(error), retry_after=retry_after)
    code = _HTTP_FALLBACK.get(response.status_code, NO_ANSWER)
    message = f"HTTP {response.status_code} without a Graph API error: {_excerpt(response)}"
    return SendError(code, message, retry_after=retry_after)


def connection_from_fields(fields: dict[str, Any]) -> ConnectionState:
    """Map the phone number node's status, quality_rating, throughput and messaging limit to a ConnectionState."""
    raw_status = str(fields.get("status") or "").upper()
    status = _STATUSES.get(raw_status, "connecting" if raw_status else "connected")
    throughput = fields.get("throughput")
    level = throughput.get("level") if isinstance(throughput, dict) else None
    tier = fields.get("whatsapp_business_manager_messaging_limit")
    parts = (("status", raw_status), ("throughput", level), ("messaging limit", tier))
    detail = "; ".join(f"{name} {value}" for name, value in parts if value) or None
    rating = fields.get("quality_rating")
    quality = rating.lower() if isinstance(rating, str) and rating.upper() in {"GREEN", "YELLOW", "RED"} else None
    return ConnectionState(status, detail=detail, quality_rating=quality or "unknown", messaging_limit=tier_limit(tier))


def _failed_connection(error: SendError) -> ConnectionState:
    if error.info.retry is Retry.reauth or error.code == 100:  # 100: unknown number id or no access to it
        return ConnectionState("invalid_credentials", detail=error.message)
    if error.info.retry is Retry.stop_number:
        return ConnectionState("restricted", detail=error.message)
    return ConnectionState("connecting", detail=error.message)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def _first_message(payload: dict[str, Any]) -> dict[str, Any]:
    messages = payload.get("messages")
    first = messages[0] if isinstance(messages, list) and messages else None
    return first if isinstance(first, dict) else {}


def _error_text(error: dict[str, Any]) -> str:
    data = error.get("error_data")
    details = data.get("details") if isinstance(data, dict) else data
    extras = [f"{key} {error[key]}" for key in ("error_subcode", "fbtrace_id") if error.get(key)]
    text = " — ".join(str(part) for part in (error.get("message"), details) if part) or "Graph API error"
    return (f"{text} ({', '.join(extras)})" if extras else text)[:_MESSAGE_LIMIT]


def _retry_after(value: str | None) -> float | None:
    try:
        seconds = float(value) if value else None
    except ValueError:
        return None
    return seconds if seconds is not None and 0 <= seconds < 86_400 else None


def _excerpt(response: httpx.Response) -> str:
    return response.text[:200]


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:_MESSAGE_LIMIT]
