"""Phrases that decide a reply's label by rules, in the languages our prospects write.

Each list is matched case-insensitively against the newest reply text only (quoted
text and signatures removed), so our own footer ("unsubscribe here") in a quote never
counts. Order of checks lives in classify.py.
"""

from __future__ import annotations

import re


def _compile(phrases: list[str], flags: int = 0) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{phrase})" for phrase in phrases), re.IGNORECASE | flags)


BOUNCE_SENDERS = re.compile(
    r"^(mailer-daemon|post_?master|mail-daemon|mailerdaemon|bounces?|no-?reply-?bounce|"
    r"mail\.delivery\.system|mail-delivery-system|mmsc|bounce-notification)([@+]|$)",
    re.IGNORECASE,
)
# Subjects of bounces, from the start (a person's "Re: undeliverable?" is not one).
BOUNCE_SUBJECTS = _compile(
    [
        r"^\W*(\[[^\]]*\]\s*)?(returned mail|mail returned|undeliver(ed|able)|non[- ]?deliver)",
        r"^\W*(delayed mail|mail delivery|delivery (status|failure|notification|report|"
        r"has failed|problem|failed)|failure notice|failed delivery|message not delivered|"
        r"delivery to the following|returned to sender|nondeliverable)",
        r"delivery (status notification|failure|has failed)",
        r"mail delivery (failed|failure|subsystem)",
        r"(message|mail) (could not|couldn'?t|was not|wasn'?t) (be )?(delivered|sent)",
        r"non remis|non distribu|unzustellbar|nicht zustellbar|zustellung fehlgeschlagen",
        r"no se puede entregar|no entregado|non recapitabile|onbestelbaar|n[ãa]o entregue",
        r"不達|未送達|退信|系统退信|メールエラー",
    ]
)
# Subjects that are a bounce's only when a machine sent the message.
MACHINE_SUBJECTS = _compile(
    [r"^\W*(warning|error|notification|rejected|bounce|message delivery|could not send)"]
)
# The opening words of a prose bounce, when neither its sender nor its subject says so.
BOUNCE_PROSE = _compile(
    [
        r"(could not|couldn'?t|was not|wasn'?t|cannot be|can ?not be|unable to be) "
        r"(be )?deliver(ed)?",
        r"delivery (to the following|has failed|failed|attempt)",
        r"permanent (fatal )?error|undeliverable|returned mail|failed permanently",
        r"message (could not|was not) be|i'?m afraid i wasn'?t able to deliver",
        r"no valid recipients|not a member of|delivery status notification",
    ]
)
# Where a prose bounce starts quoting the original message.
ORIGINAL_MARKER = _compile(
    [
        r"^[ \t>]*-{2,}.{0,40}(below this line|copy of the message|original message|"
        r"returned message|message (headers|text|body) follow|headers? of the original|"
        r"undelivered message|message follows)",
        r"^[ \t>]*(original message (follows|headers?)|\*+ ?original message|"
        r"-+ ?original message ?-+|-+ ?returned message ?-+|original message:)",
        r"^[ \t>]*(the )?(original|returned|undeliverable) message( headers?)? (is|are|was) "
        r"(attached|below|included|follows)",
        r"^[ \t>]*-+ ?(the )?header of the original message",
        r"^[ \t>]*message headers follow",
    ],
    re.MULTILINE,
)
# A bounce saying it will still retry (a warning, not a failure).
DELAYED = _compile(
    [
        r"^\W*(warning|delayed mail|delivery delayed|delay(ed)? notification)",
        r"(has not|hasn'?t) (yet )?been delivered|will (continue to )?(retry|try)",
        r"still (being )?(tried|retried|trying)|delivery (is )?delayed|not yet been delivered",
        r"no action is required on your part|will be retried",
    ],
    re.MULTILINE,
)
# Complaints sent without ARF fields (e.g. a mailbox provider's abuse desk).
COMPLAINT_SUBJECTS = _compile([r"^\W*complaint about message from", r"^\W*abuse report"])
REPLY_PREFIX = re.compile(r"^\s*(re|aw|sv|antw|ref|rif|fwd?|wg|tr)\s*:", re.IGNORECASE)

AUTO_REPLY_SUBJECTS = _compile(
    [
        r"^(automatic|auto)[- ]?reply",
        r"out of (the )?office",
        r"autoreply",
        r"abwesenheit",
        r"automatische antwort",
        r"r[ée]ponse automatique",
        r"absence",
        r"respuesta autom[áa]tica",
        r"fuera de la oficina",
        r"risposta automatica",
        r"fuori sede",
        r"automatisch antwoord",
        r"afwezig",
        r"resposta autom[áa]tica",
        r"aus(ser|ßer) haus",
        r"frånvaro",
        r"autosvar",
    ]
)
OUT_OF_OFFICE = _compile(
    [
        r"out of (the )?office",
        r"(currently|presently) (away|out|on (annual )?leave|travell?ing)",
        r"on (annual |parental |maternity |paternity )?leave",
        r"on (vacation|holiday)",
        r"limited access to (my )?e-?mail",
        r"i will be back",
        r"i('| a)m away",
        r"nicht im b[üu]ro",
        r"abwesend",
        r"im urlaub",
        r"wieder (im b[üu]ro|erreichbar|da)",
        r"je suis (absente?|en cong[ée])",
        r"de retour le",
        r"absente? du bureau",
        r"fuera de la oficina",
        r"estoy de vacaciones",
        r"estar[ée] de vuelta",
        r"fuori (ufficio|sede)",
        r"sono in ferie",
        r"afwezig",
        r"niet op kantoor",
        r"met vakantie",
        r"fora do escrit[óo]rio",
        r"estou de f[ée]rias",
    ]
)

