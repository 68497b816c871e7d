"""Cloud API request bodies, exactly as Meta documents them, checked before they leave the machine.

A message that Meta would refuse anyway (missing text, no media, a fourth reply button, ...) raises
`SendError` with Meta's own code for it (131008 missing parameter, 100 invalid parameter), which is never
retried, so a bad campaign step fails fast instead of spending rate limit on sure refusals.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from greenline.channels.base import MessageKind, OutboundMessage, SendError

MISSING = 131008  # "Required parameter is missing"
INVALID = 100  # "Invalid parameter"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 512
MAX_BUTTONS = 3
MAX_LIST_ROWS = 10
MAX_LIST_SECTIONS = 10


def build_message_body(message: OutboundMessage) -> dict[str, Any]:
    """The JSON body for `POST /<version>/<phone_number_id>/messages`; SendError when Meta would refuse it."""
    if not message.to:
        raise SendError(MISSING, "to: required")
    try:
        kind = MessageKind(message.kind)
    except ValueError:
        raise SendError(131051, f"kind: unsupported message type {message.kind!r}") from None
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": message.to,
        "type": kind.value,
        kind.value: _CONTENT[kind](message),
    }
    # A reaction already names its target; every other kind can quote the message it answers.
    if message.reply_to and kind is not MessageKind.reaction:
        body["context"] = {"message_id": message.reply_to}
    if message.client_ref:
        _check_length(message.client_ref, CALLBACK_DATA_LIMIT, "client_ref")
        body["biz_opaque_callback_data"] = message.client_ref
    return body


def _missing(field: str) -> SendError:
    return SendError(MISSING, f"{field}: required")


def _invalid(field: str, problem: str) -> SendError:
    return SendError(INVALID, f"{field}: {problem}")


def _check_length(value: str, limit: int, field: str) -> None:
    if len(value) > limit:
        raise _invalid(field, f"longer than {limit} characters")


def _required_text(container: object, key: str, field: str) -> str:
    value = container.get(key) if isinstance(container, dict) else None
    if not isinstance(value, str) or not value.strip():
        raise _missing(field)
    return value


def _text(message: OutboundMessage) -> dict[str, Any]:
    if not message.text or not message.text.strip():
        raise _missing("text")
    _check_length(message.text, TEXT_LIMIT, "text")
    return {"preview_url": False, "body": message.text}


def _template(message: OutboundMessage) -> dict[str, Any]:
    template = message.template
    if not isinstance(template, dict):
        raise _missing("template")
    name = _required_text(template, "name", "template.name")
    language = template.get("language")
    code = _required_text(language, "code", "template.language.code") if isinstance(language, dict) else language
    if not isinstance(code, str) or not code.strip():
        raise _missing("template.language")
    components = template.get("components") or []
    if not isinstance(components, list):
        raise _invalid("template.components", "must be a list")
    for index, component in enumerate(components):
        _required_text(component, "type", f"template.components[{index}].type")
    result: dict[str, Any] = {"name": name, "language": {"code": code}}
    if isinstance(language, dict) and isinstance(language.get("policy"), str):
        result["language"] = {"policy": language["policy"], "code": code}
    if components:  # a template without variables is sent without components
        result["components"] = components
    return result


def _media(message: OutboundMessage) -> dict[str, Any]:
    kind = MessageKind(message.kind)
    media: dict[str, Any]
    if message.media_id:
        media = {"id": message.media_id}
    elif message.media_url:
        if not message.media_url.startswith(("https://", "http://")):
            raise _invalid("media_url", "must be an http(s) URL")
        media = {"link": message.media_url}
    else:
        raise SendError(MISSING, f"{kind}: media_id or media_url required")
    if message.caption:
        if kind == MessageKind.audio:
            raise _invalid("caption", "audio messages cannot carry a caption")
        _check_length(message.caption, CAPTION_LIMIT, "caption")
        media["caption"] = message.caption
    if message.filename and kind == MessageKind.document:
        media["filename"] = message.filename
    return media


def _interactive(message: OutboundMessage) -> dict[str, Any]:
    interactive = message.interactive
    if not isinstance(interactive, dict):
        raise _missing("interactive")
    kind = _required_text(interactive, "type", "interactive.type")
    action = interactive.get("action")
    if not isinstance(action, dict):
        raise _missing("interactive.action")
    if kind in {"button", "list"}:
        _required_text(interactive.get("body"), "text", "interactive.body.text")
    if kind == "button":
        _check_buttons(action.get("buttons"))
    elif kind == "list":
        _check_list(action)
    return interactive


def _check_buttons(buttons: object) -> None:
    if not isinstance(buttons, list) or not buttons:
        raise _missing("interactive.action.buttons")
    if len(buttons) > MAX_BUTTONS:
        raise _invalid("interactive.action.buttons", f"at most {MAX_BUTTONS} buttons")
    titles = set()
    for index, button in enumerate(buttons):
        field = f"interactive.action.buttons[{index}]"
        if not isinstance(button, dict) or button.get("type") != "reply":
            raise _invalid(f"{field}.type", "must be 'reply'")
        _required_text(button.get("reply"), "id", f"{field}.reply.id")
        title = _required_text(button.get("reply"), "title", f"{field}.reply.title")
        if title in titles:
            raise _invalid(f"{field}.reply.title", "button titles must be unique")
        titles.add(title)


def _check_list(action: dict[str, Any]) -> None:
    _required_text(action, "button", "interactive.action.button")
    sections = action.get("sections")
    if not isinstance(sections, list) or not sections:
        raise _missing("interactive.action.sections")
    if len(sections) > MAX_LIST_SECTIONS:
        raise _invalid("interactive.action.sections", f"at most {MAX_LIST_SECTIONS} sections")
    total = 0
    for s_index, section in enumerate(sections):
        rows = section.get("rows") if isinstance(section, dict) else None
        if not isinstance(rows, list) or not rows:
            raise _missing(f"interactive.action.sections[{s_index}].rows")
        for r_index, row in enumerate(rows):
            for key in ("id", "title"):
                _required_text(row, key, f"interactive.action.sections[{s_index}].rows[{r_index}].{key}")
        total += len(rows)
    if total > MAX_LIST_ROWS:
        raise _invalid("interactive.action.sections", f"at most {MAX_LIST_ROWS} rows in total")


def _reaction(message: OutboundMessage) -> dict[str, Any]:
    reaction = message.reaction or {}
    target = reaction.get("message_id") or message.reply_to
    if not isinstance(target, str) or not target:
        raise _missing("reaction.message_id")
    emoji = reaction.get("emoji")
    if not isinstance(emoji, str):  # "" is valid: it removes an earlier reaction
        raise _missing("reaction.emoji")
    return {"message_id": target, "emoji": emoji}


_CONTENT: dict[MessageKind, Callable[[OutboundMessage], dict[str, Any]]] = {
    MessageKind.text: _text,
    MessageKind.template: _template,
    MessageKind.image: _media,
    MessageKind.document: _media,
    MessageKind.audio: _media,
    MessageKind.video: _media,
    MessageKind.interactive: _interactive,
    MessageKind.reaction: _reaction,
}
