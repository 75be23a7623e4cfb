"""Day phrases, as a model copies them from a message, resolved by code against the
injected clock: every form the issue lists (offsets in days and weeks from today or from
another day, the day after tomorrow, the end of the month, a weekday with a date,
abbreviations, other languages). Written by form, not from the dataset's cases."""

from datetime import date

import pytest

from patterns.calendar import day_of, find_day, resolve_day, stated_length, stated_times

WEDNESDAY = date(2026, 11, 25)  # a Wednesday; the month ends on Monday the 30th

FORMS = {
    "offset in days": [("in 3 days", "2026-11-28"), ("in ten days", "2026-12-05"),
                       ("10 days from now", "2026-12-05"), ("3 days from today", "2026-11-28")],
    "offset in weeks": [("in a week", "2026-12-02"), ("in two weeks", "2026-12-09"),
                        ("a week from today", "2026-12-02"),
                        ("a fortnight from today", "2026-12-09"), ("2 wks from now", "2026-12-09")],
    "offset from another day": [("a week from Friday", "2026-12-04"),
                                ("three days after Monday", "2026-12-03"),
                                ("2 weeks from Monday", "2026-12-14"),
                                ("a day after tomorrow", "2026-11-27")],
    "the day after tomorrow": [("the day after tomorrow", "2026-11-27"),
                               ("day after tomorrow", "2026-11-27")],
    "end of the month": [("the end of the month", "2026-11-30"),
                         ("end of this month", "2026-11-30"),
                         ("the last day of the month", "2026-11-30")],
    "weekday with a date": [("Friday, December 4", "2026-12-04"), ("Fri Dec 4", "2026-12-04"),
                            ("Monday the 7th", "2026-12-07"),
                            ("Thursday 2026-12-03", "2026-12-03")],
    "next week": [("Tuesday next week", "2026-12-01"), ("next week Wednesday", "2026-12-02"),
                  ("Wed next week", "2026-12-02")],
    "a weekday after next": [("Tuesday after next", "2026-12-08"),
                             ("Friday after next", "2026-12-04"),
                             ("thurs after next", "2026-12-03")],
    "a weekday of a month": [("the first Monday of December", "2026-12-07"),
                             ("the second Tuesday in January", "2027-01-12"),
                             ("the last Friday of the month", "2026-11-27"),
                             ("the first Monday of next month", "2026-12-07"),
                             ("the third Wed of Dec", "2026-12-16"),
                             ("the first Monday of November", "2027-11-01")],
    "abbreviations and typos": [("tmrw", "2026-11-26"), ("tmr", "2026-11-26"),
                                ("tomorow", "2026-11-26"), ("thurs", "2026-11-26"),
                                ("Sat", "2026-11-28"), ("nxt tue", "2026-12-01"),
                                ("Dec. 3", "2026-12-03"), ("3rd of December", "2026-12-03")],
    "part of a day": [("tomorrow evening", "2026-11-26"), ("Monday morning", "2026-11-30"),
                      ("the morning of December 5", "2026-12-05"), ("tonight", "2026-11-25")],
    "project conventions": [("Friday", "2026-11-27"), ("next Friday", "2026-11-27"),
                            ("this Friday", "2026-11-27"), ("Wednesday", "2026-12-02"),
                            ("the 14th", "2026-12-14"), ("January 2nd", "2027-01-02")],
    "other languages": [("mañana", "2026-11-26"), ("el viernes", "2026-11-27"),
                        ("demain", "2026-11-26"), ("vendredi", "2026-11-27"),
                        ("übermorgen", "2026-11-27"), ("am Freitag", "2026-11-27"),
                        ("domani", "2026-11-26"), ("3 de diciembre", "2026-12-03"),
                        ("le 3 décembre", "2026-12-03")],
}  # fmt: skip
CASES = [(form, phrase, want) for form, pairs in FORMS.items() for phrase, want in pairs]


