"""A local fake of Meta's Graph API (Cloud API endpoints), served over real HTTP on 127.0.0.1.

Built from the documented payloads (docs/whatsapp-cloud-api-facts.md §1 and §4): it records every request,
answers sends with the documented success body and a fresh wamid, serves the phone-number node and media
uploads, refuses a wrong token with 190 / HTTP 401, and can be told to answer documented errors, raw
non-Graph answers (a proxy's HTML page) or to stall past the client's timeout.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from greenline.channels.cloud import CloudApiChannel

FIXTURES = Path(__file__).parent / "cloud_fixtures"  # Meta's example payloads, verbatim from the facts document
TOKEN = "EAAG-test-system-user-token"
PHONE_ID = "106540352242922"
USER = "+16505551234"

# code → (HTTP status Meta's older table gives, error.message, error_data.details)
DOCUMENTED_ERRORS: dict[int, tuple[int, str, str | None]] = {
    100: (400, "(#100) Invalid parameter", "Unexpected key in the request"),
    130429: (400, "(#130429) Rate limit hit", "Cloud API message throughput has been reached."),
    131000: (500, "(#131000) Something went wrong", "Something went wrong"),
    131047: (
        400,
        "(#131047) Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
    ),
    131048: (
        400,
        "(#131048) Spam rate limit hit",
        "Message failed to send because there are restrictions on how many messages can be sent from this phone "
        "number. This may be because too many previous messages were blocked or flagged as spam.",
    ),
    131056: (
        400,
        "(#131056) (Business Account, Consumer Account) pair rate limit hit",
        "Message failed to send because there were too many messages sent from this phone number to the same "
        "phone number in a short period of time.",
    ),
    132001: (404, "(#132001) Template name does not exist in the translation", "template name does not exist in en_US"),
    190: (401, "Error validating access token: Session has expired on Tuesday, 01-Jul-25 10:00:00 PDT.", None),
    368: (403, "(#368) Temporarily blocked for policies violations", "The WhatsApp Business Account is restricted."),
}

DEFAULT_NUMBER: dict[str, Any] = {
    "display_phone_number": "15550783881",
    "verified_name": "Lucky Shrub",
    "quality_rating": "GREEN",
    "whatsapp_business_manager_messaging_limit": "TIER_2K",
    "throughput": {"level": "STANDARD"},
    "status": "CONNECTED",
}


def load_fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def cloud_channel(graph: FakeGraphApi, **overrides: Any) -> CloudApiChannel:
    """A channel pointed at the fake, for the default number and token."""
    options: dict[str, Any] = {"base_url": graph.base_url, "phone_number_id": PHONE_ID, "access_token": TOKEN}
    return CloudApiChannel(**(options | overrides))


def webhook(value: dict[str, Any], field: str = "messages", number_id: str = PHONE_ID) -> dict[str, Any]:
    """A webhook POST body with one change, in the documented envelope (§2.3)."""
    metadata = {"display_phone_number": "15550783881", "phone_number_id": number_id}
    change = {"value": {"messaging_product": "whatsapp", "metadata": metadata, **value}, "field": field}
    return {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [change]}]}


def inbound(kind: str, content: Any, **extra: Any) -> dict[str, Any]:
    """One `value.messages[]` item of `kind` from the test user."""
    message = {"from": "16505551234", "id": f"wamid.{kind}", "timestamp": "1750000000", "type": kind, **extra}
    if content is not None:
        message[kind] = content
    return message


def with_message(message: dict[str, Any], name: str = "Sheena Nelson") -> dict[str, Any]:
    """A messages webhook carrying `message` and the sender's profile."""
    return webhook({"contacts": [{"profile": {"name": name}, "wa_id": "16505551234"}], "messages": [message]})


def graph_error(code: int, *, message: str | None = None, details: str | None = None) -> dict[str, Any]:
    """The documented synchronous error body for `code` (§1.8)."""
    _, default_message, default_details = DOCUMENTED_ERRORS.get(code, (400, f"(#{code}) Error", None))
    error: dict[str, Any] = {"message": message or default_message, "type": "OAuthException", "code": code}
    if details or default_details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details or default_details}
    if code == 190:
        error["error_subcode"] = 463
    error["fbtrace_id"] = "Az8or2yhqkZfEZ-_4Qn_Bam"
    return {"error": error}


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, tuple[str | None, str | None, bytes]]:
        """Multipart fields: name → (filename, content type, bytes)."""
        head = f"Content-Type: {self.headers['content-type']}\r\n\r\n".encode()
        message = BytesParser(policy=HTTP).parsebytes(head + self.body)
        fields: dict[str, tuple[str | None, str | None, bytes]] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            fields[str(name)] = (
                part.get_filename(),
                part.get_content_type(),
                cast(bytes, part.get_payload(decode=True)),
            )
        return fields


@dataclass
class _Scripted:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    passthrough: bool = False  # only delay, then answer normally


