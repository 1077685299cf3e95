"""`safeguard iro challenge`: a convenience over `safeguard start iro_dispute` with one option per
field. It builds the same start input and goes through the same start service."""

from typing import Any
from zoneinfo import ZoneInfo

import typer

from models.errors import InputError
from safeguard.cli.cases import APPLY_WAIT_SECONDS, MAX_WAIT_SECONDS, start_case
from safeguard.cli.common import child_option, in_options, parse_day
from safeguard.demo import Demo
from safeguard.settings import get_settings

app = typer.Typer(
    help="The IRO's challenge: dispute resolution up the authority's seniority (IRO Handbook ch 6).",
    no_args_is_help=True,
)


@app.command("challenge")
def challenge(
    author: str = typer.Option(
        ..., "--as", help="Your staff id (the child's IRO, or their manager)."
    ),
    child: str = typer.Option(
        ..., "--child", help="CHILD_REF:IRO_ID:SOCIAL_WORKER_ID of the child (their IRO leads)."
    ),
    team_manager: str = typer.Option(
        ..., "--team-manager", help="Staff id of the child's team manager (answers first)."
    ),
    category: str = typer.Option(
        ...,
        "--category",
        help="care_plan, placement, contact, education, health, decision_not_made or "
        "action_not_taken.",
    ),
    issue: str = typer.Option(..., "--issue", help="The issue raised (our database only)."),
    seeks: str = typer.Option(..., "--seeks", help="The resolution the IRO seeks."),
    raised: str = typer.Option(..., "--raised", help="The day the IRO first raised it."),
    about: str | None = typer.Option(
        None, "--about", help="The reference of the open case it is about (linked both ways)."
    ),
    item: str | None = typer.Option(
        None, "--item", help="What in that case (a recommendation, an action)."
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
    """Start an IRO challenge and its flow run: the informal stage opens first."""
    tz = ZoneInfo(get_settings().timezone)
    payload: dict[str, Any] = {
        "child": child_option(child),
        "team_manager": team_manager,
        "category": category,
        "issue": issue,
        "resolution_sought": seeks,
        "first_raised_on": parse_day(raised, tz, "--raised").isoformat(),
        **({"about_case": about} if about else {}),
        **({"about_item": item} if item else {}),
    }
    try:
        start_case("iro_dispute", author, payload, wait=wait, as_json=as_json)
    except InputError as refused:
        raise in_options(refused, OPTIONS) from None


# The start input's fields as this command's options, so a refusal names what the user typed.
OPTIONS = {
    "child": "--child",
    "team_manager": "--team-manager",
    "category": "--category",
    "issue": "--issue",
    "resolution_sought": "--seeks",
    "first_raised_on": "--raised",
    "about_case": "--about",
    "about_item": "--item",
}


# --- its cases for `safeguard demo` (safeguard/demo.py) -----------------------------------------


def demo_cases(demo: Demo) -> None:
    """A challenge still informal, and one at the service manager's stage after the team
    manager's answer did not resolve it, about the child whose placement ended in the disruption
    demo (its case shows the challenge's flag)."""

    def challenge(child: str, raised: int, category: str) -> dict[str, Any]:
        return {
            "child": {"child": child, "iro": "h.novak", "social_worker": "l.jones"},
            "team_manager": "m.reid",
            "category": category,
            "issue": "A fictional challenge for the demo: the plan's contact is not happening.",
            "resolution_sought": "Contact restarted as the plan says, within two weeks.",
            "first_raised_on": demo.ago(raised).isoformat(),
        }

    demo.start("iro_dispute", "h.novak", challenge("C-I01", 2, "contact"), "an IRO's challenge raised informally two working days ago")  # fmt: skip
    ref = demo.start("iro_dispute", "h.novak", challenge("C-E03", 12, "care_plan"), "an IRO's challenge at the service manager's stage, the 20 working days running")  # fmt: skip
    demo.record(
        ref,
        "informal_resolution",
        "h.novak",
        {
            "raised_with": "both",
            "discussed_on": demo.ago(9).isoformat(),
            "answer": "The team will look at it when the worker is back.",
            "resolved": False,
            "why": "No date given: the child waits.",
            "next_stage": "team_manager",
            "alerted_on": demo.ago(9).isoformat(),
        },
        demo.at(demo.ago(9), 15),
    )
    demo.record(
        ref,
        "formal_team_manager",
        "m.reid",
        {"responded_on": demo.ago(5).isoformat(), "decision": "Not now", "reasons": "Staffing."},
        demo.at(demo.ago(5), 11),
    )
    demo.record(
        ref,
        "response_considered",
        "h.novak",
        {
            "considered_on": demo.ago(4).isoformat(),
            "resolved": False,
            "why": "Staffing does not answer the child's need.",
            "next_stage": "service_manager",
            "responder": "p.walsh",
            "alerted_on": demo.ago(4).isoformat(),
        },
        demo.at(demo.ago(4), 10),
    )
