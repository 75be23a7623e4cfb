"""The router's code between the model's choices: a kind of change that agrees with what
the message states, the values code reads itself, and the bound on lengths. No model."""

from datetime import date, datetime

import pytest

from patterns.calendar import ChangeError, Event, EventDetails, apply
from patterns.router import checked, consistent, read_in_code

WEDNESDAY = date(2026, 11, 25)
REVIEW = Event(
    id="evt-1", name="Design review", start=datetime(2026, 11, 26, 11), participants=["Dana"]
)
REVIEW_DETAILS = EventDetails(
    name="Design review", start=datetime(2026, 11, 26, 11), participants=["Dana"]
)


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("set_length", "The design review is now at 2pm.", "move"),  # a new start, stated
        ("change_length", "Design review at 4pm instead of 11", "move"),
        ("shift", "Push the design review to 3pm.", "move"),
        ("shift", "Push the design review back an hour.", "shift"),  # no clock time
        ("set_length", "Make the design review 90 minutes.", "set_length"),
        ("set_length", "Design review from 2pm to 3:30pm", "set_length"),  # a range: a length
        ("add_people", "Add Kim to the 11:00 design review", "add_people"),
    ],
)
def test_a_new_clock_time_is_a_move_whatever_kind_was_chosen(
    kind: str, text: str, expected: str
) -> None:
    assert consistent(kind, text) == expected  # type: ignore[arg-type]


def test_code_reads_the_stated_time_and_day_for_a_move() -> None:
    text = "Dana can't make 11 tomorrow; let's do it a week from Friday at 7pm."
    values = read_in_code(
        "move", {"day": "a week from Friday", "start_time": "17:00"}, text, WEDNESDAY, REVIEW
    )
    assert values == {"day": "2026-12-04", "start_time": "19:00"}  # 7pm, stated, over 17:00
    moved = apply(REVIEW, "move", values, WEDNESDAY)
    assert moved.start == datetime(2026, 12, 4, 19)


def test_a_day_the_message_names_is_taken_where_the_model_answered_same() -> None:
    text = "Dana asked whether the review could be on Monday instead, same time."
    values = read_in_code("move", {"day": "same", "start_time": "same"}, text, WEDNESDAY, REVIEW)
    assert values == {"day": "2026-11-30", "start_time": "same"}


def test_a_models_same_day_stands_where_the_message_states_a_time() -> None:
    text = "Schedule the quarterly review offsite one week from tomorrow at 11am."
    values = read_in_code("move", {"day": "same", "start_time": "same"}, text, WEDNESDAY, REVIEW)
    assert values == {"day": "same", "start_time": "11:00"}


def test_a_move_that_keeps_its_day_keeps_it() -> None:
    values = read_in_code(
        "move", {"day": "same", "start_time": "15:00"}, "Review at 3pm.", WEDNESDAY, REVIEW
    )
    assert apply(REVIEW, "move", values, WEDNESDAY).start == datetime(2026, 11, 26, 15)


def test_a_stated_length_wins_over_the_models() -> None:
    values = read_in_code(
        "set_length", {"duration_minutes": 60}, "make it 90 min", WEDNESDAY, REVIEW
    )
    assert values == {"duration_minutes": 90}


def test_a_length_longer_than_the_working_day_is_refused_unless_stated() -> None:
    long = REVIEW.model_copy(update={"duration_minutes": 1020})
    with pytest.raises(ChangeError, match="longer than a working day"):
        checked(long, "The review now starts at 5pm.")
    assert checked(long, "Make the review 1020 minutes long") == long
    assert checked(REVIEW, "anything") == REVIEW


def test_code_finds_the_events_a_message_names_and_no_others() -> None:
    from evals.suites.seeded import seeded
    from patterns.calendar import named

    def names(text: str) -> list[str]:
        return [e.name for e in named(seeded(), text)]

    assert names("Retro's gonna run long, make it 90 min.") == ["Retro"]
    assert names("can u make the kickof 45 min") == ["Kickoff"]  # a typo of its name
    # a person in an event's name is people, not the event's name
    assert names("Take Lee off the planning session and add Priya.") == ["Planning session"]
    assert names("The design review clashes with something") == ["Design review"]  # not "class"
    assert names("Termin mit Herrn Weber am Donnerstag um 14:00.") == []  # a time is no name
    assert names("Omar can't come") == ["Budget meeting"]  # else its people
    assert names("What is the capital of France?") == []


