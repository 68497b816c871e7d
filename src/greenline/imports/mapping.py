"""Column mappings: suggested from a file's header names, and validated before an import starts."""

from __future__ import annotations

import re
import unicodedata

from greenline.contacts.schemas import CUSTOM_KEY, MAX_CUSTOM_KEYS
from greenline.core.errors import InvalidInput
from greenline.imports.phones import phone_fields

TARGETS = ("phone", "name", "first_name", "last_name", "email", "tags", "source", "priority")
IGNORED = ("", "ignore", "skip")

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "phone": (
        "phone", "phone number", "phonenumber", "mobile", "mobile number", "mobile phone", "cell", "cellphone",
        "cell phone", "whatsapp", "whatsapp number", "telefone", "telefono", "tel", "msisdn", "number", "celular",
        "contact number", "handy", "numero", "whatsapp phone",
    ),
    "name": ("name", "full name", "fullname", "contact name", "customer name", "nome", "nombre", "nome completo"),
    "first_name": ("first name", "firstname", "given name", "first", "forename", "primeiro nome", "vorname"),
    "last_name": ("last name", "lastname", "surname", "family name", "sobrenome", "apellido", "nachname"),
    "email": ("email", "e mail", "email address", "e mail address", "mail", "correo"),
    "tags": ("tags", "tag", "labels", "label", "groups", "etiquetas"),
    "source": ("source", "origin", "lead source", "origem"),
    "priority": ("priority", "prioridade", "prioridad"),
}  # fmt: skip
_LOOKUP = {synonym: target for target, synonyms in _SYNONYMS.items() for synonym in synonyms}
_NON_WORD = re.compile(r"[^a-z0-9]+")


def _plain(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return _NON_WORD.sub(" ", folded).strip()


def known_target(header: str) -> str | None:
    """The contact field a header name usually means (`Telefone` -> phone), if any."""
    return _LOOKUP.get(_plain(header))


def custom_key(header: str) -> str:
    """A custom-field key from a column name (`Birth Date` -> `birth_date`, `2nd line` -> `_2nd_line`)."""
    key = _plain(header).replace(" ", "_")
    return (f"_{key}" if key[:1].isdigit() else key)[:64]


def suggest_mapping(columns: list[str], preview: list[list[str]], default_country: str | None) -> dict[str, str]:
    """Known header names map to contact fields; every other column to `custom.<key>`."""
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for name in columns:
        target = known_target(name)
        if target is not None and target not in used:
            mapping[name] = target
            used.add(target)
    if "name" in used:
        for name, target in list(mapping.items()):
            if target in ("first_name", "last_name"):
                del mapping[name]
                used.discard(target)
    if "phone" not in used:
        phone_column = _phone_column_by_content(columns, preview, default_country, set(mapping))
        if phone_column is not None:
            mapping[phone_column] = "phone"
    keys: set[str] = set()
    for name in columns:
        if name in mapping:
            continue
        base = custom_key(name) or f"column_{columns.index(name) + 1}"
        key, n = base, 2
        while key in keys:
            key, n = f"{base[:60]}_{n}", n + 1
        keys.add(key)
        mapping[name] = f"custom.{key}"
    return {name: mapping[name] for name in columns}


def _phone_column_by_content(
    columns: list[str], preview: list[list[str]], country: str | None, taken: set[str]
) -> str | None:
    best, best_hits = None, 0
    for i, name in enumerate(columns):
        if name in taken:
            continue
        hits = 0
        for row in preview:
            if not isinstance(phone_fields(row[i] if i < len(row) else "", country), str):
                hits += 1
        if hits > best_hits:
            best, best_hits = name, hits
    return best


def validate_mapping(columns: list[str], mapping: dict[str, str | None]) -> dict[str, str]:
    """The mapping with ignored columns dropped; 422 naming the first bad entry."""
    used: set[str] = set()
    custom_keys: set[str] = set()
    clean: dict[str, str] = {}
    for column, raw_target in mapping.items():
        field = f"mapping.{column}"
        if column not in columns:
            shown = ", ".join(columns[:20]) + (", ..." if len(columns) > 20 else "")
            raise InvalidInput(field, f"is not a column of the file (columns: {shown})")
        target = (raw_target or "").strip()
        if target.lower() in IGNORED:
            continue
        if target == "status":
            raise InvalidInput(field, "status cannot be imported: a file never unsubscribes or re-subscribes anyone")
        if target.startswith("custom."):
            key = target.removeprefix("custom.")
            if not CUSTOM_KEY.match(key):
                raise InvalidInput(field, f"custom field key must match {CUSTOM_KEY.pattern}")
            if key in custom_keys:
                raise InvalidInput(field, f"custom.{key} is mapped twice")
            custom_keys.add(key)
        elif target in TARGETS:
            if target in used:
                raise InvalidInput(field, f"{target} is mapped from two columns")
            used.add(target)
        else:
            raise InvalidInput(field, f"unknown target; use one of {', '.join(TARGETS)} or custom.<key>")
        clean[column] = target
    if "phone" not in used:
        raise InvalidInput("mapping", "map exactly one column to phone")
    if "name" in used and used & {"first_name", "last_name"}:
        raise InvalidInput("mapping", "map either name or first_name/last_name, not both")
    if len(custom_keys) > MAX_CUSTOM_KEYS:
        raise InvalidInput("mapping", f"at most {MAX_CUSTOM_KEYS} custom fields")
    return clean