UNSUBSCRIBE = _compile(
    [
        r"\bunsubscribe\b",
        r"\bopt(ed)?[- ]?out\b",
        r"remove (me|us|my (e-?mail|address)|this (e-?mail|address))",
        r"take (me|us) off",
        r"(stop|quit) (e-?mailing|emailing|contacting|sending|writing)",
        r"do not (contact|e-?mail|email|write)",
        r"don'?t (contact|e-?mail|email|write to) (me|us)",
        r"no (more|further) e-?mails",
        r"never (contact|e-?mail|email) (me|us)",
        r"^\s*stop\s*$",
        r"abmelden",
        r"austragen",
        r"keine (weiteren )?(e-?mails|nachrichten|werbung)",
        r"nicht mehr (kontaktieren|anschreiben|schreiben)",
        r"d[ée]sabonner",
        r"d[ée]sinscri",
        r"retirez[- ]moi",
        r"me retirer",
        r"ne (plus|pas) (me )?(contacter|recevoir|[ée]crire)",
        r"plus recevoir",
        r"dar(me)? de baja",
        r"darse de baja",
        r"no (me|nos) (env[íi]e|escriba|contacte)",
        r"no quiero recibir",
        r"cancellami",
        r"disiscriv",
        r"non (contattarmi|scrivermi|inviatemi)",
        r"uitschrijven",
        r"afmelden",
        r"descadastr",
        r"n[ãa]o (quero )?receber",
    ]
)
NOT_INTERESTED = _compile(
    [
        r"not interested",
        r"no interest",
        r"no,? thanks?",
        r"no,? thank you",
        r"not (for us|a fit|a good fit|right now|at this time|now)",
        r"we('re| are) (all set|happy with|good)",
        r"(already have|already use|already work with)",
        r"kein(en)? (interesse|bedarf)",
        r"nicht interessiert",
        r"pas (int[ée]ress[ée]e?s?|int[ée]ress[ée]s)",
        r"ne sommes pas int[ée]ress",
        r"no (estamos|estoy) interesad",
        r"no nos interesa",
        r"no me interesa",
        r"non (siamo|sono) interessat",
        r"niet ge[ïi]nteresseerd",
        r"geen interesse",
        r"n[ãa]o (estamos|estou) interessad",
    ]
)
MEETING = _compile(
    [
        r"(schedule|book|set up|arrange|have) (a |an )?(quick |short )?(call|meeting|demo|chat)",
        r"(call|ring|phone) me",
        r"(let'?s|can we|could we|shall we) (talk|meet|speak|chat|hop on)",
        r"(what|which) (time|day)s? (works|suits|is good)",
        r"are you (free|available)",
        r"calendly\.com|cal\.com/",
        r"\b(zoom|teams|google meet)\b",
        r"telefonieren",
        r"\btermin\b",
        r"r[ée]union|rendez-vous|appel t[ée]l[ée]phonique",
        r"reuni[óo]n|llamada|videollamada",
        r"riunione|chiamata",
        r"afspraak|bellen",
        r"reuni[ãa]o|liga[çc][ãa]o",
    ]
)
INTERESTED = _compile(
    [
        r"\binterested\b",
        r"sounds (good|great|interesting)",
        r"tell me more",
        r"(send|share) (me |us )?(more|some|the) (info|information|details|material)",
        r"more (info|information|details)",
        r"yes,? please",
        r"i'?d (like|love) to (know|learn|hear|see)",
        r"interessiert|klingt (gut|spannend|interessant)|gerne mehr",
        r"int[ée]ress[ée]|avec plaisir",
        r"me interesa|nos interesa|interesad[oa]|m[áa]s informaci[óo]n",
        r"interessat[oi]|mi interessa|ci interessa",
        r"ge[ïi]nteresseerd|klinkt goed",
        r"interessad[oa]|mais informa[çc][õo]es",
    ]
)
QUESTION = _compile(
    [
        r"\?",
        r"^(how|what|when|where|which|who|why|can|could|do|does|is|are) ",
        r"(price|pricing|cost|rate|fee)s?\b",
        r"\b(preis|kosten|prix|tarif|precio|prezzo|prijs|pre[çc]o)\b",
    ]
)
