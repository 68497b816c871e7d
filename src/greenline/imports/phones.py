"""Phone cells to the fields an import stores, as fast as phonenumbers allows.

Kept free of heavy imports: worker processes of large imports load only this module.
"""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType
from phonenumbers import timezone as number_timezones

from greenline.core.phones import COUNTRY_LANGUAGE, PhoneError, parse_phone

PhoneFields = tuple[str, str | None, str | None, str | None]
NON_GEOGRAPHIC = "001"


@lru_cache(maxsize=65536)
def phone_fields(raw: str, default_country: str | None) -> PhoneFields | str:
    """(E.164, country, time zone, language) like core.phones.parse_phone, or the rejection reason.

    The one difference: non-geographic numbers get no country (parse_phone says "001").

    Same checks and results as `parse_phone`, without the fields an import does not store
    (number type name, international format), which makes it about twice as fast.
    """
    text = raw.strip()
    if not text:
        return "empty"
    if len(text) > 40:
        return "too long"
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, (default_country or "").upper() or None)
    except NumberParseException:
        return _reason(raw, default_country)
    # number_type is UNKNOWN exactly when is_valid_number is false, and it is needed for the time zone.
    kind = phonenumbers.number_type(number)
    if kind == PhoneNumberType.UNKNOWN or not phonenumbers.is_possible_number(number):
        return _reason(raw, default_country)
    country = phonenumbers.region_code_for_number(number)
    if phonenumbers.is_number_type_geographical(kind, number.country_code or 0):
        zones = number_timezones.time_zones_for_geographical_number(number)
    else:
        zones = number_timezones.time_zones_for_number(number)
    zone = next((z for z in zones if z != "Etc/Unknown"), None)
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    if country == NON_GEOGRAPHIC:
        country = None  # +800, +870...: no country, and contacts.country holds 2-letter codes only
    return e164, country, zone, COUNTRY_LANGUAGE.get(country or "")


def _reason(raw: str, default_country: str | None) -> str:
    # Rejections are the minority: core.phones gives the exact wording the rest of the API uses.
    try:
        parse_phone(raw, default_country)
    except PhoneError as exc:
        return str(exc)
    return "not a valid number for its country"


def phone_fields_many(raws: list[str], default_country: str | None) -> list[PhoneFields | str]:
    """`phone_fields` of many cells: the unit of work sent to a worker process."""
    return [phone_fields(raw, default_country) for raw in raws]
