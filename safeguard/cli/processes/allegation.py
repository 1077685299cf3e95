"""`safeguard allegation start`: a convenience over `safeguard start allegation` with one option per
field. It builds the same start input and goes through the same start service."""

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import typer

from models.errors import InputError
from safeguard.cli.cases import APPLY_WAIT_SECONDS, MAX_WAIT_SECONDS, record_event, start_case
from safeguard.cli.common import child_option, in_options, parse_datetime, parse_day
from safeguard.demo import Demo
from safeguard.settings import get_settings

app = typer.Typer(
    help="Allegations against foster carers (the LADO process).", no_args_is_help=True
)


def placed_elsewhere_option(text: str) -> dict[str, str]:
    """Return a --child-placed-elsewhere CHILD_REF:PLACED_BY:CONTACT as the start input's child."""
    ref, _, rest = text.partition(":")
    placed_by, _, contact = rest.partition(":")
    if not (ref.strip() and placed_by.strip() and contact.strip()):
        raise InputError(
            f"--child-placed-elsewhere {text!r}: write CHILD_REF:PLACED_BY:CONTACT, e.g. "
            "'C-77:Westshire Council:duty IRO 01632 960000' (or 'C-78:own child:the carer')"
        )
    return {"child": ref.strip(), "placed_by": placed_by.strip(), "contact": contact.strip()}