@pytest.mark.parametrize(
    ("chosen", "text", "expected"),
    [
        (["move", "add_people"], "Carol wants in on the weekly standup.", ["add_people"]),
        (["move", "remove_people"], "Tom can't come to the kickoff, take him off it.",
         ["remove_people"]),
        (["move"], "Lunch with Ana: she wants to do Friday instead, same time.", ["move"]),
        (["set_length", "add_people"], "Make the sync an hour long and invite Dana.",
         ["set_length", "add_people"]),
        (["set_length"], "Carol joins the standup", []),  # nothing supported (fallbacks)
        # one amount of time supports one change that needs an amount
        (["shift", "change_length"], "Push the budget meeting back by one hour.", ["shift"]),
        (["shift", "set_length"], "Move it 30 minutes later and make it two hours long.",
         ["shift", "set_length"]),
        (["change_length"], "Make the retro 15 minutes longer.", ["change_length"]),
    ],
)  # fmt: skip
def test_a_kind_the_message_gives_no_evidence_for_is_dropped(
    chosen: list[str], text: str, expected: list[str]
) -> None:
    from patterns.router import supported

    assert supported(chosen, text, WEDNESDAY) == expected  # type: ignore[arg-type]


def test_when_the_kinds_chosen_change_nothing_the_stated_ones_are_tried() -> None:
    from patterns.router import fallbacks

    text = "Add Kim and Eli to Friday's retro."
    assert fallbacks(["move"], ["move"], text, REVIEW) == ["add_people"]
    assert fallbacks(["move"], [], "Change the retro to 30 minutes instead of an hour.",
                     REVIEW) == ["add_people", "set_length", "move"]  # fmt: skip
    # someone in the event, named: leaving is tried too
    assert fallbacks(["move", "shift"], ["move"], "Dana won't be at the review, she's off sick.",
                     REVIEW) == ["add_people", "remove_people"]  # fmt: skip
    # someone named as part of the event's name names the event: no one leaving
    one_on_one = REVIEW.model_copy(update={"name": "1:1 with Dana"})
    assert fallbacks(["move"], ["move"], "Put a 1:1 with Dana on my calendar for Thursday at "
                     "11am.", one_on_one) == ["add_people"]  # fmt: skip
    assert fallbacks(["move"], ["move"], "Dana asked me to pull her out of Thursday's review.",
                     REVIEW) == ["add_people", "remove_people"]  # fmt: skip


@pytest.mark.parametrize(
    "text",
    [
        # someone named beside the event, saying nothing of leaving (statements, notes,
        # e-mails): no one is taken off, whatever kinds the model chose
        "Dana is bringing the prototypes to the review.",
        "Dana might drop by the review after lunch.",
        "Send Dana the review deck, she can't open the old link.",
        "Dana ran the review really well last week.",
        "Ask Dana for her notes on the review.",
    ],
)
def test_someone_named_is_not_taken_off_unless_the_message_says_so(text: str) -> None:
    from patterns.router import fallbacks

    assert "remove_people" not in fallbacks(["move", "shift"], ["move"], text, REVIEW)


@pytest.mark.parametrize(
    "text",
    [
        "Dana can't make the review.",
        "Dana won't be coming to the review after all.",
        "Strike Dana off the review.",
        "Dana backed out of the review.",
        "Dana is no longer needed at the review.",
        "Dana dropped out, fix the review.",
        "Saca a Dana de la revisión.",
        "Enlève Dana de la revue.",
        "Dana aus dem Review entfernen.",
        "Togli Dana dalla revisione.",
        "Retire a Dana da revisão.",
    ],
)
def test_someone_named_is_taken_off_when_the_message_says_they_leave(text: str) -> None:
    from patterns.router import fallbacks

    assert "remove_people" in fallbacks(["move", "shift"], ["move"], text, REVIEW)


def test_people_join_or_leave_only_as_the_message_names_them() -> None:
    from patterns.calendar import joining, leaving

    standup = Event(id="evt-2", name="Weekly standup", start=datetime(2026, 11, 30, 9, 30),
                    participants=["Alice", "Bob"])  # fmt: skip
    text = "Add Carol and Alice to the weekly standup on Monday."
    assert joining(["Carol", "Alice", "Dave", "standup", "Monday"], standup, text) == ["Carol"]
    assert joining(["carol"], standup, "add carol to the standup") == []  # not written as a name
    assert joining(["Chloé"], standup, "Chloé se joint au standup") == ["Chloé"]
    assert leaving(["Bob", "Carol"], standup, "Bob and Carol can't come to the standup") == ["Bob"]
    assert leaving(["Alice"], standup, "Bob can't come") == []  # not in the message


