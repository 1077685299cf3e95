"""The forms generated from every process's inputs: each start and step builds, and each example
input, typed into its form as a person would, reads back as the same input."""

from datetime import date, datetime
from typing import Any

import pytest
from starlette.datastructures import FormData

from models import registry
from web import forms

PROCESSES = sorted(p.code for p in registry.processes())
INPUTS = [
    pytest.param(p.start_input, p.start_example, id=f"{p.code}-start") for p in registry.processes()
] + [
    pytest.param(s.input, s.example, id=f"{p.code}-{s.name}")
    for p in registry.processes()
    for s in p.steps
]


def typed(fields: list[forms.FormField], payload: dict[str, Any]) -> list[tuple[str, str]]:
    """What a person types into the form to give `payload`."""
    entries: list[tuple[str, str]] = []
    for f in fields:
        value = payload.get(str(f.path[-1]))
        if value is None:
            continue
        if f.kind in ("date", "datetime"):
            moment = datetime.fromisoformat(value) if f.kind == "datetime" else date.fromisoformat(value)  # fmt: skip
            entries += [(f"{f.id}-day", str(moment.day)), (f"{f.id}-month", str(moment.month)), (f"{f.id}-year", str(moment.year))]  # fmt: skip
            if isinstance(moment, datetime):
                entries.append((f"{f.id}-time", f"{moment:%H:%M}"))
        elif f.kind == "lines":
            entries.append((f.id, "\n".join(value)))
        elif f.kind == "checkboxes":
            entries += [(f.id, v) for v in value]
        elif f.kind == "radios" and isinstance(value, bool):
            entries.append((f.id, "yes" if value else "no"))
        elif f.kind == "group":
            entries += typed(f.children, value)
        elif f.kind == "repeat":
            for row, item in zip(f.rows, value, strict=False):
                entries += typed(row, item)
        else:
            entries.append((f.id, str(value)))
    return entries


@pytest.mark.parametrize(("model", "example"), INPUTS)
def test_each_example_typed_into_its_form_reads_back_the_same(model: Any, example: dict[str, Any]) -> None:  # fmt: skip
    counts = {}
    for name, value in example.items():  # as many items as the example has
        if isinstance(value, list) and value and isinstance(value[0], dict):
            counts[name] = len(value)
    fields = forms.build(model, None, counts)
    payload, errors = forms.read(forms.build(model, None, counts), FormData(typed(fields, example)))
    assert errors == []
    expected = {k: v for k, v in example.items() if v not in (None, [], {}, "")}
    # A datetime typed to the minute reads back as such; everything else exactly.
    for key, value in expected.items():
        if isinstance(value, str) and "T" in value and key in payload:
            assert payload[key].startswith(value[:16])
            payload[key] = value
    assert payload == expected


def test_a_date_missing_its_month_is_refused_on_its_field() -> None:
    from models.processes.allegation.meetings import Meeting

    fields = forms.build(Meeting)
    payload, errors = forms.read(fields, FormData([("held_on-day", "4"), ("held_on-year", "2026")]))
    assert errors == [("held_on", "Date held must include a day, month and year in numbers")]
    assert "held_on" not in payload


def test_a_refusal_is_shown_on_the_field_it_names() -> None:
    from models.processes.allegation.meetings import Meeting

    fields = forms.build(Meeting, None, {"actions": 2})
    assert forms.locate(fields, "actions.1.owner").id == "actions-1-owner"  # type: ignore[union-attr]
    assert forms.locate(fields, "actions.1.due.int").id == "actions-1-due"  # type: ignore[union-attr]
    assert forms.locate(fields, "actions.1").id == "actions"  # type: ignore[union-attr]  # the list
    assert forms.locate(fields, "nothing") is None


def test_why_a_notice_came_is_said_in_words_never_codes() -> None:
    from notifications.notices import why_me

    assert why_me("child_iro") == "You are the child's IRO"
    assert why_me("owner, lado_manager") == "The step is yours; you are a LADO manager"
    assert why_me("instead of child_iro, head_of_service (nobody holds it)") == (
        "Instead of the child's IRO, head of service (nobody holds it)"
    )


def test_a_missing_answer_is_asked_for_as_the_design_system_says() -> None:
    """Issue 20, item 6: "Enter the carer's reference", not "Carer is required"."""
    from web.forms import FormField, missing_said

    def said(label: str, kind: str = "text", choices: list[tuple[str, str]] | None = None) -> str:
        return missing_said(FormField(("f",), label, kind, True, choices=choices or []))

    assert said("Foster carer's reference") == "Enter the foster carer's reference"
    assert said("The day it happened", "date") == "Enter the day it happened"
    assert said("When the LADO received the referral", "datetime") == "Enter when the LADO received the referral"  # fmt: skip
    assert said("IRO's name") == "Enter the IRO's name"  # an acronym keeps its capitals
    assert said("Category of allegation", "radios", [("physical", "Physical abuse")]) == "Select the category of allegation"  # fmt: skip
    assert said("Is the harm threshold met?", "radios", [("yes", "Yes"), ("no", "No")]) == "Select yes or no"  # fmt: skip
