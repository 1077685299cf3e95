"""Notice templates: one per kind, as text and autoescaped HTML; a missing fact is an error."""

import html

import jinja2
import pytest

from models.escalation import Kind
from notifications.render import render

FACTS = {
    "process": "Allegation against a foster carer (LADO process)",
    "step": "Initial consideration and threshold decision",
    "step_name": "initial_consideration",
    "step_ref": "L4",
    "due_on": "2026-11-03",
    "working_days_late": 1,
    "rung_after": "when it lapsed",
    "source": "Tower Hamlets & Barking <S13>",
}


def lapsed(**facts: object) -> object:
    return render(
        notice_id=7,
        key="ALG-2026-0001/step:1@2026-11-03/lapsed/1",
        kind=Kind.lapsed,
        reference="ALG-2026-0001",
        rung=1,
        clock="step:1@2026-11-03",
        facts=facts,
        recipients=[("Lena Ado", "owner"), ("Mo Anders", "lado_manager, owner_manager")],
        unfilled=["child_iro"],
        ack_within="2 working days",
        link="https://safeguard.example.gov.uk/cases/ALG-2026-0001",
        ack_link="https://safeguard.example.gov.uk/notices/7/acknowledge",
        process="Allegation against a foster carer (LADO process)",
    )


def test_text_is_plain_and_html_is_escaped() -> None:
    notice = lapsed(**FACTS)
    assert notice.subject == (  # type: ignore[attr-defined]
        "LATE (rung 1): ALG-2026-0001 Initial consideration and threshold decision was due "
        "Tuesday 3 November 2026"
    )
    assert "Basis:        Tower Hamlets & Barking <S13>" in notice.text  # type: ignore[attr-defined]
    assert "Tower Hamlets &amp; Barking &lt;S13&gt;" in notice.html  # type: ignore[attr-defined]
    assert "Late by:      1 working day\n" in notice.text  # type: ignore[attr-defined]


def test_a_notice_names_people_says_why_in_words_and_links_to_the_web_app() -> None:
    """People by name, why in words, the case's page and its acknowledgement as links: no staff
    id, no recipient or role code, no command to type, no internal number."""
    notice = lapsed(**FACTS)
    for body in (notice.text, html.unescape(notice.html)):  # type: ignore[attr-defined]
        assert "Lena Ado (owner); Mo Anders (LADO manager; the owner's manager)" in body
        assert "Nobody holds" in body and "the child's IRO" in body
        assert "https://safeguard.example.gov.uk/cases/ALG-2026-0001" in body
        assert "https://safeguard.example.gov.uk/notices/7/acknowledge" in body
        for code in ("lado_manager", "owner_manager", "child_iro", "initial_consideration", "L4"):
            assert code not in body
        assert "safeguard " not in body and "--as" not in body and "Notice 7" not in body
    assert '<a href="https://safeguard.example.gov.uk/cases/ALG-2026-0001">' in notice.html  # type: ignore[attr-defined]


def test_a_fact_the_template_needs_but_was_not_given_is_an_error() -> None:
    facts = {k: v for k, v in FACTS.items() if k != "rung_after"}
    with pytest.raises(jinja2.UndefinedError, match="rung_after"):
        lapsed(**facts)


def test_every_kind_has_its_template() -> None:
    loader = jinja2.PackageLoader("notifications", "templates")
    names = set(loader.list_templates())
    assert {f"{k.value}.j2" for k in Kind} <= names
