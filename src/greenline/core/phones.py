"""Phone numbers: parse anything people type, store E.164, derive country, time zone, language."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType
from phonenumbers import timezone as number_timezones

_TYPE_NAMES = {
    PhoneNumberType.FIXED_LINE: "fixed_line",
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium_rate",
    PhoneNumberType.SHARED_COST: "shared_cost",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.PERSONAL_NUMBER: "personal_number",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.VOICEMAIL: "voicemail",
    PhoneNumberType.UNKNOWN: "unknown",
}

# Main language per country (ISO 639-1), for contacts whose language is not given.
COUNTRY_LANGUAGE = {
    "AE": "ar", "AR": "es", "AT": "de", "AU": "en", "BD": "bn", "BE": "nl", "BO": "es", "BR": "pt", "CA": "en",
    "CH": "de", "CL": "es", "CN": "zh", "CO": "es", "CR": "es", "CZ": "cs", "DE": "de", "DK": "da", "DO": "es",
    "DZ": "ar", "EC": "es", "EG": "ar", "ES": "es", "FI": "fi", "FR": "fr", "GB": "en", "GH": "en", "GR": "el",
    "GT": "es", "HK": "zh", "HN": "es", "HU": "hu", "ID": "id", "IE": "en", "IL": "he", "IN": "hi", "IQ": "ar",
    "IT": "it", "JO": "ar", "JP": "ja", "KE": "en", "KR": "ko", "KW": "ar", "LB": "ar", "MA": "ar", "MX": "es",
    "MY": "ms", "NG": "en", "NL": "nl", "NO": "no", "NZ": "en", "OM": "ar", "PA": "es", "PE": "es", "PH": "en",
    "PK": "ur", "PL": "pl", "PT": "pt", "PY": "es", "QA": "ar", "RO": "ro", "RU": "ru", "SA": "ar", "SE": "sv",
    "SG": "en", "SV": "es", "TH": "th", "TN": "ar", "TR": "tr", "TW": "zh", "UA": "uk", "US": "en", "UY": "es",
    "VE": "es", "VN": "vi", "ZA": "en",
}  # fmt: skip


class PhoneError(ValueError):
    """The input is not a valid phone number; the message says why."""


@dataclass(frozen=True)
class PhoneInfo:
    e164: str
    country: str | None
    number_type: str
    timezone: str | None
    language: str | None
    international: str


def _describe(error: NumberParseException) -> str:
    return {
        NumberParseException.INVALID_COUNTRY_CODE: "unknown country code (write +<code> or set a default country)",
        NumberParseException.NOT_A_NUMBER: "not a phone number",
        NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
        NumberParseException.TOO_SHORT_NSN: "too short",
        NumberParseException.TOO_LONG: "too long",
    }.get(error.error_type, "not a phone number")


@lru_cache(maxsize=65536)
def parse_phone(raw: str, default_country: str | None = None) -> PhoneInfo:
    """Parse a number typed in any common format; national numbers use `default_country`."""
    text = (raw or "").strip()
    if not text:
        raise PhoneError("empty")
    if len(text) > 40:
        raise PhoneError("too long")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, (default_country or "").upper() or None)
    except NumberParseException as exc:
        raise PhoneError(_describe(exc)) from None
    if not phonenumbers.is_possible_number(number):
        raise PhoneError("impossible length for its country")
    if not phonenumbers.is_valid_number(number):
        raise PhoneError("not a valid number for its country")
    country = phonenumbers.region_code_for_number(number)
    zones = [z for z in number_timezones.time_zones_for_number(number) if z != "Etc/Unknown"]
    return PhoneInfo(
        e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        country=country,
        number_type=_TYPE_NAMES.get(phonenumbers.number_type(number), "unknown"),
        timezone=zones[0] if zones else None,
        language=COUNTRY_LANGUAGE.get(country or ""),
        international=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
    )


def normalize_phone(raw: str, default_country: str | None = None) -> str:
    """E.164 form of `raw`, or PhoneError."""
    return parse_phone(raw, default_country).e164
