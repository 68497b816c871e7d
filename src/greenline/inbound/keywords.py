"""Stop keywords: a message that is only an opt-out word, in any of the supported languages.

Matching is on the whole message (trimmed, case- and accent-insensitive, trailing punctuation
ignored), never a substring: "stop sending me the catalogue please" is a conversation, "STOP" is an
opt-out. Tenants can replace or extend the list in their settings (`stop_keywords`).
"""

from __future__ import annotations

import re
import unicodedata

DEFAULT_STOP_KEYWORDS: dict[str, tuple[str, ...]] = {
    "en": ("stop", "unsubscribe", "cancel", "stop all", "opt out", "optout", "remove me", "quit", "end", "stopall"),
    "es": ("baja", "darme de baja", "parar", "cancelar", "alto", "no mas", "no más mensajes", "detener"),
    "pt": ("parar", "sair", "cancelar", "descadastrar", "pare", "nao quero mais", "não quero mais"),
    "fr": ("arret", "arrêt", "arreter", "arrêter", "stop pub", "desabonner", "désabonner", "desinscrire"),
    "de": ("stopp", "abbestellen", "abmelden", "kündigen", "beenden", "austragen"),
    "it": ("basta", "annulla", "disiscrivimi", "cancellami", "fermati", "disiscrivi"),
    "id": ("berhenti", "stop langganan", "batal", "berhenti langganan", "keluar"),
    "hi": ("band karo", "band kar do", "बंद करो", "बंद", "rok do", "unsubscribe karo", "mat bhejo"),
    "ar": ("إلغاء", "الغاء", "توقف", "إيقاف", "ايقاف", "الغاء الاشتراك", "إلغاء الاشتراك"),
    "tr": ("dur", "iptal", "abonelikten çık", "abonelikten cik", "durdur", "istemiyorum"),  # noqa: RUF001
}

DEFAULT_CONFIRMATION = (
    "You have been unsubscribed and will not receive marketing messages from us. Reply START to opt back in."
)

_PUNCT = re.compile(r"[\s.!¡?¿,;:\-_*\"'()]+")


def normalize(text: str) -> str:
    """Lowercase, strip accents (keeping non-Latin scripts intact) and collapse punctuation and spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _PUNCT.sub(" ", stripped).strip()


def keyword_set(custom: list[str] | None = None, *, replace: bool = False) -> frozenset[str]:
    words: set[str] = set() if replace and custom else {w for ws in DEFAULT_STOP_KEYWORDS.values() for w in ws}
    words.update(custom or [])
    return frozenset(normalize(w) for w in words if normalize(w))


_DEFAULT_SET = keyword_set()


def is_stop_message(text: str | None, keywords: frozenset[str] = _DEFAULT_SET) -> bool:
    """True when the whole message is a stop keyword."""
    if not text or len(text) > 60:
        return False
    return normalize(text) in keywords
