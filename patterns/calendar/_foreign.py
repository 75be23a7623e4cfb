"""Amounts of time and the words that give their direction, in Spanish, French, German,
Italian and Portuguese, written in English for the reader of amounts
(``_reading.amounts``): "um eine Stunde nach hinten" is read as "by an hour back",
"media hora más tarde" as "half an hour later". Grammar of the languages, not of any
dataset; a word that is also English ("tag", "court", "long") is left as it is."""

from __future__ import annotations

import re

_PHRASES = {
    # halves and an hour and a half ("d'une heure et demie": of, not by, an hour and a half)
    r"d'une heure et demie": "of an hour and a half",
    r"d'une demi-heure": "by half an hour",
    r"una hora y media|uma hora e meia|une heure et demie|un'ora e mezza|anderthalb stunden":
        "an hour and a half",
    r"media hora|meia hora|une demi-heure|demi-heure|eine halbe stunde|halbe stunde|"
    r"mezz'ora|mezza ora": "half an hour",
    r"un quart d'heure|cuarto de hora|quarto d'ora|viertelstunde": "a quarter of an hour",
    # directions said in two words
    r"más tarde|plus tard|più tardi|mais tarde|nach hinten": "later",
    r"más temprano|plus tôt|più presto|mais cedo|nach vorne|nach vorn": "earlier",
    r"más largo|más larga|plus long|plus longue|più lung[ao]|mais long[ao]": "longer",
    r"más corto|más corta|plus court|plus courte|più breve|mais curt[ao]": "shorter",
    r"\bd'une\b|\bd'un\b": "by an",
}  # fmt: skip
_WORDS = {
    **dict.fromkeys(("una", "une", "uma", "eine", "einen", "ein", "un"), "an"),
    **dict.fromkeys(("dos", "deux", "zwei", "due", "duas", "dois"), "two"),
    **dict.fromkeys(("tres", "trois", "drei", "três"), "three"),
    **dict.fromkeys(("quince", "quinze", "fünfzehn", "quindici"), "fifteen"),
    **dict.fromkeys(("veinte", "vingt", "zwanzig", "venti", "vinte"), "twenty"),
    **dict.fromkeys(("treinta", "trente", "dreißig", "trenta", "trinta"), "thirty"),
    **dict.fromkeys(("hora", "heure", "stunde", "ora"), "hour"),
    **dict.fromkeys(("horas", "heures", "stunden", "ore"), "hours"),
    **dict.fromkeys(("minuto", "minuten", "minuti", "minutos"), "minutes"),
    **dict.fromkeys(("día", "dia", "jour", "giorno"), "day"),
    **dict.fromkeys(("días", "dias", "jours", "tage", "tagen", "giorni"), "days"),
    **dict.fromkeys(("semana", "semaine", "woche", "settimana"), "week"),
    **dict.fromkeys(("semanas", "semaines", "wochen", "settimane"), "weeks"),
    **dict.fromkeys(("später", "tarde", "tard", "tardi"), "later"),
    **dict.fromkeys(("früher", "temprano", "tôt", "presto", "cedo"), "earlier"),
    **dict.fromkeys(("länger", "larga", "largo"), "longer"),
    **dict.fromkeys(("kürzer", "corta", "corto", "breve", "curta", "curto"), "shorter"),
    **dict.fromkeys(
        (
            "retrasa",
            "retrase",
            "atrasa",
            "atrase",
            "pospón",
            "posterga",
            "repousse",
            "recule",
            "retarde",
            "posticipa",
            "rinvia",
            "adia",
        ),
        "delay",
    ),
    **dict.fromkeys(("adelanta", "adelante", "avance", "anticipa", "adianta"), "forward"),
    **dict.fromkeys(
        ("alarga", "prolonga", "verlängere", "verlängern", "allonge", "allunga", "prolongue"),
        "extend",
    ),
    **dict.fromkeys(
        ("acorta", "raccourcis", "raccourcir", "verkürze", "verkürzen", "accorcia", "encurta"),
        "shorten",
    ),
    **dict.fromkeys(("más", "mehr", "più", "mais"), "more"),
    "um": "by",  # "um eine Stunde" (de); "um dia" (pt) reads as "by an day": the same
}
_PHRASE = re.compile("|".join(f"(?:{p})" for p in _PHRASES), re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def in_english(text: str) -> str:
    """``text`` with the amounts of time and direction words of the five languages in
    English; every other word as it was."""
    text = _PHRASE.sub(lambda m: _phrase(m.group(0)), text)
    return _WORD.sub(lambda m: _WORDS.get(m.group(0).lower(), m.group(0)), text)


def _phrase(found: str) -> str:
    return next(
        english for pattern, english in _PHRASES.items()
        if re.fullmatch(pattern, found, re.IGNORECASE)
    )  # fmt: skip
