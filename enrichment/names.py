"""Turning business names into comparable tokens and candidate domain labels."""

from __future__ import annotations

import itertools
import re

from anyascii import anyascii


def word_set(text: str) -> frozenset[str]:
    """A frozenset from whitespace-separated words: long word lists stay readable."""
    return frozenset(text.split())


# Articles and conjunctions, then words that say what kind of business it is rather
# than which one. Dropping them gives the distinctive part of a name
# ("The Hotel Casa Azul" -> "casa azul").
CONNECTORS = word_set(
    """the a an and und et e y i of da de di do du des del della la le les el los las il lo"""
)
GENERIC_WORDS = CONNECTORS | word_set(
    """hotel hotels hostel hostal inn motel resort resorts spa boutique guesthouse guest
    house pension pensao pousada albergo b bb bnb apartments apartamentos suites lodge
    garni gasthof gasthaus landgasthof wirtshaus restaurant ristorante trattoria osteria
    pizzeria cafe bistro brasserie auberge agriturismo pensione locanda taverna
    gmbh ltd llc inc sa sas sarl srl sl slu ag bv co company"""
)

# Mailbox providers: an address there says nothing about the business's own domain.
FREE_MAIL_DOMAINS = word_set(
    """gmail.com googlemail.com yahoo.com yahoo.fr yahoo.es yahoo.it yahoo.de yahoo.co.uk
    hotmail.com hotmail.fr hotmail.es hotmail.it outlook.com live.com msn.com aol.com
    icloud.com me.com mac.com gmx.de gmx.net gmx.at web.de t-online.de orange.fr free.fr
    laposte.net sfr.fr libero.it virgilio.it tiscali.it sapo.pt mail.ru yandex.ru
    protonmail.com proton.me zoho.com bluewin.ch gmx.ch hispeed.ch sunrise.ch aon.at
    chello.at a1.net alice.it tin.it email.it wanadoo.fr hotmail.de outlook.de"""
)

TOKEN_RE = re.compile(r"[a-z0-9]+")


def tokens(text: str) -> list[str]:
    """Lower-case ASCII words: 'Hôtel Ñandú & Co' -> ['hotel', 'nandu', 'co']."""
    return TOKEN_RE.findall(anyascii(text or "").lower().replace("&", " and "))


# German writes umlauts as two letters where they cannot be typed (domains, old pages):
# "Grüner Baum" is gruenerbaum.de, "Zürich" is also "Zuerich".
GERMAN_SPELLING = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
)


def spellings(text: str) -> list[str]:
    """`text`, and its German two-letter spelling when that differs."""
    german = (text or "").translate(GERMAN_SPELLING)
    return [text] if german == text else [text, german]


def core_tokens(name: str) -> list[str]:
    """The distinctive words of a name; if every word is generic ("Hotel"), those."""
    words = tokens(name)
    core = [w for w in words if w not in GENERIC_WORDS]
    return core or [w for w in words if w not in CONNECTORS]


def domain_labels(name: str, city: str = "") -> list[str]:
    """Candidate second-level labels, most likely first, each a valid DNS label.

    A name with umlauts gives both spellings, shape by shape ("grunerbaum",
    "gruenerbaum", "gruner-baum", "gruener-baum", ...).
    """
    german = (name.translate(GERMAN_SPELLING), city.translate(GERMAN_SPELLING))
    variants = [_labels(name, city)]
    if german != (name, city):
        variants.append(_labels(*german))
    labels: list[str] = []
    for shape in itertools.zip_longest(*variants):
        labels += [label for label in shape if label and label not in labels]
    return labels


def _labels(name: str, city: str) -> list[str]:
    words = tokens(name)
    core = core_tokens(name)
    if not core:
        return []
    city_words = tokens(city)
    shapes = [
        "".join(core),
        "-".join(core),
        "".join(words),
        "-".join(words),
        "".join(core + city_words),
        "-".join(core + city_words),
    ]
    if words and words[0] in GENERIC_WORDS and words[0] not in core:
        shapes.append(words[0] + "".join(core))
    labels: list[str] = []
    for label in shapes:
        if 2 <= len(label) <= 63 and label not in labels and not label.startswith("-"):
            labels.append(label)
    return labels
