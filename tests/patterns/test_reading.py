"""What code reads from a message itself: clock times, short titles, and requests to
change an event that exists (the chain's gate). The phrasings below are not the
dataset's: they were written for this test, by category, alongside the rules (so they
check the categories, and are not held-out evidence of how the rules generalise)."""

import pytest

from patterns.calendar import asks_to_change, mentioned, short_title, stated_times
from tests.calendars import office

CHANGES = [
    "Could you push the budget review back by an hour?",
    "Please bring the standup forward to 8:45.",
    "Let's cancel Thursday's dentist visit.",
    "Drop Ana from tomorrow's planning call.",
    "Make our sync 30 minutes instead of an hour.",
    "Extend my 2pm by 15 minutes.",
    "Change the client call to Wednesday.",
    "Hi, can you move the offsite to next week?",
    "The quarterly review needs to start at 10 now.",
    "Rename the 3pm to 'Vendor pitch'.",
    "Invite Dan and Mia to the retro.",
    "Shift it to the afternoon please.",
    "Delay the launch meeting by a day.",
    "Our one-on-one is now at 4pm.",
    "Take Bob off the design review.",
    "Swap the marketing sync to Friday morning.",
]
NEW_EVENTS = [
    "Schedule a meeting about the office move next Monday at 10.",
    "Set up a call to discuss changes to the budget on Friday.",
    "Book a session to update the roadmap on Tuesday at 2pm.",
    "Add lunch with Bob to my calendar on Friday at noon.",
    "Invite the team to a planning session on Friday at 11.",
    "Put a dentist appointment in my calendar for Monday at 9am.",
    "Add a 30 minute check-in with Priya on Thursday.",
    "Bring the team together for pizza on Friday at 6pm.",
    "Make a reservation for dinner with Sam on Saturday at 8pm.",
    "Create a review of the move plan for Wednesday at 3.",
    "Team lunch will be at noon on Friday, please add it.",
    "Block Monday 9-11am for focus time.",
    "Coffee with Lee tomorrow at 8:15am.",
    "Can you set up a demo with the client on December 9 at 1pm?",
]


@pytest.mark.parametrize("text", CHANGES)
def test_a_request_to_change_an_existing_event_is_recognised(text: str) -> None:
    assert asks_to_change(text)


@pytest.mark.parametrize("text", NEW_EVENTS)
def test_a_new_event_is_not_taken_for_a_change(text: str) -> None:
    assert not asks_to_change(text)


@pytest.mark.parametrize(
    ("text", "start", "minutes"),
    [
        ("Dinner at 7:30pm on Friday", "19:30", None),
        ("Lunch next Friday at noon", "12:00", None),
        ("board meeting on December 8 from 2pm to 5pm", "14:00", 180),
        ("call at 9.30 am", "09:30", None),
        ("gym tmrw 7am", "07:00", None),
        ("review 14:30-15:15", "14:30", 45),
        ("late call 11pm to 1am", "23:00", 120),
        ("Set a sprint planning session on Monday at 10", None, None),  # 10am or pm?
        ("Midnight release party", "00:00", None),
        # a range whose first half takes its part of the day from the second
        ("Hold Thursday 2-4pm for the offsite prep", "14:00", 120),
        ("Standup 9 to 9:15am", "09:00", 15),
        ("lunch 11-1pm w/ Ana", "11:00", 120),
        ("call 7 - 8 pm", "19:00", 60),
        ("Dinner Dec 3-7pm?", "19:00", None),  # a day, then a time: no range
        ("v2-3pm build review", "15:00", None),  # no bare hour before the dash
    ],
)
def test_stated_clock_times_are_read_by_code(
    text: str, start: str | None, minutes: int | None
) -> None:
    assert stated_times(text) == (start, minutes)


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("Lunch with Ana next Friday at noon to plan the launch", "Lunch with Ana"),
        ("Schedule a team meeting next Tuesday at 2pm with Alice", "Team meeting"),
        ("Team sync", "Team sync"),
        ("Quarterly planning offsite for the whole engineering org", "Quarterly planning offsite"),
        # a slot of time for something: its purpose
        ("Book 2 hours on Thursday at 3pm for grant writing", "Grant writing"),
        ("Hold time for the offsite agenda the day after tomorrow", "The offsite agenda"),
        ("Time management workshop for new managers", "Time management workshop"),
        ("Meet the team the day after tomorrow at 3pm", "Meet the team"),
    ],
)
def test_a_title_is_at_most_five_words_and_leaves_out_the_when(name: str, title: str) -> None:
    assert short_title(name) == title
    assert len(short_title(name).split()) <= 5