@pytest.mark.parametrize(
    ("text", "count"),
    [("Push it back by one hour", 1), ("an hour and a half later", 1), ("at 3pm", 0),
     ("30 minutes later and 2h long", 2), ("half an hour earlier", 1), ("a bit longer", 0)],
)  # fmt: skip
def test_amounts_of_time_are_counted_and_clock_times_are_not(text: str, count: int) -> None:
    from patterns.calendar import amounts_of_time

    assert amounts_of_time(text) == count


def test_a_time_no_part_of_the_message_says_is_not_taken() -> None:
    moved = {"day": "Friday", "start_time": "09:00"}
    text = "Add Dana to Friday's design review."
    assert read_in_code("move", moved, text, WEDNESDAY, REVIEW) == {
        "day": "2026-11-27", "start_time": "same"
    }  # fmt: skip
    said = read_in_code("move", {"day": "same", "start_time": "15:00"}, "Review to 3", WEDNESDAY,
                        REVIEW)  # fmt: skip
    assert said == {"day": "same", "start_time": "15:00"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Include Kim in the design review.", "modify_event"),  # names it, no day
        ("The design review needs two hours.", "modify_event"),  # an amount is no day
        ("Book a design review on Friday at 3pm.", "new_event"),  # a day: new
        ("Lunch with Ana tomorrow", "new_event"),  # names no listed event
        ("What time is the design review?", "other"),  # only new events are reconsidered
    ],
)
def test_a_new_event_with_no_day_that_names_a_listed_event_is_a_change(
    text: str, expected: str
) -> None:
    from patterns.calendar import Calendar
    from patterns.router import RouteDecision, a_change_after_all

    calendar = Calendar()
    calendar.add(REVIEW_DETAILS)
    routed = "other" if text.startswith("What") else "new_event"
    decision = RouteDecision(description="x", request_type=routed, confidence_percent=90)
    assert a_change_after_all(decision, calendar, text, WEDNESDAY).request_type == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a length stated outright
        ("Make it an hour long.", [(60, None)]),
        ("Half an hour is enough for the retro.", [(30, None)]),
        ("shorten it to 30 minutes", [(30, None)]),  # "to": the length it gets
        ("Make the sync an hour and a half", [(90, None)]),
        ("a quarter of an hour will do", [(15, None)]),
        # longer or shorter by an amount
        ("Could it be 15 minutes shorter?", [(15, "shorter")]),
        ("Give the planning session an extra half hour.", [(30, "longer")]),
        ("Extend the retro by 20 minutes", [(20, "longer")]),
        ("Trim the sync by ten minutes", [(10, "shorter")]),
        ("Add another hour to the workshop", [(60, "longer")]),
        ("It needs 15 more minutes", [(15, "longer")]),  # the direction before the unit
        ("make it 5 fewer minutes", [(5, "shorter")]),
        # later or earlier by an amount, days and weeks too
        ("Push the budget meeting back by one hour.", [(60, "later")]),
        ("Push my dentist appointment out a week.", [(10_080, "later")]),
        ("Move standup up 15 minutes", [(15, "earlier")]),
        ("an hour and a half later", [(90, "later")]),
        ("Bring the review forward two days", [(2_880, "earlier")]),
        # by an amount, its direction unsaid
        ("Move the review by 45 minutes", [(45, "by")]),
        # two amounts, each its own direction
        ("Move it 30 minutes later and make it two hours long.", [(30, "later"), (120, None)]),
        # no amount: a date, a clock time, a bare number
        ("Lunch in two weeks", []),
        ("Push the standup to 10:30", []),
        ("a bit longer", []),
    ],
)
def test_amounts_of_time_are_read_with_their_direction(
    text: str, expected: list[tuple[int, str | None]]
) -> None:
    from patterns.calendar import amounts

    assert [tuple(a) for a in amounts(text)] == expected


