"""CloudApiChannel connection state, media upload, shared clients and configuration checks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from greenline.channels.base import MessageKind, OutboundMessage, SendError
from greenline.channels.cloud import CloudApiChannel
from greenline.channels.errors import Retry
from tests.channels.fake_graph import (
    DOCUMENTED_ERRORS,
    PHONE_ID,
    TOKEN,
    USER,
    FakeGraphApi,
    cloud_channel,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def graph() -> Iterator[FakeGraphApi]:
    with FakeGraphApi(access_token=TOKEN) as fake:
        yield fake


TO = USER


async def test_a_shared_client_is_used_and_left_open(graph: FakeGraphApi) -> None:
    async with httpx.AsyncClient() as client:
        shared = cloud_channel(graph, client=client, api_version="v25.0")
        await shared.send(OutboundMessage(to=TO, text="one"))
        await shared.send(OutboundMessage(to=TO, text="two"))
        assert not client.is_closed

    assert [r.path for r in graph.requests] == [f"/v25.0/{PHONE_ID}/messages"] * 2


async def test_connection_reads_the_phone_number_node(graph: FakeGraphApi) -> None:
    state = await cloud_channel(graph).connection()

    request = graph.requests[0]
    assert (request.method, request.path) == ("GET", f"/v21.0/{PHONE_ID}")
    assert request.query == {"fields": ["quality_rating,whatsapp_business_manager_messaging_limit,throughput,status"]}
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert state.status == "connected"
    assert state.quality_rating == "green"
    assert state.messaging_limit == 2000
    assert state.detail == "status CONNECTED; throughput STANDARD; messaging limit TIER_2K"


@pytest.mark.parametrize(
    ("fields", "status", "quality", "limit"),
    [
        ({"status": "FLAGGED", "quality_rating": "RED"}, "connected", "red", 2000),
        ({"status": "RESTRICTED", "quality_rating": "YELLOW"}, "restricted", "yellow", 2000),
        ({"status": "BANNED"}, "banned", "green", 2000),
        (
            {"status": "PENDING", "whatsapp_business_manager_messaging_limit": "TIER_NOT_SET"},
            "connecting",
            "green",
            250,
        ),
        ({"whatsapp_business_manager_messaging_limit": "TIER_UNLIMITED"}, "connected", "green", None),
        (
            {"quality_rating": "UNKNOWN", "whatsapp_business_manager_messaging_limit": "TIER_100K"},
            "connected",
            "unknown",
            100_000,
        ),
    ],
)
async def test_connection_mapping(
    graph: FakeGraphApi, fields: dict[str, Any], status: str, quality: str, limit: int | None
) -> None:
    graph.phone_numbers[PHONE_ID].update(fields)

    state = await cloud_channel(graph).connection()

    assert (state.status, state.quality_rating, state.messaging_limit) == (status, quality, limit)


@pytest.mark.parametrize(
    ("code", "status"), [(190, "invalid_credentials"), (368, "restricted"), (130429, "connecting")]
)
async def test_connection_errors(graph: FakeGraphApi, code: int, status: str) -> None:
    graph.fail_next(code)

    state = await cloud_channel(graph).connection()

    assert state.status == status
    assert (state.detail or "").startswith(DOCUMENTED_ERRORS[code][1])


async def test_connection_with_an_unknown_number_or_no_network(graph: FakeGraphApi) -> None:
    unknown = await cloud_channel(graph, phone_number_id="999").connection()
    assert unknown.status == "invalid_credentials"
    assert "does not exist" in (unknown.detail or "")

    graph.stall_next(1.0)
    slow = await cloud_channel(graph, timeout=0.2).connection()
    assert slow.status == "connecting"
    assert "ReadTimeout" in (slow.detail or "")


async def test_check_number_and_logout_make_no_requests(graph: FakeGraphApi) -> None:
    cloud = cloud_channel(graph)

    assert await cloud.check_number(TO) is None
    await cloud.logout()
    assert graph.requests == []


async def test_upload_media_then_send_it_by_id(graph: FakeGraphApi) -> None:
    cloud = cloud_channel(graph)

    media_id = await cloud.upload_media(b"%PDF-1.7 invoice", "application/pdf", "invoice.pdf")
    await cloud.send(OutboundMessage(to=TO, kind=MessageKind.document, media_id=media_id, filename="invoice.pdf"))

    upload = graph.requests[0]
    assert (upload.method, upload.path) == ("POST", f"/v21.0/{PHONE_ID}/media")
    assert upload.headers["authorization"] == f"Bearer {TOKEN}"
    form = upload.form()
    assert form["messaging_product"][2] == b"whatsapp"
    assert form["type"][2] == b"application/pdf"
    assert form["file"] == ("invoice.pdf", "application/pdf", b"%PDF-1.7 invoice")
    assert media_id == graph.media_ids[0]
    assert graph.requests[1].json()["document"] == {"id": media_id, "filename": "invoice.pdf"}


async def test_upload_media_errors_are_send_errors(graph: FakeGraphApi) -> None:
    graph.fail_next(190)

    with pytest.raises(SendError) as caught:
        await cloud_channel(graph).upload_media(b"x", "image/png")

    assert caught.value.info.retry is Retry.reauth


@pytest.mark.parametrize(
    "options",
    [
        {"phone_number_id": "1/../../me"},
        {"phone_number_id": ""},
        {"api_version": "latest"},
        {"base_url": "graph.facebook.com"},
    ],
)
def test_configuration_that_would_change_the_url_is_refused(options: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="must"):
        CloudApiChannel(**({"phone_number_id": PHONE_ID, "access_token": TOKEN} | options))