def test_the_models_choice_of_event_is_vetoed_without_evidence_in_the_message() -> None:
    """A word of the event's name that no other event has, a participant, or its time:
    else "none". The veto never picks an event; it stops a wrong-event edit."""
    calendar = office()
    review, standup = calendar.events
    assert mentioned(review, calendar, "Move the design review to Friday")
    assert mentioned(standup, calendar, "Push the 9:30 on Monday back an hour")
    assert mentioned(standup, calendar, "Add Carol to the meeting with Alice")
    assert not mentioned(review, calendar, "Reschedule my dentist appointment")
    assert not mentioned(standup, calendar, "Move the budget meeting to Friday")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The train leaves at 7:45 tomorrow morning, right?", True),
        ("My flight lands Friday at 6pm, what's the best way into town?", True),
        ("Can you block two hours on Thursday for deep work, starting at 1pm?", False),
        ("hey could u book lunch w/ Sara tmrw 1pm?", False),  # a request put as a question
        ("Am I free Friday afternoon? If so, book a call with Zoe at 3pm.", False),
        ("Lunch with Ana on Friday at noon.", False),
    ],
)
def test_a_message_that_ends_by_asking_is_a_question(text: str, expected: bool) -> None:
    from patterns.calendar import asks_a_question

    assert asks_a_question(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dinner with my parents on Sunday at 7pm.", True),
        ("Prenota una chiamata con Marco domani alle 15:00.", True),  # any language
        ("pls book lunch w/ sara tmrw 1pm", True),
        ("Remind me what we decided at the 2pm meeting yesterday.", False),  # a past day
        ("Lunch with Ana at noon", False),  # no day
        ("Dentist on Friday", False),  # no time
        ("Convert 14:30 to 12-hour time.", False),  # "12-hour" is no day
        ("The train leaves at 7:45 tomorrow morning, right?", False),  # a question
    ],
)
def test_the_chain_gate_reads_a_day_and_a_time_in_the_message(text: str, expected: bool) -> None:
    from datetime import date

    from patterns.chain import states_when

    assert states_when(text, date(2026, 11, 25)) is expected


@pytest.mark.parametrize(
    ("text", "minutes", "direction"),
    [
        ("Verschiebe die Retro um eine Stunde nach hinten.", 60, "later"),
        ("Atrasa la reunión con Omar media hora.", 30, "later"),
        ("Décale le point d'une heure plus tôt.", 60, "earlier"),
        ("Rendi la riunione 15 minuti più lunga.", 15, "longer"),
        ("Deixa a reunião 30 minutos mais curta.", 30, "shorter"),
        ("Die Besprechung dauert zwei Stunden.", 120, None),
        ("Réunion d'une heure et demie lundi", 90, None),
    ],
)
def test_amounts_of_time_are_read_in_other_languages(
    text: str, minutes: int, direction: str | None
) -> None:
    from patterns.calendar import amounts

    assert [(a.minutes, a.direction) for a in amounts(text)] == [(minutes, direction)]


def test_an_hour_of_the_day_written_with_h_is_a_time_not_a_length() -> None:
    from patterns.calendar import amounts

    assert stated_times("Décale la revue à vendredi 11h.") == ("11:00", None)
    assert amounts("Décale la revue à vendredi 11h.") == []
    assert stated_times("a 2h workshop at 3pm") == ("15:00", 120)  # a length below 7h