@pytest.mark.parametrize(
    ("chosen", "text", "expected"),
    [
        (["shift"], "Make the yoga class an hour long.", ["set_length"]),
        (["shift"], "Could the yoga class be 15 minutes shorter?", ["change_length"]),
        (["set_length"], "Push the retro back 20 minutes.", ["shift"]),
        (["change_length"], "Move the review by 45 minutes", ["change_length"]),  # either
        # a kind stated but not chosen is made too (a two-part change)
        (["move"], "Move the kickoff to Tuesday and make it 30 minutes.", ["move", "set_length"]),
    ],
)  # fmt: skip
def test_an_amounts_direction_decides_its_kind(
    chosen: list[str], text: str, expected: list[str]
) -> None:
    from patterns.router import supported

    assert supported(chosen, text, WEDNESDAY) == expected  # type: ignore[arg-type]


def test_code_reads_the_minutes_of_a_shift_or_a_change_of_length() -> None:
    shorter = read_in_code("change_length", {"by_minutes": 15}, "15 minutes shorter, please",
                           WEDNESDAY, REVIEW)  # fmt: skip
    assert shorter == {"by_minutes": -15}  # signed by its direction, not the model
    earlier = read_in_code("shift", {"minutes": -10}, "move it by half an hour",
                           WEDNESDAY, REVIEW)  # fmt: skip
    assert earlier == {"minutes": -30}  # "by": the model's sign, code's amount
    assert read_in_code("shift", {"minutes": 5}, "a bit later", WEDNESDAY, REVIEW) == {
        "minutes": 5
    }  # no amount stated: the model's stands


async def test_someone_added_is_not_removed_by_the_same_change() -> None:
    """The kinds step chose adding and removing for "Noah is joining": whoever leaves must
    have been in the event before the change (found on the fresh requests of 2026-12-07)."""
    import json

    from patterns import fixed_clock
    from patterns.core import Trace
    from patterns.router import make_changes
    from patterns.testing.stub import Reply, stub_server

    def script(body: dict[str, object]) -> Reply:
        return Reply(json.dumps({"names": ["Noah"]}))

    with stub_server(script) as stub:
        changed, done = await make_changes(
            stub.llm(), "Noah is joining the design review.", REVIEW,
            ["add_people", "remove_people"], fixed_clock("2026-11-25T10:00:00"), Trace(),
        )  # fmt: skip
    assert changed.participants == ["Dana", "Noah"]
    assert [d["change"] for d in done] == ["add_people"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a whole event of its own (day, start, length), sharing a word with the listed one
        ("Hold Thursday 2-4pm for the design sprint.", "new_event"),
        ("Reserve an hour on Monday at 10am for review prep.", "new_event"),
        ("Thursday 9:00 to 9:45: design critique", "new_event"),
        # the listed event named whole, or by its people: a change, whatever is stated
        ("Move the design review to Thursday from 2pm to 3pm.", "modify_event"),
        ("Dana's review: Thursday 2-4pm instead.", "modify_event"),
        ("desgin review to Thursday 2pm for 90 min", "modify_event"),  # a typo is the name
        # no length of its own, or no day: not a whole event, the model's route stands
        ("Push the review to Thursday at 2pm.", "modify_event"),
        ("Make the review two hours, from 2pm.", "modify_event"),
    ],
)
def test_a_change_that_states_a_whole_event_sharing_a_word_is_a_new_event(
    text: str, expected: str
) -> None:
    from patterns.calendar import Calendar
    from patterns.router import RouteDecision, a_new_event_after_all

    calendar = Calendar()
    calendar.add(REVIEW_DETAILS)
    decision = RouteDecision(description="x", request_type="modify_event", confidence_percent=90)
    assert a_new_event_after_all(decision, calendar, text, WEDNESDAY).request_type == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # no day and no clock time that code reads: not an event, whatever the route said
        ("Who won the match last night?", "other"),
        ("Put bread and cheese on the grocery list.", "other"),
        ("Great session earlier, thank you all!", "other"),
        # a question, even with a when, asks for an answer, not an event
        ("Is the pool open on Sunday at 8am?", "other"),
        ("Could you book a table for two on Friday at 8pm?", "new_event"),  # a request
        # a day, a time, or both: the route stands
        ("Dinner with Sofia on Saturday.", "new_event"),
        ("Gym at 6:30pm.", "new_event"),
        ("Book a haircut next Tuesday at 10.", "new_event"),
    ],
)
def test_a_new_event_needs_a_day_or_a_time(text: str, expected: str) -> None:
    from patterns.router import RouteDecision, not_an_event_after_all

    decision = RouteDecision(description="x", request_type="new_event", confidence_percent=90)
    assert not_an_event_after_all(decision, text, WEDNESDAY).request_type == expected
