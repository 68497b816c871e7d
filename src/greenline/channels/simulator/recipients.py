"""Simulated WhatsApp users: stable traits per (seed, phone), languages and the replies they send.

Traits are raw uniforms from a keyed BLAKE2b hash (never Python's salted `hash()`), so a phone behaves the same
in every run with the same seed; each number's parameters turn them into behaviour (on WhatsApp or not, online,
reading, replying, blocking). The language follows the country calling code.
"""

from __future__ import annotations

import hashlib
import struct
from functools import lru_cache
from typing import NamedTuple

# Longest-prefix match on the calling code; unknown codes speak English.
CALLING_CODE_LANGUAGE = {
    "1": "en", "44": "en", "61": "en", "64": "en", "353": "en", "27": "en", "234": "en", "254": "en", "63": "en",
    "65": "en", "233": "en", "34": "es", "52": "es", "54": "es", "56": "es", "57": "es", "51": "es", "58": "es",
    "593": "es", "591": "es", "595": "es", "598": "es", "502": "es", "503": "es", "504": "es", "505": "es",
    "506": "es", "507": "es", "53": "es", "55": "pt", "351": "pt", "244": "pt", "258": "pt", "33": "fr", "32": "fr",
    "221": "fr", "225": "fr", "237": "fr", "49": "de", "43": "de", "41": "de", "39": "it", "62": "id", "91": "hi",
    "966": "ar", "971": "ar", "20": "ar", "962": "ar", "965": "ar", "974": "ar", "968": "ar", "973": "ar",
    "961": "ar", "964": "ar", "212": "ar", "213": "ar", "216": "ar", "90": "tr",
}  # fmt: skip

REPLIES: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "interested": ("Yes, I'm interested", "Sounds good, tell me more", "I'd like to order one", "Interested!"),
        "question": ("How much is it?", "Do you deliver to my area?", "What sizes do you have?", "Is it in stock?"),
        "not_interested": ("No thanks", "Not interested", "Maybe later", "Not right now, thanks"),
        "stop": ("STOP", "UNSUBSCRIBE", "Stop", "CANCEL"),
    },
    "es": {
        "interested": ("Sí, me interesa", "Quiero más información", "Me gustaría pedir uno"),
        "question": ("¿Cuánto cuesta?", "¿Hacen envíos a mi ciudad?", "¿Tienen otras tallas?"),
        "not_interested": ("No, gracias", "No me interesa", "Quizás más adelante"),
        "stop": ("baja", "BAJA", "STOP", "cancelar"),
    },
    "pt": {
        "interested": ("Quero saber mais", "Tenho interesse", "Sim, quero comprar"),
        "question": ("Quanto custa?", "Vocês entregam em Campinas?", "Tem outras cores?"),
        "not_interested": ("Não, obrigado", "Não tenho interesse", "Talvez depois"),
        "stop": ("PARAR", "parar", "SAIR", "STOP"),
    },
    "fr": {
        "interested": ("Oui, ça m'intéresse", "J'aimerais en savoir plus", "Je veux commander"),
        "question": ("C'est combien ?", "Vous livrez à Lyon ?", "Quelles tailles avez-vous ?"),
        "not_interested": ("Non merci", "Pas intéressé", "Plus tard peut-être"),
        "stop": ("arrêter", "STOP", "désabonner"),
    },
    "de": {
        "interested": ("Ja, ich bin interessiert", "Klingt gut, erzählen Sie mehr", "Ich möchte bestellen"),
        "question": ("Wie viel kostet das?", "Liefern Sie nach Hamburg?", "Gibt es das in Blau?"),
        "not_interested": ("Nein danke", "Kein Interesse", "Vielleicht später"),
        "stop": ("Stopp", "STOP", "abmelden"),
    },
    "it": {
        "interested": ("Sì, sono interessato", "Vorrei saperne di più", "Vorrei ordinarlo"),
        "question": ("Quanto costa?", "Spedite a Milano?", "Che taglie avete?"),
        "not_interested": ("No grazie", "Non mi interessa", "Forse più avanti"),
        "stop": ("STOP", "basta", "cancella"),
    },
    "id": {
        "interested": ("Ya, saya tertarik", "Boleh info lebih lanjut?", "Saya mau pesan"),
        "question": ("Berapa harganya?", "Bisa kirim ke Bandung?", "Ada ukuran lain?"),
        "not_interested": ("Tidak, terima kasih", "Tidak tertarik", "Mungkin nanti"),
        "stop": ("berhenti", "STOP", "BERHENTI"),
    },
    "hi": {
        "interested": ("Haan, interested hoon", "Aur details bhejo", "Mujhe order karna hai"),
        "question": ("Kitne ka hai?", "Kya aap COD dete ho?", "Pune mein delivery hai?"),
        "not_interested": ("Nahi chahiye", "Interested nahi hoon", "Baad mein dekhenge"),
        "stop": ("band karo", "STOP", "unsubscribe"),
    },
    "ar": {
        "interested": ("نعم، أنا مهتم", "أريد معرفة المزيد", "أرغب في الطلب"),
        "question": ("كم السعر؟", "هل يوجد توصيل إلى جدة؟", "ما المقاسات المتوفرة؟"),
        "not_interested": ("لا شكرا", "غير مهتم", "ربما لاحقا"),
        "stop": ("إلغاء", "توقف", "STOP"),
    },
    "tr": {
        "interested": ("Evet, ilgileniyorum", "Daha fazla bilgi alabilir miyim?", "Sipariş vermek istiyorum"),
        "question": ("Fiyatı ne kadar?", "İzmir'e kargo var mı?", "Başka renk var mı?"),  # noqa: RUF001 - Turkish dotless i
        "not_interested": ("Hayır, teşekkürler", "İlgilenmiyorum", "Belki sonra"),  # noqa: RUF001 - Turkish dotless i
        "stop": ("DUR", "iptal", "STOP"),
    },
}