class FakeGraphApi:
    """Graph API for one app: `phone_numbers` maps phone number ids to their node fields."""

    def __init__(self, *, access_token: str, phone_numbers: dict[str, dict[str, Any]] | None = None) -> None:
        self.access_token = access_token
        self.phone_numbers = phone_numbers if phone_numbers is not None else {"106540352242922": dict(DEFAULT_NUMBER)}
        self.template_status = "accepted"  # or "held_for_quality_assessment" (template pacing)
        self.requests: list[Recorded] = []
        self.sent_ids: list[str] = []
        self.media_ids: list[str] = []
        self._script: deque[_Scripted] = deque()
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- control -------------------------------------------------------------------------------------------
    def fail_next(self, code: int, *, http_status: int | None = None, retry_after: str | None = None) -> None:
        """Answer the next request with the documented error for `code`."""
        status = http_status or DOCUMENTED_ERRORS.get(code, (400, "", None))[0]
        headers = {"Retry-After": retry_after} if retry_after else {}
        self._script.append(_Scripted(status, json.dumps(graph_error(code)).encode(), headers=headers))

    def answer_next(self, status: int, body: bytes, content_type: str = "text/html") -> None:
        """Answer the next request with a raw body (e.g. a load balancer's error page)."""
        self._script.append(_Scripted(status, body, content_type))

    def stall_next(self, seconds: float) -> None:
        """Wait `seconds` before answering the next request normally."""
        self._script.append(_Scripted(delay=seconds, passthrough=True))

    # -- lifecycle -----------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeGraphApi:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeGraphApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- behaviour -----------------------------------------------------------------------------------------
    def handle(self, request: Recorded) -> tuple[int, bytes, str, dict[str, str]]:
        with self._lock:
            self.requests.append(request)
            scripted = self._script.popleft() if self._script else None
        if scripted is not None:
            time.sleep(scripted.delay)
            if not scripted.passthrough:
                return scripted.status, scripted.body, scripted.content_type, scripted.headers
        status, payload = self._route(request)
        return status, json.dumps(payload).encode(), "application/json", {}

    def _route(self, request: Recorded) -> tuple[int, dict[str, Any]]:
        if request.headers.get("authorization") != f"Bearer {self.access_token}":
            return 401, graph_error(190, message="Invalid OAuth access token - Cannot parse access token")
        match = re.fullmatch(r"/(v\d+\.\d+)/([^/]+)(/messages|/media)?", request.path)
        number_id = match.group(2) if match else ""
        if match is None or number_id not in self.phone_numbers:
            message = (
                f"Unsupported {request.method.lower()} request. Object with ID '{number_id}' does not exist, cannot "
                "be loaded due to missing permissions, or does not support this operation."
            )
            return 400, graph_error(100, message=message, details=None)
        edge = match.group(3)
        if request.method == "GET" and edge is None:
            return 200, self._node(number_id, request.query.get("fields", [""])[0])
        if request.method == "POST" and edge == "/messages":
            return self._send(request)
        if request.method == "POST" and edge == "/media":
            return self._upload(request)
        return 400, graph_error(100, message="Unknown path components", details=None)

    def _node(self, number_id: str, fields: str) -> dict[str, Any]:
        node = self.phone_numbers[number_id]
        wanted = [name for name in fields.split(",") if name] or ["display_phone_number", "verified_name"]
        return {**{name: node[name] for name in wanted if name in node}, "id": number_id}

    def _send(self, request: Recorded) -> tuple[int, dict[str, Any]]:
        try:
            body = request.json()
        except ValueError:
            return 400, graph_error(100, message="(#100) The parameter messaging_product is required.")
        if not isinstance(body, dict):
            return 400, graph_error(100)
        kind = body.get("type")
        if (
            not request.headers.get("content-type", "").startswith("application/json")
            or body.get("messaging_product") != "whatsapp"
            or not body.get("to")
            or not isinstance(body.get(kind), dict)
        ):
            return 400, graph_error(100)
        wamid = "wamid." + base64.b64encode(f"HBgL{body['to']}{next(self._counter):08d}".encode()).decode()
        with self._lock:
            self.sent_ids.append(wamid)
        sent: dict[str, Any] = {"id": wamid}
        if kind == "template":
            sent["message_status"] = self.template_status
        contact = {"input": body["to"], "wa_id": str(body["to"]).lstrip("+")}
        return 200, {"messaging_product": "whatsapp", "contacts": [contact], "messages": [sent]}

    def _upload(self, request: Recorded) -> tuple[int, dict[str, Any]]:
        form = request.form() if request.headers.get("content-type", "").startswith("multipart/") else {}
        if form.get("messaging_product", (None, None, b""))[2] != b"whatsapp" or "file" not in form:
            return 400, graph_error(100, message="(#100) The parameter messaging_product is required.")
        media_id = str(1479537139650973 + next(self._counter))
        with self._lock:
            self.media_ids.append(media_id)
        return 200, {"id": media_id}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a stalled handler must not hold up the test's teardown
    fake: FakeGraphApi


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        request = Recorded(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        status, body, content_type, headers = self.server.fake.handle(request)
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout tests)

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean
