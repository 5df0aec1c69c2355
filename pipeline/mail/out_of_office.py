"""Out-of-office subjects in English, French, German, Spanish, Italian, Dutch and Swedish."""

from __future__ import annotations

import re

# Subjects auto-responders put first: Exchange/Outlook ("Automatic reply:", localized),
# Gmail and others' vacation replies. Anchored, so a customer writing "Re: absence of
# invoice" is not caught.
OOO_PREFIXES = (
    r"automatic reply",
    r"auto(?:matic)?[- ]?re(?:ply|sponse)",
    r"out of (?:the )?office",
    r"away from (?:the )?office",
    r"on vacation",
    r"vacation (?:reply|notice)",
    r"réponse automatique",
    r"absence du bureau",
    r"absent(?:e)? du bureau",
    r"message d'absence",
    r"automatische antwort",
    r"abwesenheitsnotiz",
    r"abwesend",
    r"nicht im büro",
    r"respuesta automática",
    r"fuera de la oficina",
    r"fuera de oficina",
    r"ausente",
    r"risposta automatica",
    r"fuori sede",
    r"fuori ufficio",
    r"assente",
    r"automatisch antwoord",
    r"afwezig",
    r"niet aanwezig",
    r"afwezigheidsbericht",
    r"automatiskt svar",
    r"frånvaro",
    r"frånvarande",
    r"autosvar",
    r"inte på kontoret",
)
# Phrases no human subject carries anywhere.
OOO_PHRASES = (
    r"out of office",
    r"out of the office",
    r"autoreply",
    r"auto-reply",
    r"abwesenheitsnotiz",
    r"réponse automatique",
    r"respuesta automática",
    r"risposta automatica",
    r"automatisch antwoord",
    r"automatiskt svar",
    r"fuera de la oficina",
    r"fuori ufficio",
)
OOO_SUBJECT = re.compile(
    r"^(?:(?:re|aw|sv|vs|tr|rv|fwd?|wg)\s*:\s*)*(?:" + "|".join(OOO_PREFIXES) + r")\b"
    r"|\b(?:" + "|".join(OOO_PHRASES) + r")\b",
    re.IGNORECASE,
)
