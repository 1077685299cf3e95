"""Clock commands: stop, resume or extend a step's clock (each needs a reason and an approver)."""

from zoneinfo import ZoneInfo

import typer

from models import departures
from models.db import session_scope
from models.escalation import first_review
from models.wallclock import system_clock
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
    engine, policy, calendar = wiring.casework(settings)
    with session_scope(engine) as session:
        stopped = departures.stop(
            session,
            policy=policy,
            calendar=calendar,
            reference=case,
            step_name=step,
            reason=reason,
            approver_id=approver,
            recorded_by=who or approver,
            now=as_at(at, settings),
            recorded_at=system_clock(),
        )
        _, rule = departures.step_and_rule(session, policy, case, step)
        first = first_review(rule, calendar, stopped.stopped_at)
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
    engine, policy, calendar = wiring.casework(settings)
    with session_scope(engine) as session:
        resumed = departures.resume(
            session,
            policy=policy,
            calendar=calendar,
            reference=case,
            step_name=step,
            recorded_by=who,
            now=as_at(at, settings),
            recorded_at=system_clock(),
        )
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
) -> None:
    """Extend a step's timescale, up to the policy's legal maximum."""
    settings = get_settings()
    engine, policy, calendar = wiring.casework(settings)
    with session_scope(engine) as session:
        extension = departures.extend(
            session,
            policy=policy,
            calendar=calendar,
            reference=case,
            step_name=step,
            to=to,
            reason=reason,
            approver_id=approver,
            recorded_by=who or approver,
            now=system_clock(),
            recorded_at=system_clock(),
            told_on=parse_day(told_on, ZoneInfo(settings.timezone), "--told-on")
            if told_on
            else None,
        )
        due = extension.due_on_after
        total = extension.extended_to
    console().print(f"{case}: {step} extended to {total}; now due {due:%a %d %b %Y}")
