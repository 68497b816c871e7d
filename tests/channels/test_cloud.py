"""CloudApiChannel request bodies against a local fake of the Graph API: whole-JSON equality with Meta's examples."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from greenline.channels.base import MessageKind, OutboundMessage, SendError
from greenline.channels.errors import Retry
from tests.channels.fake_graph import (
    PHONE_ID,
    TOKEN,
    USER,
    FakeGraphApi,
    cloud_channel,
    load_fixture,
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
MESSAGES_PATH = f"/v21.0/{PHONE_ID}/messages"


async def send(graph: FakeGraphApi, message: OutboundMessage) -> dict[str, Any]:
    """Send through the channel and return the JSON body the fake received."""
    result = await cloud_channel(graph).send(message)
    assert result.provider_message_id == graph.sent_ids[-1]
    request = graph.requests[-1]
    assert (request.method, request.path) == ("POST", MESSAGES_PATH)
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/json"
    body: dict[str, Any] = request.json()
    return body


async def test_text_is_the_documented_body_with_preview_off(graph: FakeGraphApi) -> None:
    documented = load_fixture("request_text")
    result = await cloud_channel(graph).send(OutboundMessage(to=TO, text=documented["text"]["body"]))

    assert graph.requests[0].json() == documented | {"text": documented["text"] | {"preview_url": False}}
    assert graph.requests[0].path == MESSAGES_PATH
    assert result.provider_message_id == graph.sent_ids[0]
    assert result.status == "accepted"
    assert result.accepted_at.tzinfo is not None
    assert abs(result.accepted_at - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=5)


async def test_reply_context_and_client_ref_are_sent(graph: FakeGraphApi) -> None:
    body = await send(graph, OutboundMessage(to=TO, text="Yes, in green", reply_to="wamid.IN1", client_ref="msg-42"))

    assert body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": TO,
        "type": "text",
        "text": {"preview_url": False, "body": "Yes, in green"},
        "context": {"message_id": "wamid.IN1"},
        "biz_opaque_callback_data": "msg-42",
    }


async def test_template_with_components_is_the_documented_body(graph: FakeGraphApi) -> None:
    documented = load_fixture("request_template")
    graph.template_status = "held_for_quality_assessment"
    message = OutboundMessage(to=TO, kind=MessageKind.template, template=documented["template"], marketing=True)

    result = await cloud_channel(graph).send(message)

    assert graph.requests[0].json() == documented
    assert result.status == "held_for_quality_assessment"


async def test_template_language_string_and_no_components(graph: FakeGraphApi) -> None:
    template = {"name": "order_shipped", "language": "en_US"}
    body = await send(graph, OutboundMessage(to=TO, kind=MessageKind.template, template=template))

    assert body["template"] == {"name": "order_shipped", "language": {"code": "en_US"}}


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            OutboundMessage(
                to=TO, kind=MessageKind.image, media_id="1479537139650973", caption="The best succulent ever?"
            ),
            {"id": "1479537139650973", "caption": "The best succulent ever?"},
        ),
        (
            OutboundMessage(
                to=TO,
                kind=MessageKind.document,
                media_url="https://example.com/i.pdf",
                caption="Invoice",
                filename="i.pdf",
            ),
            {"link": "https://example.com/i.pdf", "caption": "Invoice", "filename": "i.pdf"},
        ),
        (OutboundMessage(to=TO, kind=MessageKind.audio, media_id="55"), {"id": "55"}),
        (
            OutboundMessage(to=TO, kind=MessageKind.video, media_url="https://example.com/v.mp4", caption="Demo"),
            {"link": "https://example.com/v.mp4", "caption": "Demo"},
        ),
    ],
    ids=["image-by-id", "document-by-link", "audio-by-id", "video-by-link"],
)
async def test_media_bodies(graph: FakeGraphApi, message: OutboundMessage, expected: dict[str, Any]) -> None:
    body = await send(graph, message)

    kind = str(message.kind)
    assert body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": TO,
        "type": kind,
        kind: expected,
    }


@pytest.mark.parametrize("name", ["request_interactive_button", "request_interactive_list"])
async def test_interactive_is_the_documented_body(graph: FakeGraphApi, name: str) -> None:
    documented = load_fixture(name)
    body = await send(
        graph, OutboundMessage(to=TO, kind=MessageKind.interactive, interactive=documented["interactive"])
    )

    assert body == documented


async def test_reaction_is_the_documented_body(graph: FakeGraphApi) -> None:
    documented = load_fixture("request_reaction")
    message = OutboundMessage(to=TO, kind=MessageKind.reaction, reaction=documented["reaction"], reply_to="wamid.X")

    assert await send(graph, message) == documented  # the target is in the reaction, not in a context


def _interactive(kind: str, action: dict[str, Any], body: str | None = "Pick one") -> dict[str, Any]:
    return {"type": kind, "body": {"text": body} if body else {}, "action": action}


def _buttons(count: int) -> dict[str, Any]:
    return {"buttons": [{"type": "reply", "reply": {"id": f"b{i}", "title": f"Option {i}"}} for i in range(count)]}


@pytest.mark.parametrize(
    ("message", "code"),
    [
        (OutboundMessage(to=TO, text=""), 131008),
        (OutboundMessage(to="", text="hi"), 131008),
        (OutboundMessage(to=TO, text="x" * 4097), 100),
        (OutboundMessage(to=TO, kind=MessageKind.template, template={"name": "promo"}), 131008),
        (OutboundMessage(to=TO, kind=MessageKind.image), 131008),
        (OutboundMessage(to=TO, kind=MessageKind.image, media_url="file:///etc/passwd"), 100),
        (OutboundMessage(to=TO, kind=MessageKind.audio, media_id="55", caption="no captions on audio"), 100),
        (OutboundMessage(to=TO, kind=MessageKind.interactive, interactive=_interactive("button", _buttons(4))), 100),
        (OutboundMessage(to=TO, kind=MessageKind.interactive, interactive=_interactive("button", _buttons(0))), 131008),
        (
            OutboundMessage(to=TO, kind=MessageKind.interactive, interactive=_interactive("button", _buttons(2), None)),
            131008,
        ),
        (
            OutboundMessage(
                to=TO,
                kind=MessageKind.interactive,
                interactive=_interactive(
                    "list",
                    {"button": "Options", "sections": [{"rows": [{"id": f"r{i}", "title": "R"} for i in range(11)]}]},
                ),
            ),
            100,
        ),
        (OutboundMessage(to=TO, kind=MessageKind.reaction, reaction={"emoji": "👍"}), 131008),
        (OutboundMessage(to=TO, text="hi", client_ref="x" * 513), 100),
    ],
)
async def test_invalid_messages_fail_before_any_request(
    graph: FakeGraphApi, message: OutboundMessage, code: int
) -> None:
    with pytest.raises(SendError) as caught:
        await cloud_channel(graph).send(message)

    assert caught.value.code == code
    assert caught.value.info.retry is Retry.never
    assert graph.requests == []