@app.command("start")
def start(
    lado: str = typer.Option(..., "--lado", help="The LADO's staff id (they chair and decide)."),
    received: str = typer.Option(
        ..., "--received", help="When the LADO received the referral (date-time)."
    ),
    aware: str = typer.Option(..., "--aware", help="When the organisation became aware (date)."),
    carer: str = typer.Option(..., "--carer", help="The foster carer's reference."),
    service: str = typer.Option(..., "--service", help="The fostering service."),
    ssw: str = typer.Option(
        ..., "--ssw", help="The carer's supervising social worker (staff id): a named party."
    ),
    children: list[str] = typer.Option(
        [], "--child", help="CHILD_REF:IRO_ID:SOCIAL_WORKER_ID (repeat for each child)."
    ),
    elsewhere: list[str] = typer.Option(
        [],
        "--child-placed-elsewhere",
        help="CHILD_REF:PLACED_BY:CONTACT for a child whose IRO is not in the directory (the "
        "carer's own child, a child another authority placed): their IRO's notices go to the LADO.",
    ),
    category: str = typer.Option(
        ...,
        "--category",
        help="The allegation category: physical, emotional, sexual, neglect, suitability or other (then say what with --category-other).",
    ),
    category_other: str | None = typer.Option(
        None, "--category-other", help="With --category other: what it is about, in a few words."
    ),
    summary: str = typer.Option(
        ..., "--summary", help="A short summary (kept in our database only)."
    ),
    pension_age_on: str | None = typer.Option(
        None,
        "--pension-age-on",
        help="The carer's normal pension age, if known: the record is kept at least until then.",
    ),
    wait: int = typer.Option(
        APPLY_WAIT_SECONDS,
        "--wait",
        min=0,
        max=MAX_WAIT_SECONDS,
        help="Seconds to wait for the flow to open the first step.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Start an allegation case and its flow run; wait until it asks for the initial consideration."""
    tz = ZoneInfo(get_settings().timezone)
    payload = {
        "received_at": parse_datetime(received, tz, "--received").isoformat(),
        "aware_on": parse_day(aware, tz, "--aware").isoformat(),
        "carer": carer,
        "fostering_service": service,
        "supervising_social_worker": ssw,
        "children": [child_option(c) for c in children]
        + [placed_elsewhere_option(c) for c in elsewhere],
        "category": category,
        "summary": summary,
    }
    if category_other is not None:
        payload["category_other"] = category_other
    if pension_age_on is not None:
        payload["carer_pension_age_on"] = parse_day(
            pension_age_on, tz, "--pension-age-on"
        ).isoformat()
    try:
        start_case("allegation", lado, payload, wait=wait, as_json=as_json)
    except InputError as refused:
        raise in_options(refused, OPTIONS) from None


@app.command("resignation")
def resignation(
    reference: str = typer.Argument(..., metavar="CASE"),
    received: str = typer.Option(
        ..., "--received", help="The day the carer's written notice was received (YYYY-MM-DD)."
    ),
    author: str = typer.Option(..., "--as", help="Your staff id."),
) -> None:
    """The carer resigned: approval ends 28 days after the notice (L18); the approval review
    must still record the DBS referral decision (L13)."""
    record_event(reference, "resignation_received", received, author, "--received")


# The start input's fields as this command's options, so a refusal names what the user typed.
OPTIONS = {
    "received_at": "--received",
    "aware_on": "--aware",
    "carer": "--carer",
    "fostering_service": "--service",
    "supervising_social_worker": "--ssw",
    "children": "--child",
    "category": "--category",
    "category_other": "--category-other",
    "summary": "--summary",
    "carer_pension_age_on": "--pension-age-on",
}


# --- its cases for `safeguard demo` (safeguard/demo.py) -----------------------------------------


def _allegation(
    demo: Demo, number: int, received: date, category: str = "physical"
) -> dict[str, Any]:
    return {
        "received_at": demo.at(received, 9, 15).replace(tzinfo=None).isoformat(timespec="minutes"),
        "aware_on": received.isoformat(),
        "carer": f"FC-D{number:02d}",
        "fostering_service": "Northshire Fostering",
        "supervising_social_worker": "k.brown",
        "children": [
            {
                "child": f"C-D{number:02d}",
                "iro": "t.adeyemi" if number % 2 else "h.novak",
                "social_worker": "a.hussain" if number % 2 else "l.jones",
            }
        ],
        "category": category,
        "summary": "A fictional allegation for the demo: the child told a teacher of a bruise.",
    }


THRESHOLD = {"threshold_met": True, "limbs": ["harm"], "route": "allegation_meeting"}


def demo_cases(demo: Demo) -> None:
    """Allegations on time, late at rising rungs, awaiting a rationale, with a clock stopped
    and with an action overdue."""

    def start(number: int, received: date, shows: str) -> str:
        return demo.start("allegation", "s.malik", _allegation(demo, number, received), shows)

    def considered(ref: str, day: date, rationale: str | None) -> None:
        given = {**THRESHOLD, "rationale": rationale} if rationale else THRESHOLD
        demo.record(ref, "initial_consideration", "s.malik", given, demo.at(day, 11))

    start(1, demo.ago(0), "an allegation received today: its initial consideration on time")
    start(2, demo.ago(2), "an initial consideration late: first rung (the LADO and their manager told)")  # fmt: skip
    start(3, demo.ago(4), "an initial consideration late for days: higher rungs (the head of service told)")  # fmt: skip
    ref = start(4, demo.ago(1), "a threshold decision recorded without its rationale: the rationale due")  # fmt: skip
    considered(ref, demo.ago(1), None)
    ref = start(5, demo.ago(8), "the time to outcome's clock stopped for a police investigation")
    considered(ref, demo.ago(7), "a bruise seen at school; the child's account")
    demo.wait_open(ref, "outcome")
    with demo.casework() as cx:
        cx.stop_clock(ref, "outcome", reason="police investigation (Operation Heron)", approver="d.price", recorded_by="s.malik")  # fmt: skip
    ref = start(6, demo.ago(10), "a meeting held whose action is overdue (its owner and the case lead told)")  # fmt: skip
    considered(ref, demo.ago(9), "the carer's own account of the injury")
    meeting = {
        "held_on": demo.ago(7).isoformat(),
        "attendees": ["lado", "social worker", "police"],
        "actions": [{"title": "Visit the child at school", "owner": "a.hussain", "due": 2}],
    }
    demo.record(ref, "allegation_meeting", "s.malik", meeting, demo.at(demo.ago(7), 15))
