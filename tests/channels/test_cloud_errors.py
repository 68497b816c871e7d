"""CloudApiChannel failures: documented Graph API errors, non-Graph answers, timeouts and unreachable servers."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from greenline.channels.base import MessageKind, OutboundMessage, SendError
from greenline.channels.cloud import CloudApiChannel
from greenline.channels.errors import Retry
from tests.channels.fake_graph import (
    DOCUMENTED_ERRORS,
    FIXTURES,
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


@pytest.mark.parametrize(
    ("code", "http_status", "retry"),
    [
        (130429, 400, Retry.backoff),
        (130429, 429, Retry.backoff),
        (131056, 400, Retry.backoff),
        (131047, 400, Retry.never),
        (131048, 400, Retry.stop_number),
        (190, 401, Retry.reauth),
        (368, 403, Retry.stop_number),
        (132001, 404, Retry.never),
        (131000, 500, Retry.backoff),
    ],
)
async def test_documented_errors_map_to_send_errors(
    graph: FakeGraphApi, code: int, http_status: int, retry: Retry
) -> None:
    graph.fail_next(code, http_status=http_status)

    with pytest.raises(SendError) as caught:
        await cloud_channel(graph).send(OutboundMessage(to=TO, text="hello"))

    assert caught.value.code == code
    assert caught.value.info.retry is retry
    assert caught.value.message.startswith(DOCUMENTED_ERRORS[code][1])
    assert "fbtrace_id Az8or2yhqkZfEZ-_4Qn_Bam" in caught.value.message


async def test_documented_error_body_keeps_code_details_and_retry_after(graph: FakeGraphApi) -> None:
    graph.answer_next(429, (FIXTURES / "error_130429.json").read_bytes(), "application/json")

    with pytest.raises(SendError) as caught:
        await cloud_channel(graph).send(OutboundMessage(to=TO, text="hello"))

    assert caught.value.code == 130429
    assert caught.value.message.startswith("(#130429) Rate limit hit — Cloud API message throughput has been reached.")
    graph.fail_next(131056, retry_after="4")
    with pytest.raises(SendError) as caught:
        await cloud_channel(graph).send(OutboundMessage(to=TO, text="hello"))
    assert caught.value.retry_after == 4.0


async def test_wrong_token_is_reauth(graph: FakeGraphApi) -> None:
    with pytest.raises(SendError) as caught:
        await cloud_channel(graph, access_token="revoked").send(OutboundMessage(to=TO, text="hello"))

    assert caught.value.code == 190
    assert caught.value.info.retry is Retry.reauth


@pytest.mark.parametrize(("http_status", "code"), [(502, 2), (401, 0), (404, 131000)])
async def test_answers_without_a_graph_error_fall_back_to_the_http_status(
    graph: FakeGraphApi, http_status: int, code: int
) -> None:
    graph.answer_next(http_status, b"<html><body>Bad Gateway</body></html>")

    with pytest.raises(SendError) as caught:
        await cloud_channel(graph).send(OutboundMessage(to=TO, text="hello"))

    assert caught.value.code == code
    assert f"HTTP {http_status}" in caught.value.message


async def test_success_without_a_message_id_is_a_retryable_error(graph: FakeGraphApi) -> None:
    graph.answer_next(200, b'{"messaging_product": "whatsapp", "messages": []}', "application/json")

    with pytest.raises(SendError) as caught:
        await cloud_channel(graph).send(OutboundMessage(to=TO, text="hello"))

    assert caught.value.info.retry is Retry.backoff
    assert "may have been accepted" in caught.value.message


async def test_documented_success_body_is_parsed(graph: FakeGraphApi) -> None:
    graph.answer_next(200, (FIXTURES / "send_success_image.json").read_bytes(), "application/json")

    result = await cloud_channel(graph).send(
        OutboundMessage(to=TO, kind=MessageKind.image, media_id="1479537139650973")
    )

    assert result.provider_message_id == "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA"
    assert result.status == "accepted"


async def test_timeout_is_retryable_and_says_the_message_may_be_out(graph: FakeGraphApi) -> None:
    graph.stall_next(1.0)

    with pytest.raises(SendError) as caught:
        await cloud_channel(graph, timeout=0.2).send(OutboundMessage(to=TO, text="hello"))

    assert caught.value.code == 131000
    assert caught.value.info.retry is Retry.backoff
    assert "ReadTimeout" in caught.value.message
    assert "may have been accepted" in caught.value.message


async def test_unreachable_server_is_retryable_and_nothing_was_sent() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again before the send: connection refused
    unreachable = CloudApiChannel(base_url=f"http://127.0.0.1:{port}", phone_number_id=PHONE_ID, access_token=TOKEN)

    with pytest.raises(SendError) as caught:
        await unreachable.send(OutboundMessage(to=TO, text="hello"))

    assert caught.value.code == 2
    assert caught.value.info.retry is Retry.backoff
    assert "nothing was sent" in caught.value.message
