"""Text copied from a worked example counts as copied, like copied schema text."""

from evals.copying import copied_fields, example_answers
from patterns import chain

PROMPT = (
    'Say it. Example: "Push the standup to 10." -> {"description": "Move the standup to '
    '10am.", "request_type": "modify_event"}'
)


def test_a_worked_examples_answer_is_found_in_its_prompt() -> None:
    assert example_answers(PROMPT) == ["Move the standup to 10am."]
    assert "Tea with Kim and Lou" in example_answers(chain.DETAILS_PROMPT)


def test_an_answer_that_repeats_a_worked_example_is_copied_though_short() -> None:
    answer = {"description": "Move the standup to 10am.", "request_type": "modify_event"}
    assert copied_fields(answer, [], [PROMPT], "Move the budget meeting to Friday") == [
        "description"
    ]


def test_saying_what_the_user_said_is_not_copying() -> None:
    answer = {"description": "Move the standup to 10am."}
    assert copied_fields(answer, [], [PROMPT], "Move the standup to 10am please") == []
    assert copied_fields({"description": "Move the review."}, [], [PROMPT], "x") == []
