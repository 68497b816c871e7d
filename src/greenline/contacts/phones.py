"""Phone numbers as a tenant sees them: national formats use the tenant's default country."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from greenline.core.db import session_tenant
from greenline.core.errors import InvalidInput
from greenline.core.phones import PhoneError, PhoneInfo, parse_phone
from greenline.models import Tenant

_SEPARATORS = re.compile(r"[\s().\-/]")
_E164_SHAPE = re.compile(r"^\+?[1-9]\d{6,14}$")


def tenant_country(session: Session) -> str | None:
    """The acting tenant's default country (ISO 3166 alpha-2), used to read national numbers."""
    tenant_id = session_tenant(session)
    if tenant_id is None:
        return None
    tenant = session.get(Tenant, tenant_id)
    country = (tenant.settings or {}).get("default_country") if tenant is not None else None
    return country if isinstance(country, str) and country else None


def parse_for_tenant(session: Session, raw: str, *, country: str | None = None, field: str = "phone") -> PhoneInfo:
    """Parse and validate a number; `country`, else the tenant's default, reads national formats."""
    try:
        return parse_phone(raw, country or tenant_country(session))
    except PhoneError as exc:
        raise InvalidInput(field, str(exc)) from None


def consent_phone(session: Session, raw: str, *, field: str = "phone") -> str:
    """E.164 form for consent records; lenient, so a STOP from a number missing in the metadata still counts."""
    try:
        return parse_phone(raw, tenant_country(session)).e164
    except PhoneError as exc:
        compact = _SEPARATORS.sub("", raw or "")
        if compact.startswith("00"):
            compact = compact[2:]
        # Opt-outs must never be lost to outdated numbering metadata: keep any E.164-shaped number.
        if _E164_SHAPE.match(compact):
            return "+" + compact.lstrip("+")
        raise InvalidInput(field, str(exc)) from None


def phone_digits(text: str) -> str:
    """The digits a user typed when searching for a number (`+1 (555) 010-99` -> `155501099`)."""
    return "".join(ch for ch in text if ch.isdigit())


def looks_like_phone(text: str) -> bool:
    """True when `text` is only digits and phone punctuation, so it should search the phone column."""
    compact = _SEPARATORS.sub("", text).lstrip("+")
    return len(compact) >= 3 and compact.isdigit()