@pytest.mark.parametrize(("form", "phrase", "expected"), CASES, ids=[c[1] for c in CASES])
def test_every_form_of_a_day_resolves_against_the_clock(
    form: str, phrase: str, expected: str
) -> None:
    assert resolve_day(phrase, WEDNESDAY) == date.fromisoformat(expected), form


@pytest.mark.parametrize(
    "phrase", ["someday", "same", "", "May", "42", "x" * 5000, "in 99999999999 days"]
)
def test_what_names_no_day_resolves_to_none(phrase: str) -> None:
    assert resolve_day(phrase, WEDNESDAY) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Plan a call with Ravi three days after Monday at 3pm.", "2026-12-03"),
        ("Book the car service on the 3rd at 8am.", "2026-12-03"),
        ("Lunch for 3 people tomorrow at noon", "2026-11-26"),
        ("Reserva una cita con el dentista mañana a las 10:00.", "2026-11-26"),
        ("Termin mit Herrn Weber am Donnerstag um 14:00.", "2026-11-26"),  # not "mit"
        ("Schedule a call at 3pm", None),  # a time alone names no day
        ("May I ask you something?", None),  # not the month
        ("Move the weekly standup to 10am and add Carol.", None),  # "to 10am" is no day
        ("The board meeting needs two hours.", None),  # an amount of time is no day
        ("Push it 30 minutes later", None),
        ("Make the retro an hour long", None),
        ("Make the review two hours, from 2pm.", None),  # a length from a time: no day
        ("Keep it 90 minutes until 5pm", None),
        ("Thanks, the meeting at noon went well!", None),  # a time of day is no day
        ("Convert 14:30 to 12-hour time.", None),
        ("Call the bank in 2 hours", "2026-11-25"),  # an offset from now: today
        ("Fissa una chiamata giovedì 3 dicembre alle 16.", "2026-12-03"),  # not the 16th
        ("Fissa una chiamata con Luca giovedì alle 16.", "2026-11-26"),
        ("Prenota una chiamata con Marco domani alle 15:00.", "2026-11-26"),
        ("Marcar consulta médica na terça às 9h.", "2026-12-01"),
        # a number beside a weekday is a date only if it falls on that weekday
        ("Organise a retro on Friday at 4pm, one hour.", "2026-11-27"),
        ("Team lunch Friday, 2 tables", "2026-11-27"),
        ("Dinner on Friday the 4th", "2026-12-04"),
    ],
)
def test_code_finds_the_day_a_whole_message_names(text: str, expected: str | None) -> None:
    found = find_day(text, WEDNESDAY)
    assert (found.isoformat() if found else None) == expected


def test_the_models_copy_is_used_only_if_the_message_holds_it() -> None:
    text = "Dinner with Leo a week from Friday at 7pm."
    assert day_of("a week from Friday", text, WEDNESDAY) == (date(2026, 12, 4), "copied")
    # the model wrote a weekday of its own: code reads the message instead
    assert day_of("Friday next week", text, WEDNESDAY) == (date(2026, 12, 4), "message")
    # the message names no day: the model's words, flagged
    assert day_of("tomorrow", "Lunch with Ana at noon", WEDNESDAY) == (date(2026, 11, 26), "model")
    assert day_of("whenever", "Lunch with Ana at noon", WEDNESDAY) is None
    # a part of a longer day phrase is read as the whole phrase
    after = "Set up a call with Priya the day after tomorrow at 10am."
    assert day_of("tomorrow", after, WEDNESDAY) == (date(2026, 11, 27), "copied")
    assert day_of("pasado mañana", "Cita pasado mañana", WEDNESDAY) == (
        date(2026, 11, 27),
        "copied",
    )