NAMES: dict[str, tuple[str, ...]] = {
    "en": ("Olivia Smith", "James Brown", "Emma Wilson", "Noah Taylor", "Amelia Evans"),
    "es": ("Lucía García", "Mateo López", "Sofía Martínez", "Diego Pérez", "Valentina Ruiz"),
    "pt": ("Ana Silva", "Lucas Santos", "Beatriz Oliveira", "Pedro Souza", "Gabriel Lima"),
    "fr": ("Camille Martin", "Louis Bernard", "Chloé Dubois", "Hugo Moreau"),
    "de": ("Lukas Müller", "Mia Schmidt", "Leon Fischer", "Hannah Weber"),
    "it": ("Giulia Rossi", "Marco Russo", "Sofia Romano", "Luca Ferrari"),
    "id": ("Budi Santoso", "Siti Wijaya", "Agus Saputra", "Dewi Hidayat"),
    "hi": ("Aarav Sharma", "Priya Patel", "Rohan Singh", "Ananya Gupta"),
    "ar": ("Ahmed Hassan", "Fatima Ali", "Omar Khalil", "Layla Said"),
    "tr": ("Mehmet Yılmaz", "Ayşe Kaya", "Emre Demir", "Zeynep Çelik"),  # noqa: RUF001 - Turkish dotless i
}

STOP_WORDS: frozenset[str] = frozenset(
    word.casefold() for language in REPLIES.values() for word in language["stop"] if len(word.split()) <= 2
)


class Traits(NamedTuple):
    """Raw uniforms in [0, 1) for one phone; the number's parameters decide what they mean."""

    on_whatsapp: float  # below `not_on_whatsapp_share`: not a WhatsApp user (131026)
    offline: float  # below `offline_share`: usually offline, delivered late
    reads: float  # the user's read propensity around `read_share`
    replies: float  # the user's reply propensity around `reply_share`
    blocks: float  # the user's block/report propensity around `block_share`
    name: float
    language: str

    def read_probability(self, share: float) -> float:
        """Per-message read chance: the share spread ±0.3 across users (mean unchanged)."""
        return min(1.0, max(0.0, share + (self.reads - 0.5) * 0.6))

    def reply_factor(self) -> float:
        """Multiplier of the reply share, 0.5-1.5 across users (mean 1)."""
        return 0.5 + self.replies

    def feedback_factor(self) -> float:
        """Multiplier of block and report shares, 0.5-1.5 across users (mean 1)."""
        return 0.5 + self.blocks

    def profile_name(self) -> str:
        """The WhatsApp profile name shown in `contacts[].profile.name`."""
        names = NAMES[self.language]
        return names[int(self.name * len(names))]


def digits(phone: str) -> str:
    """A phone as WhatsApp ids write it: digits only, no `+`."""
    bare = phone[1:] if phone.startswith("+") else phone
    if bare.isascii() and bare.isdigit():
        return bare  # the common E.164 case, without a per-character loop
    return "".join(ch for ch in phone if ch.isdigit())


def language_for(phone_digits: str) -> str:
    """The language of a phone's country calling code (longest prefix), English when unknown."""
    for size in (3, 2, 1):
        language = CALLING_CODE_LANGUAGE.get(phone_digits[:size])
        if language:
            return language
    return "en"


@lru_cache(maxsize=200_000)
def traits_for(seed: int, phone_digits: str) -> Traits:
    """The stable traits of one phone under one seed."""
    digest = hashlib.blake2b(phone_digits.encode(), key=str(seed).encode()[:64], digest_size=24).digest()
    on_whatsapp, offline, reads, replies, blocks, name = (word / 2**32 for word in struct.unpack(">6I", digest))
    return Traits(on_whatsapp, offline, reads, replies, blocks, name, language_for(phone_digits))


def reply_text(language: str, category: str, pick: float) -> str:
    """One of the canned replies of a category in a language, chosen by `pick` in [0, 1)."""
    texts = REPLIES.get(language, REPLIES["en"])[category]
    return texts[min(len(texts) - 1, int(pick * len(texts)))]
