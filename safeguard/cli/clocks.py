"""Clock commands: stop, resume or extend a step's clock (each needs a reason and an approver)."""

from zoneinfo import ZoneInfo

import typer

from models import departures
from models.escalation import first_review
from safeguard import wiring
from safeguard.cli.common import DATE_HELP, as_at, console, parse_day
from safeguard.settings import get_settings

app = typer.Typer(
    help="Stop, resume or extend a step's clock (each needs a reason and an approver).",
    no_args_is_help=True,
)


@app.command("stop")
def stop(
    case: str = typer.Argument(..., metavar="CASE"),
    step: str = typer.Argument(..., metavar="STEP"),
    reason: str = typer.Option(..., "--reason", help="Why the clock stops (kept on the record)."),
    approver: str = typer.Option(..., "--approver", help="Staff id of the approving manager."),
    who: str | None = typer.Option(None, "--as", help="Who records it (default: the approver)."),
    at: str | None = typer.Option(None, "--at", help=f"When it stopped: {DATE_HELP}."),
) -> None:
    """Stop a step's clock (e.g. the outcome clock during a police investigation)."""
    settings = get_settings()
    with wiring.casework(settings) as cx:
        stopped = cx.stop_clock(
            case,
            step,
            reason=reason,
            approver=approver,
            recorded_by=who or approver,
            at=as_at(at, settings),
        )
        _, rule = departures.step_and_rule(cx.session, cx.policy, case, step)
        first = first_review(rule, cx.calendar, stopped.stopped_at)
    console().print(
        f"{case}: the {step} clock is stopped; first review due {first:%a %d %b %Y}, "
        f"then every {rule.stop_review_every}"
    )


@app.command("resume")
def resume(
    case: str = typer.Argument(..., metavar="CASE"),
    step: str = typer.Argument(..., metavar="STEP"),
    who: str = typer.Option(..., "--as", help="Your staff id."),
    at: str | None = typer.Option(None, "--at", help=f"When it resumed: {DATE_HELP}."),
) -> None:
    """Restart a stopped clock; its due day moves on by the working days it stood still."""
    settings = get_settings()
    with wiring.casework(settings) as cx:
        resumed = cx.resume_clock(case, step, recorded_by=who, at=as_at(at, settings))
        days, due = resumed.working_days_stopped, resumed.due_on_after
    console().print(
        f"{case}: the {step} clock runs again; it stood still {days} working day(s); "
        f"now due {due:%a %d %b %Y}"
    )


@app.command("extend")
def extend(
    case: str = typer.Argument(..., metavar="CASE"),
    step: str = typer.Argument(..., metavar="STEP"),
    to: str = typer.Option(..., "--to", help="The new timescale, e.g. 65 (in the step's unit)."),
    reason: str = typer.Option(
        ..., "--reason", help="Why (kept on the record, told to the person)."
    ),
    approver: str = typer.Option(..., "--approver", help="Staff id of the approving manager."),
    who: str | None = typer.Option(None, "--as", help="Who records it (default: the approver)."),
    told_on: str | None = typer.Option(
        None, "--told-on", help="The day the person was told in writing (where the law asks it)."
    ),
    at: str | None = typer.Option(None, "--at", help=f"When it was decided: {DATE_HELP}."),
) -> None:
    """Extend a step's timescale, up to the policy's legal maximum."""
    settings = get_settings()
    day = parse_day(told_on, ZoneInfo(settings.timezone), "--told-on") if told_on else None
    with wiring.casework(settings) as cx:
        extension = cx.extend_clock(
            case,
            step,
            to=to,
            reason=reason,
            approver=approver,
            recorded_by=who or approver,
            told_on=day,
            at=as_at(at, settings),
        )
        due = extension.due_on_after
        total = extension.extended_to
    console().print(f"{case}: {step} extended to {total}; now due {due:%a %d %b %Y}")
