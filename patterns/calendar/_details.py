"""The details of a new event, read from a message by the model and resolved in code:
the chain's details step and the router's create step share it."""

from __future__ import annotations

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from ..core import LLM, Clock, Trace, today_line
from ._events import DayPhrase, EventDetails, Minutes, People, StartTime, Title, resolve_start
from ._reading import short_title, stated_times


class DetailsAnswer(BaseModel):
    # The model copies the day as written; code resolves it against the clock.
    name: Title
    day: DayPhrase
    start_time: StartTime = Field(description="Start, 24-hour HH:MM (2pm is 14:00); 09:00 if none.")
    duration_minutes: Minutes = Field(
        description="Length in minutes; 60 if the message does not say."
    )
    participants: People

    @field_validator("day")
    @classmethod
    def _known_day(cls, day: str, info: ValidationInfo) -> str:
        today = (info.context or {}).get("today")
        if today is not None:
            resolve_start(day, "00:00", today)  # raises the error the model will read
        return day


DETAILS_PROMPT = (
    "Extract the details of the event the message asks to schedule. name: a short title "
    "of your own, 2 to 5 words. day: the day as the message says it ('next Tuesday', "
    "'tomorrow', 'Dec 3'). start_time: 24-hour HH:MM (2pm is 14:00, noon is 12:00; "
    "09:00 if the message gives no time). duration_minutes: 60 unless the message says "
    "otherwise (two hours is 120, 2pm to 5pm is 180). participants: the names of the people "
    "the message mentions, [] if none.\n"
    'Example: "Tea with Kim and Lou on Friday, 3 to 4pm" -> {"name": "Tea with Kim and '
    'Lou", "day": "Friday", "start_time": "15:00", "duration_minutes": 60, '
    '"participants": ["Kim", "Lou"]}'
)


async def parse_event_details(llm: LLM, text: str, clock: Clock, trace: Trace) -> EventDetails:
    today = clock().date()
    answer = await llm.aparse(
        DetailsAnswer,
        system=f"{DETAILS_PROMPT} {today_line(clock)}",
        user=text,
        step="details",
        trace=trace,
        context={"today": today},
    )
    # What the message states outright is read by code: its clock time ("7:30pm" is
    # 19:30, which a small model gets wrong), the length of a stated range, and a title
    # that does not restate the whole request.
    stated_start, stated_length = stated_times(text)
    return EventDetails(
        name=short_title(answer.name),
        start=resolve_start(answer.day, stated_start or answer.start_time, today),
        duration_minutes=stated_length or answer.duration_minutes,
        participants=answer.participants,
    )
