"""`safeguard disruption start`: a convenience over `safeguard start disruption` with one option per
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

app = typer.Typer(help="Placement disruptions (a placement ending).", no_args_is_help=True)


@app.command("start")
def start(
    author: str = typer.Option(
        ..., "--as", help="Your staff id (the child's social worker or TM)."
    ),
    child: str = typer.Option(..., "--child", help="CHILD_REF:IRO_ID:SOCIAL_WORKER_ID."),
    carer: str = typer.Option(..., "--carer", help="The foster carer's reference."),
    service: str = typer.Option(..., "--service", help="The fostering service."),
    ssw: str = typer.Option(..., "--ssw", help="The carer's supervising social worker (staff id)."),
    team_manager: str = typer.Option(
        ..., "--team-manager", help="The team manager who leads the case (staff id)."
    ),
    kind: str = typer.Option(
        ...,
        "--type",
        help="short_term, long_term, permanent, emergency, parent_and_child, respite or other.",
    ),
    ended_by: str | None = typer.Option(
        None, "--ended-by", help="carer_notice, authority, child, court or allegation."
    ),
    reason: str | None = typer.Option(
        None,
        "--reason-for-change",
        help="The children looked after return's reason for the placement change: CARPL, CLOSE, "
        "ALLEG, STAND, APPRR, CREQB, CREQO, CHILD, LAREQ, PLACE, CUSTOD or OTHER (ALLEG and "
        "CHILD go without saying when it ended by an allegation or the child).",
    ),
    planned: bool = typer.Option(
        True, "--planned/--emergency", help="A planned ending, or an emergency (reg 14(3))."
    ),
    ends: str | None = typer.Option(None, "--ends", help="The day the placement ends (or ended)."),
    new_placement: str | None = typer.Option(
        None, "--new-placement", help="The day the child's new placement starts."
    ),
    at_risk: str | None = typer.Option(
        None, "--at-risk", help="Instead of an ending: the day a risk to the placement was seen."
    ),
    concern: str | None = typer.Option(None, "--concern", help="With --at-risk: the concern."),
    allegation: str | None = typer.Option(
        None, "--allegation", help="The allegation case it followed (ALG-...)."
    ),
    siblings: list[str] = typer.Option(
        [], "--sibling", help="A sibling placed with the child (repeat)."
    ),
    looked_after: list[str] = typer.Option(
        [],
        "--looked-after-sibling",
        help="A sibling who is looked after too (repeat): the new placement says, of each, "
        "together or apart.",
    ),
    key_stage_4: bool = typer.Option(
        False, "--key-stage-4", help="The child is in years 10-11 (reg 10)."
    ),
    began: str | None = typer.Option(
        None, "--began", help="The day the placement began (its length is reported)."
    ),
    wait: int = typer.Option(
        APPLY_WAIT_SECONDS,
        "--wait",
        min=0,
        max=MAX_WAIT_SECONDS,
        help="Seconds to wait for the flow to open the first steps.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Start a placement disruption case and its flow run."""
    tz = ZoneInfo(get_settings().timezone)
    if at_risk is not None:
        way_in: dict[str, object] = {
            "at_risk": {
                "identified_on": parse_day(at_risk, tz, "--at-risk").isoformat(),
                "concern": concern or "",
            }
        }
    else:
        if ended_by is None or ends is None or new_placement is None:
            raise InputError(
                "give the ending (--ended-by, --ends, --new-placement, and --planned or "
                "--emergency), or --at-risk DATE --concern TEXT for a stability meeting first"
            )
        way_in = {
            "ending": {
                "ended_by": ended_by,
                "planned": planned,
                "ends_on": parse_day(ends, tz, "--ends").isoformat(),
                "new_placement_on": parse_day(new_placement, tz, "--new-placement").isoformat(),
                **({"allegation": allegation} if allegation else {}),
                **({"reason_for_change": reason.strip().upper()} if reason else {}),
            }
        }
    payload = {
        "child": child_option(child),
        "carer": carer,
        "fostering_service": service,
        "supervising_social_worker": ssw,
        "team_manager": team_manager,
        "placement_type": kind,
        "siblings_together": siblings,
        "looked_after_siblings": looked_after,
        "key_stage_4": key_stage_4,
        **({"placement_began_on": parse_day(began, tz, "--began").isoformat()} if began else {}),
        **way_in,
    }
    try:
        start_case("disruption", author, payload, wait=wait, as_json=as_json)
    except InputError as refused:
        raise in_options(refused, OPTIONS) from None


# The start input's fields as this command's options, so a refusal names what the user typed.
OPTIONS = {
    "child": "--child",
    "carer": "--carer",
    "fostering_service": "--service",
    "supervising_social_worker": "--ssw",
    "team_manager": "--team-manager",
    "placement_type": "--type",
    "siblings_together": "--sibling",
    "looked_after_siblings": "--looked-after-sibling",
    "key_stage_4": "--key-stage-4",
    "placement_began_on": "--began",
    "ending.ended_by": "--ended-by",
    "ending.reason_for_change": "--reason-for-change",
    "ending.ends_on": "--ends",
    "ending.new_placement_on": "--new-placement",
    "ending.allegation": "--allegation",
    "at_risk.identified_on": "--at-risk",
    "at_risk.concern": "--concern",
}


# --- its cases for `safeguard demo` (safeguard/demo.py) -----------------------------------------


def demo_cases(demo: Demo) -> None:
    """Placements ending, at risk and ended."""

    def placement(number: int, **how: Any) -> dict[str, Any]:
        return {
            "child": {"child": f"C-E{number:02d}", "iro": "h.novak", "social_worker": "l.jones"},
            "carer": f"FC-E{number:02d}",
            "fostering_service": "Northshire Fostering",
            "supervising_social_worker": "k.brown",
            "team_manager": "m.reid",
            "placement_type": "long_term",
            "placement_began_on": (demo.today - timedelta(days=500)).isoformat(),
            **how,
        }

    def ending(day: date) -> dict[str, Any]:
        return {"ended_by": "carer_notice", "planned": True, "ends_on": day.isoformat(), "new_placement_on": day.isoformat(), "reason_for_change": "CREQO"}  # fmt: skip

    at_risk = {"identified_on": demo.ago(3).isoformat(), "concern": "the carers say they cannot go on"}  # fmt: skip
    demo.start("disruption", "l.jones", placement(1, ending=ending(demo.today + timedelta(days=21))), "a planned ending three weeks away: the IRO to be told before it")  # fmt: skip
    demo.start("disruption", "l.jones", placement(2, at_risk=at_risk), "a placement at risk: the stability meeting due")  # fmt: skip
    demo.start("disruption", "l.jones", placement(3, ending=ending(demo.ago(6))), "a placement that ended six working days ago: what follows an ending, late")  # fmt: skip
