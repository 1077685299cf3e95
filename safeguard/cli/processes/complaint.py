"""`safeguard complaint start`: a convenience over `safeguard start complaint` with one option per
field. It builds the same start input and goes through the same start service."""

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import typer

from models.errors import InputError
from safeguard.cli.cases import APPLY_WAIT_SECONDS, MAX_WAIT_SECONDS, start_case
from safeguard.cli.common import child_option, in_options, parse_day
from safeguard.demo import Demo
from safeguard.settings import get_settings

app = typer.Typer(
    help="Complaints under the Children Act 1989 representations procedure (stage 2 onwards).",
    no_args_is_help=True,
)


@app.command("start")
def start(
    author: str = typer.Option(..., "--as", help="Your staff id (a complaints manager)."),
    complainant: str = typer.Option(..., "--complainant", help="How the case refers to them."),
    standing: str = typer.Option(
        ...,
        "--standing",
        help="child, parent, parental_responsibility, foster_carer or sufficient_interest.",
    ),
    interest: str | None = typer.Option(
        None, "--interest-reasons", help="Why they have sufficient interest (s26(3)(e))."
    ),
    child: str | None = typer.Option(
        None, "--child", help="CHILD_REF:IRO_ID:SOCIAL_WORKER_ID of the child it concerns."
    ),
    offered: bool = typer.Option(
        ..., "--advocacy-offered/--advocacy-not-offered", help="Advocacy offered (s26A)."
    ),
    advocacy: str = typer.Option(..., "--advocacy", help="accepted, declined or not_applicable."),
    advocate: str | None = typer.Option(
        None, "--advocate", help="Staff id of their advocate (told of each stage's response)."
    ),
    received: str = typer.Option(..., "--received", help="The day the complaint was received."),
    known: str = typer.Option(
        ..., "--known", help="The day the matters happened or became known (the year's limit)."
    ),
    stage1_received: str | None = typer.Option(None, "--stage1-received"),
    stage1_answered: str | None = typer.Option(None, "--stage1-answered"),
    stage1_response: str | None = typer.Option(None, "--stage1-response"),
    requested: str = typer.Option(..., "--requested", help="The day stage 2 was asked for."),
    manager: str = typer.Option(..., "--manager", help="The complaints manager who leads."),
    summary: str = typer.Option(..., "--summary", help="A short summary (our database only)."),
    service_manager: str | None = typer.Option(
        None,
        "--service-manager",
        help="Staff id of the manager of the service complained about (may not adjudicate).",
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
    """Start a stage 2 complaint case and its flow run."""
    tz = ZoneInfo(get_settings().timezone)
    stage1 = [stage1_received, stage1_answered, stage1_response]
    if any(stage1) and not all(stage1):
        raise InputError(
            "give all of --stage1-received, --stage1-answered and --stage1-response, or none"
        )
    payload: dict[str, Any] = {
        "complainant": {
            "reference": complainant,
            "standing": standing,
            **({"sufficient_interest_reasons": interest} if interest else {}),
        },
        **({"child": child_option(child)} if child else {}),
        "advocacy_offered": offered,
        "advocacy": advocacy,
        **({"advocate": advocate} if advocate else {}),
        "received_on": parse_day(received, tz, "--received").isoformat(),
        "matter_known_on": parse_day(known, tz, "--known").isoformat(),
        "stage2_requested_on": parse_day(requested, tz, "--requested").isoformat(),
        "complaints_manager": manager,
        "summary": summary,
        **({"service_manager": service_manager} if service_manager else {}),
    }
    if all(stage1):
        payload["stage1"] = {
            "received_on": parse_day(str(stage1_received), tz, "--stage1-received").isoformat(),
            "answered_on": parse_day(str(stage1_answered), tz, "--stage1-answered").isoformat(),
            "response": stage1_response,
        }
    try:
        start_case("complaint", author, payload, wait=wait, as_json=as_json)
    except InputError as refused:
        raise in_options(refused, OPTIONS) from None


# The start input's fields as this command's options, so a refusal names what the user typed.
OPTIONS = {
    "complainant": "--complainant",
    "child": "--child",
    "advocacy_offered": "--advocacy-offered",
    "advocacy": "--advocacy",
    "advocate": "--advocate",
    "received_on": "--received",
    "matter_known_on": "--known",
    "stage2_requested_on": "--requested",
    "complaints_manager": "--manager",
    "summary": "--summary",
    "service_manager": "--service-manager",
    "complainant.reference": "--complainant",
    "complainant.standing": "--standing",
    "complainant.sufficient_interest_reasons": "--interest-reasons",
    "stage1.received_on": "--stage1-received",
    "stage1.answered_on": "--stage1-answered",
    "stage1.response": "--stage1-response",
}


# --- its cases for `safeguard demo` (safeguard/demo.py) -----------------------------------------


def demo_cases(demo: Demo) -> None:
    """Complaints new, under investigation and past their 25 working days."""

    def complaint(number: int, requested: date) -> dict[str, Any]:
        received = requested - timedelta(days=27)
        return {
            "complainant": {"reference": f"Complainant D{number:02d}", "standing": "foster_carer"},
            "child": {
                "child": f"C-F{number:02d}",
                "iro": "t.adeyemi",
                "social_worker": "a.hussain",
            },
            "advocacy_offered": True,
            "advocacy": "declined",
            "received_on": received.isoformat(),
            "matter_known_on": (received - timedelta(days=12)).isoformat(),
            "stage1": {
                "received_on": received.isoformat(),
                "answered_on": (received + timedelta(days=13)).isoformat(),
                "response": "not upheld",
            },
            "stage2_requested_on": requested.isoformat(),
            "complaints_manager": "n.patel",
            "summary": "A fictional complaint for the demo: the carer says the plan ignored her view.",
        }

    def under_way(number: int, requested: date, shows: str) -> None:
        ref = demo.start("complaint", "n.patel", complaint(number, requested), shows)
        demo.record(ref, "eligibility", "n.patel", {"accepted": True}, demo.at(requested, 14))
        demo.record(
            ref,
            "acknowledgement",
            "n.patel",
            {"acknowledged_on": requested.isoformat()},
            demo.at(requested, 15),
        )
        statement = {
            "agreed_on": (requested + timedelta(days=3)).isoformat(),
            "points": [
                {"number": 1, "text": "the plan ignored the carer's view"},
                {"number": 2, "text": "no reply to letters"},
            ],
            "investigating_officer": "g.hart",
            "independent_person": "e.lund",
        }
        demo.record(
            ref,
            "stage2_appointments",
            "n.patel",
            statement,
            demo.at(requested + timedelta(days=3), 12),
        )

    demo.start("complaint", "n.patel", complaint(1, demo.ago(2)), "a stage 2 request received two working days ago: to acknowledge and decide if eligible")  # fmt: skip
    under_way(2, demo.ago(10), "a stage 2 investigation under way: its response due in a few weeks")
    under_way(3, demo.ago(32), "a stage 2 investigation past its 25 working days: late")