@pytest.mark.parametrize(
    ("text", "start", "minutes"),
    [
        ("Workshop on Wednesday at 1pm for 3 hours.", "13:00", 180),
        ("Sprint demo on Dec 9th, 11:00 to 11:45.", "11:00", 45),
        ("Block Friday from 9am until 11am", "09:00", 120),
        ("a 45-minute call at 2pm", "14:00", 45),
        ("half an hour at noon", "12:00", 30),
        ("an hour and a half from 2pm", "14:00", 90),
        ("Déjeuner demain à 12h30", "12:30", None),
        ("Termin um 14 Uhr", "14:00", None),
        ("Réunion à 15h", "15:00", None),
        ("yoga tmrw at 8pm not 6:30", "20:00", None),
        ("push it back an hour", None, None),  # an amount to move by is not a length
        ("make it 15 minutes shorter", None, None),
        ("Book 2 rooms at 3pm", "15:00", None),
        ("a haircut on Friday, 3:30 in the afternoon", "15:30", None),  # part of the day
        ("call at 8 in the evening", "20:00", None),
        ("at 10 o'clock in the morning", "10:00", None),
        ("11 at night", "23:00", None),
        ("dinner on Saturday, 7pm til 10pm", "19:00", 180),  # "til" is a range too
        ("Marcar consulta na terça às 9h", "09:00", None),  # a time, not nine hours
        ("a 2h block at 3pm", "15:00", 120),  # "2h" alone is a length
        # a time set aside is not the one stated, wherever it stands
        ("Forget the 3pm slot, book the vendor call at 4pm tomorrow instead.", "16:00", None),
        ("Instead of 2pm, make the review 5pm", "17:00", None),
        ("Scrap the 9:30 standup time; 10:15 works better", "10:15", None),
        ("not at 3pm", "15:00", None),  # no other: the only time there is
        # an amount from now is a time, not a length
        ("Call the bank in two hours, at noon.", "12:00", None),
        ("remind me within 30 minutes", None, None),
    ],
)
def test_stated_times_and_lengths_are_read_by_code(
    text: str, start: str | None, minutes: int | None
) -> None:
    assert stated_times(text) == (start, minutes)


def test_a_stated_length_is_not_an_amount_of_change() -> None:
    assert stated_length("Retro's gonna run long, make it 90 min.") == 90
    assert stated_length("Could the yoga class be 15 minutes shorter?") is None
    assert stated_length("Omar says it has to happen an hour later.") is None


def test_names_the_model_gave_are_kept_only_if_the_message_holds_them() -> None:
    from patterns.calendar import people_in, title_in

    assert people_in(["Kim", "Lou"], "Add a call with the bank on Thursday") == []
    assert people_in(["Alice", "Bob"], "Team meeting with Alice and Bob.") == ["Alice", "Bob"]
    assert people_in([], "Lunch with Grace tmr at 12:30.") == ["Grace"]
    assert people_in([], "Prenota una chiamata con Marco domani") == ["Marco"]
    assert people_in([], "Lunch with the whole team on Friday") == []
    # a worked example's title, or one of the model's own, is replaced by the message's
    assert title_in("Tea with Kim and Lou", "Add a call with the bank on Thursday") == (
        "Call with the bank"
    )
    assert title_in("Team Meeting", "Schedule a team meeting next Tuesday") == "Team Meeting"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a count of days or weeks, as a word or a number, in other languages
        ("Reunión de presupuesto dentro de dos semanas a las 11:00.", "2026-12-09"),
        ("Chiamata con Luca tra due settimane", "2026-12-09"),
        ("Consulta daqui a duas semanas", "2026-12-09"),
        ("Cita en dos días", "2026-11-27"),
        ("Termin in zwei Wochen", "2026-12-09"),
        ("Rendez-vous dans trois jours", "2026-11-28"),
        ("Treffen in 3 Tagen", "2026-11-28"),
        # the day after tomorrow
        ("Reserva para pasado mañana a las 10", "2026-11-27"),
        ("Jantar depois de amanhã", "2026-11-27"),
        ("Pranzo dopodomani alle 13", "2026-11-27"),
        ("Mittagessen übermorgen", "2026-11-27"),
        ("Déjeuner après-demain", "2026-11-27"),
        # an English word that is a number elsewhere stays English
        ("The report is due Friday", "2026-11-27"),
    ],
)
def test_relative_days_in_other_languages_resolve_against_the_clock(
    text: str, expected: str
) -> None:
    found = find_day(text, WEDNESDAY)
    assert (found.isoformat() if found else None) == expected
